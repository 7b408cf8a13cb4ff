/*
 * Read handlers. Each runs on the worker's nng task thread against the
 * worker's own read snapshot, so reads never wait behind writes. Record
 * gets copy the stored bytes straight into the reply: the stored record is
 * already the packed reply message.
 */
#include <string.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "server/server.h"
#include "knowledge/knowledge.h"
#include "store/query.h"

/* Takes a fresh snapshot; it is released when the call's reply is sent. */
int srv_read_begin(srv_worker *w)
{
	int rc = srv_worker_read_begin(w);
	if (rc != ANNALS_OK)
		srv_fail(w, rc, "the store cannot start a read: %s",
		         rc == ANNALS_RESOURCE_EXHAUSTED ? "too many readers" : "internal error");
	return rc;
}

static const char *read_kind_word(st_kind kind)
{
	switch (kind) {
	case ST_ENTITY:
		return "entity";
	case ST_EVENT:
		return "event";
	case ST_RELATION:
		return "relation";
	case ST_DOCUMENT:
		return "document";
	}
	return "record";
}

void srv_read_record(srv_worker *w, st_kind kind, const char *id)
{
	const char *what = read_kind_word(kind);
	if (id[0] == '\0') {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "id: required");
		return;
	}
	if (srv_read_begin(w) != ANNALS_OK)
		return;
	const uint8_t *data;
	size_t len;
	int rc = st_get(w->txn, kind, id, &data, &len);
	if (rc == ANNALS_NOT_FOUND) {
		srv_fail(w, rc, "%s \"%.200s\" not found", what, id);
		return;
	}
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "reading %s \"%.200s\" failed", what, id);
		return;
	}
	srv_worker_reply(w, ANNALS_OK, NULL, data, len);
}

void srv_h_health(srv_worker *w, const Annals__V1__HealthRequest *in)
{
	(void)in;
	Annals__V1__HealthReply out = ANNALS__V1__HEALTH_REPLY__INIT;
	out.status = atomic_load(&w->srv->draining) ? "DRAINING" : "SERVING";
	out.revision = st_revision(w->srv->store);
	srv_cluster_health(w->srv, &out);
	srv_worker_reply_msg(w, &out.base);
}

/* descriptor_blob.S: the schema this binary was built from. */
extern const uint8_t annals_descriptor_set[];
extern const size_t annals_descriptor_set_len;

void srv_h_server_info(srv_worker *w, const Annals__V1__ServerInfoRequest *in)
{
	srv_server *s = w->srv;
	if (srv_read_begin(w) != ANNALS_OK)
		return;
	st_stats st;
	int rc = st_stats_get(w->txn, &st);
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "reading store statistics failed");
		return;
	}
	ar_arena *a = &w->arena;
	Annals__V1__ServerInfoReply out = ANNALS__V1__SERVER_INFO_REPLY__INIT;
	Annals__V1__RecordCounts *counts =
	    AR_NEW(a, Annals__V1__RecordCounts, ANNALS__V1__RECORD_COUNTS__INIT);
	counts->entities = st.entities;
	counts->events = st.events;
	counts->relations = st.relations;
	counts->documents = st.documents;
	out.version = ANNALS_VERSION;
	out.revision = st.revision;
	out.counts = counts;
	out.uptime_ms = srv_now_ms() - s->started_ms;
	out.map_size = st.map_size;
	out.map_used = st.map_used;
	out.max_message_bytes = (uint32_t)s->cfg.max_message;
	out.oldest_change = st.oldest_change;
	srv_cluster_info(w, &out);
	if (in->descriptors) {
		out.file_descriptor_set.data = (uint8_t *)annals_descriptor_set;
		out.file_descriptor_set.len = annals_descriptor_set_len;
	}
	for (int i = 0; i < s->cfg.n_listen; i++)
		AR_PUSH(a, out.listen, out.n_listen, (void *)s->cfg.listen[i]);
	const ProtobufCServiceDescriptor *sd = env_service();
	for (unsigned i = 0; i < sd->n_methods; i++) {
		Annals__V1__MethodInfo *mi = AR_NEW(a, Annals__V1__MethodInfo, ANNALS__V1__METHOD_INFO__INIT);
		mi->name = ar_printf(a, "%s%s", ENV_METHOD_PREFIX, sd->methods[i].name);
		mi->request = (char *)sd->methods[i].input->name;
		mi->reply = (char *)sd->methods[i].output->name;
		unsigned flags = env_method_flags((int)i);
		mi->write = (flags & ANNALS_M_WRITE) != 0;
		for (unsigned bit = 1; bit <= ANNALS_M_LONG_POLL; bit <<= 1)
			if ((flags & bit) && env_flag_name(bit) != NULL)
				AR_PUSH(a, mi->kinds, mi->n_kinds, (char *)env_flag_name(bit));
		AR_PUSH(a, out.methods, out.n_methods, mi);
	}
	srv_worker_reply_msg(w, &out.base);
}

/* Changes may wait (long poll): with nothing newer than `since`, the
 * worker is parked on the poller (poll.c), which answers it when a commit
 * lands or the wait ends. No thread is held while it waits. */
void srv_h_changes(srv_worker *w, const Annals__V1__ChangesRequest *in)
{
	if (in->wait_ms > SRV_MAX_WAIT_MS) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "wait_ms: %u is over the limit of %u", in->wait_ms,
		         SRV_MAX_WAIT_MS);
		return;
	}
	if (srv_poll_answer(w, in, in->wait_ms > 0))
		return;
	w->poll = in;
	srv_poll_park(w->srv, w, in->wait_ms);
}

void srv_h_stats(srv_worker *w, const Annals__V1__StatsRequest *in)
{
	(void)in;
	Annals__V1__StatsReply out = ANNALS__V1__STATS_REPLY__INIT;
	mx_fill_stats(w->srv, &w->arena, &out);
	srv_worker_reply_msg(w, &out.base);
}

/* Backup runs on this worker's thread for as long as the copy takes; the
 * other workers and the writer go on meanwhile. */
void srv_h_backup(srv_worker *w, const Annals__V1__BackupRequest *in)
{
	Annals__V1__BackupReply out = ANNALS__V1__BACKUP_REPLY__INIT;
	st_err err = {0};
	uint64_t started = srv_now_ms();
	int rc = st_backup(w->srv->store, in->dir, &out.revision, &out.bytes, &err);
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "%s", err.msg);
		return;
	}
	out.dir = in->dir;
	out.took_ms = srv_now_ms() - started;
	srv_worker_reply_msg(w, &out.base);
}

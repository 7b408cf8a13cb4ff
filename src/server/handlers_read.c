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
#include "store/query.h"

typedef Annals__V1__Annals_Service svc_t;

/* Takes a fresh snapshot; it is released when the call's reply is sent. */
static int read_begin(srv_worker *w)
{
	int rc = srv_worker_read_begin(w);
	if (rc != ANNALS_OK)
		srv_fail(w, rc, "the store cannot start a read: %s",
		         rc == ANNALS_RESOURCE_EXHAUSTED ? "too many readers" : "internal error");
	return rc;
}

static void read_record(srv_worker *w, st_kind kind, const char *what, const char *id)
{
	if (id[0] == '\0') {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "id: required");
		return;
	}
	if (read_begin(w) != ANNALS_OK)
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

void annals_h_get_entity(svc_t *svc, const Annals__V1__GetRequest *in,
                         Annals__V1__Entity_Closure done, void *cd)
{
	(void)svc;
	(void)done;
	read_record(cd, ST_ENTITY, "entity", in->id);
}

void annals_h_get_event(svc_t *svc, const Annals__V1__GetRequest *in, Annals__V1__Event_Closure done,
                        void *cd)
{
	(void)svc;
	(void)done;
	read_record(cd, ST_EVENT, "event", in->id);
}

void annals_h_get_relation(svc_t *svc, const Annals__V1__GetRequest *in,
                           Annals__V1__Relation_Closure done, void *cd)
{
	(void)svc;
	(void)done;
	read_record(cd, ST_RELATION, "relation", in->id);
}

void annals_h_get_document(svc_t *svc, const Annals__V1__GetRequest *in,
                           Annals__V1__Document_Closure done, void *cd)
{
	(void)svc;
	(void)done;
	read_record(cd, ST_DOCUMENT, "document", in->id);
}

void annals_h_health(svc_t *svc, const Annals__V1__HealthRequest *in,
                     Annals__V1__HealthReply_Closure done, void *cd)
{
	(void)svc;
	(void)in;
	srv_worker *w = cd;
	Annals__V1__HealthReply out = ANNALS__V1__HEALTH_REPLY__INIT;
	out.status = atomic_load(&w->srv->draining) ? "DRAINING" : "SERVING";
	out.revision = st_revision(w->srv->store);
	done(&out, cd);
}

void annals_h_server_info(svc_t *svc, const Annals__V1__ServerInfoRequest *in,
                          Annals__V1__ServerInfoReply_Closure done, void *cd)
{
	(void)svc;
	(void)in;
	srv_worker *w = cd;
	srv_server *s = w->srv;
	if (read_begin(w) != ANNALS_OK)
		return;
	st_stats st;
	int rc = st_stats_get(w->txn, &st);
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "reading store statistics failed");
		return;
	}
	ar_arena *a = &w->arena;
	Annals__V1__ServerInfoReply out = ANNALS__V1__SERVER_INFO_REPLY__INIT;
	Annals__V1__RecordCounts *counts = AR_NEW(a, Annals__V1__RecordCounts, ANNALS__V1__RECORD_COUNTS__INIT);
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
	for (int i = 0; i < s->cfg.n_listen; i++)
		AR_PUSH(a, out.listen, out.n_listen, (void *)s->cfg.listen[i]);
	const ProtobufCServiceDescriptor *sd = env_service();
	for (unsigned i = 0; i < sd->n_methods; i++) {
		Annals__V1__MethodInfo *mi = AR_NEW(a, Annals__V1__MethodInfo, ANNALS__V1__METHOD_INFO__INIT);
		mi->name = ar_printf(a, "%s%s", ENV_METHOD_PREFIX, sd->methods[i].name);
		mi->request = (char *)sd->methods[i].input->name;
		mi->reply = (char *)sd->methods[i].output->name;
		mi->write = env_method_is_write((int)i);
		AR_PUSH(a, out.methods, out.n_methods, mi);
	}
	done(&out, cd);
}

/* Every query handler has the same body: snapshot, query, reply. */
#define SRV_QUERY_HANDLER(fn, Req, Rep, INIT)                                                \
	void annals_h_##fn(svc_t *svc, const Annals__V1__##Req *in,                              \
	                   Annals__V1__##Rep##_Closure done, void *cd)                           \
	{                                                                                        \
		(void)svc;                                                                           \
		srv_worker *w = cd;                                                                  \
		if (read_begin(w) != ANNALS_OK)                                                      \
			return;                                                                          \
		Annals__V1__##Rep out = INIT;                                                        \
		st_err err = {0};                                                                    \
		int rc = st_q_##fn(w->txn, in, &w->arena, &out, &err);                               \
		if (rc != ANNALS_OK) {                                                               \
			srv_fail(w, rc, "%s", err.msg);                                                  \
			return;                                                                          \
		}                                                                                    \
		done(&out, cd);                                                                      \
	}

SRV_QUERY_HANDLER(list_entities, ListEntitiesRequest, EntityPage, ANNALS__V1__ENTITY_PAGE__INIT)
SRV_QUERY_HANDLER(find_entities, FindEntitiesRequest, EntityPage, ANNALS__V1__ENTITY_PAGE__INIT)
SRV_QUERY_HANDLER(list_events, ListEventsRequest, EventPage, ANNALS__V1__EVENT_PAGE__INIT)
SRV_QUERY_HANDLER(list_relations, ListRelationsRequest, RelationPage, ANNALS__V1__RELATION_PAGE__INIT)
SRV_QUERY_HANDLER(list_documents, ListDocumentsRequest, DocumentPage, ANNALS__V1__DOCUMENT_PAGE__INIT)
SRV_QUERY_HANDLER(timeline, TimelineRequest, TimelineReply, ANNALS__V1__TIMELINE_REPLY__INIT)
SRV_QUERY_HANDLER(resolve, ResolveRequest, ResolveReply, ANNALS__V1__RESOLVE_REPLY__INIT)
SRV_QUERY_HANDLER(name_at, NameAtRequest, NameAtReply, ANNALS__V1__NAME_AT_REPLY__INIT)
SRV_QUERY_HANDLER(relations, RelationsRequest, RelationsReply, ANNALS__V1__RELATIONS_REPLY__INIT)
SRV_QUERY_HANDLER(history, HistoryRequest, RelationsReply, ANNALS__V1__RELATIONS_REPLY__INIT)
SRV_QUERY_HANDLER(members, MembersRequest, MembersReply, ANNALS__V1__MEMBERS_REPLY__INIT)
SRV_QUERY_HANDLER(holder, HolderRequest, HolderReply, ANNALS__V1__HOLDER_REPLY__INIT)
SRV_QUERY_HANDLER(succession, SuccessionRequest, SuccessionReply, ANNALS__V1__SUCCESSION_REPLY__INIT)
SRV_QUERY_HANDLER(evidence, EvidenceRequest, EvidenceReply, ANNALS__V1__EVIDENCE_REPLY__INIT)
SRV_QUERY_HANDLER(facts, FactsRequest, FactsReply, ANNALS__V1__FACTS_REPLY__INIT)

/* Changes may wait (long poll): with nothing newer than `since`, the
 * worker is parked on the poller, which answers it when a commit lands or
 * the wait ends. No thread is held while it waits. */
void annals_h_changes(svc_t *svc, const Annals__V1__ChangesRequest *in,
                      Annals__V1__ChangesReply_Closure done, void *cd)
{
	(void)svc;
	srv_worker *w = cd;
	if (in->wait_ms > 300000) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "wait_ms: %u is over the limit of 300000", in->wait_ms);
		return;
	}
	if (read_begin(w) != ANNALS_OK)
		return;
	Annals__V1__ChangesReply out = ANNALS__V1__CHANGES_REPLY__INIT;
	st_err err = {0};
	int rc = st_q_changes(w->txn, in, &w->arena, &out, &err);
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "%s", err.msg);
		return;
	}
	if (out.n_changes == 0 && in->wait_ms > 0 && atomic_load(&w->srv->draining)) {
		/* no waiting on a server that is going away: reconnect elsewhere */
		srv_fail(w, ANNALS_UNAVAILABLE, "the server is shutting down; follow again on another instance");
		return;
	}
	if (out.n_changes == 0 && in->wait_ms > 0 && out.revision <= in->since) {
		srv_worker_read_end(w);
		w->poll = in;
		srv_poll_park(w->srv, w, in->wait_ms);
		return;
	}
	done(&out, cd);
}

void annals_h_stats(svc_t *svc, const Annals__V1__StatsRequest *in, Annals__V1__StatsReply_Closure done,
                    void *cd)
{
	(void)svc;
	(void)in;
	srv_worker *w = cd;
	Annals__V1__StatsReply out = ANNALS__V1__STATS_REPLY__INIT;
	mx_fill_stats(w->srv, &w->arena, &out);
	done(&out, cd);
}

/* Backup runs on this worker's thread for as long as the copy takes; the
 * other workers and the writer go on meanwhile. */
void annals_h_backup(svc_t *svc, const Annals__V1__BackupRequest *in, Annals__V1__BackupReply_Closure done,
                     void *cd)
{
	(void)svc;
	srv_worker *w = cd;
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
	done(&out, cd);
}

/*
 * srv_h_bulk_load — the BulkLoad method: parts staged on the worker that
 * receives them, the commit through the writer like any write.
 *
 * One load at a time per server (srv_server.bulk, under bulk_lock). Parts
 * come numbered 1, 2, 3 ...: part 1 starts the load, the others may then
 * come in any order and several at once (each is checked on its own
 * worker, in parallel); a part resent (the client timed out, nng's REQ
 * resent) is answered again and not staged twice. The commit names how
 * many parts were sent and is refused while one of them is missing; the
 * records are written in part order. The staged load lives in memory only, bounded by
 * --bulk-max-mb, and is dropped when idle for SRV_BULK_IDLE_MS or when the
 * server stops: nothing of it is in the store before its commit.
 *
 * The commit is an ST_BULK write: the writer runs it alone, in a
 * transaction of its own (store/bulk.c), after the writes queued before it
 * and before the ones queued after; it is answered like any write
 * (answer.c) and deduplicated by its request_id, so a resent commit gets
 * the first answer even once the load is gone (srv_bulk_answered).
 */
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/log.h"
#include "common/validate.h"
#include "server/server.h"

#define SRV_BULK_IDLE_MS   (10u * 60u * 1000u)
#define SRV_BULK_MAX_PARTS (1u << 20)

static void bulk_reply(srv_worker *w, const st_bulk *b, const char *load_id)
{
	Annals__V1__BulkLoadReply out = ANNALS__V1__BULK_LOAD_REPLY__INIT;
	out.load_id = (char *)load_id;
	if (b != NULL) {
		st_bulk_totals t;
		st_bulk_totals_of(b, &t);
		out.parts = t.parts;
		out.records = t.records;
		out.staged_bytes = t.bytes;
	}
	srv_worker_reply_msg(w, &out.base);
}

static bool bulk_has_records(const Annals__V1__BulkLoadRequest *in)
{
	return in->n_documents + in->n_entities + in->n_events + in->n_relations > 0;
}

/* Under bulk_lock: drops a load nobody has touched for a while. */
static void bulk_expire(srv_server *s)
{
	if (s->bulk == NULL || s->bulk_committing || srv_now_ms() - s->bulk_touched_ms < SRV_BULK_IDLE_MS)
		return;
	st_bulk_totals t;
	st_bulk_totals_of(s->bulk, &t);
	log_msg(LOG_WARN, "bulk_dropped", "load=%s parts=%u records=%llu why=\"idle for 10 minutes\"",
	        st_bulk_load_id(s->bulk), t.parts, (unsigned long long)t.records);
	st_bulk_free(s->bulk);
	s->bulk = NULL;
}

/* Takes bulk_lock and finds the load named in->load_id: 0 with the lock
 * held and *out the load (NULL: none staged), or -1 answered (another load
 * holds the slot, or this one is being committed) with the lock released. */
static int bulk_lock(srv_worker *w, const Annals__V1__BulkLoadRequest *in, st_bulk **out)
{
	srv_server *s = w->srv;
	pthread_mutex_lock(&s->bulk_lock);
	bulk_expire(s);
	st_bulk *b = s->bulk;
	if (b != NULL && strcmp(st_bulk_load_id(b), in->load_id) != 0) {
		st_bulk_totals t;
		st_bulk_totals_of(b, &t);
		pthread_mutex_unlock(&s->bulk_lock);
		srv_fail(
		    w, ANNALS_FAILED_PRECONDITION,
		    "load \"%s\" is %s (%u parts); one load at a time: commit or abort it first (an idle "
		    "load is dropped after 10 minutes)",
		    st_bulk_load_id(b), s->bulk_committing ? "being committed" : "being staged", t.parts);
		return -1;
	}
	if (b != NULL && s->bulk_committing) {
		pthread_mutex_unlock(&s->bulk_lock);
		srv_fail(w, ANNALS_UNAVAILABLE, "load \"%s\" is being committed; retry for its answer",
		         in->load_id);
		return -1;
	}
	*out = b;
	return 0;
}

static void bulk_abort(srv_worker *w, const Annals__V1__BulkLoadRequest *in)
{
	srv_server *s = w->srv;
	st_bulk *b;
	if (bulk_lock(w, in, &b) != 0)
		return;
	s->bulk = NULL;
	pthread_mutex_unlock(&s->bulk_lock);
	if (b == NULL) {
		srv_fail(w, ANNALS_NOT_FOUND, "no load \"%s\" is staged", in->load_id);
		return;
	}
	st_bulk_free(b);
	bulk_reply(w, NULL, in->load_id);
}

static void bulk_status(srv_worker *w, const Annals__V1__BulkLoadRequest *in)
{
	srv_server *s = w->srv;
	st_bulk *b;
	if (bulk_lock(w, in, &b) != 0)
		return;
	if (b == NULL) {
		pthread_mutex_unlock(&s->bulk_lock);
		srv_fail(w, ANNALS_NOT_FOUND, "no load \"%s\" is staged", in->load_id);
		return;
	}
	bulk_reply(w, b, in->load_id);
	pthread_mutex_unlock(&s->bulk_lock);
}

/* Under bulk_lock: true when in's part is staged already (a resend), then answered. */
static bool bulk_resent(srv_worker *w, const st_bulk *b, const Annals__V1__BulkLoadRequest *in)
{
	if (b == NULL || !st_bulk_has_part(b, in->part))
		return false;
	bulk_reply(w, b, in->load_id);
	return true;
}

static void bulk_no_load(srv_worker *w, const Annals__V1__BulkLoadRequest *in)
{
	srv_fail(w, ANNALS_FAILED_PRECONDITION,
	         "part %u: no load \"%s\" is staged (it was committed, aborted or dropped, or part 1 has "
	         "not been answered yet); start with part 1 and send the others once it is answered",
	         in->part, in->load_id);
}

/* One part: checked and packed without the lock (the costly half, so parts
 * in flight together use every core), then added to the load under it. */
static void bulk_part(srv_worker *w, const Annals__V1__BulkLoadRequest *in)
{
	srv_server *s = w->srv;
	st_bulk *b;
	if (bulk_lock(w, in, &b) != 0)
		return;
	bool resent = bulk_resent(w, b, in), lost = b == NULL && in->part != 1;
	pthread_mutex_unlock(&s->bulk_lock);
	if (resent)
		return;
	if (lost) {
		bulk_no_load(w, in);
		return;
	}
	st_err err = {0};
	st_bulk_part p;
	int rc = st_bulk_check(in, &p, &err);
	if (rc != ANNALS_OK) {
		st_bulk_part_free(&p);
		srv_fail(w, rc, "part %u: %s", in->part, err.msg);
		return;
	}
	if (bulk_lock(w, in, &b) != 0) {
		st_bulk_part_free(&p);
		return;
	}
	if (bulk_resent(w, b, in) || (b == NULL && in->part != 1)) {
		if (b == NULL)
			bulk_no_load(w, in);
		pthread_mutex_unlock(&s->bulk_lock);
		st_bulk_part_free(&p);
		return;
	}
	bool fresh = b == NULL;
	if (fresh && (b = st_bulk_new(in->load_id, false)) == NULL) {
		pthread_mutex_unlock(&s->bulk_lock);
		st_bulk_part_free(&p);
		srv_fail(w, ANNALS_RESOURCE_EXHAUSTED, "out of memory for a bulk load");
		return;
	}
	st_bulk_totals t;
	st_bulk_totals_of(b, &t);
	if (t.bytes + p.len > s->cfg.bulk_max_mb << 20) {
		srv_fail(w, ANNALS_RESOURCE_EXHAUSTED,
		         "part %u: load \"%s\" would pass --bulk-max-mb %llu (%llu bytes staged); commit "
		         "what is staged and go on in a second load, or restart annalsd with a larger limit",
		         in->part, in->load_id, (unsigned long long)s->cfg.bulk_max_mb,
		         (unsigned long long)t.bytes);
		rc = ANNALS_RESOURCE_EXHAUSTED;
	} else if ((rc = st_bulk_add(b, in->part, in, &p, &err)) != ANNALS_OK) {
		srv_fail(w, rc, "part %u: %s", in->part, err.msg);
	}
	if (rc == ANNALS_OK) {
		s->bulk = b;
		s->bulk_touched_ms = srv_now_ms();
		bulk_reply(w, b, in->load_id);
	} else if (fresh) {
		st_bulk_free(b);
	}
	pthread_mutex_unlock(&s->bulk_lock);
	st_bulk_part_free(&p);
}

/* The commit: every part up to the last staged (and up to in->part when the
 * client says how many it sent) must be there. With no load staged it is a
 * resend after the load was committed: the writer answers it from the
 * request log, or says the load is gone. */
static void bulk_commit(srv_worker *w, const Annals__V1__BulkLoadRequest *in)
{
	srv_server *s = w->srv;
	st_bulk *b;
	if (bulk_lock(w, in, &b) != 0)
		return;
	if (b != NULL) {
		st_bulk_totals t;
		st_bulk_totals_of(b, &t);
		uint32_t missing = st_bulk_missing(b, in->part);
		const char *why = NULL;
		if (missing != 0)
			why = "was not staged; send it, then commit again";
		else if (in->part != 0 && t.last_part > in->part)
			why =
			    "and later parts are staged, but the commit names fewer parts; abort the load or "
			    "commit with part = the number of parts sent";
		if (why != NULL) {
			pthread_mutex_unlock(&s->bulk_lock);
			srv_fail(w, ANNALS_FAILED_PRECONDITION, "commit of load \"%s\": part %u %s",
			         in->load_id, missing != 0 ? missing : in->part + 1, why);
			return;
		}
	} else if ((b = st_bulk_new(in->load_id, in->replace)) == NULL) {
		pthread_mutex_unlock(&s->bulk_lock);
		srv_fail(w, ANNALS_RESOURCE_EXHAUSTED, "out of memory for a bulk load");
		return;
	} else {
		st_bulk_set_replay_only(b, true);
	}
	st_bulk_set_replace(b, in->replace);
	s->bulk = b;
	s->bulk_committing = true;
	s->bulk_touched_ms = srv_now_ms();
	pthread_mutex_unlock(&s->bulk_lock);
	memset(&w->write, 0, sizeof(w->write));
	w->write.op = ST_BULK;
	w->write.bulk = b;
	w->write.request_id = w->request_id;
	w->write.validated = true;
	if (srv_writer_submit(s, w) != 0) /* answered already: the load stays, for a retry */
		srv_bulk_answered(w);
}

void srv_h_bulk_load(srv_worker *w, const Annals__V1__BulkLoadRequest *in)
{
	srv_server *s = w->srv;
	char msg[300];
	if (s->cluster != NULL) {
		srv_fail(w, ANNALS_FAILED_PRECONDITION,
		         "BulkLoad writes one node's store and is not in cluster mode: load a single node, "
		         "then start the cluster's nodes from its backup");
		return;
	}
	if (s->cfg.bulk_max_mb == 0) {
		srv_fail(w, ANNALS_FAILED_PRECONDITION,
		         "bulk loads are off on this server (--bulk-max-mb 0)");
		return;
	}
	if (val_id(in->load_id, "load_id", msg, sizeof(msg)) != 0) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "%s", msg);
		return;
	}
	if (w->request_id == NULL || w->request_id[0] == '\0') {
		srv_fail(w, ANNALS_INVALID_ARGUMENT,
		         "request_id: required for writes (a unique id per write, reused on resends)");
		return;
	}
	bool records = bulk_has_records(in);
	if (in->commit && in->abort) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "commit and abort: choose one");
		return;
	}
	if (records && (in->commit || in->abort)) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT,
		         "a %s carries no records: send them as parts first, then the %s alone",
		         in->commit ? "commit" : "abort", in->commit ? "commit" : "abort");
		return;
	}
	if (records && in->part == 0) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "part: required with records (1, 2, 3 ...)");
		return;
	}
	if (in->part > SRV_BULK_MAX_PARTS) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "part: %u is more than %u parts; use larger parts",
		         in->part, SRV_BULK_MAX_PARTS);
		return;
	}
	if (in->abort)
		bulk_abort(w, in);
	else if (in->commit)
		bulk_commit(w, in);
	else if (!records)
		bulk_status(w, in);
	else
		bulk_part(w, in);
}

/* After a commit's answer was packed (answer.c): a committed or refused
 * load is done with; one that failed for a reason a retry may cure (out
 * of memory, map full, an internal error) stays staged for another commit. */
void srv_bulk_answered(srv_worker *w)
{
	srv_server *s = w->srv;
	int code = w->write.code;
	bool keep = code == ANNALS_INTERNAL || code == ANNALS_RESOURCE_EXHAUSTED ||
	            code == ANNALS_DATA_LOSS || code == ANNALS_UNAVAILABLE;
	pthread_mutex_lock(&s->bulk_lock);
	if (s->bulk == w->write.bulk) {
		s->bulk_committing = false;
		s->bulk_touched_ms = srv_now_ms();
		if (!keep || st_bulk_replay_only(s->bulk)) {
			st_bulk_free(s->bulk);
			s->bulk = NULL;
		}
	}
	pthread_mutex_unlock(&s->bulk_lock);
	w->write.bulk = NULL;
}

/* The outcome as the store keeps it (store/bulk.c, bk_keep_outcome):
 * results "first_revision", "written", "unchanged", after_revision the
 * last revision; the staging figures while the load is still here. */
uint8_t *srv_bulk_reply_pack(const st_write *w, size_t *len)
{
	Annals__V1__BulkLoadReply out = ANNALS__V1__BULK_LOAD_REPLY__INIT;
	out.committed = true;
	out.last_revision = w->after_revision;
	for (size_t i = 0; i < w->n_results; i++) {
		const st_result *r = &w->results[i];
		if (strcmp(r->id, "first_revision") == 0)
			out.first_revision = r->revision;
		else if (strcmp(r->id, "written") == 0)
			out.written = r->revision;
		else if (strcmp(r->id, "unchanged") == 0)
			out.unchanged = r->revision;
		else if (strcmp(r->id, "took_ms") == 0)
			out.took_ms = r->revision;
	}
	if (w->bulk != NULL) {
		st_bulk_totals t;
		st_bulk_totals_of(w->bulk, &t);
		out.load_id = (char *)st_bulk_load_id(w->bulk);
		out.parts = t.parts;
		out.records = t.records;
		out.staged_bytes = t.bytes;
	}
	*len = protobuf_c_message_get_packed_size(&out.base);
	uint8_t *buf = malloc(*len ? *len : 1);
	if (buf == NULL)
		*len = 0;
	else
		protobuf_c_message_pack(&out.base, buf);
	return buf;
}

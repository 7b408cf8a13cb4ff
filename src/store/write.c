/*
 * st_apply — group commit. One write txn for the whole group; each logical
 * write (a Put, a Delete, a whole Batch) in its own nested txn, so a
 * failing one is undone alone; one commit (one fsync) at the end.
 *
 * Per logical write, in order:
 *   1. request_id known?  -> answer from the request log, apply nothing
 *   2. record checks      -> INVALID_ARGUMENT (answer remembered)
 *      references whole at the end of the write (refs_check.c) -> else
 *      INVALID_ARGUMENT (a put) or FAILED_PRECONDITION (a delete)
 *   3. apply in a nested txn with revision = previous + 1; a Batch applies
 *      all its ops or none
 *   4. changed something? -> its ChangeSet goes into the change log and the
 *      nested txn commits; the revision is taken. Nothing changed (every
 *      put unchanged) or failed -> the nested txn aborts, no revision.
 *   5. the answer goes into the request log (in the parent txn).
 * MDB_MAP_FULL anywhere aborts the group; the map is doubled and the
 * whole group runs again from the start.
 *
 * A single Put or Delete runs flat, straight in the group's txn, on a
 * first attempt: a nested txn copies every page the write touches again
 * (the tails of the change log, the request log and the indexes are shared
 * by the whole group), and that was a good part of the writer's CPU per
 * write. Such a write refuses (exists, guard, not found) before it changes
 * anything, so a refusal leaves nothing to undo. A failure after its first
 * change (ST_REDO: an LMDB error, a record that does not parse) aborts the
 * group, which runs again with every write nested, as above.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/validate.h"
#include "store/bulk.h"
#include "store/refs.h"
#include "store/wal.h"

#define ST_GROW_TRIES 24
/* Internal status: a flat write failed after it changed the group's txn. */
#define ST_REDO (-2)

/* ---- one logical write ------------------------------------------------------------ */

void st_write_clear(st_write *w)
{
	free(w->results);
	free(w->legacy_body);
	w->results = NULL;
	w->n_results = 0;
	w->after_revision = 0;
	w->legacy_body = NULL;
	w->legacy_len = 0;
}

/* The outcome leaves the arena for one malloc'ed block: the results, then
 * their ids. */
static void wr_keep_results(st_write *w, const st_result *r, size_t n, uint64_t after)
{
	size_t bytes = n * sizeof(*r);
	for (size_t i = 0; i < n; i++)
		bytes += strlen(r[i].id) + 1;
	st_result *out = malloc(bytes ? bytes : 1);
	if (out == NULL)
		abort();
	char *ids = (char *)(out + n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(r[i].id) + 1;
		memcpy(ids, r[i].id, len);
		out[i] = r[i];
		out[i].id = ids;
		ids += len;
	}
	w->results = out;
	w->n_results = n;
	w->after_revision = after;
}

static int apply_put(st_wctx *c, const st_write *w, st_result *out)
{
	const ProtobufCMessage *rec = NULL;
	const Annals__V1__Guard *g = NULL;
	switch (w->kind) {
	case ST_ENTITY: {
		const Annals__V1__PutEntityRequest *r = (const void *)w->req;
		rec = &r->entity->base, g = r->guard;
		break;
	}
	case ST_EVENT: {
		const Annals__V1__PutEventRequest *r = (const void *)w->req;
		rec = &r->event->base, g = r->guard;
		break;
	}
	case ST_RELATION: {
		const Annals__V1__PutRelationRequest *r = (const void *)w->req;
		rec = &r->relation->base, g = r->guard;
		break;
	}
	case ST_DOCUMENT: {
		const Annals__V1__PutDocumentRequest *r = (const void *)w->req;
		rec = &r->document->base, g = r->guard;
		break;
	}
	}
	assert(rec != NULL); /* st_validate_records checked the request */
	return wr_put(c, w->kind, rec, g, out);
}

static int apply_op(st_wctx *c, const Annals__V1__Op *op, st_result *out)
{
	switch (op->op_case) {
	case ANNALS__V1__OP__OP_PUT_ENTITY:
		return wr_put(c, ST_ENTITY, &op->put_entity->base, op->guard, out);
	case ANNALS__V1__OP__OP_PUT_EVENT:
		return wr_put(c, ST_EVENT, &op->put_event->base, op->guard, out);
	case ANNALS__V1__OP__OP_PUT_RELATION:
		return wr_put(c, ST_RELATION, &op->put_relation->base, op->guard, out);
	case ANNALS__V1__OP__OP_PUT_DOCUMENT:
		return wr_put(c, ST_DOCUMENT, &op->put_document->base, op->guard, out);
	case ANNALS__V1__OP__OP_DELETE:
		return wr_delete(c, (st_kind)op->delete_->kind, op->delete_->id, op->guard, out);
	default:
		return st_errf(c->err, ANNALS_INVALID_ARGUMENT, "no operation set");
	}
}

/* All ops or none: the first failure fails the Batch (the caller aborts
 * the nested txn), its message prefixed with the op's index. */
static int apply_batch(st_wctx *c, const Annals__V1__BatchRequest *b, st_result *out)
{
	for (size_t i = 0; i < b->n_ops; i++) {
		int rc = apply_op(c, b->ops[i], &out[i]);
		if (rc == ST_MAP_FULL)
			return rc;
		if (rc != ANNALS_OK) {
			char msg[sizeof(c->err->msg)];
			snprintf(msg, sizeof(msg), "ops[%zu]: %.440s", i, c->err->msg);
			memcpy(c->err->msg, msg, sizeof(msg));
			return rc;
		}
	}
	return ANNALS_OK;
}

/* Runs the write's operation; on success keeps its outcome in w. */
static int apply_logical(st_wctx *c, st_write *w)
{
	st_result one = {0}, *r = &one;
	size_t n = 1;
	/* References are judged by the state the whole write leaves, before
	 * its first change: a flat write refused here has nothing to undo. */
	int rc = rf_check_write(&c->rd, w, c->a, c->err);
	if (rc != ANNALS_OK)
		return rc;
	if (w->op == ST_PUT) {
		rc = apply_put(c, w, &one);
	} else if (w->op == ST_DELETE) {
		const Annals__V1__DeleteRequest *d = (const void *)w->req;
		rc = wr_delete(c, w->kind, d->id, d->guard, &one);
	} else {
		const Annals__V1__BatchRequest *b = (const void *)w->req;
		n = b->n_ops;
		r = ar_alloc(c->a, (n ? n : 1) * sizeof(*r));
		rc = apply_batch(c, b, r);
	}
	if (rc == ANNALS_OK)
		wr_keep_results(w, r, n, c->cs->n_changes > 0 ? c->revision : c->revision - 1);
	return rc;
}

static void set_answer(st_write *w, int code, const char *msg)
{
	w->code = code;
	snprintf(w->msg, sizeof(w->msg), "%s", code == ANNALS_OK ? "" : msg);
}

/* Whether a flat write's failure may have left the txn changed or broken
 * (LMDB marks a txn failed on some errors, reads too): anything but the
 * refusals wr_put and wr_delete make before their first change. */
static bool flat_failure_taints(const st_wctx *c, int rc)
{
	if (c->mutated)
		return true;
	return rc != ANNALS_ALREADY_EXISTS && rc != ANNALS_FAILED_PRECONDITION && rc != ANNALS_NOT_FOUND &&
	       rc != ANNALS_INVALID_ARGUMENT;
}

/* Runs w in a nested txn under parent and commits that when it changed
 * something (taking the next revision); otherwise aborts it. With flat,
 * w runs in parent itself (see the top of this file). */
static int apply_nested(st_store *s, MDB_txn *parent, st_write *w, bool flat, uint64_t *rev, int64_t now_ms,
                        ar_arena *a, st_err *err)
{
	MDB_txn *txn = parent;
	int mrc = flat ? MDB_SUCCESS : mdb_txn_begin(s->env, parent, 0, &txn);
	if (mrc != MDB_SUCCESS)
		return st_mdb_status(mrc, err, "begin nested");
	Annals__V1__ChangeSet *cs = AR_NEW(a, Annals__V1__ChangeSet, ANNALS__V1__CHANGE_SET__INIT);
	st_wctx c = {.s = s,
	             .txn = txn,
	             .a = a,
	             .revision = *rev + 1,
	             .now_ms = now_ms,
	             .request_id = w->request_id,
	             .cs = cs,
	             .err = err};
	st_txn_borrow(&c.rd, s, txn);
	int rc = apply_logical(&c, w);
	if (rc == ANNALS_OK && cs->n_changes > 0)
		rc = cl_append(&c);
	if (flat) {
		if (rc != ANNALS_OK)
			return rc != ST_MAP_FULL && flat_failure_taints(&c, rc) ? ST_REDO : rc;
		if (cs->n_changes > 0)
			w->revision = ++*rev;
		return ANNALS_OK;
	}
	if (rc != ANNALS_OK || cs->n_changes == 0) {
		mdb_txn_abort(txn); /* failed, or nothing changed: nothing to keep */
		return rc;
	}
	mrc = mdb_txn_commit(txn);
	if (mrc != MDB_SUCCESS)
		return st_mdb_status(mrc, err, "commit nested");
	w->revision = ++*rev;
	return ANNALS_OK;
}

/* Whether an answer is final, so a resend must get it again. Internal
 * failures and exhaustion are not: a resend may well succeed. */
static bool answer_is_final(int code)
{
	return code != ANNALS_INTERNAL && code != ANNALS_DATA_LOSS && code != ANNALS_RESOURCE_EXHAUSTED;
}

/* One logical write. Returns ANNALS_OK (w carries its own answer), or a
 * group-level failure (ST_MAP_FULL, ST_REDO, or an error in the parent txn). */
static int apply_write(st_store *s, MDB_txn *parent, st_write *w, bool nest_all, uint64_t *rev,
                       int64_t now_ms, ar_arena *a, st_err *gerr)
{
	const char *rid = w->request_id && w->request_id[0] ? w->request_id : NULL;
	if (rid != NULL && strlen(rid) > VAL_REQUEST_ID_MAX) {
		/* st_validate refuses these; a caller that skipped it gets the same
		 * answer, unremembered */
		set_answer(w, ANNALS_INVALID_ARGUMENT,
		           "request_id: longer than " VAL_STR(VAL_REQUEST_ID_MAX) " bytes");
		return ANNALS_OK;
	}
	if (rid != NULL) {
		int found = dd_lookup(s, parent, rid, w, gerr);
		if (found != 0)
			return found == 1 ? ANNALS_OK : found;
	}
	if (w->expired) {
		set_answer(w, ANNALS_DEADLINE_EXCEEDED,
		           "deadline passed while the write was queued; it was not applied");
		return ANNALS_OK;
	}
	st_err err = {0};
	/* The writer thread is the bottleneck of durable writes: a request the
	 * server already checked (on its worker thread) is not checked twice. */
	int rc = w->validated ? ANNALS_OK : st_validate_records(w, &err);
	bool flat = !nest_all && w->op != ST_BATCH;
	if (rc == ANNALS_OK)
		rc = apply_nested(s, parent, w, flat, rev, now_ms, a, &err);
	if (rc == ST_MAP_FULL || rc == ST_REDO)
		return rc;
	if (rc != ANNALS_OK)
		st_write_clear(w);
	set_answer(w, rc, err.msg);
	if (rid != NULL && answer_is_final(rc))
		return dd_store(s, parent, rid, now_ms, w, gerr);
	return ANNALS_OK;
}

/* ---- the group ----------------------------------------------------------------------- */

static void reset_answers(st_write *w, size_t n, bool free_replies)
{
	for (size_t i = 0; i < n; i++) {
		if (free_replies)
			st_write_clear(&w[i]);
		w[i].code = ANNALS_OK;
		w[i].msg[0] = '\0';
		w[i].results = NULL;
		w[i].n_results = 0;
		w[i].after_revision = 0;
		w[i].legacy_body = NULL;
		w[i].legacy_len = 0;
		w[i].revision = 0;
		w[i].replayed = false;
	}
}

/* LMDB reports a short write as EIO (mdb_page_flush: "TODO: Use
 * ENOSPC?"), which is what a full disk causes. Ask the file system: when
 * the data volume has (almost) no room left, say so as RESOURCE_EXHAUSTED,
 * which callers may retry once space is freed. */
static int commit_failed(st_store *s, int rc, st_err *err)
{
	const char *path = NULL;
	struct statvfs vfs;
	if ((rc == EIO || rc == ENOSPC) && mdb_env_get_path(s->env, &path) == MDB_SUCCESS &&
	    statvfs(path, &vfs) == 0) {
		unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
		if (rc == ENOSPC || avail < (1u << 20))
			return st_errf(err, ANNALS_RESOURCE_EXHAUSTED,
			               "store: disk full: %llu bytes free on the data volume (%s); "
			               "the write was not applied; free space and retry",
			               avail, path);
	}
	return st_mdb_status(rc, err, "commit");
}

/* The group's clock: this machine's, or in cluster mode the latest of its
 * log entries' times, so pruning by age is judged the same everywhere. */
static int64_t group_now(st_store *s, const st_write *w, size_t n)
{
	int64_t now = 0;
	for (size_t i = 0; i < n; i++)
		if (w[i].log_time_ms > now)
			now = w[i].log_time_ms;
	return now ? now : st_now_ms(s);
}

/* The group's record goes to the write-ahead log and is synced before the
 * commit (wal.h, point 2); a failed append aborts the whole group. */
static int log_group(st_store *s, MDB_txn *txn, const st_write *w, size_t n, int64_t now,
                     uint64_t log_revision, ar_arena *a, st_err *err)
{
	size_t len = 0;
	uint8_t *rec = wal_group_pack(mdb_txn_id(txn), now, log_revision, w, n, a, &len);
	if (rec == NULL)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: out of memory for the log record");
	return wal_append(s->wal, mdb_txn_id(txn), rec, len, err);
}

static int apply_group(st_store *s, st_write *w, size_t n, bool nest_all, uint64_t log_revision,
                       int64_t fixed_now, ar_arena *a, st_err *err)
{
	const char *refused = st_durability_refusal(s);
	if (refused != NULL)
		return st_errf(err, ANNALS_UNAVAILABLE,
		               "store: writes are refused: %s; restart annalsd once the disk is sound",
		               refused);
	int ready = ckp_ready(s, err);
	if (ready != ANNALS_OK)
		return ready;
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, "begin");
	if (s->redo_txn != 0 && mdb_txn_id(txn) != s->redo_txn) {
		/* Records are skipped by txn id at the next start: one committed
		 * under another id would be skipped, or applied twice. */
		uint64_t got = mdb_txn_id(txn);
		mdb_txn_abort(txn);
		return st_errf(err, ANNALS_FAILED_PRECONDITION,
		               "store: the write-ahead log's txn %llu would commit as %llu: the store "
		               "changed at open before the log was redone (a new version upgrading "
		               "it?); start the version that wrote the log once, then this one",
		               (unsigned long long)s->redo_txn, (unsigned long long)got);
	}
	dp_write_begin(s, txn);
	uint64_t rev;
	int64_t now = fixed_now ? fixed_now : group_now(s, w, n);
	int code = st_meta_get_u64(s, txn, "revision", &rev);
	for (size_t i = 0; code == ANNALS_OK && i < n; i++)
		code = apply_write(s, txn, &w[i], nest_all, &rev, w[i].log_time_ms ? w[i].log_time_ms : now,
		                   a, err);
	/* Expiry: a little per group, more than one group can add, so the logs
	 * shrink back to their limits over a few commits without a long stall. */
	size_t budget = 2 * n + 8;
	if (code == ANNALS_OK)
		code = dd_prune(s, txn, now, budget, err);
	if (code == ANNALS_OK)
		code = cl_prune(s, txn, now, budget, err);
	if (code == ANNALS_OK)
		code = st_meta_put_u64(s, txn, "revision", rev);
	if (code == ANNALS_OK && log_revision != 0)
		code = st_meta_put_u64(s, txn, "log_applied", log_revision);
	if (code != ANNALS_OK) {
		mdb_txn_abort(txn);
		return (code == ST_MAP_FULL || code == ST_REDO || err->msg[0] != '\0')
		           ? code
		           : st_errf(err, code, "store: write failed");
	}
	/* timed alone: the log's append and sync, then the commit (which with
	 * --sync lmdb writes the dirty pages and syncs twice, data then meta
	 * page): the durable part of every write's latency */
	struct timespec t0, t1;
	dp_write_ready(s, txn); /* every put and delete above marked its keys (deps.c) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (s->wal != NULL && (code = log_group(s, txn, w, n, now, log_revision, a, err)) != ANNALS_OK) {
		mdb_txn_abort(txn);
		return code;
	}
	rc = mdb_txn_commit(txn);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != MDB_SUCCESS) {
		if (s->wal != NULL)
			wal_undo(s->wal); /* the record of a commit that did not happen */
		return commit_failed(s, rc, err);
	}
	int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
	atomic_store(&s->commit_us, (uint64_t)(ns / 1000));
	atomic_store(&s->revision, rev);
	if (log_revision != 0)
		atomic_store(&s->log_applied, log_revision);
	if (s->wal != NULL)
		ckp_committed(s);
	return ANNALS_OK;
}

static int apply_all(st_store *s, st_write *w, size_t n, uint64_t log_revision, int64_t fixed_now)
{
	reset_answers(w, n, false);
	if (n == 0 && log_revision == 0)
		return ANNALS_OK;
	ar_arena a;
	ar_init(&a);
	st_err err = {0};
	int rc = ANNALS_OK;
	bool nest_all = false;
	for (int tries = 0; tries < ST_GROW_TRIES; tries++) {
		rc = apply_group(s, w, n, nest_all, log_revision, fixed_now, &a, &err);
		if (rc != ST_MAP_FULL && rc != ST_REDO)
			break;
		/* Every txn of this group is gone; run it all again: nested
		 * throughout after ST_REDO, in a grown map after ST_MAP_FULL. */
		reset_answers(w, n, true);
		ar_reset(&a);
		if (rc == ST_REDO) {
			nest_all = true;
			tries--; /* happens once: nest_all never gives ST_REDO */
			continue;
		}
		rc = st_grow_map(s, &err);
		if (rc != ANNALS_OK)
			break;
		rc = ST_MAP_FULL;
	}
	ar_free(&a);
	if (rc == ST_MAP_FULL)
		rc = st_errf(&err, ANNALS_RESOURCE_EXHAUSTED, "store: map still full after growing");
	if (rc != ANNALS_OK) {
		reset_answers(w, n, true);
		for (size_t i = 0; i < n; i++)
			set_answer(&w[i], rc, err.msg);
	}
	return rc;
}

uint64_t st_last_commit_us(st_store *s)
{
	return atomic_load(&s->commit_us);
}

/* A load bypasses the log: whatever it committed (the load, or the
 * remembered failure) is durable once a checkpoint covers it, before it is
 * answered (wal.h, point 3). */
static void apply_bulk(st_store *s, st_write *w)
{
	const char *refused = st_durability_refusal(s);
	if (refused != NULL) {
		reset_answers(w, 1, false);
		char msg[400];
		snprintf(msg, sizeof(msg),
		         "store: writes are refused: %s; restart annalsd once the disk is sound", refused);
		set_answer(w, ANNALS_UNAVAILABLE, msg);
		return;
	}
	st_err err = {0};
	if (ckp_ready(s, &err) != ANNALS_OK) {
		reset_answers(w, 1, false);
		set_answer(w, err.code, err.msg);
		return;
	}
	bk_apply(s, w);
	if (ckp_cover(s, &err) != ANNALS_OK && w->code == ANNALS_OK)
		set_answer(w, err.code, err.msg);
}

/* A bulk load is written alone (bulk.c), in a transaction of its own; the
 * writes around it in the group go as usual, before and after it. */
int st_apply(st_store *s, st_write *w, size_t n)
{
	size_t from = 0;
	int rc = ANNALS_OK;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && w[i].op != ST_BULK)
			continue;
		int seg = i > from ? apply_all(s, w + from, i - from, 0, 0) : ANNALS_OK;
		if (seg != ANNALS_OK)
			rc = seg;
		if (i < n)
			apply_bulk(s, &w[i]);
		from = i + 1;
	}
	return rc;
}

int st_apply_log(st_store *s, st_write *w, size_t n, uint64_t log_revision)
{
	return apply_all(s, w, n, log_revision, 0);
}

int st_wal_redo(void *store, uint64_t txn, const uint8_t *p, size_t len, st_err *err)
{
	st_store *s = store;
	wal_group g;
	int rc = wal_group_unpack(p, len, &g, err);
	if (rc != ANNALS_OK)
		return rc;
	/* The same inputs as the first time: the group's clock, each write's
	 * flags and cluster revision; its answers were given then. */
	s->redo_txn = txn;
	rc = apply_all(s, g.w, g.n, g.log_revision, g.now_ms);
	s->redo_txn = 0;
	if (rc != ANNALS_OK)
		st_errf(err, rc, "store: redoing txn %llu of the write-ahead log failed: %s",
		        (unsigned long long)txn, g.n ? g.w[0].msg : "");
	wal_group_free(&g);
	return rc;
}

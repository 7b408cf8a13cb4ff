/*
 * bk_ — the bulk writer: a staged load (bulk_stage.c) written as one
 * logical write, in one transaction and one commit of its own.
 *
 * What makes it fast, against the same records through Batch:
 *   - records go into their tables in id order with MDB_APPEND while their
 *     ids sort after the table's last key (a generated load does, past the
 *     built-in data), so LMDB fills pages to the brim and walks no tree;
 *   - index entries are not put one by one as records come: they are
 *     collected, sorted per index and written in order at the end, again
 *     appended while they sort after the index's last key;
 *   - the change log names the records (kind, id) without copying them
 *     (ChangeSet.bulk), so the store does not hold every record twice;
 *   - references into the load are judged by the load's id set, not by a
 *     B-tree lookup each;
 *   - the work that needs neither the store nor this transaction runs on
 *     helper threads beside the writer: unpacking each part and judging
 *     its references one part ahead (bulk_prep.c), sorting each part's
 *     keys once the part is done (bulk_sort.c), and at the end merging
 *     each table's sorted chunks a block ahead of its puts (bulk_merge.c).
 * What stays the same as any write: every record is checked as a Put
 * (at staging), ids are unique across kinds, references must name a record
 * of the store or of the load, relative dates are resolved (a record
 * anchored on a record of the load not written yet waits until it is:
 * bk_deferred), records already stored exactly so are unchanged, other
 * contents are ALREADY_EXISTS unless the load replaces (then the normal
 * put path runs for that record), the commit's request_id is remembered.
 * All or nothing: any failure aborts the transaction, nothing is written.
 *
 * Change sets: one per BK_CHANGES_PER_SET records, each its own revision
 * (so a Changes page stays small), all in the one commit. A record takes
 * the revision of the change set that names it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/date.h"
#include "common/log.h"
#include "store/bulk.h"
#include "store/pubfloor.h"
#include "store/refs.h"

#define BK_CHANGES_PER_SET 1000
#define BK_GROW_TRIES      24

/* A table's staged entries: one chunk per part (bk_chunk, bulk.h), each
 * sorted once its part ends, on the sorter thread (bulk_sort.c) while the
 * writer goes on, then merged at the end. (One sort of them all at the end
 * walked the whole key arena at random, most of a big commit.) */
typedef struct bk_keys {
	bk_chunk *chunks;
	size_t n_chunks, chunks_cap;
	bool open; /* the last chunk is the current part's, still taking keys */
	size_t n;  /* entries in all chunks */
} bk_keys;

/* A table's first and last key when the load began (copies: the txn's
 * pages move under writes). */
typedef struct bk_bounds {
	bool any;
	size_t first_n, last_n;
	uint8_t first[ST_KEY_MAX], last[ST_KEY_MAX];
} bk_bounds;

typedef struct bk_deferred {
	st_kind kind;
	uint32_t part;
	const char *list; /* its bk_list's name */
	size_t index;
	uint8_t *bytes;
	size_t n;
} bk_deferred;

typedef struct bk_run {
	st_store *s;
	MDB_txn *txn;
	st_txn rd;
	st_bulk *b;
	st_write *w;
	st_err *err;
	ar_arena rec_arena; /* one record's scratch */
	ar_arena key_arena; /* staged keys and values, until written at the end */
	bk_keys keys[DB_COUNT];
	bk_sorter *sorter; /* NULL: chunks are sorted on the writer */
	bk_bounds at_start[DB_COUNT];
	ar_arena cs_arena;
	Annals__V1__ChangeSet *cs;
	uint64_t rev; /* the revision records take now */
	uint64_t first_rev;
	int64_t now_ms;
	uint64_t span;
	bool span_grew;
	bk_deferred *deferred;
	size_t n_deferred, deferred_cap;
	ar_arena defer_arena;            /* the deferred records' bytes */
	uint64_t records_ms, indexes_ms; /* the phases' times, logged at the commit */
	/* where the record being written came from, for errors */
	uint32_t part;
	const char *list;
	size_t index;
} bk_run;

/* The error of the record being written: "part 3, events[12] (ev:x): ...". */
static int bk_fail(bk_run *r, int code, const char *id, const char *msg)
{
	return st_errf(r->err, code, "part %u, %s[%zu] (%s): %.400s", r->part, r->list, r->index, id, msg);
}

static int bk_bounds_read(bk_run *r, enum st_dbi db, bk_bounds *out)
{
	out->any = false;
	out->first_n = out->last_n = 0;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(r->txn, r->s->dbi[db], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, r->err, "bulk: cursor");
	MDB_val k, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (rc == MDB_SUCCESS) {
		out->any = true;
		out->first_n = k.mv_size;
		memcpy(out->first, k.mv_data, k.mv_size);
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		if (rc == MDB_SUCCESS) {
			out->last_n = k.mv_size;
			memcpy(out->last, k.mv_data, k.mv_size);
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, r->err, "bulk: bounds");
	return ANNALS_OK;
}

static bool bk_after(const bk_bounds *t, const void *key, size_t n)
{
	return !t->any || bk_cmp(key, n, t->last, t->last_n) > 0;
}

static bool bk_within(const bk_bounds *t, const void *key, size_t n)
{
	return t->any && bk_cmp(key, n, t->first, t->first_n) >= 0 && bk_cmp(key, n, t->last, t->last_n) <= 0;
}

/* ---- change sets ------------------------------------------------------------------ */

static int bk_flush_changes(bk_run *r)
{
	if (r->cs->n_changes == 0)
		return ANNALS_OK;
	r->cs->revision = r->rev;
	r->cs->committed_ms = r->now_ms;
	r->cs->request_id = (char *)(r->w->request_id ? r->w->request_id : "");
	r->cs->bulk = true;
	size_t n = protobuf_c_message_get_packed_size(&r->cs->base);
	uint8_t *val = ar_alloc(&r->cs_arena, n + 8);
	wr_be64(val, (uint64_t)r->now_ms);
	protobuf_c_message_pack(&r->cs->base, val + 8);
	uint8_t kb[8];
	wr_be64(kb, r->rev);
	MDB_val key = {8, kb}, v = {n + 8, val};
	int rc = mdb_put(r->txn, r->s->dbi[DB_CHANGES], &key, &v, MDB_APPEND);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, r->err, "bulk: change log");
	if (r->first_rev == 0)
		r->first_rev = r->rev;
	r->rev++;
	ar_reset(&r->cs_arena);
	r->cs = AR_NEW(&r->cs_arena, Annals__V1__ChangeSet, ANNALS__V1__CHANGE_SET__INIT);
	return ANNALS_OK;
}

static void bk_note(bk_run *r, st_kind k, const char *id, bool deleted)
{
	Annals__V1__Change *ch = AR_NEW(&r->cs_arena, Annals__V1__Change, ANNALS__V1__CHANGE__INIT);
	ch->kind = (Annals__V1__RecordKind)k;
	ch->id = ar_strdup(&r->cs_arena, id);
	ch->deleted = deleted;
	AR_PUSH(&r->cs_arena, r->cs->changes, r->cs->n_changes, ch);
}

/* ---- checks ------------------------------------------------------------------------ */

typedef struct bk_ref_ctx {
	bk_run *r;
	const char *path, *value, *problem;
} bk_ref_ctx;

static int bk_ref_cb(void *ctx, const rf_field *f, const rf_path *path, const char *value)
{
	bk_ref_ctx *rc = ctx;
	bk_run *r = rc->r;
	rf_targets t;
	rf_targets_of(f, value, &t);
	for (size_t i = 0; i < t.n; i++) {
		st_kind in_load = bk_kind_in_load(r->b, t.id[i]);
		if (in_load == t.want)
			return 0;
		const uint8_t *d;
		size_t n;
		if (in_load == 0 && st_get(&r->rd, t.want, t.id[i], &d, &n) == ANNALS_OK)
			return 0;
	}
	rc->path = rf_path_format(path, &r->rec_arena);
	rc->value = value;
	rc->problem = ar_printf(&r->rec_arena, "no %s \"%s\" in the store or the load",
	                        t.want ? rec_kind_name(t.want) : "record", value);
	return 1;
}

/* Ids are unique across kinds: another table holding id (looked up only
 * where id falls within that table's keys) is ALREADY_EXISTS. */
static int bk_check_unique(bk_run *r, st_kind k, const char *id)
{
	size_t n = strlen(id);
	for (int other = ST_ENTITY; other <= ST_DOCUMENT; other++) {
		const uint8_t *d;
		size_t len;
		if (other == (int)k || !bk_within(&r->at_start[rec_dbi((st_kind)other)], id, n) ||
		    st_get(&r->rd, (st_kind)other, id, &d, &len) != ANNALS_OK)
			continue;
		char msg[300];
		snprintf(msg, sizeof(msg),
		         "the id is already used by %s '%.200s' (ids are unique across kinds)",
		         rec_kind_name((st_kind)other), id);
		return bk_fail(r, ANNALS_ALREADY_EXISTS, id, msg);
	}
	return ANNALS_OK;
}

/* ---- anchors in the load ----------------------------------------------------------- */

typedef struct bk_wait {
	bk_run *r;
	const char *self;
	bool wait;
} bk_wait;

static bool bk_unwritten(bk_run *r, const char *id, st_kind want, const char *self)
{
	bk_entry *e = bk_entry_of(r->b, id);
	return e != NULL && e->kind == want && !e->written && strcmp(id, self) != 0;
}

/* The anchor rule of st_anchor_date: "doc:X" is the document "doc:X" or
 * "X", "event:X" the event "X" or "event:X". */
static void bk_anchor_cb(void *ctx, ProtobufCMessage *m)
{
	bk_wait *bw = ctx;
	const char *a = ((const Annals__V1__Date *)m)->anchor;
	if (bw->wait || a == NULL || a[0] == '\0')
		return;
	if (strncmp(a, "doc:", 4) == 0)
		bw->wait = bk_unwritten(bw->r, a, ST_DOCUMENT, bw->self) ||
		           bk_unwritten(bw->r, a + 4, ST_DOCUMENT, bw->self);
	else if (strncmp(a, "event:", 6) == 0)
		bw->wait = bk_unwritten(bw->r, a + 6, ST_EVENT, bw->self) ||
		           bk_unwritten(bw->r, a, ST_EVENT, bw->self);
}

static bool bk_must_wait(bk_run *r, ProtobufCMessage *m)
{
	bk_wait bw = {.r = r, .self = rec_id(m)};
	st_walk(m, &annals__v1__date__descriptor, bk_anchor_cb, &bw);
	return bw.wait;
}

static void bk_defer(bk_run *r, st_kind k, ProtobufCMessage *m)
{
	if (r->n_deferred == r->deferred_cap) {
		r->deferred_cap = r->deferred_cap ? 2 * r->deferred_cap : 64;
		r->deferred = realloc(r->deferred, r->deferred_cap * sizeof(*r->deferred));
		if (r->deferred == NULL)
			abort();
	}
	size_t n;
	const uint8_t *p = rec_pack(m, &n, &r->rec_arena);
	uint8_t *copy = ar_alloc(&r->defer_arena, n ? n : 1); /* rec_arena is reset per record */
	memcpy(copy, p, n);
	r->deferred[r->n_deferred++] = (bk_deferred){k, r->part, r->list, r->index, copy, n};
}

/* ---- one record --------------------------------------------------------------------- */

static void bk_stage(bk_run *r, enum st_dbi db, const void *key, size_t n, const void *val, size_t vn)
{
	bk_keys *ks = &r->keys[db];
	if (!ks->open) {
		if (ks->n_chunks == ks->chunks_cap) {
			ks->chunks_cap = ks->chunks_cap ? 2 * ks->chunks_cap : 64;
			ks->chunks = realloc(ks->chunks, ks->chunks_cap * sizeof(*ks->chunks));
			if (ks->chunks == NULL)
				abort();
		}
		ks->chunks[ks->n_chunks++] = (bk_chunk){0};
		ks->open = true;
	}
	bk_chunk *c = &ks->chunks[ks->n_chunks - 1];
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (c->v == NULL)
			abort();
	}
	uint8_t *b = ar_alloc(&r->key_arena, n + vn + 1);
	memcpy(b, key, n);
	if (vn)
		memcpy(b + n, val, vn);
	c->v[c->n++] = (bk_key){b, n, vn ? b + n : NULL, vn};
	ks->n++;
}

static void bk_key_cb(void *ctx, enum st_dbi db, const uint8_t *key, size_t n)
{
	bk_stage(ctx, db, key, n, NULL, 0);
}

static void bk_pubfloor_cb(void *ctx, const st_key *k, const uint8_t *val, size_t n)
{
	bk_stage(ctx, DB_PUBFLOOR, k->b, k->n, val, n);
}

/* Whether a relative date of the load may name this record: then it is
 * written at once, so the resolution of those dates finds it. */
static bool bk_anchor_target(bk_run *r, st_kind k, const char *id)
{
	char buf[VAL_ID_MAX + 8];
	const char *anchor = rec_anchor(k, id, buf, sizeof(buf));
	if (anchor == NULL)
		return false;
	return bk_is_anchor(r->b, anchor) || bk_is_anchor(r->b, id);
}

/* A write context on the load's transaction for the normal put path (a
 * replaced record, re-resolved dependents), its changes in a side set
 * that bk_note_side adds to the bulk change sets. */
static Annals__V1__ChangeSet *bk_side(bk_run *r, st_wctx *c)
{
	Annals__V1__ChangeSet *side =
	    AR_NEW(&r->rec_arena, Annals__V1__ChangeSet, ANNALS__V1__CHANGE_SET__INIT);
	*c = (st_wctx){.s = r->s,
	               .txn = r->txn,
	               .a = &r->rec_arena,
	               .revision = r->rev,
	               .now_ms = r->now_ms,
	               .request_id = r->w->request_id,
	               .cs = side,
	               .err = r->err};
	st_txn_borrow(&c->rd, r->s, r->txn);
	return side;
}

static void bk_note_side(bk_run *r, const Annals__V1__ChangeSet *side)
{
	for (size_t i = 0; i < side->n_changes; i++)
		bk_note(r, (st_kind)side->changes[i]->kind, side->changes[i]->id, side->changes[i]->deleted);
}

/* A record stored before the load: unchanged, or (replace) the normal put
 * path, whose changes (re-resolved dependents too) join the bulk set. */
static int bk_existing(bk_run *r, st_kind k, ProtobufCMessage *m)
{
	st_wctx c;
	Annals__V1__ChangeSet *side = bk_side(r, &c);
	st_result out = {0};
	const char *id = rec_id(m);
	if (!r->b->replace) {
		/* the same bytes as stored (at the stored revision)? */
		const uint8_t *data;
		size_t len;
		if (st_get(&r->rd, k, id, &data, &len) != ANNALS_OK)
			return bk_fail(r, ANNALS_INTERNAL, id, "stored record vanished");
		ProtobufCMessage *old = rec_unpack(k, data, len, &r->rec_arena);
		if (old == NULL)
			return bk_fail(r, ANNALS_DATA_LOSS, id, "stored record does not parse");
		rs_resolve_record(&r->rd, k, m, &r->rec_arena);
		*rec_revision(m) = *rec_revision(old);
		size_t n;
		const uint8_t *packed = rec_pack(m, &n, &r->rec_arena);
		if (n == len && memcmp(packed, data, n) == 0) {
			r->b->totals.unchanged++;
			return ANNALS_OK;
		}
		return bk_fail(r, ANNALS_ALREADY_EXISTS, id,
		               "stored already with other contents; commit with replace to overwrite "
		               "(annals import --bulk --replace), or leave the record out");
	}
	int rc = wr_put(&c, k, m, NULL, &out);
	if (rc != ANNALS_OK) {
		char msg[sizeof(r->err->msg)];
		snprintf(msg, sizeof(msg), "%s", r->err->msg);
		return bk_fail(r, rc, id, msg);
	}
	if (out.unchanged) {
		r->b->totals.unchanged++;
		return ANNALS_OK;
	}
	bk_note_side(r, side);
	r->b->totals.written++;
	return ANNALS_OK;
}

/* Records of the store anchored on a new document or event (written
 * before their anchor existed) are resolved again, as any write does. */
static int bk_dependents(bk_run *r, st_kind k, const char *id)
{
	char buf[VAL_ID_MAX + 8];
	const char *anchor = rec_anchor(k, id, buf, sizeof(buf));
	if (anchor == NULL || !r->at_start[DB_ANCHORS].any)
		return ANNALS_OK;
	/* ix_anchors keys are "anchor\0id": only a range that may hold the
	 * anchor's keys is looked at */
	const bk_bounds *b = &r->at_start[DB_ANCHORS];
	size_t n = strlen(anchor) + 1;
	if (bk_cmp((const uint8_t *)anchor, n, b->last, b->last_n) > 0 ||
	    bk_cmp((const uint8_t *)anchor, n - 1, b->first, b->first_n < n - 1 ? b->first_n : n - 1) < 0)
		return ANNALS_OK;
	st_wctx c;
	Annals__V1__ChangeSet *side = bk_side(r, &c);
	int rc = rs_dependents(&c, k, id);
	if (rc == ANNALS_OK)
		bk_note_side(r, side);
	return rc;
}

static int bk_new(bk_run *r, st_kind k, ProtobufCMessage *m)
{
	const char *id = rec_id(m);
	rs_resolve_record(&r->rd, k, m, &r->rec_arena);
	*rec_revision(m) = r->rev;
	size_t n;
	uint8_t *packed = rec_pack(m, &n, &r->rec_arena);
	enum st_dbi db = rec_dbi(k);
	size_t idn = strlen(id);
	if (bk_anchor_target(r, k, id)) {
		MDB_val key = {idn, (void *)id}, val = {n, packed};
		int rc = mdb_put(r->txn, r->s->dbi[db], &key, &val, 0);
		if (rc != MDB_SUCCESS)
			return st_mdb_status(rc, r->err, "bulk: put");
	} else {
		bk_stage(r, db, id, idn, packed, n);
	}
	ix_keys_of(k, m, &r->rec_arena, bk_key_cb, r);
	pf_entries(m, id, &r->rec_arena, bk_pubfloor_cb, r);
	if (k == ST_EVENT) {
		int32_t lo, hi;
		const Annals__V1__Event *e = (const void *)m;
		if (date_range(e->when, &lo, &hi) && (uint64_t)(hi - lo) > r->span) {
			r->span = (uint64_t)(hi - lo);
			r->span_grew = true;
		}
	}
	bk_note(r, k, id, false);
	r->b->totals.written++;
	return k == ST_DOCUMENT || k == ST_EVENT ? bk_dependents(r, k, id) : ANNALS_OK;
}

static bool bk_exists(bk_run *r, st_kind k, const char *id)
{
	size_t n = strlen(id);
	if (!bk_within(&r->at_start[rec_dbi(k)], id, n))
		return false;
	const uint8_t *d;
	size_t len;
	return st_get(&r->rd, k, id, &d, &len) == ANNALS_OK;
}

/* refs_judged: every reference names a record of the load (bulk_prep.c
 * looked), so none is looked up again. */
static int bk_record(bk_run *r, st_kind k, ProtobufCMessage *m, bool may_defer, bool refs_judged)
{
	const char *id = rec_id(m);
	if (may_defer && bk_must_wait(r, m)) {
		bk_defer(r, k, m);
		return ANNALS_OK;
	}
	if (r->cs->n_changes >= BK_CHANGES_PER_SET) {
		int rc = bk_flush_changes(r);
		if (rc != ANNALS_OK)
			return rc;
	}
	int rc = bk_check_unique(r, k, id);
	if (rc != ANNALS_OK)
		return rc;
	bk_ref_ctx ref = {.r = r};
	if (!refs_judged && rf_walk(m, bk_ref_cb, &ref) != 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s: %s", ref.path, ref.problem);
		return bk_fail(r, ANNALS_INVALID_ARGUMENT, id, msg);
	}
	bk_entry *e = bk_entry_of(r->b, id);
	rc = bk_exists(r, k, id) ? bk_existing(r, k, m) : bk_new(r, k, m);
	if (rc == ANNALS_OK && e != NULL)
		e->written = 1;
	return rc;
}

/* ---- the passes ---------------------------------------------------------------------- */

/* Ends every table's chunk of this part: sorted on the sorter thread. */
static void bk_end_runs(bk_run *r)
{
	for (int db = 0; db < DB_COUNT; db++) {
		bk_keys *ks = &r->keys[db];
		if (!ks->open)
			continue;
		ks->open = false;
		const bk_chunk *c = &ks->chunks[ks->n_chunks - 1];
		bks_submit(r->sorter, c->v, c->n);
	}
}

/* One part, in order. ready: as bulk_prep.c made it, or NULL (no thread:
 * unpacked here, and every reference judged by bk_record). */
static int bk_part(bk_run *r, uint32_t number, const ProtobufCBinaryData *bytes, const bk_ready *ready)
{
	ar_arena pa;
	ar_init(&pa);
	Annals__V1__BulkLoadRequest *p =
	    ready ? ready->part : annals__v1__bulk_load_request__unpack(ar_pbc(&pa), bytes->len, bytes->data);
	if (p == NULL) {
		ar_free(&pa);
		return st_errf(r->err, ANNALS_INTERNAL, "bulk: staged part %u does not parse", number);
	}
	bk_list lists[BK_LISTS];
	bk_lists_of(p, lists);
	int rc = ANNALS_OK;
	r->part = number;
	for (int l = 0; rc == ANNALS_OK && l < BK_LISTS; l++) {
		r->list = lists[l].name;
		for (size_t i = 0; rc == ANNALS_OK && i < lists[l].n; i++) {
			r->index = i;
			bool judged = ready != NULL && ready->refs_in_load[l][i];
			rc = bk_record(r, lists[l].kind, lists[l].items[i], true, judged);
			ar_reset(&r->rec_arena);
		}
	}
	ar_free(&pa);
	bk_end_runs(r);
	return rc;
}

/* Records that waited for an anchor of the load: written once it is, in
 * rounds; what still waits after a round that wrote nothing is anchored
 * in a cycle and is written as it is (the normal path ends cycles so too). */
static int bk_deferred_pass(bk_run *r)
{
	bool progress = true;
	while (r->n_deferred > 0) {
		bool last_round = !progress;
		progress = false;
		for (size_t i = 0; i < r->n_deferred; i++) {
			bk_deferred *d = &r->deferred[i];
			ProtobufCMessage *m = rec_unpack(d->kind, d->bytes, d->n, &r->rec_arena);
			if (m == NULL)
				return st_errf(r->err, ANNALS_INTERNAL,
				               "bulk: a deferred record does not parse");
			r->part = d->part, r->index = d->index, r->list = d->list;
			int rc = ANNALS_OK;
			if (last_round || !bk_must_wait(r, m)) {
				rc = bk_record(r, d->kind, m, false, false);
				d->bytes = NULL; /* written (its bytes go with defer_arena) */
				progress = true;
			}
			ar_reset(&r->rec_arena);
			if (rc != ANNALS_OK)
				return rc; /* bk_run_free frees the rest */
		}
		size_t kept = 0;
		for (size_t i = 0; i < r->n_deferred; i++)
			if (r->deferred[i].bytes != NULL)
				r->deferred[kept++] = r->deferred[i];
		r->n_deferred = kept;
	}
	return ANNALS_OK;
}

/* What a table held before its merge, copied out (its pages go). */
static int bk_copy_out(bk_run *r, MDB_dbi dbi, bk_chunk *out, ar_arena *a)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(r->txn, dbi, &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, r->err, "bulk: cursor");
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 1024;
			out->v = realloc(out->v, out->cap * sizeof(*out->v));
			if (out->v == NULL)
				abort();
		}
		uint8_t *b = ar_alloc(a, k.mv_size + v.mv_size + 1);
		memcpy(b, k.mv_data, k.mv_size);
		memcpy(b + k.mv_size, v.mv_data, v.mv_size);
		out->v[out->n++] = (bk_key){b, k.mv_size, b + k.mv_size, v.mv_size};
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return st_mdb_status(rc, r->err, "bulk: copy");
	return ANNALS_OK;
}

/* One table's staged entries, in key order. When they are at least as many
 * as the table holds, the table is emptied and written again whole, old
 * and new merged, in append mode: pages filled to the brim. (Sorted puts
 * into the middle of a tree split every page in half.) Otherwise the new
 * entries are put in order, appended past the table's last key. */
static int bk_write_table(bk_run *r, enum st_dbi db)
{
	bk_keys *ks = &r->keys[db];
	if (ks->n == 0)
		return ANNALS_OK;
	MDB_dbi dbi = r->s->dbi[db];
	MDB_stat st;
	int rc = mdb_stat(r->txn, dbi, &st);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, r->err, "bulk: stat");
	bool merge = st.ms_entries <= ks->n;
	bk_chunk old = {0};
	ar_arena oa;
	ar_init(&oa);
	int code = ANNALS_OK;
	if (merge && st.ms_entries > 0) {
		code = bk_copy_out(r, dbi, &old, &oa);
		if (code == ANNALS_OK && (rc = mdb_drop(r->txn, dbi, 0)) != MDB_SUCCESS)
			code = st_mdb_status(rc, r->err, "bulk: empty a table");
	}
	bk_bounds tail;
	if (code == ANNALS_OK)
		code = bk_bounds_read(r, db, &tail);
	MDB_cursor *cur = NULL;
	if (code == ANNALS_OK && (rc = mdb_cursor_open(r->txn, dbi, &cur)) != MDB_SUCCESS)
		code = st_mdb_status(rc, r->err, "bulk: cursor");
	/* the merge runs a block ahead on the merger's thread (bulk_merge.c) */
	bk_feed *feed = code == ANNALS_OK ? bkm_start(ks->chunks, ks->n_chunks, &old) : NULL;
	bool append = false;
	size_t n = 0;
	for (const bk_key *const *block; code == ANNALS_OK && (block = bkm_next(feed, &n), n > 0);) {
		for (size_t i = 0; code == ANNALS_OK && i < n; i++) {
			const bk_key *k = block[i];
			if (!append)
				append = bk_after(&tail, k->b, k->n);
			MDB_val key = {k->n, (void *)k->b}, val = {k->vn, (void *)k->v};
			rc = mdb_cursor_put(cur, &key, &val, append ? MDB_APPEND : 0);
			if (rc != MDB_SUCCESS)
				code = st_mdb_status(rc, r->err, "bulk: write");
		}
	}
	bkm_stop(feed);
	if (cur != NULL)
		mdb_cursor_close(cur);
	free(old.v);
	ar_free(&oa);
	return code;
}

static int bk_write_indexes(bk_run *r)
{
	bks_wait(r->sorter); /* every chunk sorted */
	int rc = ANNALS_OK;
	for (int db = 0; rc == ANNALS_OK && db < DB_COUNT; db++)
		rc = bk_write_table(r, (enum st_dbi)db);
	return rc;
}

/* The outcome in the request log's terms (dd_store keeps results and
 * after_revision): results "first_revision", "written", "unchanged",
 * "took_ms" with their numbers as revisions, so a resent commit gets them
 * all back. srv_bulk_reply_pack reads them. */
static void bk_keep_outcome(st_write *w, const st_bulk_totals *t)
{
	static const char *const names[4] = {"first_revision", "written", "unchanged", "took_ms"};
	uint64_t values[4] = {t->first_revision, t->written, t->unchanged, t->took_ms};
	size_t bytes = 4 * sizeof(st_result);
	for (int i = 0; i < 4; i++)
		bytes += strlen(names[i]) + 1;
	st_result *out = malloc(bytes);
	if (out == NULL)
		abort();
	char *ids = (char *)(out + 4);
	for (int i = 0; i < 4; i++) {
		size_t len = strlen(names[i]) + 1;
		memcpy(ids, names[i], len);
		out[i] = (st_result){.id = ids, .revision = values[i]};
		ids += len;
	}
	w->results = out;
	w->n_results = 4;
	w->after_revision = t->last_revision;
	w->revision = t->first_revision;
}

static uint64_t bk_ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static int bk_run_all(bk_run *r)
{
	struct timespec t_records;
	clock_gettime(CLOCK_MONOTONIC, &t_records);
	int rc = ANNALS_OK;
	for (int db = 0; rc == ANNALS_OK && db < DB_COUNT; db++)
		rc = bk_bounds_read(r, (enum st_dbi)db, &r->at_start[db]);
	if (rc != ANNALS_OK)
		return rc;
	uint64_t span = 0;
	if (st_meta_get_u64(r->s, r->txn, "event_span", &span) == ANNALS_OK)
		r->span = span;
	bk_prep *prep = bkp_start(r->b);
	r->sorter = bks_start();
	for (size_t i = 0; rc == ANNALS_OK && i < r->b->n_parts; i++) {
		if (r->b->parts[i].data == NULL) { /* the server commits no load with a gap */
			rc = st_errf(r->err, ANNALS_FAILED_PRECONDITION, "bulk: part %zu was never staged",
			             i + 1);
			break;
		}
		rc = bk_part(r, (uint32_t)i + 1, &r->b->parts[i], prep ? bkp_get(prep, i) : NULL);
		if (prep != NULL)
			bkp_done(prep, i);
	}
	bkp_stop(prep);
	if (rc == ANNALS_OK)
		rc = bk_deferred_pass(r);
	bk_end_runs(r);
	if (rc == ANNALS_OK)
		rc = bk_flush_changes(r);
	struct timespec t_indexes;
	clock_gettime(CLOCK_MONOTONIC, &t_indexes);
	if (rc == ANNALS_OK)
		rc = bk_write_indexes(r);
	r->indexes_ms = bk_ms_since(&t_indexes);
	uint64_t last = r->rev - 1;
	if (rc == ANNALS_OK && r->first_rev != 0)
		rc = st_meta_put_u64(r->s, r->txn, "revision", last);
	if (rc == ANNALS_OK && r->span_grew)
		rc = st_meta_put_u64(r->s, r->txn, "event_span", r->span);
	r->records_ms = bk_ms_since(&t_records) - r->indexes_ms;
	bks_stop(r->sorter); /* before bk_run_free frees what it sorts */
	r->sorter = NULL;
	r->b->totals.first_revision = r->first_rev;
	r->b->totals.last_revision = r->first_rev ? last : r->rev - 1;
	return rc;
}

static void bk_run_free(bk_run *r)
{
	for (int db = 0; db < DB_COUNT; db++) {
		for (size_t i = 0; i < r->keys[db].n_chunks; i++)
			free(r->keys[db].chunks[i].v);
		free(r->keys[db].chunks);
	}
	free(r->deferred);
	ar_free(&r->defer_arena);
	ar_free(&r->rec_arena);
	ar_free(&r->key_arena);
	ar_free(&r->cs_arena);
}

/* Room for the load before it starts: growing the map means aborting the
 * transaction, and this one may be minutes of work. The records, their
 * index entries and the change log take a few times the staged bytes. */
static int bk_make_room(st_store *s, const st_bulk *b, st_err *err)
{
	for (int i = 0; i < BK_GROW_TRIES; i++) {
		MDB_envinfo info;
		MDB_stat st;
		if (mdb_env_info(s->env, &info) != MDB_SUCCESS || mdb_env_stat(s->env, &st) != MDB_SUCCESS)
			return st_errf(err, ANNALS_INTERNAL, "bulk: map info");
		uint64_t used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
		uint64_t need = 4 * b->totals.bytes + (64u << 20);
		if (info.me_mapsize >= used + need)
			return ANNALS_OK;
		int rc = st_grow_map(s, err);
		if (rc != ANNALS_OK)
			return rc;
	}
	return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "bulk: cannot grow the map enough for the load");
}

static int bk_once(st_store *s, st_write *w, st_err *err)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, "bulk: begin");
	bk_run r = {.s = s, .txn = txn, .b = w->bulk, .w = w, .err = err, .now_ms = st_now_ms(s)};
	ar_init(&r.rec_arena);
	ar_init(&r.key_arena);
	ar_init(&r.cs_arena);
	ar_init(&r.defer_arena);
	r.cs = AR_NEW(&r.cs_arena, Annals__V1__ChangeSet, ANNALS__V1__CHANGE_SET__INIT);
	st_txn_borrow(&r.rd, s, txn);
	const char *rid = w->request_id && w->request_id[0] ? w->request_id : NULL;
	uint64_t rev = 0;
	int code = st_meta_get_u64(s, txn, "revision", &rev);
	int found = 0;
	if (code == ANNALS_OK && rid != NULL)
		found = dd_lookup(s, txn, rid, w, err);
	if (found != 0) { /* answered before: the first answer, nothing applied */
		bk_run_free(&r);
		mdb_txn_abort(txn);
		return found == 1 ? ANNALS_OK : found;
	}
	if (w->bulk->replay_only) {
		bk_run_free(&r);
		mdb_txn_abort(txn);
		return st_errf(err, ANNALS_FAILED_PRECONDITION,
		               "no load \"%s\" is staged (it was committed, aborted or dropped) and this "
		               "request_id is not known; start again from part 1",
		               w->bulk->load_id);
	}
	memset(&w->bulk->totals.written, 0,
	       sizeof(w->bulk->totals) - offsetof(st_bulk_totals, written)); /* a retried run counts again */
	r.rev = rev + 1;
	if (code == ANNALS_OK)
		code = bk_run_all(&r);
	bk_run_free(&r);
	if (code == ANNALS_OK) {
		w->bulk->totals.took_ms = bk_ms_since(&t0); /* all but the commit's fsync */
		bk_keep_outcome(w, &w->bulk->totals);
		if (rid != NULL)
			code = dd_store(s, txn, rid, r.now_ms, w, err);
	}
	if (code != ANNALS_OK) {
		mdb_txn_abort(txn);
		st_write_clear(w);
		return code;
	}
	struct timespec t_commit;
	clock_gettime(CLOCK_MONOTONIC, &t_commit);
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS) {
		st_write_clear(w);
		return st_mdb_status(rc, err, "bulk: commit");
	}
	atomic_store(&s->revision, w->bulk->totals.last_revision);
	/* where a big load's time went: records (unpack, judge, pack, stage
	 * keys), indexes (merge, append), LMDB's commit (write and sync) */
	log_msg(LOG_INFO, "bulk_committed",
	        "load=%s written=%llu records_ms=%llu indexes_ms=%llu commit_ms=%llu", w->bulk->load_id,
	        (unsigned long long)w->bulk->totals.written, (unsigned long long)r.records_ms,
	        (unsigned long long)r.indexes_ms, (unsigned long long)bk_ms_since(&t_commit));
	return ANNALS_OK;
}

/* A refused load's answer is remembered under its request_id like any
 * write's, in a small transaction of its own (the load's was aborted). */
static void bk_remember_failure(st_store *s, st_write *w)
{
	MDB_txn *txn;
	st_err err = {0};
	if (mdb_txn_begin(s->env, NULL, 0, &txn) != MDB_SUCCESS)
		return;
	if (dd_store(s, txn, w->request_id, st_now_ms(s), w, &err) == ANNALS_OK)
		mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
}

int bk_apply(st_store *s, st_write *w)
{
	st_err err = {0};
	w->code = ANNALS_OK;
	w->msg[0] = '\0';
	w->replayed = false;
	int rc = bk_make_room(s, w->bulk, &err);
	for (int tries = 0; rc == ANNALS_OK && tries < BK_GROW_TRIES; tries++) {
		rc = bk_once(s, w, &err);
		if (rc != ST_MAP_FULL)
			break;
		err = (st_err){0};
		rc = st_grow_map(s, &err);
		if (rc == ANNALS_OK)
			rc = ST_MAP_FULL;
	}
	if (rc == ST_MAP_FULL)
		rc = st_errf(&err, ANNALS_RESOURCE_EXHAUSTED, "bulk: map still full after growing");
	if (rc != ANNALS_OK) {
		w->code = rc;
		snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
		bool final =
		    rc != ANNALS_INTERNAL && rc != ANNALS_DATA_LOSS && rc != ANNALS_RESOURCE_EXHAUSTED;
		if (final && w->request_id && w->request_id[0])
			bk_remember_failure(s, w);
	}
	return ANNALS_OK; /* the write carries its own answer */
}

/*
 * st_scan_ — ordered walks over the record tables and the indexes. Every
 * scan is a prefix walk over one DBI (st_scan_prefix); the index entries
 * name a record id, which is then read from its table.
 *
 * Arguments come from requests unchecked, so a scan first makes sure its
 * key parts fit (an over-long id cannot be stored, so it matches nothing).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "common/validate.h"
#include "store/store_int.h"

static bool scan_fits(const char *id)
{
	return id != NULL && strlen(id) <= VAL_ID_MAX;
}

int st_scan_prefix(st_txn *t, enum st_dbi db, const st_key *prefix, const st_key *resume, st_key_fn fn,
                   void *ctx)
{
	assert(t->active);
	dp_read_prefix(t, db, prefix->b, prefix->n);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "cursor");
	const st_key *start = resume != NULL ? resume : prefix;
	MDB_val key = key_val(start), val;
	rc = start->n == 0 ? mdb_cursor_get(cur, &key, &val, MDB_FIRST)
	                   : mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	/* resume is exclusive: the entry it names was already seen */
	if (rc == MDB_SUCCESS && resume != NULL && key.mv_size == resume->n &&
	    memcmp(key.mv_data, resume->b, resume->n) == 0)
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	bool expired = false;
	while (rc == MDB_SUCCESS && key_has_prefix(&key, prefix)) {
		if ((++t->scanned & 127) == 0 && st_txn_expired(t)) {
			expired = true; /* the caller has given up: stop working for it */
			break;
		}
		if (fn(ctx, &key, &val) != 0)
			break;
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (expired)
		return ANNALS_DEADLINE_EXCEEDED;
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, NULL, "scan");
	return ANNALS_OK;
}

/* ---- records by id ------------------------------------------------------------ */

typedef struct scan_rec {
	st_txn *t;
	st_kind kind;   /* for index scans: the table to read (0: look it up) */
	size_t id_skip; /* bytes of the key before the id */
	st_visit_fn fn;
	void *ctx;
	char *cursor_out; /* events: the cursor of the visited one */
	size_t cursor_skip;
	uint32_t day_max; /* events: stop past this day key */
	struct scan_seen *seen;
} scan_rec;

static int scan_table_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	scan_rec *r = ctx;
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, 0, id, sizeof(id));
	return r->fn(r->ctx, id, val->mv_data, val->mv_size);
}

int st_scan_kind(st_txn *t, st_kind k, const char *after, st_visit_fn fn, void *ctx)
{
	if (!rec_kind_ok((int)k))
		return ANNALS_INVALID_ARGUMENT;
	scan_rec r = {.t = t, .fn = fn, .ctx = ctx};
	st_key prefix, resume;
	key_init(&prefix);
	key_init(&resume);
	bool resuming = after != NULL && after[0] != '\0';
	if (resuming) {
		if (!scan_fits(after))
			return ANNALS_INVALID_ARGUMENT;
		key_str(&resume, after);
	}
	return st_scan_prefix(t, rec_dbi(k), &prefix, resuming ? &resume : NULL, scan_table_cb, &r);
}

/* Where the id starts in an index key: after id_skip bytes, or with
 * SCAN_AFTER_LAST_SEP after the key's last \0 (ids never hold one). */
#define SCAN_AFTER_LAST_SEP SIZE_MAX

static size_t scan_id_skip(const scan_rec *r, const MDB_val *key)
{
	if (r->id_skip != SCAN_AFTER_LAST_SEP)
		return r->id_skip;
	const char *sep = memrchr(key->mv_data, '\0', key->mv_size);
	return sep ? (size_t)(sep - (const char *)key->mv_data) + 1 : 0;
}

/* Index entry -> record: the id is the key's tail (scan_id_skip). */
static int scan_index_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	(void)val;
	scan_rec *r = ctx;
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, scan_id_skip(r, key), id, sizeof(id));
	st_kind k = r->kind ? r->kind : st_kind_of(r->t, id);
	const uint8_t *data;
	size_t len;
	if (k == 0 || st_get(r->t, k, id, &data, &len) != ANNALS_OK)
		return 0; /* an index entry always has its record; be lenient anyway */
	return r->fn(r->ctx, id, data, len);
}

int st_scan_entities_by_type(st_txn *t, int type, const char *after, st_visit_fn fn, void *ctx)
{
	scan_rec r = {.t = t, .kind = ST_ENTITY, .id_skip = 4, .fn = fn, .ctx = ctx};
	st_key prefix, resume;
	key_init(&prefix);
	key_be32(&prefix, (uint32_t)type);
	bool resuming = after != NULL && after[0] != '\0';
	if (resuming) {
		if (!scan_fits(after))
			return ANNALS_INVALID_ARGUMENT;
		resume = prefix;
		key_str(&resume, after);
	}
	return st_scan_prefix(t, DB_TYPES, &prefix, resuming ? &resume : NULL, scan_index_cb, &r);
}

int st_scan_relations(st_txn *t, const char *entity, const char *predicate, bool inverse, st_visit_fn fn,
                      void *ctx)
{
	bool by_predicate = predicate != NULL && predicate[0] != '\0';
	if (!scan_fits(entity) || (by_predicate && strlen(predicate) > VAL_WORD_MAX))
		return ANNALS_OK;
	st_key prefix;
	key_init(&prefix);
	key_str(&prefix, entity);
	key_sep(&prefix);
	if (by_predicate) {
		key_str(&prefix, predicate);
		key_sep(&prefix);
	}
	scan_rec r = {.t = t, .kind = ST_RELATION, .fn = fn, .ctx = ctx};
	/* without a predicate the id starts after a second \0; find it per key */
	r.id_skip = by_predicate ? prefix.n : SCAN_AFTER_LAST_SEP;
	return st_scan_prefix(t, inverse ? DB_OBJECTS : DB_SUBJECTS, &prefix, NULL, scan_index_cb, &r);
}

/* ---- events by time ---------------------------------------------------------- */

static int scan_event_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	scan_rec *r = ctx;
	const uint8_t *k = key->mv_data;
	if (key->mv_size < r->cursor_skip + 4 || rd_be32(k + r->cursor_skip) > r->day_max)
		return 1; /* past `to`: done */
	if (r->cursor_out != NULL)
		key_hex(k + r->cursor_skip, key->mv_size - r->cursor_skip, r->cursor_out, ST_CURSOR_MAX);
	return scan_index_cb(ctx, key, val);
}

int st_scan_events(st_txn *t, const char *entity, int32_t from, int32_t to, const char *cursor,
                   char *cursor_out, st_visit_fn fn, void *ctx)
{
	if (entity != NULL && !scan_fits(entity))
		return ANNALS_OK;
	st_key prefix, start, tail;
	key_init(&prefix);
	if (entity != NULL) {
		key_str(&prefix, entity);
		key_sep(&prefix);
	}
	start = prefix;
	bool resuming = cursor != NULL && cursor[0] != '\0';
	if (resuming) {
		if (key_unhex(cursor, &tail) != 0 || tail.n < 4 || tail.n > 4 + VAL_ID_MAX)
			return ANNALS_INVALID_ARGUMENT;
		key_bytes(&start, tail.b, tail.n);
	} else {
		key_be32(&start, key_day(from));
	}
	scan_rec r = {.t = t,
	              .kind = ST_EVENT,
	              .id_skip = prefix.n + 4,
	              .fn = fn,
	              .ctx = ctx,
	              .cursor_out = cursor_out,
	              .cursor_skip = prefix.n,
	              .day_max = key_day(to)};
	if (cursor_out != NULL)
		cursor_out[0] = '\0';
	/* A start key that is not itself an entry works as an inclusive seek
	 * (SET_RANGE); only an exact hit is skipped, which is what a cursor means. */
	return st_scan_prefix(t, entity ? DB_ENTITY_TIME : DB_TIME, &prefix, &start, scan_event_cb, &r);
}

/* ---- citations ------------------------------------------------------------- */

/* A small set of ids, so a record citing several sentences is visited once. */
typedef struct scan_seen {
	char **slots;
	size_t cap, n;
} scan_seen;

static uint64_t scan_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Finds id's slot: the one holding it, or the empty one it would take. */
static char **scan_seen_slot(const scan_seen *set, const char *id)
{
	size_t i = scan_hash(id) & (set->cap - 1);
	while (set->slots[i] != NULL && strcmp(set->slots[i], id) != 0)
		i = (i + 1) & (set->cap - 1);
	return &set->slots[i];
}

static void scan_seen_grow(scan_seen *set)
{
	scan_seen grown = {calloc(set->cap ? set->cap * 2 : 64, sizeof(char *)), set->cap ? set->cap * 2 : 64,
	                   set->n};
	if (grown.slots == NULL)
		abort(); /* as ar_alloc: a server out of memory cannot answer anyway */
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i] != NULL)
			*scan_seen_slot(&grown, set->slots[i]) = set->slots[i];
	free(set->slots);
	*set = grown;
}

/* true when id was new (and is now in the set) */
static bool scan_seen_add(scan_seen *set, const char *id)
{
	if (2 * (set->n + 1) > set->cap)
		scan_seen_grow(set); /* at most half full: probes stay short */
	char **slot = scan_seen_slot(set, id);
	if (*slot != NULL)
		return false;
	*slot = strdup(id);
	if (*slot == NULL)
		abort();
	set->n++;
	return true;
}

static void scan_seen_free(scan_seen *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
}

static int scan_cite_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	scan_rec *r = ctx;
	if (r->seen != NULL) {
		char id[VAL_ID_MAX + 1];
		key_tail_id(key, scan_id_skip(r, key), id, sizeof(id));
		if (!scan_seen_add(r->seen, id))
			return 0;
	}
	return scan_index_cb(ctx, key, val);
}

int st_scan_citing(st_txn *t, const char *document, uint32_t sentence, st_visit_fn fn, void *ctx)
{
	if (!scan_fits(document))
		return ANNALS_OK;
	st_key prefix;
	key_init(&prefix);
	key_str(&prefix, document);
	key_sep(&prefix);
	size_t id_skip = prefix.n + 4;
	if (sentence > 0)
		key_be32(&prefix, sentence);
	scan_seen seen = {0};
	scan_rec r = {.t = t, .id_skip = id_skip, .fn = fn, .ctx = ctx, .seen = sentence == 0 ? &seen : NULL};
	int rc = st_scan_prefix(t, DB_CITES, &prefix, NULL, scan_cite_cb, &r);
	scan_seen_free(&seen);
	return rc;
}

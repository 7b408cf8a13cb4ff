/*
 * ix_ — index maintenance. Each record kind contributes a set of index
 * keys (layouts in store_int.h); a write replaces the old record's set by
 * the new one's. Both sets are sorted and merged so only keys that differ
 * are touched: re-putting a record with one new name costs one put, not a
 * rewrite of every index entry.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "store/pubfloor.h"
#include "store/refs.h"

typedef struct ix_key {
	enum st_dbi db;
	size_t n;
	const uint8_t *b;
} ix_key;

typedef struct ix_set {
	ix_key *keys;
	size_t n, cap;
	ar_arena *a;
	const char *id; /* the record's id: the last part of every key */
} ix_set;

static void ix_add(ix_set *s, enum st_dbi db, const st_key *k)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		ix_key *grown = ar_alloc(s->a, cap * sizeof(*grown));
		if (s->n)
			memcpy(grown, s->keys, s->n * sizeof(*grown));
		s->keys = grown;
		s->cap = cap;
	}
	uint8_t *b = ar_alloc(s->a, k->n ? k->n : 1);
	memcpy(b, k->b, k->n);
	s->keys[s->n++] = (ix_key){db, k->n, b};
}

/* "<part>\0<id>" keys: names, anchors. */
static void ix_add_tagged(ix_set *s, enum st_dbi db, const st_key *head)
{
	st_key k = *head;
	key_sep(&k);
	key_str(&k, s->id);
	ix_add(s, db, &k);
}

/* ---- parts every kind has: citations and anchors ------------------------------ */

static void ix_cite(ix_set *s, const char *doc, uint32_t sentence)
{
	st_key k;
	key_init(&k);
	key_str(&k, doc);
	key_sep(&k);
	key_be32(&k, sentence);
	key_str(&k, s->id);
	ix_add(s, DB_CITES, &k);
}

static void ix_evidence_cb(void *ctx, ProtobufCMessage *m)
{
	const Annals__V1__Evidence *ev = (const Annals__V1__Evidence *)m;
	if (ev->document == NULL || ev->document[0] == '\0')
		return;
	if (ev->n_sentences == 0)
		ix_cite(ctx, ev->document, 0);
	for (size_t i = 0; i < ev->n_sentences; i++)
		ix_cite(ctx, ev->document, ev->sentences[i]);
}

static void ix_anchor_cb(void *ctx, ProtobufCMessage *m)
{
	const Annals__V1__Date *d = (const Annals__V1__Date *)m;
	if (d->anchor == NULL || d->anchor[0] == '\0')
		return;
	st_key k;
	key_init(&k);
	key_str(&k, d->anchor);
	ix_add_tagged(ctx, DB_ANCHORS, &k);
}

/* Every reference as written that no other index keys, for rf_check_delete:
 * a pure function of the record, so the keys a rewrite removes are the
 * ones it once added. */
static int ix_ref_cb(void *ctx, const rf_field *f, const rf_path *path, const char *value)
{
	(void)path;
	if (rf_field_in_other_index(f))
		return 0; /* keyed by ix_subjects, ix_entity_time, ... already */
	st_key k;
	key_init(&k);
	key_str(&k, value);
	ix_add_tagged(ctx, DB_REFS, &k);
	return 0;
}

/* ---- per kind ----------------------------------------------------------------- */

static void ix_entity(ix_set *s, const Annals__V1__Entity *e)
{
	st_key k;
	for (size_t i = 0; i < e->n_names; i++) {
		key_init(&k);
		key_name(&k, e->names[i]->text);
		ix_add_tagged(s, DB_NAMES, &k);
	}
	key_init(&k);
	key_be32(&k, (uint32_t)e->type);
	key_str(&k, e->id);
	ix_add(s, DB_TYPES, &k);
}

static void ix_relation(ix_set *s, const Annals__V1__Relation *r)
{
	st_key k;
	const char *ends[2] = {r->subject, r->object};
	for (int i = 0; i < 2; i++) {
		key_init(&k);
		key_str(&k, ends[i]);
		key_sep(&k);
		key_str(&k, r->predicate);
		key_sep(&k);
		key_str(&k, r->id);
		ix_add(s, i == 0 ? DB_SUBJECTS : DB_OBJECTS, &k);
	}
}

int32_t ix_event_day(const Annals__V1__Event *e)
{
	int32_t lo, hi;
	return date_range(e->when, &lo, &hi) ? lo : DATE_POS_INF;
}

static void ix_event_entity(ix_set *s, const char *entity, uint32_t day)
{
	if (entity == NULL || entity[0] == '\0')
		return;
	st_key k;
	key_init(&k);
	key_str(&k, entity);
	key_sep(&k);
	key_be32(&k, day);
	key_str(&k, s->id);
	ix_add(s, DB_ENTITY_TIME, &k);
}

static void ix_event(ix_set *s, const Annals__V1__Event *e)
{
	uint32_t day = key_day(ix_event_day(e));
	st_key k;
	key_init(&k);
	key_be32(&k, day);
	key_str(&k, e->id);
	ix_add(s, DB_TIME, &k);
	ix_event_entity(s, e->place, day);
	for (size_t i = 0; i < e->n_participants; i++)
		ix_event_entity(s, e->participants[i]->entity, day);
}

static void ix_collect(st_kind k, const ProtobufCMessage *rec, ix_set *s)
{
	if (rec == NULL)
		return;
	s->id = rec_id(rec);
	ProtobufCMessage *m = (ProtobufCMessage *)rec; /* the walk only reads */
	st_walk(m, &annals__v1__evidence__descriptor, ix_evidence_cb, s);
	st_walk(m, &annals__v1__date__descriptor, ix_anchor_cb, s);
	rf_walk(rec, ix_ref_cb, s);
	if (k == ST_ENTITY)
		ix_entity(s, (const Annals__V1__Entity *)rec);
	else if (k == ST_RELATION)
		ix_relation(s, (const Annals__V1__Relation *)rec);
	else if (k == ST_EVENT)
		ix_event(s, (const Annals__V1__Event *)rec);
}

/* ---- the merge ---------------------------------------------------------------- */

static int ix_cmp(const void *pa, const void *pb)
{
	const ix_key *a = pa, *b = pb;
	if (a->db != b->db)
		return a->db < b->db ? -1 : 1;
	size_t n = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->b, b->b, n);
	if (c != 0)
		return c;
	return a->n < b->n ? -1 : a->n > b->n;
}

static int ix_apply(st_store *s, MDB_txn *txn, const ix_key *k, bool put, st_err *err)
{
	MDB_val key = {k->n, (void *)k->b}, val = {0, NULL};
	int rc = put ? dp_put(s, txn, k->db, &key, &val, 0) : dp_del(s, txn, k->db, &key);
	if (rc == MDB_SUCCESS || (!put && rc == MDB_NOTFOUND))
		return ANNALS_OK;
	return st_mdb_status(rc, err, put ? "index put" : "index delete");
}

/* Sorts a set and drops repeats (a name given twice, one entity as both
 * place and participant), so the merge below sees each key once. */
static void ix_sort(ix_set *set)
{
	if (set->n < 2)
		return;
	qsort(set->keys, set->n, sizeof(ix_key), ix_cmp);
	size_t out = 1;
	for (size_t i = 1; i < set->n; i++) {
		if (ix_cmp(&set->keys[i], &set->keys[out - 1]) != 0)
			set->keys[out++] = set->keys[i];
	}
	set->n = out;
}

int ix_update(st_store *s, MDB_txn *txn, st_kind k, const ProtobufCMessage *old, const ProtobufCMessage *rec,
              ar_arena *a, st_err *err)
{
	ix_set was = {.a = a}, now = {.a = a};
	ix_collect(k, old, &was);
	ix_collect(k, rec, &now);
	ix_sort(&was);
	ix_sort(&now);
	size_t i = 0, j = 0;
	int rc = ANNALS_OK;
	while (rc == ANNALS_OK && (i < was.n || j < now.n)) {
		int c = i == was.n ? 1 : j == now.n ? -1 : ix_cmp(&was.keys[i], &now.keys[j]);
		if (c < 0)
			rc = ix_apply(s, txn, &was.keys[i++], false, err);
		else if (c > 0)
			rc = ix_apply(s, txn, &now.keys[j++], true, err);
		else
			i++, j++; /* in both: leave it */
	}
	if (rc == ANNALS_OK)
		rc = pf_update(s, txn, old, rec, a, err); /* keys with values: its own merge */
	return rc;
}

void ix_keys_of(st_kind k, const ProtobufCMessage *rec, ar_arena *a, ix_key_fn fn, void *ctx)
{
	ix_set set = {.a = a};
	ix_collect(k, rec, &set);
	ix_sort(&set);
	for (size_t i = 0; i < set.n; i++)
		fn(ctx, set.keys[i].db, set.keys[i].b, set.keys[i].n);
}

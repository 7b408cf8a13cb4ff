/*
 * cl_ — the change log: one ChangeSet per revision, the replayable record
 * of what each logical write did (the later cluster mode ships exactly
 * these). Value layout: be64 committed_ms, then the packed ChangeSet; the
 * time prefix lets retention by age look at the oldest entry without
 * unpacking it. Retention (changes_keep, changes_age_ms) is applied a
 * little per group commit, and the newest change set is always kept, so
 * "oldest" is 0 only in a store that was never written.
 */
#include <assert.h>
#include <string.h>

#include "common/hash.h"
#include "store/store_int.h"

static size_t cl_hash(const char *s)
{
	return (size_t)hash_fnv1a(HASH_FNV1A_INIT, s, strlen(s));
}

static void cl_insert(st_wctx *c, size_t index)
{
	size_t mask = c->cl_cap - 1;
	size_t i = cl_hash(c->cs->changes[index]->id) & mask;
	while (c->cl_slots[i] != 0)
		i = (i + 1) & mask;
	c->cl_slots[i] = index + 1;
}

/* Brings the index up to date with cs->changes (growing it as needed). */
static void cl_sync(st_wctx *c)
{
	const Annals__V1__ChangeSet *cs = c->cs;
	if (c->cl_cs != cs || c->cl_cap < 2 * (cs->n_changes + 1)) {
		size_t cap = 64;
		while (cap < 4 * (cs->n_changes + 1))
			cap *= 2;
		c->cl_slots = ar_alloc(c->a, cap * sizeof(size_t));
		c->cl_cap = cap;
		c->cl_cs = cs;
		c->cl_n = 0;
	}
	for (; c->cl_n < cs->n_changes; c->cl_n++)
		cl_insert(c, c->cl_n);
}

static Annals__V1__Change *cl_find(st_wctx *c, const char *id)
{
	Annals__V1__ChangeSet *cs = c->cs;
	if (cs->n_changes < 16) { /* small sets: a scan is cheaper than an index */
		for (size_t i = 0; i < cs->n_changes; i++)
			if (strcmp(cs->changes[i]->id, id) == 0)
				return cs->changes[i];
		return NULL;
	}
	cl_sync(c);
	size_t mask = c->cl_cap - 1;
	for (size_t i = cl_hash(id) & mask; c->cl_slots[i] != 0; i = (i + 1) & mask) {
		Annals__V1__Change *ch = cs->changes[c->cl_slots[i] - 1];
		if (strcmp(ch->id, id) == 0)
			return ch;
	}
	return NULL;
}

void cl_note(st_wctx *c, st_kind k, const char *id, ProtobufCMessage *rec)
{
	Annals__V1__ChangeSet *cs = c->cs;
	/* One change per record and revision: a later step of the same logical
	 * write (a Batch, a re-resolution) replaces the earlier one. */
	Annals__V1__Change *ch = cl_find(c, id);
	if (ch == NULL) {
		ch = AR_NEW(c->a, Annals__V1__Change, ANNALS__V1__CHANGE__INIT);
		ch->id = ar_strdup(c->a, id);
		AR_PUSH(c->a, cs->changes, cs->n_changes, ch);
	}
	ch->kind = (Annals__V1__RecordKind)k;
	ch->deleted = rec == NULL;
	ch->record_case = ANNALS__V1__CHANGE__RECORD__NOT_SET;
	if (rec == NULL)
		return;
	switch (k) {
	case ST_ENTITY:
		ch->record_case = ANNALS__V1__CHANGE__RECORD_ENTITY;
		ch->entity = (Annals__V1__Entity *)rec;
		break;
	case ST_EVENT:
		ch->record_case = ANNALS__V1__CHANGE__RECORD_EVENT;
		ch->event = (Annals__V1__Event *)rec;
		break;
	case ST_RELATION:
		ch->record_case = ANNALS__V1__CHANGE__RECORD_RELATION;
		ch->relation = (Annals__V1__Relation *)rec;
		break;
	case ST_DOCUMENT:
		ch->record_case = ANNALS__V1__CHANGE__RECORD_DOCUMENT;
		ch->document = (Annals__V1__Document *)rec;
		break;
	}
}

int cl_append(st_wctx *c)
{
	Annals__V1__ChangeSet *cs = c->cs;
	assert(cs->n_changes > 0);
	cs->revision = c->revision;
	cs->committed_ms = c->now_ms;
	cs->request_id = (char *)(c->request_id ? c->request_id : "");
	size_t n = protobuf_c_message_get_packed_size(&cs->base);
	uint8_t *buf = ar_alloc(c->a, n + 8);
	wr_be64(buf, (uint64_t)c->now_ms);
	protobuf_c_message_pack(&cs->base, buf + 8);
	st_key k;
	key_init(&k);
	key_be64(&k, c->revision);
	MDB_val key = key_val(&k), val = {n + 8, buf};
	/* revisions only grow, so every change set goes at the end */
	int rc = mdb_put(c->txn, c->s->dbi[DB_CHANGES], &key, &val, MDB_APPEND);
	return rc == MDB_SUCCESS ? ANNALS_OK : st_mdb_status(rc, c->err, "change log");
}

/* A change set's value begins with its commit time (ms). */
static int cl_age(const MDB_val *key, const MDB_val *val, int64_t *ms)
{
	(void)key;
	if (val->mv_size < 8)
		return 0;
	*ms = (int64_t)rd_be64(val->mv_data);
	return 1;
}

int cl_prune(st_store *s, MDB_txn *txn, int64_t now_ms, size_t budget, st_err *err)
{
	st_prune p = {.what = "change log prune",
	              .counted = s->dbi[DB_CHANGES],
	              .oldest_first = s->dbi[DB_CHANGES],
	              .keep = s->opt.changes_keep,
	              .keep_at_least = 1, /* the newest stays: it says where the log stands */
	              .cutoff_ms =
	                  s->opt.changes_age_ms ? now_ms - (int64_t)s->opt.changes_age_ms : INT64_MIN,
	              .age = cl_age};
	return st_prune_run(s, txn, &p, budget, err);
}

/* ---- reading --------------------------------------------------------------------- */

int st_scan_changes(st_txn *t, uint64_t since, st_change_fn fn, void *ctx)
{
	assert(t->active);
	if (since == UINT64_MAX)
		return ANNALS_OK;
	st_key start;
	key_init(&start);
	key_be64(&start, since + 1);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_CHANGES], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "changes");
	MDB_val key = key_val(&start), val;
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS) {
		if (key.mv_size == 8 && val.mv_size >= 8 &&
		    fn(ctx, rd_be64(key.mv_data), (const uint8_t *)val.mv_data + 8, val.mv_size - 8) != 0)
			break;
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, NULL, "changes");
	return ANNALS_OK;
}

uint64_t st_oldest_change(st_txn *t)
{
	assert(t->active);
	MDB_cursor *cur;
	if (mdb_cursor_open(t->txn, t->s->dbi[DB_CHANGES], &cur) != MDB_SUCCESS)
		return 0;
	MDB_val key, val;
	uint64_t oldest = 0;
	if (mdb_cursor_get(cur, &key, &val, MDB_FIRST) == MDB_SUCCESS && key.mv_size == 8)
		oldest = rd_be64(key.mv_data);
	mdb_cursor_close(cur);
	return oldest;
}

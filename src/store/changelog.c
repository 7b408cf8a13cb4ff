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
#include <stddef.h>
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

/* The index of id's change in the set, or -1. */
static ptrdiff_t cl_find(st_wctx *c, const char *id)
{
	Annals__V1__ChangeSet *cs = c->cs;
	if (cs->n_changes < 16) { /* small sets: a scan is cheaper than an index */
		for (size_t i = 0; i < cs->n_changes; i++)
			if (strcmp(cs->changes[i]->id, id) == 0)
				return (ptrdiff_t)i;
		return -1;
	}
	cl_sync(c);
	size_t mask = c->cl_cap - 1;
	for (size_t i = cl_hash(id) & mask; c->cl_slots[i] != 0; i = (i + 1) & mask) {
		size_t at = c->cl_slots[i] - 1;
		if (strcmp(cs->changes[at]->id, id) == 0)
			return (ptrdiff_t)at;
	}
	return -1;
}

/* Room for the packed record of change `at` (cl_bytes grows with the set). */
static void cl_keep_bytes(st_wctx *c, size_t at, const uint8_t *packed, size_t len)
{
	if (at >= c->cl_bytes_cap) {
		size_t cap = c->cl_bytes_cap ? 2 * c->cl_bytes_cap : 16;
		while (cap <= at)
			cap *= 2;
		ProtobufCBinaryData *grown = ar_alloc(c->a, cap * sizeof(*grown));
		if (c->cl_bytes_cap)
			memcpy(grown, c->cl_bytes, c->cl_bytes_cap * sizeof(*grown));
		c->cl_bytes = grown;
		c->cl_bytes_cap = cap;
	}
	c->cl_bytes[at] = (ProtobufCBinaryData){len, (uint8_t *)packed};
}

void cl_note(st_wctx *c, st_kind k, const char *id, ProtobufCMessage *rec, const uint8_t *packed, size_t len)
{
	Annals__V1__ChangeSet *cs = c->cs;
	/* One change per record and revision: a later step of the same logical
	 * write (a Batch, a re-resolution) replaces the earlier one. */
	ptrdiff_t at = cl_find(c, id);
	Annals__V1__Change *ch;
	if (at < 0) {
		ch = AR_NEW(c->a, Annals__V1__Change, ANNALS__V1__CHANGE__INIT);
		ch->id = ar_strdup(c->a, id);
		at = (ptrdiff_t)cs->n_changes;
		AR_PUSH(c->a, cs->changes, cs->n_changes, ch);
	} else {
		ch = cs->changes[at];
	}
	ch->kind = (Annals__V1__RecordKind)k;
	ch->deleted = rec == NULL;
	ch->record_case = ANNALS__V1__CHANGE__RECORD__NOT_SET;
	cl_keep_bytes(c, (size_t)at, packed, rec != NULL ? len : 0);
}

/* ---- the stored ChangeSet, written by hand --------------------------------------- */

/* The records are packed already (wr_store): the ChangeSet's bytes are
 * laid out around them as protobuf-c would (fields in number order,
 * defaults left out), instead of packing every record a second time.
 * tests/unit/test_store.c unpacks them with protobuf-c and compares. */
enum { CL_LEN = 2, CL_VARINT = 0 };

static size_t cl_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80)
		v >>= 7, n++;
	return n;
}

static uint8_t *cl_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint8_t *cl_tag(uint8_t *p, unsigned field, unsigned wire)
{
	return cl_varint(p, (uint64_t)(field << 3 | wire));
}

/* A length-delimited field: tag, length, bytes (tags here are one byte). */
static size_t cl_len_size(size_t n)
{
	return 1 + cl_varint_size(n) + n;
}

static uint8_t *cl_bytes_field(uint8_t *p, unsigned field, const void *b, size_t n)
{
	p = cl_tag(p, field, CL_LEN);
	p = cl_varint(p, n);
	memcpy(p, b, n);
	return p + n;
}

/* Change: kind = 1, id = 2, deleted = 3, the record = 4..7 by kind. */
static size_t cl_change_size(const Annals__V1__Change *ch, const ProtobufCBinaryData *rec)
{
	size_t idn = strlen(ch->id);
	size_t n = ch->kind ? 1 + cl_varint_size((uint64_t)ch->kind) : 0;
	n += idn ? cl_len_size(idn) : 0;
	n += ch->deleted ? 2 : cl_len_size(rec->len);
	return n;
}

static uint8_t *cl_change(uint8_t *p, const Annals__V1__Change *ch, const ProtobufCBinaryData *rec)
{
	if (ch->kind) {
		p = cl_tag(p, 1, CL_VARINT);
		p = cl_varint(p, (uint64_t)ch->kind);
	}
	size_t idn = strlen(ch->id);
	if (idn)
		p = cl_bytes_field(p, 2, ch->id, idn);
	if (ch->deleted) {
		p = cl_tag(p, 3, CL_VARINT);
		*p++ = 1;
	} else {
		p = cl_bytes_field(p, 4 + (unsigned)ch->kind - ST_ENTITY, rec->data, rec->len);
	}
	return p;
}

/* ChangeSet: revision = 1, committed_ms = 2, request_id = 3, changes = 4
 * (part and parts are the PUB socket's, never stored). */
static uint8_t *cl_pack(st_wctx *c, size_t *len)
{
	const Annals__V1__ChangeSet *cs = c->cs;
	size_t rid = strlen(cs->request_id);
	size_t n = 0;
	n += cs->revision ? 1 + cl_varint_size(cs->revision) : 0;
	n += cs->committed_ms ? 1 + cl_varint_size((uint64_t)cs->committed_ms) : 0;
	n += rid ? cl_len_size(rid) : 0;
	size_t *sizes = ar_alloc(c->a, cs->n_changes * sizeof(size_t));
	for (size_t i = 0; i < cs->n_changes; i++) {
		sizes[i] = cl_change_size(cs->changes[i], &c->cl_bytes[i]);
		n += 1 + cl_varint_size(sizes[i]) + sizes[i];
	}
	uint8_t *buf = ar_alloc(c->a, n + 8), *p = buf + 8;
	wr_be64(buf, (uint64_t)c->now_ms);
	if (cs->revision) {
		p = cl_tag(p, 1, CL_VARINT);
		p = cl_varint(p, cs->revision);
	}
	if (cs->committed_ms) {
		p = cl_tag(p, 2, CL_VARINT);
		p = cl_varint(p, (uint64_t)cs->committed_ms);
	}
	if (rid)
		p = cl_bytes_field(p, 3, cs->request_id, rid);
	for (size_t i = 0; i < cs->n_changes; i++) {
		p = cl_tag(p, 4, CL_LEN);
		p = cl_varint(p, sizes[i]);
		p = cl_change(p, cs->changes[i], &c->cl_bytes[i]);
	}
	assert((size_t)(p - buf) == n + 8);
	*len = n + 8;
	return buf;
}

int cl_append(st_wctx *c)
{
	Annals__V1__ChangeSet *cs = c->cs;
	assert(cs->n_changes > 0);
	cs->revision = c->revision;
	cs->committed_ms = c->now_ms;
	cs->request_id = (char *)(c->request_id ? c->request_id : "");
	size_t n;
	uint8_t *buf = cl_pack(c, &n);
	st_key k;
	key_init(&k);
	key_be64(&k, c->revision);
	MDB_val key = key_val(&k), val = {n, buf};
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
	dp_read_prefix(t, DB_CHANGES, NULL, 0);
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
	dp_read_prefix(t, DB_CHANGES, NULL, 0);
	if (mdb_cursor_open(t->txn, t->s->dbi[DB_CHANGES], &cur) != MDB_SUCCESS)
		return 0;
	MDB_val key, val;
	uint64_t oldest = 0;
	if (mdb_cursor_get(cur, &key, &val, MDB_FIRST) == MDB_SUCCESS && key.mv_size == 8)
		oldest = rd_be64(key.mv_data);
	mdb_cursor_close(cur);
	return oldest;
}

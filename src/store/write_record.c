/*
 * wr_ — putting and deleting one record inside a logical write's txn:
 * uniqueness of ids across kinds, guards, unchanged detection, date
 * resolution, indexes, the change note, and re-resolution of dependents.
 *
 * Pointers returned by reads inside a write txn are valid only until the
 * next write in it, so every stored record is unpacked (into the arena)
 * before anything is written.
 */
#include <string.h>

#include "common/date.h"
#include "store/store_int.h"

/* Another kind already using the id? Ids are unique across kinds so that a
 * bare id (in evidence, anchors, "Evidence(id)") names one record. */
static int wr_check_unique(st_wctx *c, st_kind k, const char *id)
{
	for (int other = ST_ENTITY; other <= ST_DOCUMENT; other++) {
		const uint8_t *data;
		size_t len;
		if (other == (int)k || st_get(&c->rd, (st_kind)other, id, &data, &len) != ANNALS_OK)
			continue;
		return st_errf(c->err, ANNALS_ALREADY_EXISTS,
		               "%s '%s': the id is already used by %s '%s' (ids are unique across kinds)",
		               rec_kind_name(k), id, rec_kind_name((st_kind)other), id);
	}
	return ANNALS_OK;
}

static int wr_check_guard(st_wctx *c, st_kind k, const char *id, const Annals__V1__Guard *g, uint64_t stored)
{
	if (g == NULL || g->revision == stored)
		return ANNALS_OK;
	return st_errf(c->err, ANNALS_FAILED_PRECONDITION,
	               "%s '%s': guard revision %llu does not match the stored revision %llu%s",
	               rec_kind_name(k), id, (unsigned long long)g->revision, (unsigned long long)stored,
	               stored == 0 ? " (no such record)" : "");
}

/* The stored record, unpacked, or NULL (absent); its revision in *rev. */
static int wr_load(st_wctx *c, st_kind k, const char *id, ProtobufCMessage **old, const uint8_t **data,
                   size_t *len, uint64_t *rev)
{
	*old = NULL;
	*rev = 0;
	int rc = st_get(&c->rd, k, id, data, len);
	if (rc == ANNALS_NOT_FOUND)
		return ANNALS_OK;
	if (rc != ANNALS_OK)
		return st_errf(c->err, rc, "%s '%s': read failed", rec_kind_name(k), id);
	*old = rec_unpack(k, *data, *len, c->a);
	if (*old == NULL)
		return st_errf(c->err, ANNALS_DATA_LOSS, "%s '%s': stored record does not parse",
		               rec_kind_name(k), id);
	*rev = *rec_revision(*old);
	return ANNALS_OK;
}

/* The widest event date range ever stored, so ListEvents can start its
 * time scan at from - span and still see every overlapping event. */
static int wr_note_span(st_wctx *c, const Annals__V1__Event *e)
{
	int32_t lo, hi;
	uint64_t span;
	if (!date_range(e->when, &lo, &hi))
		return ANNALS_OK;
	int rc = st_meta_get_u64(c->s, c->txn, "event_span", &span);
	if (rc == ANNALS_OK && (uint64_t)(hi - lo) > span)
		rc = st_meta_put_u64(c->s, c->txn, "event_span", (uint64_t)(hi - lo));
	return rc == ANNALS_OK ? rc : st_errf(c->err, rc, "store: meta event_span");
}

int wr_store(st_wctx *c, st_kind k, ProtobufCMessage *rec, const ProtobufCMessage *old)
{
	*rec_revision(rec) = c->revision;
	size_t n;
	uint8_t *packed = rec_pack(rec, &n, c->a);
	const char *id = rec_id(rec);
	MDB_val key = {strlen(id), (void *)id}, val = {n, packed};
	c->mutated = true;
	int rc = dp_put(c->s, c->txn, rec_dbi(k), &key, &val, 0);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, c->err, "put");
	rc = ix_update(c->s, c->txn, k, old, rec, c->a, c->err);
	if (rc == ANNALS_OK && k == ST_EVENT)
		rc = wr_note_span(c, (const Annals__V1__Event *)rec);
	if (rc == ANNALS_OK)
		cl_note(c, k, id, rec, packed, n);
	return rc;
}

/* A mutable deep copy (pack + unpack into the arena): the request is the
 * caller's and stays untouched. */
static ProtobufCMessage *wr_copy(st_wctx *c, st_kind k, const ProtobufCMessage *in)
{
	size_t n;
	uint8_t *packed = rec_pack(in, &n, c->a);
	return rec_unpack(k, packed, n, c->a);
}

int wr_put(st_wctx *c, st_kind k, const ProtobufCMessage *in, const Annals__V1__Guard *g, st_result *out)
{
	const char *id = rec_id(in);
	ProtobufCMessage *old;
	const uint8_t *data;
	size_t len;
	uint64_t stored;
	int rc = wr_check_unique(c, k, id);
	if (rc == ANNALS_OK)
		rc = wr_load(c, k, id, &old, &data, &len, &stored);
	if (rc == ANNALS_OK)
		rc = wr_check_guard(c, k, id, g, stored);
	if (rc != ANNALS_OK)
		return rc;
	ProtobufCMessage *rec = wr_copy(c, k, in);
	if (rec == NULL)
		return st_errf(c->err, ANNALS_INTERNAL, "%s '%s': copy failed", rec_kind_name(k), id);
	rs_resolve_record(&c->rd, k, rec, c->a);
	out->id = rec_id(rec);
	if (old != NULL) {
		/* Same bytes as stored (compared at the stored revision): nothing to do. */
		size_t n;
		*rec_revision(rec) = stored;
		const uint8_t *packed = rec_pack(rec, &n, c->a);
		if (n == len && memcmp(packed, data, n) == 0) {
			out->revision = stored;
			out->unchanged = true;
			return ANNALS_OK;
		}
	}
	rc = wr_store(c, k, rec, old);
	if (rc == ANNALS_OK)
		rc = rs_dependents(c, k, id);
	out->revision = c->revision;
	return rc;
}

int wr_delete(st_wctx *c, st_kind k, const char *id, const Annals__V1__Guard *g, st_result *out)
{
	st_kind actual = st_kind_of(&c->rd, id);
	if (k == 0)
		k = actual; /* a Batch RecordRef without a kind: whatever holds the id */
	if (actual == 0 || actual != k) {
		if (actual == 0)
			return st_errf(c->err, ANNALS_NOT_FOUND, "%s '%s' not found",
			               k ? rec_kind_name(k) : "record", id);
		return st_errf(c->err, ANNALS_NOT_FOUND, "%s '%s' not found (the id is %s %s)",
		               rec_kind_name(k), id, actual == ST_ENTITY || actual == ST_EVENT ? "an" : "a",
		               rec_kind_name(actual));
	}
	ProtobufCMessage *old;
	const uint8_t *data;
	size_t len;
	uint64_t stored;
	int rc = wr_load(c, k, id, &old, &data, &len, &stored);
	if (rc == ANNALS_OK)
		rc = wr_check_guard(c, k, id, g, stored);
	if (rc != ANNALS_OK)
		return rc;
	MDB_val key = {strlen(id), (void *)id};
	c->mutated = true;
	int mrc = dp_del(c->s, c->txn, rec_dbi(k), &key);
	if (mrc != MDB_SUCCESS)
		return st_mdb_status(mrc, c->err, "delete");
	rc = ix_update(c->s, c->txn, k, old, NULL, c->a, c->err);
	if (rc != ANNALS_OK)
		return rc;
	const char *kept_id = rec_id(old); /* arena copy: id may be the caller's */
	cl_note(c, k, kept_id, NULL, NULL, 0);
	out->id = kept_id;
	out->revision = c->revision;
	return rs_dependents(c, k, kept_id);
}

/*
 * pf_build_index — ix_pubfloor for a store written before it existed.
 * Opening creates the empty DBI; until meta "ix_pubfloor" says it covers
 * every record, derived publication bounds would miss records. So the
 * first open by this version reads every entity, event and relation once
 * and adds its keys, in one txn with the mark (a crash leaves neither, and
 * the next open does it again). New stores get the mark at once.
 */
#include "store/pubfloor.h"

#define PF_MARK             "ix_pubfloor"
#define PF_MARK_FLAGS_FIXED 2 /* the mark's value once built with right flags */

typedef struct pf_build {
	st_store *s;
	MDB_txn *txn;
	int rc;
	st_err *err;
} pf_build;

static void pf_build_cb(void *ctx, const st_key *k, const uint8_t *v, size_t n)
{
	pf_build *b = ctx;
	if (b->rc != ANNALS_OK)
		return;
	MDB_val key = key_val(k), val = {n, (void *)v};
	int rc = mdb_put(b->txn, b->s->dbi[DB_PUBFLOOR], &key, &val, 0);
	if (rc != MDB_SUCCESS)
		b->rc = st_mdb_status(rc, b->err, "ix_pubfloor build");
}

static int pf_build_record(void *ctx, ProtobufCMessage *rec, ar_arena *a)
{
	pf_build *b = ctx;
	pf_entries(rec, rec_id(rec), a, pf_build_cb, b);
	return b->rc;
}

static int pf_build_kind(st_store *s, MDB_txn *txn, st_kind k, uint64_t *n, st_err *err)
{
	pf_build b = {.s = s, .txn = txn, .rc = ANNALS_OK, .err = err};
	return st_each_record(s, txn, k, pf_build_record, &b, n, "ix_pubfloor build", err);
}

int pf_build_index(st_store *s, MDB_txn *txn, uint64_t *built, st_err *err)
{
	*built = 0;
	uint64_t mark = 0;
	int rc = st_meta_get_u64(s, txn, PF_MARK, &mark);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "store: meta %s", PF_MARK);
	/* 1: built, but pf_update until this change stored the flags byte of 'a'
	 * entries it wrote from a dead stack slot (an event's PF_EVENT could be
	 * lost): rebuilt once, which rewrites every entry's value (the keys
	 * were right) */
	if (mark >= PF_MARK_FLAGS_FIXED)
		return ANNALS_OK;
	static const st_kind kinds[] = {ST_ENTITY, ST_EVENT, ST_RELATION}; /* a document offers nothing */
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && rc == ANNALS_OK; i++)
		rc = pf_build_kind(s, txn, kinds[i], built, err);
	if (rc == ANNALS_OK && st_meta_put_u64(s, txn, PF_MARK, PF_MARK_FLAGS_FIXED) != ANNALS_OK)
		rc = st_errf(err, ANNALS_INTERNAL, "store: meta %s", PF_MARK);
	return rc;
}

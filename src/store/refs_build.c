/*
 * rf_build_index — ix_refs for a store written before it existed. Opening
 * creates the empty DBI; until meta "ix_refs" says it covers every record
 * (in this layout: RF_LAYOUT), deletes could not find their referrers. So the first open by this
 * version reads every record once and adds its reference keys, in one
 * txn with the mark (a crash leaves neither, and the next open does it
 * again). New stores get the mark at once and pay nothing.
 */
#include <string.h>

#include "store/refs.h"

#define RF_MARK "ix_refs"
/* The mark's value: the layout it was built with. 2: without the fields
 * rf_field_in_other_index names. */
#define RF_LAYOUT 2

typedef struct rf_build {
	st_store *s;
	MDB_txn *txn;
	const char *id;
	int rc;
	st_err *err;
} rf_build;

static int rf_build_cb(void *ctx, const rf_field *f, const rf_path *path, const char *value)
{
	(void)path;
	rf_build *b = ctx;
	if (rf_field_in_other_index(f))
		return 0; /* as ix_update: another index keys it */
	st_key k;
	key_init(&k);
	key_str(&k, value);
	key_sep(&k);
	key_str(&k, b->id);
	MDB_val key = key_val(&k), val = {0, NULL};
	int rc = mdb_put(b->txn, b->s->dbi[DB_REFS], &key, &val, 0);
	if (rc != MDB_SUCCESS)
		b->rc = st_mdb_status(rc, b->err, "ix_refs build");
	return rc != MDB_SUCCESS;
}

static int rf_build_record(void *ctx, ProtobufCMessage *rec, ar_arena *a)
{
	(void)a;
	rf_build *b = ctx;
	b->id = rec_id(rec);
	rf_walk(rec, rf_build_cb, b);
	return b->rc;
}

static int rf_build_kind(st_store *s, MDB_txn *txn, st_kind k, uint64_t *n, st_err *err)
{
	rf_build b = {.s = s, .txn = txn, .rc = ANNALS_OK, .err = err};
	return st_each_record(s, txn, k, rf_build_record, &b, n, "ix_refs build", err);
}

int rf_build_index(st_store *s, MDB_txn *txn, uint64_t *built, st_err *err)
{
	*built = 0;
	uint64_t mark = 0;
	int rc = st_meta_get_u64(s, txn, RF_MARK, &mark);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "store: meta %s", RF_MARK);
	if (mark == RF_LAYOUT)
		return ANNALS_OK;
	/* layout 1 also held the references other indexes key (refs_fields.c):
	 * start again, or rewrites would leave those entries behind */
	int mrc = mark != 0 ? mdb_drop(txn, s->dbi[DB_REFS], 0) : MDB_SUCCESS;
	if (mrc != MDB_SUCCESS)
		return st_mdb_status(mrc, err, "ix_refs drop");
	static const st_kind kinds[] = {ST_ENTITY, ST_EVENT, ST_RELATION, ST_DOCUMENT};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && rc == ANNALS_OK; i++)
		rc = rf_build_kind(s, txn, kinds[i], built, err);
	if (rc == ANNALS_OK && st_meta_put_u64(s, txn, RF_MARK, RF_LAYOUT) != ANNALS_OK)
		rc = st_errf(err, ANNALS_INTERNAL, "store: meta %s", RF_MARK);
	return rc;
}

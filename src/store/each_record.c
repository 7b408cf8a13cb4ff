/*
 * st_each_record — every stored record of a kind, unpacked, in id order.
 * What building a derived index at open needs (refs_build.c, pubfloor_
 * build.c): one pass over a table inside the caller's write txn, an arena
 * reset per record so the pass holds one record at a time, and a record
 * that does not parse reported as DATA_LOSS rather than skipped (an index
 * built without it would be silently incomplete).
 */
#include "store/store_int.h"

int st_each_record(st_store *s, MDB_txn *txn, st_kind k, st_record_fn fn, void *ctx, uint64_t *n,
                   const char *what, st_err *err)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[rec_dbi(k)], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, what);
	ar_arena a;
	ar_init(&a);
	MDB_val key, val;
	int code = ANNALS_OK;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS && code == ANNALS_OK;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		ar_reset(&a);
		ProtobufCMessage *rec = rec_unpack(k, val.mv_data, val.mv_size, &a);
		if (rec == NULL) {
			code = st_errf(err, ANNALS_DATA_LOSS, "store: a stored %s does not parse (%.*s)",
			               rec_kind_name(k), (int)(key.mv_size < 200 ? key.mv_size : 200),
			               (const char *)key.mv_data);
			break;
		}
		code = fn(ctx, rec, &a);
		++*n;
	}
	ar_free(&a);
	mdb_cursor_close(cur);
	if (code == ANNALS_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
		code = st_mdb_status(rc, err, what);
	return code;
}

/*
 * st_prune_run — the one retention loop of the store's logs. The change
 * log (cl_prune) and the request log (dd_prune) both keep at most `keep`
 * entries and none older than a cut-off, oldest first, a little per group
 * commit (the budget), so a large backlog never makes one commit slow.
 */
#include "store/store_int.h"

int st_prune_run(st_store *s, MDB_txn *txn, const st_prune *p, size_t budget, st_err *err)
{
	MDB_stat ms;
	MDB_cursor *cur;
	int rc = mdb_stat(txn, p->counted, &ms);
	if (rc == MDB_SUCCESS)
		rc = mdb_cursor_open(txn, p->oldest_first, &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, p->what);
	uint64_t count = ms.ms_entries;
	MDB_val key, val;
	while (budget-- > 0 && count > p->keep_at_least) {
		rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
		if (rc != MDB_SUCCESS)
			break;
		int64_t at;
		int aged = p->age(&key, &val, &at);
		if (aged < 0)
			break; /* not an entry this walk understands: leave it */
		bool too_many = count > p->keep;
		bool too_old = aged > 0 && at < p->cutoff_ms;
		if (!too_many && !too_old)
			break;
		if (p->also != NULL && (rc = p->also(s, txn, &key)) != MDB_SUCCESS)
			break;
		rc = mdb_cursor_del(cur, 0);
		if (rc != MDB_SUCCESS)
			break;
		count--;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, err, p->what);
	return ANNALS_OK;
}

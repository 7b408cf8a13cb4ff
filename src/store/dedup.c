/*
 * dd_ — the request log: the answer to every logical write, by request_id.
 *
 * nng's REQ resends an unanswered request (on a timer and on reconnect), and
 * clients retry on timeouts, so the same write can arrive twice. The first
 * answer (code, message, reply body: a packed annals.v1.Reply) is stored in
 * the same commit as the write itself; a resend is answered from here and
 * applies nothing. Entries expire by count (dedup_keep) and age
 * (dedup_age_ms), oldest first via dedup_age, a little per group commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/validate.h"
#include "store/store_int.h"

static MDB_val dd_key(const char *request_id)
{
	MDB_val k = {strlen(request_id), (void *)request_id};
	return k;
}

int dd_lookup(st_store *s, MDB_txn *txn, const char *request_id, st_write *w, st_err *err)
{
	MDB_val key = dd_key(request_id), val;
	int rc = mdb_get(txn, s->dbi[DB_DEDUP], &key, &val);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, "request log");
	Annals__V1__Reply *r = NULL;
	if (val.mv_size >= 8)
		r = annals__v1__reply__unpack(NULL, val.mv_size - 8, (const uint8_t *)val.mv_data + 8);
	if (r == NULL)
		return st_errf(err, ANNALS_DATA_LOSS, "store: request log entry of '%.100s' does not parse",
		               request_id);
	w->code = r->code;
	snprintf(w->msg, sizeof(w->msg), "%s", r->message);
	w->reply = NULL;
	w->reply_len = 0;
	if (r->body.len > 0) {
		w->reply = malloc(r->body.len);
		if (w->reply == NULL)
			abort();
		memcpy(w->reply, r->body.data, r->body.len);
		w->reply_len = r->body.len;
	}
	w->revision = 0;
	w->replayed = true;
	annals__v1__reply__free_unpacked(r, NULL);
	return 1;
}

int dd_store(st_store *s, MDB_txn *txn, const char *request_id, int64_t now_ms, const st_write *w,
             st_err *err)
{
	Annals__V1__Reply r = ANNALS__V1__REPLY__INIT;
	r.code = w->code;
	r.message = (char *)(w->code != ANNALS_OK ? w->msg : "");
	r.body.data = w->reply;
	r.body.len = w->reply_len;
	size_t n = annals__v1__reply__get_packed_size(&r);
	uint8_t *buf = malloc(n + 8);
	if (buf == NULL)
		abort();
	wr_be64(buf, (uint64_t)now_ms);
	annals__v1__reply__pack(&r, buf + 8);
	MDB_val key = dd_key(request_id), val = {n + 8, buf};
	int rc = mdb_put(txn, s->dbi[DB_DEDUP], &key, &val, 0);
	free(buf);
	if (rc == MDB_SUCCESS) {
		st_key age;
		key_init(&age);
		key_be64(&age, (uint64_t)now_ms);
		key_str(&age, request_id);
		MDB_val akey = key_val(&age), empty = {0, NULL};
		rc = mdb_put(txn, s->dbi[DB_DEDUP_AGE], &akey, &empty, 0);
	}
	return rc == MDB_SUCCESS ? ANNALS_OK : st_mdb_status(rc, err, "request log");
}

int dd_prune(st_store *s, MDB_txn *txn, int64_t now_ms, size_t budget, st_err *err)
{
	MDB_stat ms;
	MDB_cursor *cur;
	int rc = mdb_stat(txn, s->dbi[DB_DEDUP], &ms);
	if (rc == MDB_SUCCESS)
		rc = mdb_cursor_open(txn, s->dbi[DB_DEDUP_AGE], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, "request log prune");
	uint64_t count = ms.ms_entries;
	int64_t cutoff = now_ms - (int64_t)s->opt.dedup_age_ms;
	MDB_val key, val;
	while (budget-- > 0) {
		rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
		if (rc != MDB_SUCCESS || key.mv_size < 8)
			break;
		bool too_many = count > s->opt.dedup_keep;
		bool too_old = (int64_t)rd_be64(key.mv_data) < cutoff;
		if (!too_many && !too_old)
			break;
		MDB_val rid = {key.mv_size - 8, (uint8_t *)key.mv_data + 8};
		rc = mdb_del(txn, s->dbi[DB_DEDUP], &rid, NULL);
		if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
			break;
		rc = mdb_cursor_del(cur, 0);
		if (rc != MDB_SUCCESS)
			break;
		count--;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, err, "request log prune");
	return ANNALS_OK;
}

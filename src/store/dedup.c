/*
 * dd_ — the request log: the answer to every logical write, by request_id.
 *
 * nng's REQ resends an unanswered request (on a timer and on reconnect), and
 * clients retry on timeouts, so the same write can arrive twice. The first
 * outcome (code, message, the records it touched: see dd_store's encoding)
 * is stored in the same commit as the write itself; a resend is answered from here and
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

/* An entry's value: the time it was written (8 bytes, ms), then the
 * outcome in the store's own encoding, all integers big-endian:
 *   version 1 (1 byte), code (4), message length (2), message,
 *   after_revision (8), n results (4), then per result: revision (8),
 *   unchanged (1), id length (2), id.
 * The version byte can never begin a packed protobuf message (it would be
 * field 0), which is how entries of annals 0.1 — a packed annals.v1.Reply
 * whose body was the reply — are told apart and still answered. */
#define DD_VERSION 1

static void dd_put32(uint8_t **p, uint32_t v)
{
	(*p)[0] = (uint8_t)(v >> 24), (*p)[1] = (uint8_t)(v >> 16), (*p)[2] = (uint8_t)(v >> 8),
	(*p)[3] = (uint8_t)v;
	*p += 4;
}

static void dd_put16(uint8_t **p, size_t v)
{
	(*p)[0] = (uint8_t)(v >> 8), (*p)[1] = (uint8_t)v;
	*p += 2;
}

typedef struct dd_reader {
	const uint8_t *p, *end;
	bool bad;
} dd_reader;

static const uint8_t *dd_take(dd_reader *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *at = r->p;
	r->p += n;
	return at;
}

static uint64_t dd_get(dd_reader *r, size_t n)
{
	const uint8_t *at = dd_take(r, n);
	uint64_t v = 0;
	for (size_t i = 0; at != NULL && i < n; i++)
		v = v << 8 | at[i];
	return v;
}

static int dd_decode(dd_reader *r, st_write *w)
{
	w->code = (int)(int32_t)dd_get(r, 4);
	size_t mlen = (size_t)dd_get(r, 2);
	const uint8_t *msg = dd_take(r, mlen);
	snprintf(w->msg, sizeof(w->msg), "%.*s", msg ? (int)mlen : 0, msg ? (const char *)msg : "");
	w->after_revision = dd_get(r, 8);
	size_t n = (size_t)dd_get(r, 4);
	if (r->bad || n > (size_t)(r->end - r->p) / 11)
		return -1;
	/* one block, as st_apply makes it: the results, then their ids */
	size_t bytes = n * sizeof(st_result) + (size_t)(r->end - r->p);
	w->results = malloc(bytes ? bytes : 1);
	if (w->results == NULL)
		abort();
	char *ids = (char *)(w->results + n);
	for (size_t i = 0; i < n; i++) {
		w->results[i].revision = dd_get(r, 8);
		w->results[i].unchanged = dd_get(r, 1) != 0;
		size_t idlen = (size_t)dd_get(r, 2);
		const uint8_t *id = dd_take(r, idlen);
		if (id == NULL)
			return -1;
		memcpy(ids, id, idlen);
		ids[idlen] = '\0';
		w->results[i].id = ids;
		ids += idlen + 1;
	}
	w->n_results = n;
	return r->bad ? -1 : 0;
}

/* annals 0.1's entries: a packed Reply; its body is kept as it is. */
static int dd_decode_legacy(const uint8_t *data, size_t len, st_write *w)
{
	Annals__V1__Reply *r = annals__v1__reply__unpack(NULL, len, data);
	if (r == NULL)
		return -1;
	w->code = r->code;
	snprintf(w->msg, sizeof(w->msg), "%s", r->message);
	if (r->body.len > 0) {
		w->legacy_body = malloc(r->body.len);
		if (w->legacy_body == NULL)
			abort();
		memcpy(w->legacy_body, r->body.data, r->body.len);
		w->legacy_len = r->body.len;
	}
	annals__v1__reply__free_unpacked(r, NULL);
	return 0;
}

int dd_lookup(st_store *s, MDB_txn *txn, const char *request_id, st_write *w, st_err *err)
{
	MDB_val key = dd_key(request_id), val;
	int rc = mdb_get(txn, s->dbi[DB_DEDUP], &key, &val);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, "request log");
	/* A replica forgets by the log's time alone, at lookup, whatever its
	 * pruning has got to (st_options.replicated). */
	if (s->opt.replicated && w->log_time_ms && val.mv_size >= 8 &&
	    (int64_t)rd_be64(val.mv_data) + (int64_t)s->opt.dedup_age_ms < w->log_time_ms)
		return 0;
	st_write_clear(w);
	const uint8_t *data = (const uint8_t *)val.mv_data + 8;
	size_t len = val.mv_size >= 8 ? val.mv_size - 8 : 0;
	int bad = val.mv_size < 9;
	if (!bad && data[0] == DD_VERSION) {
		dd_reader r = {.p = data + 1, .end = data + len};
		bad = dd_decode(&r, w) != 0;
	} else if (!bad) {
		bad = dd_decode_legacy(data, len, w) != 0;
	}
	if (bad) {
		st_write_clear(w);
		return st_errf(err, ANNALS_DATA_LOSS, "store: request log entry of '%.100s' does not parse",
		               request_id);
	}
	w->revision = 0;
	w->replayed = true;
	return 1;
}

int dd_store(st_store *s, MDB_txn *txn, const char *request_id, int64_t now_ms, const st_write *w,
             st_err *err)
{
	const char *msg = w->code != ANNALS_OK ? w->msg : "";
	size_t mlen = strnlen(msg, sizeof(w->msg));
	size_t n = 1 + 4 + 2 + mlen + 8 + 4;
	for (size_t i = 0; i < w->n_results; i++)
		n += 8 + 1 + 2 + strlen(w->results[i].id);
	uint8_t *buf = malloc(n + 8);
	if (buf == NULL)
		abort();
	wr_be64(buf, (uint64_t)now_ms);
	uint8_t *p = buf + 8;
	*p++ = DD_VERSION;
	dd_put32(&p, (uint32_t)w->code);
	dd_put16(&p, mlen);
	memcpy(p, msg, mlen);
	p += mlen;
	wr_be64(p, w->after_revision);
	p += 8;
	dd_put32(&p, (uint32_t)w->n_results);
	for (size_t i = 0; i < w->n_results; i++) {
		size_t idlen = strlen(w->results[i].id);
		wr_be64(p, w->results[i].revision);
		p += 8;
		*p++ = w->results[i].unchanged ? 1 : 0;
		dd_put16(&p, idlen);
		memcpy(p, w->results[i].id, idlen);
		p += idlen;
	}
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

/* dedup_age keys: the time an answer was stored (8 bytes), then its request id. */
static int dd_age(const MDB_val *key, const MDB_val *val, int64_t *ms)
{
	(void)val;
	if (key->mv_size < 8)
		return -1;
	*ms = (int64_t)rd_be64(key->mv_data);
	return 1;
}

/* The answer goes with its age entry. */
static int dd_drop_answer(st_store *s, MDB_txn *txn, const MDB_val *age_key)
{
	MDB_val rid = {age_key->mv_size - 8, (uint8_t *)age_key->mv_data + 8};
	int rc = mdb_del(txn, s->dbi[DB_DEDUP], &rid, NULL);
	return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

int dd_prune(st_store *s, MDB_txn *txn, int64_t now_ms, size_t budget, st_err *err)
{
	st_prune p = {.what = "request log prune",
	              .counted = s->dbi[DB_DEDUP],
	              .oldest_first = s->dbi[DB_DEDUP_AGE],
	              .keep = s->opt.replicated ? UINT64_MAX : s->opt.dedup_keep,
	              .keep_at_least = 0,
	              .cutoff_ms = now_ms - (int64_t)s->opt.dedup_age_ms,
	              .age = dd_age,
	              .also = dd_drop_answer};
	return st_prune_run(s, txn, &p, budget, err);
}

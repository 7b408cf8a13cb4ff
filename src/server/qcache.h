/*
 * qc_ — the reply cache of read queries.
 *
 * A query's answer depends only on its request bytes and the snapshot it
 * reads, and LMDB gives every committed transaction a new id. So the
 * packed reply of a query (Members, Timeline, FindEntities, ...) can be
 * kept under (method, request bytes, snapshot txn id) and sent again to an
 * identical request that reads the same snapshot: the answer is the one
 * the handler would compute, bit for bit.
 *
 * A commit changes the id, but retires only the answers that read what it
 * wrote: each answer keeps the tokens of what it read (store/deps.c), and
 * an answer kept at snapshot T is given to a read of a later snapshot S
 * only when the key's `still` says no commit in (T, S] wrote under those
 * tokens; it is then the answer at S too, and is kept as S's. So a write
 * is still visible to every read that starts after its acknowledgement.
 *
 * A cache is an object the server owns (qc_open/qc_close); within it each
 * thread has its own table (nng's task threads answer reads), so a lookup
 * takes no lock; each table holds at most the configured bytes and is
 * freed when its thread exits or the cache is closed.
 */
#ifndef ANNALS_SERVER_QCACHE_H
#define ANNALS_SERVER_QCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether an answer with these tokens, kept at snapshot since, is the
 * answer at snapshot now too (st_deps_unchanged). */
typedef bool (*qc_still_fn)(void *ctx, const uint64_t *tok, size_t n, uint64_t since, uint64_t now);

typedef struct qc_key {
	int method;
	const uint8_t *body; /* the request message's bytes (the Call's body) */
	size_t len;
	uint64_t txn_id; /* the snapshot the answer was (or would be) read from */
	uint64_t hash;
	qc_still_fn still; /* NULL: an answer is for its own snapshot only */
	void *still_ctx;
} qc_key;

typedef struct qc_cache qc_cache;

/* A cache whose tables hold at most bytes_per_thread each (0: caching
 * off); NULL when out of memory. */
qc_cache *qc_open(size_t bytes_per_thread);
/* Frees every table; no thread may use the cache any more. */
void qc_close(qc_cache *c);
/* Whether answers of this method are cached: its row's ANNALS_M_CACHEABLE
 * flag, with a budget. */
bool qc_cacheable(const qc_cache *c, int method);
/* Fills k->hash; the other fields must be set. */
void qc_key_hash(qc_key *k);
/* The cached reply body for k, or NULL. Valid until this thread's next qc_put. */
const uint8_t *qc_get(qc_cache *c, const qc_key *k, size_t *len);
/* Keeps a copy of a successful reply body for k (when it fits the budget),
 * with the tokens of what it read (n_tok may be 0: then it is only for
 * k's own snapshot, as the still function is never asked). */
void qc_put(qc_cache *c, const qc_key *k, const uint8_t *reply, size_t len, const uint64_t *tok,
            size_t n_tok);

typedef struct qc_counts {
	uint64_t hits, misses, stored, evicted;
	uint64_t kept; /* of the hits, answers kept from an older snapshot (no commit touched them) */
} qc_counts;
/* Totals over all threads (relaxed counters: for metrics, not for logic). */
void qc_counts_get(qc_cache *c, qc_counts *out);
size_t qc_budget(const qc_cache *c);
/* Bytes held by this thread's table (for tests: never above the budget). */
size_t qc_thread_bytes(qc_cache *c);

#endif

/* qc_ — see qcache.h. */
#include "server/qcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/hash.h"

#define QC_SLOTS       1024u /* per thread, a power of two: direct-mapped by hash */

typedef struct qc_entry {
	uint64_t hash, txn_id, epoch;
	int method;
	size_t body_len, reply_len;
	uint8_t bytes[]; /* the request body, then the reply body */
} qc_entry;

typedef struct qc_table {
	qc_entry *slot[QC_SLOTS];
	size_t bytes;  /* held by the entries, headers included */
	unsigned hand; /* the next slot to evict when over budget */
} qc_table;

static size_t qc_budget_bytes;
/* Bumped by every qc_setup, so a table never answers for an earlier
 * server's store (whose txn ids may coincide) in the same process. */
static _Atomic uint64_t qc_epoch;
static pthread_once_t qc_once = PTHREAD_ONCE_INIT;
static pthread_key_t qc_key_tls; /* its destructor frees a thread's table */
static _Thread_local qc_table *qc_tls;
static _Atomic uint64_t qc_n_hits, qc_n_misses, qc_n_stored, qc_n_evicted;

static void qc_table_free(void *p)
{
	qc_table *t = p;
	for (unsigned i = 0; i < QC_SLOTS; i++)
		free(t->slot[i]);
	free(t);
}

static int qc_key_ok;
static void qc_key_create(void)
{
	qc_key_ok = pthread_key_create(&qc_key_tls, qc_table_free) == 0;
}

int qc_setup(size_t bytes_per_thread)
{
	pthread_once(&qc_once, qc_key_create);
	if (!qc_key_ok)
		return -1;
	atomic_fetch_add(&qc_epoch, 1);
	qc_budget_bytes = bytes_per_thread;
	return 0;
}

bool qc_cacheable(int method)
{
	/* the row's ANNALS_M_CACHEABLE: queries that compute (scan, sort,
	 * judge dates, phrase reasons) rather than copy one stored record */
	return qc_budget_bytes > 0 && (env_method_flags(method) & ANNALS_M_CACHEABLE) != 0;
}

size_t qc_budget(void)
{
	return qc_budget_bytes;
}

size_t qc_thread_bytes(void)
{
	return qc_tls ? qc_tls->bytes : 0;
}

/* FNV-1a over the method and the request bytes; the txn id is left out so
 * that a newer answer to the same request lands in the stale one's slot. */
void qc_key_hash(qc_key *k)
{
	k->hash = hash_fnv1a(HASH_FNV1A_INIT ^ (uint64_t)(unsigned)k->method, k->body, k->len);
}

const uint8_t *qc_get(const qc_key *k, size_t *len)
{
	qc_table *t = qc_tls;
	const qc_entry *e = t ? t->slot[k->hash & (QC_SLOTS - 1)] : NULL;
	if (e != NULL && e->hash == k->hash && e->txn_id == k->txn_id && e->method == k->method &&
	    e->body_len == k->len && e->epoch == atomic_load_explicit(&qc_epoch, memory_order_relaxed) &&
	    (k->len == 0 || memcmp(e->bytes, k->body, k->len) == 0)) {
		atomic_fetch_add_explicit(&qc_n_hits, 1, memory_order_relaxed);
		*len = e->reply_len;
		return e->bytes + e->body_len;
	}
	atomic_fetch_add_explicit(&qc_n_misses, 1, memory_order_relaxed);
	return NULL;
}

static qc_table *qc_table_here(void)
{
	if (qc_tls == NULL) {
		qc_table *t = calloc(1, sizeof(*t));
		if (t == NULL || pthread_setspecific(qc_key_tls, t) != 0) {
			free(t);
			return NULL;
		}
		qc_tls = t;
	}
	return qc_tls;
}

static void qc_drop(qc_table *t, unsigned i, bool evicted)
{
	qc_entry *e = t->slot[i];
	if (e == NULL)
		return;
	t->bytes -= sizeof(*e) + e->body_len + e->reply_len;
	free(e);
	t->slot[i] = NULL;
	if (evicted)
		atomic_fetch_add_explicit(&qc_n_evicted, 1, memory_order_relaxed);
}

void qc_put(const qc_key *k, const uint8_t *reply, size_t len)
{
	size_t need = sizeof(qc_entry) + k->len + len;
	/* one answer may take at most a quarter of the budget, so a few big
	 * answers cannot flush everything else */
	if (qc_budget_bytes == 0 || need > qc_budget_bytes / 4)
		return;
	qc_table *t = qc_table_here();
	if (t == NULL)
		return;
	unsigned i = (unsigned)(k->hash & (QC_SLOTS - 1));
	qc_drop(t, i, t->slot[i] != NULL && t->slot[i]->hash != k->hash);
	while (t->bytes + need > qc_budget_bytes) { /* ends: need fits an empty table */
		qc_drop(t, t->hand, true);
		t->hand = (t->hand + 1) & (QC_SLOTS - 1);
	}
	qc_entry *e = malloc(need);
	if (e == NULL)
		return;
	e->hash = k->hash;
	e->txn_id = k->txn_id;
	e->epoch = atomic_load_explicit(&qc_epoch, memory_order_relaxed);
	e->method = k->method;
	e->body_len = k->len;
	e->reply_len = len;
	/* an empty request (ListEntities {}, Digest {}) has no body pointer */
	if (k->len)
		memcpy(e->bytes, k->body, k->len);
	if (len)
		memcpy(e->bytes + k->len, reply, len);
	t->slot[i] = e;
	t->bytes += need;
	atomic_fetch_add_explicit(&qc_n_stored, 1, memory_order_relaxed);
}

void qc_counts_get(qc_counts *out)
{
	out->hits = atomic_load_explicit(&qc_n_hits, memory_order_relaxed);
	out->misses = atomic_load_explicit(&qc_n_misses, memory_order_relaxed);
	out->stored = atomic_load_explicit(&qc_n_stored, memory_order_relaxed);
	out->evicted = atomic_load_explicit(&qc_n_evicted, memory_order_relaxed);
}

/* qc_ — see qcache.h. */
#include "server/qcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/envelope.h"
#include "common/hash.h"

#define QC_SLOTS 1024u /* per thread, a power of two: direct-mapped by hash */

typedef struct qc_entry {
	uint64_t hash, txn_id; /* txn_id: the latest snapshot the answer is known right for */
	int method;
	size_t body_len, reply_len, n_tok;
	uint64_t words[]; /* n_tok tokens, then the request body, then the reply body */
} qc_entry;

static uint8_t *qc_bytes(const qc_entry *e)
{
	return (uint8_t *)(e->words + e->n_tok);
}

static size_t qc_size(size_t body_len, size_t reply_len, size_t n_tok)
{
	return sizeof(qc_entry) + n_tok * sizeof(uint64_t) + body_len + reply_len;
}

typedef struct qc_table {
	qc_entry *slot[QC_SLOTS];
	size_t bytes;  /* held by the entries, headers included */
	unsigned hand; /* the next slot to evict when over budget */
	qc_cache *owner;
	struct qc_table *next; /* on owner->tables */
} qc_table;

/* Everything of one cache lives here, owned by the server that opened it:
 * no process-wide state, so two servers in one process (the tests) never
 * see each other's answers. Each thread finds its own table through the
 * cache's pthread key. */
struct qc_cache {
	size_t budget;
	pthread_key_t key;    /* its destructor frees a thread's table at thread exit */
	pthread_mutex_t lock; /* guards `tables` (taken when a table is made or freed) */
	qc_table *tables;
	_Atomic uint64_t hits, misses, stored, evicted, kept;
};

static void qc_table_unlink(qc_table *t)
{
	qc_cache *c = t->owner;
	pthread_mutex_lock(&c->lock);
	for (qc_table **p = &c->tables; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

static void qc_table_free(qc_table *t)
{
	for (unsigned i = 0; i < QC_SLOTS; i++)
		free(t->slot[i]);
	free(t);
}

static void qc_thread_exit(void *p)
{
	qc_table *t = p;
	qc_table_unlink(t);
	qc_table_free(t);
}

qc_cache *qc_open(size_t bytes_per_thread)
{
	qc_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (pthread_key_create(&c->key, qc_thread_exit) != 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->budget = bytes_per_thread;
	return c;
}

void qc_close(qc_cache *c)
{
	if (c == NULL)
		return;
	/* after the key is gone no thread-exit destructor runs for it: free
	 * every table still held, whichever thread made it */
	pthread_key_delete(c->key);
	while (c->tables != NULL) {
		qc_table *t = c->tables;
		c->tables = t->next;
		qc_table_free(t);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

bool qc_cacheable(const qc_cache *c, int method)
{
	/* the row's ANNALS_M_CACHEABLE: queries that compute (scan, sort,
	 * judge dates, phrase reasons) rather than copy one stored record */
	return c != NULL && c->budget > 0 && (env_method_flags(method) & ANNALS_M_CACHEABLE) != 0;
}

size_t qc_budget(const qc_cache *c)
{
	return c ? c->budget : 0;
}

size_t qc_thread_bytes(qc_cache *c)
{
	qc_table *t = c ? pthread_getspecific(c->key) : NULL;
	return t ? t->bytes : 0;
}

/* FNV-1a over the method and the request bytes; the txn id is left out so
 * that a newer answer to the same request lands in the stale one's slot. */
void qc_key_hash(qc_key *k)
{
	k->hash = hash_fnv1a(HASH_FNV1A_INIT ^ (uint64_t)(unsigned)k->method, k->body, k->len);
}

const uint8_t *qc_get(qc_cache *c, const qc_key *k, size_t *len)
{
	if (c == NULL)
		return NULL;
	qc_table *t = pthread_getspecific(c->key);
	qc_entry *e = t ? t->slot[k->hash & (QC_SLOTS - 1)] : NULL;
	if (e != NULL && e->hash == k->hash && e->method == k->method && e->body_len == k->len &&
	    (k->len == 0 || memcmp(qc_bytes(e), k->body, k->len) == 0)) {
		bool same = e->txn_id == k->txn_id;
		/* an older snapshot's answer that no commit since has touched is
		 * this snapshot's too: keep it as this one's, so the next look-up
		 * asks only about the commits after it */
		bool still = !same && e->txn_id < k->txn_id && e->n_tok > 0 && k->still != NULL &&
		             k->still(k->still_ctx, e->words, e->n_tok, e->txn_id, k->txn_id);
		if (same || still) {
			if (still) {
				e->txn_id = k->txn_id;
				atomic_fetch_add_explicit(&c->kept, 1, memory_order_relaxed);
			}
			atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
			*len = e->reply_len;
			return qc_bytes(e) + e->body_len;
		}
	}
	atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
	return NULL;
}

static qc_table *qc_table_here(qc_cache *c)
{
	qc_table *t = pthread_getspecific(c->key);
	if (t != NULL)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->owner = c;
	if (pthread_setspecific(c->key, t) != 0) {
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	t->next = c->tables;
	c->tables = t;
	pthread_mutex_unlock(&c->lock);
	return t;
}

static void qc_drop(qc_table *t, unsigned i, bool evicted)
{
	qc_entry *e = t->slot[i];
	if (e == NULL)
		return;
	t->bytes -= qc_size(e->body_len, e->reply_len, e->n_tok);
	free(e);
	t->slot[i] = NULL;
	if (evicted)
		atomic_fetch_add_explicit(&t->owner->evicted, 1, memory_order_relaxed);
}

void qc_put(qc_cache *c, const qc_key *k, const uint8_t *reply, size_t len, const uint64_t *tok, size_t n_tok)
{
	size_t need = qc_size(k->len, len, n_tok);
	/* one answer may take at most a quarter of the budget, so a few big
	 * answers cannot flush everything else */
	if (c == NULL || c->budget == 0 || need > c->budget / 4)
		return;
	qc_table *t = qc_table_here(c);
	if (t == NULL)
		return;
	unsigned i = (unsigned)(k->hash & (QC_SLOTS - 1));
	qc_drop(t, i, t->slot[i] != NULL && t->slot[i]->hash != k->hash);
	while (t->bytes + need > c->budget) { /* ends: need fits an empty table */
		qc_drop(t, t->hand, true);
		t->hand = (t->hand + 1) & (QC_SLOTS - 1);
	}
	qc_entry *e = malloc(need);
	if (e == NULL)
		return;
	e->hash = k->hash;
	e->txn_id = k->txn_id;
	e->method = k->method;
	e->body_len = k->len;
	e->reply_len = len;
	e->n_tok = n_tok;
	if (n_tok)
		memcpy(e->words, tok, n_tok * sizeof(*tok));
	/* an empty request (ListEntities {}, Digest {}) has no body pointer */
	if (k->len)
		memcpy(qc_bytes(e), k->body, k->len);
	if (len)
		memcpy(qc_bytes(e) + k->len, reply, len);
	t->slot[i] = e;
	t->bytes += need;
	atomic_fetch_add_explicit(&c->stored, 1, memory_order_relaxed);
}

void qc_counts_get(qc_cache *c, qc_counts *out)
{
	out->hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
	out->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
	out->stored = atomic_load_explicit(&c->stored, memory_order_relaxed);
	out->evicted = atomic_load_explicit(&c->evicted, memory_order_relaxed);
	out->kept = atomic_load_explicit(&c->kept, memory_order_relaxed);
}

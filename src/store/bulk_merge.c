/*
 * bkm_ — the bulk commit's merger: one table's sorted runs merged into key
 * order on a thread of its own, a block of keys at a time, while the writer
 * puts the block before into LMDB (bulk.c). The index phase of a commit was
 * the merge and the puts one after the other on the writer, the second core
 * idle (68 of a 10M-event load's 153 s of commit); now they overlap.
 *
 * The merge: a tournament (loser) tree over the runs, log2(k) comparisons a
 * key where a binary heap takes twice that; 1121 runs per index for a
 * 10M-event load. A run is a stretch of chunks (one a part, sorted by
 * bulk_sort.c) that go on where the one before ended (a load given in id
 * order fills a record table so), then the table's old entries. Between
 * equal keys the lower run wins: the load's before the table's old
 * entries; the merger gives a key once (an index entry two records share,
 * or a record both in the load and the table).
 *
 * Lifecycle (one table):
 *   bkm_start  the runs and the old entries must stay until bkm_stop;
 *   bkm_next   (writer) the next block, valid until the next call; 0 keys
 *              at the end;
 *   bkm_stop   on every path, also before the end (a failed put): stops
 *              the thread where it is and frees everything.
 * Without a thread (none could be started) bkm_next merges each block
 * itself, the same keys in the same order.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/bulk.h"

#define BKM_BLOCKS 4    /* a few blocks ahead: the two sides' pace varies */
#define BKM_BLOCK  8192 /* keys a block: one handover per 8192 puts */
#define BKM_NONE   SIZE_MAX

typedef struct bkm_cursor {
	const bk_key *at, *end; /* in chunks[chunk] */
	const bk_chunk *chunks;
	size_t chunk, chunk_end; /* the run: chunks [chunk, chunk_end), in order */
} bkm_cursor;

typedef struct bkm_block {
	const bk_key *keys[BKM_BLOCK];
	size_t n;
	bool full; /* filled by the merger, not yet given back by the writer */
} bkm_block;

struct bk_feed {
	bkm_cursor *runs;
	size_t k;
	size_t *tree; /* tree[0]: the winner; tree[1..k-1]: the loser at each node */
	const bk_key *prev;
	bool threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool stop;
	bkm_block blocks[BKM_BLOCKS];
	size_t fill, take; /* the merger's next block, the writer's next block */
	bool taken;        /* the writer holds blocks[take - 1] */
};

static void bkm_cursor_next(bkm_cursor *c)
{
	if (++c->at == c->end && c->chunk + 1 < c->chunk_end) {
		c->chunk++;
		c->at = c->chunks[c->chunk].v;
		c->end = c->at + c->chunks[c->chunk].n;
	}
}

/* Whether run a's key goes before run b's (an exhausted run goes last). */
static bool bkm_beats(const bk_feed *m, size_t a, size_t b)
{
	const bkm_cursor *x = &m->runs[a], *y = &m->runs[b];
	if (x->at == x->end)
		return false;
	if (y->at == y->end)
		return true;
	int c = bk_cmp(x->at->b, x->at->n, y->at->b, y->at->n);
	return c < 0 || (c == 0 && a < b);
}

/* Plays run s up from its leaf; during the build a node's first arrival
 * waits there (BKM_NONE) for its sibling's. */
static void bkm_play(bk_feed *m, size_t s, bool building)
{
	size_t winner = s;
	for (size_t t = (s + m->k) / 2; t > 0; t /= 2) {
		if (building && m->tree[t] == BKM_NONE) {
			m->tree[t] = winner;
			return;
		}
		if (bkm_beats(m, m->tree[t], winner)) {
			size_t loser = winner;
			winner = m->tree[t];
			m->tree[t] = loser;
		}
	}
	m->tree[0] = winner;
}

/* The least key left, or NULL. */
static const bk_key *bkm_least(bk_feed *m)
{
	if (m->k == 0)
		return NULL;
	size_t w = m->tree[0];
	bkm_cursor *c = &m->runs[w];
	if (c->at == c->end)
		return NULL;
	const bk_key *k = c->at;
	bkm_cursor_next(c);
	bkm_play(m, w, false);
	return k;
}

/* Up to BKM_BLOCK keys, each once. */
static void bkm_fill(bk_feed *m, bkm_block *b)
{
	b->n = 0;
	const bk_key *k;
	while (b->n < BKM_BLOCK && (k = bkm_least(m)) != NULL) {
		if (m->prev != NULL && bk_cmp(m->prev->b, m->prev->n, k->b, k->n) == 0)
			continue;
		m->prev = k;
		b->keys[b->n++] = k;
	}
}

static void *bkm_main(void *arg)
{
	bk_feed *m = arg;
	pthread_setname_np(pthread_self(), "annals-bkmerge"); /* perf and top -H tell it apart */
	for (;;) {
		bkm_block *b = &m->blocks[m->fill % BKM_BLOCKS];
		pthread_mutex_lock(&m->lock);
		while (b->full && !m->stop)
			pthread_cond_wait(&m->changed, &m->lock);
		bool stop = m->stop;
		pthread_mutex_unlock(&m->lock);
		if (stop)
			break;
		bkm_fill(m, b); /* outside the lock: the writer does not read a block not full */
		pthread_mutex_lock(&m->lock);
		b->full = true;
		m->fill++;
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
		if (b->n == 0) /* the end: an empty block says so */
			break;
	}
	return NULL;
}

bk_feed *bkm_start(const bk_chunk *chunks, size_t n_chunks, const bk_chunk *old)
{
	bk_feed *m = calloc(1, sizeof(*m));
	if (m == NULL)
		abort();
	m->runs = calloc(n_chunks + 2, sizeof(*m->runs));
	m->tree = malloc((n_chunks + 2) * sizeof(*m->tree));
	if (m->runs == NULL || m->tree == NULL)
		abort();
	for (size_t i = 0; i < n_chunks;) {
		size_t j = i + 1;
		while (j < n_chunks &&
		       bk_key_cmp(&chunks[j - 1].v[chunks[j - 1].n - 1], &chunks[j].v[0]) <= 0)
			j++;
		m->runs[m->k++] = (bkm_cursor){chunks[i].v, chunks[i].v + chunks[i].n, chunks, i, j};
		i = j;
	}
	if (old->n > 0)
		m->runs[m->k++] = (bkm_cursor){old->v, old->v + old->n, old, 0, 1};
	for (size_t i = 0; i <= m->k; i++)
		m->tree[i] = BKM_NONE;
	for (size_t s = m->k; s-- > 0;)
		bkm_play(m, s, true);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->changed, NULL);
	/* one run is already in order: nothing to overlap */
	m->threaded = m->k > 1 && pthread_create(&m->thread, NULL, bkm_main, m) == 0;
	return m;
}

const bk_key *const *bkm_next(bk_feed *m, size_t *n)
{
	if (!m->threaded) {
		bkm_fill(m, &m->blocks[0]);
		*n = m->blocks[0].n;
		return m->blocks[0].keys;
	}
	pthread_mutex_lock(&m->lock);
	if (m->taken) { /* the block before is done with: the merger may refill it */
		m->blocks[(m->take - 1) % BKM_BLOCKS].full = false;
		m->taken = false;
		pthread_cond_broadcast(&m->changed);
	}
	bkm_block *b = &m->blocks[m->take % BKM_BLOCKS];
	while (!b->full)
		pthread_cond_wait(&m->changed, &m->lock);
	m->take++;
	m->taken = true;
	pthread_mutex_unlock(&m->lock);
	*n = b->n;
	return b->keys;
}

void bkm_stop(bk_feed *m)
{
	if (m == NULL)
		return;
	if (m->threaded) {
		pthread_mutex_lock(&m->lock);
		m->stop = true;
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->changed);
	free(m->runs);
	free(m->tree);
	free(m);
}

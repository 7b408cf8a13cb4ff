/*
 * bkp_ — a bulk commit's parts made ready ahead of the writer, on a thread
 * of its own: unpacked, and each record's references judged against the
 * load's id set. The commit runs on the writer thread, one core; this
 * takes the part of its work that needs neither the store nor the write
 * transaction to the other core, one part ahead.
 *
 * Lifecycle (one commit):
 *   bkp_start  starts the thread over the load's parts, in order;
 *   bkp_get    (writer) waits for part i, made ready in one of two slots;
 *   bkp_done   (writer) gives its slot back, for part i + 2;
 *   bkp_stop   stops the thread wherever it is and frees everything: the
 *              writer calls it after the last part or on any failure.
 * The load is not changed while its commit runs (the server refuses
 * staging then), so the thread reads its id set without a lock; the
 * writer marks entries written meanwhile, a field the thread never reads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/bulk.h"
#include "store/refs.h"

#define BKP_SLOTS 2

typedef struct bkp_slot {
	ar_arena a;
	bk_ready ready;
	size_t index; /* the part it holds */
	bool full;
} bkp_slot;

struct bk_prep {
	const st_bulk *b;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool stop;
	bkp_slot slot[BKP_SLOTS];
};

/* Stops at the first target not of the load: the writer looks in the store. */
static int bkp_ref_cb(void *ctx, const rf_field *f, const rf_path *path, const char *value)
{
	(void)path;
	const st_bulk *b = ctx;
	rf_targets t;
	rf_targets_of(f, value, &t);
	for (size_t i = 0; i < t.n; i++)
		if (bk_kind_in_load(b, t.id[i]) == t.want)
			return 0;
	return 1;
}

static void bkp_fill(bk_prep *p, bkp_slot *s, size_t index)
{
	const ProtobufCBinaryData *bytes = &p->b->parts[index];
	s->ready = (bk_ready){0};
	s->index = index;
	if (bytes->data == NULL)
		return;
	Annals__V1__BulkLoadRequest *part =
	    annals__v1__bulk_load_request__unpack(ar_pbc(&s->a), bytes->len, bytes->data);
	if (part == NULL)
		return;
	s->ready.part = part;
	bk_list lists[BK_LISTS];
	bk_lists_of(part, lists);
	for (int l = 0; l < BK_LISTS; l++) {
		s->ready.refs_in_load[l] = ar_alloc(&s->a, lists[l].n ? lists[l].n : 1);
		for (size_t i = 0; i < lists[l].n; i++)
			s->ready.refs_in_load[l][i] =
			    rf_walk(lists[l].items[i], bkp_ref_cb, (void *)p->b) == 0;
	}
}

static void *bkp_main(void *arg)
{
	bk_prep *p = arg;
	pthread_setname_np(pthread_self(), "annals-bkprep"); /* perf and top -H tell it apart */
	for (size_t i = 0; i < p->b->n_parts; i++) {
		bkp_slot *s = &p->slot[i % BKP_SLOTS];
		pthread_mutex_lock(&p->lock);
		while (s->full && !p->stop)
			pthread_cond_wait(&p->changed, &p->lock);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		ar_reset(&s->a);
		bkp_fill(p, s, i); /* outside the lock: the slot is not the writer's */
		pthread_mutex_lock(&p->lock);
		s->full = true;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

bk_prep *bkp_start(const st_bulk *b)
{
	bk_prep *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->b = b;
	for (int i = 0; i < BKP_SLOTS; i++)
		ar_init(&p->slot[i].a);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	if (pthread_create(&p->thread, NULL, bkp_main, p) != 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->changed);
		free(p);
		return NULL;
	}
	return p;
}

const bk_ready *bkp_get(bk_prep *p, size_t index)
{
	bkp_slot *s = &p->slot[index % BKP_SLOTS];
	pthread_mutex_lock(&p->lock);
	while (!(s->full && s->index == index))
		pthread_cond_wait(&p->changed, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return &s->ready;
}

void bkp_done(bk_prep *p, size_t index)
{
	bkp_slot *s = &p->slot[index % BKP_SLOTS];
	pthread_mutex_lock(&p->lock);
	s->full = false;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

void bkp_stop(bk_prep *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	for (int i = 0; i < BKP_SLOTS; i++)
		ar_free(&p->slot[i].a);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	free(p);
}

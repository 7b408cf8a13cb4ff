/*
 * bks_ — the bulk commit's sorter: each part's staged keys of each table
 * (a bk_chunk) are sorted on a thread of their own while the writer goes
 * on with the next part; the writer waits for them all only before it
 * merges the chunks into the tables (bulk.c).
 *
 * Lifecycle (one commit): bks_start; bks_submit per chunk, in any number;
 * bks_wait before the merge; bks_stop, which first finishes every chunk
 * submitted (their memory stays the writer's until then), on every path.
 */
#include <pthread.h>
#include <stdlib.h>

#include "store/bulk.h"

typedef struct bks_job {
	bk_key *v;
	size_t n;
} bks_job;

struct bk_sorter {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bks_job *jobs;
	size_t n_jobs, cap;
	size_t taken, done;
	bool stop;
};

int bk_key_cmp(const void *pa, const void *pb)
{
	const bk_key *a = pa, *b = pb;
	return bk_cmp(a->b, a->n, b->b, b->n);
}

static void bks_sort(bk_key *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (bk_key_cmp(&v[i - 1], &v[i]) > 0) { /* not in order already */
			qsort(v, n, sizeof(*v), bk_key_cmp);
			return;
		}
}

static void *bks_main(void *arg)
{
	bk_sorter *s = arg;
	pthread_setname_np(pthread_self(), "annals-bksort"); /* perf and top -H tell it apart */
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->taken == s->n_jobs && !s->stop)
			pthread_cond_wait(&s->changed, &s->lock);
		if (s->taken == s->n_jobs) /* stopping, and nothing left */
			break;
		bks_job job = s->jobs[s->taken++];
		pthread_mutex_unlock(&s->lock);
		bks_sort(job.v, job.n);
		pthread_mutex_lock(&s->lock);
		s->done++;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

bk_sorter *bks_start(void)
{
	bk_sorter *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	if (pthread_create(&s->thread, NULL, bks_main, s) != 0) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->changed);
		free(s);
		return NULL;
	}
	return s;
}

void bks_submit(bk_sorter *s, bk_key *v, size_t n)
{
	if (s == NULL) {
		bks_sort(v, n);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->n_jobs == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		bks_job *grown = realloc(s->jobs, cap * sizeof(*grown));
		if (grown == NULL) { /* sorted here instead */
			pthread_mutex_unlock(&s->lock);
			bks_sort(v, n);
			return;
		}
		s->jobs = grown;
		s->cap = cap;
	}
	s->jobs[s->n_jobs++] = (bks_job){v, n};
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

void bks_wait(bk_sorter *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	while (s->done < s->n_jobs)
		pthread_cond_wait(&s->changed, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void bks_stop(bk_sorter *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	free(s->jobs);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
	free(s);
}

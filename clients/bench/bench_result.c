/*
 * What a run measured: one histogram, counts per status code and error
 * messages with counts. Successes touch only relaxed atomics; errors take a
 * lock to find their message in a short table (the rare path).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

bench_result *bench_result_new(void)
{
	bench_result *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	bench_hist_init(&r->hist);
	pthread_mutex_t *mu = malloc(sizeof(*mu));
	if (mu == NULL) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(mu, NULL);
	r->err_lock = mu;
	return r;
}

void bench_result_free(bench_result *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(r->err_lock);
	free(r->err_lock);
	free(r);
}

void bench_result_error(bench_result *r, const char *msg, size_t len)
{
	char text[200];
	if (len > sizeof(text) - 1)
		len = sizeof(text) - 1;
	memcpy(text, msg ? msg : "", msg ? len : 0);
	text[msg ? len : 0] = '\0';
	pthread_mutex_lock(r->err_lock);
	for (int i = 0; i < r->n_errors; i++) {
		if (strcmp(r->errors[i].message, text) == 0) {
			r->errors[i].count++;
			pthread_mutex_unlock(r->err_lock);
			return;
		}
	}
	if (r->n_errors < BENCH_MAX_ERRORS) {
		bench_error_count *e = &r->errors[r->n_errors++];
		snprintf(e->message, sizeof(e->message), "%s", text);
		e->count = 1;
	} else {
		r->errors_other++;
	}
	pthread_mutex_unlock(r->err_lock);
}

uint64_t bench_result_total(const bench_result *r)
{
	uint64_t n = 0;
	for (int i = 0; i < BENCH_CODES; i++)
		n += atomic_load(&r->codes[i]);
	return n;
}

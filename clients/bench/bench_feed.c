/*
 * annals-bench feed-latency — how long after a write is acknowledged its
 * change reaches a follower (annals_follow: long polls, or the PUB socket
 * with --publish). Writes go out at a steady pace; the follower notes when
 * each revision arrives; the report is the distribution of
 * (delivered - acknowledged) per revision.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"

typedef struct feed {
	uint64_t base;      /* revision before the first write */
	int n;              /* writes */
	int64_t *acked_us;  /* per revision - base - 1 */
	int64_t *seen_us;
	volatile int stop;
	int delivered;
} feed;

static int64_t feed_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int feed_on_change(void *ctx, const Annals__V1__ChangeSet *cs)
{
	feed *f = ctx;
	uint64_t i = cs->revision - f->base - 1;
	if (cs->revision > f->base && i < (uint64_t)f->n && f->seen_us[i] == 0) {
		f->seen_us[i] = feed_now_us();
		f->delivered++;
	}
	return f->delivered >= f->n;
}

typedef struct feed_follower {
	feed *f;
	const char *url, *publish;
	int rc;
} feed_follower;

static void *feed_follow(void *arg)
{
	feed_follower *ff = arg;
	annals_client *c;
	annals_error err;
	if (annals_open(&c, ff->url, NULL, &err) != ANNALS_OK) {
		ff->rc = err.code;
		return NULL;
	}
	annals_follow_opts o = {.since = ff->f->base, .publish_url = ff->publish, .wait_ms = 1000,
	                        .stop = &ff->f->stop};
	ff->rc = annals_follow(c, &o, feed_on_change, ff->f, &err);
	annals_close(c);
	return NULL;
}

static int feed_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void feed_usage(FILE *out)
{
	fprintf(out, "usage: annals-bench feed-latency [-u URL] [--publish URL] [-n WRITES] [--rps R]\n\n"
	             "Writes WRITES entities at R per second (defaults 1000 at 200/s) and measures the\n"
	             "time from each write's acknowledgement to its delivery by annals_follow (long\n"
	             "polls, or the server's PUB socket with --publish). Prints p50 and p99.\n");
}

static uint64_t feed_revision(annals_client *c)
{
	Annals__V1__HealthRequest q = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *h = NULL;
	annals_error err;
	uint64_t r = annals_health(c, &q, &h, &err) == ANNALS_OK ? h->revision : 0;
	annals_free(h);
	return r;
}

static int feed_write(annals_client *c, int i, uint64_t *rev)
{
	char id[64];
	snprintf(id, sizeof(id), "person:feed-latency-%d-%d", (int)getpid(), i);
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	Annals__V1__PutEntityRequest q = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	q.entity = &e;
	Annals__V1__WriteReply *w = NULL;
	annals_error err;
	int rc = annals_put_entity(c, &q, &w, &err);
	if (rc == ANNALS_OK)
		*rev = w->revision;
	annals_free(w);
	return rc;
}

int bench_feed_main(int argc, char **argv)
{
	const char *url = getenv("ANNALS_URL") ? getenv("ANNALS_URL") : "tcp://127.0.0.1:7700";
	const char *publish = NULL;
	int n = 1000, rps = 200;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-u") == 0 || strcmp(argv[i], "--url") == 0) && i + 1 < argc)
			url = argv[++i];
		else if (strcmp(argv[i], "--publish") == 0 && i + 1 < argc)
			publish = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rps") == 0 && i + 1 < argc)
			rps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			feed_usage(stdout);
			return 0;
		} else {
			feed_usage(stderr);
			return 64;
		}
	}
	if (n < 1 || rps < 1) {
		feed_usage(stderr);
		return 64;
	}
	annals_client *c;
	annals_error err;
	if (annals_open(&c, url, NULL, &err) != ANNALS_OK) {
		fprintf(stderr, "annals-bench feed-latency: %s; is annalsd running at %s?\n", err.message, url);
		return 14;
	}
	feed f = {.n = n};
	f.acked_us = calloc((size_t)n, sizeof(int64_t));
	f.seen_us = calloc((size_t)n, sizeof(int64_t));
	f.base = feed_revision(c);
	feed_follower ff = {.f = &f, .url = url, .publish = publish};
	pthread_t th;
	pthread_create(&th, NULL, feed_follow, &ff);
	usleep(200000); /* the follower is waiting before the first write */
	int failed = 0;
	for (int i = 0; i < n; i++) {
		uint64_t rev = 0;
		int64_t t0 = feed_now_us();
		if (feed_write(c, i, &rev) == ANNALS_OK && rev > f.base && rev - f.base - 1 < (uint64_t)n)
			f.acked_us[rev - f.base - 1] = feed_now_us();
		else
			failed++;
		int64_t wait = 1000000 / rps - (feed_now_us() - t0);
		if (wait > 0)
			usleep((useconds_t)wait);
	}
	for (int i = 0; i < 100 && f.delivered < n - failed; i++)
		usleep(50000);
	f.stop = 1;
	pthread_join(th, NULL);
	int64_t *lat = calloc((size_t)n, sizeof(int64_t));
	int m = 0, early = 0;
	for (int i = 0; i < n; i++)
		if (f.acked_us[i] && f.seen_us[i]) {
			int64_t d = f.seen_us[i] - f.acked_us[i];
			early += d < 0;
			lat[m++] = d < 0 ? 0 : d;
		}
	qsort(lat, (size_t)m, sizeof(int64_t), feed_cmp);
	int p50 = m / 2, p99 = (m * 99) / 100 < m ? (m * 99) / 100 : m - 1;
	printf("feed latency (%s): %d of %d acknowledged writes delivered; ack -> delivery p50 %.0f us, p99 %.0f us"
	       " (%d delivered before their ack)\n",
	       publish ? "PUB + Changes" : "long poll", m, n - failed, m ? (double)lat[p50] : 0.0,
	       m ? (double)lat[p99] : 0.0, early);
	free(lat);
	free(f.acked_us);
	free(f.seen_us);
	annals_close(c);
	return (m == n - failed && failed == 0) ? 0 : 1;
}

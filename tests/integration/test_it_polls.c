/*
 * Long polls do not lock anyone out (issue 13, item 3): waiting Changes
 * calls park on contexts of their own, outside --max-inflight, bounded by
 * --max-polls with a clear error beyond it; writes (which end the waits),
 * reads and Health go on meanwhile; and Health keeps a reserve when every
 * in-flight slot is taken.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

typedef struct poller {
	annals_client *c;
	uint64_t since;
	uint32_t wait_ms;
	int rc;
	size_t n_changes;
	char msg[512];
} poller;

static void *poll_once(void *arg)
{
	poller *p = arg;
	Annals__V1__ChangesRequest rq = ANNALS__V1__CHANGES_REQUEST__INIT;
	rq.since = p->since;
	rq.wait_ms = p->wait_ms;
	Annals__V1__ChangesReply *rep = NULL;
	annals_error err = {0};
	p->rc = annals_changes(p->c, &rq, &rep, &err);
	p->n_changes = rep ? rep->n_changes : 0;
	snprintf(p->msg, sizeof(p->msg), "%s", err.message);
	annals_free(rep);
	return NULL;
}

static void polls_start(poller *p, pthread_t *th, int n, annals_client *c, uint64_t since, uint32_t wait_ms)
{
	for (int i = 0; i < n; i++) {
		p[i] = (poller){.c = c, .since = since, .wait_ms = wait_ms};
		pthread_create(&th[i], NULL, poll_once, &p[i]);
	}
}

static uint64_t revision_of(annals_client *c)
{
	uint64_t rev = 0;
	th_health(c, &rev);
	return rev;
}

/* 40 waiting polls on a server whose in-flight bound is 28: on the old
 * design they took every slot and the write that would end them was
 * refused. Now Health, a read and the write answer at once, and the write
 * ends every wait. */
static void test_polls_leave_room_for_everyone(void)
{
	th_server srv;
	const char *extra[] = {"--contexts", "32", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		CHECK(!"server started");
		return;
	}
	annals_client *pc = th_client(&srv, 20000);
	annals_client *c = th_client(&srv, 3000);
	enum { N = 40 };
	poller p[N];
	pthread_t th[N];
	uint64_t since = revision_of(c);
	polls_start(p, th, N, pc, since, 10000);
	usleep(700 * 1000);                  /* let them all park */
	CHECK_EQ_INT(revision_of(c), since); /* Health answers */
	Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
	g.id = "org:csto";
	Annals__V1__Entity *e = NULL;
	annals_error err = {0};
	int rc = annals_get_entity(c, &g, &e, &err);
	if (rc != ANNALS_OK)
		fprintf(stderr, "  GetEntity while polls wait: %s\n", err.message);
	CHECK_EQ_INT(rc, ANNALS_OK);
	annals_free(e);
	rc = th_put_person(c, "person:ends-the-waits", &err);
	if (rc != ANNALS_OK)
		fprintf(stderr, "  PutEntity while polls wait: %s\n", err.message);
	CHECK_EQ_INT(rc, ANNALS_OK);
	int ok = 0, with_changes = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ok += p[i].rc == ANNALS_OK;
		with_changes += p[i].rc == ANNALS_OK && p[i].n_changes >= 1;
	}
	CHECK_EQ_INT(ok, N);
	CHECK_EQ_INT(with_changes, N);
	annals_close(c);
	annals_close(pc);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
}

/* Past --max-polls a poll is refused at once, naming the limit; the ones
 * parked still get their answer, and the refused ones may come back. */
static void test_poll_pool_is_bounded(void)
{
	th_server srv;
	const char *extra[] = {"--max-polls", "4", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		CHECK(!"server with --max-polls 4 started");
		return;
	}
	annals_client *pc = th_client(&srv, 20000);
	annals_client *c = th_client(&srv, 3000);
	enum { N = 10 };
	poller p[N];
	pthread_t th[N];
	uint64_t since = revision_of(c);
	polls_start(p, th, N, pc, since, 10000);
	usleep(700 * 1000);
	annals_error err = {0};
	CHECK_EQ_INT(th_put_person(c, "person:pool-bound", &err), ANNALS_OK);
	int ok = 0, refused = 0, named = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ok += p[i].rc == ANNALS_OK && p[i].n_changes >= 1;
		refused += p[i].rc == ANNALS_RESOURCE_EXHAUSTED;
		named += p[i].rc == ANNALS_RESOURCE_EXHAUSTED && strstr(p[i].msg, "--max-polls") != NULL;
	}
	CHECK_EQ_INT(ok, 4);
	CHECK_EQ_INT(refused, N - 4);
	CHECK_EQ_INT(named, N - 4);
	/* a poll without wait is never refused for the pool */
	poller now = {.c = c, .since = since, .wait_ms = 0};
	poll_once(&now);
	CHECK_EQ_INT(now.rc, ANNALS_OK);
	annals_close(c);
	annals_close(pc);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
}

/* A drain answers parked polls UNAVAILABLE and exits 0. */
static void test_drain_answers_parked_polls(void)
{
	th_server srv;
	if (th_start(&srv, NULL, NULL) != 0) {
		CHECK(!"server started");
		return;
	}
	annals_client *pc = th_client(&srv, 20000);
	enum { N = 6 };
	poller p[N];
	pthread_t th[N];
	uint64_t since = revision_of(pc);
	polls_start(p, th, N, pc, since, 15000);
	usleep(500 * 1000);
	CHECK_EQ_INT(th_stop(&srv), 0);
	int unavailable = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		unavailable += p[i].rc == ANNALS_UNAVAILABLE;
	}
	CHECK_EQ_INT(unavailable, N);
	annals_close(pc);
	th_cleanup(&srv);
}

typedef struct getter {
	annals_client *c;
	int rc;
} getter;

static void *get_once(void *arg)
{
	getter *g = arg;
	Annals__V1__GetRequest rq = ANNALS__V1__GET_REQUEST__INIT;
	rq.id = "org:csto";
	Annals__V1__Entity *e = NULL;
	annals_error err;
	g->rc = annals_get_entity(g->c, &rq, &e, &err);
	annals_free(e);
	return NULL;
}

/* With every in-flight slot taken by slow calls, other calls are turned
 * away at once, but Health (the method table's NO_TOKEN row) still
 * answers: a probe must not see an overloaded server as a dead one. */
static void test_health_has_a_reserve(void)
{
	th_server srv;
	const char *extra[] = {"--contexts", "16", "--max-inflight", "2", "--test-delay-ms", "400", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		CHECK(!"server started");
		return;
	}
	annals_client *c = th_client(&srv, 10000);
	enum { N = 3 };
	getter g[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		g[i] = (getter){.c = c};
		pthread_create(&th[i], NULL, get_once, &g[i]);
	}
	usleep(150 * 1000); /* all three are in their delay now */
	Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *hr = NULL;
	annals_error err = {0};
	int rc = annals_health(c, &hq, &hr, &err);
	if (rc != ANNALS_OK)
		fprintf(stderr, "  Health under load: %s\n", err.message);
	CHECK_EQ_INT(rc, ANNALS_OK);
	annals_free(hr);
	int busy = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		busy += g[i].rc == ANNALS_RESOURCE_EXHAUSTED;
	}
	CHECK(busy >= 1); /* the bound did hold for the others */
	annals_close(c);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
}

int main(void)
{
	RUN(test_polls_leave_room_for_everyone);
	RUN(test_poll_pool_is_bounded);
	RUN(test_drain_answers_parked_polls);
	RUN(test_health_has_a_reserve);
	return CHECK_DONE();
}

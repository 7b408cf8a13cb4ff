/*
 * min_revision on a single node: a read asking for a revision the store
 * has not reached waits for it (parked with the long polls, not on an
 * answering thread) and is answered once a commit gets there; one asking
 * for a revision that does not come is refused UNAVAILABLE before its
 * deadline, saying what the node has; other calls are not held up.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static th_server srv;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct read_at {
	uint64_t min_revision;
	uint32_t timeout_ms;
	int rc;
	uint64_t took_ms;
	char message[512];
} read_at;

static void *read_at_main(void *arg)
{
	read_at *r = arg;
	annals_client *c = th_client(&srv, 10000);
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = "person:minrev-new";
	ProtobufCMessage *rep = NULL;
	annals_error err;
	annals_call_opts o = {.min_revision = r->min_revision, .timeout_ms = r->timeout_ms};
	uint64_t t0 = now_ms();
	r->rc = annals_call(c, "GetEntity", &req.base, &rep, &o, &err);
	r->took_ms = now_ms() - t0;
	snprintf(r->message, sizeof(r->message), "%s", err.message);
	annals_free(rep);
	annals_close(c);
	return NULL;
}

static void test_read_waits_for_its_revision(void)
{
	annals_client *c = th_client(&srv, 5000);
	uint64_t rev = 0;
	CHECK_EQ_INT(th_health(c, &rev), ANNALS_OK);
	read_at r = {.min_revision = rev + 1, .timeout_ms = 8000};
	pthread_t t;
	pthread_create(&t, NULL, read_at_main, &r);
	/* parked: other calls go on meanwhile */
	struct timespec ts = {0, 500 * 1000000L};
	nanosleep(&ts, NULL);
	uint64_t t0 = now_ms();
	CHECK_EQ_INT(th_health(c, NULL), ANNALS_OK);
	CHECK(now_ms() - t0 < 2000);
	CHECK_EQ_INT(th_put_person(c, "person:minrev-new", NULL), ANNALS_OK);
	pthread_join(t, NULL);
	CHECK_EQ_INT(r.rc, ANNALS_OK); /* answered after the commit, and sees it */
	CHECK(r.took_ms >= 400);
	annals_close(c);
}

static void test_read_for_a_revision_that_does_not_come(void)
{
	annals_client *c = th_client(&srv, 5000);
	uint64_t rev = 0;
	CHECK_EQ_INT(th_health(c, &rev), ANNALS_OK);
	read_at r = {.min_revision = rev + 100, .timeout_ms = 3000};
	read_at_main(&r);
	CHECK_EQ_INT(r.rc, ANNALS_UNAVAILABLE); /* the server's answer, not the client's timeout */
	CHECK_CONTAINS(r.message, "store revision");
	CHECK(r.took_ms >=
	      2500); /* held until just before its deadline (the code above: before the client gave up) */
	/* a revision the store has: answered at once */
	read_at now = {.min_revision = rev, .timeout_ms = 1000};
	read_at_main(&now);
	CHECK_EQ_INT(now.rc, ANNALS_OK);
	CHECK(now.took_ms < 500);
	/* the CLI's flag */
	char bin[512], cmd[2048];
	unsigned long long far = (unsigned long long)rev + 100;
	th_bin("annals", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd),
	         "%s --server %s --timeout 600 --min-revision %llu health >/dev/null 2>&1 && %s --server %s "
	         "--timeout 600 --min-revision %llu entity get person:minrev-new >/dev/null 2>&1",
	         bin, srv.url, far, bin, srv.url, far);
	int st = system(cmd);
	CHECK(WIFEXITED(st) &&
	      WEXITSTATUS(st) == ANNALS_UNAVAILABLE); /* Health does not wait; the read does */
	annals_close(c);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) {
		printf("FAIL test_minrev_start\n");
		return 1;
	}
	RUN(test_read_waits_for_its_revision);
	RUN(test_read_for_a_revision_that_does_not_come);
	th_stop(&srv);
	th_cleanup(&srv);
	return CHECK_DONE();
}

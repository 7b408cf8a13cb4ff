/*
 * The change feed: with concurrent writers, followers (long polls only, and
 * over PUB with forced drops) see every committed change set exactly once
 * and in revision order, across a server restart; compaction answers
 * OUT_OF_RANGE naming the oldest revision still available.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

#define WRITERS     4
#define WRITES_EACH 40

static th_server srv;
static char pub_url[200];

typedef struct seen {
	uint64_t revs[4096];
	size_t n;
	int out_of_order, duplicates;
	uint64_t until; /* stop once this revision is seen */
	volatile int stop;
	int rc;
	char why[512];
	const char *pub;
	uint64_t since;
	char ids[4096][48]; /* first change's id per revision */
} seen;

static int on_change(void *ctx, const Annals__V1__ChangeSet *cs)
{
	seen *s = ctx;
	if (s->n > 0 && cs->revision <= s->revs[s->n - 1]) {
		if (cs->revision == s->revs[s->n - 1])
			s->duplicates++;
		else
			s->out_of_order++;
	}
	if (s->n < 4096) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", cs->n_changes ? cs->changes[0]->id : "");
		s->revs[s->n++] = cs->revision;
	}
	if (s->until && cs->revision >= s->until)
		return 1;
	return 0;
}

static void *follower(void *arg)
{
	seen *s = arg;
	annals_client *c = th_client(&srv, 20000);
	annals_follow_opts o = {.since = s->since, .publish_url = s->pub, .wait_ms = 2000, .stop = &s->stop};
	annals_error err;
	s->rc = annals_follow(c, &o, on_change, s, &err);
	snprintf(s->why, sizeof(s->why), "%s", err.message);
	annals_close(c);
	return NULL;
}

static void *writer(void *arg)
{
	long w = (long)arg;
	annals_client *c = th_client(&srv, 20000);
	for (int i = 0; i < WRITES_EACH; i++) {
		char id[64];
		snprintf(id, sizeof(id), "person:feed-%ld-%d", w, i);
		Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
		e.id = id;
		e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
		Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
		req.entity = &e;
		Annals__V1__WriteReply *wr = NULL;
		annals_error err;
		/* retried across the restart below with the same request id */
		char rid[64];
		snprintf(rid, sizeof(rid), "feed-%ld-%d", w, i);
		annals_call_opts co = {.request_id = rid};
		while (annals_call(c, "PutEntity", &req.base, (ProtobufCMessage **)&wr, &co, &err) !=
		       ANNALS_OK)
			usleep(20000);
		annals_free(wr);
	}
	annals_close(c);
	return NULL;
}

static uint64_t revision_now(void)
{
	annals_client *c = th_client(&srv, 5000);
	Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *h = NULL;
	annals_error err;
	uint64_t r = 0;
	if (annals_health(c, &hq, &h, &err) == ANNALS_OK)
		r = h->revision;
	annals_free(h);
	annals_close(c);
	return r;
}

static void check_exact(const seen *s, uint64_t from, uint64_t to)
{
	CHECK_EQ_INT(s->duplicates, 0);
	CHECK_EQ_INT(s->out_of_order, 0);
	CHECK_EQ_INT(s->n, to - from);
	for (size_t i = 0; i < s->n; i++) {
		uint64_t want = from + 1 + (uint64_t)i;
		if (s->revs[i] != want) {
			fprintf(stderr, "  revision %llu at position %zu, expected %llu\n",
			        (unsigned long long)s->revs[i], i, (unsigned long long)want);
			CHECK(!"revisions are consecutive");
			break;
		}
	}
}

static void test_followers_see_everything_once(void)
{
	uint64_t base = revision_now();
	uint64_t total = WRITERS * WRITES_EACH;
	static seen poll_f, pub_f;
	memset(&poll_f, 0, sizeof(poll_f));
	memset(&pub_f, 0, sizeof(pub_f));
	poll_f.since = pub_f.since = base;
	poll_f.until = pub_f.until = base + total;
	pub_f.pub = pub_url;
	pthread_t fp, fq, w[WRITERS];
	pthread_create(&fp, NULL, follower, &poll_f);
	pthread_create(&fq, NULL, follower, &pub_f);
	usleep(200000);
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)i);
	/* restart the server in the middle of it all: followers and writers reconnect */
	usleep(300000);
	CHECK_EQ_INT(th_stop(&srv), 0);
	const char *extra[] = {"--publish", pub_url, "--test-drop-publish", "3", NULL};
	CHECK_EQ_INT(th_restart(&srv, extra), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	/* followers stop by themselves at the last revision; bound the wait */
	for (int i = 0; i < 300 && (poll_f.n < total || pub_f.n < total); i++)
		usleep(100000);
	poll_f.stop = pub_f.stop = 1;
	pthread_join(fp, NULL);
	pthread_join(fq, NULL);
	CHECK_EQ_INT(revision_now(), base + total);
	check_exact(&poll_f, base, base + total);
	check_exact(&pub_f, base, base + total);
	CHECK_EQ_INT(poll_f.rc, ANNALS_OK);
	CHECK_EQ_INT(pub_f.rc, ANNALS_OK);
	/* both saw the same change at each revision */
	int same = 1;
	for (size_t i = 0; i < poll_f.n && i < pub_f.n; i++)
		if (strcmp(poll_f.ids[i], pub_f.ids[i]) != 0)
			same = 0;
	CHECK(same);
}

static void test_compaction_out_of_range(void)
{
	th_server small;
	const char *extra[] = {"--changes-keep", "5", "--empty", NULL};
	if (th_start(&small, NULL, extra) != 0) {
		CHECK(!"server with --changes-keep 5 started");
		return;
	}
	annals_client *c = th_client(&small, 5000);
	for (int i = 0; i < 20; i++) {
		char id[64];
		snprintf(id, sizeof(id), "person:compact-%d", i);
		Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
		e.id = id;
		e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
		Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
		req.entity = &e;
		Annals__V1__WriteReply *wr = NULL;
		annals_error err;
		CHECK_EQ_INT(annals_put_entity(c, &req, &wr, &err), ANNALS_OK);
		annals_free(wr);
	}
	Annals__V1__ChangesRequest rq = ANNALS__V1__CHANGES_REQUEST__INIT;
	Annals__V1__ChangesReply *rep = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_changes(c, &rq, &rep, &err), ANNALS_OUT_OF_RANGE);
	CHECK_CONTAINS(err.message, "oldest");
	annals_free(rep);
	/* the follower is told too, and may resume from the oldest retained */
	annals_follow_opts o = {.since = 0};
	CHECK_EQ_INT(annals_follow(c, &o, on_change, NULL, &err), ANNALS_OUT_OF_RANGE);
	rq.since = 15;
	CHECK_EQ_INT(annals_changes(c, &rq, &rep, &err), ANNALS_OK);
	CHECK(rep && rep->n_changes == 5 && rep->changes[0]->revision == 16 && rep->oldest >= 15);
	annals_free(rep);
	annals_close(c);
	CHECK_EQ_INT(th_stop(&small), 0);
	th_cleanup(&small);
}

int main(void)
{
	snprintf(pub_url, sizeof(pub_url), "tcp://127.0.0.1:%d", th_free_port());
	const char *extra[] = {"--publish", pub_url, "--test-drop-publish", "3", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_followers_see_everything_once);
	RUN(test_compaction_out_of_range);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

/*
 * A resend gets the first answer whatever its deadline (issue 13, item 7):
 * a write already applied, resent with timeout_ms = 1 while the writer is
 * kept busy, is answered OK with its first revision — never
 * DEADLINE_EXCEEDED "not applied" — and is not applied again. A write not
 * yet applied whose deadline passed in the queue is still refused.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "../lib/harness.h"
#include "../lib/raw.h"

static th_server srv;
static atomic_bool stop_load;

static uint8_t *put_body(const char *id, size_t *len)
{
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	*len = annals__v1__put_entity_request__get_packed_size(&req);
	uint8_t *b = malloc(*len);
	annals__v1__put_entity_request__pack(&req, b);
	return b;
}

/* Keeps the writer's queue full: durable writes from many threads. */
static void *load(void *arg)
{
	long t = (long)arg;
	annals_client *c = th_client(&srv, 10000);
	for (int i = 0; !atomic_load(&stop_load); i++) {
		char id[64];
		snprintf(id, sizeof(id), "person:load-%ld-%d", t, i);
		th_put_person(c, id, NULL);
	}
	annals_close(c);
	return NULL;
}

static uint64_t revision_in(const Annals__V1__Reply *r)
{
	Annals__V1__WriteReply *wr = annals__v1__write_reply__unpack(NULL, r->body.len, r->body.data);
	uint64_t rev = wr ? wr->revision : 0;
	annals__v1__write_reply__free_unpacked(wr, NULL);
	return rev;
}

static void test_resend_past_deadline_gets_first_answer(void)
{
	size_t bl;
	uint8_t *body = put_body("person:resent", &bl);
	Annals__V1__Reply *first =
	    raw_call(srv.url, "annals.v1.Annals/PutEntity", body, bl, 10000, "resend-7", NULL);
	CHECK(first && first->code == ANNALS_OK);
	uint64_t rev = first ? revision_in(first) : 0;
	if (first)
		annals__v1__reply__free_unpacked(first, NULL);
	enum { LOADERS = 24, RESENDS = 300 };
	pthread_t th[LOADERS];
	atomic_store(&stop_load, false);
	for (long i = 0; i < LOADERS; i++)
		pthread_create(&th[i], NULL, load, (void *)i);
	int ok_same = 0, expired = 0, other = 0;
	for (int i = 0; i < RESENDS; i++) {
		Annals__V1__Reply *r =
		    raw_call(srv.url, "annals.v1.Annals/PutEntity", body, bl, 1, "resend-7", NULL);
		if (r && r->code == ANNALS_OK && revision_in(r) == rev)
			ok_same++;
		else if (r && r->code == ANNALS_DEADLINE_EXCEEDED)
			expired++;
		else
			other++;
		if (r)
			annals__v1__reply__free_unpacked(r, NULL);
	}
	atomic_store(&stop_load, true);
	for (int i = 0; i < LOADERS; i++)
		pthread_join(th[i], NULL);
	fprintf(
	    stderr,
	    "  (%d resends with timeout_ms=1 under load: %d first answer, %d DEADLINE_EXCEEDED, %d other)\n",
	    RESENDS, ok_same, expired, other);
	CHECK_EQ_INT(ok_same, RESENDS);
	free(body);
}

/* The other half of the rule still holds: a new write whose deadline
 * passes while it waits for the writer is refused and not applied. */
static void test_new_write_past_deadline_refused(void)
{
	enum { LOADERS = 24, TRIES = 200 };
	pthread_t th[LOADERS];
	atomic_store(&stop_load, false);
	for (long i = 0; i < LOADERS; i++)
		pthread_create(&th[i], NULL, load, (void *)i);
	int refused = 0, refused_but_applied = 0;
	for (int i = 0; i < TRIES; i++) {
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:late-%d", i);
		snprintf(rid, sizeof(rid), "late-%d", i);
		size_t bl;
		uint8_t *body = put_body(id, &bl);
		Annals__V1__Reply *r =
		    raw_call(srv.url, "annals.v1.Annals/PutEntity", body, bl, 1, rid, NULL);
		if (r && r->code == ANNALS_DEADLINE_EXCEEDED) {
			refused++;
			Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
			g.id = id;
			uint8_t gb[128];
			size_t gn = annals__v1__get_request__pack(&g, gb);
			Annals__V1__Reply *gr =
			    raw_call(srv.url, "annals.v1.Annals/GetEntity", gb, gn, 5000, NULL, NULL);
			refused_but_applied += gr && gr->code == ANNALS_OK;
			if (gr)
				annals__v1__reply__free_unpacked(gr, NULL);
		}
		if (r)
			annals__v1__reply__free_unpacked(r, NULL);
		free(body);
	}
	atomic_store(&stop_load, true);
	for (int i = 0; i < LOADERS; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "  (%d new writes with timeout_ms=1 under load: %d refused, %d of those applied)\n",
	        TRIES, refused, refused_but_applied);
	CHECK_EQ_INT(refused_but_applied, 0);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_resend_past_deadline_gets_first_answer);
	RUN(test_new_write_past_deadline_refused);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

/*
 * heads.c's contract: a head is the record's bytes decoded without what
 * the knowledge engine does not read; the same bytes give the same shared
 * head on one thread, other bytes under the same id another; a memo starts
 * empty with each new head; another thread has heads of its own; and a
 * thread's heads stay until kh_release finds the cache over its budget.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "annals/v1/model.pb-c.h"
#include "knowledge/kn_int.h"

/* A packed relation with one evidence item and a valid interval. */
static uint8_t *pack_relation(const char *id, const char *object, int year, size_t *len)
{
	Annals__V1__Date d = ANNALS__V1__DATE__INIT;
	d.precision = ANNALS__V1__PRECISION__PRECISION_YEAR;
	d.year = year;
	Annals__V1__Bound start = ANNALS__V1__BOUND__INIT;
	start.kind = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT;
	start.date = &d;
	Annals__V1__Interval iv = ANNALS__V1__INTERVAL__INIT;
	iv.start = &start;
	Annals__V1__Evidence ev = ANNALS__V1__EVIDENCE__INIT, *evs[1] = {&ev};
	ev.document = "doc:x";
	Annals__V1__Relation r = ANNALS__V1__RELATION__INIT;
	r.id = (char *)id;
	r.subject = "country:a";
	r.predicate = "member_of";
	r.object = (char *)object;
	r.valid = &iv;
	r.evidence = evs;
	r.n_evidence = 1;
	*len = protobuf_c_message_get_packed_size(&r.base);
	uint8_t *b = malloc(*len);
	protobuf_c_message_pack(&r.base, b);
	return b;
}

static void test_same_bytes_same_head(void)
{
	size_t n1, n2;
	uint8_t *b1 = pack_relation("rel:h1", "org:one", 2001, &n1);
	uint8_t *b2 = pack_relation("rel:h1", "org:two", 2001, &n2); /* same id, other bytes */
	uint8_t *copy = malloc(n1);
	memcpy(copy, b1, n1);
	kh_memo *m1 = NULL, *m2 = NULL, *m3 = NULL;
	Annals__V1__Relation *h1 = kh_relation("rel:h1", b1, n1, &m1);
	CHECK(h1 != NULL && m1 != NULL);
	if (h1 != NULL && m1 != NULL) {
		CHECK_EQ_STR(h1->object, "org:one");
		CHECK_EQ_INT((int)h1->n_evidence, 0); /* decoded without its evidence */
		CHECK(h1->valid != NULL && h1->valid->start != NULL && h1->valid->start->date->year == 2001);
		CHECK(!m1->set);
		m1->set = true; /* a caller's judgement, kept with the head */
	}
	/* the same bytes elsewhere in memory: the same head, memo and all */
	CHECK(kh_relation("rel:h1", copy, n1, &m3) == h1);
	CHECK(m3 == m1 && m3 != NULL && m3->set);
	/* other bytes under the same id: another head, a fresh memo */
	Annals__V1__Relation *h2 = kh_relation("rel:h1", b2, n2, &m2);
	CHECK(h2 != NULL && h2 != h1);
	if (h2 != NULL)
		CHECK_EQ_STR(h2->object, "org:two");
	CHECK(m2 != NULL && !m2->set);
	/* h1 is gone from its slot, but its memory stays until kh_release */
	if (h1 != NULL)
		CHECK_EQ_STR(h1->object, "org:one");
	free(b1);
	free(b2);
	free(copy);
}

static void test_garbage_is_no_head(void)
{
	const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
	kh_memo *m = NULL;
	CHECK(kh_relation("rel:junk", junk, sizeof(junk), &m) == NULL);
	CHECK(kh_event("ev:junk", junk, sizeof(junk), &m) == NULL);
}

typedef struct probe {
	const uint8_t *b;
	size_t n;
	const Annals__V1__Relation *mine; /* the main thread's head of the same bytes */
	bool own, same_text;
} probe;

static void *other_thread(void *arg)
{
	probe *p = arg;
	kh_memo *m = NULL;
	Annals__V1__Relation *h = kh_relation("rel:t", p->b, p->n, &m);
	p->own = h != NULL && h != p->mine;
	p->same_text = h != NULL && strcmp(h->object, p->mine->object) == 0;
	kh_release();
	return NULL; /* its cache goes with the thread */
}

static void test_heads_are_per_thread(void)
{
	size_t n;
	uint8_t *b = pack_relation("rel:t", "org:one", 2005, &n);
	kh_memo *m = NULL;
	probe p = {.b = b, .n = n, .mine = kh_relation("rel:t", b, n, &m)};
	CHECK(p.mine != NULL);
	pthread_t th;
	if (p.mine != NULL && pthread_create(&th, NULL, other_thread, &p) == 0) {
		pthread_join(th, NULL);
		CHECK(p.own);       /* a head of its own */
		CHECK(p.same_text); /* decoded from the same bytes */
	}
	CHECK(kh_relation("rel:t", b, n, &m) == p.mine); /* the main thread's is untouched */
	free(b);
}

static void test_release_only_over_budget(void)
{
	size_t n;
	uint8_t *b = pack_relation("rel:r", "org:one", 2010, &n);
	kh_memo *m = NULL;
	Annals__V1__Relation *h = kh_relation("rel:r", b, n, &m);
	kh_release(); /* far under the budget: kept */
	CHECK(kh_relation("rel:r", b, n, &m) == h);
	/* fill the cache past its budget with other records, then release */
	char id[32];
	for (int i = 0; i < 40000 && kh_arena()->total < (3u << 20); i++) {
		size_t k;
		snprintf(id, sizeof(id), "rel:fill%05d", i);
		uint8_t *f = pack_relation(id, "org:fill", 1900 + i % 100, &k);
		(void)kh_relation(id, f, k, &m);
		free(f);
	}
	CHECK(kh_arena()->total >= (2u << 20));
	kh_release();
	CHECK(kh_arena()->total < (2u << 20)); /* emptied */
	Annals__V1__Relation *again = kh_relation("rel:r", b, n, &m);
	CHECK(again != NULL && m != NULL && !m->set);
	if (again != NULL)
		CHECK_EQ_STR(again->id, "rel:r");
	free(b);
}

int main(void)
{
	RUN(test_same_bytes_same_head);
	RUN(test_garbage_is_no_head);
	RUN(test_heads_are_per_thread);
	RUN(test_release_only_over_budget);
	return CHECK_DONE();
}

/*
 * The reply cache: an answer is given back only for the same method, the
 * same request bytes and the same snapshot; a thread's cache never holds
 * more than its budget; each thread has its own.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../lib/check.h"
#include "common/envelope.h"
#include "server/qcache.h"

static qc_cache *qc; /* the cache under test; each test opens its own */

/* A fresh cache with this budget in place of the last one (a new server). */
static int fresh(size_t budget)
{
	qc_close(qc);
	qc = qc_open(budget);
	return qc != NULL ? 0 : -1;
}

static qc_key key(int method, const char *body, uint64_t txn)
{
	qc_key k = {.method = method, .body = (const uint8_t *)body, .len = strlen(body), .txn_id = txn};
	qc_key_hash(&k);
	return k;
}

static void test_which_methods(void)
{
	CHECK(fresh(1 << 20) == 0);
	CHECK(qc_cacheable(qc, env_method_index("Members")));
	CHECK(qc_cacheable(qc, env_method_index("Timeline")));
	CHECK(qc_cacheable(qc, env_method_index("FindEntities")));
	CHECK(!qc_cacheable(qc, env_method_index("GetEntity")));
	CHECK(!qc_cacheable(qc, env_method_index("PutEvent")));
	CHECK(!qc_cacheable(qc, env_method_index("Changes")));
	CHECK(!qc_cacheable(qc, env_method_index("Stats")));
	CHECK(!qc_cacheable(qc, -1));
	CHECK(fresh(0) == 0);
	CHECK(!qc_cacheable(qc, env_method_index("Members"))); /* off */
}

static void test_hit_only_on_same_key(void)
{
	CHECK(fresh(1 << 20) == 0);
	int m = env_method_index("Members");
	qc_key k = key(m, "org:csto@2012", 7);
	size_t len = 0;
	CHECK(qc_get(qc, &k, &len) == NULL);
	qc_put(qc, &k, (const uint8_t *)"answer-7", 8);
	const uint8_t *hit = qc_get(qc, &k, &len);
	CHECK(hit != NULL && len == 8 && memcmp(hit, "answer-7", 8) == 0);

	qc_key newer = key(m, "org:csto@2012", 8); /* after a commit */
	CHECK(qc_get(qc, &newer, &len) == NULL);
	qc_key other_body = key(m, "org:csto@2013", 7);
	CHECK(qc_get(qc, &other_body, &len) == NULL);
	qc_key other_method = key(env_method_index("Holder"), "org:csto@2012", 7);
	CHECK(qc_get(qc, &other_method, &len) == NULL);

	/* the newer answer replaces the stale one in its slot */
	qc_put(qc, &newer, (const uint8_t *)"answer-8", 8);
	hit = qc_get(qc, &newer, &len);
	CHECK(hit != NULL && memcmp(hit, "answer-8", 8) == 0);
	CHECK(qc_get(qc, &k, &len) == NULL);

	/* a new cache (a new server in this process) has none of the old
	 * one's answers, though its store's txn ids may be the same */
	qc_cache *old = qc;
	qc = qc_open(1 << 20);
	CHECK(qc != NULL);
	CHECK(qc_get(qc, &newer, &len) == NULL);
	CHECK(qc_get(old, &newer, &len) != NULL); /* and the old one still has it */
	qc_close(old);
}

static void test_budget_bounds_memory(void)
{
	const size_t budget = 64 * 1024;
	CHECK(fresh(budget) == 0);
	int m = env_method_index("Timeline");
	uint8_t reply[3000];
	memset(reply, 'r', sizeof(reply));
	qc_counts before, after;
	qc_counts_get(qc, &before);
	char body[40];
	for (int i = 0; i < 2000; i++) {
		snprintf(body, sizeof(body), "entity-%d", i);
		qc_key k = key(m, body, 1);
		qc_put(qc, &k, reply, sizeof(reply));
		CHECK(qc_thread_bytes(qc) <= budget);
	}
	qc_counts_get(qc, &after);
	CHECK(after.stored - before.stored == 2000);
	CHECK(after.evicted > before.evicted);
	/* the latest answer is still there */
	qc_key last = key(m, "entity-1999", 1);
	size_t len = 0;
	CHECK(qc_get(qc, &last, &len) != NULL && len == sizeof(reply));
	/* an answer over a quarter of the budget is not kept */
	static uint8_t big[20000];
	qc_key k = key(m, "big", 1);
	qc_put(qc, &k, big, sizeof(big));
	CHECK(qc_get(qc, &k, &len) == NULL);
}

static void *other_thread(void *arg)
{
	const qc_key *k = arg;
	size_t len;
	void *res = (void *)(qc_get(qc, k, &len) != NULL ? "hit" : NULL);
	qc_put(qc, k, (const uint8_t *)"y",
	       1); /* a table of its own, freed as the thread ends (LSan checks) */
	return res;
}

static void test_per_thread(void)
{
	CHECK(fresh(1 << 20) == 0);
	qc_key k = key(env_method_index("Members"), "per-thread", 3);
	qc_put(qc, &k, (const uint8_t *)"x", 1);
	size_t len;
	CHECK(qc_get(qc, &k, &len) != NULL);
	pthread_t th;
	void *res = (void *)"unset";
	CHECK(pthread_create(&th, NULL, other_thread, &k) == 0);
	pthread_join(th, &res);
	CHECK(res == NULL); /* the other thread's cache is its own (and freed at its exit) */
}

int main(void)
{
	RUN(test_which_methods);
	RUN(test_hit_only_on_same_key);
	RUN(test_budget_bounds_memory);
	RUN(test_per_thread);
	qc_close(qc); /* frees the tables of this thread (LSan checks) */
	return CHECK_DONE();
}

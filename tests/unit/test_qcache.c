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

static qc_key key(int method, const char *body, uint64_t txn)
{
	qc_key k = {.method = method, .body = (const uint8_t *)body, .len = strlen(body), .txn_id = txn};
	qc_key_hash(&k);
	return k;
}

static void test_which_methods(void)
{
	CHECK(qc_setup(1 << 20) == 0);
	CHECK(qc_cacheable(env_method_index("Members")));
	CHECK(qc_cacheable(env_method_index("Timeline")));
	CHECK(qc_cacheable(env_method_index("FindEntities")));
	CHECK(!qc_cacheable(env_method_index("GetEntity")));
	CHECK(!qc_cacheable(env_method_index("PutEvent")));
	CHECK(!qc_cacheable(env_method_index("Changes")));
	CHECK(!qc_cacheable(env_method_index("Stats")));
	CHECK(!qc_cacheable(-1));
	CHECK(qc_setup(0) == 0);
	CHECK(!qc_cacheable(env_method_index("Members"))); /* off */
}

static void test_hit_only_on_same_key(void)
{
	CHECK(qc_setup(1 << 20) == 0);
	int m = env_method_index("Members");
	qc_key k = key(m, "org:csto@2012", 7);
	size_t len = 0;
	CHECK(qc_get(&k, &len) == NULL);
	qc_put(&k, (const uint8_t *)"answer-7", 8);
	const uint8_t *hit = qc_get(&k, &len);
	CHECK(hit != NULL && len == 8 && memcmp(hit, "answer-7", 8) == 0);

	qc_key newer = key(m, "org:csto@2012", 8); /* after a commit */
	CHECK(qc_get(&newer, &len) == NULL);
	qc_key other_body = key(m, "org:csto@2013", 7);
	CHECK(qc_get(&other_body, &len) == NULL);
	qc_key other_method = key(env_method_index("Holder"), "org:csto@2012", 7);
	CHECK(qc_get(&other_method, &len) == NULL);

	/* the newer answer replaces the stale one in its slot */
	qc_put(&newer, (const uint8_t *)"answer-8", 8);
	hit = qc_get(&newer, &len);
	CHECK(hit != NULL && memcmp(hit, "answer-8", 8) == 0);
	CHECK(qc_get(&k, &len) == NULL);

	/* a new setup (a new server in this process) forgets every answer */
	CHECK(qc_setup(1 << 20) == 0);
	CHECK(qc_get(&newer, &len) == NULL);
}

static void test_budget_bounds_memory(void)
{
	const size_t budget = 64 * 1024;
	CHECK(qc_setup(budget) == 0);
	int m = env_method_index("Timeline");
	uint8_t reply[3000];
	memset(reply, 'r', sizeof(reply));
	qc_counts before, after;
	qc_counts_get(&before);
	char body[40];
	for (int i = 0; i < 2000; i++) {
		snprintf(body, sizeof(body), "entity-%d", i);
		qc_key k = key(m, body, 1);
		qc_put(&k, reply, sizeof(reply));
		CHECK(qc_thread_bytes() <= budget);
	}
	qc_counts_get(&after);
	CHECK(after.stored - before.stored == 2000);
	CHECK(after.evicted > before.evicted);
	/* the latest answer is still there */
	qc_key last = key(m, "entity-1999", 1);
	size_t len = 0;
	CHECK(qc_get(&last, &len) != NULL && len == sizeof(reply));
	/* an answer over a quarter of the budget is not kept */
	static uint8_t big[20000];
	qc_key k = key(m, "big", 1);
	qc_put(&k, big, sizeof(big));
	CHECK(qc_get(&k, &len) == NULL);
}

static void *other_thread(void *arg)
{
	const qc_key *k = arg;
	size_t len;
	void *res = (void *)(qc_get(k, &len) != NULL ? "hit" : NULL);
	qc_put(k, (const uint8_t *)"y", 1); /* a table of its own, freed as the thread ends (LSan checks) */
	return res;
}

static void test_per_thread(void)
{
	CHECK(qc_setup(1 << 20) == 0);
	qc_key k = key(env_method_index("Members"), "per-thread", 3);
	qc_put(&k, (const uint8_t *)"x", 1);
	size_t len;
	CHECK(qc_get(&k, &len) != NULL);
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
	return CHECK_DONE();
}

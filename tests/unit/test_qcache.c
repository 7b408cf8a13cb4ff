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
	qc_put(qc, &k, (const uint8_t *)"answer-7", 8, NULL, 0);
	const uint8_t *hit = qc_get(qc, &k, &len);
	CHECK(hit != NULL && len == 8 && memcmp(hit, "answer-7", 8) == 0);

	qc_key newer = key(m, "org:csto@2012", 8); /* after a commit */
	CHECK(qc_get(qc, &newer, &len) == NULL);
	qc_key other_body = key(m, "org:csto@2013", 7);
	CHECK(qc_get(qc, &other_body, &len) == NULL);
	qc_key other_method = key(env_method_index("Holder"), "org:csto@2012", 7);
	CHECK(qc_get(qc, &other_method, &len) == NULL);

	/* the newer answer replaces the stale one in its slot */
	qc_put(qc, &newer, (const uint8_t *)"answer-8", 8, NULL, 0);
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
		qc_put(qc, &k, reply, sizeof(reply), NULL, 0);
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
	qc_put(qc, &k, big, sizeof(big), NULL, 0);
	CHECK(qc_get(qc, &k, &len) == NULL);
}

static void *other_thread(void *arg)
{
	const qc_key *k = arg;
	size_t len;
	void *res = (void *)(qc_get(qc, k, &len) != NULL ? "hit" : NULL);
	/* a table of its own, freed as the thread ends (LSan checks) */
	qc_put(qc, k, (const uint8_t *)"y", 1, NULL, 0);
	return res;
}

static void test_per_thread(void)
{
	CHECK(fresh(1 << 20) == 0);
	qc_key k = key(env_method_index("Members"), "per-thread", 3);
	qc_put(qc, &k, (const uint8_t *)"x", 1, NULL, 0);
	size_t len;
	CHECK(qc_get(qc, &k, &len) != NULL);
	pthread_t th;
	void *res = (void *)"unset";
	CHECK(pthread_create(&th, NULL, other_thread, &k) == 0);
	pthread_join(th, &res);
	CHECK(res == NULL); /* the other thread's cache is its own (and freed at its exit) */
}

/* The still function of the test: answers whose token is in `changed` were
 * touched by a commit after since. */
static uint64_t changed = 0;
static int asked = 0;
static bool still_unless_changed(void *ctx, const uint64_t *tok, size_t n, uint64_t since, uint64_t now)
{
	(void)ctx;
	(void)since;
	(void)now;
	asked++;
	for (size_t i = 0; i < n; i++)
		if (tok[i] == changed)
			return false;
	return true;
}

static void test_kept_across_commits_that_did_not_touch_it(void)
{
	CHECK(fresh(1 << 20) == 0);
	int m = env_method_index("Members");
	uint64_t tok[2] = {11, 12};
	qc_key k7 = key(m, "org:csto@2012", 7);
	k7.still = still_unless_changed;
	qc_put(qc, &k7, (const uint8_t *)"answer-7", 8, tok, 2);
	size_t len = 0;

	qc_key k9 = k7;
	k9.txn_id = 9; /* two commits later, neither wrote token 11 or 12 */
	changed = 99;
	asked = 0;
	const uint8_t *hit = qc_get(qc, &k9, &len);
	CHECK(hit != NULL && len == 8 && memcmp(hit, "answer-7", 8) == 0);
	CHECK_EQ_INT(asked, 1);
	/* now 9's answer: an older snapshot cannot use it, the same one need not ask */
	qc_key k8 = k7;
	k8.txn_id = 8;
	CHECK(qc_get(qc, &k8, &len) == NULL);
	asked = 0;
	CHECK(qc_get(qc, &k9, &len) != NULL);
	CHECK_EQ_INT(asked, 0);

	qc_key k10 = k7;
	k10.txn_id = 10; /* this commit wrote token 12 */
	changed = 12;
	CHECK(qc_get(qc, &k10, &len) == NULL);
	/* without tokens, or without a still function, only its own snapshot */
	qc_key k11 = key(m, "org:csto@2013", 11);
	k11.still = still_unless_changed;
	qc_put(qc, &k11, (const uint8_t *)"answer-11", 9, NULL, 0);
	qc_key k12 = k11;
	k12.txn_id = 12;
	changed = 0;
	CHECK(qc_get(qc, &k12, &len) == NULL);
	qc_key k13 = key(m, "org:csto@2014", 13);
	qc_put(qc, &k13, (const uint8_t *)"answer-13", 9, tok, 2);
	qc_key k14 = k13;
	k14.txn_id = 14;
	CHECK(qc_get(qc, &k14, &len) == NULL);
	qc_counts c;
	qc_counts_get(qc, &c);
	CHECK_EQ_INT((int)c.kept, 1);
}

int main(void)
{
	RUN(test_which_methods);
	RUN(test_hit_only_on_same_key);
	RUN(test_budget_bounds_memory);
	RUN(test_per_thread);
	RUN(test_kept_across_commits_that_did_not_touch_it);
	qc_close(qc); /* frees the tables of this thread (LSan checks) */
	return CHECK_DONE();
}

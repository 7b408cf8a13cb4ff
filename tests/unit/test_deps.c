/*
 * deps.c's contract, on a real store: an answer read at one snapshot is
 * still the answer at a later one exactly when no commit in between wrote a
 * key it read (point reads, missing keys too); a commit that wrote without
 * marks (another process, an untracked path) retires every older answer,
 * before and after the next marked commit; an answer that read too many keys
 * depends on whole tables; one that read an unmarked log is never kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "annals/annals.h"
#include "store/read.h"
#include "store/store.h"
#include "store/store_int.h"

static char dir[64];
static st_store *s;
static st_txn *t;
static st_deps deps;

typedef struct answer {
	uint64_t txn;
	uint64_t tok[ST_DEPS_MAX];
	size_t n;
} answer;

static int put_person(const char *id, const char *name)
{
	Annals__V1__Name nm = ANNALS__V1__NAME__INIT, *names[1] = {&nm};
	nm.text = (char *)name;
	nm.kind = ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL;
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.names = names;
	e.n_names = 1;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	st_write w = {.op = ST_PUT, .kind = ST_ENTITY, .req = &req.base};
	int rc = st_apply(s, &w, 1);
	int code = rc == ANNALS_OK ? w.code : rc;
	st_write_clear(&w);
	return code;
}

/* Reads the ids (a point read each) in one tracked snapshot. */
static answer read_ids(const char *const *ids, size_t n)
{
	answer a = {0};
	CHECK(st_txn_begin(t) == ANNALS_OK);
	st_txn_track(t, &deps);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *data;
		size_t len;
		(void)st_get(t, ST_ENTITY, ids[i], &data, &len);
	}
	a.txn = st_txn_id(t);
	const uint64_t *tok;
	a.n = st_deps_tokens(&deps, &tok);
	memcpy(a.tok, tok, a.n * sizeof(*tok));
	st_txn_end(t);
	return a;
}

static answer read_one(const char *id)
{
	return read_ids(&id, 1);
}

static uint64_t now(void)
{
	CHECK(st_txn_begin(t) == ANNALS_OK);
	uint64_t id = st_txn_id(t);
	st_txn_end(t);
	return id;
}

static bool still(const answer *a)
{
	return st_deps_unchanged(s, a->tok, a->n, a->txn, now());
}

static void test_kept_until_its_key_is_written(void)
{
	CHECK_EQ_INT(put_person("person:a", "A"), ANNALS_OK);
	CHECK_EQ_INT(put_person("person:b", "B"), ANNALS_OK);
	answer a = read_one("person:a");
	CHECK(a.n > 0);
	CHECK(still(&a)); /* the same snapshot */
	CHECK_EQ_INT(put_person("person:b", "B two"), ANNALS_OK);
	CHECK(now() > a.txn);
	CHECK(still(&a)); /* a commit that wrote another record */
	CHECK_EQ_INT(put_person("person:a", "A two"), ANNALS_OK);
	CHECK(!still(&a));
	/* an older snapshot than the answer's is never served it */
	CHECK(!st_deps_unchanged(s, a.tok, a.n, a.txn, a.txn - 1));
}

static void test_a_missing_key_read_is_retired_when_it_appears(void)
{
	answer a = read_one("person:c");
	CHECK_EQ_INT(put_person("person:b", "B three"), ANNALS_OK);
	CHECK(still(&a));
	CHECK_EQ_INT(put_person("person:c", "C"), ANNALS_OK);
	CHECK(!still(&a));
}

/* A write that bypasses the marks: what another process, an open-time
 * index build or BulkLoad does. */
static void write_unmarked(void)
{
	MDB_txn *txn;
	CHECK(mdb_txn_begin(s->env, NULL, 0, &txn) == MDB_SUCCESS);
	MDB_val k = {9, "test-mark"}, v = {1, "x"};
	CHECK(mdb_put(txn, s->dbi[DB_META], &k, &v, 0) == MDB_SUCCESS);
	CHECK(mdb_txn_commit(txn) == MDB_SUCCESS);
}

static void test_an_unmarked_commit_retires_everything_older(void)
{
	answer a = read_one("person:a");
	write_unmarked();
	CHECK(!still(&a)); /* its snapshot is past every marked one */
	CHECK_EQ_INT(put_person("person:b", "B four"), ANNALS_OK);
	CHECK(!still(&a)); /* the next marked commit raised the floor */
	answer after = read_one("person:a");
	CHECK_EQ_INT(put_person("person:b", "B five"), ANNALS_OK);
	CHECK(still(&after)); /* read after the unmarked commit: kept as before */
}

static void test_too_many_keys_depend_on_the_table(void)
{
	enum { N = ST_DEPS_MAX + 44 };
	static char idbuf[N][32];
	static const char *ids[N];
	for (int i = 0; i < N; i++) {
		snprintf(idbuf[i], sizeof(idbuf[i]), "person:never-%d", i);
		ids[i] = idbuf[i];
	}
	answer a = read_ids(ids, N);
	CHECK_EQ_INT((int)a.n, 1); /* the entities table, whole */
	CHECK(still(&a));
	CHECK_EQ_INT(put_person("person:b", "B six"), ANNALS_OK); /* not one of the ids read */
	CHECK(!still(&a));
}

static void test_an_unmarked_log_read_is_never_kept(void)
{
	CHECK(st_txn_begin(t) == ANNALS_OK);
	st_txn_track(t, &deps);
	(void)st_oldest_change(t);
	const uint64_t *tok;
	CHECK_EQ_INT((int)st_deps_tokens(&deps, &tok), 0);
	st_txn_end(t);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/annals-test-deps-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	st_options opt = {.no_sync = true};
	st_err err = {0};
	if (st_open(dir, &opt, &s, &err) != ANNALS_OK || st_deps_enable(s) != ANNALS_OK) {
		fprintf(stderr, "st_open: %s\n", err.msg);
		return 1;
	}
	t = st_txn_new(s);
	RUN(test_kept_until_its_key_is_written);
	RUN(test_a_missing_key_read_is_retired_when_it_appears);
	RUN(test_an_unmarked_commit_retires_everything_older);
	RUN(test_too_many_keys_depend_on_the_table);
	RUN(test_an_unmarked_log_read_is_never_kept);
	st_txn_free(t);
	st_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}

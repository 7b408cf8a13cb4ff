/*
 * Storage operations: the LMDB map grows by itself.
 *
 * annalsd starts with a 256 KiB map (--map-size 262144, --empty) and takes
 * ~5 MB of records through Batches from several writers at once, with
 * readers and a long poll running during the growth (a resize must wait for
 * every open snapshot and must not deadlock with them). Every write must
 * succeed; the data must read back, unchanged, after a clean restart and
 * after a SIGKILL; the grown map is kept across restarts.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

#define WRITERS            4
#define BATCHES_PER_WRITER 13
#define OPS_PER_BATCH      48
#define SUMMARY_BYTES      2000 /* 4 x 13 x 48 x ~2 KB = ~5 MB */

static th_server srv;

static void make_entity(Annals__V1__Entity *e, Annals__V1__Name *nm, Annals__V1__Name **names, char *id,
                        size_t idlen, char *name, size_t namelen, char *summary, int w, int b, int k)
{
	snprintf(id, idlen, "group:grow-%d-%d-%d", w, b, k);
	snprintf(name, namelen, "Growth Record %d %d %d", w, b, k);
	for (int i = 0; i < SUMMARY_BYTES; i++)
		summary[i] = (char)('A' + (w * 7 + b * 13 + k * 31 + i) % 26);
	summary[SUMMARY_BYTES] = '\0';
	annals__v1__name__init(nm);
	nm->text = name;
	names[0] = nm;
	annals__v1__entity__init(e);
	e->id = id;
	e->type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP;
	e->n_names = 1;
	e->names = names;
	e->summary = summary;
}

typedef struct wr_arg {
	int w;
	int failures;
	char first[300];
} wr_arg;

static void *writer(void *p)
{
	wr_arg *a = p;
	annals_client *c = th_client(&srv, 60000);
	for (int b = 0; b < BATCHES_PER_WRITER; b++) {
		Annals__V1__Entity ents[OPS_PER_BATCH];
		Annals__V1__Name nms[OPS_PER_BATCH];
		Annals__V1__Name *names[OPS_PER_BATCH][1];
		Annals__V1__Op ops[OPS_PER_BATCH];
		Annals__V1__Op *ptrs[OPS_PER_BATCH];
		static _Thread_local char ids[OPS_PER_BATCH][64], txt[OPS_PER_BATCH][64],
		    sums[OPS_PER_BATCH][SUMMARY_BYTES + 1];
		for (int k = 0; k < OPS_PER_BATCH; k++) {
			make_entity(&ents[k], &nms[k], names[k], ids[k], sizeof(ids[k]), txt[k],
			            sizeof(txt[k]), sums[k], a->w, b, k);
			annals__v1__op__init(&ops[k]);
			ops[k].op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
			ops[k].put_entity = &ents[k];
			ptrs[k] = &ops[k];
		}
		Annals__V1__BatchRequest req = ANNALS__V1__BATCH_REQUEST__INIT;
		req.n_ops = OPS_PER_BATCH;
		req.ops = ptrs;
		Annals__V1__BatchReply *rep = NULL;
		annals_error err;
		int rc = annals_batch(c, &req, &rep, &err);
		if (rc != ANNALS_OK || rep->n_results != OPS_PER_BATCH) {
			if (a->failures++ == 0)
				snprintf(a->first, sizeof(a->first), "batch %d of writer %d: %s %.200s", b,
				         a->w, annals_status_name(rc), err.message);
		}
		annals_free(rep);
	}
	annals_close(c);
	return NULL;
}

static atomic_bool readers_stop;
static atomic_int reader_failures;

static void *reader(void *p)
{
	(void)p;
	annals_client *c = th_client(&srv, 60000);
	while (!atomic_load(&readers_stop)) {
		annals_error err;
		Annals__V1__ListEntitiesRequest lq = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
		lq.page_size = 50;
		Annals__V1__EntityPage *page = NULL;
		if (annals_list_entities(c, &lq, &page, &err) != ANNALS_OK)
			atomic_fetch_add(&reader_failures, 1);
		annals_free(page);
		Annals__V1__ServerInfoRequest iq = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
		Annals__V1__ServerInfoReply *info = NULL;
		if (annals_server_info(c, &iq, &info, &err) != ANNALS_OK)
			atomic_fetch_add(&reader_failures, 1);
		annals_free(info);
	}
	annals_close(c);
	return NULL;
}

/* A long poll parked across the growth: it must be answered by a commit. */
static void *poller(void *p)
{
	int *ok = p;
	annals_client *c = th_client(&srv, 60000);
	Annals__V1__ChangesRequest req = ANNALS__V1__CHANGES_REQUEST__INIT;
	req.since = 0;
	req.wait_ms = 30000;
	req.limit = 1;
	Annals__V1__ChangesReply *rep = NULL;
	annals_error err;
	*ok = annals_changes(c, &req, &rep, &err) == ANNALS_OK && rep->n_changes == 1;
	annals_free(rep);
	annals_close(c);
	return NULL;
}

static uint64_t map_size(annals_client *c, uint64_t *used, uint64_t *entities)
{
	Annals__V1__ServerInfoRequest iq = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *info = NULL;
	annals_error err;
	uint64_t size = 0;
	if (annals_server_info(c, &iq, &info, &err) == ANNALS_OK) {
		size = info->map_size;
		if (used)
			*used = info->map_used;
		if (entities)
			*entities = info->counts ? info->counts->entities : 0;
	}
	annals_free(info);
	return size;
}

/* Reads every record back and compares it with what was written. */
static int verify_all(annals_client *c)
{
	int bad = 0;
	for (int w = 0; w < WRITERS; w++)
		for (int b = 0; b < BATCHES_PER_WRITER; b++)
			for (int k = 0; k < OPS_PER_BATCH; k++) {
				Annals__V1__Entity want;
				Annals__V1__Name nm, *names[1];
				char id[64], name[64], summary[SUMMARY_BYTES + 1];
				make_entity(&want, &nm, names, id, sizeof(id), name, sizeof(name), summary, w,
				            b, k);
				Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
				req.id = id;
				Annals__V1__Entity *got = NULL;
				annals_error err;
				if (annals_get_entity(c, &req, &got, &err) != ANNALS_OK) {
					if (bad++ < 5)
						fprintf(stderr, "  %s: %s\n", id, err.message);
					continue;
				}
				if (got->n_names != 1 || strcmp(got->names[0]->text, name) != 0 ||
				    strcmp(got->summary, summary) != 0 || got->type != want.type ||
				    got->revision == 0) {
					if (bad++ < 5)
						fprintf(stderr, "  %s: stored with other content\n", id);
				}
				annals_free(got);
			}
	return bad;
}

static void test_map_grows_under_write_load(void)
{
	annals_client *c = th_client(&srv, 30000);
	uint64_t used0 = 0;
	uint64_t size0 = map_size(c, &used0, NULL);
	CHECK(size0 > 0 && size0 <= 262144);
	fprintf(stderr, "  (map at start: %llu bytes, %llu used)\n", (unsigned long long)size0,
	        (unsigned long long)used0);

	int poll_ok = 0;
	pthread_t pt, rt[2], wt[WRITERS];
	wr_arg args[WRITERS];
	pthread_create(&pt, NULL, poller, &poll_ok);
	usleep(200000); /* let the poll park first */
	for (int i = 0; i < 2; i++)
		pthread_create(&rt[i], NULL, reader, NULL);
	for (int i = 0; i < WRITERS; i++) {
		args[i] = (wr_arg){.w = i};
		pthread_create(&wt[i], NULL, writer, &args[i]);
	}
	int failures = 0;
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(wt[i], NULL);
		if (args[i].failures) {
			fprintf(stderr, "  writer %d: %d failed Batches; first: %s\n", i, args[i].failures,
			        args[i].first);
			failures += args[i].failures;
		}
	}
	atomic_store(&readers_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(rt[i], NULL);
	pthread_join(pt, NULL);
	CHECK_EQ_INT(failures, 0);
	CHECK_EQ_INT(atomic_load(&reader_failures), 0);
	CHECK(poll_ok);

	uint64_t used = 0, entities = 0;
	uint64_t size = map_size(c, &used, &entities);
	fprintf(stderr, "  (map after ~5 MB of Batches: %llu bytes, %llu used, %llu entities)\n",
	        (unsigned long long)size, (unsigned long long)used, (unsigned long long)entities);
	CHECK(size >= 4u << 20);
	CHECK(used <= size);
	CHECK_EQ_INT(entities, WRITERS * BATCHES_PER_WRITER * OPS_PER_BATCH);
	CHECK_EQ_INT(verify_all(c), 0);
	annals_close(c);
}

static void test_data_survives_restart(void)
{
	annals_client *c = th_client(&srv, 30000);
	uint64_t before = map_size(c, NULL, NULL);
	annals_close(c);
	/* a clean stop, then a kill: both come back with everything */
	CHECK_EQ_INT(th_stop(&srv), 0);
	const char *extra[] = {"--map-size", "262144", "--empty", NULL};
	CHECK_EQ_INT(th_restart(&srv, extra), 0);
	c = th_client(&srv, 30000);
	uint64_t after = map_size(c, NULL, NULL);
	CHECK(after >= before); /* the grown map is kept, not shrunk to --map-size */
	CHECK_EQ_INT(verify_all(c), 0);
	annals_close(c);
	th_kill(&srv);
	CHECK_EQ_INT(th_restart(&srv, extra), 0);
	c = th_client(&srv, 30000);
	CHECK_EQ_INT(verify_all(c), 0);
	annals_close(c);
}

/* One Batch far bigger than the whole map: the map must double several
 * times for a single commit. */
static void test_one_batch_larger_than_the_map(void)
{
	th_server s2;
	const char *extra[] = {"--map-size", "262144", "--empty", NULL};
	if (th_start(&s2, NULL, extra) != 0) {
		CHECK(!"second server did not start");
		th_kill(&s2); /* a server that did not answer in time still runs */
		return;
	}
	annals_client *c = th_client(&s2, 120000);
	enum { N = 1500 };
	Annals__V1__Entity *ents = calloc(N, sizeof(*ents));
	Annals__V1__Name *nms = calloc(N, sizeof(*nms));
	Annals__V1__Name **names = calloc(N, sizeof(*names));
	Annals__V1__Op *ops = calloc(N, sizeof(*ops));
	Annals__V1__Op **ptrs = calloc(N, sizeof(*ptrs));
	char(*ids)[64] = calloc(N, 64), (*txt)[64] = calloc(N, 64);
	char(*sums)[SUMMARY_BYTES + 1] = calloc(N, SUMMARY_BYTES + 1);
	for (int k = 0; k < N; k++) {
		make_entity(&ents[k], &nms[k], &names[k], ids[k], 64, txt[k], 64, sums[k], 9, 0, k);
		annals__v1__op__init(&ops[k]);
		ops[k].op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
		ops[k].put_entity = &ents[k];
		ptrs[k] = &ops[k];
	}
	Annals__V1__BatchRequest req = ANNALS__V1__BATCH_REQUEST__INIT;
	req.n_ops = N;
	req.ops = ptrs;
	Annals__V1__BatchReply *rep = NULL;
	annals_error err;
	int rc = annals_batch(c, &req, &rep, &err);
	CHECK_EQ_INT(rc, ANNALS_OK);
	if (rc != ANNALS_OK)
		fprintf(stderr, "  a 3 MB Batch into a 256 KiB map: %s\n", err.message);
	CHECK(rep == NULL || rep->n_results == N);
	annals_free(rep);
	uint64_t entities = 0;
	uint64_t size = map_size(c, NULL, &entities);
	CHECK(size >= 2u << 20);
	CHECK_EQ_INT(entities, N);
	Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
	g.id = ids[N - 1];
	Annals__V1__Entity *e = NULL;
	CHECK_EQ_INT(annals_get_entity(c, &g, &e, &err), ANNALS_OK);
	CHECK(e && strcmp(e->summary, sums[N - 1]) == 0);
	annals_free(e);
	annals_close(c);
	free(ents);
	free(nms);
	free(names);
	free(ops);
	free(ptrs);
	free(ids);
	free(txt);
	free(sums);
	CHECK_EQ_INT(th_stop(&s2), 0);
	th_cleanup(&s2);
}

static void test_graceful_stop(void)
{
	CHECK_EQ_INT(th_stop(&srv), 0);
}

int main(void)
{
	const char *extra[] = {"--map-size", "262144", "--empty", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		printf("FAIL start_server_with_a_256k_map\n");
		th_kill(&srv);
		return 1;
	}
	RUN(test_map_grows_under_write_load);
	RUN(test_data_survives_restart);
	RUN(test_one_batch_larger_than_the_map);
	RUN(test_graceful_stop);
	th_cleanup(&srv);
	return CHECK_DONE();
}

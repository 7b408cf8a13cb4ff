/*
 * One cheap request must not buy seconds of CPU (issue 13, item 4): over
 * one legal entity with 10,000 aliases, a ~30-byte FindEntities{prefix,
 * limit 5} and a ListEntities by name prefix cost far less than a second
 * of the server's CPU (they took 9.4 s and 8.8 s: every index hit re-read
 * every name), measured from the server's /proc/PID/stat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"
#include "../lib/raw.h"

static th_server srv;

/* The server's CPU time so far (user + system), in seconds. */
static double server_cpu_s(void)
{
	char path[64], stat[4096] = "";
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)srv.pid);
	FILE *f = fopen(path, "r"); /* /proc files have no size: read, not seek */
	if (f != NULL) {
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		stat[n] = '\0';
		fclose(f);
	}
	/* fields after the command name (which is in parentheses) */
	const char *p = strrchr(stat, ')');
	unsigned long ut = 0, st = 0;
	CHECK(p != NULL &&
	      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void test_name_scans_cost_bounded(void)
{
	annals_client *c = th_client(&srv, 60000);
	CHECK_EQ_INT(th_put_many_aliases(c, "person:many-aliases", 10000, NULL), ANNALS_OK);
	annals_error err;

	double t0 = server_cpu_s();
	Annals__V1__FindEntitiesRequest fq = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
	fq.name = "alias-0";
	fq.prefix = 1;
	fq.limit = 5;
	Annals__V1__EntityPage *page = NULL;
	CHECK_EQ_INT(annals_find_entities(c, &fq, &page, &err), ANNALS_OK);
	CHECK(page && page->n_entities == 1 && strcmp(page->entities[0]->id, "person:many-aliases") == 0);
	annals_free(page);
	double find_cpu = server_cpu_s() - t0;

	t0 = server_cpu_s();
	Annals__V1__ListEntitiesRequest lq = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	lq.name_prefix = "alias-";
	lq.page_size = 5;
	page = NULL;
	CHECK_EQ_INT(annals_list_entities(c, &lq, &page, &err), ANNALS_OK);
	CHECK(page && page->n_entities == 1);
	annals_free(page);
	double list_cpu = server_cpu_s() - t0;

	fprintf(stderr,
	        "  (server CPU: FindEntities prefix 'alias-0' %.2f s, ListEntities prefix 'alias-' %.2f s)\n",
	        find_cpu, list_cpu);
	CHECK(find_cpu < 0.5);
	CHECK(list_cpu < 0.5);
	/* and the server still answers at once afterwards */
	CHECK_EQ_INT(th_health(c, NULL), ANNALS_OK);
	annals_close(c);
}

/* 20,000 groups named "x-<i>", in two Batches. */
static void put_groups(annals_client *c)
{
	enum { PER = 10000 };
	Annals__V1__Entity *e = calloc(PER, sizeof(*e));
	Annals__V1__Name *n = calloc(PER, sizeof(*n));
	Annals__V1__Name **np = calloc(PER, sizeof(*np));
	Annals__V1__Op *op = calloc(PER, sizeof(*op));
	Annals__V1__Op **ops = calloc(PER, sizeof(*ops));
	char(*ids)[32] = calloc(PER, sizeof(*ids));
	char(*names)[32] = calloc(PER, sizeof(*names));
	for (int b = 0; b < 2; b++) {
		for (int i = 0; i < PER; i++) {
			snprintf(ids[i], sizeof(ids[i]), "group:x-%d-%d", b, i);
			snprintf(names[i], sizeof(names[i]), "x-%d-%d", b, i);
			annals__v1__name__init(&n[i]);
			n[i].text = names[i];
			np[i] = &n[i];
			annals__v1__entity__init(&e[i]);
			e[i].id = ids[i];
			e[i].type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP;
			e[i].names = &np[i];
			e[i].n_names = 1;
			annals__v1__op__init(&op[i]);
			op[i].op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
			op[i].put_entity = &e[i];
			ops[i] = &op[i];
		}
		Annals__V1__BatchRequest req = ANNALS__V1__BATCH_REQUEST__INIT;
		req.ops = ops;
		req.n_ops = PER;
		Annals__V1__BatchReply *r = NULL;
		annals_error err;
		CHECK_EQ_INT(annals_batch(c, &req, &r, &err), ANNALS_OK);
		annals_free(r);
	}
	free(e);
	free(n);
	free(np);
	free(op);
	free(ops);
	free(ids);
	free(names);
}

/* A query that would walk 20,000 index entries for nothing (every name
 * matches the prefix, no entity the type) stops once its caller's
 * deadline passes, answering DEADLINE_EXCEEDED from inside the work. */
static void test_query_stops_at_its_deadline(void)
{
	annals_client *c = th_client(&srv, 60000);
	put_groups(c);
	Annals__V1__ListEntitiesRequest lq = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	lq.name_prefix = "x-";
	lq.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	lq.page_size = 1;
	uint8_t body[64];
	size_t n = annals__v1__list_entities_request__pack(&lq, body);
	Annals__V1__Reply *r = raw_call(srv.url, "annals.v1.Annals/ListEntities", body, n, 3, NULL, NULL);
	CHECK(r != NULL);
	if (r) {
		fprintf(stderr, "  (ListEntities over 20,000 names with timeout_ms=3: %s \"%s\")\n",
		        annals_status_name(r->code), r->message);
		CHECK_EQ_INT(r->code, ANNALS_DEADLINE_EXCEEDED);
		CHECK(strstr(r->message, "while the query ran") != NULL);
		annals__v1__reply__free_unpacked(r, NULL);
	}
	/* with time to spare it answers, and finds no person */
	r = raw_call(srv.url, "annals.v1.Annals/ListEntities", body, n, 60000, NULL, NULL);
	CHECK(r && r->code == ANNALS_OK);
	if (r)
		annals__v1__reply__free_unpacked(r, NULL);
	CHECK_EQ_INT(th_health(c, NULL), ANNALS_OK);
	annals_close(c);
}

int main(void)
{
	const char *extra[] = {"--reply-cache-mb", "0", NULL}; /* every answer computed */
	if (th_start(&srv, NULL, extra) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_name_scans_cost_bounded);
	RUN(test_query_stops_at_its_deadline);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

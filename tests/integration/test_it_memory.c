/*
 * Memory held by requests in flight is bounded by bytes, not only by count
 * (issue 13, item 8): with --max-inflight-bytes 8 MiB, eight ~2.7 MB Batches
 * sent at once are admitted while they fit and the rest are answered
 * RESOURCE_EXHAUSTED at once, naming the flag; nothing refused is applied,
 * everything admitted is; the server's peak and idle memory are reported.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static th_server srv;

enum { THREADS = 8, OPS = 8000 };

typedef struct sender {
	int t, round, rc;
	char msg[512];
} sender;

static void *send_batch(void *arg)
{
	sender *sd = arg;
	static char summary[300];
	memset(summary, 's', sizeof(summary) - 1);
	Annals__V1__Entity *e = calloc(OPS, sizeof(*e));
	Annals__V1__Op *op = calloc(OPS, sizeof(*op));
	Annals__V1__Op **ops = calloc(OPS, sizeof(*ops));
	char(*ids)[48] = calloc(OPS, sizeof(*ids));
	for (int i = 0; i < OPS; i++) {
		annals__v1__entity__init(&e[i]);
		snprintf(ids[i], sizeof(ids[i]), "group:mem-%d-%d-%d", sd->round, sd->t, i);
		e[i].id = ids[i];
		e[i].type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP;
		e[i].summary = summary;
		annals__v1__op__init(&op[i]);
		op[i].op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
		op[i].put_entity = &e[i];
		ops[i] = &op[i];
	}
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	b.ops = ops;
	b.n_ops = OPS;
	annals_client *c = th_client(&srv, 60000);
	Annals__V1__BatchReply *r = NULL;
	annals_error err = {0};
	sd->rc = annals_batch(c, &b, &r, &err);
	snprintf(sd->msg, sizeof(sd->msg), "%s", err.message);
	annals_free(r);
	annals_close(c);
	free(e);
	free(op);
	free(ops);
	free(ids);
	return NULL;
}

static long status_kb(const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)srv.pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0)
			kb = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static int get_code(annals_client *c, const char *id)
{
	Annals__V1__GetRequest q = ANNALS__V1__GET_REQUEST__INIT;
	q.id = (char *)id;
	Annals__V1__Entity *e = NULL;
	annals_error err;
	int rc = annals_get_entity(c, &q, &e, &err);
	annals_free(e);
	return rc;
}

static void test_admission_by_bytes(void)
{
	int ok = 0, refused = 0, named = 0, other = 0, wrong = 0;
	annals_client *c = th_client(&srv, 10000);
	for (int round = 0; round < 2; round++) {
		sender sd[THREADS];
		pthread_t th[THREADS];
		for (int t = 0; t < THREADS; t++) {
			sd[t] = (sender){.t = t, .round = round};
			pthread_create(&th[t], NULL, send_batch, &sd[t]);
		}
		for (int t = 0; t < THREADS; t++) {
			pthread_join(th[t], NULL);
			char last[64];
			snprintf(last, sizeof(last), "group:mem-%d-%d-%d", round, t, OPS - 1);
			int there = get_code(c, last) == ANNALS_OK;
			if (sd[t].rc == ANNALS_OK) {
				ok++;
				wrong += !there;
			} else if (sd[t].rc == ANNALS_RESOURCE_EXHAUSTED) {
				refused++;
				named += strstr(sd[t].msg, "--max-inflight-bytes") != NULL;
				wrong += there;
			} else {
				other++;
				fprintf(stderr, "  batch: %s %s\n", annals_status_name(sd[t].rc), sd[t].msg);
			}
		}
	}
	fprintf(
	    stderr,
	    "  (%d Batches of %d entities, 8 at once, --max-inflight-bytes 8 MiB: %d applied, %d refused; "
	    "server VmHWM %ld MiB, VmRSS after %ld MiB)\n",
	    2 * THREADS, OPS, ok, refused, status_kb("VmHWM") / 1024, status_kb("VmRSS") / 1024);
	CHECK(ok >= 2);
	CHECK(refused >= 1);
	CHECK_EQ_INT(named, refused);
	CHECK_EQ_INT(other, 0);
	CHECK_EQ_INT(wrong, 0);
	annals_close(c);
}

int main(void)
{
	const char *extra[] = {"--max-inflight-bytes", "8388608", "--empty", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_admission_by_bytes);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

/*
 * Disk full, second round: once writes have filled a small tmpfs, reads
 * from many server contexts at once (so many LMDB reader slots are taken),
 * Health and /metrics keep answering and the server stays up; writes answer
 * RESOURCE_EXHAUSTED; a restart on the full disk serves reads again; and
 * once space is freed writes resume. Before the lock file was allocated at
 * open, the first reader slot past lock.mdb's first page needed a page the
 * full file system could not give: SIGBUS (exit 135). Needs root (mount);
 * without it the test says SKIP.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static char mnt[128];
static th_server srv;
static int mport;

/* A Batch of 20 entities with ~4 KB summaries each. */
static int put_chunk(annals_client *c, int chunk, annals_error *err)
{
	static char summary[4096];
	memset(summary, 'y', sizeof(summary) - 1);
	Annals__V1__Entity ents[20];
	Annals__V1__Op ops[20];
	Annals__V1__Op *pops[20];
	char ids[20][64];
	for (int i = 0; i < 20; i++) {
		Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
		Annals__V1__Op o = ANNALS__V1__OP__INIT;
		snprintf(ids[i], sizeof(ids[i]), "person:fill-%d-%d", chunk, i);
		e.id = ids[i];
		e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
		e.summary = summary;
		ents[i] = e;
		o.op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
		o.put_entity = &ents[i];
		ops[i] = o;
		pops[i] = &ops[i];
	}
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	b.n_ops = 20;
	b.ops = pops;
	Annals__V1__BatchReply *r = NULL;
	int rc = annals_batch(c, &b, &r, err);
	annals_free(r);
	return rc;
}

static int get_one(annals_client *c, int chunk)
{
	char id[64];
	snprintf(id, sizeof(id), "person:fill-%d-19", chunk);
	Annals__V1__GetRequest q = ANNALS__V1__GET_REQUEST__INIT;
	q.id = id;
	Annals__V1__Entity *e = NULL;
	annals_error err;
	int rc = annals_get_entity(c, &q, &e, &err);
	annals_free(e);
	return rc;
}

/* GET /metrics; returns 1 when it answers 200 with the revision line. */
static int metrics_ok(void)
{
	char *page = th_http_get(mport, "/metrics");
	int ok = page != NULL && strncmp(page, "HTTP/1.", 7) == 0 && strstr(page, " 200") != NULL &&
	         strstr(page, "annals_store_revision ") != NULL;
	free(page);
	return ok;
}

static int server_alive(void)
{
	int st;
	pid_t r = waitpid(srv.pid, &st, WNOHANG);
	if (r == srv.pid) {
		fprintf(stderr, "  annalsd exited: %s %d\n", WIFSIGNALED(st) ? "signal" : "status",
		        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		srv.pid = -1;
		return 0;
	}
	return r == 0;
}

/* >= 300 reads, each on a fresh client (a fresh connection), several at a
 * time in flight so that many server contexts, and so many reader slots,
 * take part. Returns how many answered OK. */
static int many_reads(int acked)
{
	enum { ROUNDS = 20, WIDTH = 16 };
	int ok = 0;
	for (int r = 0; r < ROUNDS; r++) {
		annals_client *cs[WIDTH];
		for (int i = 0; i < WIDTH; i++)
			cs[i] = th_client(&srv, 10000);
		for (int i = 0; i < WIDTH; i++)
			ok += get_one(cs[i], (r * WIDTH + i) % acked) == ANNALS_OK;
		for (int i = 0; i < WIDTH; i++)
			annals_close(cs[i]);
		if (!server_alive())
			break;
	}
	return ok;
}

typedef struct reader_arg {
	annals_client *c;
	int first, acked, bad;
} reader_arg;

static void *reader(void *p)
{
	reader_arg *r = p;
	for (int i = 0; i < 20; i++)
		r->bad += get_one(r->c, (r->first + i) % r->acked) != ANNALS_OK;
	return NULL;
}

/* Reads in flight at once: 24 threads through one client (each call its
 * own nng context, so many server contexts and reader slots at once). */
static void parallel_reads(int acked)
{
	enum { THREADS = 24 };
	annals_client *c = th_client(&srv, 10000);
	pthread_t th[THREADS];
	reader_arg args[THREADS];
	for (int k = 0; k < THREADS; k++) {
		args[k] = (reader_arg){.c = c, .first = k * 20, .acked = acked};
		pthread_create(&th[k], NULL, reader, &args[k]);
	}
	int bad = 0;
	for (int k = 0; k < THREADS; k++) {
		pthread_join(th[k], NULL);
		bad += args[k].bad;
	}
	annals_close(c);
	CHECK_EQ_INT(bad, 0);
}

static void check_full_disk_serves(int acked)
{
	CHECK_EQ_INT(many_reads(acked), 320);
	CHECK(server_alive());
	if (!server_alive())
		return;
	parallel_reads(acked);
	CHECK(server_alive());
	if (!server_alive())
		return;
	annals_client *c = th_client(&srv, 10000);
	CHECK_EQ_INT(th_health(c, NULL), ANNALS_OK);
	CHECK(metrics_ok());
	annals_error err;
	int rc = put_chunk(c, 100000, &err);
	CHECK_EQ_INT(rc, ANNALS_RESOURCE_EXHAUSTED);
	if (rc != ANNALS_OK)
		CHECK_CONTAINS(err.message, "disk full");
	annals_close(c);
	CHECK(server_alive());
}

static void test_disk_full_reads(void)
{
	char dir[200], mflag[64];
	snprintf(dir, sizeof(dir), "%s/db", mnt);
	mport = th_free_port();
	snprintf(mflag, sizeof(mflag), "http://127.0.0.1:%d", mport);
	const char *extra[] = {"--empty", "--metrics-listen", mflag, NULL};
	/* 2 MB set aside to free at the end, so the store has room to go on */
	char cmd0[400];
	snprintf(cmd0, sizeof(cmd0), "dd if=/dev/zero of=%s/reserve bs=1024 count=2048 status=none", mnt);
	CHECK_EQ_INT(system(cmd0), 0);
	if (th_start(&srv, dir, extra) != 0) {
		CHECK(!"annalsd starts on the small tmpfs");
		return;
	}
	annals_client *c = th_client(&srv, 20000);
	annals_error err;
	int acked = 0, rc = ANNALS_OK;
	for (; acked < 2000; acked++) {
		rc = put_chunk(c, acked, &err);
		if (rc != ANNALS_OK)
			break;
	}
	annals_close(c);
	CHECK_EQ_INT(rc, ANNALS_RESOURCE_EXHAUSTED);
	CHECK_CONTAINS(err.message, "disk");
	CHECK(acked > 0);
	if (acked == 0)
		return;
	/* a little more: top the volume up to the last byte */
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s/filler bs=4096 status=none 2>/dev/null", mnt);
	(void)!system(cmd);
	check_full_disk_serves(acked);
	if (!server_alive())
		return;

	/* a restart on the full disk serves reads too (a clean stop deletes
	 * the write-ahead log, so the volume is topped up again first) */
	CHECK_EQ_INT(th_stop(&srv), 0);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s/filler2 bs=4096 status=none 2>/dev/null", mnt);
	(void)!system(cmd);
	if (th_restart(&srv, extra) != 0) {
		CHECK(!"restart on the full disk");
		return;
	}
	check_full_disk_serves(acked);
	if (!server_alive())
		return;

	/* free space: writes resume, and everything acknowledged is there */
	snprintf(cmd, sizeof(cmd), "%s/filler", mnt);
	CHECK_EQ_INT(unlink(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/filler2", mnt);
	unlink(cmd); /* absent when the stop freed nothing */
	snprintf(cmd, sizeof(cmd), "%s/reserve", mnt);
	CHECK_EQ_INT(unlink(cmd), 0);
	c = th_client(&srv, 20000);
	CHECK_EQ_INT(put_chunk(c, acked, &err), ANNALS_OK);
	int missing = 0;
	for (int i = 0; i <= acked; i++)
		missing += get_one(c, i) != ANNALS_OK;
	CHECK_EQ_INT(missing, 0);
	annals_close(c);
	CHECK_EQ_INT(th_stop(&srv), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(mnt, sizeof(mnt), "/tmp/annals-it.full2-%d", (int)getpid());
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && mount -t tmpfs -o size=8m tmpfs %s 2>/dev/null", mnt, mnt);
	if (geteuid() != 0 || system(cmd) != 0) {
		printf("SKIP test_disk_full_reads: needs root to mount a small tmpfs\n");
		rmdir(mnt);
		return 0;
	}
	RUN(test_disk_full_reads);
	if (srv.pid > 0)
		th_kill(&srv);
	umount(mnt);
	rmdir(mnt);
	return CHECK_DONE();
}

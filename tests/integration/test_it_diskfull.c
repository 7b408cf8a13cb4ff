/*
 * Disk full: on a small tmpfs, writes fail with RESOURCE_EXHAUSTED and a
 * clear message, reads keep working, nothing acknowledged is lost, and
 * writes succeed again once space is freed. Needs root (mount); without it
 * the test says SKIP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static char mnt[128];
static th_server srv;

/* A Batch of 20 entities with ~4 KB summaries each. */
static int put_chunk(annals_client *c, int chunk, annals_error *err)
{
	static char summary[4096];
	memset(summary, 'x', sizeof(summary) - 1);
	Annals__V1__Entity ents[20];
	Annals__V1__Op ops[20];
	Annals__V1__Op *pops[20];
	char ids[20][64];
	for (int i = 0; i < 20; i++) {
		Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
		Annals__V1__Op o = ANNALS__V1__OP__INIT;
		snprintf(ids[i], sizeof(ids[i]), "person:full-%d-%d", chunk, i);
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

static int chunk_present(annals_client *c, int chunk)
{
	char id[64];
	snprintf(id, sizeof(id), "person:full-%d-19", chunk);
	Annals__V1__GetRequest q = ANNALS__V1__GET_REQUEST__INIT;
	q.id = id;
	Annals__V1__Entity *e = NULL;
	annals_error err;
	int ok = annals_get_entity(c, &q, &e, &err) == ANNALS_OK;
	annals_free(e);
	return ok;
}

static void test_disk_full(void)
{
	char filler[200], cmd[400];
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1024 count=2048 status=none", filler);
	CHECK_EQ_INT(system(cmd), 0);
	char dir[200];
	snprintf(dir, sizeof(dir), "%s/db", mnt);
	const char *extra[] = {"--empty", NULL};
	if (th_start(&srv, dir, extra) != 0) {
		CHECK(!"annalsd starts on the small tmpfs");
		return;
	}
	annals_client *c = th_client(&srv, 20000);
	annals_error err;
	int acked = 0, rc = ANNALS_OK;
	for (; acked < 400; acked++) {
		rc = put_chunk(c, acked, &err);
		if (rc != ANNALS_OK)
			break;
	}
	CHECK_EQ_INT(rc, ANNALS_RESOURCE_EXHAUSTED);
	CHECK_CONTAINS(err.message, "disk");
	CHECK(acked > 0);
	/* reads go on, and every acknowledged batch is whole */
	int missing = 0;
	for (int i = 0; i < acked; i++)
		missing += !chunk_present(c, i);
	CHECK_EQ_INT(missing, 0);
	CHECK(!chunk_present(c, acked));
	/* free space: writes work again */
	CHECK_EQ_INT(unlink(filler), 0);
	CHECK_EQ_INT(put_chunk(c, acked, &err), ANNALS_OK);
	CHECK(chunk_present(c, acked));
	annals_close(c);
	CHECK_EQ_INT(th_stop(&srv), 0);
	/* and after a restart everything acknowledged is still there */
	if (th_restart(&srv, extra) == 0) {
		c = th_client(&srv, 10000);
		missing = 0;
		for (int i = 0; i <= acked; i++)
			missing += !chunk_present(c, i);
		CHECK_EQ_INT(missing, 0);
		annals_close(c);
		CHECK_EQ_INT(th_stop(&srv), 0);
	} else {
		CHECK(!"restart after disk full");
	}
}

int main(void)
{
	snprintf(mnt, sizeof(mnt), "/tmp/annals-it.full-%d", (int)getpid());
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && mount -t tmpfs -o size=4m tmpfs %s 2>/dev/null", mnt, mnt);
	if (geteuid() != 0 || system(cmd) != 0) {
		printf("SKIP test_disk_full: needs root to mount a small tmpfs\n");
		rmdir(mnt);
		return 0;
	}
	RUN(test_disk_full);
	umount(mnt);
	rmdir(mnt);
	return CHECK_DONE();
}

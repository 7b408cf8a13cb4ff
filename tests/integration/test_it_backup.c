/*
 * Backup: a hot, compacted copy while the server serves; annalsd started
 * on the copy serves the same records at the same revision.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static th_server srv;
static volatile int writing;

static void *writer(void *arg)
{
	(void)arg;
	annals_client *c = th_client(&srv, 10000);
	for (int i = 0; writing && i < 100000; i++) {
		char id[64];
		snprintf(id, sizeof(id), "person:backup-load-%d", i);
		th_put_person(c, id, NULL);
	}
	annals_close(c);
	return NULL;
}

static uint64_t health_revision(annals_client *c)
{
	Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *h = NULL;
	annals_error err;
	uint64_t r = annals_health(c, &hq, &h, &err) == ANNALS_OK ? h->revision : 0;
	annals_free(h);
	return r;
}

static uint8_t *get_raw(annals_client *c, const char *id, size_t *len)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)id;
	uint8_t buf[256];
	size_t n = annals__v1__get_request__pack(&req, buf);
	void *body = NULL;
	annals_error err;
	if (annals_call_raw(c, "GetEntity", buf, n, &body, len, NULL, &err) != ANNALS_OK)
		return NULL;
	return body;
}

static int backup(annals_client *c, const char *dir, uint64_t *rev, annals_error *err)
{
	Annals__V1__BackupRequest bq = ANNALS__V1__BACKUP_REQUEST__INIT;
	bq.dir = (char *)dir;
	Annals__V1__BackupReply *br = NULL;
	int rc = annals_backup(c, &bq, &br, err);
	if (rc == ANNALS_OK)
		*rev = br->revision;
	annals_free(br);
	return rc;
}

static void test_quiet_backup_is_identical(void)
{
	annals_client *c = th_client(&srv, 10000);
	CHECK_EQ_INT(th_put_person(c, "person:before-backup", NULL), ANNALS_OK);
	uint64_t rev_src = health_revision(c), rev_copy = 0;
	char dir[128];
	snprintf(dir, sizeof(dir), "/tmp/annals-it.backup-%d", (int)getpid());
	annals_error err;
	CHECK_EQ_INT(backup(c, dir, &rev_copy, &err), ANNALS_OK);
	CHECK_EQ_INT(rev_copy, rev_src);
	/* a second backup into the same directory is refused, not overwritten */
	CHECK_EQ_INT(backup(c, dir, &rev_copy, &err), ANNALS_ALREADY_EXISTS);
	CHECK_EQ_INT(backup(c, "relative/path", &rev_copy, &err), ANNALS_INVALID_ARGUMENT);
	size_t la = 0, lb = 0;
	uint8_t *a = get_raw(c, "org:csto", &la);
	th_server copy;
	CHECK_EQ_INT(th_start(&copy, dir, NULL), 0);
	annals_client *cc = th_client(&copy, 10000);
	CHECK_EQ_INT(health_revision(cc), rev_src);
	uint8_t *b = get_raw(cc, "org:csto", &lb);
	CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
	free(a);
	free(b);
	a = get_raw(cc, "person:before-backup", &la);
	CHECK(a != NULL);
	free(a);
	annals_close(cc);
	CHECK_EQ_INT(th_stop(&copy), 0);
	th_cleanup(&copy);
	annals_close(c);
}

static void test_hot_backup_under_writes(void)
{
	annals_client *c = th_client(&srv, 20000);
	writing = 1;
	pthread_t th;
	pthread_create(&th, NULL, writer, NULL);
	usleep(300000);
	char dir[128];
	snprintf(dir, sizeof(dir), "/tmp/annals-it.hot-%d", (int)getpid());
	uint64_t rev_copy = 0;
	annals_error err;
	CHECK_EQ_INT(backup(c, dir, &rev_copy, &err), ANNALS_OK);
	uint64_t rev_after = health_revision(c); /* writes went on during the copy */
	writing = 0;
	pthread_join(th, NULL);
	th_server copy;
	CHECK_EQ_INT(th_start(&copy, dir, NULL), 0);
	annals_client *cc = th_client(&copy, 10000);
	uint64_t r = health_revision(cc);
	CHECK(r >= rev_copy && r <= rev_after);
	/* every change the copy holds is whole: its entities are readable */
	Annals__V1__ChangesRequest q = ANNALS__V1__CHANGES_REQUEST__INIT;
	q.since = r > 50 ? r - 50 : 0;
	q.limit = 1000;
	Annals__V1__ChangesReply *rep = NULL;
	CHECK_EQ_INT(annals_changes(cc, &q, &rep, &err), ANNALS_OK);
	int missing = 0;
	for (size_t i = 0; rep && i < rep->n_changes; i++) {
		size_t l;
		uint8_t *e = get_raw(cc, rep->changes[i]->changes[0]->id, &l);
		missing += e == NULL && !rep->changes[i]->changes[0]->deleted;
		free(e);
	}
	CHECK_EQ_INT(missing, 0);
	annals_free(rep);
	annals_close(cc);
	CHECK_EQ_INT(th_stop(&copy), 0);
	th_cleanup(&copy);
	annals_close(c);
}

/* A snapshot fetched over the connection (FetchSnapshot, in chunks) into a
 * local directory serves the same records; ids and offsets are checked. */
static void test_snapshot_over_the_connection(void)
{
	annals_client *c = th_client(&srv, 20000);
	writing = 1;
	pthread_t th;
	pthread_create(&th, NULL, writer, NULL); /* taken while writes go on */
	usleep(200000);
	char dir[128];
	snprintf(dir, sizeof(dir), "/tmp/annals-it.snap-%d", (int)getpid());
	uint64_t rev = 0;
	annals_error err;
	CHECK_EQ_INT(annals_snapshot_save(c, dir, &rev, NULL, NULL, &err), ANNALS_OK);
	writing = 0;
	pthread_join(th, NULL);
	CHECK(rev > 0);
	/* into a directory that holds a store: refused, nothing overwritten */
	uint64_t again = 0;
	CHECK_EQ_INT(annals_snapshot_save(c, dir, &again, NULL, NULL, &err), ANNALS_ALREADY_EXISTS);
	/* bad ids and offsets */
	Annals__V1__FetchSnapshotRequest rq = ANNALS__V1__FETCH_SNAPSHOT_REQUEST__INIT;
	Annals__V1__FetchSnapshotReply *rp = NULL;
	rq.snapshot = "../../etc/passwd";
	CHECK_EQ_INT(annals_fetch_snapshot(c, &rq, &rp, &err), ANNALS_INVALID_ARGUMENT);
	rq.snapshot = "0123456789abcdef";
	CHECK_EQ_INT(annals_fetch_snapshot(c, &rq, &rp, &err), ANNALS_NOT_FOUND);
	rq.snapshot = "";
	rq.max_bytes = 4096;
	CHECK_EQ_INT(annals_fetch_snapshot(c, &rq, &rp, &err), ANNALS_OK);
	CHECK(rp && rp->data.len == 4096 && !rp->last && rp->size > 4096);
	if (rp) {
		Annals__V1__FetchSnapshotRequest past = ANNALS__V1__FETCH_SNAPSHOT_REQUEST__INIT;
		past.snapshot = rp->snapshot;
		past.offset = rp->size + 1;
		Annals__V1__FetchSnapshotReply *p2 = NULL;
		CHECK_EQ_INT(annals_fetch_snapshot(c, &past, &p2, &err), ANNALS_OUT_OF_RANGE);
		annals_free(p2);
	}
	annals_free(rp);
	th_server copy;
	CHECK_EQ_INT(th_start(&copy, dir, NULL), 0);
	annals_client *cc = th_client(&copy, 10000);
	uint64_t r = health_revision(cc);
	CHECK(r >= rev);
	size_t la = 0, lb = 0;
	uint8_t *a = get_raw(c, "org:csto", &la), *b = get_raw(cc, "org:csto", &lb);
	CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
	free(a);
	free(b);
	annals_close(cc);
	CHECK_EQ_INT(th_stop(&copy), 0);
	th_cleanup(&copy);
	/* and the CLI's `annals snapshot DIR` */
	char bin[512], cmd[1400], dir2[160];
	snprintf(dir2, sizeof(dir2), "/tmp/annals-it.snapcli-%d", (int)getpid());
	th_bin("annals", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd),
	         "%s --server %s snapshot %s >/dev/null 2>&1 && test -s %s/data.mdb && rm -rf %s", bin,
	         srv.url, dir2, dir2, dir2);
	CHECK_EQ_INT(system(cmd), 0);
	annals_close(c);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_quiet_backup_is_identical);
	RUN(test_hot_backup_under_writes);
	RUN(test_snapshot_over_the_connection);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

/*
 * Smaller promises kept (issue 13, item 9): a backup is as private as the
 * live store (0600, not 0644) and its path may not climb out with "..";
 * an interval whose end surely precedes its start is refused naming the
 * field (it would be FALSE on every date); ids follow the one lowercase
 * grammar model.proto states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static th_server srv;

static void test_backup_keeps_the_store_private(void)
{
	annals_client *c = th_client(&srv, 30000);
	char dir[400];
	snprintf(dir, sizeof(dir), "%s.backup", srv.dir);
	Annals__V1__BackupRequest req = ANNALS__V1__BACKUP_REQUEST__INIT;
	req.dir = dir;
	Annals__V1__BackupReply *rep = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_backup(c, &req, &rep, &err), ANNALS_OK);
	annals_free(rep);
	char path[500];
	struct stat live, copy;
	snprintf(path, sizeof(path), "%s/data.mdb", srv.dir);
	CHECK_EQ_INT(stat(path, &live), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	CHECK_EQ_INT(stat(path, &copy), 0);
	fprintf(stderr, "  (live data.mdb %04o, backup %04o)\n", (unsigned)(live.st_mode & 0777),
	        (unsigned)(copy.st_mode & 0777));
	CHECK_EQ_INT(copy.st_mode & 0777, live.st_mode & 0777);
	CHECK_EQ_INT(copy.st_mode & 0077, 0);
	/* a path that climbs out with ".." is refused, and nothing is written */
	char escape[500];
	snprintf(escape, sizeof(escape), "%s/../annals-it-escaped-%d", dir, (int)getpid());
	req.dir = escape;
	rep = NULL;
	CHECK_EQ_INT(annals_backup(c, &req, &rep, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "..");
	annals_free(rep);
	CHECK(access(escape, F_OK) != 0);
	annals_close(c);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

static Annals__V1__Date *year(Annals__V1__Date *d, int y)
{
	annals__v1__date__init(d);
	d->precision = ANNALS__V1__PRECISION__PRECISION_YEAR;
	d->year = y;
	return d;
}

static int put_relation(annals_client *c, int start_kind, int start_year, int end_kind, int end_year,
                        annals_error *err)
{
	Annals__V1__Date sd, ed;
	Annals__V1__Bound s = ANNALS__V1__BOUND__INIT, e = ANNALS__V1__BOUND__INIT;
	s.kind = start_kind;
	s.date = year(&sd, start_year);
	e.kind = end_kind;
	e.date = year(&ed, end_year);
	Annals__V1__Interval iv = ANNALS__V1__INTERVAL__INIT;
	iv.start = &s;
	iv.end = &e;
	Annals__V1__Relation r = ANNALS__V1__RELATION__INIT;
	char id[64];
	snprintf(id, sizeof(id), "rel:order-%d-%d-%d-%d", start_kind, start_year, end_kind, end_year);
	r.id = id;
	r.subject = "country:armenia";
	r.predicate = "member_of";
	r.object = "org:csto";
	r.valid = &iv;
	Annals__V1__PutRelationRequest req = ANNALS__V1__PUT_RELATION_REQUEST__INIT;
	req.relation = &r;
	Annals__V1__WriteReply *wr = NULL;
	int rc = annals_put_relation(c, &req, &wr, err);
	annals_free(wr);
	return rc;
}

static void test_interval_order(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	const int EXACT = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT,
	          BEFORE = ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE,
	          AFTER = ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER;
	CHECK_EQ_INT(put_relation(c, EXACT, 1992, EXACT, 1990, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "relation.valid.end: 1990");
	CHECK_CONTAINS(err.message, "before the start 1992");
	CHECK_EQ_INT(put_relation(c, AFTER, 1992, BEFORE, 1990, &err), ANNALS_INVALID_ARGUMENT);
	/* what could still be true is accepted: an end in the start's own year,
	 * an end only known to be after 1990, a start only known to be before */
	CHECK_EQ_INT(put_relation(c, EXACT, 1992, EXACT, 1992, &err), ANNALS_OK);
	CHECK_EQ_INT(put_relation(c, EXACT, 1992, AFTER, 1990, &err), ANNALS_OK);
	CHECK_EQ_INT(put_relation(c, BEFORE, 1992, EXACT, 1990, &err), ANNALS_OK);
	annals_close(c);
}

static void test_ids_are_lowercase(void)
{
	annals_client *c = th_client(&srv, 5000);
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = "person:Upper-Case";
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	Annals__V1__WriteReply *wr = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_put_entity(c, &req, &wr, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "entity.id");
	CHECK_CONTAINS(err.message, "uppercase");
	annals_free(wr);
	e.id = "person:lower-case";
	CHECK_EQ_INT(annals_put_entity(c, &req, &wr, &err), ANNALS_OK);
	annals_free(wr);
	annals_close(c);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) { /* the built-in data set still loads */
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_backup_keeps_the_store_private);
	RUN(test_interval_order);
	RUN(test_ids_are_lowercase);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

/*
 * The service end to end: a real annalsd process with a real LMDB,
 * driven through the client library and through raw envelopes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"
#include "../lib/raw.h"

static th_server srv;
static annals_client *cl;

static Annals__V1__Entity *get_entity(const char *id, annals_error *err)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)id;
	Annals__V1__Entity *e = NULL;
	annals_get_entity(cl, &req, &e, err);
	return e;
}

static int put_entity(const char *id, const char *name, uint64_t *rev, const annals_call_opts *opts,
                      Annals__V1__Guard *guard, annals_error *err)
{
	Annals__V1__Name nm = ANNALS__V1__NAME__INIT;
	nm.text = (char *)name;
	nm.kind = ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL;
	Annals__V1__Name *names[] = {&nm};
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.n_names = 1;
	e.names = names;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	req.guard = guard;
	ProtobufCMessage *out = NULL;
	int rc = annals_call(cl, "PutEntity", &req.base, &out, opts, err);
	if (rc == ANNALS_OK && rev)
		*rev = ((Annals__V1__WriteReply *)out)->revision;
	annals_free(out);
	return rc;
}

static void test_health_and_info(void)
{
	annals_error err;
	Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *h = NULL;
	CHECK_EQ_INT(annals_health(cl, &hq, &h, &err), ANNALS_OK);
	if (h) {
		CHECK_EQ_STR(h->status, "SERVING");
		CHECK(h->revision >= 1); /* the built-in data is revision 1 */
	}
	annals_free(h);
	Annals__V1__ServerInfoRequest iq = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *info = NULL;
	CHECK_EQ_INT(annals_server_info(cl, &iq, &info, &err), ANNALS_OK);
	if (info) {
		CHECK_EQ_INT(info->n_methods, annals__v1__annals__descriptor.n_methods);
		int found = 0;
		for (size_t i = 0; i < info->n_methods; i++)
			if (strcmp(info->methods[i]->name, "annals.v1.Annals/GetEntity") == 0 &&
			    strcmp(info->methods[i]->request, "annals.v1.GetRequest") == 0 &&
			    strcmp(info->methods[i]->reply, "annals.v1.Entity") == 0 &&
			    !info->methods[i]->write)
				found = 1;
		CHECK(found);
		CHECK(info->counts && info->counts->entities >= 20 && info->counts->events >= 10);
		CHECK(info->counts && info->counts->documents == 1);
		CHECK_EQ_STR(info->version, "0.1.0");
	}
	annals_free(info);
}

static void test_get_seed_entity(void)
{
	annals_error err;
	Annals__V1__Entity *e = get_entity("org:csto", &err);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ_INT(e->type, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION);
		int has_acronym = 0;
		for (size_t i = 0; i < e->n_names; i++)
			if (strcmp(e->names[i]->text, "CSTO") == 0)
				has_acronym = 1;
		CHECK(has_acronym);
		CHECK(e->revision >= 1);
	}
	annals_free(e);
}

static void test_not_found(void)
{
	annals_error err;
	Annals__V1__Entity *e = get_entity("person:nobody", &err);
	CHECK(e == NULL);
	CHECK_EQ_INT(err.code, ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.message, "person:nobody");
	/* an empty id is a client error, not a miss */
	e = get_entity("", &err);
	CHECK(e == NULL);
	CHECK_EQ_INT(err.code, ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "id");
}

static void test_put_get_delete(void)
{
	annals_error err;
	uint64_t r1 = 0, r2 = 0, r3 = 0;
	CHECK_EQ_INT(put_entity("person:test-one", "Test One", &r1, NULL, NULL, &err), ANNALS_OK);
	Annals__V1__Entity *e = get_entity("person:test-one", &err);
	CHECK(e && e->revision == r1 && e->n_names == 1 && strcmp(e->names[0]->text, "Test One") == 0);
	annals_free(e);
	/* the same record again changes nothing and takes no revision */
	CHECK_EQ_INT(put_entity("person:test-one", "Test One", &r2, NULL, NULL, &err), ANNALS_OK);
	CHECK_EQ_INT(r2, r1);
	CHECK_EQ_INT(put_entity("person:test-one", "Test Uno", &r3, NULL, NULL, &err), ANNALS_OK);
	CHECK_EQ_INT(r3, r1 + 1);
	Annals__V1__DeleteRequest dq = ANNALS__V1__DELETE_REQUEST__INIT;
	dq.id = "person:test-one";
	Annals__V1__WriteReply *wr = NULL;
	CHECK_EQ_INT(annals_delete_entity(cl, &dq, &wr, &err), ANNALS_OK);
	CHECK(wr && wr->revision == r3 + 1);
	annals_free(wr);
	e = get_entity("person:test-one", &err);
	CHECK(e == NULL && err.code == ANNALS_NOT_FOUND);
	CHECK_EQ_INT(annals_delete_entity(cl, &dq, &wr, &err), ANNALS_NOT_FOUND);
}

static void test_guard(void)
{
	annals_error err;
	uint64_t r1 = 0;
	Annals__V1__Guard absent = ANNALS__V1__GUARD__INIT; /* revision 0: must not exist */
	CHECK_EQ_INT(put_entity("person:test-guard", "G", &r1, NULL, &absent, &err), ANNALS_OK);
	CHECK_EQ_INT(put_entity("person:test-guard", "G2", NULL, NULL, &absent, &err),
	             ANNALS_FAILED_PRECONDITION);
	Annals__V1__Guard stale = ANNALS__V1__GUARD__INIT;
	stale.revision = r1 + 1000;
	CHECK_EQ_INT(put_entity("person:test-guard", "G3", NULL, NULL, &stale, &err),
	             ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.message, "person:test-guard");
	Annals__V1__Guard good = ANNALS__V1__GUARD__INIT;
	good.revision = r1;
	CHECK_EQ_INT(put_entity("person:test-guard", "G4", NULL, NULL, &good, &err), ANNALS_OK);
}

static void test_request_id_dedup(void)
{
	annals_error err;
	annals_call_opts o = {.request_id = "test-dedup-0001"};
	uint64_t r1 = 0, r2 = 0;
	CHECK_EQ_INT(put_entity("person:test-dedup", "First", &r1, &o, NULL, &err), ANNALS_OK);
	/* A resend carries the same request id: answered from the log, not applied
	 * again, even though its body now differs. */
	CHECK_EQ_INT(put_entity("person:test-dedup", "Second", &r2, &o, NULL, &err), ANNALS_OK);
	CHECK_EQ_INT(r2, r1);
	Annals__V1__Entity *e = get_entity("person:test-dedup", &err);
	CHECK(e && strcmp(e->names[0]->text, "First") == 0 && e->revision == r1);
	annals_free(e);
}

static void test_unknown_method(void)
{
	Annals__V1__Reply *r = raw_call(srv.url, "annals.v1.Annals/NoSuchMethod", NULL, 0, 0, "x", NULL);
	CHECK(r && r->code == ANNALS_UNIMPLEMENTED);
	if (r)
		CHECK_CONTAINS(r->message, "NoSuchMethod");
	annals__v1__reply__free_unpacked(r, NULL);
	r = raw_call(srv.url, "", NULL, 0, 0, "x", NULL);
	CHECK(r && r->code == ANNALS_INVALID_ARGUMENT);
	annals__v1__reply__free_unpacked(r, NULL);
}

static void test_malformed_envelope(void)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
	int nerr = 0;
	Annals__V1__Reply *r = raw_send(srv.url, junk, sizeof(junk), 3000, &nerr);
	CHECK(r && r->code == ANNALS_INVALID_ARGUMENT);
	if (r)
		CHECK_CONTAINS(r->message, "envelope");
	annals__v1__reply__free_unpacked(r, NULL);
	/* an empty message is a valid, empty Call: no method */
	r = raw_send(srv.url, "", 0, 3000, &nerr);
	CHECK(r && r->code == ANNALS_INVALID_ARGUMENT);
	annals__v1__reply__free_unpacked(r, NULL);
}

static void test_malformed_body(void)
{
	static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0x01};
	Annals__V1__Reply *r =
	    raw_call(srv.url, "annals.v1.Annals/GetEntity", junk, sizeof(junk), 0, "x", NULL);
	CHECK(r && r->code == ANNALS_INVALID_ARGUMENT);
	if (r)
		CHECK_CONTAINS(r->message, "GetRequest");
	annals__v1__reply__free_unpacked(r, NULL);
}

static void test_write_needs_request_id(void)
{
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = "person:no-rid";
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	uint8_t buf[256];
	size_t n = annals__v1__put_entity_request__pack(&req, buf);
	Annals__V1__Reply *r = raw_call(srv.url, "annals.v1.Annals/PutEntity", buf, n, 0, "", NULL);
	CHECK(r && r->code == ANNALS_INVALID_ARGUMENT);
	if (r)
		CHECK_CONTAINS(r->message, "request_id");
	annals__v1__reply__free_unpacked(r, NULL);
}

static void test_missing_fields(void)
{
	annals_error err;
	CHECK_EQ_INT(put_entity("", "No id", NULL, NULL, NULL, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "entity.id");
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	Annals__V1__WriteReply *wr = NULL;
	CHECK_EQ_INT(annals_put_entity(cl, &req, &wr, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "entity");
	/* an invalid date names its path */
	Annals__V1__Date d = ANNALS__V1__DATE__INIT;
	d.precision = ANNALS__V1__PRECISION__PRECISION_MONTH;
	d.year = 2019;
	d.month = 13;
	Annals__V1__Event ev = ANNALS__V1__EVENT__INIT;
	ev.id = "ev:bad-month";
	ev.type = "meeting";
	ev.when = &d;
	Annals__V1__PutEventRequest pe = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	pe.event = &ev;
	CHECK_EQ_INT(annals_put_event(cl, &pe, &wr, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "event.when.month");
}

static void test_oversize_refused(void)
{
	/* A Call a little over the default 4 MiB limit gets a clear status and
	 * is not applied. */
	size_t n = (4u << 20) + 1024;
	uint8_t *big = calloc(1, n);
	Annals__V1__Reply *r = raw_call(srv.url, "annals.v1.Annals/PutEntity", big, n, 0, "big-1", NULL);
	CHECK(r && r->code == ANNALS_RESOURCE_EXHAUSTED);
	if (r)
		CHECK_CONTAINS(r->message, "--max-message");
	annals__v1__reply__free_unpacked(r, NULL);
	free(big);
	/* A frame announcing 9 MiB is over twice the limit: the server hangs
	 * up on that connection (without reading it all) and goes on. */
	CHECK_EQ_INT(raw_tcp_oversize(srv.url, 9u << 20, 64u << 10, 3000), 1);
	/* a frame claiming 2^62 bytes must not make it allocate anything */
	CHECK_EQ_INT(raw_tcp_oversize(srv.url, 1ull << 62, 16, 3000), 1);
	annals_error err;
	Annals__V1__Entity *e = get_entity("org:csto", &err);
	CHECK(e != NULL); /* still serving */
	annals_free(e);
}

static void test_batch_atomic(void)
{
	annals_error err;
	Annals__V1__Entity a = ANNALS__V1__ENTITY__INIT, b = ANNALS__V1__ENTITY__INIT;
	a.id = "person:batch-a";
	a.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	b.id = "person:batch-b";
	b.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	Annals__V1__Guard stale = ANNALS__V1__GUARD__INIT;
	stale.revision = 999999;
	Annals__V1__Op o1 = ANNALS__V1__OP__INIT, o2 = ANNALS__V1__OP__INIT;
	o1.op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
	o1.put_entity = &a;
	o2.op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
	o2.put_entity = &b;
	o2.guard = &stale;
	Annals__V1__Op *ops[] = {&o1, &o2};
	Annals__V1__BatchRequest bq = ANNALS__V1__BATCH_REQUEST__INIT;
	bq.n_ops = 2;
	bq.ops = ops;
	Annals__V1__BatchReply *br = NULL;
	CHECK_EQ_INT(annals_batch(cl, &bq, &br, &err), ANNALS_FAILED_PRECONDITION);
	Annals__V1__Entity *e = get_entity("person:batch-a", &err);
	CHECK(e == NULL); /* the first op was not applied either */
	annals_free(e);
	o2.guard = NULL;
	CHECK_EQ_INT(annals_batch(cl, &bq, &br, &err), ANNALS_OK);
	CHECK(br && br->n_results == 2 && br->results[0]->revision == br->revision &&
	      br->results[1]->revision == br->revision);
	annals_free(br);
}

static void test_deadline_before_start(void)
{
	/* A second server that waits 300 ms before each call (fault injection):
	 * a call with a 100 ms deadline must not start. */
	th_server slow;
	const char *extra[] = {"--test-delay-ms", "300", NULL};
	if (th_start(&slow, NULL, extra) != 0) {
		CHECK(!"slow server did not start");
		return;
	}
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = "org:csto";
	uint8_t buf[64];
	size_t n = annals__v1__get_request__pack(&req, buf);
	Annals__V1__Reply *r = raw_call(slow.url, "annals.v1.Annals/GetEntity", buf, n, 100, "x", NULL);
	CHECK(r && r->code == ANNALS_DEADLINE_EXCEEDED);
	annals__v1__reply__free_unpacked(r, NULL);
	r = raw_call(slow.url, "annals.v1.Annals/GetEntity", buf, n, 2000, "x", NULL);
	CHECK(r && r->code == ANNALS_OK);
	annals__v1__reply__free_unpacked(r, NULL);
	CHECK_EQ_INT(th_stop(&slow), 0);
	th_cleanup(&slow);
}

#define CONC_THREADS 16
#define CONC_CALLS   40

static void *conc_worker(void *arg)
{
	long t = (long)arg;
	int *bad = calloc(1, sizeof(int));
	for (int i = 0; i < CONC_CALLS; i++) {
		annals_error err;
		char id[64], name[64];
		snprintf(id, sizeof(id), "person:conc-%ld-%d", t, i);
		snprintf(name, sizeof(name), "Concurrent %ld %d", t, i);
		if (put_entity(id, name, NULL, NULL, NULL, &err) != ANNALS_OK)
			(*bad)++;
		Annals__V1__Entity *e = get_entity(id, &err);
		if (e == NULL || strcmp(e->names[0]->text, name) != 0)
			(*bad)++;
		annals_free(e);
	}
	return bad;
}

static void test_concurrent_clients(void)
{
	pthread_t th[CONC_THREADS];
	for (long i = 0; i < CONC_THREADS; i++)
		pthread_create(&th[i], NULL, conc_worker, (void *)i);
	int bad = 0;
	for (int i = 0; i < CONC_THREADS; i++) {
		int *b;
		pthread_join(th[i], (void **)&b);
		bad += *b;
		free(b);
	}
	CHECK_EQ_INT(bad, 0);
}

static void *long_poll(void *arg)
{
	uint64_t since = *(uint64_t *)arg;
	annals_client *c = th_client(&srv, 10000);
	Annals__V1__ChangesRequest req = ANNALS__V1__CHANGES_REQUEST__INIT;
	req.since = since;
	req.wait_ms = 8000;
	Annals__V1__ChangesReply *rep = NULL;
	annals_error err;
	annals_changes(c, &req, &rep, &err);
	uint64_t *got = calloc(1, sizeof(uint64_t));
	if (rep && rep->n_changes > 0)
		*got = rep->changes[0]->revision;
	annals_free(rep);
	annals_close(c);
	return got;
}

static void test_changes_long_poll(void)
{
	annals_error err;
	Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *h = NULL;
	annals_health(cl, &hq, &h, &err);
	uint64_t since = h ? h->revision : 0;
	annals_free(h);
	pthread_t th;
	pthread_create(&th, NULL, long_poll, &since);
	usleep(300000); /* let the poll park */
	uint64_t rev = 0;
	CHECK_EQ_INT(put_entity("person:poll-trigger", "Trigger", &rev, NULL, NULL, &err), ANNALS_OK);
	uint64_t *got;
	pthread_join(th, (void **)&got);
	CHECK_EQ_INT(*got, rev);
	free(got);
}

static void test_durable_across_kill(void)
{
	annals_error err;
	uint64_t rev = 0;
	CHECK_EQ_INT(put_entity("person:durable", "Durable", &rev, NULL, NULL, &err), ANNALS_OK);
	annals_close(cl);
	th_kill(&srv); /* no chance to flush anything: the commit must already be on disk */
	CHECK_EQ_INT(th_restart(&srv, NULL), 0);
	cl = th_client(&srv, 5000);
	Annals__V1__Entity *e = get_entity("person:durable", &err);
	CHECK(e && e->revision == rev);
	annals_free(e);
}

static void test_example_program(void)
{
	char bin[512], cmd[1200];
	th_bin("examples/registry_client", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "'%s' '%s' >/dev/null", bin, srv.url);
	CHECK_EQ_INT(system(cmd), 0);
	annals_error err;
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = "ev:example-registry-client";
	Annals__V1__Event *ev = NULL;
	CHECK_EQ_INT(annals_get_event(cl, &req, &ev, &err), ANNALS_OK);
	annals_free(ev);
}

static void test_ipc_listener(void)
{
	th_server s2;
	char url[300], dir[64];
	snprintf(dir, sizeof(dir), "/tmp/annals-ipc-%d.sock", (int)getpid());
	snprintf(url, sizeof(url), "ipc://%s", dir);
	const char *extra[] = {"--listen", url, NULL};
	CHECK_EQ_INT(th_start(&s2, NULL, extra), 0);
	annals_client *c = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_open(&c, url, NULL, &err), ANNALS_OK);
	if (c) {
		Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
		Annals__V1__HealthReply *h = NULL;
		CHECK_EQ_INT(annals_health(c, &hq, &h, &err), ANNALS_OK);
		annals_free(h);
		annals_close(c);
	}
	CHECK_EQ_INT(th_stop(&s2), 0);
	th_cleanup(&s2);
	unlink(dir);
}

static void test_refuses_open_network_without_tokens(void)
{
	char bin[512], cmd[1200];
	th_bin("annalsd", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd),
	         "'%s' --listen tcp://0.0.0.0:%d --data /tmp/annals-it-open.%d --empty 2>/dev/null", bin,
	         th_free_port(), (int)getpid());
	int st = system(cmd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/annals-it-open.%d", (int)getpid());
	CHECK_EQ_INT(system(cmd), 0);
}

static void test_graceful_stop(void)
{
	annals_close(cl);
	cl = NULL;
	CHECK_EQ_INT(th_stop(&srv), 0);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	cl = th_client(&srv, 5000);
	RUN(test_health_and_info);
	RUN(test_get_seed_entity);
	RUN(test_not_found);
	RUN(test_put_get_delete);
	RUN(test_guard);
	RUN(test_request_id_dedup);
	RUN(test_unknown_method);
	RUN(test_malformed_envelope);
	RUN(test_malformed_body);
	RUN(test_write_needs_request_id);
	RUN(test_missing_fields);
	RUN(test_oversize_refused);
	RUN(test_batch_atomic);
	RUN(test_deadline_before_start);
	RUN(test_concurrent_clients);
	RUN(test_changes_long_poll);
	RUN(test_durable_across_kill);
	RUN(test_example_program);
	RUN(test_ipc_listener);
	RUN(test_refuses_open_network_without_tokens);
	RUN(test_graceful_stop);
	th_cleanup(&srv);
	return CHECK_DONE();
}

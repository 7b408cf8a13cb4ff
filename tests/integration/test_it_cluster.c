/*
 * Cluster mode against a real three-member etcd cluster and three real
 * annalsd nodes (issue 14): the built-in data enters once, writes through
 * any node reach every node in one order, a resend to another node is
 * applied once, a compare-and-swap race has one winner, a node killed under
 * writes catches up, and killing or pausing etcd members (the leader too)
 * loses no acknowledged write. Each test uses its own --cluster-prefix on
 * one etcd cluster, so they do not see each other's logs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"
#include "../lib/check.h"
#include "../lib/etcd.h"
#include "../lib/harness.h"

#define NODES 3

static te_cluster etcd;

typedef struct cluster {
	th_server n[NODES];
	char name[NODES][16];
	char prefix[64];
	const char *extra[8]; /* more flags for every node, NULL-terminated */
} cluster;

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Node i's flags: the cluster's, and the test's own (cl->extra). */
static void node_flags(cluster *cl, int i, const char **argv)
{
	snprintf(cl->name[i], sizeof(cl->name[i]), "n%d", i + 1);
	int n = 0;
	const char *base[] = {"--cluster", etcd.endpoints,     "--node-name",
	                      cl->name[i], "--cluster-prefix", cl->prefix};
	for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++)
		argv[n++] = base[k];
	for (int k = 0; cl->extra[k] != NULL; k++)
		argv[n++] = cl->extra[k];
	argv[n] = NULL;
}

static int node_start_in(cluster *cl, int i, const char *dir)
{
	const char *argv[24];
	node_flags(cl, i, argv);
	return th_start(&cl->n[i], dir, argv);
}

static int node_start(cluster *cl, int i)
{
	return node_start_in(cl, i, NULL);
}

static int node_restart(cluster *cl, int i)
{
	const char *argv[24];
	node_flags(cl, i, argv);
	return th_restart(&cl->n[i], argv);
}

static int cluster_start_with(cluster *cl, const char *prefix, const char *const *extra)
{
	memset(cl, 0, sizeof(*cl));
	snprintf(cl->prefix, sizeof(cl->prefix), "%s", prefix);
	for (int k = 0; extra && extra[k] && k < 7; k++)
		cl->extra[k] = extra[k];
	for (int i = 0; i < NODES; i++)
		if (node_start(cl, i) != 0)
			return -1;
	return 0;
}

static int cluster_start(cluster *cl, const char *prefix)
{
	return cluster_start_with(cl, prefix, NULL);
}

static void cluster_stop(cluster *cl)
{
	for (int i = 0; i < NODES; i++) {
		if (cl->n[i].pid > 0)
			CHECK_EQ_INT(th_stop(&cl->n[i]), 0);
		th_cleanup(&cl->n[i]);
	}
}

typedef struct node_state {
	int rc;
	uint64_t revision;
	char sha[80];
	char status[32];
	uint64_t applied, log;
} node_state;

static node_state node_look(const th_server *s)
{
	node_state st = {0};
	annals_client *c = th_client(s, 3000);
	Annals__V1__DigestRequest dq = ANNALS__V1__DIGEST_REQUEST__INIT;
	Annals__V1__DigestReply *d = NULL;
	annals_error err;
	st.rc = annals_digest(c, &dq, &d, &err);
	if (st.rc == ANNALS_OK) {
		st.revision = d->revision;
		snprintf(st.sha, sizeof(st.sha), "%s", d->sha256);
	}
	annals_free(d);
	Annals__V1__HealthRequest hq = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *h = NULL;
	if (annals_health(c, &hq, &h, &err) == ANNALS_OK) {
		snprintf(st.status, sizeof(st.status), "%s", h->status);
		st.applied = h->log_applied;
		st.log = h->log_revision;
	} else if (st.rc == ANNALS_OK) {
		st.rc = err.code;
	}
	annals_free(h);
	annals_close(c);
	return st;
}

/* Waits until every running node is SERVING (caught up) at the same
 * revision and digest; 0, or -1 after timeout_ms (printing what differs). */
static int converged(cluster *cl, int timeout_ms, node_state *out)
{
	uint64_t until = now_ms() + (uint64_t)timeout_ms;
	node_state st[NODES] = {{0}};
	for (;;) {
		bool same = true;
		int first = -1;
		for (int i = 0; i < NODES; i++) {
			if (cl->n[i].pid <= 0)
				continue;
			st[i] = node_look(&cl->n[i]);
			if (first < 0)
				first = i;
			same = same && st[i].rc == ANNALS_OK && strcmp(st[i].status, "SERVING") == 0 &&
			       st[i].revision == st[first].revision && strcmp(st[i].sha, st[first].sha) == 0;
		}
		if (same && first >= 0) {
			if (out)
				*out = st[first];
			return 0;
		}
		if (now_ms() > until) {
			for (int i = 0; i < NODES; i++)
				if (cl->n[i].pid > 0)
					fprintf(
					    stderr,
					    "  n%d: rc %d %s revision %llu sha %.16s applied %llu log %llu\n",
					    i + 1, st[i].rc, st[i].status, (unsigned long long)st[i].revision,
					    st[i].sha, (unsigned long long)st[i].applied,
					    (unsigned long long)st[i].log);
			return -1;
		}
		nap_ms(200);
	}
}

static int put_person(annals_client *c, const char *id, const char *rid, uint64_t guard, bool guarded,
                      Annals__V1__WriteReply **out, annals_error *err)
{
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.summary = (char *)rid;
	Annals__V1__Guard g = ANNALS__V1__GUARD__INIT;
	g.revision = guard;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	req.guard = guarded ? &g : NULL;
	ProtobufCMessage *rep = NULL;
	annals_call_opts o = {.request_id = rid};
	int rc = annals_call(c, "PutEntity", &req.base, &rep, &o, err);
	if (out != NULL)
		*out = (Annals__V1__WriteReply *)rep;
	else
		annals_free(rep);
	return rc;
}

static int readable_with(annals_client *c, const char *id)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)id;
	Annals__V1__Entity *e = NULL;
	annals_error err;
	int rc = annals_get_entity(c, &req, &e, &err);
	annals_free(e);
	return rc == ANNALS_OK;
}

static bool readable(const th_server *s, const char *id)
{
	annals_client *c = th_client(s, 5000);
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)id;
	Annals__V1__Entity *e = NULL;
	annals_error err;
	int rc = annals_get_entity(c, &req, &e, &err);
	annals_free(e);
	annals_close(c);
	return rc == ANNALS_OK;
}

/* ---- writers that run while members die ------------------------------------ */

#define W_MAX 20000
static atomic_bool pause_hold; /* every writer waits while it is true */
typedef struct writer {
	pthread_t t;
	const th_server *node;
	char tag[16];
	atomic_bool *stop;
	atomic_bool *hold; /* while true the writer waits (NULL: never) */
	/* read by the test's thread while the writer runs */
	_Atomic long acked, unavailable, other, attempts;
	unsigned char ok[W_MAX];
	int first_other;
	char other_msg[600];
} writer;

static void *writer_main(void *arg)
{
	writer *w = arg;
	annals_client *c = th_client(w->node, 20000);
	for (long i = 0; i < W_MAX && !atomic_load(w->stop); i++) {
		while (w->hold != NULL && atomic_load(w->hold) && !atomic_load(w->stop))
			nap_ms(10);
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:%s-%ld", w->tag, i);
		snprintf(rid, sizeof(rid), "%s-%ld", w->tag, i);
		annals_error err;
		int rc = put_person(c, id, rid, 0, false, NULL, &err);
		w->attempts++;
		if (rc == ANNALS_OK) {
			w->ok[i] = 1;
			w->acked++;
		} else if (rc == ANNALS_UNAVAILABLE || rc == ANNALS_DEADLINE_EXCEEDED) {
			w->unavailable++; /* etcd could not confirm: may or may not be applied */
		} else {
			if (w->other++ == 0) {
				w->first_other = rc;
				snprintf(w->other_msg, sizeof(w->other_msg), "%s", err.message);
			}
		}
	}
	annals_close(c);
	return NULL;
}

static void writers_start(writer *ws, cluster *cl, const char *tag, atomic_bool *stop)
{
	for (int i = 0; i < NODES; i++) {
		memset(&ws[i], 0, sizeof(ws[i]));
		ws[i].hold = &pause_hold;
		ws[i].node = &cl->n[i];
		ws[i].stop = stop;
		snprintf(ws[i].tag, sizeof(ws[i].tag), "%s%d", tag, i + 1);
		pthread_create(&ws[i].t, NULL, writer_main, &ws[i]);
	}
}

/* Joins the writers; checks that no write failed for another reason than
 * etcd's, and that every acknowledged write is readable on every node. */
static long writers_check(writer *ws, cluster *cl, long *attempts)
{
	long acked = 0;
	*attempts = 0;
	for (int i = 0; i < NODES; i++) {
		pthread_join(ws[i].t, NULL);
		acked += ws[i].acked;
		*attempts += ws[i].attempts;
		printf("  writer %s: %ld acknowledged, %ld unavailable, %ld other\n", ws[i].tag, ws[i].acked,
		       ws[i].unavailable, ws[i].other);
		if (ws[i].other)
			fprintf(stderr, "  writer %s: first other failure %d: %s\n", ws[i].tag,
			        ws[i].first_other, ws[i].other_msg);
		CHECK_EQ_INT(ws[i].other, 0);
	}
	long missing = 0;
	for (int n = 0; n < NODES; n++) {
		annals_client *c = th_client(&cl->n[n], 5000);
		for (int i = 0; i < NODES; i++)
			for (long k = 0; k < ws[i].attempts; k++) {
				if (!ws[i].ok[k])
					continue;
				char id[64];
				snprintf(id, sizeof(id), "person:%s-%ld", ws[i].tag, k);
				Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
				req.id = id;
				Annals__V1__Entity *e = NULL;
				annals_error err;
				int rc = annals_get_entity(c, &req, &e, &err);
				/* a read that timed out or was turned away on a loaded
				 * machine says nothing about the write: ask again; only
				 * NOT_FOUND (or failing on) is a missing write */
				for (int again = 0; rc != ANNALS_OK && rc != ANNALS_NOT_FOUND && again < 3;
				     again++) {
					usleep(500 * 1000);
					rc = annals_get_entity(c, &req, &e, &err);
				}
				if (rc != ANNALS_OK) {
					missing++;
					fprintf(stderr, "  %s on node %d: %s: %s\n", id, n,
					        annals_status_name(rc), err.message);
				}
				annals_free(e);
			}
		annals_close(c);
	}
	CHECK_EQ_INT(missing, 0);
	return acked;
}

typedef struct racer {
	annals_client *c;
	char id[64], rid[64];
	int rc;
} racer;

static void *racer_main(void *arg)
{
	racer *r = arg;
	annals_error err;
	r->rc = put_person(r->c, r->id, r->rid, 0, true, NULL, &err); /* guard revision 0: must not exist */
	return NULL;
}

/* ---- tests -------------------------------------------------------------------------- */

/* Three empty nodes started together: the built-in data set enters the log
 * once, and every node ends with exactly what a single node seeds itself. */
static void test_cluster_seeds_once(void)
{
	th_server single;
	CHECK(th_start(&single, NULL, NULL) == 0);
	node_state want = node_look(&single);
	th_stop(&single);
	th_cleanup(&single);

	cluster cl;
	CHECK(cluster_start(&cl, "/t-seed") == 0);
	node_state got = {0};
	CHECK(converged(&cl, 20000, &got) == 0);
	CHECK_EQ_INT(got.revision, want.revision); /* one Batch: revision 1, not one per node */
	CHECK_EQ_STR(got.sha, want.sha);
	/* it came from one log entry: the same commit time on every node, and
	 * (with every node's clock alike) that could only be by the log */
	int64_t committed[NODES] = {0};
	for (int i = 0; i < NODES; i++) {
		annals_client *c = th_client(&cl.n[i], 3000);
		Annals__V1__ChangesRequest rq = ANNALS__V1__CHANGES_REQUEST__INIT;
		rq.limit = 1;
		Annals__V1__ChangesReply *rp = NULL;
		annals_error err;
		CHECK_EQ_INT(annals_changes(c, &rq, &rp, &err), ANNALS_OK);
		CHECK(rp && rp->n_changes == 1);
		if (rp && rp->n_changes == 1) {
			committed[i] = rp->changes[0]->committed_ms;
			CHECK_EQ_STR(rp->changes[0]->request_id, "annals-seed-v1");
		}
		annals_free(rp);
		annals_close(c);
	}
	CHECK(committed[0] != 0 && committed[0] == committed[1] && committed[1] == committed[2]);
	/* a node restarted on its store does not seed again */
	CHECK_EQ_INT(th_stop(&cl.n[1]), 0);
	CHECK(node_restart(&cl, 1) == 0);
	CHECK(converged(&cl, 20000, &got) == 0);
	CHECK_EQ_INT(got.revision, want.revision);
	cluster_stop(&cl);
}

/* Concurrent writes through all three nodes: every one is acknowledged,
 * and every node holds them all, in the same order (same digest). */
static void test_cluster_writes_everywhere_agree(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-writes") == 0);
	node_state base = {0};
	CHECK(converged(&cl, 20000, &base) == 0);
	atomic_bool stop = false;
	static writer ws[NODES];
	writers_start(ws, &cl, "w", &stop);
	nap_ms(3000);
	atomic_store(&stop, true);
	long attempts, acked = writers_check(ws, &cl, &attempts);
	CHECK(acked > 30);
	CHECK_EQ_INT(acked, attempts); /* nothing failed while etcd was healthy */
	node_state got = {0};
	CHECK(converged(&cl, 20000, &got) == 0);
	CHECK_EQ_INT(got.revision, base.revision + (uint64_t)acked); /* each once */
	/* the same change feed on every node: revisions, times, request ids */
	uint64_t feed[NODES] = {0};
	for (int i = 0; i < NODES; i++) {
		annals_client *c = th_client(&cl.n[i], 5000);
		Annals__V1__ChangesRequest rq = ANNALS__V1__CHANGES_REQUEST__INIT;
		rq.since = base.revision;
		rq.limit = 1000;
		Annals__V1__ChangesReply *rp = NULL;
		annals_error err;
		CHECK_EQ_INT(annals_changes(c, &rq, &rp, &err), ANNALS_OK);
		uint64_t h = 1469598103934665603ull; /* FNV-1a over what each change set says */
		for (size_t k = 0; rp && k < rp->n_changes; k++) {
			char line[300];
			int n = snprintf(line, sizeof(line), "%llu %lld %s %zu;",
			                 (unsigned long long)rp->changes[k]->revision,
			                 (long long)rp->changes[k]->committed_ms, rp->changes[k]->request_id,
			                 rp->changes[k]->n_changes);
			for (int b = 0; b < n; b++)
				h = (h ^ (unsigned char)line[b]) * 1099511628211ull;
		}
		CHECK(rp && rp->n_changes > 0);
		feed[i] = h;
		annals_free(rp);
		annals_close(c);
	}
	CHECK(feed[0] == feed[1] && feed[1] == feed[2]);
	printf("  %ld writes through 3 nodes, revision %llu on every node\n", acked,
	       (unsigned long long)got.revision);
	cluster_stop(&cl);
}

/* A resend to another node is answered with the first outcome and changes
 * nothing; two nodes racing a create guarded "must not exist": one wins. */
static void test_cluster_resend_and_guard(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-resend") == 0);
	CHECK(converged(&cl, 20000, NULL) == 0);
	annals_client *a = th_client(&cl.n[0], 20000), *b = th_client(&cl.n[1], 20000);
	Annals__V1__WriteReply *r1 = NULL, *r2 = NULL;
	annals_error err;
	CHECK_EQ_INT(put_person(a, "person:resent", "rid-resent", 0, false, &r1, &err), ANNALS_OK);
	CHECK_EQ_INT(put_person(b, "person:resent", "rid-resent", 0, false, &r2, &err), ANNALS_OK);
	CHECK(r1 && r2 && r1->revision == r2->revision);
	node_state st = {0};
	CHECK(converged(&cl, 20000, &st) == 0);
	CHECK(r1 && st.revision == r1->revision); /* the resend took no revision */
	annals_free(r1);
	annals_free(r2);

	/* create-if-absent raced from two nodes: both proposals are in flight
	 * together and meet in etcd's order; the second sees the first's record */
	for (int round = 0; round < 5; round++) {
		racer x = {.c = a}, y = {.c = b};
		snprintf(x.id, sizeof(x.id), "person:race-%d", round);
		snprintf(y.id, sizeof(y.id), "person:race-%d", round);
		snprintf(x.rid, sizeof(x.rid), "race-a-%d", round);
		snprintf(y.rid, sizeof(y.rid), "race-b-%d", round);
		pthread_t tx, ty;
		pthread_create(&tx, NULL, racer_main, &x);
		pthread_create(&ty, NULL, racer_main, &y);
		pthread_join(tx, NULL);
		pthread_join(ty, NULL);
		CHECK((x.rc == ANNALS_OK) != (y.rc == ANNALS_OK)); /* exactly one winner */
		int loser = x.rc == ANNALS_OK ? y.rc : x.rc;
		CHECK_EQ_INT(loser, ANNALS_FAILED_PRECONDITION);
	}
	node_state st2 = {0};
	CHECK(converged(&cl, 20000, &st2) == 0);
	CHECK_EQ_INT(st2.revision, st.revision + 5);
	annals_close(a);
	annals_close(b);
	cluster_stop(&cl);
}

/* A node SIGKILLed under writes, restarted on its store, catches up from
 * the log and ends with the same records as the others. */
static void test_cluster_node_killed_catches_up(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-node") == 0);
	CHECK(converged(&cl, 20000, NULL) == 0);
	atomic_bool stop = false;
	static writer ws[NODES];
	/* writers on n1 and n2 only: n3 goes down */
	writers_start(ws, &cl, "k", &stop);
	nap_ms(1000);
	th_kill(&cl.n[2]);
	nap_ms(2000);
	CHECK(node_restart(&cl, 2) == 0);
	nap_ms(1000);
	atomic_store(&stop, true);
	for (int i = 0; i < NODES; i++)
		pthread_join(ws[i].t, NULL);
	/* the writer of n3 lost its node for a while: its failures are
	 * connection errors, not checked here; n1's and n2's must be clean */
	CHECK_EQ_INT(ws[0].other + ws[0].unavailable, 0);
	CHECK_EQ_INT(ws[1].other + ws[1].unavailable, 0);
	node_state st = {0};
	CHECK(converged(&cl, 30000, &st) == 0);
	long missing = 0;
	for (int i = 0; i < 2; i++)
		for (long k = 0; k < ws[i].attempts; k++) {
			char id[64];
			snprintf(id, sizeof(id), "person:%s-%ld", ws[i].tag, k);
			if (ws[i].ok[k] && !readable(&cl.n[2], id))
				missing++;
		}
	CHECK_EQ_INT(missing, 0);
	printf("  n3 killed and restarted under %ld + %ld writes; caught up at revision %llu\n", ws[0].acked,
	       ws[1].acked, (unsigned long long)st.revision);
	cluster_stop(&cl);
}

/* The etcd leader SIGKILLed under writes through all three nodes: writes
 * go on after the election, no acknowledged write is lost, none applied
 * twice; the member restarts and rejoins. */
static void test_cluster_etcd_leader_killed(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-leader") == 0);
	node_state base = {0};
	CHECK(converged(&cl, 20000, &base) == 0);
	atomic_bool stop = false;
	static writer ws[NODES];
	writers_start(ws, &cl, "l", &stop);
	nap_ms(1500);
	int leader = te_leader(&etcd);
	CHECK(leader >= 0);
	long before = ws[0].acked + ws[1].acked + ws[2].acked;
	if (leader >= 0)
		te_kill(&etcd, leader);
	nap_ms(4000);
	long during = ws[0].acked + ws[1].acked + ws[2].acked - before;
	if (leader >= 0)
		CHECK(te_restart(&etcd, leader) == 0);
	nap_ms(2000);
	/* and a follower */
	int now_leader = te_leader(&etcd), follower = -1;
	for (int i = 0; i < etcd.n && follower < 0; i++)
		if (i != now_leader)
			follower = i;
	long before_f = ws[0].acked + ws[1].acked + ws[2].acked;
	te_kill(&etcd, follower);
	nap_ms(3000);
	long during_f = ws[0].acked + ws[1].acked + ws[2].acked - before_f;
	CHECK(te_restart(&etcd, follower) == 0);
	nap_ms(1000);
	atomic_store(&stop, true);
	CHECK(during_f > 0);
	printf("  follower e%d killed: %ld writes acknowledged in the 3 s after\n", follower, during_f);
	long attempts, acked = writers_check(ws, &cl, &attempts);
	CHECK(during > 0); /* writes went on with two members */
	node_state st = {0};
	CHECK(converged(&cl, 30000, &st) == 0);
	/* each acknowledged write took one revision; an unconfirmed one may
	 * have too; nothing took two */
	CHECK(st.revision >= base.revision + (uint64_t)acked);
	CHECK(st.revision <= base.revision + (uint64_t)attempts);
	printf("  leader e%d killed: %ld writes acknowledged (%ld in the 4 s after), %ld attempted, revision "
	       "+%llu\n",
	       leader, acked, during, attempts, (unsigned long long)(st.revision - base.revision));
	cluster_stop(&cl);
}

/* SIGSTOPs member m for ms under the writers: writes must go on meanwhile,
 * and every node must catch up while it is still stopped. */
static void pause_under_writes(cluster *cl, writer *ws, int m, int ms, const char *what)
{
	long before = ws[0].acked + ws[1].acked + ws[2].acked;
	te_pause(&etcd, m, true);
	nap_ms(ms);
	long during = ws[0].acked + ws[1].acked + ws[2].acked - before;
	/* the writers hold still, the member stays stopped: every node must catch up */
	atomic_store(&pause_hold, true);
	nap_ms(300); /* calls in flight end */
	node_state st = {0};
	int conv = converged(cl, 20000, &st);
	te_pause(&etcd, m, false);
	atomic_store(&pause_hold, false);
	CHECK(conv == 0);
	CHECK(during > 0);
	printf("  %s (e%d) stopped %d s: %ld writes acknowledged meanwhile; caught up at revision %llu\n",
	       what, m, ms / 1000, during, (unsigned long long)st.revision);
}

/* Members SIGSTOPped (alive, silent: no error, no closed connection) under
 * writes: member 0 for 6 s (every node's first endpoint, so every watch is
 * on it: each must notice the silence and move), then the leader for 10 s.
 * Nodes move their puts and watches to other members; nothing acknowledged
 * is lost or applied twice. */
static void test_cluster_etcd_member_paused(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-pause") == 0);
	node_state base = {0};
	CHECK(converged(&cl, 20000, &base) == 0);
	atomic_bool stop = false;
	static writer ws[NODES];
	writers_start(ws, &cl, "p", &stop);
	nap_ms(1000);
	pause_under_writes(&cl, ws, 0, 6000, "member");
	int leader = te_leader(&etcd);
	CHECK(leader >= 0);
	if (leader >= 0)
		pause_under_writes(&cl, ws, leader, 10000, "the leader");
	atomic_store(&stop, true);
	long attempts, acked = writers_check(ws, &cl, &attempts);
	node_state st = {0};
	CHECK(converged(&cl, 30000, &st) == 0);
	CHECK(st.revision >= base.revision + (uint64_t)acked);
	CHECK(st.revision <= base.revision + (uint64_t)attempts);
	cluster_stop(&cl);
}

/* Every etcd member down: writes are refused UNAVAILABLE with what to do,
 * reads go on from the local store, Health says CATCHING_UP; once etcd is
 * back, writes are accepted again and the nodes agree. */
static void test_cluster_etcd_down(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-down") == 0);
	CHECK(converged(&cl, 20000, NULL) == 0);
	annals_client *c = th_client(&cl.n[0], 30000);
	annals_error err;
	CHECK_EQ_INT(put_person(c, "person:before-down", "down-1", 0, false, NULL, &err), ANNALS_OK);
	CHECK(converged(&cl, 20000, NULL) == 0);
	for (int i = 0; i < etcd.n; i++)
		te_kill(&etcd, i);
	uint64_t t0 = now_ms();
	int rc = put_person(c, "person:while-down", "down-2", 0, false, NULL, &err);
	uint64_t took = now_ms() - t0;
	CHECK_EQ_INT(rc, ANNALS_UNAVAILABLE);
	CHECK_CONTAINS(err.message, "same request_id");
	CHECK(took < 20000);
	CHECK(readable(&cl.n[1], "person:before-down"));
	bool catching_up = false;
	for (int i = 0; i < 100 && !catching_up; i++) {
		node_state st = node_look(&cl.n[2]);
		catching_up = strcmp(st.status, "CATCHING_UP") == 0;
		if (!catching_up)
			nap_ms(200);
	}
	CHECK(catching_up);
	for (int i = 0; i < etcd.n; i++)
		CHECK(te_restart(&etcd, i) == 0);
	/* the same request id again: applied once, whether or not the first try was */
	rc = ANNALS_UNAVAILABLE;
	for (int i = 0; i < 30 && rc != ANNALS_OK; i++) {
		rc = put_person(c, "person:while-down", "down-2", 0, false, NULL, &err);
		if (rc != ANNALS_OK)
			nap_ms(500);
	}
	CHECK_EQ_INT(rc, ANNALS_OK);
	CHECK(converged(&cl, 30000, NULL) == 0);
	CHECK(readable(&cl.n[2], "person:while-down"));
	printf("  all of etcd down: a write was refused UNAVAILABLE after %llu ms\n",
	       (unsigned long long)took);
	annals_close(c);
	cluster_stop(&cl);
}

/* Cluster flags that do not go together are refused at start, saying what to do. */
static void test_cluster_flags_checked(void)
{
	th_server s;
	const char *no_name[] = {"--cluster", etcd.endpoints, NULL};
	CHECK(th_spawn_at(&s, "tcp://127.0.0.1:1", no_name, NULL, NULL) == 0);
	CHECK(th_wait_exit(&s, 10000) > 0);
	char *log = th_read_file(s.log);
	CHECK_CONTAINS(log, "--node-name");
	free(log);
	th_cleanup(&s);
	const char *bad_ep[] = {"--cluster", "etcd://nohostport", "--node-name", "x", NULL};
	CHECK(th_spawn_at(&s, "tcp://127.0.0.1:1", bad_ep, NULL, NULL) == 0);
	CHECK(th_wait_exit(&s, 10000) > 0);
	log = th_read_file(s.log);
	CHECK_CONTAINS(log, "HOST:PORT");
	free(log);
	th_cleanup(&s);
}

/* Read-your-writes on another node: a read with min_revision waits for the
 * node to apply that revision (parked, answered once applied), and one
 * asking for a revision nobody has is refused UNAVAILABLE at its deadline;
 * a linearizable read on another node sees every write acknowledged before
 * it, every time. */
typedef struct waiting_read {
	const th_server *node;
	const char *id;
	uint64_t min_revision;
	int rc;
	uint64_t took_ms;
} waiting_read;

static void *waiting_read_main(void *arg)
{
	waiting_read *r = arg;
	annals_client *c = th_client(r->node, 10000);
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)r->id;
	ProtobufCMessage *rep = NULL;
	annals_error err;
	annals_call_opts o = {.min_revision = r->min_revision, .timeout_ms = 8000};
	uint64_t t0 = now_ms();
	r->rc = annals_call(c, "GetEntity", &req.base, &rep, &o, &err);
	r->took_ms = now_ms() - t0;
	annals_free(rep);
	annals_close(c);
	return NULL;
}

static void test_cluster_read_your_writes(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-ryw") == 0);
	node_state st = {0};
	CHECK(converged(&cl, 20000, &st) == 0);
	/* a read on n2 for the next revision parks; a write through n1 ends the wait */
	waiting_read r = {.node = &cl.n[1], .id = "person:ryw-1", .min_revision = st.revision + 1};
	pthread_t t;
	pthread_create(&t, NULL, waiting_read_main, &r);
	nap_ms(700);
	annals_client *a = th_client(&cl.n[0], 10000);
	annals_error err;
	Annals__V1__WriteReply *wr = NULL;
	CHECK_EQ_INT(put_person(a, "person:ryw-1", "ryw-1", 0, false, &wr, &err), ANNALS_OK);
	CHECK(wr && wr->revision == st.revision + 1);
	annals_free(wr);
	pthread_join(t, NULL);
	CHECK_EQ_INT(r.rc, ANNALS_OK); /* it waited, then saw the write */
	CHECK(r.took_ms >= 600);
	/* a revision no node has: UNAVAILABLE at the deadline, naming what it has */
	annals_client *b = th_client(&cl.n[1], 10000);
	Annals__V1__GetRequest gq = ANNALS__V1__GET_REQUEST__INIT;
	gq.id = "person:ryw-1";
	ProtobufCMessage *rep = NULL;
	annals_call_opts far = {.min_revision = st.revision + 1000, .timeout_ms = 3000};
	uint64_t t0 = now_ms();
	CHECK_EQ_INT(annals_call(b, "GetEntity", &gq.base, &rep, &far, &err), ANNALS_UNAVAILABLE);
	CHECK(now_ms() - t0 >= 2500);
	CHECK_CONTAINS(err.message, "store revision");
	annals_free(rep);
	/* linearizable reads on n3 right after each acknowledged write on n1 */
	annals_client *c3 = th_client(&cl.n[2], 10000);
	int seen = 0;
	for (int i = 0; i < 40; i++) {
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:lin-%d", i);
		snprintf(rid, sizeof(rid), "lin-%d", i);
		if (put_person(a, id, rid, 0, false, NULL, &err) != ANNALS_OK)
			continue;
		Annals__V1__GetRequest lq = ANNALS__V1__GET_REQUEST__INIT;
		lq.id = id;
		annals_call_opts lin = {.linearizable = 1, .timeout_ms = 5000};
		if (annals_call(c3, "GetEntity", &lq.base, &rep, &lin, &err) == ANNALS_OK)
			seen++;
		else
			fprintf(stderr, "  linearizable read of %s: %s\n", id, err.message);
		annals_free(rep);
	}
	CHECK_EQ_INT(seen, 40);
	/* the client library's read_your_writes: its own writes, then reads, over a node list */
	char urls[700];
	snprintf(urls, sizeof(urls), "%s,%s,%s", cl.n[0].url, cl.n[1].url, cl.n[2].url);
	annals_options ro = {.timeout_ms = 5000, .read_your_writes = 1};
	annals_client *any = NULL;
	CHECK_EQ_INT(annals_open(&any, urls, &ro, &err), ANNALS_OK);
	int found = 0;
	for (int i = 0; any && i < 40; i++) {
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:own-%d", i);
		snprintf(rid, sizeof(rid), "own-%d", i);
		CHECK_EQ_INT(put_person(any, id, rid, 0, false, NULL, &err), ANNALS_OK);
		found += readable_with(any, id);
	}
	CHECK_EQ_INT(found, 40);
	annals_close(any);
	printf(
	    "  a read for the next revision waited %llu ms for it; 40/40 linearizable reads on n3 saw n1's "
	    "write\n",
	    (unsigned long long)r.took_ms);
	annals_close(a);
	annals_close(b);
	annals_close(c3);
	cluster_stop(&cl);
}

/* A client given every node's URL keeps writing while one node is killed:
 * its calls fail over to the others (same request_id, applied once). */
static void test_cluster_client_fails_over(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-failover") == 0);
	node_state base = {0};
	CHECK(converged(&cl, 20000, &base) == 0);
	char urls[700];
	snprintf(urls, sizeof(urls), "%s,%s,%s", cl.n[0].url, cl.n[1].url, cl.n[2].url);
	annals_options o = {.timeout_ms = 10000};
	annals_client *c = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_open(&c, urls, &o, &err), ANNALS_OK);
	int ok = 0, failed = 0;
	for (int i = 0; c && i < 300; i++) {
		if (i == 100)
			th_kill(&cl.n[1]);
		if (i == 200)
			CHECK(node_restart(&cl, 1) == 0);
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:fo-%d", i);
		snprintf(rid, sizeof(rid), "fo-%d", i);
		if (put_person(c, id, rid, 0, false, NULL, &err) == ANNALS_OK)
			ok++;
		else if (failed++ == 0)
			fprintf(stderr, "  write %d: %s\n", i, err.message);
	}
	annals_close(c);
	CHECK_EQ_INT(ok, 300);
	CHECK_EQ_INT(failed, 0);
	node_state st = {0};
	CHECK(converged(&cl, 30000, &st) == 0);
	CHECK_EQ_INT(st.revision, base.revision + 300); /* each once */
	cluster_stop(&cl);
}

/* `annals cluster status` lists every node with its status and lag. */
static void test_cluster_status_cli(void)
{
	cluster cl;
	CHECK(cluster_start(&cl, "/t-status") == 0);
	CHECK(converged(&cl, 20000, NULL) == 0);
	nap_ms(3500); /* the registry is read every 3 s */
	char bin[512], cmd[1200];
	th_bin("annals", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s --server %s cluster status 2>&1", bin, cl.n[0].url);
	FILE *p = popen(cmd, "r");
	char out[4096] = "";
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	int rc = p ? pclose(p) : -1;
	CHECK_EQ_INT(rc, 0);
	CHECK_CONTAINS(out, "NAME");
	for (int i = 0; i < NODES; i++) {
		char row[300];
		snprintf(row, sizeof(row), "%s", cl.n[i].url);
		CHECK_CONTAINS(out, row);
	}
	CHECK_CONTAINS(out, "SERVING");
	CHECK(strstr(out, "DOWN") == NULL);
	/* and etcd's members: every endpoint healthy, exactly one leader */
	CHECK_CONTAINS(out, "ETCD ENDPOINT");
	int leaders = 0, healthy = 0;
	for (const char *q = strstr(out, "ETCD ENDPOINT"); q && (q = strchr(q, '\n')) != NULL; q++) {
		char ep[128], h[16], l[16];
		if (sscanf(q + 1, "%127s %15s %15s", ep, h, l) == 3) {
			healthy += strcmp(h, "true") == 0;
			leaders += strcmp(l, "true") == 0;
		}
	}
	CHECK_EQ_INT(healthy, 3);
	CHECK_EQ_INT(leaders, 1);
	if (check_failed_now)
		fprintf(stderr, "%s", out);
	cluster_stop(&cl);
}

/* Compaction keeps etcd's history bounded below the slowest live node; a
 * node that was down past it says so (no reads, Health CATCHING_UP) and is
 * restored from a peer's hot backup, from which it catches up. */
static void test_cluster_compaction_and_restore(void)
{
	cluster cl;
	const char *extra[] = {"--cluster-keep", "20", "--cluster-compact-s", "1", NULL};
	CHECK(cluster_start_with(&cl, "/t-compact", extra) == 0);
	CHECK(converged(&cl, 20000, NULL) == 0);
	CHECK_EQ_INT(th_stop(&cl.n[2]), 0); /* leaves the registry */
	annals_client *a = th_client(&cl.n[0], 10000);
	annals_error err;
	for (int i = 0; i < 150; i++) {
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:cmp-%d", i);
		snprintf(rid, sizeof(rid), "cmp-%d", i);
		CHECK_EQ_INT(put_person(a, id, rid, 0, false, NULL, &err), ANNALS_OK);
	}
	bool compacted = false;
	for (int i = 0; i < 100 && !compacted; i++) {
		char *log = th_read_file(cl.n[0].log);
		compacted = strstr(log, "cluster_compacted") != NULL;
		free(log);
		if (!compacted)
			nap_ms(200);
	}
	CHECK(compacted);
	/* n3 back on its old store: behind the compacted history */
	CHECK(node_restart(&cl, 2) == 0);
	bool says_so = false;
	for (int i = 0; i < 50 && !says_so; i++) {
		node_state st = node_look(&cl.n[2]);
		says_so = strcmp(st.status, "CATCHING_UP") == 0 && st.rc == ANNALS_UNAVAILABLE;
		if (!says_so)
			nap_ms(200);
	}
	CHECK(says_so); /* Health: CATCHING_UP; reads (Digest): UNAVAILABLE */
	CHECK_EQ_INT(th_stop(&cl.n[2]), 0);
	th_cleanup(&cl.n[2]);
	/* restore: a new n3 on an empty directory, its store fetched from n1 */
	cl.extra[4] = "--restore-from";
	cl.extra[5] = cl.n[0].url;
	CHECK(node_start(&cl, 2) == 0);
	char *log3 = th_read_file(cl.n[2].log);
	CHECK_CONTAINS(log3, "restore_done");
	free(log3);
	for (int i = 150; i < 160; i++) { /* and the log goes on */
		char id[64], rid[64];
		snprintf(id, sizeof(id), "person:cmp-%d", i);
		snprintf(rid, sizeof(rid), "cmp-%d", i);
		CHECK_EQ_INT(put_person(a, id, rid, 0, false, NULL, &err), ANNALS_OK);
	}
	CHECK(converged(&cl, 30000, NULL) == 0);
	CHECK(readable(&cl.n[2], "person:cmp-159"));
	annals_close(a);
	cluster_stop(&cl);
}

int main(void)
{
	if (te_binary() == NULL) {
		printf("FAIL test_cluster (no etcd: install Debian's etcd-server, or set ANNALS_ETCD)\n");
		return 1;
	}
	if (te_start(&etcd, 3) != 0) {
		printf("FAIL test_cluster (a 3-member etcd cluster did not start; logs in %s)\n", etcd.dir);
		te_stop(&etcd);
		return 1;
	}
	RUN(test_cluster_seeds_once);
	RUN(test_cluster_writes_everywhere_agree);
	RUN(test_cluster_resend_and_guard);
	RUN(test_cluster_node_killed_catches_up);
	RUN(test_cluster_etcd_leader_killed);
	RUN(test_cluster_etcd_member_paused);
	RUN(test_cluster_etcd_down);
	RUN(test_cluster_flags_checked);
	RUN(test_cluster_read_your_writes);
	RUN(test_cluster_client_fails_over);
	RUN(test_cluster_status_cli);
	RUN(test_cluster_compaction_and_restore);
	te_stop(&etcd);
	return CHECK_DONE();
}

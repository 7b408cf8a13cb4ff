/*
 * test_crash — acknowledged writes survive SIGKILL.
 *
 * A loop of CRASH_KILLS cycles (default 20; `make test-crash` runs 100):
 *
 *   start annalsd on the same data directory (a small initial map, so the
 *   map also grows under the kills) -> verify -> let writers run -> SIGKILL
 *   at a random moment -> stop the writers -> start again -> verify ...
 *
 * Every few cycles the kill comes right after exec, before the server has
 * answered anything (the first cycle kills it while it loads the built-in
 * data), to check start-up itself is crash-safe.
 *
 * The writers: CRASH_WRITERS threads (default 4), each with its own client
 * and its own records, doing single PutEntity calls, Batches of 2..8 new
 * entities (half of them also moving the thread's counter entity), and
 * counter updates alone. Each logical write carries a request_id; one that
 * gets no answer (the server died) stays "in flight" and is resent with the
 * same request_id once the server is back, until it gets an answer. A write
 * goes into the ack log (and into the expectations) only after its OK.
 * When `annals-bench --ack-log` exists it runs beside them (PutEvent, 8 in
 * flight) and its ack log is checked too.
 *
 * After each restart, with the writers paused:
 *   - the server starts and answers; no LMDB reader slot of a dead process
 *     is left (annalsd clears stale readers when it opens the store);
 *   - the revision has not gone backwards: not below the last revision seen
 *     nor below any acknowledged revision;
 *   - every acknowledged record exists with exactly the content written and
 *     the revision its WriteReply named (all of the last cycle's, all
 *     in-flight ones, a sample of older ones; everything at the end);
 *   - every acknowledged Batch is there whole; a Batch in flight at the
 *     kill is there whole or not at all; a counter holds its last
 *     acknowledged value or the in-flight one, consistently with the Batch
 *     that carried it;
 *   - every annals-bench acknowledgement reads back as the event it wrote.
 *
 * CRASH_SEED=n repeats a run's random choices; CRASH_KEEP=1 keeps the data
 * directory, logs and ack logs for a look afterwards.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"

#define MAX_WRITERS     16
#define CALL_TIMEOUT_MS 1500

/* ---- the server process --------------------------------------------------------- */

static char g_dir[200], g_log[300], g_url[160], g_bin[512];
static pid_t g_pid;
static uint64_t g_seed;

static uint64_t rnd(void)
{
	g_seed ^= g_seed << 13;
	g_seed ^= g_seed >> 7;
	g_seed ^= g_seed << 17;
	return g_seed;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static pid_t spawn_server(void)
{
	const char *argv[] = {g_bin, "--listen", g_url, "--data", g_dir, "--map-size", "1048576", NULL};
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(g_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(g_bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int health(annals_client *c, uint64_t *rev)
{
	Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *rep = NULL;
	annals_error err;
	int rc = annals_health(c, &req, &rep, &err);
	if (rc == ANNALS_OK && rev)
		*rev = rep->revision;
	annals_free(rep);
	return rc;
}

/* Waits until Health answers; -1 when the process exited or 20 s passed. */
static int wait_healthy(pid_t pid, uint64_t *rev)
{
	for (int i = 0; i < 400; i++) {
		annals_client *c = NULL;
		annals_options o = {.timeout_ms = 1000};
		annals_error err;
		if (annals_open(&c, g_url, &o, &err) == ANNALS_OK) {
			int rc = health(c, rev);
			annals_close(c);
			if (rc == ANNALS_OK)
				return 0;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "  annalsd exited during start-up (status %d); log: %s\n", st, g_log);
			return -1;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "  annalsd did not answer within 20 s; log: %s\n", g_log);
	return -1;
}

static void kill_server(void)
{
	if (g_pid > 0) {
		kill(g_pid, SIGKILL);
		waitpid(g_pid, NULL, 0);
	}
	g_pid = 0;
}

/* Reader slots of processes that no longer exist: LMDB lists readers as
 * "pid thread txnid" lines.
 *
 * Why this test keeps the environment open itself (read-only, no
 * transactions) from the first start on: when the process that opens an
 * LMDB environment is its only user, LMDB resets the whole lock file (and
 * with it every stale reader slot) on its own. Slots of a killed process
 * stay only while another process has the environment open, as a backup
 * tool or `mdb_stat` would. With this process holding it, the slots of the
 * killed annalsd survive the kill, and only annalsd's mdb_reader_check at
 * start-up can clear them. (So it must never be opened while no server
 * runs: this process would then be the first user and reset the table.) */
static MDB_env *g_env;

static int hold_env(void)
{
	if (g_env)
		return 0;
	if (mdb_env_create(&g_env) != 0)
		return -1;
	mdb_env_set_maxdbs(g_env, 32);
	int rc = mdb_env_open(g_env, g_dir, MDB_RDONLY | MDB_NOTLS, 0600);
	if (rc != 0) {
		fprintf(stderr, "  cannot open the environment read-only: %s\n", mdb_strerror(rc));
		mdb_env_close(g_env);
		g_env = NULL;
		return -1;
	}
	return 0;
}

static int dead_reader_cb(const char *msg, void *ctx)
{
	int *dead = ctx;
	long pid = 0;
	if (sscanf(msg, " %ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		(*dead)++;
	return 0;
}

static int dead_readers(void)
{
	int dead = 0;
	if (g_env == NULL)
		return -1;
	mdb_reader_list(g_env, dead_reader_cb, &dead);
	return dead;
}

/* ---- what the writers did ---------------------------------------------------------- */

typedef enum { OP_PUT, OP_BATCH, OP_COUNTER } op_kind;

typedef struct op_rec {
	op_kind kind;
	int writer;
	uint64_t first_seq; /* entities first_seq .. first_seq + n - 1 */
	int n;              /* new entities */
	uint64_t counter;   /* the counter value it sets; 0: does not touch the counter */
	char rid[48];
	bool acked;
	uint64_t revision; /* from the WriteReply / BatchReply */
	int cycle;         /* when it was acknowledged */
} op_rec;

typedef struct writer {
	int idx;
	pthread_t th;
	annals_client *c;
	uint64_t next_seq;
	uint64_t counter_acked; /* last acknowledged counter value (0: never set) */
	uint64_t counter_rev;
	uint64_t last_rev; /* revision of its last acknowledged write */
	op_rec *ops;       /* every logical write, in order */
	size_t n_ops, cap_ops;
	int errors; /* refused writes, revisions going back: test failures */
	char first_error[300];
} writer;

static writer g_writers[MAX_WRITERS];
static int g_n_writers = 4;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static bool g_running, g_quit;
static int g_parked;
static atomic_int g_cycle;
static FILE *g_acklog;
static atomic_uint_fast64_t g_max_acked_rev;
static atomic_int g_resends_answered;

static void ack_log(const op_rec *op)
{
	pthread_mutex_lock(&g_lock);
	fprintf(g_acklog, "%s w%d kind=%d seq=%llu n=%d counter=%llu revision=%llu\n", op->rid, op->writer,
	        (int)op->kind, (unsigned long long)op->first_seq, op->n, (unsigned long long)op->counter,
	        (unsigned long long)op->revision);
	fflush(g_acklog);
	pthread_mutex_unlock(&g_lock);
	uint64_t cur = atomic_load(&g_max_acked_rev);
	while (op->revision > cur && !atomic_compare_exchange_weak(&g_max_acked_rev, &cur, op->revision))
		;
}

/* The content of entity seq of writer w: deterministic, so it can be
 * rebuilt to compare with what the server returns. Sizes vary. */
typedef struct ent_buf {
	char id[64], name[64], summary[1200], seqtxt[24];
	Annals__V1__Name nm;
	Annals__V1__Name *names[1];
	Annals__V1__Attribute at;
	Annals__V1__Attribute *ats[1];
	Annals__V1__Entity e;
} ent_buf;

static void make_entity(ent_buf *b, int w, uint64_t seq)
{
	snprintf(b->id, sizeof(b->id), "person:crash-%d-%llu", w, (unsigned long long)seq);
	snprintf(b->name, sizeof(b->name), "Crash Writer %d Record %llu", w, (unsigned long long)seq);
	size_t len = (size_t)((seq * 2654435761u + (uint64_t)w * 97) % 1000);
	for (size_t i = 0; i < len; i++)
		b->summary[i] = (char)('a' + (seq + i * 7 + (uint64_t)w) % 26);
	b->summary[len] = '\0';
	snprintf(b->seqtxt, sizeof(b->seqtxt), "%llu", (unsigned long long)seq);
	annals__v1__name__init(&b->nm);
	b->nm.text = b->name;
	b->nm.kind = ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL;
	b->names[0] = &b->nm;
	annals__v1__attribute__init(&b->at);
	b->at.key = "seq";
	b->at.value = b->seqtxt;
	b->ats[0] = &b->at;
	annals__v1__entity__init(&b->e);
	b->e.id = b->id;
	b->e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	b->e.n_names = 1;
	b->e.names = b->names;
	b->e.n_attributes = 1;
	b->e.attributes = b->ats;
	b->e.summary = b->summary;
}

static void make_counter(ent_buf *b, int w, uint64_t value)
{
	snprintf(b->id, sizeof(b->id), "group:crash-counter-%d", w);
	snprintf(b->name, sizeof(b->name), "Crash Counter %d", w);
	snprintf(b->summary, sizeof(b->summary), "counter of writer %d at %llu", w,
	         (unsigned long long)value);
	snprintf(b->seqtxt, sizeof(b->seqtxt), "%llu", (unsigned long long)value);
	annals__v1__name__init(&b->nm);
	b->nm.text = b->name;
	b->names[0] = &b->nm;
	annals__v1__attribute__init(&b->at);
	b->at.key = "value";
	b->at.value = b->seqtxt;
	b->ats[0] = &b->at;
	annals__v1__entity__init(&b->e);
	b->e.id = b->id;
	b->e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP;
	b->e.n_names = 1;
	b->e.names = b->names;
	b->e.n_attributes = 1;
	b->e.attributes = b->ats;
	b->e.summary = b->summary;
}

static op_rec *new_op(writer *w, op_kind kind)
{
	if (w->n_ops == w->cap_ops) {
		w->cap_ops = w->cap_ops ? w->cap_ops * 2 : 256;
		op_rec *grown = realloc(w->ops, w->cap_ops * sizeof(*w->ops));
		if (grown == NULL) {
			fprintf(stderr, "test_crash: out of memory\n");
			abort();
		}
		w->ops = grown;
	}
	assert(w->ops != NULL);
	op_rec *op = &w->ops[w->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->writer = w->idx;
	snprintf(op->rid, sizeof(op->rid), "crash-%d-%zu-%llx", w->idx, w->n_ops, (unsigned long long)g_seed);
	return op;
}

static bool transient(int code)
{
	return code == ANNALS_UNAVAILABLE || code == ANNALS_DEADLINE_EXCEEDED || code == ANNALS_CANCELLED;
}

/* Sends op once. 1: answered OK, 0: no answer (resend later), -1: refused. */
static int send_op(writer *w, op_rec *op)
{
	ent_buf *bufs = calloc((size_t)op->n + 1, sizeof(ent_buf));
	annals_call_opts opts = {.request_id = op->rid};
	annals_error err;
	ProtobufCMessage *reply = NULL;
	int rc;
	if (op->kind == OP_BATCH) {
		Annals__V1__Op *ops = calloc((size_t)op->n + 1, sizeof(*ops));
		Annals__V1__Op **ptrs = calloc((size_t)op->n + 1, sizeof(*ptrs));
		size_t k = 0;
		for (int i = 0; i < op->n; i++, k++) {
			make_entity(&bufs[i], w->idx, op->first_seq + (uint64_t)i);
			annals__v1__op__init(&ops[k]);
			ops[k].op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
			ops[k].put_entity = &bufs[i].e;
			ptrs[k] = &ops[k];
		}
		if (op->counter) {
			make_counter(&bufs[op->n], w->idx, op->counter);
			annals__v1__op__init(&ops[k]);
			ops[k].op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
			ops[k].put_entity = &bufs[op->n].e;
			ptrs[k] = &ops[k];
			k++;
		}
		Annals__V1__BatchRequest req = ANNALS__V1__BATCH_REQUEST__INIT;
		req.n_ops = k;
		req.ops = ptrs;
		rc = annals_call(w->c, "Batch", &req.base, &reply, &opts, &err);
		if (rc == ANNALS_OK) {
			Annals__V1__BatchReply *br = (Annals__V1__BatchReply *)reply;
			op->revision = br->revision;
			if (br->n_results != k) {
				rc = ANNALS_INTERNAL;
				snprintf(err.message, sizeof(err.message),
				         "BatchReply has %zu results for %zu ops", br->n_results, k);
			}
		}
		free(ops);
		free(ptrs);
	} else {
		if (op->kind == OP_PUT)
			make_entity(&bufs[0], w->idx, op->first_seq);
		else
			make_counter(&bufs[0], w->idx, op->counter);
		Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
		req.entity = &bufs[0].e;
		rc = annals_call(w->c, "PutEntity", &req.base, &reply, &opts, &err);
		if (rc == ANNALS_OK)
			op->revision = ((Annals__V1__WriteReply *)reply)->revision;
	}
	annals_free(reply);
	free(bufs);
	if (rc == ANNALS_OK)
		return 1;
	if (transient(rc))
		return 0;
	if (w->errors++ == 0)
		snprintf(w->first_error, sizeof(w->first_error), "%s (%s): %.200s", op->rid,
		         annals_status_name(rc), err.message);
	return -1;
}

/* Blocks while paused; false when the run is over. */
static bool writer_gate(void)
{
	pthread_mutex_lock(&g_lock);
	if (!g_running) {
		g_parked++;
		pthread_cond_broadcast(&g_cond);
		while (!g_running && !g_quit)
			pthread_cond_wait(&g_cond, &g_lock);
		g_parked--;
	}
	bool go = !g_quit;
	pthread_mutex_unlock(&g_lock);
	return go;
}

static void *writer_main(void *arg)
{
	writer *w = arg;
	uint64_t local_seed = g_seed ^ ((uint64_t)w->idx * 0x9e3779b97f4a7c15ull);
	while (writer_gate()) {
		/* the last write is still in flight: resend it, same request_id */
		op_rec *op = w->n_ops ? &w->ops[w->n_ops - 1] : NULL;
		bool resend = op && !op->acked;
		if (!resend) {
			local_seed ^= local_seed << 13, local_seed ^= local_seed >> 7,
			    local_seed ^= local_seed << 17;
			unsigned pick = (unsigned)(local_seed % 100);
			if (pick < 55) {
				op = new_op(w, OP_PUT);
				op->first_seq = w->next_seq++;
				op->n = 1;
			} else if (pick < 85) {
				op = new_op(w, OP_BATCH);
				op->n = 2 + (int)((local_seed >> 20) % 7);
				op->first_seq = w->next_seq;
				w->next_seq += (uint64_t)op->n;
				if ((local_seed >> 30) & 1)
					op->counter = w->counter_acked + 1;
			} else {
				op = new_op(w, OP_COUNTER);
				op->counter = w->counter_acked + 1;
			}
		}
		int r = send_op(w, op);
		if (r == 1) {
			if (resend)
				atomic_fetch_add(&g_resends_answered, 1);
			op->acked = true;
			op->cycle = g_cycle;
			/* every write of a thread changes something, after the one
			 * before it: its revision is higher, across restarts too */
			if (op->revision <= w->last_rev && w->errors++ == 0)
				snprintf(w->first_error, sizeof(w->first_error),
				         "%s acknowledged at revision %llu, after a write at %llu", op->rid,
				         (unsigned long long)op->revision, (unsigned long long)w->last_rev);
			w->last_rev = op->revision;
			if (op->counter) {
				w->counter_acked = op->counter;
				w->counter_rev = op->revision;
			}
			ack_log(op);
		} else if (r < 0) {
			op->acked = false;
			w->n_ops--; /* refused: it was not applied; forget it */
			if (op->kind != OP_COUNTER)
				w->next_seq = op->first_seq; /* reuse the numbers */
			sleep_ms(10);
		}
	}
	return NULL;
}

static void writers_run(bool run)
{
	pthread_mutex_lock(&g_lock);
	g_running = run;
	pthread_cond_broadcast(&g_cond);
	if (!run)
		while (g_parked < g_n_writers)
			pthread_cond_wait(&g_cond, &g_lock);
	pthread_mutex_unlock(&g_lock);
}

/* ---- verification ---------------------------------------------------------------------- */

static annals_client *g_vc; /* the verifier's client */
static int g_checked_records, g_checked_batches_inflight;

static uint8_t *pack_msg(const ProtobufCMessage *m, size_t *n)
{
	*n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(*n ? *n : 1);
	protobuf_c_message_pack(m, b);
	return b;
}

/* 1: present and equal to want (revision compared when rev != 0),
 * 0: absent, -1: present but different (details printed). */
static int entity_state(const Annals__V1__Entity *want, uint64_t rev, const char *why)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = want->id;
	Annals__V1__Entity *got = NULL;
	annals_error err;
	int rc = annals_get_entity(g_vc, &req, &got, &err);
	g_checked_records++;
	if (rc == ANNALS_NOT_FOUND)
		return 0;
	if (rc != ANNALS_OK) {
		fprintf(stderr, "  %s: GetEntity %s: %s %s\n", why, want->id, annals_status_name(rc),
		        err.message);
		return -1;
	}
	uint64_t got_rev = got->revision;
	got->revision = 0;
	size_t n1, n2;
	uint8_t *a = pack_msg(&got->base, &n1), *b = pack_msg(&want->base, &n2);
	int same = n1 == n2 && memcmp(a, b, n1) == 0;
	free(a);
	free(b);
	annals_free(got);
	if (!same) {
		fprintf(stderr, "  %s: %s is stored with different content\n", why, want->id);
		return -1;
	}
	if (rev && got_rev != rev) {
		fprintf(stderr, "  %s: %s has revision %llu, its write was acknowledged at %llu\n", why,
		        want->id, (unsigned long long)got_rev, (unsigned long long)rev);
		return -1;
	}
	return 1;
}

/* The counter entity's value: 0 when absent, -1 when unreadable. */
static int64_t counter_value(int w)
{
	ent_buf b;
	memset(&b, 0, sizeof(b));
	make_counter(&b, w, 0);
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = b.id;
	Annals__V1__Entity *got = NULL;
	annals_error err;
	int rc = annals_get_entity(g_vc, &req, &got, &err);
	if (rc == ANNALS_NOT_FOUND)
		return 0;
	if (rc != ANNALS_OK || got->n_attributes != 1)
		return -1;
	int64_t v = strtoll(got->attributes[0]->value, NULL, 10);
	make_counter(&b, w, (uint64_t)v);
	got->revision = 0;
	size_t n1, n2;
	uint8_t *x = pack_msg(&got->base, &n1), *y = pack_msg(&b.e.base, &n2);
	if (n1 != n2 || memcmp(x, y, n1) != 0)
		v = -1; /* not the content that value was written with */
	free(x);
	free(y);
	annals_free(got);
	return v;
}

/* Checks one acknowledged op (entities only; counters separately). */
static void verify_acked(const op_rec *op)
{
	assert(op != NULL);
	ent_buf b;
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < op->n; i++) {
		make_entity(&b, op->writer, op->first_seq + (uint64_t)i);
		int st = entity_state(&b.e, op->revision, op->rid);
		if (st != 1) {
			fprintf(stderr, "  acknowledged %s (%s, cycle %d, revision %llu): %s %s\n", op->rid,
			        op->kind == OP_BATCH ? "Batch" : "Put", op->cycle,
			        (unsigned long long)op->revision, b.id, st == 0 ? "is missing" : "differs");
			check_failed_now = 1;
		}
	}
}

/* The write in flight when the server died: all of it or none. */
static void verify_inflight(const writer *w, const op_rec *op, int64_t counter)
{
	ent_buf b;
	int present = 0, absent = 0;
	for (int i = 0; i < op->n; i++) {
		make_entity(&b, op->writer, op->first_seq + (uint64_t)i);
		int st = entity_state(&b.e, 0, op->rid);
		if (st == 1)
			present++;
		else if (st == 0)
			absent++;
		else
			check_failed_now = 1;
	}
	bool counter_new = op->counter && counter == (int64_t)op->counter;
	if (op->counter && counter != (int64_t)op->counter && counter != (int64_t)w->counter_acked) {
		fprintf(
		    stderr,
		    "  writer %d: counter is %lld, neither the acknowledged %llu nor the in-flight %llu\n",
		    w->idx, (long long)counter, (unsigned long long)w->counter_acked,
		    (unsigned long long)op->counter);
		check_failed_now = 1;
	}
	if (op->kind == OP_BATCH) {
		g_checked_batches_inflight++;
		bool all = absent == 0 && (!op->counter || counter_new);
		bool none = present == 0 && (!op->counter || !counter_new);
		if (!all && !none) {
			fprintf(stderr,
			        "  Batch %s in flight at the kill is half applied: %d of %d entities, "
			        "counter %s\n",
			        op->rid, present, op->n,
			        op->counter ? (counter_new ? "moved" : "not moved") : "untouched");
			check_failed_now = 1;
		}
	}
}

static void verify_writers(bool everything)
{
	for (int wi = 0; wi < g_n_writers; wi++) {
		writer *w = &g_writers[wi];
		int64_t counter = counter_value(wi);
		if (counter < 0) {
			fprintf(stderr,
			        "  writer %d: the counter entity cannot be read or has other content\n", wi);
			check_failed_now = 1;
		}
		const op_rec *last = w->n_ops ? &w->ops[w->n_ops - 1] : NULL;
		bool inflight = last && !last->acked;
		/* the counter: the acknowledged value, or the in-flight one */
		if (!(inflight && last->counter && counter == (int64_t)last->counter) &&
		    counter != (int64_t)w->counter_acked) {
			fprintf(stderr, "  writer %d: counter is %lld, acknowledged value %llu\n", wi,
			        (long long)counter, (unsigned long long)w->counter_acked);
			check_failed_now = 1;
		}
		size_t n_acked = w->n_ops - (inflight ? 1 : 0);
		for (size_t i = 0; i < n_acked; i++) {
			assert(w->ops != NULL);
			const op_rec *op = &w->ops[i];
			/* all of the last cycle's, a sample of the rest (everything at the end) */
			if (everything || op->cycle >= g_cycle - 1 || rnd() % 16 == 0)
				verify_acked(op);
		}
		if (inflight)
			verify_inflight(w, last, counter);
	}
}

/* annals-bench's ack log: 'request_id id revision' per acknowledged PutEvent. */
static char g_bench_log[300];
static bool g_have_bench;
static size_t g_bench_checked_lines;

static void verify_bench(bool everything)
{
	if (!g_have_bench)
		return;
	FILE *f = fopen(g_bench_log, "r");
	if (f == NULL)
		return;
	char line[512];
	size_t lineno = 0;
	static const char words[] = "The delegations met to discuss border security and trade. ";
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		bool fresh = lineno > g_bench_checked_lines;
		if (!everything && !fresh && rnd() % 16 != 0)
			continue;
		char rid[200], id[200];
		unsigned long long rev;
		if (sscanf(line, "%199s %199s %llu", rid, id, &rev) != 3) {
			fprintf(stderr, "  annals-bench ack log line %zu does not parse: %s", lineno, line);
			check_failed_now = 1;
			continue;
		}
		uint64_t cur = atomic_load(&g_max_acked_rev);
		while (rev > cur && !atomic_compare_exchange_weak(&g_max_acked_rev, &cur, rev))
			;
		Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
		req.id = id;
		Annals__V1__Event *ev = NULL;
		annals_error err;
		int rc = annals_get_event(g_vc, &req, &ev, &err);
		g_checked_records++;
		if (rc != ANNALS_OK) {
			fprintf(stderr, "  annals-bench acknowledged %s (%s, revision %llu): %s\n", id, rid,
			        rev, annals_status_name(rc));
			check_failed_now = 1;
			continue;
		}
		bool ok = ev->revision == rev && strcmp(ev->type, "meeting") == 0 &&
		          ev->n_participants == 2 && ev->when && ev->when->year == 2021 &&
		          ev->when->month == 3 && ev->when->day == 14;
		for (size_t i = 0; ok && ev->summary[i]; i++)
			ok = ev->summary[i] == words[i % (sizeof(words) - 1)];
		if (!ok) {
			fprintf(stderr,
			        "  annals-bench's %s (revision %llu) is stored differently (revision %llu)\n",
			        id, rev, (unsigned long long)ev->revision);
			check_failed_now = 1;
		}
		annals_free(ev);
	}
	g_bench_checked_lines = lineno;
	fclose(f);
}

static pid_t start_bench(int duration_ms)
{
	if (!g_have_bench)
		return 0;
	char bench[512], dur[32];
	th_bin("annals-bench", bench, sizeof(bench));
	snprintf(dur, sizeof(dur), "%dms", duration_ms);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bench, bench, "run", "-u", g_url, "-m", "put", "-c", "8", "-z", dur, "--timeout",
		      "1000", "--ack-log", g_bench_log, "-q", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool bench_supports_ack_log(void)
{
	char bench[512], cmd[700];
	th_bin("annals-bench", bench, sizeof(bench));
	if (access(bench, X_OK) != 0)
		return false;
	snprintf(cmd, sizeof(cmd), "'%s' run --help 2>&1 | grep -q -- --ack-log", bench);
	return system(cmd) == 0;
}

/* ---- the test ---------------------------------------------------------------------------- */

static int g_kills, g_early_kills, g_restarts, g_stale_seen;
static uint64_t g_last_rev;

/* A restart after a kill: the server comes up, cleared stale readers, and
 * its revision has not gone back. */
static void restart_and_check(void)
{
	g_pid = spawn_server();
	uint64_t rev = 0;
	int st;
	if (wait_healthy(g_pid, &rev) != 0) {
		CHECK(!"annalsd restarts after SIGKILL");
		g_pid = 0;
		return;
	}
	if (waitpid(g_pid, &st, WNOHANG) != 0) {
		CHECK(!"the server that answered is the one just started");
		g_pid = 0;
		return;
	}
	g_restarts++;
	if (g_vc == NULL) {
		/* annals_open dials at once and fails while no server listens */
		annals_options vo = {.timeout_ms = 10000};
		annals_error oerr;
		if (annals_open(&g_vc, g_url, &vo, &oerr) != ANNALS_OK) {
			fprintf(stderr, "  verifier client: %s\n", oerr.message);
			check_failed_now = 1;
			return;
		}
	}
	bool held = g_env != NULL;
	int dead = held ? dead_readers() : hold_env();
	if (dead != 0) {
		fprintf(stderr,
		        "  %d LMDB reader slot(s) of dead processes after the restart (-1: cannot open)\n",
		        dead);
		check_failed_now = 1;
	}
	uint64_t acked = atomic_load(&g_max_acked_rev);
	if (rev < g_last_rev || rev < acked) {
		fprintf(stderr, "  revision went back: %llu after restart; seen %llu, acknowledged %llu\n",
		        (unsigned long long)rev, (unsigned long long)g_last_rev, (unsigned long long)acked);
		check_failed_now = 1;
	}
	if (rev > g_last_rev)
		g_last_rev = rev;
	/* the built-in data is there (the first start loads it as one Batch) */
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = "org:csto";
	Annals__V1__Entity *e = NULL;
	annals_error err;
	if (annals_get_entity(g_vc, &req, &e, &err) != ANNALS_OK) {
		fprintf(stderr, "  the built-in data is missing after restart %d: %s\n", g_restarts,
		        err.message);
		check_failed_now = 1;
	}
	annals_free(e);
}

static void one_cycle(void)
{
	bool early = g_cycle == 0 || rnd() % 5 == 0;
	if (early) {
		/* the running server goes first (idle: not counted), then a
		 * fresh one is killed during start-up, at most 60 ms after exec */
		kill_server();
		g_pid = spawn_server();
		sleep_ms((long)(rnd() % 60));
		kill_server();
		g_kills++;
		g_early_kills++;
		restart_and_check();
		return;
	}
	int run_ms = 100 + (int)(rnd() % 1400);
	pid_t bench = start_bench(run_ms + 300);
	writers_run(true);
	sleep_ms(run_ms);
	kill_server();
	g_kills++;
	writers_run(false);
	if (bench > 0) {
		int st;
		waitpid(bench, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
			fprintf(stderr, "  annals-bench ended with status %d\n", st);
			check_failed_now = 1;
		}
	}
	int pre = dead_readers();
	if (pre > 0)
		g_stale_seen++;
	if (g_cycle < 3)
		fprintf(stderr,
		        "  (cycle %d: killed after %d ms; %d reader slot(s) of the dead server left)\n",
		        (int)g_cycle, run_ms, pre);
	restart_and_check();
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : def;
}

static void test_crash_kills(void)
{
	int kills = env_int("CRASH_KILLS", 20);
	g_n_writers = env_int("CRASH_WRITERS", 4);
	if (g_n_writers < 1 || g_n_writers > MAX_WRITERS)
		g_n_writers = 4;
	const char *seed = getenv("CRASH_SEED");
	g_seed =
	    seed && *seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	if (g_seed == 0)
		g_seed = 1;
	fprintf(stderr, "  CRASH_SEED=%llu CRASH_KILLS=%d CRASH_WRITERS=%d\n", (unsigned long long)g_seed,
	        kills, g_n_writers);

	snprintf(g_dir, sizeof(g_dir), "%s/annals-crash.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(g_dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	char data[200], acks[300];
	snprintf(g_log, sizeof(g_log), "%s/annalsd.log", g_dir);
	snprintf(acks, sizeof(acks), "%s/acks.log", g_dir);
	snprintf(g_bench_log, sizeof(g_bench_log), "%s/bench-acks.log", g_dir);
	snprintf(data, sizeof(data), "%.190s/data", g_dir);
	snprintf(g_dir, sizeof(g_dir), "%s", data);
	snprintf(g_url, sizeof(g_url), "tcp://127.0.0.1:%d", th_free_port());
	th_bin("annalsd", g_bin, sizeof(g_bin));
	g_acklog = fopen(acks, "a");
	g_have_bench = bench_supports_ack_log();
	if (!g_have_bench)
		fprintf(stderr, "  (annals-bench with --ack-log not found: own writers only)\n");

	int started = 0;
	for (g_cycle = 0; g_kills < kills; g_cycle++) {
		int before = check_failed_now;
		if (g_cycle == 1) {
			/* the server is up (cycle 0 ends with a restart): the writers can connect */
			for (int i = 0; i < g_n_writers; i++) {
				writer *w = &g_writers[i];
				memset(w, 0, sizeof(*w));
				w->idx = i;
				w->next_seq = 1;
				annals_options o = {.timeout_ms = CALL_TIMEOUT_MS};
				annals_error err;
				if (annals_open(&w->c, g_url, &o, &err) != ANNALS_OK) {
					fprintf(stderr, "  writer client: %s\n", err.message);
					check_failed_now = 1;
					break;
				}
				pthread_create(&w->th, NULL, writer_main, w);
				started++;
			}
			if (started < g_n_writers)
				break;
			writers_run(false);
		}
		one_cycle();
		if (g_pid <= 0)
			break; /* the server would not come back: nothing more to learn */
		verify_writers(false);
		verify_bench(false);
		if (!before && check_failed_now)
			fprintf(stderr, "  ^ found after kill %d (cycle %d)\n", g_kills, g_cycle);
	}
	/* the end: everything ever acknowledged, once more */
	if (g_pid > 0) {
		verify_writers(true);
		verify_bench(true);
	}
	pthread_mutex_lock(&g_lock);
	g_quit = true;
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	size_t acked = 0, batches = 0;
	int errors = 0;
	for (int i = 0; i < started; i++) {
		writer *w = &g_writers[i];
		pthread_join(w->th, NULL);
		annals_close(w->c);
		for (size_t k = 0; k < w->n_ops; k++) {
			acked += w->ops[k].acked;
			batches += w->ops[k].acked && w->ops[k].kind == OP_BATCH;
		}
		if (w->errors) {
			fprintf(
			    stderr,
			    "  writer %d: %d problem(s) (refused writes, revisions going back); first: %s\n",
			    i, w->errors, w->first_error);
			errors += w->errors;
		}
		free(w->ops);
	}
	CHECK_EQ_INT(errors, 0);
	CHECK(acked > 0);
	fprintf(
	    stderr,
	    "  (%d kills, %d of them during start-up; %d restarts; %zu writes acknowledged, %zu of them "
	    "Batches; %d resends answered after a restart; %d in-flight Batches checked; %d record reads; "
	    "annals-bench acks: %zu; %d kills left stale reader slots for the restart to clear; final "
	    "revision %llu)\n",
	    g_kills, g_early_kills, g_restarts, acked, batches, atomic_load(&g_resends_answered),
	    g_checked_batches_inflight, g_checked_records, g_bench_checked_lines, g_stale_seen,
	    (unsigned long long)g_last_rev);
	CHECK(g_kills >= kills);
	/* a clean stop at the end */
	if (g_pid > 0) {
		kill(g_pid, SIGTERM);
		int st = 0;
		waitpid(g_pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		g_pid = 0;
	}
	annals_close(g_vc);
	fclose(g_acklog);
	if (g_env)
		mdb_env_close(g_env);
	const char *keep = getenv("CRASH_KEEP");
	char top[200];
	snprintf(top, sizeof(top), "%s", g_dir);
	*strrchr(top, '/') = '\0';
	if ((keep && *keep == '1') || check_failed_now) {
		fprintf(stderr, "  kept for a look: %s\n", top);
	} else {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			fprintf(stderr, "  could not remove %s\n", top);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_crash_kills);
	return CHECK_DONE();
}

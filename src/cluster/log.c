/*
 * cl_ — cluster mode's log: every node of a registry applies one log
 * kept in etcd, in etcd's order, so every store holds the same records.
 *
 * THE PATH OF A WRITE (read this before touching a proposal)
 *
 *   server --cl_submit--> proposer queue
 *   proposer: takes what is queued (<= CL_ENTRY_WRITES, <= CL_ENTRY_BYTES),
 *             registers it as pending {seq -> workers}, puts one LogEntry
 *             to <prefix>/log (one etcd revision for the whole group)
 *   applier:  watches <prefix>/log from the store's log_applied + 1; every
 *             entry, from any node, is applied through st_apply_log, which
 *             records the entry's revision as applied in the same LMDB
 *             commit (a crash neither skips an entry nor applies it twice)
 *   an entry of this node whose seq is still pending: its writes take
 *             the outcomes and their tags go back (hooks.answer) after
 *             the commit.
 *
 * Ownership of a submitted write (the server's worker contract hands its
 * worker over with it): the log owns it from cl_submit until its tag goes
 * back through exactly one hook. Once registered as pending, whoever takes
 * it off the pending list under cl->lock owns it — the applier (the entry
 * arrived) or the proposer (etcd did not confirm the put: refused
 * UNAVAILABLE, "may still be applied; resend with the same request_id").
 * A put that timed out may still be committed by etcd, even twice (a try
 * on a second endpoint): every node then applies the copy as a resend of
 * the same request_id, answered from the request log and changing nothing.
 *
 * Why outcomes agree on every node: an entry carries the proposer's clock
 * (committed_ms, request-log age: st_write.log_time_ms), deadlines are not
 * applied to log entries (the proposer cannot know when the others apply),
 * and the store forgets request ids by log time only (st_options.replicated).
 *
 * Seq numbers start at this process's start time in microseconds, so the
 * entries of an earlier run of this node, replayed while catching up, are
 * never taken for a pending proposal of this run.
 *
 * Threads, each with its own etcd client: CL_PROPOSERS proposers (puts in
 * flight at once), the applier, the read-index thread (linearizable reads),
 * and a status thread that reads the log key's revision every second
 * (Health's lag and CATCHING_UP), keeps this node's key
 * <prefix>/nodes/<name> alive on a lease, compacts, and restarts a watch
 * that went silent while the log moved on (a SIGSTOPped etcd member keeps
 * the TCP connection open and says nothing).
 */
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annals/annals.h"
#include "annals/v1/cluster.pb-c.h"
#include "cluster/etcd.h"
#include "common/envelope.h"
#include "cluster/log.h"
#include "common/log.h"

#define CL_PROPOSERS                                                                                         \
	1u /* puts in flight at once; measured at 64 writes in flight on 2 cores:                            \
	    * 1: 3249/s, 2: 2331/s, 4: 1671/s (fewer, larger entries cost etcd less) */
#define CL_ENTRY_WRITES  256u
#define CL_ENTRY_BYTES   (1u << 20) /* under etcd's default --max-request-bytes (1.5 MiB) */
#define CL_PUT_MS        10000u     /* how long a proposal waits for etcd */
#define CL_TRY_MS        1500u      /* one try of one endpoint (an election takes ~1 s) */
#define CL_APPLY_WRITES  1024u      /* a catch-up commits at entry boundaries past this many */
#define CL_APPLY_ENTRIES 64u
#define CL_SILENT_MS     3000u /* a watch this long without events while behind: restart it */
#define CL_LEASE_S       10
#define CL_KEEPALIVE_MS  3000u
#define CL_COMPACT_MS    30000u /* how often the first live node compacts etcd */
#define CL_MAX_NODES     32

/* One queued or pending write. */
typedef struct cl_item {
	st_write *w;
	int method;
	void *tag;
	size_t bytes; /* its share of an entry: the packed request, its id, framing (measured once) */
} cl_item;

typedef struct cl_pending {
	struct cl_pending *next;
	uint64_t seq;
	int n;
	cl_item w[];
} cl_pending;

struct cl_log {
	cl_config cfg;
	char key_log[200], key_seeded[200], key_nodes[220], key_node[340];
	ed_client *prop[CL_PROPOSERS], *apply, *status, *reader;
	/* read index (linearizable reads): tickets asked, the one the read in
	 * progress covers, the one the last completed read covered and what it found */
	pthread_mutex_t reader_lock;
	pthread_cond_t reader_cond;
	uint64_t ri_asked, ri_started, ri_done, ri_revision;
	pthread_t threads[3 + CL_PROPOSERS];
	int n_threads;
	atomic_bool stop;       /* every thread ends */
	atomic_bool watch_stop; /* the current watch ends (then starts again) */
	pthread_mutex_t lock;   /* the queue, the pending list, the node list */
	pthread_cond_t cond;
	cl_item *q;
	int q_cap, q_head, q_len;
	cl_pending *pending;
	uint64_t next_seq;
	int64_t last_time_ms;
	atomic_int proposers_started; /* each proposer takes its own etcd client by this */
	cl_node nodes[CL_MAX_NODES];
	int n_nodes;
	ed_member members[ED_MAX_ENDPOINTS];
	int n_members;
	_Atomic uint64_t log_revision; /* mod_revision of <prefix>/log when last read */
	_Atomic uint64_t looked_ms;    /* when the status thread last read it */
	_Atomic uint64_t event_ms;     /* when the watch last delivered events (or started) */
	atomic_bool compacted;         /* the log was compacted past what this node applied */
	int64_t lease;
	uint64_t compacted_to;
};

/* method-table rows -> what the store does with them */
#define CL_OP_OWN        0
#define CL_OP_QUERY      0
#define CL_OP_LIST       0
#define CL_OP_GET        0
#define CL_OP_PUT        ST_PUT
#define CL_OP_DELETE     ST_DELETE
#define CL_OP_BATCH      ST_BATCH
#define CL_OP_BULK       0 /* refused in cluster mode (server/bulk.c) */
#define CL_KIND_NONE     0
#define CL_KIND_ENTITY   ST_ENTITY
#define CL_KIND_EVENT    ST_EVENT
#define CL_KIND_RELATION ST_RELATION
#define CL_KIND_DOCUMENT ST_DOCUMENT
static const struct {
	int op, kind;
} cl_ops[ANNALS_METHOD_COUNT] = {
#define CL_OPS_ROW(M, fn, Req, Rep, flags, impl, record)                                                     \
	[ANNALS_METHOD_##M] = {CL_OP_##impl, CL_KIND_##record},
    ANNALS_METHODS(CL_OPS_ROW)
#undef CL_OPS_ROW
};

static uint64_t cl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t cl_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void cl_nap_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Naps up to ms, waking early when the cluster stops. */
static void cl_wait_ms(cl_log *cl, unsigned ms)
{
	for (unsigned t = 0; t < ms && !atomic_load(&cl->stop); t += 50)
		cl_nap_ms(50);
}

/* ---- proposing ------------------------------------------------------------- */

int cl_submit(cl_log *cl, st_write *w, int method, void *tag, char *msg, size_t len)
{
	size_t packed = protobuf_c_message_get_packed_size(w->req);
	size_t bytes = packed + strlen(w->request_id) + 64;
	if (bytes > CL_ENTRY_BYTES) {
		snprintf(msg, len,
		         "this write is %zu bytes packed; in cluster mode one write is at most %u bytes "
		         "(etcd's request limit): split the Batch",
		         packed, CL_ENTRY_BYTES - 64);
		return ANNALS_RESOURCE_EXHAUSTED;
	}
	pthread_mutex_lock(&cl->lock);
	if (atomic_load(&cl->stop) || cl->q_len >= cl->q_cap) {
		bool stopping = atomic_load(&cl->stop);
		pthread_mutex_unlock(&cl->lock);
		if (stopping) {
			snprintf(msg, len, "the server is shutting down; retry on another node");
			return ANNALS_UNAVAILABLE;
		}
		snprintf(msg, len,
		         "%d writes are already waiting for the cluster log; retry later with backoff",
		         cl->q_cap);
		return ANNALS_RESOURCE_EXHAUSTED;
	}
	cl->q[(cl->q_head + cl->q_len) % cl->q_cap] = (cl_item){w, method, tag, bytes};
	cl->q_len++;
	pthread_mutex_unlock(&cl->lock);
	pthread_cond_signal(&cl->cond);
	return ANNALS_OK;
}

/* Takes queued writes for one entry; blocks while there are none. 0: stopping. */
static int cl_take(cl_log *cl, cl_item *group)
{
	pthread_mutex_lock(&cl->lock);
	while (cl->q_len == 0 && !atomic_load(&cl->stop))
		pthread_cond_wait(&cl->cond, &cl->lock);
	int n = 0;
	size_t bytes = 0;
	while (cl->q_len > 0 && n < (int)CL_ENTRY_WRITES) {
		cl_item it = cl->q[cl->q_head];
		if (n > 0 && bytes + it.bytes > CL_ENTRY_BYTES)
			break;
		bytes += it.bytes;
		group[n++] = it;
		cl->q_head = (cl->q_head + 1) % cl->q_cap;
		cl->q_len--;
	}
	pthread_mutex_unlock(&cl->lock);
	return n;
}

/* Takes pending seq off the list: its workers are then the caller's. */
static cl_pending *cl_pending_take(cl_log *cl, uint64_t seq)
{
	pthread_mutex_lock(&cl->lock);
	cl_pending **pp = &cl->pending, *p;
	while ((p = *pp) != NULL && p->seq != seq)
		pp = &p->next;
	if (p != NULL)
		*pp = p->next;
	pthread_mutex_unlock(&cl->lock);
	return p;
}

/* Packs one LogEntry of these writes (reqs[i], ids[i], methods[i]). */
static uint8_t *cl_entry_pack(cl_log *cl, uint64_t seq, int64_t time_ms, int n,
                              const ProtobufCMessage *const *reqs, const char *const *ids, const int *methods,
                              size_t *len)
{
	Annals__V1__LogWrite *lw = calloc((size_t)n, sizeof(*lw));
	Annals__V1__LogWrite **ptrs = calloc((size_t)n, sizeof(*ptrs));
	uint8_t **bodies = calloc((size_t)n, sizeof(*bodies));
	uint8_t *out = NULL;
	bool ok = lw != NULL && ptrs != NULL && bodies != NULL;
	for (int i = 0; ok && i < n; i++) {
		annals__v1__log_write__init(&lw[i]);
		lw[i].method = (char *)env_method(methods[i])->name;
		lw[i].request_id = (char *)ids[i];
		lw[i].role = "";
		size_t blen = protobuf_c_message_get_packed_size(reqs[i]);
		bodies[i] = malloc(blen ? blen : 1);
		ok = bodies[i] != NULL;
		if (ok)
			protobuf_c_message_pack(reqs[i], bodies[i]);
		lw[i].request.data = bodies[i];
		lw[i].request.len = blen;
		ptrs[i] = &lw[i];
	}
	if (ok) {
		Annals__V1__LogEntry e = ANNALS__V1__LOG_ENTRY__INIT;
		e.node = (char *)cl->cfg.node;
		e.seq = seq;
		e.time_ms = time_ms;
		e.writes = ptrs;
		e.n_writes = (size_t)n;
		*len = protobuf_c_message_get_packed_size(&e.base);
		out = malloc(*len ? *len : 1);
		if (out != NULL)
			protobuf_c_message_pack(&e.base, out);
	}
	for (int i = 0; bodies != NULL && i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(ptrs);
	free(lw);
	return out;
}

static int64_t cl_entry_time(cl_log *cl)
{
	int64_t now = (int64_t)cl_wall_ms();
	if (now < cl->last_time_ms) /* the clock stepped back: never go back in the log */
		now = cl->last_time_ms;
	cl->last_time_ms = now;
	return now;
}

static void cl_refuse(cl_log *cl, const cl_item *it, int code, const char *msg)
{
	cl->cfg.hooks.refuse(cl->cfg.hooks.ctx, it->tag, code, msg);
}

/* A seq and a time for a new entry (under cl->lock: several proposers). */
static void cl_entry_stamp(cl_log *cl, uint64_t *seq, int64_t *time_ms)
{
	pthread_mutex_lock(&cl->lock);
	*seq = cl->next_seq++;
	*time_ms = cl_entry_time(cl);
	pthread_mutex_unlock(&cl->lock);
}

static void cl_propose(cl_log *cl, ed_client *ed, cl_item *group, int n)
{
	const ProtobufCMessage *reqs[CL_ENTRY_WRITES];
	const char *ids[CL_ENTRY_WRITES];
	int methods[CL_ENTRY_WRITES];
	for (int i = 0; i < n; i++) {
		reqs[i] = group[i].w->req;
		ids[i] = group[i].w->request_id;
		methods[i] = group[i].method;
	}
	cl_pending *p = malloc(sizeof(*p) + (size_t)n * sizeof(p->w[0]));
	size_t len = 0;
	uint64_t seq;
	int64_t time_ms;
	cl_entry_stamp(cl, &seq, &time_ms);
	uint8_t *buf = p ? cl_entry_pack(cl, seq, time_ms, n, reqs, ids, methods, &len) : NULL;
	if (buf == NULL) {
		free(p);
		for (int i = 0; i < n; i++)
			cl_refuse(cl, &group[i], ANNALS_RESOURCE_EXHAUSTED,
			          "out of memory for the cluster log entry");
		return;
	}
	p->seq = seq;
	p->n = n;
	memcpy(p->w, group, (size_t)n * sizeof(p->w[0]));
	pthread_mutex_lock(&cl->lock);
	p->next = cl->pending;
	cl->pending = p;
	pthread_mutex_unlock(&cl->lock);
	/* From here the workers may be answered by the applier at any moment. */
	uint64_t rev = 0;
	ed_err err = {0};
	int rc = ed_put(ed, cl->key_log, buf, len, 0, &rev, cl_now_ms() + CL_PUT_MS, &err);
	free(buf);
	if (rc == ANNALS_OK)
		return;
	log_msg(LOG_WARN, "cluster_propose_failed", "writes=%d seq=%" PRIu64 " code=%s problem=\"%s\"", n,
	        seq, annals_status_name(rc), err.msg);
	cl_pending *mine = cl_pending_take(cl, seq);
	if (mine == NULL)
		return; /* it was applied after all, and answered */
	char msg[480];
	snprintf(msg, sizeof(msg),
	         "etcd did not confirm the write (%s); it may still be applied: resend it with the same "
	         "request_id",
	         err.msg);
	for (int i = 0; i < mine->n; i++)
		cl_refuse(cl, &mine->w[i], ANNALS_UNAVAILABLE, msg);
	free(mine);
}

/* The built-in data set enters the log once per registry: the first node
 * to find <prefix>/seeded absent puts it, in the same etcd transaction. */
static void cl_seed(cl_log *cl, ed_client *ed)
{
	if (cl->cfg.seed == NULL || st_revision(cl->cfg.store) != 0 || st_log_applied(cl->cfg.store) != 0)
		return;
	const ProtobufCMessage *req = cl->cfg.seed;
	const char *id = cl->cfg.seed_request_id;
	int method = ANNALS_METHOD_Batch;
	size_t len = 0;
	uint64_t unused_seq;
	int64_t time_ms;
	cl_entry_stamp(cl, &unused_seq, &time_ms);
	uint8_t *buf =
	    cl_entry_pack(cl, 0, time_ms, 1, &req, &id, &method, &len); /* seq 0: nobody's pending */
	while (buf != NULL && !atomic_load(&cl->stop)) {
		bool created = false;
		uint64_t rev = 0;
		ed_err err = {0};
		int rc = ed_put_if_absent(ed, cl->key_seeded, cl->cfg.node, cl->key_log, buf, len, &created,
		                          &rev, cl_now_ms() + CL_PUT_MS, &err);
		if (rc == ANNALS_OK) {
			log_msg(LOG_INFO, "cluster_seed", "proposed=%s reason=\"%s\" revision=%" PRIu64,
			        created ? "yes" : "no", created ? "not seeded yet" : "already seeded", rev);
			break;
		}
		log_msg(LOG_WARN, "cluster_seed_retry", "code=%s problem=\"%s\"", annals_status_name(rc),
		        err.msg);
		cl_wait_ms(cl, 1000);
	}
	free(buf);
}

/* CL_PROPOSERS of these keep that many puts in flight: the entries of one
 * node may land in etcd in another order than they were packed, which is
 * fine (none of their callers has an answer yet) and the same for all. */
static void *cl_proposer_main(void *arg)
{
	cl_log *cl = arg;
	int me = atomic_fetch_add(&cl->proposers_started, 1);
	ed_client *ed = cl->prop[me];
	if (me == 0)
		cl_seed(cl, ed);
	cl_item group[CL_ENTRY_WRITES];
	int n;
	while ((n = cl_take(cl, group)) > 0)
		cl_propose(cl, ed, group, n);
	return NULL;
}

/* ---- applying -------------------------------------------------------------- */

/* One commit's worth of entries being applied. */
typedef struct cl_apply {
	cl_log *cl;
	st_write *w;            /* the writes, in log order */
	cl_item *owner;         /* owner[i]: the pending write of w[i]; .w NULL for another node's */
	ProtobufCMessage **msg; /* msg[i]: unpacked from the log (NULL for pending ones) */
	size_t n, cap;
	Annals__V1__LogEntry *entries[CL_APPLY_ENTRIES]; /* unpacked, until committed */
	size_t n_entries;
	uint64_t last_revision; /* of the last entry taken in */
} cl_apply;

static int cl_apply_grow(cl_apply *ap, size_t more)
{
	if (ap->n + more <= ap->cap)
		return 0;
	size_t cap = ap->cap ? ap->cap : 64;
	while (cap < ap->n + more)
		cap *= 2;
	st_write *w = realloc(ap->w, cap * sizeof(*w));
	if (w != NULL)
		ap->w = w;
	cl_item *o = realloc(ap->owner, cap * sizeof(*o));
	if (o != NULL)
		ap->owner = o;
	ProtobufCMessage **m = realloc(ap->msg, cap * sizeof(*m));
	if (m != NULL)
		ap->msg = m;
	if (w == NULL || o == NULL || m == NULL)
		return -1;
	ap->cap = cap;
	return 0;
}

/* A write of another node (or of an earlier run of this one), from the log. */
static void cl_add_foreign(cl_apply *ap, const Annals__V1__LogWrite *lw, int64_t time_ms, uint64_t rev)
{
	int m = env_method_index(lw->method);
	ProtobufCMessage *req = NULL;
	if (m >= 0 && env_method_is_write(m) && cl_ops[m].op != 0)
		req =
		    protobuf_c_message_unpack(env_method(m)->input, NULL, lw->request.len, lw->request.data);
	if (req == NULL || lw->request_id == NULL || lw->request_id[0] == '\0') {
		/* Every node skips it alike: it cannot be applied anywhere. */
		log_msg(LOG_ERROR, "cluster_entry_unreadable", "revision=%" PRIu64 " method=\"%s\"", rev,
		        lw->method ? lw->method : "");
		if (req)
			protobuf_c_message_free_unpacked(req, NULL);
		return;
	}
	st_write *w = &ap->w[ap->n];
	memset(w, 0, sizeof(*w));
	w->req = req;
	w->op = (st_op)cl_ops[m].op;
	w->kind = (st_kind)cl_ops[m].kind;
	w->request_id = lw->request_id;
	w->validated = false; /* the store checks the records again: it trusts no log */
	w->log_time_ms = time_ms;
	ap->owner[ap->n] = (cl_item){0};
	ap->msg[ap->n] = req;
	ap->n++;
}

/* Adds the writes of one log entry; entries stay whole. */
static void cl_add_entry(cl_apply *ap, const Annals__V1__LogEntry *e, uint64_t rev)
{
	cl_log *cl = ap->cl;
	cl_pending *mine = NULL;
	if (e->seq != 0 && e->node != NULL && strcmp(e->node, cl->cfg.node) == 0)
		mine = cl_pending_take(cl, e->seq);
	if (mine != NULL && (size_t)mine->n != e->n_writes) { /* cannot happen: ours, packed by us */
		log_msg(LOG_ERROR, "cluster_entry_mismatch", "seq=%" PRIu64, e->seq);
		for (int i = 0; i < mine->n; i++)
			cl_refuse(cl, &mine->w[i], ANNALS_INTERNAL,
			          "the cluster log entry of this write did not match it");
		free(mine);
		mine = NULL;
	}
	if (cl_apply_grow(ap, e->n_writes) != 0) {
		log_msg(LOG_ERROR, "cluster_apply_oom", "revision=%" PRIu64, rev);
		abort(); /* skipping an entry would fork this replica from the others */
	}
	for (size_t i = 0; i < e->n_writes; i++) {
		if (mine == NULL) {
			cl_add_foreign(ap, e->writes[i], e->time_ms, rev);
			continue;
		}
		st_write *w = mine->w[i].w;
		w->log_time_ms = e->time_ms;
		w->expired = false; /* the others cannot know this caller's deadline */
		ap->w[ap->n] = *w;
		ap->owner[ap->n] = mine->w[i];
		ap->msg[ap->n] = NULL;
		ap->n++;
	}
	free(mine);
	ap->last_revision = rev;
}

/* Commits what ap holds (retrying a failed commit: skipping it would fork
 * this replica), answers this node's callers, and empties ap. */
static int cl_apply_commit(cl_apply *ap)
{
	cl_log *cl = ap->cl;
	const cl_hooks *h = &cl->cfg.hooks;
	int rc;
	while ((rc = st_apply_log(cl->cfg.store, ap->w, ap->n, ap->last_revision)) != ANNALS_OK) {
		log_msg(LOG_ERROR, "cluster_apply_failed",
		        "revision=%" PRIu64 " writes=%zu code=%s problem=\"%s\" next=\"retry in 1 s\"",
		        ap->last_revision, ap->n, annals_status_name(rc), ap->n ? ap->w[0].msg : "");
		cl_wait_ms(cl, 1000);
		if (atomic_load(&cl->stop))
			break; /* the writes below carry the commit's error */
	}
	void *answer[CL_APPLY_WRITES + CL_ENTRY_WRITES];
	int n_answer = 0;
	for (size_t i = 0; i < ap->n; i++) {
		if (ap->owner[i].w == NULL) {
			st_write_clear(&ap->w[i]);
			protobuf_c_message_free_unpacked(ap->msg[i], NULL);
			continue;
		}
		*ap->owner[i].w = ap->w[i];
		answer[n_answer++] = ap->owner[i].tag;
		if (n_answer == (int)(sizeof(answer) / sizeof(answer[0]))) {
			h->answer(h->ctx, answer, n_answer);
			n_answer = 0;
		}
	}
	if (n_answer > 0)
		h->answer(h->ctx, answer, n_answer);
	if (rc == ANNALS_OK)
		h->committed(h->ctx, (unsigned)ap->n);
	ap->n = 0;
	for (size_t i = 0; i < ap->n_entries; i++)
		annals__v1__log_entry__free_unpacked(ap->entries[i], NULL);
	ap->n_entries = 0;
	return rc;
}

static int cl_on_events(void *ctx, const ed_event *ev, size_t n, uint64_t header_revision)
{
	(void)header_revision;
	cl_apply *ap = ctx;
	cl_log *cl = ap->cl;
	atomic_store(&cl->event_ms, cl_now_ms());
	uint64_t applied = st_log_applied(cl->cfg.store);
	int rc = ANNALS_OK;
	for (size_t i = 0; i < n && rc == ANNALS_OK; i++) {
		if (ev[i].deleted || ev[i].mod_revision <= applied)
			continue;
		Annals__V1__LogEntry *e = annals__v1__log_entry__unpack(NULL, ev[i].len, ev[i].value);
		if (e == NULL) {
			log_msg(LOG_ERROR, "cluster_entry_unreadable", "revision=%" PRIu64 " bytes=%zu",
			        ev[i].mod_revision, ev[i].len);
			ap->last_revision = ev[i].mod_revision; /* every node skips it alike */
			continue;
		}
		cl_add_entry(ap, e, ev[i].mod_revision);
		ap->entries[ap->n_entries++] =
		    e; /* the foreign writes point into it: freed after the commit */
		if (ap->n >= CL_APPLY_WRITES || ap->n_entries == CL_APPLY_ENTRIES)
			rc = cl_apply_commit(ap);
	}
	if (rc == ANNALS_OK && (ap->n > 0 || ap->last_revision > st_log_applied(cl->cfg.store)))
		rc = cl_apply_commit(ap);
	return rc != ANNALS_OK || atomic_load(&cl->stop) ? 1 : 0;
}

static void *cl_applier_main(void *arg)
{
	cl_log *cl = arg;
	cl_apply ap = {.cl = cl};
	unsigned failures = 0;
	while (!atomic_load(&cl->stop)) {
		uint64_t from = st_log_applied(cl->cfg.store) + 1;
		atomic_store(&cl->event_ms, cl_now_ms());
		uint64_t compact = 0;
		ed_err err = {0};
		int rc = ed_watch(cl->apply, cl->key_log, from, cl_on_events, &ap, &cl->watch_stop, &compact,
		                  &err);
		if (atomic_load(&cl->stop))
			break;
		atomic_store(&cl->watch_stop, false);
		if (rc == ANNALS_OUT_OF_RANGE) {
			if (!atomic_exchange(&cl->compacted, true))
				log_msg(LOG_ERROR, "cluster_log_compacted",
				        "applied=%" PRIu64 " compacted_below=%" PRIu64
				        " next=\"restore this node from a peer's backup (annals backup), "
				        "then restart it\"",
				        from - 1, compact);
			cl_wait_ms(cl, 5000);
			continue;
		}
		failures++;
		if (failures <= 3 || failures % 60 == 0)
			log_msg(LOG_WARN, "cluster_watch_restart", "from=%" PRIu64 " code=%s problem=\"%s\"",
			        from, annals_status_name(rc), err.msg);
		cl_wait_ms(cl, failures < 3 ? 100 : 500);
		if (rc == ANNALS_OK || rc == ANNALS_CANCELLED)
			failures = 0;
	}
	free(ap.w);
	free(ap.owner);
	free(ap.msg);
	return NULL;
}

/* ---- status: lag, the node registry, compaction ---------------------------- */

/* This node's key, on a lease: put again with the applied revision on each
 * round (a keepalive alone would not carry it), granted anew when lost. */
static void cl_node_register(cl_log *cl)
{
	ed_err err = {0};
	if (cl->lease != 0 && ed_keepalive(cl->status, cl->lease, &err) != ANNALS_OK)
		cl->lease = 0;
	if (cl->lease == 0 && ed_lease_grant(cl->status, CL_LEASE_S, &cl->lease, &err) != ANNALS_OK)
		return;
	json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "name", cl->cfg.node, "listen",
	                      cl->cfg.listen ? cl->cfg.listen : "", "version", ANNALS_VERSION, "applied",
	                      (json_int_t)st_log_applied(cl->cfg.store));
	char *val = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	uint64_t rev;
	if (val == NULL ||
	    ed_put(cl->status, cl->key_node, val, strlen(val), cl->lease, &rev, 0, &err) != ANNALS_OK)
		cl->lease = 0;
	free(val);
}

typedef struct cl_node_list {
	cl_node nodes[CL_MAX_NODES];
	int n;
} cl_node_list;

static void cl_node_seen(void *ctx, const char *key, const uint8_t *val, size_t len, uint64_t mod_revision)
{
	(void)key, (void)mod_revision;
	cl_node_list *l = ctx;
	json_t *j = json_loadb((const char *)val, len, 0, NULL);
	const char *name = json_string_value(json_object_get(j, "name"));
	if (name != NULL && l->n < CL_MAX_NODES) {
		cl_node *n = &l->nodes[l->n++];
		memset(n, 0, sizeof(*n));
		snprintf(n->name, sizeof(n->name), "%s", name);
		const char *listen = json_string_value(json_object_get(j, "listen"));
		const char *version = json_string_value(json_object_get(j, "version"));
		snprintf(n->listen, sizeof(n->listen), "%s", listen ? listen : "");
		snprintf(n->version, sizeof(n->version), "%s", version ? version : "");
		n->applied = (uint64_t)json_integer_value(json_object_get(j, "applied"));
	}
	json_decref(j);
}

/* The first live node by name compacts etcd's history below the slowest
 * live node's applied revision, less keep_revisions: a node that was down
 * longer than that must be restored from a peer's copy (README). */
static void cl_compact(cl_log *cl, const cl_node_list *l)
{
	if (cl->cfg.keep_revisions == 0 || l->n == 0)
		return;
	uint64_t low = UINT64_MAX;
	const char *first = NULL;
	for (int i = 0; i < l->n; i++) {
		if (first == NULL || strcmp(l->nodes[i].name, first) < 0)
			first = l->nodes[i].name;
		if (l->nodes[i].applied < low)
			low = l->nodes[i].applied;
	}
	if (first == NULL || strcmp(first, cl->cfg.node) != 0 || low <= cl->cfg.keep_revisions)
		return;
	uint64_t to = low - cl->cfg.keep_revisions;
	if (to <= cl->compacted_to)
		return;
	ed_err err = {0};
	int rc = ed_compact(cl->status, to, &err);
	if (rc == ANNALS_OK || rc == ANNALS_OUT_OF_RANGE) { /* OUT_OF_RANGE: compacted past it already */
		cl->compacted_to = to;
		log_msg(LOG_INFO, "cluster_compacted", "below=%" PRIu64 " slowest_applied=%" PRIu64, to, low);
	} else {
		log_msg(LOG_WARN, "cluster_compact_failed", "below=%" PRIu64 " problem=\"%s\"", to, err.msg);
	}
}

static void *cl_status_main(void *arg)
{
	cl_log *cl = arg;
	uint64_t registered_ms = 0, compacted_ms = cl_now_ms();
	while (!atomic_load(&cl->stop)) {
		uint64_t mod = 0, rev = 0;
		ed_err err = {0};
		if (ed_key_revision(cl->status, cl->key_log, &mod, &rev, &err) == ANNALS_OK) {
			atomic_store(&cl->log_revision, mod);
			atomic_store(&cl->looked_ms, cl_now_ms());
			uint64_t now = cl_now_ms();
			if (mod > st_log_applied(cl->cfg.store) &&
			    now - atomic_load(&cl->event_ms) > CL_SILENT_MS) {
				log_msg(LOG_WARN, "cluster_watch_silent",
				        "applied=%" PRIu64 " log=%" PRIu64
				        " next=\"watching from another endpoint\"",
				        st_log_applied(cl->cfg.store), mod);
				atomic_store(&cl->event_ms, now);
				atomic_store(&cl->watch_stop, true);
			}
		}
		if (cl_now_ms() - registered_ms >= CL_KEEPALIVE_MS) {
			cl_node_register(cl);
			registered_ms = cl_now_ms();
			ed_member m[ED_MAX_ENDPOINTS];
			int nm = ed_members(cl->status, m, ED_MAX_ENDPOINTS);
			pthread_mutex_lock(&cl->lock);
			memcpy(cl->members, m, sizeof(m[0]) * (size_t)nm);
			cl->n_members = nm;
			pthread_mutex_unlock(&cl->lock);
			static cl_node_list l; /* this thread's only */
			l.n = 0;
			if (ed_range_prefix(cl->status, cl->key_nodes, cl_node_seen, &l, &err) == ANNALS_OK) {
				pthread_mutex_lock(&cl->lock);
				memcpy(cl->nodes, l.nodes, sizeof(l.nodes[0]) * (size_t)l.n);
				cl->n_nodes = l.n;
				pthread_mutex_unlock(&cl->lock);
				if (cl_now_ms() - compacted_ms >= cl->cfg.compact_ms) {
					cl_compact(cl, &l);
					compacted_ms = cl_now_ms();
				}
			}
		}
		cl_wait_ms(cl, 1000);
	}
	return NULL;
}

/* ---- life ------------------------------------------------------------------ */

void cl_state_get(cl_log *cl, cl_state *out)
{
	uint64_t looked = atomic_load(&cl->looked_ms);
	out->applied = st_log_applied(cl->cfg.store);
	out->log_revision = atomic_load(&cl->log_revision);
	out->compacted = atomic_load(&cl->compacted);
	/* etcd answered within the last few seconds, and nothing it holds is unapplied */
	out->caught_up = looked != 0 && cl_now_ms() - looked < 3 * CL_KEEPALIVE_MS && !out->compacted &&
	                 out->applied >= out->log_revision;
}

uint64_t cl_read_ticket(cl_log *cl)
{
	pthread_mutex_lock(&cl->reader_lock);
	uint64_t t = ++cl->ri_asked;
	pthread_cond_signal(&cl->reader_cond);
	pthread_mutex_unlock(&cl->reader_lock);
	return t;
}

bool cl_read_done(cl_log *cl, uint64_t ticket, uint64_t *log_revision)
{
	pthread_mutex_lock(&cl->reader_lock);
	bool done = cl->ri_done >= ticket;
	if (done)
		*log_revision = cl->ri_revision;
	pthread_mutex_unlock(&cl->reader_lock);
	return done;
}

/* One quorum read serves every ticket asked before it started. */
static void *cl_reader_main(void *arg)
{
	cl_log *cl = arg;
	pthread_mutex_lock(&cl->reader_lock);
	while (!atomic_load(&cl->stop)) {
		if (cl->ri_asked <= cl->ri_started) {
			pthread_cond_wait(&cl->reader_cond, &cl->reader_lock);
			continue;
		}
		uint64_t covers = cl->ri_started = cl->ri_asked;
		pthread_mutex_unlock(&cl->reader_lock);
		uint64_t mod = 0, rev = 0;
		ed_err err = {0};
		int rc = ed_key_revision(cl->reader, cl->key_log, &mod, &rev, &err);
		pthread_mutex_lock(&cl->reader_lock);
		if (rc == ANNALS_OK) {
			cl->ri_done = covers;
			cl->ri_revision = mod;
		} else {
			cl->ri_started = cl->ri_done; /* not served: the next round tries them again */
			log_msg(LOG_WARN, "cluster_read_index_failed", "problem=\"%s\"", err.msg);
		}
		pthread_mutex_unlock(&cl->reader_lock);
		if (rc == ANNALS_OK)
			cl->cfg.hooks.read_index(cl->cfg.hooks.ctx);
		else
			cl_wait_ms(cl, 200);
		pthread_mutex_lock(&cl->reader_lock);
	}
	pthread_mutex_unlock(&cl->reader_lock);
	return NULL;
}

int cl_nodes(cl_log *cl, cl_node *out, int max)
{
	pthread_mutex_lock(&cl->lock);
	int n = cl->n_nodes;
	memcpy(out, cl->nodes, sizeof(out[0]) * (size_t)(n < max ? n : max));
	pthread_mutex_unlock(&cl->lock);
	return n;
}

int cl_members(cl_log *cl, ed_member *out, int max)
{
	pthread_mutex_lock(&cl->lock);
	int n = cl->n_members < max ? cl->n_members : max;
	memcpy(out, cl->members, sizeof(out[0]) * (size_t)n);
	pthread_mutex_unlock(&cl->lock);
	return n;
}

int cl_open(const cl_config *cfg, cl_log **out, char *errmsg, size_t errlen)
{
	*out = NULL;
	cl_log *cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		snprintf(errmsg, errlen, "out of memory");
		return -1;
	}
	cl->cfg = *cfg;
	snprintf(cl->key_log, sizeof(cl->key_log), "%s/log", cfg->prefix);
	snprintf(cl->key_seeded, sizeof(cl->key_seeded), "%s/seeded", cfg->prefix);
	snprintf(cl->key_nodes, sizeof(cl->key_nodes), "%s/nodes/", cfg->prefix);
	snprintf(cl->key_node, sizeof(cl->key_node), "%s%s", cl->key_nodes, cfg->node);
	cl->q_cap = cfg->max_queued > 0 ? cfg->max_queued : 4096;
	cl->q = calloc((size_t)cl->q_cap, sizeof(*cl->q));
	cl->next_seq = (uint64_t)cl_wall_ms() * 1000u;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_mutex_init(&cl->reader_lock, NULL);
	pthread_cond_init(&cl->reader_cond, NULL);
	pthread_cond_init(&cl->cond, NULL);
	ed_err err = {0};
	bool ok = cl->q != NULL;
	for (unsigned i = 0; ok && i < CL_PROPOSERS; i++)
		ok = ed_open(cfg->endpoints, CL_TRY_MS, &cl->prop[i], &err) == ANNALS_OK;
	if (!ok || ed_open(cfg->endpoints, CL_TRY_MS, &cl->apply, &err) != ANNALS_OK ||
	    ed_open(cfg->endpoints, 1000, &cl->status, &err) != ANNALS_OK ||
	    ed_open(cfg->endpoints, 1000, &cl->reader, &err) != ANNALS_OK) {
		snprintf(errmsg, errlen, "%s", err.msg[0] ? err.msg : "out of memory");
		cl_close(cl);
		return -1;
	}
	void *(*mains[3 + CL_PROPOSERS])(void *) = {cl_applier_main, cl_status_main, cl_reader_main};
	for (unsigned i = 0; i < CL_PROPOSERS; i++)
		mains[3 + i] = cl_proposer_main;
	for (unsigned i = 0; i < 3 + CL_PROPOSERS; i++) {
		if (pthread_create(&cl->threads[i], NULL, mains[i], cl) != 0) {
			snprintf(errmsg, errlen, "cannot start a thread");
			cl_close(cl);
			return -1;
		}
		cl->n_threads++;
	}
	log_msg(LOG_INFO, "cluster", "node=%s etcd=%s prefix=%s applied=%" PRIu64, cfg->node, cfg->endpoints,
	        cfg->prefix, st_log_applied(cfg->store));
	*out = cl;
	return 0;
}

void cl_close(cl_log *cl)
{
	if (cl == NULL)
		return;
	pthread_mutex_lock(&cl->lock);
	atomic_store(&cl->stop, true);
	atomic_store(&cl->watch_stop, true);
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
	pthread_mutex_lock(&cl->reader_lock);
	pthread_cond_broadcast(&cl->reader_cond);
	pthread_mutex_unlock(&cl->reader_lock);
	for (int i = 0; i < cl->n_threads; i++)
		pthread_join(cl->threads[i], NULL);
	/* Whatever is still waiting: queued, or proposed and not seen applied. */
	while (cl->q_len > 0) {
		cl_refuse(cl, &cl->q[cl->q_head], ANNALS_UNAVAILABLE,
		          "the server is shutting down; retry on another node");
		cl->q_head = (cl->q_head + 1) % cl->q_cap;
		cl->q_len--;
	}
	while (cl->pending != NULL) {
		cl_pending *p = cl->pending;
		cl->pending = p->next;
		for (int i = 0; i < p->n; i++)
			cl_refuse(cl, &p->w[i], ANNALS_UNAVAILABLE,
			          "the server stopped before it saw this write applied; it may be: resend it "
			          "with the "
			          "same request_id to another node");
		free(p);
	}
	if (cl->lease != 0) { /* leave the node list at once rather than in CL_LEASE_S */
		ed_err err = {0};
		ed_delete(cl->status, cl->key_node, &err);
	}
	for (unsigned i = 0; i < CL_PROPOSERS; i++)
		ed_close(cl->prop[i]);
	ed_close(cl->apply);
	ed_close(cl->status);
	ed_close(cl->reader);
	free(cl->q);
	pthread_mutex_destroy(&cl->lock);
	pthread_mutex_destroy(&cl->reader_lock);
	pthread_cond_destroy(&cl->reader_cond);
	pthread_cond_destroy(&cl->cond);
	free(cl);
}

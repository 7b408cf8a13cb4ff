/*
 * srv_ — the annalsd server: one nng REP socket, a pool of contexts (workers)
 * each driven by its own aio callback, one writer thread for group commit.
 *
 * The server object owns all mutable state of the process; nothing is
 * global. A call moves through a worker like this:
 *
 *   RECV --(message)--> dispatch --read--> reply ----------> SEND --> RECV
 *                          |                                  ^
 *                          +--write--> writer queue --commit--+
 *                          +--long poll--> waiters --change / timer--+
 */
#ifndef ANNALS_SERVER_SERVER_H
#define ANNALS_SERVER_SERVER_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "annals/v1/service.pb-c.h"
#include "common/arena.h"
#include "server/metrics.h"
#include "server/qcache.h"
#include "store/store.h"

#define SRV_MAX_LISTEN 8

typedef struct srv_config {
	const char *listen[SRV_MAX_LISTEN];
	char *listen_env; /* ANNALS_LISTEN split in place; listen[] points into it */
	int n_listen;
	const char *data_dir;
	bool empty; /* do not load the built-in data on first start */
	bool log_json;
	bool debug;
	bool access_log;           /* one log line per call (access.c) */
	size_t max_message;        /* receive limit in bytes */
	int contexts;              /* workers (nng contexts) */
	int max_inflight;          /* calls worked on at once; beyond: RESOURCE_EXHAUSTED (< contexts) */
	int max_inflight_writes;   /* beyond: RESOURCE_EXHAUSTED */
	uint64_t bulk_max_mb;      /* a staged BulkLoad's memory (bulk.c); 0: no bulk loads */
	int max_polls;             /* long polls waiting at once, on contexts of their own */
	int max_connections;       /* open connections; one more is closed at once */
	uint32_t idle_timeout_s;   /* a pipe with no call for this long is closed (conns.c); 0: never */
	size_t max_inflight_bytes; /* wire bytes of large requests in flight (admit.c) */
	size_t reply_cache_bytes;  /* per thread answering reads; 0: no reply cache */
	uint64_t map_size;
	const char *tokens_file;
	bool insecure;
	const char *tls_cert, *tls_key, *tls_ca;
	bool tls_require_client_cert;
	const char *metrics_listen;
	const char *http_listen; /* the HTTP/JSON gateway and web page (gateway.h); NULL: none */
	const char *web_root;    /* the built page; NULL: next to the program */
	int http_max_inflight;   /* HTTP calls at once (long polls too); beyond: 429 */
	const char *publish;
	const char *cluster; /* etcd endpoints (cluster.c); NULL: single node */
	const char *node_name;
	const char *cluster_prefix; /* etcd key prefix, default "/annals" */
	const char *advertise;      /* the URL others reach this node at; NULL: listen[0] */
	const char *restore_from;   /* a new node's store: a peer's snapshot first (cluster/restore.h) */
	const char *restore_token;  /* the peer's admin token */
	uint64_t cluster_keep;      /* etcd revisions kept below the slowest node (compaction) */
	uint32_t cluster_compact_s; /* how often compaction is looked at */
	uint32_t test_delay_ms;     /* fault injection: sleep before each dispatch */
	uint32_t test_drop_publish; /* fault injection: drop every Nth PUB message */
	st_options store;
} srv_config;

typedef struct srv_server srv_server;
typedef struct srv_worker srv_worker;
typedef struct srv_cluster srv_cluster;
typedef struct srv_gateway srv_gateway;

typedef enum srv_state {
	SRV_W_IDLE, /* not started */
	SRV_W_RECV, /* waiting for a request */
	SRV_W_BUSY, /* a request is being handled (parked on the writer or a long poll) */
	SRV_W_SEND, /* sending the reply */
	SRV_W_CLOSED,
} srv_state;

struct srv_worker {
	srv_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	srv_state state;
	st_txn *txn; /* this worker's read snapshot handle */
	bool txn_open;
	ar_arena arena; /* everything of the current call */
	/* the current call */
	nng_msg *req;
	int method; /* ANNALS_METHOD_* (the method table's row), -1 before it is known */
	uint64_t received_ms;
	uint64_t received_us; /* for the latency histogram */
	uint64_t deadline_ms; /* 0: none */
	const char *request_id;
	int64_t pipe_id;         /* the pipe of the current call, 0: none (conns.c) */
	size_t admitted_bytes;   /* counted in srv->inflight_bytes until the call ends (admit.c) */
	st_write write;          /* for writes: filled by the handler, answered after the commit */
	srv_worker *answer_next; /* on the list of committed writes to answer */
	qc_key qkey;             /* a cacheable query: its key, kept on reply when armed */
	st_deps *deps;           /* what an armed query read (st_txn_track); made on first use */
	bool qkey_armed;
	/* a read waiting for a revision (min_revision, linearizable): parked
	 * with the long polls, resumed by the poller (dispatch.c, poll.c) */
	const Annals__V1__Call *wait_call;
	uint64_t wait_revision; /* store revision to reach */
	uint64_t wait_ticket;   /* linearizable: the read-index ticket (cluster log) */
	uint64_t wait_log;      /* linearizable: the etcd revision to apply, once known */
	/* long poll */
	const Annals__V1__ChangesRequest *poll;
	uint64_t poll_until_ms;
	srv_worker *poll_next;
	bool waited; /* parked for a commit in this call: timed apart (metrics.h) */
};

typedef struct srv_token {
	char *token;
	int role; /* 1 reader, 2 writer, 3 admin */
} srv_token;

struct srv_server {
	srv_config cfg;
	nng_socket sock;
	nng_listener listeners[SRV_MAX_LISTEN];
	int n_listeners;
	nng_tls_config *tls;
	st_store *store;
	qc_cache *qcache; /* answers of cacheable queries (qcache.h) */
	srv_worker *workers;
	int n_workers;
	uint64_t started_ms;
	atomic_bool draining;
	atomic_int inflight; /* workers between RECV and the end of SEND */
	atomic_int writes_queued;
	atomic_uint_fast64_t calls;
	/* the one BulkLoad being staged (bulk.c), under bulk_lock */
	pthread_mutex_t bulk_lock;
	st_bulk *bulk;
	uint64_t bulk_touched_ms;
	bool bulk_committing;
	/* writer */
	pthread_t writer_thread;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	srv_worker **wqueue; /* ring of parked write workers */
	int wq_cap, wq_head, wq_len;
	bool wstop;
	bool wwaiting; /* the writer sleeps on wcond: a submit must wake it */
	bool writer_running;
	/* answers of committed writes, sent from an nng task (answer.c) */
	nng_aio *answer_aio;
	pthread_mutex_t alock;
	srv_worker *answer_head, **answer_tail;
	bool answer_pending; /* answer_aio's task is scheduled or running */
	/* long-poll waiters on the change feed */
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	pthread_t poll_thread;
	srv_worker *pollers;               /* parked long polls, unordered */
	atomic_int polls_parked;           /* parked: outside `inflight`, at most cfg.max_polls */
	atomic_int conns_open;             /* pipes nng has added and not yet removed (conns.c) */
	atomic_size_t inflight_bytes;      /* wire bytes of large requests in flight (admit.c) */
	atomic_size_t inflight_bytes_high; /* since the last trim */
	_Atomic uint64_t trimmed_ms;
	atomic_ullong conns_refused;
	atomic_ullong conns_idle_closed; /* pipes closed past --idle-timeout-s */
	struct srv_conns *conns;         /* the pipe table and its sweeper (conns.c); NULL: no deadline */
	_Atomic uint64_t conns_logged_ms;
	bool poll_wake;         /* a commit landed since the poller last looked */
	_Atomic bool poll_stop; /* also read by pollers outside plock */
	bool poll_running;
	/* auth */
	srv_token *tokens;
	int n_tokens;
	/* publish */
	nng_socket pub;
	bool pub_open;
	st_txn *pub_txn;       /* the writer's snapshot for reading new change sets */
	uint64_t pub_revision; /* last revision published */
	uint64_t pub_count;    /* messages offered, for --test-drop-publish */
	/* metrics */
	mx_metrics mx;
	pthread_mutex_t mx_lock; /* guards mx_txn */
	st_txn *mx_txn;          /* snapshot for Stats and /metrics */
	atomic_bool ready;       /* store open and listening: /readyz */
	srv_cluster *cluster;    /* cluster mode (cluster.c); NULL: single node */
	srv_gateway *gw;         /* the HTTP gateway (gateway.c); NULL: none */
	int gw_listener;         /* id of its inproc listener: its pipe has no idle deadline */
};

/* config.c */
int srv_config_parse(srv_config *cfg, int argc, char **argv);
void srv_config_usage(FILE *out);

/* version.c: what was built, from what, running on which libraries */
typedef struct srv_build {
	const char *version, *git, *compiler, *nng, *protobuf_c;
	char lmdb[24];
} srv_build;
void srv_build_get(srv_build *b);
void srv_build_print(FILE *out); /* annalsd --version */

/* server.c */
size_t srv_frame_limit(const srv_config *cfg); /* what nng accepts at all */
int srv_start(srv_server *s, const srv_config *cfg);
void srv_drain(srv_server *s, int timeout_ms);
void srv_stop(srv_server *s);

/* worker.c */
int srv_worker_init(srv_worker *w, srv_server *s);
void srv_worker_start(srv_worker *w);
void srv_worker_fini(srv_worker *w);
/* Finishes the current call with code/message and an optional packed body. */
void srv_worker_reply(srv_worker *w, int code, const char *message, const void *body, size_t len);
/* Finishes the current call with a reply message (packed straight into the outgoing buffer). */
void srv_worker_reply_msg(srv_worker *w, const ProtobufCMessage *m);

/* A read snapshot for the current call; released when its reply is sent. */
int srv_worker_read_begin(srv_worker *w);
void srv_worker_read_end(srv_worker *w);

/* dispatch.c */
void srv_dispatch(srv_worker *w);
/* The rest of a call after its policy checks: reply cache, unpack, handler
 * (also from the poller, for a read that waited for its revision). */
void srv_dispatch_run(srv_worker *w, const Annals__V1__Call *call);
/* poll.c's side of a read waiting for a revision: true when w was answered
 * (resumed, refused, or timed out), false to keep waiting. */
bool srv_wait_try(srv_worker *w, uint64_t now_ms);
uint64_t srv_now_ms(void);
uint64_t srv_now_us(void); /* CLOCK_MONOTONIC */

/* handlers.c: the server's half of the method table. srv_call runs the
 * handler of w->method on its unpacked, validated request; the handler
 * answers (srv_worker_reply_msg, srv_fail) or parks the worker (writer
 * queue, long poll), exactly once. */
void srv_call(srv_worker *w, const ProtobufCMessage *in);
bool srv_has_handler(int method);
/* handlers_read.c: a read snapshot for the call (answers the failure itself) */
int srv_read_begin(srv_worker *w);
void srv_read_record(srv_worker *w, st_kind kind, const char *id);
/* handlers_write.c: checks a write and queues it for the writer */
void srv_write_submit(srv_worker *w, st_op op, st_kind kind, const void *req);
void srv_fail(srv_worker *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* writer.c */
int srv_writer_start(srv_server *s);
void srv_writer_stop(srv_server *s);
/* Queues w's write; it is answered after the commit (answer.c). */
/* 0: queued; -1: refused and answered (queue full, stopping). */
int srv_writer_submit(srv_server *s, srv_worker *w);
/* BulkLoad (bulk.c): after a commit's answer, the load is let go. */
void srv_bulk_answered(srv_worker *w);
/* The BulkLoadReply of a committed (or replayed) load, malloc'ed. */
uint8_t *srv_bulk_reply_pack(const st_write *w, size_t *len);

/* answer.c: the writer hands each committed group over; replies go out from an nng task */
int srv_answer_start(srv_server *s);
void srv_answer_group(srv_server *s, srv_worker **group, int n);
void srv_answer_stop(srv_server *s); /* after the writer stopped: sends what is left */
/* A write's reply body packed from the store's outcome (WriteReply, or
 * BatchReply for a Batch); malloc'ed, NULL when it has none. */
uint8_t *srv_write_reply_pack(const st_write *w, size_t *len);
/* Answers w's write from its outcome (the answering task, or a refusal). */
void srv_write_answer(srv_worker *w);

/* poll.c: long polls on the change feed */
int srv_poll_start(srv_server *s);
#define SRV_MAX_WAIT_MS     300000u /* the longest a Changes call may wait */
#define SRV_WAIT_DEFAULT_MS 10000u  /* a read waiting for a revision, without timeout_ms */

/* The one Changes logic, for the handler and the poller alike: answers w
 * from a fresh snapshot when there is something after in->since, when it
 * may not wait, or when the server stops; returns false (nothing
 * answered) when it should go on waiting. */
bool srv_poll_answer(srv_worker *w, const Annals__V1__ChangesRequest *in, bool may_wait);
/* Parks w until a commit or wait_ms; refuses (answers RESOURCE_EXHAUSTED)
 * when cfg.max_polls are waiting already. A parked worker does not count
 * in `inflight`, so waiting polls never take the capacity of other calls. */
void srv_poll_park(srv_server *s, srv_worker *w, uint32_t wait_ms);
void srv_poll_wake(srv_server *s);
void srv_poll_stop(srv_server *s); /* answers every parked poll, then stops */

/* publish.c: the PUB socket of the change feed (writer thread only) */
int srv_publish_open(srv_server *s);
void srv_publish_commits(srv_server *s);
void srv_publish_close(srv_server *s);

/* seed.c */
#define SRV_SEED_REQUEST_ID "annals-seed-v1"
int srv_seed_load(srv_server *s);
/* The built-in data set as one Batch, in a's memory; NULL (logged) when it does not parse. */
Annals__V1__BatchRequest *srv_seed_batch(ar_arena *a);

/* cluster.c: the server's side of cluster mode (src/cluster/log.h); NULL
 * cfg.cluster: nothing. The log owns a submitted worker (worker.c's
 * contract) until it hands it back to be answered or refused. */
int srv_cluster_start(srv_server *s); /* after the writer (answers go out through answer.c) */
void srv_cluster_stop(srv_server *s); /* before the writer stops */
/* Proposes w's checked write to the log; it is answered once this node has applied it. */
void srv_cluster_submit(srv_server *s, srv_worker *w);
/* Health's cluster fields (node, applied and etcd revisions) */
void srv_cluster_health(srv_server *s, Annals__V1__HealthReply *out);
/* ServerInfo's: the same, and the node registry */
void srv_cluster_info(srv_worker *w, Annals__V1__ServerInfoReply *out);
/* Linearizable reads: a ticket for a quorum read that starts after now;
 * true with the log revision it found once such a read completed. */
uint64_t srv_cluster_read_ticket(srv_server *s);
bool srv_cluster_read_done(srv_server *s, uint64_t ticket, uint64_t *log_revision);
uint64_t srv_cluster_applied(srv_server *s);
/* NULL when this node may answer reads; else why not (far behind the log,
 * or compacted past: it must be restored), for an UNAVAILABLE. */
const char *srv_cluster_unserving(srv_server *s, char *buf, size_t len);

/* admit.c: admission by bytes (0, or -1 after answering RESOURCE_EXHAUSTED) */
int srv_admit(srv_worker *w);
void srv_admit_release(srv_worker *w);

/* conns.c: counts connections and closes those past --max-connections */
int srv_conns_watch(srv_server *s);
/* and closes pipes idle (or stalled in a frame) past --idle-timeout-s */
typedef struct srv_conns srv_conns;
int srv_conns_start(srv_server *s); /* before the listeners */
void srv_conns_stop(srv_server *s); /* the sweeper; before the socket closes */
void srv_conns_free(srv_server *s); /* after it closed */
void srv_conns_call_begin(srv_worker *w);
void srv_conns_call_end(srv_worker *w);

/* access.c: the access log's line for the call w is answering (before its
 * request is freed); bytes_out: the reply's size */
void srv_access_log(const srv_worker *w, int code, size_t bytes_out);

/* addr.c: the one loopback-only rule for every listener without tokens */
bool srv_addr_is_local(const char *url);
/* 0 when s may listen on url (tokens, --insecure, or a local address);
 * else logs why, naming the flag, and returns -1. */
int srv_addr_check(const srv_server *s, const char *flag, const char *url);

/* auth.c */
int srv_auth_load(srv_server *s);
/* May a call of a method with these ANNALS_M_* flags carry this token?
 * ANNALS_OK or UNAUTHENTICATED / PERMISSION_DENIED with a message. */
int srv_auth_check(srv_server *s, const char *token, unsigned flags, const char **why);
void srv_auth_free(srv_server *s);

#endif

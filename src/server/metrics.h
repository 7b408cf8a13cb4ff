/*
 * mx_ — operating figures: calls by method and status, latency histograms,
 * commits (their group sizes and how long the commit took), the process
 * (metrics_process.c) and the build; served as Prometheus text over HTTP
 * (--metrics-listen, nng's HTTP server) with /healthz and /readyz, and as
 * the Stats RPC. Counters are atomics updated on the reply path; nothing
 * on that path takes a lock.
 *
 * A call that waited for a commit (a Changes long poll, a read waiting for
 * min_revision) is timed in a histogram of its own: its seconds of waiting
 * are the caller's choice, not the server's latency, and would swamp the
 * call latency histogram (six waiting polls once added 28.6 s to it).
 */
#ifndef ANNALS_SERVER_METRICS_H
#define ANNALS_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/v1/service.pb-c.h"
#include "common/arena.h"

#define MX_METHODS       48 /* >= methods in the service, +1 for "unknown method" */
#define MX_CODES         17
#define MX_BUCKETS       16 /* latency buckets, plus +Inf */
#define MX_GROUP_BUCKETS 12

/* A latency histogram over mx_bounds_us (metrics.c), plus +Inf. */
typedef struct mx_hist {
	atomic_uint_fast64_t buckets[MX_BUCKETS + 1];
	atomic_uint_fast64_t sum_us;
} mx_hist;

typedef struct mx_method {
	atomic_uint_fast64_t codes[MX_CODES];
	mx_hist latency; /* calls answered without waiting */
	mx_hist waited;  /* calls that were parked waiting for a commit */
} mx_method;

typedef struct mx_metrics {
	mx_method methods[MX_METHODS];
	mx_hist commit; /* the writer's LMDB commit, fsyncs included */
	atomic_uint_fast64_t commits;
	atomic_uint_fast64_t committed_writes;
	atomic_uint_fast64_t group_buckets[MX_GROUP_BUCKETS + 1];
	void *http; /* nng_http_server */
} mx_metrics;

struct srv_server;

/* method -1: the call never named a known method; waited: it was parked
 * for a commit (long poll, min_revision) */
void mx_record_call(mx_metrics *m, int method, int code, uint64_t micros, bool waited);
/* A group of writes committed; commit_us: the commit's duration */
void mx_record_commit(mx_metrics *m, unsigned writes, uint64_t commit_us);
/* Fills the Stats reply (allocating in a). */
void mx_fill_stats(struct srv_server *s, ar_arena *a, Annals__V1__StatsReply *out);
/* The process_* figures, from /proc/self (metrics_process.c); a field it
 * could not read is -1 and left out of the page. */
typedef struct mx_process {
	double start_time_s; /* since the epoch */
	double cpu_s;        /* user + system */
	double resident_bytes, virtual_bytes;
	double open_fds, max_fds;
} mx_process;
void mx_process_read(mx_process *p);

/* Prometheus text; malloc'ed. */
char *mx_render(struct srv_server *s, size_t *len);
int mx_http_start(struct srv_server *s, const char *url);
void mx_http_stop(struct srv_server *s);

#endif

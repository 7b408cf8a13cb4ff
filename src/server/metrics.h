/*
 * mx_ — operating figures: calls by method and status, latency histograms,
 * commits and their group sizes; served as Prometheus text over HTTP
 * (--metrics-listen, nng's HTTP server) with /healthz and /readyz, and as
 * the Stats RPC. Counters are atomics updated on the reply path; nothing
 * on that path takes a lock.
 */
#ifndef ANNALS_SERVER_METRICS_H
#define ANNALS_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "annals/v1/service.pb-c.h"
#include "common/arena.h"

#define MX_METHODS 48 /* >= methods in the service, +1 for "unknown method" */
#define MX_CODES 17
#define MX_BUCKETS 16 /* latency buckets, plus +Inf */
#define MX_GROUP_BUCKETS 12

typedef struct mx_method {
	atomic_uint_fast64_t codes[MX_CODES];
	atomic_uint_fast64_t buckets[MX_BUCKETS + 1];
	atomic_uint_fast64_t sum_us;
} mx_method;

typedef struct mx_metrics {
	mx_method methods[MX_METHODS];
	atomic_uint_fast64_t commits;
	atomic_uint_fast64_t committed_writes;
	atomic_uint_fast64_t group_buckets[MX_GROUP_BUCKETS + 1];
	void *http; /* nng_http_server */
} mx_metrics;

struct srv_server;

/* method -1: the call never named a known method */
void mx_record_call(mx_metrics *m, int method, int code, uint64_t micros);
void mx_record_commit(mx_metrics *m, unsigned writes);
/* Fills the Stats reply (allocating in a). */
void mx_fill_stats(struct srv_server *s, ar_arena *a, Annals__V1__StatsReply *out);
/* Prometheus text; malloc'ed. */
char *mx_render(struct srv_server *s, size_t *len);
int mx_http_start(struct srv_server *s, const char *url);
void mx_http_stop(struct srv_server *s);

#endif

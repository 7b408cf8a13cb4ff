/* mx_ — see metrics.h. */
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "server/server.h"

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t mx_bounds_us[MX_BUCKETS] = {
    50,    100,   250,    500,    1000,   2500,    5000,    10000,
    25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000,
};
static const unsigned mx_group_bounds[MX_GROUP_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

static mx_method *mx_slot(mx_metrics *m, int method)
{
	int i = (method < 0 || method >= MX_METHODS - 1) ? MX_METHODS - 1 : method;
	return &m->methods[i];
}

void mx_record_call(mx_metrics *m, int method, int code, uint64_t micros)
{
	mx_method *s = mx_slot(m, method);
	atomic_fetch_add_explicit(&s->codes[(code >= 0 && code < MX_CODES) ? code : ANNALS_UNKNOWN], 1,
	                          memory_order_relaxed);
	int b = 0;
	while (b < MX_BUCKETS && micros > mx_bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, micros, memory_order_relaxed);
}

void mx_record_commit(mx_metrics *m, unsigned writes)
{
	atomic_fetch_add_explicit(&m->commits, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->committed_writes, writes, memory_order_relaxed);
	int b = 0;
	while (b < MX_GROUP_BUCKETS && writes > mx_group_bounds[b])
		b++;
	atomic_fetch_add_explicit(&m->group_buckets[b], 1, memory_order_relaxed);
}

static const char *mx_method_name(int i)
{
	const ProtobufCMethodDescriptor *md = env_method(i);
	return md ? md->name : "unknown";
}

static uint64_t mx_calls(const mx_method *s)
{
	uint64_t n = 0;
	for (int c = 0; c < MX_CODES; c++)
		n += atomic_load(&s->codes[c]);
	return n;
}

/* The upper bound (ms) of the bucket holding quantile q. */
static double mx_quantile_ms(const mx_method *s, double q)
{
	uint64_t total = 0;
	for (int b = 0; b <= MX_BUCKETS; b++)
		total += atomic_load(&s->buckets[b]);
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
	for (int b = 0; b < MX_BUCKETS; b++) {
		seen += atomic_load(&s->buckets[b]);
		if (seen >= want && seen > 0)
			return (double)mx_bounds_us[b] / 1000.0;
	}
	return (double)mx_bounds_us[MX_BUCKETS - 1] / 1000.0;
}

static uint64_t mx_data_file_bytes(const srv_server *s)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/data.mdb", s->cfg.data_dir);
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Store figures through the metrics snapshot (one at a time: the HTTP
 * server and the Stats RPC may both ask). */
static void mx_store_stats(srv_server *s, st_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->mx_lock);
	if (st_txn_begin(s->mx_txn) == ANNALS_OK) {
		st_stats_get(s->mx_txn, st);
		st_txn_end(s->mx_txn);
	}
	pthread_mutex_unlock(&s->mx_lock);
}

void mx_fill_stats(srv_server *s, ar_arena *a, Annals__V1__StatsReply *out)
{
	mx_metrics *m = &s->mx;
	st_stats st;
	mx_store_stats(s, &st);
	Annals__V1__RecordCounts *counts =
	    AR_NEW(a, Annals__V1__RecordCounts, ANNALS__V1__RECORD_COUNTS__INIT);
	counts->entities = st.entities;
	counts->events = st.events;
	counts->relations = st.relations;
	counts->documents = st.documents;
	out->version = ANNALS_VERSION;
	out->uptime_ms = srv_now_ms() - s->started_ms;
	out->revision = st.revision;
	out->counts = counts;
	out->in_flight = (uint32_t)atomic_load(&s->inflight);
	out->writes_queued = (uint32_t)atomic_load(&s->writes_queued);
	out->commits = atomic_load(&m->commits);
	out->committed_writes = atomic_load(&m->committed_writes);
	out->data_file_bytes = mx_data_file_bytes(s);
	out->map_size = st.map_size;
	out->map_used = st.map_used;
	for (int i = 0; i < MX_METHODS; i++) {
		const mx_method *ms = &m->methods[i];
		uint64_t calls = mx_calls(ms);
		if (calls == 0)
			continue;
		Annals__V1__MethodStats *o =
		    AR_NEW(a, Annals__V1__MethodStats, ANNALS__V1__METHOD_STATS__INIT);
		o->method = (char *)(i == MX_METHODS - 1 ? "unknown" : mx_method_name(i));
		o->calls = calls;
		o->mean_ms = (double)atomic_load(&ms->sum_us) / 1000.0 / (double)calls;
		o->p50_ms = mx_quantile_ms(ms, 0.50);
		o->p99_ms = mx_quantile_ms(ms, 0.99);
		for (int c = 0; c < MX_CODES; c++) {
			uint64_t n = atomic_load(&ms->codes[c]);
			if (n == 0)
				continue;
			Annals__V1__CodeCount *cc =
			    AR_NEW(a, Annals__V1__CodeCount, ANNALS__V1__CODE_COUNT__INIT);
			cc->code = (char *)annals_status_name(c);
			cc->count = n;
			AR_PUSH(a, o->codes, o->n_codes, cc);
		}
		AR_PUSH(a, out->methods, out->n_methods, o);
	}
}

/* ---- Prometheus text exposition ------------------------------------------ */

typedef struct mx_buf {
	char *p;
	size_t len, cap;
} mx_buf;

static void mx_printf(mx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mx_printf(mx_buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 16384) + (size_t)n;
		char *grown = realloc(b->p, cap);
		if (grown == NULL)
			return;
		b->p = grown;
		b->cap = cap;
	}
}

static void mx_render_calls(mx_buf *b, mx_metrics *m)
{
	mx_printf(b, "# HELP annals_calls_total Calls answered, by method and status code.\n"
	             "# TYPE annals_calls_total counter\n");
	for (int i = 0; i < MX_METHODS; i++)
		for (int c = 0; c < MX_CODES; c++) {
			uint64_t n = atomic_load(&m->methods[i].codes[c]);
			if (n)
				mx_printf(b, "annals_calls_total{method=\"%s\",code=\"%s\"} %llu\n",
				          i == MX_METHODS - 1 ? "unknown" : mx_method_name(i),
				          annals_status_name(c), (unsigned long long)n);
		}
	mx_printf(b, "# HELP annals_call_duration_seconds Time from receiving a call to sending its reply.\n"
	             "# TYPE annals_call_duration_seconds histogram\n");
	for (int i = 0; i < MX_METHODS; i++) {
		const mx_method *ms = &m->methods[i];
		uint64_t calls = mx_calls(ms), cum = 0;
		if (calls == 0)
			continue;
		const char *name = i == MX_METHODS - 1 ? "unknown" : mx_method_name(i);
		for (int k = 0; k < MX_BUCKETS; k++) {
			cum += atomic_load(&ms->buckets[k]);
			mx_printf(b, "annals_call_duration_seconds_bucket{method=\"%s\",le=\"%g\"} %llu\n",
			          name, (double)mx_bounds_us[k] / 1e6, (unsigned long long)cum);
		}
		cum += atomic_load(&ms->buckets[MX_BUCKETS]);
		mx_printf(b, "annals_call_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n", name,
		          (unsigned long long)cum);
		mx_printf(b, "annals_call_duration_seconds_sum{method=\"%s\"} %.6f\n", name,
		          (double)atomic_load(&ms->sum_us) / 1e6);
		mx_printf(b, "annals_call_duration_seconds_count{method=\"%s\"} %llu\n", name,
		          (unsigned long long)cum);
	}
}

static void mx_render_commits(mx_buf *b, mx_metrics *m)
{
	mx_printf(b, "# HELP annals_commit_group_size Writes committed together in one LMDB transaction.\n"
	             "# TYPE annals_commit_group_size histogram\n");
	uint64_t cum = 0;
	for (int k = 0; k < MX_GROUP_BUCKETS; k++) {
		cum += atomic_load(&m->group_buckets[k]);
		mx_printf(b, "annals_commit_group_size_bucket{le=\"%u\"} %llu\n", mx_group_bounds[k],
		          (unsigned long long)cum);
	}
	cum += atomic_load(&m->group_buckets[MX_GROUP_BUCKETS]);
	mx_printf(b, "annals_commit_group_size_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	mx_printf(b, "annals_commit_group_size_sum %llu\nannals_commit_group_size_count %llu\n",
	          (unsigned long long)atomic_load(&m->committed_writes),
	          (unsigned long long)atomic_load(&m->commits));
}

static void mx_render_cache(mx_buf *b, srv_server *s)
{
	qc_counts c;
	qc_counts_get(s->qcache, &c);
	mx_printf(b,
	          "# HELP annals_reply_cache_total Cacheable queries answered from the reply cache (hit) or "
	          "computed (miss); answers kept (stored) and dropped for room (evicted).\n"
	          "# TYPE annals_reply_cache_total counter\n"
	          "annals_reply_cache_total{event=\"hit\"} %llu\n"
	          "annals_reply_cache_total{event=\"miss\"} %llu\n"
	          "annals_reply_cache_total{event=\"stored\"} %llu\n"
	          "annals_reply_cache_total{event=\"evicted\"} %llu\n"
	          "# TYPE annals_reply_cache_budget_bytes gauge\nannals_reply_cache_budget_bytes %zu\n",
	          (unsigned long long)c.hits, (unsigned long long)c.misses, (unsigned long long)c.stored,
	          (unsigned long long)c.evicted, qc_budget(s->qcache));
}

char *mx_render(srv_server *s, size_t *len)
{
	mx_buf b = {0};
	st_stats st;
	mx_store_stats(s, &st);
	mx_render_calls(&b, &s->mx);
	mx_render_commits(&b, &s->mx);
	mx_render_cache(&b, s);
	mx_printf(
	    &b,
	    "# HELP annals_long_polls_waiting Changes calls parked until a commit (at most --max-polls).\n"
	    "# TYPE annals_long_polls_waiting gauge\nannals_long_polls_waiting %d\n"
	    "# HELP annals_connections_open Connections open on the RPC listeners (at most "
	    "--max-connections).\n"
	    "# TYPE annals_connections_open gauge\nannals_connections_open %d\n"
	    "# HELP annals_connections_refused_total Connections closed at once for --max-connections.\n"
	    "# TYPE annals_connections_refused_total counter\nannals_connections_refused_total %llu\n"
	    "# HELP annals_connections_idle_closed_total Connections closed past --idle-timeout-s.\n"
	    "# TYPE annals_connections_idle_closed_total counter\nannals_connections_idle_closed_total "
	    "%llu\n",
	    atomic_load(&s->polls_parked), atomic_load(&s->conns_open),
	    (unsigned long long)atomic_load(&s->conns_refused),
	    (unsigned long long)atomic_load(&s->conns_idle_closed));
	mx_printf(&b,
	          "# TYPE annals_calls_in_flight gauge\nannals_calls_in_flight %d\n"
	          "# TYPE annals_writes_queued gauge\nannals_writes_queued %d\n"
	          "# TYPE annals_store_revision gauge\nannals_store_revision %llu\n"
	          "# TYPE annals_records gauge\n"
	          "annals_records{kind=\"entity\"} %llu\nannals_records{kind=\"event\"} %llu\n"
	          "annals_records{kind=\"relation\"} %llu\nannals_records{kind=\"document\"} %llu\n"
	          "# TYPE annals_data_file_bytes gauge\nannals_data_file_bytes %llu\n"
	          "# TYPE annals_map_size_bytes gauge\nannals_map_size_bytes %llu\n"
	          "# TYPE annals_map_used_bytes gauge\nannals_map_used_bytes %llu\n"
	          "# TYPE annals_uptime_seconds gauge\nannals_uptime_seconds %.3f\n"
	          "# TYPE annals_draining gauge\nannals_draining %d\n",
	          atomic_load(&s->inflight), atomic_load(&s->writes_queued), (unsigned long long)st.revision,
	          (unsigned long long)st.entities, (unsigned long long)st.events,
	          (unsigned long long)st.relations, (unsigned long long)st.documents,
	          (unsigned long long)mx_data_file_bytes(s), (unsigned long long)st.map_size,
	          (unsigned long long)st.map_used, (double)(srv_now_ms() - s->started_ms) / 1000.0,
	          atomic_load(&s->draining) ? 1 : 0);
	*len = b.len;
	return b.p;
}

/* ---- HTTP ---------------------------------------------------------------- */

static void mx_respond(nng_aio *aio, uint16_t status, const char *type, const char *body, size_t len)
{
	nng_http_res *res;
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, status);
	nng_http_res_set_header(res, "Content-Type", type);
	nng_http_res_copy_data(res, body, len);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static srv_server *mx_server_of(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	return nng_http_handler_get_data(h);
}

static void mx_on_metrics(nng_aio *aio)
{
	size_t len = 0;
	char *text = mx_render(mx_server_of(aio), &len);
	mx_respond(aio, 200, "text/plain; version=0.0.4", text ? text : "", text ? len : 0);
	free(text);
}

static void mx_on_healthz(nng_aio *aio)
{
	mx_respond(aio, 200, "text/plain", "ok\n", 3);
}

/* Ready when the store is open, listeners are up and the server is not draining. */
static void mx_on_readyz(nng_aio *aio)
{
	srv_server *s = mx_server_of(aio);
	char why[300];
	if (atomic_load(&s->ready) && !atomic_load(&s->draining) &&
	    srv_cluster_unserving(s, why, sizeof(why)) == NULL)
		mx_respond(aio, 200, "text/plain", "ready\n", 6); /* a cluster node far behind is not ready */
	else
		mx_respond(aio, 503, "text/plain", "not ready\n", 10);
}

static int mx_add(nng_http_server *hs, srv_server *s, const char *path, void (*cb)(nng_aio *))
{
	nng_http_handler *h;
	int rv = nng_http_handler_alloc(&h, path, cb);
	if (rv == 0)
		rv = nng_http_handler_set_data(h, s, NULL);
	if (rv == 0)
		rv = nng_http_server_add_handler(hs, h);
	return rv;
}

int mx_http_start(srv_server *s, const char *url)
{
	nng_url *u;
	nng_http_server *hs;
	if (srv_addr_check(s, "--metrics-listen", url) != 0)
		return -1;
	int rv = nng_url_parse(&u, url);
	if (rv == 0) {
		rv = nng_http_server_hold(&hs, u);
		nng_url_free(u);
	}
	if (rv == 0) {
		s->mx.http = hs;
		rv = mx_add(hs, s, "/metrics", mx_on_metrics);
		if (rv == 0)
			rv = mx_add(hs, s, "/healthz", mx_on_healthz);
		if (rv == 0)
			rv = mx_add(hs, s, "/readyz", mx_on_readyz);
		if (rv == 0)
			rv = nng_http_server_start(hs);
	}
	if (rv != 0) {
		log_msg(LOG_ERROR, "metrics_listen", "url=%s problem=\"%s\" hint=\"use http://HOST:PORT\"",
		        url, nng_strerror(rv));
		return -1;
	}
	log_msg(LOG_INFO, "metrics", "url=%s paths=\"/metrics /healthz /readyz\"", url);
	return 0;
}

void mx_http_stop(srv_server *s)
{
	if (s->mx.http == NULL)
		return;
	nng_http_server_stop(s->mx.http);
	nng_http_server_release(s->mx.http);
	s->mx.http = NULL;
}

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

static void mx_hist_add(mx_hist *h, uint64_t micros)
{
	int b = 0;
	while (b < MX_BUCKETS && micros > mx_bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, micros, memory_order_relaxed);
}

static uint64_t mx_hist_count(const mx_hist *h)
{
	uint64_t n = 0;
	for (int b = 0; b <= MX_BUCKETS; b++)
		n += atomic_load(&h->buckets[b]);
	return n;
}

void mx_record_call(mx_metrics *m, int method, int code, uint64_t micros, bool waited)
{
	mx_method *s = mx_slot(m, method);
	atomic_fetch_add_explicit(&s->codes[(code >= 0 && code < MX_CODES) ? code : ANNALS_UNKNOWN], 1,
	                          memory_order_relaxed);
	mx_hist_add(waited ? &s->waited : &s->latency, micros);
}

void mx_record_commit(mx_metrics *m, unsigned writes, uint64_t commit_us)
{
	mx_hist_add(&m->commit, commit_us);
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
static double mx_quantile_ms(const mx_hist *h, double q)
{
	uint64_t total = mx_hist_count(h);
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
	for (int b = 0; b < MX_BUCKETS; b++) {
		seen += atomic_load(&h->buckets[b]);
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
		/* of the calls that did not wait (see metrics.h) */
		uint64_t timed = mx_hist_count(&ms->latency);
		o->mean_ms = timed ? (double)atomic_load(&ms->latency.sum_us) / 1000.0 / (double)timed : 0;
		o->p50_ms = mx_quantile_ms(&ms->latency, 0.50);
		o->p99_ms = mx_quantile_ms(&ms->latency, 0.99);
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

static const char *mx_slot_name(int i)
{
	return i == MX_METHODS - 1 ? "unknown" : mx_method_name(i);
}

/* One histogram series: cumulative _bucket lines, _sum and _count; label
 * is "" or one pair such as method="GetEntity". */
static void mx_render_hist(mx_buf *b, const char *name, const char *label, const mx_hist *h)
{
	const char *sep = label[0] ? "," : "";
	uint64_t cum = 0;
	for (int k = 0; k < MX_BUCKETS; k++) {
		cum += atomic_load(&h->buckets[k]);
		mx_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label, sep,
		          (double)mx_bounds_us[k] / 1e6, (unsigned long long)cum);
	}
	cum += atomic_load(&h->buckets[MX_BUCKETS]);
	mx_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep, (unsigned long long)cum);
	mx_printf(b, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, label[0] ? "{" : "", label,
	          label[0] ? "}" : "", (double)atomic_load(&h->sum_us) / 1e6, name, label[0] ? "{" : "",
	          label, label[0] ? "}" : "", (unsigned long long)cum);
}

/* A histogram family by method: the series of every method that has one. */
static void mx_render_method_hists(mx_buf *b, mx_metrics *m, const char *name, const char *help, bool waited)
{
	mx_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < MX_METHODS; i++) {
		const mx_hist *h = waited ? &m->methods[i].waited : &m->methods[i].latency;
		if (mx_hist_count(h) == 0)
			continue;
		char label[96];
		snprintf(label, sizeof(label), "method=\"%s\"", mx_slot_name(i));
		mx_render_hist(b, name, label, h);
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
				          mx_slot_name(i), annals_status_name(c), (unsigned long long)n);
		}
	mx_render_method_hists(b, m, "annals_call_duration_seconds",
	                       "Time from receiving a call to sending its reply, for calls that did not wait "
	                       "for a commit (those are in annals_long_poll_duration_seconds).",
	                       false);
	mx_render_method_hists(
	    b, m, "annals_long_poll_duration_seconds",
	    "Time from receiving a call to sending its reply, for calls parked waiting for a "
	    "commit: Changes with wait_ms, reads with min_revision or linearizable.",
	    true);
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
	mx_printf(b, "# HELP annals_commit_duration_seconds The writer's LMDB commit of one group of writes, "
	             "its two fsyncs included (the durable part of every write's latency).\n"
	             "# TYPE annals_commit_duration_seconds histogram\n");
	mx_render_hist(b, "annals_commit_duration_seconds", "", &m->commit);
}

static void mx_render_cache(mx_buf *b, srv_server *s)
{
	qc_counts c;
	qc_counts_get(s->qcache, &c);
	mx_printf(
	    b,
	    "# HELP annals_reply_cache_total Cacheable queries answered from the reply cache (hit) or "
	    "computed (miss); answers kept (stored) and dropped for room (evicted); of the hits, answers "
	    "read before a commit that touched nothing they read (kept).\n"
	    "# TYPE annals_reply_cache_total counter\n"
	    "annals_reply_cache_total{event=\"hit\"} %llu\n"
	    "annals_reply_cache_total{event=\"kept\"} %llu\n"
	    "annals_reply_cache_total{event=\"miss\"} %llu\n"
	    "annals_reply_cache_total{event=\"stored\"} %llu\n"
	    "annals_reply_cache_total{event=\"evicted\"} %llu\n"
	    "# HELP annals_reply_cache_budget_bytes Memory the reply cache may use, all answering threads "
	    "together (--reply-cache-mb per thread).\n"
	    "# TYPE annals_reply_cache_budget_bytes gauge\nannals_reply_cache_budget_bytes %zu\n",
	    (unsigned long long)c.hits, (unsigned long long)c.kept, (unsigned long long)c.misses,
	    (unsigned long long)c.stored, (unsigned long long)c.evicted, qc_budget(s->qcache));
}

/* A label value: backslash, quote and newline escaped. */
static void mx_label(char *out, size_t cap, const char *v)
{
	size_t o = 0;
	for (; *v != '\0' && o + 3 < cap; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n')
			out[o++] = '\\';
		out[o++] = *v == '\n' ? 'n' : *v;
	}
	out[o] = '\0';
}

static void mx_render_build(mx_buf *b)
{
	srv_build build;
	srv_build_get(&build);
	const char *names[] = {"version", "git", "compiler", "nng", "lmdb", "protobuf_c"};
	const char *values[] = {build.version, build.git,  build.compiler,
	                        build.nng,     build.lmdb, build.protobuf_c};
	mx_printf(
	    b, "# HELP annals_build_info The build: version, git describe, compiler and the versions of the "
	       "libraries it runs on (annalsd --version); always 1.\n"
	       "# TYPE annals_build_info gauge\nannals_build_info{");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char v[256];
		mx_label(v, sizeof(v), values[i]);
		mx_printf(b, "%s%s=\"%s\"", i ? "," : "", names[i], v);
	}
	mx_printf(b, "} 1\n");
}

static void mx_render_process(mx_buf *b)
{
	mx_process p;
	mx_process_read(&p);
	const struct {
		const char *name, *type, *help;
		double v;
	} rows[] = {
	    {"process_start_time_seconds", "gauge", "Start time of the process since the epoch, in seconds.",
	     p.start_time_s},
	    {"process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", p.cpu_s},
	    {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", p.resident_bytes},
	    {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", p.virtual_bytes},
	    {"process_open_fds", "gauge", "Open file descriptors.", p.open_fds},
	    {"process_max_fds", "gauge", "The most file descriptors the process may open.", p.max_fds},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].v >= 0)
			mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", rows[i].name, rows[i].help,
			          rows[i].name, rows[i].type, rows[i].name, rows[i].v);
}

/* A gauge with its HELP line. */
static void mx_gauge(mx_buf *b, const char *name, const char *help, double v)
{
	mx_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.15g\n", name, help, name, name, v);
}

static void mx_render_server(mx_buf *b, srv_server *s)
{
	mx_gauge(b, "annals_long_polls_waiting", "Changes calls parked until a commit (at most --max-polls).",
	         atomic_load(&s->polls_parked));
	mx_gauge(b, "annals_connections_open",
	         "Connections open on the RPC listeners (at most --max-connections).",
	         atomic_load(&s->conns_open));
	mx_printf(
	    b,
	    "# HELP annals_connections_refused_total Connections closed at once for --max-connections.\n"
	    "# TYPE annals_connections_refused_total counter\nannals_connections_refused_total %llu\n"
	    "# HELP annals_connections_idle_closed_total Connections closed past --idle-timeout-s.\n"
	    "# TYPE annals_connections_idle_closed_total counter\nannals_connections_idle_closed_total "
	    "%llu\n",
	    (unsigned long long)atomic_load(&s->conns_refused),
	    (unsigned long long)atomic_load(&s->conns_idle_closed));
	mx_gauge(b, "annals_calls_in_flight", "Calls being worked on now (parked long polls not included).",
	         atomic_load(&s->inflight));
	mx_gauge(b, "annals_writes_queued", "Writes waiting for the writer (at most --max-writes).",
	         atomic_load(&s->writes_queued));
	mx_gauge(b, "annals_uptime_seconds", "Seconds since the server started.",
	         (double)(srv_now_ms() - s->started_ms) / 1000.0);
	mx_gauge(b, "annals_draining", "1 while the server drains its calls to stop, else 0.",
	         atomic_load(&s->draining) ? 1 : 0);
}

static void mx_render_store(mx_buf *b, srv_server *s)
{
	st_stats st;
	mx_store_stats(s, &st);
	mx_gauge(b, "annals_store_revision", "The store revision: committed change sets.",
	         (double)st.revision);
	mx_printf(b,
	          "# HELP annals_records Records in the store, by kind.\n"
	          "# TYPE annals_records gauge\n"
	          "annals_records{kind=\"entity\"} %llu\nannals_records{kind=\"event\"} %llu\n"
	          "annals_records{kind=\"relation\"} %llu\nannals_records{kind=\"document\"} %llu\n",
	          (unsigned long long)st.entities, (unsigned long long)st.events,
	          (unsigned long long)st.relations, (unsigned long long)st.documents);
	mx_gauge(b, "annals_data_file_bytes", "Size of the LMDB data file on disk.",
	         (double)mx_data_file_bytes(s));
	mx_gauge(b, "annals_map_size_bytes", "The LMDB map size (it grows by itself).", (double)st.map_size);
	mx_gauge(b, "annals_map_used_bytes", "Bytes of the LMDB map in use.", (double)st.map_used);
}

char *mx_render(srv_server *s, size_t *len)
{
	mx_buf b = {0};
	mx_render_calls(&b, &s->mx);
	mx_render_commits(&b, &s->mx);
	mx_render_cache(&b, s);
	mx_render_server(&b, s);
	mx_render_store(&b, s);
	mx_render_build(&b);
	mx_render_process(&b);
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

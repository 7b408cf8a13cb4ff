/*
 * The report: text for people, --json for scripts (make-bench.sh reads it).
 * Both state calls/s twice: every call that finished, and only the
 * successful ones, so a server that fails fast cannot look fast.
 */
#include <math.h>
#include <string.h>

#include "annals/annals.h"
#include "bench.h"

typedef struct report_sum {
	uint64_t total, ok;
	double seconds, rate_total, rate_ok;
} report_sum;

static report_sum report_summarise(const bench_result *r)
{
	report_sum s;
	s.total = bench_result_total(r);
	s.ok = atomic_load(&r->codes[ANNALS_OK]);
	s.seconds = (double)(r->finished_ns - r->started_ns) / 1e9;
	s.rate_total = s.seconds > 0 ? (double)s.total / s.seconds : 0;
	s.rate_ok = s.seconds > 0 ? (double)s.ok / s.seconds : 0;
	return s;
}

static const char *report_workload(const bench_opts *o, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < o->n_mix && n < len; i++) {
		const bench_method *m = &bench_methods[o->mix[i].method];
		if (o->n_mix == 1)
			n += (size_t)snprintf(buf + n, len - n, "%s", m->rpc);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%s=%g", i ? "," : "", m->name,
			                      o->mix[i].weight);
	}
	return buf;
}

/* 1234 ns as "1.23 µs"; keeps three significant digits. */
static const char *report_ns(uint64_t ns, char *buf, size_t len)
{
	double v = (double)ns;
	if (v < 1e3)
		snprintf(buf, len, "%.0f ns", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.*f µs", v < 1e4 ? 2 : v < 1e5 ? 1 : 0, v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.*f ms", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6);
	else
		snprintf(buf, len, "%.2f s", v / 1e9);
	return buf;
}

/* Rows on a 1-2-5 scale from the minimum to the maximum: each row counts
 * the calls that took at most its bound (and more than the row above). */
static void report_histogram(FILE *out, const bench_hist *h)
{
	uint64_t n = atomic_load(&h->count), max = atomic_load(&h->max), min = atomic_load(&h->min);
	if (n == 0)
		return;
	uint64_t bound = 1;
	while (bound * 10 <= min)
		bound *= 10;
	static const int steps[3] = {1, 2, 5};
	int step = 0;
	uint64_t decade = bound;
	int bucket = 0;
	uint64_t cum = 0;
	fprintf(out, "  histogram (calls taking at most)\n");
	while (cum < n) {
		uint64_t row = 0;
		while (bucket < HIST_BUCKETS && bench_hist_bucket_high(bucket) <= bound)
			row += atomic_load(&h->bucket[bucket++]);
		if (bound >= max) /* the last row takes the rest */
			while (bucket < HIST_BUCKETS)
				row += atomic_load(&h->bucket[bucket++]);
		cum += row;
		if (cum > 0) {
			char b[32];
			double pct = 100.0 * (double)row / (double)n;
			int bar = (int)lround(pct / 2.0);
			fprintf(out, "    %10s %6.2f%% %7.2f%% |", report_ns(bound, b, sizeof(b)), pct,
			        100.0 * (double)cum / (double)n);
			for (int i = 0; i < bar; i++)
				fputs("#", out);
			fputc('\n', out);
		}
		if (++step == 3) {
			step = 0;
			decade *= 10;
		}
		bound = decade * (uint64_t)steps[step];
	}
}

void bench_report_text(FILE *out, const bench_opts *o, const bench_result *r)
{
	report_sum s = report_summarise(r);
	const bench_hist *h = &r->hist;
	char w[400], a[32], b[32], c[32], d[32];
	fprintf(out, "%s%s%s %s against %s%s\n", o->label ? "[" : "", o->label ? o->label : "",
	        o->label ? "]" : "", report_workload(o, w, sizeof(w)), o->urls[0],
	        o->echo ? " (echo server)" : "");
	if (o->rps > 0)
		fprintf(out, "  load       open loop, %.0f calls/s scheduled, up to %d in flight", o->rps,
		        o->in_flight);
	else
		fprintf(out, "  load       closed loop, %d in flight", o->in_flight);
	fprintf(out, ", %d connection%s, keys %s %s\n", o->connections, o->connections == 1 ? "" : "s",
	        o->keys.kind == BENCH_KEYS_GEN ? "gen" : "builtin", o->zipf ? "zipf" : "uniform");
	fprintf(out, "  calls      %llu in %.2f s: %.1f calls/s in total, %.1f calls/s successful\n",
	        (unsigned long long)s.total, s.seconds, s.rate_total, s.rate_ok);
	if (o->rps > 0 && r->backlog_max > 0)
		fprintf(
		    out,
		    "  backlog    up to %llu calls were due with every slot busy (raise -c, or the server is "
		    "saturated)\n",
		    (unsigned long long)r->backlog_max);
	fprintf(out, "  latency    min %s  mean %s  stddev %s  max %s\n",
	        report_ns(s.total ? atomic_load(&h->min) : 0, a, sizeof(a)),
	        report_ns((uint64_t)bench_hist_mean(h), b, sizeof(b)),
	        report_ns((uint64_t)bench_hist_stddev(h), c, sizeof(c)),
	        report_ns(atomic_load(&h->max), d, sizeof(d)));
	fprintf(out, "             p50 %s  p90 ", report_ns(bench_hist_quantile(h, 0.50), a, sizeof(a)));
	fprintf(out, "%s  p99 ", report_ns(bench_hist_quantile(h, 0.90), a, sizeof(a)));
	fprintf(out, "%s  p99.9 ", report_ns(bench_hist_quantile(h, 0.99), a, sizeof(a)));
	fprintf(out, "%s\n", report_ns(bench_hist_quantile(h, 0.999), a, sizeof(a)));
	report_histogram(out, h);
	fprintf(out, "  status    ");
	for (int i = 0; i < BENCH_CODES; i++)
		if (atomic_load(&r->codes[i]))
			fprintf(out, " %s %llu", annals_status_name(i),
			        (unsigned long long)atomic_load(&r->codes[i]));
	fprintf(out, "%s\n", s.total ? "" : " (no calls finished)");
	if (r->n_errors > 0) {
		fprintf(out, "  errors\n");
		for (int i = 0; i < r->n_errors; i++)
			fprintf(out, "    %8llu  %s\n", (unsigned long long)r->errors[i].count,
			        r->errors[i].message);
		if (r->errors_other)
			fprintf(out, "    %8llu  (other messages)\n", (unsigned long long)r->errors_other);
	}
	if (atomic_load(&r->writes_acked))
		fprintf(out, "  writes     %llu acknowledged%s%s\n",
		        (unsigned long long)atomic_load(&r->writes_acked), o->ack_log ? ", logged to " : "",
		        o->ack_log ? o->ack_log : "");
	if (s.total)
		fprintf(out, "  bytes      request %.0f, reply %.0f on average\n",
		        (double)atomic_load(&r->req_bytes) / (double)s.total,
		        (double)atomic_load(&r->reply_bytes) / (double)s.total);
}

/* ---- JSON --------------------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

void bench_report_json(FILE *out, const bench_opts *o, const bench_result *r)
{
	report_sum s = report_summarise(r);
	const bench_hist *h = &r->hist;
	char w[400];
	fprintf(out, "{\"label\":");
	json_string(out, o->label ? o->label : "");
	fprintf(out, ",\"url\":");
	json_string(out, o->urls[0]);
	fprintf(out, ",\"workload\":");
	json_string(out, report_workload(o, w, sizeof(w)));
	fprintf(out,
	        ",\"echo\":%s,\"loop\":\"%s\",\"in_flight\":%d,\"rps\":%g,\"connections\":%d,"
	        "\"keys\":\"%s\",\"dist\":\"%s\",",
	        o->echo ? "true" : "false", o->rps > 0 ? "open" : "closed", o->in_flight, o->rps,
	        o->connections, o->keys.kind == BENCH_KEYS_GEN ? "gen" : "builtin",
	        o->zipf ? "zipf" : "uniform");
	fprintf(out, "\"count\":%llu,\"ok\":%llu,\"duration_s\":%.6f,\"calls_per_s\":%.2f,\"ok_per_s\":%.2f,",
	        (unsigned long long)s.total, (unsigned long long)s.ok, s.seconds, s.rate_total, s.rate_ok);
	fprintf(out, "\"backlog_max\":%llu,\"writes_acked\":%llu,", (unsigned long long)r->backlog_max,
	        (unsigned long long)atomic_load(&r->writes_acked));
	fprintf(out,
	        "\"latency_us\":{\"min\":%.3f,\"mean\":%.3f,\"stddev\":%.3f,\"max\":%.3f,"
	        "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f},",
	        us(s.total ? atomic_load(&h->min) : 0), bench_hist_mean(h) / 1e3, bench_hist_stddev(h) / 1e3,
	        us(atomic_load(&h->max)), us(bench_hist_quantile(h, 0.5)), us(bench_hist_quantile(h, 0.9)),
	        us(bench_hist_quantile(h, 0.99)), us(bench_hist_quantile(h, 0.999)));
	/* every non-empty bucket as [upper bound in µs, count] */
	fprintf(out, "\"histogram_us\":[");
	bool first = true;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		uint64_t c = atomic_load(&h->bucket[i]);
		if (c == 0)
			continue;
		fprintf(out, "%s[%.3f,%llu]", first ? "" : ",", us(bench_hist_bucket_high(i)),
		        (unsigned long long)c);
		first = false;
	}
	fprintf(out, "],\"status\":{");
	first = true;
	for (int i = 0; i < BENCH_CODES; i++) {
		uint64_t c = atomic_load(&r->codes[i]);
		if (c == 0)
			continue;
		fprintf(out, "%s\"%s\":%llu", first ? "" : ",", annals_status_name(i), (unsigned long long)c);
		first = false;
	}
	fprintf(out, "},\"errors\":[");
	for (int i = 0; i < r->n_errors; i++) {
		fprintf(out, "%s{\"message\":", i ? "," : "");
		json_string(out, r->errors[i].message);
		fprintf(out, ",\"count\":%llu}", (unsigned long long)r->errors[i].count);
	}
	if (r->errors_other)
		fprintf(out, "%s{\"message\":\"(other messages)\",\"count\":%llu}", r->n_errors ? "," : "",
		        (unsigned long long)r->errors_other);
	fprintf(out, "],\"request_bytes_mean\":%.1f,\"reply_bytes_mean\":%.1f}\n",
	        s.total ? (double)atomic_load(&r->req_bytes) / (double)s.total : 0.0,
	        s.total ? (double)atomic_load(&r->reply_bytes) / (double)s.total : 0.0);
}

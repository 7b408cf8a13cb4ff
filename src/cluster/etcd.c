/*
 * ed_ — etcd v3 over its JSON gateway, with libcurl and jansson. See etcd.h
 * for why the gateway and how endpoints fail over.
 *
 * The gateway's conventions: keys and values are base64 strings; int64
 * fields come back as JSON strings ("revision":"42"); errors come back as
 * a non-200 status with {"error": "...", "code": N} (gRPC codes).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <mbedtls/base64.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annals/annals.h"
#include "cluster/etcd.h"

struct ed_client {
	CURL *h;
	char ep[ED_MAX_ENDPOINTS][128];
	int n_ep, cur;
	uint32_t try_ms;
	struct curl_slist *json_header; /* "Content-Type: application/json", for every call */
	/* the response body of the current call */
	char *buf;
	size_t len, cap;
};

static pthread_once_t ed_once = PTHREAD_ONCE_INIT;
static void ed_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int ed_fail(ed_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ed_fail(ed_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

static uint64_t ed_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int ed_open(const char *endpoints, uint32_t try_ms, ed_client **out, ed_err *err)
{
	pthread_once(&ed_once, ed_global_init);
	ed_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ed_fail(err, ANNALS_RESOURCE_EXHAUSTED, "out of memory");
	c->try_ms = try_ms ? try_ms : 1000;
	const char *p = endpoints;
	if (strncmp(p, "etcd://", 7) == 0)
		p += 7;
	while (*p && c->n_ep < ED_MAX_ENDPOINTS) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n >= 7 && strncmp(p, "http://", 7) == 0)
			p += 7, n -= 7;
		if (n == 0 || n >= sizeof(c->ep[0]) - 8 || memchr(p, ':', n) == NULL) {
			free(c);
			return ed_fail(err, ANNALS_INVALID_ARGUMENT,
			               "--cluster: '%.*s' is not HOST:PORT (etcd://HOST:PORT[,HOST:PORT...])",
			               (int)n, p);
		}
		snprintf(c->ep[c->n_ep++], sizeof(c->ep[0]), "%.*s", (int)n, p);
		p = end ? end + 1 : p + n;
	}
	if (c->n_ep == 0) {
		free(c);
		return ed_fail(err, ANNALS_INVALID_ARGUMENT, "--cluster: no etcd endpoint given");
	}
	c->h = curl_easy_init();
	c->json_header = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->h == NULL || c->json_header == NULL) {
		ed_close(c);
		return ed_fail(err, ANNALS_INTERNAL, "curl_easy_init failed");
	}
	*out = c;
	return ANNALS_OK;
}

void ed_close(ed_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->h);
	curl_slist_free_all(c->json_header);
	free(c->buf);
	free(c);
}

/* ---- base64 and JSON helpers ----------------------------------------------------- */

static char *ed_b64(const void *data, size_t len)
{
	size_t olen = 0;
	mbedtls_base64_encode(NULL, 0, &olen, data, len);
	char *out = malloc(olen + 1);
	if (out == NULL || mbedtls_base64_encode((unsigned char *)out, olen + 1, &olen, data, len) != 0) {
		free(out);
		return NULL;
	}
	out[olen] = '\0';
	return out;
}

/* Decodes a base64 JSON string into a malloc'ed buffer (NUL-terminated too). */
static uint8_t *ed_unb64(const json_t *s, size_t *len)
{
	const char *in = json_string_value(s);
	*len = 0;
	if (in == NULL) {
		uint8_t *empty = malloc(1);
		if (empty)
			empty[0] = 0;
		return empty;
	}
	size_t ilen = strlen(in), olen = 0;
	uint8_t *out = malloc(ilen * 3 / 4 + 2);
	if (out == NULL ||
	    mbedtls_base64_decode(out, ilen * 3 / 4 + 1, &olen, (const unsigned char *)in, ilen) != 0) {
		free(out);
		return NULL;
	}
	out[olen] = 0;
	*len = olen;
	return out;
}

/* int64 fields arrive as strings; absent means 0 (proto3 defaults are omitted). */
static uint64_t ed_u64(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 10);
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	return 0;
}

static uint64_t ed_header_revision(const json_t *obj)
{
	return ed_u64(json_object_get(obj, "header"), "revision");
}

/* ---- unary calls ----------------------------------------------------------------- */

static size_t ed_collect(char *p, size_t size, size_t n, void *arg)
{
	ed_client *c = arg;
	size_t add = size * n;
	if (c->len + add + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + add + 1)
			cap *= 2;
		char *nb = realloc(c->buf, cap);
		if (nb == NULL)
			return 0; /* curl fails the transfer */
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, add);
	c->len += add;
	c->buf[c->len] = '\0';
	return add;
}

/* A POST of body to path on the current endpoint, its answer to fn(ctx):
 * what every call sets alike; the caller adds its timeouts and performs. */
static void ed_request(ed_client *c, const char *path, const char *body, curl_write_callback fn, void *ctx)
{
	char url[200];
	snprintf(url, sizeof(url), "http://%s%s", c->ep[c->cur], path);
	curl_easy_reset(c->h);
	c->len = 0;
	if (c->buf)
		c->buf[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url); /* curl copies it */
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, fn);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, ctx);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->json_header);
}

/* One try against the current endpoint: 0 on an HTTP answer (status in
 * *status, body in c->buf), -1 when the endpoint did not answer in time. */
static int ed_try(ed_client *c, const char *path, const char *body, uint32_t timeout_ms, long *status)
{
	ed_request(c, path, body, ed_collect, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 500 ? timeout_ms : 500));
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	if (curl_easy_perform(c->h) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* POSTs body to path on one endpoint after another until one answers
 * 200 or deadline_ms passes (0: one round). *out: the parsed answer. */
static int ed_post(ed_client *c, const char *path, const char *body, uint64_t deadline_ms, json_t **out,
                   ed_err *err)
{
	*out = NULL;
	int tries = 0;
	for (;;) {
		long status = 0;
		uint32_t t = c->try_ms;
		if (deadline_ms) {
			uint64_t now = ed_now_ms();
			if (now >= deadline_ms && tries > 0)
				return ed_fail(
				    err, ANNALS_DEADLINE_EXCEEDED,
				    "etcd (%d endpoints) did not confirm %s in time; last tried %s", c->n_ep,
				    path, c->ep[c->cur]);
			if (deadline_ms > now && deadline_ms - now < t)
				t = (uint32_t)(deadline_ms - now) + 1;
		}
		if (ed_try(c, path, body, t, &status) == 0) {
			json_error_t jerr;
			json_t *j = json_loadb(c->buf ? c->buf : "", c->len, 0, &jerr);
			if (status == 200 && j != NULL) {
				*out = j;
				return ANNALS_OK;
			}
			const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
			/* "etcdserver: too many requests" (a member catching up),
			 * "no leader", "leader changed": another endpoint, or later */
			bool retry =
			    status >= 500 || (e && (strstr(e, "too many requests") || strstr(e, "leader")));
			if (!retry) {
				int code = status == 400 || status == 404 ? ANNALS_INVALID_ARGUMENT
				                                          : ANNALS_INTERNAL;
				if (e && strstr(e, "compacted"))
					code = ANNALS_OUT_OF_RANGE;
				ed_fail(err, code, "etcd %s on %s: HTTP %ld: %s", path, c->ep[c->cur], status,
				        e ? e : "no error message");
				json_decref(j);
				return code;
			}
			json_decref(j);
		}
		tries++;
		c->cur = (c->cur + 1) % c->n_ep;
		if (!deadline_ms && tries >= c->n_ep)
			return ed_fail(err, ANNALS_UNAVAILABLE,
			               "no etcd endpoint of %d answered %s (last tried %s)", c->n_ep, path,
			               c->ep[c->cur]);
		if (tries % c->n_ep == 0) {
			struct timespec ts = {0, 50 * 1000000L}; /* a round failed: do not spin */
			nanosleep(&ts, NULL);
		}
	}
}

static int ed_post_json(ed_client *c, const char *path, json_t *req, uint64_t deadline_ms, json_t **out,
                        ed_err *err)
{
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL)
		return ed_fail(err, ANNALS_RESOURCE_EXHAUSTED, "out of memory for an etcd request");
	int rc = ed_post(c, path, body, deadline_ms, out, err);
	free(body);
	return rc;
}

static json_t *ed_kv_put(const char *key, const void *val, size_t len, int64_t lease)
{
	char *k = ed_b64(key, strlen(key)), *v = ed_b64(val, len);
	json_t *o = json_pack("{s:s, s:s}", "key", k ? k : "", "value", v ? v : "");
	if (lease)
		json_object_set_new(o, "lease", json_integer(lease));
	free(k);
	free(v);
	return o;
}

int ed_put(ed_client *c, const char *key, const void *val, size_t len, int64_t lease, uint64_t *revision,
           uint64_t deadline_ms, ed_err *err)
{
	json_t *ans;
	int rc = ed_post_json(c, "/v3/kv/put", ed_kv_put(key, val, len, lease), deadline_ms, &ans, err);
	if (rc != ANNALS_OK)
		return rc;
	*revision = ed_header_revision(ans);
	json_decref(ans);
	return *revision ? ANNALS_OK : ed_fail(err, ANNALS_INTERNAL, "etcd put: no revision in the answer");
}

int ed_put_if_absent(ed_client *c, const char *guard, const char *gval, const char *key, const void *val,
                     size_t len, bool *created, uint64_t *revision, uint64_t deadline_ms, ed_err *err)
{
	char *g = ed_b64(guard, strlen(guard));
	/* compare: version(guard) == 0, i.e. the key does not exist */
	json_t *req =
	    json_pack("{s:[{s:s, s:s, s:s, s:i}], s:[{s:o}, {s:o}]}", "compare", "key", g ? g : "", "target",
	              "VERSION", "result", "EQUAL", "version", 0, "success", "request_put",
	              ed_kv_put(guard, gval, strlen(gval), 0), "request_put", ed_kv_put(key, val, len, 0));
	free(g);
	json_t *ans;
	int rc = ed_post_json(c, "/v3/kv/txn", req, deadline_ms, &ans, err);
	if (rc != ANNALS_OK)
		return rc;
	*created = json_is_true(json_object_get(ans, "succeeded"));
	*revision = ed_header_revision(ans);
	json_decref(ans);
	return ANNALS_OK;
}

int ed_delete(ed_client *c, const char *key, ed_err *err)
{
	char *k = ed_b64(key, strlen(key));
	json_t *ans;
	int rc = ed_post_json(c, "/v3/kv/deleterange", json_pack("{s:s}", "key", k ? k : ""), 0, &ans, err);
	free(k);
	json_decref(ans);
	return rc;
}

int ed_key_revision(ed_client *c, const char *key, uint64_t *mod_revision, uint64_t *revision, ed_err *err)
{
	char *k = ed_b64(key, strlen(key));
	json_t *req = json_pack("{s:s, s:b}", "key", k ? k : "", "keys_only", 1);
	free(k);
	json_t *ans;
	int rc = ed_post_json(c, "/v3/kv/range", req, 0, &ans, err);
	if (rc != ANNALS_OK)
		return rc;
	*revision = ed_header_revision(ans);
	*mod_revision = ed_u64(json_array_get(json_object_get(ans, "kvs"), 0), "mod_revision");
	json_decref(ans);
	return ANNALS_OK;
}

int ed_range_prefix(ed_client *c, const char *prefix, ed_kv_fn fn, void *ctx, ed_err *err)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);
	if (end == NULL || n == 0) {
		free(end);
		return ed_fail(err, ANNALS_INVALID_ARGUMENT, "empty prefix");
	}
	end[n - 1]++; /* the range end of a prefix: its last byte plus one */
	char *k = ed_b64(prefix, n), *e = ed_b64(end, n);
	free(end);
	json_t *req = json_pack("{s:s, s:s}", "key", k ? k : "", "range_end", e ? e : "");
	free(k);
	free(e);
	json_t *ans;
	int rc = ed_post_json(c, "/v3/kv/range", req, 0, &ans, err);
	if (rc != ANNALS_OK)
		return rc;
	json_t *kvs = json_object_get(ans, "kvs"), *kv;
	size_t i;
	json_array_foreach(kvs, i, kv)
	{
		size_t klen, vlen;
		uint8_t *key = ed_unb64(json_object_get(kv, "key"), &klen);
		uint8_t *val = ed_unb64(json_object_get(kv, "value"), &vlen);
		if (key && val)
			fn(ctx, (const char *)key, val, vlen, ed_u64(kv, "mod_revision"));
		free(key);
		free(val);
	}
	json_decref(ans);
	return ANNALS_OK;
}

int ed_members(ed_client *c, ed_member *out, int max)
{
	int keep = c->cur, n = 0;
	for (int i = 0; i < c->n_ep && n < max; i++, n++) {
		ed_member *m = &out[n];
		memset(m, 0, sizeof(*m));
		snprintf(m->endpoint, sizeof(m->endpoint), "%s", c->ep[i]);
		c->cur = i;
		long status = 0;
		if (ed_try(c, "/v3/maintenance/status", "{}", c->try_ms, &status) != 0) {
			snprintf(m->error, sizeof(m->error), "no answer within %u ms", c->try_ms);
			continue;
		}
		json_t *j = json_loadb(c->buf ? c->buf : "", c->len, 0, NULL);
		const char *self =
		    json_string_value(json_object_get(json_object_get(j, "header"), "member_id"));
		const char *leader = json_string_value(json_object_get(j, "leader"));
		const char *version = json_string_value(json_object_get(j, "version"));
		if (status == 200 && self != NULL) {
			m->healthy =
			    leader != NULL && strcmp(leader, "0") != 0; /* a member without a leader is not */
			m->leader = leader != NULL && strcmp(self, leader) == 0;
			snprintf(m->version, sizeof(m->version), "%s", version ? version : "");
			m->db_size = ed_u64(j, "dbSize");
			if (!m->healthy)
				snprintf(m->error, sizeof(m->error), "no leader");
		} else {
			const char *e = json_string_value(json_object_get(j, "error"));
			snprintf(m->error, sizeof(m->error), "HTTP %ld: %s", status, e ? e : "no status");
		}
		json_decref(j);
	}
	c->cur = keep;
	return c->n_ep;
}

int ed_lease_grant(ed_client *c, int ttl_s, int64_t *lease, ed_err *err)
{
	json_t *ans;
	int rc = ed_post_json(c, "/v3/lease/grant", json_pack("{s:i}", "TTL", ttl_s), 0, &ans, err);
	if (rc != ANNALS_OK)
		return rc;
	*lease = (int64_t)ed_u64(ans, "ID");
	json_decref(ans);
	return *lease ? ANNALS_OK : ed_fail(err, ANNALS_INTERNAL, "etcd lease grant: no lease id");
}

int ed_keepalive(ed_client *c, int64_t lease, ed_err *err)
{
	json_t *ans;
	int rc =
	    ed_post_json(c, "/v3/lease/keepalive", json_pack("{s:I}", "ID", (json_int_t)lease), 0, &ans, err);
	if (rc != ANNALS_OK)
		return rc;
	/* a stream of one answer: {"result":{"ID":..,"TTL":..}}; TTL absent or 0: the lease is gone */
	uint64_t ttl = ed_u64(json_object_get(ans, "result"), "TTL");
	json_decref(ans);
	return ttl ? ANNALS_OK : ed_fail(err, ANNALS_NOT_FOUND, "etcd lease %lld expired", (long long)lease);
}

int ed_compact(ed_client *c, uint64_t revision, ed_err *err)
{
	json_t *ans;
	int rc = ed_post_json(c, "/v3/kv/compaction", json_pack("{s:I}", "revision", (json_int_t)revision), 0,
	                      &ans, err);
	json_decref(ans);
	return rc;
}

/* ---- watch ----------------------------------------------------------------------- */

typedef struct ed_watch_ctx {
	ed_client *c;
	ed_watch_fn fn;
	void *ctx;
	atomic_bool *stop;
	uint64_t compact_revision;
	bool created, canceled, done;
	char cancel_reason[200];
	int fn_rc;
} ed_watch_ctx;

/* One JSON object of the stream: {"result": {header, created?, events?, canceled?, compact_revision?}} */
static int ed_watch_line(ed_watch_ctx *w, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *j = json_loadb(line, len, 0, &jerr);
	if (j == NULL)
		return -1;
	json_t *r = json_object_get(j, "result");
	if (r == NULL) {
		json_t *e = json_object_get(j, "error");
		snprintf(w->cancel_reason, sizeof(w->cancel_reason), "%s",
		         json_is_string(e) ? json_string_value(e) : "the watch stream sent an error");
		w->canceled = true;
		json_decref(j);
		return -1;
	}
	if (json_is_true(json_object_get(r, "created")))
		w->created = true;
	w->compact_revision = ed_u64(r, "compact_revision");
	if (json_is_true(json_object_get(r, "canceled")) || w->compact_revision) {
		const char *why = json_string_value(json_object_get(r, "cancel_reason"));
		snprintf(w->cancel_reason, sizeof(w->cancel_reason), "%s", why ? why : "canceled by etcd");
		w->canceled = true;
		json_decref(j);
		return -1;
	}
	json_t *evs = json_object_get(r, "events");
	size_t n = json_array_size(evs);
	int rc = 0;
	if (n > 0) {
		ed_event *ev = calloc(n, sizeof(*ev));
		uint8_t **bufs = calloc(n, sizeof(*bufs));
		bool ok = ev != NULL && bufs != NULL;
		for (size_t i = 0; ok && i < n; i++) {
			json_t *e = json_array_get(evs, i), *kv = json_object_get(e, "kv");
			ev[i].deleted = json_is_string(json_object_get(e, "type")) &&
			                strcmp(json_string_value(json_object_get(e, "type")), "DELETE") == 0;
			ev[i].mod_revision = ed_u64(kv, "mod_revision");
			bufs[i] = ed_unb64(json_object_get(kv, "value"), &ev[i].len);
			ev[i].value = bufs[i];
			ok = bufs[i] != NULL;
		}
		if (ok) {
			w->fn_rc = w->fn(w->ctx, ev, n, ed_header_revision(r));
			if (w->fn_rc != 0) {
				w->done = true;
				rc = -1;
			}
		} else {
			rc = -1;
			snprintf(w->cancel_reason, sizeof(w->cancel_reason),
			         "out of memory decoding watch events");
			w->canceled = true;
		}
		for (size_t i = 0; bufs && i < n; i++)
			free(bufs[i]);
		free(bufs);
		free(ev);
	}
	json_decref(j);
	return rc;
}

static size_t ed_watch_data(char *p, size_t size, size_t n, void *arg)
{
	ed_watch_ctx *w = arg;
	size_t add = size * n;
	if (ed_collect(p, 1, add, w->c) != add)
		return 0;
	/* whole lines out of the buffer; a partial one stays for the next chunk */
	char *start = w->c->buf, *nl;
	while ((nl = memchr(start, '\n', w->c->len - (size_t)(start - w->c->buf))) != NULL) {
		size_t len = (size_t)(nl - start);
		if (len > 0 && ed_watch_line(w, start, len) != 0)
			return 0; /* ends the transfer */
		start = nl + 1;
	}
	size_t left = w->c->len - (size_t)(start - w->c->buf);
	memmove(w->c->buf, start, left);
	w->c->len = left;
	w->c->buf[left] = '\0';
	return add;
}

static int ed_watch_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	ed_watch_ctx *w = arg;
	return atomic_load(w->stop) ? 1 : 0;
}

int ed_watch(ed_client *c, const char *key, uint64_t start_revision, ed_watch_fn fn, void *ctx,
             atomic_bool *stop, uint64_t *compact_revision, ed_err *err)
{
	*compact_revision = 0;
	char *k = ed_b64(key, strlen(key));
	json_t *req = json_pack("{s:{s:s, s:I}}", "create_request", "key", k ? k : "", "start_revision",
	                        (json_int_t)start_revision);
	free(k);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL)
		return ed_fail(err, ANNALS_RESOURCE_EXHAUSTED, "out of memory");
	ed_watch_ctx w = {.c = c, .fn = fn, .ctx = ctx, .stop = stop};
	ed_request(c, "/v3/watch", body, ed_watch_data, &w);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, ed_watch_progress);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, &w);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 500L);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
	CURLcode rc = curl_easy_perform(c->h);
	free(body);
	const char *ep = c->ep[c->cur];
	if (w.done)
		return ANNALS_OK;
	if (w.compact_revision) {
		*compact_revision = w.compact_revision;
		return ed_fail(err, ANNALS_OUT_OF_RANGE, "etcd compacted the log below revision %llu (%s)",
		               (unsigned long long)w.compact_revision, w.cancel_reason);
	}
	c->cur = (c->cur + 1) % c->n_ep; /* whatever ended it: the next try goes elsewhere */
	if (atomic_load(stop))
		return ed_fail(err, ANNALS_CANCELLED, "the watch on %s was stopped", ep);
	return ed_fail(err, ANNALS_UNAVAILABLE, "the watch on %s ended: %s", ep,
	               w.canceled ? w.cancel_reason : curl_easy_strerror(rc));
}

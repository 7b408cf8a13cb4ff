/*
 * gw_ — the HTTP/JSON gateway: one HTTP request becomes one annals.v1.Call
 * on the server's own socket (see gateway.h for why).
 *
 * Lifecycle of one request (a slot of the pool, never freed before gw_stop):
 *
 *   nng calls gw_on_request (its handler aio: `http`)
 *     --Content-Length > 0--> READ: the body, read by us from the
 *        connection, so that an oversize body gets a 413 naming the limit
 *        and a stalled one a deadline (nng's own collector answers both
 *        with a bare 400 and waits forever)
 *     --> SEND: the Call, on a REQ context of our inproc socket
 *     --> RECV: the Reply --> gw_finish: HTTP status, headers, body
 *
 * Who finishes `http`: exactly one of gw_finish and gw_cancel (nng calls
 * the latter when the connection closes under us), decided under the
 * slot's lock. The slot goes back to the pool when the op in flight
 * completes and `http` is finished; a stale cancel on a recycled slot
 * finds a different aio and does nothing, which is why slots are pooled
 * and not freed.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/pbjson.h"
#include "server/gateway.h"
#include "server/server.h"

#include <nng/protocol/reqrep0/req.h> /* after nng.h (server.h): it uses its types */

/* No reply of the server takes longer than this (long polls included). */
#define GW_REPLY_TIMEOUT_MS (10 * 60 * 1000)

typedef enum gw_phase { GW_FREE, GW_READ, GW_SEND, GW_RECV } gw_phase;

typedef struct gw_slot {
	srv_gateway *gw;
	pthread_mutex_t lock;
	gw_phase phase;
	nng_aio *http; /* nng's handler aio, until finished; NULL after */
	nng_aio *io;   /* our read / send / recv, one at a time */
	nng_ctx ctx;   /* REQ context of this request */
	bool ctx_open;
	int method;    /* row of the method table */
	bool json;     /* JSON in, JSON out; else protobuf both ways */
	bool pretty;   /* ?pretty: indented JSON for people */
	bool unread;   /* a body is still on the connection: answering must close it */
	uint8_t *body; /* the request body as read */
	size_t body_len;
	Annals__V1__Call call; /* filled from the request; strings point into the request or arena */
	ar_arena arena;
	struct gw_slot *next_free;
} gw_slot;

struct srv_gateway {
	srv_server *srv;
	nng_http_server *http;
	nng_socket req;
	bool req_open;
	pthread_mutex_t lock;
	gw_slot *slots;
	int n_slots;
	gw_slot *free_list;
	int busy;
	size_t max_body;
};

/* ---- status codes --------------------------------------------------------- */

uint16_t gw_http_status(int code)
{
	/* grpc-gateway's runtime.HTTPStatusFromCode; UNKNOWN, INTERNAL and
	 * DATA_LOSS (and any code not listed) are 500 */
	static const uint16_t http[] = {
	    [ANNALS_OK] = 200,
	    [ANNALS_CANCELLED] = 499,
	    [ANNALS_INVALID_ARGUMENT] = 400,
	    [ANNALS_DEADLINE_EXCEEDED] = 504,
	    [ANNALS_NOT_FOUND] = 404,
	    [ANNALS_ALREADY_EXISTS] = 409,
	    [ANNALS_PERMISSION_DENIED] = 403,
	    [ANNALS_RESOURCE_EXHAUSTED] = 429,
	    [ANNALS_FAILED_PRECONDITION] = 400,
	    [ANNALS_ABORTED] = 409,
	    [ANNALS_OUT_OF_RANGE] = 400,
	    [ANNALS_UNIMPLEMENTED] = 501,
	    [ANNALS_UNAVAILABLE] = 503,
	    [ANNALS_UNAUTHENTICATED] = 401,
	};
	if (code < 0 || (size_t)code >= sizeof(http) / sizeof(http[0]) || http[code] == 0)
		return 500;
	return http[code];
}

/* ---- the pool ------------------------------------------------------------- */

static void gw_on_io(void *arg);

static gw_slot *gw_take(srv_gateway *gw)
{
	pthread_mutex_lock(&gw->lock);
	gw_slot *sl = gw->free_list;
	if (sl != NULL) {
		gw->free_list = sl->next_free;
		gw->busy++;
	}
	pthread_mutex_unlock(&gw->lock);
	return sl;
}

static void gw_fail(gw_slot *sl, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void gw_release(gw_slot *sl)
{
	srv_gateway *gw = sl->gw;
	if (sl->http != NULL) /* every path answers before it lets go; never leave nng waiting */
		gw_fail(sl, ANNALS_INTERNAL, "gateway: the call ended without an answer");
	if (sl->ctx_open)
		nng_ctx_close(sl->ctx);
	sl->ctx_open = false;
	free(sl->body);
	sl->body = NULL;
	ar_reset(&sl->arena);
	pthread_mutex_lock(&sl->lock);
	sl->phase = GW_FREE;
	pthread_mutex_unlock(&sl->lock);
	pthread_mutex_lock(&gw->lock);
	sl->next_free = gw->free_list;
	gw->free_list = sl;
	gw->busy--;
	pthread_mutex_unlock(&gw->lock);
}

/* nng: the connection closed (or the server stops) while we hold `http` */
static void gw_cancel(nng_aio *aio, void *arg, int rv)
{
	gw_slot *sl = arg;
	bool mine = false;
	pthread_mutex_lock(&sl->lock);
	if (sl->http == aio && sl->phase != GW_FREE) {
		sl->http = NULL;
		mine = true;
	}
	pthread_mutex_unlock(&sl->lock);
	if (!mine)
		return;
	nng_aio_finish(aio, rv);
	nng_aio_cancel(sl->io); /* its callback gives the slot back */
}

/* ---- answering ------------------------------------------------------------ */

typedef struct gw_answer {
	uint16_t status;
	const char *type;
	const void *body;
	size_t len;
	int code; /* the annals status, for Retry-After and WWW-Authenticate */
} gw_answer;

/* Finishes `http` with an answer unless the connection already went away;
 * the caller then gives the slot back. */
static void gw_finish(gw_slot *sl, const gw_answer *a)
{
	pthread_mutex_lock(&sl->lock);
	nng_aio *http = sl->http;
	sl->http = NULL;
	pthread_mutex_unlock(&sl->lock);
	if (http == NULL)
		return;
	nng_http_res *res;
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(http, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, a->status);
	if (a->status == 499)
		nng_http_res_set_reason(res, "Client Closed Request");
	nng_http_res_set_header(res, "Content-Type", a->type);
	nng_http_res_set_header(res, "Cache-Control", "no-store");
	nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff");
	if (a->code != ANNALS_OK)
		nng_http_res_set_header(res, "Annals-Status", annals_status_name(a->code));
	if (a->code == ANNALS_UNAUTHENTICATED)
		nng_http_res_set_header(res, "WWW-Authenticate", "Bearer realm=\"annals\"");
	if (a->code == ANNALS_RESOURCE_EXHAUSTED || a->code == ANNALS_UNAVAILABLE)
		nng_http_res_set_header(res, "Retry-After", "1");
	if (a->code == ANNALS_UNIMPLEMENTED && a->status == 405)
		nng_http_res_set_header(res, "Allow", "POST");
	if (sl->unread) /* the rest of the body would be read as the next request */
		nng_http_res_set_header(res, "Connection", "close");
	if (nng_http_res_copy_data(res, a->body, a->len) != 0) {
		nng_http_res_free(res);
		nng_aio_finish(http, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(http, 0, res);
	nng_aio_finish(http, 0);
}

/* An error as grpc-gateway writes it: {"code": 5, "message": "..."}, plus
 * the code's name, since people read these too. Always JSON (as Twirp's
 * errors are), whatever the request's encoding. */
static void gw_fail_va(gw_slot *sl, uint16_t status, int code, const char *fmt, va_list ap)
{
	char msg[700];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_t *j =
	    json_pack("{s:i, s:s, s:s}", "code", code, "status", annals_status_name(code), "message", msg);
	/* the message may quote client bytes cut inside a character: pbjson's
	 * rule, never invalid JSON */
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	gw_answer a = {.status = status,
	               .type = "application/json",
	               .body = text ? text : "{}",
	               .len = text ? strlen(text) : 2,
	               .code = code};
	gw_finish(sl, &a);
	free(text);
}

static void gw_fail(gw_slot *sl, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void gw_fail(gw_slot *sl, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gw_fail_va(sl, gw_http_status(code), code, fmt, ap);
	va_end(ap);
}

/* the same, with an HTTP status of its own (404 for no route, 405 for GET) */
static void gw_fail_http(gw_slot *sl, uint16_t status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void gw_fail_http(gw_slot *sl, uint16_t status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gw_fail_va(sl, status, code, fmt, ap);
	va_end(ap);
}

/* ---- request headers to Call fields -------------------------------------- */

static bool gw_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/* gRPC's timeout header: digits and one unit (H M S m u n) */
static bool gw_grpc_timeout(const char *s, uint64_t *ms)
{
	size_t n = strlen(s);
	if (n < 2 || n > 9)
		return false;
	char digits[16];
	memcpy(digits, s, n - 1);
	digits[n - 1] = '\0';
	uint64_t v;
	if (!gw_parse_u64(digits, 99999999, &v))
		return false;
	switch (s[n - 1]) {
	case 'H':
		*ms = v * 3600000u;
		return true;
	case 'M':
		*ms = v * 60000u;
		return true;
	case 'S':
		*ms = v * 1000u;
		return true;
	case 'm':
		*ms = v;
		return true;
	case 'u':
		*ms = (v + 999u) / 1000u;
		return true;
	case 'n':
		*ms = (v + 999999u) / 1000000u;
		return true;
	default:
		return false;
	}
}

/* Authorization, timeouts, Idempotency-Key, read options; -1 (answered) on
 * a malformed header, which is named. */
static int gw_headers(gw_slot *sl, nng_http_req *req)
{
	Annals__V1__Call *c = &sl->call;
	const char *v = nng_http_req_get_header(req, "Authorization");
	if (v != NULL) {
		if (strncasecmp(v, "Bearer ", 7) != 0 || v[7] == '\0') {
			gw_fail(sl, ANNALS_UNAUTHENTICATED, "Authorization: expected \"Bearer TOKEN\"");
			return -1;
		}
		c->token = ar_strdup(&sl->arena, v + 7);
	}
	uint64_t ms = 0;
	if ((v = nng_http_req_get_header(req, "Annals-Timeout-Ms")) != NULL) {
		if (!gw_parse_u64(v, UINT32_MAX, &ms)) {
			gw_fail(sl, ANNALS_INVALID_ARGUMENT,
			        "Annals-Timeout-Ms: \"%.40s\" is not a number of milliseconds", v);
			return -1;
		}
	} else if ((v = nng_http_req_get_header(req, "Grpc-Timeout")) != NULL) {
		if (!gw_grpc_timeout(v, &ms) || ms > UINT32_MAX) {
			gw_fail(sl, ANNALS_INVALID_ARGUMENT,
			        "Grpc-Timeout: \"%.40s\" is not digits and a unit (H, M, S, m, u, n)", v);
			return -1;
		}
		if (ms == 0)
			ms = 1; /* "0m" is a deadline already passed, not "none" */
	}
	c->timeout_ms = (uint32_t)ms;
	if ((v = nng_http_req_get_header(req, "Idempotency-Key")) != NULL)
		c->request_id = ar_strdup(&sl->arena, v);
	if ((v = nng_http_req_get_header(req, "Annals-Min-Revision")) != NULL &&
	    !gw_parse_u64(v, UINT64_MAX, &c->min_revision)) {
		gw_fail(sl, ANNALS_INVALID_ARGUMENT, "Annals-Min-Revision: \"%.40s\" is not a revision", v);
		return -1;
	}
	if ((v = nng_http_req_get_header(req, "Annals-Linearizable")) != NULL) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
			gw_fail(sl, ANNALS_INVALID_ARGUMENT, "Annals-Linearizable: true or false");
			return -1;
		}
		c->linearizable = strcmp(v, "true") == 0;
	}
	return 0;
}

/* application/json (a charset may follow) or protobuf, named: nothing
 * else. A browser sends a cross-site POST without asking first only with
 * form or text encodings or none (a CORS "simple request"); refusing those
 * keeps any web page the user visits from calling a loopback annals that
 * has no tokens. */
static int gw_content_type(gw_slot *sl, nng_http_req *req)
{
	const char *v = nng_http_req_get_header(req, "Content-Type");
	if (v == NULL) {
		gw_fail(sl, ANNALS_INVALID_ARGUMENT,
		        "Content-Type: required; send -H 'Content-Type: application/json' (proto3 JSON) or "
		        "application/x-protobuf (a packed request message)");
		return -1;
	}
	size_t n = strcspn(v, "; \t");
	if (n == 16 && strncasecmp(v, "application/json", n) == 0) {
		sl->json = true;
		return 0;
	}
	if ((n == 22 && strncasecmp(v, "application/x-protobuf", n) == 0) ||
	    (n == 20 && strncasecmp(v, "application/protobuf", n) == 0)) {
		sl->json = false;
		return 0;
	}
	gw_fail(sl, ANNALS_INVALID_ARGUMENT,
	        "Content-Type \"%.60s\": send -H 'Content-Type: application/json' (proto3 JSON) or "
	        "application/x-protobuf "
	        "(a packed request message)",
	        v);
	return -1;
}

/* Without tokens the gateway trusts whoever can connect, which is this
 * machine only; but a web page elsewhere can point a name of its own at
 * 127.0.0.1 (DNS rebinding) and call us as a "same origin". So without
 * tokens the Host must name a loopback host too. */
static int gw_host(gw_slot *sl, nng_http_req *req)
{
	srv_server *s = sl->gw->srv;
	if (s->n_tokens > 0 || s->cfg.insecure)
		return 0;
	const char *host = nng_http_req_get_header(req, "Host");
	char url[300];
	if (host != NULL && strlen(host) < 250) {
		snprintf(url, sizeof(url), "http://%s", host);
		if (srv_addr_is_local(url))
			return 0;
	}
	gw_fail(sl, ANNALS_PERMISSION_DENIED,
	        "Host \"%.60s\": without --tokens the gateway answers only requests addressed to a "
	        "loopback host (localhost, 127.0.0.1, [::1])",
	        host ? host : "");
	return -1;
}

/* ---- the call ------------------------------------------------------------- */

static void gw_start_send(gw_slot *sl);

/* The body, decoded and packed into Call.body; -1 when answered. */
static int gw_body(gw_slot *sl)
{
	const ProtobufCMethodDescriptor *md = env_method(sl->method);
	if (!sl->json) {
		sl->call.body.data = sl->body;
		sl->call.body.len = sl->body_len;
		return 0;
	}
	char err[400];
	const char *text = sl->body_len ? (const char *)sl->body : "{}";
	size_t len = sl->body_len ? sl->body_len : 2;
	ProtobufCMessage *m = pbjson_parse(md->input, text, len, &sl->arena, err, sizeof(err));
	if (m == NULL) {
		gw_fail(sl, ANNALS_INVALID_ARGUMENT, "body (a %s in proto3 JSON): %s", md->input->name, err);
		return -1;
	}
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *packed = ar_alloc(&sl->arena, n ? n : 1);
	protobuf_c_message_pack(m, packed);
	sl->call.body.data = packed;
	sl->call.body.len = n;
	return 0;
}

static void gw_start_send(gw_slot *sl)
{
	srv_gateway *gw = sl->gw;
	if (gw_body(sl) != 0) {
		gw_release(sl);
		return;
	}
	const ProtobufCMethodDescriptor *md = env_method(sl->method);
	sl->call.method = ar_printf(&sl->arena, "%s%s", ENV_METHOD_PREFIX, md->name);
	size_t n = protobuf_c_message_get_packed_size(&sl->call.base);
	nng_msg *m = NULL;
	int rv = nng_ctx_open(&sl->ctx, gw->req);
	if (rv == 0) {
		sl->ctx_open = true;
		rv = nng_msg_alloc(&m, n);
	}
	if (rv != 0) {
		gw_fail(sl, ANNALS_UNAVAILABLE, "gateway: %s", nng_strerror(rv));
		gw_release(sl);
		return;
	}
	protobuf_c_message_pack(&sl->call.base, nng_msg_body(m));
	/* inproc loses nothing; a resend would run a write twice */
	nng_ctx_set_ms(sl->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	pthread_mutex_lock(&sl->lock);
	sl->phase = GW_SEND;
	pthread_mutex_unlock(&sl->lock);
	nng_aio_set_msg(sl->io, m);
	nng_aio_set_timeout(sl->io, 5000);
	nng_ctx_send(sl->ctx, sl->io);
}

static void gw_reply(gw_slot *sl, nng_msg *m)
{
	Annals__V1__Reply *r = (Annals__V1__Reply *)protobuf_c_message_unpack(
	    &annals__v1__reply__descriptor, ar_pbc(&sl->arena), nng_msg_len(m), nng_msg_body(m));
	if (r == NULL) {
		gw_fail(sl, ANNALS_INTERNAL, "gateway: the server's reply did not decode");
		return;
	}
	if (r->code != ANNALS_OK) {
		gw_fail(sl, r->code, "%s", r->message);
		return;
	}
	if (!sl->json) {
		gw_answer a = {.status = 200,
		               .type = "application/x-protobuf",
		               .body = r->body.data,
		               .len = r->body.len};
		gw_finish(sl, &a);
		return;
	}
	const ProtobufCMethodDescriptor *md = env_method(sl->method);
	ProtobufCMessage *out =
	    protobuf_c_message_unpack(md->output, ar_pbc(&sl->arena), r->body.len, r->body.data);
	char *text = out ? pbjson_dumps(out, sl->pretty ? PBJSON_PRETTY : PBJSON_COMPACT) : NULL;
	if (text == NULL) {
		gw_fail(sl, ANNALS_INTERNAL, "gateway: the %s did not convert to JSON", md->output->name);
		return;
	}
	size_t len = strlen(text);
	if (sl->pretty)
		text[len++] = '\n'; /* over the NUL: the length is given, for people's terminals */
	gw_answer a = {.status = 200, .type = "application/json", .body = text, .len = len};
	gw_finish(sl, &a);
	free(text);
}

static void gw_on_io(void *arg)
{
	gw_slot *sl = arg;
	int rv = nng_aio_result(sl->io);
	pthread_mutex_lock(&sl->lock);
	gw_phase phase = sl->phase;
	bool gone = sl->http == NULL;
	pthread_mutex_unlock(&sl->lock);
	if (phase == GW_SEND && rv != 0) {
		nng_msg_free(nng_aio_get_msg(sl->io)); /* a failed send leaves the message ours */
		nng_aio_set_msg(sl->io, NULL);
	}
	if (gone) {
		if (phase == GW_RECV && rv == 0)
			nng_msg_free(nng_aio_get_msg(sl->io));
		gw_release(sl);
		return;
	}
	if (rv != 0) {
		bool timeout = rv == NNG_ETIMEDOUT;
		if (phase == GW_READ)
			gw_fail(sl, ANNALS_INVALID_ARGUMENT, "body: %s before all %zu bytes arrived",
			        timeout ? "the connection stalled" : nng_strerror(rv), sl->body_len);
		else
			gw_fail(sl, timeout ? ANNALS_DEADLINE_EXCEEDED : ANNALS_UNAVAILABLE,
			        "gateway: the server %s",
			        timeout ? "did not answer in time" : nng_strerror(rv));
		gw_release(sl);
		return;
	}
	switch (phase) {
	case GW_READ:
		sl->unread = false;
		gw_start_send(sl);
		return;
	case GW_SEND: {
		pthread_mutex_lock(&sl->lock);
		sl->phase = GW_RECV;
		pthread_mutex_unlock(&sl->lock);
		uint32_t t = sl->call.timeout_ms;
		nng_aio_set_timeout(sl->io, t ? (nng_duration)(t + 2000u) : GW_REPLY_TIMEOUT_MS);
		nng_ctx_recv(sl->ctx, sl->io);
		return;
	}
	case GW_RECV: {
		nng_msg *m = nng_aio_get_msg(sl->io);
		gw_reply(sl, m);
		nng_msg_free(m);
		gw_release(sl);
		return;
	}
	default:
		gw_release(sl);
	}
}

/* "/v1/GetEntity?pretty" -> the method's row; false (answered) when none */
static bool gw_route(gw_slot *sl, const char *uri)
{
	const char *name = uri + 4; /* after "/v1/" */
	size_t n = strcspn(name, "?#");
	char method[128];
	if (n == 0 || n >= sizeof(method)) {
		gw_fail_http(sl, 404, ANNALS_UNIMPLEMENTED,
		             "POST /v1/{Method}, e.g. /v1/Health; ServerInfo lists the methods");
		return false;
	}
	memcpy(method, name, n);
	method[n] = '\0';
	const char *query = name[n] == '?' ? name + n + 1 : "";
	sl->pretty = strstr(query, "pretty") != NULL;
	/* "GetEntity" or "annals.v1.Annals/GetEntity", no other path */
	bool other_service = strchr(method, '/') != NULL &&
	                     strncmp(method, ENV_METHOD_PREFIX, strlen(ENV_METHOD_PREFIX)) != 0;
	sl->method = other_service ? -1 : env_method_index(method);
	if (sl->method < 0) {
		char shown[64];
		size_t k = n < sizeof(shown) - 1 ? n : sizeof(shown) - 1; /* a long name is cut */
		memcpy(shown, method, k);
		shown[k] = '\0';
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		/* 404, as grpc-gateway answers a path it has no route for; the
		 * code is the socket's answer to an unknown method */
		gw_fail_http(sl, 404, ANNALS_UNIMPLEMENTED,
		             "no method \"%s\": POST /v1/{Method}, e.g. /v1/Health; ServerInfo lists them",
		             shown);
		return false;
	}
	return true;
}

/* Content-Length as a strict number; -1 (answered) when the body cannot be
 * read (chunked, malformed, over the limit). */
static int gw_length(gw_slot *sl, nng_http_req *req, size_t *len)
{
	srv_gateway *gw = sl->gw;
	*len = 0;
	if (nng_http_req_get_header(req, "Transfer-Encoding") != NULL) {
		gw_fail(sl, ANNALS_INVALID_ARGUMENT,
		        "Transfer-Encoding is not supported: send the body with a Content-Length");
		return -1;
	}
	const char *v = nng_http_req_get_header(req, "Content-Length");
	uint64_t n = 0;
	if (v != NULL && !gw_parse_u64(v, UINT64_MAX, &n)) {
		gw_fail(sl, ANNALS_INVALID_ARGUMENT, "Content-Length: \"%.40s\" is not a length", v);
		return -1;
	}
	if (n > gw->max_body) {
		gw_fail_http(
		    sl, 413, ANNALS_RESOURCE_EXHAUSTED,
		    "body of %llu bytes is over the gateway's limit of %zu bytes (--max-message); split "
		    "it (e.g. several Batches)",
		    (unsigned long long)n, gw->max_body);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

static void gw_on_request(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	srv_gateway *gw = nng_http_handler_get_data(h);
	gw_slot *sl = gw_take(gw);
	if (sl == NULL) {
		/* every slot busy: answered here, no slot to hold it */
		static const char busy[] =
		    "{\"code\":8,\"status\":\"RESOURCE_EXHAUSTED\",\"message\":\"gateway busy: every HTTP "
		    "call slot is in use (--http-max-inflight); retry with backoff\"}";
		nng_http_res *res;
		if (nng_http_res_alloc(&res) != 0) {
			nng_aio_finish(aio, NNG_ENOMEM);
			return;
		}
		nng_http_res_set_status(res, 429);
		nng_http_res_set_header(res, "Content-Type", "application/json");
		nng_http_res_set_header(res, "Retry-After", "1");
		nng_http_res_set_header(res, "Connection", "close");
		nng_http_res_copy_data(res, busy, sizeof(busy) - 1);
		nng_aio_set_output(aio, 0, res);
		nng_aio_finish(aio, 0);
		return;
	}
	sl->call = (Annals__V1__Call)ANNALS__V1__CALL__INIT;
	sl->body = NULL;
	sl->body_len = 0;
	pthread_mutex_lock(&sl->lock);
	sl->http = aio;
	sl->phase = GW_READ;
	pthread_mutex_unlock(&sl->lock);
	nng_aio_defer(aio, gw_cancel, sl);

	const char *cl = nng_http_req_get_header(req, "Content-Length");
	sl->unread =
	    nng_http_req_get_header(req, "Transfer-Encoding") != NULL || (cl != NULL && strcmp(cl, "0") != 0);
	if (strcmp(nng_http_req_get_method(req), "POST") != 0) {
		gw_fail_http(sl, 405, ANNALS_UNIMPLEMENTED,
		             "%.10s: the gateway takes POST /v1/{Method} with a JSON or protobuf body",
		             nng_http_req_get_method(req));
		gw_release(sl);
		return;
	}
	size_t len;
	if (gw_length(sl, req, &len) != 0 || gw_host(sl, req) != 0 ||
	    !gw_route(sl, nng_http_req_get_uri(req)) || gw_content_type(sl, req) != 0 ||
	    gw_headers(sl, req) != 0) {
		gw_release(sl);
		return;
	}
	if (len == 0) {
		gw_start_send(sl);
		return;
	}
	sl->body = malloc(len + 1);
	if (sl->body == NULL) {
		gw_fail(sl, ANNALS_RESOURCE_EXHAUSTED, "body: out of memory for %zu bytes", len);
		gw_release(sl);
		return;
	}
	sl->body_len = len;
	nng_iov iov = {.iov_buf = sl->body, .iov_len = len};
	nng_aio_set_iov(sl->io, 1, &iov);
	/* a body stalled for the socket's idle deadline is abandoned, as a
	 * frame stalled on the socket is (conns.c) */
	uint32_t idle = gw->srv->cfg.idle_timeout_s;
	nng_aio_set_timeout(sl->io, idle ? (nng_duration)(idle * 1000u) : NNG_DURATION_INFINITE);
	nng_http_conn_read_all(conn, sl->io);
}

/* ---- start and stop ------------------------------------------------------- */

static int gw_pool(srv_gateway *gw, int n)
{
	gw->slots = calloc((size_t)n, sizeof(*gw->slots));
	if (gw->slots == NULL)
		return NNG_ENOMEM;
	gw->n_slots = n;
	for (int i = n - 1; i >= 0; i--) {
		gw_slot *sl = &gw->slots[i];
		sl->gw = gw;
		pthread_mutex_init(&sl->lock, NULL);
		ar_init(&sl->arena);
		int rv = nng_aio_alloc(&sl->io, gw_on_io, sl);
		if (rv != 0)
			return rv;
		sl->next_free = gw->free_list;
		gw->free_list = sl;
	}
	return 0;
}

static int gw_add_api(srv_gateway *gw)
{
	nng_http_handler *h;
	int rv = nng_http_handler_alloc(&h, "/v1", gw_on_request);
	if (rv == 0)
		rv = nng_http_handler_set_tree(h);
	if (rv == 0)
		rv = nng_http_handler_set_method(h, NULL); /* every method: a GET hears why not */
	if (rv == 0)
		rv = nng_http_handler_collect_body(h, false, 0);
	if (rv == 0)
		rv = nng_http_handler_set_data(h, gw, NULL);
	if (rv == 0)
		rv = nng_http_server_add_handler(gw->http, h);
	return rv;
}

static int gw_open(srv_server *s, srv_gateway *gw, const char *url)
{
	char inproc[64];
	snprintf(inproc, sizeof(inproc), "inproc://annals-gateway-%p", (void *)s);
	nng_listener l;
	int rv = nng_listener_create(&l, s->sock, inproc);
	if (rv == 0) {
		s->gw_listener = nng_listener_id(l); /* conns.c: this pipe has no idle deadline */
		rv = nng_listener_start(l, 0);
	}
	if (rv == 0)
		rv = nng_req0_open(&gw->req);
	if (rv == 0) {
		gw->req_open = true;
		rv = nng_socket_set_size(gw->req, NNG_OPT_RECVMAXSZ, 0);
	}
	if (rv == 0)
		rv = nng_dial(gw->req, inproc, NULL, 0);
	if (rv == 0)
		rv = gw_pool(gw, s->cfg.http_max_inflight);
	nng_url *u = NULL;
	if (rv == 0)
		rv = nng_url_parse(&u, url);
	if (rv == 0)
		rv = nng_http_server_hold(&gw->http, u);
	nng_url_free(u);
	if (rv == 0 && strncmp(url, "https://", 8) == 0) {
		if (s->tls == NULL) {
			log_msg(LOG_ERROR, "http_listen",
			        "url=%s problem=\"https:// needs --tls-cert and --tls-key\"", url);
			return -1;
		}
		rv = nng_http_server_set_tls(gw->http, s->tls);
	}
	if (rv == 0)
		rv = gw_add_api(gw);
	if (rv == 0)
		rv = gw_web_add(gw->http, s->cfg.web_root);
	if (rv == 0)
		rv = nng_http_server_start(gw->http);
	return rv;
}

int gw_start(srv_server *s)
{
	const char *url = s->cfg.http_listen;
	if (url == NULL)
		return 0;
	if (srv_addr_check(s, "--http-listen", url) != 0)
		return -1;
	srv_gateway *gw = calloc(1, sizeof(*gw));
	if (gw == NULL)
		return -1;
	gw->srv = s;
	gw->max_body = s->cfg.max_message;
	pthread_mutex_init(&gw->lock, NULL);
	s->gw = gw;
	int rv = gw_open(s, gw, url);
	if (rv != 0) {
		if (rv > 0)
			log_msg(LOG_ERROR, "http_listen",
			        "url=%s problem=\"%s\" hint=\"use http://HOST:PORT or https://HOST:PORT\"",
			        url, nng_strerror(rv));
		return -1;
	}
	log_msg(LOG_INFO, "http", "url=%s paths=\"POST /v1/{Method}, GET / (web page)\"", url);
	return 0;
}

void gw_stop(srv_server *s)
{
	srv_gateway *gw = s->gw;
	if (gw == NULL)
		return;
	if (gw->http != NULL) {
		nng_http_server_stop(gw->http); /* closes connections: their calls are cancelled */
		nng_http_server_release(gw->http);
	}
	if (gw->req_open)
		nng_close(gw->req);     /* calls waiting for the server fail now */
	for (int i = 0; i < 500; i++) { /* every slot back: at most ~5 s */
		pthread_mutex_lock(&gw->lock);
		int busy = gw->busy;
		pthread_mutex_unlock(&gw->lock);
		if (busy == 0)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	}
	for (int i = 0; i < gw->n_slots; i++) {
		if (gw->slots[i].io)
			nng_aio_free(gw->slots[i].io);
		ar_free(&gw->slots[i].arena);
		pthread_mutex_destroy(&gw->slots[i].lock);
	}
	free(gw->slots);
	pthread_mutex_destroy(&gw->lock);
	free(gw);
	s->gw = NULL;
}

/*
 * gw_ requests: an HTTP request read into the Call a socket client would
 * send: the route names the method-table row, the headers fill the Call's
 * fields, the body (proto3 JSON or protobuf) becomes Call.body. Every
 * refusal is answered here, naming the header or field.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/pbjson.h"
#include "server/gateway_int.h"
#include "server/server.h"

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
	bool other_service =
	    strchr(method, '/') != NULL && strncmp(method, ENV_METHOD_PREFIX, strlen(ENV_METHOD_PREFIX)) != 0;
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

/* The body, decoded and packed into Call.body; -1 when answered. */
int gw_body(gw_slot *sl)
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

int gw_req_parse(gw_slot *sl, nng_http_req *req, size_t *len)
{
	if (gw_length(sl, req, len) != 0 || gw_host(sl, req) != 0 ||
	    !gw_route(sl, nng_http_req_get_uri(req)) || gw_content_type(sl, req) != 0 ||
	    gw_headers(sl, req) != 0)
		return -1;
	return 0;
}

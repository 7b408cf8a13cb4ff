/*
 * gw_ answers: the server's Reply, or an error of the gateway's own, as an
 * HTTP response. Errors are JSON whatever the request's encoding (as
 * Twirp's are), with the HTTP status grpc-gateway gives the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/pbjson.h"
#include "server/gateway_int.h"

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

void gw_fail(gw_slot *sl, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gw_fail_va(sl, gw_http_status(code), code, fmt, ap);
	va_end(ap);
}

/* the same, with an HTTP status of its own (404 for no route, 405 for GET) */
void gw_fail_http(gw_slot *sl, uint16_t status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gw_fail_va(sl, status, code, fmt, ap);
	va_end(ap);
}

void gw_reply(gw_slot *sl, nng_msg *m)
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

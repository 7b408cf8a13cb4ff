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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "server/gateway_int.h"
#include "server/server.h"

#include <nng/protocol/reqrep0/req.h> /* after nng.h (server.h): it uses its types */

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

/* ---- the call ------------------------------------------------------------- */

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
	if (gw_req_parse(sl, req, &len) != 0) {
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

/*
 * srv_worker_ — one nng REP context and its state machine.
 *
 * LIFECYCLE CONTRACT (read this before touching a worker from anywhere)
 *
 *   IDLE --start--> RECV --request--> BUSY --reply--> SEND --sent--> RECV
 *                    |                  |                 \--closed--> CLOSED
 *                    \--closed--> CLOSED  \-- parked: writer queue or poll list
 *
 * 1. One call at a time. A worker holds at most one call: from the end of
 *    its receive (worker_on_recv) until its reply has been handed to nng
 *    (worker_send). Its arena, snapshot (txn), request and `write` belong to
 *    that call and are released in worker_call_done, before the reply
 *    leaves — once nng has the reply, the worker's next receive may complete
 *    on another thread at any moment.
 *
 * 2. Who owns a BUSY worker. Exactly one party at a time, handed over
 *    explicitly, never shared:
 *      - the nng task thread that ran its receive callback, through
 *        srv_dispatch and the handler (reads are answered right there);
 *      - the writer thread, from srv_writer_submit until the group's commit,
 *        then the answering task (answer.c), which sends the reply;
 *      - in cluster mode the log instead (src/cluster/log.c), from
 *        srv_cluster_submit until it hands the worker back through a hook:
 *        answered after this node applied its entry, or refused;
 *      - the poller thread, from srv_poll_park until it answers the poll.
 *    The party that owns it is the only one that may reply, and after the
 *    hand-over the previous owner must not touch the worker again (not even
 *    to read a field: the call may already have ended).
 *
 * 3. Every call ends exactly once, by srv_worker_reply / srv_worker_reply_msg
 *    (srv_fail is a reply). A handler either replies or hands the worker
 *    over; doing neither leaks a context, doing both sends a second reply
 *    into a REP context that has none outstanding.
 *
 * 4. Counting. `inflight` counts BUSY and SEND workers except parked long
 *    polls (poll.c moves those to `polls_parked` and back); it is raised in
 *    worker_on_recv and lowered only after the next receive is posted
 *    (worker_on_sent), so srv_stop can close the socket once it reads 0.
 *
 * 5. Callbacks. The aio callback runs only in RECV and SEND. A failed send
 *    leaves the message with us (nng 1.5): it is freed here.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "knowledge/knowledge.h"
#include "server/qcache.h"
#include "server/server.h"

static void worker_cb(void *arg);

int srv_worker_init(srv_worker *w, srv_server *s)
{
	memset(w, 0, sizeof(*w));
	w->srv = s;
	ar_init(&w->arena);
	int rv = nng_aio_alloc(&w->aio, worker_cb, w);
	if (rv == 0)
		rv = nng_ctx_open(&w->ctx, s->sock);
	if (rv != 0) {
		log_msg(LOG_ERROR, "worker_init", "error=\"%s\"", nng_strerror(rv));
		return -1;
	}
	w->txn = st_txn_new(s->store);
	return w->txn ? 0 : -1;
}

static void worker_recv(srv_worker *w)
{
	w->state = SRV_W_RECV;
	nng_ctx_recv(w->ctx, w->aio);
}

void srv_worker_start(srv_worker *w)
{
	worker_recv(w);
}

void srv_worker_fini(srv_worker *w)
{
	if (w->aio)
		nng_aio_stop(w->aio);
	nng_ctx_close(w->ctx);
	nng_aio_free(w->aio);
	if (w->txn)
		st_txn_free(w->txn);
	free(w->deps);
	w->deps = NULL;
	ar_free(&w->arena);
	w->state = SRV_W_CLOSED;
}

int srv_worker_read_begin(srv_worker *w)
{
	if (w->txn_open)
		return ANNALS_OK;
	int rc = st_txn_begin(w->txn);
	w->txn_open = rc == ANNALS_OK;
	if (w->txn_open) /* a query past its caller's deadline stops (srv_now_ms's clock) */
		st_txn_set_deadline(w->txn, w->deadline_ms);
	return rc;
}

void srv_worker_read_end(srv_worker *w)
{
	if (w->txn_open)
		st_txn_end(w->txn);
	w->txn_open = false;
}

/* The end of a call: release everything the call held. This runs before
 * the reply is handed to nng, because once it is, the next call may start
 * on another thread. */
static void worker_call_done(srv_worker *w)
{
	srv_worker_read_end(w);
	if (w->req) {
		nng_msg_free(w->req);
		w->req = NULL;
	}
	st_write_clear(&w->write);
	ar_reset(&w->arena);
	srv_admit_release(w); /* after the call's memory went back */
	srv_conns_call_end(w);
	memset(&w->write, 0, sizeof(w->write));
	kh_release(); /* this thread's decoded heads, when over budget (heads.c) */
	w->poll = NULL;
	w->waited = false;
	w->qkey_armed = false;
	ar_reset(&w->arena);
}

static void worker_send(srv_worker *w, nng_msg *out, int code)
{
	mx_record_call(&w->srv->mx, w->method, code, srv_now_us() - w->received_us, w->waited);
	if (w->srv->cfg.access_log)
		srv_access_log(w, code, nng_msg_len(out));
	worker_call_done(w);
	w->state = SRV_W_SEND;
	nng_aio_set_msg(w->aio, out);
	nng_ctx_send(w->ctx, w->aio);
}

static nng_msg *worker_new_reply(size_t len)
{
	nng_msg *m = NULL;
	if (nng_msg_alloc(&m, len) != 0)
		return NULL;
	return m;
}

void srv_worker_reply(srv_worker *w, int code, const char *message, const void *body, size_t len)
{
	size_t head = env_reply_head_size(code, message, len);
	nng_msg *out = worker_new_reply(head + len);
	if (out == NULL) {
		/* Out of memory: drop the call; the client's timeout reports it. */
		log_msg(LOG_ERROR, "reply_alloc", "bytes=%zu", head + len);
		worker_call_done(w);
		atomic_fetch_sub(&w->srv->inflight, 1);
		worker_recv(w);
		return;
	}
	uint8_t *p = nng_msg_body(out);
	env_reply_head_write(p, code, message, len);
	if (len)
		memcpy(p + head, body, len);
	worker_send(w, out, code);
}

void srv_worker_reply_msg(srv_worker *w, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	size_t head = env_reply_head_size(0, NULL, len);
	nng_msg *out = worker_new_reply(head + len);
	if (out == NULL) {
		srv_worker_reply(w, ANNALS_RESOURCE_EXHAUSTED, "out of memory for the reply", NULL, 0);
		return;
	}
	uint8_t *p = nng_msg_body(out);
	env_reply_head_write(p, 0, NULL, len);
	size_t packed = protobuf_c_message_pack(m, p + head);
	assert(packed == len);
	(void)packed;
	if (w->qkey_armed) { /* a cacheable query answered from this snapshot */
		const uint64_t *tok = NULL;
		size_t n_tok = w->deps != NULL ? st_deps_tokens(w->deps, &tok) : 0;
		qc_put(w->srv->qcache, &w->qkey, p + head, len, tok, n_tok);
	}
	worker_send(w, out, ANNALS_OK);
}

static void worker_on_recv(srv_worker *w)
{
	int rv = nng_aio_result(w->aio);
	if (rv != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			w->state = SRV_W_CLOSED;
			return;
		}
		log_msg(LOG_WARN, "recv_failed", "error=\"%s\"", nng_strerror(rv));
		worker_recv(w);
		return;
	}
	w->req = nng_aio_get_msg(w->aio);
	srv_conns_call_begin(w); /* the pipe has a call: no idle deadline until it ends */
	w->state = SRV_W_BUSY;
	atomic_fetch_add(&w->srv->inflight, 1);
	atomic_fetch_add(&w->srv->calls, 1);
	srv_dispatch(w);
}

static void worker_on_sent(srv_worker *w)
{
	int rv = nng_aio_result(w->aio);
	if (rv != 0) {
		/* A failed send leaves the message with us (nng 1.5 semantics). */
		nng_msg *m = nng_aio_get_msg(w->aio);
		nng_msg_free(m);
		if (rv != NNG_ECLOSED)
			log_msg(LOG_DEBUG, "send_failed", "error=\"%s\"", nng_strerror(rv));
	}
	if (rv == NNG_ECLOSED) {
		w->state = SRV_W_CLOSED;
		atomic_fetch_sub(&w->srv->inflight, 1);
		return;
	}
	/* Post the next receive before this call stops counting as in flight:
	 * srv_stop closes the socket once nothing is in flight, and nng 1.5
	 * must not see nng_ctx_recv race with nng_close. */
	worker_recv(w);
	atomic_fetch_sub(&w->srv->inflight, 1);
}

static void worker_cb(void *arg)
{
	srv_worker *w = arg;
	switch (w->state) {
	case SRV_W_RECV:
		worker_on_recv(w);
		break;
	case SRV_W_SEND:
		worker_on_sent(w);
		break;
	default:
		/* BUSY workers have no aio outstanding; IDLE/CLOSED get no callbacks. */
		log_msg(LOG_ERROR, "worker_state", "state=%d", (int)w->state);
		break;
	}
}

/*
 * srv_dispatch — one path for every method:
 * decode Call -> find the method's row of the method table -> the row's
 * policy (auth by its flags, deadline, drain rule) -> the reply cache for a
 * cacheable row -> unpack and validate the body -> the row's handler
 * (srv_call). Everything decided from what a method *is* is decided in
 * dispatch_policy, from the row's ANNALS_M_* flags, and nowhere else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/validate.h"
#include "server/qcache.h"
#include "server/server.h"

/* How much larger than its wire size a request may become once unpacked. */
#define DISPATCH_UNPACK_FACTOR 24u

uint64_t srv_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t srv_now_ms(void)
{
	return srv_now_us() / 1000u;
}

void srv_fail(srv_worker *w, int code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg); /* quoted client text may have been cut inside a character */
	if (w->srv->cfg.debug || code == ANNALS_INTERNAL) {
		const ProtobufCMethodDescriptor *m = env_method(w->method);
		log_msg(code == ANNALS_INTERNAL ? LOG_ERROR : LOG_DEBUG, "call_failed",
		        "method=%s code=%s message=\"%s\"", m ? m->name : "?", annals_status_name(code), msg);
	}
	srv_worker_reply(w, code, msg, NULL, 0);
}

static int dispatch_envelope(srv_worker *w, Annals__V1__Call **out)
{
	nng_msg *m = w->req;
	/* An unpacked message may take many times its wire size (a million
	 * empty repeated entries: 2 MB on the wire, 50 MB unpacked); cap it. */
	w->arena.pbc_limit = DISPATCH_UNPACK_FACTOR * nng_msg_len(m) + (1u << 20);
	Annals__V1__Call *call = (Annals__V1__Call *)protobuf_c_message_unpack(
	    &annals__v1__call__descriptor, ar_pbc(&w->arena), nng_msg_len(m), nng_msg_body(m));
	if (call == NULL) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT,
		         "envelope: the message is not an annals.v1.Call (protobuf decoding failed)");
		return -1;
	}
	/* Strings from the wire must be UTF-8 before they reach logs, replies
	 * or the store; protobuf-c does not check. */
	char why[300];
	if (val_wire_strings(&annals__v1__call__descriptor, nng_msg_body(m), nng_msg_len(m), "envelope", why,
	                     sizeof(why)) != 0 ||
	    val_fields(&call->base, "envelope", why, sizeof(why)) != 0) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "%s", why);
		return -1;
	}
	*out = call;
	return 0;
}

static int dispatch_method(srv_worker *w, const Annals__V1__Call *call)
{
	if (call->method[0] == '\0') {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "method: required (e.g. \"%sHealth\")",
		         ENV_METHOD_PREFIX);
		return -1;
	}
	w->method = env_method_index(call->method);
	if (w->method < 0) {
		char shown[128];
		snprintf(shown, sizeof(shown), "%s", call->method);
		srv_fail(w, ANNALS_UNIMPLEMENTED,
		         "method \"%s\": no such method; ServerInfo lists them (e.g. \"%sHealth\")", shown,
		         ENV_METHOD_PREFIX);
		return -1;
	}
	return 0;
}

static bool dispatch_still(void *ctx, const uint64_t *tok, size_t n, uint64_t since, uint64_t now)
{
	return st_deps_unchanged(ctx, tok, n, since, now);
}

/* A query whose answer on this very snapshot is cached is answered from
 * the cache (the bytes the handler would pack); otherwise the key is armed
 * so that srv_worker_reply_msg keeps the answer. The snapshot taken here
 * is the one the handler then reads. */
static bool dispatch_cached(srv_worker *w, const Annals__V1__Call *call)
{
	if (!qc_cacheable(w->srv->qcache, w->method) || srv_worker_read_begin(w) != ANNALS_OK)
		return false;
	w->qkey = (qc_key){.method = w->method,
	                   .body = call->body.data,
	                   .len = call->body.len,
	                   .txn_id = st_txn_id(w->txn),
	                   .still = dispatch_still,
	                   .still_ctx = w->srv->store};
	qc_key_hash(&w->qkey);
	size_t len;
	const uint8_t *hit = qc_get(w->srv->qcache, &w->qkey, &len);
	if (hit != NULL) {
		srv_worker_reply(w, ANNALS_OK, NULL, hit, len);
		return true;
	}
	if (w->deps == NULL)
		w->deps = calloc(1, sizeof(*w->deps)); /* none: the answer is kept for its snapshot only */
	st_txn_track(w->txn, w->deps);
	w->qkey_armed = true;
	return false;
}

/* What the row's flags decide about this call: who may make it (auth),
 * whether its deadline already passed, whether a draining server takes it
 * (long polls are answered UNAVAILABLE by the poller while draining). */
static int dispatch_policy(srv_worker *w, const Annals__V1__Call *call)
{
	srv_server *s = w->srv;
	unsigned flags = env_method_flags(w->method);
	/* Work in flight is bounded below the number of contexts, so that the
	 * spare contexts can still turn calls away at once rather than leave
	 * them queued in the socket. A NO_TOKEN call (Health: O(1), no
	 * snapshot) is the reserve's: probes see an overloaded server as
	 * alive, not dead. */
	int inflight = atomic_load(&s->inflight);
	if (inflight > s->cfg.max_inflight && !(flags & ANNALS_M_NO_TOKEN)) {
		srv_fail(w, ANNALS_RESOURCE_EXHAUSTED,
		         "server busy: %d calls in flight (limit %d); retry with backoff", inflight - 1,
		         s->cfg.max_inflight);
		return -1;
	}
	if (s->cfg.test_delay_ms) /* fault injection: a call that holds its slot */
		usleep(s->cfg.test_delay_ms * 1000u);
	const char *why = NULL;
	int code = srv_auth_check(s, call->token, flags, &why);
	if (code != ANNALS_OK) {
		srv_fail(w, code, "%s", why);
		return -1;
	}
	if (call->timeout_ms) {
		w->deadline_ms = w->received_ms + call->timeout_ms;
		/* a write's deadline is judged by the store after its request-log
		 * lookup (st_write.expired): a resend of an applied write gets its
		 * first answer, whatever its deadline */
		if (!(flags & ANNALS_M_WRITE) && srv_now_ms() >= w->deadline_ms) {
			srv_fail(w, ANNALS_DEADLINE_EXCEEDED,
			         "deadline of %u ms passed before the call started", call->timeout_ms);
			return -1;
		}
	}
	if (atomic_load(&s->draining) && (flags & ANNALS_M_WRITE)) {
		srv_fail(w, ANNALS_UNAVAILABLE, "the server is shutting down; retry on another instance");
		return -1;
	}
	return 0;
}

/* A read that asks for a revision this node has not reached (min_revision)
 * or for a linearizable answer (cluster mode) waits for it parked with the
 * long polls, never on this thread; true when it was parked (or refused). */
static bool dispatch_wait(srv_worker *w, const Annals__V1__Call *call)
{
	srv_server *s = w->srv;
	unsigned flags = env_method_flags(w->method);
	w->wait_call = NULL;
	if (!(flags & ANNALS_M_READ) || (flags & ANNALS_M_NO_TOKEN))
		return false;
	/* A cluster node far behind answers no reads (ServerInfo and Stats
	 * still do: they are how an operator sees why) */
	char why[300];
	if (w->method != ANNALS_METHOD_ServerInfo && w->method != ANNALS_METHOD_Stats &&
	    srv_cluster_unserving(s, why, sizeof(why)) != NULL) {
		srv_fail(w, ANNALS_UNAVAILABLE, "%s", why);
		return true;
	}
	if (flags & ANNALS_M_LONG_POLL)
		return false;
	bool linear = call->linearizable && s->cluster != NULL;
	if (!linear && call->min_revision <= st_revision(s->store))
		return false;
	w->wait_call = call;
	w->wait_revision = call->min_revision;
	w->wait_log = 0;
	w->wait_ticket = linear ? srv_cluster_read_ticket(s) : 0;
	uint64_t now = srv_now_ms();
	/* give up a little before the caller does, so it hears why */
	uint64_t until = now + SRV_WAIT_DEFAULT_MS;
	if (w->deadline_ms) {
		uint64_t margin = (w->deadline_ms - w->received_ms) / 10;
		until = w->deadline_ms - (margin < 100 ? margin : 100);
	}
	srv_poll_park(s, w, until > now ? (uint32_t)(until - now) : 0);
	return true;
}

bool srv_wait_try(srv_worker *w, uint64_t now_ms)
{
	srv_server *s = w->srv;
	const Annals__V1__Call *call = w->wait_call;
	if (w->wait_ticket != 0 && w->wait_log == 0) {
		uint64_t rev = 0;
		if (srv_cluster_read_done(s, w->wait_ticket, &rev))
			w->wait_log = rev ? rev : 1;
	}
	uint64_t have = st_revision(s->store), applied = srv_cluster_applied(s);
	bool met =
	    have >= w->wait_revision && (w->wait_ticket == 0 || (w->wait_log != 0 && applied >= w->wait_log));
	if (met) {
		w->wait_call = NULL;
		srv_dispatch_run(w, call);
		return true;
	}
	if (atomic_load(&s->draining) || atomic_load(&s->poll_stop)) {
		srv_fail(w, ANNALS_UNAVAILABLE, "the server is shutting down; read from another node");
		return true;
	}
	if (now_ms < w->poll_until_ms)
		return false;
	if (w->wait_ticket != 0 && w->wait_log == 0)
		srv_fail(
		    w, ANNALS_UNAVAILABLE,
		    "a linearizable read needs etcd's quorum, which did not answer in time; this node has "
		    "applied store revision %llu: read without linearizable for a possibly stale answer",
		    (unsigned long long)have);
	else
		srv_fail(
		    w, ANNALS_UNAVAILABLE,
		    "this node has store revision %llu (etcd log revision %llu applied); the read asked for "
		    "%s %llu: retry, give it a longer timeout_ms, or read from a node that has it",
		    (unsigned long long)have, (unsigned long long)applied,
		    w->wait_ticket ? "etcd log revision" : "store revision",
		    (unsigned long long)(w->wait_ticket ? w->wait_log : w->wait_revision));
	return true;
}

void srv_dispatch(srv_worker *w)
{
	srv_server *s = w->srv;
	w->received_us = srv_now_us();
	w->received_ms = w->received_us / 1000u;
	w->method = -1;
	w->deadline_ms = 0;
	w->request_id = NULL; /* the last call's pointed into its arena */
	if (nng_msg_len(w->req) > s->cfg.max_message) {
		srv_fail(w, ANNALS_RESOURCE_EXHAUSTED,
		         "request of %zu bytes is over the server's limit of %zu bytes (--max-message); "
		         "split it (e.g. several Batches)",
		         nng_msg_len(w->req), s->cfg.max_message);
		return;
	}
	if (srv_admit(w) != 0)
		return; /* answered: too many bytes in flight */
	Annals__V1__Call *call;
	if (dispatch_envelope(w, &call) != 0)
		return;                   /* answered; the reply's ar_reset clears the unpack cap */
	w->request_id = call->request_id; /* the access log shows it for refused calls too */
	if (dispatch_method(w, call) != 0 || dispatch_policy(w, call) != 0)
		return;
	if (dispatch_wait(w, call))
		return; /* parked until this node has the revision the read asks for */
	srv_dispatch_run(w, call);
}

void srv_dispatch_run(srv_worker *w, const Annals__V1__Call *call)
{
	if (dispatch_cached(w, call))
		return;

	const ProtobufCMethodDescriptor *md = env_method(w->method);
	ProtobufCMessage *input =
	    protobuf_c_message_unpack(md->input, ar_pbc(&w->arena), call->body.len, call->body.data);
	w->arena.pbc_limit = 0; /* handlers unpack stored records freely */
	if (input == NULL && w->arena.pbc_refused) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT,
		         "body: this %s would take over %ux its %zu bytes once unpacked; no repeated field "
		         "may hold more than %d items",
		         md->input->name, DISPATCH_UNPACK_FACTOR, call->body.len, VAL_MAX_REPEATED);
		return;
	}
	if (input == NULL) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "body: not a valid %s message", md->input->name);
		return;
	}
	/* every string UTF-8, every enum a known value, before any handler
	 * (or an error message echoing a field) sees them */
	char bad[480];
	if (val_wire_strings(md->input, call->body.data, call->body.len, "", bad, sizeof(bad)) != 0 ||
	    val_fields(input, "", bad, sizeof(bad)) != 0) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "%s", bad);
		return;
	}
	srv_call(w, input);
}

/*
 * libannals — see include/annals/annals.h.
 *
 * One REQ socket per client; each call opens its own context, so calls
 * from many threads run concurrently over the same connections. The REQ
 * protocol resends a request that is unanswered after a reconnect; the
 * request_id in every Call lets the server answer a resent write from its
 * log instead of applying it twice.
 *
 * A URL list ("tcp://a:7700,tcp://b:7700": the nodes of a cluster) gives
 * one dialer per node on the same socket: nng sends each request over a
 * connected pipe and resends it elsewhere when that connection is lost; a
 * call answered UNAVAILABLE (a node going away, or etcd not confirming)
 * is sent again, with the same request_id, up to once per other node.
 */
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/file.h"

#define CLIENT_DEFAULT_TIMEOUT_MS 5000
#define CLIENT_DEFAULT_MAX_MSG    (64u << 20)
#define CLIENT_MAX_URLS           16

struct annals_client {
	nng_socket sock;
	nng_dialer dialer[CLIENT_MAX_URLS];
	nng_tls_config *tls[CLIENT_MAX_URLS];
	int n_urls;
	uint32_t timeout_ms;
	char *token;
	char *url;
	bool read_your_writes;
	_Atomic uint64_t write_revision; /* the highest store revision a write of ours was answered with */
};

static int client_fail(annals_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int client_fail(annals_error *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

static int client_ok(annals_error *err)
{
	if (err != NULL) {
		err->code = ANNALS_OK;
		err->message[0] = '\0';
	}
	return ANNALS_OK;
}

/* "tls+tcp://HOST:PORT" -> HOST (without brackets for IPv6). */
static void client_url_host(const char *url, char *host, size_t len)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *end = *p == '[' ? strchr(p, ']') : strrchr(p, ':');
	if (*p == '[')
		p++;
	size_t n = end ? (size_t)(end - p) : strlen(p);
	snprintf(host, len, "%.*s", (int)n, p);
}

/* A TLS client always verifies: the server's certificate must chain to
 * tls_ca_file and name the host it is dialled as (or tls_server_name).
 * mbedtls 2.28 matches names against the certificate's DNS entries and CN
 * only, not IP entries: a server dialled by IP needs that IP as a DNS
 * entry or CN, or the caller sets tls_server_name. */
static int client_tls(annals_client *c, int i, const char *url, const annals_options *o, annals_error *err)
{
	if (o == NULL || o->tls_ca_file == NULL)
		return client_fail(err, ANNALS_INVALID_ARGUMENT,
		                   "%s: tls+tcp:// needs the CA that signed the server's certificate "
		                   "(tls_ca_file, or --tls-ca on the command line)",
		                   url);
	char host[256];
	client_url_host(url, host, sizeof(host));
	int rv = nng_tls_config_alloc(&c->tls[i], NNG_TLS_MODE_CLIENT);
	nng_tls_config *tls = c->tls[i];
	if (rv == 0)
		rv = nng_tls_config_ca_file(tls, o->tls_ca_file);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(tls, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0)
		rv = nng_tls_config_server_name(tls, o->tls_server_name ? o->tls_server_name : host);
	if (rv == 0 && o->tls_cert_file && o->tls_key_file) {
		/* nng wants certificate and key from one file or from memory */
		char *cert = file_read_all(o->tls_cert_file, 1 << 20, NULL);
		char *key = file_read_all(o->tls_key_file, 1 << 20, NULL);
		rv = (cert && key) ? nng_tls_config_own_cert(tls, cert, key, NULL) : NNG_ENOENT;
		free(cert);
		free(key);
	}
	if (rv != 0)
		return client_fail(err, ANNALS_INVALID_ARGUMENT, "TLS settings: %s", nng_strerror(rv));
	return nng_dialer_set_ptr(c->dialer[i], NNG_OPT_TLS_CONFIG, tls) == 0
	           ? ANNALS_OK
	           : client_fail(err, ANNALS_INTERNAL, "TLS settings could not be applied");
}

int annals_open(annals_client **out, const char *url, const annals_options *o, annals_error *err)
{
	*out = NULL;
	annals_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return client_fail(err, ANNALS_RESOURCE_EXHAUSTED, "out of memory");
	c->timeout_ms = (o && o->timeout_ms) ? o->timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	c->token = (o && o->token) ? strdup(o->token) : NULL;
	c->url = strdup(url);
	size_t maxmsg = (o && o->max_message_bytes) ? o->max_message_bytes : CLIENT_DEFAULT_MAX_MSG;
	int rv = nng_req0_open(&c->sock);
	if (rv == 0)
		rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, maxmsg);
	if (rv == 0)
		rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	if (rv == 0)
		rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	if (rv != 0) {
		annals_close(c);
		return client_fail(err, ANNALS_INTERNAL, "cannot open a socket: %s", nng_strerror(rv));
	}
	c->read_your_writes = o && o->read_your_writes;
	/* one dialer per URL of the list */
	char one[512];
	int started = 0;
	const char *why = "";
	for (const char *p = url; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || n >= sizeof(one) || c->n_urls == CLIENT_MAX_URLS) {
			annals_close(c);
			return client_fail(err, ANNALS_INVALID_ARGUMENT, "server URL list \"%s\": %s", url,
			                   n == 0             ? "an empty entry"
			                   : n >= sizeof(one) ? "a URL too long"
			                                      : "more than 16 URLs");
		}
		memcpy(one, p, n);
		one[n] = '\0';
		p = end ? end + 1 : p + n;
		int i = c->n_urls;
		rv = nng_dialer_create(&c->dialer[i], c->sock, one);
		if (rv != 0) {
			int code = rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? ANNALS_INVALID_ARGUMENT
			                                                     : ANNALS_INTERNAL;
			client_fail(err, code,
			            "cannot use server URL \"%s\": %s (expected e.g. tcp://127.0.0.1:7700 or "
			            "ipc:///path, "
			            "or a comma-separated list of them)",
			            one, nng_strerror(rv));
			annals_close(c);
			return code;
		}
		c->n_urls++;
		if (strncmp(one, "tls+", 4) == 0 && client_tls(c, i, one, o, err) != ANNALS_OK) {
			int code = err ? err->code : ANNALS_INVALID_ARGUMENT;
			annals_close(c);
			return code;
		}
		/* By default the first connection is made here, so a wrong URL or
		 * a server that is down is reported at once (with a list: when no
		 * node answers); services that start before annalsd ask for
		 * connect_async, and nng keeps redialling. */
		rv = nng_dialer_start(c->dialer[i], (o && o->connect_async) ? NNG_FLAG_NONBLOCK : 0);
		if (rv != 0) {
			why = nng_strerror(rv);
			/* this node keeps being dialled in the background */
			if (nng_dialer_start(c->dialer[i], NNG_FLAG_NONBLOCK) != 0)
				why = "the dialer could not start";
		} else {
			started++;
		}
	}
	if (started == 0 && !(o && o->connect_async)) {
		client_fail(err, ANNALS_UNAVAILABLE, "cannot connect to %s: %s; is annalsd running there?",
		            url, why);
		annals_close(c);
		return ANNALS_UNAVAILABLE;
	}
	*out = c;
	return client_ok(err);
}

void annals_close(annals_client *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	for (int i = 0; i < CLIENT_MAX_URLS; i++)
		if (c->tls[i])
			nng_tls_config_free(c->tls[i]);
	free(c->token);
	free(c->url);
	free(c);
}

void annals_free(void *reply)
{
	if (reply != NULL)
		protobuf_c_message_free_unpacked(reply, NULL);
}

void annals_new_request_id(char out[40])
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* no entropy source: time and address still make collisions unlikely */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30), b = (uint64_t)(uintptr_t)out;
		memcpy(r, &a, 8);
		memcpy(r + 8, &b, 8);
	}
	out[0] = 'r';
	out[1] = '-';
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", r[i]);
}

static uint64_t client_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int client_transport_error(annals_error *err, int rv, const char *phase, uint32_t timeout)
{
	if (rv == NNG_ETIMEDOUT)
		return client_fail(err, ANNALS_DEADLINE_EXCEEDED, "no reply within %u ms", timeout);
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return client_fail(err, ANNALS_CANCELLED, "the client was closed");
	return client_fail(err, ANNALS_UNAVAILABLE, "%s failed: %s", phase, nng_strerror(rv));
}

/* Sends one packed Call and waits for its Reply message. */
static int client_roundtrip(annals_client *c, nng_msg *msg, uint32_t timeout, nng_msg **reply,
                            annals_error *err)
{
	nng_ctx ctx;
	nng_aio *aio = NULL;
	int rv = nng_ctx_open(&ctx, c->sock);
	if (rv != 0) {
		nng_msg_free(msg);
		return client_transport_error(err, rv, "opening a context", timeout);
	}
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_msg_free(msg);
		nng_ctx_close(ctx);
		return client_transport_error(err, rv, "allocating an aio", timeout);
	}
	uint64_t deadline = client_now_ms() + timeout;
	nng_aio_set_timeout(aio, (nng_duration)timeout);
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(aio)); /* a failed send leaves the message with us */
	} else {
		uint64_t now = client_now_ms();
		nng_aio_set_timeout(aio, (nng_duration)(now < deadline ? deadline - now : 1));
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv == 0)
			*reply = nng_aio_get_msg(aio);
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return rv == 0 ? ANNALS_OK : client_transport_error(err, rv, "the call", timeout);
}

int annals_call_raw(annals_client *c, const char *method, const void *body, size_t len, void **reply_body,
                    size_t *reply_len, const annals_call_opts *opts, annals_error *err)
{
	*reply_body = NULL;
	*reply_len = 0;
	char full[160];
	snprintf(full, sizeof(full), "%s%s",
	         strncmp(method, ENV_METHOD_PREFIX, strlen(ENV_METHOD_PREFIX)) ? ENV_METHOD_PREFIX : "",
	         method);
	char rid[40];
	if (opts == NULL || opts->request_id == NULL)
		annals_new_request_id(rid);
	uint32_t timeout = (opts && opts->timeout_ms) ? opts->timeout_ms : c->timeout_ms;

	Annals__V1__Call call = ANNALS__V1__CALL__INIT;
	call.method = full;
	call.body.data = (uint8_t *)body;
	call.body.len = len;
	call.timeout_ms = timeout;
	call.token = c->token ? c->token : "";
	call.request_id = (opts && opts->request_id) ? (char *)opts->request_id : rid;
	call.min_revision = opts ? opts->min_revision : 0;
	call.linearizable = opts && opts->linearizable;
	if (c->read_your_writes && atomic_load(&c->write_revision) > call.min_revision)
		call.min_revision = atomic_load(&c->write_revision);

	nng_msg *msg;
	size_t n = annals__v1__call__get_packed_size(&call);
	if (nng_msg_alloc(&msg, n) != 0)
		return client_fail(err, ANNALS_RESOURCE_EXHAUSTED, "out of memory for a %zu-byte call", n);
	annals__v1__call__pack(&call, nng_msg_body(msg));

	/* With several nodes, UNAVAILABLE (from the transport or a node) is
	 * tried again, the same request_id included, while time remains. */
	uint64_t until = client_now_ms() + timeout;
	Annals__V1__Reply *rep = NULL;
	int rc = ANNALS_UNAVAILABLE;
	for (int attempt = 0;; attempt++) {
		nng_msg *copy = NULL;
		if (attempt + 1 < c->n_urls && nng_msg_dup(&copy, msg) != 0)
			copy = NULL;
		uint64_t now = client_now_ms();
		nng_msg *rmsg = NULL;
		rc = client_roundtrip(c, msg, now < until ? (uint32_t)(until - now) : 1, &rmsg, err);
		msg = copy;
		if (rc == ANNALS_OK) {
			rep = annals__v1__reply__unpack(NULL, nng_msg_len(rmsg), nng_msg_body(rmsg));
			nng_msg_free(rmsg);
			if (rep == NULL) {
				rc = client_fail(err, ANNALS_INTERNAL,
				                 "the server's answer is not an annals.v1.Reply");
				break;
			}
			if (rep->code != ANNALS_UNAVAILABLE || msg == NULL || client_now_ms() >= until)
				break;
			annals__v1__reply__free_unpacked(rep, NULL); /* another node may answer */
			rep = NULL;
		} else if (rc != ANNALS_UNAVAILABLE || msg == NULL || client_now_ms() >= until) {
			break;
		}
	}
	if (msg != NULL)
		nng_msg_free(msg);
	if (rep == NULL)
		return rc;
	if (rep->code != ANNALS_OK) {
		rc = client_fail(err, rep->code, "%s", rep->message);
	} else {
		/* hand the body over without a copy: steal it from the unpacked Reply */
		*reply_body = rep->body.data;
		*reply_len = rep->body.len;
		rep->body.data = NULL;
		rep->body.len = 0;
		rc = client_ok(err);
	}
	annals__v1__reply__free_unpacked(rep, NULL);
	return rc;
}

/* Read-your-writes: the store revision a write was answered with (the
 * `revision` of WriteReply and BatchReply), so later reads ask for it. */
static void client_note_write(annals_client *c, const ProtobufCMessage *reply)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(reply->descriptor, "revision");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_UINT64)
		return;
	uint64_t rev = *(const uint64_t *)(const void *)((const char *)reply + f->offset);
	uint64_t seen = atomic_load(&c->write_revision);
	while (rev > seen && !atomic_compare_exchange_weak(&c->write_revision, &seen, rev))
		;
}

int annals_call(annals_client *c, const char *method, const ProtobufCMessage *request,
                ProtobufCMessage **reply, const annals_call_opts *opts, annals_error *err)
{
	*reply = NULL;
	const ProtobufCMethodDescriptor *md = env_method(env_method_index(method));
	if (md == NULL)
		return client_fail(err, ANNALS_UNIMPLEMENTED,
		                   "method \"%s\": no such method in annals.v1.Annals", method);
	if (request->descriptor != md->input)
		return client_fail(err, ANNALS_INVALID_ARGUMENT, "%s takes %s, not %s", md->name,
		                   md->input->name, request->descriptor->name);
	size_t n = protobuf_c_message_get_packed_size(request);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL)
		return client_fail(err, ANNALS_RESOURCE_EXHAUSTED, "out of memory for a %zu-byte request", n);
	protobuf_c_message_pack(request, buf);
	void *body;
	size_t len;
	int rc = annals_call_raw(c, md->name, buf, n, &body, &len, opts, err);
	free(buf);
	if (rc != ANNALS_OK)
		return rc;
	*reply = protobuf_c_message_unpack(md->output, NULL, len, body);
	free(body);
	if (*reply == NULL)
		return client_fail(err, ANNALS_INTERNAL, "the reply body is not a valid %s",
		                   md->output->name);
	if (c->read_your_writes && env_method_is_write(env_method_index(method)))
		client_note_write(c, *reply);
	return ANNALS_OK;
}

/* annals_<fn>() for every row of the method table. */
#define ANNALS_RPC_DEF(M, fn, Req, Rep, flags, impl, record)                                                 \
	int annals_##fn(annals_client *c, const Annals__V1__##Req *req, Annals__V1__##Rep **reply,           \
	                annals_error *err)                                                                   \
	{                                                                                                    \
		return annals_call(c, #M, &req->base, (ProtobufCMessage **)reply, NULL, err);                \
	}
ANNALS_METHODS(ANNALS_RPC_DEF)
#undef ANNALS_RPC_DEF

/*
 * gw_ internals: one HTTP call's slot and the gateway object, shared by
 * gateway.c (the slot's lifecycle: pool, nng callbacks, start and stop),
 * gateway_req.c (an HTTP request read into a Call) and gateway_answer.c
 * (a Reply, or an error, written back as HTTP). See gateway.h.
 */
#ifndef ANNALS_SERVER_GATEWAY_INT_H
#define ANNALS_SERVER_GATEWAY_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include "annals/v1/rpc.pb-c.h"
#include "common/arena.h"
#include "server/gateway.h"

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

/* ---- gateway_answer.c ---------------------------------------------------- */

/* Finishes the slot's `http` aio with a JSON error {code, status, message}
 * (HTTP status from the code, or given), unless the peer already left. */
void gw_fail(gw_slot *sl, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void gw_fail_http(gw_slot *sl, uint16_t status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The server's Reply (a packed annals.v1.Reply) as the HTTP answer. */
void gw_reply(gw_slot *sl, nng_msg *m);

/* ---- gateway_req.c ------------------------------------------------------- */

/* The request's line and headers into sl (method row, encoding, Call
 * fields) and *len, the body's length; -1 when already answered. */
int gw_req_parse(gw_slot *sl, nng_http_req *req, size_t *len);
/* The body read, decoded and packed into sl->call.body; -1 when answered. */
int gw_body(gw_slot *sl);

#endif

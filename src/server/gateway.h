/*
 * gw_ — the HTTP/JSON gateway (--http-listen) and the analyst web page.
 *
 * POST /v1/{Method} with a proto3-JSON body (application/json) or a packed
 * request (application/x-protobuf) is turned into the same annals.v1.Call a
 * socket client sends, and that Call goes through the server's own REP
 * socket (an inproc:// pipe dialed by the gateway). So an HTTP call takes
 * exactly the socket's path: one row of the method table, auth, limits,
 * deadlines, request ids, the reply cache — nothing is decided twice. The
 * gateway only translates: headers to Call fields, JSON to protobuf and
 * back, status codes to HTTP as grpc-gateway maps them.
 *
 * The same listener serves the web page (clients/web, built into
 * BIN/web by `make web`) at / and /web/.
 */
#ifndef ANNALS_SERVER_GATEWAY_H
#define ANNALS_SERVER_GATEWAY_H

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdint.h>

typedef struct srv_server srv_server;
typedef struct srv_gateway srv_gateway;

/* Starts the gateway on cfg.http_listen (after the server's socket is up);
 * 0 when it is not configured. */
int gw_start(srv_server *s);
/* Stops taking HTTP requests and waits out those in flight; before the
 * server's socket closes. */
void gw_stop(srv_server *s);

/* The HTTP status grpc-gateway gives an annals (gRPC) status code. */
uint16_t gw_http_status(int code);

/* web.c: registers / and /web/ on hs from the built page in root (or the
 * first of the default places that holds one); a missing page is logged
 * and / then says how to build it. 0 unless nng fails. */
int gw_web_add(nng_http_server *hs, const char *root);

#endif

/* Raw envelope calls for tests: bytes in, Reply out, over a plain nng REQ
 * socket, as a client in another language would talk to annalsd. */
#ifndef ANNALS_TESTS_RAW_H
#define ANNALS_TESTS_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/v1/rpc.pb-c.h"

/* Sends `len` bytes as one message and waits up to timeout_ms for a reply.
 * Returns the unpacked Reply (free with annals__v1__reply__free_unpacked),
 * or NULL when no reply came; *nng_err gets nng's error then. */
Annals__V1__Reply *raw_send(const char *url, const void *bytes, size_t len, int timeout_ms, int *nng_err);
/* Packs a Call around a packed body and sends it. */
Annals__V1__Reply *raw_call(const char *url, const char *method, const void *body, size_t len,
                            uint32_t call_timeout_ms, const char *request_id, const char *token);

#endif

/* Raw TCP to the host:port of a tcp://127.0.0.1:P URL, for the tests that
 * speak (or break) nng's SP framing by hand: a connected socket with a 5 s
 * receive timeout, or -1. */
int raw_tcp_connect(const char *url);
/* The same after the SP handshake as a REQ peer (the 8-byte headers). */
int raw_sp_connect(const char *url);
extern const uint8_t raw_sp_req_header[8];
bool raw_send_all(int fd, const void *p, size_t n);
bool raw_recv_all(int fd, void *p, size_t n);
/* true when the peer closes (or resets) the connection before the timeout */
bool raw_closed_by_peer(int fd);

/* Speaks the SP-over-TCP framing by hand (no nng on this side): connects
 * to host:port of a tcp:// URL as a REQ peer and announces a message of
 * `claimed` bytes, then sends up to `sent` bytes of it. Returns 1 when the
 * server closed the connection (what a frame over its limit must cause),
 * 0 when it was still open after wait_ms, -1 on connection errors. */
int raw_tcp_oversize(const char *url, uint64_t claimed, size_t sent, int wait_ms);

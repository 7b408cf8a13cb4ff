/* Raw envelope calls for tests: bytes in, Reply out, over a plain nng REQ
 * socket, as a client in another language would talk to annalsd. */
#ifndef ANNALS_TESTS_RAW_H
#define ANNALS_TESTS_RAW_H

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

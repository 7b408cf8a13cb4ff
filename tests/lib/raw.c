/* Raw envelope calls for tests; see raw.h. */
#include "raw.h"

#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

Annals__V1__Reply *raw_send(const char *url, const void *bytes, size_t len, int timeout_ms, int *nng_err)
{
	nng_socket s;
	int rv = nng_req0_open(&s);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	if (rv == 0)
		rv = nng_dial(s, url, NULL, 0);
	if (rv == 0)
		rv = nng_send(s, (void *)bytes, len, 0);
	Annals__V1__Reply *rep = NULL;
	if (rv == 0) {
		void *buf = NULL;
		size_t n = 0;
		rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC);
		if (rv == 0) {
			rep = annals__v1__reply__unpack(NULL, n, buf);
			nng_free(buf, n);
		}
	}
	if (nng_err)
		*nng_err = rv;
	nng_close(s);
	return rep;
}

Annals__V1__Reply *raw_call(const char *url, const char *method, const void *body, size_t len,
                            uint32_t call_timeout_ms, const char *request_id, const char *token)
{
	Annals__V1__Call call = ANNALS__V1__CALL__INIT;
	call.method = (char *)method;
	call.body.data = (uint8_t *)body;
	call.body.len = len;
	call.timeout_ms = call_timeout_ms;
	call.request_id = (char *)(request_id ? request_id : "");
	call.token = (char *)(token ? token : "");
	size_t n = annals__v1__call__get_packed_size(&call);
	uint8_t *buf = malloc(n + 1);
	annals__v1__call__pack(&call, buf);
	int err = 0;
	Annals__V1__Reply *r = raw_send(url, buf, n, 5000, &err);
	free(buf);
	return r;
}

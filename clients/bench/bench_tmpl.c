/*
 * Request templates: a Call packed once before the run, with fixed-width
 * runs of marker bytes where a number goes (the digits of a generated id,
 * or the sequence number that makes a write's id and request_id unique).
 * The send path copies the bytes and writes digits over the markers: no
 * protobuf work per call, and the packed lengths never change.
 */
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "annals/v1/rpc.pb-c.h"
#include "bench.h"
#include "common/envelope.h"

static void tmpl_find_marks(bench_tmpl *t)
{
	t->n_patch = 0;
	for (size_t i = 0; i < t->len && t->n_patch < BENCH_MAX_PATCH;) {
		uint8_t c = t->bytes[i];
		if (c != (uint8_t)BENCH_MARK_KEY && c != (uint8_t)BENCH_MARK_SEQ) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < t->len && t->bytes[j] == c && j - i < 40)
			j++;
		/* single marker bytes can occur by chance (a length or tag byte of
		 * value 1 or 2); a real field is several digits wide */
		if (j - i >= 4) {
			bench_patch *p = &t->patch[t->n_patch++];
			p->off = (uint32_t)i;
			p->width = (uint8_t)(j - i);
			p->kind = c == (uint8_t)BENCH_MARK_KEY ? BENCH_PATCH_KEY : BENCH_PATCH_SEQ;
		}
		i = j;
	}
}

int bench_tmpl_make(bench_tmpl *t, const char *method, const uint8_t *body, size_t body_len,
                    const char *request_id, const char *token, uint32_t timeout_ms)
{
	memset(t, 0, sizeof(*t));
	char full[160];
	snprintf(full, sizeof(full), "%s%s", ENV_METHOD_PREFIX, method);
	Annals__V1__Call call = ANNALS__V1__CALL__INIT;
	call.method = full;
	call.body.data = (uint8_t *)body;
	call.body.len = body_len;
	call.timeout_ms = timeout_ms;
	call.token = (char *)(token ? token : "");
	call.request_id = (char *)(request_id ? request_id : "");
	t->len = annals__v1__call__get_packed_size(&call);
	t->bytes = malloc(t->len ? t->len : 1);
	if (t->bytes == NULL)
		return -1;
	annals__v1__call__pack(&call, t->bytes);
	tmpl_find_marks(t);
	return 0;
}

int bench_tmpl_from_msg(bench_tmpl *t, const char *method, const void *protobuf_msg, const char *request_id,
                        const char *token, uint32_t timeout_ms)
{
	const ProtobufCMessage *m = protobuf_msg;
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *body = malloc(n ? n : 1);
	if (body == NULL)
		return -1;
	protobuf_c_message_pack(m, body);
	int rc = bench_tmpl_make(t, method, body, n, request_id, token, timeout_ms);
	free(body);
	return rc;
}

void bench_tmpl_fill(const bench_tmpl *t, uint8_t *dst, uint64_t key, uint64_t seq)
{
	memcpy(dst, t->bytes, t->len);
	for (int i = 0; i < t->n_patch; i++) {
		const bench_patch *p = &t->patch[i];
		bench_put_digits(dst + p->off, p->width, p->kind == BENCH_PATCH_KEY ? key : seq);
	}
}

void bench_tmpl_free(bench_tmpl *t)
{
	free(t->bytes);
	memset(t, 0, sizeof(*t));
}

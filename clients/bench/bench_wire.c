/*
 * Reading replies without protobuf-c: the driver needs only the code (and,
 * on errors, the message) of each Reply, and the id of an acknowledged
 * write. Unpacking with protobuf-c would malloc per call on the hot path.
 */
#include <string.h>

#include "bench.h"

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* One field: its number, and either its varint value or its bytes. */
typedef struct wire_field {
	uint32_t number;
	uint64_t value;
	const uint8_t *data;
	size_t len;
} wire_field;

static int wire_next(const uint8_t **p, const uint8_t *end, wire_field *f)
{
	uint64_t tag;
	if (wire_varint(p, end, &tag) != 0)
		return -1;
	f->number = (uint32_t)(tag >> 3);
	f->data = NULL;
	f->len = 0;
	switch (tag & 7) {
	case 0:
		return wire_varint(p, end, &f->value);
	case 1:
		if (end - *p < 8)
			return -1;
		*p += 8;
		return 0;
	case 2:
		if (wire_varint(p, end, &f->value) != 0 || f->value > (uint64_t)(end - *p))
			return -1;
		f->data = *p;
		f->len = (size_t)f->value;
		*p += f->len;
		return 0;
	case 5:
		if (end - *p < 4)
			return -1;
		*p += 4;
		return 0;
	default:
		return -1;
	}
}

int bench_wire_reply(const uint8_t *buf, size_t len, bench_reply *out)
{
	memset(out, 0, sizeof(*out));
	const uint8_t *p = buf, *end = buf + len;
	wire_field f;
	while (p < end) {
		if (wire_next(&p, end, &f) != 0)
			return -1;
		if (f.number == 1 && f.data == NULL)
			out->code = (int)(int32_t)f.value;
		else if (f.number == 2 && f.data) {
			out->message = (const char *)f.data;
			out->message_len = f.len;
		} else if (f.number == 3 && f.data) {
			out->body = f.data;
			out->body_len = f.len;
		}
	}
	return 0;
}

int bench_wire_write_reply(const uint8_t *buf, size_t len, const char **id, size_t *id_len,
                           uint64_t *revision)
{
	const uint8_t *p = buf, *end = buf + len;
	wire_field f;
	*id = "";
	*id_len = 0;
	*revision = 0;
	while (p < end) {
		if (wire_next(&p, end, &f) != 0)
			return -1;
		if (f.number == 1 && f.data) {
			*id = (const char *)f.data;
			*id_len = f.len;
		} else if (f.number == 2 && f.data == NULL) {
			*revision = f.value;
		}
	}
	return 0;
}

int bench_wire_string(const uint8_t *buf, size_t len, uint32_t field, const char **out, size_t *out_len)
{
	const uint8_t *p = buf, *end = buf + len;
	wire_field f;
	*out = "";
	*out_len = 0;
	while (p < end) {
		if (wire_next(&p, end, &f) != 0)
			return -1;
		if (f.number == field && f.data) {
			*out = (const char *)f.data;
			*out_len = f.len;
			return 0;
		}
	}
	return -1;
}

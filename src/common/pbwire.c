/*
 * pbw_ — protobuf wire bytes filtered and spliced (see pbwire.h for why).
 */
#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "common/pbwire.h"

int pbw_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

size_t pbw_filter(const uint8_t *in, size_t len, uint64_t skip, uint8_t *out)
{
	const uint8_t *p = in, *end = in + len;
	size_t n = 0;
	while (p < end) {
		const uint8_t *start = p;
		uint64_t tag, v;
		if (pbw_varint(&p, end, &tag) != 0)
			return (size_t)-1;
		switch (tag & 7) {
		case PROTOBUF_C_WIRE_TYPE_VARINT:
			if (pbw_varint(&p, end, &v) != 0)
				return (size_t)-1;
			break;
		case PROTOBUF_C_WIRE_TYPE_64BIT:
			if ((size_t)(end - p) < 8)
				return (size_t)-1;
			p += 8;
			break;
		case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
			if (pbw_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
				return (size_t)-1;
			p += v;
			break;
		case PROTOBUF_C_WIRE_TYPE_32BIT:
			if ((size_t)(end - p) < 4)
				return (size_t)-1;
			p += 4;
			break;
		default: /* groups: not in proto3 */
			return (size_t)-1;
		}
		uint64_t number = tag >> 3;
		if (number < 64 && (skip >> number & 1))
			continue;
		memcpy(out + n, start, (size_t)(p - start));
		n += (size_t)(p - start);
	}
	return n;
}

static void pbw_add(ar_arena *a, ProtobufCMessage *m, uint32_t tag, const uint8_t *data, size_t len)
{
	/* an unknown field's bytes follow its tag: the length prefix is ours to write */
	uint8_t *buf = ar_alloc(a, len + 10);
	size_t n = 0;
	for (uint64_t v = len;; v >>= 7) {
		buf[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		if (v < 0x80)
			break;
	}
	memcpy(buf + n, data, len);
	/* the array grows by doubling: it has room unless its length is 0 or a power of two */
	size_t k = m->n_unknown_fields;
	if ((k & (k - 1)) == 0) {
		ProtobufCMessageUnknownField *grown = ar_alloc(a, (k ? 2 * k : 1) * sizeof(*grown));
		if (k > 0)
			memcpy(grown, m->unknown_fields, k * sizeof(*grown));
		m->unknown_fields = grown;
	}
	m->unknown_fields[k] = (ProtobufCMessageUnknownField){
	    .tag = tag, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, .len = n + len, .data = buf};
	m->n_unknown_fields = k + 1;
}

static const ProtobufCFieldDescriptor *pbw_field(const ProtobufCMessage *m, const char *field, bool repeated)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, field);
	assert(fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE);
	assert((fd->label == PROTOBUF_C_LABEL_REPEATED) == repeated);
	(void)repeated;
	return fd;
}

void pbw_splice(ar_arena *a, ProtobufCMessage *m, const char *field, const uint8_t *data, size_t len)
{
	pbw_add(a, m, pbw_field(m, field, false)->id, data, len);
}

void pbw_splice_item(ar_arena *a, ProtobufCMessage *m, const char *field, const uint8_t *data, size_t len)
{
	pbw_add(a, m, pbw_field(m, field, true)->id, data, len);
}

/*
 * val_wire_strings — NUL bytes inside protobuf strings, found in the wire
 * bytes.
 *
 * A protobuf string may hold a NUL byte; protobuf-c unpacks it into a
 * NUL-terminated char * and drops its length, so everything after the NUL
 * becomes invisible: "job7\0part-B" would be the request id "job7", and
 * "org:csto\0-shadow" the id org:csto. No field of annals' contract has a
 * use for NUL, so every string field holding one is refused, naming it —
 * found by walking the packed bytes with the message's descriptor, since
 * only they still carry the lengths. Called once per request, by dispatch
 * (and the JSON import refuses "\u0000" itself).
 */
#include <stdio.h>
#include <string.h>

#include "common/validate.h"

#define WIRE_MAX_DEPTH 64 /* deeper nesting is refused by unpack before we get here */

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
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

static int wire_walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                     const char *path, int depth, char *msg, size_t len)
{
	unsigned seen[64] = {0}; /* occurrences per field index, for names[2] */
	while (p < end) {
		uint64_t tag, n;
		if (wire_varint(&p, end, &tag) != 0)
			return 0; /* malformed: unpack has its own say */
		unsigned wt = (unsigned)(tag & 7);
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
		if (wt == 0) {
			if (wire_varint(&p, end, &n) != 0)
				return 0;
			continue;
		}
		if (wt == 1 || wt == 5) {
			size_t w = wt == 1 ? 8 : 4;
			if ((size_t)(end - p) < w)
				return 0;
			p += w;
			continue;
		}
		if (wt != 2 || wire_varint(&p, end, &n) != 0 || n > (uint64_t)(end - p))
			return 0;
		const uint8_t *at = p;
		p += n;
		if (f == NULL || (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE))
			continue;
		unsigned fi = (unsigned)(f - d->fields);
		char here[256];
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			snprintf(here, sizeof(here), "%s%s%s[%u]", path, path[0] ? "." : "", f->name,
			         fi < 64 ? seen[fi]++ : 0);
		else
			snprintf(here, sizeof(here), "%s%s%s", path, path[0] ? "." : "", f->name);
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const uint8_t *nul = memchr(at, 0, (size_t)n);
			if (nul != NULL) {
				snprintf(msg, len,
				         "%s: contains a NUL byte (at byte %zu); strings may not hold NUL",
				         here, (size_t)(nul - at));
				return -1;
			}
		} else if (depth < WIRE_MAX_DEPTH &&
		           wire_walk(f->descriptor, at, at + n, here, depth + 1, msg, len) != 0) {
			return -1;
		}
	}
	return 0;
}

int val_wire_strings(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t n, const char *path,
                     char *msg, size_t len)
{
	if (data == NULL || n == 0)
		return 0;
	return wire_walk(d, data, data + n, path ? path : "", 0, msg, len);
}

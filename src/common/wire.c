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

#include "common/pbwire.h"
#include "common/validate.h"

#define WIRE_MAX_DEPTH 64 /* deeper nesting is refused by unpack before we get here */

/* The field path is built only when a NUL is found (formatting it for
 * every field cost more than the walk itself): each level keeps its
 * field's name and index on the stack, linked to its parent. */
typedef struct wire_path {
	const struct wire_path *up;
	const char *name;
	int index; /* -1: not repeated */
} wire_path;

static size_t wire_path_format(const wire_path *p, char *out, size_t len)
{
	if (p == NULL || len == 0)
		return 0;
	size_t n = wire_path_format(p->up, out, len);
	int w = p->index >= 0 ? snprintf(out + n, len - n, "%s%s[%d]", n ? "." : "", p->name, p->index)
	                      : snprintf(out + n, len - n, "%s%s", n ? "." : "", p->name);
	n += w > 0 ? (size_t)w : 0;
	return n < len ? n : len - 1;
}

static int wire_walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                     const wire_path *path, int depth, char *msg, size_t len)
{
	unsigned seen[64] = {0}; /* occurrences per field index, for names[2] */
	while (p < end) {
		uint64_t tag, n;
		if (pbw_varint(&p, end, &tag) != 0)
			return 0; /* malformed: unpack has its own say */
		unsigned wt = (unsigned)(tag & 7);
		if (wt == 0) {
			if (pbw_varint(&p, end, &n) != 0)
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
		if (wt != 2 || pbw_varint(&p, end, &n) != 0 || n > (uint64_t)(end - p))
			return 0;
		const uint8_t *at = p;
		p += n;
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
		if (f == NULL || (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE))
			continue;
		unsigned fi = (unsigned)(f - d->fields);
		wire_path here = {path, f->name, -1};
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			here.index = fi < 64 ? (int)seen[fi]++ : 0;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const uint8_t *nul = memchr(at, 0, (size_t)n);
			if (nul != NULL) {
				char where[256];
				wire_path_format(&here, where, sizeof(where));
				snprintf(msg, len,
				         "%s: contains a NUL byte (at byte %zu); strings may not hold NUL",
				         where, (size_t)(nul - at));
				return -1;
			}
		} else if (depth < WIRE_MAX_DEPTH &&
		           wire_walk(f->descriptor, at, at + n, &here, depth + 1, msg, len) != 0) {
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
	wire_path root = {NULL, path, -1};
	return wire_walk(d, data, data + n, path && path[0] ? &root : NULL, 0, msg, len);
}

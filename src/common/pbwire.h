/*
 * pbw_ — reading and writing protobuf wire bytes where protobuf-c's whole-
 * message calls do more than a query needs.
 *
 * Two uses, both for replies that carry stored records (Members, Holder,
 * Relations, Timeline):
 *  - pbw_filter copies a packed message without some of its fields, so
 *    that unpacking it decodes only what a query reads (a relation's
 *    evidence list is most of its bytes and no verdict looks at it);
 *  - pbw_splice puts a stored record's own packed bytes into a reply
 *    message as the bytes of one of its message fields, so that the reply
 *    is packed without unpacking and packing that record again.
 */
#ifndef ANNALS_COMMON_PBWIRE_H
#define ANNALS_COMMON_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "common/arena.h"

/* Reads a varint at *p (before end) into v and moves *p past it; -1 when
 * it runs past end or over 10 bytes. */
int pbw_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* Copies the fields of the packed message in[0..len) whose numbers are not
 * in skip (bit n set: drop field n, n < 64) to out, which holds len bytes;
 * returns the bytes written, or (size_t)-1 when in is not well-formed wire
 * bytes (the caller then unpacks the whole message and gets its error). */
size_t pbw_filter(const uint8_t *in, size_t len, uint64_t skip, uint8_t *out);

/* Makes `field` (a message field of m's type, by name) be packed as the
 * message bytes data[0..len): it is added to m's unknown fields, which
 * protobuf-c packs verbatim after the known ones, and the field itself
 * must stay NULL. A reader sees the same message as if it had been set
 * (the order of fields on the wire carries no meaning). The bytes must
 * outlive the packing: for a stored record, the read snapshot does. */
void pbw_splice(ar_arena *a, ProtobufCMessage *m, const char *field, const uint8_t *data, size_t len);
/* (Both keep m's unknown-field array themselves, growing it by doubling:
 * m must be a message being built, whose unknown fields, if any, all came
 * from pbw_splice or pbw_splice_item, never one unpacked.) */

/* The same for one more item of a repeated message field: items spliced
 * in go on the wire after the items in the field's array, in the order
 * spliced, so a reply splices all of a field's items or none. */
void pbw_splice_item(ar_arena *a, ProtobufCMessage *m, const char *field, const uint8_t *data, size_t len);

#endif

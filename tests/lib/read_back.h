/*
 * read_back — a query's reply as a client reads it, for unit tests that
 * call the query functions directly: packed, unpacked again, and the
 * unpacked message copied over the reply. The served reply may carry
 * stored records spliced in as bytes (common/pbwire.h), which only a
 * reader places in their fields.
 */
#ifndef ANNALS_TESTS_LIB_READ_BACK_H
#define ANNALS_TESTS_LIB_READ_BACK_H

#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "annals/annals.h"
#include "check.h"
#include "common/arena.h"

/* rc, unchanged; on ANNALS_OK, out holds what a reader of its bytes sees. */
static inline int read_back(int rc, ProtobufCMessage *out, ar_arena *a)
{
	if (rc != ANNALS_OK)
		return rc;
	size_t n = protobuf_c_message_get_packed_size(out);
	uint8_t *buf = ar_alloc(a, n + 1);
	protobuf_c_message_pack(out, buf);
	ProtobufCMessage *back = protobuf_c_message_unpack(out->descriptor, ar_pbc(a), n, buf);
	CHECK(back != NULL);
	if (back != NULL)
		memcpy(out, back, out->descriptor->sizeof_message);
	return rc;
}

#endif

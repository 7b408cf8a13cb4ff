/*
 * fuzz_json_import — a data set file as `annals import` reads it:
 *
 *   bytes -> pbjson_parse as annals.v1.Dataset -> val_dataset (every record)
 *
 * Properties beyond "no crash, no sanitizer report":
 *   - a failed parse says why; a failed validation says why, in UTF-8;
 *   - a data set val_dataset accepts has only UTF-8 strings and known enum
 *     values (the contract in common/validate.h);
 *   - whatever parses survives JSON -> message -> JSON -> message unchanged
 *     (compared as packed protobuf), with and without PBJSON_EMIT_DEFAULTS.
 * ANNALS_FUZZ_LAX=1 turns the UTF-8-of-messages check off (to look past a
 * known finding).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/arena.h"
#include "common/pbjson.h"
#include "common/validate.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fz_lax;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *lax = getenv("ANNALS_FUZZ_LAX");
	fz_lax = lax && *lax && strcmp(lax, "0") != 0;
	return 0;
}

static uint8_t *fz_pack(const ProtobufCMessage *m, size_t *n)
{
	*n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(*n ? *n : 1);
	FZ_ASSERT(buf != NULL, "out of memory");
	protobuf_c_message_pack(m, buf);
	return buf;
}

static void fz_roundtrip(const ProtobufCMessage *m, int flags, ar_arena *a)
{
	char *text = pbjson_dumps(m, flags | PBJSON_COMPACT);
	FZ_ASSERT(text != NULL, "pbjson_dumps returned NULL");
	char err[512] = "";
	ProtobufCMessage *back = pbjson_parse(m->descriptor, text, strlen(text), a, err, sizeof(err));
	FZ_ASSERT(back != NULL, "our own JSON (flags %d) does not parse back: %s\n  %.2000s", flags, err,
	          text);
	size_t n1, n2;
	uint8_t *p1 = fz_pack(m, &n1), *p2 = fz_pack(back, &n2);
	FZ_ASSERT(n1 == n2 && memcmp(p1, p2, n1) == 0,
	          "JSON round trip (flags %d) changed the message (%zu vs %zu bytes):\n  %.2000s", flags, n1,
	          n2, text);
	free(p1);
	free(p2);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ar_arena a;
	ar_init(&a);
	char err[512] = "";
	ProtobufCMessage *m =
	    pbjson_parse(&annals__v1__dataset__descriptor, (const char *)data, size, &a, err, sizeof(err));
	if (m == NULL) {
		/* Not checked for UTF-8: jansson's syntax errors quote the input
		 * ("near '...'") cut at a byte count, and this text only ever goes
		 * to a terminal, never into a Reply. */
		FZ_ASSERT(err[0] != '\0', "pbjson_parse failed without saying why");
		ar_free(&a);
		return 0;
	}
	const Annals__V1__Dataset *ds = (const Annals__V1__Dataset *)m;
	char msg[512] = "";
	if (val_dataset(ds, msg, sizeof(msg)) == 0) {
		const char *bad = NULL;
		FZ_ASSERT(
		    fz_message_ok(m, true, &bad),
		    "val_dataset accepted a data set whose field %s is not UTF-8 or not a known enum value",
		    bad ? bad : "?");
	} else {
		FZ_ASSERT(msg[0] != '\0', "val_dataset failed without saying why");
		FZ_ASSERT(fz_lax || fz_utf8(msg), "val_dataset's message is not UTF-8: %s", msg);
	}
	fz_roundtrip(m, 0, &a);
	fz_roundtrip(m, PBJSON_EMIT_DEFAULTS, &a);
	ar_free(&a);
	return 0;
}

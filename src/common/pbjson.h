/*
 * pbjson_ — protobuf-c messages to and from JSON, for any message type.
 *
 * The CLI, the seed data set and the HTTP-ish tooling all speak JSON while
 * the wire speaks protobuf; writing a converter per message would drift from
 * the .proto files. This one walks ProtobufCMessageDescriptor and
 * ProtobufCFieldDescriptor only, so a new field in a .proto needs no code.
 *
 * It follows the proto3 JSON mapping, with these choices:
 *   - output keys are the .proto names (snake_case); input accepts those and
 *     the lowerCamelCase JSON names, but not both for one field;
 *   - enums are written as value names ("ENTITY_TYPE_PERSON"), read as a
 *     name or a number; a value with no name is written as its number;
 *   - 64-bit integers are written as strings (JavaScript loses precision
 *     above 2^53), read as strings or numbers; 32-bit integers are numbers,
 *     and numeric strings are accepted for them too;
 *   - bytes are standard base64 with padding; input also accepts the
 *     URL-safe alphabet and missing padding;
 *   - fields equal to their proto3 default are left out unless
 *     PBJSON_EMIT_DEFAULTS; a set sub-message is always written (as {} when
 *     empty), an absent one never;
 *   - oneofs write only the member that is set; two members on input, an
 *     unknown key, a wrong JSON type, an out-of-range integer or invalid
 *     UTF-8 are errors; JSON null for a field means "absent".
 */
#ifndef ANNALS_COMMON_PBJSON_H
#define ANNALS_COMMON_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "common/arena.h"

enum {
	PBJSON_EMIT_DEFAULTS = 1, /* also write scalars, enums and strings at their default, and empty arrays */
	PBJSON_PRETTY = 2,        /* pbjson_dumps: indent by 2, one member per line (for people) */
	PBJSON_COMPACT = 4,       /* pbjson_dumps: no spaces at all (for machines and tests) */
};

/* The JSON form of m; a new reference, NULL only when out of memory.
 * Strings that are not valid UTF-8 (protobuf-c does not check on unpack)
 * are written with U+FFFD in place of each bad byte, so the output is
 * always valid JSON. */
json_t *pbjson_from_message(const ProtobufCMessage *m, int flags);

/* pbjson_from_message() as text; malloc'ed (jansson's default allocator),
 * the caller free()s it. NULL only when out of memory. */
char *pbjson_dumps(const ProtobufCMessage *m, int flags);

/* Builds a message of type d from j, allocating everything from arena a (so
 * it is freed with the arena, never with protobuf_c_message_free_unpacked).
 * Every message is initialised with its descriptor's defaults, so the result
 * packs with protobuf_c_message_pack like any other.
 *
 * On error returns NULL and writes into err (if errlen > 0) a path and a
 * reason, e.g. "events[3].when.month: expected an integer, got string" or
 * "entities[0].type: unknown enum value \"PERSONN\"". Keys in the path are
 * spelled as the input spelled them (snake_case or camelCase), so the
 * sender can find the spot. `path` is the prefix for messages ("" or NULL
 * for none): with "entity", the first example reads "entity.events[3]...".
 * What was allocated before the error stays in the arena until it is reset. */
ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *j, ar_arena *a,
                                    const char *path, char *err, size_t errlen);

/* Parses text and converts it as pbjson_to_message() does. JSON syntax
 * errors (and duplicate keys) are reported as "line:column: reason". */
ProtobufCMessage *pbjson_parse(const ProtobufCMessageDescriptor *d, const char *text, size_t len,
                               ar_arena *a, char *err, size_t errlen);

#endif

/*
 * val_ — pure validation of records as clients send them.
 *
 * Used by the store (st_validate) before a write and by the CLI importer
 * before it sends anything, so both report the same words. Every check
 * returns 0 when the value is acceptable, or -1 with a message that names
 * the offending field by its full path, starting with the `path` the
 * caller passes in:
 *
 *   val_event(e, "events[3]", msg, sizeof msg)
 *     -> "events[3].when.month: 13 is not a month"
 *
 * Rules (the contract; docs and the importer rely on them):
 *   - Ids match [A-Za-z0-9:._-]{1,200}. The 200-byte cap keeps every LMDB
 *     index key (id + separator + id + ...) under LMDB's 511-byte limit.
 *   - Required: every record's id; Entity.type; Event.type; Relation.subject,
 *     predicate and object; Name.text; Attribute.key; Participant.entity;
 *     EventLink.event. Predicates and event types are at most 100 bytes of
 *     [A-Za-z0-9:._-].
 *   - Fields that refer to other records (Attribute.ref, Evidence.document,
 *     Evidence.attributed_to, Bound.event, Event.place, Document.publisher,
 *     Relation.subject/object, ...) must be well-formed ids when set. Whether
 *     the record they name exists is NOT checked: imports arrive in any order.
 *   - Every string is valid UTF-8 (protobuf-c does not check); every enum
 *     value is one the proto defines.
 *   - Dates pass date_validate(); an anchor is "" or "doc:<id>" or
 *     "event:<id>". A bound of an interval other than UNSTATED needs a date.
 *   - Sentence numbers start at 1; spans have start <= end.
 */
#ifndef ANNALS_COMMON_VALIDATE_H
#define ANNALS_COMMON_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "annals/v1/model.pb-c.h"

/* Any repeated field of any request holds at most this many items (names
 * of an entity, ops of a Batch, ...): beyond it, INVALID_ARGUMENT. */
#define VAL_MAX_REPEATED 10000

#define VAL_ID_MAX   200 /* bytes in an id */
/* bytes in a write's request_id; the one limit, checked by st_validate
 * (and again, for callers that skip it, by st_apply) */
#define VAL_REQUEST_ID_MAX 128
#define VAL_STR_(x) #x
#define VAL_STR(x)  VAL_STR_(x) /* a limit in a string literal */
#define VAL_WORD_MAX 100 /* bytes in a predicate or event type */

/* Is s a well-formed id (without building a message)? */
bool val_is_id(const char *s);

int val_id(const char *id, const char *path, char *msg, size_t len);  /* required */
int val_ref(const char *id, const char *path, char *msg, size_t len); /* "" allowed */
int val_utf8(const char *s, const char *path, char *msg, size_t len);

/* wire.c: no string field in the packed bytes of a message of type d
 * holds a NUL byte (protobuf-c's unpacked strings cannot show one); -1 and
 * msg naming the field ("envelope.request_id: contains a NUL byte ..."). */
int val_wire_strings(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t n, const char *path,
                     char *msg, size_t len);

/* Every string field of m (recursively) is UTF-8, every enum value known. */
int val_fields(const ProtobufCMessage *m, const char *path, char *msg, size_t len);

int val_date(const Annals__V1__Date *d, const char *path, char *msg, size_t len);
int val_interval(const Annals__V1__Interval *iv, const char *path, char *msg, size_t len);
int val_evidence(const Annals__V1__Evidence *ev, const char *path, char *msg, size_t len);

int val_entity(const Annals__V1__Entity *e, const char *path, char *msg, size_t len);
int val_event(const Annals__V1__Event *e, const char *path, char *msg, size_t len);
int val_relation(const Annals__V1__Relation *r, const char *path, char *msg, size_t len);
int val_document(const Annals__V1__Document *d, const char *path, char *msg, size_t len);

/* A whole Dataset, with paths "entities[3].names[0].text". */
int val_dataset(const Annals__V1__Dataset *ds, char *msg, size_t len);

#endif

/*
 * st_ read interface — what a reader of the store may use: snapshots,
 * record gets (zero-copy or unpacked into an arena), index scans and the
 * store's statistics. The knowledge engine (src/knowledge) includes only
 * this; writes, options and backups are in store.h.
 */
#ifndef ANNALS_STORE_READ_H
#define ANNALS_STORE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/v1/model.pb-c.h"
#include "common/arena.h"

/* Same numbers as annals.v1.RecordKind. */
typedef enum st_kind {
	ST_ENTITY = 1,
	ST_EVENT = 2,
	ST_RELATION = 3,
	ST_DOCUMENT = 4,
} st_kind;

typedef struct st_err {
	int code; /* annals_status */
	char msg[480];
} st_err;

/* Sets err (code and a printf message) and returns code. */
int st_errf(st_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct st_store st_store;
typedef struct st_txn st_txn;

/* ---- read snapshots ------------------------------------------------------ */
st_txn *st_txn_new(st_store *s); /* a handle, not yet reading; NULL on out-of-memory */
/* Takes a fresh snapshot (the MDB_txn is created once, then renewed).
 * ANNALS_RESOURCE_EXHAUSTED when every reader slot is taken. */
int st_txn_begin(st_txn *t);
void st_txn_end(st_txn *t);
/* Scans in this snapshot stop with ANNALS_DEADLINE_EXCEEDED once
 * CLOCK_MONOTONIC passes deadline_ms (0: never); looked at every 128
 * entries, so a query past its caller's deadline stops within ~128 index
 * entries of work. Cleared by the next st_txn_begin. */
void st_txn_set_deadline(st_txn *t, uint64_t deadline_ms);
/* Whether queries in this snapshot skip the derived indexes and scan the
 * records the straightforward way (the publication bounds from
 * st_scan_citing, not st_pub_candidates; st_entity_ref_head as st_entity_ref): the reference the
 * tests compare every answer with.
 * Kept across st_txn_begin; off by default. */
void st_txn_set_full_scans(st_txn *t, bool on);
bool st_txn_full_scans(st_txn *t);
bool st_txn_expired(st_txn *t);      /* release it (reset); pointers from st_get die */
void st_txn_free(st_txn *t);         /* ends it first if needed */
uint64_t st_txn_revision(st_txn *t); /* store revision of the snapshot */
/* LMDB's id of the snapshot's transaction: it changes with every commit, so
 * two snapshots with the same id see the same data (the reply cache's key). */
uint64_t st_txn_id(st_txn *t);

/* What a query read, for the reply cache: a commit retires only the
 * answers that read a key it wrote (tokens and why it is safe: deps.c). */
#define ST_DEPS_MAX 256 /* past this an answer depends on whole tables */
#define ST_DEPS_SET 512 /* open addressing, twice ST_DEPS_MAX */
typedef struct st_deps {
	uint64_t tok[ST_DEPS_MAX];
	uint64_t set[ST_DEPS_SET];
	uint16_t pos[ST_DEPS_MAX]; /* tok[i]'s slot in set, to clear it */
	size_t n;
	bool wide;    /* overflowed: depend on every table read (dbs) */
	bool never;   /* read a table deps.c does not mark: not kept across commits */
	uint64_t dbs; /* bit per table read */
} st_deps;
/* The store keeps the marks of every commit from now on (the reply cache
 * calls it once when it is on); ANNALS_RESOURCE_EXHAUSTED without memory. */
int st_deps_enable(st_store *s);
/* Records every read of the snapshot into d (emptied first) until
 * st_txn_end or st_txn_track(t, NULL). */
void st_txn_track(st_txn *t, st_deps *d);
/* d's tokens (valid until d is tracked again). */
size_t st_deps_tokens(st_deps *d, const uint64_t **tok);
/* Whether an answer with these tokens, read at snapshot `since`, is still
 * the answer at `snapshot` (an st_txn_id no older than since). */
bool st_deps_unchanged(st_store *s, const uint64_t *tok, size_t n, uint64_t since, uint64_t snapshot);

/* The stored bytes of a record (a packed Entity/Event/Relation/Document),
 * zero-copy, valid until st_txn_end. ANNALS_OK or ANNALS_NOT_FOUND. */
int st_get(st_txn *t, st_kind k, const char *id, const uint8_t **data, size_t *len);
/* The same, unpacked into the arena; NULL when absent. */
ProtobufCMessage *st_load(st_txn *t, st_kind k, const char *id, ar_arena *a);
Annals__V1__Entity *st_load_entity(st_txn *t, const char *id, ar_arena *a);
/* The entity's display name (its current official name, else its first
 * name, else its id) read from the stored bytes without unpacking them;
 * NULL when there is no such entity. */
const char *st_entity_label(st_txn *t, const char *id, ar_arena *a);
/* Only the id and type of an entity (names, attributes, evidence left
 * empty), read from the stored bytes without unpacking them; NULL when
 * there is no such entity. */
Annals__V1__Entity *st_entity_head(st_txn *t, const char *id, ar_arena *a);
/* The same from a packed Entity's bytes (id: the answer when it has no name). */
const char *st_label_of(const uint8_t *data, size_t len, const char *id, ar_arena *a);
Annals__V1__Event *st_load_event(st_txn *t, const char *id, ar_arena *a);
Annals__V1__Relation *st_load_relation(st_txn *t, const char *id, ar_arena *a);
Annals__V1__Document *st_load_document(st_txn *t, const char *id, ar_arena *a);
/* Only the id and published date of a document, read from the stored
 * bytes (the sentence table left unread); NULL when there is none. */
Annals__V1__Document *st_document_head(st_txn *t, const char *id, ar_arena *a);
/* An event's date alone (Event.when), or NULL: what an anchor "event:X" asks. */
Annals__V1__Date *st_event_when(st_txn *t, const char *id, ar_arena *a);
/* Which kind holds this id (ids are unique across kinds); 0 when none. */
st_kind st_kind_of(st_txn *t, const char *id);

/* The date a relative date's anchor stands for ("doc:X": the document's
 * publication date, "event:X": the event's date), as stored; NULL when
 * unknown. The one rule of what an anchor names (see resolve.c). */
const Annals__V1__Date *st_anchor_date(st_txn *t, const char *anchor, ar_arena *a);

/* Entity by id, or by a unique name (case-insensitive). On ambiguity:
 * INVALID_ARGUMENT "<field>: 'CST' is ambiguous: org:csto (...), treaty:cst (...)";
 * unknown: NOT_FOUND. `field` names the request field for messages. */
int st_entity_ref(st_txn *t, const char *ref, const char *field, ar_arena *a, Annals__V1__Entity **out,
                  st_err *err);
/* The same, but by id only the id and type are filled in (st_entity_head);
 * for a question that needs no more of the entity it names. */
int st_entity_ref_head(st_txn *t, const char *ref, const char *field, ar_arena *a, Annals__V1__Entity **out,
                       st_err *err);

/* ---- scans: the visitor returns 0 to go on, non-zero to stop ---------------- */
typedef int (*st_visit_fn)(void *ctx, const char *id, const uint8_t *data, size_t len);

/* Every record of a kind in id order, starting after `after` ("" = first). */
int st_scan_kind(st_txn *t, st_kind k, const char *after, st_visit_fn fn, void *ctx);
/* Entities of one type in id order. */
int st_scan_entities_by_type(st_txn *t, int type, const char *after, st_visit_fn fn, void *ctx);
/* Entities with a name equal to (or, with prefix, starting with) `name`,
 * case-insensitively (ASCII and UTF-8 Latin/Cyrillic lowercase); each entity
 * once, in name order. */
int st_scan_names(st_txn *t, const char *name, bool prefix, st_visit_fn fn, void *ctx);
/* Relations whose subject (or, with inverse, object) is `entity`,
 * optionally only one predicate (NULL or "" for all). */
int st_scan_relations(st_txn *t, const char *entity, const char *predicate, bool inverse, st_visit_fn fn,
                      void *ctx);
/* Events in time order (by Date.earliest; undated ones last), optionally only
 * those with `entity` as participant or place (NULL for all), with
 * earliest in [from, to] (DATE_NEG_INF/DATE_POS_INF for open; undated
 * events count as DATE_POS_INF, so only an open `to` includes them),
 * resuming after the opaque cursor (NULL or "" to start; a malformed one is
 * INVALID_ARGUMENT). When cursor_out is non-NULL (ST_CURSOR_MAX bytes) it
 * holds, during each visit, the cursor of the event being visited, so a
 * visitor can keep the cursor of the last event it accepted. */
#define ST_CURSOR_MAX 420
int st_scan_events(st_txn *t, const char *entity, int32_t from, int32_t to, const char *cursor,
                   char *cursor_out, st_visit_fn fn, void *ctx);
/* Records citing a document (sentence 0: any sentence). The visitor gets the
 * record's id and bytes; st_kind_of tells the kind. Each record once. */
int st_scan_citing(st_txn *t, const char *document, uint32_t sentence, st_visit_fn fn, void *ctx);
/* The records citing a document that can decide its derived publication
 * bounds (rule publication-follows-reported-past, common/pubrule.h), read
 * from ix_pubfloor without unpacking them: those whose absolute offers
 * reach the latest day of any (absolute, lo), and those with offers dated
 * relative to an anchor (dates: those Dates, to resolve). In
 * st_scan_citing's order, each once; in the arena. */
typedef struct st_pub_cand {
	const char *id;
	uint32_t sentence; /* where st_scan_citing meets it */
	bool event;        /* an Event: its offer is an event's */
	bool absolute;
	int32_t lo;
	Annals__V1__Date **dates;
	size_t n_dates;
} st_pub_cand;
int st_pub_candidates(st_txn *t, const char *document, ar_arena *a, st_pub_cand ***out, size_t *n);
/* Change sets with revision > since, in order (data is a packed ChangeSet). */
typedef int (*st_change_fn)(void *ctx, uint64_t revision, const uint8_t *data, size_t len);
int st_scan_changes(st_txn *t, uint64_t since, st_change_fn fn, void *ctx);
uint64_t st_oldest_change(st_txn *t); /* 0 when the log is empty */

typedef struct st_stats {
	uint64_t revision;
	uint64_t entities, events, relations, documents;
	uint64_t map_size, map_used;
	uint64_t dedup_entries;
	uint64_t oldest_change;
} st_stats;
int st_stats_get(st_txn *t, st_stats *out);

#endif

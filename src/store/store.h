/*
 * st_ — the LMDB store: environment, tables, indexes, writes, change log.
 *
 * No transport here: the server hands in unpacked requests and gets back
 * packed replies. One MDB_env per process (MDB_NOTLS). Records are stored
 * as packed protobuf (Entity, Event, Relation, Document) with the revision
 * that last changed them; indexes are separate DBIs with fixed-width
 * big-endian parts so byte order is time order.
 *
 * Reads: each worker owns an st_txn (a read snapshot) and renews it per
 * call; st_get() returns the stored bytes without copying.
 * Writes: the server's writer thread collects queued writes and passes them
 * to st_apply(), which applies them so that one failing write does not undo
 * the others (see st_apply), commits once (one fsync for the
 * group) and fills in each write's answer. Every logical write (a Put, a
 * Delete, a whole Batch: all its ops or none) that changes something takes
 * the next store revision and records a ChangeSet in the change log; every
 * answer, success or failure, is recorded under its request_id (so a resend
 * is answered from there and not applied twice); all in the same commit.
 *
 * Rules the store enforces (see also common/validate.h):
 *   - Ids match [A-Za-z0-9:._-]{1,200} and are unique across the four kinds:
 *     putting an event with the id of an entity is ALREADY_EXISTS.
 *   - References between records (a relation's subject, an event's
 *     participants, evidence documents, anchors) are NOT required to exist:
 *     data sets are imported in any order. Queries treat a missing target
 *     as unknown.
 *   - A put that would store exactly the bytes already stored changes
 *     nothing and takes no revision (WriteReply.unchanged), so importing the
 *     same data twice is a no-op.
 *   - Every Date in a record is resolved (date_resolve) when written;
 *     relative dates look up their anchor ("doc:<id>": Document.published,
 *     "event:<id>": Event.when) in the same transaction. Writing a Document
 *     or Event re-resolves the records anchored on it (and, a few levels
 *     deep, the ones anchored on those) in the same revision.
 *   - Deletes leave a tombstone in the change log (Change.deleted, no record).
 *
 * Map growth: on MDB_MAP_FULL st_apply aborts the group, doubles the map
 * and runs the whole group again. mdb_env_set_mapsize needs every txn of
 * the process closed, so snapshots pass a gate (st_txn_begin/st_txn_end;
 * see store_int.h). Hence: never begin a second st_txn on a thread that
 * already holds one, and never hold one across a blocking wait.
 */
#ifndef ANNALS_STORE_STORE_H
#define ANNALS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/v1/rpc.pb-c.h"
#include "annals/v1/service.pb-c.h"
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

typedef struct st_options {
	uint64_t map_size;       /* initial map size in bytes; 0: 64 MiB. Grows by itself. */
	unsigned max_readers;    /* 0: 1024 */
	uint64_t dedup_keep;     /* request ids remembered; 0: 100000 */
	uint64_t dedup_age_ms;   /* and for how long; 0: 24 h */
	uint64_t changes_keep;   /* change sets retained; 0: 1000000 */
	uint64_t changes_age_ms; /* 0: no age limit */
	unsigned max_batch_ops;  /* 0 (and anything above): VAL_MAX_REPEATED, 10000 */
	bool no_sync;            /* tests of non-durable paths only; never in production */
	/* Tests only: the clock for committed_ms and expiry; NULL: wall clock. */
	int64_t (*clock_ms)(void *clock_ctx);
	void *clock_ctx;
} st_options;

typedef struct st_store st_store;
typedef struct st_txn st_txn;

/* Opens (creating if needed) the directory and environment in dir; clears
 * stale readers; keeps a map that grew in an earlier run. */
int st_open(const char *dir, const st_options *opt, st_store **out, st_err *err);
void st_close(st_store *s);

/* ---- read snapshots ------------------------------------------------------ */
st_txn *st_txn_new(st_store *s); /* a handle, not yet reading; NULL on out-of-memory */
/* Takes a fresh snapshot (the MDB_txn is created once, then renewed).
 * ANNALS_RESOURCE_EXHAUSTED when every reader slot is taken. */
int st_txn_begin(st_txn *t);
void st_txn_end(st_txn *t);          /* release it (reset); pointers from st_get die */
void st_txn_free(st_txn *t);         /* ends it first if needed */
uint64_t st_txn_revision(st_txn *t); /* store revision of the snapshot */
/* LMDB's id of the snapshot's transaction: it changes with every commit, so
 * two snapshots with the same id see the same data (the reply cache's key). */
uint64_t st_txn_id(st_txn *t);

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
/* The same from a packed Entity's bytes (id: the answer when it has no name). */
const char *st_label_of(const uint8_t *data, size_t len, const char *id, ar_arena *a);
Annals__V1__Event *st_load_event(st_txn *t, const char *id, ar_arena *a);
Annals__V1__Relation *st_load_relation(st_txn *t, const char *id, ar_arena *a);
Annals__V1__Document *st_load_document(st_txn *t, const char *id, ar_arena *a);
/* Which kind holds this id (ids are unique across kinds); 0 when none. */
st_kind st_kind_of(st_txn *t, const char *id);

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

/* ---- writes -------------------------------------------------------------- */
typedef enum st_op {
	ST_PUT = 1,    /* req: Put{Entity,Event,Relation,Document}Request, kind says which */
	ST_DELETE = 2, /* req: DeleteRequest, kind says which */
	ST_BATCH = 3,  /* req: BatchRequest */
} st_op;

typedef struct st_write {
	/* in */
	const ProtobufCMessage *req;
	const char *request_id; /* "" or NULL: not deduplicated (internal loads only) */
	st_op op;
	st_kind kind;
	bool validated; /* st_validate passed on this request: st_apply does not check it again */
	/* out (st_apply overwrites them all; it never frees what it finds) */
	uint8_t *reply; /* packed WriteReply / BatchReply, malloc'ed; caller frees */
	size_t reply_len;
	uint64_t revision; /* revision this write took, 0 when it wrote nothing */
	int code;          /* annals_status */
	bool replayed;     /* answered from the request-id log, not applied again */
	char msg[480];
} st_write;

/* Checks a write without touching the store: ids, required fields, dates,
 * UTF-8, batch size (limits->max_batch_ops; limits NULL: the defaults),
 * request_id length. Returns ANNALS_OK, or ANNALS_INVALID_ARGUMENT with the
 * field path in err->msg ("entity.names[2].valid.start.date.month: 13 is not
 * a month"; in a Batch "ops[3].put_event.id: required"). */
int st_validate(const st_write *w, const st_options *limits, st_err *err);

/* Applies n writes in one LMDB transaction and commits once. Each write's
 * code/msg/reply are set. Returns ANNALS_OK when the commit succeeded (even
 * if single writes failed), else the commit's error (then every write
 * carries it). Only the writer thread calls this.
 * A failing write is undone alone: a Batch runs in a nested txn; a single
 * Put or Delete runs in the group's txn and refuses before its first change,
 * and one that fails after it makes the whole group run again nested. The
 * record checks of st_validate run again here (the store trusts no caller
 * that did not set validated),
 * but not the Batch size limit: that is admission policy for st_validate,
 * which lets the built-in data set load as one Batch. A known request_id
 * is answered from the request log (replayed = true) and applies nothing;
 * the answers of successful and failed writes are both remembered, those
 * of commit failures and internal errors are not (a resend may succeed). */
int st_apply(st_store *s, st_write *w, size_t n);

/* A hot, compacted copy into dir (an absolute path, created if missing,
 * without a data.mdb in it). *revision: the store revision when the copy
 * began (the copy holds at least that); *bytes: its size. */
int st_backup(st_store *s, const char *dir, uint64_t *revision, uint64_t *bytes, st_err *err);

/* The store revision now (a cheap read). */
uint64_t st_revision(st_store *s);

const st_options *st_limits(st_store *s);

#endif

/*
 * st_ — the LMDB store: environment, tables, indexes, writes, change log.
 *
 * No transport here: the server hands in unpacked requests and gets back
 * outcomes in the store's terms (st_result); it packs no reply message and
 * knows no method. The read interface alone is store/read.h.
 * One MDB_env per process (MDB_NOTLS). Records are stored as packed
 * protobuf (Entity, Event, Relation, Document) with the revision that last
 * changed them; indexes are separate DBIs with fixed-width big-endian parts
 * so byte order is time order.
 *
 * Reads: each worker owns an st_txn (a read snapshot) and renews it per
 * call; st_get() returns the stored bytes without copying.
 * Writes: the server's writer thread collects queued writes and passes them
 * to st_apply(), which applies them so that one failing write does not undo
 * the others (see st_apply), commits once (one fsync for the
 * group) and fills in each write's outcome. Every logical write (a Put, a
 * Delete, a whole Batch: all its ops or none) that changes something takes
 * the next store revision and records a ChangeSet in the change log; every
 * answer, success or failure, is recorded under its request_id (so a resend
 * is answered from there and not applied twice); all in the same commit.
 *
 * Rules the store enforces (see also common/validate.h):
 *   - Ids match [a-z0-9:._-]{1,200} (lowercase: one grammar,
 *     common/validate.c) and are unique across the four kinds: putting an
 *     event with the id of an entity is ALREADY_EXISTS.
 *   - References between records (every field of store/refs_fields.c: a
 *     relation's subject and object, an event's participants and place,
 *     evidence documents and attributed_to, anchors, ...) must name a
 *     record of the kind they want, judged by the state the whole logical
 *     write leaves (a Batch may create a record after the ones naming it,
 *     or delete referrers with what they name): a put naming nothing is
 *     INVALID_ARGUMENT ("ops[3].put_relation.subject: no entity \"x\""),
 *     a delete leaving a referrer is FAILED_PRECONDITION naming it.
 *     ix_refs finds the referrers; stores written before hold no such
 *     guarantee: CheckReferences lists what dangles.
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
#include "store/read.h"

typedef struct st_options {
	uint64_t map_size;       /* initial map size in bytes; 0: 64 MiB. Grows by itself. */
	unsigned max_readers;    /* 0: 1024 */
	uint64_t dedup_keep;     /* request ids remembered; 0: 100000 */
	uint64_t dedup_age_ms;   /* and for how long; 0: 24 h */
	uint64_t changes_keep;   /* change sets retained; 0: 1000000 */
	uint64_t changes_age_ms; /* 0: no age limit */
	unsigned max_batch_ops;  /* 0 (and anything above): VAL_MAX_REPEATED, 10000 */
	bool no_sync;            /* tests of non-durable paths only; never in production */
	/* How a commit is made durable before its write is answered (wal.h):
	 * false (the default) appends the group to a write-ahead log and syncs
	 * that one file, LMDB syncing only at checkpoints; true lets LMDB sync
	 * its pages and meta page on every commit (annalsd --sync lmdb). */
	bool lmdb_sync;
	unsigned checkpoint_ms; /* how often the log is checkpointed; 0: 1000 */
	/* Cluster mode: this store is one replica of a log. Every outcome must
	 * then follow from the log alone, so request ids are forgotten by the
	 * log's time only (dedup_age_ms, judged at lookup from the entries'
	 * log_time_ms), never by count: how many a node prunes per commit
	 * depends on how it grouped the entries, which differs between nodes. */
	bool replicated;
	/* Tests only: the clock for committed_ms and expiry; NULL: wall clock. */
	int64_t (*clock_ms)(void *clock_ctx);
	void *clock_ctx;
} st_options;

/* Opens (creating if needed) the directory and environment in dir; clears
 * stale readers; keeps a map that grew in an earlier run. */
int st_open(const char *dir, const st_options *opt, st_store **out, st_err *err);
void st_close(st_store *s);

/* ---- writes -------------------------------------------------------------- */
typedef enum st_op {
	ST_PUT = 1,    /* req: Put{Entity,Event,Relation,Document}Request, kind says which */
	ST_DELETE = 2, /* req: DeleteRequest, kind says which */
	ST_BATCH = 3,  /* req: BatchRequest */
	ST_BULK = 4,   /* bulk: a staged load (below); req unused */
} st_op;

/* A bulk load (bulk_stage.c, bulk.c): parts staged in memory, checked as
 * they come (each record valid, no id twice in the load), then written by
 * st_apply as one logical write with sorted keys, in part order. A part is
 * checked and packed without the load (st_bulk_check, on any thread, so
 * parts in flight together are checked in parallel), then added to it
 * (st_bulk_add: the caller serialises calls on one load). */
typedef struct st_bulk st_bulk;
st_bulk *st_bulk_new(const char *load_id, bool replace);
void st_bulk_free(st_bulk *b);
const char *st_bulk_load_id(const st_bulk *b);
typedef struct st_bulk_part {
	uint8_t *bytes; /* the record lists, packed as a BulkLoadRequest */
	size_t len;
	uint64_t records;
} st_bulk_part;
/* Checks the part's records and packs them into out. On INVALID_ARGUMENT
 * err names the record ("events[12].when.start.month: 13 is not a month"). */
int st_bulk_check(const Annals__V1__BulkLoadRequest *part, st_bulk_part *out, st_err *err);
void st_bulk_part_free(st_bulk_part *p);
/* Adds a checked part as part `number` (taking p's bytes): an id already in
 * the load is INVALID_ARGUMENT ("entities[3].id: \"x\" is already in this
 * load (part 2)") and nothing of the part is kept. */
int st_bulk_add(st_bulk *b, uint32_t number, const Annals__V1__BulkLoadRequest *part, st_bulk_part *p,
                st_err *err);
bool st_bulk_has_part(const st_bulk *b, uint32_t number);
/* The first of parts 1..through not staged (through 0: the highest staged), 0 if none. */
uint32_t st_bulk_missing(const st_bulk *b, uint32_t through);
typedef struct st_bulk_totals {
	uint32_t parts, last_part; /* parts staged; the highest part number */
	uint64_t records, bytes;
	/* once applied (or answered from the request log) */
	uint64_t written, unchanged, first_revision, last_revision, took_ms;
} st_bulk_totals;
void st_bulk_totals_of(const st_bulk *b, st_bulk_totals *out);
void st_bulk_set_replace(st_bulk *b, bool replace);
/* A commit that only the request log can answer (a resend after the load
 * was committed and dropped): without an entry, FAILED_PRECONDITION. */
void st_bulk_set_replay_only(st_bulk *b, bool replay_only);
bool st_bulk_replay_only(const st_bulk *b);

/* One record a write touched: a Put or Delete has one, a Batch one per op. */
typedef struct st_result {
	const char *id;    /* inside the write's results block */
	uint64_t revision; /* the record's revision after the write */
	bool unchanged;    /* it was stored exactly so already; nothing was written */
} st_result;

typedef struct st_write {
	/* in */
	const ProtobufCMessage *req;
	const char *request_id; /* "" or NULL: not deduplicated (internal loads only) */
	st_op op;
	st_kind kind;
	bool validated; /* st_validate passed on this request: st_apply does not check it again */
	st_bulk *bulk;  /* ST_BULK: the load; its totals are filled in by st_apply */
	/* Its caller's deadline passed while it was queued. A resend of a write
	 * already applied still gets the first answer from the request log; any
	 * other is answered DEADLINE_EXCEEDED and not applied (nor remembered:
	 * a resend in time may still succeed). */
	bool expired;
	/* Cluster mode: the log entry's time (the proposer's clock), used for
	 * the change set's committed_ms and the request log's age instead of
	 * this machine's clock, so every node stores the same; 0: the clock. */
	int64_t log_time_ms;
	/* out (st_apply overwrites them all; it never frees what it finds) */
	/* The outcome, in the store's terms (the server turns it into a reply):
	 * on success the records it touched, and the store revision after it
	 * (for a write that changed nothing: the revision it saw). One malloc'ed
	 * block holding the ids too; st_write_clear frees it. */
	st_result *results;
	size_t n_results;
	uint64_t after_revision;
	/* A request-log entry written by annals 0.1 kept the packed reply body
	 * itself: a resend of such a write is answered with these bytes as they
	 * are (opaque to the store). NULL for every entry written since. */
	uint8_t *legacy_body;
	size_t legacy_len;
	uint64_t revision; /* revision this write took, 0 when it wrote nothing */
	int code;          /* annals_status */
	bool replayed;     /* answered from the request-id log, not applied again */
	char msg[480];
} st_write;

/* Frees a write's outcome (results, legacy body) and clears them. */
void st_write_clear(st_write *w);

/* Checks a write without touching the store: ids, required fields, dates,
 * UTF-8, batch size (limits->max_batch_ops; limits NULL: the defaults),
 * request_id length. Returns ANNALS_OK, or ANNALS_INVALID_ARGUMENT with the
 * field path in err->msg ("entity.names[2].valid.start.date.month: 13 is not
 * a month"; in a Batch "ops[3].put_event.id: required"). */
int st_validate(const st_write *w, const st_options *limits, st_err *err);

/* Applies n writes in one LMDB transaction and commits once. Each write's
 * code/msg/results are set. Returns ANNALS_OK when the commit succeeded (even
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

/* How long the last successful st_apply's commit took (mdb_txn_commit
 * with its fsyncs), in microseconds; read by the thread that applies. */
uint64_t st_last_commit_us(st_store *s);

/* st_apply for cluster mode: the writes of log entries up to etcd revision
 * log_revision, and that revision recorded as applied (meta "log_applied")
 * in the same commit, so a crash never applies an entry twice or skips
 * one. n may be 0 (entries that carried no write still move it). */
int st_apply_log(st_store *s, st_write *w, size_t n, uint64_t log_revision);
/* The log revision applied so far (0: none, or not a replica). */
uint64_t st_log_applied(st_store *s);

/* A hot, compacted copy into dir (an absolute path, created if missing,
 * without a data.mdb in it). *revision: the store revision when the copy
 * began (the copy holds at least that); *bytes: its size. */
int st_backup(st_store *s, const char *dir, uint64_t *revision, uint64_t *bytes, st_err *err);

/* The LMDB library's version, "0.9.24" (annalsd --version). */
void st_lmdb_version(char *buf, size_t len);

/* The store revision now (a cheap read). */
uint64_t st_revision(st_store *s);

const st_options *st_limits(st_store *s);

#endif

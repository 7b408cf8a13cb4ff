/*
 * Private to src/store: the structures behind st_store and st_txn, the DBI
 * table, key encoding, and the helpers the write path and the queries share.
 * Nothing outside src/store includes this.
 *
 * DBIs and their keys (all keys <= 511 bytes, LMDB's limit; ids <= 200 bytes
 * by validation; "\0" is a separator byte, be32/be64 big-endian):
 *
 *   meta          "format" -> "annals-store/1"; "revision" -> be64;
 *                 "log_applied" -> be64 (cluster mode: the etcd revision of
 *                 the last log entry applied, in the same commit as its writes);
 *                 "event_span" -> be32 (the widest [earliest, latest] of any
 *                 stored event, in days: lets ListEvents seek by time)
 *   entities, events, relations, documents
 *                 id -> packed record (its `revision` field set)
 *   ix_names      name-key \0 entity-id -> ""   (name-key: fold_utf8 of the
 *                 name, cut and hashed when long; see key_name)
 *   ix_types      be32 EntityType, entity-id -> ""
 *   ix_subjects   subject \0 predicate \0 relation-id -> ""
 *   ix_objects    object \0 predicate \0 relation-id -> ""
 *   ix_time       be32 day(earliest), event-id -> ""   (undated: 0xFFFFFFFF)
 *   ix_entity_time  entity \0 be32 day(earliest), event-id -> ""
 *                 (entity: every participant and the place)
 *   ix_cites      document \0 be32 sentence, record-id -> ""  (sentence 0:
 *                 evidence naming the document but no sentence); every
 *                 Evidence anywhere in the record counts, nested ones too
 *   ix_anchors    anchor \0 record-id -> ""  (anchor: "doc:<id>" or
 *                 "event:<id>" of any relative Date in the record)
 *   ix_refs       value \0 record-id -> ""  (value: a reference as written in
 *                 the record, a field of store/refs_fields.c that no other
 *                 index keys: an event link's event, an attribute's ref, a
 *                 document's publisher ...; with ix_subjects, ix_objects,
 *                 ix_entity_time, ix_cites and ix_anchors a delete finds the
 *                 records that may name it; meta "ix_refs" holds the layout
 *                 once it covers every record)
 *   ix_pubfloor   per document, the citing records that may bound its
 *                 publication (layout and rule: pubfloor.h; meta
 *                 "ix_pubfloor" is set once it covers every record)
 *   dedup         request-id -> be64 ms, packed annals.v1.Reply
 *   dedup_age     be64 ms, request-id -> ""   (expiry order)
 *   changes       be64 revision -> be64 committed ms, packed ChangeSet
 *
 * day(d) = (uint32_t)d ^ 0x80000000: flipping the sign bit makes unsigned
 * byte order equal signed numeric order, so dates before 1970 sort first.
 */
#ifndef ANNALS_STORE_STORE_INT_H
#define ANNALS_STORE_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "annals/annals.h"
#include "store/store.h"

enum st_dbi {
	DB_META,
	DB_ENTITIES, /* the four record tables, in st_kind order */
	DB_EVENTS,
	DB_RELATIONS,
	DB_DOCUMENTS,
	DB_NAMES,
	DB_TYPES,
	DB_SUBJECTS,
	DB_OBJECTS,
	DB_TIME,
	DB_ENTITY_TIME,
	DB_CITES,
	DB_ANCHORS,
	DB_REFS,
	DB_PUBFLOOR, /* pubfloor.h */
	DB_DEDUP,
	DB_DEDUP_AGE,
	DB_CHANGES,
	DB_COUNT
};

/* Internal status beside the annals codes: the map is full; the caller
 * aborts the whole group, grows the map and runs the group again. */
#define ST_MAP_FULL (-1)

struct st_store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	st_options opt; /* defaults filled in */
	/*
	 * The resize gate. mdb_env_set_mapsize() unmaps and remaps the file, so
	 * no transaction of this process may be live while it runs. Readers
	 * pass the gate in st_txn_begin (readers++) and leave in st_txn_end
	 * (readers--); the writer, after aborting its own txn, closes the gate
	 * (new readers back out and wait), waits for readers == 0, resizes and
	 * reopens it. The fast path is two sequentially consistent atomics, no
	 * lock: a reader increments, then checks closed; the writer sets closed,
	 * then checks the count, so at least one of them sees the other (a mutex
	 * here was a lock every read took, contended by every worker thread).
	 * The mutex and condition variable are only for waiting: the writer for
	 * the last reader, readers for the reopening. Not a pthread rwlock: a
	 * snapshot could in principle end on another thread than it began, and
	 * closing first gives the writer priority, so a steady stream of reads
	 * cannot starve a resize.
	 * Rule: a thread holding a snapshot must not begin a second one (it
	 * would wait for a resize that waits for it).
	 */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	_Atomic unsigned gate_readers;
	_Atomic bool gate_closed;
	_Atomic uint64_t revision;    /* committed store revision, for st_revision() */
	_Atomic uint64_t log_applied; /* cluster mode: meta "log_applied", for st_log_applied() */
	_Atomic uint64_t commit_us;   /* the last group's mdb_txn_commit, for st_last_commit_us() */
	/* wal.h: the write-ahead log and its checkpoints (NULL: LMDB syncs, or no_sync) */
	struct wal *wal;
	struct ckp_state *ckp;
	uint64_t redo_txn; /* while a record is redone at open: the txn id it must commit as */
	int lock_fd;       /* DIR/store.lock, flock'ed: one process per store (-1: none) */
	char dir[4096];
	/* deps.c: what each commit wrote, for the reply cache (NULL: off) */
	struct dp_table *dp;
	_Atomic uint64_t dp_marked; /* every write txn up to this id has written its marks */
	_Atomic uint64_t dp_floor;  /* answers read before this txn id are retired */
};

struct st_txn {
	st_store *s;
	MDB_txn *txn;
	bool active;       /* between st_txn_begin and st_txn_end */
	bool borrowed;     /* wraps the writer's txn: no gate, never reset */
	uint64_t revision; /* store revision of the snapshot, once revision_known */
	bool revision_known;
	uint64_t deadline_ms; /* CLOCK_MONOTONIC ms after which scans stop; 0: none */
	unsigned scanned;     /* entries scanned in this snapshot, to look at the clock now and then */
	bool full_scans;      /* st_txn_set_full_scans: derived indexes unused */
	st_deps *deps;        /* st_txn_track: where reads are recorded (NULL: not) */
};

/* ---- store.c --------------------------------------------------------------- */
/* Maps an LMDB error to an annals status (or ST_MAP_FULL), filling err. */
int st_mdb_status(int rc, st_err *err, const char *what);
int st_meta_get_u64(st_store *s, MDB_txn *txn, const char *key, uint64_t *out);
int st_meta_put_u64(st_store *s, MDB_txn *txn, const char *key, uint64_t v);
/* Doubles the map; no txn of this process may be open. */
int st_grow_map(st_store *s, st_err *err);
/* Holding the resize gate open: the map is not remapped until leave. */
void st_gate_enter(st_store *s);
void st_gate_leave(st_store *s);
int64_t st_now_ms(const st_store *s);
/* write.c: applies one write-ahead log record again at open (a wal_fn). */
int st_wal_redo(void *store, uint64_t txn, const uint8_t *p, size_t len, st_err *err);
/* A snapshot-like wrapper around a write txn, so reads share one code path. */
void st_txn_borrow(st_txn *t, st_store *s, MDB_txn *txn);

/* ---- deps.c: read tokens and write marks (the reply cache's retirement) ----- */
/* Past the DBIs: a document's publication candidates, keyed "doc\0",
 * marked when a write changes what st_pub_candidates returns. */
#define DP_PUB_CANDIDATES DB_COUNT
/* The snapshot read key (exactly) or the keys starting with prefix. */
void dp_read_key(st_txn *t, unsigned db, const void *key, size_t n);
void dp_read_prefix(st_txn *t, unsigned db, const void *prefix, size_t n);
/* The write path's puts and deletes: mark the key, then write it. Every
 * write in a group txn to a table a cacheable query can read goes through
 * these or dp_mark (the logs do not: dp_unmarked). */
int dp_put(st_store *s, MDB_txn *txn, unsigned db, MDB_val *key, MDB_val *val, unsigned flags);
int dp_del(st_store *s, MDB_txn *txn, unsigned db, MDB_val *key);
void dp_mark(st_store *s, MDB_txn *txn, unsigned db, const void *key, size_t n);
/* A group txn: after it began, and before it commits. */
void dp_write_begin(st_store *s, MDB_txn *txn);
void dp_write_ready(st_store *s, MDB_txn *txn);
void dp_free(st_store *s);

/* ---- record.c: what differs between the four kinds ------------------------- */
const ProtobufCMessageDescriptor *rec_desc(st_kind k);
const char *rec_kind_name(st_kind k); /* "entity" ... */
enum st_dbi rec_dbi(st_kind k);
const char *rec_id(const ProtobufCMessage *m);
uint64_t *rec_revision(ProtobufCMessage *m);
bool rec_kind_ok(int k);
/* The anchor string a record can be referred to by ("doc:<id>", "event:<id>"),
 * written to buf; NULL for kinds that cannot be anchors. */
const char *rec_anchor(st_kind k, const char *id, char *buf, size_t len);
/* Unpacks bytes into the arena; NULL when they do not parse. */
ProtobufCMessage *rec_unpack(st_kind k, const uint8_t *data, size_t len, ar_arena *a);
/* Packs into the arena. */
uint8_t *rec_pack(const ProtobufCMessage *m, size_t *len, ar_arena *a);

/* ---- keys.c ------------------------------------------------------------------ */
#define ST_KEY_MAX      511
#define ST_NAME_KEY_MAX 280 /* bytes of a name in a key; + "\0" + id(200) < 511 */

typedef struct st_key {
	size_t n;
	uint8_t b[ST_KEY_MAX];
} st_key;

void key_init(st_key *k);
void key_bytes(st_key *k, const void *p, size_t n);
void key_str(st_key *k, const char *s);
void key_sep(st_key *k);
void key_be32(st_key *k, uint32_t v);
void key_be64(st_key *k, uint64_t v);
/* The folded, length-capped form of a name (see keys.c). */
void key_name(st_key *k, const char *name);
/* The folded form of a prefix, cut where key_name would cut (no hash). */
void key_name_prefix(st_key *k, const char *prefix);
/* Whether name matches query (equal, or starting with it), folded. */
bool key_name_match(const char *name, const char *query, bool prefix);
MDB_val key_val(const st_key *k);
bool key_has_prefix(const MDB_val *v, const st_key *prefix);

uint32_t key_day(int32_t day);
int32_t key_day_value(uint32_t v);
uint32_t rd_be32(const void *p);
uint64_t rd_be64(const void *p);
void wr_be64(void *p, uint64_t v);

/* Hex for opaque cursors and page tokens. */
void key_hex(const uint8_t *b, size_t n, char *out, size_t cap);
int key_unhex(const char *hex, st_key *out); /* 0, or -1 when not hex / too long */

/* A key's tail after `skip` bytes as a NUL-terminated id (ids never hold \0). */
void key_tail_id(const MDB_val *v, size_t skip, char *out, size_t cap);

/* ---- each_record.c ----------------------------------------------------------- */
/* Returns ANNALS_OK to go on; the record and the arena are reset after. */
typedef int (*st_record_fn)(void *ctx, ProtobufCMessage *rec, ar_arena *a);
/* Calls fn on every stored record of kind k, unpacked, in id order; *n
 * counts them. `what` names the pass in errors. */
int st_each_record(st_store *s, MDB_txn *txn, st_kind k, st_record_fn fn, void *ctx, uint64_t *n,
                   const char *what, st_err *err);

/* ---- walk.c ------------------------------------------------------------------ */
typedef void (*st_walk_fn)(void *ctx, ProtobufCMessage *m);
/* Calls fn on every sub-message of m (at any depth) of type want. */
void st_walk(ProtobufCMessage *m, const ProtobufCMessageDescriptor *want, st_walk_fn fn, void *ctx);

/* ---- index.c ----------------------------------------------------------------- */
/* Replaces the index entries of old (NULL: none) by those of rec (NULL:
 * none), touching only the keys that differ. */
int ix_update(st_store *s, MDB_txn *txn, st_kind k, const ProtobufCMessage *old, const ProtobufCMessage *rec,
              ar_arena *a, st_err *err);
/* The index entries (all ""-valued: not ix_pubfloor's) rec adds, each once,
 * for the bulk writer, which sorts them all before writing any. */
typedef void (*ix_key_fn)(void *ctx, enum st_dbi db, const uint8_t *key, size_t n);
void ix_keys_of(st_kind k, const ProtobufCMessage *rec, ar_arena *a, ix_key_fn fn, void *ctx);
/* The day an event sorts by in ix_time (undated: DATE_POS_INF). */
int32_t ix_event_day(const Annals__V1__Event *e);

/* ---- scan.c helpers shared with query_records.c ------------------------------ */
/* Entities by name from a raw resume key (NULL: from the start): each
 * entity at its first matching name only, so pages never repeat one.
 * The visitor also gets the index key it was found under. */
typedef int (*st_name_fn)(void *ctx, const MDB_val *key, const char *id, const uint8_t *data, size_t len);
int st_scan_names_from(st_txn *t, const char *name, bool prefix, const st_key *resume, st_name_fn fn,
                       void *ctx);
/* Walks the entries of one DBI whose keys start with prefix, from resume
 * (exclusive; NULL: from the prefix). fn returns 0 to go on. */
typedef int (*st_key_fn)(void *ctx, const MDB_val *key, const MDB_val *val);
int st_scan_prefix(st_txn *t, enum st_dbi db, const st_key *prefix, const st_key *resume, st_key_fn fn,
                   void *ctx);

/* ---- resolve.c --------------------------------------------------------------- */
/* Resolves every Date in rec (a record of kind k being written). */
void rs_resolve_record(st_txn *t, st_kind k, ProtobufCMessage *rec, ar_arena *a);

/* ---- the write path: write.c, write_record.c, changelog.c, dedup.c ----------- */
typedef struct st_wctx {
	st_store *s;
	MDB_txn *txn;      /* the logical write's nested txn, or the group's (flat) */
	st_txn rd;         /* reads through txn */
	ar_arena *a;       /* scratch, reset per group attempt */
	uint64_t revision; /* the revision this logical write takes if it changes anything */
	int64_t now_ms;
	const char *request_id;
	Annals__V1__ChangeSet *cs; /* what this logical write changed so far */
	st_err *err;
	/* Written to txn: a failure now cannot be undone without a nested txn.
	 * Set by wr_store and wr_delete, the first writes of a logical write;
	 * any new mdb_put/mdb_del before them must set it too, or a flat single
	 * write failing after it would be committed half-done (write.c). */
	bool mutated;
	/* cl_note's index of cs->changes by id (open addressing, slot = index + 1),
	 * so a 10000-op Batch does not cost 10000^2 / 2 string compares */
	const Annals__V1__ChangeSet *cl_cs;
	size_t *cl_slots;
	size_t cl_cap, cl_n;
	/* the packed record of cs->changes[i] (wr_store packed it already), so
	 * cl_append splices bytes instead of packing every record again */
	ProtobufCBinaryData *cl_bytes;
	size_t cl_bytes_cap;
} st_wctx;

int wr_put(st_wctx *c, st_kind k, const ProtobufCMessage *in, const Annals__V1__Guard *g, st_result *out);
int wr_delete(st_wctx *c, st_kind k, const char *id, const Annals__V1__Guard *g, st_result *out);
/* Stores rec (revision set to c->revision) in place of old (the stored
 * record unpacked, NULL: new), re-indexes and notes the change. */
int wr_store(st_wctx *c, st_kind k, ProtobufCMessage *rec, const ProtobufCMessage *old);
/* After a Document or Event changed: re-resolve the records anchored on it. */
int rs_dependents(st_wctx *c, st_kind k, const char *id);

/* rec: the record as stored, packed in packed[0..len) (the arena's);
 * NULL: deleted. */
void cl_note(st_wctx *c, st_kind k, const char *id, ProtobufCMessage *rec, const uint8_t *packed, size_t len);
int cl_append(st_wctx *c);
int cl_prune(st_store *s, MDB_txn *txn, int64_t now_ms, size_t budget, st_err *err);

/* prune.c: the retention loop both logs share (see cl_prune, dd_prune). */
typedef struct st_prune {
	const char *what;       /* for errors */
	MDB_dbi counted;        /* the table whose entries are bounded */
	MDB_dbi oldest_first;   /* walked from its first key, oldest first */
	uint64_t keep;          /* at most this many entries */
	uint64_t keep_at_least; /* never fewer */
	int64_t cutoff_ms;      /* entries older than this go (INT64_MIN: no age limit) */
	/* 1 and *ms: the entry's time; 0: it has none; -1: stop here */
	int (*age)(const MDB_val *key, const MDB_val *val, int64_t *ms);
	/* what else goes with the entry (an MDB_ code); NULL: nothing */
	int (*also)(st_store *s, MDB_txn *txn, const MDB_val *key);
} st_prune;
int st_prune_run(st_store *s, MDB_txn *txn, const st_prune *p, size_t budget, st_err *err);

/* 1: found (w's answer filled in, replayed), 0: unknown, else an error status. */
int dd_lookup(st_store *s, MDB_txn *txn, const char *request_id, st_write *w, st_err *err);
int dd_store(st_store *s, MDB_txn *txn, const char *request_id, int64_t now_ms, const st_write *w,
             st_err *err);
int dd_prune(st_store *s, MDB_txn *txn, int64_t now_ms, size_t budget, st_err *err);

/* validate_write.c: the record checks of st_validate without the Batch
 * size limit (admission policy, which st_validate adds). */
int st_validate_records(const st_write *w, st_err *err);

#endif

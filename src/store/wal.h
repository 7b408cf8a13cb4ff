/*
 * wal_ — the store's write-ahead log, and ckp_ — checkpoints of the data
 * file: together, how a write is on disk before its reply without LMDB
 * syncing its scattered B-tree pages (and then its meta page) on every
 * commit. One sequential append and one fdatasync per commit instead.
 *
 * The contract (wal.c, checkpoint.c, write.c, store.c):
 *   1. The environment runs with MDB_NOSYNC: LMDB's commits reach the page
 *      cache, not the disk.
 *   2. Every write transaction of the group path appends one record, its
 *      inputs as a WalGroup (proto/annals/v1/wal.proto), and syncs it
 *      *before* mdb_txn_commit: no reader sees a change that is not on
 *      disk. A commit that fails after the append takes the record back.
 *   3. Every other write transaction (opening, BulkLoad) is followed by a
 *      checkpoint before anything else is written or answered.
 *   4. A checkpoint makes every page of one committed snapshot K durable
 *      and keeps a copy of the meta pages that describe K in DIR/checkpoint.
 *      A read transaction on K (the pin) lives until the next checkpoint is
 *      durable: LMDB reuses a freed page only when no reader can see it, so
 *      no later commit, synced or not, overwrites a page of K.
 *   5. At open, if DIR/checkpoint exists (the last run did not close
 *      cleanly): written in this boot, the page cache kept the data file
 *      whole, and the records past its last commit are applied; from an
 *      earlier boot, its meta pages go back into the data file, so LMDB
 *      opens at K whatever a power cut left of later pages, and the records
 *      after K are applied again. Either way in order, with the clock,
 *      flags and cluster revision they had: the write path reads no other
 *      clock and no other input, so the same records on the same state give
 *      the same state.
 *   6. A clean close syncs the data file, then deletes the checkpoint
 *      file, then the segments: without a checkpoint file the data file is
 *      whole as it is, and segments no checkpoint names are leftovers.
 *
 * Segments are DIR/wal-<16 hex digits>.log, named by a lower bound of the
 * txn ids they hold. A record is a 24-byte header {magic, payload length,
 * txn id, FNV-1a 64 of the txn id, length and payload} and the payload;
 * zeros (space allocated ahead) end a segment. A last record cut short, or
 * failing its sum, ends the log: it was being written when the machine
 * stopped, so its writes were never answered. One that fails its sum with
 * a record after it is damage (DATA_LOSS).
 */
#ifndef ANNALS_STORE_WAL_H
#define ANNALS_STORE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct wal wal;

/* Creates the segment for txns from first_txn on (and syncs the directory,
 * so the new file survives a power cut). */
int wal_open(const char *dir, uint64_t first_txn, wal **out, st_err *err);
void wal_close(wal *w);
/* Appends one record and syncs it. On failure nothing of it stays in the
 * file (when the file can still be cut back; otherwise wal_broken says so). */
int wal_append(wal *w, uint64_t txn, const uint8_t *payload, size_t len, st_err *err);
/* Takes the last record back: its commit failed. Returns 0, or -1 (then
 * wal_broken is set: the record may be redone at the next start). */
int wal_undo(wal *w);
/* Non-empty once the log can no longer be trusted to hold exactly the
 * committed writes: the store refuses writes until restarted. */
const char *wal_broken(const wal *w);
/* Closes the current segment and starts one for txns from first_txn on. */
int wal_rotate(wal *w, uint64_t first_txn, st_err *err);
/* Bytes in the current segment. */
uint64_t wal_segment_bytes(const wal *w);

/* fsync of a directory: a file created, renamed or deleted in it stays so
 * after a power cut. 0, or -1 with errno. */
int wal_sync_dir(const char *dir);
/* Deletes every segment that holds only txns below keep_from (the segment
 * after it starts at keep_from or before); all of them when keep_from is
 * UINT64_MAX. Then syncs the directory. Returns how many went. */
int wal_drop(const char *dir, uint64_t keep_from);

/* Calls fn for every record with a txn id above after, in order, and
 * checks they follow each other (after+1, after+2, ...). *last: the last
 * txn id seen (after when none). A torn last record ends the log quietly;
 * a gap, or a bad record before the last one, is an error. Returns 0, fn's
 * first non-zero return, or an annals code with err filled in. */
typedef int (*wal_fn)(void *ctx, uint64_t txn, const uint8_t *payload, size_t len, st_err *err);
int wal_replay(const char *dir, uint64_t after, wal_fn fn, void *ctx, uint64_t *last, st_err *err);

/* ---- checkpoint.c -------------------------------------------------------- */
typedef struct ckp_state ckp_state;

typedef enum ckp_found {
	CKP_NONE,        /* no checkpoint: the last run closed cleanly (stray segments deleted) */
	CKP_WHOLE,       /* a checkpoint of this boot: the process stopped, the page cache did
	                  * not, so the data file is whole at its own last commit */
	CKP_ROLLED_BACK, /* one of an earlier boot: its meta pages were written back */
} ckp_found;
/* Before mdb_env_open. When DIR/checkpoint exists and belongs to this data
 * file and was written since this machine last booted, the data file is
 * left as it is: only the log's records past its last commit are redone.
 * From an earlier boot (a power cut or a crash of the system may have lost
 * any page written since), the checkpoint's meta pages go back into the
 * data file, which needs no other process to have the store open (LMDB's
 * lock file would then go on naming the lost commits). */
int ckp_restore(const char *dir, ckp_found *found, st_err *err);
/* Right after mdb_env_open, before anything is written: a checkpoint of
 * the opened snapshot (the calling thread waits for it), held by its pin.
 * On a full disk a store with nothing to redo still opens (*found becomes
 * CKP_NONE if it was CKP_WHOLE): reads are served, writes wait (ckp_ready). */
int ckp_begin(st_store *s, const char *dir, ckp_found *found, st_err *err);
/* Before a write: OK once the log of this run is started; otherwise (a
 * start on a full disk) tries to start it, and says why not. */
int ckp_ready(st_store *s, st_err *err);
/* The txn id of the last durable checkpoint. */
uint64_t ckp_durable_txn(const st_store *s);
/* After the log is redone: a checkpoint of everything, the segments of the
 * last run deleted, a new one started, and the checkpoint thread. */
int ckp_start_log(st_store *s, st_err *err);
/* The writer, after each commit that appended a record: hands a checkpoint
 * to the checkpoint thread when one is due and none is running. */
void ckp_committed(st_store *s);
/* The writer: a checkpoint of the last commit, waited for (after a write
 * that bypassed the log). On failure the store refuses writes. */
int ckp_now(st_store *s, st_err *err);
/* ckp_now after a commit that bypassed the log (a load): until one
 * succeeds, logged writes are refused (ckp_ready tries again), since their
 * records would follow a gap the log cannot redo across. */
int ckp_cover(st_store *s, st_err *err);
/* Closing: the data file is synced, then the checkpoint file and the
 * segments go (unless the log or a sync failed: then they stay for the
 * next start). */
void ckp_stop(st_store *s);
/* Non-NULL while writes must be refused: the log or the data file could
 * not be synced, so what is on disk is no longer known. */
const char *st_durability_refusal(const st_store *s);
/* After a start that redid the log without keeping one (--sync lmdb):
 * syncs the data file, then deletes the segments and the checkpoint. */
int ckp_finish_without_log(st_store *s, st_err *err);

/* ---- wal_group.c: a group of writes as a record, and back ---------------- */
/* The record of one write txn: its writes' requests and flags, the group's
 * clock and cluster revision. Allocated in a; NULL when out of memory. */
uint8_t *wal_group_pack(uint64_t txn, int64_t now_ms, uint64_t log_revision, const st_write *w, size_t n,
                        ar_arena *a, size_t *len);
typedef struct wal_group {
	st_write *w; /* malloc'ed; each w[i].req unpacked (protobuf-c's allocator) */
	size_t n;
	int64_t now_ms;
	uint64_t log_revision;
	void *msg; /* the unpacked WalGroup: request ids point into it */
} wal_group;
int wal_group_unpack(const uint8_t *p, size_t len, wal_group *g, st_err *err);
void wal_group_free(wal_group *g);

#endif

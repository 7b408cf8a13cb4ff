/*
 * Private to src/store: what a staged bulk load holds (bulk_stage.c) and
 * how st_apply hands one to the bulk writer (bulk.c).
 */
#ifndef ANNALS_STORE_BULK_H
#define ANNALS_STORE_BULK_H

#include <stdint.h>
#include <string.h>

#include "common/validate.h"
#include "store/store_int.h"

/* One string of a set: where its text is, its hash, the kind of the
 * record (the id set; 0 in the anchor set), the part that brought it, and
 * (during the commit) whether its record is written yet. */
typedef struct bk_entry {
	uint64_t off; /* into bk_set.ids */
	uint64_t hash;
	uint32_t part;
	uint8_t kind;
	uint8_t written;
} bk_entry;

/* A set of strings, open addressing (slots hold entry index + 1). */
typedef struct bk_set {
	char *ids; /* every string, NUL-terminated, one after the other */
	size_t ids_len, ids_cap;
	bk_entry *entries;
	size_t n_entries, entries_cap;
	uint32_t *slots;
	size_t slot_cap;
} bk_set;

struct st_bulk {
	char load_id[VAL_ID_MAX + 1];
	bool replace;
	bool replay_only;
	/* packed BulkLoadRequests (record lists only) by part number - 1;
	 * data NULL: not staged (yet) */
	ProtobufCBinaryData *parts;
	size_t n_parts, parts_cap; /* n_parts: the highest part number staged */
	size_t staged;             /* parts staged */
	bk_set ids;                /* every record id of the load, with its kind */
	bk_set anchors;            /* every anchor its relative dates name */
	st_bulk_totals totals;
};

/* The kind of id among the load's records (0: not in the load). */
st_kind bk_kind_in_load(const st_bulk *b, const char *id);
/* The entry of id in the load, or NULL. */
bk_entry *bk_entry_of(st_bulk *b, const char *id);
/* Whether a record of the load names anchor in a relative date. */
bool bk_is_anchor(const st_bulk *b, const char *anchor);

/* A key (and value) the commit writes at the end, in order. */
typedef struct bk_key {
	const uint8_t *b;
	size_t n;
	const uint8_t *v;
	size_t vn;
} bk_key;

/* One part's staged keys of one table. */
typedef struct bk_chunk {
	bk_key *v;
	size_t n, cap;
} bk_chunk;

/* LMDB's key order (memcmp, then length), eight bytes a step: keys are
 * short and a call to memcmp was most of what sorting them cost. */
static inline int bk_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
#endif
			return x < y ? -1 : 1;
		}
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return (an > bn) - (an < bn);
}

/* bk_cmp of two bk_keys, for qsort. */
int bk_key_cmp(const void *a, const void *b);

/* The sorter (bulk_sort.c): a thread that sorts each part's chunks while
 * the writer goes on with the next part. */
typedef struct bk_sorter bk_sorter;
/* NULL when no thread could be started: bks_submit then sorts at once. */
bk_sorter *bks_start(void);
/* Sorts v[0, n) in place, some time before bks_wait returns; v must stay. */
void bks_submit(bk_sorter *s, bk_key *v, size_t n);
/* Waits until everything submitted is sorted. */
void bks_wait(bk_sorter *s);
/* Finishes what was submitted and stops the thread. */
void bks_stop(bk_sorter *s);

/* The merger (bulk_merge.c): one table's sorted chunks and its old
 * entries merged into key order, each key once, on a thread of its own a
 * block ahead of the writer's puts. */
typedef struct bk_feed bk_feed;
bk_feed *bkm_start(const bk_chunk *chunks, size_t n_chunks, const bk_chunk *old);
/* The next block of keys in order (n 0: the end), valid until the next call. */
const bk_key *const *bkm_next(bk_feed *f, size_t *n);
/* Stops the merger wherever it is and frees it (NULL: nothing). */
void bkm_stop(bk_feed *f);

/* A part's four record lists, in the order they are checked and written:
 * documents, entities, events, relations (bulk_stage.c). */
#define BK_LISTS 4
typedef struct bk_list {
	const char *name; /* "events": for errors, "part 3, events[12] ..." */
	st_kind kind;
	size_t n;
	ProtobufCMessage **items;
} bk_list;
void bk_lists_of(const Annals__V1__BulkLoadRequest *p, bk_list out[BK_LISTS]);

/* A part made ready for the commit (bulk_prep.c): unpacked (NULL: its
 * bytes do not parse, or it was never staged), and per record of each list
 * whether every reference it makes names a record of the load, so the
 * writer need not judge them. */
typedef struct bk_ready {
	Annals__V1__BulkLoadRequest *part;
	uint8_t *refs_in_load[BK_LISTS];
} bk_ready;
typedef struct bk_prep bk_prep;
/* NULL when no thread could be started (the writer unpacks each part itself). */
bk_prep *bkp_start(const st_bulk *b);
/* Part index (0-based), waited for; valid until bkp_done(index). */
const bk_ready *bkp_get(bk_prep *p, size_t index);
void bkp_done(bk_prep *p, size_t index);
void bkp_stop(bk_prep *p);

/* st_apply's path for an ST_BULK write: the whole load as one logical
 * write in a transaction of its own, then its commit. */
int bk_apply(st_store *s, st_write *w);

#endif

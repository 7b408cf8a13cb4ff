/*
 * Private to src/store: what a staged bulk load holds (bulk_stage.c) and
 * how st_apply hands one to the bulk writer (bulk.c).
 */
#ifndef ANNALS_STORE_BULK_H
#define ANNALS_STORE_BULK_H

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

/* st_apply's path for an ST_BULK write: the whole load as one logical
 * write in a transaction of its own, then its commit. */
int bk_apply(st_store *s, st_write *w);

#endif

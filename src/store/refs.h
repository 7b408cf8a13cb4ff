/*
 * rf_ — references between records, private to src/store: the one table
 * of the fields that name another record, a walk over every reference of
 * a record (with its field path), what each reference may name, and the
 * checks the write path, the reverse index and CheckReferences share.
 *
 * A reference is whole when the record it names exists with the kind its
 * field wants. Writes are judged against the state at the end of their
 * logical write (a Batch's own puts and deletes count), inside the write
 * transaction: every replica applying the same entries reaches the same
 * outcome.
 */
#ifndef ANNALS_STORE_REFS_H
#define ANNALS_STORE_REFS_H

#include "common/validate.h"
#include "store/store_int.h"

/* How a field's value names its record. */
typedef enum rf_form {
	RF_ID,       /* exactly the id of a record of the wanted kind */
	RF_DOCUMENT, /* a document id, written with or without "doc:" (kn_document's rule) */
	RF_ANCHOR,   /* a Date's anchor: "doc:<id>" or "event:<id>" (st_anchor_date's rule) */
} rf_form;

/* One row per field of the contract that names another record. */
typedef struct rf_field {
	const ProtobufCMessageDescriptor *message; /* the message holding the field */
	const char *field;                         /* its name in the .proto */
	st_kind want;                              /* for RF_ANCHOR: decided by the prefix */
	rf_form form;
	bool keyed_elsewhere; /* rf_field_in_other_index */
} rf_field;

/* The ids a reference's value may name, in the order they are tried
 * (at most two: "doc:x" may name "doc:x" or "x"); *want: their kind. */
typedef struct rf_targets {
	st_kind want;
	size_t n;
	const char *id[3];           /* the value itself, or one of buf */
	char buf[3][VAL_ID_MAX + 8]; /* ids with a prefix added */
} rf_targets;
void rf_targets_of(const rf_field *f, const char *value, rf_targets *out);
/* The reverse: every value a reference may hold to name the record id of
 * kind k (at most three), for the reverse index, which keeps the values
 * as written. Whatever rf_targets_of resolves to a record is among them. */
void rf_names_of(st_kind k, const char *id, rf_targets *out);

/* Where a reference sits in its record: the fields (and item indexes,
 * -1 for a singular field) from the record down. Formatted only when a
 * problem is reported, so walking a record costs no string building. */
#define RF_DEPTH 16
typedef struct rf_path {
	const char *name[RF_DEPTH];
	long index[RF_DEPTH];
	int n;
} rf_path;
/* "participants[1].entity", in the arena. */
const char *rf_path_format(const rf_path *p, ar_arena *a);

/* Visits every non-empty reference of a record: fn(ctx, row, its path,
 * value); fn returns 0 to go on. */
typedef int (*rf_visit_fn)(void *ctx, const rf_field *f, const rf_path *path, const char *value);
int rf_walk(const ProtobufCMessage *rec, rf_visit_fn fn, void *ctx);
/* Whether another index keys f's values already (so ix_refs leaves them out;
 * see rf_referrers for where a delete finds them). */
bool rf_field_in_other_index(const rf_field *f);

/* ---- checks (refs_check.c) ----------------------------------------------------- */

/* One dangling reference: in record `record` (of kind `kind`), field
 * `path`, naming `target`; problem says why ("no entity \"x\"").
 * op: with a Batch, the op whose put holds it or whose delete leaves it
 * dangling; by_delete: the latter. Valid during the report only. */
typedef struct rf_dangling {
	size_t op;
	bool by_delete;
	const char *deleted; /* by_delete: the record deleted, and its kind */
	st_kind deleted_kind;
	st_kind kind;
	const char *record;
	const char *path;
	const char *target;
	const char *problem;
} rf_dangling;
/* Returns 0 to go on, non-zero to stop the check. */
typedef int (*rf_report_fn)(void *ctx, const rf_dangling *d);

/* The references the ops of a logical write (a Batch's ops, or the one op
 * of a Put or Delete: then n == 1) would leave dangling, judged against
 * the store as t sees it plus the ops' own puts and deletes. Returns
 * ANNALS_OK (whatever it reported) or a read error. */
int rf_check_ops(st_txn *t, const Annals__V1__Op *const *ops, size_t n, ar_arena *a, rf_report_fn fn,
                 void *ctx, st_err *err);
/* Every dangling reference of the store; *records: how many were read. */
int rf_check_store(st_txn *t, ar_arena *a, rf_report_fn fn, void *ctx, uint64_t *records, st_err *err);
/* The write path's check of one logical write (see write.c): ANNALS_OK, or
 * INVALID_ARGUMENT (a put names what does not exist) or
 * FAILED_PRECONDITION (a delete leaves a referrer dangling) with the first
 * problem and its path in err->msg (path_prefix: "relation", "ops"). */
int rf_check_write(st_txn *t, const st_write *w, ar_arena *a, st_err *err);

/* ---- the reverse index (refs_build.c) ------------------------------------------ */
/* Builds ix_refs from every record when the store was written before it
 * existed, or with an older layout (meta "ix_refs" below RF_LAYOUT), in txn; *built: records indexed (0: it
 * was already there). */
int rf_build_index(st_store *s, MDB_txn *txn, uint64_t *built, st_err *err);

#endif

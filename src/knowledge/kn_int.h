/*
 * qk_ — what the knowledge queries (query_knowledge.c, query_resolve.c,
 * query_relations.c, query_timeline.c, query_evidence.c) share. Internal
 * to the store; the public entry points are in query.h.
 *
 * The queries use only the read API of store.h: records are unpacked into
 * the call's arena, so everything a reply points to lives exactly as long
 * as the reply, and a query allocates nothing on the heap.
 *
 * Dates are resolved at query time, not trusted from storage: a relative
 * date ("yesterday" in a document) is resolved through its anchor as the
 * store holds it now, so a publication date added later takes effect at
 * once, and one never known leaves the date unresolved (an unknown side).
 */
#ifndef ANNALS_STORE_QUERY_KNOWLEDGE_H
#define ANNALS_STORE_QUERY_KNOWLEDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "annals/annals.h"
#include "common/asof.h"
#include "common/date.h"
#include "store/query.h"

typedef struct qk_anchor qk_anchor;
typedef struct qk_name_entry qk_name_entry;

/* One query's working state: the snapshot, the arena, the error, and two
 * small caches (anchor dates, entity display names) kept in the arena. */
typedef struct qk {
	st_txn *t;
	ar_arena *a;
	st_err *err;
	int depth; /* nesting of anchor lookups: relative dates anchored to relative dates */
	qk_anchor *anchors;
	size_t n_anchors, cap_anchors;
	qk_name_entry *labels;
	size_t n_labels, cap_labels;
} qk;

void qk_init(qk *q, st_txn *t, ar_arena *a, st_err *err);
/* Sets err (code and message) and returns code. */
int qk_fail(qk *q, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- dates ---------------------------------------------------------------- */

/* The asked date of a query: all days [lo, hi], or none (history mode). */
typedef struct qk_when {
	bool set;
	int32_t lo, hi;
	const char *text; /* "2019-05", or "the publication of doc:x (2021-05-13)" */
} qk_when;

/* Resolves d in place (relative dates through their anchors in this
 * snapshot) and gives its range; false when it has none. */
bool qk_date_range(qk *q, Annals__V1__Date *d, int32_t *lo, int32_t *hi);
/* Resolves both bound dates of iv in place and gives its span. */
void qk_span(qk *q, Annals__V1__Interval *iv, asof_span *sp);
/* "1992 (year)", "2019-04-30..2019-05-30 (one of these days)",
 * "doc:x-1d? (unresolved: ...)" for a date already passed to qk_date_range. */
const char *qk_date_text(qk *q, const Annals__V1__Date *d);
/* `at` / `at_document` of a request. `at` may be absent; an all-zero Date
 * counts as absent. Returns ANNALS_OK or an error naming the field. */
int qk_when_of(qk *q, const Annals__V1__Date *at, const char *at_document, qk_when *w);
/* A request's date range filter bound (TimelineRequest.from/to). */
int qk_bound_of(qk *q, const Annals__V1__Date *d, const char *field, int32_t *lo, int32_t *hi, bool *set);

/* ---- records ---------------------------------------------------------------- */

Annals__V1__Document *qk_document(qk *q, const char *ref); /* by id, with or without "doc:" */
Annals__V1__Entity *qk_entity_by_id(qk *q, const char *id);
int qk_entity(qk *q, const char *ref, const char *field, Annals__V1__Entity **out);
/* The current official name, else the first name, else the id. */
const char *qk_display_name(const Annals__V1__Entity *e);
/* Display name of any entity id, cached; "" when there is no such entity. */
const char *qk_name_of(qk *q, const char *id);
/* qk_name_of, or the id itself when there is no name: for sentences. */
const char *qk_label(qk *q, const char *id);
const char *qk_type_word(int entity_type);
const char *qk_name_kind_word(int name_kind);

/* A relation with what the queries need to sort and judge it. */
typedef struct qk_rel {
	Annals__V1__Relation *r;
	asof_span sp;
	int32_t key;  /* where it goes in time: its start, else its end, else last */
	int key_side; /* 0: placed by its end, 1: by its start, 2: not placed */
} qk_rel;

/* Relations of `entity` as subject (inverse: as object), one predicate or
 * all (NULL/""), only those whose other side is `other` (NULL/"" for any);
 * spans computed. Sorted by qk_rel_cmp. */
int qk_relations(qk *q, const char *entity, const char *predicate, bool inverse, const char *other,
                 qk_rel ***out, size_t *n);
/* Time order: by key; at equal keys a tenure placed by its end comes
 * before one placed by its start (the predecessor ended as the successor
 * began); then by id. */
int qk_rel_cmp(const void *a, const void *b);

/* The RelationFact for r: truth on w (UNSPECIFIED without a date), a
 * reason in words, and the subject's and object's names. */
Annals__V1__RelationFact *qk_fact(qk *q, const qk_rel *qr, const qk_when *w);
/* "started 1992 (year)", "no end stated", ... */
const char *qk_bound_phrase(qk *q, const Annals__V1__Bound *b, bool start);
/* "started 1992 (year); no end stated" for any interval (NULL: "always"). */
const char *qk_interval_phrase(qk *q, Annals__V1__Interval *iv);

/* A stable merge sort of n pointers, scratch space from the arena. */
void qk_sort(qk *q, void **items, size_t n, int (*cmp)(const void *, const void *));

#endif

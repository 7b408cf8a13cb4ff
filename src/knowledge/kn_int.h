/*
 * kn_ internals — what the knowledge queries (knowledge.c, resolve.c,
 * relations.c, timeline.c, evidence.c) share. Internal to src/knowledge;
 * the entry points are in knowledge.h.
 *
 * The queries use only the store's read interface (store/read.h): records are unpacked into
 * the call's arena, so everything a reply points to lives exactly as long
 * as the reply, and a query allocates nothing on the heap.
 *
 * Dates are resolved at query time, not trusted from storage: a relative
 * date ("yesterday" in a document) is resolved through its anchor as the
 * store holds it now, so a publication date added later takes effect at
 * once, and one never known leaves the date unresolved (an unknown side)
 * — unless the document's own content bounds it (pubdate.c): then dates
 * anchored to it resolve to ranges open at their end.
 *
 * Records a reply carries whole (the relation of a fact, a timeline's
 * events) go into it as their stored bytes (common/pbwire.h): decoded
 * without the fields the query never reads (evidence), judged, and
 * spliced — unless resolving their dates now gives other ranges than the
 * stored ones, when they go out decoded, as resolved now. Unpacking and
 * packing them again was most of a Members call's protobuf work. A full-scan snapshot
 * (st_txn_set_full_scans) decodes every record whole: test_indexed
 * compares the two ways.
 */
#ifndef ANNALS_KNOWLEDGE_KN_INT_H
#define ANNALS_KNOWLEDGE_KN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "annals/annals.h"
#include "knowledge/asof.h"
#include "common/date.h"
#include "knowledge/knowledge.h"

typedef struct kn_anchor kn_anchor;
typedef struct kn_name_entry kn_name_entry;
typedef struct kn_pub kn_pub;

/* One query's working state: the snapshot, the arena, the error, and two
 * small caches (anchor dates, entity display names) kept in the arena. */
typedef struct kn_ctx {
	st_txn *t;
	ar_arena *a;
	st_err *err;
	int depth; /* nesting of anchor lookups: relative dates anchored to relative dates */
	kn_anchor *anchors;
	size_t n_anchors, cap_anchors;
	kn_name_entry *labels;
	size_t n_labels, cap_labels;
	kn_pub **pubs; /* publications worked out so far (pubdate.c) */
	size_t n_pubs;
	/* Working out a publication's bounds: no other document's bounds are
	 * derived meanwhile (so derivations neither nest nor loop). */
	bool deriving;
} kn_ctx;

void kn_init(kn_ctx *q, st_txn *t, ar_arena *a, st_err *err);
/* Sets err (code and message) and returns code. */
int kn_fail(kn_ctx *q, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- dates ---------------------------------------------------------------- */

/* The asked date of a query: all days [lo, hi], or none (history mode).
 * With pub (at_document), one unknown day P in [lo, hi] — the
 * publication of pub->doc — and bounds anchored to that document move
 * with P (atpub.c); hi may be DATE_LAST_DAY: no last day known. */
typedef struct kn_when {
	bool set;
	int32_t lo, hi;
	const char *text; /* "2019-05", or "the publication of doc:x, 2021-05-13 (day)" */
	const kn_pub *pub;
} kn_when;

/* Resolves d in place (relative dates through their anchors in this
 * snapshot) and gives its range; false when it has none. */
bool kn_date_range(kn_ctx *q, Annals__V1__Date *d, int32_t *lo, int32_t *hi);
/* Resolves both bound dates of iv in place and gives its span. */
void kn_span(kn_ctx *q, Annals__V1__Interval *iv, asof_span *sp);
/* "1992 (year)", "2019-04-30..2019-05-30 (one of these days)",
 * "doc:x-1d? (unresolved: ...)" for a date already passed to kn_date_range. */
const char *kn_date_text(kn_ctx *q, const Annals__V1__Date *d);
/* `at` / `at_document` of a request. `at` may be absent; an all-zero Date
 * counts as absent. Returns ANNALS_OK or an error naming the field. */
int kn_when_of(kn_ctx *q, const Annals__V1__Date *at, const char *at_document, kn_when *w);
/* A request's date range filter bound (TimelineRequest.from/to). */
int kn_bound_of(kn_ctx *q, const Annals__V1__Date *d, const char *field, int32_t *lo, int32_t *hi, bool *set);

/* ---- a document's publication (pubdate.c) ------------------------------------- */

#define KN_PUB_RULE "publication-follows-reported-past"

/* When a document was published: Document.published when usable, else
 * the bounds its own content gives (derived: a first day, no last day). */
struct kn_pub {
	const char *doc; /* the document's id */
	bool known;      /* lo/hi hold a range */
	bool derived;
	bool explained;         /* text, decided_by and evidence are set (kn_pub_of); else bounds alone */
	int rc;                 /* not ANNALS_OK: reading its citations failed (a deadline) */
	int32_t lo, hi;         /* hi == DATE_LAST_DAY: no last day known */
	const char *decided_by; /* derived: the record whose date sets lo */
	Annals__V1__Evidence *evidence; /* derived: its cited span, inferred, with the rule */
	const char *text;               /* "2020-01-01 or later", "2021-05-13 (day)" */
};

/* Worked out once per query and cached in q. */
const kn_pub *kn_pub_of(kn_ctx *q, const Annals__V1__Document *doc);
/* For a "doc:X" anchor whose document has no usable published date: a
 * Date standing for its derived bounds ("2020-01-01 or later"), or NULL. */
Annals__V1__Date *kn_pub_anchor_date(kn_ctx *q, const char *anchor);
/* The reply's Publication message. */
Annals__V1__Publication *kn_pub_message(kn_ctx *q, const kn_pub *p);

/* ---- truth on the asked date ------------------------------------------------- */

/* How a fact stands on the asked days, and why: begun (certainly begun by
 * the first), lasting (certainly not ended by the last), unbegun (not yet
 * begun on the last), over (already ended on the first). */
typedef struct kn_verdict {
	asof_truth truth;
	bool begun, lasting, unbegun, over;
} kn_verdict;

/* iv judged on w: with asof on sp (the span of iv) for a date, or over
 * the possible publication days for at_document (atpub.c). */
void kn_judge(kn_ctx *q, const Annals__V1__Interval *iv, const asof_span *sp, const kn_when *w,
              kn_verdict *v);
/* The same over every publication day in [w->lo, w->hi] (atpub.c). */
void kn_judge_at_pub(kn_ctx *q, const Annals__V1__Interval *iv, const kn_when *w, kn_verdict *v);

/* ---- records ---------------------------------------------------------------- */

Annals__V1__Document *kn_document(kn_ctx *q, const char *ref); /* by id, with or without "doc:" */
/* The same with only id and published filled in (st_document_head). */
Annals__V1__Document *kn_document_head(kn_ctx *q, const char *ref);
Annals__V1__Entity *kn_entity_by_id(kn_ctx *q, const char *id);
int kn_entity(kn_ctx *q, const char *ref, const char *field, Annals__V1__Entity **out);
/* kn_entity for a question that needs only the entity's id and type. */
int kn_entity_head(kn_ctx *q, const char *ref, const char *field, Annals__V1__Entity **out);
/* The current official name, else the first name, else the id. */
const char *kn_display_name(const Annals__V1__Entity *e);
/* Display name of any entity id, cached; "" when there is no such entity. */
const char *kn_name_of(kn_ctx *q, const char *id);
/* kn_name_of, or the id itself when there is no name: for sentences. */
const char *kn_label(kn_ctx *q, const char *id);
const char *kn_type_word(int entity_type);
const char *kn_name_kind_word(int name_kind);

/* What a head's dates were judged to be, kept with it when every date is
 * absolute (heads.c): whether they resolve as stored, and the span. */
typedef struct kh_memo {
	bool set, same;
	asof_span sp;
	const char *phrase[2]; /* kn_bound_phrase of start, end: NULL until asked */
} kh_memo;
/* The calling thread's cache arena: what a memo keeps lives there. */
ar_arena *kh_arena(void);

/* A relation with what the queries need to sort and judge it. */
typedef struct kn_rel {
	Annals__V1__Relation *r;
	/* The stored bytes, when r was decoded without its evidence and its
	 * dates resolve as stored: a reply carries these (kn_put_relation)
	 * and must not read r->evidence. NULL: r is whole. */
	const uint8_t *raw;
	size_t raw_len;
	asof_span sp;
	int32_t key;   /* where it goes in time: its start, else its end, else last */
	int key_side;  /* 0: placed by its end, 1: by its start, 2: not placed */
	kh_memo *memo; /* its shared head's, when every date is absolute; else NULL */
} kn_rel;

/* Puts qr's relation into a reply message m at *slot, a field of m named
 * `field`: the stored bytes spliced in when qr has them, else qr->r. */
void kn_put_relation(kn_ctx *q, ProtobufCMessage *m, Annals__V1__Relation **slot, const char *field,
                     const kn_rel *qr);
/* Whether resolving a decoded date changed what its stored bytes said
 * (kn_date_snap before, kn_date_same after): then the stored bytes are not
 * the answer's and the record goes out decoded. */
typedef struct kn_date_snap {
	bool present, resolved;
	int32_t earliest, latest;
} kn_date_snap;
void kn_date_snap_of(const Annals__V1__Date *d, kn_date_snap *s);
bool kn_date_same(const Annals__V1__Date *d, const kn_date_snap *s);

/* heads.c: the relation stored as data[0, len) under id, decoded without
 * its evidence, from this thread's cache when the same bytes were decoded
 * before, with its memo. Shared: judge its dates on a copy
 * (kn_collect_relation). NULL: the bytes do not parse. */
Annals__V1__Relation *kh_relation(const char *id, const uint8_t *data, size_t len, kh_memo **memo);
/* The same for an event, without place, participants, links, attributes
 * and evidence (what a timeline reads: id, type, summary, date, status). */
Annals__V1__Event *kh_event(const char *id, const uint8_t *data, size_t len, kh_memo **memo);
/* Whether d is absolute (no anchor): it resolves by its own fields alone. */
bool kn_date_absolute(const Annals__V1__Date *d);
/* Resolves a copy of d; whether it resolves now as stored (d unchanged). */
bool kn_date_as_stored(kn_ctx *q, const Annals__V1__Date *d);

/* Relations of `entity` as subject (inverse: as object), one predicate or
 * all (NULL/""), only those whose other side is `other` (NULL/"" for any);
 * spans computed. Sorted by kn_rel_cmp. */
int kn_relations(kn_ctx *q, const char *entity, const char *predicate, bool inverse, const char *other,
                 kn_rel ***out, size_t *n);
/* Time order: by key; at equal keys a tenure placed by its end comes
 * before one placed by its start (the predecessor ended as the successor
 * began); then by id. */
int kn_rel_cmp(const void *a, const void *b);

/* The RelationFact for r: truth on w (UNSPECIFIED without a date), a
 * reason in words, and the subject's and object's names. */
Annals__V1__RelationFact *kn_fact(kn_ctx *q, const kn_rel *qr, const kn_when *w);
/* "started 1992 (year)", "no end stated", ... */
const char *kn_bound_phrase(kn_ctx *q, const Annals__V1__Bound *b, bool start);
/* "started 1992 (year); no end stated" for any interval (NULL: "always"). */
const char *kn_interval_phrase(kn_ctx *q, Annals__V1__Interval *iv);

/* ---- ties (ties.c) -------------------------------------------------------------- */

/* An entity tied to another, and the predicate (a relation's or an
 * attribute key) that ties them. */
typedef struct kn_tie {
	const char *entity;
	const char *predicate;
} kn_tie;

/* The entities tied to e by the predicates in via (relations and
 * attribute refs, either way), each once, e itself never; no predicates:
 * the defaults for e's type (an organization: its founding treaty, offices
 * and bodies). followed: the predicates looked at. */
int kn_ties(kn_ctx *q, const Annals__V1__Entity *e, char *const *via, size_t n_via, kn_tie ***out, size_t *n,
            char ***followed, size_t *n_followed);

/* A stable merge sort of n pointers, scratch space from the arena. */
void kn_sort(kn_ctx *q, void **items, size_t n, int (*cmp)(const void *, const void *));

#endif

/*
 * The shared half of the knowledge queries: the query context, dates and
 * anchors, entity references, relation facts and their reasons. See
 * kn_int.h; the queries themselves are in resolve.c, relations.c,
 * timeline.c and evidence.c (entry points: knowledge.h).
 */
#include "common/pbwire.h"
#include "common/utf8.h"
#include "knowledge/kn_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct kn_anchor {
	const char *anchor;
	const Annals__V1__Date *date; /* NULL: no usable date, or still being resolved */
};

struct kn_name_entry {
	const char *id;
	const char *name;
};

void kn_init(kn_ctx *q, st_txn *t, ar_arena *a, st_err *err)
{
	memset(q, 0, sizeof(*q));
	q->t = t;
	q->a = a;
	q->err = err;
	if (err != NULL) {
		err->code = ANNALS_OK;
		err->msg[0] = '\0';
	}
}

int kn_fail(kn_ctx *q, int code, const char *fmt, ...)
{
	if (q->err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(q->err->msg, sizeof(q->err->msg), fmt, ap);
		va_end(ap);
		utf8_scrub(q->err->msg);
		q->err->code = code;
	}
	return code;
}

/* Grows an arena array of `size`-byte elements to hold one more. */
static void *kn_grow(kn_ctx *q, void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *grown = ar_alloc(q->a, ncap * size);
	if (n)
		memcpy(grown, arr, n * size);
	*cap = ncap;
	return grown;
}

/* ---- sorting without the heap ------------------------------------------------ */

static void kn_merge(void **items, void **tmp, size_t n, int (*cmp)(const void *, const void *))
{
	if (n < 2)
		return;
	size_t half = n / 2;
	kn_merge(items, tmp, half, cmp);
	kn_merge(items + half, tmp, n - half, cmp);
	size_t i = 0, j = half, k = 0;
	while (i < half && j < n)
		tmp[k++] = cmp(items[j], items[i]) < 0 ? items[j++] : items[i++];
	while (i < half)
		tmp[k++] = items[i++];
	while (j < n)
		tmp[k++] = items[j++];
	memcpy(items, tmp, n * sizeof(*items));
}

void kn_sort(kn_ctx *q, void **items, size_t n, int (*cmp)(const void *, const void *))
{
	if (n < 2)
		return;
	void **tmp = ar_alloc(q->a, n * sizeof(*tmp));
	kn_merge(items, tmp, n, cmp);
}

/* ---- records ------------------------------------------------------------------ */

Annals__V1__Entity *kn_entity_by_id(kn_ctx *q, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return NULL;
	return st_load_entity(q->t, id, q->a);
}

/* Document ids are written with or without a "doc:" prefix, so anchors and
 * requests find them either way. */
static Annals__V1__Document *kn_document_by(kn_ctx *q, const char *ref,
                                            Annals__V1__Document *(*load)(st_txn *, const char *, ar_arena *))
{
	if (ref == NULL || ref[0] == '\0')
		return NULL;
	Annals__V1__Document *d = load(q->t, ref, q->a);
	if (d != NULL)
		return d;
	if (strncmp(ref, "doc:", 4) == 0 && ref[4] != '\0')
		return load(q->t, ref + 4, q->a);
	return load(q->t, ar_printf(q->a, "doc:%s", ref), q->a);
}

Annals__V1__Document *kn_document(kn_ctx *q, const char *ref)
{
	return kn_document_by(q, ref, st_load_document);
}

Annals__V1__Document *kn_document_head(kn_ctx *q, const char *ref)
{
	return kn_document_by(q, ref, st_document_head);
}

/* ---- dates and anchors ----------------------------------------------------------- */

static kn_anchor *kn_anchor_find(kn_ctx *q, const char *anchor)
{
	for (size_t i = 0; i < q->n_anchors; i++)
		if (strcmp(q->anchors[i].anchor, anchor) == 0)
			return &q->anchors[i];
	return NULL;
}

/* The date an anchor stands for, itself resolved; NULL when unknown. */
static const Annals__V1__Date *kn_anchor_date(void *ctx, const char *anchor)
{
	kn_ctx *q = ctx;
	kn_anchor *hit = kn_anchor_find(q, anchor);
	if (hit != NULL)
		return hit->date; /* NULL while in progress: a cycle resolves to nothing */
	if (q->depth >= DATE_ANCHOR_DEPTH)
		return NULL;
	q->anchors = kn_grow(q, q->anchors, q->n_anchors, &q->cap_anchors, sizeof(*q->anchors));
	size_t slot = q->n_anchors++;
	q->anchors[slot].anchor = ar_strdup(q->a, anchor);
	q->anchors[slot].date = NULL;

	/* what the anchor names: the store's one rule, as at write time */
	Annals__V1__Date *d = (Annals__V1__Date *)st_anchor_date(q->t, anchor, q->a);
	int32_t lo, hi;
	q->depth++;
	bool ok = d != NULL && kn_date_range(q, d, &lo, &hi);
	if (!ok) { /* a document with no usable date: the bounds its content gives, if any */
		d = kn_pub_anchor_date(q, anchor);
		ok = d != NULL;
	}
	q->depth--;
	/* the array may have grown (and moved) while resolving */
	q->anchors[slot].date = ok ? d : NULL;
	return ok ? d : NULL;
}

bool kn_date_range(kn_ctx *q, Annals__V1__Date *d, int32_t *lo, int32_t *hi)
{
	if (d == NULL)
		return false;
	date_resolve(d, kn_anchor_date, q);
	if (d->anchor == NULL || d->anchor[0] == '\0') {
		/* an absolute date's range is what resolving it just set (date_range would
		 * work it out from year/month/day again) */
		*lo = d->earliest;
		*hi = d->latest;
		return d->resolved;
	}
	return date_range(d, lo, hi);
}

static void kn_bound_resolve(kn_ctx *q, Annals__V1__Bound *b)
{
	int32_t lo, hi;
	if (b != NULL && b->date != NULL)
		(void)kn_date_range(q, b->date, &lo, &hi);
}

void kn_span(kn_ctx *q, Annals__V1__Interval *iv, asof_span *sp)
{
	if (iv != NULL) {
		kn_bound_resolve(q, iv->start);
		kn_bound_resolve(q, iv->end);
	}
	asof_span_of(iv, sp);
}

static const char *const kn_precision_words[] = {"no precision", "year", "month", "day"};

const char *kn_date_text(kn_ctx *q, const Annals__V1__Date *d)
{
	char buf[160];
	int32_t lo, hi;
	if (d == NULL)
		return "no date";
	date_format(d, buf, sizeof(buf));
	if (!date_range(d, &lo, &hi)) {
		if (d->anchor != NULL && d->anchor[0] != '\0')
			return ar_printf(q->a, "%s (unresolved: its anchor has no known date)", buf);
		return ar_printf(q->a, "%s (not a usable date)", buf);
	}
	if (date_open_end(d)) /* "2019-12-31 or later": no precision to name */
		return ar_strdup(q->a, buf);
	if (strstr(buf, "..") != NULL)
		return ar_printf(q->a, "%s (one of these days)", buf);
	unsigned p = (unsigned)d->precision;
	return AR_CONCAT(q->a, buf, " (", kn_precision_words[p < 4 ? p : 0], ")");
}

/* An all-zero Date is what a client sends when it fills every field:
 * take it as "no date" rather than as an error. */
static bool kn_date_empty(const Annals__V1__Date *d)
{
	return d == NULL || (d->precision == 0 && d->year == 0 && d->month == 0 && d->day == 0 &&
	                     (d->anchor == NULL || d->anchor[0] == '\0') && d->offset_years == 0 &&
	                     d->offset_months == 0 && d->offset_days == 0);
}

/* Validates and resolves a date a client sent (a copy in the arena). */
static int kn_client_date(kn_ctx *q, const Annals__V1__Date *in, const char *field, int32_t *lo, int32_t *hi,
                          const char **text)
{
	char reason[200];
	if (date_validate(in, reason, sizeof(reason)) != 0)
		return kn_fail(q, ANNALS_INVALID_ARGUMENT, "%s.%s", field, reason);
	Annals__V1__Date *d = ar_alloc(q->a, sizeof(*d));
	*d = *in;
	d->anchor = ar_strdup(q->a, in->anchor ? in->anchor : "");
	if (!kn_date_range(q, d, lo, hi)) {
		char buf[160];
		return kn_fail(q, ANNALS_FAILED_PRECONDITION,
		               "%s: %s cannot be resolved: %s has no known date", field,
		               date_format(d, buf, sizeof(buf)), d->anchor);
	}
	if (text != NULL)
		*text = kn_date_text(q, d);
	return ANNALS_OK;
}

int kn_when_of(kn_ctx *q, const Annals__V1__Date *at, const char *at_document, kn_when *w)
{
	memset(w, 0, sizeof(*w));
	bool have_doc = at_document != NULL && at_document[0] != '\0';
	if (have_doc && !kn_date_empty(at))
		return kn_fail(q, ANNALS_INVALID_ARGUMENT,
		               "at_document: give either at or at_document, not both");
	if (have_doc) {
		Annals__V1__Document *doc = kn_document_head(q, at_document); /* its id and date */
		if (doc == NULL)
			return kn_fail(q, ANNALS_NOT_FOUND, "at_document: no document '%s'", at_document);
		const kn_pub *p = kn_pub_of(q, doc);
		if (p->rc != ANNALS_OK)
			return kn_fail(q, p->rc, "at_document: reading what %s reports failed", doc->id);
		if (!p->known)
			return kn_fail(
			    q, ANNALS_FAILED_PRECONDITION,
			    "at_document: document %s has no known publication date, and nothing it "
			    "reports as past bounds it",
			    doc->id);
		w->set = true;
		w->lo = p->lo;
		w->hi = p->hi;
		w->pub = p;
		w->text = ar_printf(q->a, "the publication of %s, %s", doc->id, p->text);
		return ANNALS_OK;
	}
	if (kn_date_empty(at))
		return ANNALS_OK;
	int rc = kn_client_date(q, at, "at", &w->lo, &w->hi, &w->text);
	w->set = rc == ANNALS_OK;
	return rc;
}

int kn_bound_of(kn_ctx *q, const Annals__V1__Date *d, const char *field, int32_t *lo, int32_t *hi, bool *set)
{
	*set = false;
	if (kn_date_empty(d))
		return ANNALS_OK;
	int rc = kn_client_date(q, d, field, lo, hi, NULL);
	*set = rc == ANNALS_OK;
	return rc;
}

/* ---- entities and names ---------------------------------------------------------- */

static bool kn_name_is_current(const Annals__V1__Name *n)
{
	return n->valid == NULL || n->valid->end == NULL ||
	       n->valid->end->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED;
}

/* st_label_of (label.c) applies the same rule to an Entity's stored bytes;
 * change both together (test_knowledge compares them on every entity). */
const char *kn_display_name(const Annals__V1__Entity *e)
{
	for (size_t i = 0; i < e->n_names; i++)
		if (e->names[i]->kind == ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL &&
		    kn_name_is_current(e->names[i]))
			return e->names[i]->text;
	if (e->n_names > 0 && e->names[0]->text[0] != '\0')
		return e->names[0]->text;
	return e->id;
}

const char *kn_name_of(kn_ctx *q, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return "";
	for (size_t i = 0; i < q->n_labels; i++)
		if (strcmp(q->labels[i].id, id) == 0)
			return q->labels[i].name;
	const char *name = st_entity_label(q->t, id, q->a); /* no unpacking of the whole entity */
	q->labels = kn_grow(q, q->labels, q->n_labels, &q->cap_labels, sizeof(*q->labels));
	q->labels[q->n_labels].id = ar_strdup(q->a, id);
	q->labels[q->n_labels].name = name ? name : "";
	return q->labels[q->n_labels++].name;
}

const char *kn_label(kn_ctx *q, const char *id)
{
	const char *name = kn_name_of(q, id);
	return name[0] != '\0' ? name : id;
}

const char *kn_type_word(int entity_type)
{
	static const char *const words[] = {"entity",   "person", "organization", "country",      "place",
	                                    "position", "treaty", "group",        "media source", "document"};
	return entity_type >= 0 && entity_type < 10 ? words[entity_type] : "entity";
}

const char *kn_name_kind_word(int name_kind)
{
	static const char *const words[] = {"name", "official name", "acronym", "alias", "former name"};
	return name_kind >= 0 && name_kind < 5 ? words[name_kind] : "name";
}

int kn_entity(kn_ctx *q, const char *ref, const char *field, Annals__V1__Entity **out)
{
	return st_entity_ref(q->t, ref, field, q->a, out, q->err);
}

int kn_entity_head(kn_ctx *q, const char *ref, const char *field, Annals__V1__Entity **out)
{
	return st_entity_ref_head(q->t, ref, field, q->a, out, q->err);
}

/* ---- relations -------------------------------------------------------------------- */

int kn_rel_cmp(const void *x, const void *y)
{
	const kn_rel *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->key_side != b->key_side)
		return a->key_side < b->key_side ? -1 : 1;
	return strcmp(a->r->id, b->r->id);
}

static bool kn_bound_day(kn_ctx *q, Annals__V1__Bound *b, int32_t *lo)
{
	int32_t hi;
	return b != NULL && b->kind != ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED &&
	       kn_date_range(q, b->date, lo, &hi);
}

/* Placing a fact in time: by its start; with no usable start, by its end
 * (it precedes whatever starts at or after that end); with neither, last.
 * A fact with no validity at all always held: first. */
static void kn_rel_place(kn_ctx *q, kn_rel *qr)
{
	Annals__V1__Interval *iv = qr->r->valid;
	qr->key = DATE_POS_INF;
	qr->key_side = 2;
	if (iv == NULL) {
		qr->key = DATE_NEG_INF;
		qr->key_side = 1;
	} else if (kn_bound_day(q, iv->start, &qr->key)) {
		qr->key_side = 1;
	} else if (kn_bound_day(q, iv->end, &qr->key)) {
		qr->key_side = 0;
	}
}

typedef struct kn_rel_scan {
	kn_ctx *q;
	bool inverse;
	const char *other;
	kn_rel **items;
	size_t n;
	int rc;
} kn_rel_scan;

void kn_date_snap_of(const Annals__V1__Date *d, kn_date_snap *s)
{
	*s = (kn_date_snap){.present = d != NULL};
	if (d != NULL) {
		s->resolved = d->resolved;
		s->earliest = d->earliest;
		s->latest = d->latest;
	}
}

bool kn_date_same(const Annals__V1__Date *d, const kn_date_snap *s)
{
	if (d == NULL || !s->present)
		return d == NULL && !s->present;
	return (bool)d->resolved == s->resolved && d->earliest == s->earliest && d->latest == s->latest;
}

bool kn_date_absolute(const Annals__V1__Date *d)
{
	return d == NULL || d->anchor == NULL || d->anchor[0] == '\0';
}

static bool kn_interval_absolute(const Annals__V1__Interval *iv)
{
	return iv == NULL || ((iv->start == NULL || kn_date_absolute(iv->start->date)) &&
	                      (iv->end == NULL || kn_date_absolute(iv->end->date)));
}

bool kn_date_as_stored(kn_ctx *q, const Annals__V1__Date *d)
{
	if (d == NULL)
		return true;
	Annals__V1__Date copy = *d; /* resolving writes only its scalars */
	int32_t lo, hi;
	(void)kn_date_range(q, &copy, &lo, &hi);
	kn_date_snap was;
	kn_date_snap_of(d, &was);
	return kn_date_same(&copy, &was);
}

/* Whether iv's dates (a shared head's, heads.c) resolve now as stored,
 * judged on copies so iv stays as stored; then the span is iv's own. */
static bool kn_span_as_stored(kn_ctx *q, const Annals__V1__Interval *iv, asof_span *sp)
{
	bool same = iv == NULL || ((iv->start == NULL || kn_date_as_stored(q, iv->start->date)) &&
	                           (iv->end == NULL || kn_date_as_stored(q, iv->end->date)));
	if (same) /* the stored dates are the resolved ones: the span reads them */
		asof_span_of(iv, sp);
	return same;
}

static int kn_collect_relation(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	kn_rel_scan *s = ctx;
	kn_rel *qr = ar_alloc(s->q->a, sizeof(*qr));
	/* lean: the head decoded without evidence (this thread's cache,
	 * heads.c), stored bytes spliced into the reply; a full-scan snapshot
	 * (the tests' straightforward way) decodes all */
	bool lean = data != NULL && len > 0 && !st_txn_full_scans(s->q->t);
	kh_memo *memo = NULL;
	if (lean && (qr->r = kh_relation(id, data, len, &memo)) != NULL) {
		qr->raw = data;
		qr->raw_len = len;
	} else {
		qr->r = data != NULL && len > 0 ? annals__v1__relation__unpack(ar_pbc(s->q->a), len, data)
		                                : st_load_relation(s->q->t, id, s->q->a);
	}
	Annals__V1__Relation *r = qr->r;
	if (r == NULL) {
		s->rc = kn_fail(s->q, ANNALS_DATA_LOSS, "relation %s cannot be read", id);
		return 1;
	}
	const char *counterpart = s->inverse ? r->subject : r->object;
	if (s->other != NULL && s->other[0] != '\0' && strcmp(counterpart, s->other) != 0)
		return 0;
	bool same = true;
	if (qr->raw == NULL) {
		kn_span(s->q, r->valid, &qr->sp);
	} else if (memo != NULL && memo->set) { /* all its dates absolute, judged before */
		same = memo->same;
		qr->sp = memo->sp;
	} else {
		same = kn_span_as_stored(s->q, r->valid, &qr->sp);
		if (memo != NULL)
			*memo = (kh_memo){.set = kn_interval_absolute(r->valid), .same = same, .sp = qr->sp};
	}
	if (!same) {
		/* its dates resolve otherwise now than when stored: the answer
		 * carries them decoded, from a copy of its own */
		qr->raw = NULL;
		qr->r = annals__v1__relation__unpack(ar_pbc(s->q->a), len, data);
		if (qr->r == NULL) {
			s->rc = kn_fail(s->q, ANNALS_DATA_LOSS, "relation %s cannot be read", id);
			return 1;
		}
		kn_span(s->q, qr->r->valid, &qr->sp);
	}
	if (qr->raw != NULL && memo != NULL && memo->set)
		qr->memo = memo; /* pure: its phrases may be kept (kn_rel_phrase) */
	kn_rel_place(s->q, qr);
	AR_PUSH(s->q->a, s->items, s->n, qr);
	return 0;
}

void kn_put_relation(kn_ctx *q, ProtobufCMessage *m, Annals__V1__Relation **slot, const char *field,
                     const kn_rel *qr)
{
	if (qr->raw != NULL) {
		*slot = NULL;
		pbw_splice(q->a, m, field, qr->raw, qr->raw_len);
	} else {
		*slot = qr->r;
	}
}

int kn_relations(kn_ctx *q, const char *entity, const char *predicate, bool inverse, const char *other,
                 kn_rel ***out, size_t *n)
{
	kn_rel_scan s = {.q = q, .inverse = inverse, .other = other, .rc = ANNALS_OK};
	int rc = st_scan_relations(q->t, entity, predicate && predicate[0] ? predicate : NULL, inverse,
	                           kn_collect_relation, &s);
	if (s.rc != ANNALS_OK)
		return s.rc;
	if (rc != ANNALS_OK)
		return kn_fail(q, rc, "reading the relations of %s failed", entity);
	kn_sort(q, (void **)s.items, s.n, kn_rel_cmp);
	*out = s.items;
	*n = s.n;
	return ANNALS_OK;
}

/* ---- reasons ------------------------------------------------------------------------- */

const char *kn_bound_phrase(kn_ctx *q, const Annals__V1__Bound *b, bool start)
{
	int kind = b ? (int)b->kind : ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED;
	if (kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED)
		return start ? "start not stated" : "no end stated";
	const char *when = kn_date_text(q, b->date);
	switch (kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		return AR_CONCAT(q->a, start ? "started " : "ended ", when);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
		return start ? ar_printf(q->a, "observed holding %s, so started then or earlier", when)
		             : ar_printf(q->a, "observed still holding %s, so ended then or later, if at all",
		                         when);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		return AR_CONCAT(q->a, start ? "started at or before " : "ended at or before ", when);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		return start ? ar_printf(q->a, "started at or after %s", when)
		             : ar_printf(q->a, "ended at or after %s, or has not ended", when);
	default:
		return ar_printf(q->a, "%s of unknown kind %d at %s", start ? "start" : "end", kind, when);
	}
}

const char *kn_interval_phrase(kn_ctx *q, Annals__V1__Interval *iv)
{
	asof_span sp;
	kn_span(q, iv, &sp); /* resolves the dates the phrases print */
	if (iv == NULL)
		return "always (no validity given)";
	return ar_printf(q->a, "%s; %s", kn_bound_phrase(q, iv->start, true),
	                 kn_bound_phrase(q, iv->end, false));
}

void kn_judge(kn_ctx *q, const Annals__V1__Interval *iv, const asof_span *sp, const kn_when *w, kn_verdict *v)
{
	if (w->pub != NULL) {
		kn_judge_at_pub(q, iv, w, v);
		return;
	}
	v->begun = sp->s_hi <= w->lo;
	v->lasting = w->hi < sp->e_lo && !(sp->e_hi <= w->lo);
	v->unbegun = w->hi < sp->s_lo;
	v->over = sp->e_hi <= w->lo;
	v->truth = asof_eval(sp, w->lo, w->hi); /* the same tests, in one place */
}

/* kn_bound_phrase of qr's start or end. A phrase of absolute dates is a
 * function of the stored bytes alone, so a shared head keeps it in its
 * memo, in the thread's cache arena (heads.c). */
static const char *kn_rel_phrase(kn_ctx *q, const kn_rel *qr, bool start)
{
	const Annals__V1__Interval *iv = qr->r->valid;
	const Annals__V1__Bound *b = iv == NULL ? NULL : start ? iv->start : iv->end;
	if (qr->memo == NULL)
		return kn_bound_phrase(q, b, start);
	const char **kept = &qr->memo->phrase[start ? 0 : 1];
	if (*kept == NULL) {
		ar_arena *call = q->a;
		q->a = kh_arena();
		*kept = kn_bound_phrase(q, b, start);
		q->a = call;
	}
	return *kept;
}

/* Why a fact has verdict v on w: the bound (or bounds) that decide it. */
static const char *kn_reason(kn_ctx *q, const kn_rel *qr, const kn_when *w, const kn_verdict *v)
{
	Annals__V1__Interval *iv = qr->r->valid;
	const char *why;
	if (iv == NULL)
		why = "always (no validity given)";
	else if (!w->set || v->truth == ASOF_TRUE)
		why = AR_CONCAT(q->a, kn_rel_phrase(q, qr, true), "; ", kn_rel_phrase(q, qr, false));
	else if (v->truth == ASOF_FALSE && v->unbegun)
		why = ar_printf(q->a, "not yet begun on %s: %s", w->text, kn_rel_phrase(q, qr, true));
	else if (v->truth == ASOF_FALSE)
		why = ar_printf(q->a, "over by %s: %s", w->text, kn_rel_phrase(q, qr, false));
	else if (!v->begun && !v->lasting)
		why = ar_printf(q->a, "unknown on %s: may not have begun (%s) and may have ended (%s)",
		                w->text, kn_rel_phrase(q, qr, true), kn_rel_phrase(q, qr, false));
	else if (!v->begun)
		why = ar_printf(q->a, "unknown on %s: may not have begun: %s", w->text,
		                kn_rel_phrase(q, qr, true));
	else
		why = ar_printf(q->a, "unknown on %s: may have ended: %s", w->text,
		                kn_rel_phrase(q, qr, false));
	if (qr->r->note != NULL && qr->r->note[0] != '\0')
		why = AR_CONCAT(q->a, why, "; note: ", qr->r->note);
	return why;
}

Annals__V1__RelationFact *kn_fact(kn_ctx *q, const kn_rel *qr, const kn_when *w)
{
	Annals__V1__RelationFact *f = AR_NEW(q->a, Annals__V1__RelationFact, ANNALS__V1__RELATION_FACT__INIT);
	kn_verdict v = {.truth = ASOF_UNKNOWN};
	kn_put_relation(q, &f->base, &f->relation, "relation", qr);
	if (w->set) {
		kn_judge(q, qr->r->valid, &qr->sp, w, &v);
		f->truth = (Annals__V1__Truth)v.truth;
	}
	f->reason = (char *)kn_reason(q, qr, w, &v);
	f->subject_name = (char *)kn_name_of(q, qr->r->subject);
	f->object_name = (char *)kn_name_of(q, qr->r->object);
	return f;
}

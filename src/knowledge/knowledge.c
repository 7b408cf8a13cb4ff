/*
 * The shared half of the knowledge queries: the query context, dates and
 * anchors, entity references, relation facts and their reasons. See
 * query_knowledge.h; the queries themselves are in query_resolve.c,
 * query_relations.c, query_timeline.c and query_evidence.c.
 */
#include "common/utf8.h"
#include "store/query_knowledge.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define QK_MAX_ANCHOR_DEPTH 8 /* relative dates chained deeper than this stay unresolved */
#define QK_AMBIGUOUS_SHOWN 6  /* candidates listed in an "ambiguous" message */

struct qk_anchor {
	const char *anchor;
	const Annals__V1__Date *date; /* NULL: no usable date, or still being resolved */
};

struct qk_name_entry {
	const char *id;
	const char *name;
};

void qk_init(qk *q, st_txn *t, ar_arena *a, st_err *err)
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

int qk_fail(qk *q, int code, const char *fmt, ...)
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
static void *qk_grow(qk *q, void *arr, size_t n, size_t *cap, size_t size)
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

static void qk_merge(void **items, void **tmp, size_t n, int (*cmp)(const void *, const void *))
{
	if (n < 2)
		return;
	size_t half = n / 2;
	qk_merge(items, tmp, half, cmp);
	qk_merge(items + half, tmp, n - half, cmp);
	size_t i = 0, j = half, k = 0;
	while (i < half && j < n)
		tmp[k++] = cmp(items[j], items[i]) < 0 ? items[j++] : items[i++];
	while (i < half)
		tmp[k++] = items[i++];
	while (j < n)
		tmp[k++] = items[j++];
	memcpy(items, tmp, n * sizeof(*items));
}

void qk_sort(qk *q, void **items, size_t n, int (*cmp)(const void *, const void *))
{
	if (n < 2)
		return;
	void **tmp = ar_alloc(q->a, n * sizeof(*tmp));
	qk_merge(items, tmp, n, cmp);
}

/* ---- records ------------------------------------------------------------------ */

Annals__V1__Entity *qk_entity_by_id(qk *q, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return NULL;
	return st_load_entity(q->t, id, q->a);
}

/* Document ids are written with or without a "doc:" prefix, so anchors and
 * requests find them either way. */
Annals__V1__Document *qk_document(qk *q, const char *ref)
{
	if (ref == NULL || ref[0] == '\0')
		return NULL;
	Annals__V1__Document *d = st_load_document(q->t, ref, q->a);
	if (d != NULL)
		return d;
	if (strncmp(ref, "doc:", 4) == 0 && ref[4] != '\0')
		return st_load_document(q->t, ref + 4, q->a);
	return st_load_document(q->t, ar_printf(q->a, "doc:%s", ref), q->a);
}

static Annals__V1__Event *qk_event(qk *q, const char *ref)
{
	Annals__V1__Event *e = st_load_event(q->t, ref, q->a);
	if (e == NULL && strncmp(ref, "event:", 6) == 0 && ref[6] != '\0')
		e = st_load_event(q->t, ref + 6, q->a);
	return e;
}

/* ---- dates and anchors ----------------------------------------------------------- */

static qk_anchor *qk_anchor_find(qk *q, const char *anchor)
{
	for (size_t i = 0; i < q->n_anchors; i++)
		if (strcmp(q->anchors[i].anchor, anchor) == 0)
			return &q->anchors[i];
	return NULL;
}

/* The date an anchor stands for, itself resolved; NULL when unknown. */
static const Annals__V1__Date *qk_anchor_date(void *ctx, const char *anchor)
{
	qk *q = ctx;
	qk_anchor *hit = qk_anchor_find(q, anchor);
	if (hit != NULL)
		return hit->date; /* NULL while in progress: a cycle resolves to nothing */
	if (q->depth >= QK_MAX_ANCHOR_DEPTH)
		return NULL;
	q->anchors = qk_grow(q, q->anchors, q->n_anchors, &q->cap_anchors, sizeof(*q->anchors));
	size_t slot = q->n_anchors++;
	q->anchors[slot].anchor = ar_strdup(q->a, anchor);
	q->anchors[slot].date = NULL;

	Annals__V1__Date *d = NULL;
	if (strncmp(anchor, "doc:", 4) == 0) {
		Annals__V1__Document *doc = qk_document(q, anchor);
		d = doc ? doc->published : NULL;
	} else if (strncmp(anchor, "event:", 6) == 0) {
		Annals__V1__Event *ev = qk_event(q, anchor + 6);
		if (ev == NULL)
			ev = qk_event(q, anchor);
		d = ev ? ev->when : NULL;
	}
	int32_t lo, hi;
	q->depth++;
	bool ok = d != NULL && qk_date_range(q, d, &lo, &hi);
	q->depth--;
	/* the array may have grown (and moved) while resolving */
	q->anchors[slot].date = ok ? d : NULL;
	return ok ? d : NULL;
}

bool qk_date_range(qk *q, Annals__V1__Date *d, int32_t *lo, int32_t *hi)
{
	if (d == NULL)
		return false;
	date_resolve(d, qk_anchor_date, q);
	return date_range(d, lo, hi);
}

static void qk_bound_resolve(qk *q, Annals__V1__Bound *b)
{
	int32_t lo, hi;
	if (b != NULL && b->date != NULL)
		(void)qk_date_range(q, b->date, &lo, &hi);
}

void qk_span(qk *q, Annals__V1__Interval *iv, asof_span *sp)
{
	if (iv != NULL) {
		qk_bound_resolve(q, iv->start);
		qk_bound_resolve(q, iv->end);
	}
	asof_span_of(iv, sp);
}

static const char *const qk_precision_words[] = {"no precision", "year", "month", "day"};

const char *qk_date_text(qk *q, const Annals__V1__Date *d)
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
	if (strstr(buf, "..") != NULL)
		return ar_printf(q->a, "%s (one of these days)", buf);
	unsigned p = (unsigned)d->precision;
	return ar_printf(q->a, "%s (%s)", buf, qk_precision_words[p < 4 ? p : 0]);
}

/* An all-zero Date is what a client sends when it fills every field:
 * take it as "no date" rather than as an error. */
static bool qk_date_empty(const Annals__V1__Date *d)
{
	return d == NULL || (d->precision == 0 && d->year == 0 && d->month == 0 && d->day == 0 &&
	                     (d->anchor == NULL || d->anchor[0] == '\0') && d->offset_years == 0 &&
	                     d->offset_months == 0 && d->offset_days == 0);
}

/* Validates and resolves a date a client sent (a copy in the arena). */
static int qk_client_date(qk *q, const Annals__V1__Date *in, const char *field, int32_t *lo, int32_t *hi,
                          const char **text)
{
	char reason[200];
	if (date_validate(in, reason, sizeof(reason)) != 0)
		return qk_fail(q, ANNALS_INVALID_ARGUMENT, "%s.%s", field, reason);
	Annals__V1__Date *d = ar_alloc(q->a, sizeof(*d));
	*d = *in;
	d->anchor = ar_strdup(q->a, in->anchor ? in->anchor : "");
	if (!qk_date_range(q, d, lo, hi)) {
		char buf[160];
		return qk_fail(q, ANNALS_FAILED_PRECONDITION, "%s: %s cannot be resolved: %s has no known date",
		               field, date_format(d, buf, sizeof(buf)), d->anchor);
	}
	if (text != NULL)
		*text = qk_date_text(q, d);
	return ANNALS_OK;
}

int qk_when_of(qk *q, const Annals__V1__Date *at, const char *at_document, qk_when *w)
{
	memset(w, 0, sizeof(*w));
	bool have_doc = at_document != NULL && at_document[0] != '\0';
	if (have_doc && !qk_date_empty(at))
		return qk_fail(q, ANNALS_INVALID_ARGUMENT, "at_document: give either at or at_document, not both");
	if (have_doc) {
		Annals__V1__Document *doc = qk_document(q, at_document);
		if (doc == NULL)
			return qk_fail(q, ANNALS_NOT_FOUND, "at_document: no document '%s'", at_document);
		if (!qk_date_range(q, doc->published, &w->lo, &w->hi))
			return qk_fail(q, ANNALS_FAILED_PRECONDITION, "at_document: document %s has no known publication date",
			               doc->id);
		w->set = true;
		w->text = ar_printf(q->a, "the publication of %s, %s", doc->id, qk_date_text(q, doc->published));
		return ANNALS_OK;
	}
	if (qk_date_empty(at))
		return ANNALS_OK;
	int rc = qk_client_date(q, at, "at", &w->lo, &w->hi, &w->text);
	w->set = rc == ANNALS_OK;
	return rc;
}

int qk_bound_of(qk *q, const Annals__V1__Date *d, const char *field, int32_t *lo, int32_t *hi, bool *set)
{
	*set = false;
	if (qk_date_empty(d))
		return ANNALS_OK;
	int rc = qk_client_date(q, d, field, lo, hi, NULL);
	*set = rc == ANNALS_OK;
	return rc;
}

/* ---- entities and names ---------------------------------------------------------- */

static bool qk_name_is_current(const Annals__V1__Name *n)
{
	return n->valid == NULL || n->valid->end == NULL ||
	       n->valid->end->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED;
}

/* st_label_of (label.c) applies the same rule to an Entity's stored bytes;
 * change both together (test_knowledge compares them on every entity). */
const char *qk_display_name(const Annals__V1__Entity *e)
{
	for (size_t i = 0; i < e->n_names; i++)
		if (e->names[i]->kind == ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL && qk_name_is_current(e->names[i]))
			return e->names[i]->text;
	if (e->n_names > 0 && e->names[0]->text[0] != '\0')
		return e->names[0]->text;
	return e->id;
}

const char *qk_name_of(qk *q, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return "";
	for (size_t i = 0; i < q->n_labels; i++)
		if (strcmp(q->labels[i].id, id) == 0)
			return q->labels[i].name;
	const char *name = st_entity_label(q->t, id, q->a); /* no unpacking of the whole entity */
	q->labels = qk_grow(q, q->labels, q->n_labels, &q->cap_labels, sizeof(*q->labels));
	q->labels[q->n_labels].id = ar_strdup(q->a, id);
	q->labels[q->n_labels].name = name ? name : "";
	return q->labels[q->n_labels++].name;
}

const char *qk_label(qk *q, const char *id)
{
	const char *name = qk_name_of(q, id);
	return name[0] != '\0' ? name : id;
}

const char *qk_type_word(int entity_type)
{
	static const char *const words[] = {"entity", "person", "organization", "country", "place",
	                                     "position", "treaty", "group", "media source", "document"};
	return entity_type >= 0 && entity_type < 10 ? words[entity_type] : "entity";
}

const char *qk_name_kind_word(int name_kind)
{
	static const char *const words[] = {"name", "official name", "acronym", "alias", "former name"};
	return name_kind >= 0 && name_kind < 5 ? words[name_kind] : "name";
}

typedef struct qk_matches {
	qk *q;
	Annals__V1__Entity *found[QK_AMBIGUOUS_SHOWN];
	size_t n; /* all distinct entities seen, even past the ones kept */
} qk_matches;

static int qk_collect_match(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	qk_matches *m = ctx;
	for (size_t i = 0; i < m->n && i < QK_AMBIGUOUS_SHOWN; i++)
		if (strcmp(m->found[i]->id, id) == 0)
			return 0;
	if (m->n < QK_AMBIGUOUS_SHOWN) {
		Annals__V1__Entity *e = data != NULL && len > 0
		                                ? annals__v1__entity__unpack(ar_pbc(m->q->a), len, data)
		                                : qk_entity_by_id(m->q, id);
		if (e == NULL)
			return 0;
		m->found[m->n] = e;
	}
	m->n++;
	return 0;
}

static int qk_ambiguous(qk *q, const char *ref, const char *field, const qk_matches *m)
{
	char list[400];
	size_t used = 0;
	for (size_t i = 0; i < m->n && i < QK_AMBIGUOUS_SHOWN && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)", i ? ", " : "",
		                         m->found[i]->id, qk_display_name(m->found[i]));
	if (m->n > QK_AMBIGUOUS_SHOWN && used < sizeof(list))
		snprintf(list + used, sizeof(list) - used, " and %zu more", m->n - QK_AMBIGUOUS_SHOWN);
	return qk_fail(q, ANNALS_INVALID_ARGUMENT, "%s: '%.60s' is ambiguous: %s; give an id", field, ref, list);
}

int qk_entity(qk *q, const char *ref, const char *field, Annals__V1__Entity **out)
{
	*out = NULL;
	if (ref == NULL || ref[0] == '\0')
		return qk_fail(q, ANNALS_INVALID_ARGUMENT, "%s: required (an entity id or name)", field);
	*out = qk_entity_by_id(q, ref);
	if (*out != NULL)
		return ANNALS_OK;
	qk_matches m = {.q = q};
	int rc = st_scan_names(q->t, ref, false, qk_collect_match, &m);
	if (rc != ANNALS_OK)
		return qk_fail(q, rc, "%s: looking up '%.60s' failed", field, ref);
	if (m.n == 0)
		return qk_fail(q, ANNALS_NOT_FOUND, "%s: no entity has the id or name '%.100s'", field, ref);
	if (m.n > 1)
		return qk_ambiguous(q, ref, field, &m);
	*out = m.found[0];
	return ANNALS_OK;
}

int st_entity_ref(st_txn *t, const char *ref, const char *field, ar_arena *a, Annals__V1__Entity **out,
                  st_err *err)
{
	qk q;
	qk_init(&q, t, a, err);
	return qk_entity(&q, ref, field, out);
}

/* ---- relations -------------------------------------------------------------------- */

int qk_rel_cmp(const void *x, const void *y)
{
	const qk_rel *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->key_side != b->key_side)
		return a->key_side < b->key_side ? -1 : 1;
	return strcmp(a->r->id, b->r->id);
}

static bool qk_bound_day(qk *q, Annals__V1__Bound *b, int32_t *lo)
{
	int32_t hi;
	return b != NULL && b->kind != ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED &&
	       qk_date_range(q, b->date, lo, &hi);
}

/* Placing a fact in time: by its start; with no usable start, by its end
 * (it precedes whatever starts at or after that end); with neither, last.
 * A fact with no validity at all always held: first. */
static void qk_rel_place(qk *q, qk_rel *qr)
{
	Annals__V1__Interval *iv = qr->r->valid;
	qr->key = DATE_POS_INF;
	qr->key_side = 2;
	if (iv == NULL) {
		qr->key = DATE_NEG_INF;
		qr->key_side = 1;
	} else if (qk_bound_day(q, iv->start, &qr->key)) {
		qr->key_side = 1;
	} else if (qk_bound_day(q, iv->end, &qr->key)) {
		qr->key_side = 0;
	}
}

typedef struct qk_rel_scan {
	qk *q;
	bool inverse;
	const char *other;
	qk_rel **items;
	size_t n;
	int rc;
} qk_rel_scan;

static int qk_collect_relation(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	qk_rel_scan *s = ctx;
	Annals__V1__Relation *r = data != NULL && len > 0
	                                  ? annals__v1__relation__unpack(ar_pbc(s->q->a), len, data)
	                                  : st_load_relation(s->q->t, id, s->q->a);
	if (r == NULL) {
		s->rc = qk_fail(s->q, ANNALS_DATA_LOSS, "relation %s cannot be read", id);
		return 1;
	}
	const char *counterpart = s->inverse ? r->subject : r->object;
	if (s->other != NULL && s->other[0] != '\0' && strcmp(counterpart, s->other) != 0)
		return 0;
	qk_rel *qr = ar_alloc(s->q->a, sizeof(*qr));
	qr->r = r;
	qk_span(s->q, r->valid, &qr->sp);
	qk_rel_place(s->q, qr);
	AR_PUSH(s->q->a, s->items, s->n, qr);
	return 0;
}

int qk_relations(qk *q, const char *entity, const char *predicate, bool inverse, const char *other,
                 qk_rel ***out, size_t *n)
{
	qk_rel_scan s = {.q = q, .inverse = inverse, .other = other, .rc = ANNALS_OK};
	int rc = st_scan_relations(q->t, entity, predicate && predicate[0] ? predicate : NULL, inverse,
	                           qk_collect_relation, &s);
	if (s.rc != ANNALS_OK)
		return s.rc;
	if (rc != ANNALS_OK)
		return qk_fail(q, rc, "reading the relations of %s failed", entity);
	qk_sort(q, (void **)s.items, s.n, qk_rel_cmp);
	*out = s.items;
	*n = s.n;
	return ANNALS_OK;
}

/* ---- reasons ------------------------------------------------------------------------- */

const char *qk_bound_phrase(qk *q, const Annals__V1__Bound *b, bool start)
{
	int kind = b ? (int)b->kind : ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED;
	if (kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED)
		return start ? "start not stated" : "no end stated";
	const char *when = qk_date_text(q, b->date);
	switch (kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		return ar_printf(q->a, "%s %s", start ? "started" : "ended", when);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
		return start ? ar_printf(q->a, "observed holding %s, so started then or earlier", when)
		             : ar_printf(q->a, "observed still holding %s, so ended then or later, if at all", when);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		return ar_printf(q->a, "%s at or before %s", start ? "started" : "ended", when);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		return start ? ar_printf(q->a, "started at or after %s", when)
		             : ar_printf(q->a, "ended at or after %s, or has not ended", when);
	default:
		return ar_printf(q->a, "%s of unknown kind %d at %s", start ? "start" : "end", kind, when);
	}
}

const char *qk_interval_phrase(qk *q, Annals__V1__Interval *iv)
{
	asof_span sp;
	qk_span(q, iv, &sp); /* resolves the dates the phrases print */
	if (iv == NULL)
		return "always (no validity given)";
	return ar_printf(q->a, "%s; %s", qk_bound_phrase(q, iv->start, true), qk_bound_phrase(q, iv->end, false));
}

/* Why a fact has truth t on w: the bound (or bounds) that decide it. */
static const char *qk_reason(qk *q, const qk_rel *qr, const qk_when *w, asof_truth t)
{
	Annals__V1__Interval *iv = qr->r->valid;
	const Annals__V1__Bound *s = iv ? iv->start : NULL, *e = iv ? iv->end : NULL;
	const char *why;
	if (iv == NULL)
		why = "always (no validity given)";
	else if (!w->set || t == ASOF_TRUE)
		why = ar_printf(q->a, "%s; %s", qk_bound_phrase(q, s, true), qk_bound_phrase(q, e, false));
	else if (t == ASOF_FALSE && w->hi < qr->sp.s_lo)
		why = ar_printf(q->a, "not yet begun on %s: %s", w->text, qk_bound_phrase(q, s, true));
	else if (t == ASOF_FALSE)
		why = ar_printf(q->a, "over by %s: %s", w->text, qk_bound_phrase(q, e, false));
	else if (!(qr->sp.s_hi <= w->lo) && !(w->hi < qr->sp.e_lo))
		why = ar_printf(q->a, "unknown on %s: may not have begun (%s) and may have ended (%s)", w->text,
		                qk_bound_phrase(q, s, true), qk_bound_phrase(q, e, false));
	else if (!(qr->sp.s_hi <= w->lo))
		why = ar_printf(q->a, "unknown on %s: may not have begun: %s", w->text, qk_bound_phrase(q, s, true));
	else
		why = ar_printf(q->a, "unknown on %s: may have ended: %s", w->text, qk_bound_phrase(q, e, false));
	if (qr->r->note != NULL && qr->r->note[0] != '\0')
		why = ar_printf(q->a, "%s; note: %s", why, qr->r->note);
	return why;
}

Annals__V1__RelationFact *qk_fact(qk *q, const qk_rel *qr, const qk_when *w)
{
	Annals__V1__RelationFact *f = AR_NEW(q->a, Annals__V1__RelationFact, ANNALS__V1__RELATION_FACT__INIT);
	asof_truth t = ASOF_UNKNOWN;
	f->relation = qr->r;
	if (w->set) {
		t = asof_eval(&qr->sp, w->lo, w->hi);
		f->truth = (Annals__V1__Truth)t;
	}
	f->reason = (char *)qk_reason(q, qr, w, t);
	f->subject_name = (char *)qk_name_of(q, qr->r->subject);
	f->object_name = (char *)qk_name_of(q, qr->r->object);
	return f;
}

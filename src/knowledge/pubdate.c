/*
 * A document's publication, and the bounds its own content sets when
 * nobody gave its date.
 *
 * A text cannot have been written before the latest day it reports as
 * past. Rule publication-follows-reported-past: among the records citing
 * the document with evidence the document itself states (modality asserted
 * or reported; not inferred by anyone), each of these gives a day the
 * document was written on or after — the first day of its date:
 *   - an event reported as having happened (status OCCURRED; a planned or
 *     cancelled one says nothing about the past);
 *   - a bound of a standing fact (a relation, a name, an attribute) that
 *     says a change happened or was seen: an EXACT or OBSERVED start or end,
 *     an AFTER start (it began at or after that day, and it had begun).
 *     BEFORE bounds and AFTER ends ("may have ended, or not") give none.
 * The latest of them is the first day of the publication; the record and
 * the span that give it are reported, with the rule. Nothing gives a last
 * day: the text would have to say something about its own future, and the
 * absence of a later fact from a text is not evidence. So the range is
 * open at its end ("2020-01-01 or later") and no day is made up.
 *
 * Why at query time, not stored. The engine never writes; a bound stored
 * at write time would have to be derived again, with rules, on the store's
 * write path by every write that adds, changes or deletes a record citing
 * the document, and a stale one would be an invented date. Derived here
 * from the snapshot the question is answered on, it is always what the
 * records say, the same on every node (a deterministic rule over the same
 * records), and costs one scan of the document's citations (ix_cites) per
 * query, cached in the query's context. An explicit Document.published
 * replaces it.
 *
 * Dates that lean on the document itself (its "yesterday", an event on
 * that day) cannot bound it: the derivation runs with the document's date
 * unknown, so they stay unresolved and are passed over. Other undated
 * documents are not derived meanwhile (q->deriving), so derivations never
 * nest or loop; a fact dated only through such a document gives no bound.
 */
#include <stdio.h>
#include <string.h>

#include "knowledge/kn_int.h"

typedef struct pd_scan {
	kn_ctx *q; /* the derivation's own context: q->deriving */
	const char *doc;
	bool found, by_event;
	int32_t first; /* the latest first day so far */
	const char *record, *what;
	const Annals__V1__Evidence *evidence;
} pd_scan;

/* Evidence the document itself states, as fact or as reported. */
static const Annals__V1__Evidence *pd_stated(Annals__V1__Evidence *const *ev, size_t n, const char *doc)
{
	for (size_t i = 0; i < n; i++) {
		const Annals__V1__Evidence *e = ev[i];
		if (e->document != NULL && strcmp(e->document, doc) == 0 && !e->inferred &&
		    (e->modality == ANNALS__V1__MODALITY__MODALITY_ASSERTED ||
		     e->modality == ANNALS__V1__MODALITY__MODALITY_REPORTED))
			return e;
	}
	return NULL;
}

/* A day the document was written on or after: the first day of d. */
static void pd_offer(pd_scan *s, Annals__V1__Date *d, bool event, const char *record, const char *what,
                     const Annals__V1__Evidence *ev)
{
	int32_t lo, hi;
	if (d == NULL || !kn_date_range(s->q, d, &lo, &hi))
		return; /* undated, or dated only through this document */
	/* On a tie an event reported as having happened beats a fact's bound
	 * (the more direct statement), else the first found keeps it: the scan
	 * order is fixed, so the answer is the same every time. */
	if (s->found && (lo < s->first || (lo == s->first && (s->by_event || !event))))
		return;
	s->found = true;
	s->by_event = event;
	s->first = lo;
	s->record = record;
	s->what = ar_printf(s->q->a, "%s %s%s", what, kn_date_text(s->q, d),
	                    event ? ", is reported as having happened" : "");
	s->evidence = ev;
}

static void pd_interval(pd_scan *s, Annals__V1__Interval *iv, const char *record, const char *fact,
                        const Annals__V1__Evidence *ev)
{
	if (iv == NULL || ev == NULL)
		return;
	Annals__V1__Bound *b = iv->start;
	if (b != NULL && (b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT ||
	                  b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED ||
	                  b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER))
		pd_offer(s, b->date, false, record, ar_printf(s->q->a, "%s began or was seen", fact), ev);
	b = iv->end;
	if (b != NULL && (b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT ||
	                  b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED))
		pd_offer(s, b->date, false, record, ar_printf(s->q->a, "%s ended or was seen", fact), ev);
}

static void pd_entity(pd_scan *s, Annals__V1__Entity *e)
{
	for (size_t i = 0; i < e->n_names; i++) {
		Annals__V1__Name *n = e->names[i];
		pd_interval(s, n->valid, e->id, ar_printf(s->q->a, "the name \"%s\" of %s", n->text, e->id),
		            pd_stated(n->evidence, n->n_evidence, s->doc));
	}
	for (size_t i = 0; i < e->n_attributes; i++) {
		Annals__V1__Attribute *at = e->attributes[i];
		pd_interval(s, at->valid, e->id, ar_printf(s->q->a, "the %s of %s", at->key, e->id),
		            pd_stated(at->evidence, at->n_evidence, s->doc));
	}
}

static const ProtobufCMessageDescriptor *pd_desc(st_kind k)
{
	switch (k) {
	case ST_EVENT:
		return &annals__v1__event__descriptor;
	case ST_RELATION:
		return &annals__v1__relation__descriptor;
	case ST_ENTITY:
		return &annals__v1__entity__descriptor;
	default:
		return NULL; /* a document dates nothing in itself */
	}
}

static int pd_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	pd_scan *s = ctx;
	kn_ctx *q = s->q;
	st_kind k = st_kind_of(q->t, id);
	const ProtobufCMessageDescriptor *desc = pd_desc(k);
	if (desc == NULL)
		return 0;
	ProtobufCMessage *m = data != NULL && len > 0
	                          ? protobuf_c_message_unpack(desc, ar_pbc(q->a), len, data)
	                          : st_load(q->t, k, id, q->a);
	if (m == NULL)
		return 0; /* nothing to learn from what cannot be read; Facts reports it */
	if (k == ST_EVENT) {
		Annals__V1__Event *e = (Annals__V1__Event *)m;
		const Annals__V1__Evidence *ev = pd_stated(e->evidence, e->n_evidence, s->doc);
		if (ev != NULL && e->status == ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED)
			pd_offer(s, e->when, true, e->id, ar_printf(q->a, "%s (%s), dated", e->id, e->type),
			         ev);
	} else if (k == ST_RELATION) {
		Annals__V1__Relation *r = (Annals__V1__Relation *)m;
		pd_interval(s, r->valid, r->id, r->id, pd_stated(r->evidence, r->n_evidence, s->doc));
	} else if (k == ST_ENTITY) {
		pd_entity(s, (Annals__V1__Entity *)m);
	}
	return 0;
}

static void pd_derive(kn_ctx *q, const Annals__V1__Document *doc, kn_pub *p)
{
	kn_ctx sub;
	kn_init(&sub, q->t, q->a, NULL);
	sub.deriving = true;
	sub.depth = q->depth;
	pd_scan s = {.q = &sub, .doc = doc->id};
	int rc = st_scan_citing(q->t, doc->id, 0, pd_visit, &s);
	if (rc != ANNALS_OK) {
		p->rc = rc;
		return;
	}
	if (!s.found)
		return;
	char day[16];
	int y, m, d;
	date_civil_from_days(s.first, &y, &m, &d);
	snprintf(day, sizeof(day), "%04d-%02d-%02d", y, m, d);
	p->known = p->derived = true;
	p->lo = s.first;
	p->hi = DATE_LAST_DAY;
	p->decided_by = s.record;
	p->text = ar_printf(q->a, "%s or later (bounded by what it reports as past)", day);
	Annals__V1__Evidence *ev = AR_NEW(q->a, Annals__V1__Evidence, ANNALS__V1__EVIDENCE__INIT);
	*ev = *s.evidence; /* its document, sentences and span; what follows is ours */
	ev->inferred = true;
	ev->rule = KN_PUB_RULE;
	ev->note = ar_printf(q->a, "%s, so %s was written on or after %s", s.what, doc->id, day);
	p->evidence = ev;
}

const kn_pub *kn_pub_of(kn_ctx *q, const Annals__V1__Document *doc)
{
	for (size_t i = 0; i < q->n_pubs; i++)
		if (strcmp(q->pubs[i]->doc, doc->id) == 0)
			return q->pubs[i];
	kn_pub *p = ar_alloc(q->a, sizeof(*p));
	p->doc = doc->id;
	p->rc = ANNALS_OK;
	if (doc->published != NULL && kn_date_range(q, doc->published, &p->lo, &p->hi)) {
		p->known = true;
		p->text = kn_date_text(q, doc->published);
	} else if (!q->deriving) {
		pd_derive(q, doc, p);
	}
	AR_PUSH(q->a, q->pubs, q->n_pubs, p);
	return p;
}

Annals__V1__Date *kn_pub_anchor_date(kn_ctx *q, const char *anchor)
{
	if (q->deriving || strncmp(anchor, "doc:", 4) != 0)
		return NULL;
	Annals__V1__Document *doc = kn_document(q, anchor); /* "doc:X", else "X": st_anchor_date's rule */
	if (doc == NULL)
		return NULL;
	const kn_pub *p = kn_pub_of(q, doc);
	if (!p->known || !p->derived)
		return NULL;
	/* One day in [lo, hi]: relative to the document itself, so date_range
	 * reads earliest/latest, and its dependents keep the open end open. */
	Annals__V1__Date *d = AR_NEW(q->a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	d->precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	d->anchor = ar_strdup(q->a, anchor);
	d->resolved = true;
	d->earliest = p->lo;
	d->latest = p->hi;
	return d;
}

Annals__V1__Publication *kn_pub_message(kn_ctx *q, const kn_pub *p)
{
	Annals__V1__Publication *m = AR_NEW(q->a, Annals__V1__Publication, ANNALS__V1__PUBLICATION__INIT);
	m->document = (char *)p->doc;
	m->derived = p->derived;
	m->earliest = p->lo;
	m->latest = p->hi;
	m->open_end = p->hi == DATE_LAST_DAY && p->derived;
	m->text = (char *)(p->text ? p->text : "");
	m->evidence = p->evidence;
	m->decided_by = (char *)(p->decided_by ? p->decided_by : "");
	return m;
}

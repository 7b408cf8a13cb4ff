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
 * Why at query time, from an index. The engine never writes; a bound
 * stored at write time would have to be derived again, with every rule of
 * date resolution, by every write that touches the document's citing
 * records or what their dates lean on, and a stale one would be an
 * invented date. Derived here from the snapshot the question is answered
 * on, it is always what the records say, the same on every node. What the
 * store keeps at write time is only what depends on a record alone
 * (ix_pubfloor, store/pubfloor.h): which records make offers (the rule's
 * enumeration is shared: common/pubrule.c), the latest day of their
 * absolute ones, and the Dates of their relative ones. st_pub_candidates
 * gives those keys; the relative dates are resolved here, and the one
 * record that decides is unpacked, instead of every record citing the
 * document (the founding article: nearly all of them; that was 95% of
 * a Holder call). The result is cached in the query's context. An explicit
 * Document.published replaces it.
 *
 * Dates that lean on the document itself (its "yesterday", an event on
 * that day) cannot bound it: the derivation runs with the document's date
 * unknown, so they stay unresolved and are passed over. Other undated
 * documents are not derived meanwhile (q->deriving), so derivations never
 * nest or loop; a fact dated only through such a document gives no bound.
 */
#include <stdio.h>
#include <string.h>

#include "common/pubrule.h"
#include "knowledge/kn_int.h"

typedef struct pd_scan {
	kn_ctx *q; /* the derivation's own context: q->deriving */
	const char *doc;
	bool found, by_event;
	int32_t first; /* the latest first day so far */
	const char *record;
	pr_offer best; /* the winning offer so far */
	const Annals__V1__Evidence *evidence;
} pd_scan;

/* What an offer says, in words: built only for the offer that wins, as
 * most offers of a document lose (their words were half a derivation). */
static const char *pd_what(ar_arena *a, const pr_offer *o)
{
	const char *fact;
	switch (o->part) {
	case PR_EVENT:
		return ar_printf(a, "%s (%s), dated", o->event->id, o->event->type);
	case PR_RELATION:
		fact = o->relation->id;
		break;
	case PR_NAME:
		fact = ar_printf(a, "the name \"%s\" of %s", o->name->text, o->entity->id);
		break;
	default:
		fact = ar_printf(a, "the %s of %s", o->attribute->key, o->entity->id);
		break;
	}
	return ar_printf(a, o->start ? "%s began or was seen" : "%s ended or was seen", fact);
}

/* One offer of the rule (common/pubrule.c): a day the document was
 * written on or after, the first day of its date. */
static void pd_on_offer(void *ctx, const pr_offer *o)
{
	pd_scan *s = ctx;
	int32_t lo, hi;
	bool event = o->part == PR_EVENT;
	if (!kn_date_range(s->q, o->date, &lo, &hi))
		return; /* dated only through this document, or unresolved */
	/* On a tie an event reported as having happened beats a fact's bound
	 * (the more direct statement), else the first found keeps it: the scan
	 * order is fixed, so the answer is the same every time. */
	if (s->found && (lo < s->first || (lo == s->first && (s->by_event || !event))))
		return;
	s->found = true;
	s->by_event = event;
	s->first = lo;
	s->record = event ? o->event->id : o->part == PR_RELATION ? o->relation->id : o->entity->id;
	s->best = *o; /* its words once it has won (pd_derive) */
	s->evidence = o->evidence;
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
	pr_each_offer(m, s->doc, pd_on_offer, s);
	return 0;
}

/* The latest day among ix_pubfloor's candidates' offers (*top; *any:
 * some candidate offers a day), and the record that decides: the first
 * candidate (in ix_cites order) with an event's offer on that day, else
 * the first with any offer on it. Visiting it alone gives what visiting
 * every citing record gives: no offer before that day wins, and the tie
 * rule looks only at offers on it. */
static int pd_top(kn_ctx *q, const char *doc, bool *any, int32_t *top, const char **decider)
{
	st_pub_cand **c;
	size_t n;
	*any = false;
	*top = 0;
	*decider = NULL;
	int rc = st_pub_candidates(q->t, doc, q->a, &c, &n);
	if (rc != ANNALS_OK || n == 0)
		return rc;
	int32_t *latest = ar_alloc(q->a, n * sizeof(*latest));
	bool *offers = ar_alloc(q->a, n * sizeof(*offers));
	for (size_t i = 0; i < n; i++) {
		offers[i] = c[i]->absolute;
		latest[i] = c[i]->lo;
		for (size_t j = 0; j < c[i]->n_dates; j++) {
			int32_t lo, hi;
			if (kn_date_range(q, c[i]->dates[j], &lo, &hi) && (!offers[i] || lo > latest[i])) {
				offers[i] = true;
				latest[i] = lo;
			}
		}
		if (offers[i] && (!*any || latest[i] > *top)) {
			*any = true;
			*top = latest[i];
		}
	}
	const st_pub_cand *first = NULL, *first_event = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!offers[i] || latest[i] != *top)
			continue;
		if (first == NULL)
			first = c[i];
		if (first_event == NULL && c[i]->event)
			first_event = c[i];
	}
	if (first != NULL)
		*decider = first_event != NULL ? first_event->id : first->id;
	return ANNALS_OK;
}

static int pd_visit_decider(pd_scan *s, const char *doc)
{
	bool any;
	int32_t top;
	const char *decider;
	int rc = pd_top(s->q, doc, &any, &top, &decider);
	if (rc == ANNALS_OK && decider != NULL)
		(void)pd_visit(s, decider, NULL, 0);
	return rc;
}

/* The context a derivation runs in: q's snapshot and arena, and no other
 * document's bounds derived meanwhile (so derivations neither nest nor loop). */
static void pd_sub(kn_ctx *q, kn_ctx *sub)
{
	kn_init(sub, q->t, q->a, NULL);
	sub->deriving = true;
	sub->depth = q->depth;
}

static void pd_derive(kn_ctx *q, const Annals__V1__Document *doc, kn_pub *p)
{
	kn_ctx sub;
	pd_sub(q, &sub);
	pd_scan s = {.q = &sub, .doc = doc->id};
	/* the straightforward way when asked (the tests' reference) */
	int rc = st_txn_full_scans(q->t) ? st_scan_citing(q->t, doc->id, 0, pd_visit, &s)
	                                 : pd_visit_decider(&s, doc->id);
	if (rc != ANNALS_OK) {
		p->rc = rc;
		return;
	}
	if (!s.found)
		return;
	const char *what = ar_printf(q->a, "%s %s%s", pd_what(q->a, &s.best), kn_date_text(q, s.best.date),
	                             s.by_event ? ", is reported as having happened" : "");
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
	ev->note = ar_printf(q->a, "%s, so %s was written on or after %s", what, doc->id, day);
	p->evidence = ev;
}

static kn_pub *pd_cached(kn_ctx *q, const Annals__V1__Document *doc)
{
	for (size_t i = 0; i < q->n_pubs; i++)
		if (strcmp(q->pubs[i]->doc, doc->id) == 0)
			return q->pubs[i];
	return NULL;
}

const kn_pub *kn_pub_of(kn_ctx *q, const Annals__V1__Document *doc)
{
	kn_pub *p = pd_cached(q, doc);
	if (p != NULL && p->explained)
		return p;
	if (p == NULL) {
		p = ar_alloc(q->a, sizeof(*p));
		AR_PUSH(q->a, q->pubs, q->n_pubs, p);
	} else {
		memset(p, 0, sizeof(*p)); /* its bounds alone so far: worked out again, whole */
	}
	p->doc = doc->id;
	p->rc = ANNALS_OK;
	p->explained = true;
	if (doc->published != NULL && kn_date_range(q, doc->published, &p->lo, &p->hi)) {
		p->known = true;
		p->text = kn_date_text(q, doc->published);
	} else if (!q->deriving) {
		pd_derive(q, doc, p);
	}
	return p;
}

/* kn_pub_of without the words: the derived bounds straight from the
 * candidates' days (pd_top), not the deciding record's offer and the
 * sentences saying why. A date anchored to an undated document needs only
 * these, and a Holder call met one per tenure: deriving them whole was
 * two fifths of the call. The full-scan way derives them whole (the tests
 * compare both). */
static const kn_pub *pd_bounds_of(kn_ctx *q, const Annals__V1__Document *doc)
{
	kn_pub *p = pd_cached(q, doc);
	if (p != NULL)
		return p;
	if (st_txn_full_scans(q->t) || q->deriving || doc->published != NULL)
		return kn_pub_of(q, doc);
	p = ar_alloc(q->a, sizeof(*p));
	p->doc = doc->id;
	p->rc = ANNALS_OK;
	AR_PUSH(q->a, q->pubs, q->n_pubs, p);
	kn_ctx sub;
	pd_sub(q, &sub);
	bool any;
	const char *decider;
	p->rc = pd_top(&sub, doc->id, &any, &p->lo, &decider);
	if (p->rc == ANNALS_OK && any) {
		p->known = p->derived = true;
		p->hi = DATE_LAST_DAY;
	}
	return p;
}

Annals__V1__Date *kn_pub_anchor_date(kn_ctx *q, const char *anchor)
{
	if (q->deriving || strncmp(anchor, "doc:", 4) != 0)
		return NULL;
	Annals__V1__Document *doc =
	    kn_document_head(q, anchor); /* "doc:X", else "X": st_anchor_date's rule */
	if (doc == NULL)
		return NULL;
	const kn_pub *p = pd_bounds_of(q, doc);
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

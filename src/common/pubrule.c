/*
 * The offers of rule publication-follows-reported-past (pubrule.h).
 */
#include <string.h>

#include "common/pubrule.h"

/* Evidence the document itself states, as fact or as reported. */
static const Annals__V1__Evidence *pr_stated(Annals__V1__Evidence *const *ev, size_t n, const char *doc)
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

/* A bound says a change happened or was seen; BEFORE bounds and AFTER
 * ends ("may have ended, or not") say nothing of the past. */
static bool pr_bound_offers(const Annals__V1__Bound *b, bool start)
{
	if (b == NULL || b->date == NULL)
		return false;
	return b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT ||
	       b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED ||
	       (start && b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER);
}

static void pr_interval(const Annals__V1__Interval *iv, pr_offer *o, pr_offer_fn fn, void *ctx)
{
	if (iv == NULL || o->evidence == NULL)
		return;
	if (pr_bound_offers(iv->start, true)) {
		o->date = iv->start->date;
		o->start = true;
		fn(ctx, o);
	}
	if (pr_bound_offers(iv->end, false)) {
		o->date = iv->end->date;
		o->start = false;
		fn(ctx, o);
	}
}

void pr_each_offer(const ProtobufCMessage *m, const char *doc, pr_offer_fn fn, void *ctx)
{
	if (m == NULL)
		return;
	pr_offer o = {0};
	if (m->descriptor == &annals__v1__event__descriptor) {
		const Annals__V1__Event *e = (const Annals__V1__Event *)m;
		o.part = PR_EVENT;
		o.event = e;
		o.evidence = pr_stated(e->evidence, e->n_evidence, doc);
		o.date = e->when;
		if (o.evidence != NULL && o.date != NULL &&
		    e->status == ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED)
			fn(ctx, &o);
	} else if (m->descriptor == &annals__v1__relation__descriptor) {
		const Annals__V1__Relation *r = (const Annals__V1__Relation *)m;
		o.part = PR_RELATION;
		o.relation = r;
		o.evidence = pr_stated(r->evidence, r->n_evidence, doc);
		pr_interval(r->valid, &o, fn, ctx);
	} else if (m->descriptor == &annals__v1__entity__descriptor) {
		const Annals__V1__Entity *e = (const Annals__V1__Entity *)m;
		o.entity = e;
		o.part = PR_NAME;
		for (size_t i = 0; i < e->n_names; i++) {
			o.name = e->names[i];
			o.evidence = pr_stated(o.name->evidence, o.name->n_evidence, doc);
			pr_interval(o.name->valid, &o, fn, ctx);
		}
		o.name = NULL;
		o.part = PR_ATTRIBUTE;
		for (size_t i = 0; i < e->n_attributes; i++) {
			o.attribute = e->attributes[i];
			o.evidence = pr_stated(o.attribute->evidence, o.attribute->n_evidence, doc);
			pr_interval(o.attribute->valid, &o, fn, ctx);
		}
	}
}

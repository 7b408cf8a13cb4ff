/*
 * Synthetic records with the shapes of the real data: entities with an
 * official name and ambiguous aliases (some organisations renamed, their
 * former name valid until a date), attributes, evidence; events with 2-4
 * participants drawn with a popularity skew (a few entities are in many
 * events, as in news), a place for some, dates at day, month and year
 * precision, a few relative to a document ("yesterday") that stay
 * unresolved, and evidence pointing into documents.
 *
 * Every record is a pure function of (seed, index): a rerun makes the same
 * bytes (the server then answers "unchanged"), and the driver can name any
 * generated id without a list (bench_keys.c).
 */
#include <stdio.h>

#include "bench_gen.h"
#include "common/arena.h"

static const char *const event_types[] = {
    "meeting",   "discussion",       "appointment",       "announcement", "summit",   "nomination",
    "candidacy", "treaty_concluded", "membership_joined", "criticism",    "founding", "renaming",
};
static const char *const roles[] = {"host", "visitor", "participant", "speaker", "signatory", "nominee"};
static const char *const occupations[] = {
    "diplomat", "politician", "general", "journalist", "economist", "minister", "ambassador", "lawyer",
};
static const char *const topics[] = {
    "border security",    "trade",         "energy supplies",  "water sharing",
    "regional stability", "customs rules", "a joint exercise", "transit routes",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bench_rng gen_rng(uint64_t seed, uint64_t kind, uint64_t i)
{
	bench_rng r = {seed * 0x9e3779b97f4a7c15u ^ (kind << 56) ^ (i * 0xd6e8feb86659fd93u)};
	bench_rng_next(&r);
	return r;
}

/* Popularity skew without a zeta table: rank = n * u^3 puts about half the
 * draws on the first 12% of ranks; the scramble spreads them over ids. */
static uint64_t gen_popular(bench_rng *r, uint64_t n)
{
	double u = bench_rng_unit(r);
	uint64_t rank = (uint64_t)((double)n * u * u * u);
	if (rank >= n)
		rank = n - 1;
	return (rank * 0x9e3779b97f4a7c15u >> 7) % n;
}

/* An absolute date, mostly in recent years: 45% at day precision, 30% at
 * month, 25% at year. */
static Annals__V1__Date *gen_abs_date(ar_arena *a, bench_rng *r)
{
	Annals__V1__Date *d = AR_NEW(a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	double u = bench_rng_unit(r), p = bench_rng_unit(r);
	d->year = 2024 - (int)(74.0 * u * u);
	if (p < 0.25) {
		d->precision = ANNALS__V1__PRECISION__PRECISION_YEAR;
		return d;
	}
	d->month = 1 + (int)bench_rng_below(r, 12);
	if (p < 0.55) {
		d->precision = ANNALS__V1__PRECISION__PRECISION_MONTH;
		return d;
	}
	d->precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	d->day = 1 + (int)bench_rng_below(r, 28);
	return d;
}

/* An event's date: 5% are "the day before" a document whose publication
 * date is unknown, and so stay unresolved, as in the built-in data. */
static Annals__V1__Date *gen_date(ar_arena *a, bench_rng *r, uint64_t n_docs)
{
	if (bench_rng_below(r, 20) == 0) {
		Annals__V1__Date *d = AR_NEW(a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
		d->precision = ANNALS__V1__PRECISION__PRECISION_DAY;
		d->anchor = ar_printf(a, "doc:gen-%06llu", (unsigned long long)bench_rng_below(r, n_docs));
		d->offset_days = -1;
		return d;
	}
	return gen_abs_date(a, r);
}

static Annals__V1__Evidence **gen_evidence(ar_arena *a, bench_rng *r, uint64_t n_docs, size_t *n)
{
	Annals__V1__Evidence *ev = AR_NEW(a, Annals__V1__Evidence, ANNALS__V1__EVIDENCE__INIT);
	ev->document = ar_printf(a, "doc:gen-%06llu", (unsigned long long)bench_rng_below(r, n_docs));
	ev->n_sentences = 1;
	ev->sentences = ar_alloc(a, sizeof(uint32_t));
	ev->sentences[0] = 1 + (uint32_t)bench_rng_below(r, 30);
	ev->span_start = ev->sentences[0] * 160 + (uint32_t)bench_rng_below(r, 80);
	ev->span_end = ev->span_start + 20 + (uint32_t)bench_rng_below(r, 120);
	ev->modality = bench_rng_below(r, 3) == 0 ? ANNALS__V1__MODALITY__MODALITY_REPORTED
	                                          : ANNALS__V1__MODALITY__MODALITY_ASSERTED;
	Annals__V1__Evidence **list = ar_alloc(a, sizeof(*list));
	list[0] = ev;
	*n = 1;
	return list;
}

static Annals__V1__Name *gen_name(ar_arena *a, const char *text, int kind)
{
	Annals__V1__Name *nm = AR_NEW(a, Annals__V1__Name, ANNALS__V1__NAME__INIT);
	nm->text = ar_strdup(a, text);
	nm->kind = kind;
	return nm;
}

Annals__V1__Entity *bench_gen_entity(ar_arena *a, uint64_t seed, uint64_t i, uint64_t n_docs)
{
	bench_rng r = gen_rng(seed, 1, i);
	Annals__V1__Entity *e = AR_NEW(a, Annals__V1__Entity, ANNALS__V1__ENTITY__INIT);
	char buf[160];
	bench_gen_entity_id(i, buf, sizeof(buf));
	e->id = ar_strdup(a, buf);
	e->type = bench_gen_entity_type(i);
	bench_gen_entity_name(i, buf, sizeof(buf));
	AR_PUSH(a, e->names, e->n_names, gen_name(a, buf, ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL));
	bench_gen_entity_alias(i, buf, sizeof(buf));
	bool org = e->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION;
	AR_PUSH(a, e->names, e->n_names,
	        gen_name(a, buf,
	                 org ? ANNALS__V1__NAME_KIND__NAME_KIND_ACRONYM
	                     : ANNALS__V1__NAME_KIND__NAME_KIND_ALIAS));
	if (org && bench_rng_below(&r, 10) == 0) {
		/* renamed: the former name held until a date */
		snprintf(buf, sizeof(buf), "%s (former %llu)", e->names[0]->text, (unsigned long long)i);
		Annals__V1__Name *former = gen_name(a, buf, ANNALS__V1__NAME_KIND__NAME_KIND_FORMER);
		former->valid = AR_NEW(a, Annals__V1__Interval, ANNALS__V1__INTERVAL__INIT);
		former->valid->end = AR_NEW(a, Annals__V1__Bound, ANNALS__V1__BOUND__INIT);
		former->valid->end->kind = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT;
		former->valid->end->date = gen_abs_date(a, &r);
		AR_PUSH(a, e->names, e->n_names, former);
	}
	if (e->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON) {
		Annals__V1__Attribute *at = AR_NEW(a, Annals__V1__Attribute, ANNALS__V1__ATTRIBUTE__INIT);
		at->key = "occupation";
		at->value = (char *)occupations[bench_rng_below(&r, COUNT(occupations))];
		AR_PUSH(a, e->attributes, e->n_attributes, at);
	}
	e->summary = ar_printf(a, "%s %s, named in %llu reports.", bench_gen_entity_prefix(e->type),
	                       e->names[0]->text, (unsigned long long)bench_rng_below(&r, 40) + 1);
	e->evidence = gen_evidence(a, &r, n_docs, &e->n_evidence);
	return e;
}

Annals__V1__Event *bench_gen_event(ar_arena *a, uint64_t seed, uint64_t j, uint64_t n_entities,
                                   uint64_t n_docs)
{
	bench_rng r = gen_rng(seed, 2, j);
	Annals__V1__Event *e = AR_NEW(a, Annals__V1__Event, ANNALS__V1__EVENT__INIT);
	char buf[64];
	bench_gen_event_id(j, buf, sizeof(buf));
	e->id = ar_strdup(a, buf);
	e->type = (char *)event_types[bench_rng_below(&r, COUNT(event_types))];
	e->when = gen_date(a, &r, n_docs);
	uint64_t np = 2 + bench_rng_below(&r, 3);
	for (uint64_t k = 0; k < np && n_entities > 0; k++) {
		Annals__V1__Participant *p =
		    AR_NEW(a, Annals__V1__Participant, ANNALS__V1__PARTICIPANT__INIT);
		bench_gen_entity_id(gen_popular(&r, n_entities), buf, sizeof(buf));
		p->entity = ar_strdup(a, buf);
		p->role = (char *)roles[k < 2 ? k : 2 + bench_rng_below(&r, COUNT(roles) - 2)];
		AR_PUSH(a, e->participants, e->n_participants, p);
	}
	if (n_entities >= 20 && bench_rng_below(&r, 10) < 4) {
		/* a place: entity ids with i % 20 in 16..18 are places */
		uint64_t base = bench_rng_below(&r, n_entities / 20) * 20;
		bench_gen_entity_id(base + 16 + bench_rng_below(&r, 3), buf, sizeof(buf));
		e->place = ar_strdup(a, buf);
	}
	double s = bench_rng_unit(&r);
	e->status = s < 0.90   ? ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED
	            : s < 0.98 ? ANNALS__V1__EVENT_STATUS__EVENT_STATUS_PLANNED
	                       : ANNALS__V1__EVENT_STATUS__EVENT_STATUS_CANCELLED;
	e->summary =
	    ar_printf(a, "A %s on %s between %s and %s.", e->type, topics[bench_rng_below(&r, COUNT(topics))],
	              e->n_participants > 0 ? e->participants[0]->entity : "?",
	              e->n_participants > 1 ? e->participants[1]->entity : "?");
	e->evidence = gen_evidence(a, &r, n_docs, &e->n_evidence);
	return e;
}

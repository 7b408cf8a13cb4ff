/*
 * Truth at a document's publication (at_document), when that is not one
 * known day: the publication day P lies somewhere in [w->lo, w->hi] — the
 * month of a publication given to the month, or "2020-01-01 or later" for
 * one bounded by the document's content (pubdate.c) — and the question is
 * about P itself.
 *
 * Judging the fact on every day of that range at once (asof on [lo, hi])
 * would lose what the document says about its own day: Zas observed in
 * office at publication holds on P, whichever day P is, while "seen on
 * some day of 2020-or-later" is certain on none. So a bound anchored to
 * the document (its "today", its "yesterday", an event dated "yesterday")
 * is kept relative to P — P plus an offset in [a, b] — every other bound is
 * a fixed day, and the fact is
 *   TRUE    when it holds on P for every possible P,
 *   FALSE   when it fails on P for every possible P,
 *   UNKNOWN otherwise: the range straddles a change, or a bound is vague.
 * These are asof's conditions (asof.c, README) quantified over P:
 *   begun    s_hi <= P for every P     fixed: s_hi <= lo;  relative: b <= 0
 *   lasting  P < e_lo for every P      fixed: hi < e_lo;   relative: a > 0
 *            and e_hi <= P for no P    fixed: e_hi > hi;   relative: a > 0
 *   unbegun  P < s_lo for every P      fixed: hi < s_lo;   relative: a > 0
 *   over     e_hi <= P for every P     fixed: e_hi <= lo;  relative: b <= 0
 * TRUE is begun and lasting; FALSE is unbegun or over. With only fixed
 * bounds and a finite range this is asof_eval on [lo, hi] exactly. A fact
 * that "ends" at or after its start (asof raises e_lo to s_lo + 1) is
 * lasting when either lower end of its end is certainly after P.
 *
 * Offsets of months and years and coarse precisions move a relative day
 * by an amount that depends on where P falls in the calendar; they are
 * taken as ranges wide enough for any P (a month is 28..31 days, a day
 * clamped to a shorter month moves up to 3 more, a year's widening up to
 * 365), so such a bound may leave an answer UNKNOWN but never makes one up.
 */
#include <string.h>

#include "knowledge/kn_int.h"

/* A day: fixed (a == b; DATE_NEG_INF/DATE_POS_INF allowed), or the
 * publication day P plus an offset somewhere in [a, b]. 64 bits: offsets
 * added to infinities must not wrap. */
typedef struct ap_day {
	bool rel;
	int64_t a, b;
} ap_day;

typedef struct ap_date {
	bool known;
	ap_day lo, hi;
} ap_date;

typedef struct ap_span {
	ap_day s_lo, s_hi, e_lo, e_lo_from_start, e_hi;
} ap_span;

static ap_day ap_fixed(int64_t v)
{
	return (ap_day){.rel = false, .a = v, .b = v};
}

static ap_day ap_plus(ap_day d, int64_t n)
{
	return (ap_day){.rel = d.rel, .a = d.a + n, .b = d.b + n};
}

/* Whether a "doc:X" anchor names the asked document ("doc:X" or "X"). */
static bool ap_names_doc(const char *anchor, const char *doc)
{
	return strncmp(anchor, "doc:", 4) == 0 && (strcmp(anchor, doc) == 0 || strcmp(anchor + 4, doc) == 0);
}

/* P + [a, b] moved by d's offsets, then widened to d's precision. */
static ap_date ap_shift(const Annals__V1__Date *d, const ap_date *base)
{
	int64_t months = (int64_t)d->offset_years * 12 + d->offset_months;
	int64_t smin = months > 0 ? months * 28 - 3 : months < 0 ? months * 31 - 3 : 0;
	int64_t smax = months > 0 ? months * 31 : months < 0 ? months * 28 : 0;
	smin += d->offset_days;
	smax += d->offset_days;
	int64_t widen = d->precision == ANNALS__V1__PRECISION__PRECISION_YEAR    ? 365
	                : d->precision == ANNALS__V1__PRECISION__PRECISION_MONTH ? 30
	                                                                         : 0;
	ap_date out = {.known = true};
	out.lo = (ap_day){.rel = true, .a = base->lo.a + smin - widen, .b = base->lo.b + smax};
	out.hi = (ap_day){.rel = true, .a = base->hi.a + smin, .b = base->hi.b + smax + widen};
	return out;
}

/* d as fixed days, or relative to P when its anchors lead to the asked
 * document (directly or through events, up to DATE_ANCHOR_DEPTH). */
static ap_date ap_date_of(kn_ctx *q, const kn_when *w, Annals__V1__Date *d, int depth)
{
	ap_date out = {.known = false};
	if (d == NULL)
		return out;
	if (d->anchor != NULL && d->anchor[0] != '\0') {
		ap_date base = {.known = false};
		if (ap_names_doc(d->anchor, w->pub->doc)) {
			base.known = true;
			base.lo = base.hi = (ap_day){.rel = true, .a = 0, .b = 0};
		} else if (strncmp(d->anchor, "event:", 6) == 0 && depth < DATE_ANCHOR_DEPTH) {
			Annals__V1__Date *at = (Annals__V1__Date *)st_anchor_date(q->t, d->anchor, q->a);
			if (at != NULL)
				base = ap_date_of(q, w, at, depth + 1);
		}
		if (base.known && base.lo.rel && base.hi.rel)
			return ap_shift(d, &base);
	}
	int32_t lo, hi;
	if (!kn_date_range(q, d, &lo, &hi))
		return out; /* unresolved: that side knows nothing */
	out.known = true;
	out.lo = ap_fixed(lo);
	out.hi = ap_fixed(hi);
	return out;
}

static void ap_start(kn_ctx *q, const kn_when *w, const Annals__V1__Bound *b, ap_span *sp)
{
	sp->s_lo = ap_fixed(DATE_NEG_INF);
	sp->s_hi = ap_fixed(DATE_POS_INF);
	if (b == NULL || b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED)
		return;
	ap_date d = ap_date_of(q, w, b->date, 0);
	if (!d.known)
		return;
	switch (b->kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		sp->s_lo = d.lo;
		sp->s_hi = d.hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		sp->s_hi = d.hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		sp->s_lo = d.lo;
		break;
	default:
		break;
	}
}

static void ap_end(kn_ctx *q, const kn_when *w, const Annals__V1__Bound *b, ap_span *sp)
{
	if (b == NULL || b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED) {
		sp->e_lo = sp->e_hi = ap_fixed(DATE_POS_INF);
		return;
	}
	sp->e_lo = ap_fixed(DATE_NEG_INF);
	sp->e_hi = ap_fixed(DATE_POS_INF);
	ap_date d = ap_date_of(q, w, b->date, 0);
	if (!d.known)
		return;
	switch (b->kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		sp->e_lo = d.lo;
		sp->e_hi = d.hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
		sp->e_lo = ap_plus(d.lo, 1);
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		sp->e_hi = d.hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		sp->e_lo = d.lo;
		break;
	default:
		break;
	}
}

static void ap_span_of(kn_ctx *q, const kn_when *w, const Annals__V1__Interval *iv, ap_span *sp)
{
	sp->e_lo_from_start = ap_fixed(DATE_NEG_INF);
	if (iv == NULL) { /* always held */
		sp->s_lo = sp->s_hi = ap_fixed(DATE_NEG_INF);
		sp->e_lo = sp->e_hi = ap_fixed(DATE_POS_INF);
		return;
	}
	ap_start(q, w, iv->start, sp);
	ap_end(q, w, iv->end, sp);
	if (sp->s_lo.rel || sp->s_lo.a != DATE_NEG_INF)
		sp->e_lo_from_start = ap_plus(sp->s_lo, 1); /* it held on the day it began */
}

/* x <= P for every possible P / for none; P < x for every possible P. */
static bool ap_le_all(ap_day x, int32_t lo)
{
	return x.rel ? x.b <= 0 : x.a <= lo;
}

static bool ap_le_none(ap_day x, int32_t hi)
{
	return x.rel ? x.a > 0 : x.a > hi;
}

static bool ap_lt_all(ap_day x, int32_t hi)
{
	return x.rel ? x.a > 0 : hi < x.a;
}

void kn_judge_at_pub(kn_ctx *q, const Annals__V1__Interval *iv, const kn_when *w, kn_verdict *v)
{
	ap_span sp;
	ap_span_of(q, w, iv, &sp);
	v->begun = ap_le_all(sp.s_hi, w->lo);
	v->lasting =
	    (ap_lt_all(sp.e_lo, w->hi) || ap_lt_all(sp.e_lo_from_start, w->hi)) && ap_le_none(sp.e_hi, w->hi);
	v->unbegun = ap_lt_all(sp.s_lo, w->hi);
	v->over = ap_le_all(sp.e_hi, w->lo);
	v->truth = v->begun && v->lasting ? ASOF_TRUE : v->unbegun || v->over ? ASOF_FALSE : ASOF_UNKNOWN;
}

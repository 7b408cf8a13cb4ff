/*
 * asof_ — three-valued truth of a fact on a date; see asof.h.
 *
 * From an Interval to a span. A fact's start lies somewhere in
 * [s_lo, s_hi] and its end somewhere in [e_lo, e_hi]; the fact holds from
 * its start day up to, not including, its end day. [lo, hi] below is the
 * range of the bound's date (all the days its precision allows); a bound
 * whose date is missing or unresolved knows nothing, so that side becomes
 * [NEG_INF, POS_INF]. An absent Interval means "always"; an absent Bound is
 * UNSTATED.
 *
 *   start UNSTATED  [NEG_INF, POS_INF]  began at some unknown time: never certainly begun
 *   start EXACT     [lo, hi]            began on one of these days
 *   start OBSERVED  [NEG_INF, hi]       seen holding then; it began then or earlier
 *   start BEFORE    [NEG_INF, hi]       began at or before the date
 *   start AFTER     [lo, POS_INF]       began at or after the date
 *
 *   end UNSTATED    [POS_INF, POS_INF]  no end: still holds
 *   end EXACT       [lo, hi]            ended on one of these days (false from that day on)
 *   end OBSERVED    [lo + 1, POS_INF]   seen holding on some day of the range, so it held
 *                                       at least through lo: the only end we can be sure of
 *   end BEFORE      [NEG_INF, hi]       ended at or before the date
 *   end AFTER       [lo, POS_INF]       ended at or after the date, or has not ended at all
 *
 * Asked about the days [d_lo, d_hi] (one day, or every day of a month or a
 * year), the fact is
 *   TRUE    when s_hi <= d_lo and d_hi < e_lo  (certainly begun by the first asked
 *                                               day, certainly not ended by the last)
 *   FALSE   when d_hi < s_lo  or  e_hi <= d_lo (not yet begun on the last asked day,
 *                                               or already ended on the first)
 *   UNKNOWN otherwise: the sources do not settle it, and we do not guess.
 * Examples: started 1992 (year, EXACT) is UNKNOWN on 1992-06-01, TRUE from
 * 1992-12-31, FALSE up to 1991-12-31; asked about "1992" as a whole it is
 * UNKNOWN. Ended AFTER 1999-04 is TRUE up to 1999-03-31 and UNKNOWN from
 * 1999-04-01 on, forever.
 */
#include "knowledge/asof.h"

#include <stdbool.h>

#include "common/date.h"

static void asof_start_span(const Annals__V1__Bound *b, asof_span *sp)
{
	int32_t lo, hi;
	sp->s_lo = DATE_NEG_INF;
	sp->s_hi = DATE_POS_INF;
	if (b == NULL || b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED)
		return;
	if (!date_range(b->date, &lo, &hi))
		return;
	switch (b->kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		sp->s_lo = lo;
		sp->s_hi = hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		sp->s_hi = hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		sp->s_lo = lo;
		break;
	default: /* a kind we do not know says nothing */
		break;
	}
}

static void asof_end_span(const Annals__V1__Bound *b, asof_span *sp)
{
	int32_t lo, hi;
	if (b == NULL || b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED) {
		sp->e_lo = sp->e_hi = DATE_POS_INF;
		return;
	}
	sp->e_lo = DATE_NEG_INF;
	sp->e_hi = DATE_POS_INF;
	if (!date_range(b->date, &lo, &hi))
		return;
	switch (b->kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		sp->e_lo = lo;
		sp->e_hi = hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
		sp->e_lo = lo + 1; /* lo is a real day, far from INT32_MAX */
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		sp->e_hi = hi;
		break;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		sp->e_lo = lo;
		break;
	default:
		break;
	}
}

void asof_span_of(const Annals__V1__Interval *iv, asof_span *out)
{
	if (iv == NULL) {
		out->s_lo = out->s_hi = DATE_NEG_INF;
		out->e_lo = out->e_hi = DATE_POS_INF;
		return;
	}
	asof_start_span(iv->start, out);
	asof_end_span(iv->end, out);
	/* A fact ends after it starts. When the end side is vaguer than the
	 * start (say, "still held at a publication date we do not know"), that
	 * alone bounds it: a fact that began exactly on day d held on d. */
	if (out->s_lo != DATE_NEG_INF && out->e_lo < out->s_lo + 1 && out->s_lo < DATE_POS_INF)
		out->e_lo = out->s_lo + 1;
}

asof_truth asof_eval(const asof_span *sp, int32_t d_lo, int32_t d_hi)
{
	/* TRUE first: with s_lo <= s_hi and e_lo <= e_hi both tests cannot
	 * pass; with a contradictory span (end before start) the fact can
	 * still be refuted. */
	if (sp->s_hi <= d_lo && d_hi < sp->e_lo && !(sp->e_hi <= d_lo))
		return ASOF_TRUE;
	if (d_hi < sp->s_lo || sp->e_hi <= d_lo)
		return ASOF_FALSE;
	return ASOF_UNKNOWN;
}

asof_truth asof_combine(asof_truth acc, asof_truth next)
{
	if (acc == ASOF_TRUE || next == ASOF_TRUE)
		return ASOF_TRUE;
	if (acc == ASOF_FALSE && next == ASOF_FALSE)
		return ASOF_FALSE;
	return ASOF_UNKNOWN;
}

const char *asof_name(asof_truth t)
{
	switch (t) {
	case ASOF_TRUE:
		return "TRUE";
	case ASOF_FALSE:
		return "FALSE";
	case ASOF_UNKNOWN:
		return "UNKNOWN";
	}
	return "UNSPECIFIED";
}

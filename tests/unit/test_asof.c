/* Unit tests of src/common/asof.c: every BoundKind on both sides of an
 * interval, at every precision, on both sides of each boundary. */
#include <stdbool.h>

#include "../lib/check.h"
#include "knowledge/asof.h"
#include "common/date.h"

enum { Y = ANNALS__V1__PRECISION__PRECISION_YEAR, M = ANNALS__V1__PRECISION__PRECISION_MONTH,
       D = ANNALS__V1__PRECISION__PRECISION_DAY };
enum { UNSTATED = ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED, EXACT = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT,
       OBSERVED = ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED, BEFORE = ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE,
       AFTER = ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER };

/* One interval under test, with its storage. */
typedef struct iv {
	Annals__V1__Date sd, ed;
	Annals__V1__Bound s, e;
	Annals__V1__Interval i;
} iv;

static Annals__V1__Date mkdate(const char *s)
{
	Annals__V1__Date d = ANNALS__V1__DATE__INIT;
	char msg[128];
	if (s != NULL && date_parse(s, &d, msg, sizeof(msg)) != 0)
		fprintf(stderr, "  bad test date %s: %s\n", s, msg);
	return d;
}

/* start/end kinds with their dates ("1992", "1999-04", NULL for none). */
static void mkiv(iv *x, int sk, const char *sdate, int ek, const char *edate)
{
	Annals__V1__Interval i = ANNALS__V1__INTERVAL__INIT;
	Annals__V1__Bound b = ANNALS__V1__BOUND__INIT;
	x->sd = mkdate(sdate);
	x->ed = mkdate(edate);
	x->s = b;
	x->e = b;
	x->s.kind = (Annals__V1__BoundKind)sk;
	x->e.kind = (Annals__V1__BoundKind)ek;
	x->s.date = sdate ? &x->sd : NULL;
	x->e.date = edate ? &x->ed : NULL;
	x->i = i;
	x->i.start = &x->s;
	x->i.end = &x->e;
}

/* Truth of an interval over the days of `when` ("1992-06-01", "1992", ...). */
static asof_truth on(const Annals__V1__Interval *i, const char *when)
{
	asof_span sp;
	Annals__V1__Date d = mkdate(when);
	int32_t lo = 0, hi = 0;
	CHECK(date_range(&d, &lo, &hi));
	asof_span_of(i, &sp);
	return asof_eval(&sp, lo, hi);
}

#define IS(i, when, want) CHECK_EQ_STR(asof_name(on((i), (when))), asof_name(want))

static void test_null_interval_always_true(void)
{
	IS(NULL, "0001-01-01", ASOF_TRUE);
	IS(NULL, "9999-12-31", ASOF_TRUE);
	IS(NULL, "2019", ASOF_TRUE);
	/* an interval with neither bound set: start unknown, never ends */
	Annals__V1__Interval empty = ANNALS__V1__INTERVAL__INIT;
	IS(&empty, "2019-05-01", ASOF_UNKNOWN);
	asof_span sp;
	asof_span_of(&empty, &sp);
	CHECK_EQ_INT(sp.s_lo, DATE_NEG_INF);
	CHECK_EQ_INT(sp.s_hi, DATE_POS_INF);
	CHECK_EQ_INT(sp.e_lo, DATE_POS_INF);
	CHECK_EQ_INT(sp.e_hi, DATE_POS_INF);
}

static void test_start_exact_year(void)
{
	iv x;
	mkiv(&x, EXACT, "1992", UNSTATED, NULL);
	IS(&x.i, "1991-12-31", ASOF_FALSE);
	IS(&x.i, "1992-01-01", ASOF_UNKNOWN);
	IS(&x.i, "1992-06-01", ASOF_UNKNOWN);
	IS(&x.i, "1992-12-30", ASOF_UNKNOWN);
	IS(&x.i, "1992-12-31", ASOF_TRUE);
	IS(&x.i, "1993-01-01", ASOF_TRUE);
	IS(&x.i, "9999-12-31", ASOF_TRUE);
	IS(&x.i, "1992", ASOF_UNKNOWN); /* the whole year: not true on its first days */
	IS(&x.i, "1992-12", ASOF_UNKNOWN);
	IS(&x.i, "1993", ASOF_TRUE);
	IS(&x.i, "1991", ASOF_FALSE);
	IS(&x.i, "1991-12", ASOF_FALSE);
}

static void test_start_exact_month_and_day(void)
{
	iv x;
	mkiv(&x, EXACT, "2008-08", UNSTATED, NULL);
	IS(&x.i, "2008-07-31", ASOF_FALSE);
	IS(&x.i, "2008-08-01", ASOF_UNKNOWN);
	IS(&x.i, "2008-08-31", ASOF_TRUE);
	IS(&x.i, "2008-08", ASOF_UNKNOWN);
	IS(&x.i, "2008-09", ASOF_TRUE);
	IS(&x.i, "2008", ASOF_UNKNOWN);
	mkiv(&x, EXACT, "2020-01-01", UNSTATED, NULL);
	IS(&x.i, "2019-12-31", ASOF_FALSE);
	IS(&x.i, "2020-01-01", ASOF_TRUE); /* holds on its first day */
	IS(&x.i, "2020", ASOF_TRUE);
	IS(&x.i, "2019", ASOF_FALSE);
}

static void test_start_before_and_observed(void)
{
	iv x;
	mkiv(&x, BEFORE, "1999", UNSTATED, NULL);
	IS(&x.i, "1980-01-01", ASOF_UNKNOWN); /* it may have begun long before */
	IS(&x.i, "1999-12-30", ASOF_UNKNOWN);
	IS(&x.i, "1999-12-31", ASOF_TRUE);
	IS(&x.i, "2005", ASOF_TRUE);
	mkiv(&x, OBSERVED, "2019-05", UNSTATED, NULL);
	IS(&x.i, "2019-05-30", ASOF_UNKNOWN);
	IS(&x.i, "2019-05-31", ASOF_TRUE);
	IS(&x.i, "1900", ASOF_UNKNOWN);
}

static void test_start_after(void)
{
	iv x;
	mkiv(&x, AFTER, "2006", UNSTATED, NULL);
	IS(&x.i, "2005-12-31", ASOF_FALSE);
	IS(&x.i, "2006-01-01", ASOF_UNKNOWN);
	IS(&x.i, "2030", ASOF_UNKNOWN); /* never certainly begun */
}

static void test_start_unstated(void)
{
	iv x;
	mkiv(&x, UNSTATED, NULL, UNSTATED, NULL);
	IS(&x.i, "2019-01-01", ASOF_UNKNOWN);
	mkiv(&x, UNSTATED, NULL, EXACT, "2018-12-01");
	IS(&x.i, "2018-11-30", ASOF_UNKNOWN);
	IS(&x.i, "2018-12-01", ASOF_FALSE);
	/* an UNSTATED start ignores a date given with it */
	mkiv(&x, UNSTATED, "1992", UNSTATED, NULL);
	IS(&x.i, "2000", ASOF_UNKNOWN);
	/* no start bound at all is UNSTATED too */
	x.i.start = NULL;
	IS(&x.i, "2000", ASOF_UNKNOWN);
}

static void test_end_exact(void)
{
	iv x;
	mkiv(&x, EXACT, "2006", EXACT, "2012-06-28");
	IS(&x.i, "2012-06-27", ASOF_TRUE);
	IS(&x.i, "2012-06-28", ASOF_FALSE); /* false from the end day on */
	IS(&x.i, "2012-06", ASOF_UNKNOWN);
	IS(&x.i, "2012", ASOF_UNKNOWN);
	IS(&x.i, "2011", ASOF_TRUE);
	IS(&x.i, "2013", ASOF_FALSE);
	IS(&x.i, "2005", ASOF_FALSE);
	mkiv(&x, EXACT, "1992-01-01", EXACT, "1999");
	IS(&x.i, "1998-12-31", ASOF_TRUE);
	IS(&x.i, "1999-01-01", ASOF_UNKNOWN);
	IS(&x.i, "1999-12-30", ASOF_UNKNOWN);
	IS(&x.i, "1999-12-31", ASOF_FALSE);
	IS(&x.i, "2000", ASOF_FALSE);
}

static void test_end_after(void)
{
	iv x;
	mkiv(&x, EXACT, "1992", AFTER, "1999-04");
	IS(&x.i, "1999-03-31", ASOF_TRUE);
	IS(&x.i, "1999-04-01", ASOF_UNKNOWN);
	IS(&x.i, "2020", ASOF_UNKNOWN); /* may not have ended at all */
	IS(&x.i, "9999-12-31", ASOF_UNKNOWN);
	IS(&x.i, "1999-03", ASOF_TRUE);
	IS(&x.i, "1999", ASOF_UNKNOWN);
}

static void test_end_before(void)
{
	iv x;
	mkiv(&x, EXACT, "2017", BEFORE, "2020-01-01");
	IS(&x.i, "2018-06", ASOF_UNKNOWN); /* may already have ended */
	IS(&x.i, "2019-12-31", ASOF_UNKNOWN);
	IS(&x.i, "2020-01-01", ASOF_FALSE);
	IS(&x.i, "2021", ASOF_FALSE);
	IS(&x.i, "2016", ASOF_FALSE);
}

static void test_end_observed(void)
{
	iv x;
	mkiv(&x, EXACT, "1992", OBSERVED, "2019-05");
	/* seen holding in May 2019: held at least through May 1 */
	IS(&x.i, "2000", ASOF_TRUE);
	IS(&x.i, "2019-05-01", ASOF_TRUE);
	IS(&x.i, "2019-05-02", ASOF_UNKNOWN);
	IS(&x.i, "2019-05", ASOF_UNKNOWN);
	IS(&x.i, "2030", ASOF_UNKNOWN); /* never certainly over */
	mkiv(&x, EXACT, "1992", OBSERVED, "2019-05-15");
	IS(&x.i, "2019-05-15", ASOF_TRUE);
	IS(&x.i, "2019-05-16", ASOF_UNKNOWN);
}

static void test_end_unstated(void)
{
	iv x;
	mkiv(&x, EXACT, "2020-01-01", UNSTATED, NULL);
	IS(&x.i, "9999-12-31", ASOF_TRUE);
	x.i.end = NULL; /* absent end: also still holds */
	IS(&x.i, "9999", ASOF_TRUE);
	asof_span sp;
	asof_span_of(&x.i, &sp);
	CHECK_EQ_INT(sp.e_lo, DATE_POS_INF);
}

static void test_unresolved_dates_are_unknown(void)
{
	iv x;
	mkiv(&x, EXACT, "2019", EXACT, "2020");
	Annals__V1__Date rel = ANNALS__V1__DATE__INIT;
	rel.precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	rel.anchor = "doc:nowhere";
	rel.offset_days = -1;
	x.s.date = &rel; /* "yesterday" of a document with no known date */
	asof_span sp;
	asof_span_of(&x.i, &sp);
	CHECK_EQ_INT(sp.s_lo, DATE_NEG_INF);
	CHECK_EQ_INT(sp.s_hi, DATE_POS_INF);
	IS(&x.i, "1900", ASOF_UNKNOWN);
	IS(&x.i, "2019-06", ASOF_UNKNOWN);
	IS(&x.i, "2020-12-31", ASOF_FALSE); /* the known end still decides */
	/* an unresolved end: fully unknown, even long after */
	mkiv(&x, EXACT, "2019", EXACT, NULL);
	IS(&x.i, "2019-12-31", ASOF_UNKNOWN);
	IS(&x.i, "2500", ASOF_UNKNOWN);
	IS(&x.i, "2018", ASOF_FALSE);
	x.e.date = &rel;
	IS(&x.i, "2500", ASOF_UNKNOWN);
	/* the same relative date, once resolved, decides */
	rel.resolved = true;
	rel.earliest = rel.latest = date_days_from_civil(2020, 3, 1);
	IS(&x.i, "2020-02-29", ASOF_TRUE);
	IS(&x.i, "2020-03-01", ASOF_FALSE);
}

static void test_eval_ranges_directly(void)
{
	asof_span sp = {.s_lo = 10, .s_hi = 20, .e_lo = 30, .e_hi = 40};
	CHECK_EQ_INT(asof_eval(&sp, 20, 29), ASOF_TRUE);
	CHECK_EQ_INT(asof_eval(&sp, 19, 29), ASOF_UNKNOWN);
	CHECK_EQ_INT(asof_eval(&sp, 20, 30), ASOF_UNKNOWN);
	CHECK_EQ_INT(asof_eval(&sp, 0, 9), ASOF_FALSE);
	CHECK_EQ_INT(asof_eval(&sp, 0, 10), ASOF_UNKNOWN);
	CHECK_EQ_INT(asof_eval(&sp, 40, 50), ASOF_FALSE);
	CHECK_EQ_INT(asof_eval(&sp, 39, 50), ASOF_UNKNOWN);
	CHECK_EQ_INT(asof_eval(&sp, 0, 100), ASOF_UNKNOWN);
	/* a contradictory span (end before start) is never TRUE */
	asof_span bad = {.s_lo = 30, .s_hi = 30, .e_lo = 10, .e_hi = 10};
	CHECK_EQ_INT(asof_eval(&bad, 20, 20), ASOF_FALSE);
	CHECK_EQ_INT(asof_eval(&bad, 35, 35), ASOF_FALSE);
}

static void test_combine(void)
{
	const asof_truth all[3] = {ASOF_TRUE, ASOF_FALSE, ASOF_UNKNOWN};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			asof_truth a = all[i], b = all[j], c = asof_combine(a, b);
			if (a == ASOF_TRUE || b == ASOF_TRUE)
				CHECK_EQ_INT(c, ASOF_TRUE);
			else if (a == ASOF_FALSE && b == ASOF_FALSE)
				CHECK_EQ_INT(c, ASOF_FALSE);
			else
				CHECK_EQ_INT(c, ASOF_UNKNOWN);
			CHECK_EQ_INT(c, asof_combine(b, a));
		}
	/* a fold over segments starts with FALSE */
	asof_truth acc = ASOF_FALSE;
	acc = asof_combine(acc, ASOF_FALSE);
	CHECK_EQ_INT(acc, ASOF_FALSE);
	acc = asof_combine(acc, ASOF_UNKNOWN);
	CHECK_EQ_INT(acc, ASOF_UNKNOWN);
	acc = asof_combine(acc, ASOF_TRUE);
	CHECK_EQ_INT(acc, ASOF_TRUE);
	CHECK_EQ_STR(asof_name(ASOF_TRUE), "TRUE");
	CHECK_EQ_STR(asof_name(ASOF_FALSE), "FALSE");
	CHECK_EQ_STR(asof_name(ASOF_UNKNOWN), "UNKNOWN");
	CHECK_EQ_STR(asof_name((asof_truth)0), "UNSPECIFIED");
}

static void test_segments_of_a_membership(void)
{
	/* Uzbekistan in the CST/CSTO, as the founding article tells it */
	iv a, s1, b, s2;
	mkiv(&a, EXACT, "1992", AFTER, "1999-04");       /* active; missing from the 1999 renewal */
	mkiv(&s1, EXACT, "1999", EXACT, "2006");         /* suspended */
	mkiv(&b, EXACT, "2006", EXACT, "2012-06-28");    /* active again */
	mkiv(&s2, EXACT, "2012-06-28", UNSTATED, NULL);  /* suspended since */
	const char *when[] = {"1995", "2003", "2008", "2012-06-27", "2012-06-28", "2020-01-01"};
	/* The first active segment's end is only "at or after 1999-04", so
	 * outside the second one the fold can never say FALSE. */
	const asof_truth active[] = {ASOF_TRUE, ASOF_UNKNOWN, ASOF_TRUE, ASOF_TRUE, ASOF_UNKNOWN, ASOF_UNKNOWN};
	for (int k = 0; k < 6; k++) {
		asof_truth acc = asof_combine(asof_combine(ASOF_FALSE, on(&a.i, when[k])), on(&b.i, when[k]));
		CHECK_EQ_STR(asof_name(acc), asof_name(active[k]));
	}
	IS(&s2.i, "2020-01-01", ASOF_TRUE);
	/* with the first segment ending in 1999 (EXACT) the gaps are FALSE */
	mkiv(&a, EXACT, "1992", EXACT, "1999");
	asof_truth gap = asof_combine(asof_combine(ASOF_FALSE, on(&a.i, "2003")), on(&b.i, "2003"));
	CHECK_EQ_INT(gap, ASOF_FALSE);
	gap = asof_combine(asof_combine(ASOF_FALSE, on(&a.i, "2012-06-28")), on(&b.i, "2012-06-28"));
	CHECK_EQ_INT(gap, ASOF_FALSE);
	IS(&s1.i, "2003", ASOF_TRUE);
}

int main(void)
{
	RUN(test_null_interval_always_true);
	RUN(test_start_exact_year);
	RUN(test_start_exact_month_and_day);
	RUN(test_start_before_and_observed);
	RUN(test_start_after);
	RUN(test_start_unstated);
	RUN(test_end_exact);
	RUN(test_end_after);
	RUN(test_end_before);
	RUN(test_end_observed);
	RUN(test_end_unstated);
	RUN(test_unresolved_dates_are_unknown);
	RUN(test_eval_ranges_directly);
	RUN(test_combine);
	RUN(test_segments_of_a_membership);
	return CHECK_DONE();
}

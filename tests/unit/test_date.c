/* Unit tests of src/common/date.c: the calendar, parsing, validation,
 * formatting, ranges and relative-date resolution. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/date.h"
#include "../lib/check.h"

static int32_t day_of(int y, int m, int d)
{
	return date_days_from_civil(y, m, d);
}

static Annals__V1__Date abs_date(int p, int y, int m, int d)
{
	Annals__V1__Date x = ANNALS__V1__DATE__INIT;
	x.precision = (Annals__V1__Precision)p;
	x.year = y;
	x.month = m;
	x.day = d;
	return x;
}

static Annals__V1__Date rel_date(int p, const char *anchor, int oy, int om, int od)
{
	Annals__V1__Date x = ANNALS__V1__DATE__INIT;
	x.precision = (Annals__V1__Precision)p;
	x.anchor = (char *)anchor;
	x.offset_years = oy;
	x.offset_months = om;
	x.offset_days = od;
	return x;
}

enum {
	Y = ANNALS__V1__PRECISION__PRECISION_YEAR,
	M = ANNALS__V1__PRECISION__PRECISION_MONTH,
	D = ANNALS__V1__PRECISION__PRECISION_DAY
};

static void test_civil_known_days(void)
{
	CHECK_EQ_INT(day_of(1970, 1, 1), 0);
	CHECK_EQ_INT(day_of(1970, 1, 2), 1);
	CHECK_EQ_INT(day_of(1969, 12, 31), -1);
	CHECK_EQ_INT(day_of(2000, 3, 1), 11017);
	CHECK_EQ_INT(day_of(2020, 1, 1), 18262);
	CHECK_EQ_INT(day_of(1, 1, 1), -719162);
	CHECK_EQ_INT(day_of(9999, 12, 31), 2932896);
	CHECK_EQ_INT(day_of(2012, 6, 28) - day_of(2012, 6, 27), 1);
}

static void test_civil_round_trip_every_day(void)
{
	/* Every day of years 1..9999 maps back to itself, consecutively. */
	int32_t first = day_of(1, 1, 1), last = day_of(9999, 12, 31);
	int py = 0, pm = 12, pd = 31;
	int bad = 0;
	for (int32_t z = first; z <= last; z++) {
		int y, m, d;
		date_civil_from_days(z, &y, &m, &d);
		bool next_day = (y == py && m == pm && d == pd + 1) ||
		                (y == py && m == pm + 1 && d == 1 && pd == date_days_in_month(py, pm)) ||
		                (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
		if (!next_day || day_of(y, m, d) != z)
			bad++;
		py = y, pm = m, pd = d;
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_days_in_month(void)
{
	CHECK_EQ_INT(date_days_in_month(2019, 2), 28);
	CHECK_EQ_INT(date_days_in_month(2020, 2), 29);
	CHECK_EQ_INT(date_days_in_month(1900, 2), 28); /* century, not leap */
	CHECK_EQ_INT(date_days_in_month(2000, 2), 29); /* 400th year, leap */
	CHECK_EQ_INT(date_days_in_month(4, 2), 29);
	CHECK_EQ_INT(date_days_in_month(1, 2), 28);
	CHECK_EQ_INT(date_days_in_month(2019, 4), 30);
	CHECK_EQ_INT(date_days_in_month(2019, 12), 31);
	CHECK_EQ_INT(date_days_in_month(2019, 0), 0);
	CHECK_EQ_INT(date_days_in_month(2019, 13), 0);
	CHECK_EQ_INT(day_of(2021, 1, 1) - day_of(2020, 1, 1), 366);
	CHECK_EQ_INT(day_of(2101, 1, 1) - day_of(2100, 1, 1), 365);
}

static void test_parse_ok(void)
{
	Annals__V1__Date d;
	char msg[128];
	CHECK_EQ_INT(date_parse("2019", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(d.precision, Y);
	CHECK_EQ_INT(d.year, 2019);
	CHECK(d.resolved);
	CHECK_EQ_INT(d.earliest, day_of(2019, 1, 1));
	CHECK_EQ_INT(d.latest, day_of(2019, 12, 31));

	CHECK_EQ_INT(date_parse("2019-05", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(d.precision, M);
	CHECK_EQ_INT(d.month, 5);
	CHECK_EQ_INT(d.earliest, day_of(2019, 5, 1));
	CHECK_EQ_INT(d.latest, day_of(2019, 5, 31));

	CHECK_EQ_INT(date_parse("2020-02", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(d.latest, day_of(2020, 2, 29));

	CHECK_EQ_INT(date_parse("2012-06-28", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(d.precision, D);
	CHECK_EQ_INT(d.day, 28);
	CHECK_EQ_INT(d.earliest, d.latest);
	CHECK_EQ_INT(d.earliest, day_of(2012, 6, 28));

	CHECK_EQ_INT(date_parse("2020-02-29", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(date_parse("2000-02-29", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(date_parse("0001-01-01", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(d.earliest, day_of(1, 1, 1));
	CHECK_EQ_INT(date_parse("9999-12-31", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(d.latest, day_of(9999, 12, 31));
	CHECK_EQ_INT(date_parse("0001", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(date_parse("9999", &d, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(d.anchor, "");
}

static void parse_fails(const char *s, const char *why)
{
	Annals__V1__Date d;
	char msg[128] = "";
	CHECK_EQ_INT(date_parse(s, &d, msg, sizeof(msg)), -1);
	CHECK_CONTAINS(msg, why);
	CHECK(!d.resolved);
}

static void test_parse_errors(void)
{
	parse_fails("", "empty date");
	parse_fails(NULL, "empty date");
	parse_fails("19", "is not a date");
	parse_fails("20190", "is not a date");
	parse_fails("2019-5", "is not a date");
	parse_fails("2019-05-1", "is not a date");
	parse_fails("2019/05/01", "is not a date");
	parse_fails("2019-05-01T00", "is not a date");
	parse_fails(" 2019", "is not a date");
	parse_fails("2019-", "is not a date");
	parse_fails("-2019", "is not a date");
	parse_fails("20x9", "is not a date");
	parse_fails("2019-0a", "is not a date");
	parse_fails("0000", "year 0 is not in 1..9999");
	parse_fails("2019-13", "month 13 is not a month");
	parse_fails("2019-00", "month 0 is not a month");
	parse_fails("2019-04-31", "day 31 is not a day of 2019-04");
	parse_fails("2019-02-29", "day 29 is not a day of 2019-02");
	parse_fails("1900-02-29", "day 29 is not a day of 1900-02");
	parse_fails("2019-01-00", "day 0 is not a day of 2019-01");
	parse_fails("2019-01-32", "day 32 is not a day of 2019-01");
}

static void validate_fails(const Annals__V1__Date *d, const char *why)
{
	char msg[160] = "";
	CHECK_EQ_INT(date_validate(d, msg, sizeof(msg)), -1);
	CHECK_CONTAINS(msg, why);
}

static void validate_ok(const Annals__V1__Date *d)
{
	char msg[160] = "";
	int rc = date_validate(d, msg, sizeof(msg));
	if (rc != 0)
		fprintf(stderr, "  unexpected: %s\n", msg);
	CHECK_EQ_INT(rc, 0);
}

static void test_validate_absolute(void)
{
	Annals__V1__Date d;
	validate_ok(NULL);
	d = abs_date(Y, 1992, 0, 0);
	validate_ok(&d);
	d = abs_date(M, 2019, 5, 0);
	validate_ok(&d);
	d = abs_date(D, 2020, 2, 29);
	validate_ok(&d);
	d = abs_date(D, 1, 1, 1);
	validate_ok(&d);
	d = abs_date(D, 9999, 12, 31);
	validate_ok(&d);
	d = abs_date(0, 2019, 0, 0);
	validate_fails(&d, "precision: required");
	d = abs_date(7, 2019, 0, 0);
	validate_fails(&d, "precision: 7 is not a precision");
	d = abs_date(Y, 0, 0, 0);
	validate_fails(&d, "year: 0 is not in 1..9999");
	d = abs_date(Y, 10000, 0, 0);
	validate_fails(&d, "year: 10000 is not in 1..9999");
	d = abs_date(Y, -5, 0, 0);
	validate_fails(&d, "year: -5 is not in 1..9999");
	d = abs_date(M, 2019, 13, 0);
	validate_fails(&d, "month: 13 is not a month");
	d = abs_date(D, 2019, 0, 1);
	validate_fails(&d, "month: 0 is not a month");
	d = abs_date(D, 2019, 4, 31);
	validate_fails(&d, "day: 31 is not a day of 2019-04");
	d = abs_date(D, 2019, 2, 29);
	validate_fails(&d, "day: 29 is not a day of 2019-02");
	d = abs_date(D, 2019, 1, 0);
	validate_fails(&d, "day: 0 is not a day of 2019-01");
	d = abs_date(Y, 2019, 5, 0);
	validate_fails(&d, "month: must be 0 at year precision");
	d = abs_date(M, 2019, 5, 3);
	validate_fails(&d, "day: must be 0 at month precision");
	d = abs_date(D, 2019, 5, 3);
	d.offset_days = -1;
	validate_fails(&d, "offset_days: only a relative date");
}

static void test_validate_relative(void)
{
	Annals__V1__Date d = rel_date(D, "doc:tajik-1", 0, 0, -1);
	validate_ok(&d);
	d = rel_date(Y, "event:summit-2021", 0, 0, 0);
	validate_ok(&d);
	d.year = 2021; /* written back by resolution: accepted */
	d.resolved = true;
	validate_ok(&d);
	d = rel_date(D, "doc:", 0, 0, -1);
	validate_fails(&d, "anchor: must be \"doc:<id>\" or \"event:<id>\"");
	d = rel_date(D, "paper:x", 0, 0, -1);
	validate_fails(&d, "anchor: must be \"doc:<id>\" or \"event:<id>\"");
	d = rel_date(D, "doc:a b", 0, 0, -1);
	validate_fails(&d, "anchor: must be");
	d = rel_date(0, "doc:x", 0, 0, -1);
	validate_fails(&d, "precision: required");
	d = rel_date(D, "doc:x", 0, 0, 99999999);
	validate_fails(&d, "offset_days: 99999999 is out of range");
	d = rel_date(D, "doc:x", 20000, 0, 0);
	validate_fails(&d, "offset_years: 20000 is out of range");
	d = rel_date(D, "doc:x", 0, -200000, 0);
	validate_fails(&d, "offset_months: -200000 is out of range");
}

static void test_format(void)
{
	char buf[64];
	Annals__V1__Date d = abs_date(Y, 1992, 0, 0);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "1992");
	d = abs_date(M, 1999, 4, 0);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "1999-04");
	d = abs_date(D, 2020, 1, 1);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "2020-01-01");
	d = abs_date(D, 1, 1, 1);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "0001-01-01");
	d = abs_date(0, 0, 0, 0);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "?");
	CHECK_EQ_STR(date_format(NULL, buf, sizeof(buf)), "");
	d = rel_date(D, "doc:x", 0, 0, -1);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "doc:x-1d?");
	d = rel_date(Y, "doc:x", -1, 0, 0);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "doc:x-1y? (year)");
	d = rel_date(M, "event:e", 0, 2, 0);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "event:e+2m? (month)");
	char tiny[5];
	d = abs_date(D, 2020, 1, 1);
	CHECK_EQ_STR(date_format(&d, tiny, sizeof(tiny)), "2020");
}

static void test_range(void)
{
	int32_t lo = 1, hi = 2;
	Annals__V1__Date d = abs_date(Y, 1992, 0, 0);
	/* absolute dates need no resolution to have a range */
	CHECK(date_range(&d, &lo, &hi));
	CHECK_EQ_INT(lo, day_of(1992, 1, 1));
	CHECK_EQ_INT(hi, day_of(1992, 12, 31));
	d = abs_date(M, 2000, 2, 0);
	CHECK(date_range(&d, &lo, &hi));
	CHECK_EQ_INT(hi - lo, 28);
	CHECK(!date_range(NULL, &lo, &hi));
	d = abs_date(0, 1992, 0, 0);
	CHECK(!date_range(&d, &lo, &hi));
	d = abs_date(D, 2019, 2, 30);
	CHECK(!date_range(&d, &lo, &hi));
	d = rel_date(D, "doc:x", 0, 0, -1);
	CHECK(!date_range(&d, &lo, &hi)); /* relative, not resolved */
	d.resolved = true;
	d.earliest = 10;
	d.latest = 5;
	CHECK(!date_range(&d, &lo, &hi)); /* nonsense range */
}

/* ---- relative dates ------------------------------------------------------ */

typedef struct anchors {
	const char *name[4];
	Annals__V1__Date date[4];
	int n;
	int calls;
} anchors;

static const Annals__V1__Date *lookup(void *ctx, const char *anchor)
{
	anchors *a = ctx;
	a->calls++;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->name[i], anchor) == 0)
			return &a->date[i];
	return NULL;
}

static anchors test_anchors(void)
{
	anchors a = {.n = 4};
	a.name[0] = "doc:day";
	a.date[0] = abs_date(D, 2021, 3, 1); /* the day after a February */
	a.name[1] = "doc:month";
	a.date[1] = abs_date(M, 2019, 5, 0);
	a.name[2] = "doc:year";
	a.date[2] = abs_date(Y, 2020, 0, 0);
	a.name[3] = "event:unresolved";
	a.date[3] = rel_date(D, "doc:nowhere", 0, 0, 0);
	return a;
}

static void resolves(anchors *a, Annals__V1__Date d, int32_t lo, int32_t hi, int y, int m, int dd)
{
	date_resolve(&d, lookup, a);
	CHECK(d.resolved);
	CHECK_EQ_INT(d.earliest, lo);
	CHECK_EQ_INT(d.latest, hi);
	CHECK_EQ_INT(d.year, y);
	CHECK_EQ_INT(d.month, m);
	CHECK_EQ_INT(d.day, dd);
	/* resolving again gives the same answer */
	date_resolve(&d, lookup, a);
	CHECK_EQ_INT(d.earliest, lo);
	CHECK_EQ_INT(d.latest, hi);
}

static void test_resolve_day_anchor(void)
{
	anchors a = test_anchors();
	/* yesterday, across the end of February (2021 is not a leap year) */
	resolves(&a, rel_date(D, "doc:day", 0, 0, -1), day_of(2021, 2, 28), day_of(2021, 2, 28), 2021, 2, 28);
	/* today, tomorrow */
	resolves(&a, rel_date(D, "doc:day", 0, 0, 0), day_of(2021, 3, 1), day_of(2021, 3, 1), 2021, 3, 1);
	resolves(&a, rel_date(D, "doc:day", 0, 0, 1), day_of(2021, 3, 2), day_of(2021, 3, 2), 2021, 3, 2);
	/* this year, last month, next year */
	resolves(&a, rel_date(Y, "doc:day", 0, 0, 0), day_of(2021, 1, 1), day_of(2021, 12, 31), 2021, 0, 0);
	resolves(&a, rel_date(M, "doc:day", 0, -1, 0), day_of(2021, 2, 1), day_of(2021, 2, 28), 2021, 2, 0);
	resolves(&a, rel_date(Y, "doc:day", 1, 0, 0), day_of(2022, 1, 1), day_of(2022, 12, 31), 2022, 0, 0);
	/* month arithmetic crosses years both ways */
	resolves(&a, rel_date(M, "doc:day", 0, -3, 0), day_of(2020, 12, 1), day_of(2020, 12, 31), 2020, 12,
	         0);
	resolves(&a, rel_date(M, "doc:day", 0, 10, 0), day_of(2022, 1, 1), day_of(2022, 1, 31), 2022, 1, 0);
	/* a year and a day ago */
	resolves(&a, rel_date(D, "doc:day", -1, 0, -1), day_of(2020, 2, 29), day_of(2020, 2, 29), 2020, 2,
	         29);
}

static void test_resolve_month_end_clamp(void)
{
	anchors a = {.n = 1};
	a.name[0] = "doc:jan31";
	a.date[0] = abs_date(D, 2020, 1, 31);
	/* one month after January 31 is the last day of February */
	resolves(&a, rel_date(D, "doc:jan31", 0, 1, 0), day_of(2020, 2, 29), day_of(2020, 2, 29), 2020, 2,
	         29);
	resolves(&a, rel_date(D, "doc:jan31", 1, 1, 0), day_of(2021, 2, 28), day_of(2021, 2, 28), 2021, 2,
	         28);
}

static void test_resolve_coarse_anchor_widens(void)
{
	anchors a = test_anchors();
	/* "yesterday" in an article known only as "May 2019": 31 possible days */
	resolves(&a, rel_date(D, "doc:month", 0, 0, -1), day_of(2019, 4, 30), day_of(2019, 5, 30), 2019, 0,
	         0);
	/* "this month" and "last month" are exact at month precision */
	resolves(&a, rel_date(M, "doc:month", 0, 0, 0), day_of(2019, 5, 1), day_of(2019, 5, 31), 2019, 5, 0);
	resolves(&a, rel_date(M, "doc:month", 0, -1, 0), day_of(2019, 4, 1), day_of(2019, 4, 30), 2019, 4, 0);
	/* "today" from a month: every day of that month, no day invented */
	resolves(&a, rel_date(D, "doc:month", 0, 0, 0), day_of(2019, 5, 1), day_of(2019, 5, 31), 2019, 5, 0);
	/* "yesterday" from a year anchor spans two years: no common year */
	resolves(&a, rel_date(D, "doc:year", 0, 0, -1), day_of(2019, 12, 31), day_of(2020, 12, 30), 0, 0, 0);
	/* "last year" from a year anchor is exact */
	resolves(&a, rel_date(Y, "doc:year", -1, 0, 0), day_of(2019, 1, 1), day_of(2019, 12, 31), 2019, 0, 0);
	/* "last month" from a year anchor: Dec 2019 .. Nov 2020 */
	resolves(&a, rel_date(M, "doc:year", 0, -1, 0), day_of(2019, 12, 1), day_of(2020, 11, 30), 0, 0, 0);
	char buf[64];
	Annals__V1__Date d = rel_date(D, "doc:month", 0, 0, -1);
	date_resolve(&d, lookup, &a);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "2019-04-30..2019-05-30");
	d = rel_date(M, "doc:month", 0, -1, 0);
	date_resolve(&d, lookup, &a);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "2019-04");
	int32_t lo, hi;
	CHECK(date_range(&d, &lo, &hi));
	CHECK_EQ_INT(lo, day_of(2019, 4, 1));
}

static void unresolved(anchors *a, Annals__V1__Date d)
{
	d.resolved = true; /* stale values must be cleared */
	d.earliest = 7;
	d.latest = 9;
	date_resolve(&d, a ? lookup : NULL, a);
	CHECK(!d.resolved);
	CHECK_EQ_INT(d.earliest, 0);
	CHECK_EQ_INT(d.latest, 0);
	int32_t lo, hi;
	CHECK(!date_range(&d, &lo, &hi));
}

static void test_resolve_unresolvable(void)
{
	anchors a = test_anchors();
	unresolved(&a, rel_date(D, "doc:unknown", 0, 0, -1));     /* no such anchor */
	unresolved(&a, rel_date(D, "event:unresolved", 0, 0, 1)); /* anchor itself unresolved */
	unresolved(NULL, rel_date(D, "doc:day", 0, 0, -1));       /* no lookup at all */
	unresolved(&a, rel_date(0, "doc:day", 0, 0, -1));         /* no precision */
	unresolved(&a, rel_date(D, "bogus", 0, 0, -1));           /* bad anchor: not even looked up */
	unresolved(&a, rel_date(D, "doc:day", 9000, 0, 0));       /* beyond 9999 */
	unresolved(&a, rel_date(D, "doc:day", -2021, 0, 0));      /* before year 1 */
	unresolved(&a, rel_date(D, "doc:day", 0, 0, -3652058));   /* before 0001-01-01 */
	Annals__V1__Date bad = abs_date(D, 2019, 2, 29);
	unresolved(&a, bad);
	char buf[64];
	Annals__V1__Date d = rel_date(D, "doc:unknown", 0, 0, -1);
	date_resolve(&d, lookup, &a);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "doc:unknown-1d?");
}

static void test_resolve_chain_and_self(void)
{
	/* an event dated "the day before" a document dated "yesterday" of another */
	anchors a = {.n = 3};
	a.name[0] = "doc:base";
	a.date[0] = abs_date(D, 2020, 1, 1);
	a.name[1] = "event:mid";
	a.date[1] = rel_date(D, "doc:base", 0, 0, -1);
	a.name[2] = "event:self";
	a.date[2] = rel_date(D, "event:self", 0, 0, -1);
	date_resolve(&a.date[1], lookup, &a);
	CHECK(a.date[1].resolved);
	Annals__V1__Date d = rel_date(D, "event:mid", 0, 0, -1);
	date_resolve(&d, lookup, &a);
	CHECK(d.resolved);
	CHECK_EQ_INT(d.earliest, day_of(2019, 12, 30));
	/* a date anchored to itself never resolves */
	date_resolve(&a.date[2], lookup, &a);
	CHECK(!a.date[2].resolved);
}

/* An anchor known only from below (a document's publication bounded by
 * its content: "2020-01-01 or later") keeps its dependents open at the
 * end: no last day is shifted out of the sentinel or made up. */
static void test_resolve_open_end(void)
{
	CHECK_EQ_INT(DATE_LAST_DAY, day_of(9999, 12, 31));
	anchors a = {.n = 1};
	a.name[0] = "doc:bounded";
	a.date[0] = rel_date(D, "doc:bounded", 0, 0, 0);
	a.date[0].resolved = true;
	a.date[0].earliest = day_of(2020, 1, 1);
	a.date[0].latest = DATE_LAST_DAY;
	CHECK(date_open_end(&a.date[0]));
	/* yesterday, tomorrow, this year, last month: the first day moves, the end stays open */
	resolves(&a, rel_date(D, "doc:bounded", 0, 0, -1), day_of(2019, 12, 31), DATE_LAST_DAY, 0, 0, 0);
	resolves(&a, rel_date(D, "doc:bounded", 0, 0, 1), day_of(2020, 1, 2), DATE_LAST_DAY, 0, 0, 0);
	resolves(&a, rel_date(Y, "doc:bounded", 0, 0, 0), day_of(2020, 1, 1), DATE_LAST_DAY, 0, 0, 0);
	resolves(&a, rel_date(M, "doc:bounded", 0, -1, 0), day_of(2019, 12, 1), DATE_LAST_DAY, 0, 0, 0);
	char buf[64];
	Annals__V1__Date d = rel_date(D, "doc:bounded", 0, 0, -1);
	date_resolve(&d, lookup, &a);
	CHECK_EQ_STR(date_format(&d, buf, sizeof(buf)), "2019-12-31 or later");
	CHECK(date_open_end(&d));
	/* a closed range is not open; an absolute date never is */
	Annals__V1__Date closed = abs_date(Y, 9999, 0, 0);
	CHECK(!date_open_end(&closed));
	anchors b = test_anchors();
	d = rel_date(D, "doc:day", 0, 0, -1);
	date_resolve(&d, lookup, &b);
	CHECK(!date_open_end(&d));
}

static void test_resolve_absolute(void)
{
	Annals__V1__Date d = abs_date(M, 1999, 4, 0);
	date_resolve(&d, NULL, NULL);
	CHECK(d.resolved);
	CHECK_EQ_INT(d.earliest, day_of(1999, 4, 1));
	CHECK_EQ_INT(d.latest, day_of(1999, 4, 30));
	d = abs_date(Y, 9999, 0, 0);
	date_resolve(&d, NULL, NULL);
	CHECK_EQ_INT(d.latest, day_of(9999, 12, 31));
	date_resolve(NULL, NULL, NULL); /* harmless */
}

/* date_format writes absolute dates by hand: the text must be what the
 * printf formats give, for every year, month and day it can be asked. */
static void test_format_digits_as_printf(void)
{
	char got[64], want[64];
	size_t wrong = 0, asked = 0;
	for (int y = -1; y <= 10000; y += (y < 30 || y > 9970) ? 1 : 7) {
		for (int m = -1; m <= 100; m += (m < 14 || m > 97) ? 1 : 11) {
			for (int p = 0; p <= 4; p++) {
				Annals__V1__Date d = ANNALS__V1__DATE__INIT;
				d.precision = (Annals__V1__Precision)p;
				d.year = y;
				d.month = m;
				d.day = (y + m) % 101 - 1;
				if (p == ANNALS__V1__PRECISION__PRECISION_YEAR)
					snprintf(want, sizeof(want), "%04d", y);
				else if (p == ANNALS__V1__PRECISION__PRECISION_MONTH)
					snprintf(want, sizeof(want), "%04d-%02d", y, m);
				else if (p == ANNALS__V1__PRECISION__PRECISION_DAY)
					snprintf(want, sizeof(want), "%04d-%02d-%02d", y, m, d.day);
				else
					snprintf(want, sizeof(want), "?");
				date_format(&d, got, sizeof(got));
				asked++;
				if (strcmp(got, want) != 0 && wrong++ < 5)
					fprintf(stderr, "  precision %d %d-%d-%d: \"%s\", printf \"%s\"\n", p,
					        y, m, d.day, got, want);
			}
		}
	}
	CHECK(asked > 10000);
	CHECK_EQ_INT(wrong, 0);
	/* too small a buffer: cut as snprintf cuts */
	Annals__V1__Date d = ANNALS__V1__DATE__INIT;
	d.precision = ANNALS__V1__PRECISION__PRECISION_DAY, d.year = 2019, d.month = 5, d.day = 13;
	date_format(&d, got, 8);
	CHECK_EQ_STR(got, "2019-05");
}

int main(void)
{
	RUN(test_civil_known_days);
	RUN(test_civil_round_trip_every_day);
	RUN(test_days_in_month);
	RUN(test_parse_ok);
	RUN(test_parse_errors);
	RUN(test_validate_absolute);
	RUN(test_validate_relative);
	RUN(test_format);
	RUN(test_format_digits_as_printf);
	RUN(test_range);
	RUN(test_resolve_day_anchor);
	RUN(test_resolve_month_end_clamp);
	RUN(test_resolve_coarse_anchor_widens);
	RUN(test_resolve_unresolvable);
	RUN(test_resolve_chain_and_self);
	RUN(test_resolve_open_end);
	RUN(test_resolve_absolute);
	return CHECK_DONE();
}

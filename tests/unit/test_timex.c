/* Unit tests of src/common/timex.c: date expressions found and normalised
 * with their precision (TIMEX3-style values), and the durations, clock
 * times and numbers that are not dates. */
#include <stdio.h>
#include <string.h>

#include "common/timex.h"
#include "../lib/check.h"

/* Every expression of text as "words=value/kind" joined by '|': value is
 * the normalised date, or the offsets of a relative one ("D-1", "Y+0"). */
static const char *found(const char *text)
{
	static char buf[2048];
	tx_expr x[32];
	size_t n = tx_find(text, strlen(text), x, 32), used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 32; i++) {
		char v[24];
		const Annals__V1__Date *d = &x[i].date;
		if (x[i].kind == TX_DOC_RELATIVE) {
			char p = d->precision == ANNALS__V1__PRECISION__PRECISION_DAY     ? 'D'
			         : d->precision == ANNALS__V1__PRECISION__PRECISION_MONTH ? 'M'
			                                                                  : 'Y';
			int off = d->offset_days + d->offset_months + d->offset_years;
			snprintf(v, sizeof(v), "%c%+d", p, off);
		} else {
			tx_value(d, v, sizeof(v));
		}
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%.*s=%s%s", i ? "|" : "",
		                         (int)(x[i].end - x[i].start), text + x[i].start, v,
		                         x[i].kind == TX_FOLLOWING ? "/following" : "");
	}
	return buf;
}

static void test_absolute(void)
{
	CHECK_EQ_STR(found("It joined in April 1996."), "April 1996=1996-04");
	CHECK_EQ_STR(found("It began on 15 June 2001 and ended July 4, 2023."),
	             "15 June 2001=2001-06-15|July 4, 2023=2023-07-04");
	CHECK_EQ_STR(found("Signed on June 28 2012, in Sept. 2019 and on the 4th of nothing."),
	             "June 28 2012=2012-06-28|Sept. 2019=2019-09");
	CHECK_EQ_STR(found("He has served since 2015; a 1994 treaty; 1992-1999."),
	             "2015=2015|1994=1994|1992=1992|1999=1999");
	CHECK_EQ_STR(found("The 3rd June, 2020 vote; May of 2005."),
	             "3rd June, 2020=2020-06-03|May of 2005=2005-05");
}

static void test_signals(void)
{
	tx_expr x[4];
	const char *t = "It has been here since 2015, and in May 2019 it left.";
	CHECK_EQ_INT(tx_find(t, strlen(t), x, 4), 2);
	CHECK_EQ_STR(x[0].signal, "since");
	CHECK_EQ_STR(x[1].signal, "in");
}

static void test_relative_to_publication(void)
{
	CHECK_EQ_STR(found("Rahmon met Zas yesterday; the summit is this year. It is currently so."),
	             "yesterday=D-1|this year=Y+0|currently=D+0");
	CHECK_EQ_STR(found("This year's budget, last year, next month, three days ago, tomorrow."),
	             "This year=Y+0|last year=Y-1|next month=M+1|three days ago=D-3|tomorrow=D+1");
}

static void test_following(void)
{
	CHECK_EQ_STR(found("Founded in 1992, joined by three the following year."),
	             "1992=1992|the following year=1993/following");
	CHECK_EQ_STR(found("Set up in March 2001; two years later it grew; the previous year it was small."),
	             "March 2001=2001-03|two years later=2003/following|the previous year=2002/following");
	/* with no dated expression before it, "the following year" dates nothing */
	CHECK_EQ_STR(found("The following year it grew."), "");
	tx_expr x[4];
	const char *t = "in 1992 ... the next year";
	CHECK_EQ_INT(tx_find(t, strlen(t), x, 4), 2);
	CHECK_EQ_INT(x[1].follows, 0);
}

static void test_not_dates(void)
{
	/* durations, clock times, decades, money and plain numbers */
	CHECK_EQ_STR(found("for three years, a five-year term, for another five-year period"), "");
	CHECK_EQ_STR(found("at 10:30, at 9 a.m., the 1990s, the 1990's, $2019, 2,019 troops, 20190"), "");
	CHECK_EQ_STR(found("they sent 1500 troops and 2.5% more; 3.2019 points"), "");
	CHECK_EQ_STR(found("members may join; he may 2019"), "2019=2019");
	/* counting without an array gives the same number as with one */
	const char *t = "in 1992, the following year, in 1994, two years later";
	tx_expr x[8];
	CHECK_EQ_INT(tx_find(t, strlen(t), NULL, 0), tx_find(t, strlen(t), x, 8));
}

int main(void)
{
	RUN(test_absolute);
	RUN(test_signals);
	RUN(test_relative_to_publication);
	RUN(test_following);
	RUN(test_not_dates);
	return CHECK_DONE();
}

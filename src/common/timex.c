/* tx_ — date expressions in text (what is and is not one: timex.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/timex.h"

typedef struct tx_text {
	const unsigned char *b;
	size_t len;
} tx_text;

enum {
	P_YEAR = ANNALS__V1__PRECISION__PRECISION_YEAR,
	P_MONTH = ANNALS__V1__PRECISION__PRECISION_MONTH,
	P_DAY = ANNALS__V1__PRECISION__PRECISION_DAY
};

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A word may end at i: no letter or digit continues it. */
static bool boundary(const tx_text *t, size_t i)
{
	return i >= t->len || !is_alnum(t->b[i]);
}

/* The word w (any case) at i, whole; returns its end or 0. */
static size_t word(const tx_text *t, size_t i, const char *w)
{
	size_t n = strlen(w);
	if (i + n > t->len || strncasecmp((const char *)t->b + i, w, n) != 0 || !boundary(t, i + n))
		return 0;
	return i + n;
}

/* One or more spaces (ASCII, or U+00A0) at i; returns the end or 0. */
static size_t spaces(const tx_text *t, size_t i)
{
	size_t j = i;
	for (;;) {
		if (j < t->len && (t->b[j] == ' ' || t->b[j] == '\t'))
			j++;
		else if (j + 1 < t->len && t->b[j] == 0xc2 && t->b[j + 1] == 0xa0)
			j += 2;
		else
			break;
	}
	return j > i ? j : 0;
}

/* Digits (lo..hi of them) at i, whole; returns the end or 0. */
static size_t number(const tx_text *t, size_t i, int lo, int hi, int *v)
{
	int n = 0, x = 0;
	while (i + (size_t)n < t->len && is_digit(t->b[i + (size_t)n]) && n <= hi) {
		x = x * 10 + (t->b[i + (size_t)n] - '0');
		n++;
	}
	if (n < lo || n > hi || !boundary(t, i + (size_t)n))
		return 0;
	*v = x;
	return i + (size_t)n;
}

/* "one" .. "twelve", "a", "an", or digits: a small count; end or 0. */
static size_t count(const tx_text *t, size_t i, int *v)
{
	static const char *const words[] = {"a",     "one",   "two",  "three", "four",   "five",  "six",
	                                    "seven", "eight", "nine", "ten",   "eleven", "twelve"};
	for (int k = 0; k < (int)(sizeof(words) / sizeof(words[0])); k++) {
		size_t e = word(t, i, words[k]);
		if (e) {
			*v = k == 0 ? 1 : k;
			return e;
		}
	}
	if (word(t, i, "an")) {
		*v = 1;
		return i + 2;
	}
	return number(t, i, 1, 3, v);
}

/* A month name with a capital ("April", "Sept.", "Jan"); "May" only whole
 * (lowercase "may" is the verb). Returns the end (past an abbreviation's
 * full stop) or 0. */
static size_t month(const tx_text *t, size_t i, int *m)
{
	static const char *const full[] = {"January",   "February", "March",    "April",
	                                   "May",       "June",     "July",     "August",
	                                   "September", "October",  "November", "December"};
	static const char *const abbr[] = {"Jan", "Feb", "Mar", "Apr", NULL,  "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	if (i >= t->len || t->b[i] < 'A' || t->b[i] > 'Z')
		return 0;
	for (int k = 0; k < 12; k++) {
		size_t n = strlen(full[k]);
		if (i + n <= t->len && strncmp((const char *)t->b + i, full[k], n) == 0 &&
		    boundary(t, i + n)) {
			*m = k + 1;
			return i + n;
		}
	}
	for (int k = 0; k < 12; k++) {
		const char *a = k == 8 && i + 4 <= t->len && strncmp((const char *)t->b + i, "Sept", 4) == 0
		                    ? "Sept"
		                    : abbr[k];
		if (a == NULL)
			continue;
		size_t n = strlen(a);
		if (i + n <= t->len && strncmp((const char *)t->b + i, a, n) == 0 && boundary(t, i + n)) {
			*m = k + 1;
			return i + n < t->len && t->b[i + n] == '.' ? i + n + 1 : i + n;
		}
	}
	return 0;
}

static bool year_ok(int y)
{
	return y >= 1000 && y <= 2199;
}

/* A day of the month: "4" or the ordinal "4th" (digits glued to st, nd,
 * rd or th); returns the end or 0. */
static size_t day_number(const tx_text *t, size_t i, int *d)
{
	size_t j = number(t, i, 1, 2, d);
	if (j)
		return j;
	size_t k = i;
	*d = 0;
	while (k < t->len && is_digit(t->b[k]) && k - i < 2)
		*d = *d * 10 + (t->b[k++] - '0');
	if (k == i || !(word(t, k, "st") || word(t, k, "nd") || word(t, k, "rd") || word(t, k, "th")))
		return 0;
	return k + 2;
}

/* ---- the patterns ------------------------------------------------------------ */

static void set_abs(tx_expr *e, int precision, int y, int m, int d)
{
	e->kind = TX_ABSOLUTE;
	e->date.precision = (Annals__V1__Precision)precision;
	e->date.year = y;
	e->date.month = m;
	e->date.day = d;
}

/* "15 June 2001", "15th June, 2001" */
static size_t day_month_year(const tx_text *t, size_t i, tx_expr *e)
{
	int d, m, y;
	size_t j = day_number(t, i, &d);
	if (!j)
		return 0;
	if (!(j = spaces(t, j)) || !(j = month(t, j, &m)))
		return 0;
	if (j < t->len && t->b[j] == ',')
		j++;
	if (!(j = spaces(t, j)) || !(j = number(t, j, 4, 4, &y)) || !year_ok(y) || d < 1 || d > 31)
		return 0;
	set_abs(e, P_DAY, y, m, d);
	return j;
}

/* "July 4, 2023", "June 28 2012", "June 4th, 2023", "April 1996", "May of 2005" */
static size_t month_first(const tx_text *t, size_t i, tx_expr *e)
{
	int d, m, y;
	size_t j = month(t, i, &m), k;
	if (!j || !(k = spaces(t, j)))
		return 0;
	size_t after_day = day_number(t, k, &d);
	if (after_day && d >= 1 && d <= 31) {
		size_t q = after_day;
		if (q < t->len && t->b[q] == ',')
			q++;
		if ((q = spaces(t, q)) && (q = number(t, q, 4, 4, &y)) && year_ok(y)) {
			set_abs(e, P_DAY, y, m, d);
			return q;
		}
		return 0; /* "June 28" alone: no year to give it */
	}
	size_t of = word(t, k, "of");
	if (of && (of = spaces(t, of)))
		k = of;
	if ((j = number(t, k, 4, 4, &y)) && year_ok(y)) {
		set_abs(e, P_MONTH, y, m, 0);
		return j;
	}
	return 0;
}

/* A bare year: "in 1992", "a 1994 treaty", "1992-1999"; not "$2019",
 * "2,019", "1990s", "10:30", "2019.5" */
static size_t bare_year(const tx_text *t, size_t i, tx_expr *e, bool after_signal)
{
	int y;
	size_t j = number(t, i, 4, 4, &y);
	if (!j || !year_ok(y))
		return 0;
	if (i > 0 && (t->b[i - 1] == '$' || t->b[i - 1] == ',' || t->b[i - 1] == '.' || t->b[i - 1] == ':' ||
	              t->b[i - 1] >= 0x80)) /* currency signs outside ASCII too */
		return 0;
	if (j < t->len &&
	    (t->b[j] == ':' || t->b[j] == '%' || (t->b[j] == '.' && j + 1 < t->len && is_digit(t->b[j + 1]))))
		return 0;
	if (j + 1 < t->len && t->b[j] == '\'' && t->b[j + 1] == 's') /* the 1990's */
		return 0;
	/* a number in the year range that is no year ("1500 troops") is told
	 * apart by the word before it: outside 1800..2100 a signal must precede */
	if ((y < 1800 || y > 2100) && !after_signal)
		return 0;
	set_abs(e, P_YEAR, y, 0, 0);
	return j;
}

static void set_rel(tx_expr *e, int precision, int years, int months, int days)
{
	e->kind = TX_DOC_RELATIVE;
	e->date.precision = (Annals__V1__Precision)precision;
	e->date.offset_years = years;
	e->date.offset_months = months;
	e->date.offset_days = days;
}

/* relative to the publication date */
static size_t doc_relative(const tx_text *t, size_t i, tx_expr *e)
{
	size_t j;
	if ((j = word(t, i, "yesterday"))) {
		set_rel(e, P_DAY, 0, 0, -1);
		return j;
	}
	if ((j = word(t, i, "today")) || (j = word(t, i, "currently"))) {
		set_rel(e, P_DAY, 0, 0, 0);
		return j;
	}
	if ((j = word(t, i, "tomorrow"))) {
		set_rel(e, P_DAY, 0, 0, 1);
		return j;
	}
	static const struct {
		const char *w;
		int off;
	} which[] = {{"this", 0}, {"last", -1}, {"next", 1}};
	for (size_t k = 0; k < 3; k++) {
		size_t a = word(t, i, which[k].w), b;
		if (!a || !(a = spaces(t, a)))
			continue;
		if ((b = word(t, a, "year"))) {
			set_rel(e, P_YEAR, which[k].off, 0, 0);
			return b;
		}
		if ((b = word(t, a, "month"))) {
			set_rel(e, P_MONTH, 0, which[k].off, 0);
			return b;
		}
	}
	int n;
	size_t a = count(t, i, &n), b;
	if (!a || !(a = spaces(t, a)))
		return 0;
	static const struct {
		const char *one, *many;
		int p;
	} units[] = {{"day", "days", P_DAY}, {"month", "months", P_MONTH}, {"year", "years", P_YEAR}};
	for (size_t k = 0; k < 3; k++) {
		if (!(b = word(t, a, n == 1 ? units[k].one : units[k].many)))
			continue;
		size_t c = spaces(t, b);
		if (c && (c = word(t, c, "ago"))) {
			set_rel(e, units[k].p, units[k].p == P_YEAR ? -n : 0, units[k].p == P_MONTH ? -n : 0,
			        units[k].p == P_DAY ? -n : 0);
			return c;
		}
	}
	return 0;
}

/* counted from the dated expression before: "the following year",
 * "the next year", "a year later", "two years later", "the previous year",
 * "the year before", "a year earlier". *off is the years added. */
static size_t following(const tx_text *t, size_t i, int *off)
{
	size_t j, k;
	if ((j = word(t, i, "the")) && (j = spaces(t, j))) {
		static const struct {
			const char *w;
			int off;
		} adj[] = {{"following", 1}, {"next", 1}, {"previous", -1}, {"preceding", -1}};
		for (size_t a = 0; a < 4; a++)
			if ((k = word(t, j, adj[a].w)) && (k = spaces(t, k)) && (k = word(t, k, "year"))) {
				*off = adj[a].off;
				return k;
			}
		if ((k = word(t, j, "year")) && (j = spaces(t, k)) &&
		    ((k = word(t, j, "after")) || (k = word(t, j, "before")))) {
			*off = t->b[j] == 'a' || t->b[j] == 'A' ? 1 : -1;
			/* "the year after 2001" dates itself: leave that to the year */
			size_t y = spaces(t, k);
			int v;
			if (y && number(t, y, 4, 4, &v))
				return 0;
			return k;
		}
	}
	int n;
	if ((j = count(t, i, &n)) && (j = spaces(t, j)) && ((k = word(t, j, n == 1 ? "year" : "years"))) &&
	    (j = spaces(t, k))) {
		if ((k = word(t, j, "later")) || (k = word(t, j, "afterwards"))) {
			*off = n;
			return k;
		}
		if ((k = word(t, j, "earlier"))) {
			*off = -n;
			return k;
		}
	}
	return 0;
}

/* The preposition before i ("in", "since"...), as the list spells it, into sig. */
static bool signal_before(const tx_text *t, size_t i, char *sig, size_t len)
{
	static const char *const signals[] = {"in",      "on",  "since",  "until", "till",   "by",
	                                      "from",    "to",  "before", "after", "during", "of",
	                                      "between", "and", "early",  "late",  "mid",    "around"};
	size_t e = i;
	while (e > 0 && (t->b[e - 1] == ' ' || t->b[e - 1] == '-'))
		e--;
	size_t s = e;
	while (s > 0 && is_alnum(t->b[s - 1]))
		s--;
	for (size_t k = 0; k < sizeof(signals) / sizeof(signals[0]); k++)
		if (strlen(signals[k]) == e - s &&
		    strncasecmp((const char *)t->b + s, signals[k], e - s) == 0) {
			snprintf(sig, len, "%s", signals[k]); /* the list's own lowercase spelling */
			return true;
		}
	sig[0] = '\0';
	return false;
}

size_t tx_find(const char *text, size_t len, tx_expr *out, size_t cap)
{
	tx_text t = {(const unsigned char *)text, len};
	size_t n = 0;
	int prev_year = 0, prev_index = -1;
	for (size_t i = 0; i < len;) {
		if (!is_alnum(t.b[i]) || (i > 0 && is_alnum(t.b[i - 1]))) {
			i++;
			continue;
		}
		tx_expr e = {.start = (uint32_t)i, .follows = -1};
		e.date = (Annals__V1__Date)ANNALS__V1__DATE__INIT;
		bool sig = signal_before(&t, i, e.signal, sizeof(e.signal));
		int off = 0;
		size_t end = 0;
		if ((end = day_month_year(&t, i, &e)) || (end = month_first(&t, i, &e)) ||
		    (end = doc_relative(&t, i, &e)) || (end = bare_year(&t, i, &e, sig))) {
			/* found */
		} else if ((end = following(&t, i, &off)) && prev_year) {
			e.kind = TX_FOLLOWING;
			e.date.precision = (Annals__V1__Precision)P_YEAR;
			e.date.year = prev_year + off;
			e.follows = prev_index;
		} else {
			end = 0;
		}
		if (end == 0) {
			while (i < len && is_alnum(t.b[i]))
				i++;
			continue;
		}
		e.end = (uint32_t)end;
		if (n < cap)
			out[n] = e;
		if (e.kind == TX_ABSOLUTE || e.kind == TX_FOLLOWING) {
			/* counted here, not read back from out: the count is the same without an array */
			prev_year = e.date.year;
			prev_index = (int)n;
		}
		n++;
		i = end;
	}
	return n;
}

const char *tx_value(const Annals__V1__Date *d, char *buf, size_t len)
{
	buf[0] = '\0';
	if (d->anchor != NULL && d->anchor[0] != '\0' && !d->resolved)
		return buf;
	switch ((int)d->precision) {
	case P_YEAR:
		snprintf(buf, len, "%04d", d->year);
		break;
	case P_MONTH:
		snprintf(buf, len, "%04d-%02d", d->year, d->month);
		break;
	case P_DAY:
		snprintf(buf, len, "%04d-%02d-%02d", d->year, d->month, d->day);
		break;
	default:
		break;
	}
	return buf;
}

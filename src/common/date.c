/*
 * date_ — calendar dates with precision, and relative dates; see date.h.
 *
 * Day numbers are days since 1970-01-01 in the proleptic Gregorian
 * calendar, computed with Howard Hinnant's days_from_civil / civil_from_days
 * (exact for every year, no tables, no libc time functions, no time zones).
 *
 * Ranges. A date means every day its precision leaves open: "2019" is
 * [2019-01-01, 2019-12-31], "2019-05" is [2019-05-01, 2019-05-31]. An
 * absolute date needs no lookup, so date_range() computes its range from
 * year/month/day even when nobody has called date_resolve() on it yet.
 *
 * Relative dates ("yesterday" in a document) are resolved through their
 * anchor's range [a_lo, a_hi]: the offsets move both ends (years and
 * months first, clamping the day to the target month's length as a
 * calendar does, then days), and the moved ends are widened to whole units
 * of the relative date's own precision. So the result is never finer than
 * the anchor allows: "yesterday" in an article published "May 2019" is
 * [2019-04-30, 2019-05-30], a range of 31 days, not a day we made up.
 * year/month/day are then set only to the parts that every day of that
 * range shares (here year 2019, month 0, day 0); earliest/latest are the
 * whole answer. The relative date keeps its own precision field, so
 * resolving again gives the same result.
 *
 * Open ends. An anchor known only from below (a document whose publication
 * date is not given, bounded by what it reports as past: "2020-01-01 or
 * later") has latest = DATE_LAST_DAY. Its dependents keep that end open
 * rather than shift it ("yesterday" of "2020-01-01 or later" is
 * "2019-12-31 or later", not a range ending in 9999), and print as
 * "<first day> or later".
 */
#include "common/date.h"
#include "common/utf8.h"

#include <stdio.h>
#include <string.h>

#define DATE_YEAR_MIN 1
#define DATE_YEAR_MAX 9999
/* Largest offsets that can land inside 1..9999 from anywhere inside it. */
#define DATE_MAX_OFFSET_YEARS  (DATE_YEAR_MAX - DATE_YEAR_MIN)
#define DATE_MAX_OFFSET_MONTHS (DATE_MAX_OFFSET_YEARS * 12 + 11)
#define DATE_MAX_OFFSET_DAYS   3652058 /* 0001-01-01 .. 9999-12-31 */

static const char *const date_precision_names[] = {"unspecified", "year", "month", "day"};

static bool date_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && date_is_leap(y) ? 29 : days[m - 1];
}

int32_t date_days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;                                  /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return (int32_t)(era * 146097 + doe - 719468);
}

void date_civil_from_days(int32_t days, int *y, int *m, int *d)
{
	int64_t z = (int64_t)days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = mm;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

static int32_t date_first_day(void)
{
	return date_days_from_civil(DATE_YEAR_MIN, 1, 1);
}

static int32_t date_last_day(void)
{
	return DATE_LAST_DAY; /* date_days_from_civil(9999, 12, 31), checked in test_date */
}

/* ---- absolute dates ------------------------------------------------------ */

/* The checks shared by date_parse and date_validate. `sep` joins the field
 * name and the reason: ": " for validate ("month: 13 is not a month"),
 * " " for parse ("month 13 is not a month"). */
static int date_check_ymd(int p, int y, int m, int d, const char *sep, char *msg, size_t len)
{
	if (y < DATE_YEAR_MIN || y > DATE_YEAR_MAX) {
		snprintf(msg, len, "year%s%d is not in %d..%d", sep, y, DATE_YEAR_MIN, DATE_YEAR_MAX);
		return -1;
	}
	if (p == ANNALS__V1__PRECISION__PRECISION_YEAR && m != 0) {
		snprintf(msg, len, "month%smust be 0 at year precision (got %d)", sep, m);
		return -1;
	}
	if (p >= ANNALS__V1__PRECISION__PRECISION_MONTH && (m < 1 || m > 12)) {
		snprintf(msg, len, "month%s%d is not a month", sep, m);
		return -1;
	}
	if (p != ANNALS__V1__PRECISION__PRECISION_DAY && d != 0) {
		snprintf(msg, len, "day%smust be 0 at %s precision (got %d)", sep, date_precision_names[p],
		         d);
		return -1;
	}
	if (p == ANNALS__V1__PRECISION__PRECISION_DAY && (d < 1 || d > date_days_in_month(y, m))) {
		snprintf(msg, len, "day%s%d is not a day of %04d-%02d", sep, d, y, m);
		return -1;
	}
	return 0;
}

/* Range of a well-formed absolute date. */
static bool date_abs_range(const Annals__V1__Date *d, int32_t *lo, int32_t *hi)
{
	char scratch[128]; /* the reason is not wanted here; it only has to fit */
	int p = (int)d->precision;
	if (p < ANNALS__V1__PRECISION__PRECISION_YEAR || p > ANNALS__V1__PRECISION__PRECISION_DAY)
		return false;
	if (date_check_ymd(p, d->year, d->month, d->day, " ", scratch, sizeof(scratch)) != 0)
		return false;
	switch (p) {
	case ANNALS__V1__PRECISION__PRECISION_YEAR:
		*lo = date_days_from_civil(d->year, 1, 1);
		*hi = date_days_from_civil(d->year, 12, 31);
		break;
	case ANNALS__V1__PRECISION__PRECISION_MONTH:
		*lo = date_days_from_civil(d->year, d->month, 1);
		*hi = date_days_from_civil(d->year, d->month, date_days_in_month(d->year, d->month));
		break;
	default:
		*lo = *hi = date_days_from_civil(d->year, d->month, d->day);
		break;
	}
	return true;
}

static bool date_is_relative(const Annals__V1__Date *d)
{
	return d->anchor != NULL && d->anchor[0] != '\0';
}

/* Reads exactly n digits; -1 when s does not start with n digits. */
static int date_digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int date_parse(const char *s, Annals__V1__Date *d, char *msg, size_t msglen)
{
	static const char form[] = "expected YYYY, YYYY-MM or YYYY-MM-DD";
	annals__v1__date__init(d);
	if (s == NULL || s[0] == '\0') {
		snprintf(msg, msglen, "empty date: %s", form);
		return -1;
	}
	size_t n = strlen(s);
	int y = date_digits(s, 4), m = 0, day = 0;
	int p = ANNALS__V1__PRECISION__PRECISION_YEAR;
	if (n >= 7 && s[4] == '-') {
		m = date_digits(s + 5, 2);
		p = ANNALS__V1__PRECISION__PRECISION_MONTH;
	}
	if (n >= 10 && s[4] == '-' && s[7] == '-') {
		day = date_digits(s + 8, 2);
		p = ANNALS__V1__PRECISION__PRECISION_DAY;
	}
	size_t want = p == ANNALS__V1__PRECISION__PRECISION_YEAR    ? 4
	              : p == ANNALS__V1__PRECISION__PRECISION_MONTH ? 7
	                                                            : 10;
	if (y < 0 || m < 0 || day < 0 || n != want) {
		snprintf(msg, msglen, "'%.40s' is not a date: %s", s, form);
		utf8_scrub(msg);
		return -1;
	}
	if (date_check_ymd(p, y, m, day, " ", msg, msglen) != 0)
		return -1;
	d->precision = (Annals__V1__Precision)p;
	d->year = y;
	d->month = m;
	d->day = day;
	date_resolve(d, NULL, NULL);
	return 0;
}

/* ---- validation ---------------------------------------------------------- */

static bool date_anchor_ok(const char *anchor)
{
	const char *id = NULL;
	if (strncmp(anchor, "doc:", 4) == 0)
		id = anchor + 4;
	else if (strncmp(anchor, "event:", 6) == 0)
		id = anchor + 6;
	if (id == NULL || *id == '\0')
		return false;
	for (; *id; id++)
		if ((unsigned char)*id <= ' ')
			return false;
	return true;
}

static int date_check_offset(const char *field, int32_t v, int32_t max, char *msg, size_t len)
{
	if (v < -max || v > max) {
		snprintf(msg, len, "%s: %d is out of range (at most %d either way)", field, v, max);
		return -1;
	}
	return 0;
}

/* A relative date's year/month/day are written by resolution, so they are
 * not checked here: a client may send back a date it read from us. The
 * same goes for resolved/earliest/latest, which the server recomputes. */
static int date_validate_relative(const Annals__V1__Date *d, char *msg, size_t len)
{
	if (!date_anchor_ok(d->anchor)) {
		snprintf(msg, len, "anchor: must be \"doc:<id>\" or \"event:<id>\" (got '%.60s')", d->anchor);
		utf8_scrub(msg);
		return -1;
	}
	if (date_check_offset("offset_years", d->offset_years, DATE_MAX_OFFSET_YEARS, msg, len) ||
	    date_check_offset("offset_months", d->offset_months, DATE_MAX_OFFSET_MONTHS, msg, len) ||
	    date_check_offset("offset_days", d->offset_days, DATE_MAX_OFFSET_DAYS, msg, len))
		return -1;
	return 0;
}

int date_validate(const Annals__V1__Date *d, char *msg, size_t msglen)
{
	if (d == NULL)
		return 0;
	int p = (int)d->precision;
	if (p == ANNALS__V1__PRECISION__PRECISION_UNSPECIFIED) {
		snprintf(msg, msglen, "precision: required (year, month or day)");
		return -1;
	}
	if (p < ANNALS__V1__PRECISION__PRECISION_YEAR || p > ANNALS__V1__PRECISION__PRECISION_DAY) {
		snprintf(msg, msglen, "precision: %d is not a precision", p);
		return -1;
	}
	if (date_is_relative(d))
		return date_validate_relative(d, msg, msglen);
	if (d->offset_years || d->offset_months || d->offset_days) {
		const char *f = d->offset_years    ? "offset_years"
		                : d->offset_months ? "offset_months"
		                                   : "offset_days";
		snprintf(msg, msglen, "%s: only a relative date (one with an anchor) has offsets", f);
		return -1;
	}
	return date_check_ymd(p, d->year, d->month, d->day, ": ", msg, msglen);
}

/* ---- ranges and formatting ----------------------------------------------- */

bool date_range(const Annals__V1__Date *d, int32_t *lo, int32_t *hi)
{
	if (d == NULL)
		return false;
	if (!date_is_relative(d))
		return date_abs_range(d, lo, hi);
	if (!d->resolved || d->precision < ANNALS__V1__PRECISION__PRECISION_YEAR ||
	    d->precision > ANNALS__V1__PRECISION__PRECISION_DAY || d->earliest > d->latest ||
	    d->earliest < date_first_day() || d->latest > date_last_day())
		return false;
	*lo = d->earliest;
	*hi = d->latest;
	return true;
}

/* Whether [lo, hi] is exactly one year, month or day as precision p says. */
static bool date_is_one_unit(int p, int32_t lo, int32_t hi)
{
	int y0, m0, d0, y1, m1, d1;
	date_civil_from_days(lo, &y0, &m0, &d0);
	date_civil_from_days(hi, &y1, &m1, &d1);
	switch (p) {
	case ANNALS__V1__PRECISION__PRECISION_YEAR:
		return y0 == y1 && m0 == 1 && d0 == 1 && m1 == 12 && d1 == 31;
	case ANNALS__V1__PRECISION__PRECISION_MONTH:
		return y0 == y1 && m0 == m1 && d0 == 1 && d1 == date_days_in_month(y1, m1);
	default:
		return lo == hi;
	}
}

static void date_format_day(int32_t days, int p, char *buf, size_t len)
{
	int y, m, d;
	date_civil_from_days(days, &y, &m, &d);
	if (p == ANNALS__V1__PRECISION__PRECISION_YEAR)
		snprintf(buf, len, "%04d", y);
	else if (p == ANNALS__V1__PRECISION__PRECISION_MONTH)
		snprintf(buf, len, "%04d-%02d", y, m);
	else
		snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

bool date_open_end(const Annals__V1__Date *d)
{
	int32_t lo, hi;
	return date_range(d, &lo, &hi) && hi == DATE_LAST_DAY && date_is_relative(d);
}

static const char *date_format_relative(const Annals__V1__Date *d, char *buf, size_t len)
{
	int32_t lo, hi;
	int p = (int)d->precision;
	if (date_range(d, &lo, &hi)) {
		if (hi == DATE_LAST_DAY) {
			char a[16];
			date_format_day(lo, ANNALS__V1__PRECISION__PRECISION_DAY, a, sizeof(a));
			snprintf(buf, len, "%s or later", a);
		} else if (date_is_one_unit(p, lo, hi)) {
			date_format_day(lo, p, buf, len);
		} else {
			char a[16], b[16];
			date_format_day(lo, ANNALS__V1__PRECISION__PRECISION_DAY, a, sizeof(a));
			date_format_day(hi, ANNALS__V1__PRECISION__PRECISION_DAY, b, sizeof(b));
			snprintf(buf, len, "%s..%s", a, b);
		}
		return buf;
	}
	char off[48] = "";
	size_t o = 0;
	if (d->offset_years)
		o += (size_t)snprintf(off + o, sizeof(off) - o, "%+dy", d->offset_years);
	if (d->offset_months)
		o += (size_t)snprintf(off + o, sizeof(off) - o, "%+dm", d->offset_months);
	if (d->offset_days)
		snprintf(off + o, sizeof(off) - o, "%+dd", d->offset_days);
	if (p == ANNALS__V1__PRECISION__PRECISION_DAY)
		snprintf(buf, len, "%s%s?", d->anchor, off);
	else
		snprintf(buf, len, "%s%s? (%s)", d->anchor, off,
		         p >= 0 && p <= 3 ? date_precision_names[p] : "no precision");
	return buf;
}

/* date_format of an absolute date in 1..9999 by hand: snprintf was most of
 * the cost of a fact's reason (a Members call words a few dozen dates).
 * The same text as the formats below ("%04d", "-%02d"). */
static bool date_format_digits(const Annals__V1__Date *d, char *buf, size_t len)
{
	int p = (int)d->precision;
	if (len < 11 || d->year < 0 || d->year > 9999 || p < ANNALS__V1__PRECISION__PRECISION_YEAR ||
	    p > ANNALS__V1__PRECISION__PRECISION_DAY ||
	    (p >= ANNALS__V1__PRECISION__PRECISION_MONTH && (d->month < 0 || d->month > 99)) ||
	    (p == ANNALS__V1__PRECISION__PRECISION_DAY && (d->day < 0 || d->day > 99)))
		return false;
	int y = d->year;
	char *o = buf;
	*o++ = (char)('0' + y / 1000);
	*o++ = (char)('0' + y / 100 % 10);
	*o++ = (char)('0' + y / 10 % 10);
	*o++ = (char)('0' + y % 10);
	if (p >= ANNALS__V1__PRECISION__PRECISION_MONTH) {
		*o++ = '-';
		*o++ = (char)('0' + d->month / 10);
		*o++ = (char)('0' + d->month % 10);
	}
	if (p == ANNALS__V1__PRECISION__PRECISION_DAY) {
		*o++ = '-';
		*o++ = (char)('0' + d->day / 10);
		*o++ = (char)('0' + d->day % 10);
	}
	*o = '\0';
	return true;
}

const char *date_format(const Annals__V1__Date *d, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (d == NULL)
		return buf;
	if (date_is_relative(d))
		return date_format_relative(d, buf, len);
	if (date_format_digits(d, buf, len))
		return buf;
	switch (d->precision) {
	case ANNALS__V1__PRECISION__PRECISION_YEAR:
		snprintf(buf, len, "%04d", d->year);
		break;
	case ANNALS__V1__PRECISION__PRECISION_MONTH:
		snprintf(buf, len, "%04d-%02d", d->year, d->month);
		break;
	case ANNALS__V1__PRECISION__PRECISION_DAY:
		snprintf(buf, len, "%04d-%02d-%02d", d->year, d->month, d->day);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return buf;
}

/* ---- resolution ---------------------------------------------------------- */

static void date_unresolve(Annals__V1__Date *d)
{
	d->resolved = false;
	d->earliest = 0;
	d->latest = 0;
}

/* Moves one day by the date's offsets; false when it leaves years 1..9999. */
static bool date_shift(const Annals__V1__Date *d, int32_t day, int32_t *out)
{
	int y, m, dd;
	date_civil_from_days(day, &y, &m, &dd);
	int64_t months = (int64_t)y * 12 + (m - 1) + (int64_t)d->offset_years * 12 + d->offset_months;
	int64_t ny = months >= 0 ? months / 12 : -((-months + 11) / 12);
	int nm = (int)(months - ny * 12) + 1;
	if (ny < DATE_YEAR_MIN || ny > DATE_YEAR_MAX)
		return false;
	int dim = date_days_in_month((int)ny, nm);
	int64_t moved = (int64_t)date_days_from_civil((int)ny, nm, dd < dim ? dd : dim) + d->offset_days;
	if (moved < date_first_day() || moved > date_last_day())
		return false;
	*out = (int32_t)moved;
	return true;
}

/* Widens [lo, hi] to whole units of precision p. */
static void date_widen(int p, int32_t *lo, int32_t *hi)
{
	int y, m, d;
	if (p == ANNALS__V1__PRECISION__PRECISION_DAY)
		return;
	date_civil_from_days(*lo, &y, &m, &d);
	*lo = date_days_from_civil(y, p == ANNALS__V1__PRECISION__PRECISION_YEAR ? 1 : m, 1);
	date_civil_from_days(*hi, &y, &m, &d);
	if (p == ANNALS__V1__PRECISION__PRECISION_YEAR)
		*hi = date_days_from_civil(y, 12, 31);
	else
		*hi = date_days_from_civil(y, m, date_days_in_month(y, m));
}

/* year/month/day: only the parts every day of [lo, hi] shares. */
static void date_set_common_parts(Annals__V1__Date *d, int32_t lo, int32_t hi)
{
	int y0, m0, d0, y1, m1, d1;
	date_civil_from_days(lo, &y0, &m0, &d0);
	date_civil_from_days(hi, &y1, &m1, &d1);
	bool same_year = y0 == y1;
	bool same_month = same_year && m0 == m1 && d->precision >= ANNALS__V1__PRECISION__PRECISION_MONTH;
	d->year = same_year ? y0 : 0;
	d->month = same_month ? m0 : 0;
	d->day = same_month && lo == hi && d->precision == ANNALS__V1__PRECISION__PRECISION_DAY ? d0 : 0;
}

static void date_resolve_relative(Annals__V1__Date *d, date_anchor_fn lookup, void *ctx)
{
	char scratch[128];
	int32_t a_lo, a_hi, lo, hi;
	/* Unresolved while we look: a date anchored (directly or not) to
	 * itself then finds no usable anchor instead of a stale answer. */
	date_unresolve(d);
	if (date_validate_relative(d, scratch, sizeof(scratch)) != 0 || lookup == NULL)
		return;
	if (d->precision < ANNALS__V1__PRECISION__PRECISION_YEAR ||
	    d->precision > ANNALS__V1__PRECISION__PRECISION_DAY)
		return;
	const Annals__V1__Date *a = lookup(ctx, d->anchor);
	if (a == NULL || a == d || !date_range(a, &a_lo, &a_hi))
		return;
	bool open = a_hi == DATE_LAST_DAY; /* known only from below: stays so */
	if (!date_shift(d, a_lo, &lo) || (!open && !date_shift(d, a_hi, &hi)))
		return;
	if (open)
		hi = DATE_LAST_DAY;
	date_widen((int)d->precision, &lo, &hi);
	date_set_common_parts(d, lo, hi);
	d->earliest = lo;
	d->latest = hi;
	d->resolved = true;
}

void date_resolve(Annals__V1__Date *d, date_anchor_fn lookup, void *ctx)
{
	if (d == NULL)
		return;
	if (date_is_relative(d)) {
		date_resolve_relative(d, lookup, ctx);
		return;
	}
	int32_t lo, hi;
	if (!date_abs_range(d, &lo, &hi)) {
		date_unresolve(d);
		return;
	}
	d->resolved = true;
	d->earliest = lo;
	d->latest = hi;
}

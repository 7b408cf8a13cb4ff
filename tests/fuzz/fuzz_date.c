/*
 * fuzz_date — the date code: date_parse, date_validate, date_resolve,
 * date_range, date_format, and asof on the parsed dates.
 *
 * Input: "<text>\0<bytes>". The text goes to date_parse. The bytes (read
 * as little-endian fields, zero when they run out) make a Date as a client
 * could send it, an anchor Date it may be relative to, an Interval of two
 * bounds and a day range to ask "as of" about.
 *
 * Properties beyond "no crash, no sanitizer report":
 *   - date_parse accepts exactly YYYY, YYYY-MM, YYYY-MM-DD with real
 *     calendar values; what it accepts validates, resolves, formats back to
 *     the same text, and its range is the days that text means;
 *   - a validated absolute date resolves; any resolved date has
 *     earliest <= latest, both inside 0001-01-01..9999-12-31;
 *   - date_format always NUL-terminates inside the buffer;
 *   - days_from_civil and civil_from_days are inverse on 1..9999;
 *   - asof_eval answers TRUE, FALSE or UNKNOWN, and a fact that is TRUE on
 *     a range of days is TRUE on every day inside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knowledge/asof.h"
#include "common/date.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_in {
	const uint8_t *p;
	size_t n;
} fz_in;

static uint32_t fz_u32(fz_in *in, int bytes)
{
	uint32_t v = 0;
	for (int i = 0; i < bytes; i++) {
		uint32_t b = 0;
		if (in->n > 0) {
			b = *in->p++;
			in->n--;
		}
		v |= b << (8 * i);
	}
	return v;
}

static int32_t fz_i32(fz_in *in)
{
	return (int32_t)fz_u32(in, 4);
}

static const char *const fz_anchors[] = {"", "doc:d1", "event:e1", "doc:", "event:e 1", "x:y", "doc:d1\x01"};

static void fz_read_date(fz_in *in, Annals__V1__Date *d, bool relative_allowed)
{
	annals__v1__date__init(d);
	d->precision = (Annals__V1__Precision)(int8_t)fz_u32(in, 1);
	d->year = fz_i32(in);
	d->month = (int8_t)fz_u32(in, 1);
	d->day = (int8_t)fz_u32(in, 1);
	if (!relative_allowed)
		return;
	unsigned a = fz_u32(in, 1) % (sizeof(fz_anchors) / sizeof(fz_anchors[0]));
	d->anchor = (char *)fz_anchors[a];
	d->offset_years = fz_i32(in);
	d->offset_months = fz_i32(in);
	d->offset_days = fz_i32(in);
	/* what a client may send back in the server-set fields */
	d->resolved = fz_u32(in, 1) & 1;
	d->earliest = fz_i32(in);
	d->latest = fz_i32(in);
}

static const int32_t FZ_FIRST = -719162; /* 0001-01-01 */
static const int32_t FZ_LAST = 2932896;  /* 9999-12-31 */

static void fz_check_resolved(const Annals__V1__Date *d, const char *what)
{
	if (!d->resolved)
		return;
	FZ_ASSERT(d->earliest <= d->latest, "%s: earliest %d > latest %d", what, d->earliest, d->latest);
	FZ_ASSERT(d->earliest >= FZ_FIRST && d->latest <= FZ_LAST, "%s: [%d, %d] leaves years 1..9999", what,
	          d->earliest, d->latest);
	int32_t lo, hi;
	FZ_ASSERT(date_range(d, &lo, &hi), "%s: resolved but date_range says no", what);
	FZ_ASSERT(lo == d->earliest && hi == d->latest, "%s: date_range [%d, %d] vs resolved [%d, %d]", what,
	          lo, hi, d->earliest, d->latest);
}

static void fz_check_format(const Annals__V1__Date *d)
{
	char small[8], big[128];
	memset(small, 'x', sizeof(small));
	date_format(d, small, sizeof(small));
	FZ_ASSERT(memchr(small, '\0', sizeof(small)) != NULL, "date_format overran a small buffer");
	date_format(d, big, sizeof(big));
	FZ_ASSERT(memchr(big, '\0', sizeof(big)) != NULL, "date_format did not terminate");
}

/* Part 1: text. */
static void fz_parse(const char *s)
{
	Annals__V1__Date d;
	char msg[160] = "";
	if (date_parse(s, &d, msg, sizeof(msg)) != 0) {
		FZ_ASSERT(msg[0] != '\0', "date_parse failed without saying why");
		return;
	}
	size_t n = strlen(s);
	FZ_ASSERT(n == 4 || n == 7 || n == 10, "date_parse accepted '%s'", s);
	char vmsg[160] = "";
	FZ_ASSERT(date_validate(&d, vmsg, sizeof(vmsg)) == 0, "parsed '%s' does not validate: %s", s, vmsg);
	FZ_ASSERT(d.resolved, "parsed '%s' is not resolved", s);
	fz_check_resolved(&d, s);
	char buf[32];
	FZ_ASSERT(strcmp(date_format(&d, buf, sizeof(buf)), s) == 0, "'%s' formats back as '%s'", s, buf);
	int y, m, dd;
	date_civil_from_days(d.earliest, &y, &m, &dd);
	FZ_ASSERT(y == d.year && m == (d.month ? d.month : 1) && dd == (d.day ? d.day : 1),
	          "'%s' starts on %04d-%02d-%02d", s, y, m, dd);
	date_civil_from_days(d.latest, &y, &m, &dd);
	FZ_ASSERT(y == d.year && (d.month == 0 ? m == 12 && dd == 31 : m == d.month) &&
	              (d.day == 0 ? dd == date_days_in_month(y, m) : dd == d.day),
	          "'%s' ends on %04d-%02d-%02d", s, y, m, dd);
}

static const Annals__V1__Date *fz_lookup(void *ctx, const char *anchor)
{
	const Annals__V1__Date *a = ctx;
	if (strcmp(anchor, "doc:d1") == 0 || strcmp(anchor, "event:e1") == 0)
		return a;
	return NULL;
}

/* Part 2: structured dates, resolution and asof. */
static void fz_structured(fz_in *in)
{
	Annals__V1__Date d, anchor, ask;
	fz_read_date(in, &d, true);
	fz_read_date(in, &anchor, false);
	char msg[200] = "";
	int valid = date_validate(&d, msg, sizeof(msg));
	FZ_ASSERT(valid == 0 || msg[0] != '\0', "date_validate failed without saying why");
	fz_check_format(&d);

	date_resolve(&anchor, NULL, NULL);
	fz_check_resolved(&anchor, "anchor");
	bool absolute = d.anchor[0] == '\0';
	date_resolve(&d, fz_lookup, &anchor);
	if (valid == 0 && absolute)
		FZ_ASSERT(d.resolved, "a valid absolute date did not resolve");
	fz_check_resolved(&d, "date");
	fz_check_format(&d);
	/* resolving twice gives the same answer */
	Annals__V1__Date again = d;
	date_resolve(&again, fz_lookup, &anchor);
	if (valid == 0)
		FZ_ASSERT(again.resolved == d.resolved && again.earliest == d.earliest &&
		              again.latest == d.latest,
		          "resolving again changed [%d, %d] to [%d, %d]", d.earliest, d.latest,
		          again.earliest, again.latest);

	/* civil <-> days */
	int32_t day = FZ_FIRST + (int32_t)(fz_u32(in, 4) % (uint32_t)(FZ_LAST - FZ_FIRST + 1));
	int y, m, dd;
	date_civil_from_days(day, &y, &m, &dd);
	FZ_ASSERT(y >= 1 && y <= 9999 && m >= 1 && m <= 12 && dd >= 1 && dd <= date_days_in_month(y, m),
	          "day %d is %d-%d-%d", day, y, m, dd);
	FZ_ASSERT(date_days_from_civil(y, m, dd) == day, "day %d does not come back", day);

	/* asof over an interval made of the two dates */
	Annals__V1__Bound start = ANNALS__V1__BOUND__INIT, end = ANNALS__V1__BOUND__INIT;
	start.kind = (Annals__V1__BoundKind)(fz_u32(in, 1) % 7);
	end.kind = (Annals__V1__BoundKind)(fz_u32(in, 1) % 7);
	start.date = &anchor;
	end.date = &d;
	Annals__V1__Interval iv = ANNALS__V1__INTERVAL__INIT;
	iv.start = fz_u32(in, 1) & 1 ? &start : NULL;
	iv.end = fz_u32(in, 1) & 1 ? &end : NULL;
	asof_span sp;
	asof_span_of(&iv, &sp);
	fz_read_date(in, &ask, false);
	date_resolve(&ask, NULL, NULL);
	int32_t lo, hi;
	if (!date_range(&ask, &lo, &hi))
		return;
	asof_truth t = asof_eval(&sp, lo, hi);
	FZ_ASSERT(t == ASOF_TRUE || t == ASOF_FALSE || t == ASOF_UNKNOWN, "asof_eval gave %d", (int)t);
	FZ_ASSERT(asof_name(t) != NULL, "asof_name");
	if (t == ASOF_TRUE) {
		int32_t mid = lo + (hi - lo) / 2;
		FZ_ASSERT(asof_eval(&sp, lo, lo) == ASOF_TRUE && asof_eval(&sp, hi, hi) == ASOF_TRUE &&
		              asof_eval(&sp, mid, mid) == ASOF_TRUE,
		          "TRUE on [%d, %d] but not on every day of it", lo, hi);
	}
	if (t == ASOF_FALSE)
		FZ_ASSERT(asof_eval(&sp, lo, lo) == ASOF_FALSE && asof_eval(&sp, hi, hi) == ASOF_FALSE,
		          "FALSE on [%d, %d] but not on its first and last day", lo, hi);
	asof_truth c = asof_combine(ASOF_FALSE, t);
	FZ_ASSERT(c == t, "combining FALSE with %d gave %d", (int)t, (int)c);
	asof_span_of(NULL, &sp);
	FZ_ASSERT(asof_eval(&sp, lo, hi) == ASOF_TRUE, "no interval means always");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *text = malloc(tlen + 1);
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	fz_parse(text);
	free(text);
	fz_in in = {nul ? nul + 1 : data + size, nul ? size - tlen - 1 : 0};
	fz_structured(&in);
	return 0;
}

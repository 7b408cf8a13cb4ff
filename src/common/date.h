/*
 * date_ — calendar dates with precision, and relative dates.
 *
 * Days are counted from 1970-01-01 in the proleptic Gregorian calendar.
 * A Date at year precision means every day of that year: its range is
 * [first day, last day]. Years 1..9999 are accepted.
 */
#ifndef ANNALS_COMMON_DATE_H
#define ANNALS_COMMON_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annals/v1/model.pb-c.h"

#define DATE_NEG_INF INT32_MIN /* "before any day" */
#define DATE_POS_INF INT32_MAX /* "after any day" */
/* The last day a Date can mean: 9999-12-31. A relative date whose anchor
 * is bounded only from below (a document's publication known only to be
 * on or after some day) resolves with latest = DATE_LAST_DAY, read as "or
 * later": no last day is known, and none is made up. */
#define DATE_LAST_DAY 2932896
/* How deep chains of relative dates are followed (an event anchored on an
 * event anchored on a document...), when written and when asked: deeper
 * ones stay unresolved. */
#define DATE_ANCHOR_DEPTH 8

int32_t date_days_from_civil(int y, int m, int d);
void date_civil_from_days(int32_t days, int *y, int *m, int *d);
int date_days_in_month(int y, int m);

/* Parses ISO 8601 at any precision: "2019", "2019-05", "2019-05-01".
 * Fills d as an absolute, resolved date. Returns 0, or -1 with a reason
 * ("month 13 is not a month") in msg. */
int date_parse(const char *s, Annals__V1__Date *d, char *msg, size_t msglen);

/* Checks a Date as a client sent it (absolute or relative). Returns 0, or
 * -1 with a reason that names the field relative to the date
 * ("month: 13 is not a month"). */
int date_validate(const Annals__V1__Date *d, char *msg, size_t msglen);

/* "2019", "2019-05", "2019-05-01"; relative and unresolved:
 * "doc:x-1d?"-style text; returns buf. */
const char *date_format(const Annals__V1__Date *d, char *buf, size_t len);

/* Whether a resolved date is open-ended: latest is DATE_LAST_DAY. */
bool date_open_end(const Annals__V1__Date *d);

/* [lo, hi] of a resolved date; false when the date has no usable value
 * (NULL, unresolved, or unspecified precision). */
bool date_range(const Annals__V1__Date *d, int32_t *lo, int32_t *hi);

/* Looks up an anchor ("doc:<id>" or "event:<id>") and returns its date,
 * or NULL when the anchor is unknown or has no date. */
typedef const Annals__V1__Date *(*date_anchor_fn)(void *ctx, const char *anchor);

/* Sets resolved/earliest/latest (and, for relative dates, year/month/day)
 * on d. Absolute dates resolve on their own; relative ones through lookup.
 * An unresolvable date gets resolved = false and earliest = latest = 0. */
void date_resolve(Annals__V1__Date *d, date_anchor_fn lookup, void *ctx);

#endif

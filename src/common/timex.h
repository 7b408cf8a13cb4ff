/*
 * tx_ — date expressions in news text, normalised with their precision
 * (in the spirit of TimeML's TIMEX3 values, as HeidelTime and SUTime
 * normalise them), for `annals annotate`.
 *
 *   "in April 1996"              1996-04, month          TX_ABSOLUTE
 *   "on 15 June 2001", "July 4, 2023"  day               TX_ABSOLUTE
 *   "since 2015", "a 1994 treaty"      year              TX_ABSOLUTE
 *   "yesterday", "today", "last year", "this year's", "three days ago",
 *   "currently"                  relative to the document's publication
 *                                date: offsets, anchor left to the caller
 *                                                        TX_DOC_RELATIVE
 *   "the following year", "two years later", "the previous year"
 *                                the year of the dated expression before
 *                                it, plus or minus        TX_FOLLOWING
 *
 * Not dates, so never matched: durations ("for three years", "a five-year
 * term"), clock times ("at 10:30", "9 a.m."), decades ("the 1990s"), and
 * numbers that only look like years ("$2019", "2,019", "20190").
 */
#ifndef ANNALS_COMMON_TIMEX_H
#define ANNALS_COMMON_TIMEX_H

#include <stddef.h>
#include <stdint.h>

#include "annals/v1/model.pb-c.h"

typedef enum tx_kind {
	TX_ABSOLUTE = 1,
	TX_DOC_RELATIVE = 2, /* date.offset_* from the publication date; date.anchor unset */
	TX_FOLLOWING = 3,    /* date is absolute, counted from expression `follows` */
} tx_kind;

typedef struct tx_expr {
	uint32_t start, end; /* the expression's bytes, [start, end) */
	tx_kind kind;
	Annals__V1__Date date; /* precision and year/month/day, or offsets; no strings set */
	int follows;           /* TX_FOLLOWING: index of the expression it counts from */
	char signal[8];        /* the preposition before it ("in", "since", "on"...), or "" */
} tx_expr;

/* Finds the date expressions of text in order; returns how many there are
 * (which may exceed cap: call again with a larger array). */
size_t tx_find(const char *text, size_t len, tx_expr *out, size_t cap);

/* "1996-04", "2001-06-15", "1993" for an absolute date; "" otherwise. */
const char *tx_value(const Annals__V1__Date *d, char *buf, size_t len);

#endif

/*
 * asof_ — three-valued truth of a fact on a date.
 *
 * A fact's interval becomes a span: its start lies in [s_lo, s_hi], its end
 * in [e_lo, e_hi] (DATE_NEG_INF / DATE_POS_INF for open sides). Asked for
 * the days [d_lo, d_hi] (one day, or every day of a month or year), it is
 *   TRUE    when s_hi <= d_lo and d_hi < e_lo   (true on every asked day)
 *   FALSE   when d_hi < s_lo  or  e_hi <= d_lo  (false on every asked day)
 *   UNKNOWN otherwise.
 * How each BoundKind maps to a span is documented in asof.c and the README.
 */
#ifndef ANNALS_COMMON_ASOF_H
#define ANNALS_COMMON_ASOF_H

#include <stdint.h>

#include "annals/v1/model.pb-c.h"

/* Same numbers as annals.v1.Truth. */
typedef enum asof_truth {
	ASOF_TRUE = 1,
	ASOF_FALSE = 2,
	ASOF_UNKNOWN = 3,
} asof_truth;

typedef struct asof_span {
	int32_t s_lo, s_hi;
	int32_t e_lo, e_hi;
} asof_span;

/* NULL interval: the fact holds at all times. Dates must be resolved
 * (date_resolve); an unresolved date makes its side fully unknown. */
void asof_span_of(const Annals__V1__Interval *iv, asof_span *out);

asof_truth asof_eval(const asof_span *sp, int32_t d_lo, int32_t d_hi);

/* Segments of one relation: TRUE if any is TRUE, FALSE if all are FALSE,
 * else UNKNOWN. Start a fold with ASOF_FALSE. */
asof_truth asof_combine(asof_truth acc, asof_truth next);

const char *asof_name(asof_truth t); /* "TRUE", "FALSE", "UNKNOWN" */

#endif

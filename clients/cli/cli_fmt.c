/*
 * cli_fmt — values in words for tables. Dates keep their precision
 * ("2019-05" never becomes "2019-05-01"), relative dates say what they are
 * relative to, and an unknown stays visibly unknown.
 */
#include <ctype.h>
#include <string.h>

#include "cli.h"
#include "common/date.h"

/* "ev:csto-founded +1y" or "doc:x -1d": the anchor as a record id and the
 * offsets in the units they were given in. */
static const char *fmt_relative(ar_arena *a, const Annals__V1__Date *d)
{
	const char *anchor = d->anchor;
	if (strncmp(anchor, "event:", 6) == 0)
		anchor += 6;
	char off[64] = "";
	size_t n = 0;
	if (d->offset_years)
		n += (size_t)snprintf(off + n, sizeof(off) - n, " %+dy", d->offset_years);
	if (d->offset_months && n < sizeof(off))
		n += (size_t)snprintf(off + n, sizeof(off) - n, " %+dm", d->offset_months);
	if (d->offset_days && n < sizeof(off))
		snprintf(off + n, sizeof(off) - n, " %+dd", d->offset_days);
	return ar_printf(a, "%s%s", anchor, off);
}

const char *cli_date(ar_arena *a, const Annals__V1__Date *d)
{
	char buf[64];
	if (d == NULL)
		return "?";
	if (d->anchor[0] == '\0') {
		if (d->precision == ANNALS__V1__PRECISION__PRECISION_UNSPECIFIED)
			return "?";
		return ar_strdup(a, date_format(d, buf, sizeof(buf)));
	}
	const char *rel = fmt_relative(a, d);
	if (d->resolved)
		return ar_printf(a, "%s (%s)", date_format(d, buf, sizeof(buf)), rel);
	/* Unresolved, the value cannot show the precision: say it in words. */
	if (d->precision == ANNALS__V1__PRECISION__PRECISION_YEAR)
		return ar_printf(a, "unresolved (year of %s)", rel);
	if (d->precision == ANNALS__V1__PRECISION__PRECISION_MONTH)
		return ar_printf(a, "unresolved (month of %s)", rel);
	return ar_printf(a, "unresolved (%s)", rel);
}

static const char *fmt_bound(ar_arena *a, const Annals__V1__Bound *b, bool is_end)
{
	if (b == NULL || b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED)
		return is_end ? "open" : "?";
	const char *date = cli_date(a, b->date);
	switch (b->kind) {
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT:
		return date;
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED:
		return ar_printf(a, "seen %s", date);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE:
		return ar_printf(a, "before %s", date);
	case ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER:
		return ar_printf(a, "after %s", date);
	default:
		return ar_printf(a, "(bound kind %d) %s", (int)b->kind, date);
	}
}

const char *cli_interval(ar_arena *a, const Annals__V1__Interval *iv)
{
	if (iv == NULL)
		return "always";
	return ar_printf(a, "%s .. %s", fmt_bound(a, iv->start, false), fmt_bound(a, iv->end, true));
}

const char *cli_enum_word(ar_arena *a, const ProtobufCEnumDescriptor *d, const char *prefix, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	if (v == NULL)
		return ar_printf(a, "%d", value);
	size_t plen = strlen(prefix);
	char *w = ar_strdup(a, strncmp(v->name, prefix, plen) == 0 ? v->name + plen : v->name);
	for (char *p = w; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return w;
}

const char *cli_entity_type(ar_arena *a, int type)
{
	return cli_enum_word(a, &annals__v1__entity_type__descriptor, "ENTITY_TYPE_", type);
}

const char *cli_record_kind(ar_arena *a, int kind)
{
	return cli_enum_word(a, &annals__v1__record_kind__descriptor, "RECORD_KIND_", kind);
}

const char *cli_truth(int truth)
{
	switch (truth) {
	case ANNALS__V1__TRUTH__TRUTH_TRUE:
		return "TRUE";
	case ANNALS__V1__TRUTH__TRUTH_FALSE:
		return "FALSE";
	case ANNALS__V1__TRUTH__TRUTH_UNKNOWN:
		return "UNKNOWN";
	default:
		return "-";
	}
}

const char *cli_sentences(ar_arena *a, const Annals__V1__Evidence *ev)
{
	char buf[200] = "";
	size_t n = 0;
	for (size_t i = 0; i < ev->n_sentences && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u", i ? "," : "", ev->sentences[i]);
	return ar_strdup(a, buf);
}

const char *cli_evidence_brief(ar_arena *a, const Annals__V1__Evidence *ev)
{
	if (ev == NULL)
		return "";
	const char *s =
	    ar_printf(a, "%s s%s [%u,%u)", ev->document, cli_sentences(a, ev), ev->span_start, ev->span_end);
	if (ev->modality != ANNALS__V1__MODALITY__MODALITY_UNSPECIFIED)
		s = ar_printf(a, "%s %s", s,
		              cli_enum_word(a, &annals__v1__modality__descriptor, "MODALITY_", ev->modality));
	if (ev->attributed_to[0])
		s = ar_printf(a, "%s, by %s", s, ev->attributed_to);
	if (ev->inferred)
		s = ar_printf(a, "%s, inferred (%s)", s, ev->rule);
	return s;
}

/* The day a question at pub:DOC was answered for, on a line of its own:
 * the given date, or the bounds derived from the document with the span
 * and rule they come from. Nothing when the question named a date. */
void cli_print_publication(ar_arena *a, const Annals__V1__Publication *p)
{
	if (p == NULL)
		return;
	if (!p->derived) {
		printf("publication of %s: %s\n", p->document, p->text);
		return;
	}
	printf("publication of %s: %s; %s: %s\n", p->document, p->text, cli_evidence_brief(a, p->evidence),
	       p->evidence ? p->evidence->note : "");
}

const char *cli_display_name(const Annals__V1__Entity *e)
{
	return e->n_names > 0 && e->names[0]->text ? e->names[0]->text : "";
}

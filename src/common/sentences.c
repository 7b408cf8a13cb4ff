/* sent_ — the sentence table of a text (rules in sentences.h). */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/sentences.h"

/* Bytes of the whitespace character at p (ASCII, U+00A0, U+2000..200A,
 * U+2028/2029, U+202F, U+205F, U+3000), 0 when it is not one. */
static size_t sp_len(const unsigned char *p, const unsigned char *end)
{
	if (p >= end)
		return 0;
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (p + 1 < end && p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (p + 2 < end && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf) && p[2] >= 0x80)
		return 3;
	if (p + 2 < end && ((p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	                    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)))
		return 3;
	return 0;
}

size_t sent_space(const char *p, const char *end)
{
	return sp_len((const unsigned char *)p, (const unsigned char *)end);
}

typedef struct sent_text {
	const unsigned char *b, *end;
} sent_text;

static size_t skip_space(const sent_text *t, size_t i)
{
	size_t n;
	while ((n = sp_len(t->b + i, t->end)) > 0)
		i += n;
	return i;
}

/* A blank line starts at i: a newline, then only spaces, then a newline. */
static bool blank_line(const sent_text *t, size_t i)
{
	if (t->b[i] != '\n')
		return false;
	size_t n;
	for (i++; (n = sp_len(t->b + i, t->end)) > 0; i += n)
		if (t->b[i] == '\n')
			return true;
	return false;
}

/* The end of the last non-space byte before i (at least from). */
static size_t trim_end(const sent_text *t, size_t from, size_t i)
{
	while (i > from) {
		size_t k = i - 1;
		while (k > from && (t->b[k] & 0xc0) == 0x80) /* back to the lead byte */
			k--;
		if (sp_len(t->b + k, t->end) == 0)
			break;
		i = k;
	}
	return i;
}

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ---- quotes --------------------------------------------------------------- */

typedef enum { Q_NONE, Q_OPEN, Q_CLOSE, Q_ASCII } q_kind;

/* The quotation mark at p and its length: “ ‘ « open, ” » close, " toggles.
 * ’ is left out: it is the apostrophe of "Tajikistan’s" far more often. */
static q_kind quote_at(const unsigned char *p, const unsigned char *end, size_t *len)
{
	*len = 1;
	if (*p == '"')
		return Q_ASCII;
	*len = 3;
	if (p + 2 < end && p[0] == 0xe2 && p[1] == 0x80) {
		if (p[2] == 0x9c || p[2] == 0x98)
			return Q_OPEN;
		if (p[2] == 0x9d)
			return Q_CLOSE;
	}
	*len = 2;
	if (p + 1 < end && p[0] == 0xc2 && p[1] == 0xab)
		return Q_OPEN;
	if (p + 1 < end && p[0] == 0xc2 && p[1] == 0xbb)
		return Q_CLOSE;
	return Q_NONE;
}

/* ---- what a full stop follows ---------------------------------------------- */

/* Titles, months, company and reference words after which a full stop and a
 * capital do not start a sentence ("Gen. Zas", "Sept. 4", "Inc. Chief"). */
static const char *const sent_abbrevs[] = {
    "Mr",   "Mrs", "Ms",   "Messrs", "Mme", "Dr",   "Prof", "Gen",  "Lt",     "Col",  "Maj",
    "Capt", "Sgt", "Cpl",  "Cmdr",   "Adm", "Brig", "Gov",  "Sen",  "Rep",    "Pres", "Rev",
    "Hon",  "Amb", "St",   "Mt",     "Ft",  "Jr",   "Sr",   "No",   "Nos",    "Vol",  "Fig",
    "Art",  "Inc", "Corp", "Co",     "Ltd", "Bros", "Dept", "Univ", "approx", "vs",   "Jan",
    "Feb",  "Mar", "Apr",  "Jun",    "Jul", "Aug",  "Sep",  "Sept", "Oct",    "Nov",  "Dec",
};

/* The full stop at i closes an abbreviation, an initial or a dotted acronym. */
static bool after_abbrev(const sent_text *t, size_t from, size_t i)
{
	size_t w = i;
	while (w > from && is_alpha(t->b[w - 1]))
		w--;
	size_t n = i - w;
	if (n == 0)
		return false;
	if (n == 1 && is_upper(t->b[w])) /* "J." "S." (of "U.S."): an initial */
		return true;
	if (w > from && t->b[w - 1] == '.') /* "a.m." "e.g." */
		return true;
	for (size_t k = 0; k < sizeof(sent_abbrevs) / sizeof(sent_abbrevs[0]); k++)
		if (strlen(sent_abbrevs[k]) == n && strncmp((const char *)t->b + w, sent_abbrevs[k], n) == 0)
			return true;
	return false;
}

/* Can a sentence start at k? A capital, a digit, an opening quote or
 * bracket, or a letter outside ASCII (whose case is not looked up). */
static bool starts_sentence(const sent_text *t, size_t k)
{
	unsigned char c = t->b[k];
	size_t ql;
	if (is_upper(c) || (c >= '0' && c <= '9') || c == '(' || c == '[' || c == '\'')
		return true;
	q_kind q = quote_at(t->b + k, t->end, &ql);
	if (q == Q_OPEN || q == Q_ASCII)
		return true;
	return c >= 0xc3 && q == Q_NONE;
}

/* ---- the dateline ----------------------------------------------------------- */

/* "DUSHANBE, Jan. 5 (Xinhua) --": capitals, then a comma or bracket, then a
 * dash within the first line's 150 bytes. Returns the offset after the
 * dash, 0 when the text opens with no dateline. */
static size_t dateline_end(const sent_text *t, size_t i)
{
	size_t len = (size_t)(t->end - t->b), caps = 0, j = i;
	while (j < len &&
	       (is_upper(t->b[j]) || t->b[j] == ' ' || t->b[j] == '.' || t->b[j] == '\'' || t->b[j] == '-')) {
		if (t->b[j] == ' ' && j + 1 < len && !is_upper(t->b[j + 1]) && t->b[j + 1] != '(')
			break;
		caps += is_upper(t->b[j]);
		j++;
	}
	/* the place name ends at a comma, a bracket or the dash itself */
	bool place_end = j < len && (t->b[j] == ',' || t->b[j] == '(' ||
	                             (t->b[j] == ' ' && j + 1 < len &&
	                              (t->b[j + 1] == '(' || t->b[j + 1] == '-' || t->b[j + 1] == 0xe2)));
	if (caps < 2 || !place_end)
		return 0;
	for (size_t k = j; k < len && k < i + 150 && t->b[k] != '\n'; k++) {
		if (t->b[k] == '-' && k + 1 < len && t->b[k + 1] == '-')
			return k + 2;
		if (k + 2 < len && t->b[k] == 0xe2 && t->b[k + 1] == 0x80 &&
		    (t->b[k + 2] == 0x94 || t->b[k + 2] == 0x93)) /* em or en dash */
			return k + 3;
	}
	return 0;
}

/* ---- the split ----------------------------------------------------------------- */

/* After terminal punctuation at i: past more of it and closing quotes and
 * brackets; *closed says a quotation closed there. */
static size_t past_closers(const sent_text *t, size_t i, int *depth, bool *ascii_open, bool *closed)
{
	size_t len = (size_t)(t->end - t->b), ql;
	while (i < len && (t->b[i] == '.' || t->b[i] == '!' || t->b[i] == '?'))
		i++;
	for (;;) {
		if (i >= len)
			return i;
		q_kind q = quote_at(t->b + i, t->end, &ql);
		if (q == Q_CLOSE || (q == Q_ASCII && *ascii_open)) {
			if (q == Q_CLOSE && *depth > 0)
				(*depth)--;
			if (q == Q_ASCII)
				*ascii_open = false;
			*closed = true;
			i += ql;
		} else if (t->b[i] == ')' || t->b[i] == ']' || t->b[i] == '\'') {
			i++;
		} else if (i + 2 < len && t->b[i] == 0xe2 && t->b[i + 1] == 0x80 && t->b[i + 2] == 0x99) {
			i += 3; /* ’ closing a single quotation */
			*closed = true;
		} else {
			return i;
		}
	}
}

static void sent_emit(sent_span *out, size_t cap, size_t *n, size_t start, size_t end)
{
	if (end <= start)
		return;
	if (*n < cap)
		out[*n] = (sent_span){(uint32_t)start, (uint32_t)end};
	(*n)++;
}

size_t sent_split(const char *text, size_t len, sent_span *out, size_t cap)
{
	sent_text t = {(const unsigned char *)text, (const unsigned char *)text + len};
	size_t n = 0, start = skip_space(&t, 0), i = start, ql;
	size_t dl = dateline_end(&t, start);
	int depth = 0;
	bool ascii_open = false;
	while (i < len) {
		unsigned char c = t.b[i];
		if (blank_line(&t, i)) { /* a paragraph ends a sentence, punctuated or not */
			sent_emit(out, cap, &n, start, trim_end(&t, start, i));
			start = i = skip_space(&t, i);
			depth = 0;
			ascii_open = false;
			continue;
		}
		q_kind q = quote_at(t.b + i, t.end, &ql);
		if (q != Q_NONE) {
			if (q == Q_OPEN)
				depth++;
			else if (q == Q_CLOSE && depth > 0)
				depth--;
			else if (q == Q_ASCII)
				ascii_open = !ascii_open;
			i += ql;
			continue;
		}
		if ((c != '.' && c != '!' && c != '?') || i < dl) {
			i++;
			continue;
		}
		bool closed = false;
		size_t j = past_closers(&t, i, &depth, &ascii_open, &closed);
		if (j < len && sp_len(t.b + j, t.end) == 0) { /* "3.5", "U.S.", "Maj.-Gen." */
			i = j > i ? j : i + 1;
			continue;
		}
		size_t k = skip_space(&t, j);
		bool boundary = k >= len || blank_line(&t, j);
		if (!boundary) {
			bool quoted = (depth > 0 || ascii_open) && !closed;
			boundary =
			    !quoted && !(c == '.' && after_abbrev(&t, start, i)) && starts_sentence(&t, k);
		}
		if (!boundary) {
			i = j;
			continue;
		}
		sent_emit(out, cap, &n, start, j);
		start = i = k;
		depth = 0;
		ascii_open = false;
	}
	sent_emit(out, cap, &n, start, trim_end(&t, start, len));
	return n;
}

uint32_t sent_at(const sent_span *s, size_t n, uint32_t off)
{
	for (size_t i = 0; i < n; i++)
		if (off >= s[i].start && off < s[i].end)
			return (uint32_t)i + 1;
	return 0;
}

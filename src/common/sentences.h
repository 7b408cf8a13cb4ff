/*
 * sent_ — a news text's sentence table: 1-based sentences as byte spans.
 *
 * Evidence cites a document by sentence number and byte span, so the table
 * must be the same every time the same bytes are split, and it must split
 * where a reader would. A sentence ends at . ! or ? (and the closing
 * quotes or brackets right after it) when whitespace and then the start of
 * a new sentence follow, or at a blank line, or at the end of the text.
 * What does not end one:
 *   - abbreviations and titles ("Mr.", "Maj.-Gen.", "Sept.", "Inc."),
 *     initials and dotted acronyms ("J. R. R.", "U.S.", "a.m."), and
 *     decimal numbers ("3.5": no whitespace follows the point);
 *   - a full stop inside an open quotation, unless the quotation closes
 *     right after it ("He said: “We go.” Then..." splits after the quote);
 *   - a dateline ("DUSHANBE, Jan. 5 (Xinhua) --") is part of the first
 *     sentence, whatever punctuation it holds;
 *   - a lowercase word after the full stop ("...the U.S. and others").
 * A span runs from its first to its last non-space byte: leading and
 * trailing whitespace (including U+00A0 and the other Unicode spaces) and
 * blank lines belong to no sentence.
 */
#ifndef ANNALS_COMMON_SENTENCES_H
#define ANNALS_COMMON_SENTENCES_H

#include <stddef.h>
#include <stdint.h>

typedef struct sent_span {
	uint32_t start, end; /* [start, end) in bytes */
} sent_span;

/* Splits text (len bytes of UTF-8) into at most cap spans; returns how many
 * there are (which may exceed cap: call again with a larger array). */
size_t sent_split(const char *text, size_t len, sent_span *out, size_t cap);

/* Bytes of the whitespace character at p (ASCII, U+00A0 and the other
 * Unicode spaces the splitter trims), 0 when it is not one. */
size_t sent_space(const char *p, const char *end);

/* The 1-based number of the sentence holding byte offset off, 0 if none. */
uint32_t sent_at(const sent_span *s, size_t n, uint32_t off);

#endif

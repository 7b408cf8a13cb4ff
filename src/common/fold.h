/*
 * fold_ — case folding for name lookups.
 *
 * Names are matched case-insensitively ("CSTO" finds "Csto"). A full
 * Unicode case fold needs tables we do not want; the names annals holds
 * are Latin or Cyrillic, so fold_ maps ASCII, the Latin-1 supplement,
 * Latin Extended-A and Cyrillic (U+0400..U+052F) to lowercase with the
 * simple (one code point to one code point) mapping, and leaves every
 * other code point, and any invalid byte, as it is.
 *
 * A folded string is never longer than its input, so an output buffer of
 * strlen(in) + 1 bytes is always enough.
 */
#ifndef ANNALS_COMMON_FOLD_H
#define ANNALS_COMMON_FOLD_H

#include <stddef.h>
#include <stdint.h>

/* The lowercase of one code point (itself when it has none we know). */
uint32_t fold_rune(uint32_t c);

/* Folds in[0..n) into out (cap bytes, cap > 0), always NUL-terminated.
 * Returns the folded length; stops early (at a character boundary) when
 * out is too small. */
size_t fold_utf8(char *out, size_t cap, const char *in, size_t n);

/* Folds a NUL-terminated string in place (possible: it never grows). */
void fold_inplace(char *s);

/* Decodes one UTF-8 sequence at s[0..n): the code point, and its length in
 * *len (1..4). An invalid or truncated sequence gives U+FFFD with *len 1;
 * *ok (when not NULL) says whether the sequence was valid. */
uint32_t fold_decode(const unsigned char *s, size_t n, size_t *len, int *ok);

#endif

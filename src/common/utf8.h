/* utf8_ — checking and mending UTF-8 text. */
#ifndef ANNALS_COMMON_UTF8_H
#define ANNALS_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s does not
 * start one (bad lead byte, bad continuation, overlong, surrogate, > U+10FFFF). */
size_t utf8_seq(const unsigned char *s, size_t n);
bool utf8_valid(const char *s);
bool utf8_valid_n(const char *s, size_t n); /* n bytes, which may include NULs */

/* Replaces every byte that is not part of a valid sequence with '?', in
 * place. Error messages quote client text with byte limits ("%.60s"),
 * which can cut a character in two; every message passes through here
 * before it reaches a Reply or a log, whose readers require UTF-8. */
void utf8_scrub(char *s);

#endif

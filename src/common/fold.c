/* fold_ — simple lowercase mapping for Latin and Cyrillic; see fold.h. */
#include "common/fold.h"

#include <assert.h>
#include <string.h>

/* Latin Extended-A alternates upper/lower in pairs, but the parity flips
 * twice: U+0100..U+0137 and U+014A..U+0177 have the capital on the even
 * code point, U+0139..U+0148 and U+0179..U+017E on the odd one. */
static uint32_t fold_latin_ext_a(uint32_t c)
{
	if (c == 0x0130)
		return 0x0069; /* İ -> i (the simple lowercase mapping) */
	if (c == 0x0178)
		return 0x00FF; /* Ÿ -> ÿ */
	if (c == 0x017F)
		return 0x0073; /* ſ (long s) folds to s */
	if ((c <= 0x0137 || (c >= 0x014A && c <= 0x0177)) && c % 2 == 0)
		return c + 1;
	if (((c >= 0x0139 && c <= 0x0148) || (c >= 0x0179 && c <= 0x017E)) && c % 2 == 1)
		return c + 1;
	return c;
}

static uint32_t fold_cyrillic(uint32_t c)
{
	if (c <= 0x040F)
		return c + 0x50; /* Ѐ..Џ -> ѐ..џ */
	if (c <= 0x042F)
		return c + 0x20; /* А..Я -> а..я */
	if (c <= 0x045F)
		return c;
	if (c == 0x04C0)
		return 0x04CF; /* Ӏ (palochka) */
	if (c >= 0x04C1 && c <= 0x04CE)
		return c % 2 == 1 ? c + 1 : c;
	if ((c >= 0x0460 && c <= 0x0481) || (c >= 0x048A && c <= 0x04BF) || (c >= 0x04D0 && c <= 0x052F))
		return c % 2 == 0 ? c + 1 : c;
	return c;
}

uint32_t fold_rune(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0x00C0)
		return c;
	if (c <= 0x00DE)
		return c == 0x00D7 ? c : c + 32; /* × is not a letter */
	if (c >= 0x0100 && c <= 0x017F)
		return fold_latin_ext_a(c);
	if (c >= 0x0400 && c <= 0x052F)
		return fold_cyrillic(c);
	return c;
}

uint32_t fold_decode(const unsigned char *s, size_t n, size_t *len, int *ok)
{
	assert(n > 0);
	unsigned char b = s[0];
	size_t need;
	uint32_t c, min;
	if (b < 0x80) {
		*len = 1;
		if (ok)
			*ok = 1;
		return b;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		need = 2, c = b & 0x1F, min = 0x80;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 3, c = b & 0x0F, min = 0x800;
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 4, c = b & 0x07, min = 0x10000;
	} else {
		goto bad;
	}
	if (n < need)
		goto bad;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8 */
	if (c < min || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		goto bad;
	*len = need;
	if (ok)
		*ok = 1;
	return c;
bad:
	*len = 1;
	if (ok)
		*ok = 0;
	return 0xFFFD;
}

static size_t fold_encode(uint32_t c, unsigned char *out)
{
	if (c < 0x80) {
		out[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (unsigned char)(0xC0 | (c >> 6));
		out[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (c >> 12));
		out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (c >> 18));
	out[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (c & 0x3F));
	return 4;
}

size_t fold_utf8(char *out, size_t cap, const char *in, size_t n)
{
	assert(cap > 0);
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0;
	while (i < n) {
		size_t len;
		int ok;
		uint32_t c = fold_decode(s + i, n - i, &len, &ok);
		unsigned char enc[4];
		size_t elen;
		if (ok) {
			elen = fold_encode(fold_rune(c), enc);
		} else {
			enc[0] = s[i]; /* keep invalid bytes as they are */
			elen = 1;
		}
		if (o + elen + 1 > cap)
			break;
		memcpy(out + o, enc, elen);
		o += elen;
		i += len;
	}
	out[o] = '\0';
	return o;
}

void fold_inplace(char *s)
{
	/* Safe in place: each folded character is no longer than the input
	 * character, so writing never overtakes reading. */
	size_t n = strlen(s);
	fold_utf8(s, n + 1, s, n);
}

/*
 * key_ — building LMDB keys. Layouts are listed in store_int.h.
 *
 * Keys are at most 511 bytes (LMDB's compile-time limit). Ids are at most
 * 200 bytes by validation, predicates 100, so composite keys fit; names
 * are free text and are capped here: a folded name longer than
 * ST_NAME_KEY_MAX keeps its first bytes (cut at a character boundary)
 * followed by \x01 and a 64-bit FNV-1a hash of the whole folded name in
 * hex. Two long names sharing those first bytes still get different keys,
 * and lookups of long names compare the real names after the index hit.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "common/fold.h"
#include "common/hash.h"
#include "store/store_int.h"

/* Keep room for \x01 + 16 hex digits of hash. */
#define KEY_NAME_CUT (ST_NAME_KEY_MAX - 17)

void key_init(st_key *k)
{
	k->n = 0;
}

void key_bytes(st_key *k, const void *p, size_t n)
{
	/* Validation bounds every part; running out of room is a bug. */
	assert(k->n + n <= ST_KEY_MAX);
	if (k->n + n > ST_KEY_MAX)
		n = ST_KEY_MAX - k->n;
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

void key_str(st_key *k, const char *s)
{
	key_bytes(k, s, strlen(s));
}

void key_sep(st_key *k)
{
	key_bytes(k, "", 1);
}

void key_be32(st_key *k, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	key_bytes(k, b, 4);
}

void key_be64(st_key *k, uint64_t v)
{
	uint8_t b[8];
	wr_be64(b, v);
	key_bytes(k, b, 8);
}

/* Length of the longest prefix of s[0..n) that is at most max bytes and
 * ends on a UTF-8 character boundary. */
static size_t key_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

/* The folded form of a name: in buf when it fits, else on the heap
 * (names from queries are not length-checked). Free with key_unfold. */
static char *key_fold(const char *name, char *buf, size_t cap, size_t *n)
{
	size_t len = strlen(name);
	char *out = len < cap ? buf : malloc(len + 1);
	if (out == NULL) {
		fprintf(stderr, "annals: out of memory folding a name\n");
		abort();
	}
	*n = fold_utf8(out, len + 1, name, len);
	return out;
}

static void key_unfold(char *folded, const char *buf)
{
	if (folded != buf)
		free(folded);
}

void key_name(st_key *k, const char *name)
{
	char buf[1024];
	size_t n;
	char *folded = key_fold(name, buf, sizeof(buf), &n);
	if (n <= ST_NAME_KEY_MAX) {
		key_bytes(k, folded, n);
	} else {
		char tail[18];
		snprintf(tail, sizeof(tail), "\x01%016llx",
		         (unsigned long long)hash_fnv1a(HASH_FNV1A_INIT, folded, n));
		key_bytes(k, folded, key_cut(folded, n, KEY_NAME_CUT));
		key_bytes(k, tail, 17);
	}
	key_unfold(folded, buf);
}

void key_name_prefix(st_key *k, const char *prefix)
{
	char buf[1024];
	size_t n;
	char *folded = key_fold(prefix, buf, sizeof(buf), &n);
	key_bytes(k, folded, key_cut(folded, n, KEY_NAME_CUT));
	key_unfold(folded, buf);
}

MDB_val key_val(const st_key *k)
{
	MDB_val v = {k->n, (void *)k->b};
	return v;
}

bool key_has_prefix(const MDB_val *v, const st_key *prefix)
{
	return v->mv_size >= prefix->n && memcmp(v->mv_data, prefix->b, prefix->n) == 0;
}

uint32_t key_day(int32_t day)
{
	return (uint32_t)day ^ 0x80000000u;
}

int32_t key_day_value(uint32_t v)
{
	return (int32_t)(v ^ 0x80000000u);
}

uint32_t rd_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t rd_be64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)rd_be32(b) << 32 | rd_be32(b + 4);
}

void wr_be64(void *p, uint64_t v)
{
	uint8_t *b = p;
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

void key_hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	assert(cap >= 2 * n + 1);
	if (cap < 2 * n + 1)
		n = (cap - 1) / 2;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int key_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int key_unhex(const char *hex, st_key *out)
{
	size_t n = strlen(hex);
	key_init(out);
	if (n % 2 != 0 || n / 2 > ST_KEY_MAX)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = key_nibble(hex[i]), lo = key_nibble(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out->b[out->n++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void key_tail_id(const MDB_val *v, size_t skip, char *out, size_t cap)
{
	size_t n = v->mv_size > skip ? v->mv_size - skip : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, (const char *)v->mv_data + skip, n);
	out[n] = '\0';
}

bool key_name_match(const char *name, const char *query, bool prefix)
{
	char b1[1024], b2[1024];
	size_t nn, qn;
	char *fn = key_fold(name, b1, sizeof(b1), &nn);
	char *fq = key_fold(query, b2, sizeof(b2), &qn);
	bool ok = prefix ? nn >= qn && memcmp(fn, fq, qn) == 0 : nn == qn && memcmp(fn, fq, qn) == 0;
	key_unfold(fn, b1);
	key_unfold(fq, b2);
	return ok;
}

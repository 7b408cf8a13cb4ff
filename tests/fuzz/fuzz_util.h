/*
 * Helpers shared by the fuzz targets: property checks that abort (so
 * libFuzzer keeps the input as a crash), an independent UTF-8 and enum walk
 * over any protobuf-c message, and a throwaway store directory.
 *
 * The walk is written here, not borrowed from src/common/validate.c, so a
 * target can check the validator against a second opinion.
 */
#ifndef ANNALS_FUZZ_UTIL_H
#define ANNALS_FUZZ_UTIL_H

#include <ftw.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_ASSERT(cond, ...)                                                                                 \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "\nfuzz property failed at %s:%d: %s\n  ", __FILE__, __LINE__,       \
			        #cond);                                                                      \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fprintf(stderr, "\n");                                                               \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
static inline bool fz_utf8_n(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		if (i + k >= n) /* the sequence runs past the end */
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (p[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static inline bool fz_utf8(const char *s)
{
	return s == NULL || fz_utf8_n(s, strlen(s));
}

/* Every string field of m (recursively) is UTF-8 and, when check_enums,
 * every enum value is one the .proto defines. On failure writes the field
 * name into bad (if not NULL) and returns false. */
static inline bool fz_message_ok(const ProtobufCMessage *m, bool check_enums, const char **bad)
{
	if (m == NULL)
		return true;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;
		size_t n = 1;
		const void *vals = base + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			vals = *(void *const *)(base + f->offset);
		} else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
		}
		for (size_t j = 0; j < n; j++) {
			switch (f->type) {
			case PROTOBUF_C_TYPE_STRING: {
				const char *s = ((const char *const *)vals)[j];
				if (!fz_utf8(s)) {
					if (bad)
						*bad = f->name;
					return false;
				}
				break;
			}
			case PROTOBUF_C_TYPE_MESSAGE: {
				const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)vals)[j];
				if (!fz_message_ok(sub, check_enums, bad))
					return false;
				break;
			}
			case PROTOBUF_C_TYPE_ENUM: {
				int v = ((const int *)vals)[j];
				if (check_enums &&
				    protobuf_c_enum_descriptor_get_value(f->descriptor, v) == NULL) {
					if (bad)
						*bad = f->name;
					return false;
				}
				break;
			}
			default:
				break;
			}
		}
	}
	return true;
}

/* Packs m and unpacks it again: the reply path of the server does exactly
 * this pack, and a client does the unpack. */
static inline void fz_pack_roundtrip(const ProtobufCMessage *m, const char *what)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	FZ_ASSERT(buf != NULL, "out of memory");
	size_t w = protobuf_c_message_pack(m, buf);
	FZ_ASSERT(w == n, "%s: packed %zu bytes, get_packed_size said %zu", what, w, n);
	ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
	FZ_ASSERT(back != NULL, "%s: the packed reply does not unpack", what);
	protobuf_c_message_free_unpacked(back, NULL);
	free(buf);
}

static inline int fz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fz_rm_tree(const char *dir)
{
	nftw(dir, fz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif

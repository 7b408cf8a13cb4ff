/*
 * hash_ — FNV-1a, 64 bits: the one hash of the project (folded-name index
 * keys, the change-set id index of a Batch, the reply cache's slots).
 * Stored keys depend on it: it must never change.
 */
#ifndef ANNALS_COMMON_HASH_H
#define ANNALS_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT 0xcbf29ce484222325ull

/* Continues the hash h over n bytes at p. */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif

/*
 * ar_ — a bump allocator for the life of one call.
 *
 * Handlers and queries build reply messages out of many small strings and
 * arrays; freeing each one is error-prone and slow. Everything taken from an
 * arena is freed at once by ar_reset()/ar_free(). ar_pbc() wraps an arena as
 * a ProtobufCAllocator so protobuf_c_message_unpack() can allocate from it
 * (its free() is a no-op).
 */
#ifndef ANNALS_COMMON_ARENA_H
#define ANNALS_COMMON_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stdarg.h>
#include <stddef.h>

typedef struct ar_block ar_block;

typedef struct ar_arena {
	ar_block *head;         /* current block; older blocks chained behind it */
	size_t used;            /* bytes used in head */
	size_t total;           /* bytes handed out since the last reset */
	size_t pbc_limit;       /* when not 0: the allocator view fails past this total, so a
	                         * small hostile message cannot unpack into a huge tree */
	int pbc_refused;        /* the limit was hit since the last reset */
	ProtobufCAllocator pbc; /* allocator view of this arena */
} ar_arena;

void ar_init(ar_arena *a);
void ar_reset(ar_arena *a); /* keeps the first block for reuse */
void ar_free(ar_arena *a);

/* Never returns NULL: aborts on out-of-memory, as a server cannot answer anyway. */
void *ar_alloc(ar_arena *a, size_t n);    /* 16-byte aligned, zeroed */
char *ar_strdup(ar_arena *a, const char *s);
char *ar_strndup(ar_arena *a, const char *s, size_t n);
char *ar_printf(ar_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The strings given, joined, up to a (const char *)NULL; AR_CONCAT(a, x, "; ", y) ends them so. */
char *ar_concat(ar_arena *a, ...) __attribute__((sentinel));
#define AR_CONCAT(a, ...) ar_concat((a), __VA_ARGS__, (const char *)NULL)

/* Appends one element to a protobuf-c repeated field (n_items, items),
 * growing it by doubling inside the arena. */
void ar_push(ar_arena *a, void ***items, size_t *n_items, void *item);
#define AR_PUSH(a, arr, n, item) ar_push((a), (void ***)&(arr), &(n), (item))

/* A typed, zeroed, INIT'ed message: AR_NEW(a, Annals__V1__Entity, ANNALS__V1__ENTITY__INIT) */
#define AR_NEW(a, T, INIT)                          \
	({                                              \
		T *ar_new_p_ = ar_alloc((a), sizeof(T));    \
		T ar_new_init_ = INIT;                      \
		*ar_new_p_ = ar_new_init_;                  \
		ar_new_p_;                                  \
	})

/* protobuf_c_message_unpack(desc, &a->pbc, len, data) allocates from the arena. */
static inline ProtobufCAllocator *ar_pbc(ar_arena *a)
{
	return &a->pbc;
}

#endif

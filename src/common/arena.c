/* ar_ — bump allocator; see arena.h for why. */
#include "common/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AR_BLOCK_MIN 8192

struct ar_block {
	ar_block *next;
	size_t size; /* usable bytes in data */
	_Alignas(16) unsigned char data[];
};

static void *ar_pbc_alloc(void *ctx, size_t n)
{
	ar_arena *a = ctx;
	if (a->pbc_limit && a->total + n > a->pbc_limit) {
		a->pbc_refused = 1;
		return NULL; /* protobuf-c then fails the unpack cleanly */
	}
	return ar_alloc(a, n ? n : 1);
}

static void ar_pbc_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p; /* freed with the arena */
}

void ar_init(ar_arena *a)
{
	memset(a, 0, sizeof(*a));
	a->pbc.alloc = ar_pbc_alloc;
	a->pbc.free = ar_pbc_free;
	a->pbc.allocator_data = a;
}

static ar_block *ar_block_new(size_t want, ar_block *next)
{
	size_t size = want > AR_BLOCK_MIN ? want : AR_BLOCK_MIN;
	ar_block *b = malloc(sizeof(*b) + size);
	if (b == NULL) {
		fprintf(stderr, "annals: out of memory (%zu bytes)\n", size);
		abort();
	}
	b->next = next;
	b->size = size;
	return b;
}

void *ar_alloc(ar_arena *a, size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;
	if (a->head == NULL || a->used + need > a->head->size) {
		a->head = ar_block_new(need, a->head);
		a->used = 0;
	}
	void *p = a->head->data + a->used;
	a->used += need;
	a->total += need;
	memset(p, 0, n);
	return p;
}

/* The most a reset makes room for in one block: every context keeps its
 * arena between calls, so this bounds what the server holds on to (128
 * contexts x 256 KiB), while a call needing more mallocs its blocks. */
#define AR_KEEP_MAX (256u << 10)

void ar_reset(ar_arena *a)
{
	if (a->head == NULL)
		return;
	size_t want = a->total < AR_KEEP_MAX ? a->total : AR_KEEP_MAX;
	/* Keep the oldest block (a caller may have made it big on purpose) and
	 * free the rest. When the call outgrew it, make it the size the call
	 * needed, so that the next call of the same kind bumps through one
	 * block instead of mallocing and freeing a chain of them every time (a
	 * Members answer on the built-in data takes ~26 KB: 4 blocks). */
	ar_block *b = a->head;
	while (b->next != NULL) {
		ar_block *next = b->next;
		free(b);
		b = next;
	}
	if (b != a->head && b->size < want) {
		free(b);
		b = ar_block_new(want, NULL);
	}
	a->head = b;
	a->used = 0;
	a->total = 0;
	a->pbc_limit = 0;
	a->pbc_refused = 0;
}

void ar_free(ar_arena *a)
{
	ar_block *b = a->head;
	while (b != NULL) {
		ar_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
	a->total = 0;
}

char *ar_strndup(ar_arena *a, const char *s, size_t n)
{
	char *p = ar_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ar_strdup(ar_arena *a, const char *s)
{
	return ar_strndup(a, s, strlen(s));
}

char *ar_concat(ar_arena *a, ...)
{
	/* the answers' sentences are mostly pieces joined: vsnprintf parsed a
	 * format for each (a Members call's bound phrases alone were an eighth
	 * of its instructions) */
	const char *s;
	size_t len = 0;
	va_list ap;
	va_start(ap, a);
	while ((s = va_arg(ap, const char *)) != NULL)
		len += strlen(s);
	va_end(ap);
	char *out = ar_alloc(a, len + 1), *p = out;
	va_start(ap, a);
	while ((s = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(s);
		memcpy(p, s, n);
		p += n;
	}
	va_end(ap);
	*p = '\0';
	return out;
}

char *ar_printf(ar_arena *a, const char *fmt, ...)
{
	/* Format straight into the rest of the current block; only when it does
	 * not fit is the text formatted a second time into a block that fits. */
	char *room = a->head ? (char *)a->head->data + a->used : NULL;
	size_t left = a->head ? a->head->size - a->used : 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(room, left, fmt, ap);
	va_end(ap);
	size_t len = (size_t)(n > 0 ? n : 0);
	if (room != NULL && len < left) {
		size_t need = (len + 1 + 15) & ~(size_t)15;
		a->used += need; /* blocks and offsets are multiples of 16, so need <= left */
		a->total += need;
		return room;
	}
	char *p = ar_alloc(a, len + 1);
	va_start(ap, fmt);
	vsnprintf(p, len + 1, fmt, ap);
	va_end(ap);
	return p;
}

void ar_push(ar_arena *a, void ***items, size_t *n_items, void *item)
{
	size_t n = *n_items;
	/* capacity is implied: powers of two from 4 up */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		size_t cap = n == 0 ? 4 : n * 2;
		void **grown = ar_alloc(a, cap * sizeof(void *));
		if (n)
			memcpy(grown, *items, n * sizeof(void *));
		*items = grown;
	}
	(*items)[n] = item;
	*n_items = n + 1;
}

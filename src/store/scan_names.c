/*
 * st_scan_names — entities by name, case-insensitively, through ix_names.
 *
 * An entity with several matching names ("CSTO", "Collective Security
 * Treaty Organization" for the prefix "c") has several index entries. It
 * is reported once, at the first of them in index order: for each hit we
 * load the entity, compute the smallest name key among its matching names,
 * and skip the hit unless it is that one. This needs no memory of what was
 * seen, so it also holds across pages (a page token is just an index key).
 * Loading the entity also checks the match on the real names, which long
 * names need (their keys are cut and hashed; see keys.c).
 *
 * Cost: an entity with N matching names has N index hits, and finding its
 * smallest key reads all its names, so doing it per hit cost N x names (a
 * 30-byte FindEntities over one entity with 10,000 aliases took 9.4 s of
 * CPU). The smallest key is computed once per entity and scan and kept in a
 * small cache by id, so a scan costs its index hits plus, per distinct
 * entity, one pass over its names (at most VAL_MAX_REPEATED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/validate.h"
#include "store/store_int.h"

#define NAMES_CACHE                                                                                          \
	64 /* entities whose smallest key is remembered, direct-mapped by id (<= 64: a bit each) */

typedef struct names_first {
	char id[VAL_ID_MAX + 1]; /* "" : empty slot */
	bool any;                /* some real name matches */
	st_key key;              /* the smallest key among the matching names */
} names_first;

typedef struct names_scan {
	st_txn *t;
	const char *query;
	bool prefix;
	ar_arena a; /* one entity at a time */
	st_name_fn fn;
	void *ctx;
	names_first *cache; /* NAMES_CACHE slots; NULL: none (out of memory: still correct, slower) */
	/* Which slots hold an entry. The slots are left uninitialised: zeroing
	 * 64 x 730 bytes was a third of a FindEntities call, for a query that
	 * meets a handful of entities. */
	uint64_t filled;
} names_scan;

static int names_key_cmp(const st_key *a, const uint8_t *b, size_t bn)
{
	size_t n = a->n < bn ? a->n : bn;
	int c = memcmp(a->b, b, n);
	if (c != 0)
		return c;
	return a->n < bn ? -1 : a->n > bn;
}

/* The smallest key among the entity's really matching names (none: a cut
 * long name can match by key alone). */
static void names_first_of(const names_scan *ns, const Annals__V1__Entity *e, names_first *out)
{
	out->any = false;
	for (size_t i = 0; i < e->n_names; i++) {
		if (!key_name_match(e->names[i]->text, ns->query, ns->prefix))
			continue;
		st_key nk;
		key_init(&nk);
		key_name(&nk, e->names[i]->text);
		if (!out->any || names_key_cmp(&nk, out->key.b, out->key.n) < 0)
			out->key = nk;
		out->any = true;
	}
}

static unsigned names_slot(const char *id)
{
	unsigned h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % NAMES_CACHE;
}

/* Is this index entry (its name part) the entity's first, the one it is
 * reported at? The entity is read only when its answer is not cached. */
static bool names_is_first(names_scan *ns, const char *id, const uint8_t *data, size_t len,
                           const uint8_t *part, size_t part_n)
{
	unsigned slot = names_slot(id);
	names_first local = {.any = false}, *f = ns->cache ? &ns->cache[slot] : &local;
	if (ns->cache == NULL || !(ns->filled >> slot & 1) || strcmp(f->id, id) != 0) {
		ar_reset(&ns->a);
		const Annals__V1__Entity *e =
		    (const Annals__V1__Entity *)rec_unpack(ST_ENTITY, data, len, &ns->a);
		if (e == NULL)
			return false;
		names_first_of(ns, e, f);
		snprintf(f->id, sizeof(f->id), "%s", id);
		ns->filled |= (uint64_t)1 << slot;
	}
	return f->any && names_key_cmp(&f->key, part, part_n) == 0;
}

static int names_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	(void)val;
	names_scan *ns = ctx;
	const uint8_t *k = key->mv_data;
	const uint8_t *sep = memchr(k, '\0', key->mv_size);
	if (sep == NULL)
		return 0;
	size_t part_n = (size_t)(sep - k);
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, part_n + 1, id, sizeof(id));
	const uint8_t *data;
	size_t len;
	if (st_get(ns->t, ST_ENTITY, id, &data, &len) != ANNALS_OK)
		return 0;
	if (!names_is_first(ns, id, data, len, k, part_n))
		return 0;
	return ns->fn(ns->ctx, key, id, data, len);
}

int st_scan_names_from(st_txn *t, const char *name, bool prefix, const st_key *resume, st_name_fn fn,
                       void *ctx)
{
	if (name == NULL || (name[0] == '\0' && !prefix))
		return ANNALS_OK;
	st_key pre;
	key_init(&pre);
	if (prefix) {
		key_name_prefix(&pre, name);
	} else {
		key_name(&pre, name);
		key_sep(&pre);
	}
	names_scan ns = {.t = t, .query = name, .prefix = prefix, .fn = fn, .ctx = ctx};
	ns.cache = malloc(NAMES_CACHE * sizeof(*ns.cache));
	ar_init(&ns.a);
	int rc = st_scan_prefix(t, DB_NAMES, &pre, resume, names_cb, &ns);
	ar_free(&ns.a);
	free(ns.cache);
	return rc;
}

typedef struct names_visit {
	st_visit_fn fn;
	void *ctx;
} names_visit;

static int names_visit_cb(void *ctx, const MDB_val *key, const char *id, const uint8_t *data, size_t len)
{
	(void)key;
	names_visit *v = ctx;
	return v->fn(v->ctx, id, data, len);
}

int st_scan_names(st_txn *t, const char *name, bool prefix, st_visit_fn fn, void *ctx)
{
	names_visit v = {fn, ctx};
	return st_scan_names_from(t, name, prefix, NULL, names_visit_cb, &v);
}

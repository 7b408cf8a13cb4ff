/*
 * st_bulk_ staging — a bulk load's parts, kept until its commit.
 *
 * Each part is checked when it arrives, on the worker that received it,
 * so the commit (on the writer thread, which every other write waits for)
 * does only what needs the store: every record valid (the val_ rules of a
 * Put) and no id twice in the load. The part is kept packed, as one
 * BulkLoadRequest, not unpacked: unpacked records take several times their
 * wire size, and a load is millions of them.
 *
 * The ids of the load go into one open-addressing set (id -> kind), which
 * the commit uses to judge references into the load without a B-tree
 * lookup each, and which finds an id given twice here rather than at the
 * commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#define BK_TRIM_BYTES (16u << 20) /* staged bytes from which a freed load is trimmed: several parts */

#include "common/hash.h"
#include "common/validate.h"
#include "store/bulk.h"

static void *bk_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		abort(); /* as ar_alloc: a server out of memory cannot answer anyway */
	return q;
}

static void bk_set_free(bk_set *t);

st_bulk *st_bulk_new(const char *load_id, bool replace)
{
	st_bulk *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	snprintf(b->load_id, sizeof(b->load_id), "%s", load_id);
	b->replace = replace;
	return b;
}

void st_bulk_free(st_bulk *b)
{
	if (b == NULL)
		return;
	bool big = b->totals.bytes >= BK_TRIM_BYTES;
	for (size_t i = 0; i < b->n_parts; i++)
		free(b->parts[i].data);
	free(b->parts);
	bk_set_free(&b->ids);
	bk_set_free(&b->anchors);
	free(b);
#ifdef __GLIBC__
	/* A big load's memory goes back to the system: glibc keeps a freed heap
	 * resident otherwise (11.6 GB after a 10M-event load, until restart).
	 * Not for a small one: a refused first part frees its load too. */
	if (big)
		malloc_trim(0);
#else
	(void)big;
#endif
}

const char *st_bulk_load_id(const st_bulk *b)
{
	return b->load_id;
}

void st_bulk_set_replace(st_bulk *b, bool replace)
{
	b->replace = replace;
}

void st_bulk_set_replay_only(st_bulk *b, bool replay_only)
{
	b->replay_only = replay_only;
}

bool st_bulk_replay_only(const st_bulk *b)
{
	return b->replay_only;
}

void st_bulk_totals_of(const st_bulk *b, st_bulk_totals *out)
{
	*out = b->totals;
	out->parts = (uint32_t)b->staged;
	out->last_part = (uint32_t)b->n_parts;
}

/* ---- the id sets ----------------------------------------------------------------- */

static uint64_t bk_hash(const char *id)
{
	return hash_fnv1a(HASH_FNV1A_INIT, id, strlen(id));
}

static void bk_set_free(bk_set *t)
{
	free(t->ids);
	free(t->entries);
	free(t->slots);
}

static void bk_rehash(bk_set *t, size_t cap)
{
	free(t->slots);
	t->slots = calloc(cap, sizeof(*t->slots));
	if (t->slots == NULL)
		abort();
	t->slot_cap = cap;
	for (size_t e = 0; e < t->n_entries; e++) {
		size_t i = t->entries[e].hash & (cap - 1);
		while (t->slots[i] != 0)
			i = (i + 1) & (cap - 1);
		t->slots[i] = (uint32_t)(e + 1);
	}
}

/* The entry of id, or -1. */
static ptrdiff_t bk_find(const bk_set *t, const char *id, uint64_t h)
{
	if (t->slot_cap == 0)
		return -1;
	for (size_t i = h & (t->slot_cap - 1); t->slots[i] != 0; i = (i + 1) & (t->slot_cap - 1)) {
		size_t e = t->slots[i] - 1;
		if (t->entries[e].hash == h && strcmp(t->ids + t->entries[e].off, id) == 0)
			return (ptrdiff_t)e;
	}
	return -1;
}

st_kind bk_kind_in_load(const st_bulk *b, const char *id)
{
	ptrdiff_t e = bk_find(&b->ids, id, bk_hash(id));
	return e < 0 ? 0 : (st_kind)b->ids.entries[e].kind;
}

bk_entry *bk_entry_of(st_bulk *b, const char *id)
{
	ptrdiff_t e = bk_find(&b->ids, id, bk_hash(id));
	return e < 0 ? NULL : &b->ids.entries[e];
}

bool bk_is_anchor(const st_bulk *b, const char *anchor)
{
	return bk_find(&b->anchors, anchor, bk_hash(anchor)) >= 0;
}

/* Adds id; the part it came in when it is there already (0: added). */
static uint32_t bk_add(bk_set *t, const char *id, st_kind k, uint32_t part)
{
	uint64_t h = bk_hash(id);
	ptrdiff_t found = bk_find(t, id, h);
	if (found >= 0)
		return t->entries[found].part;
	if (2 * (t->n_entries + 1) > t->slot_cap)
		bk_rehash(t, t->slot_cap ? 2 * t->slot_cap : 1024);
	size_t len = strlen(id) + 1;
	if (t->ids_len + len > t->ids_cap) {
		t->ids_cap = t->ids_cap ? 2 * t->ids_cap : 1 << 16;
		while (t->ids_len + len > t->ids_cap)
			t->ids_cap *= 2;
		t->ids = bk_xrealloc(t->ids, t->ids_cap);
	}
	if (t->n_entries == t->entries_cap) {
		t->entries_cap = t->entries_cap ? 2 * t->entries_cap : 1024;
		t->entries = bk_xrealloc(t->entries, t->entries_cap * sizeof(*t->entries));
	}
	memcpy(t->ids + t->ids_len, id, len);
	t->entries[t->n_entries] = (bk_entry){.off = t->ids_len, .hash = h, .part = part, .kind = (uint8_t)k};
	t->ids_len += len;
	size_t i = h & (t->slot_cap - 1);
	while (t->slots[i] != 0)
		i = (i + 1) & (t->slot_cap - 1);
	t->slots[i] = (uint32_t)(++t->n_entries);
	return 0;
}

/* Takes back what a refused part added (the last entries). */
static void bk_drop_from(bk_set *t, size_t n_entries, size_t ids_len)
{
	if (t->n_entries == n_entries)
		return;
	t->n_entries = n_entries;
	t->ids_len = ids_len;
	bk_rehash(t, t->slot_cap);
}

typedef struct bk_anchor_ctx {
	bk_set *anchors;
	uint32_t part;
} bk_anchor_ctx;

/* Every anchor a record of the load names: the commit writes the records
 * they may name at once, so relative dates resolve against them. */
static void bk_anchor_cb(void *ctx, ProtobufCMessage *m)
{
	bk_anchor_ctx *ac = ctx;
	const char *a = ((const Annals__V1__Date *)m)->anchor;
	if (a != NULL && a[0] != '\0')
		bk_add(ac->anchors, a, 0, ac->part);
}

/* ---- one part --------------------------------------------------------------------- */

void bk_lists_of(const Annals__V1__BulkLoadRequest *p, bk_list out[BK_LISTS])
{
	out[0] = (bk_list){"documents", ST_DOCUMENT, p->n_documents, (ProtobufCMessage **)p->documents};
	out[1] = (bk_list){"entities", ST_ENTITY, p->n_entities, (ProtobufCMessage **)p->entities};
	out[2] = (bk_list){"events", ST_EVENT, p->n_events, (ProtobufCMessage **)p->events};
	out[3] = (bk_list){"relations", ST_RELATION, p->n_relations, (ProtobufCMessage **)p->relations};
}

static int bk_check(const bk_list *l, size_t i, char *msg, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "%s[%zu]", l->name, i);
	const void *r = l->items[i];
	switch (l->kind) {
	case ST_ENTITY:
		return val_entity(r, path, msg, len);
	case ST_EVENT:
		return val_event(r, path, msg, len);
	case ST_RELATION:
		return val_relation(r, path, msg, len);
	case ST_DOCUMENT:
		return val_document(r, path, msg, len);
	}
	return -1;
}

int st_bulk_check(const Annals__V1__BulkLoadRequest *part, st_bulk_part *out, st_err *err)
{
	bk_list lists[BK_LISTS];
	bk_lists_of(part, lists);
	char msg[sizeof(err->msg)];
	*out = (st_bulk_part){0};
	for (int l = 0; l < BK_LISTS; l++) {
		for (size_t i = 0; i < lists[l].n; i++)
			if (bk_check(&lists[l], i, msg, sizeof(msg)) != 0)
				return st_errf(err, ANNALS_INVALID_ARGUMENT, "%s", msg);
		out->records += lists[l].n;
	}
	/* Kept as one packed message: no per-record allocation, and the commit
	 * unpacks it the way the worker did. Only the record lists: the other
	 * fields said what to do with this call. */
	Annals__V1__BulkLoadRequest keep = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	keep.n_documents = part->n_documents, keep.documents = part->documents;
	keep.n_entities = part->n_entities, keep.entities = part->entities;
	keep.n_events = part->n_events, keep.events = part->events;
	keep.n_relations = part->n_relations, keep.relations = part->relations;
	out->len = protobuf_c_message_get_packed_size(&keep.base);
	out->bytes = malloc(out->len ? out->len : 1);
	if (out->bytes == NULL)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "bulk load: out of memory staging a part");
	protobuf_c_message_pack(&keep.base, out->bytes);
	return ANNALS_OK;
}

void st_bulk_part_free(st_bulk_part *p)
{
	free(p->bytes);
	*p = (st_bulk_part){0};
}

bool st_bulk_has_part(const st_bulk *b, uint32_t number)
{
	return number >= 1 && number <= b->n_parts && b->parts[number - 1].data != NULL;
}

uint32_t st_bulk_missing(const st_bulk *b, uint32_t through)
{
	if (through == 0)
		through = (uint32_t)b->n_parts;
	for (uint32_t i = 1; i <= through; i++)
		if (!st_bulk_has_part(b, i))
			return i;
	return 0;
}

int st_bulk_add(st_bulk *b, uint32_t number, const Annals__V1__BulkLoadRequest *part, st_bulk_part *p,
                st_err *err)
{
	bk_list lists[BK_LISTS];
	bk_lists_of(part, lists);
	size_t had_entries = b->ids.n_entries, had_ids = b->ids.ids_len;
	size_t had_anchors = b->anchors.n_entries, had_anchor_bytes = b->anchors.ids_len;
	bk_anchor_ctx ac = {&b->anchors, number};
	for (int l = 0; l < BK_LISTS; l++) {
		for (size_t i = 0; i < lists[l].n; i++) {
			const char *id = rec_id(lists[l].items[i]);
			uint32_t was = bk_add(&b->ids, id, lists[l].kind, number);
			if (was != 0) {
				bk_drop_from(&b->ids, had_entries, had_ids);
				bk_drop_from(&b->anchors, had_anchors, had_anchor_bytes);
				return st_errf(
				    err, ANNALS_INVALID_ARGUMENT,
				    "%s[%zu].id: \"%s\" is already in this load (part %u); give each "
				    "record once",
				    lists[l].name, i, id, was);
			}
			st_walk(lists[l].items[i], &annals__v1__date__descriptor, bk_anchor_cb, &ac);
		}
	}
	if (number > b->parts_cap) {
		size_t cap = b->parts_cap ? b->parts_cap : 64;
		while (cap < number)
			cap *= 2;
		b->parts = bk_xrealloc(b->parts, cap * sizeof(*b->parts));
		memset(b->parts + b->parts_cap, 0, (cap - b->parts_cap) * sizeof(*b->parts));
		b->parts_cap = cap;
	}
	if (number > b->n_parts)
		b->n_parts = number;
	b->parts[number - 1] = (ProtobufCBinaryData){.len = p->len, .data = p->bytes};
	b->staged++;
	b->totals.records += p->records;
	b->totals.bytes += p->len;
	*p = (st_bulk_part){0};
	return ANNALS_OK;
}

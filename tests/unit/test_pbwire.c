/*
 * pbw_ (common/pbwire.h): filtering and splicing wire bytes, checked
 * against protobuf-c, which reads what they make.
 *
 * pbw_filter over every record of the built-in data, whole, cut at every
 * length and with bytes flipped at every position: with nothing to drop
 * it gives back the same bytes, or refuses bytes protobuf-c refuses too;
 * dropping a field gives what protobuf-c reads as the record without it.
 * What pbw_splice and pbw_splice_item put in is read back as the field
 * they name, byte for byte, in order.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "annals/annals.h"
#include "common/arena.h"
#include "common/file.h"
#include "common/pbjson.h"
#include "common/pbwire.h"

static Annals__V1__Dataset *load_dataset(ar_arena *a)
{
	const char *root = getenv("ANNALS_ROOT");
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/data/seed/dataset.json", root ? root : ".");
	size_t len = 0;
	char *json = file_read_all(path, 64u << 20, &len);
	CHECK(json != NULL);
	if (json == NULL)
		return NULL;
	ProtobufCMessage *m = pbjson_parse(&annals__v1__dataset__descriptor, json, len, a, err, sizeof(err));
	free(json);
	CHECK(m != NULL);
	return (Annals__V1__Dataset *)m;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *n, ar_arena *a)
{
	*n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = ar_alloc(a, *n + 1);
	protobuf_c_message_pack(m, b);
	return b;
}

typedef struct tally {
	size_t records, same, refused, wrong;
} tally;

/* pbw_filter over b[0..n) against protobuf-c's reading of it. */
static void filter_check(const ProtobufCMessageDescriptor *d, const uint8_t *b, size_t n, tally *t,
                         ar_arena *a)
{
	uint8_t *out = ar_alloc(a, n + 1);
	size_t got = pbw_filter(b, n, 0, out);
	ProtobufCMessage *theirs = protobuf_c_message_unpack(d, ar_pbc(a), n, b);
	if (got == (size_t)-1) {
		t->refused++;
		if (theirs != NULL && t->wrong++ < 3) /* well-formed for protobuf-c, not for us */
			fprintf(stderr, "  %s, %zu bytes: pbw_filter refuses what protobuf-c reads\n",
			        d->name, n);
		return;
	}
	if ((got != n || memcmp(out, b, n) != 0) && t->wrong++ < 3)
		fprintf(stderr, "  %s, %zu bytes: pbw_filter changed them with nothing to drop\n", d->name,
		        n);
	else
		t->same++;
}

static void whole_cut_flipped(const ProtobufCMessage *rec, void *ctx)
{
	tally *t = ctx;
	ar_arena a;
	ar_init(&a);
	size_t n;
	uint8_t *b = pack(rec, &n, &a);
	t->records++;
	for (size_t cut = 0; cut <= n; cut++)
		filter_check(rec->descriptor, b, cut, t, &a);
	uint8_t *x = ar_alloc(&a, n + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(x, b, n);
		x[i] ^= 0x80; /* a varint's continuation bit, a length, a tag's wire type */
		filter_check(rec->descriptor, x, n, t, &a);
		x[i] = (uint8_t)(b[i] ^ 0x07);
		filter_check(rec->descriptor, x, n, t, &a);
	}
	ar_free(&a);
}

static void each_record(const Annals__V1__Dataset *ds, void (*fn)(const ProtobufCMessage *, void *),
                        void *ctx)
{
	for (size_t i = 0; i < ds->n_documents; i++)
		fn(&ds->documents[i]->base, ctx);
	for (size_t i = 0; i < ds->n_entities; i++)
		fn(&ds->entities[i]->base, ctx);
	for (size_t i = 0; i < ds->n_relations; i++)
		fn(&ds->relations[i]->base, ctx);
	for (size_t i = 0; i < ds->n_events; i++)
		fn(&ds->events[i]->base, ctx);
}

static void test_filter_bad_bytes(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__Dataset *ds = load_dataset(&a);
	if (ds != NULL) {
		tally t = {0};
		each_record(ds, whole_cut_flipped, &t);
		fprintf(stderr, "  %zu records: %zu kept whole, %zu refused, %zu wrong\n", t.records, t.same,
		        t.refused, t.wrong);
		CHECK(t.records > 50);
		CHECK_EQ_INT(t.wrong, 0);
		CHECK(t.refused > t.records); /* the cuts did break records */
	}
	ar_free(&a);
}

static void test_filter_and_splice(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__Dataset *ds = load_dataset(&a);
	size_t checked = 0;
	for (size_t i = 0; ds != NULL && i < ds->n_relations; i++) {
		Annals__V1__Relation *r = ds->relations[i];
		size_t n;
		uint8_t *b = pack(&r->base, &n, &a);
		uint8_t *f = ar_alloc(&a, n + 1);
		size_t fn = pbw_filter(b, n, (uint64_t)1 << 7, f); /* without evidence */
		CHECK(fn != (size_t)-1);
		Annals__V1__Relation *lean = annals__v1__relation__unpack(ar_pbc(&a), fn, f);
		CHECK(lean != NULL);
		if (lean == NULL)
			continue;
		Annals__V1__Relation bare = *r; /* the relation as it would be without evidence */
		bare.n_evidence = 0;
		bare.evidence = NULL;
		size_t bn, ln;
		uint8_t *bb = pack(&bare.base, &bn, &a), *lb = pack(&lean->base, &ln, &a);
		CHECK(bn == ln && memcmp(bb, lb, bn) == 0);
		CHECK(r->n_evidence == 0 || fn < n);
		/* the whole relation spliced into a fact reads back as the relation */
		Annals__V1__RelationFact fact = ANNALS__V1__RELATION_FACT__INIT;
		fact.reason = "why";
		pbw_splice(&a, &fact.base, "relation", b, n);
		size_t pn;
		uint8_t *pb = pack(&fact.base, &pn, &a);
		Annals__V1__RelationFact *back = annals__v1__relation_fact__unpack(ar_pbc(&a), pn, pb);
		CHECK(back != NULL && back->relation != NULL && back->base.n_unknown_fields == 0);
		if (back != NULL && back->relation != NULL) {
			size_t rn;
			uint8_t *rb = pack(&back->relation->base, &rn, &a);
			CHECK(rn == n && memcmp(rb, b, n) == 0);
			CHECK_EQ_STR(back->reason, "why");
		}
		checked++;
	}
	CHECK(checked > 10);
	CHECK_EQ_INT(pbw_filter((const uint8_t *)"\x0a\x05", 2, 0, (uint8_t[2]){0}), (size_t)-1); /* cut */
	/* items of a repeated field: in the order spliced, and many of them */
	Annals__V1__EntityPage page = ANNALS__V1__ENTITY_PAGE__INIT;
	size_t items = ds != NULL ? ds->n_entities : 0;
	for (size_t i = 0; i < items; i++) {
		size_t n;
		uint8_t *b = pack(&ds->entities[i]->base, &n, &a);
		pbw_splice_item(&a, &page.base, "entities", b, n);
	}
	size_t pn;
	uint8_t *pb = pack(&page.base, &pn, &a);
	Annals__V1__EntityPage *back = annals__v1__entity_page__unpack(ar_pbc(&a), pn, pb);
	CHECK(back != NULL);
	if (back != NULL) {
		CHECK_EQ_INT(back->n_entities, items);
		for (size_t i = 0; i < back->n_entities && i < items; i++)
			CHECK_EQ_STR(back->entities[i]->id, ds->entities[i]->id);
	}
	ar_free(&a);
}

int main(void)
{
	RUN(test_filter_bad_bytes);
	RUN(test_filter_and_splice);
	return CHECK_DONE();
}

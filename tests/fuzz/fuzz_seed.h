/*
 * The built-in data set for fuzz targets and the seed generator: parsed
 * from data/seed/dataset.json (path compiled in as FUZZ_SEED_JSON;
 * $ANNALS_SEED_JSON overrides it) and turned into one Batch, in the order
 * src/server/seed.c uses.
 */
#ifndef ANNALS_FUZZ_SEED_H
#define ANNALS_FUZZ_SEED_H

#include <stdio.h>
#include <stdlib.h>

#include "annals/annals.h"
#include "common/arena.h"
#include "common/file.h"
#include "common/pbjson.h"

#ifndef FUZZ_SEED_JSON
#define FUZZ_SEED_JSON "data/seed/dataset.json"
#endif

static inline Annals__V1__Dataset *fz_load_dataset(ar_arena *a)
{
	const char *path = getenv("ANNALS_SEED_JSON");
	if (path == NULL || *path == '\0')
		path = FUZZ_SEED_JSON;
	size_t len = 0;
	char *text = file_read_all(path, 64u << 20, &len);
	if (text == NULL) {
		fprintf(stderr, "fuzz: cannot read the data set %s\n", path);
		abort();
	}
	char err[512] = "";
	Annals__V1__Dataset *d = (Annals__V1__Dataset *)pbjson_parse(&annals__v1__dataset__descriptor, text,
	                                                             len, a, err, sizeof(err));
	free(text);
	if (d == NULL) {
		fprintf(stderr, "fuzz: %s does not parse: %s\n", path, err);
		abort();
	}
	return d;
}

static inline Annals__V1__Op *fz_op(ar_arena *a, Annals__V1__Op__OpCase c, void *rec)
{
	Annals__V1__Op *op = AR_NEW(a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	op->op_case = c;
	switch (c) {
	case ANNALS__V1__OP__OP_PUT_ENTITY:
		op->put_entity = rec;
		break;
	case ANNALS__V1__OP__OP_PUT_EVENT:
		op->put_event = rec;
		break;
	case ANNALS__V1__OP__OP_PUT_RELATION:
		op->put_relation = rec;
		break;
	case ANNALS__V1__OP__OP_PUT_DOCUMENT:
		op->put_document = rec;
		break;
	case ANNALS__V1__OP__OP_DELETE:
		op->delete_ = rec;
		break;
	default:
		break;
	}
	return op;
}

/* Documents, events, entities, relations: anchors exist before the
 * records citing them (as src/server/seed.c does). */
static inline void fz_dataset_batch(ar_arena *a, const Annals__V1__Dataset *d, Annals__V1__BatchRequest *b)
{
	for (size_t i = 0; i < d->n_documents; i++)
		AR_PUSH(a, b->ops, b->n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_DOCUMENT, d->documents[i]));
	for (size_t i = 0; i < d->n_events; i++)
		AR_PUSH(a, b->ops, b->n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_EVENT, d->events[i]));
	for (size_t i = 0; i < d->n_entities; i++)
		AR_PUSH(a, b->ops, b->n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_ENTITY, d->entities[i]));
	for (size_t i = 0; i < d->n_relations; i++)
		AR_PUSH(a, b->ops, b->n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_RELATION, d->relations[i]));
}

#endif

/* ds_ — see dataset.h. */
#include "common/dataset.h"

static void ds_put(ar_arena *a, Annals__V1__BatchRequest *b, Annals__V1__Op__OpCase which, void *rec)
{
	Annals__V1__Op *op = AR_NEW(a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	op->op_case = which;
	switch (which) {
	case ANNALS__V1__OP__OP_PUT_ENTITY: op->put_entity = rec; break;
	case ANNALS__V1__OP__OP_PUT_EVENT: op->put_event = rec; break;
	case ANNALS__V1__OP__OP_PUT_RELATION: op->put_relation = rec; break;
	default: op->put_document = rec; break;
	}
	AR_PUSH(a, b->ops, b->n_ops, op);
}

Annals__V1__BatchRequest *ds_batch(ar_arena *a, const Annals__V1__Dataset *ds)
{
	Annals__V1__BatchRequest *b = AR_NEW(a, Annals__V1__BatchRequest, ANNALS__V1__BATCH_REQUEST__INIT);
	for (size_t i = 0; i < ds->n_documents; i++)
		ds_put(a, b, ANNALS__V1__OP__OP_PUT_DOCUMENT, ds->documents[i]);
	for (size_t i = 0; i < ds->n_entities; i++)
		ds_put(a, b, ANNALS__V1__OP__OP_PUT_ENTITY, ds->entities[i]);
	for (size_t i = 0; i < ds->n_relations; i++)
		ds_put(a, b, ANNALS__V1__OP__OP_PUT_RELATION, ds->relations[i]);
	for (size_t i = 0; i < ds->n_events; i++)
		ds_put(a, b, ANNALS__V1__OP__OP_PUT_EVENT, ds->events[i]);
	return b;
}

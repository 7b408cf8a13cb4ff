/*
 * The built-in data: on first start (an empty store) annalsd loads the
 * embedded data set as one Batch, through the same st_apply as every other
 * write, so it lands atomically with revision 1 and appears in the change
 * feed like any import.
 */
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/log.h"
#include "common/pbjson.h"
#include "server/server.h"

extern const char annals_seed_json[];
extern const size_t annals_seed_json_len;

static void seed_op(ar_arena *a, Annals__V1__BatchRequest *b, Annals__V1__Op__OpCase c, void *rec)
{
	Annals__V1__Op *op = AR_NEW(a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	op->op_case = c;
	switch (c) {
	case ANNALS__V1__OP__OP_PUT_ENTITY: op->put_entity = rec; break;
	case ANNALS__V1__OP__OP_PUT_EVENT: op->put_event = rec; break;
	case ANNALS__V1__OP__OP_PUT_RELATION: op->put_relation = rec; break;
	case ANNALS__V1__OP__OP_PUT_DOCUMENT: op->put_document = rec; break;
	default: break;
	}
	AR_PUSH(a, b->ops, b->n_ops, op);
}

/* Documents first, then events, so anchors of relative dates exist when
 * the records citing them are resolved (st_apply also re-resolves later). */
static void seed_batch(ar_arena *a, const Annals__V1__Dataset *d, Annals__V1__BatchRequest *b)
{
	for (size_t i = 0; i < d->n_documents; i++)
		seed_op(a, b, ANNALS__V1__OP__OP_PUT_DOCUMENT, d->documents[i]);
	for (size_t i = 0; i < d->n_events; i++)
		seed_op(a, b, ANNALS__V1__OP__OP_PUT_EVENT, d->events[i]);
	for (size_t i = 0; i < d->n_entities; i++)
		seed_op(a, b, ANNALS__V1__OP__OP_PUT_ENTITY, d->entities[i]);
	for (size_t i = 0; i < d->n_relations; i++)
		seed_op(a, b, ANNALS__V1__OP__OP_PUT_RELATION, d->relations[i]);
}

int srv_seed_load(srv_server *s)
{
	ar_arena a;
	ar_init(&a);
	char err[512] = "";
	int rc = -1;
	Annals__V1__Dataset *d = (Annals__V1__Dataset *)pbjson_parse(
		&annals__v1__dataset__descriptor, annals_seed_json, annals_seed_json_len, &a, err, sizeof(err));
	if (d == NULL) {
		log_msg(LOG_ERROR, "seed_invalid", "problem=\"%s\"", err);
		goto out;
	}
	Annals__V1__BatchRequest batch = ANNALS__V1__BATCH_REQUEST__INIT;
	seed_batch(&a, d, &batch);
	st_write w = {.op = ST_BATCH, .req = &batch.base, .request_id = "annals-seed-v1"};
	st_options limits = *st_limits(s->store);
	limits.max_batch_ops = (unsigned)batch.n_ops; /* the seed is one atomic batch, whatever its size */
	st_err verr = {0};
	if (st_validate(&w, &limits, &verr) != ANNALS_OK) {
		log_msg(LOG_ERROR, "seed_invalid", "problem=\"%s\"", verr.msg);
		goto out;
	}
	if (st_apply(s->store, &w, 1) != ANNALS_OK || w.code != ANNALS_OK) {
		log_msg(LOG_ERROR, "seed_failed", "code=%s problem=\"%s\"", annals_status_name(w.code), w.msg);
		free(w.reply);
		goto out;
	}
	free(w.reply);
	log_msg(LOG_INFO, "seed_loaded", "documents=%zu entities=%zu relations=%zu events=%zu revision=%llu",
	        d->n_documents, d->n_entities, d->n_relations, d->n_events,
	        (unsigned long long)w.revision);
	rc = 0;
out:
	ar_free(&a);
	return rc;
}

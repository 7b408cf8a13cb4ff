/*
 * st_q_check_references — CheckReferences: the dangling references of the
 * store (a full pass over every record, O(store): for operators, after an
 * upgrade or before a migration), or those a Batch would leave (import's
 * dry run: every problem of a file at once, before anything is written,
 * by the same judgement the write path applies; see refs_check.c).
 */
#include <string.h>

#include "store/query.h"
#include "store/refs.h"

#define CK_LIMIT 1000

typedef struct ck_reply {
	ar_arena *a;
	Annals__V1__CheckReferencesReply *out;
	size_t limit;
} ck_reply;

static int ck_report(void *ctx, const rf_dangling *d)
{
	ck_reply *c = ctx;
	c->out->dangling++;
	if (c->out->n_references >= c->limit)
		return 0; /* counted, not listed */
	Annals__V1__DanglingReference *r =
	    AR_NEW(c->a, Annals__V1__DanglingReference, ANNALS__V1__DANGLING_REFERENCE__INIT);
	r->kind = (Annals__V1__RecordKind)d->kind;
	r->record = ar_strdup(c->a, d->record);
	r->field = ar_strdup(c->a, d->path);
	r->target = ar_strdup(c->a, d->target);
	r->problem = ar_strdup(c->a, d->problem);
	r->op = (uint32_t)d->op;
	r->by_delete = d->by_delete;
	AR_PUSH(c->a, c->out->references, c->out->n_references, r);
	return 0;
}

ST_QUERY(check_references, CheckReferencesRequest, CheckReferencesReply)
{
	ck_reply c = {.a = a, .out = out, .limit = in->limit && in->limit < CK_LIMIT ? in->limit : CK_LIMIT};
	out->revision = st_txn_revision(t);
	if (in->batch == NULL)
		return rf_check_store(t, a, ck_report, &c, &out->records, err);
	/* the checks a Batch gets before it is applied, so the paths match */
	st_write w = {.op = ST_BATCH, .req = &in->batch->base};
	st_err verr = {0};
	if (st_validate_records(&w, &verr) != ANNALS_OK)
		return st_errf(err, verr.code, "batch.%s", verr.msg);
	out->records = in->batch->n_ops;
	return rf_check_ops(t, (const Annals__V1__Op *const *)in->batch->ops, in->batch->n_ops, a, ck_report,
	                    &c, err);
}

/*
 * st_validate — checks a write before it reaches the writer: the records
 * (through val_, with full field paths), the request's shape, the Batch size
 * and the request id. Pure: no store access.
 */
#include <stdio.h>
#include <string.h>

#include "common/validate.h"
#include "store/store_int.h"

static int vw_fail(st_err *err, const char *msg)
{
	return st_errf(err, ANNALS_INVALID_ARGUMENT, "%s", msg);
}

/* The record of a Put request, checked to be the message its kind says. */
static int vw_put(const st_write *w, st_err *err)
{
	char msg[sizeof(err->msg)] = "";
	const ProtobufCMessage *r = w->req;
	int rc = -1;
	switch (w->kind) {
	case ST_ENTITY:
		if (r->descriptor == &annals__v1__put_entity_request__descriptor)
			rc = val_entity(((const Annals__V1__PutEntityRequest *)r)->entity, "entity", msg,
			                sizeof(msg));
		break;
	case ST_EVENT:
		if (r->descriptor == &annals__v1__put_event_request__descriptor)
			rc = val_event(((const Annals__V1__PutEventRequest *)r)->event, "event", msg,
			               sizeof(msg));
		break;
	case ST_RELATION:
		if (r->descriptor == &annals__v1__put_relation_request__descriptor)
			rc = val_relation(((const Annals__V1__PutRelationRequest *)r)->relation, "relation",
			                  msg, sizeof(msg));
		break;
	case ST_DOCUMENT:
		if (r->descriptor == &annals__v1__put_document_request__descriptor)
			rc = val_document(((const Annals__V1__PutDocumentRequest *)r)->document, "document",
			                  msg, sizeof(msg));
		break;
	}
	if (rc == 0)
		return ANNALS_OK;
	if (msg[0] == '\0') /* the caller paired a kind with the wrong message: a bug */
		return st_errf(err, ANNALS_INTERNAL, "store: put of kind %d with a %s", (int)w->kind,
		               r->descriptor->name);
	return vw_fail(err, msg);
}

static int vw_op(const Annals__V1__Op *op, size_t i, char *msg, size_t len)
{
	char path[64];
	switch (op->op_case) {
	case ANNALS__V1__OP__OP_PUT_ENTITY:
		snprintf(path, sizeof(path), "ops[%zu].put_entity", i);
		return val_entity(op->put_entity, path, msg, len);
	case ANNALS__V1__OP__OP_PUT_EVENT:
		snprintf(path, sizeof(path), "ops[%zu].put_event", i);
		return val_event(op->put_event, path, msg, len);
	case ANNALS__V1__OP__OP_PUT_RELATION:
		snprintf(path, sizeof(path), "ops[%zu].put_relation", i);
		return val_relation(op->put_relation, path, msg, len);
	case ANNALS__V1__OP__OP_PUT_DOCUMENT:
		snprintf(path, sizeof(path), "ops[%zu].put_document", i);
		return val_document(op->put_document, path, msg, len);
	case ANNALS__V1__OP__OP_DELETE:
		/* kind RECORD_KIND_UNSPECIFIED: delete whatever record holds the id */
		snprintf(path, sizeof(path), "ops[%zu].delete.kind", i);
		if ((int)op->delete_->kind < 0 || (int)op->delete_->kind > ST_DOCUMENT) {
			snprintf(msg, len, "%s: %d is not a RecordKind", path, (int)op->delete_->kind);
			return -1;
		}
		snprintf(path, sizeof(path), "ops[%zu].delete.id", i);
		return val_id(op->delete_->id, path, msg, len);
	default:
		snprintf(msg, len,
		         "ops[%zu]: no operation set (put_entity, put_event, put_relation, "
		         "put_document or delete)",
		         i);
		return -1;
	}
}

static int vw_batch(const st_write *w, st_err *err)
{
	const Annals__V1__BatchRequest *b = (const void *)w->req;
	if (w->req->descriptor != &annals__v1__batch_request__descriptor)
		return st_errf(err, ANNALS_INTERNAL, "store: batch with a %s", w->req->descriptor->name);
	if (b->n_ops == 0)
		return vw_fail(err, "ops: empty Batch; give at least one operation");
	char msg[sizeof(err->msg)];
	for (size_t i = 0; i < b->n_ops; i++) {
		if (vw_op(b->ops[i], i, msg, sizeof(msg)) != 0)
			return vw_fail(err, msg);
	}
	return ANNALS_OK;
}

static int vw_delete(const st_write *w, st_err *err)
{
	if (w->req->descriptor != &annals__v1__delete_request__descriptor || !rec_kind_ok((int)w->kind))
		return st_errf(err, ANNALS_INTERNAL, "store: delete of kind %d with a %s", (int)w->kind,
		               w->req->descriptor->name);
	char msg[sizeof(err->msg)];
	const Annals__V1__DeleteRequest *d = (const void *)w->req;
	return val_id(d->id, "id", msg, sizeof(msg)) == 0 ? ANNALS_OK : vw_fail(err, msg);
}

int st_validate_records(const st_write *w, st_err *err)
{
	if (w->req == NULL)
		return st_errf(err, ANNALS_INTERNAL, "store: write without a request");
	switch (w->op) {
	case ST_PUT:
		return vw_put(w, err);
	case ST_DELETE:
		return vw_delete(w, err);
	case ST_BATCH:
		return vw_batch(w, err);
	case ST_BULK: /* its records were checked as its parts were staged */
		return w->bulk != NULL ? ANNALS_OK
		                       : st_errf(err, ANNALS_INTERNAL, "store: bulk write without a load");
	}
	return st_errf(err, ANNALS_INTERNAL, "store: unknown write op %d", (int)w->op);
}

int st_validate(const st_write *w, const st_options *limits, st_err *err)
{
	unsigned max_ops = limits && limits->max_batch_ops ? limits->max_batch_ops : VAL_MAX_REPEATED;
	if (w->request_id != NULL && strlen(w->request_id) > VAL_REQUEST_ID_MAX)
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "request_id: %zu bytes; at most %d",
		               strlen(w->request_id), VAL_REQUEST_ID_MAX);
	if (w->op == ST_BATCH && w->req != NULL &&
	    w->req->descriptor == &annals__v1__batch_request__descriptor) {
		const Annals__V1__BatchRequest *b = (const void *)w->req;
		if (b->n_ops > max_ops)
			return st_errf(err, ANNALS_INVALID_ARGUMENT,
			               "ops: %zu operations; at most %u in one Batch", b->n_ops, max_ops);
	}
	return st_validate_records(w, err);
}

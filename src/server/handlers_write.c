/*
 * Write handlers: check the request here, on the worker's thread, so a bad
 * write never costs the writer a slot; then park the worker on the writer
 * queue. The answer leaves after the group's commit is durable.
 */
#include <string.h>

#include "annals/annals.h"
#include "server/server.h"

typedef Annals__V1__Annals_Service svc_t;

#define SRV_REQUEST_ID_MAX 128

static void write_submit(srv_worker *w, st_op op, st_kind kind, const void *req)
{
	if (w->request_id == NULL || w->request_id[0] == '\0') {
		srv_fail(w, ANNALS_INVALID_ARGUMENT,
		         "request_id: required for writes (a unique id per write, reused on resends)");
		return;
	}
	if (strlen(w->request_id) > SRV_REQUEST_ID_MAX) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "request_id: longer than %d bytes", SRV_REQUEST_ID_MAX);
		return;
	}
	memset(&w->write, 0, sizeof(w->write));
	w->write.op = op;
	w->write.kind = kind;
	w->write.req = req;
	w->write.request_id = w->request_id;
	st_err err = {0};
	int rc = st_validate(&w->write, st_limits(w->srv->store), &err);
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "%s", err.msg);
		return;
	}
	w->write.validated = true;
	srv_writer_submit(w->srv, w);
}

#define SRV_PUT_HANDLER(fn, Req, kind)                                                                       \
	void annals_h_##fn(svc_t *svc, const Annals__V1__##Req *in, Annals__V1__WriteReply_Closure done,     \
	                   void *cd)                                                                         \
	{                                                                                                    \
		(void)svc;                                                                                   \
		(void)done;                                                                                  \
		write_submit(cd, ST_PUT, kind, in);                                                          \
	}
#define SRV_DELETE_HANDLER(fn, kind)                                                                         \
	void annals_h_##fn(svc_t *svc, const Annals__V1__DeleteRequest *in,                                  \
	                   Annals__V1__WriteReply_Closure done, void *cd)                                    \
	{                                                                                                    \
		(void)svc;                                                                                   \
		(void)done;                                                                                  \
		write_submit(cd, ST_DELETE, kind, in);                                                       \
	}

SRV_PUT_HANDLER(put_entity, PutEntityRequest, ST_ENTITY)
SRV_PUT_HANDLER(put_event, PutEventRequest, ST_EVENT)
SRV_PUT_HANDLER(put_relation, PutRelationRequest, ST_RELATION)
SRV_PUT_HANDLER(put_document, PutDocumentRequest, ST_DOCUMENT)
SRV_DELETE_HANDLER(delete_entity, ST_ENTITY)
SRV_DELETE_HANDLER(delete_event, ST_EVENT)
SRV_DELETE_HANDLER(delete_relation, ST_RELATION)
SRV_DELETE_HANDLER(delete_document, ST_DOCUMENT)

void annals_h_batch(svc_t *svc, const Annals__V1__BatchRequest *in, Annals__V1__BatchReply_Closure done,
                    void *cd)
{
	(void)svc;
	(void)done;
	write_submit(cd, ST_BATCH, 0, in);
}

/*
 * Write handlers: check the request here, on the worker's thread, so a bad
 * write never costs the writer a slot; then park the worker on the writer
 * queue. The answer leaves after the group's commit is durable.
 */
#include <string.h>

#include "annals/annals.h"
#include "server/server.h"

void srv_write_submit(srv_worker *w, st_op op, st_kind kind, const void *req)
{
	if (w->request_id == NULL || w->request_id[0] == '\0') {
		srv_fail(w, ANNALS_INVALID_ARGUMENT,
		         "request_id: required for writes (a unique id per write, reused on resends)");
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
	if (w->srv->cluster != NULL)
		srv_cluster_submit(w->srv, w); /* through the log; answered once applied here */
	else
		srv_writer_submit(w->srv, w);
}

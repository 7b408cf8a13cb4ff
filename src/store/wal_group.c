/*
 * wal_group — one write transaction of the group path as a log record
 * (WalGroup, proto/annals/v1/wal.proto) and back: everything apply_group
 * reads besides the store itself, so redoing the record gives the same
 * state (wal.h, point 5).
 */
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "annals/v1/wal.pb-c.h"
#include "store/store_int.h"
#include "store/wal.h"

static const ProtobufCMessageDescriptor *wal_request_descriptor(uint32_t op, uint32_t kind)
{
	switch (op) {
	case ST_PUT:
		switch (kind) {
		case ST_ENTITY:
			return &annals__v1__put_entity_request__descriptor;
		case ST_EVENT:
			return &annals__v1__put_event_request__descriptor;
		case ST_RELATION:
			return &annals__v1__put_relation_request__descriptor;
		case ST_DOCUMENT:
			return &annals__v1__put_document_request__descriptor;
		default:
			return NULL;
		}
	case ST_DELETE:
		return &annals__v1__delete_request__descriptor;
	case ST_BATCH:
		return &annals__v1__batch_request__descriptor;
	default:
		return NULL;
	}
}

uint8_t *wal_group_pack(uint64_t txn, int64_t now_ms, uint64_t log_revision, const st_write *w, size_t n,
                        ar_arena *a, size_t *len)
{
	Annals__V1__WalWrite *ww = n ? ar_alloc(a, n * sizeof(*ww)) : NULL;
	Annals__V1__WalWrite **pw = n ? ar_alloc(a, n * sizeof(*pw)) : NULL;
	if (n && (ww == NULL || pw == NULL))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		annals__v1__wal_write__init(&ww[i]);
		ww[i].op = (uint32_t)w[i].op;
		ww[i].kind = (uint32_t)w[i].kind;
		ww[i].request_id = (char *)(w[i].request_id ? w[i].request_id : "");
		ww[i].expired = w[i].expired;
		ww[i].validated = w[i].validated;
		ww[i].log_time_ms = w[i].log_time_ms;
		size_t rl = w[i].req ? protobuf_c_message_get_packed_size(w[i].req) : 0;
		uint8_t *rb = ar_alloc(a, rl ? rl : 1);
		if (rb == NULL)
			return NULL;
		if (rl)
			protobuf_c_message_pack(w[i].req, rb);
		ww[i].request.data = rb;
		ww[i].request.len = rl;
		pw[i] = &ww[i];
	}
	Annals__V1__WalGroup g = ANNALS__V1__WAL_GROUP__INIT;
	g.txn = txn;
	g.time_ms = now_ms;
	g.log_revision = log_revision;
	g.writes = pw;
	g.n_writes = n;
	*len = protobuf_c_message_get_packed_size(&g.base);
	uint8_t *out = ar_alloc(a, *len ? *len : 1);
	if (out != NULL)
		protobuf_c_message_pack(&g.base, out);
	return out;
}

int wal_group_unpack(const uint8_t *p, size_t len, wal_group *g, st_err *err)
{
	memset(g, 0, sizeof(*g));
	Annals__V1__WalGroup *m = annals__v1__wal_group__unpack(NULL, len, p);
	if (m == NULL)
		return st_errf(err, ANNALS_DATA_LOSS,
		               "store: a write-ahead log record does not decode; move the data directory "
		               "aside and restore a backup");
	g->msg = m;
	g->now_ms = m->time_ms;
	g->log_revision = m->log_revision;
	g->w = calloc(m->n_writes ? m->n_writes : 1, sizeof(*g->w));
	if (g->w == NULL) {
		wal_group_free(g);
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: out of memory");
	}
	for (size_t i = 0; i < m->n_writes; i++) {
		const Annals__V1__WalWrite *ww = m->writes[i];
		const ProtobufCMessageDescriptor *d = wal_request_descriptor(ww->op, ww->kind);
		ProtobufCMessage *req =
		    d ? protobuf_c_message_unpack(d, NULL, ww->request.len, ww->request.data) : NULL;
		if (req == NULL) {
			wal_group_free(g);
			return st_errf(
			    err, ANNALS_DATA_LOSS,
			    "store: a write in the write-ahead log (op %u, kind %u) does not decode", ww->op,
			    ww->kind);
		}
		st_write *w = &g->w[g->n++];
		w->req = req;
		w->op = (st_op)ww->op;
		w->kind = (st_kind)ww->kind;
		w->request_id = ww->request_id;
		w->expired = ww->expired;
		w->validated = ww->validated; /* our own record: checked when it was first applied */
		w->log_time_ms = ww->log_time_ms;
	}
	return ANNALS_OK;
}

void wal_group_free(wal_group *g)
{
	for (size_t i = 0; g->w != NULL && i < g->n; i++) {
		st_write_clear(&g->w[i]);
		protobuf_c_message_free_unpacked((ProtobufCMessage *)g->w[i].req, NULL);
	}
	free(g->w);
	if (g->msg != NULL)
		annals__v1__wal_group__free_unpacked(g->msg, NULL);
	memset(g, 0, sizeof(*g));
}

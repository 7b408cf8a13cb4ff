/*
 * srv_call — the server's half of the method table (annals/methods.h).
 *
 * One row of ANNALS_METHODS gives one entry of srv_calls[]: the row's
 * `impl` column says how the call is answered, so the handlers of the
 * same shape (queries, record gets, puts, deletes) are written once here
 * and a method whose impl is OWN needs srv_h_<fn>() in handlers_*.c —
 * a missing one is a link error, never a NULL pointer at run time.
 */
#include "annals/annals.h"
#include "common/envelope.h"
#include "server/server.h"
#include "knowledge/knowledge.h"
#include "store/query.h"

typedef void (*srv_call_fn)(srv_worker *w, const ProtobufCMessage *in);

/* OWN: a handler of its own. */
#define SRV_IMPL_OWN(M, fn, Req, Rep, record)                                                                \
	void srv_h_##fn(srv_worker *w, const Annals__V1__##Req *in);                                         \
	static void srv_call_##fn(srv_worker *w, const ProtobufCMessage *in)                                 \
	{                                                                                                    \
		srv_h_##fn(w, (const Annals__V1__##Req *)in);                                                \
	}

/* QUERY: snapshot, the query engine's function, reply (or the query's error). */
#define SRV_IMPL_QUERY_(M, fn, Req, Rep, query_fn)                                                           \
	static void srv_call_##fn(srv_worker *w, const ProtobufCMessage *in)                                 \
	{                                                                                                    \
		if (srv_read_begin(w) != ANNALS_OK)                                                          \
			return;                                                                              \
		Annals__V1__##Rep out;                                                                       \
		protobuf_c_message_init(env_method(ANNALS_METHOD_##M)->output, &out);                        \
		st_err err = {0};                                                                            \
		int rc = query_fn(w->txn, (const Annals__V1__##Req *)in, &w->arena, &out, &err);             \
		if (rc != ANNALS_OK && st_txn_expired(w->txn))                                               \
			srv_fail(                                                                            \
			    w, ANNALS_DEADLINE_EXCEEDED,                                                     \
			    "deadline of %llu ms passed while the query ran; it was stopped (narrow the "    \
			    "query, or give it more time)",                                                  \
			    (unsigned long long)(w->deadline_ms - w->received_ms));                          \
		else if (rc != ANNALS_OK)                                                                    \
			srv_fail(w, rc, "%s", err.msg);                                                      \
		else                                                                                         \
			srv_worker_reply_msg(w, &out.base);                                                  \
	}

/* QUERY rows: the knowledge engine; LIST rows: the store's record queries. */
#define SRV_IMPL_QUERY(M, fn, Req, Rep, record) SRV_IMPL_QUERY_(M, fn, Req, Rep, kn_q_##fn)
#define SRV_IMPL_LIST(M, fn, Req, Rep, record)  SRV_IMPL_QUERY_(M, fn, Req, Rep, st_q_##fn)

/* GET: the stored record's bytes are the packed reply. */
#define SRV_IMPL_GET(M, fn, Req, Rep, record)                                                                \
	static void srv_call_##fn(srv_worker *w, const ProtobufCMessage *in)                                 \
	{                                                                                                    \
		srv_read_record(w, ST_##record, ((const Annals__V1__GetRequest *)in)->id);                   \
	}

/* PUT, DELETE, BATCH: checked here, then the writer queue. */
#define SRV_IMPL_PUT(M, fn, Req, Rep, record)                                                                \
	static void srv_call_##fn(srv_worker *w, const ProtobufCMessage *in)                                 \
	{                                                                                                    \
		srv_write_submit(w, ST_PUT, ST_##record, in);                                                \
	}
#define SRV_IMPL_DELETE(M, fn, Req, Rep, record)                                                             \
	static void srv_call_##fn(srv_worker *w, const ProtobufCMessage *in)                                 \
	{                                                                                                    \
		srv_write_submit(w, ST_DELETE, ST_##record, in);                                             \
	}
#define SRV_IMPL_BATCH(M, fn, Req, Rep, record)                                                              \
	static void srv_call_##fn(srv_worker *w, const ProtobufCMessage *in)                                 \
	{                                                                                                    \
		srv_write_submit(w, ST_BATCH, 0, in);                                                        \
	}

/* BULK: parts staged by its own handler (bulk.c), the commit queued as a write. */
#define SRV_IMPL_BULK(M, fn, Req, Rep, record) SRV_IMPL_OWN(M, fn, Req, Rep, record)

#define SRV_IMPL_ROW(M, fn, Req, Rep, flags, impl, record) SRV_IMPL_##impl(M, fn, Req, Rep, record)
ANNALS_METHODS(SRV_IMPL_ROW)
#undef SRV_IMPL_ROW

static const srv_call_fn srv_calls[ANNALS_METHOD_COUNT] = {
#define SRV_CALLS_ROW(M, fn, Req, Rep, flags, impl, record) [ANNALS_METHOD_##M] = srv_call_##fn,
    ANNALS_METHODS(SRV_CALLS_ROW)
#undef SRV_CALLS_ROW
};

bool srv_has_handler(int method)
{
	return method >= 0 && method < ANNALS_METHOD_COUNT && srv_calls[method] != NULL;
}

void srv_call(srv_worker *w, const ProtobufCMessage *in)
{
	srv_calls[w->method](w, in);
}

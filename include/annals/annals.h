/*
 * libannals — the C client of the annals entity-and-event registry.
 *
 * One opaque handle per server; one function per RPC, plus a generic call
 * by method name. Requests and replies are the protobuf-c messages
 * generated from proto/annals/v1 (installed under <annals/v1/>). Every call
 * returns a status code (the gRPC canonical set) and, on error, fills a
 * human-readable message into the caller's annals_error. Replies are freed
 * with annals_free(). Many threads may call through one client at once:
 * each call in flight uses its own nng context.
 *
 *   annals_client *c;
 *   annals_error err;
 *   if (annals_open(&c, "tcp://127.0.0.1:7700", NULL, &err) != ANNALS_OK) ...
 *   Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
 *   req.id = "org:csto";
 *   Annals__V1__Entity *e;
 *   if (annals_get_entity(c, &req, &e, &err) == ANNALS_OK) { ...; annals_free(e); }
 *   annals_close(c);
 */
#ifndef ANNALS_ANNALS_H
#define ANNALS_ANNALS_H

#include <stddef.h>
#include <stdint.h>

#include "annals/methods.h"
#include "annals/v1/model.pb-c.h"
#include "annals/v1/service.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gRPC canonical status codes, same numbers and meanings. */
typedef enum annals_status {
	ANNALS_OK = 0,
	ANNALS_CANCELLED = 1,
	ANNALS_UNKNOWN = 2,
	ANNALS_INVALID_ARGUMENT = 3,
	ANNALS_DEADLINE_EXCEEDED = 4,
	ANNALS_NOT_FOUND = 5,
	ANNALS_ALREADY_EXISTS = 6,
	ANNALS_PERMISSION_DENIED = 7,
	ANNALS_RESOURCE_EXHAUSTED = 8,
	ANNALS_FAILED_PRECONDITION = 9,
	ANNALS_ABORTED = 10,
	ANNALS_OUT_OF_RANGE = 11,
	ANNALS_UNIMPLEMENTED = 12,
	ANNALS_INTERNAL = 13,
	ANNALS_UNAVAILABLE = 14,
	ANNALS_DATA_LOSS = 15,
	ANNALS_UNAUTHENTICATED = 16,
} annals_status;

/* "NOT_FOUND" for ANNALS_NOT_FOUND; "UNKNOWN" for values out of range. */
const char *annals_status_name(int code);
/* Parses "NOT_FOUND" (or "not_found") back; -1 when it is no status name. */
int annals_status_from_name(const char *name);

typedef struct annals_error {
	int code;          /* annals_status */
	char message[512]; /* why; empty on success */
} annals_error;

typedef struct annals_client annals_client;

typedef struct annals_options {
	uint32_t timeout_ms;       /* per call, 0: default 5000 */
	const char *token;         /* bearer token, or NULL */
	size_t max_message_bytes;  /* largest reply accepted, 0: 64 MiB */
	const char *tls_ca_file;   /* required for tls+tcp:// URLs: the CA of the server's certificate */
	const char *tls_cert_file; /* client certificate (mutual TLS) */
	const char *tls_key_file;
	const char *tls_server_name; /* the name the certificate must carry; default: the URL's host
	                              * (matched against DNS entries and CN, not IP entries) */
	int connect_async;           /* 1: annals_open returns at once and connects in the
	                              * background (calls wait for it up to their timeout) */
	int read_your_writes;        /* 1: every read asks for (waits for) the store revision of this
	                              * client's latest acknowledged write, on whichever node answers */
} annals_options;

/* url: one server, or a comma-separated list of the nodes of a cluster
 * ("tcp://a:7700,tcp://b:7700": calls go to any of them and fail over).
 * opts may be NULL. */
int annals_open(annals_client **out, const char *url, const annals_options *opts, annals_error *err);
void annals_close(annals_client *c);

/* Frees any reply returned by this library. NULL is fine. */
void annals_free(void *reply);

/* A fresh request id ("r-" and 32 hex digits), for callers that retry a
 * write themselves and want the server to apply it only once. */
void annals_new_request_id(char out[40]);

typedef struct annals_call_opts {
	uint32_t timeout_ms;    /* 0: the client's default */
	const char *request_id; /* NULL: a fresh one is made for each call */
	uint64_t min_revision;  /* reads: answer at this store revision or later (the node waits
	                         * for it within the timeout, else UNAVAILABLE) */
	int linearizable;       /* reads, cluster mode: see every write acknowledged anywhere before
	                         * the call (a quorum read of etcd, then wait to apply it) */
} annals_call_opts;

/* The generic call: method is "annals.v1.Annals/<Method>" or just
 * "<Method>". The reply's type is the method's output descriptor. */
int annals_call(annals_client *c, const char *method, const ProtobufCMessage *request,
                ProtobufCMessage **reply, const annals_call_opts *opts, annals_error *err);

/* Raw envelope call for tools that build their own bodies: sends body as
 * the request of `method`, returns the reply body (malloc'd: free it with
 * free(), not annals_free, which is for unpacked messages). */
int annals_call_raw(annals_client *c, const char *method, const void *body, size_t len, void **reply_body,
                    size_t *reply_len, const annals_call_opts *opts, annals_error *err);

/* One function per RPC, one per row of the method table (annals/methods.h):
 * int annals_<fn>(annals_client *, const Annals__V1__<Request> *,
 *                 Annals__V1__<Reply> **reply, annals_error *). */
#define ANNALS_RPC_DECL(M, fn, Req, Rep, flags, impl, record)                                                \
	int annals_##fn(annals_client *c, const Annals__V1__##Req *req, Annals__V1__##Rep **reply,           \
	                annals_error *err);
ANNALS_METHODS(ANNALS_RPC_DECL)
#undef ANNALS_RPC_DECL

/* A server's hot backup (FetchSnapshot; its admin token when it has
 * tokens) saved as dir/data.mdb here, chunk by chunk: annalsd --data dir
 * then serves the same records. dir must not hold a store; *revision: the
 * copy's store revision; progress (may be NULL) after every chunk. */
typedef void (*annals_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int annals_snapshot_save(annals_client *c, const char *dir, uint64_t *revision, annals_progress_fn progress,
                         void *ctx, annals_error *err);

/*
 * Following the change feed: every committed change set after `since`, in
 * revision order, exactly once, through reconnects and server restarts.
 * With publish_url the follower also subscribes to the server's PUB socket
 * for low latency, and fills any gap (PUB may drop) from the Changes RPC.
 */
typedef struct annals_follow_opts {
	uint64_t since;          /* deliver revisions > since */
	const char *publish_url; /* the server's --publish URL, or NULL for long polls only */
	uint32_t wait_ms;        /* long-poll wait per call; 0: 10000 */
	int kind;                /* Changes filter (annals.v1.RecordKind), 0: all */
	const char *id;          /* Changes filter: one record id, or NULL */
	volatile int *stop;      /* set *stop non-zero (e.g. from a signal handler) to return */
} annals_follow_opts;

/* Called once per change set; return non-zero to stop following. */
typedef int (*annals_change_fn)(void *ctx, const Annals__V1__ChangeSet *changes);

/* Returns ANNALS_OK when stopped by the callback or *stop; OUT_OF_RANGE
 * when `since` is older than the retained history (err says the oldest
 * revision available: re-read what you need and follow from there);
 * other errors only when they cannot be retried (e.g. UNAUTHENTICATED).
 * Transport errors are retried with backoff. */
int annals_follow(annals_client *c, const annals_follow_opts *opts, annals_change_fn fn, void *ctx,
                  annals_error *err);

#ifdef __cplusplus
}
#endif
#endif

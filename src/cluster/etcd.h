/*
 * ed_ — a small client of etcd v3's JSON gateway (etcd 3.4: POST /v3/...),
 * over libcurl: the few calls cluster mode needs, nothing more.
 *
 * Why the gateway and not gRPC: etcd's .proto files drag in gogoproto and
 * Google's HTTP annotations, and grpc's C core has no code generator; the
 * gateway speaks the same API as JSON with base64 keys and values, and a
 * watch is one long HTTP response of newline-separated JSON objects. It
 * costs etcd more CPU per put than gRPC (measured ~60% by the cluster
 * issue); the log batches several writes into one entry to pay for that.
 *
 * Every call tries each endpoint in turn, starting from the last one that
 * answered, with a short per-try timeout: a request sent to a dead leader is
 * dropped silently by etcd, so a try that does not answer quickly moves on.
 * A timeout does NOT mean the request failed (etcd may have committed it):
 * callers that put retry the same bytes and rely on apply-time dedup.
 *
 * An ed_client is used by one thread at a time (one curl handle inside).
 */
#ifndef ANNALS_CLUSTER_ETCD_H
#define ANNALS_CLUSTER_ETCD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED_MAX_ENDPOINTS 8

typedef struct ed_client ed_client;

typedef struct ed_err {
	int code; /* annals_status: UNAVAILABLE (no endpoint answered), DEADLINE_EXCEEDED,
	           * FAILED_PRECONDITION (a compare failed), OUT_OF_RANGE (compacted), INTERNAL */
	char msg[320];
} ed_err;

/* endpoints: "host:port[,host:port...]" (an "etcd://" or "http://" in front
 * is accepted). try_ms: the per-try timeout of unary calls. */
int ed_open(const char *endpoints, uint32_t try_ms, ed_client **out, ed_err *err);
void ed_close(ed_client *c);

/* Put key=value (with a lease when lease != 0); *revision: the revision
 * etcd gave it. Tries every endpoint until one answers or deadline_ms
 * (CLOCK_MONOTONIC ms; 0: one round over the endpoints) passes. */
int ed_put(ed_client *c, const char *key, const void *val, size_t len, int64_t lease, uint64_t *revision,
           uint64_t deadline_ms, ed_err *err);

/* In one etcd transaction: if `guard` does not exist yet, put guard=gval
 * and key=val. *created: whether it did; *revision: the revision of that
 * transaction, or etcd's current one when the guard existed. */
int ed_put_if_absent(ed_client *c, const char *guard, const char *gval, const char *key, const void *val,
                     size_t len, bool *created, uint64_t *revision, uint64_t deadline_ms, ed_err *err);

/* Deletes one key. */
int ed_delete(ed_client *c, const char *key, ed_err *err);

/* The mod_revision of one key (0: it does not exist) and etcd's current
 * revision, without its value (keys_only): a linearizable read. */
int ed_key_revision(ed_client *c, const char *key, uint64_t *mod_revision, uint64_t *revision, ed_err *err);

/* Every key under prefix with its value (for node keys): calls fn for each;
 * fn's key/value are valid during the call only. */
typedef void (*ed_kv_fn)(void *ctx, const char *key, const uint8_t *val, size_t len, uint64_t mod_revision);
int ed_range_prefix(ed_client *c, const char *prefix, ed_kv_fn fn, void *ctx, ed_err *err);

/* Every endpoint asked for its own status (no failover: each answers for
 * itself): whether it answered, whether it is the leader, its version and
 * database size. Returns how many endpoints there are (up to max). */
typedef struct ed_member {
	char endpoint[128];
	bool healthy;
	bool leader;
	char version[32];
	uint64_t db_size;
	char error[160];
} ed_member;
int ed_members(ed_client *c, ed_member *out, int max);

/* A lease of ttl_s seconds; ed_keepalive refreshes it once. */
int ed_lease_grant(ed_client *c, int ttl_s, int64_t *lease, ed_err *err);
int ed_keepalive(ed_client *c, int64_t lease, ed_err *err);

/* Compacts etcd's history below revision (physical: false). */
int ed_compact(ed_client *c, uint64_t revision, ed_err *err);

/* Watches one key from start_revision: for every response that carries
 * events, fn(ctx, events, n, header_revision) is called with the events in
 * revision order. Returns when fn returns non-zero (ANNALS_OK), when
 * *stop becomes true (checked at least every second), or when the stream
 * fails (UNAVAILABLE: the caller reconnects from where it got to) or was
 * compacted (OUT_OF_RANGE; *compact_revision then says below what).
 * *stop is also how another thread makes a silent stream (a member that
 * was SIGSTOPped answers nothing, not even an error) start again. */
typedef struct ed_event {
	uint64_t mod_revision;
	const uint8_t *value; /* decoded from base64; valid during the call */
	size_t len;
	bool deleted;
} ed_event;
typedef int (*ed_watch_fn)(void *ctx, const ed_event *ev, size_t n, uint64_t header_revision);
int ed_watch(ed_client *c, const char *key, uint64_t start_revision, ed_watch_fn fn, void *ctx,
             atomic_bool *stop, uint64_t *compact_revision, ed_err *err);

#endif

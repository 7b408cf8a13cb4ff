/*
 * cl_ — cluster mode's replicated log: the writes of every node, put to
 * etcd under <prefix>/log and applied by every node, in etcd's order,
 * through st_apply_log. It knows the store, etcd (etcd.h) and the method
 * table; it knows nothing of nng or workers: the server hands it writes
 * with a tag and gets the tags back through cl_hooks, with the outcome in
 * the write, once this node's store has committed them.
 *
 * Keys under the prefix:
 *   <prefix>/log           every LogEntry (cluster.proto), one etcd revision each
 *   <prefix>/seeded        who put the built-in data set (put with it, in one Txn)
 *   <prefix>/nodes/<name>  a node's JSON {name, listen, applied, version} on a lease
 */
#ifndef ANNALS_CLUSTER_LOG_H
#define ANNALS_CLUSTER_LOG_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/etcd.h"
#include "store/store.h"

typedef struct cl_log cl_log;

typedef struct cl_hooks {
	void *ctx;
	/* These writes have their outcome in their st_write, after a durable
	 * commit on this node (or a failed one while stopping): answer them. */
	void (*answer)(void *ctx, void *const *tags, int n);
	/* This write was not applied here, or its fate is unknown (message says). */
	void (*refuse)(void *ctx, void *tag, int code, const char *message);
	/* A commit of n writes landed: the change feed, long polls, metrics. */
	void (*committed)(void *ctx, unsigned n);
	/* A quorum read for linearizable reads completed (cl_read_done may now say so). */
	void (*read_index)(void *ctx);
} cl_hooks;

typedef struct cl_config {
	const char *endpoints;   /* "etcd://host:port,host:port" */
	const char *node;        /* --node-name */
	const char *prefix;      /* --cluster-prefix */
	const char *listen;      /* the node's first listen URL, for the node registry */
	int max_queued;          /* writes waiting for a proposal (RESOURCE_EXHAUSTED past it) */
	uint64_t keep_revisions; /* compaction keeps this many etcd revisions below the slowest live node */
	uint32_t compact_ms;     /* how often the first live node looks at compacting */
	st_store *store;
	/* The built-in data set (a BatchRequest) and its request id: proposed
	 * once per registry, when this node's store is empty. NULL: none. */
	const ProtobufCMessage *seed;
	const char *seed_request_id;
	cl_hooks hooks;
} cl_config;

/* Starts the proposer, applier and status threads. err: why not. */
int cl_open(const cl_config *cfg, cl_log **out, char *err, size_t errlen);
/* Stops; every write still waiting is refused (UNAVAILABLE). */
void cl_close(cl_log *cl);

/* Queues w (checked by st_validate; w->request_id set) of method-table row
 * `method` for the log. ANNALS_OK: tag comes back through a hook, exactly
 * once. Otherwise a refusal code with msg; the tag is not kept. */
int cl_submit(cl_log *cl, st_write *w, int method, void *tag, char *msg, size_t len);

typedef struct cl_state {
	uint64_t applied;      /* the etcd revision of the last entry applied here */
	uint64_t log_revision; /* the log key's etcd revision when last read (at most ~1 s old) */
	bool caught_up;        /* etcd answered lately and nothing it holds is unapplied */
	bool compacted;        /* the log was compacted past what this node applied: restore it */
} cl_state;
void cl_state_get(cl_log *cl, cl_state *out);

/* Linearizable reads, batched as etcd's own ReadIndex is: cl_read_ticket
 * asks for a quorum read of the log key that starts after now (one thread
 * serves every ticket asked meanwhile with one etcd round trip, never a
 * caller's thread); cl_read_done is true once one has completed, with the
 * log's etcd revision it found — the caller waits until applied reaches it. */
uint64_t cl_read_ticket(cl_log *cl);
bool cl_read_done(cl_log *cl, uint64_t ticket, uint64_t *log_revision);

/* The nodes in the registry (live: their lease holds), as last read (~3 s). */
typedef struct cl_node {
	char name[104];
	char listen[200];
	char version[32];
	uint64_t applied;
} cl_node;
/* Copies up to max nodes into out; returns how many there are. */
int cl_nodes(cl_log *cl, cl_node *out, int max);

/* etcd's members as the status thread last asked them (~3 s), the same way. */
int cl_members(cl_log *cl, ed_member *out, int max);

#endif

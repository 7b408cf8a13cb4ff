/*
 * cl_restore — a new node's store from a peer's hot backup, fetched over the
 * connection in chunks (FetchSnapshot), before the store is opened: how a
 * node joins a cluster whose etcd log was compacted, or replaces a lost one.
 */
#ifndef ANNALS_CLUSTER_RESTORE_H
#define ANNALS_CLUSTER_RESTORE_H

#include <stddef.h>
#include <stdint.h>

/* When dir holds no data.mdb: fetches a snapshot from urls (one peer, or a
 * list) with token (the peer's admin token, or NULL) into dir/data.mdb,
 * written under another name, fsynced and renamed. *revision: the copy's
 * store revision (0 when nothing was fetched: dir had a store already).
 * Returns 0, or -1 with why in err. */
int cl_restore(const char *urls, const char *token, const char *dir, uint64_t *revision, char *err,
               size_t len);

#endif

/*
 * kn_ — the knowledge engine: the temporal queries behind Timeline,
 * Resolve, NameAt, Relations, History, Members, Holder, Succession,
 * Evidence and Facts, and Digest (a hash over every record).
 *
 * It reads through the store's read interface only (store/read.h: a
 * snapshot, record gets and index scans) and never writes; it knows no
 * transport and no method. Every query has the same shape: a read
 * snapshot, the request, an arena to build the reply in, the reply to
 * fill. Returns an annals_status; on error err->msg says why, naming the
 * field. Entities may be given by id or by any of their names; an
 * ambiguous name is INVALID_ARGUMENT listing the candidates.
 */
#ifndef ANNALS_KNOWLEDGE_KNOWLEDGE_H
#define ANNALS_KNOWLEDGE_KNOWLEDGE_H

#include "annals/v1/service.pb-c.h"
#include "common/arena.h"
#include "store/read.h"

#define KN_QUERY(fn, Req, Rep)                                                                               \
	int kn_q_##fn(st_txn *t, const Annals__V1__##Req *in, ar_arena *a, Annals__V1__##Rep *out,           \
	              st_err *err)

/* digest.c: sha256 of every record (for comparing replicas) */
KN_QUERY(digest, DigestRequest, DigestReply);

/* knowledge.c and friends: the temporal model */
KN_QUERY(timeline, TimelineRequest, TimelineReply);
KN_QUERY(resolve, ResolveRequest, ResolveReply);
KN_QUERY(name_at, NameAtRequest, NameAtReply);
KN_QUERY(relations, RelationsRequest, RelationsReply);
KN_QUERY(history, HistoryRequest, RelationsReply);
KN_QUERY(members, MembersRequest, MembersReply);
KN_QUERY(holder, HolderRequest, HolderReply);
KN_QUERY(succession, SuccessionRequest, SuccessionReply);
KN_QUERY(evidence, EvidenceRequest, EvidenceReply);
KN_QUERY(facts, FactsRequest, FactsReply);

/* heads.c: the calling thread's cache of decoded relations is emptied
 * when over its budget. Only where no reply being built points into it:
 * the server calls it as each call ends, on the call's thread. */
void kh_release(void);

#endif

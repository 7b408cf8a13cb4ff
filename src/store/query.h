/*
 * st_q_ — the read queries behind the read RPCs.
 *
 * Every query has the same shape: a read snapshot, the request, an arena
 * to build the reply in, the reply to fill. Returns an annals_status; on
 * error err->msg says why, naming the field. Entities may be given by id or
 * by any of their names; an ambiguous name is INVALID_ARGUMENT listing the
 * candidates.
 */
#ifndef ANNALS_STORE_QUERY_H
#define ANNALS_STORE_QUERY_H

#include "store/store.h"

#define ST_QUERY(fn, Req, Rep) \
	int st_q_##fn(st_txn *t, const Annals__V1__##Req *in, ar_arena *a, Annals__V1__##Rep *out, st_err *err)

/* query_records.c: plain record queries */
ST_QUERY(list_entities, ListEntitiesRequest, EntityPage);
ST_QUERY(find_entities, FindEntitiesRequest, EntityPage);
ST_QUERY(list_events, ListEventsRequest, EventPage);
ST_QUERY(list_relations, ListRelationsRequest, RelationPage);
ST_QUERY(list_documents, ListDocumentsRequest, DocumentPage);
ST_QUERY(changes, ChangesRequest, ChangesReply);

/* digest.c: sha256 of every record (for comparing replicas) */
ST_QUERY(digest, DigestRequest, DigestReply);

/* query_knowledge.c and friends: the knowledge model */
ST_QUERY(timeline, TimelineRequest, TimelineReply);
ST_QUERY(resolve, ResolveRequest, ResolveReply);
ST_QUERY(name_at, NameAtRequest, NameAtReply);
ST_QUERY(relations, RelationsRequest, RelationsReply);
ST_QUERY(history, HistoryRequest, RelationsReply);
ST_QUERY(members, MembersRequest, MembersReply);
ST_QUERY(holder, HolderRequest, HolderReply);
ST_QUERY(succession, SuccessionRequest, SuccessionReply);
ST_QUERY(evidence, EvidenceRequest, EvidenceReply);
ST_QUERY(facts, FactsRequest, FactsReply);

/* Entity by id, or by a unique name (case-insensitive). On ambiguity:
 * INVALID_ARGUMENT "<field>: 'CST' is ambiguous: org:csto (...), treaty:cst (...)";
 * unknown: NOT_FOUND. `field` names the request field for messages. */
int st_entity_ref(st_txn *t, const char *ref, const char *field, ar_arena *a,
                  Annals__V1__Entity **out, st_err *err);

#endif

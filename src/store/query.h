/*
 * st_q_ — the record queries behind the read RPCs that list records and
 * follow the change log: index walks with resume keys (page tokens are
 * store keys), so they live with the keys. The knowledge queries are kn_q_
 * in src/knowledge/knowledge.h.
 */
#ifndef ANNALS_STORE_QUERY_H
#define ANNALS_STORE_QUERY_H

#include "annals/v1/service.pb-c.h"
#include "store/read.h"

#define ST_QUERY(fn, Req, Rep)                                                                               \
	int st_q_##fn(st_txn *t, const Annals__V1__##Req *in, ar_arena *a, Annals__V1__##Rep *out,           \
	              st_err *err)

/* query_records.c: record lists, name search, the change log */
ST_QUERY(list_entities, ListEntitiesRequest, EntityPage);
ST_QUERY(find_entities, FindEntitiesRequest, EntityPage);
ST_QUERY(list_events, ListEventsRequest, EventPage);
ST_QUERY(list_relations, ListRelationsRequest, RelationPage);
ST_QUERY(list_documents, ListDocumentsRequest, DocumentPage);
ST_QUERY(changes, ChangesRequest, ChangesReply);

/* query_check.c: references that name no record (the store's, or a Batch's) */
ST_QUERY(check_references, CheckReferencesRequest, CheckReferencesReply);

#endif

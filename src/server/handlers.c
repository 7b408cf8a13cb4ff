/*
 * The service vtable: protoc-c's ANNALS__V1__ANNALS__INIT names one
 * handler per RPC (annals_h_<method>), so a method without a handler is a
 * link error, not a NULL pointer at run time.
 */
#include "server/server.h"

#define H(T, fn, Req, Rep)                                                                    \
	void annals_h_##fn(Annals__V1__Annals_Service *, const Annals__V1__##Req *,              \
	                   Annals__V1__##Rep##_Closure, void *);
H(_, health, HealthRequest, HealthReply)
H(_, server_info, ServerInfoRequest, ServerInfoReply)
H(_, get_entity, GetRequest, Entity)
H(_, put_entity, PutEntityRequest, WriteReply)
H(_, delete_entity, DeleteRequest, WriteReply)
H(_, list_entities, ListEntitiesRequest, EntityPage)
H(_, find_entities, FindEntitiesRequest, EntityPage)
H(_, get_event, GetRequest, Event)
H(_, put_event, PutEventRequest, WriteReply)
H(_, delete_event, DeleteRequest, WriteReply)
H(_, list_events, ListEventsRequest, EventPage)
H(_, timeline, TimelineRequest, TimelineReply)
H(_, get_relation, GetRequest, Relation)
H(_, put_relation, PutRelationRequest, WriteReply)
H(_, delete_relation, DeleteRequest, WriteReply)
H(_, list_relations, ListRelationsRequest, RelationPage)
H(_, get_document, GetRequest, Document)
H(_, put_document, PutDocumentRequest, WriteReply)
H(_, delete_document, DeleteRequest, WriteReply)
H(_, list_documents, ListDocumentsRequest, DocumentPage)
H(_, batch, BatchRequest, BatchReply)
H(_, resolve, ResolveRequest, ResolveReply)
H(_, name_at, NameAtRequest, NameAtReply)
H(_, relations, RelationsRequest, RelationsReply)
H(_, history, HistoryRequest, RelationsReply)
H(_, members, MembersRequest, MembersReply)
H(_, holder, HolderRequest, HolderReply)
H(_, succession, SuccessionRequest, SuccessionReply)
H(_, evidence, EvidenceRequest, EvidenceReply)
H(_, facts, FactsRequest, FactsReply)
H(_, changes, ChangesRequest, ChangesReply)
H(_, stats, StatsRequest, StatsReply)
H(_, backup, BackupRequest, BackupReply)
#undef H

void srv_handlers_init(Annals__V1__Annals_Service *svc)
{
	Annals__V1__Annals_Service init = ANNALS__V1__ANNALS__INIT(annals_h_);
	*svc = init;
}

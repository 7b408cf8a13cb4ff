/*
 * The method table: the one place that says what each method of
 * `service Annals` (proto/annals/v1/service.proto) is.
 *
 * ANNALS_METHODS(X) expands X once per method, in the .proto's order:
 *
 *   X(Method, fn, Request, Reply, flags, impl, record)
 *
 *   Method   the RPC's name ("annals.v1.Annals/<Method>" on the wire)
 *   fn       the C name: annals_<fn>() in the client library
 *   Request  the request message (Annals__V1__<Request>)
 *   Reply    the reply message (Annals__V1__<Reply>)
 *   flags    ANNALS_M_* below, checked in one place by the server
 *   impl     how the server answers it, and so which module: QUERY (the
 *            knowledge engine's kn_q_<fn> over a snapshot, src/knowledge),
 *            LIST (the store's record query st_q_<fn>: index walks with
 *            page tokens, src/store), GET (the stored record's bytes), PUT,
 *            DELETE, BATCH (the writer queue), BULK (parts staged by
 *            srv_h_<fn>, the commit through the writer queue), OWN (a
 *            handler of its own, srv_h_<fn>)
 *   record   ENTITY, EVENT, RELATION, DOCUMENT for GET/PUT/DELETE, else NONE
 *
 * Everything else derives from this list, as libuv's UV_ERRNO_MAP does:
 * the client library's functions and their declarations, the server's
 * dispatch table, auth, the drain rule, the reply cache, ServerInfo's
 * method list (and so the CLI's `info`), the fuzz dictionary and seeds.
 * tests/unit/test_methods.c fails when a method of the service has no row,
 * a row has no method or handler, or the README's RPC table misses one.
 *
 * Adding an RPC: the message and rpc line in the .proto, one row here, its
 * handler (nothing for QUERY beyond the query function), its CLI command,
 * its tests.
 */
#ifndef ANNALS_METHODS_H
#define ANNALS_METHODS_H

/* What a method is. The server derives everything it decides about a call
 * from these bits (src/server/dispatch.c, dispatch_policy). */
#define ANNALS_M_READ      0x01u /* reads the store; any valid token (reader role) */
#define ANNALS_M_WRITE     0x02u /* changes the store: writer role, needs request_id, refused while draining */
#define ANNALS_M_ADMIN     0x04u /* operator action: admin role (with WRITE: a write only admins make) */
#define ANNALS_M_NO_TOKEN  0x08u /* answers without a token (liveness probes) */
#define ANNALS_M_CACHEABLE 0x10u /* the answer is a function of the request bytes and the snapshot */
#define ANNALS_M_LONG_POLL 0x20u /* may wait for a later commit: parked outside the in-flight bound */

#define ANNALS_M_QUERY (ANNALS_M_READ | ANNALS_M_CACHEABLE)

/* clang-format off */
#define ANNALS_METHODS(X) \
	X(Health,         health,          HealthRequest,        HealthReply,     ANNALS_M_READ | ANNALS_M_NO_TOKEN, OWN,    NONE)     \
	X(ServerInfo,     server_info,     ServerInfoRequest,    ServerInfoReply, ANNALS_M_READ,       OWN,    NONE)     \
	X(GetEntity,      get_entity,      GetRequest,           Entity,          ANNALS_M_READ,       GET,    ENTITY)   \
	X(PutEntity,      put_entity,      PutEntityRequest,     WriteReply,      ANNALS_M_WRITE,      PUT,    ENTITY)   \
	X(DeleteEntity,   delete_entity,   DeleteRequest,        WriteReply,      ANNALS_M_WRITE,      DELETE, ENTITY)   \
	X(ListEntities,   list_entities,   ListEntitiesRequest,  EntityPage,      ANNALS_M_QUERY,      LIST,   NONE)     \
	X(FindEntities,   find_entities,   FindEntitiesRequest,  EntityPage,      ANNALS_M_QUERY,      LIST,   NONE)     \
	X(GetEvent,       get_event,       GetRequest,           Event,           ANNALS_M_READ,       GET,    EVENT)    \
	X(PutEvent,       put_event,       PutEventRequest,      WriteReply,      ANNALS_M_WRITE,      PUT,    EVENT)    \
	X(DeleteEvent,    delete_event,    DeleteRequest,        WriteReply,      ANNALS_M_WRITE,      DELETE, EVENT)    \
	X(ListEvents,     list_events,     ListEventsRequest,    EventPage,       ANNALS_M_QUERY,      LIST,   NONE)     \
	X(Timeline,       timeline,        TimelineRequest,      TimelineReply,   ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(GetRelation,    get_relation,    GetRequest,           Relation,        ANNALS_M_READ,       GET,    RELATION) \
	X(PutRelation,    put_relation,    PutRelationRequest,   WriteReply,      ANNALS_M_WRITE,      PUT,    RELATION) \
	X(DeleteRelation, delete_relation, DeleteRequest,        WriteReply,      ANNALS_M_WRITE,      DELETE, RELATION) \
	X(ListRelations,  list_relations,  ListRelationsRequest, RelationPage,    ANNALS_M_QUERY,      LIST,   NONE)     \
	X(GetDocument,    get_document,    GetRequest,           Document,        ANNALS_M_READ,       GET,    DOCUMENT) \
	X(PutDocument,    put_document,    PutDocumentRequest,   WriteReply,      ANNALS_M_WRITE,      PUT,    DOCUMENT) \
	X(DeleteDocument, delete_document, DeleteRequest,        WriteReply,      ANNALS_M_WRITE,      DELETE, DOCUMENT) \
	X(ListDocuments,  list_documents,  ListDocumentsRequest, DocumentPage,    ANNALS_M_QUERY,      LIST,   NONE)     \
	X(Batch,          batch,           BatchRequest,         BatchReply,      ANNALS_M_WRITE,      BATCH,  NONE)     \
	X(Resolve,        resolve,         ResolveRequest,       ResolveReply,    ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(NameAt,         name_at,         NameAtRequest,        NameAtReply,     ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Relations,      relations,       RelationsRequest,     RelationsReply,  ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(History,        history,         HistoryRequest,       RelationsReply,  ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Members,        members,         MembersRequest,       MembersReply,    ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Holder,         holder,          HolderRequest,        HolderReply,     ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Succession,     succession,      SuccessionRequest,    SuccessionReply, ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Evidence,       evidence,        EvidenceRequest,      EvidenceReply,   ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Facts,          facts,           FactsRequest,         FactsReply,      ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(Changes,        changes,         ChangesRequest,       ChangesReply,    ANNALS_M_READ | ANNALS_M_LONG_POLL, OWN, NONE) \
	X(Stats,          stats,           StatsRequest,         StatsReply,      ANNALS_M_READ,       OWN,    NONE)     \
	X(Backup,         backup,          BackupRequest,        BackupReply,     ANNALS_M_ADMIN,      OWN,    NONE)     \
	X(Digest,         digest,          DigestRequest,        DigestReply,     ANNALS_M_QUERY,      QUERY,  NONE)     \
	X(FetchSnapshot,  fetch_snapshot,  FetchSnapshotRequest, FetchSnapshotReply, ANNALS_M_ADMIN,   OWN,    NONE)     \
	X(CheckReferences, check_references, CheckReferencesRequest, CheckReferencesReply, ANNALS_M_READ, LIST, NONE) \
	X(BulkLoad,       bulk_load,       BulkLoadRequest,      BulkLoadReply,   ANNALS_M_WRITE | ANNALS_M_ADMIN, BULK, NONE)
/* clang-format on */

/* ANNALS_METHOD_<Method>: a method's index, the same as in the service
 * descriptor (the unit test checks the order). */
enum annals_method {
#define ANNALS_METHOD_ENUM_(M, fn, Req, Rep, flags, impl, record) ANNALS_METHOD_##M,
	ANNALS_METHODS(ANNALS_METHOD_ENUM_)
#undef ANNALS_METHOD_ENUM_
	    ANNALS_METHOD_COUNT
};

#endif

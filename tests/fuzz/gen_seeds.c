/*
 * gen_seeds — writes the seed corpora of the fuzz targets from valid
 * messages (`make fuzz-seeds`; the output is committed):
 *
 *   OUT/envelope/     one packed annals.v1.Call per method (and a few more),
 *                     bodies built from records of the built-in data set
 *   OUT/json_import/  small data sets as JSON (a few records each)
 *   OUT/date/         "<text>\0<fields>" inputs of fuzz_date
 *   OUT/../envelope.dict  method names and ids, for libFuzzer's -dict
 *
 * usage: gen_seeds OUT_DIR
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "annals/annals.h"
#include "common/arena.h"
#include "common/date.h"
#include "common/envelope.h"
#include "common/pbjson.h"

#include "fuzz_seed.h"

static const char *out_dir;
static int n_written;

static void write_file(const char *sub, const char *name, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", out_dir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, sub, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	n_written++;
}

/* ---- envelope ----------------------------------------------------------------- */

static void call_seed(const char *name, const char *method, const ProtobufCMessage *body,
                      const char *request_id)
{
	int mi = env_method_index(method);
	if (mi < 0 || env_method(mi)->input != body->descriptor) {
		fprintf(stderr, "gen_seeds: %s does not take a %s\n", method, body->descriptor->name);
		exit(1);
	}
	size_t blen = protobuf_c_message_get_packed_size(body);
	uint8_t *b = malloc(blen + 1);
	protobuf_c_message_pack(body, b);
	char full[128];
	snprintf(full, sizeof(full), "%s%s", ENV_METHOD_PREFIX, method);
	Annals__V1__Call call = ANNALS__V1__CALL__INIT;
	call.method = full;
	call.body.data = b;
	call.body.len = blen;
	call.timeout_ms = 5000;
	call.request_id = (char *)(request_id ? request_id : "");
	size_t n = annals__v1__call__get_packed_size(&call);
	uint8_t *buf = malloc(n);
	annals__v1__call__pack(&call, buf);
	write_file("envelope", name, buf, n);
	free(buf);
	free(b);
}

static Annals__V1__Date *day(ar_arena *a, const char *text)
{
	Annals__V1__Date *d = AR_NEW(a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	char msg[100];
	if (date_parse(text, d, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "gen_seeds: %s\n", msg);
		exit(1);
	}
	/* clients send dates unresolved: the server fills these in */
	d->resolved = 0;
	d->earliest = d->latest = 0;
	return d;
}

static void envelope_reads(ar_arena *a, const Annals__V1__Dataset *d)
{
	Annals__V1__HealthRequest health = ANNALS__V1__HEALTH_REQUEST__INIT;
	call_seed("health", "Health", &health.base, NULL);
	Annals__V1__ServerInfoRequest info = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	call_seed("server_info", "ServerInfo", &info.base, NULL);

	Annals__V1__GetRequest get = ANNALS__V1__GET_REQUEST__INIT;
	get.id = "org:csto";
	call_seed("get_entity", "GetEntity", &get.base, NULL);
	get.id = d->events[0]->id;
	call_seed("get_event", "GetEvent", &get.base, NULL);
	get.id = d->relations[0]->id;
	call_seed("get_relation", "GetRelation", &get.base, NULL);
	get.id = d->documents[0]->id;
	call_seed("get_document", "GetDocument", &get.base, NULL);

	Annals__V1__ListEntitiesRequest le = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	le.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION;
	le.page_size = 3;
	call_seed("list_entities", "ListEntities", &le.base, NULL);
	le.type = 0;
	le.name_prefix = "Col";
	le.page_token = "org:cis";
	call_seed("list_entities_prefix", "ListEntities", &le.base, NULL);

	Annals__V1__FindEntitiesRequest fe = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
	fe.name = "CSTO";
	call_seed("find_entities", "FindEntities", &fe.base, NULL);
	fe.name = "coll";
	fe.prefix = 1;
	fe.limit = 5;
	call_seed("find_entities_prefix", "FindEntities", &fe.base, NULL);
	/* the fuzz store's entity with 10,000 aliases (fuzz_envelope's cost bound) */
	fe.name = "alias-0";
	call_seed("find_entities_many_aliases", "FindEntities", &fe.base, NULL);
	le.name_prefix = "alias-";
	le.page_token = "";
	call_seed("list_entities_many_aliases", "ListEntities", &le.base, NULL);

	Annals__V1__ListEventsRequest lv = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	lv.participant = "org:csto";
	lv.from = day(a, "1990");
	lv.to = day(a, "2020-06");
	lv.page_size = 4;
	call_seed("list_events", "ListEvents", &lv.base, NULL);
	Annals__V1__ListEventsRequest lv2 = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	lv2.type = "meeting";
	lv2.status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED;
	call_seed("list_events_type", "ListEvents", &lv2.base, NULL);

	Annals__V1__TimelineRequest tl = ANNALS__V1__TIMELINE_REQUEST__INIT;
	tl.entity = "Stanislav Zas";
	tl.from = day(a, "2000-01-01");
	call_seed("timeline", "Timeline", &tl.base, NULL);

	Annals__V1__ListRelationsRequest lr = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	lr.subject = d->relations[0]->subject;
	lr.predicate = d->relations[0]->predicate;
	call_seed("list_relations", "ListRelations", &lr.base, NULL);

	Annals__V1__ListDocumentsRequest ld = ANNALS__V1__LIST_DOCUMENTS_REQUEST__INIT;
	ld.page_size = 10;
	call_seed("list_documents", "ListDocuments", &ld.base, NULL);

	Annals__V1__ResolveRequest rs = ANNALS__V1__RESOLVE_REQUEST__INIT;
	rs.name = "CSTO";
	rs.at = day(a, "2019-05-01");
	call_seed("resolve", "Resolve", &rs.base, NULL);

	Annals__V1__NameAtRequest na = ANNALS__V1__NAME_AT_REQUEST__INIT;
	na.entity = "org:csto";
	na.at = day(a, "2001");
	call_seed("name_at", "NameAt", &na.base, NULL);
	na.at = NULL;
	na.at_document = d->documents[0]->id;
	call_seed("name_at_document", "NameAt", &na.base, NULL);

	Annals__V1__RelationsRequest rl = ANNALS__V1__RELATIONS_REQUEST__INIT;
	rl.entity = "org:csto";
	rl.predicate = "member_of";
	rl.inverse = 1;
	rl.at = day(a, "2012-07");
	call_seed("relations", "Relations", &rl.base, NULL);

	Annals__V1__HistoryRequest hi = ANNALS__V1__HISTORY_REQUEST__INIT;
	hi.entity = d->relations[0]->subject;
	hi.predicate = d->relations[0]->predicate;
	call_seed("history", "History", &hi.base, NULL);

	Annals__V1__MembersRequest mb = ANNALS__V1__MEMBERS_REQUEST__INIT;
	mb.organization = "org:csto";
	mb.at = day(a, "2019-05-01");
	call_seed("members", "Members", &mb.base, NULL);
	mb.at = NULL;
	mb.at_document = d->documents[0]->id;
	call_seed("members_document", "Members", &mb.base, NULL);

	Annals__V1__HolderRequest ho = ANNALS__V1__HOLDER_REQUEST__INIT;
	ho.position = "position:csto-secretary-general";
	ho.at = day(a, "2020");
	call_seed("holder", "Holder", &ho.base, NULL);

	Annals__V1__SuccessionRequest su = ANNALS__V1__SUCCESSION_REQUEST__INIT;
	su.position = "position:csto-secretary-general";
	call_seed("succession", "Succession", &su.base, NULL);

	Annals__V1__EvidenceRequest ev = ANNALS__V1__EVIDENCE_REQUEST__INIT;
	ev.id = d->events[0]->id;
	call_seed("evidence", "Evidence", &ev.base, NULL);

	Annals__V1__FactsRequest fa = ANNALS__V1__FACTS_REQUEST__INIT;
	fa.document = d->documents[0]->id;
	fa.sentence = 1;
	call_seed("facts", "Facts", &fa.base, NULL);

	Annals__V1__ChangesRequest ch = ANNALS__V1__CHANGES_REQUEST__INIT;
	ch.limit = 2;
	ch.kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_ENTITY;
	call_seed("changes", "Changes", &ch.base, NULL);
}

static void envelope_writes(ar_arena *a, const Annals__V1__Dataset *d)
{
	Annals__V1__PutEntityRequest pe = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	pe.entity = d->entities[1];
	call_seed("put_entity", "PutEntity", &pe.base, "seed-put-entity");
	Annals__V1__Guard guard = ANNALS__V1__GUARD__INIT;
	guard.revision = 1;
	pe.guard = &guard;
	pe.entity = d->entities[3];
	call_seed("put_entity_guard", "PutEntity", &pe.base, "seed-put-entity-guard");

	Annals__V1__PutEventRequest pv = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	pv.event = d->events[0];
	call_seed("put_event", "PutEvent", &pv.base, "seed-put-event");
	Annals__V1__PutRelationRequest pr = ANNALS__V1__PUT_RELATION_REQUEST__INIT;
	pr.relation = d->relations[0];
	call_seed("put_relation", "PutRelation", &pr.base, "seed-put-relation");
	Annals__V1__PutDocumentRequest pd = ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT;
	pd.document = d->documents[0];
	call_seed("put_document", "PutDocument", &pd.base, "seed-put-document");

	Annals__V1__DeleteRequest del = ANNALS__V1__DELETE_REQUEST__INIT;
	del.id = "person:stanislav-zas";
	call_seed("delete_entity", "DeleteEntity", &del.base, "seed-del-1");
	del.id = d->events[1]->id;
	call_seed("delete_event", "DeleteEvent", &del.base, "seed-del-2");
	del.id = d->relations[1]->id;
	call_seed("delete_relation", "DeleteRelation", &del.base, "seed-del-3");
	del.id = d->documents[0]->id;
	call_seed("delete_document", "DeleteDocument", &del.base, "seed-del-4");

	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	AR_PUSH(a, b.ops, b.n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_ENTITY, d->entities[0]));
	AR_PUSH(a, b.ops, b.n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_EVENT, d->events[2]));
	AR_PUSH(a, b.ops, b.n_ops, fz_op(a, ANNALS__V1__OP__OP_PUT_RELATION, d->relations[2]));
	Annals__V1__RecordRef *ref = AR_NEW(a, Annals__V1__RecordRef, ANNALS__V1__RECORD_REF__INIT);
	ref->kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_EVENT;
	ref->id = d->events[3]->id;
	Annals__V1__Op *op = fz_op(a, ANNALS__V1__OP__OP_DELETE, ref);
	op->guard = &guard;
	AR_PUSH(a, b.ops, b.n_ops, op);
	call_seed("batch", "Batch", &b.base, "seed-batch");
}

/* Strings with a NUL inside (protobuf-c's C strings cannot show it, so
 * dispatch refuses them from the wire bytes): a request id and an entity
 * id, packed by hand since protobuf-c cannot pack such a string. */
static void envelope_nul_seeds(void)
{
	static const uint8_t put[] = {0x0a, 0x1a, 'a',  'n',  'n',  'a',  'l',  's', '.', 'v',
	                              '1',  '.',  'A',  'n',  'n',  'a',  'l',  's', '/', 'P',
	                              'u',  't',  'E',  'n',  't',  'i',  't',  'y', /* method */
	                              0x12, 0x16, 0x0a, 0x14, 0x0a, 0x10, 'o',  'r', 'g', ':',
	                              'c',  's',  't',  'o',  0x00, '-',  's',  'h', 'a', 'd',
	                              'o',  'w',  0x10, 0x02, /* body: entity {id "org:csto\0-shadow", type}
	                                                       */
	                              0x2a, 0x0b, 'j',  'o',  'b',  '7',  0x00, 'p', 'a', 'r',
	                              't',  '-',  'B'}; /* request_id "job7\0part-B" */
	write_file("envelope", "nul_strings", put, sizeof(put));
}

/* One seed per row of the method table with an empty request, so a method
 * added to the table is fuzzed from its first day (the hand-made seeds
 * above give the interesting bodies). */
static void envelope_every_method(ar_arena *a)
{
	const ProtobufCServiceDescriptor *sd = env_service();
	for (unsigned i = 0; i < sd->n_methods; i++) {
		const ProtobufCMethodDescriptor *md = &sd->methods[i];
		ProtobufCMessage *body = ar_alloc(a, md->input->sizeof_message);
		protobuf_c_message_init(md->input, body);
		char name[96];
		snprintf(name, sizeof(name), "empty_%s", md->name);
		call_seed(name, md->name, body, env_method_is_write((int)i) ? "seed-empty" : NULL);
	}
}

static void write_dict(void)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/../envelope.dict", out_dir);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f, "# libFuzzer dictionary for fuzz_envelope (written by gen_seeds)\n");
	const ProtobufCServiceDescriptor *sd = env_service();
	for (unsigned i = 0; i < sd->n_methods; i++) {
		fprintf(f, "\"%s%s\"\n", ENV_METHOD_PREFIX, sd->methods[i].name);
		fprintf(f, "\"%s\"\n", sd->methods[i].name);
	}
	static const char *const words[] = {"org:csto",
	                                    "doc:",
	                                    "event:",
	                                    "doc:ad6eff3e562ac92b",
	                                    "person:stanislav-zas",
	                                    "position:csto-secretary-general",
	                                    "member_of",
	                                    "holds_position",
	                                    "CSTO",
	                                    "\\xff",
	                                    "\\x00",
	                                    "\\xc3\\xa9"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		fprintf(f, "\"%s\"\n", words[i]);
	fclose(f);
}

/* ---- json_import ----------------------------------------------------------------- */

static void json_seed(const char *name, const Annals__V1__Dataset *ds)
{
	char *text = pbjson_dumps(&ds->base, PBJSON_COMPACT);
	write_file("json_import", name, text, strlen(text));
	free(text);
}

static void json_seeds(const Annals__V1__Dataset *d)
{
	Annals__V1__Dataset ds = ANNALS__V1__DATASET__INIT;
	ds.n_documents = 1;
	ds.documents = d->documents;
	json_seed("document", &ds);
	ds = (Annals__V1__Dataset)ANNALS__V1__DATASET__INIT;
	ds.n_entities = 3;
	ds.entities = d->entities;
	json_seed("entities", &ds);
	ds = (Annals__V1__Dataset)ANNALS__V1__DATASET__INIT;
	ds.n_events = 2;
	ds.events = d->events;
	json_seed("events", &ds);
	ds = (Annals__V1__Dataset)ANNALS__V1__DATASET__INIT;
	ds.n_relations = 2;
	ds.relations = d->relations;
	json_seed("relations", &ds);
	ds = (Annals__V1__Dataset)ANNALS__V1__DATASET__INIT;
	ds.n_entities = 1;
	ds.entities = d->entities + 3;
	ds.n_events = 1;
	ds.events = d->events + 4;
	ds.n_relations = 1;
	ds.relations = d->relations + 5;
	json_seed("mixed", &ds);
	/* spelled by hand: camelCase keys, enum numbers, 64-bit strings, nulls */
	static const char hand[] =
	    "{\"entities\":[{\"id\":\"person:x\",\"type\":1,\"names\":[{\"text\":\"X \\u00e9\","
	    "\"kind\":\"NAME_KIND_OFFICIAL\",\"valid\":{\"start\":{\"kind\":\"BOUND_KIND_EXACT\","
	    "\"date\":{\"precision\":\"PRECISION_MONTH\",\"year\":2019,\"month\":5}}}}],"
	    "\"revision\":\"18446744073709551615\",\"summary\":null}],"
	    "\"events\":[{\"id\":\"ev:y\",\"type\":\"meeting\",\"when\":{\"precision\":3,\"anchor\":"
	    "\"doc:d\",\"offsetDays\":-1},\"participants\":[{\"entity\":\"person:x\"}]}]}";
	write_file("json_import", "hand", hand, sizeof(hand) - 1);
	write_file("json_import", "empty", "{}", 2);
}

/* ---- date ---------------------------------------------------------------------- */

typedef struct date_fields {
	int8_t precision;
	int32_t year;
	int8_t month, day;
	uint8_t anchor;
	int32_t off_y, off_m, off_d;
	uint8_t resolved;
	int32_t earliest, latest;
	int8_t a_precision;
	int32_t a_year;
	int8_t a_month, a_day;
	uint32_t some_day;
	uint8_t start_kind, end_kind, has_start, has_end;
	int8_t q_precision;
	int32_t q_year;
	int8_t q_month, q_day;
} date_fields;

static size_t put(uint8_t *p, size_t at, int64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[at + (size_t)i] = (uint8_t)((uint64_t)v >> (8 * i));
	return at + (size_t)bytes;
}

static void date_seed(const char *name, const char *text, const date_fields *f)
{
	uint8_t buf[128];
	size_t n = strlen(text);
	memcpy(buf, text, n);
	buf[n++] = '\0';
	n = put(buf, n, f->precision, 1);
	n = put(buf, n, f->year, 4);
	n = put(buf, n, f->month, 1);
	n = put(buf, n, f->day, 1);
	n = put(buf, n, f->anchor, 1);
	n = put(buf, n, f->off_y, 4);
	n = put(buf, n, f->off_m, 4);
	n = put(buf, n, f->off_d, 4);
	n = put(buf, n, f->resolved, 1);
	n = put(buf, n, f->earliest, 4);
	n = put(buf, n, f->latest, 4);
	n = put(buf, n, f->a_precision, 1);
	n = put(buf, n, f->a_year, 4);
	n = put(buf, n, f->a_month, 1);
	n = put(buf, n, f->a_day, 1);
	n = put(buf, n, f->some_day, 4);
	n = put(buf, n, f->start_kind, 1);
	n = put(buf, n, f->end_kind, 1);
	n = put(buf, n, f->has_start, 1);
	n = put(buf, n, f->has_end, 1);
	n = put(buf, n, f->q_precision, 1);
	n = put(buf, n, f->q_year, 4);
	n = put(buf, n, f->q_month, 1);
	n = put(buf, n, f->q_day, 1);
	write_file("date", name, buf, n);
}

static void date_seeds(void)
{
	date_fields f = {.precision = 3,
	                 .year = 2019,
	                 .month = 5,
	                 .day = 1,
	                 .a_precision = 3,
	                 .a_year = 2019,
	                 .a_month = 5,
	                 .a_day = 2,
	                 .some_day = 18000,
	                 .start_kind = 1,
	                 .end_kind = 0,
	                 .has_start = 1,
	                 .has_end = 1,
	                 .q_precision = 2,
	                 .q_year = 2019,
	                 .q_month = 6};
	date_seed("day", "2019-05-01", &f);
	f.precision = 2, f.day = 0;
	date_seed("month", "2019-05", &f);
	f.precision = 1, f.month = 0;
	f.start_kind = 2, f.end_kind = 3;
	date_seed("year", "2019", &f);
	date_fields rel = f;
	rel.precision = 3, rel.anchor = 1, rel.off_d = -1, rel.year = 0;
	rel.start_kind = 4, rel.end_kind = 2;
	date_seed("relative_doc", "0001-01-01", &rel);
	rel.anchor = 2, rel.precision = 2, rel.off_m = 13, rel.off_d = 0, rel.a_precision = 2, rel.a_day = 0;
	date_seed("relative_event", "9999-12-31", &rel);
	rel.anchor = 1, rel.precision = 1, rel.off_y = -2018, rel.a_precision = 1, rel.a_month = 0;
	rel.resolved = 1, rel.earliest = 5, rel.latest = 3;
	date_seed("relative_far", "2020-02-29", &rel);
	date_fields bad = f;
	bad.precision = 3, bad.year = 2019, bad.month = 2, bad.day = 29;
	date_seed("feb29", "2019-02-29", &bad);
	bad.year = 10000, bad.month = 13, bad.day = 32;
	date_seed("out_of_range", "10000-13-32", &bad);
	bad.year = 0, bad.precision = 7;
	date_seed("zero", "0000", &bad);
	date_seed("junk", "2019-5-1", &bad);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds OUT_DIR\n");
		return 2;
	}
	out_dir = argv[1];
	mkdir(out_dir, 0755);
	ar_arena a;
	ar_init(&a);
	Annals__V1__Dataset *d = fz_load_dataset(&a);
	envelope_reads(&a, d);
	envelope_writes(&a, d);
	envelope_every_method(&a);
	envelope_nul_seeds();
	write_dict();
	json_seeds(d);
	date_seeds();
	ar_free(&a);
	printf("gen_seeds: %d files in %s\n", n_written, out_dir);
	return 0;
}

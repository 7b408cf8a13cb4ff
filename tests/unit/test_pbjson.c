/* Unit tests for pbjson_: round trips through JSON and the wire, the
 * proto3 JSON mapping choices, and every error with its exact text. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "annals/v1/model.pb-c.h"
#include "annals/v1/rpc.pb-c.h"
#include "annals/v1/service.pb-c.h"
#include "common/arena.h"
#include "common/pbjson.h"

/* ---- helpers ----------------------------------------------------------- */

/* Packs a message into a malloc'ed buffer (the wire form is what must
 * survive a JSON round trip). */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(*len ? *len : 1);
	CHECK_EQ_INT(protobuf_c_message_pack(m, buf), *len);
	return buf;
}

static int same_wire(const ProtobufCMessage *x, const ProtobufCMessage *y)
{
	size_t nx, ny;
	uint8_t *bx = pack(x, &nx), *by = pack(y, &ny);
	int same = nx == ny && memcmp(bx, by, nx) == 0;
	free(bx);
	free(by);
	return same;
}

static ProtobufCMessage *parse(const ProtobufCMessageDescriptor *d, const char *json, ar_arena *a)
{
	char err[256] = "";
	ProtobufCMessage *m = pbjson_parse(d, json, strlen(json), a, err, sizeof(err));
	if (m == NULL)
		fprintf(stderr, "  unexpected error: %s (in %s)\n", err, json);
	CHECK(m != NULL);
	CHECK_EQ_STR(err, "");
	return m;
}

/* JSON text -> message -> wire -> unpacked message, and the same JSON
 * again from both: the message must be a real, packable protobuf-c one. */
static ProtobufCMessage *round_trip(const ProtobufCMessage *m, ar_arena *a)
{
	char *text = pbjson_dumps(m, PBJSON_COMPACT);
	CHECK(text != NULL);
	ProtobufCMessage *back = parse(m->descriptor, text, a);
	if (back == NULL) {
		free(text);
		return NULL;
	}
	CHECK(same_wire(m, back));
	size_t len;
	uint8_t *wire = pack(back, &len);
	ProtobufCMessage *unpacked = protobuf_c_message_unpack(m->descriptor, ar_pbc(a), len, wire);
	CHECK(unpacked != NULL);
	char *again = pbjson_dumps(back, PBJSON_COMPACT);
	char *again2 = unpacked ? pbjson_dumps(unpacked, PBJSON_COMPACT) : NULL;
	CHECK_EQ_STR(again, text);
	CHECK_EQ_STR(again2, text);
	free(wire);
	free(text);
	free(again);
	free(again2);
	return back;
}

static void expect_error(const ProtobufCMessageDescriptor *d, const char *json, const char *want)
{
	ar_arena a;
	ar_init(&a);
	char err[256] = "";
	ProtobufCMessage *m = pbjson_parse(d, json, strlen(json), &a, err, sizeof(err));
	if (m != NULL)
		fprintf(stderr, "  no error for %s\n", json);
	CHECK(m == NULL);
	CHECK_EQ_STR(err, want);
	ar_free(&a);
}

static void expect_error_json(const ProtobufCMessageDescriptor *d, json_t *j, const char *path,
                              const char *want)
{
	ar_arena a;
	ar_init(&a);
	char err[256] = "";
	CHECK(pbjson_to_message(d, j, &a, path, err, sizeof(err)) == NULL);
	CHECK_EQ_STR(err, want);
	json_decref(j);
	ar_free(&a);
}

static void expect_text(const ProtobufCMessage *m, int flags, const char *want)
{
	char *s = pbjson_dumps(m, flags);
	CHECK_EQ_STR(s, want);
	free(s);
}

static Annals__V1__Date *mk_date(ar_arena *a, int y, int mo, int d)
{
	Annals__V1__Date *dt = AR_NEW(a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	dt->year = y, dt->month = mo, dt->day = d;
	dt->precision = d ? ANNALS__V1__PRECISION__PRECISION_DAY
	                  : mo ? ANNALS__V1__PRECISION__PRECISION_MONTH : ANNALS__V1__PRECISION__PRECISION_YEAR;
	return dt;
}

static Annals__V1__Evidence *mk_evidence(ar_arena *a, const char *doc)
{
	Annals__V1__Evidence *ev = AR_NEW(a, Annals__V1__Evidence, ANNALS__V1__EVIDENCE__INIT);
	ev->document = ar_strdup(a, doc);
	ev->n_sentences = 2;
	ev->sentences = ar_alloc(a, 2 * sizeof(uint32_t));
	ev->sentences[0] = 1, ev->sentences[1] = 4;
	ev->span_start = 10, ev->span_end = 4000000000u;
	ev->attributed_to = "person:someone";
	ev->modality = ANNALS__V1__MODALITY__MODALITY_REPORTED;
	ev->inferred = 1;
	ev->rule = "succession";
	return ev;
}

static Annals__V1__Interval *mk_interval(ar_arena *a)
{
	Annals__V1__Interval *iv = AR_NEW(a, Annals__V1__Interval, ANNALS__V1__INTERVAL__INIT);
	iv->start = AR_NEW(a, Annals__V1__Bound, ANNALS__V1__BOUND__INIT);
	iv->start->kind = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT;
	iv->start->date = mk_date(a, 2019, 5, 0);
	iv->start->event = "event:founding";
	iv->end = AR_NEW(a, Annals__V1__Bound, ANNALS__V1__BOUND__INIT); /* set, all defaults */
	return iv;
}

static Annals__V1__Entity *mk_entity(ar_arena *a)
{
	Annals__V1__Entity *e = AR_NEW(a, Annals__V1__Entity, ANNALS__V1__ENTITY__INIT);
	e->id = "person:stanislav-zas";
	e->type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e->summary = "Stanisłav Zas — ünïcode “quoted”\n";
	e->revision = UINT64_MAX;
	const char *texts[] = {"Stanislav Zas", "S. Zas"};
	for (int i = 0; i < 2; i++) {
		Annals__V1__Name *n = AR_NEW(a, Annals__V1__Name, ANNALS__V1__NAME__INIT);
		n->text = (char *)texts[i];
		n->kind = i ? ANNALS__V1__NAME_KIND__NAME_KIND_ALIAS : ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL;
		if (i == 0)
			n->valid = mk_interval(a);
		AR_PUSH(a, n->evidence, n->n_evidence, mk_evidence(a, "doc:a"));
		AR_PUSH(a, e->names, e->n_names, n);
	}
	Annals__V1__Attribute *at = AR_NEW(a, Annals__V1__Attribute, ANNALS__V1__ATTRIBUTE__INIT);
	at->key = "rank", at->value = "general", at->ref = "org:army";
	at->valid = mk_interval(a);
	AR_PUSH(a, at->evidence, at->n_evidence, mk_evidence(a, "doc:b"));
	AR_PUSH(a, e->attributes, e->n_attributes, at);
	AR_PUSH(a, e->evidence, e->n_evidence, mk_evidence(a, "doc:c"));
	return e;
}

/* ---- round trips ------------------------------------------------------- */

static void test_entity_round_trip(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__Entity *e = mk_entity(&a);
	Annals__V1__Entity *back = (Annals__V1__Entity *)round_trip(&e->base, &a);
	if (back) {
		CHECK_EQ_STR(back->names[0]->valid->start->date->anchor, "");
		CHECK(back->names[0]->valid->end != NULL); /* an empty set Bound stays set */
		CHECK(back->names[1]->valid == NULL);
		CHECK_EQ_INT(back->names[0]->evidence[0]->sentences[1], 4);
		CHECK(back->revision == UINT64_MAX);
	}
	char *s = pbjson_dumps(&e->base, PBJSON_COMPACT);
	CHECK_CONTAINS(s, "\"revision\":\"18446744073709551615\"");
	CHECK_CONTAINS(s, "\"type\":\"ENTITY_TYPE_PERSON\"");
	CHECK_CONTAINS(s, "\"end\":{}");
	CHECK_CONTAINS(s, "\"sentences\":[1,4],\"span_start\":10,\"span_end\":4000000000");
	CHECK_CONTAINS(s, "\"date\":{\"precision\":\"PRECISION_MONTH\",\"year\":2019,\"month\":5}");
	CHECK_CONTAINS(s, "\"summary\":\"Stanisłav Zas — ünïcode “quoted”\\n\"");
	free(s);
	ar_free(&a);
}

static void test_dataset_round_trip(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__Dataset *ds = AR_NEW(&a, Annals__V1__Dataset, ANNALS__V1__DATASET__INIT);

	Annals__V1__Document *doc = AR_NEW(&a, Annals__V1__Document, ANNALS__V1__DOCUMENT__INIT);
	doc->id = "doc:a", doc->title = "A title", doc->length = 1234, doc->revision = 7;
	doc->published = mk_date(&a, 2020, 2, 29);
	for (uint32_t i = 1; i <= 3; i++) {
		Annals__V1__Sentence *s = AR_NEW(&a, Annals__V1__Sentence, ANNALS__V1__SENTENCE__INIT);
		s->number = i, s->start = (i - 1) * 10, s->end = i * 10;
		AR_PUSH(&a, doc->sentences, doc->n_sentences, s);
	}
	AR_PUSH(&a, ds->documents, ds->n_documents, doc);
	AR_PUSH(&a, ds->entities, ds->n_entities, mk_entity(&a));

	Annals__V1__Relation *r = AR_NEW(&a, Annals__V1__Relation, ANNALS__V1__RELATION__INIT);
	r->id = "rel:1", r->subject = "country:x", r->predicate = "member_of", r->object = "org:y";
	r->status = "suspended", r->valid = mk_interval(&a);
	AR_PUSH(&a, ds->relations, ds->n_relations, r);

	Annals__V1__Event *ev = AR_NEW(&a, Annals__V1__Event, ANNALS__V1__EVENT__INIT);
	ev->id = "event:1", ev->type = "meeting", ev->status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_PLANNED;
	ev->when = AR_NEW(&a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	ev->when->anchor = "doc:a", ev->when->offset_days = -1, ev->when->offset_years = -2000000000;
	ev->when->precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	Annals__V1__Participant *p = AR_NEW(&a, Annals__V1__Participant, ANNALS__V1__PARTICIPANT__INIT);
	p->entity = "person:stanislav-zas", p->role = "host";
	AR_PUSH(&a, ev->participants, ev->n_participants, p);
	Annals__V1__EventLink *l = AR_NEW(&a, Annals__V1__EventLink, ANNALS__V1__EVENT_LINK__INIT);
	l->kind = "follows", l->event = "event:0";
	AR_PUSH(&a, ev->links, ev->n_links, l);
	AR_PUSH(&a, ds->events, ds->n_events, ev);

	Annals__V1__Dataset *back = (Annals__V1__Dataset *)round_trip(&ds->base, &a);
	if (back) {
		CHECK_EQ_INT(back->n_documents, 1);
		CHECK_EQ_INT(back->documents[0]->n_sentences, 3);
		CHECK_EQ_INT(back->events[0]->when->offset_years, -2000000000);
		CHECK_EQ_STR(back->relations[0]->note, ""); /* absent string: the shared "" */
	}
	ar_free(&a);
}

static void test_batch_oneof(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__BatchRequest *b = AR_NEW(&a, Annals__V1__BatchRequest, ANNALS__V1__BATCH_REQUEST__INIT);
	Annals__V1__Op *put = AR_NEW(&a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	put->op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
	put->put_entity = mk_entity(&a);
	put->guard = AR_NEW(&a, Annals__V1__Guard, ANNALS__V1__GUARD__INIT);
	Annals__V1__Op *del = AR_NEW(&a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	del->op_case = ANNALS__V1__OP__OP_DELETE;
	del->delete_ = AR_NEW(&a, Annals__V1__RecordRef, ANNALS__V1__RECORD_REF__INIT);
	del->delete_->kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_EVENT;
	del->delete_->id = "event:9";
	del->guard = AR_NEW(&a, Annals__V1__Guard, ANNALS__V1__GUARD__INIT);
	del->guard->revision = 42;
	Annals__V1__Op *empty_del = AR_NEW(&a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	empty_del->op_case = ANNALS__V1__OP__OP_DELETE; /* set to an all-default message */
	empty_del->delete_ = AR_NEW(&a, Annals__V1__RecordRef, ANNALS__V1__RECORD_REF__INIT);
	AR_PUSH(&a, b->ops, b->n_ops, put);
	AR_PUSH(&a, b->ops, b->n_ops, del);
	AR_PUSH(&a, b->ops, b->n_ops, empty_del);

	char *s = pbjson_dumps(&b->base, PBJSON_COMPACT);
	CHECK(strstr(s, "put_event") == NULL);
	CHECK_CONTAINS(s, "{\"delete\":{\"kind\":\"RECORD_KIND_EVENT\",\"id\":\"event:9\"},\"guard\":{\"revision\":\"42\"}}");
	CHECK_CONTAINS(s, ",{\"delete\":{}}]}");
	free(s);

	Annals__V1__BatchRequest *back = (Annals__V1__BatchRequest *)round_trip(&b->base, &a);
	if (back) {
		CHECK_EQ_INT(back->ops[0]->op_case, ANNALS__V1__OP__OP_PUT_ENTITY);
		CHECK_EQ_INT(back->ops[1]->op_case, ANNALS__V1__OP__OP_DELETE);
		CHECK_EQ_INT(back->ops[2]->op_case, ANNALS__V1__OP__OP_DELETE);
		CHECK(back->ops[2]->guard == NULL);
	}
	/* null for a member is absent, so another member may follow */
	Annals__V1__Op *op = (Annals__V1__Op *)parse(&annals__v1__op__descriptor,
	                                             "{\"putEntity\": null, \"putEvent\": {\"id\": \"e\"}}", &a);
	if (op) {
		CHECK_EQ_INT(op->op_case, ANNALS__V1__OP__OP_PUT_EVENT);
		CHECK_EQ_STR(op->put_event->id, "e");
	}
	ar_free(&a);
}

static void test_changeset_oneof(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__ChangesReply *r = AR_NEW(&a, Annals__V1__ChangesReply, ANNALS__V1__CHANGES_REPLY__INIT);
	Annals__V1__ChangeSet *cs = AR_NEW(&a, Annals__V1__ChangeSet, ANNALS__V1__CHANGE_SET__INIT);
	cs->revision = 12, cs->committed_ms = INT64_MIN, cs->request_id = "req-1";
	Annals__V1__Change *put = AR_NEW(&a, Annals__V1__Change, ANNALS__V1__CHANGE__INIT);
	put->kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_ENTITY, put->id = "person:stanislav-zas";
	put->record_case = ANNALS__V1__CHANGE__RECORD_ENTITY;
	put->entity = mk_entity(&a);
	Annals__V1__Change *gone = AR_NEW(&a, Annals__V1__Change, ANNALS__V1__CHANGE__INIT);
	gone->kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_DOCUMENT, gone->id = "doc:a", gone->deleted = 1;
	AR_PUSH(&a, cs->changes, cs->n_changes, put);
	AR_PUSH(&a, cs->changes, cs->n_changes, gone);
	AR_PUSH(&a, r->changes, r->n_changes, cs);
	r->revision = 12, r->oldest = 1;

	char *s = pbjson_dumps(&r->base, PBJSON_COMPACT);
	CHECK_CONTAINS(s, "\"committed_ms\":\"-9223372036854775808\"");
	CHECK_CONTAINS(s, "{\"kind\":\"RECORD_KIND_DOCUMENT\",\"id\":\"doc:a\",\"deleted\":true}");
	free(s);
	Annals__V1__ChangesReply *back = (Annals__V1__ChangesReply *)round_trip(&r->base, &a);
	if (back) {
		CHECK_EQ_INT(back->changes[0]->changes[0]->record_case, ANNALS__V1__CHANGE__RECORD_ENTITY);
		CHECK_EQ_INT(back->changes[0]->changes[1]->record_case, ANNALS__V1__CHANGE__RECORD__NOT_SET);
		CHECK(back->changes[0]->committed_ms == INT64_MIN);
	}
	ar_free(&a);
}

/* ---- scalar encodings -------------------------------------------------- */

static void test_uint64_as_string(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__HealthReply h = ANNALS__V1__HEALTH_REPLY__INIT;
	h.status = "SERVING", h.revision = 9007199254740993ull; /* 2^53 + 1: a double would lose it */
	expect_text(&h.base, PBJSON_COMPACT, "{\"status\":\"SERVING\",\"revision\":\"9007199254740993\"}");

	const ProtobufCMessageDescriptor *d = &annals__v1__health_reply__descriptor;
	Annals__V1__HealthReply *m = (Annals__V1__HealthReply *)parse(d, "{\"revision\": \"18446744073709551615\"}", &a);
	CHECK(m && m->revision == UINT64_MAX);
	m = (Annals__V1__HealthReply *)parse(d, "{\"revision\": 9007199254740993}", &a);
	CHECK(m && m->revision == 9007199254740993ull);
	m = (Annals__V1__HealthReply *)parse(d, "{\"revision\": 1e3}", &a);
	CHECK(m && m->revision == 1000);
	m = (Annals__V1__HealthReply *)parse(d, "{\"revision\": \"-0\"}", &a);
	CHECK(m && m->revision == 0);
	expect_error(d, "{\"revision\": \"18446744073709551616\"}",
	             "revision: 18446744073709551616 is out of range for uint64");
	expect_error(d, "{\"revision\": \"-1\"}", "revision: -1 is out of range for uint64");
	expect_error(d, "{\"revision\": -1}", "revision: -1 is out of range for uint64");
	expect_error(d, "{\"revision\": \"12abc\"}", "revision: expected an integer, got string");
	expect_error(d, "{\"revision\": \"\"}", "revision: expected an integer, got string");
	expect_error(d, "{\"revision\": \" 1\"}", "revision: expected an integer, got string");
	expect_error(d, "{\"revision\": 1.5}", "revision: expected an integer, got 1.5");
	expect_error(d, "{\"revision\": true}", "revision: expected an integer, got boolean");

	const ProtobufCMessageDescriptor *cs = &annals__v1__change_set__descriptor;
	Annals__V1__ChangeSet *c = (Annals__V1__ChangeSet *)parse(cs, "{\"committedMs\": \"-9223372036854775808\"}", &a);
	CHECK(c && c->committed_ms == INT64_MIN);
	expect_error(cs, "{\"committed_ms\": \"9223372036854775808\"}",
	             "committed_ms: 9223372036854775808 is out of range for int64");
	ar_free(&a);
}

static void test_bytes_base64(void)
{
	ar_arena a;
	ar_init(&a);
	static const uint8_t bin[] = {0x00, 0xff, 0x00, 0xfb, 0xef, 0x00, 0x3e, 0x3f};
	Annals__V1__Reply r = ANNALS__V1__REPLY__INIT;
	r.code = 0;
	r.message = "ok";
	r.body.data = (uint8_t *)bin, r.body.len = sizeof(bin);
	expect_text(&r.base, PBJSON_COMPACT, "{\"message\":\"ok\",\"body\":\"AP8A++8APj8=\"}");
	Annals__V1__Reply *back = (Annals__V1__Reply *)round_trip(&r.base, &a);
	CHECK(back && back->body.len == sizeof(bin) && memcmp(back->body.data, bin, sizeof(bin)) == 0);

	/* every length mod 3, with zero bytes everywhere */
	for (size_t n = 0; n <= 7; n++) {
		uint8_t zeros[7] = {0};
		r.body.data = zeros, r.body.len = n;
		back = (Annals__V1__Reply *)round_trip(&r.base, &a);
		CHECK(back && back->body.len == n && (n == 0 || memcmp(back->body.data, zeros, n) == 0));
	}

	const ProtobufCMessageDescriptor *d = &annals__v1__reply__descriptor;
	back = (Annals__V1__Reply *)parse(d, "{\"body\": \"AP8A--8APj8\"}", &a); /* URL-safe, unpadded */
	CHECK(back && back->body.len == sizeof(bin) && memcmp(back->body.data, bin, sizeof(bin)) == 0);
	back = (Annals__V1__Reply *)parse(d, "{\"body\": \"\"}", &a);
	CHECK(back && back->body.len == 0);
	expect_error(d, "{\"body\": \"AP8A!\"}", "body: invalid base64");
	expect_error(d, "{\"body\": \"A\"}", "body: invalid base64");
	expect_error(d, "{\"body\": \"AP8=A\"}", "body: invalid base64");
	expect_error(d, "{\"body\": \"AP8A=\"}", "body: invalid base64");
	expect_error(d, "{\"body\": [0, 1]}", "body: expected a base64 string, got array");
	ar_free(&a);
}

static void test_enum_name_and_number(void)
{
	ar_arena a;
	ar_init(&a);
	const ProtobufCMessageDescriptor *d = &annals__v1__entity__descriptor;
	Annals__V1__Entity *e = (Annals__V1__Entity *)parse(d, "{\"type\": \"ENTITY_TYPE_TREATY\"}", &a);
	CHECK(e && e->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_TREATY);
	e = (Annals__V1__Entity *)parse(d, "{\"type\": 2}", &a);
	CHECK(e && e->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION);
	/* open enums: an unnamed number is kept and written back as a number */
	e = (Annals__V1__Entity *)parse(d, "{\"type\": 42}", &a);
	CHECK(e && (int)e->type == 42);
	if (e)
		expect_text(&e->base, PBJSON_COMPACT, "{\"type\":42}");
	expect_error(d, "{\"type\": \"entity_type_person\"}", "type: unknown enum value \"entity_type_person\"");
	expect_error(d, "{\"type\": \"1\"}", "type: unknown enum value \"1\"");
	expect_error(d, "{\"type\": 2147483648}", "type: 2147483648 is out of range for int32");
	expect_error(d, "{\"type\": {}}", "type: expected an enum name or number, got object");
	ar_free(&a);
}

static void test_camel_case_input(void)
{
	ar_arena a;
	ar_init(&a);
	const ProtobufCMessageDescriptor *d = &annals__v1__evidence__descriptor;
	Annals__V1__Evidence *ev = (Annals__V1__Evidence *)parse(
		d, "{\"spanStart\": 3, \"span_end\": 9, \"attributedTo\": \"x\", \"sentences\": [\"2\", 5]}", &a);
	CHECK(ev && ev->span_start == 3 && ev->span_end == 9);
	CHECK(ev && strcmp(ev->attributed_to, "x") == 0 && ev->n_sentences == 2 && ev->sentences[0] == 2);
	if (ev) /* output uses the .proto names */
		expect_text(&ev->base, PBJSON_COMPACT,
		            "{\"sentences\":[2,5],\"span_start\":3,\"span_end\":9,\"attributed_to\":\"x\"}");
	const ProtobufCMessageDescriptor *l = &annals__v1__list_entities_request__descriptor;
	Annals__V1__ListEntitiesRequest *r = (Annals__V1__ListEntitiesRequest *)parse(
		l, "{\"namePrefix\": \"Sta\", \"pageSize\": 10, \"pageToken\": \"t\"}", &a);
	CHECK(r && strcmp(r->name_prefix, "Sta") == 0 && r->page_size == 10 && strcmp(r->page_token, "t") == 0);
	expect_error(l, "{\"name_prefix\": \"a\", \"namePrefix\": \"b\"}", "namePrefix: field name_prefix given twice");
	expect_error(l, "{\"NamePrefix\": \"a\"}", "NamePrefix: unknown field");
	expect_error(l, "{\"nameprefix\": \"a\"}", "nameprefix: unknown field");
	ar_free(&a);
}

static void test_null_is_absent(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__Entity *e = (Annals__V1__Entity *)parse(
		&annals__v1__entity__descriptor,
		"{\"id\": null, \"type\": null, \"names\": null, \"revision\": null, \"summary\": \"s\"}", &a);
	if (e) {
		CHECK(e->id == protobuf_c_empty_string);
		CHECK_EQ_INT(e->n_names, 0);
		CHECK(e->names == NULL);
		CHECK_EQ_STR(e->summary, "s");
		expect_text(&e->base, PBJSON_COMPACT, "{\"summary\":\"s\"}");
	}
	ar_free(&a);
}

/* ---- errors ------------------------------------------------------------ */

static void test_errors_paths(void)
{
	const ProtobufCMessageDescriptor *ds = &annals__v1__dataset__descriptor;
	expect_error(ds, "{\"events\": [{}, {}, {}, {\"when\": {\"month\": \"May\"}}]}",
	             "events[3].when.month: expected an integer, got string");
	expect_error(ds, "{\"entities\": [{\"type\": \"PERSONN\"}]}", "entities[0].type: unknown enum value \"PERSONN\"");
	expect_error(ds, "{\"entities\": [{}, {\"names\": [{\"text\": \"a\"}, {\"txt\": \"b\"}]}]}",
	             "entities[1].names[1].txt: unknown field");
	expect_error(ds, "{\"entities\": [{\"names\": [{\"evidence\": [{\"sentences\": [1, \"x\"]}]}]}]}",
	             "entities[0].names[0].evidence[0].sentences[1]: expected an integer, got string");
	expect_error(ds, "{\"entities\": [{\"names\": [null]}]}", "entities[0].names[0]: expected an object, got null");
	expect_error(ds, "{\"bogus\": 1}", "bogus: unknown field");
	expect_error(ds, "{\"entities\": {}}", "entities: expected an array, got object");
	expect_error(ds, "{\"entities\": [[]]}", "entities[0]: expected an object, got array");
	expect_error(ds, "{\"entities\": [{\"id\": 5}]}", "entities[0].id: expected a string, got number");
	expect_error(ds, "{\"documents\": [{\"published\": \"2019\"}]}",
	             "documents[0].published: expected an object, got string");
	expect_error(ds, "{\"entities\": [{\"evidence\": [{\"inferred\": \"yes\"}]}]}",
	             "entities[0].evidence[0].inferred: expected a boolean, got string");
	expect_error(ds, "[]", "expected an object, got array");
	expect_error(ds, "{\"entities\": [], \"entities\": []}", "1:27: duplicate object key near '\"entities\"'");

	const ProtobufCMessageDescriptor *dt = &annals__v1__date__descriptor;
	expect_error(dt, "{\"year\": 2147483648}", "year: 2147483648 is out of range for int32");
	expect_error(dt, "{\"year\": \"-2147483649\"}", "year: -2147483649 is out of range for int32");
	expect_error(dt, "{\"year\": 1e10}", "year: 10000000000 is out of range for int32");
	expect_error(dt, "{\"year\": 99999999999999999999}",
	             "1:29: too big integer near '99999999999999999999'");
	expect_error(&annals__v1__sentence__descriptor, "{\"number\": -1}", "number: -1 is out of range for uint32");
	expect_error(&annals__v1__sentence__descriptor, "{\"end\": 4294967296}",
	             "end: 4294967296 is out of range for uint32");

	const ProtobufCMessageDescriptor *b = &annals__v1__batch_request__descriptor;
	expect_error(b, "{\"ops\": [{}, {\"put_entity\": {}, \"delete\": {\"id\": \"x\"}}]}",
	             "ops[1].delete: conflicts with put_entity (same oneof)");
	expect_error(b, "{\"ops\": [{\"putEvent\": {}, \"guard\": {}, \"putDocument\": null, \"put_relation\": {}}]}",
	             "ops[0].put_relation: conflicts with put_event (same oneof)");
	expect_error(&annals__v1__change__descriptor, "{\"entity\": {}, \"document\": {}}",
	             "document: conflicts with entity (same oneof)");

	/* syntax errors carry line:column */
	expect_error(ds, "{\n  \"entities\": [\n    {\"id\": }\n  ]\n}", "3:12: unexpected token near '}'");
	expect_error(ds, "", "1:0: '[' or '{' expected near end of file");
}

static void test_errors_strings(void)
{
	const ProtobufCMessageDescriptor *ds = &annals__v1__dataset__descriptor;
	/* jansson's parser refuses bad UTF-8 itself, with a position */
	expect_error(ds, "{\"entities\": [{\"id\": \"a\xff\"}]}", "1:23: unable to decode byte 0xff near '\"a'");
	/* a json_t built without checks must still be refused, with a path */
	json_t *j = json_pack("{s:[{s:[{s:o}]}]}", "entities", "names", "text",
	                      json_stringn_nocheck("ab\xc3\x28", 4));
	expect_error_json(ds, j, "", "entities[0].names[0].text: string is not valid UTF-8");
	const char *bad[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error_json(&annals__v1__entity__descriptor,
		                  json_pack("{s:o}", "id", json_stringn_nocheck(bad[i], strlen(bad[i]))), "entity",
		                  "entity.id: string is not valid UTF-8");
	expect_error_json(&annals__v1__entity__descriptor, json_pack("{s:o}", "id", json_stringn("a\0b", 3)),
	                  "entity", "entity.id: string contains a NUL character");
	expect_error_json(&annals__v1__entity__descriptor,
	                  json_pack("{s:o}", "type", json_stringn("ENTITY_TYPE_PERSON\0x", 20)), "",
	                  "type: unknown enum value (contains a NUL character)");
	expect_error(&annals__v1__entity__descriptor, "{\"id\": \"a\\u0000b\"}",
	             "1:17: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'");

	/* the prefix names the message in a larger request */
	expect_error_json(ds, json_pack("{s:[{s:i}]}", "relations", "id", 1), "put.dataset",
	                  "put.dataset.relations[0].id: expected a string, got number");
	expect_error_json(ds, json_integer(1), "put.dataset", "put.dataset: expected an object, got number");

}

static void test_valid_utf8_and_output_repair(void)
{
	ar_arena a;
	ar_init(&a);
	char err[128] = "";
	json_t *j = json_pack("{s:s}", "id", "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9");
	Annals__V1__Entity *e =
		(Annals__V1__Entity *)pbjson_to_message(&annals__v1__entity__descriptor, j, &a, "", err, sizeof(err));
	json_decref(j);
	CHECK(e && strcmp(e->id, "\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9") == 0);
	CHECK_EQ_STR(err, "");

	/* unpacked strings are not checked by protobuf-c: output repairs them */
	Annals__V1__Entity bad = ANNALS__V1__ENTITY__INIT;
	bad.id = "a\xff" "b\xe2\x82";
	expect_text(&bad.base, PBJSON_COMPACT, "{\"id\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"}");
	ar_free(&a);
}

/* ---- types the annals protos lack --------------------------------------- */

/* A hand-made proto2-style message (as protoc-c would generate it for
 * float, double, sint32, fixed64, required, explicit presence, repeated
 * bool/string/bytes/sfixed64/float and a oneof), so the generic code for
 * those types is exercised too. */
typedef struct {
	ProtobufCMessage base;
	protobuf_c_boolean has_f;
	float f;
	protobuf_c_boolean has_d;
	double d;
	protobuf_c_boolean has_s32;
	int32_t s32;
	protobuf_c_boolean has_fx64;
	uint64_t fx64;
	int32_t req;
	char *s;
	size_t n_flags;
	protobuf_c_boolean *flags;
	size_t n_tags;
	char **tags;
	size_t n_blobs;
	ProtobufCBinaryData *blobs;
	size_t n_big;
	int64_t *big;
	size_t n_fs;
	float *fs;
	uint32_t choice_case;
	union {
		char *text;
		int32_t num;
	};
} Scalars;

#define SC_FIELD(name, id, label, type, q, member, flags) \
	{name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q, offsetof(Scalars, member), NULL, NULL, flags, 0, NULL, NULL}
#define SC_HAS(m) offsetof(Scalars, has_##m)
#define SC_N(m) offsetof(Scalars, n_##m)
#define SC_CASE offsetof(Scalars, choice_case)

static const ProtobufCFieldDescriptor sc_fields[] = {
	SC_FIELD("f", 1, OPTIONAL, FLOAT, SC_HAS(f), f, 0),
	SC_FIELD("d", 2, OPTIONAL, DOUBLE, SC_HAS(d), d, 0),
	SC_FIELD("s32", 3, OPTIONAL, SINT32, SC_HAS(s32), s32, 0),
	SC_FIELD("fx64", 4, OPTIONAL, FIXED64, SC_HAS(fx64), fx64, 0),
	SC_FIELD("req", 5, REQUIRED, INT32, 0, req, 0),
	SC_FIELD("s", 6, OPTIONAL, STRING, 0, s, 0),
	SC_FIELD("flags", 7, REPEATED, BOOL, SC_N(flags), flags, 0),
	SC_FIELD("tags", 8, REPEATED, STRING, SC_N(tags), tags, 0),
	SC_FIELD("blobs", 9, REPEATED, BYTES, SC_N(blobs), blobs, 0),
	SC_FIELD("big", 10, REPEATED, SFIXED64, SC_N(big), big, 0),
	SC_FIELD("fs", 11, REPEATED, FLOAT, SC_N(fs), fs, 0),
	SC_FIELD("text", 12, OPTIONAL, STRING, SC_CASE, text, PROTOBUF_C_FIELD_FLAG_ONEOF),
	SC_FIELD("num", 13, OPTIONAL, INT32, SC_CASE, num, PROTOBUF_C_FIELD_FLAG_ONEOF),
};
static const unsigned sc_by_name[] = {9, 8, 1, 0, 6, 10, 3, 12, 4, 5, 2, 7, 11};
static const ProtobufCIntRange sc_ranges[] = {{1, 0}, {0, 13}};

static void sc_init(ProtobufCMessage *m);

static const ProtobufCMessageDescriptor sc_descriptor = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.Scalars", "Scalars", "Scalars", "t", sizeof(Scalars), 13,
	sc_fields, sc_by_name, 1, sc_ranges, sc_init, NULL, NULL, NULL,
};

static void sc_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(Scalars));
	m->descriptor = &sc_descriptor;
}

static void test_other_scalar_types(void)
{
	ar_arena a;
	ar_init(&a);
	Scalars m;
	sc_init(&m.base);
	expect_text(&m.base, PBJSON_COMPACT, "{\"req\":0}"); /* required: always written */
	expect_text(&m.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS,
	            "{\"req\":0,\"flags\":[],\"tags\":[],\"blobs\":[],\"big\":[],\"fs\":[]}");

	protobuf_c_boolean flags[] = {1, 0};
	char *tags[] = {"a", ""};
	uint8_t two[] = {0, 1};
	ProtobufCBinaryData blobs[] = {{0, NULL}, {2, two}};
	int64_t big[] = {INT64_MIN, 1};
	float fs[] = {1.5f, INFINITY, -INFINITY};
	m.has_f = 1, m.f = 0.5f, m.has_d = 1, m.d = -2.5, m.has_s32 = 1, m.s32 = -7;
	m.has_fx64 = 1, m.fx64 = UINT64_MAX, m.req = 3, m.s = "";
	m.n_flags = 2, m.flags = flags, m.n_tags = 2, m.tags = tags, m.n_blobs = 2, m.blobs = blobs;
	m.n_big = 2, m.big = big, m.n_fs = 3, m.fs = fs;
	m.choice_case = 13, m.num = 0; /* a set oneof member is written even at 0 */
	expect_text(&m.base, PBJSON_COMPACT,
	            "{\"f\":0.5,\"d\":-2.5,\"s32\":-7,\"fx64\":\"18446744073709551615\",\"req\":3,\"s\":\"\","
	            "\"flags\":[true,false],\"tags\":[\"a\",\"\"],\"blobs\":[\"\",\"AAE=\"],"
	            "\"big\":[\"-9223372036854775808\",\"1\"],\"fs\":[1.5,\"Infinity\",\"-Infinity\"],\"num\":0}");
	Scalars *back = (Scalars *)round_trip(&m.base, &a);
	CHECK(back && back->has_f && back->f == 0.5f && back->choice_case == 13 && back->s != NULL);

	back = (Scalars *)parse(&sc_descriptor, "{\"f\": \"1.5\", \"d\": \"NaN\", \"s32\": \"-2147483648\", \"text\": \"t\"}", &a);
	CHECK(back && back->has_f && back->f == 1.5f && back->has_d && isnan(back->d));
	CHECK(back && back->s32 == INT32_MIN && back->choice_case == 12 && strcmp(back->text, "t") == 0);
	CHECK(back && !back->has_fx64 && back->s == NULL);
	back = (Scalars *)parse(&sc_descriptor, "{\"d\": \"-1e5\", \"fs\": [2, 0.25, \"-Infinity\"]}", &a);
	CHECK(back && back->d == -1e5 && back->n_fs == 3 && back->fs[1] == 0.25f && isinf(back->fs[2]));

	expect_error(&sc_descriptor, "{\"f\": 1e39}", "f: 1e+39 is out of range for float");
	expect_error(&sc_descriptor, "{\"d\": \" 1\"}", "d: expected a number, got string");
	expect_error(&sc_descriptor, "{\"d\": \"inf\"}", "d: expected a number, got string");
	expect_error(&sc_descriptor, "{\"d\": \"1x\"}", "d: expected a number, got string");
	expect_error(&sc_descriptor, "{\"fs\": [1, true]}", "fs[1]: expected a number, got boolean");
	expect_error(&sc_descriptor, "{\"flags\": [true, 1]}", "flags[1]: expected a boolean, got number");
	expect_error(&sc_descriptor, "{\"blobs\": [\"AA\", \"*\"]}", "blobs[1]: invalid base64");
	expect_error(&sc_descriptor, "{\"tags\": [\"a\", null]}", "tags[1]: expected a string, got null");
	expect_error(&sc_descriptor, "{\"big\": [\"9223372036854775808\"]}",
	             "big[0]: 9223372036854775808 is out of range for sfixed64");
	expect_error(&sc_descriptor, "{\"s32\": 2147483648}", "s32: 2147483648 is out of range for sint32");
	expect_error(&sc_descriptor, "{\"text\": \"a\", \"num\": 1}", "num: conflicts with text (same oneof)");
	ar_free(&a);
}

/* ---- presence and formatting ------------------------------------------- */

static void test_emit_defaults(void)
{
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	expect_text(&e.base, PBJSON_COMPACT, "{}");
	expect_text(&e.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS,
	            "{\"id\":\"\",\"type\":\"ENTITY_TYPE_UNSPECIFIED\",\"names\":[],\"attributes\":[],"
	            "\"summary\":\"\",\"evidence\":[],\"revision\":\"0\"}");

	/* absent sub-messages and unset oneof members stay out; set empty ones are {} */
	Annals__V1__Op op = ANNALS__V1__OP__INIT;
	expect_text(&op.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS, "{}");
	Annals__V1__Guard g = ANNALS__V1__GUARD__INIT;
	op.guard = &g;
	expect_text(&op.base, PBJSON_COMPACT, "{\"guard\":{}}");
	expect_text(&op.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS, "{\"guard\":{\"revision\":\"0\"}}");

	Annals__V1__Bound bd = ANNALS__V1__BOUND__INIT;
	expect_text(&bd.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS,
	            "{\"kind\":\"BOUND_KIND_UNSTATED\",\"event\":\"\"}");
	Annals__V1__Reply r = ANNALS__V1__REPLY__INIT;
	expect_text(&r.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS, "{\"code\":0,\"message\":\"\",\"body\":\"\"}");
	Annals__V1__Evidence ev = ANNALS__V1__EVIDENCE__INIT;
	expect_text(&ev.base, PBJSON_COMPACT | PBJSON_EMIT_DEFAULTS,
	            "{\"document\":\"\",\"sentences\":[],\"span_start\":0,\"span_end\":0,\"attributed_to\":\"\","
	            "\"modality\":\"MODALITY_UNSPECIFIED\",\"inferred\":false,\"rule\":\"\",\"note\":\"\"}");

	/* the defaults parse back to the same (empty) wire form */
	ar_arena a;
	ar_init(&a);
	char *s = pbjson_dumps(&ev.base, PBJSON_EMIT_DEFAULTS);
	ProtobufCMessage *back = parse(&annals__v1__evidence__descriptor, s, &a);
	CHECK(back && protobuf_c_message_get_packed_size(back) == 0);
	free(s);
	ar_free(&a);
}

static void test_pretty_and_default_format(void)
{
	Annals__V1__RecordRef r = ANNALS__V1__RECORD_REF__INIT;
	r.kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_ENTITY, r.id = "x";
	expect_text(&r.base, PBJSON_PRETTY, "{\n  \"kind\": \"RECORD_KIND_ENTITY\",\n  \"id\": \"x\"\n}");
	expect_text(&r.base, 0, "{\"kind\": \"RECORD_KIND_ENTITY\", \"id\": \"x\"}");
	json_t *j = pbjson_from_message(&r.base, 0);
	CHECK(j && json_is_object(j) && json_object_size(j) == 2);
	json_decref(j);
}

int main(void)
{
	RUN(test_entity_round_trip);
	RUN(test_dataset_round_trip);
	RUN(test_batch_oneof);
	RUN(test_changeset_oneof);
	RUN(test_uint64_as_string);
	RUN(test_bytes_base64);
	RUN(test_enum_name_and_number);
	RUN(test_camel_case_input);
	RUN(test_null_is_absent);
	RUN(test_errors_paths);
	RUN(test_errors_strings);
	RUN(test_valid_utf8_and_output_repair);
	RUN(test_other_scalar_types);
	RUN(test_emit_defaults);
	RUN(test_pretty_and_default_format);
	return CHECK_DONE();
}

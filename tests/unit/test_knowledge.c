/*
 * Unit tests of the knowledge queries (src/store/query_*.c) on a real LMDB
 * store in a temporary directory, loaded through st_apply like any write.
 *
 * The small data set below is written for these tests (JSON with single
 * quotes, turned into double quotes before parsing, so it reads without
 * escapes). It has the traps the queries must handle: "CST" naming two
 * things, a relative date whose anchor has no known date, a start relative
 * to an event, membership segments, an end "at or after", a tenure with no
 * start. The built-in data set, when found, is checked too.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/read_back.h"
#include "annals/annals.h"
#include "common/date.h"
#include "common/pbjson.h"
#include "knowledge/knowledge.h"
#include "store/store.h"
#include "knowledge/kn_int.h"

/* clang-format off */

static const char test_dataset[] =
"{'documents': ["
" {'id': 'doc:t1', 'title': 'A report', 'length': 500,"
"  'published': {'precision': 'PRECISION_DAY', 'year': 2021, 'month': 5, 'day': 13},"
"  'sentences': [{'number': 1, 'start': 0, 'end': 100}, {'number': 2, 'start': 101, 'end': 200},"
"                {'number': 3, 'start': 201, 'end': 300}]},"
" {'id': 'doc:nodate', 'title': 'An undated report', 'length': 100,"
"  'sentences': [{'number': 1, 'start': 0, 'end': 100}]}],"
"'entities': ["
" {'id': 'org:csto', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'a regional security organization',"
"  'names': ["
"   {'text': 'Collective Security Treaty Organization', 'kind': 'NAME_KIND_OFFICIAL',"
"    'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_MONTH', 'year': 2002, 'month': 10}}},"
"    'evidence': [{'document': 'doc:t1', 'sentences': [3], 'span_start': 201, 'span_end': 250}]},"
"   {'text': 'CSTO', 'kind': 'NAME_KIND_ACRONYM',"
"    'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_MONTH', 'year': 2002, 'month': 10}}}},"
"   {'text': 'Collective Security Treaty', 'kind': 'NAME_KIND_FORMER',"
"    'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1992}},"
"              'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_MONTH', 'year': 2002, 'month': 10}}}},"
"   {'text': 'CST', 'kind': 'NAME_KIND_ACRONYM',"
"    'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1992}},"
"              'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_MONTH', 'year': 2002, 'month': 10}}}}],"
"  'evidence': [{'document': 'doc:t1', 'sentences': [1], 'span_start': 10, 'span_end': 40}]},"
" {'id': 'treaty:cst', 'type': 'ENTITY_TYPE_TREATY', 'names': ["
"   {'text': 'Collective Security Treaty', 'kind': 'NAME_KIND_OFFICIAL'},"
"   {'text': 'CST', 'kind': 'NAME_KIND_ACRONYM'}]},"
" {'id': 'country:armenia', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Armenia', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:azerbaijan', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Azerbaijan', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:tajikistan', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Tajikistan', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:uzbekistan', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Uzbekistan', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'position:sg', 'type': 'ENTITY_TYPE_POSITION', 'names': [{'text': 'Secretary General of the CSTO', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'person:zas', 'type': 'ENTITY_TYPE_PERSON',"
"  'names': [{'text': 'Stanislav Zas', 'kind': 'NAME_KIND_OFFICIAL',"
"             'evidence': [{'document': 'doc:t1', 'sentences': [1], 'span_start': 60, 'span_end': 73}]},"
"            {'text': 'Zas', 'kind': 'NAME_KIND_ALIAS'}],"
"  'attributes': [{'key': 'rank', 'value': 'Major-General',"
"                  'evidence': [{'document': 'doc:t1', 'sentences': [2], 'span_start': 101, 'span_end': 115}]}],"
"  'evidence': [{'document': 'doc:t1', 'sentences': [1, 2], 'span_start': 60, 'span_end': 150}]},"
" {'id': 'person:khachaturov', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': 'Yuri Khachaturov', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'person:rahmon', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': 'Emomali Rahmon', 'kind': 'NAME_KIND_OFFICIAL'}]}],"
"'relations': ["
" {'id': 'rel:armenia.member', 'subject': 'country:armenia', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1992}}}},"
" {'id': 'rel:tajikistan.member', 'subject': 'country:tajikistan', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1992}}}},"
" {'id': 'rel:azerbaijan.member', 'subject': 'country:azerbaijan', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'active',"
"  'note': 'missing from the 1999 renewal',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'anchor': 'event:ev:founded', 'offset_years': 1}},"
"            'end': {'kind': 'BOUND_KIND_AFTER', 'date': {'precision': 'PRECISION_MONTH', 'year': 1999, 'month': 4}}}},"
" {'id': 'rel:uzbekistan.member.1992', 'subject': 'country:uzbekistan', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1992}},"
"            'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1999}}}},"
" {'id': 'rel:uzbekistan.member.1999', 'subject': 'country:uzbekistan', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'suspended',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 1999}},"
"            'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2006}}}},"
" {'id': 'rel:uzbekistan.member.2006', 'subject': 'country:uzbekistan', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2006}},"
"            'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_DAY', 'year': 2012, 'month': 6, 'day': 28}}},"
"  'evidence': [{'document': 'doc:t1', 'sentences': [3], 'span_start': 220, 'span_end': 260}]},"
" {'id': 'rel:uzbekistan.member.2012', 'subject': 'country:uzbekistan', 'predicate': 'member_of', 'object': 'org:csto', 'status': 'suspended',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_DAY', 'year': 2012, 'month': 6, 'day': 28}}}},"
" {'id': 'rel:zas.sg', 'subject': 'person:zas', 'predicate': 'holds_position', 'object': 'position:sg',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_DAY', 'year': 2020, 'month': 1, 'day': 1}, 'event': 'ev:zas-appointed'},"
"            'end': {'kind': 'BOUND_KIND_OBSERVED', 'date': {'precision': 'PRECISION_DAY', 'anchor': 'doc:t1'}}},"
"  'evidence': [{'document': 'doc:t1', 'sentences': [1], 'span_start': 60, 'span_end': 99}]},"
" {'id': 'rel:khachaturov.sg', 'subject': 'person:khachaturov', 'predicate': 'holds_position', 'object': 'position:sg',"
"  'valid': {'end': {'kind': 'BOUND_KIND_BEFORE', 'date': {'precision': 'PRECISION_DAY', 'year': 2020, 'month': 1, 'day': 1}}}},"
" {'id': 'rel:tajikistan.chairs', 'subject': 'country:tajikistan', 'predicate': 'chairs', 'object': 'org:csto',"
"  'valid': {'start': {'kind': 'BOUND_KIND_OBSERVED', 'date': {'precision': 'PRECISION_DAY', 'anchor': 'doc:nodate', 'offset_days': -1}},"
"            'end': {'kind': 'BOUND_KIND_OBSERVED', 'date': {'precision': 'PRECISION_DAY', 'anchor': 'doc:nodate'}}}}],"
"'events': ["
" {'id': 'ev:founded', 'type': 'founding', 'summary': 'The organization is founded.',"
"  'when': {'precision': 'PRECISION_YEAR', 'year': 1992},"
"  'participants': [{'entity': 'org:csto'}, {'entity': 'country:armenia'}]},"
" {'id': 'ev:renamed', 'type': 'renaming', 'summary': 'Renamed CSTO.',"
"  'when': {'precision': 'PRECISION_MONTH', 'year': 2002, 'month': 10}, 'participants': [{'entity': 'org:csto'}]},"
" {'id': 'ev:zas-appointed', 'type': 'appointment', 'summary': 'Zas takes office.',"
"  'when': {'precision': 'PRECISION_DAY', 'year': 2020, 'month': 1, 'day': 1},"
"  'participants': [{'entity': 'person:zas'}, {'entity': 'position:sg'}],"
"  'evidence': [{'document': 'doc:t1', 'sentences': [2], 'span_start': 120, 'span_end': 160}]},"
" {'id': 'ev:meeting', 'type': 'meeting', 'summary': 'Rahmon meets Zas.',"
"  'when': {'precision': 'PRECISION_DAY', 'anchor': 'doc:t1', 'offset_days': -1},"
"  'participants': [{'entity': 'person:rahmon', 'role': 'host'}, {'entity': 'person:zas', 'role': 'visitor'}],"
"  'evidence': [{'document': 'doc:t1', 'sentences': [1], 'span_start': 0, 'span_end': 90, 'modality': 'MODALITY_REPORTED'}]},"
" {'id': 'ev:undated-talk', 'type': 'discussion', 'summary': 'Zas talks, the day before an undated report.',"
"  'when': {'precision': 'PRECISION_DAY', 'anchor': 'doc:nodate', 'offset_days': -1},"
"  'participants': [{'entity': 'person:zas'}]}]}";
/* clang-format on */

typedef struct fixture {
	char dir[64];
	st_store *store;
	st_txn *txn;
	ar_arena a;
	bool ok;
} fixture;

static void rm_dir(const char *dir)
{
	char path[256];
	const char *files[] = {"data.mdb", "lock.mdb"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void load_op(ar_arena *a, Annals__V1__BatchRequest *b, Annals__V1__Op__OpCase c, void *rec)
{
	Annals__V1__Op *op = AR_NEW(a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	op->op_case = c;
	if (c == ANNALS__V1__OP__OP_PUT_DOCUMENT)
		op->put_document = rec;
	else if (c == ANNALS__V1__OP__OP_PUT_EVENT)
		op->put_event = rec;
	else if (c == ANNALS__V1__OP__OP_PUT_ENTITY)
		op->put_entity = rec;
	else
		op->put_relation = rec;
	AR_PUSH(a, b->ops, b->n_ops, op);
}

/* Parses a Dataset and writes it as one batch. */
static bool load_json(fixture *f, const char *json, size_t len)
{
	char err[512] = "";
	Annals__V1__Dataset *d = (Annals__V1__Dataset *)pbjson_parse(&annals__v1__dataset__descriptor, json,
	                                                             len, &f->a, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "  dataset: %s\n", err);
		return false;
	}
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	for (size_t i = 0; i < d->n_documents; i++)
		load_op(&f->a, &b, ANNALS__V1__OP__OP_PUT_DOCUMENT, d->documents[i]);
	for (size_t i = 0; i < d->n_events; i++)
		load_op(&f->a, &b, ANNALS__V1__OP__OP_PUT_EVENT, d->events[i]);
	for (size_t i = 0; i < d->n_entities; i++)
		load_op(&f->a, &b, ANNALS__V1__OP__OP_PUT_ENTITY, d->entities[i]);
	for (size_t i = 0; i < d->n_relations; i++)
		load_op(&f->a, &b, ANNALS__V1__OP__OP_PUT_RELATION, d->relations[i]);
	st_write w = {.op = ST_BATCH, .req = &b.base};
	st_options limits = *st_limits(f->store);
	limits.max_batch_ops = (unsigned)b.n_ops;
	st_err verr = {0};
	if (st_validate(&w, &limits, &verr) != ANNALS_OK) {
		fprintf(stderr, "  dataset invalid: %s\n", verr.msg);
		return false;
	}
	int rc = st_apply(f->store, &w, 1);
	st_write_clear(&w);
	if (rc != ANNALS_OK || w.code != ANNALS_OK) {
		fprintf(stderr, "  apply: %d/%d %s\n", rc, w.code, w.msg);
		return false;
	}
	return true;
}

static bool fixture_open(fixture *f, const char *json, size_t len)
{
	memset(f, 0, sizeof(*f));
	ar_init(&f->a);
	snprintf(f->dir, sizeof(f->dir), "/tmp/annals-test-knowledge-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return false;
	st_options opt = {.no_sync = true};
	st_err err = {0};
	if (st_open(f->dir, &opt, &f->store, &err) != ANNALS_OK) {
		fprintf(stderr, "  st_open: %s\n", err.msg);
		return false;
	}
	if (!load_json(f, json, len))
		return false;
	ar_reset(&f->a);
	f->txn = st_txn_new(f->store);
	f->ok = f->txn != NULL && st_txn_begin(f->txn) == ANNALS_OK;
	return f->ok;
}

static void fixture_close(fixture *f)
{
	if (f->txn != NULL) {
		st_txn_end(f->txn);
		st_txn_free(f->txn);
	}
	if (f->store != NULL)
		st_close(f->store);
	ar_free(&f->a);
	if (f->dir[0] != '\0') /* never opened: nothing to remove */
		rm_dir(f->dir);
}

static fixture fx; /* the test data set, opened once in main */

static Annals__V1__Date *mkdate(const char *s)
{
	Annals__V1__Date *d = ar_alloc(&fx.a, sizeof(*d));
	char msg[128];
	if (date_parse(s, d, msg, sizeof(msg)) != 0)
		fprintf(stderr, "  bad test date %s: %s\n", s, msg);
	return d;
}

/* ---- entity references ---------------------------------------------------------- */

static void test_entity_ref(void)
{
	Annals__V1__Entity *e;
	st_err err;
	CHECK_EQ_INT(st_entity_ref(fx.txn, "person:zas", "entity", &fx.a, &e, &err), ANNALS_OK);
	CHECK_EQ_STR(e->id, "person:zas");
	CHECK_EQ_INT(st_entity_ref(fx.txn, "stanislav ZAS", "entity", &fx.a, &e, &err), ANNALS_OK);
	CHECK_EQ_STR(e->id, "person:zas");
	CHECK_EQ_INT(st_entity_ref(fx.txn, "csto", "organization", &fx.a, &e, &err), ANNALS_OK);
	CHECK_EQ_STR(e->id, "org:csto");

	CHECK_EQ_INT(st_entity_ref(fx.txn, "CST", "entity", &fx.a, &e, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_INT(err.code, ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_STR(err.msg,
	             "entity: 'CST' is ambiguous: org:csto (Collective Security Treaty Organization), "
	             "treaty:cst (Collective Security Treaty); give an id");
	CHECK(e == NULL);

	CHECK_EQ_INT(st_entity_ref(fx.txn, "Atlantis", "object", &fx.a, &e, &err), ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "object:");
	CHECK_CONTAINS(err.msg, "'Atlantis'");
	CHECK_EQ_INT(st_entity_ref(fx.txn, "", "entity", &fx.a, &e, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "entity: required");
	/* a relation id is not an entity */
	CHECK_EQ_INT(st_entity_ref(fx.txn, "rel:zas.sg", "entity", &fx.a, &e, &err), ANNALS_NOT_FOUND);
}

/* ---- Resolve ---------------------------------------------------------------------- */

static const Annals__V1__Candidate *find_candidate(const Annals__V1__ResolveReply *r, const char *id)
{
	for (size_t i = 0; i < r->n_candidates; i++)
		if (strcmp(r->candidates[i]->entity, id) == 0)
			return r->candidates[i];
	return NULL;
}

static void test_resolve(void)
{
	Annals__V1__ResolveRequest in = ANNALS__V1__RESOLVE_REQUEST__INIT;
	Annals__V1__ResolveReply out = ANNALS__V1__RESOLVE_REPLY__INIT;
	st_err err;
	in.name = "cst";
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out.n_candidates, 2);
	const Annals__V1__Candidate *org = find_candidate(&out, "org:csto");
	const Annals__V1__Candidate *tr = find_candidate(&out, "treaty:cst");
	CHECK(org != NULL && tr != NULL);
	if (org == NULL || tr == NULL)
		return;
	CHECK_EQ_STR(org->matched, "CST");
	CHECK_EQ_INT(org->kind, ANNALS__V1__NAME_KIND__NAME_KIND_ACRONYM);
	CHECK_EQ_STR(org->display_name, "Collective Security Treaty Organization");
	CHECK_EQ_INT(org->type, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION);
	CHECK(org->valid != NULL);
	CHECK_EQ_INT(org->valid_at, ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED);

	/* with a date: the organization's "CST" was in use in 1995, not in 2010 */
	Annals__V1__ResolveReply out2 = ANNALS__V1__RESOLVE_REPLY__INIT;
	in.at = mkdate("1995");
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out2, &err), &(&out2)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(find_candidate(&out2, "org:csto")->valid_at, ANNALS__V1__TRUTH__TRUTH_TRUE);
	CHECK_EQ_INT(find_candidate(&out2, "treaty:cst")->valid_at, ANNALS__V1__TRUTH__TRUTH_TRUE);
	Annals__V1__ResolveReply out3 = ANNALS__V1__RESOLVE_REPLY__INIT;
	in.at = mkdate("2010");
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out3, &err), &(&out3)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(find_candidate(&out3, "org:csto")->valid_at, ANNALS__V1__TRUTH__TRUTH_FALSE);
	/* the year of the renaming: unknown */
	Annals__V1__ResolveReply out4 = ANNALS__V1__RESOLVE_REPLY__INIT;
	in.at = mkdate("2002");
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out4, &err), &(&out4)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(find_candidate(&out4, "org:csto")->valid_at, ANNALS__V1__TRUTH__TRUTH_UNKNOWN);

	/* a type filter */
	Annals__V1__ResolveReply out5 = ANNALS__V1__RESOLVE_REPLY__INIT;
	in.at = NULL;
	in.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_TREATY;
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out5, &err), &(&out5)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out5.n_candidates, 1);
	CHECK_EQ_STR(out5.candidates[0]->entity, "treaty:cst");

	/* nothing by that name: no candidates, not an error */
	Annals__V1__ResolveReply out6 = ANNALS__V1__RESOLVE_REPLY__INIT;
	in.type = 0;
	in.name = "Atlantis";
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out6, &err), &(&out6)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out6.n_candidates, 0);
	in.name = "";
	CHECK_EQ_INT(read_back(kn_q_resolve(fx.txn, &in, &fx.a, &out6, &err), &(&out6)->base, &fx.a),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "name: required");
}

/* ---- NameAt ------------------------------------------------------------------------ */

static int name_at(const char *entity, const char *at, const char *at_doc, Annals__V1__NameAtReply *out,
                   st_err *err)
{
	Annals__V1__NameAtRequest in = ANNALS__V1__NAME_AT_REQUEST__INIT;
	Annals__V1__NameAtReply init = ANNALS__V1__NAME_AT_REPLY__INIT;
	*out = init;
	in.entity = (char *)entity;
	in.at = at ? mkdate(at) : NULL;
	in.at_document = (char *)(at_doc ? at_doc : "");
	return read_back(kn_q_name_at(fx.txn, &in, &fx.a, out, err), &(out)->base, &fx.a);
}

static void test_name_at(void)
{
	Annals__V1__NameAtReply out;
	st_err err;
	CHECK_EQ_INT(name_at("org:csto", "1995", NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_STR(out.entity, "org:csto");
	CHECK_EQ_STR(out.name, "Collective Security Treaty");
	CHECK_EQ_INT(out.truth, ANNALS__V1__TRUTH__TRUTH_TRUE);
	CHECK_EQ_INT(out.n_names, 4);
	CHECK_EQ_INT(out.names[0]->truth, ANNALS__V1__TRUTH__TRUTH_FALSE); /* the CSTO name: not yet */
	CHECK_EQ_INT(out.names[2]->truth, ANNALS__V1__TRUTH__TRUTH_TRUE);

	CHECK_EQ_INT(name_at("CSTO", "2010-03-04", NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_STR(out.name, "Collective Security Treaty Organization");
	CHECK_EQ_INT(out.truth, ANNALS__V1__TRUTH__TRUTH_TRUE);

	/* October 2002 as a whole: renamed during it, so no name is certain */
	CHECK_EQ_INT(name_at("org:csto", "2002-10", NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_STR(out.name, "");
	CHECK_EQ_INT(out.truth, ANNALS__V1__TRUTH__TRUTH_UNKNOWN);

	/* at the publication of a dated document */
	CHECK_EQ_INT(name_at("org:csto", NULL, "doc:t1", &out, &err), ANNALS_OK);
	CHECK_EQ_STR(out.name, "Collective Security Treaty Organization");

	/* no date: the current name, no truth claimed */
	CHECK_EQ_INT(name_at("org:csto", NULL, NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_STR(out.name, "Collective Security Treaty Organization");
	CHECK_EQ_INT(out.truth, ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED);
	CHECK_EQ_INT(out.names[0]->truth, ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED);

	CHECK_EQ_INT(name_at("org:csto", NULL, "doc:nodate", &out, &err), ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.msg, "document doc:nodate has no known publication date");
	CHECK_EQ_INT(name_at("org:csto", NULL, "doc:missing", &out, &err), ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "at_document");
	CHECK_EQ_INT(name_at("org:csto", "2019", "doc:t1", &out, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "not both");
	CHECK_EQ_INT(name_at("CST", "2019", NULL, &out, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "ambiguous");

	/* a bad date names its field */
	Annals__V1__NameAtRequest in = ANNALS__V1__NAME_AT_REQUEST__INIT;
	Annals__V1__Date bad = ANNALS__V1__DATE__INIT;
	bad.precision = ANNALS__V1__PRECISION__PRECISION_MONTH;
	bad.year = 2019;
	bad.month = 13;
	in.entity = "org:csto";
	in.at = &bad;
	CHECK_EQ_INT(read_back(kn_q_name_at(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_STR(err.msg, "at.month: 13 is not a month");
	/* a relative `at` resolves through its anchor, or fails clearly */
	Annals__V1__Date rel = ANNALS__V1__DATE__INIT;
	rel.precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	rel.anchor = "doc:t1";
	rel.offset_years = -10;
	in.at = &rel;
	CHECK_EQ_INT(read_back(kn_q_name_at(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(out.name, "Collective Security Treaty Organization");
	rel.anchor = "doc:nodate";
	CHECK_EQ_INT(read_back(kn_q_name_at(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.msg, "at: ");
}

/* ---- Relations and History ------------------------------------------------------------ */

static const Annals__V1__RelationFact *find_fact(const Annals__V1__RelationsReply *r, const char *id)
{
	for (size_t i = 0; i < r->n_facts; i++)
		if (strcmp(r->facts[i]->relation->id, id) == 0)
			return r->facts[i];
	return NULL;
}

static int relations(const char *entity, const char *predicate, const char *object, bool inverse,
                     const char *at, Annals__V1__RelationsReply *out, st_err *err)
{
	Annals__V1__RelationsRequest in = ANNALS__V1__RELATIONS_REQUEST__INIT;
	Annals__V1__RelationsReply init = ANNALS__V1__RELATIONS_REPLY__INIT;
	*out = init;
	in.entity = (char *)entity;
	in.predicate = (char *)(predicate ? predicate : "");
	in.object = (char *)(object ? object : "");
	in.inverse = inverse;
	in.at = at ? mkdate(at) : NULL;
	return read_back(kn_q_relations(fx.txn, &in, &fx.a, out, err), &(out)->base, &fx.a);
}

static Annals__V1__Truth truth_of(const char *entity, const char *rel, const char *at)
{
	Annals__V1__RelationsReply out;
	st_err err;
	if (relations(entity, NULL, NULL, false, at, &out, &err) != ANNALS_OK)
		return 0;
	const Annals__V1__RelationFact *f = find_fact(&out, rel);
	return f ? f->truth : 0;
}

static void test_relations_truth(void)
{
	enum {
		T = ANNALS__V1__TRUTH__TRUTH_TRUE,
		F = ANNALS__V1__TRUTH__TRUTH_FALSE,
		U = ANNALS__V1__TRUTH__TRUTH_UNKNOWN
	};
	/* Zas: in office from 2020-01-01, seen in office at the 2021-05-13 publication */
	CHECK_EQ_INT(truth_of("person:zas", "rel:zas.sg", "2019-12-31"), F);
	CHECK_EQ_INT(truth_of("person:zas", "rel:zas.sg", "2020-01-01"), T);
	CHECK_EQ_INT(truth_of("person:zas", "rel:zas.sg", "2021-05-13"), T);
	CHECK_EQ_INT(truth_of("person:zas", "rel:zas.sg", "2021-05-14"), U);
	CHECK_EQ_INT(truth_of("person:zas", "rel:zas.sg", "2020"), T);
	CHECK_EQ_INT(truth_of("person:zas", "rel:zas.sg", "2019"), F);
	/* Azerbaijan: joined "the year after" the 1992 founding, relative to an event */
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "1992-12-31"), F);
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "1993-06-01"), U);
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "1993"), U);
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "1993-12-31"), T);
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "1999-03-31"), T);
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "1999-04-01"), U);
	CHECK_EQ_INT(truth_of("country:azerbaijan", "rel:azerbaijan.member", "2020"), U);
	/* a fact anchored to an undated document stays unknown */
	CHECK_EQ_INT(truth_of("country:tajikistan", "rel:tajikistan.chairs", "2021"), U);
	CHECK_EQ_INT(truth_of("country:tajikistan", "rel:tajikistan.chairs", "1800"), U);
}

static void test_relations_reasons_and_filters(void)
{
	Annals__V1__RelationsReply out;
	st_err err;
	CHECK_EQ_INT(relations("Azerbaijan", "member_of", "CSTO", false, "2000", &out, &err), ANNALS_OK);
	CHECK_EQ_INT(out.n_facts, 1);
	const Annals__V1__RelationFact *f = out.n_facts ? out.facts[0] : NULL;
	if (f == NULL)
		return;
	CHECK_EQ_INT(f->truth, ANNALS__V1__TRUTH__TRUTH_UNKNOWN);
	CHECK_CONTAINS(f->reason, "may have ended");
	CHECK_CONTAINS(f->reason, "ended at or after 1999-04 (month)");
	CHECK_CONTAINS(f->reason, "missing from the 1999 renewal");
	CHECK_EQ_STR(f->subject_name, "Azerbaijan");
	CHECK_EQ_STR(f->object_name, "Collective Security Treaty Organization");
	/* the relative start was resolved in the reply */
	CHECK(f->relation->valid->start->date->resolved);
	CHECK_EQ_INT(f->relation->valid->start->date->year, 1993);

	CHECK_EQ_INT(relations("person:zas", "holds_position", NULL, false, "2020-06-01", &out, &err),
	             ANNALS_OK);
	CHECK_EQ_INT(out.n_facts, 1);
	CHECK_CONTAINS(out.facts[0]->reason, "started 2020-01-01 (day)");
	CHECK_CONTAINS(out.facts[0]->reason, "observed still holding 2021-05-13 (day)");
	CHECK_EQ_INT(relations("person:zas", "holds_position", NULL, false, "2019-06", &out, &err),
	             ANNALS_OK);
	CHECK_CONTAINS(out.facts[0]->reason, "not yet begun");
	CHECK_EQ_INT(relations("Uzbekistan", "member_of", NULL, false, "2015", &out, &err), ANNALS_OK);
	const Annals__V1__RelationFact *over = find_fact(&out, "rel:uzbekistan.member.2006");
	CHECK(over != NULL && over->truth == ANNALS__V1__TRUTH__TRUTH_FALSE);
	if (over != NULL)
		CHECK_CONTAINS(over->reason, "over by 2015 (year): ended 2012-06-28 (day)");
	CHECK_EQ_INT(relations("country:tajikistan", "chairs", NULL, false, "2021", &out, &err), ANNALS_OK);
	CHECK_CONTAINS(out.facts[0]->reason, "unresolved");
	CHECK_CONTAINS(out.facts[0]->reason, "doc:nodate");

	/* inverse: who is related to the organization; `object` filters the subject */
	CHECK_EQ_INT(relations("org:csto", "member_of", "Uzbekistan", true, NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_INT(out.n_facts, 4);
	CHECK_EQ_INT(out.facts[0]->truth, ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED);
	CHECK_EQ_INT(relations("org:csto", NULL, NULL, true, NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_INT(out.n_facts, 8); /* 7 membership segments and the chair */
	CHECK_EQ_INT(relations("org:csto", NULL, NULL, false, NULL, &out, &err), ANNALS_OK);
	CHECK_EQ_INT(out.n_facts, 0);
	CHECK_EQ_INT(relations("org:csto", NULL, "Atlantis", true, NULL, &out, &err), ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "object: ");
	CHECK_EQ_INT(relations("nobody", NULL, NULL, false, NULL, &out, &err), ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "entity: ");
}

static void test_history(void)
{
	Annals__V1__HistoryRequest in = ANNALS__V1__HISTORY_REQUEST__INIT;
	Annals__V1__RelationsReply out = ANNALS__V1__RELATIONS_REPLY__INIT;
	st_err err;
	in.entity = "country:uzbekistan";
	in.predicate = "member_of";
	CHECK_EQ_INT(read_back(kn_q_history(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out.n_facts, 4);
	if (out.n_facts != 4)
		return;
	CHECK_EQ_STR(out.facts[0]->relation->id, "rel:uzbekistan.member.1992");
	CHECK_EQ_STR(out.facts[1]->relation->id, "rel:uzbekistan.member.1999");
	CHECK_EQ_STR(out.facts[2]->relation->id, "rel:uzbekistan.member.2006");
	CHECK_EQ_STR(out.facts[3]->relation->id, "rel:uzbekistan.member.2012");
	CHECK_EQ_INT(out.facts[0]->truth, ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED);
	CHECK_EQ_STR(out.facts[0]->reason, "started 1992 (year); ended 1999 (year)");
	/* from the organization's side, filtered to one member */
	Annals__V1__RelationsReply out2 = ANNALS__V1__RELATIONS_REPLY__INIT;
	in.entity = "org:csto";
	in.object = "Uzbekistan";
	CHECK_EQ_INT(read_back(kn_q_history(fx.txn, &in, &fx.a, &out2, &err), &(&out2)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out2.n_facts, 4);
	/* the organization's whole membership history, in time order */
	Annals__V1__RelationsReply out3 = ANNALS__V1__RELATIONS_REPLY__INIT;
	in.object = "";
	CHECK_EQ_INT(read_back(kn_q_history(fx.txn, &in, &fx.a, &out3, &err), &(&out3)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out3.n_facts, 7);
	for (size_t i = 1; i < out3.n_facts; i++) {
		int32_t a = out3.facts[i - 1]->relation->valid->start->date->earliest;
		int32_t b = out3.facts[i]->relation->valid->start->date->earliest;
		CHECK(a <= b);
	}
}

/* ---- Members ------------------------------------------------------------------------- */

static int members(const char *org, const char *at, Annals__V1__MembersReply *out, st_err *err)
{
	Annals__V1__MembersRequest in = ANNALS__V1__MEMBERS_REQUEST__INIT;
	Annals__V1__MembersReply init = ANNALS__V1__MEMBERS_REPLY__INIT;
	*out = init;
	in.organization = (char *)org;
	in.at = at ? mkdate(at) : NULL;
	return read_back(kn_q_members(fx.txn, &in, &fx.a, out, err), &(out)->base, &fx.a);
}

static const char *names_of(Annals__V1__Member **m, size_t n)
{
	char *s = ar_strdup(&fx.a, "");
	for (size_t i = 0; i < n; i++)
		s = ar_printf(&fx.a, "%s%s%s", s, i ? "," : "", m[i]->name);
	return s;
}

static void test_members(void)
{
	Annals__V1__MembersReply out;
	st_err err;
	CHECK_EQ_INT(members("CSTO", "2008", &out, &err), ANNALS_OK);
	CHECK_EQ_STR(out.organization, "org:csto");
	CHECK_EQ_STR(names_of(out.members, out.n_members), "Armenia,Tajikistan,Uzbekistan");
	CHECK_EQ_STR(names_of(out.unknown, out.n_unknown), "Azerbaijan");
	CHECK_EQ_INT(out.n_suspended, 0);
	CHECK_EQ_INT(out.n_not_members, 0);
	if (out.n_members == 3) {
		const Annals__V1__Member *uz = out.members[2];
		CHECK_EQ_STR(uz->entity, "country:uzbekistan");
		CHECK_EQ_STR(uz->status, "active");
		CHECK_EQ_INT(uz->truth, ANNALS__V1__TRUTH__TRUTH_TRUE);
		CHECK_EQ_STR(uz->deciding->relation->id, "rel:uzbekistan.member.2006");
		CHECK_EQ_INT(uz->deciding->truth, ANNALS__V1__TRUTH__TRUTH_TRUE);
		CHECK(uz->deciding->relation->n_evidence == 1);
	}
	if (out.n_unknown == 1) {
		CHECK_EQ_INT(out.unknown[0]->truth, ANNALS__V1__TRUTH__TRUTH_UNKNOWN);
		CHECK_EQ_STR(out.unknown[0]->status, "");
		CHECK_CONTAINS(out.unknown[0]->deciding->reason, "1999-04");
	}

	CHECK_EQ_INT(members("org:csto", "2003", &out, &err), ANNALS_OK);
	CHECK_EQ_STR(names_of(out.suspended, out.n_suspended), "Uzbekistan");
	if (out.n_suspended == 1) {
		CHECK_EQ_STR(out.suspended[0]->status, "suspended");
		CHECK_EQ_INT(out.suspended[0]->truth, ANNALS__V1__TRUTH__TRUTH_FALSE);
		CHECK_EQ_STR(out.suspended[0]->deciding->relation->id, "rel:uzbekistan.member.1999");
	}
	CHECK_EQ_INT(members("org:csto", "2012-06-28", &out, &err), ANNALS_OK);
	CHECK_EQ_STR(names_of(out.suspended, out.n_suspended), "Uzbekistan");
	CHECK_EQ_INT(members("org:csto", "2012-06-27", &out, &err), ANNALS_OK);
	CHECK_EQ_STR(names_of(out.members, out.n_members), "Armenia,Tajikistan,Uzbekistan");
	/* 1999 as a whole: Uzbekistan was suspended during it, nobody can say when */
	CHECK_EQ_INT(members("org:csto", "1999", &out, &err), ANNALS_OK);
	CHECK_EQ_STR(names_of(out.unknown, out.n_unknown), "Azerbaijan,Uzbekistan");
	CHECK_EQ_STR(names_of(out.members, out.n_members), "Armenia,Tajikistan");
	/* before the founding: nobody, each with the segment that says so */
	CHECK_EQ_INT(members("org:csto", "1991", &out, &err), ANNALS_OK);
	CHECK_EQ_INT(out.n_members + out.n_unknown + out.n_suspended, 0);
	CHECK_EQ_STR(names_of(out.not_members, out.n_not_members),
	             "Armenia,Azerbaijan,Tajikistan,Uzbekistan");
	if (out.n_not_members == 4) {
		CHECK_CONTAINS(out.not_members[3]->deciding->reason, "not yet begun");
		CHECK_EQ_STR(out.not_members[3]->deciding->relation->id, "rel:uzbekistan.member.1992");
	}
	CHECK_EQ_INT(members("org:csto", NULL, &out, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "at: required");
	CHECK_EQ_INT(members("CST", "2008", &out, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "organization: 'CST' is ambiguous");
}

/* ---- Holder and Succession ----------------------------------------------------------------- */

static void test_holder(void)
{
	Annals__V1__HolderRequest in = ANNALS__V1__HOLDER_REQUEST__INIT;
	Annals__V1__HolderReply out = ANNALS__V1__HOLDER_REPLY__INIT;
	st_err err;
	in.position = "Secretary General of the CSTO";
	in.at = mkdate("2020-06-01");
	CHECK_EQ_INT(read_back(kn_q_holder(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a), ANNALS_OK);
	CHECK_EQ_STR(out.position, "position:sg");
	CHECK_EQ_INT(out.n_holders, 1); /* Khachaturov is certainly out: omitted */
	if (out.n_holders == 1) {
		CHECK_EQ_STR(out.holders[0]->relation->subject, "person:zas");
		CHECK_EQ_INT(out.holders[0]->truth, ANNALS__V1__TRUTH__TRUTH_TRUE);
		CHECK_EQ_STR(out.holders[0]->subject_name, "Stanislav Zas");
	}
	/* mid-2019: Khachaturov's start is not stated and his end only "before 2020" */
	Annals__V1__HolderReply out2 = ANNALS__V1__HOLDER_REPLY__INIT;
	in.at = mkdate("2019-06");
	CHECK_EQ_INT(read_back(kn_q_holder(fx.txn, &in, &fx.a, &out2, &err), &(&out2)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out2.n_holders, 1);
	if (out2.n_holders == 1) {
		CHECK_EQ_STR(out2.holders[0]->relation->subject, "person:khachaturov");
		CHECK_EQ_INT(out2.holders[0]->truth, ANNALS__V1__TRUTH__TRUTH_UNKNOWN);
		CHECK_CONTAINS(out2.holders[0]->reason, "start not stated");
	}
	/* after the last observation: unknown, but still listed */
	Annals__V1__HolderReply out3 = ANNALS__V1__HOLDER_REPLY__INIT;
	in.at = mkdate("2023");
	CHECK_EQ_INT(read_back(kn_q_holder(fx.txn, &in, &fx.a, &out3, &err), &(&out3)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out3.n_holders, 1);
	if (out3.n_holders == 1)
		CHECK_EQ_INT(out3.holders[0]->truth, ANNALS__V1__TRUTH__TRUTH_UNKNOWN);
	in.at = NULL;
	CHECK_EQ_INT(read_back(kn_q_holder(fx.txn, &in, &fx.a, &out3, &err), &(&out3)->base, &fx.a),
	             ANNALS_INVALID_ARGUMENT);
	in.at_document = "doc:t1";
	Annals__V1__HolderReply out4 = ANNALS__V1__HOLDER_REPLY__INIT;
	CHECK_EQ_INT(read_back(kn_q_holder(fx.txn, &in, &fx.a, &out4, &err), &(&out4)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out4.n_holders, 1);
}

static void test_succession(void)
{
	Annals__V1__SuccessionRequest in = ANNALS__V1__SUCCESSION_REQUEST__INIT;
	Annals__V1__SuccessionReply out = ANNALS__V1__SUCCESSION_REPLY__INIT;
	st_err err;
	in.position = "position:sg";
	CHECK_EQ_INT(read_back(kn_q_succession(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(out.position, "position:sg");
	CHECK_EQ_INT(out.n_tenures, 2);
	if (out.n_tenures != 2)
		return;
	/* no start, ended by 2020-01-01: before the tenure that began that day */
	CHECK_EQ_STR(out.tenures[0]->holder, "person:khachaturov");
	CHECK_EQ_STR(out.tenures[0]->name, "Yuri Khachaturov");
	CHECK_EQ_STR(out.tenures[0]->predecessor, "");
	CHECK_EQ_STR(out.tenures[0]->successor, "person:zas");
	CHECK_EQ_STR(out.tenures[1]->holder, "person:zas");
	CHECK_EQ_STR(out.tenures[1]->predecessor, "person:khachaturov");
	CHECK_EQ_STR(out.tenures[1]->successor, "");
	CHECK_EQ_STR(out.tenures[1]->relation->id, "rel:zas.sg");
	in.position = "Atlantis";
	CHECK_EQ_INT(read_back(kn_q_succession(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "position: ");
	/* a person is no office: said so, not answered with an empty chain */
	Annals__V1__SuccessionReply out2 = ANNALS__V1__SUCCESSION_REPLY__INIT;
	in.position = "person:zas";
	CHECK_EQ_INT(read_back(kn_q_succession(fx.txn, &in, &fx.a, &out2, &err), &(&out2)->base, &fx.a),
	             ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.msg, "person:zas is a person, not a position");
}

/* ---- Evidence and Facts ---------------------------------------------------------------------- */

static void test_evidence(void)
{
	Annals__V1__EvidenceRequest in = ANNALS__V1__EVIDENCE_REQUEST__INIT;
	Annals__V1__EvidenceReply out = ANNALS__V1__EVIDENCE_REPLY__INIT;
	st_err err;
	in.id = "person:zas";
	CHECK_EQ_INT(read_back(kn_q_evidence(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(out.record->kind, ANNALS__V1__RECORD_KIND__RECORD_KIND_ENTITY);
	CHECK_EQ_STR(out.record->id, "person:zas");
	CHECK_EQ_INT(out.n_items, 3);
	if (out.n_items == 3) {
		CHECK_EQ_STR(out.items[0]->path, "");
		CHECK_EQ_STR(out.items[0]->fact, "Stanislav Zas (person:zas) is a person");
		CHECK_EQ_STR(out.items[1]->path, "names[0]");
		CHECK_EQ_STR(out.items[1]->fact, "Stanislav Zas is called \"Stanislav Zas\" (official name)");
		CHECK_EQ_STR(out.items[2]->path, "attributes[0]");
		CHECK_EQ_STR(out.items[2]->fact, "Stanislav Zas: rank is Major-General");
		CHECK_EQ_STR(out.items[2]->evidence->document, "doc:t1");
	}
	Annals__V1__EvidenceReply rel = ANNALS__V1__EVIDENCE_REPLY__INIT;
	in.id = "rel:zas.sg";
	CHECK_EQ_INT(read_back(kn_q_evidence(fx.txn, &in, &fx.a, &rel, &err), &(&rel)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(rel.record->kind, ANNALS__V1__RECORD_KIND__RECORD_KIND_RELATION);
	CHECK_EQ_INT(rel.n_items, 1);
	if (rel.n_items == 1)
		CHECK_EQ_STR(rel.items[0]->fact,
		             "Stanislav Zas holds_position Secretary General of the CSTO; "
		             "started 2020-01-01 (day); observed still holding 2021-05-13 (day), "
		             "so ended then or later, if at all");
	Annals__V1__EvidenceReply ev = ANNALS__V1__EVIDENCE_REPLY__INIT;
	in.id = "ev:meeting";
	CHECK_EQ_INT(read_back(kn_q_evidence(fx.txn, &in, &fx.a, &ev, &err), &(&ev)->base, &fx.a), ANNALS_OK);
	CHECK_EQ_INT(ev.n_items, 1);
	if (ev.n_items == 1)
		CHECK_EQ_STR(ev.items[0]->fact, "Rahmon meets Zas. (meeting, 2021-05-12 (day))");
	Annals__V1__EvidenceReply none = ANNALS__V1__EVIDENCE_REPLY__INIT;
	in.id = "person:khachaturov";
	CHECK_EQ_INT(read_back(kn_q_evidence(fx.txn, &in, &fx.a, &none, &err), &(&none)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(none.n_items, 0);
	in.id = "nothing:here";
	CHECK_EQ_INT(read_back(kn_q_evidence(fx.txn, &in, &fx.a, &none, &err), &(&none)->base, &fx.a),
	             ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "nothing:here");
}

static void test_facts(void)
{
	Annals__V1__FactsRequest in = ANNALS__V1__FACTS_REQUEST__INIT;
	Annals__V1__FactsReply out = ANNALS__V1__FACTS_REPLY__INIT;
	st_err err;
	in.document = "doc:t1";
	CHECK_EQ_INT(read_back(kn_q_facts(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a), ANNALS_OK);
	CHECK_EQ_STR(out.document, "doc:t1");
	/* org:csto 2, zas 3, rel:uzbekistan 2006 1, rel:zas.sg 1, two events */
	CHECK_EQ_INT(out.n_facts, 9);
	for (size_t i = 1; i < out.n_facts; i++)
		CHECK(out.facts[i - 1]->sentence <= out.facts[i]->sentence);

	Annals__V1__FactsReply s2 = ANNALS__V1__FACTS_REPLY__INIT;
	in.sentence = 2;
	CHECK_EQ_INT(read_back(kn_q_facts(fx.txn, &in, &fx.a, &s2, &err), &(&s2)->base, &fx.a), ANNALS_OK);
	CHECK_EQ_INT(s2.n_facts, 3); /* Zas (sentences 1 and 2), his rank, the appointment */
	bool rank = false;
	for (size_t i = 0; i < s2.n_facts; i++) {
		CHECK_EQ_INT(s2.facts[i]->sentence, 2);
		if (strcmp(s2.facts[i]->path, "attributes[0]") == 0) {
			rank = true;
			CHECK_EQ_STR(s2.facts[i]->record->id, "person:zas");
			CHECK_EQ_INT(s2.facts[i]->record->kind, ANNALS__V1__RECORD_KIND__RECORD_KIND_ENTITY);
			CHECK_EQ_STR(s2.facts[i]->fact, "Stanislav Zas: rank is Major-General");
		}
	}
	CHECK(rank);
	in.sentence = 99;
	CHECK_EQ_INT(read_back(kn_q_facts(fx.txn, &in, &fx.a, &s2, &err), &(&s2)->base, &fx.a),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "sentence: 99");
	in.sentence = 0;
	in.document = "doc:gone";
	CHECK_EQ_INT(read_back(kn_q_facts(fx.txn, &in, &fx.a, &s2, &err), &(&s2)->base, &fx.a),
	             ANNALS_NOT_FOUND);
	CHECK_CONTAINS(err.msg, "document: ");
	Annals__V1__FactsReply quiet = ANNALS__V1__FACTS_REPLY__INIT;
	in.document = "doc:nodate";
	CHECK_EQ_INT(read_back(kn_q_facts(fx.txn, &in, &fx.a, &quiet, &err), &(&quiet)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_INT(quiet.n_facts, 0);
}

/* ---- Timeline ----------------------------------------------------------------------------- */

static const char *kinds_of(const Annals__V1__TimelineReply *r)
{
	char *s = ar_strdup(&fx.a, "");
	for (size_t i = 0; i < r->n_items; i++)
		s = ar_printf(&fx.a, "%s%s%s%s", s, i ? "," : "", r->items[i]->kind,
		              r->items[i]->undated ? "?" : "");
	return s;
}

static void test_timeline(void)
{
	Annals__V1__TimelineRequest in = ANNALS__V1__TIMELINE_REQUEST__INIT;
	Annals__V1__TimelineReply out = ANNALS__V1__TIMELINE_REPLY__INIT;
	st_err err;
	in.entity = "Stanislav Zas";
	CHECK_EQ_INT(read_back(kn_q_timeline(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(out.entity, "person:zas");
	/* 2020-01-01 appointment and tenure start; the meeting "yesterday" of
	 * 2021-05-13; the tenure last seen then; the talk of an undated report */
	CHECK_EQ_STR(kinds_of(&out), "event,relation_start,event,relation_end,event?");
	if (out.n_items == 5) {
		CHECK_EQ_STR(out.items[0]->event->id, "ev:zas-appointed");
		CHECK_EQ_STR(out.items[2]->event->id, "ev:meeting");
		CHECK(out.items[2]->when->resolved);
		CHECK_EQ_INT(out.items[2]->when->day, 12);
		CHECK_CONTAINS(out.items[3]->description, "observed still holding 2021-05-13");
		CHECK_EQ_STR(out.items[4]->event->id, "ev:undated-talk");
		CHECK(!out.items[4]->when->resolved);
	}
	/* from 2021: the 2020 items drop out, the undated one stays */
	Annals__V1__TimelineReply out2 = ANNALS__V1__TIMELINE_REPLY__INIT;
	in.from = mkdate("2021");
	CHECK_EQ_INT(read_back(kn_q_timeline(fx.txn, &in, &fx.a, &out2, &err), &(&out2)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(kinds_of(&out2), "event,relation_end,event?");
	Annals__V1__TimelineReply out3 = ANNALS__V1__TIMELINE_REPLY__INIT;
	in.from = NULL;
	in.to = mkdate("2020-01");
	CHECK_EQ_INT(read_back(kn_q_timeline(fx.txn, &in, &fx.a, &out3, &err), &(&out3)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(kinds_of(&out3), "event,relation_start,event?");

	/* an organization: its names change, its members come and go */
	Annals__V1__TimelineReply org = ANNALS__V1__TIMELINE_REPLY__INIT;
	in.entity = "org:csto";
	in.to = mkdate("1993");
	CHECK_EQ_INT(read_back(kn_q_timeline(fx.txn, &in, &fx.a, &org, &err), &(&org)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(kinds_of(&org),
	             "event,relation_start,relation_start,relation_start,name_start,name_start,"
	             "relation_start,relation_start?,relation_end?");
	in.from = mkdate("2000");
	CHECK_EQ_INT(read_back(kn_q_timeline(fx.txn, &in, &fx.a, &org, &err), &(&org)->base, &fx.a),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "to: ");
}

/* ---- the built-in data set, and speed -------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Opens the built-in data set as a fixture; false (and skipped) when the
 * file cannot be found, which is a failure when run by tests/run.sh. */
static bool open_seed(fixture *seed)
{
	/* tests/run.sh says where the tree is; by hand, run from its root */
	const char *root = getenv("ANNALS_ROOT");
	char path[512];
	snprintf(path, sizeof(path), "%s/data/seed/dataset.json", root ? root : ".");
	size_t len = 0;
	char *json = read_file(path, &len);
	CHECK(json != NULL || root == NULL);
	if (json == NULL) {
		fprintf(stderr, "  %s not found: skipped\n", path);
		memset(seed, 0, sizeof(*seed));
		return false;
	}
	bool ok = fixture_open(seed, json, len);
	free(json);
	CHECK(ok);
	return ok;
}

/* ---- the founding article's unknown publication date ------------------------------------ */

#define SEED_DOC "doc:ad6eff3e562ac92b"

static Annals__V1__Truth seed_fact(fixture *seed, const char *entity, const char *rel_id)
{
	Annals__V1__RelationsRequest in = ANNALS__V1__RELATIONS_REQUEST__INIT;
	Annals__V1__RelationsReply out = ANNALS__V1__RELATIONS_REPLY__INIT;
	st_err err;
	in.entity = (char *)entity;
	in.at_document = SEED_DOC;
	if (read_back(kn_q_relations(seed->txn, &in, &seed->a, &out, &err), &(&out)->base, &seed->a) !=
	    ANNALS_OK)
		return 0;
	CHECK(out.publication != NULL && out.publication->derived);
	for (size_t i = 0; i < out.n_facts; i++)
		if (strcmp(out.facts[i]->relation->id, rel_id) == 0)
			return out.facts[i]->truth;
	return 0;
}

/* The article gives no date, but reports the 2020-01-01 appointment as
 * past: at its publication, what it observes as current is TRUE, what
 * ended before 2020 FALSE, what may have ended since 1999 UNKNOWN. */
static void check_seed_at_publication(fixture *seed)
{
	enum {
		T = ANNALS__V1__TRUTH__TRUTH_TRUE,
		F = ANNALS__V1__TRUTH__TRUTH_FALSE,
		U = ANNALS__V1__TRUTH__TRUTH_UNKNOWN
	};
	st_err err;
	Annals__V1__MembersRequest in = ANNALS__V1__MEMBERS_REQUEST__INIT;
	Annals__V1__MembersReply out = ANNALS__V1__MEMBERS_REPLY__INIT;
	in.organization = "CSTO";
	in.at_document = SEED_DOC;
	CHECK_EQ_INT(read_back(kn_q_members(seed->txn, &in, &seed->a, &out, &err), &(&out)->base, &seed->a),
	             ANNALS_OK);
	CHECK_EQ_STR(names_of(out.members, out.n_members),
	             "Armenia,Belarus,Kazakhstan,Kyrgyzstan,Russia,Tajikistan");
	CHECK_EQ_STR(names_of(out.suspended, out.n_suspended), "Uzbekistan");
	CHECK_EQ_STR(names_of(out.unknown, out.n_unknown), "Azerbaijan,Georgia");
	if (out.n_unknown > 0)
		CHECK_CONTAINS(out.unknown[0]->deciding->reason, "2020-01-01 or later");
	const Annals__V1__Publication *p = out.publication;
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(p->derived);
		CHECK(p->open_end);
		CHECK_EQ_INT(p->earliest, date_days_from_civil(2020, 1, 1));
		CHECK_EQ_INT(p->latest, DATE_LAST_DAY);
		CHECK_EQ_STR(p->decided_by, "ev:zas-appointed-csto-secretary-general");
		CHECK(p->evidence != NULL);
		if (p->evidence != NULL) {
			CHECK(p->evidence->inferred);
			CHECK_EQ_STR(p->evidence->rule, "publication-follows-reported-past");
			CHECK_EQ_STR(p->evidence->document, SEED_DOC);
			CHECK(p->evidence->n_sentences == 1 && p->evidence->sentences[0] == 8);
			CHECK(p->evidence->span_start >= 1162 && p->evidence->span_end <= 1302);
		}
	}
	/* the office: Zas (seen in it at publication) TRUE; Khachaturov left before 2020: not listed */
	Annals__V1__HolderRequest hin = ANNALS__V1__HOLDER_REQUEST__INIT;
	Annals__V1__HolderReply hout = ANNALS__V1__HOLDER_REPLY__INIT;
	hin.position = "position:csto-secretary-general";
	hin.at_document = SEED_DOC;
	CHECK_EQ_INT(read_back(kn_q_holder(seed->txn, &hin, &seed->a, &hout, &err), &(&hout)->base, &seed->a),
	             ANNALS_OK);
	CHECK_EQ_INT(hout.n_holders, 1);
	if (hout.n_holders == 1) {
		CHECK_EQ_STR(hout.holders[0]->relation->subject, "person:stanislav-zas");
		CHECK_EQ_INT(hout.holders[0]->truth, T);
	}
	CHECK(hout.publication != NULL);
	/* the name in force */
	Annals__V1__NameAtRequest nin = ANNALS__V1__NAME_AT_REQUEST__INIT;
	Annals__V1__NameAtReply nout = ANNALS__V1__NAME_AT_REPLY__INIT;
	nin.entity = "org:csto";
	nin.at_document = SEED_DOC;
	CHECK_EQ_INT(
	    read_back(kn_q_name_at(seed->txn, &nin, &seed->a, &nout, &err), &(&nout)->base, &seed->a),
	    ANNALS_OK);
	CHECK_EQ_STR(nout.name, "Collective Security Treaty Organization");
	CHECK_EQ_INT(nout.truth, T);
	/* observed at publication ("yesterday" .. "today", currently): TRUE whichever day it was */
	CHECK_EQ_INT(seed_fact(seed, "person:emomali-rahmon",
	                       "rel:emomali-rahmon.holds_position.president-of-tajikistan"),
	             T);
	CHECK_EQ_INT(seed_fact(seed, "country:tajikistan", "rel:tajikistan.chairs.csto"), T);
	CHECK_EQ_INT(seed_fact(seed, "org:csto", "rel:csto.observer_at.un-general-assembly"), T);
	/* "formerly": over by the publication; a candidacy that ended in 2019 */
	CHECK_EQ_INT(seed_fact(seed, "person:stanislav-zas",
	                       "rel:stanislav-zas.holds_position.state-secretary-security-council-belarus"),
	             F);
	CHECK_EQ_INT(
	    seed_fact(seed, "person:stanislav-zas", "rel:stanislav-zas.candidate_for.csto-secretary-general"),
	    F);
	CHECK_EQ_INT(seed_fact(seed, "country:azerbaijan", "rel:azerbaijan.member_of.csto"), U);

	/* its "yesterday" is a range now: 2019-12-31 or later, no last day made up */
	Annals__V1__TimelineRequest tin = ANNALS__V1__TIMELINE_REQUEST__INIT;
	Annals__V1__TimelineReply tout = ANNALS__V1__TIMELINE_REPLY__INIT;
	tin.entity = "person:emomali-rahmon";
	CHECK_EQ_INT(
	    read_back(kn_q_timeline(seed->txn, &tin, &seed->a, &tout, &err), &(&tout)->base, &seed->a),
	    ANNALS_OK);
	const Annals__V1__TimelineItem *meeting = NULL;
	for (size_t i = 0; i < tout.n_items; i++)
		if (tout.items[i]->event && strcmp(tout.items[i]->event->id, "ev:rahmon-zas-meeting") == 0)
			meeting = tout.items[i];
	CHECK(meeting != NULL);
	if (meeting != NULL) {
		CHECK(!meeting->undated);
		CHECK(meeting->when->resolved);
		CHECK_EQ_INT(meeting->when->earliest, date_days_from_civil(2019, 12, 31));
		CHECK_EQ_INT(meeting->when->latest, DATE_LAST_DAY);
	}
	/* a date asked of the document's own "yesterday" is that range too, judged as a whole */
	Annals__V1__HolderRequest rin = ANNALS__V1__HOLDER_REQUEST__INIT;
	Annals__V1__HolderReply rout = ANNALS__V1__HOLDER_REPLY__INIT;
	Annals__V1__Date yesterday = ANNALS__V1__DATE__INIT;
	yesterday.precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	yesterday.anchor = SEED_DOC;
	yesterday.offset_days = -1;
	rin.position = "position:president-of-tajikistan";
	rin.at = &yesterday;
	CHECK_EQ_INT(read_back(kn_q_holder(seed->txn, &rin, &seed->a, &rout, &err), &(&rout)->base, &seed->a),
	             ANNALS_OK);
	CHECK(rout.publication == NULL); /* a date, not at_document: no correlation with the publication */
	CHECK(rout.n_holders == 1 && (int)rout.holders[0]->truth == U);
}

static const Annals__V1__TimelineItem *find_item(const Annals__V1__TimelineReply *r, const char *event_id)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (r->items[i]->event != NULL && strcmp(r->items[i]->event->id, event_id) == 0)
			return r->items[i];
	return NULL;
}

static size_t count_event(const Annals__V1__TimelineReply *r, const char *event_id)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_items; i++)
		n += r->items[i]->event != NULL && strcmp(r->items[i]->event->id, event_id) == 0;
	return n;
}

static int seed_timeline(fixture *seed, const char *entity, const char *from, const char *to, const char *via,
                         bool direct_only, Annals__V1__TimelineReply *out, st_err *err)
{
	Annals__V1__TimelineRequest in = ANNALS__V1__TIMELINE_REQUEST__INIT;
	Annals__V1__TimelineReply init = ANNALS__V1__TIMELINE_REPLY__INIT;
	*out = init;
	in.entity = (char *)entity;
	in.from = from ? mkdate(from) : NULL;
	in.to = to ? mkdate(to) : NULL;
	char *list[4];
	if (via != NULL) {
		list[0] = (char *)via;
		in.via = list;
		in.n_via = 1;
	}
	in.direct_only = direct_only;
	return read_back(kn_q_timeline(seed->txn, &in, &seed->a, out, err), &(out)->base, &seed->a);
}

/* The CSTO's timeline follows its ties: the treaty it was formed on (the
 * 1999 renewal that explains Azerbaijan's and Georgia's "at or after
 * 1999-04"), its office (candidacy, nomination, appointment), marked. */
static void check_seed_timeline_ties(fixture *seed)
{
	st_err err;
	Annals__V1__TimelineReply out;
	CHECK_EQ_INT(seed_timeline(seed, "org:csto", "1999", "1999", NULL, false, &out, &err), ANNALS_OK);
	const Annals__V1__TimelineItem *renewal = find_item(&out, "ev:cst-extended-1999");
	CHECK(renewal != NULL);
	if (renewal != NULL) {
		CHECK_EQ_STR(renewal->via_entity, "treaty:collective-security-treaty");
		CHECK_EQ_STR(renewal->via_predicate, "formed_by_members_of");
	}
	CHECK_EQ_INT(out.n_via, 3);
	const Annals__V1__TimelineItem *own = find_item(&out, "ev:uzbekistan-suspends-membership-1999");
	CHECK(own != NULL && own->via_entity[0] == '\0'); /* its own events stay unmarked */

	/* the whole timeline: the office's events once each, though both the
	 * position and the foreign ministers (a body of the CSTO) bring the
	 * nomination; the summit is the CSTO's own, not a tie's */
	CHECK_EQ_INT(seed_timeline(seed, "org:csto", NULL, NULL, NULL, false, &out, &err), ANNALS_OK);
	const Annals__V1__TimelineItem *appointed =
	    find_item(&out, "ev:zas-appointed-csto-secretary-general");
	CHECK(appointed != NULL && strcmp(appointed->via_entity, "position:csto-secretary-general") == 0);
	CHECK(appointed != NULL && strcmp(appointed->via_predicate, "organization") == 0);
	CHECK_EQ_INT(count_event(&out, "ev:zas-nominated-csto-secretary-general"), 1);
	CHECK_EQ_INT(count_event(&out, "ev:csto-summit-dushanbe"), 1);
	const Annals__V1__TimelineItem *summit = find_item(&out, "ev:csto-summit-dushanbe");
	CHECK(summit != NULL && summit->via_entity[0] == '\0');
	size_t with_ties = out.n_items;

	/* none: as before */
	CHECK_EQ_INT(seed_timeline(seed, "org:csto", NULL, NULL, NULL, true, &out, &err), ANNALS_OK);
	CHECK(find_item(&out, "ev:cst-extended-1999") == NULL);
	CHECK(find_item(&out, "ev:zas-appointed-csto-secretary-general") == NULL);
	CHECK_EQ_INT(out.n_via, 0);
	CHECK_EQ_INT(with_ties, out.n_items + 4); /* renewal, candidacy, nomination, appointment */

	/* an explicit list: only that tie; a relation predicate, either way */
	CHECK_EQ_INT(seed_timeline(seed, "org:csto", NULL, NULL, "organization", false, &out, &err),
	             ANNALS_OK);
	CHECK(find_item(&out, "ev:cst-extended-1999") == NULL);
	CHECK(find_item(&out, "ev:zas-candidacy-csto-secretary-general") != NULL);
	CHECK_EQ_INT(seed_timeline(seed, "country:azerbaijan", NULL, "1993", "member_of", false, &out, &err),
	             ANNALS_OK);
	const Annals__V1__TimelineItem *founded = find_item(&out, "ev:csto-founded");
	CHECK(founded != NULL && strcmp(founded->via_entity, "org:csto") == 0 &&
	      strcmp(founded->via_predicate, "member_of") == 0);
	/* the accession is Azerbaijan's own event: listed once, unmarked */
	CHECK_EQ_INT(count_event(&out, "ev:csto-accession-azerbaijan-georgia-belarus"), 1);
	const Annals__V1__TimelineItem *acc = find_item(&out, "ev:csto-accession-azerbaijan-georgia-belarus");
	CHECK(acc != NULL && acc->via_entity[0] == '\0');

	/* an entity with no ties: the same items with and without them */
	Annals__V1__TimelineReply plain;
	CHECK_EQ_INT(seed_timeline(seed, "country:azerbaijan", NULL, NULL, NULL, false, &out, &err),
	             ANNALS_OK);
	CHECK_EQ_INT(seed_timeline(seed, "country:azerbaijan", NULL, NULL, NULL, true, &plain, &err),
	             ANNALS_OK);
	CHECK_EQ_INT(out.n_items, plain.n_items);
	CHECK_EQ_INT(out.n_via, 0);
	for (size_t i = 0; i < out.n_items; i++)
		CHECK(out.items[i]->via_entity[0] == '\0');

	/* bad requests */
	CHECK_EQ_INT(seed_timeline(seed, "org:csto", NULL, NULL, "organization", true, &out, &err),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "via");
	CHECK_EQ_INT(seed_timeline(seed, "org:csto", NULL, NULL, "", false, &out, &err),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "via[0]: empty");
}

static void test_builtin_dataset(void)
{
	fixture seed;
	bool ok = open_seed(&seed);
	if (ok) {
		Annals__V1__Entity *e;
		st_err err;
		CHECK_EQ_INT(st_entity_ref(seed.txn, "CST", "entity", &seed.a, &e, &err),
		             ANNALS_INVALID_ARGUMENT);
		CHECK_CONTAINS(err.msg, "org:csto (Collective Security Treaty Organization)");
		CHECK_CONTAINS(err.msg, "treaty:collective-security-treaty");

		Annals__V1__MembersRequest in = ANNALS__V1__MEMBERS_REQUEST__INIT;
		Annals__V1__MembersReply out = ANNALS__V1__MEMBERS_REPLY__INIT;
		in.organization = "CSTO";
		in.at = mkdate("2008-01-01");
		CHECK_EQ_INT(
		    read_back(kn_q_members(seed.txn, &in, &seed.a, &out, &err), &(&out)->base, &seed.a),
		    ANNALS_OK);
		CHECK_EQ_STR(names_of(out.members, out.n_members),
		             "Armenia,Belarus,Kazakhstan,Kyrgyzstan,Russia,Tajikistan,Uzbekistan");
		CHECK_EQ_STR(names_of(out.unknown, out.n_unknown), "Azerbaijan,Georgia");

		check_seed_at_publication(&seed);
		check_seed_timeline_ties(&seed);

		/* a country has no members: said so, not answered with empty lists */
		Annals__V1__MembersReply out3 = ANNALS__V1__MEMBERS_REPLY__INIT;
		in.organization = "country:armenia";
		in.at = mkdate("2008");
		in.at_document = "";
		CHECK_EQ_INT(
		    read_back(kn_q_members(seed.txn, &in, &seed.a, &out3, &err), &(&out3)->base, &seed.a),
		    ANNALS_FAILED_PRECONDITION);
		CHECK_CONTAINS(err.msg, "country:armenia is a country, not an organization");

		Annals__V1__SuccessionRequest sin = ANNALS__V1__SUCCESSION_REQUEST__INIT;
		Annals__V1__SuccessionReply sout = ANNALS__V1__SUCCESSION_REPLY__INIT;
		sin.position = "position:csto-secretary-general";
		CHECK_EQ_INT(
		    read_back(kn_q_succession(seed.txn, &sin, &seed.a, &sout, &err), &(&sout)->base, &seed.a),
		    ANNALS_OK);
		CHECK_EQ_INT(sout.n_tenures, 2);
		if (sout.n_tenures == 2) {
			CHECK_EQ_STR(sout.tenures[0]->holder, "person:yuri-khachaturov");
			CHECK_EQ_STR(sout.tenures[1]->holder, "person:stanislav-zas");
		}
	}
	fixture_close(&seed);
}

/* ---- a generated document whose facts straddle a change ------------------------------- */

/* clang-format off */
/* doc:gen gives no date. What it states as having happened: an event of
 * 2015-03 (the latest such, so the bound is 2015-03-01). What must not
 * bound it: a planned event, a hedged one, one we inferred, one dated by
 * its own "yesterday", a fact that only "may have ended" after 2017.
 * doc:dated states the same 2015-03 event but gives its own date,
 * 2016-01-10, which replaces any bound. */
static const char gen_dataset[] =
"{'documents': ["
" {'id': 'doc:gen', 'title': 'An undated report', 'length': 900,"
"  'sentences': [{'number': 1, 'start': 0, 'end': 300}, {'number': 2, 'start': 301, 'end': 600},"
"                {'number': 3, 'start': 601, 'end': 900}]},"
" {'id': 'doc:dated', 'title': 'A dated report', 'length': 100,"
"  'published': {'precision': 'PRECISION_DAY', 'year': 2016, 'month': 1, 'day': 10},"
"  'sentences': [{'number': 1, 'start': 0, 'end': 100}]}],"
"'entities': ["
" {'id': 'org:league', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'The League', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:north', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'North', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:south', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'South', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:east', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'East', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:west', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'West', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:centre', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Centre', 'kind': 'NAME_KIND_OFFICIAL'}]},"
" {'id': 'country:isle', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Isle', 'kind': 'NAME_KIND_OFFICIAL'}]}],"
"'relations': ["
" {'id': 'rel:north.member', 'subject': 'country:north', 'predicate': 'member_of', 'object': 'org:league', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2001}}},"
"  'evidence': [{'document': 'doc:gen', 'sentences': [1], 'span_start': 0, 'span_end': 50, 'modality': 'MODALITY_ASSERTED'}]},"
" {'id': 'rel:south.member', 'subject': 'country:south', 'predicate': 'member_of', 'object': 'org:league', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2005}},"
"            'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2010}}},"
"  'evidence': [{'document': 'doc:gen', 'sentences': [1], 'span_start': 51, 'span_end': 100, 'modality': 'MODALITY_ASSERTED'}]},"
" {'id': 'rel:east.member', 'subject': 'country:east', 'predicate': 'member_of', 'object': 'org:league', 'status': 'active',"
"  'note': 'left in June 2016: after the latest day the report states as past',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2012}},"
"            'end': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_MONTH', 'year': 2016, 'month': 6}}},"
"  'evidence': [{'document': 'doc:dated', 'sentences': [1], 'span_start': 0, 'span_end': 40, 'modality': 'MODALITY_ASSERTED'}]},"
" {'id': 'rel:west.member', 'subject': 'country:west', 'predicate': 'member_of', 'object': 'org:league', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_OBSERVED', 'date': {'precision': 'PRECISION_DAY', 'anchor': 'doc:gen', 'offset_days': -1}},"
"            'end': {'kind': 'BOUND_KIND_OBSERVED', 'date': {'precision': 'PRECISION_DAY', 'anchor': 'doc:gen'}}},"
"  'evidence': [{'document': 'doc:gen', 'sentences': [2], 'span_start': 301, 'span_end': 350, 'modality': 'MODALITY_REPORTED'}]},"
" {'id': 'rel:centre.member', 'subject': 'country:centre', 'predicate': 'member_of', 'object': 'org:league', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2003}},"
"            'end': {'kind': 'BOUND_KIND_BEFORE', 'date': {'precision': 'PRECISION_DAY', 'anchor': 'doc:gen'}}},"
"  'evidence': [{'document': 'doc:gen', 'sentences': [2], 'span_start': 351, 'span_end': 400, 'modality': 'MODALITY_ASSERTED'}]},"
" {'id': 'rel:isle.member', 'subject': 'country:isle', 'predicate': 'member_of', 'object': 'org:league', 'status': 'active',"
"  'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR', 'year': 2004}},"
"            'end': {'kind': 'BOUND_KIND_AFTER', 'date': {'precision': 'PRECISION_YEAR', 'year': 2017}}},"
"  'evidence': [{'document': 'doc:gen', 'sentences': [3], 'span_start': 601, 'span_end': 650, 'modality': 'MODALITY_ASSERTED'}]}],"
"'events': ["
" {'id': 'ev:gen-summit', 'type': 'summit', 'summary': 'A summit of the League.', 'status': 'EVENT_STATUS_OCCURRED',"
"  'when': {'precision': 'PRECISION_MONTH', 'year': 2015, 'month': 3}, 'participants': [{'entity': 'org:league'}],"
"  'evidence': [{'document': 'doc:gen', 'sentences': [3], 'span_start': 700, 'span_end': 760, 'modality': 'MODALITY_ASSERTED'},"
"               {'document': 'doc:dated', 'sentences': [1], 'span_start': 41, 'span_end': 90, 'modality': 'MODALITY_ASSERTED'}]},"
" {'id': 'ev:gen-planned', 'type': 'summit', 'summary': 'A summit planned for 2019.', 'status': 'EVENT_STATUS_PLANNED',"
"  'when': {'precision': 'PRECISION_YEAR', 'year': 2019}, 'participants': [{'entity': 'org:league'}],"
"  'evidence': [{'document': 'doc:gen', 'sentences': [3], 'span_start': 761, 'span_end': 800, 'modality': 'MODALITY_PLANNED'}]},"
" {'id': 'ev:gen-rumour', 'type': 'meeting', 'summary': 'A meeting that may have taken place.', 'status': 'EVENT_STATUS_OCCURRED',"
"  'when': {'precision': 'PRECISION_YEAR', 'year': 2018}, 'participants': [{'entity': 'org:league'}],"
"  'evidence': [{'document': 'doc:gen', 'sentences': [3], 'span_start': 801, 'span_end': 830, 'modality': 'MODALITY_HEDGED'}]},"
" {'id': 'ev:gen-inferred', 'type': 'meeting', 'summary': 'A meeting we inferred.', 'status': 'EVENT_STATUS_OCCURRED',"
"  'when': {'precision': 'PRECISION_YEAR', 'year': 2017}, 'participants': [{'entity': 'org:league'}],"
"  'evidence': [{'document': 'doc:gen', 'sentences': [3], 'span_start': 831, 'span_end': 860, 'modality': 'MODALITY_ASSERTED',"
"                'inferred': true, 'rule': 'a-test-rule'}]},"
" {'id': 'ev:gen-yesterday', 'type': 'meeting', 'summary': 'Talks the day before the report.', 'status': 'EVENT_STATUS_OCCURRED',"
"  'when': {'precision': 'PRECISION_DAY', 'anchor': 'doc:gen', 'offset_days': -1}, 'participants': [{'entity': 'country:west'}],"
"  'evidence': [{'document': 'doc:gen', 'sentences': [1], 'span_start': 101, 'span_end': 150, 'modality': 'MODALITY_REPORTED'}]}]}";
/* clang-format on */

static Annals__V1__Truth gen_member(fixture *g, const char *doc, const char *country,
                                    Annals__V1__Publication **pub)
{
	Annals__V1__MembersRequest in = ANNALS__V1__MEMBERS_REQUEST__INIT;
	Annals__V1__MembersReply out = ANNALS__V1__MEMBERS_REPLY__INIT;
	st_err err;
	in.organization = "org:league";
	in.at_document = (char *)doc;
	if (read_back(kn_q_members(g->txn, &in, &g->a, &out, &err), &(&out)->base, &g->a) != ANNALS_OK) {
		fprintf(stderr, "  members at %s: %s\n", doc, err.msg);
		return 0;
	}
	if (pub != NULL)
		*pub = out.publication;
	Annals__V1__Member **lists[4] = {out.members, out.suspended, out.unknown, out.not_members};
	size_t sizes[4] = {out.n_members, out.n_suspended, out.n_unknown, out.n_not_members};
	for (int l = 0; l < 4; l++)
		for (size_t i = 0; i < sizes[l]; i++)
			if (strcmp(lists[l][i]->entity, country) == 0)
				return lists[l][i]->truth;
	return 0;
}

static bool gen_open(fixture *g)
{
	char *json = strdup(gen_dataset);
	for (char *p = json; *p; p++)
		if (*p == '\'')
			*p = '"';
	bool ok = fixture_open(g, json, strlen(json));
	free(json);
	CHECK(ok);
	return ok;
}

/* Writes one record of the generated data set again, changed, and takes a
 * new snapshot: what a write does to derived bounds. */
static void gen_put_event(fixture *g, Annals__V1__Event *e)
{
	Annals__V1__PutEventRequest put = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	put.event = e;
	st_write w = {.op = ST_PUT, .kind = ST_EVENT, .req = &put.base};
	st_txn_end(g->txn);
	CHECK_EQ_INT(st_apply(g->store, &w, 1), ANNALS_OK);
	CHECK_EQ_INT(w.code, ANNALS_OK);
	st_write_clear(&w);
	CHECK_EQ_INT(st_txn_begin(g->txn), ANNALS_OK);
}

static void test_publication_bounds(void)
{
	enum {
		T = ANNALS__V1__TRUTH__TRUTH_TRUE,
		F = ANNALS__V1__TRUTH__TRUTH_FALSE,
		U = ANNALS__V1__TRUTH__TRUTH_UNKNOWN
	};
	fixture g;
	if (!gen_open(&g)) {
		fixture_close(&g);
		return;
	}
	Annals__V1__Publication *pub = NULL;
	/* 2015-03-01 or later: only the summit bounds it */
	CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:north", &pub), T); /* since 2001, no end */
	CHECK(pub != NULL);
	if (pub != NULL) {
		CHECK(pub->derived && pub->open_end);
		CHECK_EQ_INT(pub->earliest, date_days_from_civil(2015, 3, 1));
		CHECK_EQ_STR(pub->decided_by, "ev:gen-summit");
		CHECK(pub->evidence != NULL && pub->evidence->span_start == 700 && pub->evidence->inferred);
		CHECK_CONTAINS(pub->text, "2015-03-01 or later");
	}
	CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:south", NULL), F); /* ended 2010 */
	CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:east", NULL),
	             U); /* ended 2016-06: inside the range */
	CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:west", NULL), T);   /* seen at publication */
	CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:centre", NULL), F); /* "formerly": ended before it */
	CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:isle", NULL), U);   /* may have ended from 2017 on */

	/* an explicit publication date replaces the bound: 2016-01-10, before East left */
	CHECK_EQ_INT(gen_member(&g, "doc:dated", "country:east", &pub), T);
	CHECK_EQ_INT(gen_member(&g, "doc:dated", "country:south", NULL), F);
	CHECK(pub != NULL && !pub->derived && !pub->open_end && pub->evidence == NULL);
	if (pub != NULL)
		CHECK_EQ_INT(pub->earliest, date_days_from_civil(2016, 1, 10));

	/* the bound is the records', not stored: a later fact the report states
	 * as past moves it at once (2016-09: East's departure is then past) */
	Annals__V1__Event *summit = st_load_event(g.txn, "ev:gen-summit", &g.a);
	CHECK(summit != NULL);
	if (summit != NULL) {
		summit->when->year = 2016;
		summit->when->month = 9;
		gen_put_event(&g, summit);
		CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:east", &pub), F);
		CHECK(pub != NULL && pub->earliest == date_days_from_civil(2016, 9, 1));
		/* ... and the explicit date still stands for the dated report */
		CHECK_EQ_INT(gen_member(&g, "doc:dated", "country:east", NULL), T);
	}
	/* a planned event reported as past would be a made-up bound: kept out even when it is the latest */
	Annals__V1__Event *planned = st_load_event(g.txn, "ev:gen-planned", &g.a);
	if (planned != NULL) {
		planned->when->year = 2030;
		gen_put_event(&g, planned);
		CHECK_EQ_INT(gen_member(&g, "doc:gen", "country:north", &pub), T);
		CHECK(pub != NULL && pub->earliest == date_days_from_civil(2016, 9, 1));
	}
	/* the talks "the day before" the report: a range with no last day */
	Annals__V1__TimelineRequest tin = ANNALS__V1__TIMELINE_REQUEST__INIT;
	Annals__V1__TimelineReply tout = ANNALS__V1__TIMELINE_REPLY__INIT;
	st_err err;
	tin.entity = "country:west";
	CHECK_EQ_INT(read_back(kn_q_timeline(g.txn, &tin, &g.a, &tout, &err), &(&tout)->base, &g.a),
	             ANNALS_OK);
	const Annals__V1__TimelineItem *talks = find_item(&tout, "ev:gen-yesterday");
	CHECK(talks != NULL && talks->when->resolved && talks->when->latest == DATE_LAST_DAY);
	if (talks != NULL)
		CHECK_EQ_INT(talks->when->earliest, date_days_from_civil(2016, 8, 31));
	fixture_close(&g);
}

typedef struct label_check {
	fixture *f;
	int entities, differ;
} label_check;

static int label_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	label_check *c = ctx;
	Annals__V1__Entity *e = annals__v1__entity__unpack(ar_pbc(&c->f->a), len, data);
	const char *label = st_entity_label(c->f->txn, id, &c->f->a);
	c->entities++;
	if (e == NULL || label == NULL || strcmp(label, kn_display_name(e)) != 0) {
		fprintf(stderr, "  %s: label \"%s\", display name \"%s\"\n", id, label ? label : "(null)",
		        e ? kn_display_name(e) : "(no entity)");
		c->differ++;
	}
	return 0;
}

/* The label read from the stored bytes is the display name of the
 * unpacked entity, for every entity of both data sets. */
static void check_labels(fixture *f, int at_least)
{
	label_check c = {.f = f};
	CHECK_EQ_INT(st_scan_kind(f->txn, ST_ENTITY, NULL, label_visit, &c), ANNALS_OK);
	CHECK(c.entities >= at_least);
	CHECK_EQ_INT(c.differ, 0);
	CHECK(st_entity_label(f->txn, "person:nobody-at-all", &f->a) == NULL);
}

/* Packs an entity with the given names (kind, end bound kind or -1 for no
 * validity, text) and returns its label read from the bytes. */
static const char *label_from(int n, const int *kinds, const int *ends, const char *const *texts, bool *same)
{
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	Annals__V1__Name names[4], *pn[4];
	Annals__V1__Interval iv[4];
	Annals__V1__Bound start[4], end[4];
	Annals__V1__Date day = ANNALS__V1__DATE__INIT;
	day.precision = ANNALS__V1__PRECISION__PRECISION_YEAR;
	day.year = 2000;
	e.id = "org:label-test";
	for (int i = 0; i < n; i++) {
		annals__v1__name__init(&names[i]);
		names[i].text = (char *)texts[i];
		names[i].kind = (Annals__V1__NameKind)kinds[i];
		if (ends[i] >= 0) {
			annals__v1__interval__init(&iv[i]);
			annals__v1__bound__init(&start[i]);
			annals__v1__bound__init(&end[i]);
			start[i].kind = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT;
			start[i].date = &day;
			end[i].kind = (Annals__V1__BoundKind)ends[i];
			end[i].date = ends[i] ? &day : NULL;
			iv[i].start = &start[i];
			iv[i].end = &end[i];
			names[i].valid = &iv[i];
		}
		pn[i] = &names[i];
	}
	e.n_names = (size_t)n;
	e.names = pn;
	uint8_t buf[1024];
	size_t len = annals__v1__entity__pack(&e, buf);
	const char *label = st_label_of(buf, len, e.id, &fx.a);
	*same = strcmp(label, kn_display_name(&e)) == 0;
	return label;
}

static void test_label_of_bytes(void)
{
	enum {
		OFF = ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL,
		ALIAS = ANNALS__V1__NAME_KIND__NAME_KIND_ALIAS
	};
	enum {
		ENDED = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT,
		OPEN = ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED
	};
	bool same;
	/* an official name that ended gives way to the current one */
	const char *t1[] = {"Old Official", "New Official"};
	CHECK_EQ_STR(label_from(2, (int[]){OFF, OFF}, (int[]){ENDED, OPEN}, t1, &same), "New Official");
	CHECK(same);
	CHECK_EQ_STR(label_from(2, (int[]){OFF, OFF}, (int[]){ENDED, -1}, t1, &same), "New Official");
	CHECK(same);
	/* no current official name: the first name */
	const char *t2[] = {"An Alias", "Ended Official"};
	CHECK_EQ_STR(label_from(2, (int[]){ALIAS, OFF}, (int[]){-1, ENDED}, t2, &same), "An Alias");
	CHECK(same);
	/* no names at all: the id */
	CHECK_EQ_STR(label_from(0, NULL, NULL, NULL, &same), "org:label-test");
	CHECK(same);
	/* a truncated record does not read past its end */
	uint8_t junk[] = {0x1a, 0x7f, 0x0a};
	CHECK_EQ_STR(st_label_of(junk, sizeof(junk), "org:x", &fx.a), "org:x");
}

static void test_entity_label(void)
{
	check_labels(&fx, 5);
	fixture seed;
	if (open_seed(&seed)) {
		check_labels(&seed, 30);
		/* renamed: the current official name, not the former one */
		CHECK_EQ_STR(st_entity_label(seed.txn, "org:csto", &seed.a),
		             "Collective Security Treaty Organization");
	}
	fixture_close(&seed);
}

/* Dates are resolved when asked, so a publication date learned later
 * dates everything anchored to that document at once. Runs last: it
 * changes the fixture. */
static void test_anchor_learned_later(void)
{
	st_err err;
	Annals__V1__Document *doc = st_load_document(fx.txn, "doc:nodate", &fx.a);
	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	doc->published = mkdate("2022-03-10");
	Annals__V1__PutDocumentRequest put = ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT;
	put.document = doc;
	st_write w = {.op = ST_PUT, .kind = ST_DOCUMENT, .req = &put.base};
	st_txn_end(fx.txn);
	CHECK_EQ_INT(st_apply(fx.store, &w, 1), ANNALS_OK);
	CHECK_EQ_INT(w.code, ANNALS_OK);
	st_write_clear(&w);
	CHECK_EQ_INT(st_txn_begin(fx.txn), ANNALS_OK);

	/* seen chairing the day before and on the day of publication */
	CHECK_EQ_INT(truth_of("country:tajikistan", "rel:tajikistan.chairs", "2022-03-09"),
	             ANNALS__V1__TRUTH__TRUTH_TRUE);
	CHECK_EQ_INT(truth_of("country:tajikistan", "rel:tajikistan.chairs", "2022-03-10"),
	             ANNALS__V1__TRUTH__TRUTH_TRUE);
	CHECK_EQ_INT(truth_of("country:tajikistan", "rel:tajikistan.chairs", "2022-03-11"),
	             ANNALS__V1__TRUTH__TRUTH_UNKNOWN);
	CHECK_EQ_INT(truth_of("country:tajikistan", "rel:tajikistan.chairs", "2022-03-08"),
	             ANNALS__V1__TRUTH__TRUTH_UNKNOWN);
	Annals__V1__NameAtReply na;
	CHECK_EQ_INT(name_at("org:csto", NULL, "doc:nodate", &na, &err), ANNALS_OK);
	CHECK_EQ_STR(na.name, "Collective Security Treaty Organization");
	/* the talk "the day before" that report now has its day, and its place in time */
	Annals__V1__TimelineRequest in = ANNALS__V1__TIMELINE_REQUEST__INIT;
	Annals__V1__TimelineReply out = ANNALS__V1__TIMELINE_REPLY__INIT;
	in.entity = "person:zas";
	CHECK_EQ_INT(read_back(kn_q_timeline(fx.txn, &in, &fx.a, &out, &err), &(&out)->base, &fx.a),
	             ANNALS_OK);
	CHECK_EQ_STR(kinds_of(&out), "event,relation_start,event,relation_end,event");
	if (out.n_items == 5) {
		CHECK_EQ_STR(out.items[4]->event->id, "ev:undated-talk");
		CHECK_EQ_INT(out.items[4]->when->earliest, date_days_from_civil(2022, 3, 9));
	}
}

int main(void)
{
	/* single quotes in the source, double quotes for the parser */
	char *json = strdup(test_dataset);
	for (char *p = json; *p; p++)
		if (*p == '\'')
			*p = '"';
	bool ok = fixture_open(&fx, json, strlen(json));
	free(json);
	if (!ok) {
		printf("FAIL fixture\n");
		fixture_close(&fx);
		return 1;
	}
	RUN(test_entity_ref);
	RUN(test_resolve);
	RUN(test_name_at);
	RUN(test_relations_truth);
	RUN(test_relations_reasons_and_filters);
	RUN(test_history);
	RUN(test_members);
	RUN(test_holder);
	RUN(test_succession);
	RUN(test_evidence);
	RUN(test_facts);
	RUN(test_timeline);
	RUN(test_builtin_dataset);
	RUN(test_publication_bounds);
	RUN(test_entity_label);
	RUN(test_label_of_bytes);
	RUN(test_anchor_learned_later);
	fixture_close(&fx);
	return CHECK_DONE();
}

/*
 * Unit tests of the LMDB store (src/store: writes, reads, indexes, change
 * log, request log, map growth) and of the pure helpers it relies on
 * (common/validate.c, common/fold.c). Real LMDB in a fresh temporary
 * directory per test; no mocks. Records are written as JSON (single quotes,
 * turned into double quotes) through pbjson, to keep them readable.
 */
#include <dirent.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/read_back.h"
#include "annals/annals.h"
#include "common/date.h"
#include "common/file.h"
#include "common/fold.h"
#include "common/pbjson.h"
#include "common/validate.h"
#include "knowledge/knowledge.h"
#include "store/query.h"
#include "server/server.h"
#include "store/store.h"

/* ---- fixtures ------------------------------------------------------------------ */

typedef struct fx {
	char dir[64];
	st_store *s;
	st_txn *t;
	ar_arena a;
	st_options opt;
} fx;

static void fx_open_store(fx *f)
{
	st_err err = {0};
	int rc = st_open(f->dir, &f->opt, &f->s, &err);
	if (rc != ANNALS_OK) {
		fprintf(stderr, "st_open: %s\n", err.msg);
		exit(2);
	}
	f->t = st_txn_new(f->s);
}

static void fx_init(fx *f, const st_options *opt)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/annals-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		exit(2);
	if (opt)
		f->opt = *opt;
	else
		f->opt.no_sync = true; /* most tests check logic; those with options run durable */
	ar_init(&f->a);
	fx_open_store(f);
}

static void fx_close_store(fx *f)
{
	st_txn_free(f->t);
	st_close(f->s);
	f->t = NULL;
	f->s = NULL;
}

static void fx_reopen(fx *f)
{
	fx_close_store(f);
	fx_open_store(f);
}

static void fx_done(fx *f)
{
	fx_close_store(f);
	ar_free(&f->a);
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char path[400];
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
}

/* A record from JSON with single quotes. */
static void *J(fx *f, const ProtobufCMessageDescriptor *d, const char *json)
{
	char *text = ar_strdup(&f->a, json);
	for (char *p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	char err[300];
	ProtobufCMessage *m = pbjson_parse(d, text, strlen(text), &f->a, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "bad test JSON: %s\n  %s\n", err, text);
		exit(2);
	}
	return m;
}
#define ENTITY(f, js)   ((Annals__V1__Entity *)J(f, &annals__v1__entity__descriptor, js))
#define EVENT(f, js)    ((Annals__V1__Event *)J(f, &annals__v1__event__descriptor, js))
#define RELATION(f, js) ((Annals__V1__Relation *)J(f, &annals__v1__relation__descriptor, js))
#define DOCUMENT(f, js) ((Annals__V1__Document *)J(f, &annals__v1__document__descriptor, js))

/* ---- writing --------------------------------------------------------------------- */

typedef struct res {
	int code;
	char msg[480];
	uint64_t revision; /* WriteReply.revision / BatchReply.revision */
	bool unchanged;
	bool replayed;
	uint64_t took; /* st_write.revision */
	uint8_t body[4096];
	size_t body_len;
} res;

/* The reply body the server sends for a write, packed from the store's
 * outcome as the answering task packs it (malloc'ed; may be NULL). */
static uint8_t *reply_of(const st_write *w, size_t *len)
{
	return srv_write_reply_pack(w, len);
}

static res apply1(fx *f, st_write *w)
{
	res r = {0};
	int rc = st_apply(f->s, w, 1);
	size_t reply_len;
	uint8_t *reply = reply_of(w, &reply_len);
	CHECK_EQ_INT(rc, ANNALS_OK);
	r.code = w->code;
	snprintf(r.msg, sizeof(r.msg), "%s", w->msg);
	r.took = w->revision;
	r.replayed = w->replayed;
	if (reply_len > 0 && reply_len <= sizeof(r.body)) {
		memcpy(r.body, reply, reply_len);
		r.body_len = reply_len;
	}
	if (w->code == ANNALS_OK && w->op != ST_BATCH) {
		Annals__V1__WriteReply *wr = annals__v1__write_reply__unpack(NULL, reply_len, reply);
		CHECK(wr != NULL);
		if (wr) {
			r.revision = wr->revision;
			r.unchanged = wr->unchanged;
			annals__v1__write_reply__free_unpacked(wr, NULL);
		}
	} else if (w->code == ANNALS_OK) {
		Annals__V1__BatchReply *br = annals__v1__batch_reply__unpack(NULL, reply_len, reply);
		CHECK(br != NULL);
		if (br) {
			r.revision = br->revision;
			r.unchanged = true;
			for (size_t i = 0; i < br->n_results; i++)
				r.unchanged = r.unchanged && br->results[i]->unchanged;
			annals__v1__batch_reply__free_unpacked(br, NULL);
		}
	}
	free(reply);
	st_write_clear(w);
	return r;
}

static Annals__V1__Guard *guard_of(fx *f, int64_t g)
{
	if (g < 0)
		return NULL;
	Annals__V1__Guard *gd = AR_NEW(&f->a, Annals__V1__Guard, ANNALS__V1__GUARD__INIT);
	gd->revision = (uint64_t)g;
	return gd;
}

/* Fills a Put request of kind k for rec (in the arena). */
static ProtobufCMessage *put_request(fx *f, st_kind k, void *rec, int64_t guard)
{
	switch (k) {
	case ST_ENTITY: {
		Annals__V1__PutEntityRequest *r =
		    AR_NEW(&f->a, Annals__V1__PutEntityRequest, ANNALS__V1__PUT_ENTITY_REQUEST__INIT);
		r->entity = rec, r->guard = guard_of(f, guard);
		return &r->base;
	}
	case ST_EVENT: {
		Annals__V1__PutEventRequest *r =
		    AR_NEW(&f->a, Annals__V1__PutEventRequest, ANNALS__V1__PUT_EVENT_REQUEST__INIT);
		r->event = rec, r->guard = guard_of(f, guard);
		return &r->base;
	}
	case ST_RELATION: {
		Annals__V1__PutRelationRequest *r =
		    AR_NEW(&f->a, Annals__V1__PutRelationRequest, ANNALS__V1__PUT_RELATION_REQUEST__INIT);
		r->relation = rec, r->guard = guard_of(f, guard);
		return &r->base;
	}
	case ST_DOCUMENT: {
		Annals__V1__PutDocumentRequest *r =
		    AR_NEW(&f->a, Annals__V1__PutDocumentRequest, ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT);
		r->document = rec, r->guard = guard_of(f, guard);
		return &r->base;
	}
	}
	return NULL;
}

static st_write put_write(fx *f, st_kind k, void *rec, const char *rid, int64_t guard)
{
	st_write w = {.op = ST_PUT, .kind = k, .req = put_request(f, k, rec, guard), .request_id = rid};
	return w;
}

static res put(fx *f, st_kind k, void *rec, const char *rid, int64_t guard)
{
	st_write w = put_write(f, k, rec, rid, guard);
	return apply1(f, &w);
}

static res del(fx *f, st_kind k, const char *id, const char *rid, int64_t guard)
{
	Annals__V1__DeleteRequest *d =
	    AR_NEW(&f->a, Annals__V1__DeleteRequest, ANNALS__V1__DELETE_REQUEST__INIT);
	d->id = (char *)id;
	d->guard = guard_of(f, guard);
	st_write w = {.op = ST_DELETE, .kind = k, .req = &d->base, .request_id = rid};
	return apply1(f, &w);
}

/* Bare records for others to refer to (references must name a record
 * that exists): "p:a" and the like as people, "doc:x" as documents. */
static void put_bare(fx *f, st_kind k, const char *const *ids, size_t n)
{
	char js[300];
	for (size_t i = 0; i < n; i++) {
		void *rec = NULL;
		if (k == ST_DOCUMENT) {
			snprintf(js, sizeof(js), "{'id': '%s', 'title': 'bare'}", ids[i]);
			rec = DOCUMENT(f, js);
		} else {
			snprintf(js, sizeof(js), "{'id': '%s', 'type': 'ENTITY_TYPE_PERSON'}", ids[i]);
			rec = ENTITY(f, js);
		}
		res r = put(f, k, rec, NULL, -1);
		CHECK_EQ_INT(r.code, ANNALS_OK);
	}
}
#define PUT_BARE(f, k, ...)                                                                                  \
	do {                                                                                                 \
		const char *const bare_ids_[] = {__VA_ARGS__};                                               \
		put_bare(f, k, bare_ids_, sizeof(bare_ids_) / sizeof(bare_ids_[0]));                         \
	} while (0)

static void batch_add(fx *f, Annals__V1__BatchRequest *b, Annals__V1__Op__OpCase c, void *rec, int64_t guard)
{
	Annals__V1__Op *op = AR_NEW(&f->a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	op->op_case = c;
	op->put_entity = rec; /* the union: any member */
	op->guard = guard_of(f, guard);
	AR_PUSH(&f->a, b->ops, b->n_ops, op);
}

static void batch_del(fx *f, Annals__V1__BatchRequest *b, st_kind k, const char *id)
{
	Annals__V1__RecordRef *ref = AR_NEW(&f->a, Annals__V1__RecordRef, ANNALS__V1__RECORD_REF__INIT);
	ref->kind = (Annals__V1__RecordKind)k;
	ref->id = (char *)id;
	batch_add(f, b, ANNALS__V1__OP__OP_DELETE, ref, -1);
}

static res batch(fx *f, Annals__V1__BatchRequest *b, const char *rid)
{
	st_write w = {.op = ST_BATCH, .req = &b->base, .request_id = rid};
	return apply1(f, &w);
}

/* ---- reading ------------------------------------------------------------------------ */

static void *load(fx *f, st_kind k, const char *id)
{
	CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
	void *m = st_load(f->t, k, id, &f->a);
	st_txn_end(f->t);
	return m;
}

static bool exists(fx *f, st_kind k, const char *id)
{
	return load(f, k, id) != NULL;
}

typedef struct ids {
	char list[400][64];
	int n;
} ids;

static int collect_id(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	ids *l = ctx;
	if (l->n < 400)
		snprintf(l->list[l->n++], 64, "%s", id);
	return 0;
}

static bool ids_has(const ids *l, const char *id)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->list[i], id) == 0)
			return true;
	return false;
}

static ids by_name(fx *f, const char *name, bool prefix)
{
	ids l = {.n = 0};
	CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
	CHECK_EQ_INT(st_scan_names(f->t, name, prefix, collect_id, &l), ANNALS_OK);
	st_txn_end(f->t);
	return l;
}

static Annals__V1__ChangesReply *changes(fx *f, uint64_t since, int *code, char *msg)
{
	Annals__V1__ChangesRequest in = ANNALS__V1__CHANGES_REQUEST__INIT;
	in.since = since;
	Annals__V1__ChangesReply *out =
	    AR_NEW(&f->a, Annals__V1__ChangesReply, ANNALS__V1__CHANGES_REPLY__INIT);
	st_err err = {0};
	CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
	*code = st_q_changes(f->t, &in, &f->a, out, &err);
	st_txn_end(f->t);
	if (msg)
		strcpy(msg, err.msg);
	return out;
}

/* ---- put / get / delete ---------------------------------------------------------------- */

static void test_put_get_delete_each_kind(void)
{
	fx f;
	fx_init(&f, NULL);
	res r = put(&f, ST_ENTITY,
	            ENTITY(&f, "{'id': 'person:a', 'type': 'ENTITY_TYPE_PERSON',"
	                       " 'names': [{'text': 'Anna Example'}]}"),
	            "r1", -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK_EQ_INT(r.revision, 1);
	CHECK_EQ_INT(r.took, 1);
	r = put(&f, ST_EVENT,
	        EVENT(&f, "{'id': 'ev:1', 'type': 'meeting', 'participants': [{'entity': 'person:a'}],"
	                  " 'when': {'precision': 'PRECISION_DAY', 'year': 2019, 'month': 5, 'day': 1}}"),
	        "r2", -1);
	CHECK_EQ_INT(r.revision, 2);
	r = put(&f, ST_RELATION,
	        RELATION(&f, "{'id': 'rel:1', 'subject': 'person:a', 'predicate': 'deputy_of',"
	                     " 'object': 'person:a'}"),
	        "r3", -1);
	CHECK_EQ_INT(r.revision, 3);
	r = put(&f, ST_DOCUMENT,
	        DOCUMENT(&f, "{'id': 'doc:1', 'title': 'T', 'length': 10,"
	                     " 'published': {'precision': 'PRECISION_YEAR', 'year': 2020}}"),
	        "r4", -1);
	CHECK_EQ_INT(r.revision, 4);

	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	const uint8_t *data;
	size_t len;
	CHECK_EQ_INT(st_get(f.t, ST_ENTITY, "person:a", &data, &len), ANNALS_OK);
	Annals__V1__Entity *e = annals__v1__entity__unpack(ar_pbc(&f.a), len, data);
	CHECK(e != NULL && strcmp(e->id, "person:a") == 0 && e->revision == 1);
	CHECK_EQ_INT(st_get(f.t, ST_EVENT, "person:a", &data, &len), ANNALS_NOT_FOUND);
	CHECK_EQ_INT(st_kind_of(f.t, "person:a"), ST_ENTITY);
	CHECK_EQ_INT(st_kind_of(f.t, "ev:1"), ST_EVENT);
	CHECK_EQ_INT(st_kind_of(f.t, "rel:1"), ST_RELATION);
	CHECK_EQ_INT(st_kind_of(f.t, "doc:1"), ST_DOCUMENT);
	CHECK_EQ_INT(st_kind_of(f.t, "nothing"), 0);
	Annals__V1__Event *ev = st_load_event(f.t, "ev:1", &f.a);
	CHECK(ev && ev->when && ev->when->resolved && ev->when->earliest == date_days_from_civil(2019, 5, 1));
	Annals__V1__Document *d = st_load_document(f.t, "doc:1", &f.a);
	CHECK(d && d->published->resolved && d->published->latest == date_days_from_civil(2020, 12, 31));
	CHECK(st_load_relation(f.t, "rel:1", &f.a) != NULL);
	st_stats st;
	CHECK_EQ_INT(st_stats_get(f.t, &st), ANNALS_OK);
	CHECK_EQ_INT(st.entities + st.events + st.relations + st.documents, 4);
	CHECK_EQ_INT(st.revision, 4);
	CHECK_EQ_INT(st_txn_revision(f.t), 4);
	CHECK(st.map_size >= 64ull << 20 && st.map_used > 0);
	st_txn_end(f.t);

	/* person:a is named by ev:1 and rel:1: they go first */
	r = del(&f, ST_ENTITY, "person:a", NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(r.msg, "entity \"person:a\" is still referred to");
	const st_kind kinds_[] = {ST_RELATION, ST_EVENT, ST_ENTITY, ST_DOCUMENT};
	const char *ids_[] = {"rel:1", "ev:1", "person:a", "doc:1"};
	for (int i = 0; i < 4; i++) {
		r = del(&f, kinds_[i], ids_[i], NULL, -1);
		CHECK_EQ_INT(r.code, ANNALS_OK);
		CHECK_EQ_INT(r.revision, 5 + (uint64_t)i);
		CHECK(!exists(&f, kinds_[i], ids_[i]));
	}
	r = del(&f, ST_ENTITY, "person:a", NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_NOT_FOUND);
	CHECK_CONTAINS(r.msg, "entity 'person:a' not found");
	CHECK_EQ_INT(st_revision(f.s), 8);
	fx_done(&f);
}

static void test_revisions_and_unchanged(void)
{
	fx f;
	fx_init(&f, NULL);
	const char *js = "{'id': 'org:u', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'U'}],"
	                 " 'summary': 'first'}";
	res r = put(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1);
	CHECK_EQ_INT(r.revision, 1);
	r = put(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK(r.unchanged);
	CHECK_EQ_INT(r.revision, 1);
	CHECK_EQ_INT(r.took, 0);
	CHECK_EQ_INT(st_revision(f.s), 1);
	/* a client-set revision is the server's to set: still unchanged */
	Annals__V1__Entity *e = ENTITY(&f, js);
	e->revision = 99;
	r = put(&f, ST_ENTITY, e, NULL, -1);
	CHECK(r.unchanged);
	e = ENTITY(&f, "{'id': 'org:u', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'U'}],"
	               " 'summary': 'second'}");
	r = put(&f, ST_ENTITY, e, NULL, -1);
	CHECK(!r.unchanged);
	CHECK_EQ_INT(r.revision, 2);
	r = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:v', 'type': 'ENTITY_TYPE_ORGANIZATION'}"), NULL, -1);
	CHECK_EQ_INT(r.revision, 3);
	Annals__V1__Entity *got = load(&f, ST_ENTITY, "org:u");
	CHECK(got && got->revision == 2 && strcmp(got->summary, "second") == 0);
	/* the request is the caller's: its revision field was not touched */
	CHECK_EQ_INT(e->revision, 0);
	fx_done(&f);
}

static void test_guards(void)
{
	fx f;
	fx_init(&f, NULL);
	const char *js = "{'id': 'person:g', 'type': 'ENTITY_TYPE_PERSON'}";
	res r = put(&f, ST_ENTITY, ENTITY(&f, js), NULL, 0); /* 0: must not exist */
	CHECK_EQ_INT(r.code, ANNALS_OK);
	r = put(&f, ST_ENTITY, ENTITY(&f, js), NULL, 0);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(r.msg, "'person:g'");
	CHECK_CONTAINS(r.msg, "guard revision 0");
	CHECK_CONTAINS(r.msg, "stored revision 1");
	r = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'person:g', 'type': 'ENTITY_TYPE_PERSON', 'summary': 's'}"),
	        NULL, 1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK_EQ_INT(r.revision, 2);
	r = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'person:g', 'type': 'ENTITY_TYPE_PERSON', 'summary': 't'}"),
	        NULL, 1);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(r.msg, "guard revision 1 does not match the stored revision 2");
	r = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'person:none', 'type': 'ENTITY_TYPE_PERSON'}"), NULL, 5);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(r.msg, "stored revision 0");
	r = del(&f, ST_ENTITY, "person:g", NULL, 1);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK(exists(&f, ST_ENTITY, "person:g"));
	CHECK_EQ_INT(st_revision(f.s), 2); /* failures take no revision */
	r = del(&f, ST_ENTITY, "person:g", NULL, 2);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK_EQ_INT(r.revision, 3);
	fx_done(&f);
}

static void test_unique_ids_across_kinds(void)
{
	fx f;
	fx_init(&f, NULL);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'x:1', 'type': 'ENTITY_TYPE_PLACE'}"), NULL, -1);
	res r = put(&f, ST_EVENT, EVENT(&f, "{'id': 'x:1', 'type': 'meeting'}"), NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_ALREADY_EXISTS);
	CHECK_CONTAINS(r.msg, "already used by entity 'x:1'");
	r = del(&f, ST_EVENT, "x:1", NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_NOT_FOUND);
	CHECK_CONTAINS(r.msg, "the id is an entity");
	CHECK_EQ_INT(st_revision(f.s), 1);
	fx_done(&f);
}

/* ---- one group, many outcomes ----------------------------------------------------------- */

static void free_replies(st_write *ws, size_t n)
{
	for (size_t i = 0; i < n; i++)
		st_write_clear(&ws[i]);
}

/* Single puts and deletes run straight in the group's txn (no nested txn):
 * each refusal must still leave nothing behind and take no revision, and
 * the writes around it keep their own answers and consecutive revisions. */
static void test_group_mixed_outcomes(void)
{
	fx f;
	fx_init(&f, NULL);
	const char *a_js = "{'id': 'org:ga', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'GA'}]}";
	put(&f, ST_ENTITY, ENTITY(&f, a_js), NULL, -1);
	Annals__V1__DeleteRequest *d =
	    AR_NEW(&f.a, Annals__V1__DeleteRequest, ANNALS__V1__DELETE_REQUEST__INIT);
	d->id = "ev:none";
	st_write ws[] = {
	    put_write(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:gb', 'type': 'ENTITY_TYPE_ORGANIZATION'}"), NULL,
	              -1),
	    put_write(&f, ST_ENTITY,
	              ENTITY(&f, "{'id': 'org:ga', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'g'}"),
	              NULL, 7),
	    put_write(&f, ST_EVENT, EVENT(&f, "{'id': 'org:ga', 'type': 'meeting'}"), NULL, -1),
	    {.op = ST_DELETE, .kind = ST_EVENT, .req = &d->base},
	    put_write(&f, ST_ENTITY, ENTITY(&f, a_js), NULL, -1),
	    put_write(&f, ST_EVENT, EVENT(&f, "{'id': 'ev:gc', 'type': 'meeting'}"), NULL, -1),
	};
	CHECK_EQ_INT(st_apply(f.s, ws, 6), ANNALS_OK);
	int want[] = {
	    ANNALS_OK, ANNALS_FAILED_PRECONDITION, ANNALS_ALREADY_EXISTS, ANNALS_NOT_FOUND, ANNALS_OK,
	    ANNALS_OK};
	uint64_t took[] = {2, 0, 0, 0, 0, 3};
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_INT(ws[i].code, want[i]);
		CHECK_EQ_INT(ws[i].revision, took[i]);
	}
	free_replies(ws, 6);
	CHECK_EQ_INT(st_revision(f.s), 3);
	Annals__V1__Entity *a = load(&f, ST_ENTITY, "org:ga");
	CHECK(a && a->revision == 1 && a->summary[0] == '\0');
	CHECK(!exists(&f, ST_EVENT, "org:ga"));
	CHECK(exists(&f, ST_ENTITY, "org:gb") && exists(&f, ST_EVENT, "ev:gc"));
	int code;
	Annals__V1__ChangesReply *cr = changes(&f, 1, &code, NULL);
	CHECK(cr->n_changes == 2 && cr->changes[0]->revision == 2 && cr->changes[1]->revision == 3);
	fx_done(&f);
}

/* Stores bytes that do not parse as an event under id, anchored on anchor:
 * a write that re-resolves the records anchored there fails half-way. */
static void plant_unparsable_event(fx *f, const char *id, const char *anchor)
{
	fx_close_store(f);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi ev, an;
	CHECK_EQ_INT(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	CHECK_EQ_INT(mdb_env_open(env, f->dir, MDB_NOTLS, 0600), 0);
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_EQ_INT(mdb_dbi_open(txn, "events", 0, &ev), 0);
	CHECK_EQ_INT(mdb_dbi_open(txn, "ix_anchors", 0, &an), 0);
	char akey[128];
	size_t alen = (size_t)snprintf(akey, sizeof(akey), "%s%c%s", anchor, '\0', id);
	MDB_val k = {strlen(id), (void *)id}, v = {4, "\xff\xff\xff\xff"};
	MDB_val ak = {alen, akey}, empty = {0, NULL};
	CHECK_EQ_INT(mdb_put(txn, ev, &k, &v, 0), 0);
	CHECK_EQ_INT(mdb_put(txn, an, &ak, &empty, 0), 0);
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	fx_open_store(f);
}

/* A write that fails after its first change cannot be undone in the
 * group's txn: the group runs again with every write nested, so the
 * failed write leaves nothing and the others commit. */
static void test_group_failure_after_a_change(void)
{
	fx f;
	fx_init(&f, NULL);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:r0', 'type': 'ENTITY_TYPE_ORGANIZATION'}"), NULL, -1);
	plant_unparsable_event(&f, "ev:broken",
	                       "doc:gx"); /* the anchor of document doc:gx (st_anchor_date) */
	st_write ws[] = {
	    put_write(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:r1', 'type': 'ENTITY_TYPE_ORGANIZATION'}"),
	              "rr-1", -1),
	    put_write(&f, ST_DOCUMENT, DOCUMENT(&f, "{'id': 'doc:gx', 'sha256': 'ab'}"), "rr-2", -1),
	    put_write(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:r2', 'type': 'ENTITY_TYPE_ORGANIZATION'}"),
	              "rr-3", -1),
	};
	CHECK_EQ_INT(st_apply(f.s, ws, 3), ANNALS_OK);
	CHECK_EQ_INT(ws[0].code, ANNALS_OK);
	CHECK_EQ_INT(ws[1].code, ANNALS_DATA_LOSS);
	CHECK_CONTAINS(ws[1].msg, "'ev:broken': stored record does not parse");
	CHECK_EQ_INT(ws[2].code, ANNALS_OK);
	CHECK(ws[0].revision == 2 && ws[1].revision == 0 && ws[2].revision == 3);
	free_replies(ws, 3);
	CHECK(!exists(&f, ST_DOCUMENT, "doc:gx"));
	CHECK(exists(&f, ST_ENTITY, "org:r1") && exists(&f, ST_ENTITY, "org:r2"));
	CHECK_EQ_INT(st_revision(f.s), 3);
	int code;
	Annals__V1__ChangesReply *cr = changes(&f, 1, &code, NULL);
	CHECK(cr->n_changes == 2 && cr->changes[0]->n_changes == 1 && cr->changes[1]->n_changes == 1);
	CHECK_EQ_STR(cr->changes[0]->changes[0]->id, "org:r1");
	CHECK_EQ_STR(cr->changes[1]->changes[0]->id, "org:r2");
	/* answered once each: resends replay, the failure (not final) runs again */
	res again =
	    put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:r1', 'type': 'ENTITY_TYPE_PERSON'}"), "rr-1", -1);
	CHECK(again.replayed && again.code == ANNALS_OK);
	res retry = put(&f, ST_DOCUMENT, DOCUMENT(&f, "{'id': 'doc:gx', 'sha256': 'ab'}"), "rr-2", -1);
	CHECK(!retry.replayed && retry.code == ANNALS_DATA_LOSS);
	fx_done(&f);
}

/* ---- batches ------------------------------------------------------------------------------- */

static void test_batch_atomic(void)
{
	fx f;
	fx_init(&f, NULL);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:pre', 'type': 'ENTITY_TYPE_ORGANIZATION'}"), NULL, -1);
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(
	    &f, &b, ANNALS__V1__OP__OP_PUT_ENTITY,
	    ENTITY(&f, "{'id': 'org:b1', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'Bee'}]}"),
	    -1);
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_EVENT, EVENT(&f, "{'id': 'ev:b2', 'type': 'summit'}"), -1);
	batch_del(&f, &b, ST_ENTITY, "org:missing");
	res r = batch(&f, &b, NULL);
	CHECK_EQ_INT(r.code, ANNALS_NOT_FOUND);
	CHECK_CONTAINS(r.msg, "ops[2]: entity 'org:missing' not found");
	CHECK(!exists(&f, ST_ENTITY, "org:b1"));
	CHECK(!exists(&f, ST_EVENT, "ev:b2"));
	CHECK_EQ_INT(by_name(&f, "bee", false).n, 0);
	CHECK_EQ_INT(st_revision(f.s), 1);

	/* a guard failing in the middle undoes the ops before it */
	Annals__V1__BatchRequest g = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(&f, &g, ANNALS__V1__OP__OP_PUT_ENTITY,
	          ENTITY(&f, "{'id': 'org:b1', 'type': 'ENTITY_TYPE_ORGANIZATION'}"), 0);
	batch_add(&f, &g, ANNALS__V1__OP__OP_PUT_ENTITY,
	          ENTITY(&f, "{'id': 'org:pre', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'x'}"), 7);
	r = batch(&f, &g, NULL);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(r.msg, "ops[1]: entity 'org:pre': guard revision 7");
	CHECK(!exists(&f, ST_ENTITY, "org:b1"));

	/* the good batch: one revision for all its ops */
	Annals__V1__BatchRequest ok = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(
	    &f, &ok, ANNALS__V1__OP__OP_PUT_ENTITY,
	    ENTITY(&f, "{'id': 'org:b1', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'Bee'}]}"),
	    -1);
	batch_add(&f, &ok, ANNALS__V1__OP__OP_PUT_EVENT, EVENT(&f, "{'id': 'ev:b2', 'type': 'summit'}"), -1);
	batch_add(
	    &f, &ok, ANNALS__V1__OP__OP_PUT_RELATION,
	    RELATION(&f,
	             "{'id': 'rel:b3', 'subject': 'org:b1', 'predicate': 'member_of', 'object': 'org:b1'}"),
	    -1);
	batch_del(&f, &ok, 0, "org:pre"); /* kind unspecified: whatever holds the id */
	st_write w = {.op = ST_BATCH, .req = &ok.base};
	CHECK_EQ_INT(st_apply(f.s, &w, 1), ANNALS_OK);
	CHECK_EQ_INT(w.code, ANNALS_OK);
	CHECK_EQ_INT(w.revision, 2);
	size_t reply_len;
	uint8_t *reply = reply_of(&w, &reply_len);
	Annals__V1__BatchReply *br = annals__v1__batch_reply__unpack(NULL, reply_len, reply);
	CHECK(br && br->revision == 2 && br->n_results == 4);
	for (size_t i = 0; br && i < br->n_results; i++)
		CHECK(br->results[i]->revision == 2 && !br->results[i]->unchanged);
	if (br)
		annals__v1__batch_reply__free_unpacked(br, NULL);
	free(reply);
	st_write_clear(&w);
	CHECK(!exists(&f, ST_ENTITY, "org:pre"));
	int code;
	Annals__V1__ChangesReply *cr = changes(&f, 1, &code, NULL);
	CHECK(cr->n_changes == 1 && cr->changes[0]->n_changes == 4);

	/* all unchanged: no revision at all */
	Annals__V1__BatchRequest same = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(&f, &same, ANNALS__V1__OP__OP_PUT_EVENT, EVENT(&f, "{'id': 'ev:b2', 'type': 'summit'}"),
	          -1);
	r = batch(&f, &same, NULL);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK(r.unchanged);
	CHECK_EQ_INT(r.revision, 2);
	CHECK_EQ_INT(r.took, 0);
	CHECK_EQ_INT(st_revision(f.s), 2);
	fx_done(&f);
}

static void test_batch_limits(void)
{
	fx f;
	fx_init(&f, NULL);
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	Annals__V1__Entity *e = ENTITY(&f, "{'id': 'x:y', 'type': 'ENTITY_TYPE_PLACE'}");
	for (int i = 0; i < 10001; i++)
		batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_ENTITY, e, -1);
	st_write w = {.op = ST_BATCH, .req = &b.base, .request_id = "r"};
	st_err err = {0};
	CHECK_EQ_INT(st_validate(&w, st_limits(f.s), &err), ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_STR(err.msg, "ops: 10001 operations; at most 10000 in one Batch");
	st_options small = {.max_batch_ops = 5};
	CHECK_EQ_INT(st_validate(&w, &small, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_STR(err.msg, "ops: 10001 operations; at most 5 in one Batch");
	/* cppcheck-suppress unreadVariable ; read through w.req */
	b.n_ops = 10000;
	CHECK_EQ_INT(st_validate(&w, NULL, &err), ANNALS_OK);
	Annals__V1__BatchRequest empty = ANNALS__V1__BATCH_REQUEST__INIT;
	w.req = &empty.base;
	CHECK_EQ_INT(st_validate(&w, NULL, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "ops: empty Batch");
	res r = batch(&f, &empty, NULL); /* st_apply refuses it as well */
	CHECK_EQ_INT(r.code, ANNALS_INVALID_ARGUMENT);
	fx_done(&f);
}

/* ---- the request log ------------------------------------------------------------------------ */

static void test_dedup(void)
{
	fx f;
	fx_init(&f, NULL);
	res first = put(&f, ST_ENTITY,
	                ENTITY(&f, "{'id': 'org:d', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'one'}"),
	                "req-1", -1);
	CHECK_EQ_INT(first.code, ANNALS_OK);
	CHECK(!first.replayed);
	/* a resend (even with other content) is answered from the log */
	res again = put(&f, ST_ENTITY,
	                ENTITY(&f, "{'id': 'org:d', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'two'}"),
	                "req-1", -1);
	CHECK(again.replayed);
	CHECK_EQ_INT(again.code, ANNALS_OK);
	CHECK_EQ_INT(again.took, 0);
	CHECK(again.body_len == first.body_len && memcmp(again.body, first.body, first.body_len) == 0);
	Annals__V1__Entity *e = load(&f, ST_ENTITY, "org:d");
	CHECK(e && strcmp(e->summary, "one") == 0);
	CHECK_EQ_INT(st_revision(f.s), 1);

	/* failed writes are remembered too */
	res miss = del(&f, ST_EVENT, "ev:nope", "req-2", -1);
	CHECK_EQ_INT(miss.code, ANNALS_NOT_FOUND);
	put(&f, ST_EVENT, EVENT(&f, "{'id': 'ev:nope', 'type': 'meeting'}"), "req-3", -1);
	res miss2 = del(&f, ST_EVENT, "ev:nope", "req-2", -1);
	CHECK(miss2.replayed);
	CHECK_EQ_INT(miss2.code, ANNALS_NOT_FOUND);
	CHECK_EQ_STR(miss2.msg, miss.msg);
	CHECK(exists(&f, ST_EVENT, "ev:nope"));
	/* invalid ones as well */
	res bad = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:bad'}"), "req-4", -1);
	CHECK_EQ_INT(bad.code, ANNALS_INVALID_ARGUMENT);
	res bad2 = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:bad', 'type': 'ENTITY_TYPE_ORGANIZATION'}"),
	               "req-4", -1);
	CHECK(bad2.replayed && bad2.code == ANNALS_INVALID_ARGUMENT);

	/* after a restart */
	fx_reopen(&f);
	res third = put(&f, ST_ENTITY,
	                ENTITY(&f, "{'id': 'org:d', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'three'}"),
	                "req-1", -1);
	CHECK(third.replayed);
	CHECK(third.body_len == first.body_len && memcmp(third.body, first.body, first.body_len) == 0);
	CHECK_EQ_INT(st_revision(f.s), 2);

	/* two copies in one group: the second is answered from the first */
	st_write ws[2] = {
	    put_write(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:g1', 'type': 'ENTITY_TYPE_ORGANIZATION'}"),
	              "req-5", -1),
	    put_write(&f, ST_ENTITY,
	              ENTITY(&f, "{'id': 'org:g1', 'type': 'ENTITY_TYPE_ORGANIZATION', 'summary': 'z'}"),
	              "req-5", -1),
	};
	CHECK_EQ_INT(st_apply(f.s, ws, 2), ANNALS_OK);
	CHECK(!ws[0].replayed && ws[1].replayed);
	size_t len0, len1;
	uint8_t *r0 = reply_of(&ws[0], &len0), *r1 = reply_of(&ws[1], &len1);
	CHECK(len0 == len1 && len0 > 0 && memcmp(r0, r1, len0) == 0);
	free(r0);
	free(r1);
	st_write_clear(&ws[0]);
	st_write_clear(&ws[1]);
	CHECK_EQ_INT(st_revision(f.s), 3);
	fx_done(&f);
}

static int64_t fake_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

/* A request log entry written by annals 0.1 (a packed annals.v1.Reply
 * whose body was the WriteReply) still answers its resend, byte for byte,
 * after the store began keeping outcomes in its own encoding. */
static void test_dedup_legacy_entry(void)
{
	fx f;
	fx_init(&f, NULL);
	fx_close_store(&f);
	Annals__V1__WriteReply wr = ANNALS__V1__WRITE_REPLY__INIT;
	wr.id = "org:legacy";
	wr.revision = 7;
	uint8_t body[64];
	size_t blen = annals__v1__write_reply__pack(&wr, body);
	Annals__V1__Reply r = ANNALS__V1__REPLY__INIT;
	r.body.data = body;
	r.body.len = blen;
	uint8_t val[128] = {0}; /* 8 bytes of time, then the packed Reply */
	size_t vlen = 8 + annals__v1__reply__pack(&r, val + 8);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	CHECK_EQ_INT(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, 64u << 20);
	CHECK_EQ_INT(mdb_env_open(env, f.dir, 0, 0600), 0);
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_EQ_INT(mdb_dbi_open(txn, "dedup", 0, &dbi), 0);
	MDB_val k = {strlen("req-legacy"), "req-legacy"}, v = {vlen, val};
	CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	fx_open_store(&f);
	res again = put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:legacy', 'type': 'ENTITY_TYPE_ORGANIZATION'}"),
	                "req-legacy", -1);
	CHECK(again.replayed);
	CHECK_EQ_INT(again.code, ANNALS_OK);
	CHECK_EQ_INT(again.revision, 7);
	CHECK(again.body_len == blen && memcmp(again.body, body, blen) == 0);
	CHECK(!exists(&f, ST_ENTITY, "org:legacy")); /* answered, not applied */
	fx_done(&f);
}

static void test_dedup_expiry(void)
{
	int64_t now = 1700000000000;
	st_options o = {.dedup_age_ms = 1000, .dedup_keep = 3, .clock_ms = fake_clock, .clock_ctx = &now};
	fx f;
	fx_init(&f, &o);
	const char *js = "{'id': 'org:e', 'type': 'ENTITY_TYPE_ORGANIZATION'}";
	put(&f, ST_ENTITY, ENTITY(&f, js), "a", -1);
	CHECK(put(&f, ST_ENTITY, ENTITY(&f, js), "a", -1).replayed);
	now += 2000;
	put(&f, ST_ENTITY, ENTITY(&f, js), "b", -1); /* prunes "a": too old */
	res r = put(&f, ST_ENTITY, ENTITY(&f, js), "a", -1);
	CHECK(!r.replayed);
	CHECK(r.unchanged);
	/* by count: only the newest 3 stay ("a" again, then c d e) */
	put(&f, ST_ENTITY, ENTITY(&f, js), "c", -1);
	put(&f, ST_ENTITY, ENTITY(&f, js), "d", -1);
	put(&f, ST_ENTITY, ENTITY(&f, js), "e", -1);
	CHECK(put(&f, ST_ENTITY, ENTITY(&f, js), "e", -1).replayed);
	CHECK(!put(&f, ST_ENTITY, ENTITY(&f, js), "b", -1).replayed);
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	st_stats st;
	st_stats_get(f.t, &st);
	CHECK(st.dedup_entries <= 3);
	st_txn_end(f.t);
	fx_done(&f);
}

/* ---- the change log ------------------------------------------------------------------------- */

/* cl_append lays a ChangeSet out by hand around the packed records: it
 * must be the bytes protobuf-c packs for the same message. */
static int same_as_protobuf_c(void *ctx, uint64_t revision, const uint8_t *data, size_t len)
{
	int *checked = ctx;
	Annals__V1__ChangeSet *cs = annals__v1__change_set__unpack(NULL, len, data);
	CHECK(cs != NULL);
	if (cs == NULL)
		return 1;
	CHECK_EQ_INT(cs->revision, revision);
	uint8_t *again = malloc(len + 1);
	size_t n = annals__v1__change_set__pack(cs, again);
	CHECK_EQ_INT(n, len);
	CHECK(n == len && memcmp(again, data, len) == 0);
	free(again);
	annals__v1__change_set__free_unpacked(cs, NULL);
	++*checked;
	return 0;
}

static void test_change_log(void)
{
	int64_t now = 1700000000000;
	st_options o = {.clock_ms = fake_clock, .clock_ctx = &now};
	fx f;
	fx_init(&f, &o);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'e1', 'type': 'ENTITY_TYPE_PERSON'}"), "w1", -1);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'e2', 'type': 'ENTITY_TYPE_PERSON'}"), "w2", -1);
	del(&f, ST_ENTITY, "e1", "w3", -1);
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_ENTITY,
	          ENTITY(&f, "{'id': 'e3', 'type': 'ENTITY_TYPE_PERSON'}"), -1);
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_EVENT, EVENT(&f, "{'id': 'v1', 'type': 'meeting'}"), -1);
	batch(&f, &b, "w4");
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'e2', 'type': 'ENTITY_TYPE_PERSON'}"), "w5",
	    -1); /* unchanged: no set */

	int code;
	Annals__V1__ChangesReply *cr = changes(&f, 0, &code, NULL);
	CHECK_EQ_INT(code, ANNALS_OK);
	CHECK_EQ_INT(cr->n_changes, 4);
	CHECK_EQ_INT(cr->revision, 4);
	CHECK_EQ_INT(cr->oldest, 1);
	for (size_t i = 0; i < cr->n_changes; i++) {
		CHECK_EQ_INT(cr->changes[i]->revision, i + 1);
		CHECK_EQ_INT(cr->changes[i]->committed_ms, now);
	}
	if (cr->n_changes == 4) {
		Annals__V1__Change *c0 = cr->changes[0]->changes[0];
		CHECK_EQ_STR(cr->changes[0]->request_id, "w1");
		CHECK(c0->kind == ANNALS__V1__RECORD_KIND__RECORD_KIND_ENTITY && !c0->deleted);
		CHECK(c0->record_case == ANNALS__V1__CHANGE__RECORD_ENTITY && c0->entity->revision == 1);
		Annals__V1__Change *tomb = cr->changes[2]->changes[0];
		CHECK(tomb->deleted && strcmp(tomb->id, "e1") == 0);
		CHECK(tomb->record_case == ANNALS__V1__CHANGE__RECORD__NOT_SET);
		CHECK_EQ_INT(cr->changes[3]->n_changes, 2);
		CHECK(cr->changes[3]->changes[1]->record_case == ANNALS__V1__CHANGE__RECORD_EVENT);
	}
	cr = changes(&f, 2, &code, NULL);
	CHECK(cr->n_changes == 2 && cr->changes[0]->revision == 3);

	Annals__V1__ChangesRequest in = ANNALS__V1__CHANGES_REQUEST__INIT;
	Annals__V1__ChangesReply out = ANNALS__V1__CHANGES_REPLY__INIT;
	st_err err = {0};
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	in.kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_EVENT;
	CHECK_EQ_INT(st_q_changes(f.t, &in, &f.a, &out, &err), ANNALS_OK);
	CHECK(out.n_changes == 1 && out.changes[0]->revision == 4 && out.changes[0]->n_changes == 1);
	Annals__V1__ChangesReply out2 = ANNALS__V1__CHANGES_REPLY__INIT;
	in.kind = 0;
	in.id = "e1";
	CHECK_EQ_INT(st_q_changes(f.t, &in, &f.a, &out2, &err), ANNALS_OK);
	CHECK(out2.n_changes == 2 && out2.changes[1]->changes[0]->deleted);
	Annals__V1__ChangesReply out3 = ANNALS__V1__CHANGES_REPLY__INIT;
	in.id = "";
	in.limit = 1;
	CHECK_EQ_INT(st_q_changes(f.t, &in, &f.a, &out3, &err), ANNALS_OK);
	CHECK(out3.n_changes == 1 && out3.changes[0]->revision == 1);
	/* scanning directly */
	CHECK_EQ_INT(st_oldest_change(f.t), 1);
	int checked = 0;
	CHECK_EQ_INT(st_scan_changes(f.t, 0, same_as_protobuf_c, &checked), ANNALS_OK);
	CHECK_EQ_INT(checked, 4);
	st_txn_end(f.t);
	fx_done(&f);
}

static void test_change_retention(void)
{
	int64_t now = 1700000000000;
	st_options o = {.changes_keep = 3, .clock_ms = fake_clock, .clock_ctx = &now};
	fx f;
	fx_init(&f, &o);
	char js[128];
	for (int i = 0; i < 10; i++) {
		snprintf(js, sizeof(js), "{'id': 'e%d', 'type': 'ENTITY_TYPE_PERSON'}", i);
		put(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1);
	}
	int code;
	char msg[480];
	changes(&f, 0, &code, msg);
	CHECK_EQ_INT(code, ANNALS_OUT_OF_RANGE);
	CHECK_CONTAINS(msg, "oldest change set still kept is revision 8");
	Annals__V1__ChangesReply *cr = changes(&f, 7, &code, NULL);
	CHECK_EQ_INT(code, ANNALS_OK);
	CHECK(cr->n_changes == 3 && cr->oldest == 8 && cr->revision == 10);
	changes(&f, 6, &code, NULL);
	CHECK_EQ_INT(code, ANNALS_OUT_OF_RANGE);
	fx_done(&f);

	/* by age: everything but the newest set goes */
	st_options aged = {.changes_age_ms = 1000, .clock_ms = fake_clock, .clock_ctx = &now};
	fx_init(&f, &aged);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'a', 'type': 'ENTITY_TYPE_PERSON'}"), NULL, -1);
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'b', 'type': 'ENTITY_TYPE_PERSON'}"), NULL, -1);
	now += 5000;
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'c', 'type': 'ENTITY_TYPE_PERSON'}"), NULL, -1);
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	CHECK_EQ_INT(st_oldest_change(f.t), 3);
	st_txn_end(f.t);
	now += 5000;
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'd', 'type': 'ENTITY_TYPE_PERSON'}"), NULL, -1);
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	CHECK_EQ_INT(st_oldest_change(f.t), 4); /* the newest stays even when old */
	st_txn_end(f.t);
	fx_done(&f);
}

/* ---- relative dates --------------------------------------------------------------------------- */

/* A document whose id itself begins with "doc:" (as the built-in data's
 * does) is named by the anchor "doc:<id without doubling>": writing its
 * publication date resolves what is anchored on it, at write time, as the
 * queries resolve it at query time (one rule: st_anchor_date). */
static void test_relative_dates_prefixed_document(void)
{
	fx f;
	fx_init(&f, NULL);
	PUT_BARE(&f, ST_DOCUMENT, "doc:pfx"); /* an anchor must name a document: one without a date */
	put(&f, ST_EVENT,
	    EVENT(&f, "{'id': 'ev:p', 'type': 'meeting', 'when': {'precision': 'PRECISION_DAY',"
	              " 'anchor': 'doc:pfx', 'offset_days': -1}}"),
	    NULL, -1);
	res r = put(&f, ST_DOCUMENT,
	            DOCUMENT(&f, "{'id': 'doc:pfx', 'title': 'x', 'published': {'precision': 'PRECISION_DAY',"
	                         " 'year': 2020, 'month': 3, 'day': 2}}"),
	            NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	Annals__V1__Event *e = load(&f, ST_EVENT, "ev:p");
	CHECK(e && e->when->resolved && e->when->earliest == date_days_from_civil(2020, 3, 1));
	CHECK(e && e->revision == r.revision); /* rewritten in the document's change set */
	fx_done(&f);
}

static void test_relative_dates(void)
{
	fx f;
	fx_init(&f, NULL);
	PUT_BARE(&f, ST_DOCUMENT, "d1"); /* an anchor must name a document: one without a date */
	res r = put(&f, ST_EVENT,
	            EVENT(&f, "{'id': 'ev:r', 'type': 'meeting', 'when': {'precision': 'PRECISION_DAY',"
	                      " 'anchor': 'doc:d1', 'offset_days': -1}}"),
	            NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	Annals__V1__Event *e = load(&f, ST_EVENT, "ev:r");
	CHECK(e && !e->when->resolved);
	/* a name interval anchored on the same document (a nested Date) */
	put(&f, ST_ENTITY,
	    ENTITY(&f,
	           "{'id': 'org:n', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': [{'text': 'N',"
	           " 'valid': {'start': {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_YEAR',"
	           " 'anchor': 'doc:d1'}}}}]}"),
	    NULL, -1);
	/* the document without a publication date: nothing to resolve */
	r = put(&f, ST_DOCUMENT, DOCUMENT(&f, "{'id': 'd1', 'title': 'x'}"), NULL, -1);
	int code;
	Annals__V1__ChangesReply *cr = changes(&f, r.revision - 1, &code, NULL);
	CHECK(cr->n_changes == 1 && cr->changes[0]->n_changes == 1);
	/* anchors name a document as "doc:" + its id */
	e = load(&f, ST_EVENT, "ev:r");
	CHECK(e && !e->when->resolved);
	r = put(&f, ST_DOCUMENT,
	        DOCUMENT(&f, "{'id': 'd1', 'title': 'x', 'published': {'precision': 'PRECISION_DAY',"
	                     " 'year': 2021, 'month': 5, 'day': 13}}"),
	        NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	cr = changes(&f, r.revision - 1, &code, NULL);
	CHECK_EQ_INT(cr->n_changes, 1);
	if (cr->n_changes == 1) {
		Annals__V1__ChangeSet *cs = cr->changes[0];
		CHECK_EQ_INT(cs->n_changes, 3); /* the document, the event, the entity */
		bool saw_event = false, saw_entity = false;
		for (size_t i = 0; i < cs->n_changes; i++) {
			if (cs->changes[i]->record_case == ANNALS__V1__CHANGE__RECORD_EVENT)
				saw_event = cs->changes[i]->event->when->resolved;
			if (cs->changes[i]->record_case == ANNALS__V1__CHANGE__RECORD_ENTITY)
				saw_entity = cs->changes[i]->entity->names[0]->valid->start->date->resolved;
		}
		CHECK(saw_event && saw_entity);
	}
	e = load(&f, ST_EVENT, "ev:r");
	CHECK(e && e->when->resolved && e->when->earliest == date_days_from_civil(2021, 5, 12));
	CHECK(e && e->when->year == 2021 && e->when->month == 5 && e->when->day == 12);
	CHECK(e && e->revision == r.revision);

	/* a chain: an event anchored on that event */
	put(&f, ST_EVENT,
	    EVENT(&f, "{'id': 'ev:c', 'type': 'meeting', 'when': {'precision': 'PRECISION_DAY',"
	              " 'anchor': 'event:ev:r', 'offset_days': 1}}"),
	    NULL, -1);
	e = load(&f, ST_EVENT, "ev:c");
	CHECK(e && e->when->resolved && e->when->earliest == date_days_from_civil(2021, 5, 13));
	r = put(&f, ST_DOCUMENT,
	        DOCUMENT(&f, "{'id': 'd1', 'title': 'x', 'published': {'precision': 'PRECISION_DAY',"
	                     " 'year': 2021, 'month': 6, 'day': 1}}"),
	        NULL, -1);
	cr = changes(&f, r.revision - 1, &code, NULL);
	/* the document, ev:r and (one level further) ev:c; org:n's year stays 2021 */
	CHECK(cr->n_changes == 1 && cr->changes[0]->n_changes == 3);
	e = load(&f, ST_EVENT, "ev:c");
	CHECK(e && e->when->earliest == date_days_from_civil(2021, 6, 1) && e->revision == r.revision);

	/* in one Batch, the event before its document */
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_EVENT,
	          EVENT(&f, "{'id': 'ev:b', 'type': 'meeting', 'when': {'precision': 'PRECISION_MONTH',"
	                    " 'anchor': 'doc:d2', 'offset_months': -1}}"),
	          -1);
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_DOCUMENT,
	          DOCUMENT(&f, "{'id': 'd2', 'published': {'precision': 'PRECISION_DAY', 'year': 2020, "
	                       "'month': 3, 'day': 9}}"),
	          -1);
	r = batch(&f, &b, NULL);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	e = load(&f, ST_EVENT, "ev:b");
	CHECK(e && e->when->resolved && e->when->month == 2 &&
	      e->when->earliest == date_days_from_civil(2020, 2, 1));

	/* the anchor cannot go while ev:b is anchored on it; with ev:b
	 * rewritten in the same Batch, it can */
	r = del(&f, ST_DOCUMENT, "d2", NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(r.msg, "document \"d2\" is still referred to: event \"ev:b\" names it in when.anchor");
	Annals__V1__BatchRequest rw = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_del(&f, &rw, ST_DOCUMENT, "d2");
	batch_add(&f, &rw, ANNALS__V1__OP__OP_PUT_EVENT,
	          EVENT(&f, "{'id': 'ev:b', 'type': 'meeting', 'when': {'precision': 'PRECISION_YEAR', "
	                    "'year': 2020}}"),
	          -1);
	r = batch(&f, &rw, NULL);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK(!exists(&f, ST_DOCUMENT, "d2"));
	e = load(&f, ST_EVENT, "ev:b");
	CHECK(e && e->when->resolved && e->when->year == 2020);
	fx_done(&f);
}

/* ---- references ----------------------------------------------------------------------------------- */

/* A document is named with or without "doc:" (as queries find it): the
 * delete of one that a reference may still find under its other form goes
 * through, the delete of the last one it can name is refused, and the
 * reverse index follows a rewrite (the old value no longer counts). */
static void test_references_document_forms(void)
{
	fx f;
	fx_init(&f, NULL);
	PUT_BARE(&f, ST_DOCUMENT, "doc:z", "z");
	res r = put(
	    &f, ST_ENTITY,
	    ENTITY(&f,
	           "{'id': 'p:cited', 'type': 'ENTITY_TYPE_PERSON', 'evidence': [{'document': 'doc:z'}]}"),
	    NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	r = del(&f, ST_DOCUMENT, "doc:z", NULL, -1); /* "doc:z" still finds "z" */
	CHECK_EQ_INT(r.code, ANNALS_OK);
	r = del(&f, ST_DOCUMENT, "z", NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(
	    r.msg,
	    "document \"z\" is still referred to: entity \"p:cited\" names it in evidence[0].document");
	/* rewritten to cite nothing: the old key is gone, the delete goes through */
	put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'p:cited', 'type': 'ENTITY_TYPE_PERSON'}"), NULL, -1);
	r = del(&f, ST_DOCUMENT, "z", NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_OK);
	/* an id of another kind is named as such */
	r = put(&f, ST_RELATION,
	        RELATION(
	            &f, "{'id': 'rel:k', 'subject': 'p:cited', 'predicate': 'deputy_of', 'object': 'rel:k'}"),
	        NULL, -1);
	CHECK_EQ_INT(r.code, ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(r.msg, "relation.object: no entity \"rel:k\" (the id is a relation)");
	fx_done(&f);
}

/* ---- indexes ------------------------------------------------------------------------------------ */

typedef struct cite_count {
	int n;
} cite_count;

static int count_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	(void)id;
	(void)data;
	(void)len;
	((cite_count *)ctx)->n++;
	return 0;
}

static int cites(fx *f, const char *doc, uint32_t sentence)
{
	cite_count c = {0};
	CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
	CHECK_EQ_INT(st_scan_citing(f->t, doc, sentence, count_visit, &c), ANNALS_OK);
	st_txn_end(f->t);
	return c.n;
}

static int relations_of(fx *f, const char *entity, const char *predicate, bool inverse)
{
	cite_count c = {0};
	CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
	CHECK_EQ_INT(st_scan_relations(f->t, entity, predicate, inverse, count_visit, &c), ANNALS_OK);
	st_txn_end(f->t);
	return c.n;
}

static int events_of(fx *f, const char *entity)
{
	cite_count c = {0};
	CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
	CHECK_EQ_INT(st_scan_events(f->t, entity, DATE_NEG_INF, DATE_POS_INF, NULL, NULL, count_visit, &c),
	             ANNALS_OK);
	st_txn_end(f->t);
	return c.n;
}

static void test_index_maintenance(void)
{
	fx f;
	fx_init(&f, NULL);
	PUT_BARE(&f, ST_DOCUMENT, "doc:x", "doc:y");
	PUT_BARE(&f, ST_ENTITY, "p:a", "p:b", "o:x", "pl:1");
	put(&f, ST_ENTITY,
	    ENTITY(&f,
	           "{'id': 'org:a', 'type': 'ENTITY_TYPE_ORGANIZATION',"
	           " 'names': [{'text': 'Alpha Org', 'evidence': [{'document': 'doc:x', 'sentences': [2]}]},"
	           "           {'text': 'AO'}],"
	           " 'evidence': [{'document': 'doc:x', 'sentences': [2, 3]}, {'document': 'doc:y'}]}"),
	    NULL, -1);
	ids l = by_name(&f, "ALPHA org", false);
	CHECK(l.n == 1 && ids_has(&l, "org:a"));
	CHECK_EQ_INT(by_name(&f, "a", true).n, 1); /* both names match: reported once */
	CHECK_EQ_INT(by_name(&f, "alpha", false).n, 0);
	CHECK_EQ_INT(cites(&f, "doc:x", 0), 1);
	CHECK_EQ_INT(cites(&f, "doc:x", 3), 1);
	CHECK_EQ_INT(cites(&f, "doc:x", 4), 0);
	CHECK_EQ_INT(cites(&f, "doc:y", 0), 1);

	put(&f, ST_ENTITY,
	    ENTITY(&f, "{'id': 'org:a', 'type': 'ENTITY_TYPE_COUNTRY', 'names': [{'text': 'Beta Org'}]}"),
	    NULL, -1);
	CHECK_EQ_INT(by_name(&f, "alpha org", false).n, 0);
	CHECK_EQ_INT(by_name(&f, "ao", false).n, 0);
	CHECK_EQ_INT(by_name(&f, "beta org", false).n, 1);
	CHECK_EQ_INT(cites(&f, "doc:x", 0), 0);
	cite_count c = {0};
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	st_scan_entities_by_type(f.t, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION, "", count_visit, &c);
	CHECK_EQ_INT(c.n, 0);
	st_scan_entities_by_type(f.t, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_COUNTRY, NULL, count_visit, &c);
	CHECK_EQ_INT(c.n, 1);
	st_txn_end(f.t);
	del(&f, ST_ENTITY, "org:a", NULL, -1);
	CHECK_EQ_INT(by_name(&f, "beta org", false).n, 0);
	c.n = 0;
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	st_scan_entities_by_type(f.t, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_COUNTRY, NULL, count_visit, &c);
	st_txn_end(f.t);
	CHECK_EQ_INT(c.n, 0);

	/* relations by subject and object */
	put(&f, ST_RELATION,
	    RELATION(&f, "{'id': 'r1', 'subject': 'p:a', 'predicate': 'member_of', 'object': 'o:x'}"), NULL,
	    -1);
	CHECK_EQ_INT(relations_of(&f, "p:a", NULL, false), 1);
	CHECK_EQ_INT(relations_of(&f, "p:a", "member_of", false), 1);
	CHECK_EQ_INT(relations_of(&f, "p:a", "chairs", false), 0);
	CHECK_EQ_INT(relations_of(&f, "o:x", NULL, true), 1);
	put(&f, ST_RELATION,
	    RELATION(&f, "{'id': 'r1', 'subject': 'p:b', 'predicate': 'member_of', 'object': 'o:x'}"), NULL,
	    -1);
	CHECK_EQ_INT(relations_of(&f, "p:a", NULL, false), 0);
	CHECK_EQ_INT(relations_of(&f, "p:b", NULL, false), 1);
	CHECK_EQ_INT(relations_of(&f, "o:x", "member_of", true), 1);

	/* events by entity: participants and place */
	put(&f, ST_EVENT,
	    EVENT(&f, "{'id': 'v1', 'type': 'meeting', 'place': 'pl:1',"
	              " 'participants': [{'entity': 'p:a'}, {'entity': 'p:b'}]}"),
	    NULL, -1);
	CHECK_EQ_INT(events_of(&f, "p:a"), 1);
	CHECK_EQ_INT(events_of(&f, "pl:1"), 1);
	put(&f, ST_EVENT, EVENT(&f, "{'id': 'v1', 'type': 'meeting', 'participants': [{'entity': 'p:b'}]}"),
	    NULL, -1);
	CHECK_EQ_INT(events_of(&f, "p:a"), 0);
	CHECK_EQ_INT(events_of(&f, "pl:1"), 0);
	CHECK_EQ_INT(events_of(&f, "p:b"), 1);

	/* Latin and Cyrillic names fold */
	put(&f, ST_ENTITY,
	    ENTITY(&f, "{'id': 'p:m', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': 'ЁЛКА Müller'}]}"),
	    NULL, -1);
	CHECK_EQ_INT(by_name(&f, "ёлка MÜLLER", false).n, 1);
	CHECK_EQ_INT(by_name(&f, "Ёл", true).n, 1);

	/* a very long name is cut and hashed in its key, and still found */
	char name[700], other[700];
	memset(name, 'x', 650);
	name[650] = '\0';
	memcpy(other, name, 651);
	other[640] = 'y';
	char js[1600];
	snprintf(js, sizeof(js), "{'id': 'p:long', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': '%s'}]}",
	         name);
	put(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1);
	snprintf(js, sizeof(js), "{'id': 'p:long2', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': '%s'}]}",
	         other);
	CHECK_EQ_INT(put(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1).code, ANNALS_OK);
	l = by_name(&f, name, false);
	CHECK(l.n == 1 && ids_has(&l, "p:long"));
	name[500] = '\0';
	CHECK_EQ_INT(by_name(&f, name, true).n, 2);
	fx_done(&f);
}

/* ---- paging ------------------------------------------------------------------------------------ */

static int page_entities(fx *f, const char *prefix, int type, uint32_t size, ids *seen)
{
	Annals__V1__ListEntitiesRequest in = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	in.page_size = size;
	in.name_prefix = (char *)prefix;
	in.type = (Annals__V1__EntityType)type;
	int pages = 0;
	do {
		Annals__V1__EntityPage out = ANNALS__V1__ENTITY_PAGE__INIT;
		st_err err = {0};
		CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
		int rc = read_back(st_q_list_entities(f->t, &in, &f->a, &out, &err), &(&out)->base, &f->a);
		st_txn_end(f->t);
		CHECK_EQ_INT(rc, ANNALS_OK);
		if (rc != ANNALS_OK)
			return -1;
		CHECK(out.n_entities <= size);
		for (size_t i = 0; i < out.n_entities; i++) {
			CHECK(!ids_has(seen, out.entities[i]->id)); /* no repeats across pages */
			collect_id(seen, out.entities[i]->id, NULL, 0);
		}
		pages++;
		in.page_token = out.next_page_token;
	} while (in.page_token[0] != '\0' && pages < 1000);
	return pages;
}

static void test_pagination(void)
{
	fx f;
	fx_init(&f, NULL);
	st_write ws[250];
	char js[256];
	for (int i = 0; i < 250; i++) {
		snprintf(
		    js, sizeof(js),
		    "{'id': 'p:%03d', 'type': '%s', 'names': [{'text': 'Name %03d'}, {'text': 'Nom %03d'}]}",
		    i, i % 2 ? "ENTITY_TYPE_ORGANIZATION" : "ENTITY_TYPE_PERSON", i, i);
		ws[i] = put_write(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1);
	}
	CHECK_EQ_INT(st_apply(f.s, ws, 250), ANNALS_OK);
	for (int i = 0; i < 250; i++)
		st_write_clear(&ws[i]);
	ids seen = {.n = 0};
	CHECK_EQ_INT(page_entities(&f, "", 0, 37, &seen), 7);
	CHECK_EQ_INT(seen.n, 250);
	for (int i = 1; i < seen.n; i++)
		CHECK(strcmp(seen.list[i - 1], seen.list[i]) < 0);
	seen.n = 0;
	CHECK_EQ_INT(page_entities(&f, "", 0, 50, &seen), 5); /* no empty page at the end */
	seen.n = 0;
	page_entities(&f, "", ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON, 10, &seen);
	CHECK_EQ_INT(seen.n, 125);
	seen.n = 0;
	page_entities(&f, "NAME 1", 0, 7, &seen);
	CHECK_EQ_INT(seen.n, 100);
	seen.n = 0;
	page_entities(&f, "n", 0, 9, &seen); /* two matching names each: still once */
	CHECK_EQ_INT(seen.n, 250);
	seen.n = 0;
	page_entities(&f, "n", ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION, 11, &seen);
	CHECK_EQ_INT(seen.n, 125);

	Annals__V1__ListEntitiesRequest bad = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	bad.page_token = "zz-not-a-token";
	Annals__V1__EntityPage out = ANNALS__V1__ENTITY_PAGE__INIT;
	st_err err = {0};
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	CHECK_EQ_INT(read_back(st_q_list_entities(f.t, &bad, &f.a, &out, &err), &(&out)->base, &f.a),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "page_token");
	Annals__V1__FindEntitiesRequest fr = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
	fr.name = "name 042";
	Annals__V1__EntityPage found = ANNALS__V1__ENTITY_PAGE__INIT;
	CHECK_EQ_INT(read_back(st_q_find_entities(f.t, &fr, &f.a, &found, &err), &(&found)->base, &f.a),
	             ANNALS_OK);
	CHECK(found.n_entities == 1 && strcmp(found.entities[0]->id, "p:042") == 0);
	fr.name = "nom 0";
	fr.prefix = true;
	Annals__V1__EntityPage found2 = ANNALS__V1__ENTITY_PAGE__INIT;
	CHECK_EQ_INT(read_back(st_q_find_entities(f.t, &fr, &f.a, &found2, &err), &(&found2)->base, &f.a),
	             ANNALS_OK);
	CHECK_EQ_INT(found2.n_entities, 50); /* the default limit */
	st_txn_end(f.t);

	/* documents and relations page the same way */
	for (int i = 0; i < 30; i++) {
		snprintf(js, sizeof(js), "{'id': 'doc:%02d'}", i);
		put(&f, ST_DOCUMENT, DOCUMENT(&f, js), NULL, -1);
		snprintf(js, sizeof(js),
		         "{'id': 'rel:%02d', 'subject': 'p:%03d', 'predicate': '%s', 'object': 'p:001'}", i,
		         i % 3, i % 2 ? "member_of" : "chairs");
		put(&f, ST_RELATION, RELATION(&f, js), NULL, -1);
	}
	int n_docs = 0, n_rels = 0, n_obj = 0;
	Annals__V1__ListDocumentsRequest dr = ANNALS__V1__LIST_DOCUMENTS_REQUEST__INIT;
	dr.page_size = 7;
	do {
		Annals__V1__DocumentPage dp = ANNALS__V1__DOCUMENT_PAGE__INIT;
		CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
		CHECK_EQ_INT(read_back(st_q_list_documents(f.t, &dr, &f.a, &dp, &err), &(&dp)->base, &f.a),
		             ANNALS_OK);
		st_txn_end(f.t);
		n_docs += (int)dp.n_documents;
		dr.page_token = dp.next_page_token;
	} while (dr.page_token[0]);
	CHECK_EQ_INT(n_docs, 30);
	Annals__V1__ListRelationsRequest rr = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	rr.subject = "p:000";
	rr.page_size = 2;
	do {
		Annals__V1__RelationPage rp = ANNALS__V1__RELATION_PAGE__INIT;
		CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
		CHECK_EQ_INT(read_back(st_q_list_relations(f.t, &rr, &f.a, &rp, &err), &(&rp)->base, &f.a),
		             ANNALS_OK);
		st_txn_end(f.t);
		n_rels += (int)rp.n_relations;
		rr.page_token = rp.next_page_token;
	} while (rr.page_token[0]);
	CHECK_EQ_INT(n_rels, 10);
	Annals__V1__ListRelationsRequest ro = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	ro.object = "p:001";
	ro.predicate = "member_of";
	ro.page_size = 4;
	do {
		Annals__V1__RelationPage rp = ANNALS__V1__RELATION_PAGE__INIT;
		CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
		CHECK_EQ_INT(read_back(st_q_list_relations(f.t, &ro, &f.a, &rp, &err), &(&rp)->base, &f.a),
		             ANNALS_OK);
		st_txn_end(f.t);
		n_obj += (int)rp.n_relations;
		ro.page_token = rp.next_page_token;
	} while (ro.page_token[0]);
	CHECK_EQ_INT(n_obj, 15);
	fx_done(&f);
}

static int list_events(fx *f, Annals__V1__ListEventsRequest *in, ids *seen, int32_t *prev_day)
{
	int pages = 0;
	in->page_token = "";
	do {
		Annals__V1__EventPage out = ANNALS__V1__EVENT_PAGE__INIT;
		st_err err = {0};
		CHECK_EQ_INT(st_txn_begin(f->t), ANNALS_OK);
		int rc = read_back(st_q_list_events(f->t, in, &f->a, &out, &err), &(&out)->base, &f->a);
		st_txn_end(f->t);
		if (rc != ANNALS_OK) {
			fprintf(stderr, "  list_events: %s\n", err.msg);
			return -rc;
		}
		for (size_t i = 0; i < out.n_events; i++) {
			int32_t lo, hi;
			int32_t day = date_range(out.events[i]->when, &lo, &hi) ? lo : DATE_POS_INF;
			CHECK(day >= *prev_day); /* time order, undated last */
			*prev_day = day;
			CHECK(!ids_has(seen, out.events[i]->id));
			collect_id(seen, out.events[i]->id, NULL, 0);
		}
		pages++;
		in->page_token = out.next_page_token;
	} while (in->page_token[0] != '\0' && pages < 1000);
	return pages;
}

static Annals__V1__Date *day_date(fx *f, int y, int m, int d)
{
	Annals__V1__Date *x = AR_NEW(&f->a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	x->precision = d   ? ANNALS__V1__PRECISION__PRECISION_DAY
	               : m ? ANNALS__V1__PRECISION__PRECISION_MONTH
	                   : ANNALS__V1__PRECISION__PRECISION_YEAR;
	x->year = y, x->month = m, x->day = d;
	return x;
}

static void test_list_events(void)
{
	fx f;
	fx_init(&f, NULL);
	char js[400];
	put(&f, ST_ENTITY,
	    ENTITY(&f, "{'id': 'person:p', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': 'Pat Doe'}]}"),
	    NULL, -1);
	PUT_BARE(&f, ST_ENTITY, "person:other", "place:q");
	for (int i = 0; i < 120; i++) {
		if (i % 10 == 9)
			snprintf(js, sizeof(js), "{'id': 'ev:%03d', 'type': 'meeting'}", i); /* undated */
		else
			snprintf(
			    js, sizeof(js),
			    "{'id': 'ev:%03d', 'type': '%s', 'status': '%s', 'place': 'place:q',"
			    " 'participants': [{'entity': '%s'}],"
			    " 'when': {'precision': 'PRECISION_DAY', 'year': %d, 'month': %d, 'day': %d}}",
			    i, i % 2 ? "meeting" : "summit",
			    i % 3 ? "EVENT_STATUS_OCCURRED" : "EVENT_STATUS_PLANNED",
			    i % 4 ? "person:p" : "person:other", 2000 + (119 - i) % 20, 1 + i % 12,
			    1 + i % 28);
		put(&f, ST_EVENT, EVENT(&f, js), NULL, -1);
	}
	put(&f, ST_EVENT,
	    EVENT(
	        &f,
	        "{'id': 'ev:year', 'type': 'summit', 'when': {'precision': 'PRECISION_YEAR', 'year': 2010}}"),
	    NULL, -1);
	Annals__V1__ListEventsRequest in = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	ids seen = {.n = 0};
	int32_t prev = DATE_NEG_INF;
	in.page_size = 25;
	CHECK_EQ_INT(list_events(&f, &in, &seen, &prev), 5);
	CHECK_EQ_INT(seen.n, 121);
	CHECK(seen.n == 121 && strncmp(seen.list[120], "ev:", 3) == 0 &&
	      strcmp(seen.list[120], "ev:119") == 0);

	/* participant by name; type and status filters */
	Annals__V1__ListEventsRequest byp = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	byp.participant = "pat doe";
	byp.page_size = 13;
	seen.n = 0;
	prev = DATE_NEG_INF;
	list_events(&f, &byp, &seen, &prev);
	int want = 0;
	for (int i = 0; i < 120; i++)
		want += i % 10 != 9 && i % 4 != 0;
	CHECK_EQ_INT(seen.n, want);
	byp.type = "summit";
	byp.status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_PLANNED;
	seen.n = 0;
	prev = DATE_NEG_INF;
	list_events(&f, &byp, &seen, &prev);
	want = 0;
	for (int i = 0; i < 120; i++)
		want += i % 10 != 9 && i % 4 != 0 && i % 2 == 0 && i % 3 == 0;
	CHECK_EQ_INT(seen.n, want);

	/* from/to: overlap; the year-precision event overlaps a day inside it */
	Annals__V1__ListEventsRequest rng = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	rng.from = day_date(&f, 2010, 6, 1);
	rng.to = day_date(&f, 2010, 6, 30);
	seen.n = 0;
	prev = DATE_NEG_INF;
	list_events(&f, &rng, &seen, &prev);
	CHECK(ids_has(&seen, "ev:year"));
	for (int i = 0; i < seen.n; i++)
		CHECK(strcmp(seen.list[i], "ev:109") != 0 &&
		      strcmp(seen.list[i], "ev:119") != 0); /* undated: out */
	Annals__V1__ListEventsRequest late = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	late.from = day_date(&f, 2030, 0, 0);
	seen.n = 0;
	prev = DATE_NEG_INF;
	list_events(&f, &late, &seen, &prev);
	CHECK_EQ_INT(seen.n, 0);
	Annals__V1__ListEventsRequest badp = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	badp.from = day_date(&f, 2010, 13, 0);
	seen.n = 0;
	CHECK_EQ_INT(list_events(&f, &badp, &seen, &prev), -ANNALS_INVALID_ARGUMENT);
	fx_done(&f);
}

/* ---- the built-in data, imported twice and in either order -------------------------------------- */

static void seed_ops(fx *f, Annals__V1__BatchRequest *b, const Annals__V1__Dataset *d, bool reverse)
{
	for (int pass = 0; pass < 4; pass++) {
		int which = reverse ? 3 - pass : pass;
		if (which == 0)
			for (size_t i = 0; i < d->n_documents; i++)
				batch_add(f, b, ANNALS__V1__OP__OP_PUT_DOCUMENT, d->documents[i], -1);
		if (which == 1)
			for (size_t i = 0; i < d->n_events; i++)
				batch_add(f, b, ANNALS__V1__OP__OP_PUT_EVENT, d->events[i], -1);
		if (which == 2)
			for (size_t i = 0; i < d->n_entities; i++)
				batch_add(f, b, ANNALS__V1__OP__OP_PUT_ENTITY, d->entities[i], -1);
		if (which == 3)
			for (size_t i = 0; i < d->n_relations; i++)
				batch_add(f, b, ANNALS__V1__OP__OP_PUT_RELATION, d->relations[i], -1);
	}
}

typedef struct same_ctx {
	st_txn *other;
	st_kind kind;
	int compared, differ;
} same_ctx;

static int same_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	same_ctx *c = ctx;
	const uint8_t *o;
	size_t olen;
	c->compared++;
	if (st_get(c->other, c->kind, id, &o, &olen) != ANNALS_OK || olen != len ||
	    memcmp(o, data, len) != 0) {
		fprintf(stderr, "  %s differs by import order\n", id);
		c->differ++;
	}
	return 0;
}

static void test_import_twice_and_in_any_order(void)
{
	const char *root = getenv("ANNALS_ROOT");
	char path[512];
	snprintf(path, sizeof(path), "%s/data/seed/dataset.json", root ? root : ".");
	size_t len = 0;
	char *json = file_read_all(path, 64u << 20, &len);
	if (json == NULL) {
		fprintf(stderr, "  %s not found: skipped\n", path);
		CHECK(root == NULL);
		return;
	}
	fx f, g;
	fx_init(&f, NULL);
	fx_init(&g, NULL);
	char err[300];
	Annals__V1__Dataset *d = (Annals__V1__Dataset *)pbjson_parse(&annals__v1__dataset__descriptor, json,
	                                                             len, &f.a, err, sizeof(err));
	free(json);
	CHECK(d != NULL);
	if (d == NULL) {
		fprintf(stderr, "  dataset: %s\n", err);
		fx_done(&f);
		fx_done(&g);
		return;
	}
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	seed_ops(&f, &b, d, false);
	res r = batch(&f, &b, "seed-1");
	CHECK_EQ_INT(r.code, ANNALS_OK);
	if (r.code != ANNALS_OK)
		fprintf(stderr, "  %s\n", r.msg);
	CHECK_EQ_INT(r.revision, 1);
	r = batch(&f, &b, "seed-2"); /* the same data again: nothing changes */
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK(r.unchanged);
	CHECK_EQ_INT(r.took, 0);
	CHECK_EQ_INT(st_revision(f.s), 1);

	/* anchors after the records anchored on them: the same bytes in the end */
	Annals__V1__BatchRequest rb = ANNALS__V1__BATCH_REQUEST__INIT;
	seed_ops(&f, &rb, d, true);
	r = batch(&g, &rb, "seed-1");
	CHECK_EQ_INT(r.code, ANNALS_OK);
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	CHECK_EQ_INT(st_txn_begin(g.t), ANNALS_OK);
	int compared = 0;
	for (int k = ST_ENTITY; k <= ST_DOCUMENT; k++) {
		same_ctx c = {.other = g.t, .kind = (st_kind)k};
		CHECK_EQ_INT(st_scan_kind(f.t, (st_kind)k, NULL, same_visit, &c), ANNALS_OK);
		CHECK_EQ_INT(c.differ, 0);
		compared += c.compared;
	}
	st_stats sf, sg;
	st_stats_get(f.t, &sf);
	st_stats_get(g.t, &sg);
	CHECK_EQ_INT(compared, sf.entities + sf.events + sf.relations + sf.documents);
	CHECK_EQ_INT(sg.entities + sg.events + sg.relations + sg.documents, compared);
	CHECK(compared > 0);
	st_txn_end(f.t);
	st_txn_end(g.t);
	fx_done(&f);
	fx_done(&g);
}

/* ---- map growth ------------------------------------------------------------------------------- */

typedef struct reader_arg {
	st_store *s;
	atomic_bool stop;
	atomic_int reads;
} reader_arg;

static void *reader_main(void *p)
{
	reader_arg *ra = p;
	st_txn *t = st_txn_new(ra->s);
	while (!atomic_load(&ra->stop)) {
		if (st_txn_begin(t) != ANNALS_OK)
			continue;
		const uint8_t *data;
		size_t len;
		if (st_get(t, ST_ENTITY, "bulk:00001", &data, &len) == ANNALS_OK && len > 0)
			(void)data[len - 1]; /* touch the map */
		st_txn_end(t);
		atomic_fetch_add(&ra->reads, 1);
	}
	st_txn_free(t);
	return NULL;
}

static void test_map_growth(void)
{
	st_options o = {.map_size = 256 * 1024};
	fx f;
	fx_init(&f, &o);
	reader_arg ra = {.s = f.s};
	pthread_t th;
	pthread_create(&th, NULL, reader_main, &ra);
	char js[600], summary[401];
	memset(summary, 's', 400);
	summary[400] = '\0';
	int ok = 0;
	for (int g = 0; g < 60; g++) {
		st_write ws[50];
		for (int i = 0; i < 50; i++) {
			snprintf(js, sizeof(js),
			         "{'id': 'bulk:%05d', 'type': 'ENTITY_TYPE_PLACE', 'summary': '%s',"
			         " 'names': [{'text': 'Bulk %05d'}]}",
			         g * 50 + i, summary, g * 50 + i);
			ws[i] = put_write(&f, ST_ENTITY, ENTITY(&f, js), NULL, -1);
		}
		CHECK_EQ_INT(st_apply(f.s, ws, 50), ANNALS_OK);
		for (int i = 0; i < 50; i++) {
			ok += ws[i].code == ANNALS_OK;
			st_write_clear(&ws[i]);
		}
		ar_reset(&f.a);
	}
	atomic_store(&ra.stop, true);
	pthread_join(th, NULL);
	CHECK_EQ_INT(ok, 3000);
	CHECK_EQ_INT(st_revision(f.s), 3000);
	CHECK(atomic_load(&ra.reads) > 0);
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	st_stats st;
	st_stats_get(f.t, &st);
	CHECK_EQ_INT(st.entities, 3000);
	CHECK(st.map_size > 256 * 1024);
	uint64_t grown = st.map_size;
	st_txn_end(f.t);
	CHECK_EQ_INT(by_name(&f, "bulk 02999", false).n, 1);
	/* a reopen with the small setting keeps the grown map */
	fx_reopen(&f);
	CHECK_EQ_INT(st_txn_begin(f.t), ANNALS_OK);
	st_stats_get(f.t, &st);
	CHECK(st.map_size >= grown);
	CHECK_EQ_INT(st.revision, 3000);
	st_txn_end(f.t);
	fx_done(&f);
}

/* ---- validation --------------------------------------------------------------------------------- */

static const char *validate_put(fx *f, st_kind k, void *rec, st_err *err)
{
	st_write w = put_write(f, k, rec, "r", -1);
	memset(err, 0, sizeof(*err));
	int rc = st_validate(&w, NULL, err);
	CHECK(rc == ANNALS_INVALID_ARGUMENT || err->msg[0] == '\0');
	return err->msg;
}

static void test_validation_messages(void)
{
	fx f;
	fx_init(&f, NULL);
	st_err err;
	CHECK_EQ_STR(
	    validate_put(&f, ST_ENTITY,
	                 ENTITY(&f, "{'id': 'org:v', 'type': 'ENTITY_TYPE_ORGANIZATION', 'names': ["
	                            "{'text': 'a'}, {'text': 'b'}, {'text': 'c', 'valid': {'start':"
	                            " {'kind': 'BOUND_KIND_EXACT', 'date': {'precision': 'PRECISION_MONTH',"
	                            " 'year': 2019, 'month': 13}}}}]}"),
	                 &err),
	    "entity.names[2].valid.start.date.month: 13 is not a month");
	CHECK_EQ_STR(validate_put(&f, ST_EVENT, EVENT(&f, "{'type': 'meeting'}"), &err),
	             "event.id: required");
	CHECK_EQ_STR(
	    validate_put(&f, ST_RELATION, RELATION(&f, "{'id': 'r', 'predicate': 'p', 'object': 'o'}"), &err),
	    "relation.subject: required");
	CHECK_EQ_STR(validate_put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'org:v'}"), &err),
	             "entity.type: required");
	CHECK_EQ_STR(validate_put(&f, ST_EVENT, EVENT(&f, "{'id': 'e'}"), &err), "event.type: required");
	CHECK_EQ_STR(
	    validate_put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'a b', 'type': 'ENTITY_TYPE_PERSON'}"), &err),
	    "entity.id: 'a b' has a character outside [a-z0-9:._-] at byte 1");
	char js[600], id[202];
	memset(id, 'i', 201);
	id[201] = '\0';
	snprintf(js, sizeof(js), "{'id': '%s', 'type': 'ENTITY_TYPE_PERSON'}", id);
	CHECK_EQ_STR(validate_put(&f, ST_ENTITY, ENTITY(&f, js), &err), "entity.id: 201 bytes; at most 200");
	Annals__V1__Entity *bad_utf8 = ENTITY(&f, "{'id': 'p:u', 'type': 'ENTITY_TYPE_PERSON'}");
	bad_utf8->summary = "caf\xc3";
	CHECK_EQ_STR(validate_put(&f, ST_ENTITY, bad_utf8, &err), "entity.summary: not valid UTF-8 (byte 3)");
	Annals__V1__Entity *bad_name =
	    ENTITY(&f, "{'id': 'p:u', 'type': 'ENTITY_TYPE_PERSON', 'names': [{'text': 'x'}]}");
	bad_name->names[0]->text = "\xed\xa0\x80"; /* a UTF-16 surrogate */
	CHECK_EQ_STR(validate_put(&f, ST_ENTITY, bad_name, &err),
	             "entity.names[0].text: not valid UTF-8 (byte 0)");
	Annals__V1__Entity *bad_enum = ENTITY(&f, "{'id': 'p:u', 'type': 'ENTITY_TYPE_PERSON'}");
	bad_enum->type = 42;
	CHECK_EQ_STR(validate_put(&f, ST_ENTITY, bad_enum, &err),
	             "entity.type: 42 is not a value of EntityType");
	CHECK_EQ_STR(validate_put(&f, ST_ENTITY,
	                          ENTITY(&f, "{'id': 'p:u', 'type': 'ENTITY_TYPE_PERSON',"
	                                     " 'evidence': [{'document': 'd', 'sentences': [1, 0]}]}"),
	                          &err),
	             "entity.evidence[0].sentences[1]: 0 is not a sentence number (they start at 1)");
	CHECK_EQ_STR(validate_put(&f, ST_RELATION,
	                          RELATION(&f, "{'id': 'r', 'subject': 's', 'predicate': 'p', 'object': 'o',"
	                                       " 'valid': {'end': {'kind': 'BOUND_KIND_BEFORE'}}}"),
	                          &err),
	             "relation.valid.end.date: required when kind is BOUND_KIND_BEFORE");
	CHECK_EQ_STR(validate_put(&f, ST_EVENT,
	                          EVENT(&f, "{'id': 'e', 'type': 'meeting', 'when': {'precision':"
	                                    " 'PRECISION_DAY', 'anchor': 'someday'}}"),
	                          &err),
	             "event.when.anchor: must be \"doc:<id>\" or \"event:<id>\" (got 'someday')");
	CHECK_EQ_STR(validate_put(&f, ST_DOCUMENT,
	                          DOCUMENT(&f, "{'id': 'd', 'length': 10, 'sentences': [{'number': 1,"
	                                       " 'start': 0, 'end': 11}]}"),
	                          &err),
	             "document.sentences[0].end: 11 is past the document's length 10");
	CHECK_EQ_STR(
	    validate_put(&f, ST_EVENT,
	                 EVENT(&f, "{'id': 'e', 'type': 'meeting', 'participants': [{'role': 'host'}]}"),
	                 &err),
	    "event.participants[0].entity: required");
	CHECK_EQ_STR(
	    validate_put(&f, ST_ENTITY, ENTITY(&f, "{'id': 'ok:1', 'type': 'ENTITY_TYPE_PERSON'}"), &err),
	    "");

	/* inside a Batch the path starts at the op */
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_ENTITY,
	          ENTITY(&f, "{'id': 'ok:1', 'type': 'ENTITY_TYPE_PERSON'}"), -1);
	batch_add(&f, &b, ANNALS__V1__OP__OP_PUT_EVENT,
	          EVENT(&f, "{'id': 'ev', 'type': 'x', 'when': {'precision':"
	                    " 'PRECISION_DAY', 'year': 2019, 'month': 2, 'day': 30}}"),
	          -1);
	st_write w = {.op = ST_BATCH, .req = &b.base, .request_id = "r"};
	CHECK_EQ_INT(st_validate(&w, NULL, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_STR(err.msg, "ops[1].put_event.when.day: 30 is not a day of 2019-02");
	/* st_apply runs the same checks */
	res r = batch(&f, &b, NULL);
	CHECK_EQ_INT(r.code, ANNALS_INVALID_ARGUMENT);
	CHECK_EQ_STR(r.msg, "ops[1].put_event.when.day: 30 is not a day of 2019-02");
	/* request ids have the id length limit */
	char rid[260];
	memset(rid, 'r', 259);
	rid[259] = '\0';
	w.request_id = rid;
	CHECK_EQ_INT(st_validate(&w, NULL, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.msg, "request_id: 259 bytes; at most 128");

	/* val_ on its own, as the importer calls it */
	char msg[300];
	Annals__V1__Event *ev =
	    EVENT(&f, "{'id': 'e', 'type': 'x', 'when': {'precision': 'PRECISION_MONTH', 'year': 2019,"
	              " 'month': 13}}");
	CHECK_EQ_INT(val_event(ev, "events[3]", msg, sizeof(msg)), -1);
	CHECK_EQ_STR(msg, "events[3].when.month: 13 is not a month");
	CHECK(val_is_id("org:csto") && !val_is_id("") && !val_is_id("a/b"));
	fx_done(&f);
}

static void test_fold(void)
{
	char out[128];
	const char *cases[][2] = {
	    {"CSTO", "csto"},
	    {"ÀÉÎÕÜ ÆØÞ ×", "àéîõü æøþ ×"},
	    {"ĀĂĄ Ĺ Ł Ň Ŋ Ÿ Ž İ ſ ı", "āăą ĺ ł ň ŋ ÿ ž i s ı"},
	    {"ЁЖЯ Ѣ Ґ Ӂ Ӑ Ӏ", "ёжя ѣ ґ ӂ ӑ ӏ"},
	    {"already lower ёж", "already lower ёж"},
	    {"bad \xff byte", "bad \xff byte"},
	    {"中文 Ω", "中文 Ω"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fold_utf8(out, sizeof(out), cases[i][0], strlen(cases[i][0]));
		CHECK_EQ_STR(out, cases[i][1]);
	}
	char in_place[] = "ЁЛКА";
	fold_inplace(in_place);
	CHECK_EQ_STR(in_place, "ёлка");
	/* a small buffer stops at a character boundary */
	size_t n = fold_utf8(out, 4, "ЖЖЖ", strlen("ЖЖЖ"));
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(out, "ж");
}

int main(void)
{
	RUN(test_put_get_delete_each_kind);
	RUN(test_revisions_and_unchanged);
	RUN(test_guards);
	RUN(test_unique_ids_across_kinds);
	RUN(test_group_mixed_outcomes);
	RUN(test_group_failure_after_a_change);
	RUN(test_batch_atomic);
	RUN(test_batch_limits);
	RUN(test_dedup);
	RUN(test_dedup_expiry);
	RUN(test_dedup_legacy_entry);
	RUN(test_change_log);
	RUN(test_change_retention);
	RUN(test_relative_dates);
	RUN(test_relative_dates_prefixed_document);
	RUN(test_references_document_forms);
	RUN(test_index_maintenance);
	RUN(test_pagination);
	RUN(test_list_events);
	RUN(test_import_twice_and_in_any_order);
	RUN(test_map_growth);
	RUN(test_validation_messages);
	RUN(test_fold);
	return CHECK_DONE();
}

/*
 * References stay whole (issue 17): against a real annalsd on the built-in
 * data, a write naming a record that does not exist is refused naming the
 * path, a delete leaving a referrer is refused naming it, both unless the
 * same Batch creates (or deletes, or rewrites) what is missing; the dry run
 * of a Batch (CheckReferences) lists every problem and writes nothing; and
 * a store written before these rules (made here by writing LMDB directly
 * with the server stopped, and removing the reverse index as an old
 * version would have left it) gets its index built at open and its
 * dangling references listed by `annals check`.
 */
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../lib/check.h"
#include "../lib/harness.h"

static th_server srv;

static uint64_t revision(annals_client *c)
{
	uint64_t rev = 0;
	th_health(c, &rev);
	return rev;
}

static int put_relation(annals_client *c, const char *id, const char *subject, const char *object,
                        annals_error *err)
{
	Annals__V1__Relation r = ANNALS__V1__RELATION__INIT;
	r.id = (char *)id;
	r.subject = (char *)subject;
	r.predicate = "member_of";
	r.object = (char *)object;
	r.status = "active";
	Annals__V1__PutRelationRequest req = ANNALS__V1__PUT_RELATION_REQUEST__INIT;
	req.relation = &r;
	Annals__V1__WriteReply *wr = NULL;
	int rc = annals_put_relation(c, &req, &wr, err);
	annals_free(wr);
	return rc;
}

static int delete_record(annals_client *c, const char *id, annals_error *err)
{
	Annals__V1__RecordRef ref = ANNALS__V1__RECORD_REF__INIT;
	ref.id = (char *)id;
	Annals__V1__Op op = ANNALS__V1__OP__INIT, *ops[1] = {&op};
	op.op_case = ANNALS__V1__OP__OP_DELETE;
	op.delete_ = &ref;
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	b.ops = ops;
	b.n_ops = 1;
	Annals__V1__BatchReply *rep = NULL;
	int rc = annals_batch(c, &b, &rep, err);
	annals_free(rep);
	return rc;
}

/* Whether the members of org:csto at 2005 (any state) list this entity;
 * *name: the name they give it. */
static bool listed_member(annals_client *c, const char *entity, char *name, size_t cap)
{
	Annals__V1__Date at = ANNALS__V1__DATE__INIT;
	at.precision = ANNALS__V1__PRECISION__PRECISION_YEAR;
	at.year = 2005;
	Annals__V1__MembersRequest q = ANNALS__V1__MEMBERS_REQUEST__INIT;
	q.organization = "org:csto";
	q.at = &at;
	Annals__V1__MembersReply *r = NULL;
	annals_error err;
	bool found = false;
	if (annals_members(c, &q, &r, &err) != ANNALS_OK)
		return false;
	Annals__V1__Member **lists[] = {r->members, r->suspended, r->unknown, r->not_members};
	size_t n[] = {r->n_members, r->n_suspended, r->n_unknown, r->n_not_members};
	for (int l = 0; l < 4; l++)
		for (size_t i = 0; i < n[l]; i++)
			if (strcmp(lists[l][i]->entity, entity) == 0) {
				found = true;
				if (name)
					snprintf(name, cap, "%s", lists[l][i]->name);
			}
	annals_free(r);
	return found;
}

/* ---- the examples ------------------------------------------------------------ */

static void test_relation_to_nowhere_is_refused(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	uint64_t rev = revision(c);
	CHECK_EQ_INT(put_relation(c, "rel:nowhere.member_of.csto", "country:nowhere", "org:csto", &err),
	             ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "relation.subject: no entity \"country:nowhere\"");
	CHECK_EQ_INT(revision(c), rev);
	CHECK(!listed_member(c, "country:nowhere", NULL, 0));
	/* an object of the wrong kind says what the id is */
	CHECK_EQ_INT(
	    put_relation(c, "rel:armenia.member_of.doc", "country:armenia", "doc:ad6eff3e562ac92b", &err),
	    ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message,
	               "relation.object: no entity \"doc:ad6eff3e562ac92b\" (the id is a document)");
	annals_close(c);
}

static void test_delete_of_armenia_is_refused(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	uint64_t rev = revision(c);
	Annals__V1__DeleteRequest d = ANNALS__V1__DELETE_REQUEST__INIT;
	d.id = "country:armenia";
	Annals__V1__WriteReply *wr = NULL;
	CHECK_EQ_INT(annals_delete_entity(c, &d, &wr, &err), ANNALS_FAILED_PRECONDITION);
	annals_free(wr);
	CHECK_CONTAINS(err.message, "entity \"country:armenia\" is still referred to: ");
	CHECK_CONTAINS(err.message, " names it in ");
	CHECK_CONTAINS(err.message, "more dangling references");
	CHECK_EQ_INT(revision(c), rev);
	char name[100] = "";
	CHECK(listed_member(c, "country:armenia", name, sizeof(name)));
	CHECK_EQ_STR(name, "Armenia");
	annals_close(c);
}

/* ---- Batches: the state at their end decides ---------------------------------------------- */

static Annals__V1__Op *op_put_entity(Annals__V1__Entity *e, const char *id)
{
	static Annals__V1__Op ops[16];
	static int next;
	Annals__V1__Op *op = &ops[next++ % 16];
	annals__v1__op__init(op);
	annals__v1__entity__init(e);
	e->id = (char *)id;
	e->type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_COUNTRY;
	op->op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
	op->put_entity = e;
	return op;
}

static int run_batch(annals_client *c, Annals__V1__Op **ops, size_t n, annals_error *err)
{
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	b.ops = ops;
	b.n_ops = n;
	Annals__V1__BatchReply *rep = NULL;
	int rc = annals_batch(c, &b, &rep, err);
	annals_free(rep);
	return rc;
}

static void test_batch_creates_and_deletes_together(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	/* the relation before the entity it names, in one Batch */
	Annals__V1__Relation r = ANNALS__V1__RELATION__INIT;
	r.id = "rel:testland.member_of.csto";
	r.subject = "country:testland";
	r.predicate = "member_of";
	r.object = "org:csto";
	Annals__V1__Participant p = ANNALS__V1__PARTICIPANT__INIT, *ps[1] = {&p};
	p.entity = "country:testland";
	Annals__V1__Event ev = ANNALS__V1__EVENT__INIT;
	ev.id = "ev:testland-joins";
	ev.type = "membership_joined";
	ev.participants = ps;
	ev.n_participants = 1;
	Annals__V1__Op rop = ANNALS__V1__OP__INIT, eop = ANNALS__V1__OP__INIT;
	rop.op_case = ANNALS__V1__OP__OP_PUT_RELATION;
	rop.put_relation = &r;
	eop.op_case = ANNALS__V1__OP__OP_PUT_EVENT;
	eop.put_event = &ev;
	Annals__V1__Entity e;
	Annals__V1__Op *create[] = {&rop, &eop, op_put_entity(&e, "country:testland")};
	CHECK_EQ_INT(run_batch(c, create, 3, &err), ANNALS_OK);
	CHECK(listed_member(c, "country:testland", NULL, 0));

	/* deleting the entity and only one referrer: the other is named */
	Annals__V1__RecordRef del_e = ANNALS__V1__RECORD_REF__INIT, del_r = ANNALS__V1__RECORD_REF__INIT;
	del_e.id = "country:testland";
	del_r.id = "rel:testland.member_of.csto";
	Annals__V1__Op de = ANNALS__V1__OP__INIT, dr = ANNALS__V1__OP__INIT;
	de.op_case = dr.op_case = ANNALS__V1__OP__OP_DELETE;
	de.delete_ = &del_e;
	dr.delete_ = &del_r;
	Annals__V1__Op *partial[] = {&de, &dr};
	uint64_t rev = revision(c);
	CHECK_EQ_INT(run_batch(c, partial, 2, &err), ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.message, "ops[0].delete: entity \"country:testland\" is still referred to: event "
	                            "\"ev:testland-joins\" names it in participants[0].entity");
	CHECK_EQ_INT(revision(c), rev);

	/* ... and with the event rewritten without it in the same Batch: accepted */
	ev.participants = NULL;
	ev.n_participants = 0;
	Annals__V1__Op *whole[] = {&de, &dr, &eop};
	CHECK_EQ_INT(run_batch(c, whole, 3, &err), ANNALS_OK);
	CHECK(!listed_member(c, "country:testland", NULL, 0));
	Annals__V1__TimelineRequest tq = ANNALS__V1__TIMELINE_REQUEST__INIT;
	tq.entity = "country:testland";
	Annals__V1__TimelineReply *tr = NULL;
	CHECK_EQ_INT(annals_timeline(c, &tq, &tr, &err), ANNALS_NOT_FOUND);
	annals_free(tr);

	/* a put the same Batch's later delete undoes leaves its referrer dangling */
	Annals__V1__Entity e2;
	Annals__V1__RecordRef del_e2 = ANNALS__V1__RECORD_REF__INIT;
	del_e2.id = "country:fleeting";
	Annals__V1__Op de2 = ANNALS__V1__OP__INIT;
	de2.op_case = ANNALS__V1__OP__OP_DELETE;
	de2.delete_ = &del_e2;
	r.id = "rel:fleeting.member_of.csto";
	r.subject = "country:fleeting";
	Annals__V1__Op *fleeting[] = {op_put_entity(&e2, "country:fleeting"), &rop, &de2};
	CHECK_EQ_INT(run_batch(c, fleeting, 3, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "ops[1].put_relation.subject: no entity \"country:fleeting\"");
	annals_close(c);
}

/* ---- every kind of reference, forward and on delete ------------------------------------------ */

static int put_document(annals_client *c, const char *id, const char *publisher, annals_error *err)
{
	Annals__V1__Document d = ANNALS__V1__DOCUMENT__INIT;
	d.id = (char *)id;
	d.title = "a test document";
	d.publisher = (char *)publisher;
	Annals__V1__PutDocumentRequest req = ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT;
	req.document = &d;
	Annals__V1__WriteReply *wr = NULL;
	int rc = annals_put_document(c, &req, &wr, err);
	annals_free(wr);
	return rc;
}

/* An event whose fields are the references under test (NULL: unset). */
typedef struct ev_refs {
	const char *participant, *place, *evidence_doc, *attributed_to, *anchor, *link, *attr_ref;
} ev_refs;

static int put_event(annals_client *c, const char *id, const ev_refs *x, annals_error *err)
{
	Annals__V1__Event ev = ANNALS__V1__EVENT__INIT;
	ev.id = (char *)id;
	ev.type = "meeting";
	ev.place = (char *)(x->place ? x->place : "");
	Annals__V1__Participant p = ANNALS__V1__PARTICIPANT__INIT, *ps[1] = {&p};
	if (x->participant) {
		p.entity = (char *)x->participant;
		ev.participants = ps;
		ev.n_participants = 1;
	}
	Annals__V1__Evidence e = ANNALS__V1__EVIDENCE__INIT, *es[1] = {&e};
	if (x->evidence_doc || x->attributed_to) {
		e.document = (char *)(x->evidence_doc ? x->evidence_doc : "");
		e.attributed_to = (char *)(x->attributed_to ? x->attributed_to : "");
		ev.evidence = es;
		ev.n_evidence = 1;
	}
	Annals__V1__Date when = ANNALS__V1__DATE__INIT;
	if (x->anchor) {
		when.precision = ANNALS__V1__PRECISION__PRECISION_DAY;
		when.anchor = (char *)x->anchor;
		when.offset_days = -1;
		ev.when = &when;
	}
	Annals__V1__EventLink l = ANNALS__V1__EVENT_LINK__INIT, *ls[1] = {&l};
	if (x->link) {
		l.kind = "follows";
		l.event = (char *)x->link;
		ev.links = ls;
		ev.n_links = 1;
	}
	Annals__V1__Attribute a = ANNALS__V1__ATTRIBUTE__INIT, *as[1] = {&a};
	if (x->attr_ref) {
		a.key = "host";
		a.ref = (char *)x->attr_ref;
		ev.attributes = as;
		ev.n_attributes = 1;
	}
	Annals__V1__PutEventRequest req = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	req.event = &ev;
	Annals__V1__WriteReply *wr = NULL;
	int rc = annals_put_event(c, &req, &wr, err);
	annals_free(wr);
	return rc;
}

static void test_every_reference_field(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	struct {
		ev_refs x;
		const char *says;
	} bad[] = {
	    {{.participant = "person:nobody"}, "event.participants[0].entity: no entity \"person:nobody\""},
	    {{.place = "place:atlantis"}, "event.place: no entity \"place:atlantis\""},
	    {{.evidence_doc = "doc:lost"}, "event.evidence[0].document: no document \"doc:lost\""},
	    {{.attributed_to = "person:anon"}, "event.evidence[0].attributed_to: no entity \"person:anon\""},
	    {{.anchor = "doc:lost"}, "event.when.anchor: no document \"doc:lost\""},
	    {{.anchor = "event:ev:never"}, "event.when.anchor: no event \"ev:never\""},
	    {{.link = "ev:never"}, "event.links[0].event: no event \"ev:never\""},
	    {{.attr_ref = "org:none"}, "event.attributes[0].ref: no entity \"org:none\""},
	    {{.participant = "ev:csto-founded"}, "(the id is an event)"},
	};
	uint64_t rev = revision(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(put_event(c, "ev:refs-bad", &bad[i].x, &err), ANNALS_INVALID_ARGUMENT);
		CHECK_CONTAINS(err.message, bad[i].says);
	}
	CHECK_EQ_INT(put_document(c, "doc:refs-bad", "org:nobody", &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "document.publisher: no entity \"org:nobody\"");
	CHECK_EQ_INT(revision(c), rev);

	/* a document: named by evidence ("doc:" prefix or not) and anchors */
	CHECK_EQ_INT(put_document(c, "refs-doc", "org:csto", &err), ANNALS_OK);
	ev_refs cites = {.evidence_doc = "doc:refs-doc", .participant = "country:armenia"};
	CHECK_EQ_INT(put_event(c, "ev:refs-cites", &cites, &err), ANNALS_OK);
	ev_refs anchored = {.anchor = "doc:refs-doc", .link = "ev:refs-cites"};
	CHECK_EQ_INT(put_event(c, "ev:refs-anchored", &anchored, &err), ANNALS_OK);
	CHECK_EQ_INT(delete_record(c, "refs-doc", &err), ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.message,
	               "document \"refs-doc\" is still referred to: event \"ev:refs-anchored\" names "
	               "it in when.anchor");
	CHECK_CONTAINS(err.message, "(and 1 more dangling reference)");
	/* an event named by a link */
	CHECK_EQ_INT(delete_record(c, "ev:refs-cites", &err), ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.message,
	               "event \"ev:refs-cites\" is still referred to: event \"ev:refs-anchored\" "
	               "names it in links[0].event");
	/* the referrers gone, the document goes */
	CHECK_EQ_INT(delete_record(c, "ev:refs-anchored", &err), ANNALS_OK);
	CHECK_EQ_INT(delete_record(c, "ev:refs-cites", &err), ANNALS_OK);
	CHECK_EQ_INT(delete_record(c, "refs-doc", &err), ANNALS_OK);
	annals_close(c);
}

/* ---- the dry run ------------------------------------------------------------------------------ */

static void test_dry_run_lists_every_problem(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	Annals__V1__Relation r1 = ANNALS__V1__RELATION__INIT, r2 = ANNALS__V1__RELATION__INIT;
	r1.id = "rel:dry-1";
	r1.subject = "country:nowhere";
	r1.predicate = "member_of";
	r1.object = "org:nothing";
	r2.id = "rel:dry-2";
	r2.subject = "country:dryland"; /* created below: fine */
	r2.predicate = "member_of";
	r2.object = "org:csto";
	Annals__V1__Op o1 = ANNALS__V1__OP__INIT, o2 = ANNALS__V1__OP__INIT, o4 = ANNALS__V1__OP__INIT;
	o1.op_case = o2.op_case = ANNALS__V1__OP__OP_PUT_RELATION;
	o1.put_relation = &r1;
	o2.put_relation = &r2;
	Annals__V1__RecordRef del = ANNALS__V1__RECORD_REF__INIT;
	del.id = "country:georgia";
	o4.op_case = ANNALS__V1__OP__OP_DELETE;
	o4.delete_ = &del;
	Annals__V1__Entity e;
	Annals__V1__Op *ops[] = {&o1, &o2, op_put_entity(&e, "country:dryland"), &o4};
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	b.ops = ops;
	b.n_ops = 4;
	Annals__V1__CheckReferencesRequest q = ANNALS__V1__CHECK_REFERENCES_REQUEST__INIT;
	q.batch = &b;
	Annals__V1__CheckReferencesReply *rep = NULL;
	uint64_t rev = revision(c);
	CHECK_EQ_INT(annals_check_references(c, &q, &rep, &err), ANNALS_OK);
	CHECK_EQ_INT(revision(c), rev);
	if (rep != NULL) {
		CHECK(rep->dangling >= 3); /* two of rel:dry-1, one or more stored referrers of Georgia */
		CHECK_EQ_INT(rep->n_references, rep->dangling);
		CHECK(rep->n_references >= 3 && rep->references[0]->op == 0 &&
		      strcmp(rep->references[0]->field, "subject") == 0 &&
		      strcmp(rep->references[0]->problem, "no entity \"country:nowhere\"") == 0);
		CHECK(rep->n_references >= 3 && strcmp(rep->references[1]->field, "object") == 0);
		bool georgia = false;
		for (size_t i = 2; i < rep->n_references; i++)
			georgia |= rep->references[i]->op == 3 && rep->references[i]->by_delete &&
			           strcmp(rep->references[i]->target, "country:georgia") == 0;
		CHECK(georgia);
		annals_free(rep);
	}
	/* limit: fewer listed, all counted */
	q.limit = 1;
	CHECK_EQ_INT(annals_check_references(c, &q, &rep, &err), ANNALS_OK);
	CHECK(rep && rep->n_references == 1 && rep->dangling >= 3);
	annals_free(rep);
	/* the same Batch sent is refused, with the first problem */
	CHECK_EQ_INT(run_batch(c, ops, 4, &err), ANNALS_INVALID_ARGUMENT);
	CHECK_CONTAINS(err.message, "ops[0].put_relation.subject: no entity \"country:nowhere\" (and ");
	CHECK_EQ_INT(revision(c), rev);
	/* the store itself (the built-in data): whole */
	Annals__V1__CheckReferencesRequest all = ANNALS__V1__CHECK_REFERENCES_REQUEST__INIT;
	CHECK_EQ_INT(annals_check_references(c, &all, &rep, &err), ANNALS_OK);
	CHECK(rep && rep->dangling == 0 && rep->records > 80);
	annals_free(rep);
	annals_close(c);
}

/* ---- a store written before ----------------------------------------------------------------- */

static int raw_put(MDB_txn *txn, MDB_dbi dbi, const char *key, const uint8_t *val, size_t n)
{
	MDB_val k = {strlen(key), (void *)key}, v = {n, (void *)val};
	return mdb_put(txn, dbi, &k, &v, 0);
}

/* The store of a stopped server, opened by hand, and a write txn in it. */
static int raw_open(const char *dir, MDB_env **env, MDB_txn **txn)
{
	int rc = mdb_env_create(env);
	if (rc != 0)
		return rc;
	rc = mdb_env_set_maxdbs(*env, 64);
	if (rc == 0)
		rc = mdb_env_open(*env, dir, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(*env, NULL, 0, txn);
	if (rc != 0)
		mdb_env_close(*env);
	return rc;
}

/* With the server stopped: a relation naming "country:gone" written as
 * annals 0.1 allowed, and the reverse index dropped (an old store has none). */
static int make_legacy(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi rels, refs, meta, subjects, objects;
	int rc = raw_open(dir, &env, &txn);
	if (rc != 0)
		return rc;
	rc = mdb_dbi_open(txn, "relations", 0, &rels);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "ix_refs", 0, &refs);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", 0, &meta);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "ix_subjects", 0, &subjects);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "ix_objects", 0, &objects);
	Annals__V1__Relation r = ANNALS__V1__RELATION__INIT;
	uint8_t buf[256];
	r.id = "rel:legacy";
	r.subject = "country:gone";
	r.predicate = "member_of";
	r.object = "country:legacyland";
	r.revision = 1;
	size_t n = annals__v1__relation__pack(&r, buf);
	if (rc == 0)
		rc = raw_put(txn, rels, r.id, buf, n);
	/* annals 0.1 kept these indexes of relations already (ix_refs leaves
	 * what they key to them) */
	static const char sk[] = "country:gone\0member_of\0rel:legacy";
	static const char ok[] = "country:legacyland\0member_of\0rel:legacy";
	MDB_val skey = {sizeof(sk) - 1, (void *)sk}, okey = {sizeof(ok) - 1, (void *)ok}, none = {0, NULL};
	if (rc == 0)
		rc = mdb_put(txn, subjects, &skey, &none, 0);
	if (rc == 0)
		rc = mdb_put(txn, objects, &okey, &none, 0);
	if (rc == 0)
		rc = mdb_drop(txn, refs, 1);
	MDB_val mark = {7, "ix_refs"};
	if (rc == 0)
		rc = mdb_del(txn, meta, &mark, NULL);
	rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
	mdb_env_close(env);
	return rc;
}

static void test_store_written_before(void)
{
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = "country:legacyland";
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_COUNTRY;
	Annals__V1__PutEntityRequest pe = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	pe.entity = &e;
	Annals__V1__WriteReply *wr = NULL;
	CHECK_EQ_INT(annals_put_entity(c, &pe, &wr, &err), ANNALS_OK);
	annals_free(wr);
	annals_close(c);
	CHECK_EQ_INT(th_stop(&srv), 0);
	CHECK_EQ_INT(make_legacy(srv.dir), 0);
	CHECK_EQ_INT(th_restart(&srv, NULL), 0);
	char *log = th_read_file(srv.log);
	CHECK_CONTAINS(log, "store_index_built index=ix_refs");
	free(log);

	c = th_client(&srv, 5000);
	/* the index was built: the relation written behind the server's back is
	 * found as a referrer */
	CHECK_EQ_INT(delete_record(c, "country:legacyland", &err), ANNALS_FAILED_PRECONDITION);
	CHECK_CONTAINS(err.message, "relation \"rel:legacy\" names it in object");
	Annals__V1__CheckReferencesRequest all = ANNALS__V1__CHECK_REFERENCES_REQUEST__INIT;
	Annals__V1__CheckReferencesReply *rep = NULL;
	CHECK_EQ_INT(annals_check_references(c, &all, &rep, &err), ANNALS_OK);
	CHECK(rep && rep->dangling == 1 && rep->n_references == 1);
	if (rep && rep->n_references == 1) {
		CHECK_EQ_STR(rep->references[0]->record, "rel:legacy");
		CHECK_EQ_INT(rep->references[0]->kind, ANNALS__V1__RECORD_KIND__RECORD_KIND_RELATION);
		CHECK_EQ_STR(rep->references[0]->field, "subject");
		CHECK_EQ_STR(rep->references[0]->problem, "no entity \"country:gone\"");
	}
	annals_free(rep);
	/* rewriting it with its dangling subject is refused too; deleting it is not */
	CHECK_EQ_INT(put_relation(c, "rel:legacy", "country:gone", "country:legacyland", &err),
	             ANNALS_INVALID_ARGUMENT);
	annals_close(c);

	/* annals check: lists it and exits 9 */
	char bin[300], cmd[800], out[400];
	snprintf(out, sizeof(out), "%s.check-out", srv.dir);
	snprintf(cmd, sizeof(cmd), "'%s' --server '%s' check >'%s' 2>&1", th_bin("annals", bin, sizeof(bin)),
	         srv.url, out);
	int st = system(cmd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9);
	char *text = th_read_file(out);
	CHECK_CONTAINS(text, "rel:legacy");
	CHECK_CONTAINS(text, "no entity \"country:gone\"");
	CHECK_CONTAINS(text, "FAILED_PRECONDITION: 1 dangling reference");
	free(text);
	remove(out);

	c = th_client(&srv, 5000);
	CHECK_EQ_INT(delete_record(c, "rel:legacy", &err), ANNALS_OK);
	CHECK_EQ_INT(delete_record(c, "country:legacyland", &err), ANNALS_OK);
	CHECK_EQ_INT(annals_check_references(c, &all, &rep, &err), ANNALS_OK);
	CHECK(rep && rep->dangling == 0);
	annals_free(rep);
	annals_close(c);
	/* the next open builds nothing */
	CHECK_EQ_INT(th_stop(&srv), 0);
	CHECK_EQ_INT(th_restart(&srv, NULL), 0);
	log = th_read_file(srv.log);
	char *second = log ? strstr(log, "store_index_built") : NULL;
	CHECK(second != NULL && strstr(second + 1, "store_index_built") == NULL);
	free(log);
}

/* With the server stopped: meta ix_refs says layout 1 (which also held
 * what other indexes key) and ix_refs holds such an entry (an event's
 * participant); op 0 marks it, op 1 reads back whether it is still there
 * and the mark. */
static int layout1(const char *dir, int op, int *stale_left, uint64_t *mark_out)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi refs, meta;
	int rc = raw_open(dir, &env, &txn);
	if (rc != 0)
		return rc;
	rc = mdb_dbi_open(txn, "ix_refs", 0, &refs);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", 0, &meta);
	static const char stale[] = "country:armenia\0ev:layout-1";
	MDB_val skey = {sizeof(stale) - 1, (void *)stale}, none = {0, NULL}, mk = {7, "ix_refs"}, mv;
	uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	if (op == 0) {
		MDB_val v1 = {8, one};
		if (rc == 0)
			rc = mdb_put(txn, refs, &skey, &none, 0);
		if (rc == 0)
			rc = mdb_put(txn, meta, &mk, &v1, 0);
	} else if (rc == 0) {
		*stale_left = mdb_get(txn, refs, &skey, &mv) == 0;
		*mark_out = 0;
		if (mdb_get(txn, meta, &mk, &mv) == 0 && mv.mv_size == 8)
			for (int i = 0; i < 8; i++)
				*mark_out = *mark_out << 8 | ((const uint8_t *)mv.mv_data)[i];
	}
	rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
	mdb_env_close(env);
	return rc;
}

/* A store of layout 1 is rebuilt once at open: its entries for references
 * other indexes key would otherwise outlive the rewrites that drop them. */
static void test_layout_1_rebuilt(void)
{
	int stale = -1;
	uint64_t mark = 0;
	CHECK_EQ_INT(th_stop(&srv), 0);
	CHECK_EQ_INT(layout1(srv.dir, 0, NULL, NULL), 0);
	CHECK_EQ_INT(th_restart(&srv, NULL), 0);
	CHECK_EQ_INT(th_stop(&srv), 0);
	CHECK_EQ_INT(layout1(srv.dir, 1, &stale, &mark), 0);
	CHECK_EQ_INT(stale, 0);
	CHECK_EQ_INT(mark, 2);
	CHECK_EQ_INT(th_restart(&srv, NULL), 0);
	/* and the references are still found: Armenia is named by events and relations */
	annals_client *c = th_client(&srv, 5000);
	annals_error err;
	CHECK_EQ_INT(delete_record(c, "country:armenia", &err), ANNALS_FAILED_PRECONDITION);
	annals_close(c);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) { /* the built-in data set loads under the new rules */
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_relation_to_nowhere_is_refused);
	RUN(test_delete_of_armenia_is_refused);
	RUN(test_batch_creates_and_deletes_together);
	RUN(test_every_reference_field);
	RUN(test_dry_run_lists_every_problem);
	RUN(test_store_written_before);
	RUN(test_layout_1_rebuilt);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}

/*
 * Standing facts: Relations, History, Members, Holder, Succession.
 *
 * Every relation is judged on the asked date with asof (TRUE / FALSE /
 * UNKNOWN) and carries a reason naming the bounds that decide it. Several
 * relations with the same subject, predicate and object are segments of
 * one history (a membership, then its suspension, then a return).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "knowledge/kn_int.h"

/* An optional entity given by id or name; "" stays "". */
static int rq_optional_entity(kn_ctx *q, const char *ref, const char *field, const char **id)
{
	*id = "";
	if (ref == NULL || ref[0] == '\0')
		return ANNALS_OK;
	Annals__V1__Entity *e;
	int rc = kn_entity(q, ref, field, &e);
	if (rc == ANNALS_OK)
		*id = e->id;
	return rc;
}

static int rq_require_date(kn_ctx *q, const kn_when *w, const char *what)
{
	if (w->set)
		return ANNALS_OK;
	return kn_fail(q, ANNALS_INVALID_ARGUMENT, "at: required (or at_document): %s is answered for a date",
	               what);
}

/* "a country", "an organization", "a media source": the entity's type in words. */
static const char *rq_type_words(kn_ctx *q, Annals__V1__EntityType type)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&annals__v1__entity_type__descriptor, (int)type);
	if (v == NULL || type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_UNSPECIFIED)
		return "an entity of no stated type";
	char *w = ar_strdup(q->a, v->name + strlen("ENTITY_TYPE_"));
	for (char *p = w; *p; p++)
		*p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
	return ar_printf(q->a, "%s %s", strchr("aeiou", w[0]) ? "an" : "a", w);
}

/* A question that does not fit its subject (members of a country, the
 * holder of a person) is refused in words instead of answered with empty
 * lists, which would read as "none". Only when nothing links to the
 * entity that way: data that says otherwise is always shown. */
static int rq_fits(kn_ctx *q, const Annals__V1__Entity *e, size_t n_links, bool fits, const char *method,
                   const char *wanted, const char *applies_to)
{
	if (fits || n_links > 0)
		return ANNALS_OK;
	return kn_fail(q, ANNALS_FAILED_PRECONDITION, "%s is %s, not %s: %s applies to %s", e->id,
	               rq_type_words(q, e->type), wanted, method, applies_to);
}

/* ---- Relations and History ------------------------------------------------------ */

/* With inverse, the entity is the object and `object` filters the other
 * side, the subject: "who is member_of org:csto, among these". */
KN_QUERY(relations, RelationsRequest, RelationsReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *e;
	const char *other;
	kn_when w;
	int rc = kn_entity_head(&q, in->entity, "entity", &e);
	if (rc == ANNALS_OK)
		rc = rq_optional_entity(&q, in->object, "object", &other);
	if (rc == ANNALS_OK)
		rc = kn_when_of(&q, in->at, in->at_document, &w);
	if (rc != ANNALS_OK)
		return rc;
	kn_rel **rels;
	size_t n;
	rc = kn_relations(&q, e->id, in->predicate, in->inverse, other, &rels, &n);
	if (rc != ANNALS_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		AR_PUSH(a, out->facts, out->n_facts, kn_fact(&q, rels[i], &w));
	if (w.pub != NULL)
		out->publication = kn_pub_message(&q, w.pub);
	return ANNALS_OK;
}

/* Both directions: the history of org:csto's members is the history of
 * relations in which it is the object. `object` filters the other side. */
KN_QUERY(history, HistoryRequest, RelationsReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *e;
	const char *other;
	int rc = kn_entity_head(&q, in->entity, "entity", &e);
	if (rc == ANNALS_OK)
		rc = rq_optional_entity(&q, in->object, "object", &other);
	if (rc != ANNALS_OK)
		return rc;
	kn_rel **as_subject, **as_object;
	size_t ns, no;
	rc = kn_relations(&q, e->id, in->predicate, false, other, &as_subject, &ns);
	if (rc == ANNALS_OK)
		rc = kn_relations(&q, e->id, in->predicate, true, other, &as_object, &no);
	if (rc != ANNALS_OK)
		return rc;
	kn_rel **all = NULL;
	size_t n = 0;
	for (size_t i = 0; i < ns; i++)
		AR_PUSH(a, all, n, as_subject[i]);
	for (size_t i = 0; i < no; i++)
		if (strcmp(as_object[i]->r->subject, e->id) != 0) /* a self-relation is already in */
			AR_PUSH(a, all, n, as_object[i]);
	kn_sort(&q, (void **)all, n, kn_rel_cmp);
	kn_when none = {.set = false};
	for (size_t i = 0; i < n; i++)
		AR_PUSH(a, out->facts, out->n_facts, kn_fact(&q, all[i], &none));
	return ANNALS_OK;
}

/* ---- Members -------------------------------------------------------------------- */

typedef struct mb_fold {
	kn_rel *active;    /* an active segment TRUE on the date */
	kn_rel *suspended; /* a suspended segment TRUE on the date */
	kn_rel *unknown;   /* an UNKNOWN segment, active ones preferred */
	kn_rel *last_over; /* the latest segment that had begun and was over */
	kn_rel *first;
} mb_fold;

static bool mb_is_suspended(const kn_rel *qr)
{
	return strcmp(qr->r->status, "suspended") == 0;
}

static void mb_add(kn_ctx *q, mb_fold *f, kn_rel *qr, const kn_when *w)
{
	kn_verdict v;
	kn_judge(q, qr->r->valid, &qr->sp, w, &v);
	asof_truth t = v.truth;
	bool susp = mb_is_suspended(qr);
	if (f->first == NULL)
		f->first = qr;
	if (t == ASOF_TRUE && !susp && f->active == NULL)
		f->active = qr;
	if (t == ASOF_TRUE && susp && f->suspended == NULL)
		f->suspended = qr;
	if (t == ASOF_UNKNOWN && (f->unknown == NULL || (mb_is_suspended(f->unknown) && !susp)))
		f->unknown = qr;
	if (t == ASOF_FALSE && !v.unbegun)
		f->last_over = qr; /* segments come in time order */
}

static Annals__V1__Member *mb_member(kn_ctx *q, kn_rel *deciding, const kn_when *w, Annals__V1__Truth truth,
                                     const char *status)
{
	Annals__V1__Member *m = AR_NEW(q->a, Annals__V1__Member, ANNALS__V1__MEMBER__INIT);
	m->entity = deciding->r->subject;
	m->name = (char *)kn_label(q, deciding->r->subject);
	m->truth = truth;
	m->status = (char *)status;
	m->deciding = kn_fact(q, deciding, w);
	return m;
}

/* One subject's segments decide its list: an active segment TRUE makes a
 * member, else a suspended one TRUE a suspended member, else any UNKNOWN
 * segment leaves it unknown, else it is not a member then. */
static void mb_place(kn_ctx *q, const mb_fold *f, const kn_when *w, Annals__V1__MembersReply *out)
{
	ar_arena *a = q->a;
	if (f->active != NULL) {
		AR_PUSH(a, out->members, out->n_members,
		        mb_member(q, f->active, w, ANNALS__V1__TRUTH__TRUTH_TRUE, "active"));
	} else if (f->suspended != NULL) {
		AR_PUSH(a, out->suspended, out->n_suspended,
		        mb_member(q, f->suspended, w, ANNALS__V1__TRUTH__TRUTH_FALSE, "suspended"));
	} else if (f->unknown != NULL) {
		AR_PUSH(a, out->unknown, out->n_unknown,
		        mb_member(q, f->unknown, w, ANNALS__V1__TRUTH__TRUTH_UNKNOWN, ""));
	} else {
		kn_rel *why = f->last_over != NULL ? f->last_over : f->first;
		AR_PUSH(a, out->not_members, out->n_not_members,
		        mb_member(q, why, w, ANNALS__V1__TRUTH__TRUTH_FALSE, ""));
	}
}

static int mb_by_subject(const void *x, const void *y)
{
	return strcmp(((const kn_rel *)x)->r->subject, ((const kn_rel *)y)->r->subject);
}

static int mb_by_name(const void *x, const void *y)
{
	const Annals__V1__Member *a = x, *b = y;
	int c = strcasecmp(a->name, b->name);
	return c != 0 ? c : strcmp(a->entity, b->entity);
}

KN_QUERY(members, MembersRequest, MembersReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *org;
	kn_when w;
	int rc = kn_entity_head(&q, in->organization, "organization", &org);
	if (rc == ANNALS_OK)
		rc = kn_when_of(&q, in->at, in->at_document, &w);
	if (rc == ANNALS_OK)
		rc = rq_require_date(&q, &w, "membership");
	if (rc != ANNALS_OK)
		return rc;
	kn_rel **rels;
	size_t n;
	rc = kn_relations(&q, org->id, "member_of", true, NULL, &rels, &n);
	if (rc == ANNALS_OK)
		rc = rq_fits(&q, org, n,
		             org->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION ||
		                 org->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP,
		             "Members", "an organization", "organizations and groups");
	if (rc != ANNALS_OK)
		return rc;
	out->organization = org->id;
	if (w.pub != NULL)
		out->publication = kn_pub_message(&q, w.pub);
	kn_sort(&q, (void **)rels, n, mb_by_subject); /* stable: time order within a subject */
	for (size_t i = 0; i < n;) {
		mb_fold f = {0};
		size_t j = i;
		for (; j < n && strcmp(rels[j]->r->subject, rels[i]->r->subject) == 0; j++)
			mb_add(&q, &f, rels[j], &w);
		mb_place(&q, &f, &w, out);
		i = j;
	}
	kn_sort(&q, (void **)out->members, out->n_members, mb_by_name);
	kn_sort(&q, (void **)out->suspended, out->n_suspended, mb_by_name);
	kn_sort(&q, (void **)out->unknown, out->n_unknown, mb_by_name);
	kn_sort(&q, (void **)out->not_members, out->n_not_members, mb_by_name);
	return ANNALS_OK;
}

/* ---- Holder and Succession ------------------------------------------------------------ */

static int rq_tenures(kn_ctx *q, const char *ref, const char *method, Annals__V1__Entity **pos,
                      kn_rel ***rels, size_t *n)
{
	int rc = kn_entity_head(q, ref, "position", pos);
	if (rc == ANNALS_OK)
		rc = kn_relations(q, (*pos)->id, "holds_position", true, NULL, rels, n);
	if (rc != ANNALS_OK)
		return rc;
	return rq_fits(q, *pos, *n, (*pos)->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_POSITION, method,
	               "a position", "offices (entities of type position)");
}

KN_QUERY(holder, HolderRequest, HolderReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *pos;
	kn_rel **rels;
	size_t n;
	kn_when w;
	int rc = rq_tenures(&q, in->position, "Holder", &pos, &rels, &n);
	if (rc == ANNALS_OK)
		rc = kn_when_of(&q, in->at, in->at_document, &w);
	if (rc == ANNALS_OK)
		rc = rq_require_date(&q, &w, "holding an office");
	if (rc != ANNALS_OK)
		return rc;
	out->position = pos->id;
	if (w.pub != NULL)
		out->publication = kn_pub_message(&q, w.pub);
	for (size_t i = 0; i < n; i++) {
		Annals__V1__RelationFact *f = kn_fact(&q, rels[i], &w);
		if (f->truth != ANNALS__V1__TRUTH__TRUTH_FALSE)
			AR_PUSH(a, out->holders, out->n_holders, f);
	}
	return ANNALS_OK;
}

/* Tenures in time order (kn_rel_cmp): a tenure with no start is placed by
 * its end, ahead of one that starts when (or after) it ended. */
KN_QUERY(succession, SuccessionRequest, SuccessionReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *pos;
	kn_rel **rels;
	size_t n;
	int rc = rq_tenures(&q, in->position, "Succession", &pos, &rels, &n);
	if (rc != ANNALS_OK)
		return rc;
	out->position = pos->id;
	for (size_t i = 0; i < n; i++) {
		Annals__V1__Tenure *tn = AR_NEW(a, Annals__V1__Tenure, ANNALS__V1__TENURE__INIT);
		tn->holder = rels[i]->r->subject;
		tn->name = (char *)kn_label(&q, tn->holder);
		kn_put_relation(&q, &tn->base, &tn->relation, "relation", rels[i]);
		if (i > 0)
			tn->predecessor = rels[i - 1]->r->subject;
		if (i + 1 < n)
			tn->successor = rels[i + 1]->r->subject;
		AR_PUSH(a, out->tenures, out->n_tenures, tn);
	}
	return ANNALS_OK;
}

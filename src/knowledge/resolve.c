/*
 * Names: Resolve (which entities a name may mean) and NameAt (what an
 * entity was called on a date).
 */
#include <string.h>

#include "common/fold.h"
#include "knowledge/kn_int.h"

/* ---- Resolve -------------------------------------------------------------------- */

typedef struct rs_scan {
	kn_ctx *q;
	Annals__V1__Entity **found;
	size_t n;
	int rc;
} rs_scan;

static void rs_add(rs_scan *s, Annals__V1__Entity *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->found[i]->id, e->id) == 0)
			return;
	AR_PUSH(s->q->a, s->found, s->n, e);
}

static int rs_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	rs_scan *s = ctx;
	Annals__V1__Entity *e = data != NULL && len > 0
	                            ? annals__v1__entity__unpack(ar_pbc(s->q->a), len, data)
	                            : kn_entity_by_id(s->q, id);
	if (e == NULL) {
		s->rc = kn_fail(s->q, ANNALS_DATA_LOSS, "entity %s cannot be read", id);
		return 1;
	}
	rs_add(s, e);
	return 0;
}

static char *rs_fold(kn_ctx *q, const char *s)
{
	size_t n = strlen(s);
	char *out = ar_alloc(q->a, n + 1);
	fold_utf8(out, n + 1, s, n);
	return out;
}

/* Ranks a name's truth for picking the best match: TRUE, UNKNOWN, FALSE. */
static int rs_rank(Annals__V1__Truth t)
{
	return t == ANNALS__V1__TRUTH__TRUTH_TRUE ? 3 : t == ANNALS__V1__TRUTH__TRUTH_UNKNOWN ? 2 : 1;
}

static Annals__V1__Truth rs_truth(kn_ctx *q, Annals__V1__Interval *valid, const kn_when *w)
{
	asof_span sp;
	kn_span(q, valid, &sp);
	if (!w->set)
		return ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED;
	kn_verdict v;
	kn_judge(q, valid, &sp, w, &v);
	return (Annals__V1__Truth)v.truth;
}

/* One candidate per entity: the matching name that best fits the date
 * (valid then, else maybe valid, else not), the first one on ties. */
static Annals__V1__Candidate *rs_candidate(kn_ctx *q, Annals__V1__Entity *e, const char *folded,
                                           const char *asked, const kn_when *w)
{
	Annals__V1__Candidate *c = AR_NEW(q->a, Annals__V1__Candidate, ANNALS__V1__CANDIDATE__INIT);
	c->entity = e->id;
	c->type = e->type;
	c->display_name = (char *)kn_display_name(e);
	int best = 0;
	for (size_t i = 0; i < e->n_names; i++) {
		Annals__V1__Name *n = e->names[i];
		if (strcmp(rs_fold(q, n->text), folded) != 0)
			continue;
		Annals__V1__Truth t = rs_truth(q, n->valid, w);
		if (rs_rank(t) <= best)
			continue;
		best = rs_rank(t);
		c->matched = n->text;
		c->kind = n->kind;
		c->valid = n->valid;
		c->valid_at = t;
	}
	if (best == 0) { /* matched by its id (or by a folding we do not share) */
		c->matched = (char *)asked;
		c->valid_at = w->set ? ANNALS__V1__TRUTH__TRUTH_TRUE : ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED;
	}
	return c;
}

KN_QUERY(resolve, ResolveRequest, ResolveReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	if (in->name == NULL || in->name[0] == '\0')
		return kn_fail(&q, ANNALS_INVALID_ARGUMENT, "name: required");
	kn_when w;
	int rc = kn_when_of(&q, in->at, NULL, &w);
	if (rc != ANNALS_OK)
		return rc;
	rs_scan s = {.q = &q, .rc = ANNALS_OK};
	Annals__V1__Entity *by_id = kn_entity_by_id(&q, in->name);
	if (by_id != NULL)
		rs_add(&s, by_id);
	rc = st_scan_names(t, in->name, false, rs_visit, &s);
	if (s.rc != ANNALS_OK)
		return s.rc;
	if (rc != ANNALS_OK)
		return kn_fail(&q, rc, "name: looking up '%.60s' failed", in->name);
	const char *folded = rs_fold(&q, in->name);
	for (size_t i = 0; i < s.n; i++) {
		if (in->type != ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_UNSPECIFIED &&
		    s.found[i]->type != in->type)
			continue;
		AR_PUSH(a, out->candidates, out->n_candidates,
		        rs_candidate(&q, s.found[i], folded, in->name, &w));
	}
	return ANNALS_OK;
}

/* ---- NameAt --------------------------------------------------------------------- */

/* The official name in force: an OFFICIAL name certainly valid then, else
 * a FORMER one (it was the official name at that time). */
static const Annals__V1__NameFact *na_in_force(const Annals__V1__NameAtReply *out)
{
	static const Annals__V1__NameKind order[2] = {ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL,
	                                              ANNALS__V1__NAME_KIND__NAME_KIND_FORMER};
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < out->n_names; i++)
			if (out->names[i]->name->kind == order[k] &&
			    out->names[i]->truth == ANNALS__V1__TRUTH__TRUTH_TRUE)
				return out->names[i];
	return NULL;
}

KN_QUERY(name_at, NameAtRequest, NameAtReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *e;
	int rc = kn_entity(&q, in->entity, "entity", &e);
	if (rc != ANNALS_OK)
		return rc;
	kn_when w;
	rc = kn_when_of(&q, in->at, in->at_document, &w);
	if (rc != ANNALS_OK)
		return rc;
	out->entity = e->id;
	if (w.pub != NULL)
		out->publication = kn_pub_message(&q, w.pub);
	for (size_t i = 0; i < e->n_names; i++) {
		Annals__V1__NameFact *f = AR_NEW(a, Annals__V1__NameFact, ANNALS__V1__NAME_FACT__INIT);
		f->name = e->names[i];
		f->truth = rs_truth(&q, e->names[i]->valid, &w);
		AR_PUSH(a, out->names, out->n_names, f);
	}
	if (!w.set) { /* no date asked: today's name as we know it, no truth claimed */
		out->name = (char *)kn_display_name(e);
		out->truth = ANNALS__V1__TRUTH__TRUTH_UNSPECIFIED;
		return ANNALS_OK;
	}
	const Annals__V1__NameFact *f = na_in_force(out);
	out->name = f ? f->name->text : "";
	out->truth = f ? ANNALS__V1__TRUTH__TRUTH_TRUE : ANNALS__V1__TRUTH__TRUTH_UNKNOWN;
	return ANNALS_OK;
}

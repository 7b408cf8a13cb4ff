/*
 * Ties: the entities one entity is linked to by named predicates, for the
 * timelines that follow them (an organization's timeline shows what
 * happened to the treaty it was founded on and to its offices).
 *
 * A predicate names a tie of either kind, followed either way:
 *   - a relation with that predicate (member_of, party_to, ...): its object
 *     when the entity is the subject, its subject when the entity is the
 *     object;
 *   - an attribute with that key and a `ref` (formed_by_members_of,
 *     organization, body_of in the built-in data): the referenced entity
 *     when the attribute is the entity's own, the holder of the attribute
 *     when it refers to the entity.
 * The store keeps no index of attribute refs, so finding who refers to an
 * entity scans entities: of one type for the defaults (offices are
 * positions, bodies are groups), all of them for a predicate the caller
 * names, each record looked at only when its bytes hold the entity's id.
 * The scan stops at the caller's deadline like every scan.
 *
 * When no predicate is named, the defaults for the entity's type are
 * followed: an organization's founding treaty (formed_by_members_of, its
 * own attribute), its offices (positions whose `organization` is it) and
 * its bodies (groups that are a `body_of` it); other types follow none.
 */
#include <string.h> /* memmem: _GNU_SOURCE is set by the build */

#include "knowledge/kn_int.h"

enum { TIE_OUT = 1, TIE_IN = 2, TIE_BOTH = 3 };

typedef struct tie_rule {
	const char *predicate;
	int dirs;       /* TIE_OUT: from the entity; TIE_IN: to it */
	int other_type; /* the tied entity's EntityType; 0: any */
} tie_rule;

static const tie_rule tie_org_defaults[] = {
    {"formed_by_members_of", TIE_OUT, 0},                                    /* its founding treaty */
    {"organization", TIE_IN, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_POSITION}, /* its offices */
    {"body_of", TIE_IN, ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP},         /* its bodies */
};

typedef struct tie_list {
	kn_ctx *q;
	const char *self;
	kn_tie **items;
	size_t n;
} tie_list;

static bool tie_type_fits(kn_ctx *q, const char *id, int type)
{
	if (type == 0)
		return true;
	Annals__V1__Entity *e = kn_entity_by_id(q, id);
	return e != NULL && (int)e->type == type;
}

/* Each tied entity once (the first tie that reaches it names it), never
 * the entity itself, never an id with no entity behind it. */
static void tie_add(tie_list *l, const char *id, const char *predicate, int type)
{
	if (id == NULL || id[0] == '\0' || strcmp(id, l->self) == 0)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i]->entity, id) == 0)
			return;
	if (!tie_type_fits(l->q, id, type) || kn_entity_by_id(l->q, id) == NULL)
		return;
	kn_tie *t = ar_alloc(l->q->a, sizeof(*t));
	t->entity = ar_strdup(l->q->a, id);
	t->predicate = predicate;
	AR_PUSH(l->q->a, l->items, l->n, t);
}

static int tie_relations(tie_list *l, const tie_rule *r)
{
	for (int inverse = 0; inverse < 2; inverse++) {
		if (!(r->dirs & (inverse ? TIE_IN : TIE_OUT)))
			continue;
		kn_rel **rels;
		size_t n;
		int rc = kn_relations(l->q, l->self, r->predicate, inverse, NULL, &rels, &n);
		if (rc != ANNALS_OK)
			return rc;
		for (size_t i = 0; i < n; i++)
			tie_add(l, inverse ? rels[i]->r->subject : rels[i]->r->object, r->predicate,
			        r->other_type);
	}
	return ANNALS_OK;
}

typedef struct tie_scan {
	tie_list *l;
	const tie_rule *r;
	int rc;
} tie_scan;

static int tie_visit_referrer(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	tie_scan *s = ctx;
	kn_ctx *q = s->l->q;
	size_t self_len = strlen(s->l->self);
	if (data == NULL || memmem(data, len, s->l->self, self_len) == NULL)
		return 0; /* its bytes do not hold the id: no attribute of it refers to us */
	Annals__V1__Entity *e = annals__v1__entity__unpack(ar_pbc(q->a), len, data);
	if (e == NULL) {
		s->rc = kn_fail(q, ANNALS_DATA_LOSS, "entity %s cannot be read", id);
		return 1;
	}
	for (size_t i = 0; i < e->n_attributes; i++) {
		const Annals__V1__Attribute *at = e->attributes[i];
		if (strcmp(at->key, s->r->predicate) == 0 && strcmp(at->ref, s->l->self) == 0)
			tie_add(s->l, e->id, s->r->predicate, s->r->other_type);
	}
	return 0;
}

static int tie_attributes(tie_list *l, const Annals__V1__Entity *e, const tie_rule *r)
{
	if (r->dirs & TIE_OUT)
		for (size_t i = 0; i < e->n_attributes; i++)
			if (strcmp(e->attributes[i]->key, r->predicate) == 0)
				tie_add(l, e->attributes[i]->ref, r->predicate, r->other_type);
	if (!(r->dirs & TIE_IN))
		return ANNALS_OK;
	tie_scan s = {.l = l, .r = r, .rc = ANNALS_OK};
	int rc = r->other_type != 0
	             ? st_scan_entities_by_type(l->q->t, r->other_type, NULL, tie_visit_referrer, &s)
	             : st_scan_kind(l->q->t, ST_ENTITY, NULL, tie_visit_referrer, &s);
	if (s.rc != ANNALS_OK)
		return s.rc;
	if (rc != ANNALS_OK)
		return kn_fail(l->q, rc, "looking for what refers to %s by %s failed", l->self, r->predicate);
	return ANNALS_OK;
}

int kn_ties(kn_ctx *q, const Annals__V1__Entity *e, char *const *via, size_t n_via, kn_tie ***out, size_t *n,
            char ***followed, size_t *n_followed)
{
	tie_list l = {.q = q, .self = e->id};
	const tie_rule *rules = NULL;
	size_t n_rules = 0;
	tie_rule *asked = NULL;
	if (n_via > 0) {
		asked = ar_alloc(q->a, n_via * sizeof(*asked));
		for (size_t i = 0; i < n_via; i++)
			asked[i] = (tie_rule){.predicate = via[i], .dirs = TIE_BOTH, .other_type = 0};
		rules = asked;
		n_rules = n_via;
	} else if (e->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION) {
		rules = tie_org_defaults;
		n_rules = sizeof(tie_org_defaults) / sizeof(tie_org_defaults[0]);
	}
	*followed = NULL;
	*n_followed = 0;
	for (size_t i = 0; i < n_rules; i++) {
		int rc = tie_relations(&l, &rules[i]);
		if (rc == ANNALS_OK)
			rc = tie_attributes(&l, e, &rules[i]);
		if (rc != ANNALS_OK)
			return rc;
		AR_PUSH(q->a, *followed, *n_followed, (char *)rules[i].predicate);
	}
	*out = l.items;
	*n = l.n;
	return ANNALS_OK;
}

/*
 * Timeline: everything dated about one entity, in time order — the events
 * it took part in (or that took place there), the starts and ends of its
 * relations (as subject or object) and of its names.
 *
 * Items are ordered by the first day their date can mean, then by the
 * last; on one day events come first, then ends, then starts. An item
 * whose date cannot be resolved (an unknown anchor, no date at all) is
 * listed last with undated = true, in no time order. `from`/`to` keep the
 * items whose days overlap [from, to]; undated items are kept too, since
 * nothing says they fall outside.
 *
 * Ties (ties.c): the events of the entities tied to this one — by the
 * predicates the request names, else by its type's defaults (an
 * organization's founding treaty, offices and bodies) — are listed too,
 * each marked with the entity and predicate that brought it. An event
 * already on the entity's own timeline, or brought by an earlier tie, is
 * listed once: the entity's own first, then ties in the order followed.
 * Only events are pulled in, not the tied entities' relations and names:
 * those are the tied entity's own history, one Timeline away.
 */
#include <string.h>

#include "common/pbwire.h"
#include "knowledge/kn_int.h"

typedef struct tl_bytes {
	const uint8_t *data;
	size_t len;
} tl_bytes;

typedef struct tl_entry {
	Annals__V1__TimelineItem *item;
	int32_t lo, hi;
	int rank; /* on one day: events 0, ends 1, starts 2 */
	size_t seq;
} tl_entry;

typedef struct tl {
	kn_ctx *q;
	int32_t from, to; /* DATE_NEG_INF / DATE_POS_INF when open */
	tl_entry **entries;
	size_t n;
	int rc;
	const kn_tie *via; /* while scanning a tied entity's events */
	char **own;        /* ids of the entity's own events, sorted once they are all in */
	size_t n_own;
	char **pulled; /* ids of events brought by ties so far */
	size_t n_pulled;
} tl;

/* event_raw: the event's stored bytes, spliced in for event (which is then
 * only its head); relation: the kn_rel whose relation the item carries. */
static Annals__V1__TimelineItem *tl_add(tl *x, Annals__V1__Date *when, const char *kind, int rank,
                                        const char *description, Annals__V1__Event *event,
                                        const tl_bytes *event_raw, const kn_rel *relation)
{
	int32_t lo = 0, hi = 0;
	bool dated = kn_date_range(x->q, when, &lo, &hi);
	if (dated && (hi < x->from || lo > x->to))
		return NULL;
	Annals__V1__TimelineItem *it =
	    AR_NEW(x->q->a, Annals__V1__TimelineItem, ANNALS__V1__TIMELINE_ITEM__INIT);
	it->when = when;
	it->kind = (char *)kind;
	it->description = (char *)description;
	if (event_raw != NULL)
		pbw_splice(x->q->a, &it->base, "event", event_raw->data, event_raw->len);
	else
		it->event = event;
	if (relation != NULL)
		kn_put_relation(x->q, &it->base, &it->relation, "relation", relation);
	it->undated = !dated;
	tl_entry *e = ar_alloc(x->q->a, sizeof(*e));
	e->item = it;
	e->lo = dated ? lo : DATE_POS_INF;
	e->hi = dated ? hi : DATE_POS_INF;
	e->rank = rank;
	e->seq = x->n;
	AR_PUSH(x->q->a, x->entries, x->n, e);
	return it;
}

static int tl_cmp(const void *p, const void *r)
{
	const tl_entry *a = p, *b = r;
	if (a->item->undated != b->item->undated)
		return a->item->undated ? 1 : -1;
	if (a->item->undated) /* no time to order by: as found, a start before its end */
		return a->seq < b->seq ? -1 : a->seq > b->seq;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- the three sources --------------------------------------------------------------- */

static int tl_strcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether an event is met for the first time. The entity's own events all
 * come first (x->via NULL) and are searched by halves once sorted; those
 * ties bring are few and searched in turn. */
static bool tl_first_sight(tl *x, const char *id)
{
	if (x->via == NULL) {
		AR_PUSH(x->q->a, x->own, x->n_own, ar_strdup(x->q->a, id));
		return true;
	}
	size_t lo = 0, hi = x->n_own;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(x->own[mid], id);
		if (c == 0)
			return false;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < x->n_pulled; i++)
		if (strcmp(x->pulled[i], id) == 0)
			return false;
	AR_PUSH(x->q->a, x->pulled, x->n_pulled, ar_strdup(x->q->a, id));
	return true;
}

static int tl_visit_event(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	tl *x = ctx;
	tl_bytes raw = {data, len}, *spliced = NULL;
	Annals__V1__Event *e = NULL;
	bool lean = data != NULL && len > 0 && !st_txn_full_scans(x->q->t); /* as kn_collect_relation */
	kh_memo *memo = NULL;
	if (lean && (e = kh_event(id, data, len, &memo)) != NULL) { /* shared: heads.c */
		if (!memo->set) /* an absolute date is judged once for these bytes */
			*memo = (kh_memo){.set = kn_date_absolute(e->when),
			                  .same = kn_date_as_stored(x->q, e->when)};
		spliced = memo->same ? &raw : NULL;
		if (spliced == NULL) /* its date resolves otherwise now: the item carries it decoded */
			e = NULL;
	}
	if (e == NULL)
		e = data != NULL && len > 0 ? annals__v1__event__unpack(ar_pbc(x->q->a), len, data)
		                            : st_load_event(x->q->t, id, x->q->a);
	if (e == NULL) {
		x->rc = kn_fail(x->q, ANNALS_DATA_LOSS, "event %s cannot be read", id);
		return 1;
	}
	if (!tl_first_sight(x, e->id))
		return 0; /* on the entity's own timeline, or brought by an earlier tie */
	const char *what = e->summary != NULL && e->summary[0] != '\0' ? e->summary : e->type;
	const char *desc =
	    AR_CONCAT(x->q->a, what, " (", e->type,
	              e->status == ANNALS__V1__EVENT_STATUS__EVENT_STATUS_PLANNED     ? ", planned"
	              : e->status == ANNALS__V1__EVENT_STATUS__EVENT_STATUS_CANCELLED ? ", cancelled"
	                                                                              : "",
	              ")");
	Annals__V1__TimelineItem *it = tl_add(x, e->when, "event", 0, desc, e, spliced, NULL);
	if (it != NULL && x->via != NULL) {
		it->via_entity = (char *)x->via->entity;
		it->via_predicate = (char *)x->via->predicate;
	}
	return 0;
}

static bool tl_stated(const Annals__V1__Bound *b)
{
	return b != NULL && b->kind != ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED;
}

static void tl_relation(tl *x, const kn_rel *qr)
{
	kn_ctx *q = x->q;
	Annals__V1__Relation *r = qr->r;
	Annals__V1__Interval *iv = r->valid;
	if (iv == NULL)
		return;
	const char *fact =
	    AR_CONCAT(q->a, kn_label(q, r->subject), " ", r->predicate, " ", kn_label(q, r->object),
	              r->status[0] ? " (" : "", r->status, r->status[0] ? ")" : "");
	if (tl_stated(iv->start))
		tl_add(x, iv->start->date, "relation_start", 2,
		       AR_CONCAT(q->a, fact, ": ", kn_bound_phrase(q, iv->start, true)), NULL, NULL, qr);
	if (tl_stated(iv->end))
		tl_add(x, iv->end->date, "relation_end", 1,
		       AR_CONCAT(q->a, fact, ": ", kn_bound_phrase(q, iv->end, false)), NULL, NULL, qr);
}

static int tl_relations(tl *x, const char *id)
{
	kn_rel **rels;
	size_t n;
	for (int inverse = 0; inverse < 2; inverse++) {
		int rc = kn_relations(x->q, id, NULL, inverse, NULL, &rels, &n);
		if (rc != ANNALS_OK)
			return rc;
		for (size_t i = 0; i < n; i++)
			if (!inverse || strcmp(rels[i]->r->subject, id) != 0) /* a self-relation once */
				tl_relation(x, rels[i]);
	}
	return ANNALS_OK;
}

static void tl_names(tl *x, Annals__V1__Entity *e)
{
	kn_ctx *q = x->q;
	for (size_t i = 0; i < e->n_names; i++) {
		Annals__V1__Name *n = e->names[i];
		if (n->valid == NULL)
			continue;
		const char *fact =
		    ar_printf(q->a, "%s named \"%s\" (%s)", e->id, n->text, kn_name_kind_word(n->kind));
		/* the phrases print the dates: resolved now first, not as stored
		 * when the entity was written (tl_add resolves them too late) */
		asof_span sp;
		kn_span(q, n->valid, &sp);
		if (tl_stated(n->valid->start))
			tl_add(x, n->valid->start->date, "name_start", 2,
			       AR_CONCAT(q->a, fact, ": ", kn_bound_phrase(q, n->valid->start, true)), NULL,
			       NULL, NULL);
		if (tl_stated(n->valid->end))
			tl_add(x, n->valid->end->date, "name_end", 1,
			       AR_CONCAT(q->a, fact, ": ", kn_bound_phrase(q, n->valid->end, false)), NULL,
			       NULL, NULL);
	}
}

/* The events of every entity tied to e, marked. */
static int tl_ties(tl *x, const Annals__V1__Entity *e, const Annals__V1__TimelineRequest *in,
                   Annals__V1__TimelineReply *out)
{
	kn_ctx *q = x->q;
	if (in->direct_only)
		return ANNALS_OK;
	kn_tie **ties;
	size_t n;
	int rc = kn_ties(q, e, in->via, in->n_via, &ties, &n, &out->via, &out->n_via);
	if (rc != ANNALS_OK)
		return rc;
	kn_sort(q, (void **)x->own, x->n_own, tl_strcmp);
	for (size_t i = 0; i < n; i++) {
		x->via = ties[i];
		rc = st_scan_events(q->t, ties[i]->entity, DATE_NEG_INF, DATE_POS_INF, NULL, NULL,
		                    tl_visit_event, x);
		if (x->rc != ANNALS_OK)
			return x->rc;
		if (rc != ANNALS_OK)
			return kn_fail(q, rc, "reading the events of %s failed", ties[i]->entity);
	}
	x->via = NULL;
	return ANNALS_OK;
}

static int tl_check_via(kn_ctx *q, const Annals__V1__TimelineRequest *in)
{
	if (in->direct_only && in->n_via > 0)
		return kn_fail(q, ANNALS_INVALID_ARGUMENT, "via: give either via or direct_only, not both");
	for (size_t i = 0; i < in->n_via; i++)
		if (in->via[i] == NULL || in->via[i][0] == '\0')
			return kn_fail(q, ANNALS_INVALID_ARGUMENT, "via[%zu]: empty: name a predicate", i);
	return ANNALS_OK;
}

KN_QUERY(timeline, TimelineRequest, TimelineReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	Annals__V1__Entity *e;
	int32_t lo, hi;
	bool set;
	tl x = {.q = &q, .from = DATE_NEG_INF, .to = DATE_POS_INF, .rc = ANNALS_OK};
	int rc = tl_check_via(&q, in);
	if (rc == ANNALS_OK)
		rc = kn_entity(&q, in->entity, "entity", &e);
	if (rc == ANNALS_OK && (rc = kn_bound_of(&q, in->from, "from", &lo, &hi, &set)) == ANNALS_OK && set)
		x.from = lo;
	if (rc == ANNALS_OK && (rc = kn_bound_of(&q, in->to, "to", &lo, &hi, &set)) == ANNALS_OK && set)
		x.to = hi;
	if (rc != ANNALS_OK)
		return rc;
	if (x.from > x.to)
		return kn_fail(&q, ANNALS_INVALID_ARGUMENT, "to: ends before from begins");
	/* Every event of the entity: the store's index orders by stored dates,
	 * but relative dates are resolved here, so the order is ours to make. */
	rc = st_scan_events(t, e->id, DATE_NEG_INF, DATE_POS_INF, NULL, NULL, tl_visit_event, &x);
	if (x.rc != ANNALS_OK)
		return x.rc;
	if (rc != ANNALS_OK)
		return kn_fail(&q, rc, "reading the events of %s failed", e->id);
	rc = tl_relations(&x, e->id);
	if (rc == ANNALS_OK)
		rc = tl_ties(&x, e, in, out);
	if (rc != ANNALS_OK)
		return rc;
	tl_names(&x, e);
	kn_sort(&q, (void **)x.entries, x.n, tl_cmp);
	out->entity = e->id;
	for (size_t i = 0; i < x.n; i++)
		AR_PUSH(a, out->items, out->n_items, x.entries[i]->item);
	return ANNALS_OK;
}

/*
 * Sources: Evidence (what supports each part of a record) and Facts (what
 * a document, or one of its sentences, supports).
 *
 * Evidence sits on a record as a whole (path ""), on each name
 * ("names[1]") and on each attribute ("attributes[0]"). Each item comes
 * with the fact it supports, in words built from the record.
 */
#include <string.h>

#include "knowledge/kn_int.h"

typedef struct ev_rec {
	st_kind kind;
	const char *id;
	Annals__V1__Entity *entity;
	Annals__V1__Event *event;
	Annals__V1__Relation *relation;
	Annals__V1__Document *document;
} ev_rec;

enum ev_part { EV_RECORD, EV_NAME, EV_ATTRIBUTE };

typedef struct ev_item {
	enum ev_part part;
	size_t index;
	Annals__V1__Evidence *ev;
} ev_item;

typedef int (*ev_fn)(kn_ctx *q, void *ctx, const ev_rec *rec, const ev_item *it);

/* "an organization", "a person": the article by the word's first letter. */
static const char *kn_article(const char *word)
{
	return (word[0] && strchr("aeiou", word[0])) ? "an" : "a";
}

static int ev_each(kn_ctx *q, const ev_rec *rec, enum ev_part part, size_t index, Annals__V1__Evidence **evs, size_t n,
                   ev_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		ev_item it = {.part = part, .index = index, .ev = evs[i]};
		int rc = fn(q, ctx, rec, &it);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int ev_attributes(kn_ctx *q, const ev_rec *rec, Annals__V1__Attribute **attrs, size_t n, ev_fn fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		int rc = ev_each(q, rec, EV_ATTRIBUTE, i, attrs[i]->evidence, attrs[i]->n_evidence, fn, ctx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Calls fn for every Evidence in the record, record-level first. */
static int ev_walk(kn_ctx *q, const ev_rec *rec, ev_fn fn, void *ctx)
{
	int rc = 0;
	switch (rec->kind) {
	case ST_ENTITY: {
		Annals__V1__Entity *e = rec->entity;
		rc = ev_each(q, rec, EV_RECORD, 0, e->evidence, e->n_evidence, fn, ctx);
		for (size_t i = 0; rc == 0 && i < e->n_names; i++)
			rc = ev_each(q, rec, EV_NAME, i, e->names[i]->evidence, e->names[i]->n_evidence, fn, ctx);
		return rc ? rc : ev_attributes(q, rec, e->attributes, e->n_attributes, fn, ctx);
	}
	case ST_EVENT:
		rc = ev_each(q, rec, EV_RECORD, 0, rec->event->evidence, rec->event->n_evidence, fn, ctx);
		return rc ? rc : ev_attributes(q, rec, rec->event->attributes, rec->event->n_attributes, fn, ctx);
	case ST_RELATION:
		return ev_each(q, rec, EV_RECORD, 0, rec->relation->evidence, rec->relation->n_evidence, fn, ctx);
	case ST_DOCUMENT:
		return ev_each(q, rec, EV_RECORD, 0, rec->document->evidence, rec->document->n_evidence, fn, ctx);
	}
	return 0;
}

static const char *ev_path(kn_ctx *q, const ev_item *it)
{
	switch (it->part) {
	case EV_NAME:
		return ar_printf(q->a, "names[%zu]", it->index);
	case EV_ATTRIBUTE:
		return ar_printf(q->a, "attributes[%zu]", it->index);
	default:
		return "";
	}
}

/* ---- the fact each piece of evidence supports, in words ---------------------------------- */

static const char *ev_attribute_text(kn_ctx *q, const char *owner, const Annals__V1__Attribute *at)
{
	const char *s = ar_printf(q->a, "%s: %s is %s", owner, at->key, at->value);
	if (at->ref != NULL && at->ref[0] != '\0')
		s = ar_printf(q->a, "%s (%s)", s, kn_label(q, at->ref));
	if (at->valid != NULL)
		s = ar_printf(q->a, "%s; %s", s, kn_interval_phrase(q, at->valid));
	return s;
}

static const char *ev_entity_text(kn_ctx *q, Annals__V1__Entity *e, const ev_item *it)
{
	const char *who = kn_display_name(e);
	if (it->part == EV_NAME) {
		Annals__V1__Name *n = e->names[it->index];
		const char *s = ar_printf(q->a, "%s is called \"%s\" (%s)", who, n->text, kn_name_kind_word(n->kind));
		return n->valid ? ar_printf(q->a, "%s; %s", s, kn_interval_phrase(q, n->valid)) : s;
	}
	if (it->part == EV_ATTRIBUTE)
		return ev_attribute_text(q, who, e->attributes[it->index]);
	if (e->summary != NULL && e->summary[0] != '\0')
		return ar_printf(q->a, "%s (%s) is %s %s: %s", who, e->id, kn_article(kn_type_word(e->type)), kn_type_word(e->type), e->summary);
	return ar_printf(q->a, "%s (%s) is %s %s", who, e->id, kn_article(kn_type_word(e->type)), kn_type_word(e->type));
}

static const char *ev_event_text(kn_ctx *q, Annals__V1__Event *e, const ev_item *it)
{
	int32_t lo, hi;
	(void)kn_date_range(q, e->when, &lo, &hi);
	const char *what = e->summary != NULL && e->summary[0] != '\0' ? e->summary : e->type;
	if (it->part == EV_ATTRIBUTE)
		return ev_attribute_text(q, what, e->attributes[it->index]);
	const char *s = ar_printf(q->a, "%s (%s, %s)", what, e->type, kn_date_text(q, e->when));
	if (e->status == ANNALS__V1__EVENT_STATUS__EVENT_STATUS_PLANNED)
		s = ar_printf(q->a, "%s, planned", s);
	else if (e->status == ANNALS__V1__EVENT_STATUS__EVENT_STATUS_CANCELLED)
		s = ar_printf(q->a, "%s, cancelled", s);
	return s;
}

static const char *ev_relation_text(kn_ctx *q, Annals__V1__Relation *r)
{
	const char *s = ar_printf(q->a, "%s %s %s", kn_label(q, r->subject), r->predicate, kn_label(q, r->object));
	if (r->status != NULL && r->status[0] != '\0')
		s = ar_printf(q->a, "%s (%s)", s, r->status);
	return ar_printf(q->a, "%s; %s", s, kn_interval_phrase(q, r->valid));
}

static const char *ev_fact_text(kn_ctx *q, const ev_rec *rec, const ev_item *it)
{
	switch (rec->kind) {
	case ST_ENTITY:
		return ev_entity_text(q, rec->entity, it);
	case ST_EVENT:
		return ev_event_text(q, rec->event, it);
	case ST_RELATION:
		return ev_relation_text(q, rec->relation);
	case ST_DOCUMENT:
		return ar_printf(q->a, "document %s: %s", rec->document->id, rec->document->title);
	}
	return "";
}

/* ---- loading any record ---------------------------------------------------------------- */

static bool ev_unpack(kn_ctx *q, st_kind kind, const char *id, const uint8_t *data, size_t len, ev_rec *rec)
{
	ProtobufCAllocator *al = ar_pbc(q->a);
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->id = id;
	switch (kind) {
	case ST_ENTITY:
		rec->entity = annals__v1__entity__unpack(al, len, data);
		return rec->entity != NULL;
	case ST_EVENT:
		rec->event = annals__v1__event__unpack(al, len, data);
		return rec->event != NULL;
	case ST_RELATION:
		rec->relation = annals__v1__relation__unpack(al, len, data);
		return rec->relation != NULL;
	case ST_DOCUMENT:
		rec->document = annals__v1__document__unpack(al, len, data);
		return rec->document != NULL;
	}
	return false;
}

static int ev_load(kn_ctx *q, const char *id, ev_rec *rec)
{
	st_kind kind = st_kind_of(q->t, id);
	if (kind == 0)
		return kn_fail(q, ANNALS_NOT_FOUND, "id: no record '%.100s'", id);
	const uint8_t *data;
	size_t len;
	int rc = st_get(q->t, kind, id, &data, &len);
	if (rc != ANNALS_OK)
		return kn_fail(q, rc, "id: reading '%.100s' failed", id);
	if (!ev_unpack(q, kind, id, data, len, rec))
		return kn_fail(q, ANNALS_DATA_LOSS, "id: record '%.100s' cannot be read", id);
	return ANNALS_OK;
}

static Annals__V1__RecordRef *ev_ref(kn_ctx *q, const ev_rec *rec)
{
	Annals__V1__RecordRef *ref = AR_NEW(q->a, Annals__V1__RecordRef, ANNALS__V1__RECORD_REF__INIT);
	ref->kind = (Annals__V1__RecordKind)rec->kind;
	ref->id = ar_strdup(q->a, rec->id);
	return ref;
}

/* ---- Evidence -------------------------------------------------------------------------- */

static int ev_add_item(kn_ctx *q, void *ctx, const ev_rec *rec, const ev_item *it)
{
	Annals__V1__EvidenceReply *out = ctx;
	Annals__V1__EvidenceItem *item = AR_NEW(q->a, Annals__V1__EvidenceItem, ANNALS__V1__EVIDENCE_ITEM__INIT);
	item->path = (char *)ev_path(q, it);
	item->evidence = it->ev;
	item->fact = (char *)ev_fact_text(q, rec, it);
	AR_PUSH(q->a, out->items, out->n_items, item);
	return 0;
}

KN_QUERY(evidence, EvidenceRequest, EvidenceReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	if (in->id == NULL || in->id[0] == '\0')
		return kn_fail(&q, ANNALS_INVALID_ARGUMENT, "id: required");
	ev_rec rec = {0};
	int rc = ev_load(&q, in->id, &rec);
	if (rc != ANNALS_OK)
		return rc;
	out->record = ev_ref(&q, &rec);
	ev_walk(&q, &rec, ev_add_item, out);
	return ANNALS_OK;
}

/* ---- Facts ----------------------------------------------------------------------------- */

typedef struct fc_scan {
	kn_ctx *q;
	const char *document;
	uint32_t sentence;
	Annals__V1__FactsReply *out;
	Annals__V1__RecordRef *ref; /* of the record being walked */
	int rc;
} fc_scan;

static bool fc_cites(const Annals__V1__Evidence *ev, const char *document, uint32_t sentence)
{
	if (strcmp(ev->document, document) != 0)
		return false;
	if (sentence == 0)
		return true;
	for (size_t i = 0; i < ev->n_sentences; i++)
		if (ev->sentences[i] == sentence)
			return true;
	return false;
}

static int fc_add(kn_ctx *q, void *ctx, const ev_rec *rec, const ev_item *it)
{
	fc_scan *s = ctx;
	if (!fc_cites(it->ev, s->document, s->sentence))
		return 0;
	Annals__V1__Fact *f = AR_NEW(q->a, Annals__V1__Fact, ANNALS__V1__FACT__INIT);
	f->record = s->ref;
	f->path = (char *)ev_path(q, it);
	f->sentence = s->sentence ? s->sentence : it->ev->n_sentences ? it->ev->sentences[0] : 0;
	f->fact = (char *)ev_fact_text(q, rec, it);
	f->evidence = it->ev;
	AR_PUSH(q->a, s->out->facts, s->out->n_facts, f);
	return 0;
}

static int fc_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	fc_scan *s = ctx;
	ev_rec rec = {0};
	st_kind kind = st_kind_of(s->q->t, id);
	if (kind == 0 || !ev_unpack(s->q, kind, ar_strdup(s->q->a, id), data, len, &rec)) {
		s->rc = kn_fail(s->q, ANNALS_DATA_LOSS, "record '%.100s' cannot be read", id);
		return 1;
	}
	s->ref = ev_ref(s->q, &rec);
	return ev_walk(s->q, &rec, fc_add, s);
}

static int fc_by_sentence(const void *x, const void *y)
{
	const Annals__V1__Fact *a = x, *b = y;
	return a->sentence < b->sentence ? -1 : a->sentence > b->sentence;
}

KN_QUERY(facts, FactsRequest, FactsReply)
{
	kn_ctx q;
	kn_init(&q, t, a, err);
	if (in->document == NULL || in->document[0] == '\0')
		return kn_fail(&q, ANNALS_INVALID_ARGUMENT, "document: required");
	Annals__V1__Document *doc = kn_document(&q, in->document);
	if (doc == NULL)
		return kn_fail(&q, ANNALS_NOT_FOUND, "document: no document '%.100s'", in->document);
	if (in->sentence > 0 && doc->n_sentences > 0 && in->sentence > doc->n_sentences)
		return kn_fail(&q, ANNALS_INVALID_ARGUMENT, "sentence: %u is past the last sentence of %s (%zu)",
		               in->sentence, doc->id, doc->n_sentences);
	out->document = doc->id;
	fc_scan s = {.q = &q, .document = doc->id, .sentence = in->sentence, .out = out, .rc = ANNALS_OK};
	int rc = st_scan_citing(t, doc->id, in->sentence, fc_visit, &s);
	if (s.rc != ANNALS_OK)
		return s.rc;
	if (rc != ANNALS_OK)
		return kn_fail(&q, rc, "reading the records citing %s failed", doc->id);
	kn_sort(&q, (void **)out->facts, out->n_facts, fc_by_sentence);
	return ANNALS_OK;
}

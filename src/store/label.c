/*
 * st_entity_label — an entity's display name read straight from its stored
 * bytes.
 *
 * Knowledge answers name every entity they mention (a Members answer names
 * each member), and unpacking a whole stored Entity for that (every name,
 * attribute and piece of evidence, each an arena allocation) was the largest
 * single cost of those queries. The display name needs only the names'
 * text, kind and end bound, so this walks the protobuf wire format of the
 * stored record and reads just those. It gives what kn_display_name gives
 * on the unpacked Entity (test_knowledge checks every seed entity).
 *
 * Field numbers (model.proto): Entity.names = 3; Name.text = 1, kind = 2,
 * valid = 3; Interval.end = 2; Bound.kind = 1.
 */
#include <string.h>

#include "store/store_int.h"

typedef struct lb_reader {
	const uint8_t *p, *end;
} lb_reader;

static bool lb_varint(lb_reader *r, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Reads one field: its number, and its value (varint) or its bytes
 * (length-delimited, in *sub); fixed-size fields are skipped over. */
static bool lb_field(lb_reader *r, uint32_t *num, uint64_t *v, lb_reader *sub)
{
	uint64_t tag, len;
	if (!lb_varint(r, &tag))
		return false;
	*num = (uint32_t)(tag >> 3);
	*v = 0;
	sub->p = sub->end = NULL;
	switch (tag & 7) {
	case 0:
		return lb_varint(r, v);
	case 1:
		if (r->end - r->p < 8)
			return false;
		r->p += 8;
		return true;
	case 2:
		if (!lb_varint(r, &len) || len > (uint64_t)(r->end - r->p))
			return false;
		sub->p = r->p;
		sub->end = r->p + len;
		r->p += len;
		return true;
	case 5:
		if (r->end - r->p < 4)
			return false;
		r->p += 4;
		return true;
	default:
		return false;
	}
}

/* The kind of an Interval's end bound; 0 (UNSTATED) when there is none. */
static uint64_t lb_end_kind(lb_reader iv)
{
	uint32_t num;
	uint64_t v, kind = 0;
	lb_reader sub;
	while (iv.p < iv.end && lb_field(&iv, &num, &v, &sub))
		if (num == 2) {
			kind = 0; /* a later end replaces an earlier one */
			uint32_t bn;
			uint64_t bv;
			lb_reader bs;
			while (sub.p < sub.end && lb_field(&sub, &bn, &bv, &bs))
				if (bn == 1)
					kind = bv;
		}
	return kind;
}

typedef struct lb_name {
	lb_reader text;
	uint64_t kind;
	bool current; /* no end stated */
} lb_name;

static void lb_name_read(lb_reader r, lb_name *n)
{
	memset(n, 0, sizeof(*n));
	n->current = true;
	uint32_t num;
	uint64_t v;
	lb_reader sub;
	while (r.p < r.end && lb_field(&r, &num, &v, &sub)) {
		if (num == 1 && sub.p != NULL)
			n->text = sub;
		else if (num == 2)
			n->kind = v;
		else if (num == 3 && sub.p != NULL)
			n->current = lb_end_kind(sub) == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED;
	}
}

const char *st_entity_label(st_txn *t, const char *id, ar_arena *a)
{
	const uint8_t *data;
	size_t len;
	if (id == NULL || id[0] == '\0' || st_get(t, ST_ENTITY, id, &data, &len) != ANNALS_OK)
		return NULL;
	return st_label_of(data, len, id, a);
}

const char *st_label_of(const uint8_t *data, size_t len, const char *id, ar_arena *a)
{
	lb_reader r = {data, data + len};
	lb_reader first = {NULL, NULL};
	bool have_first = false;
	uint32_t num;
	uint64_t v;
	lb_reader sub;
	while (r.p < r.end && lb_field(&r, &num, &v, &sub)) {
		if (num != 3 || sub.p == NULL)
			continue;
		lb_name n;
		lb_name_read(sub, &n);
		if (n.kind == ANNALS__V1__NAME_KIND__NAME_KIND_OFFICIAL && n.current)
			return n.text.p
			           ? ar_strndup(a, (const char *)n.text.p, (size_t)(n.text.end - n.text.p))
			           : "";
		if (!have_first) {
			have_first = true;
			first = n.text;
		}
	}
	if (first.p != NULL && first.end > first.p)
		return ar_strndup(a, (const char *)first.p, (size_t)(first.end - first.p));
	return ar_strdup(a, id);
}

/* Members, Holder, Relations and History need of the entity they are asked
 * about only its id and type, and the organization asked about is often
 * the largest entity in the store (org:csto: a tenth of a Members call
 * went to unpacking its names, attributes and evidence). Entity.type = 2. */
Annals__V1__Entity *st_entity_head(st_txn *t, const char *id, ar_arena *a)
{
	const uint8_t *data;
	size_t len;
	if (id == NULL || id[0] == '\0' || st_get(t, ST_ENTITY, id, &data, &len) != ANNALS_OK)
		return NULL;
	Annals__V1__Entity *e = AR_NEW(a, Annals__V1__Entity, ANNALS__V1__ENTITY__INIT);
	e->id = ar_strdup(a, id);
	lb_reader r = {data, data + len};
	uint32_t num;
	uint64_t v;
	lb_reader sub;
	while (r.p < r.end && lb_field(&r, &num, &v, &sub))
		if (num == 2 && sub.p == NULL)
			e->type =
			    (Annals__V1__EntityType)(int)v; /* the last occurrence wins, as in unpacking */
	return e;
}

/* A relative date anchored to a document ("yesterday" in it) asks only
 * for its published date, and a document carries its whole sentence
 * table: unpacking it for that was a fifth of a Holder call (several times
 * per call). Document.published = 6; a second occurrence (which unpacking
 * would merge) is left to the full unpack. */
Annals__V1__Document *st_document_head(st_txn *t, const char *id, ar_arena *a)
{
	const uint8_t *data;
	size_t len;
	if (id == NULL || id[0] == '\0' || st_get(t, ST_DOCUMENT, id, &data, &len) != ANNALS_OK)
		return NULL;
	if (st_txn_full_scans(t))
		return st_load_document(t, id, a);
	Annals__V1__Document *d = AR_NEW(a, Annals__V1__Document, ANNALS__V1__DOCUMENT__INIT);
	d->id = ar_strdup(a, id);
	lb_reader r = {data, data + len}, published = {NULL, NULL};
	uint32_t num;
	uint64_t v;
	lb_reader sub;
	while (r.p < r.end && lb_field(&r, &num, &v, &sub)) {
		if (num != 6 || sub.p == NULL)
			continue;
		if (published.p != NULL)
			return st_load_document(t, id, a);
		published = sub;
	}
	if (published.p != NULL) {
		d->published =
		    annals__v1__date__unpack(ar_pbc(a), (size_t)(published.end - published.p), published.p);
		if (d->published == NULL)
			return st_load_document(t, id, a); /* let the full unpack say what it makes of it */
	}
	return d;
}

/* A relative date anchored to an event ("a week after the summit") asks
 * only for that event's date; unpacking the whole event (participants,
 * links, attributes, evidence) for it was a twentieth of a Members call.
 * Event.when = 4; a second occurrence is left to the full unpack, as for
 * documents. NULL when there is no such event or it has no date. */
Annals__V1__Date *st_event_when(st_txn *t, const char *id, ar_arena *a)
{
	const uint8_t *data;
	size_t len;
	if (id == NULL || id[0] == '\0' || st_get(t, ST_EVENT, id, &data, &len) != ANNALS_OK)
		return NULL;
	lb_reader r = {data, data + len}, when = {NULL, NULL};
	uint32_t num;
	uint64_t v;
	lb_reader sub;
	bool whole = st_txn_full_scans(t);
	while (!whole && r.p < r.end) {
		if (!lb_field(&r, &num, &v, &sub)) {
			whole = true; /* malformed: the full unpack names it */
			break;
		}
		if (num != 4 || sub.p == NULL)
			continue;
		whole = when.p != NULL;
		when = sub;
	}
	if (!whole && when.p == NULL)
		return NULL;
	Annals__V1__Date *d =
	    whole ? NULL : annals__v1__date__unpack(ar_pbc(a), (size_t)(when.end - when.p), when.p);
	if (d != NULL)
		return d;
	Annals__V1__Event *e = st_load_event(t, id, a); /* let the full unpack say what it makes of it */
	return e != NULL ? e->when : NULL;
}

/* val_ — pure validation with field paths; the rules are listed in validate.h. */
#include "common/validate.h"
#include "common/utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/date.h"
#include "common/fold.h"

#define VAL_PATH_MAX 256

/* ---- messages and paths --------------------------------------------------- */

/* Writes "path: reason" into msg and returns -1, so checks can `return val_fail(...)`. */
__attribute__((format(printf, 4, 5))) static int val_fail(char *msg, size_t len, const char *path,
                                                          const char *fmt, ...)
{
	if (len == 0)
		return -1;
	int n = *path ? snprintf(msg, len, "%s: ", path) : 0;
	if (n < 0 || (size_t)n >= len)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	return -1;
}

/* Appends s to the path in buf (n bytes so far), cutting at VAL_PATH_MAX. */
static size_t val_append(char *buf, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (n + k >= VAL_PATH_MAX)
		k = VAL_PATH_MAX - 1 - n;
	memcpy(buf + n, s, k);
	buf[n + k] = '\0';
	return n + k;
}

/* "path.field", or "field" at the top level. */
static const char *val_sub(char *buf, const char *path, const char *field)
{
	size_t n = val_append(buf, 0, path);
	if (*path)
		n = val_append(buf, n, ".");
	val_append(buf, n, field);
	return buf;
}

/* "path.field[i]" */
static const char *val_subi(char *buf, const char *path, const char *field, size_t i)
{
	/* by hand: snprintf cost ~700 instructions a call, and every repeated
	 * item of every write is named this way before it is checked */
	char digits[24], index[32];
	size_t nd = 0, n = 0;
	do {
		digits[nd++] = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	index[n++] = '[';
	while (nd > 0)
		index[n++] = digits[--nd];
	index[n++] = ']';
	index[n] = '\0';
	val_sub(buf, path, field);
	val_append(buf, strlen(buf), index);
	return buf;
}

static const char *val_str(const char *s)
{
	return s ? s : ""; /* hand-built messages may leave a string NULL */
}

/* ---- ids and strings ------------------------------------------------------ */

/* The one id grammar (model.proto): lowercase letters, digits and :._-,
 * 1..VAL_ID_MAX bytes. Predicates and event types are words of the same
 * alphabet that may also hold capitals. */
static bool val_id_char(unsigned char c, bool upper_ok)
{
	return (c >= 'a' && c <= 'z') || (upper_ok && c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '.' || c == '_' || c == '-';
}

/* Checked up to max bytes. 0 ok, else the reason code: 1 empty, 2 too
 * long, 3 bad character, 4 an uppercase letter in an id (the offset in *bad). */
static int val_word(const char *s, size_t max, size_t *bad, bool upper_ok)
{
	size_t n = strlen(s);
	if (n == 0)
		return 1;
	if (n > max)
		return 2;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!val_id_char(c, upper_ok)) {
			*bad = i;
			return c >= 'A' && c <= 'Z' ? 4 : 3;
		}
	}
	return 0;
}

bool val_is_id(const char *s)
{
	size_t bad;
	return s != NULL && val_word(s, VAL_ID_MAX, &bad, false) == 0;
}

static int val_word_msg(const char *s, size_t max, const char *path, char *msg, size_t len)
{
	size_t bad = 0;
	bool upper_ok = max != VAL_ID_MAX; /* words may hold capitals, ids may not */
	switch (val_word(s, max, &bad, upper_ok)) {
	case 0:
		return 0;
	case 1:
		return val_fail(msg, len, path, "required");
	case 2:
		return val_fail(msg, len, path, "%zu bytes; at most %zu", strlen(s), max);
	case 4:
		return val_fail(msg, len, path,
		                "'%.60s' has an uppercase letter at byte %zu; ids are lowercase "
		                "[a-z0-9:._-]",
		                s, bad);
	default:
		if (val_utf8(s, path, msg, len) != 0)
			return -1;
		return val_fail(msg, len, path, "'%.60s' has a character outside %s at byte %zu", s,
		                upper_ok ? "[A-Za-z0-9:._-]" : "[a-z0-9:._-]", bad);
	}
}

int val_id(const char *id, const char *path, char *msg, size_t len)
{
	return val_word_msg(val_str(id), VAL_ID_MAX, path, msg, len);
}

int val_ref(const char *id, const char *path, char *msg, size_t len)
{
	if (*val_str(id) == '\0')
		return 0;
	return val_id(id, path, msg, len);
}

int val_utf8(const char *s, const char *path, char *msg, size_t len)
{
	const unsigned char *p = (const unsigned char *)val_str(s);
	size_t n = strlen((const char *)p);
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) { /* ASCII, most of every record: no decoding */
			i++;
			continue;
		}
		size_t step;
		int ok;
		fold_decode(p + i, n - i, &step, &ok);
		if (!ok)
			return val_fail(msg, len, path, "not valid UTF-8 (byte %zu)", i);
		i += step;
	}
	return 0;
}

/* ---- every string and enum, by descriptor --------------------------------- */

static int val_field_value(const ProtobufCFieldDescriptor *f, const void *member, const char *path, char *msg,
                           size_t len, bool named);

static bool val_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return true;
	const uint32_t *which = (const uint32_t *)((const char *)m + f->quantifier_offset);
	return *which == f->id;
}

/* The walk of val_fields. named: each field's path is built as it is
 * visited (for the message); else every path is "" — the walk a valid
 * record takes, without the path building that was most of its cost. */
static int val_fields_walk(const ProtobufCMessage *m, const char *path, char *msg, size_t len, bool named)
{
	if (m == NULL)
		return 0;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;
		char sub[VAL_PATH_MAX];
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_ENUM &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (!val_field_present(m, f))
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (val_field_value(f, base, named ? val_sub(sub, path, f->name) : "", msg, len,
			                    named) != 0)
				return -1;
			continue;
		}
		size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
		if (n > VAL_MAX_REPEATED)
			return val_fail(msg, len, named ? val_sub(sub, path, f->name) : "",
			                "%zu items; at most %d", n, VAL_MAX_REPEATED);
		size_t size = f->type == PROTOBUF_C_TYPE_ENUM ? sizeof(int) : sizeof(void *);
		const char *items = *(const char *const *)base;
		for (size_t k = 0; k < n; k++) {
			if (val_field_value(f, items + k * size, named ? val_subi(sub, path, f->name, k) : "",
			                    msg, len, named) != 0)
				return -1;
		}
	}
	return 0;
}

/* Walked once without paths; only a record that fails is walked again to
 * name the field. */
int val_fields(const ProtobufCMessage *m, const char *path, char *msg, size_t len)
{
	if (val_fields_walk(m, "", msg, len, false) == 0)
		return 0;
	return val_fields_walk(m, path, msg, len, true);
}

static int val_field_value(const ProtobufCFieldDescriptor *f, const void *member, const char *path, char *msg,
                           size_t len, bool named)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return val_utf8(*(const char *const *)member, path, msg, len);
	case PROTOBUF_C_TYPE_MESSAGE:
		return val_fields_walk(*(const ProtobufCMessage *const *)member, path, msg, len, named);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		int v = *(const int *)member;
		if (protobuf_c_enum_descriptor_get_value(ed, v) == NULL)
			return val_fail(msg, len, path, "%d is not a value of %s", v, ed->short_name);
		return 0;
	}
	default:
		return 0;
	}
}

/* ---- dates, intervals, evidence ------------------------------------------- */

static int val_anchor(const char *anchor, const char *path, char *msg, size_t len)
{
	const char *a = val_str(anchor);
	if (*a == '\0')
		return 0;
	const char *id = NULL;
	if (strncmp(a, "doc:", 4) == 0)
		id = a + 4;
	else if (strncmp(a, "event:", 6) == 0)
		id = a + 6;
	if (id == NULL || !val_is_id(id))
		return val_fail(msg, len, path,
		                "'%.60s' is not an anchor (\"doc:<document id>\" or \"event:<event id>\")",
		                a);
	return 0;
}

int val_date(const Annals__V1__Date *d, const char *path, char *msg, size_t len)
{
	if (d == NULL)
		return 0;
	char reason[200], sub[VAL_PATH_MAX];
	if (date_validate(d, reason, sizeof reason) != 0) {
		/* date_validate names the field relative to the date ("month: 13 is
		 * not a month"); hang it under our path. */
		size_t field = strspn(reason, "abcdefghijklmnopqrstuvwxyz_");
		if (field > 0 && reason[field] == ':' && *path)
			snprintf(msg, len, "%s.%s", path, reason);
		else
			val_fail(msg, len, path, "%s", reason);
		return -1;
	}
	return val_anchor(d->anchor, val_sub(sub, path, "anchor"), msg, len);
}

static int val_bound(const Annals__V1__Bound *b, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (b == NULL)
		return 0;
	if (b->kind != ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED && b->date == NULL) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(&annals__v1__bound_kind__descriptor, b->kind);
		return val_fail(msg, len, val_sub(sub, path, "date"), "required when kind is %s",
		                v ? v->name : "set");
	}
	if (val_date(b->date, val_sub(sub, path, "date"), msg, len) != 0)
		return -1;
	return val_ref(b->event, val_sub(sub, path, "event"), msg, len);
}

/* The days an absolute bound's date covers; false for an unset bound, a
 * relative date (its anchor may change) or no date. */
static bool val_bound_days(const Annals__V1__Bound *b, int32_t *lo, int32_t *hi)
{
	if (b == NULL || b->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_UNSTATED || b->date == NULL ||
	    (b->date->anchor != NULL && b->date->anchor[0] != '\0'))
		return false;
	Annals__V1__Date d = *b->date;
	date_resolve(&d, NULL, NULL);
	return date_range(&d, lo, hi);
}

/* An end that surely precedes its start would make the fact FALSE on every
 * date: refused. With the spans of the README's "as of" table, the start
 * lies at or after s_lo only for EXACT and AFTER starts, and the end at or
 * before e_hi only for EXACT and BEFORE ends; e_hi < s_lo is a contradiction. */
static int val_interval_order(const Annals__V1__Interval *iv, const char *path, char *msg, size_t len)
{
	int32_t s_lo, s_hi, e_lo, e_hi;
	if (!val_bound_days(iv->start, &s_lo, &s_hi) || !val_bound_days(iv->end, &e_lo, &e_hi))
		return 0;
	bool start_floor = iv->start->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT ||
	                   iv->start->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_AFTER;
	bool end_ceiling = iv->end->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT ||
	                   iv->end->kind == ANNALS__V1__BOUND_KIND__BOUND_KIND_BEFORE;
	if (!start_floor || !end_ceiling || e_hi >= s_lo)
		return 0;
	char sub[VAL_PATH_MAX], a[40], b[40];
	return val_fail(msg, len, val_sub(sub, path, "end"), "%s is before the start %s",
	                date_format(iv->end->date, a, sizeof(a)), date_format(iv->start->date, b, sizeof(b)));
}

int val_interval(const Annals__V1__Interval *iv, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (iv == NULL)
		return 0;
	if (val_bound(iv->start, val_sub(sub, path, "start"), msg, len) != 0)
		return -1;
	if (val_bound(iv->end, val_sub(sub, path, "end"), msg, len) != 0)
		return -1;
	return val_interval_order(iv, path, msg, len);
}

int val_evidence(const Annals__V1__Evidence *ev, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (val_ref(ev->document, val_sub(sub, path, "document"), msg, len) != 0)
		return -1;
	for (size_t i = 0; i < ev->n_sentences; i++) {
		if (ev->sentences[i] == 0)
			return val_fail(msg, len, val_subi(sub, path, "sentences", i),
			                "0 is not a sentence number (they start at 1)");
	}
	if (ev->span_start > ev->span_end)
		return val_fail(msg, len, val_sub(sub, path, "span_end"), "%u is before span_start %u",
		                ev->span_end, ev->span_start);
	return val_ref(ev->attributed_to, val_sub(sub, path, "attributed_to"), msg, len);
}

static int val_evidence_list(Annals__V1__Evidence *const *ev, size_t n, const char *path, char *msg,
                             size_t len)
{
	char sub[VAL_PATH_MAX];
	for (size_t i = 0; i < n; i++) {
		if (val_evidence(ev[i], val_subi(sub, path, "evidence", i), msg, len) != 0)
			return -1;
	}
	return 0;
}

/* ---- names and attributes ------------------------------------------------- */

static int val_name(const Annals__V1__Name *nm, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (*val_str(nm->text) == '\0')
		return val_fail(msg, len, val_sub(sub, path, "text"), "required");
	if (val_interval(nm->valid, val_sub(sub, path, "valid"), msg, len) != 0)
		return -1;
	return val_evidence_list(nm->evidence, nm->n_evidence, path, msg, len);
}

static int val_attribute(const Annals__V1__Attribute *at, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (*val_str(at->key) == '\0')
		return val_fail(msg, len, val_sub(sub, path, "key"), "required");
	if (val_ref(at->ref, val_sub(sub, path, "ref"), msg, len) != 0)
		return -1;
	if (val_interval(at->valid, val_sub(sub, path, "valid"), msg, len) != 0)
		return -1;
	return val_evidence_list(at->evidence, at->n_evidence, path, msg, len);
}

static int val_attributes(Annals__V1__Attribute *const *at, size_t n, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	for (size_t i = 0; i < n; i++) {
		if (val_attribute(at[i], val_subi(sub, path, "attributes", i), msg, len) != 0)
			return -1;
	}
	return 0;
}

/* ---- records -------------------------------------------------------------- */

int val_entity(const Annals__V1__Entity *e, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (e == NULL)
		return val_fail(msg, len, path, "required");
	if (val_id(e->id, val_sub(sub, path, "id"), msg, len) != 0)
		return -1;
	if (e->type == ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_UNSPECIFIED)
		return val_fail(msg, len, val_sub(sub, path, "type"), "required");
	for (size_t i = 0; i < e->n_names; i++) {
		if (val_name(e->names[i], val_subi(sub, path, "names", i), msg, len) != 0)
			return -1;
	}
	if (val_attributes(e->attributes, e->n_attributes, path, msg, len) != 0)
		return -1;
	if (val_evidence_list(e->evidence, e->n_evidence, path, msg, len) != 0)
		return -1;
	return val_fields(&e->base, path, msg, len);
}

static int val_participants(const Annals__V1__Event *e, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX], sub2[VAL_PATH_MAX];
	for (size_t i = 0; i < e->n_participants; i++) {
		val_subi(sub, path, "participants", i);
		if (val_id(e->participants[i]->entity, val_sub(sub2, sub, "entity"), msg, len) != 0)
			return -1;
	}
	for (size_t i = 0; i < e->n_links; i++) {
		val_subi(sub, path, "links", i);
		if (val_id(e->links[i]->event, val_sub(sub2, sub, "event"), msg, len) != 0)
			return -1;
	}
	return 0;
}

int val_event(const Annals__V1__Event *e, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (e == NULL)
		return val_fail(msg, len, path, "required");
	if (val_id(e->id, val_sub(sub, path, "id"), msg, len) != 0)
		return -1;
	if (val_word_msg(val_str(e->type), VAL_WORD_MAX, val_sub(sub, path, "type"), msg, len) != 0)
		return -1;
	if (val_date(e->when, val_sub(sub, path, "when"), msg, len) != 0)
		return -1;
	if (val_ref(e->place, val_sub(sub, path, "place"), msg, len) != 0)
		return -1;
	if (val_participants(e, path, msg, len) != 0)
		return -1;
	if (val_attributes(e->attributes, e->n_attributes, path, msg, len) != 0)
		return -1;
	if (val_evidence_list(e->evidence, e->n_evidence, path, msg, len) != 0)
		return -1;
	return val_fields(&e->base, path, msg, len);
}

int val_relation(const Annals__V1__Relation *r, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (r == NULL)
		return val_fail(msg, len, path, "required");
	if (val_id(r->id, val_sub(sub, path, "id"), msg, len) != 0 ||
	    val_id(r->subject, val_sub(sub, path, "subject"), msg, len) != 0)
		return -1;
	if (val_word_msg(val_str(r->predicate), VAL_WORD_MAX, val_sub(sub, path, "predicate"), msg, len) != 0)
		return -1;
	if (val_id(r->object, val_sub(sub, path, "object"), msg, len) != 0)
		return -1;
	if (val_interval(r->valid, val_sub(sub, path, "valid"), msg, len) != 0)
		return -1;
	if (val_evidence_list(r->evidence, r->n_evidence, path, msg, len) != 0)
		return -1;
	return val_fields(&r->base, path, msg, len);
}

static int val_sentences(const Annals__V1__Document *d, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX], sub2[VAL_PATH_MAX];
	for (size_t i = 0; i < d->n_sentences; i++) {
		const Annals__V1__Sentence *s = d->sentences[i];
		val_subi(sub, path, "sentences", i);
		if (s->number == 0)
			return val_fail(msg, len, val_sub(sub2, sub, "number"),
			                "0 is not a sentence number (they start at 1)");
		if (s->start > s->end)
			return val_fail(msg, len, val_sub(sub2, sub, "end"), "%u is before start %u", s->end,
			                s->start);
		if (d->length > 0 && s->end > d->length)
			return val_fail(msg, len, val_sub(sub2, sub, "end"),
			                "%u is past the document's length %u", s->end, d->length);
	}
	return 0;
}

int val_document(const Annals__V1__Document *d, const char *path, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	if (d == NULL)
		return val_fail(msg, len, path, "required");
	if (val_id(d->id, val_sub(sub, path, "id"), msg, len) != 0)
		return -1;
	if (val_ref(d->publisher, val_sub(sub, path, "publisher"), msg, len) != 0)
		return -1;
	if (val_date(d->published, val_sub(sub, path, "published"), msg, len) != 0)
		return -1;
	if (val_sentences(d, path, msg, len) != 0)
		return -1;
	if (val_evidence_list(d->evidence, d->n_evidence, path, msg, len) != 0)
		return -1;
	return val_fields(&d->base, path, msg, len);
}

int val_dataset(const Annals__V1__Dataset *ds, char *msg, size_t len)
{
	char sub[VAL_PATH_MAX];
	for (size_t i = 0; i < ds->n_documents; i++) {
		if (val_document(ds->documents[i], val_subi(sub, "", "documents", i), msg, len) != 0)
			return -1;
	}
	for (size_t i = 0; i < ds->n_entities; i++) {
		if (val_entity(ds->entities[i], val_subi(sub, "", "entities", i), msg, len) != 0)
			return -1;
	}
	for (size_t i = 0; i < ds->n_relations; i++) {
		if (val_relation(ds->relations[i], val_subi(sub, "", "relations", i), msg, len) != 0)
			return -1;
	}
	for (size_t i = 0; i < ds->n_events; i++) {
		if (val_event(ds->events[i], val_subi(sub, "", "events", i), msg, len) != 0)
			return -1;
	}
	return 0;
}

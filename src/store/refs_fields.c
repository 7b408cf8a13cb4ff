/*
 * rf_ fields — the one table of the contract's fields that name another
 * record, and the walk that finds them in a record, at any depth, by
 * descriptor (as st_walk does): Evidence sits in entities, names,
 * attributes, relations, events and documents, Dates and Bounds in every
 * interval, and a message that gains one of them later is covered without
 * a change here. A new reference field is one row below.
 */
#include <stdio.h>
#include <string.h>

#include "store/refs.h"

static const rf_field rf_fields[] = {
    {&annals__v1__relation__descriptor, "subject", ST_ENTITY, RF_ID, true},
    {&annals__v1__relation__descriptor, "object", ST_ENTITY, RF_ID, true},
    {&annals__v1__event__descriptor, "place", ST_ENTITY, RF_ID, true},
    {&annals__v1__participant__descriptor, "entity", ST_ENTITY, RF_ID, true},
    {&annals__v1__event_link__descriptor, "event", ST_EVENT, RF_ID},
    {&annals__v1__bound__descriptor, "event", ST_EVENT, RF_ID},
    {&annals__v1__attribute__descriptor, "ref", ST_ENTITY, RF_ID},
    {&annals__v1__document__descriptor, "publisher", ST_ENTITY, RF_ID},
    {&annals__v1__evidence__descriptor, "document", ST_DOCUMENT, RF_DOCUMENT, true},
    {&annals__v1__evidence__descriptor, "attributed_to", ST_ENTITY, RF_ID},
    {&annals__v1__date__descriptor, "anchor", 0, RF_ANCHOR, true},
};

/* Fields whose values another index already keys as "value \0 ...", with
 * the same coverage (every occurrence rf_walk visits), so ix_refs need not
 * repeat them: a relation's subject (ix_subjects) and object (ix_objects),
 * an event's place and participants (ix_entity_time), every evidence's
 * document (ix_cites), every Date's anchor (ix_anchors). Leaving them out
 * of ix_refs saves an event 3-6 B-tree puts per write (a fifth of the
 * writer's CPU per PutEvent); rf_referrers scans those indexes instead.
 * Such rows are marked true in the table above. */
bool rf_field_in_other_index(const rf_field *f)
{
	return f->keyed_elsewhere;
}

static const rf_field *rf_row(const ProtobufCMessageDescriptor *d, const char *field)
{
	for (size_t i = 0; i < sizeof(rf_fields) / sizeof(rf_fields[0]); i++)
		if (rf_fields[i].message == d && strcmp(rf_fields[i].field, field) == 0)
			return &rf_fields[i];
	return NULL;
}

/* Every write looks its references up: no copy unless a prefix is added. */
static void rf_add(rf_targets *t, const char *prefix, const char *id)
{
	size_t i = t->n++;
	if (prefix[0] == '\0') {
		t->id[i] = id;
		return;
	}
	snprintf(t->buf[i], sizeof(t->buf[i]), "%s%s", prefix, id);
	t->id[i] = t->buf[i];
}

/* A document is named with or without "doc:": "doc:x" may be the document
 * "doc:x" or "x", and "x" may be "x" or "doc:x" (kn_document). */
static void rf_document(rf_targets *t, const char *v)
{
	t->want = ST_DOCUMENT;
	rf_add(t, "", v);
	if (strncmp(v, "doc:", 4) == 0)
		rf_add(t, "", v + 4);
	else
		rf_add(t, "doc:", v);
}

void rf_targets_of(const rf_field *f, const char *v, rf_targets *out)
{
	out->n = 0;
	out->want = f->want;
	if (f->form == RF_ID) {
		rf_add(out, "", v);
	} else if (f->form == RF_DOCUMENT || strncmp(v, "doc:", 4) == 0) {
		/* an anchor "doc:X": the Document "doc:X" or, failing that, "X" */
		rf_document(out, v);
		if (f->form == RF_ANCHOR)
			out->n = v[4] != '\0' ? 2 : 0;
	} else if (strncmp(v, "event:", 6) == 0 && v[6] != '\0') {
		/* "event:X": the Event "X" or, failing that, "event:X" */
		out->want = ST_EVENT;
		rf_add(out, "", v + 6);
		rf_add(out, "", v);
	}
	/* anything else names nothing: validation refuses it before we see it */
}

/* Kept beside rf_targets_of: a value names id under that rule exactly when
 * it is one of these. */
void rf_names_of(st_kind k, const char *id, rf_targets *out)
{
	out->n = 0;
	out->want = k;
	rf_add(out, "",
	       id); /* RF_ID; RF_DOCUMENT as written; "doc:X" / "event:X" anchors naming themselves */
	if (k == ST_DOCUMENT) {
		rf_add(out, "doc:", id); /* "doc:x" naming "x"; the anchor "doc:doc:x" naming "doc:x" */
		if (strncmp(id, "doc:", 4) == 0)
			rf_add(out, "", id + 4); /* evidence "x" naming "doc:x" */
	} else if (k == ST_EVENT) {
		rf_add(out, "event:", id); /* the anchor "event:X" naming "X" */
	}
}

/* ---- the walk ---------------------------------------------------------------------- */

typedef struct rf_walker {
	rf_visit_fn fn;
	void *ctx;
	rf_path path;
} rf_walker;

const char *rf_path_format(const rf_path *p, ar_arena *a)
{
	char buf[512];
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < p->n && len < sizeof(buf); i++) {
		int n = p->index[i] < 0
		            ? snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "." : "", p->name[i])
		            : snprintf(buf + len, sizeof(buf) - len, "%s%s[%ld]", i ? "." : "", p->name[i],
		                       p->index[i]);
		len += n > 0 ? (size_t)n : 0;
	}
	return ar_strdup(a, buf);
}

static bool rf_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return true;
	return *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
}

/* Deeper than RF_DEPTH (the contract nests 5 levels) the name is kept off
 * the path, never off the walk. */
static void rf_push(rf_walker *w, const char *name, long index)
{
	if (w->path.n < RF_DEPTH) {
		w->path.name[w->path.n] = name;
		w->path.index[w->path.n] = index;
	}
	w->path.n++;
}

static void rf_pop(rf_walker *w)
{
	w->path.n--;
}

static int rf_visit(rf_walker *w, const rf_field *row, const char *v)
{
	rf_path shown = w->path;
	if (shown.n > RF_DEPTH)
		shown.n = RF_DEPTH;
	return w->fn(w->ctx, row, &shown, v);
}

static int rf_walk_msg(rf_walker *w, const ProtobufCMessage *m);

static int rf_walk_field(rf_walker *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *member = (const char *)m + f->offset;
	if (f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED) {
		const char *v = *(char *const *)member;
		const rf_field *row = v != NULL && v[0] != '\0' ? rf_row(m->descriptor, f->name) : NULL;
		if (row == NULL)
			return 0;
		rf_push(w, f->name, -1);
		int rc = w->path.n <= RF_DEPTH ? w->fn(w->ctx, row, &w->path, v) : rf_visit(w, row, v);
		rf_pop(w);
		return rc;
	}
	if (f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		rf_push(w, f->name, -1);
		int rc = rf_walk_msg(w, *(ProtobufCMessage *const *)member);
		rf_pop(w);
		return rc;
	}
	size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
	ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)member;
	for (size_t i = 0; i < n; i++) {
		rf_push(w, f->name, (long)i);
		int rc = rf_walk_msg(w, items[i]);
		rf_pop(w);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int rf_walk_msg(rf_walker *w, const ProtobufCMessage *m)
{
	if (m == NULL)
		return 0;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!rf_present(m, f))
			continue;
		int rc = rf_walk_field(w, m, f);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int rf_walk(const ProtobufCMessage *rec, rf_visit_fn fn, void *ctx)
{
	rf_walker w = {.fn = fn, .ctx = ctx};
	return rf_walk_msg(&w, rec);
}

/*
 * rf_ checks — whether references are whole, for the write path
 * (rf_check_write, inside the write txn before the write's first change),
 * for a dry run of a Batch and for the whole store (CheckReferences).
 *
 * A logical write is judged by the state it leaves: the store as the txn
 * sees it, overlaid with the write's own puts and deletes (the last op on
 * an id decides: a Batch may create an entity after the relation naming
 * it, or delete a relation before the entity it names). So:
 *   - every record the write leaves put must name only records that exist
 *     at the end (in the store and not deleted by it, or put by it);
 *   - every record the write deletes must have no referrer left: the
 *     reverse index ix_refs gives the stored records whose references may
 *     name it; those the write itself deletes or rewrites are judged by
 *     their new state above, and the others by resolving their references
 *     again against the end state (a document named "doc:x" may still be
 *     found as "x").
 * The same function answers the dry run and the write, so an import told
 * "no dangling references" is not refused for one at apply time unless
 * the store changed in between. Only LMDB state and the write decide:
 * every replica reaches the same answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "store/refs.h"

/* ---- the write's own records ------------------------------------------------------- */

typedef struct rf_entry {
	const char *id; /* NULL: free slot */
	st_kind kind;   /* after the write; 0: deleted */
	size_t op;      /* the last op on the id */
	const ProtobufCMessage *rec;
} rf_entry;

typedef struct rf_overlay {
	rf_entry *slots;
	size_t cap; /* a power of two, at least twice the ops */
} rf_overlay;

typedef struct rf_view {
	st_txn *t;
	const rf_overlay *ov;
	ar_arena *a;
} rf_view;

static rf_entry *rf_slot(const rf_overlay *ov, const char *id)
{
	if (ov == NULL || ov->cap == 0)
		return NULL;
	size_t mask = ov->cap - 1;
	size_t i = (size_t)hash_fnv1a(HASH_FNV1A_INIT, id, strlen(id)) & mask;
	while (ov->slots[i].id != NULL && strcmp(ov->slots[i].id, id) != 0)
		i = (i + 1) & mask;
	return &ov->slots[i];
}

/* The op's record (NULL for a delete), its id and kind. */
static const ProtobufCMessage *rf_op_record(const Annals__V1__Op *op, const char **id, st_kind *kind)
{
	const ProtobufCMessage *rec = NULL;
	*kind = 0;
	*id = NULL;
	switch (op->op_case) {
	case ANNALS__V1__OP__OP_PUT_ENTITY:
		rec = &op->put_entity->base, *kind = ST_ENTITY;
		break;
	case ANNALS__V1__OP__OP_PUT_EVENT:
		rec = &op->put_event->base, *kind = ST_EVENT;
		break;
	case ANNALS__V1__OP__OP_PUT_RELATION:
		rec = &op->put_relation->base, *kind = ST_RELATION;
		break;
	case ANNALS__V1__OP__OP_PUT_DOCUMENT:
		rec = &op->put_document->base, *kind = ST_DOCUMENT;
		break;
	case ANNALS__V1__OP__OP_DELETE: /* kind: the one asked for (0: whatever holds the id) */
		*id = op->delete_ ? op->delete_->id : NULL;
		*kind = op->delete_ ? (st_kind)op->delete_->kind : 0;
		return NULL;
	default:
		return NULL;
	}
	if ((const void *)rec == NULL) /* a oneof set without its message: nothing to judge */
		return NULL;
	*id = rec_id(rec);
	return rec;
}

static void rf_overlay_build(rf_overlay *ov, const Annals__V1__Op *const *ops, size_t n, ar_arena *a)
{
	ov->cap = 16;
	while (ov->cap < 2 * n)
		ov->cap *= 2;
	ov->slots = ar_alloc(a, ov->cap * sizeof(*ov->slots));
	memset(ov->slots, 0, ov->cap * sizeof(*ov->slots));
	for (size_t i = 0; i < n; i++) {
		const char *id;
		st_kind kind;
		const ProtobufCMessage *rec = rf_op_record(ops[i], &id, &kind);
		if (id == NULL)
			continue;
		rf_entry *e = rf_slot(ov, id);
		*e = (rf_entry){.id = id, .kind = rec ? kind : 0, .op = i, .rec = rec};
	}
}

/* Whether id is a record of kind k at the end of the write. */
static bool rf_has(const rf_view *v, const char *id, st_kind k)
{
	const rf_entry *e = rf_slot(v->ov, id);
	if (e != NULL && e->id != NULL)
		return e->kind == k;
	const uint8_t *data;
	size_t len;
	return st_get(v->t, k, id, &data, &len) == ANNALS_OK;
}

static st_kind rf_kind_of(const rf_view *v, const char *id)
{
	const rf_entry *e = rf_slot(v->ov, id);
	if (e != NULL && e->id != NULL)
		return e->kind;
	return st_kind_of(v->t, id);
}

/* NULL when the reference names a record at the end of the write, else
 * why not ("no entity \"x\" (the id is an event)"). */
static const char *rf_problem(const rf_view *v, const rf_field *f, const char *value)
{
	rf_targets t;
	rf_targets_of(f, value, &t);
	for (size_t i = 0; i < t.n; i++)
		if (rf_has(v, t.id[i], t.want))
			return NULL;
	if (t.n == 0)
		return ar_printf(v->a, "\"%s\" names no record", value);
	st_kind other = rf_kind_of(v, t.id[0]);
	if (other != 0)
		return ar_printf(v->a, "no %s \"%s\" (the id is %s %s)", rec_kind_name(t.want), t.id[0],
		                 other == ST_ENTITY || other == ST_EVENT ? "an" : "a", rec_kind_name(other));
	return ar_printf(v->a, "no %s \"%s\"", rec_kind_name(t.want), t.id[0]);
}

/* ---- one record's references ------------------------------------------------------- */

typedef struct rf_judge {
	const rf_view *v;
	rf_dangling d;    /* op, by_delete, kind, record filled in by the caller */
	const char *only; /* judge only references that may name this id; NULL: all */
	rf_report_fn fn;
	void *ctx;
	int stopped;
} rf_judge;

static bool rf_may_name(const rf_field *f, const char *value, const char *id)
{
	rf_targets t;
	rf_targets_of(f, value, &t);
	for (size_t i = 0; i < t.n; i++)
		if (strcmp(t.id[i], id) == 0)
			return true;
	return false;
}

static int rf_judge_cb(void *ctx, const rf_field *f, const rf_path *path, const char *value)
{
	rf_judge *j = ctx;
	if (j->only != NULL && !rf_may_name(f, value, j->only))
		return 0;
	const char *problem = rf_problem(j->v, f, value);
	if (problem == NULL)
		return 0;
	j->d.path = rf_path_format(path, j->v->a);
	j->d.target = value;
	j->d.problem = problem;
	j->stopped = j->fn(j->ctx, &j->d);
	return j->stopped;
}

static int rf_judge_record(rf_judge *j, st_kind k, const char *id, const ProtobufCMessage *rec)
{
	j->d.kind = k;
	j->d.record = id;
	rf_walk(rec, rf_judge_cb, j);
	return j->stopped;
}

/* ---- deletes: the stored referrers ---------------------------------------------------- */

typedef struct rf_ids {
	char **ids;
	size_t n;
	ar_arena *a;
	size_t skip;
	enum st_dbi db;
} rf_ids;

/* Where the referrer's id starts in a key after "value \0": at once
 * (ix_refs, ix_anchors), after a be32 (ix_entity_time: day, ix_cites:
 * sentence), after the predicate's \0 (ix_subjects, ix_objects). */
static size_t rf_id_offset(const rf_ids *l, const MDB_val *key)
{
	const uint8_t *b = key->mv_data;
	switch (l->db) {
	case DB_ENTITY_TIME:
	case DB_CITES:
		return l->skip + 4;
	case DB_SUBJECTS:
	case DB_OBJECTS:
		for (size_t i = l->skip; i < key->mv_size; i++)
			if (b[i] == '\0')
				return i + 1;
		return key->mv_size;
	default:
		return l->skip;
	}
}

static int rf_collect_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	(void)val;
	rf_ids *l = ctx;
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, rf_id_offset(l, key), id, sizeof(id));
	AR_PUSH(l->a, l->ids, l->n, ar_strdup(l->a, id));
	return 0;
}

/* ix_refs and the indexes keying the references it leaves out
 * (rf_field_in_other_index): each holds "value \0 ..." keys. A candidate
 * found in them is judged on its stored record, so any superset will do. */
static const enum st_dbi rf_referrer_dbs[] = {DB_REFS,        DB_SUBJECTS, DB_OBJECTS,
                                              DB_ENTITY_TIME, DB_CITES,    DB_ANCHORS};

static int rf_cmp_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stored records whose references may name (k, id), each once. */
static int rf_referrers(const rf_view *v, st_kind k, const char *id, rf_ids *out)
{
	rf_targets names;
	rf_names_of(k, id, &names);
	out->a = v->a;
	for (size_t i = 0; i < names.n; i++) {
		st_key prefix;
		key_init(&prefix);
		key_str(&prefix, names.id[i]);
		key_sep(&prefix);
		rf_ids l = {.a = v->a, .skip = prefix.n};
		for (size_t d = 0; d < sizeof(rf_referrer_dbs) / sizeof(rf_referrer_dbs[0]); d++) {
			l.db = rf_referrer_dbs[d];
			int rc = st_scan_prefix(v->t, l.db, &prefix, NULL, rf_collect_cb, &l);
			if (rc != ANNALS_OK)
				return rc;
		}
		/* in id order, as one index gave them: the first problem named stays
		 * the same whichever index held the key */
		if (l.n > 1)
			qsort(l.ids, l.n, sizeof(*l.ids), rf_cmp_ids);
		for (size_t j = 0; j < l.n; j++) {
			bool seen = false;
			for (size_t m = 0; m < out->n && !seen; m++)
				seen = strcmp(out->ids[m], l.ids[j]) == 0;
			if (!seen)
				AR_PUSH(v->a, out->ids, out->n, l.ids[j]);
		}
	}
	return ANNALS_OK;
}

static int rf_check_delete(rf_judge *j, size_t op, const char *id, st_kind asked, st_err *err)
{
	const rf_view *v = j->v;
	st_kind k = st_kind_of(v->t, id);
	if (k == 0 || (asked != 0 && asked != k))
		return ANNALS_OK; /* not stored (the delete fails, or the write put it first), or another kind
		                   */
	rf_ids refs = {0};
	int rc = rf_referrers(v, k, id, &refs);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "store: reading the referrers of '%s' failed", id);
	for (size_t i = 0; i < refs.n && !j->stopped; i++) {
		const rf_entry *e = rf_slot(v->ov, refs.ids[i]);
		if (e != NULL && e->id != NULL)
			continue; /* deleted or rewritten by the write: judged by its end state */
		st_kind rk = st_kind_of(v->t, refs.ids[i]);
		ProtobufCMessage *rec = rk ? st_load(v->t, rk, refs.ids[i], v->a) : NULL;
		if (rec == NULL)
			continue; /* an index entry of a record gone: nothing refers */
		j->d.op = op;
		j->d.by_delete = true;
		j->d.deleted = id;
		j->d.deleted_kind = k;
		j->only = id;
		rf_judge_record(j, rk, rec_id(rec), rec);
	}
	j->only = NULL;
	return ANNALS_OK;
}

/* ---- entry points ------------------------------------------------------------------- */

int rf_check_ops(st_txn *t, const Annals__V1__Op *const *ops, size_t n, ar_arena *a, rf_report_fn fn,
                 void *ctx, st_err *err)
{
	rf_overlay ov;
	rf_overlay_build(&ov, ops, n, a);
	rf_view v = {.t = t, .ov = &ov, .a = a};
	rf_judge j = {.v = &v, .fn = fn, .ctx = ctx};
	/* first what the write puts, then what its deletes leave behind, each in op order */
	for (size_t i = 0; i < n && !j.stopped; i++) {
		const char *id;
		st_kind kind;
		const ProtobufCMessage *rec = rf_op_record(ops[i], &id, &kind);
		const rf_entry *e = id ? rf_slot(&ov, id) : NULL;
		if (rec == NULL || e == NULL || e->op != i)
			continue; /* a delete, or a put a later op replaces */
		j.d.op = i;
		j.d.by_delete = false;
		rf_judge_record(&j, kind, id, rec);
	}
	for (size_t i = 0; i < n && !j.stopped; i++) {
		const char *id;
		st_kind kind;
		const ProtobufCMessage *rec = rf_op_record(ops[i], &id, &kind);
		const rf_entry *e = id ? rf_slot(&ov, id) : NULL;
		if (rec != NULL || id == NULL || e == NULL || e->op != i)
			continue; /* a put, or a delete a later put undoes */
		int rc = rf_check_delete(&j, i, id, kind, err);
		if (rc != ANNALS_OK)
			return rc;
	}
	return ANNALS_OK;
}

typedef struct rf_store_scan {
	rf_view v;
	rf_judge j;
	st_kind kind;
	ar_arena scratch;
	uint64_t records;
	int bad; /* a stored record that does not parse */
	char bad_id[VAL_ID_MAX + 1];
} rf_store_scan;

static int rf_store_cb(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	rf_store_scan *s = ctx;
	ar_reset(&s->scratch); /* one record at a time: the reporter copies what it keeps */
	ProtobufCMessage *rec = rec_unpack(s->kind, data, len, &s->scratch);
	s->records++;
	if (rec == NULL) {
		s->bad = 1;
		snprintf(s->bad_id, sizeof(s->bad_id), "%s", id);
		return 1;
	}
	return rf_judge_record(&s->j, s->kind, rec_id(rec), rec);
}

int rf_check_store(st_txn *t, ar_arena *a, rf_report_fn fn, void *ctx, uint64_t *records, st_err *err)
{
	(void)a;
	static const st_kind kinds[] = {ST_ENTITY, ST_EVENT, ST_RELATION, ST_DOCUMENT};
	rf_store_scan s = {.v = {.t = t}};
	ar_init(&s.scratch);
	s.v.a = &s.scratch;
	s.j = (rf_judge){.v = &s.v, .fn = fn, .ctx = ctx};
	int rc = ANNALS_OK;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && rc == ANNALS_OK && !s.j.stopped && !s.bad;
	     i++) {
		s.kind = kinds[i];
		rc = st_scan_kind(t, kinds[i], "", rf_store_cb, &s);
	}
	ar_free(&s.scratch);
	*records = s.records;
	if (s.bad)
		return st_errf(err, ANNALS_DATA_LOSS, "%s '%s': stored record does not parse",
		               rec_kind_name(s.kind), s.bad_id);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "reading the store for the check failed");
	return ANNALS_OK;
}

/* ---- the write path's answer ---------------------------------------------------------- */

typedef struct rf_first {
	const st_write *w;
	const Annals__V1__Op *const *ops;
	ar_arena *a;
	const char *msg;
	int code;
	size_t n;
} rf_first;

static const char *rf_op_name(const Annals__V1__Op *op)
{
	switch (op->op_case) {
	case ANNALS__V1__OP__OP_PUT_ENTITY:
		return "put_entity";
	case ANNALS__V1__OP__OP_PUT_EVENT:
		return "put_event";
	case ANNALS__V1__OP__OP_PUT_RELATION:
		return "put_relation";
	case ANNALS__V1__OP__OP_PUT_DOCUMENT:
		return "put_document";
	default:
		return "delete";
	}
}

/* The first problem becomes the message, with the path the request's
 * other errors use ("relation.subject", "ops[3].put_relation.subject");
 * the others are counted. */
static int rf_first_cb(void *ctx, const rf_dangling *d)
{
	rf_first *f = ctx;
	if (f->n++ > 0)
		return 0;
	const char *where = f->w->op == ST_BATCH
	                        ? ar_printf(f->a, "ops[%zu].%s", d->op, rf_op_name(f->ops[d->op]))
	                    : d->by_delete ? ""
	                                   : rec_kind_name(d->kind);
	if (!d->by_delete) {
		f->code = ANNALS_INVALID_ARGUMENT;
		f->msg = ar_printf(f->a, "%s.%s: %s", where, d->path, d->problem);
		return 0;
	}
	f->code = ANNALS_FAILED_PRECONDITION;
	f->msg = ar_printf(f->a,
	                   "%s%s%s \"%s\" is still referred to: %s \"%s\" names it in %s; delete or rewrite "
	                   "the referrers first, or in the same Batch",
	                   where, where[0] ? ": " : "", rec_kind_name(d->deleted_kind), d->deleted,
	                   rec_kind_name(d->kind), d->record, d->path);
	return 0;
}

int rf_check_write(st_txn *t, const st_write *w, ar_arena *a, st_err *err)
{
	Annals__V1__Op one = ANNALS__V1__OP__INIT, *ops1[1] = {&one};
	Annals__V1__RecordRef ref = ANNALS__V1__RECORD_REF__INIT;
	const Annals__V1__Op *const *ops = (const Annals__V1__Op *const *)ops1;
	size_t n = 1;
	if (w->op == ST_BATCH) {
		const Annals__V1__BatchRequest *b = (const void *)w->req;
		ops = (const Annals__V1__Op *const *)b->ops;
		n = b->n_ops;
	} else if (w->op == ST_DELETE) {
		const Annals__V1__DeleteRequest *d = (const void *)w->req;
		ref.kind = (Annals__V1__RecordKind)w->kind;
		ref.id = d->id;
		one.op_case = ANNALS__V1__OP__OP_DELETE;
		one.delete_ = &ref;
	} else {
		switch (w->kind) {
		case ST_ENTITY:
			one.op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
			one.put_entity = ((const Annals__V1__PutEntityRequest *)w->req)->entity;
			break;
		case ST_EVENT:
			one.op_case = ANNALS__V1__OP__OP_PUT_EVENT;
			one.put_event = ((const Annals__V1__PutEventRequest *)w->req)->event;
			break;
		case ST_RELATION:
			one.op_case = ANNALS__V1__OP__OP_PUT_RELATION;
			one.put_relation = ((const Annals__V1__PutRelationRequest *)w->req)->relation;
			break;
		case ST_DOCUMENT:
			one.op_case = ANNALS__V1__OP__OP_PUT_DOCUMENT;
			one.put_document = ((const Annals__V1__PutDocumentRequest *)w->req)->document;
			break;
		}
	}
	rf_first f = {.w = w, .ops = ops, .a = a};
	int rc = rf_check_ops(t, ops, n, a, rf_first_cb, &f, err);
	if (rc != ANNALS_OK || f.n == 0)
		return rc;
	if (f.n > 1)
		return st_errf(err, f.code, "%.420s (and %zu more dangling reference%s)", f.msg, f.n - 1,
		               f.n == 2 ? "" : "s");
	return st_errf(err, f.code, "%.470s", f.msg);
}

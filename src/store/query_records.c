/*
 * st_q_ — the plain record queries: list and find entities, list events,
 * relations and documents, and the change feed.
 *
 * Paging: page_size defaults to 100 and is capped at 1000 (larger asks are
 * cut, not refused). A page token is opaque to clients: one letter naming
 * the walk it belongs to, then the hex of the key to resume after. A page
 * is full when page_size items are taken and one more matching item
 * exists; only then is next_page_token set, so an empty token means the end.
 */
#include <stdio.h>
#include <string.h>

#include "common/date.h"
#include "common/pbwire.h"
#include "common/validate.h"
#include "store/query.h"
#include "store/store_int.h"

#define Q_PAGE_DEFAULT    100
#define Q_PAGE_MAX        1000
#define Q_FIND_DEFAULT    50
#define Q_CHANGES_DEFAULT 100

static size_t q_size(uint32_t asked, size_t def)
{
	if (asked == 0)
		return def;
	return asked > Q_PAGE_MAX ? Q_PAGE_MAX : asked;
}

/* ---- page tokens ------------------------------------------------------------------- */

static char *q_token(ar_arena *a, char walk, const void *key, size_t n)
{
	char *t = ar_alloc(a, 2 * n + 2);
	t[0] = walk;
	key_hex(key, n, t + 1, 2 * n + 1);
	return t;
}

/* The resume key of a token for this walk; *has false for no token. */
static int q_untoken(const char *token, char walk, st_key *out, bool *has, st_err *err)
{
	key_init(out);
	*has = token != NULL && token[0] != '\0';
	if (!*has)
		return ANNALS_OK;
	if (token[0] != walk || key_unhex(token + 1, out) != 0 || out->n == 0)
		return st_errf(err, ANNALS_INVALID_ARGUMENT,
		               "page_token: not a token of this query (pass back next_page_token unchanged)");
	return ANNALS_OK;
}

/* ---- one page under construction ------------------------------------------------------ */

typedef struct q_page {
	st_txn *t;
	ar_arena *a;
	void ***items; /* the reply's repeated field */
	size_t *n_items;
	const char *participant, *place, *event_type; /* filters: events */
	const char *object, *predicate;               /* filters: relations */
	size_t want, got;
	st_key last;                /* resume key of the last item taken */
	int type;                   /* filter: entities */
	int status;                 /* filter: events */
	int32_t from_lo;            /* filter: events */
	bool dated_only;            /* filter: events */
	bool more;                  /* one more matching item exists */
	char walk;                  /* token letter */
	char cursor[ST_CURSOR_MAX]; /* events: cursor of the one visited */
	/* Lean (not a full-scan snapshot): items go into the reply as their
	 * stored bytes (pbwire.h), spliced into reply's repeated `field`, and a
	 * record is decoded only as far as a filter needs, if at all. */
	bool lean;
	ProtobufCMessage *reply;
	const char *field;
} q_page;

/* A record for a filter to read: whole, or in a lean page without the
 * fields no filter reads (evidence, sentences, names...: most of its bytes). */
static ProtobufCMessage *q_decode(q_page *p, st_kind k, const uint8_t *data, size_t len)
{
	static const uint64_t lean_skip[] = {
	    [ST_ENTITY] = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6), /* names... evidence */
	    [ST_EVENT] = (1u << 8) | (1u << 9) | (1u << 10),             /* links, attributes, evidence */
	    [ST_RELATION] = 1u << 7,                                     /* evidence */
	    [ST_DOCUMENT] = 1u << 7,                                     /* sentences */
	};
	if (!p->lean)
		return rec_unpack(k, data, len, p->a);
	uint8_t *buf = ar_alloc(p->a, len ? len : 1);
	size_t n = pbw_filter(data, len, lean_skip[k], buf);
	return n == (size_t)-1 ? rec_unpack(k, data, len, p->a) : rec_unpack(k, buf, n, p->a);
}

/* Takes a matching item, or notes that the page is full. 1: stop. m is the
 * record decoded (NULL in a lean page with no filter), data its stored bytes. */
static int q_take(q_page *p, ProtobufCMessage *m, const uint8_t *data, size_t len, const void *resume,
                  size_t resume_n)
{
	if (p->got == p->want) {
		p->more = true;
		return 1;
	}
	if (p->lean)
		pbw_splice_item(p->a, p->reply, p->field, data, len);
	else
		ar_push(p->a, p->items, p->n_items, m);
	p->got++;
	key_init(&p->last);
	key_bytes(&p->last, resume, resume_n);
	return 0;
}

static char *q_next_token(q_page *p)
{
	return p->more ? q_token(p->a, p->walk, p->last.b, p->last.n) : (char *)"";
}

/* ---- entities ------------------------------------------------------------------------- */

/* Whether the entity whose bytes these are passes the page's type filter;
 * *m: it decoded (NULL when a lean page has no filter to read it for). */
static bool q_entity_pass(q_page *p, const uint8_t *data, size_t len, ProtobufCMessage **m)
{
	*m = NULL;
	if (p->lean && p->type == 0)
		return true;
	Annals__V1__Entity *e = (Annals__V1__Entity *)q_decode(p, ST_ENTITY, data, len);
	*m = e ? &e->base : NULL;
	return e != NULL && (p->type == 0 || (int)e->type == p->type);
}

static int q_entity_cb(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	q_page *p = ctx;
	ProtobufCMessage *m;
	return q_entity_pass(p, data, len, &m) ? q_take(p, m, data, len, id, strlen(id)) : 0;
}

static int q_entity_name_cb(void *ctx, const MDB_val *key, const char *id, const uint8_t *data, size_t len)
{
	q_page *p = ctx;
	(void)id;
	ProtobufCMessage *m;
	return q_entity_pass(p, data, len, &m) ? q_take(p, m, data, len, key->mv_data, key->mv_size) : 0;
}

ST_QUERY(list_entities, ListEntitiesRequest, EntityPage)
{
	q_page p = {.t = t,
	            .a = a,
	            .want = q_size(in->page_size, Q_PAGE_DEFAULT),
	            .items = (void ***)&out->entities,
	            .n_items = &out->n_entities,
	            .lean = !st_txn_full_scans(t),
	            .reply = &out->base,
	            .field = "entities",
	            .type = in->type};
	st_key resume;
	bool has;
	int rc;
	if (in->name_prefix[0] != '\0') {
		p.walk = 'n'; /* by name, through ix_names */
		rc = q_untoken(in->page_token, p.walk, &resume, &has, err);
		if (rc == ANNALS_OK)
			rc = st_scan_names_from(t, in->name_prefix, true, has ? &resume : NULL,
			                        q_entity_name_cb, &p);
	} else {
		p.walk = in->type ? 't' : 'i'; /* by type, or all in id order */
		rc = q_untoken(in->page_token, p.walk, &resume, &has, err);
		char after[VAL_ID_MAX + 1] = "";
		if (has) {
			MDB_val v = key_val(&resume);
			key_tail_id(&v, 0, after, sizeof(after));
		}
		if (rc == ANNALS_OK)
			rc = in->type ? st_scan_entities_by_type(t, in->type, after, q_entity_cb, &p)
			              : st_scan_kind(t, ST_ENTITY, after, q_entity_cb, &p);
	}
	if (rc != ANNALS_OK)
		return err->msg[0] ? rc : st_errf(err, rc, "list entities failed");
	out->next_page_token = q_next_token(&p);
	return ANNALS_OK;
}

ST_QUERY(find_entities, FindEntitiesRequest, EntityPage)
{
	if (in->name[0] == '\0')
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "name: required");
	q_page p = {.t = t,
	            .a = a,
	            .want = q_size(in->limit, Q_FIND_DEFAULT),
	            .items = (void ***)&out->entities,
	            .n_items = &out->n_entities,
	            .lean = !st_txn_full_scans(t),
	            .reply = &out->base,
	            .field = "entities",
	            .type = in->type};
	int rc = st_scan_names_from(t, in->name, in->prefix, NULL, q_entity_name_cb, &p);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "find entities failed");
	out->next_page_token = ""; /* a limit, not a page: no continuation */
	return ANNALS_OK;
}

/* ---- events ------------------------------------------------------------------------------ */

/* An entity given by id or by unique name. A well-formed id that names
 * no entity is still used as is: events may refer to entities not (yet)
 * imported. */
static int q_entity_id(st_txn *t, const char *ref, const char *field, ar_arena *a, const char **id,
                       st_err *err)
{
	*id = NULL;
	if (ref == NULL || ref[0] == '\0')
		return ANNALS_OK;
	Annals__V1__Entity *e = NULL;
	int rc = st_entity_ref(t, ref, field, a, &e, err);
	if (rc == ANNALS_OK && e != NULL) {
		*id = e->id;
		return ANNALS_OK;
	}
	if (rc == ANNALS_NOT_FOUND && val_is_id(ref)) {
		*id = ref;
		err->msg[0] = '\0';
		return ANNALS_OK;
	}
	return rc;
}

typedef struct q_anchor_ctx {
	st_txn *t;
	ar_arena *a;
} q_anchor_ctx;

static const Annals__V1__Date *q_anchor(void *ctx, const char *anchor)
{
	q_anchor_ctx *qa = ctx;
	return st_anchor_date(qa->t, anchor, qa->a);
}

/* The first (lo) or last day a request Date stands for; relative dates
 * resolve against the store ("doc:D" = D's publication date). */
static int q_day(st_txn *t, ar_arena *a, const Annals__V1__Date *d, const char *field, bool lo, int32_t *out,
                 st_err *err)
{
	*out = lo ? DATE_NEG_INF : DATE_POS_INF;
	if (d == NULL)
		return ANNALS_OK;
	char msg[sizeof(err->msg)];
	if (val_date(d, field, msg, sizeof(msg)) != 0)
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "%s", msg);
	Annals__V1__Date copy = *d; /* resolution writes only scalars */
	q_anchor_ctx qa = {t, a};
	date_resolve(&copy, q_anchor, &qa);
	int32_t day_lo, day_hi;
	if (!date_range(&copy, &day_lo, &day_hi))
		return st_errf(err, ANNALS_INVALID_ARGUMENT,
		               "%s: cannot be resolved (its anchor '%.200s' has no known date)", field,
		               copy.anchor);
	*out = lo ? day_lo : day_hi;
	return ANNALS_OK;
}

static bool q_has_participant(const Annals__V1__Event *e, const char *id)
{
	for (size_t i = 0; i < e->n_participants; i++)
		if (strcmp(e->participants[i]->entity, id) == 0)
			return true;
	return false;
}

static int q_event_cb(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	q_page *p = ctx;
	(void)id;
	Annals__V1__Event *e = (Annals__V1__Event *)q_decode(p, ST_EVENT, data, len);
	if (e == NULL)
		return 0;
	int32_t lo, hi;
	bool dated = date_range(e->when, &lo, &hi);
	if ((p->dated_only && !dated) || (dated && hi < p->from_lo))
		return 0;
	if ((p->participant && !q_has_participant(e, p->participant)) ||
	    (p->place && strcmp(e->place, p->place) != 0) ||
	    (p->event_type && strcmp(e->type, p->event_type) != 0) ||
	    (p->status && (int)e->status != p->status))
		return 0;
	/* the cursor of this event, as st_scan_events set it: hex of day+id */
	st_key k;
	if (key_unhex(p->cursor, &k) != 0)
		return 1;
	return q_take(p, &e->base, data, len, k.b, k.n);
}

/* Events are indexed by their earliest day; one that started up to
 * `span` days before `from` can still overlap it. */
static int32_t q_scan_start(st_txn *t, int32_t from_lo)
{
	uint64_t span = 0;
	if (from_lo != DATE_NEG_INF)
		dp_read_key(t, DB_META, "event_span", 10);
	if (from_lo == DATE_NEG_INF || st_meta_get_u64(t->s, t->txn, "event_span", &span) != ANNALS_OK)
		return DATE_NEG_INF;
	int64_t start = (int64_t)from_lo - (int64_t)span;
	return start < DATE_NEG_INF ? DATE_NEG_INF : (int32_t)start;
}

ST_QUERY(list_events, ListEventsRequest, EventPage)
{
	q_page p = {.t = t,
	            .a = a,
	            .want = q_size(in->page_size, Q_PAGE_DEFAULT),
	            .walk = 'e',
	            .items = (void ***)&out->events,
	            .n_items = &out->n_events,
	            .lean = !st_txn_full_scans(t),
	            .reply = &out->base,
	            .field = "events",
	            .event_type = in->type[0] ? in->type : NULL,
	            .status = in->status};
	int32_t to_hi;
	int rc = q_entity_id(t, in->participant, "participant", a, &p.participant, err);
	if (rc == ANNALS_OK)
		rc = q_entity_id(t, in->place, "place", a, &p.place, err);
	if (rc == ANNALS_OK)
		rc = q_day(t, a, in->from, "from", true, &p.from_lo, err);
	if (rc == ANNALS_OK)
		rc = q_day(t, a, in->to, "to", false, &to_hi, err);
	if (rc != ANNALS_OK)
		return rc;
	p.dated_only = in->from != NULL || in->to != NULL;
	st_key resume;
	bool has;
	rc = q_untoken(in->page_token, p.walk, &resume, &has, err);
	if (rc != ANNALS_OK)
		return rc;
	char cursor[ST_CURSOR_MAX] = "";
	if (has)
		key_hex(resume.b, resume.n, cursor, sizeof(cursor));
	const char *entity = p.participant ? p.participant : p.place;
	rc = st_scan_events(t, entity, q_scan_start(t, p.from_lo), to_hi, cursor, p.cursor, q_event_cb, &p);
	if (rc == ANNALS_INVALID_ARGUMENT)
		return st_errf(err, rc, "page_token: not a token of this query");
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "list events failed");
	out->next_page_token = q_next_token(&p);
	return ANNALS_OK;
}

/* ---- relations ---------------------------------------------------------------------------- */

static int q_relation_key_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	(void)val;
	q_page *p = ctx;
	const char *sep = memrchr(key->mv_data, '\0', key->mv_size);
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, sep ? (size_t)(sep - (const char *)key->mv_data) + 1 : 0, id, sizeof(id));
	const uint8_t *data;
	size_t len;
	if (st_get(p->t, ST_RELATION, id, &data, &len) != ANNALS_OK)
		return 0;
	Annals__V1__Relation *r = NULL;
	if (!p->lean || p->object != NULL) { /* the predicate, if any, is in the index key */
		r = (Annals__V1__Relation *)q_decode(p, ST_RELATION, data, len);
		if (r == NULL || (p->object && strcmp(r->object, p->object) != 0))
			return 0;
	}
	return q_take(p, r ? &r->base : NULL, data, len, key->mv_data, key->mv_size);
}

static int q_relation_cb(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	q_page *p = ctx;
	Annals__V1__Relation *r = NULL;
	if (!p->lean || p->predicate != NULL) {
		r = (Annals__V1__Relation *)q_decode(p, ST_RELATION, data, len);
		if (r == NULL || (p->predicate && strcmp(r->predicate, p->predicate) != 0))
			return 0;
	}
	return q_take(p, r ? &r->base : NULL, data, len, id, strlen(id));
}

/* Relations of one entity (as subject, or as object) through its index. */
static int q_relations_by(q_page *p, enum st_dbi db, const char *entity, const char *predicate,
                          const char *token, st_err *err)
{
	if (strlen(entity) > VAL_ID_MAX || (predicate && strlen(predicate) > VAL_WORD_MAX))
		return ANNALS_OK; /* cannot be stored, so matches nothing */
	st_key prefix, resume;
	bool has;
	int rc = q_untoken(token, p->walk, &resume, &has, err);
	if (rc != ANNALS_OK)
		return rc;
	key_init(&prefix);
	key_str(&prefix, entity);
	key_sep(&prefix);
	if (predicate) {
		key_str(&prefix, predicate);
		key_sep(&prefix);
	}
	rc = st_scan_prefix(p->t, db, &prefix, has ? &resume : NULL, q_relation_key_cb, p);
	return rc == ANNALS_OK ? rc : st_errf(err, rc, "list relations failed");
}

ST_QUERY(list_relations, ListRelationsRequest, RelationPage)
{
	q_page p = {.t = t,
	            .a = a,
	            .want = q_size(in->page_size, Q_PAGE_DEFAULT),
	            .items = (void ***)&out->relations,
	            .n_items = &out->n_relations,
	            .lean = !st_txn_full_scans(t),
	            .reply = &out->base,
	            .field = "relations",
	            .predicate = in->predicate[0] ? in->predicate : NULL};
	const char *subject, *object;
	int rc = q_entity_id(t, in->subject, "subject", a, &subject, err);
	if (rc == ANNALS_OK)
		rc = q_entity_id(t, in->object, "object", a, &object, err);
	if (rc != ANNALS_OK)
		return rc;
	if (subject != NULL) {
		p.walk = 's';
		p.object = object;
		rc = q_relations_by(&p, DB_SUBJECTS, subject, p.predicate, in->page_token, err);
	} else if (object != NULL) {
		p.walk = 'o';
		rc = q_relations_by(&p, DB_OBJECTS, object, p.predicate, in->page_token, err);
	} else {
		p.walk = 'i';
		st_key resume;
		bool has;
		char after[VAL_ID_MAX + 1] = "";
		rc = q_untoken(in->page_token, p.walk, &resume, &has, err);
		if (has) {
			MDB_val v = key_val(&resume);
			key_tail_id(&v, 0, after, sizeof(after));
		}
		if (rc == ANNALS_OK && st_scan_kind(t, ST_RELATION, after, q_relation_cb, &p) != ANNALS_OK)
			rc = st_errf(err, ANNALS_INTERNAL, "list relations failed");
	}
	if (rc != ANNALS_OK)
		return rc;
	out->next_page_token = q_next_token(&p);
	return ANNALS_OK;
}

/* ---- documents ------------------------------------------------------------------------------ */

static int q_document_cb(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	q_page *p = ctx;
	ProtobufCMessage *d = p->lean ? NULL : rec_unpack(ST_DOCUMENT, data, len, p->a);
	return d != NULL || p->lean ? q_take(p, d, data, len, id, strlen(id)) : 0;
}

ST_QUERY(list_documents, ListDocumentsRequest, DocumentPage)
{
	q_page p = {.t = t,
	            .a = a,
	            .want = q_size(in->page_size, Q_PAGE_DEFAULT),
	            .walk = 'd',
	            .items = (void ***)&out->documents,
	            .n_items = &out->n_documents,
	            .lean = !st_txn_full_scans(t),
	            .reply = &out->base,
	            .field = "documents"};
	st_key resume;
	bool has;
	char after[VAL_ID_MAX + 1] = "";
	int rc = q_untoken(in->page_token, p.walk, &resume, &has, err);
	if (rc != ANNALS_OK)
		return rc;
	if (has) {
		MDB_val v = key_val(&resume);
		key_tail_id(&v, 0, after, sizeof(after));
	}
	rc = st_scan_kind(t, ST_DOCUMENT, after, q_document_cb, &p);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "list documents failed");
	out->next_page_token = q_next_token(&p);
	return ANNALS_OK;
}

/* ---- the change feed ------------------------------------------------------------------------- */

typedef struct q_changes {
	ar_arena *a;
	Annals__V1__ChangesReply *out;
	size_t want;
	int kind;
	const char *id;
	bool broken;
} q_changes;

static int q_change_cb(void *ctx, uint64_t revision, const uint8_t *data, size_t len)
{
	q_changes *q = ctx;
	(void)revision;
	Annals__V1__ChangeSet *cs = annals__v1__change_set__unpack(ar_pbc(q->a), len, data);
	if (cs == NULL) {
		q->broken = true;
		return 1;
	}
	if (q->kind != 0 || q->id != NULL) {
		/* keep only the matching changes; skip sets left empty */
		size_t kept = 0;
		for (size_t i = 0; i < cs->n_changes; i++) {
			const Annals__V1__Change *c = cs->changes[i];
			if ((q->kind == 0 || (int)c->kind == q->kind) &&
			    (q->id == NULL || strcmp(c->id, q->id) == 0))
				cs->changes[kept++] = cs->changes[i];
		}
		cs->n_changes = kept;
		if (kept == 0)
			return 0;
	}
	AR_PUSH(q->a, q->out->changes, q->out->n_changes, cs);
	return q->out->n_changes >= q->want;
}

ST_QUERY(changes, ChangesRequest, ChangesReply)
{
	out->revision = st_txn_revision(t);
	out->oldest = st_oldest_change(t);
	/* since = oldest - 1 still sees every change after it; older is a gap */
	if (out->oldest > 0 && in->since < out->oldest - 1)
		return st_errf(err, ANNALS_OUT_OF_RANGE,
		               "since: revision %llu is too old; the oldest change set still kept is "
		               "revision %llu (ask with since >= %llu, after re-reading the records)",
		               (unsigned long long)in->since, (unsigned long long)out->oldest,
		               (unsigned long long)(out->oldest - 1));
	if ((int)in->kind < 0 || (int)in->kind > ST_DOCUMENT)
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "kind: %d is not a RecordKind", (int)in->kind);
	q_changes q = {.a = a,
	               .out = out,
	               .want = q_size(in->limit, Q_CHANGES_DEFAULT),
	               .kind = in->kind,
	               .id = in->id[0] ? in->id : NULL};
	int rc = st_scan_changes(t, in->since, q_change_cb, &q);
	if (rc == ANNALS_OK && q.broken)
		rc = ANNALS_DATA_LOSS;
	return rc == ANNALS_OK ? rc : st_errf(err, rc, "reading the change log failed");
}

/*
 * rs_ — resolving relative dates, on write.
 *
 * A Date like "yesterday" in document D is {anchor: "doc:D", offset_days: -1}.
 * Whenever a record is written, every Date in it is resolved against the
 * anchors as they stand in the same transaction (so an anchor written
 * earlier in the same group or Batch counts). ix_anchors remembers who
 * is anchored on what, so when D (or an event) is written later, the
 * records anchored on it are resolved again and rewritten in the same
 * revision: they show up in the same ChangeSet.
 *
 * Chains (an event anchored on an event anchored on a document) are
 * followed up to RS_DEPTH levels, each anchor at most once per logical
 * write, so cycles end.
 */
#include <string.h>

#include "common/date.h"
#include "common/validate.h"
#include "store/store_int.h"

#define RS_DEPTH       DATE_ANCHOR_DEPTH
#define RS_ANCHOR_MAX  (VAL_ID_MAX + 8) /* "event:" + id + \0 */
#define RS_MAX_ANCHORS 4096             /* per logical write; beyond, chains stop */

/* The one rule for what an anchor names, at write time (here) and at
 * query time (kn_anchor_date) alike: "doc:X" is the Document "doc:X" or,
 * failing that, "X"; "event:X" is the Event "X" or, failing that,
 * "event:X". rec_anchor gives every document and event the anchor that
 * names it under this rule, so ix_anchors finds what is anchored on it. */
const Annals__V1__Date *st_anchor_date(st_txn *t, const char *anchor, ar_arena *a)
{
	if (anchor == NULL)
		return NULL;
	if (strncmp(anchor, "doc:", 4) == 0 && anchor[4] != '\0') {
		Annals__V1__Document *d = st_document_head(t, anchor, a);
		if (d == NULL)
			d = st_document_head(t, anchor + 4, a);
		return d ? d->published : NULL;
	}
	if (strncmp(anchor, "event:", 6) == 0 && anchor[6] != '\0') {
		Annals__V1__Date *d = st_event_when(t, anchor + 6, a);
		return d != NULL ? d : st_event_when(t, anchor, a);
	}
	return NULL;
}

typedef struct rs_lookup_ctx {
	st_txn *t;
	ar_arena *a;
	const char *self; /* the record's own anchor: never its own anchor */
} rs_lookup_ctx;

static const Annals__V1__Date *rs_lookup(void *ctx, const char *anchor)
{
	rs_lookup_ctx *lc = ctx;
	if (lc->self != NULL && strcmp(anchor, lc->self) == 0)
		return NULL;
	return st_anchor_date(lc->t, anchor, lc->a);
}

static void rs_date_cb(void *ctx, ProtobufCMessage *m)
{
	date_resolve((Annals__V1__Date *)m, rs_lookup, ctx);
}

void rs_resolve_record(st_txn *t, st_kind k, ProtobufCMessage *rec, ar_arena *a)
{
	char self[RS_ANCHOR_MAX];
	rs_lookup_ctx lc = {t, a, rec_anchor(k, rec_id(rec), self, sizeof(self))};
	st_walk(rec, &annals__v1__date__descriptor, rs_date_cb, &lc);
}

/* ---- re-resolving dependents --------------------------------------------------- */

typedef struct rs_ids {
	char **ids;
	size_t n;
	ar_arena *a;
	size_t skip;
} rs_ids;

static int rs_collect_cb(void *ctx, const MDB_val *key, const MDB_val *val)
{
	(void)val;
	rs_ids *l = ctx;
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, l->skip, id, sizeof(id));
	AR_PUSH(l->a, l->ids, l->n, ar_strdup(l->a, id));
	return 0;
}

/* Resolves one stored record again; rewrites it when that changes it. */
static int rs_rewrite(st_wctx *c, const char *id, st_kind *kind, bool *changed)
{
	*changed = false;
	st_kind k = st_kind_of(&c->rd, id);
	*kind = k;
	const uint8_t *data;
	size_t len;
	if (k == 0 || st_get(&c->rd, k, id, &data, &len) != ANNALS_OK)
		return ANNALS_OK; /* deleted meanwhile: nothing to do */
	ProtobufCMessage *old = rec_unpack(k, data, len, c->a);
	ProtobufCMessage *copy = rec_unpack(k, data, len, c->a);
	if (old == NULL || copy == NULL)
		return st_errf(c->err, ANNALS_DATA_LOSS, "%s '%s': stored record does not parse",
		               rec_kind_name(k), id);
	rs_resolve_record(&c->rd, k, copy, c->a);
	size_t n;
	const uint8_t *packed = rec_pack(copy, &n, c->a); /* revision still the stored one */
	if (n == len && memcmp(packed, data, n) == 0)
		return ANNALS_OK;
	*changed = true;
	return wr_store(c, k, copy, old);
}

static bool rs_seen(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* Re-resolves the records anchored on anchors[from..to), queueing the
 * anchors of those that changed. */
static int rs_level(st_wctx *c, const char *root, char ***anchors, size_t *n, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		rs_ids l = {.a = c->a};
		st_key prefix;
		key_init(&prefix);
		key_str(&prefix, (*anchors)[i]);
		key_sep(&prefix);
		l.skip = prefix.n;
		/* collect first: the rewrites below change ix_anchors under a cursor */
		int rc = st_scan_prefix(&c->rd, DB_ANCHORS, &prefix, NULL, rs_collect_cb, &l);
		for (size_t j = 0; rc == ANNALS_OK && j < l.n; j++) {
			st_kind k;
			bool changed;
			char buf[RS_ANCHOR_MAX];
			if (strcmp(l.ids[j], root) == 0)
				continue; /* the record just written resolved itself */
			rc = rs_rewrite(c, l.ids[j], &k, &changed);
			const char *next = changed ? rec_anchor(k, l.ids[j], buf, sizeof(buf)) : NULL;
			if (rc == ANNALS_OK && next != NULL && *n < RS_MAX_ANCHORS &&
			    !rs_seen(*anchors, *n, next))
				AR_PUSH(c->a, *anchors, *n, ar_strdup(c->a, next));
		}
		if (rc != ANNALS_OK)
			return rc;
	}
	return ANNALS_OK;
}

int rs_dependents(st_wctx *c, st_kind k, const char *id)
{
	char buf[RS_ANCHOR_MAX];
	const char *anchor = rec_anchor(k, id, buf, sizeof(buf));
	if (anchor == NULL)
		return ANNALS_OK;
	char **anchors = NULL;
	size_t n = 0, from = 0;
	AR_PUSH(c->a, anchors, n, ar_strdup(c->a, anchor));
	for (int depth = 0; depth < RS_DEPTH && from < n; depth++) {
		size_t to = n;
		int rc = rs_level(c, id, &anchors, &n, from, to);
		if (rc != ANNALS_OK)
			return rc;
		from = to;
	}
	return ANNALS_OK;
}

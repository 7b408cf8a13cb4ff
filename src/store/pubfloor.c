/*
 * ix_pubfloor: its keys (from the record alone) and the scan the
 * derivation of a document's publication bounds reads (pubfloor.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "common/pubrule.h"
#include "common/validate.h"
#include "store/pubfloor.h"

/* ---- keys ------------------------------------------------------------------- */

/* One document a record cites, and the first sentence it cites it at. */
typedef struct pf_doc {
	const char *doc;
	uint32_t sentence;
} pf_doc;

typedef struct pf_docs {
	pf_doc **items;
	size_t n;
	ar_arena *a;
} pf_docs;

/* Every Evidence anywhere in the record, as ix_cites counts them. */
static void pf_evidence_cb(void *ctx, ProtobufCMessage *m)
{
	pf_docs *ds = ctx;
	const Annals__V1__Evidence *ev = (const Annals__V1__Evidence *)m;
	if (ev->document == NULL || ev->document[0] == '\0')
		return;
	uint32_t first = 0;
	for (size_t i = 0; i < ev->n_sentences; i++)
		if (i == 0 || ev->sentences[i] < first)
			first = ev->sentences[i];
	for (size_t i = 0; i < ds->n; i++)
		if (strcmp(ds->items[i]->doc, ev->document) == 0) {
			if (first < ds->items[i]->sentence)
				ds->items[i]->sentence = first;
			return;
		}
	pf_doc *d = ar_alloc(ds->a, sizeof(*d));
	d->doc = ev->document;
	d->sentence = first;
	AR_PUSH(ds->a, ds->items, ds->n, d);
}

typedef struct pf_offers {
	const char *doc;
	bool absolute, relative;
	int32_t lo; /* the latest first day of an absolute offer */
} pf_offers;

static void pf_offer_cb(void *ctx, const pr_offer *o)
{
	pf_offers *f = ctx;
	int32_t lo, hi;
	if (o->date->anchor != NULL && o->date->anchor[0] != '\0') {
		/* Its day is its anchor's: the query works it out. Unless the
		 * anchor is the document itself ("yesterday" in it): while its
		 * bounds are derived it has no date (else nothing is derived),
		 * so such an offer never counts. st_anchor_date takes an anchor
		 * equal to an existing document's id as that document. */
		if (strcmp(o->date->anchor, f->doc) != 0)
			f->relative = true;
	} else if (date_range(o->date, &lo, &hi) && (!f->absolute || lo > f->lo)) {
		f->absolute = true;
		f->lo = lo;
	}
}

void pf_keys(const ProtobufCMessage *rec, const char *id, ar_arena *a, pf_add_fn add, void *ctx)
{
	const ProtobufCMessageDescriptor *d = rec->descriptor;
	if (d != &annals__v1__event__descriptor && d != &annals__v1__relation__descriptor &&
	    d != &annals__v1__entity__descriptor)
		return;
	pf_docs ds = {.a = a};
	st_walk((ProtobufCMessage *)rec, &annals__v1__evidence__descriptor, pf_evidence_cb, &ds);
	for (size_t i = 0; i < ds.n; i++) {
		pf_offers f = {.doc = ds.items[i]->doc};
		pr_each_offer(rec, ds.items[i]->doc, pf_offer_cb, &f);
		for (int rel = 0; rel < 2; rel++) {
			if (rel ? !f.relative : !f.absolute)
				continue;
			st_key k;
			key_init(&k);
			key_str(&k, ds.items[i]->doc);
			key_sep(&k);
			key_bytes(&k, rel ? "r" : "a", 1);
			if (!rel)
				key_be32(&k, key_day(f.lo));
			key_be32(&k, ds.items[i]->sentence);
			key_str(&k, id);
			add(ctx, &k);
		}
	}
}

/* ---- the scan --------------------------------------------------------------- */

/* A candidate: where ix_cites meets it, and its id. */
typedef struct pf_cand {
	uint32_t sentence;
	char id[VAL_ID_MAX + 1];
} pf_cand;

typedef struct pf_list {
	pf_cand *items;
	size_t n, cap;
} pf_list;

static int pf_push(pf_list *l, const MDB_val *key, size_t skip)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		pf_cand *grown = realloc(l->items, cap * sizeof(*grown));
		if (grown == NULL)
			return ANNALS_RESOURCE_EXHAUSTED;
		l->items = grown;
		l->cap = cap;
	}
	pf_cand *c = &l->items[l->n++];
	c->sentence = rd_be32((const uint8_t *)key->mv_data + skip);
	key_tail_id(key, skip + 4, c->id, sizeof(c->id));
	return ANNALS_OK;
}

static int pf_order(const pf_cand *a, const pf_cand *b)
{
	if (a->sentence != b->sentence)
		return a->sentence < b->sentence ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* The 'a' entries at the greatest day, read backwards from the end of
 * doc's 'a' range; each group comes in (sentence, id) order. */
static int pf_read_top(MDB_cursor *cur, const st_key *a_prefix, pf_list *top)
{
	st_key past = *a_prefix;
	past.b[past.n - 1] = 'b'; /* the first key after every 'a' key */
	MDB_val key = key_val(&past), val;
	int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &val, MDB_PREV)
	                       : mdb_cursor_get(cur, &key, &val, MDB_LAST);
	uint32_t day = 0;
	bool have = false;
	for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &key, &val, MDB_PREV)) {
		if (!key_has_prefix(&key, a_prefix) || key.mv_size < a_prefix->n + 8)
			break;
		uint32_t d = rd_be32((const uint8_t *)key.mv_data + a_prefix->n);
		if (have && d != day)
			break;
		have = true;
		day = d;
		if (pf_push(top, &key, a_prefix->n + 4) != ANNALS_OK)
			return ANNALS_RESOURCE_EXHAUSTED;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, NULL, "ix_pubfloor read");
	for (size_t i = 0, j = top->n; i + 1 < j; i++, j--) { /* read backwards: turn it round */
		pf_cand c = top->items[i];
		top->items[i] = top->items[j - 1];
		top->items[j - 1] = c;
	}
	return ANNALS_OK;
}

static int pf_read_relative(MDB_cursor *cur, const st_key *r_prefix, pf_list *rel)
{
	MDB_val key = key_val(r_prefix), val;
	int rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		if (!key_has_prefix(&key, r_prefix) || key.mv_size < r_prefix->n + 4)
			break;
		if (pf_push(rel, &key, r_prefix->n) != ANNALS_OK)
			return ANNALS_RESOURCE_EXHAUSTED;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, NULL, "ix_pubfloor read");
	return ANNALS_OK;
}

/* Both lists in (sentence, id) order, merged, each record once. */
static int pf_visit_merged(st_txn *t, const pf_list *x, const pf_list *y, st_visit_fn fn, void *ctx)
{
	size_t i = 0, j = 0;
	while (i < x->n || j < y->n) {
		int c = i == x->n ? 1 : j == y->n ? -1 : pf_order(&x->items[i], &y->items[j]);
		const pf_cand *next = c <= 0 ? &x->items[i] : &y->items[j];
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		if (st_txn_expired(t))
			return ANNALS_DEADLINE_EXCEEDED;
		if (fn(ctx, next->id, NULL, 0) != 0)
			break;
	}
	return ANNALS_OK;
}

int st_scan_pub_offers(st_txn *t, const char *document, st_visit_fn fn, void *ctx)
{
	if (t->full_scans)
		return st_scan_citing(t, document, 0, fn, ctx);
	if (document == NULL || strlen(document) > VAL_ID_MAX)
		return ANNALS_OK;
	st_key a_prefix, r_prefix;
	key_init(&a_prefix);
	key_str(&a_prefix, document);
	key_sep(&a_prefix);
	r_prefix = a_prefix;
	key_bytes(&a_prefix, "a", 1);
	key_bytes(&r_prefix, "r", 1);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_PUBFLOOR], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "ix_pubfloor cursor");
	pf_list top = {0}, rel = {0};
	rc = pf_read_top(cur, &a_prefix, &top);
	if (rc == ANNALS_OK)
		rc = pf_read_relative(cur, &r_prefix, &rel);
	mdb_cursor_close(cur);
	if (rc == ANNALS_OK)
		rc = pf_visit_merged(t, &top, &rel, fn, ctx);
	free(top.items);
	free(rel.items);
	return rc;
}

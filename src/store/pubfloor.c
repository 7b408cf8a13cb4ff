/*
 * ix_pubfloor: its entries (from the record alone), their upkeep, and the
 * candidates the derivation of a document's publication bounds reads
 * (layout and why: pubfloor.h).
 */
#include <string.h>

#include "common/date.h"
#include "common/pubrule.h"
#include "common/validate.h"
#include "store/pubfloor.h"

/* ---- entries ------------------------------------------------------------------- */

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
	ar_arena *a;
	bool absolute;
	int32_t lo;     /* the latest first day of an absolute offer */
	uint8_t *dates; /* the relative offers' Dates, each varint n + packed */
	size_t n_dates, cap_dates;
} pf_offers;

static void pf_put_bytes(pf_offers *f, const void *p, size_t n)
{
	if (f->n_dates + n > f->cap_dates) {
		size_t cap = (f->cap_dates + n) * 2;
		uint8_t *grown = ar_alloc(f->a, cap);
		if (f->n_dates)
			memcpy(grown, f->dates, f->n_dates);
		f->dates = grown;
		f->cap_dates = cap;
	}
	memcpy(f->dates + f->n_dates, p, n);
	f->n_dates += n;
}

static void pf_offer_cb(void *ctx, const pr_offer *o)
{
	pf_offers *f = ctx;
	int32_t lo, hi;
	if (o->date->anchor != NULL && o->date->anchor[0] != '\0') {
		/* An anchor equal to the document's id is the document
		 * (st_anchor_date), which has no date while its bounds are
		 * derived (else nothing is derived): such an offer never counts. */
		if (strcmp(o->date->anchor, f->doc) == 0)
			return;
		size_t n = protobuf_c_message_get_packed_size(&o->date->base);
		uint8_t head[10];
		size_t h = 0;
		for (size_t v = n;; v >>= 7) { /* varint n */
			head[h++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
			if (v < 0x80)
				break;
		}
		pf_put_bytes(f, head, h);
		uint8_t *packed = ar_alloc(f->a, n ? n : 1);
		protobuf_c_message_pack(&o->date->base, packed);
		pf_put_bytes(f, packed, n);
	} else if (date_range(o->date, &lo, &hi) && (!f->absolute || lo > f->lo)) {
		f->absolute = true;
		f->lo = lo;
	}
}

static void pf_key_head(st_key *k, const char *doc, char part)
{
	key_init(k);
	key_str(k, doc);
	key_sep(k);
	key_bytes(k, &part, 1);
}

void pf_entries(const ProtobufCMessage *rec, const char *id, ar_arena *a, pf_add_fn add, void *ctx)
{
	if (rec == NULL)
		return;
	const ProtobufCMessageDescriptor *d = rec->descriptor;
	if (d != &annals__v1__event__descriptor && d != &annals__v1__relation__descriptor &&
	    d != &annals__v1__entity__descriptor)
		return;
	uint8_t flags = d == &annals__v1__event__descriptor ? PF_EVENT : 0;
	pf_docs ds = {.a = a};
	st_walk((ProtobufCMessage *)rec, &annals__v1__evidence__descriptor, pf_evidence_cb, &ds);
	for (size_t i = 0; i < ds.n; i++) {
		pf_offers f = {.doc = ds.items[i]->doc, .a = a};
		pr_each_offer(rec, f.doc, pf_offer_cb, &f);
		st_key k;
		if (f.absolute) {
			pf_key_head(&k, f.doc, 'a');
			key_be32(&k, key_day(f.lo));
			key_bytes(&k, flags & PF_EVENT ? "e" : "f", 1); /* events first */
			key_be32(&k, ds.items[i]->sentence);
			key_str(&k, id);
			add(ctx, &k, &flags, 1);
		}
		if (f.n_dates > 0) {
			pf_key_head(&k, f.doc, 'r');
			key_be32(&k, ds.items[i]->sentence);
			key_str(&k, id);
			uint8_t *val = ar_alloc(a, 1 + f.n_dates);
			val[0] = flags;
			memcpy(val + 1, f.dates, f.n_dates);
			add(ctx, &k, val, 1 + f.n_dates);
		}
	}
}

/* ---- upkeep ------------------------------------------------------------------- */

typedef struct pf_entry {
	st_key key;
	const uint8_t *val;
	size_t n;
} pf_entry;

typedef struct pf_set {
	pf_entry **items;
	size_t n;
	ar_arena *a;
} pf_set;

static void pf_collect(void *ctx, const st_key *k, const uint8_t *val, size_t n)
{
	pf_set *set = ctx;
	pf_entry *e = ar_alloc(set->a, sizeof(*e));
	e->key = *k;
	/* a copy: pf_entries passes an 'a' entry's flags byte from its own stack */
	uint8_t *copy = ar_alloc(set->a, n ? n : 1);
	memcpy(copy, val, n);
	e->val = copy;
	e->n = n;
	AR_PUSH(set->a, set->items, set->n, e);
}

static const pf_entry *pf_find(const pf_set *set, const st_key *k)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->items[i]->key.n == k->n && memcmp(set->items[i]->key.b, k->b, k->n) == 0)
			return set->items[i];
	return NULL;
}

/* A document whose entries a write changes, and, when only its 'a'
 * entries change, the top offers before the write (deps.c's mark is then
 * made only when they move; an 'r' change is marked at once: its dates are
 * resolved by the query, so any change may change the answer). */
typedef struct pf_doc_change {
	const char *doc;
	bool relative;
	st_pub_cand **top;
	size_t n_top;
} pf_doc_change;

/* Calls fn on every entry a write changes: those of was that now lacks
 * (put false), then those of now that are new or differ (put true); stops
 * at the first non-zero fn result and returns it. */
typedef int (*pf_change_fn)(void *ctx, const pf_entry *e, bool put);
static int pf_each_change(const pf_set *was, const pf_set *now, pf_change_fn fn, void *ctx)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < was->n; i++)
		if (pf_find(now, &was->items[i]->key) == NULL)
			rc = fn(ctx, was->items[i], false);
	for (size_t i = 0; rc == 0 && i < now->n; i++) {
		const pf_entry *e = now->items[i], *before = pf_find(was, &e->key);
		if (before == NULL || before->n != e->n || memcmp(before->val, e->val, e->n) != 0)
			rc = fn(ctx, e, true);
	}
	return rc;
}

typedef struct pf_docs_acc {
	ar_arena *a;
	pf_doc_change **docs;
	size_t n;
} pf_docs_acc;

/* The documents whose entries change, each once. */
static int pf_note_doc(void *ctx, const pf_entry *e, bool put)
{
	(void)put;
	pf_docs_acc *acc = ctx;
	const char *doc = (const char *)e->key.b; /* keys start "doc\0" and a part byte */
	size_t len = strlen(doc), j = 0;
	while (j < acc->n && strcmp(acc->docs[j]->doc, doc) != 0)
		j++;
	if (j == acc->n) {
		pf_doc_change *c = ar_alloc(acc->a, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->doc = ar_strdup(acc->a, doc);
		AR_PUSH(acc->a, acc->docs, acc->n, c);
	}
	acc->docs[j]->relative |= len + 1 < e->key.n && e->key.b[len + 1] == 'r';
	return 0;
}

static int pf_read_top(MDB_cursor *cur, const st_key *a_prefix, ar_arena *a, st_pub_cand ***top, size_t *n);
static int pf_order(const st_pub_cand *x, const st_pub_cand *y);

/* The (at most two) absolute offers that can win the derivation for doc. */
static int pf_top_of(st_store *s, MDB_txn *txn, const char *doc, ar_arena *a, st_pub_cand ***top, size_t *n)
{
	*top = NULL;
	*n = 0;
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[DB_PUBFLOOR], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "ix_pubfloor cursor");
	st_key prefix;
	pf_key_head(&prefix, doc, 'a');
	rc = pf_read_top(cur, &prefix, a, top, n);
	mdb_cursor_close(cur);
	return rc;
}

/* Whether putting (or removing) the 'a' entry k can change which offers
 * the top of its document is, given the top before (pf_read_top): an offer
 * below the greatest day never wins; at that day only one sorting before
 * the first of its kind (or the first itself, going or changing) does. */
static bool pf_moves_top(const st_key *k, size_t doclen, bool put, st_pub_cand **top, size_t n)
{
	size_t p = doclen + 2; /* past "doc\0a" */
	if (n == 0 || k->n < p + 9)
		return true;
	int32_t day = key_day_value(rd_be32(k->b + p));
	if (day != top[0]->lo)
		return day > top[0]->lo;
	if (!put)
		return true;
	bool event = k->b[p + 4] == 'e';
	for (size_t i = 0; i < n; i++) {
		if (top[i]->event != event)
			continue;
		char id[VAL_ID_MAX + 1];
		MDB_val v = key_val(k);
		key_tail_id(&v, p + 9, id, sizeof(id));
		st_pub_cand c = {.id = id, .sentence = rd_be32(k->b + p + 5)};
		return pf_order(&c, top[i]) <= 0;
	}
	return true; /* the first of its kind at that day */
}

/* 1 when the change e, an entry of document d, can move d's top. */
static int pf_moves_doc(void *ctx, const pf_entry *e, bool put)
{
	const pf_doc_change *d = ctx;
	size_t len = strlen(d->doc);
	if (e->key.n <= len || memcmp(e->key.b, d->doc, len + 1) != 0)
		return 0; /* another document's */
	return pf_moves_top(&e->key, len, put, d->top, d->n_top);
}

typedef struct pf_writer {
	st_store *s;
	MDB_txn *txn;
	st_err *err;
} pf_writer;

static int pf_write_change(void *ctx, const pf_entry *e, bool put)
{
	const pf_writer *w = ctx;
	MDB_val key = key_val(&e->key), val = {e->n, (void *)e->val};
	int rc =
	    put ? dp_put(w->s, w->txn, DB_PUBFLOOR, &key, &val, 0) : dp_del(w->s, w->txn, DB_PUBFLOOR, &key);
	if (rc == MDB_SUCCESS || (!put && rc == MDB_NOTFOUND))
		return ANNALS_OK;
	return st_mdb_status(rc, w->err, put ? "ix_pubfloor put" : "ix_pubfloor delete");
}

/* A record cites a few documents: the sets are small, so a plain search
 * finds the entries that went, came or changed. With the reply cache on,
 * a document whose candidates (st_pub_candidates) may have changed is
 * marked (deps.c): at once when a relative offer changed, else only when
 * its top absolute offers moved, so the records citing the founding
 * article below its latest offer leave the answers anchored on it standing. */
int pf_update(st_store *s, MDB_txn *txn, const ProtobufCMessage *old, const ProtobufCMessage *rec,
              ar_arena *a, st_err *err)
{
	pf_set was = {.a = a}, now = {.a = a};
	if (old != NULL)
		pf_entries(old, rec_id(old), a, pf_collect, &was);
	if (rec != NULL)
		pf_entries(rec, rec_id(rec), a, pf_collect, &now);
	pf_docs_acc acc = {.a = a};
	if (s->dp != NULL)
		(void)pf_each_change(&was, &now, pf_note_doc, &acc);
	for (size_t i = 0; i < acc.n; i++) {
		pf_doc_change *d = acc.docs[i];
		int rc = d->relative ? ANNALS_OK : pf_top_of(s, txn, d->doc, a, &d->top, &d->n_top);
		if (rc != ANNALS_OK)
			return st_errf(err, rc, "store: ix_pubfloor read");
		if (d->relative || pf_each_change(&was, &now, pf_moves_doc, d) != 0)
			dp_mark(s, txn, DP_PUB_CANDIDATES, d->doc, strlen(d->doc) + 1);
	}
	pf_writer w = {.s = s, .txn = txn, .err = err};
	return pf_each_change(&was, &now, pf_write_change, &w);
}

/* ---- the candidates ------------------------------------------------------------- */

static st_pub_cand *pf_cand(ar_arena *a, const MDB_val *key, size_t skip, const MDB_val *val)
{
	st_pub_cand *c = ar_alloc(a, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->sentence = rd_be32((const uint8_t *)key->mv_data + skip);
	char id[VAL_ID_MAX + 1];
	key_tail_id(key, skip + 4, id, sizeof(id));
	c->id = ar_strdup(a, id);
	c->event = val->mv_size > 0 && (((const uint8_t *)val->mv_data)[0] & PF_EVENT);
	return c;
}

static int pf_order(const st_pub_cand *x, const st_pub_cand *y)
{
	if (x->sentence != y->sentence)
		return x->sentence < y->sentence ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The first key starting with want, if any (rc: an LMDB error, else
 * MDB_SUCCESS). */
static bool pf_first(MDB_cursor *cur, const st_key *want, MDB_val *key, MDB_val *val, int *rc)
{
	*key = key_val(want);
	*rc = mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
	if (*rc == MDB_NOTFOUND)
		*rc = MDB_SUCCESS;
	else if (*rc == MDB_SUCCESS && key_has_prefix(key, want))
		return true;
	return false;
}

/* Of the 'a' entries at the greatest day, the two that can win: the first
 * event and the first other record, in (sentence, id) order (an event on
 * that day beats every fact; among facts, or among events, the first
 * wins). Three seeks, however many records share the day: a write load
 * adds thousands of events on one day citing the same article. */
static int pf_read_top(MDB_cursor *cur, const st_key *a_prefix, ar_arena *a, st_pub_cand ***top, size_t *n)
{
	st_key past = *a_prefix;
	past.b[past.n - 1] = 'b'; /* the first key after every 'a' key */
	MDB_val key = key_val(&past), val;
	int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &val, MDB_PREV)
	                       : mdb_cursor_get(cur, &key, &val, MDB_LAST);
	if (rc == MDB_NOTFOUND ||
	    (rc == MDB_SUCCESS && (!key_has_prefix(&key, a_prefix) || key.mv_size < a_prefix->n + 9)))
		return ANNALS_OK; /* no absolute offer */
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "ix_pubfloor read");
	uint32_t day = rd_be32((const uint8_t *)key.mv_data + a_prefix->n);
	static const char kinds[2] = {'e', 'f'};
	for (int i = 0; i < 2; i++) {
		st_key want = *a_prefix;
		key_be32(&want, day);
		key_bytes(&want, &kinds[i], 1);
		if (!pf_first(cur, &want, &key, &val, &rc)) {
			if (rc != MDB_SUCCESS)
				return st_mdb_status(rc, NULL, "ix_pubfloor read");
			continue;
		}
		if (key.mv_size < want.n + 4)
			continue;
		st_pub_cand *c = pf_cand(a, &key, want.n, &val);
		c->absolute = true;
		c->lo = key_day_value(day);
		AR_PUSH(a, *top, *n, c);
	}
	if (*n == 2 && pf_order((*top)[1], (*top)[0]) < 0) {
		st_pub_cand *c = (*top)[0];
		(*top)[0] = (*top)[1];
		(*top)[1] = c;
	}
	return ANNALS_OK;
}

/* The relative offers' Dates of an 'r' value (after its flags byte). */
static int pf_dates(ar_arena *a, const MDB_val *val, st_pub_cand *c)
{
	const uint8_t *p = (const uint8_t *)val->mv_data + 1,
	              *end = (const uint8_t *)val->mv_data + val->mv_size;
	while (p < end) {
		uint64_t n = 0;
		int shift = 0;
		while (p < end && shift < 64) {
			uint8_t b = *p++;
			n |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
			if ((b & 0x80) == 0)
				break;
		}
		if (n > (uint64_t)(end - p))
			return ANNALS_DATA_LOSS;
		Annals__V1__Date *d = annals__v1__date__unpack(ar_pbc(a), (size_t)n, p);
		if (d == NULL)
			return ANNALS_DATA_LOSS;
		AR_PUSH(a, c->dates, c->n_dates, d);
		p += n;
	}
	return ANNALS_OK;
}

static int pf_read_relative(MDB_cursor *cur, const st_key *r_prefix, ar_arena *a, st_pub_cand ***rel,
                            size_t *n)
{
	MDB_val key = key_val(r_prefix), val;
	int rc;
	for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
		if (!key_has_prefix(&key, r_prefix) || key.mv_size < r_prefix->n + 4)
			break;
		st_pub_cand *c = pf_cand(a, &key, r_prefix->n, &val);
		int code = pf_dates(a, &val, c);
		if (code != ANNALS_OK)
			return code;
		AR_PUSH(a, *rel, *n, c);
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return st_mdb_status(rc, NULL, "ix_pubfloor read");
	return ANNALS_OK;
}

int st_pub_candidates(st_txn *t, const char *document, ar_arena *a, st_pub_cand ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (document == NULL || strlen(document) > VAL_ID_MAX)
		return ANNALS_OK;
	dp_read_key(t, DP_PUB_CANDIDATES, document, strlen(document) + 1); /* with its "\0": pf_update */
	st_key a_prefix, r_prefix;
	pf_key_head(&a_prefix, document, 'a');
	pf_key_head(&r_prefix, document, 'r');
	MDB_cursor *cur;
	int rc = mdb_cursor_open(t->txn, t->s->dbi[DB_PUBFLOOR], &cur);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "ix_pubfloor cursor");
	st_pub_cand **top = NULL, **rel = NULL;
	size_t n_top = 0, n_rel = 0;
	rc = pf_read_top(cur, &a_prefix, a, &top, &n_top);
	if (rc == ANNALS_OK)
		rc = pf_read_relative(cur, &r_prefix, a, &rel, &n_rel);
	mdb_cursor_close(cur);
	/* both lists are in (sentence, id) order: merge, a record in both once */
	for (size_t i = 0, j = 0; rc == ANNALS_OK && (i < n_top || j < n_rel);) {
		int c = i == n_top ? 1 : j == n_rel ? -1 : pf_order(top[i], rel[j]);
		st_pub_cand *next = c <= 0 ? top[i] : rel[j];
		if (c == 0) {
			next->dates = rel[j]->dates;
			next->n_dates = rel[j]->n_dates;
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		AR_PUSH(a, *out, *n, next);
	}
	return rc;
}

/*
 * Indexed answers equal the straightforward ones. Every knowledge query
 * that reads a derived index (ix_pubfloor for a document's derived
 * publication bounds) is answered twice on the same snapshot: as served,
 * and with st_txn_set_full_scans, which makes the store scan the records
 * the way the engine did before the index existed (every record citing
 * the document), and decodes every record whole where the served way
 * decodes only what it judges and splices the stored bytes into the reply
 * (pbwire.h). The two replies must be the same message (the same bytes
 * once read back and packed again), and errors the same code and message.
 *
 * Over: the built-in data; a generated store (undated documents cited by
 * many records, dates relative to documents and events, ties at the
 * latest day, inferred and hedged evidence, planned events, memberships
 * with suspensions, tenures with no start or no end); the same store
 * after rewrites and deletes (the index must follow every write); and
 * after the index is dropped and rebuilt at open, as for a store written
 * before it existed. Questions: Members, Holder, Succession, Relations
 * (both ways), History, Timeline, NameAt and Facts for every entity or
 * document, on dates across the history and at every document.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "annals/annals.h"
#include "common/dataset.h"
#include "common/date.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/pbjson.h"
#include "knowledge/knowledge.h"
#include "store/query.h"
#include "store/store.h"
#include "store/store_int.h"

#if defined(__SANITIZE_ADDRESS__)
/* Under ASan, reads of a dead stack frame fail too (pf_update once stored
 * a flags byte from one; tests/run.sh's ASAN_OPTIONS leave this set). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}
#endif

typedef struct fixture {
	char dir[64];
	st_store *store;
	st_txn *txn;
	ar_arena a;
} fixture;

/* ---- a store loaded from a Dataset ----------------------------------------------- */

/* A new op at the end of the batch, for the caller to fill in. */
static Annals__V1__Op *new_op(ar_arena *a, Annals__V1__BatchRequest *b)
{
	Annals__V1__Op *op = AR_NEW(a, Annals__V1__Op, ANNALS__V1__OP__INIT);
	AR_PUSH(a, b->ops, b->n_ops, op);
	return op;
}

static bool apply_batch(fixture *f, Annals__V1__BatchRequest *b)
{
	st_txn_end(f->txn);
	st_write w = {.op = ST_BATCH, .req = &b->base};
	st_options limits = *st_limits(f->store);
	limits.max_batch_ops = (unsigned)b->n_ops;
	st_err verr = {0};
	if (st_validate(&w, &limits, &verr) != ANNALS_OK) {
		fprintf(stderr, "  batch invalid: %s\n", verr.msg);
		return false;
	}
	int rc = st_apply(f->store, &w, 1);
	st_write_clear(&w);
	if (rc != ANNALS_OK || w.code != ANNALS_OK) {
		fprintf(stderr, "  apply: %d/%d %s\n", rc, w.code, w.msg);
		return false;
	}
	return st_txn_begin(f->txn) == ANNALS_OK;
}

static bool load_json(fixture *f, const char *json, size_t len)
{
	char err[512] = "";
	Annals__V1__Dataset *d = (Annals__V1__Dataset *)pbjson_parse(&annals__v1__dataset__descriptor, json,
	                                                             len, &f->a, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "  dataset: %s\n", err);
		return false;
	}
	return apply_batch(f, ds_batch(&f->a, d)); /* as the built-in data is loaded */
}

static bool fixture_reopen(fixture *f)
{
	st_options opt = {.no_sync = true};
	st_err err = {0};
	if (st_open(f->dir, &opt, &f->store, &err) != ANNALS_OK) {
		fprintf(stderr, "  st_open: %s\n", err.msg);
		return false;
	}
	f->txn = st_txn_new(f->store);
	return f->txn != NULL && st_txn_begin(f->txn) == ANNALS_OK;
}

static bool fixture_open(fixture *f, const char *json, size_t len)
{
	memset(f, 0, sizeof(*f));
	ar_init(&f->a);
	snprintf(f->dir, sizeof(f->dir), "/tmp/annals-test-indexed-XXXXXX");
	if (mkdtemp(f->dir) == NULL || !fixture_reopen(f))
		return false;
	bool ok = load_json(f, json, len);
	ar_reset(&f->a);
	return ok;
}

static void fixture_shut(fixture *f)
{
	if (f->txn != NULL)
		st_txn_free(f->txn);
	if (f->store != NULL)
		st_close(f->store);
	f->txn = NULL;
	f->store = NULL;
}

static void fixture_close(fixture *f)
{
	fixture_shut(f);
	ar_free(&f->a);
	char path[128];
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
	unlink(path);
	rmdir(f->dir);
}

/* ---- one question, both ways --------------------------------------------------- */

typedef int (*query_fn)(st_txn *t, const void *in, ar_arena *a, void *out, st_err *err);

typedef struct tally {
	size_t asked, differ;
	size_t answered; /* ANNALS_OK both ways */
} tally;

/* Answers `in` with the indexes and without, and compares. */
static void ask(fixture *f, tally *tl, const char *what, query_fn fn, const void *in,
                const ProtobufCMessageDescriptor *reply)
{
	uint8_t *bytes[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	int rc[2];
	st_err err[2];
	for (int full = 0; full < 2; full++) {
		st_txn_set_full_scans(f->txn, full != 0);
		ProtobufCMessage *out = ar_alloc(&f->a, reply->sizeof_message);
		protobuf_c_message_init(reply, out);
		memset(&err[full], 0, sizeof(err[full]));
		rc[full] = fn(f->txn, in, &f->a, out, &err[full]);
		if (rc[full] == ANNALS_OK) {
			/* packed, read back and packed again: the served reply may carry
			 * stored records spliced in as unknown fields, packed after the
			 * known ones, so bytes compare only once a reader has placed them */
			size_t n = protobuf_c_message_get_packed_size(out);
			uint8_t *wire = ar_alloc(&f->a, n + 1);
			protobuf_c_message_pack(out, wire);
			ProtobufCMessage *back = protobuf_c_message_unpack(reply, ar_pbc(&f->a), n, wire);
			CHECK(back != NULL);
			if (back != NULL) {
				CHECK_EQ_INT((int)back->n_unknown_fields, 0);
				len[full] = protobuf_c_message_get_packed_size(back);
				bytes[full] = ar_alloc(&f->a, len[full] + 1);
				protobuf_c_message_pack(back, bytes[full]);
			}
		}
	}
	st_txn_set_full_scans(f->txn, false);
	tl->asked++;
	bool same = rc[0] == rc[1] && strcmp(err[0].msg, err[1].msg) == 0 && len[0] == len[1] &&
	            (len[0] == 0 || memcmp(bytes[0], bytes[1], len[0]) == 0);
	if (rc[0] == ANNALS_OK && rc[1] == ANNALS_OK)
		tl->answered++;
	if (!same && tl->differ++ < 5)
		fprintf(stderr, "  %s: indexed rc %d (%s) %zu bytes, full scan rc %d (%s) %zu bytes\n", what,
		        rc[0], err[0].msg, len[0], rc[1], err[1].msg, len[1]);
	ar_reset(&f->a);
}

/* A timeline item's words agree with its date: text that calls its date
 * unresolved goes with a date that is, and a relative date left
 * unresolved is said to be. (Names' phrases were once written before their
 * dates were resolved, from the values stored at write time.) */
static void timeline_words_agree(fixture *f, tally *tl, const char *entity)
{
	static const char unresolved[] = "(unresolved: its anchor has no known date)";
	Annals__V1__TimelineRequest tq = ANNALS__V1__TIMELINE_REQUEST__INIT;
	tq.entity = (char *)entity;
	for (int full = 0; full < 2; full++) {
		st_txn_set_full_scans(f->txn, full != 0);
		Annals__V1__TimelineReply out = ANNALS__V1__TIMELINE_REPLY__INIT;
		st_err err = {0};
		if (kn_q_timeline(f->txn, &tq, &f->a, &out, &err) != ANNALS_OK)
			continue;
		for (size_t i = 0; i < out.n_items; i++) {
			const Annals__V1__TimelineItem *it = out.items[i];
			const Annals__V1__Date *d = it->when;
			if (d == NULL || it->description == NULL ||
			    (strncmp(it->kind, "name_", 5) != 0 && strncmp(it->kind, "relation_", 9) != 0))
				continue;
			bool says = strstr(it->description, unresolved) != NULL;
			bool relative = d->anchor != NULL && d->anchor[0] != '\0';
			if (says != (relative && !d->resolved) && tl->differ++ < 5)
				fprintf(stderr, "  %s (%s): item %zu says \"%s\" of a date %s\n", entity,
				        full ? "full scan" : "indexed", i, it->description,
				        d->resolved ? "resolved" : "unresolved");
		}
		ar_reset(&f->a);
	}
	st_txn_set_full_scans(f->txn, false);
}

#define QUERY(fn) ((query_fn)(void (*)(void))kn_q_##fn)
#define LIST(fn)  ((query_fn)(void (*)(void))st_q_##fn)

typedef struct names {
	char **ids;
	size_t n;
} names;

static int collect_id(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	(void)data, (void)len;
	names *l = ctx;
	char **grown = realloc(l->ids, (l->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return 1;
	l->ids = grown;
	l->ids[l->n++] = strdup(id);
	return 0;
}

static void names_free(names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ids[i]);
	free(l->ids);
}

static const char *const ask_dates[] = {"1985", "1992",    "1995-06",    "1999", "2002-10", "2004-03-15",
                                        "2008", "2012-07", "2016-01-10", "2019", "2021-05", "2024"};

/* Every question of every entity and document, on every date. */
static tally ask_everything(fixture *f)
{
	tally tl = {0};
	names ents = {0}, docs = {0};
	CHECK_EQ_INT(st_scan_kind(f->txn, ST_ENTITY, "", collect_id, &ents), ANNALS_OK);
	CHECK_EQ_INT(st_scan_kind(f->txn, ST_DOCUMENT, "", collect_id, &docs), ANNALS_OK);
	size_t n_dates = sizeof(ask_dates) / sizeof(ask_dates[0]);
	Annals__V1__Date dates[sizeof(ask_dates) / sizeof(ask_dates[0])];
	for (size_t i = 0; i < n_dates; i++) {
		char msg[128];
		CHECK(date_parse(ask_dates[i], &dates[i], msg, sizeof(msg)) == 0);
	}
	for (size_t i = 0; i < ents.n; i++) {
		char *e = ents.ids[i];
		Annals__V1__SuccessionRequest sq = ANNALS__V1__SUCCESSION_REQUEST__INIT;
		sq.position = e;
		ask(f, &tl, e, QUERY(succession), &sq, &annals__v1__succession_reply__descriptor);
		Annals__V1__HistoryRequest hq = ANNALS__V1__HISTORY_REQUEST__INIT;
		hq.entity = e;
		ask(f, &tl, e, QUERY(history), &hq, &annals__v1__relations_reply__descriptor);
		Annals__V1__TimelineRequest tq = ANNALS__V1__TIMELINE_REQUEST__INIT;
		tq.entity = e;
		ask(f, &tl, e, QUERY(timeline), &tq, &annals__v1__timeline_reply__descriptor);
		timeline_words_agree(f, &tl, e);
		/* the record lists: spliced stored bytes against records decoded whole */
		Annals__V1__ListEventsRequest lq = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
		lq.participant = e;
		ask(f, &tl, e, LIST(list_events), &lq, &annals__v1__event_page__descriptor);
		lq.participant = "", lq.place = e;
		ask(f, &tl, e, LIST(list_events), &lq, &annals__v1__event_page__descriptor);
		for (int side = 0; side < 2; side++) {
			Annals__V1__ListRelationsRequest rl = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
			if (side == 0)
				rl.subject = e;
			else
				rl.object = e;
			ask(f, &tl, e, LIST(list_relations), &rl, &annals__v1__relation_page__descriptor);
		}
		Annals__V1__FindEntitiesRequest fe = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
		fe.name = strchr(e, ':') ? strchr(e, ':') + 1 : e; /* ids are often names: some match */
		fe.prefix = true;
		ask(f, &tl, e, LIST(find_entities), &fe, &annals__v1__entity_page__descriptor);
		/* each date, then each document's publication */
		for (size_t j = 0; j < n_dates + docs.n; j++) {
			Annals__V1__Date *at = j < n_dates ? &dates[j] : NULL;
			char *at_doc = j < n_dates ? "" : docs.ids[j - n_dates];
			Annals__V1__MembersRequest mq = ANNALS__V1__MEMBERS_REQUEST__INIT;
			mq.organization = e, mq.at = at, mq.at_document = at_doc;
			ask(f, &tl, e, QUERY(members), &mq, &annals__v1__members_reply__descriptor);
			Annals__V1__HolderRequest oq = ANNALS__V1__HOLDER_REQUEST__INIT;
			oq.position = e, oq.at = at, oq.at_document = at_doc;
			ask(f, &tl, e, QUERY(holder), &oq, &annals__v1__holder_reply__descriptor);
			Annals__V1__NameAtRequest nq = ANNALS__V1__NAME_AT_REQUEST__INIT;
			nq.entity = e, nq.at = at, nq.at_document = at_doc;
			ask(f, &tl, e, QUERY(name_at), &nq, &annals__v1__name_at_reply__descriptor);
			for (int inverse = 0; inverse < 2; inverse++) {
				Annals__V1__RelationsRequest rq = ANNALS__V1__RELATIONS_REQUEST__INIT;
				rq.entity = e, rq.at = at, rq.at_document = at_doc, rq.inverse = inverse;
				ask(f, &tl, e, QUERY(relations), &rq,
				    &annals__v1__relations_reply__descriptor);
			}
		}
	}
	for (int type = 0; type <= 8; type++) {
		Annals__V1__ListEntitiesRequest le = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
		le.type = type;
		ask(f, &tl, "entities", LIST(list_entities), &le, &annals__v1__entity_page__descriptor);
	}
	Annals__V1__ListDocumentsRequest ld = ANNALS__V1__LIST_DOCUMENTS_REQUEST__INIT;
	ask(f, &tl, "documents", LIST(list_documents), &ld, &annals__v1__document_page__descriptor);
	Annals__V1__ListRelationsRequest la = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	la.predicate = "member_of";
	ask(f, &tl, "relations", LIST(list_relations), &la, &annals__v1__relation_page__descriptor);
	for (size_t i = 0; i < docs.n; i++) {
		Annals__V1__FactsRequest fq = ANNALS__V1__FACTS_REQUEST__INIT;
		fq.document = docs.ids[i];
		ask(f, &tl, docs.ids[i], QUERY(facts), &fq, &annals__v1__facts_reply__descriptor);
	}
	names_free(&ents);
	names_free(&docs);
	return tl;
}

/* ---- the generated store --------------------------------------------------------- */

typedef struct gen {
	char *buf;
	size_t n, cap;
	uint64_t rng;
} gen;

static void put(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(gen *g, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
		va_end(ap);
		if (k >= 0 && g->n + (size_t)k < g->cap) {
			g->n += (size_t)k;
			return;
		}
		g->cap = g->cap * 2 + 4096;
		g->buf = realloc(g->buf, g->cap);
	}
}

static unsigned rnd(gen *g, unsigned n)
{
	g->rng = g->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((g->rng >> 33) % n);
}

#define GEN_DOCS     5
#define GEN_EVENTS   40
#define GEN_ORGS     4
#define GEN_COUNTRY  14
#define GEN_PEOPLE   10
#define GEN_POSITION 4

static const char *const modalities[] = {"MODALITY_ASSERTED", "MODALITY_REPORTED", "MODALITY_HEDGED",
                                         "MODALITY_PLANNED"};
static const char *const bound_kinds[] = {"BOUND_KIND_EXACT", "BOUND_KIND_OBSERVED", "BOUND_KIND_AFTER",
                                          "BOUND_KIND_BEFORE"};

/* Evidence from one or two documents, some stated, some not. Undated
 * documents (1, 2, 4) are cited most, so their bounds have many offers. */
static void gen_evidence(gen *g)
{
	static const unsigned docs[] = {1, 1, 2, 2, 4, 0, 3};
	put(g, "'evidence': [");
	unsigned n = 1 + rnd(g, 2);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = 1 + rnd(g, 5);
		put(g, "%s{'document': 'doc:g%u', ", i ? ", " : "", docs[rnd(g, 7)]);
		if (rnd(g, 5) != 0)
			put(g, "'sentences': [%u], ", s);
		put(g, "'span_start': %u, 'span_end': %u, 'modality': '%s'%s}", (s - 1) * 200,
		    (s - 1) * 200 + 40, modalities[rnd(g, 4)],
		    rnd(g, 6) == 0 ? ", 'inferred': true, 'rule': 'a-test-rule'" : "");
	}
	put(g, "]");
}

/* An absolute date from year y, at any precision; or (relative) a date
 * anchored to a document or an earlier event. */
static void gen_date(gen *g, int y, unsigned event_limit)
{
	unsigned how = rnd(g, 10);
	if (how == 0)
		put(g, "{'precision': 'PRECISION_DAY', 'anchor': 'doc:g%u', 'offset_days': -%u}",
		    rnd(g, GEN_DOCS), rnd(g, 3));
	else if (how <= 2 && event_limit > 0) /* late enough, often, to decide a bound */
		put(g, "{'precision': 'PRECISION_YEAR', 'anchor': 'event:ev:g%u', 'offset_years': %u}",
		    rnd(g, event_limit), rnd(g, 12));
	else if (how < 5)
		put(g, "{'precision': 'PRECISION_YEAR', 'year': %d}", y);
	else if (how < 8)
		put(g, "{'precision': 'PRECISION_MONTH', 'year': %d, 'month': %u}", y, 1 + rnd(g, 12));
	else
		put(g, "{'precision': 'PRECISION_DAY', 'year': %d, 'month': %u, 'day': %u}", y,
		    1 + rnd(g, 12), 1 + rnd(g, 28));
}

/* A validity: a start in year y0, maybe an end in y1 >= y0 (or none, or
 * one of unknown kind), bounds of every kind. */
static void gen_valid(gen *g, int y0, int y1, unsigned event_limit)
{
	put(g, "'valid': {");
	bool start = rnd(g, 6) != 0;
	if (start) {
		put(g, "'start': {'kind': '%s', 'date': ", bound_kinds[rnd(g, 4)]);
		gen_date(g, y0, event_limit);
		put(g, "}");
	}
	if (rnd(g, 3) != 0) {
		put(g, "%s'end': {'kind': '%s', 'date': ", start ? ", " : "", bound_kinds[rnd(g, 4)]);
		gen_date(g, y1 + 1, event_limit); /* a year after y1: never before the start */
		put(g, "}");
	}
	put(g, "}");
}

static void gen_names(gen *g, const char *word, unsigned i)
{
	put(g, "'names': [{'text': '%s %u', 'kind': 'NAME_KIND_OFFICIAL', ", word, i);
	gen_valid(g, 1990 + (int)rnd(g, 10), 2005 + (int)rnd(g, 5), 0);
	put(g, ", ");
	gen_evidence(g);
	put(g, "}, {'text': '%s %u former', 'kind': 'NAME_KIND_FORMER'}]", word, i);
}

static char *gen_dataset(uint64_t seed)
{
	gen g = {.rng = seed};
	put(&g, "{'documents': [");
	for (unsigned d = 0; d < GEN_DOCS; d++) {
		put(&g, "%s{'id': 'doc:g%u', 'title': 'Report %u', 'length': 1000, ", d ? ", " : "", d, d);
		if (d == 0)
			put(&g, "'published': {'precision': 'PRECISION_DAY', 'year': 2016, 'month': 1, "
			        "'day': 10}, ");
		if (d == 3) /* dated through an event */
			put(&g, "'published': {'precision': 'PRECISION_YEAR', 'anchor': 'event:ev:g0', "
			        "'offset_years': 3}, ");
		put(&g, "'sentences': [");
		for (unsigned s = 0; s < 5; s++)
			put(&g, "%s{'number': %u, 'start': %u, 'end': %u}", s ? ", " : "", s + 1, s * 200,
			    s * 200 + 199);
		put(&g, "]}");
	}
	put(&g, "], 'entities': [");
	for (unsigned i = 0; i < GEN_ORGS; i++) {
		put(&g, "%s{'id': '%s:o%u', 'type': '%s', ", i ? ", " : "", i == 3 ? "group" : "org", i,
		    i == 3 ? "ENTITY_TYPE_GROUP" : "ENTITY_TYPE_ORGANIZATION");
		gen_names(&g, "Organization", i);
		put(&g, "}");
	}
	for (unsigned i = 0; i < GEN_COUNTRY; i++) {
		put(&g, ", {'id': 'country:c%u', 'type': 'ENTITY_TYPE_COUNTRY', ", i);
		gen_names(&g, "Country", i);
		put(&g, ", 'attributes': [{'key': 'capital', 'value': 'City %u', ", i);
		gen_valid(&g, 1991, 2000 + (int)rnd(&g, 20), 0);
		put(&g, ", ");
		gen_evidence(&g);
		put(&g, "}]}");
	}
	for (unsigned i = 0; i < GEN_PEOPLE; i++) {
		put(&g, ", {'id': 'person:p%u', 'type': 'ENTITY_TYPE_PERSON', ", i);
		gen_names(&g, "Person", i);
		put(&g, "}");
	}
	for (unsigned i = 0; i < GEN_POSITION; i++) {
		put(&g, ", {'id': 'position:s%u', 'type': 'ENTITY_TYPE_POSITION', ", i);
		gen_names(&g, "Office", i);
		put(&g, "}");
	}
	put(&g, "], 'events': [");
	for (unsigned i = 0; i < GEN_EVENTS; i++) {
		put(&g,
		    "%s{'id': 'ev:g%u', 'type': 'meeting', 'summary': 'Meeting %u.', 'status': '%s', "
		    "'when': ",
		    i ? ", " : "", i, i, rnd(&g, 4) == 0 ? "EVENT_STATUS_PLANNED" : "EVENT_STATUS_OCCURRED");
		gen_date(&g, 1992 + (int)rnd(&g, 30), i);
		put(&g, ", 'participants': [{'entity': 'country:c%u'}, {'entity': 'person:p%u'}], ",
		    rnd(&g, GEN_COUNTRY), rnd(&g, GEN_PEOPLE));
		gen_evidence(&g);
		put(&g, "}");
	}
	put(&g, "], 'relations': [");
	unsigned n = 0;
	for (unsigned c = 0; c < GEN_COUNTRY; c++) {
		unsigned org = rnd(&g, GEN_ORGS), segments = 1 + rnd(&g, 3);
		int y = 1992 + (int)rnd(&g, 8);
		for (unsigned s = 0; s < segments; s++, n++) {
			int y1 = y + (int)rnd(&g, 8);
			put(&g,
			    "%s{'id': 'rel:c%u.%u', 'subject': 'country:c%u', 'predicate': 'member_of', "
			    "'object': '%s:o%u', 'status': '%s', ",
			    n ? ", " : "", c, s, c, org == 3 ? "group" : "org", org,
			    s % 2 == 1 ? "suspended" : "active");
			gen_valid(&g, y, y1, GEN_EVENTS);
			put(&g, ", ");
			gen_evidence(&g);
			put(&g, "}");
			y = y1 + 1;
		}
	}
	for (unsigned p = 0; p < GEN_PEOPLE; p++, n++) {
		int y = 1995 + (int)rnd(&g, 25);
		put(&g,
		    ", {'id': 'rel:p%u.holds', 'subject': 'person:p%u', 'predicate': 'holds_position', "
		    "'object': 'position:s%u', ",
		    p, p, rnd(&g, GEN_POSITION));
		gen_valid(&g, y, y + (int)rnd(&g, 6), GEN_EVENTS);
		put(&g, ", ");
		gen_evidence(&g);
		put(&g, "}");
	}
	put(&g, "]}");
	for (size_t i = 0; i < g.n; i++)
		if (g.buf[i] == '\'')
			g.buf[i] = '"';
	return g.buf;
}

/* ---- the tests ------------------------------------------------------------------- */

static void report(const char *what, const tally *tl)
{
	fprintf(stderr, "  %s: %zu questions, %zu answered, %zu differ\n", what, tl->asked, tl->answered,
	        tl->differ);
}

static void test_builtin_dataset(void)
{
	const char *root = getenv("ANNALS_ROOT");
	char path[512];
	snprintf(path, sizeof(path), "%s/data/seed/dataset.json", root ? root : ".");
	size_t len = 0;
	char *json = file_read_all(path, 64u << 20, &len);
	CHECK(json != NULL);
	if (json == NULL)
		return;
	fixture f;
	bool ok = fixture_open(&f, json, len);
	free(json);
	CHECK(ok);
	if (ok) {
		tally tl = ask_everything(&f);
		report("built-in data", &tl);
		CHECK(tl.asked > 1000);
		CHECK(tl.answered > tl.asked / 4); /* not only errors */
		CHECK_EQ_INT(tl.differ, 0);
	}
	fixture_close(&f);
}

/* The undated documents' bounds as answered: the proof that the index
 * is consulted with something to decide (a derived bound exists). */
static size_t derived_bounds(fixture *f)
{
	size_t n = 0;
	for (unsigned d = 0; d < GEN_DOCS; d++) {
		char doc[32];
		snprintf(doc, sizeof(doc), "doc:g%u", d);
		Annals__V1__MembersRequest mq = ANNALS__V1__MEMBERS_REQUEST__INIT;
		Annals__V1__MembersReply out = ANNALS__V1__MEMBERS_REPLY__INIT;
		st_err err;
		mq.organization = "org:o0";
		mq.at_document = doc;
		if (kn_q_members(f->txn, &mq, &f->a, &out, &err) == ANNALS_OK && out.publication != NULL &&
		    out.publication->derived) {
			n++;
			if (getenv("SHOW_BOUNDS"))
				fprintf(stderr, "  %s: %s\n", doc, out.publication->evidence->note);
		}
		ar_reset(&f->a);
	}
	return n;
}

/* Rewrites and deletes: the records deciding the bounds change their
 * dates or go, so stale index keys would show. Relations are deleted
 * (nothing refers to one); events are rewritten (dates may lean on them). */
static bool churn(fixture *f, gen *g, unsigned round)
{
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	for (unsigned i = 0; i < GEN_EVENTS; i += 1 + rnd(g, 3)) {
		Annals__V1__Event *e = st_load_event(f->txn, ar_printf(&f->a, "ev:g%u", i), &f->a);
		if (e == NULL)
			continue;
		Annals__V1__Date *d = AR_NEW(&f->a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
		d->precision = ANNALS__V1__PRECISION__PRECISION_DAY;
		d->year = 2000 + (int)rnd(g, 25), d->month = 1 + rnd(g, 12), d->day = 1 + rnd(g, 28);
		e->when = d;
		e->status = rnd(g, 2) ? ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED
		                      : ANNALS__V1__EVENT_STATUS__EVENT_STATUS_CANCELLED;
		Annals__V1__Op *op = new_op(&f->a, &b);
		op->op_case = ANNALS__V1__OP__OP_PUT_EVENT;
		op->put_event = e;
	}
	for (unsigned c = round; c < GEN_COUNTRY; c += 3) {
		Annals__V1__RecordRef *del =
		    AR_NEW(&f->a, Annals__V1__RecordRef, ANNALS__V1__RECORD_REF__INIT);
		del->kind = ANNALS__V1__RECORD_KIND__RECORD_KIND_RELATION;
		del->id = ar_printf(&f->a, "rel:c%u.0", c);
		Annals__V1__Op *op = new_op(&f->a, &b);
		op->op_case = ANNALS__V1__OP__OP_DELETE;
		op->delete_ = del;
	}
	return apply_batch(f, &b);
}

/* What a write load does (annals-bench's PutEvent): many records citing
 * one article on one day, later than anything else it reports. Events and
 * facts tie on that day (doc:g1), or facts alone (doc:g2, the events only
 * planned), in sentence orders that make the first of them not the first
 * by id. */
static bool pile_on(fixture *f, gen *g)
{
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	for (unsigned i = 0; i < 120; i++) {
		unsigned doc = 1 + i % 2, s = 1 + rnd(g, 5);
		Annals__V1__Date *d = AR_NEW(&f->a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
		d->precision = ANNALS__V1__PRECISION__PRECISION_DAY;
		d->year = 2045, d->month = 3, d->day = 14; /* after every generated date */
		Annals__V1__Evidence *ev = AR_NEW(&f->a, Annals__V1__Evidence, ANNALS__V1__EVIDENCE__INIT);
		ev->document = ar_printf(&f->a, "doc:g%u", doc);
		ev->sentences = ar_alloc(&f->a, sizeof(uint32_t));
		ev->sentences[0] = s;
		ev->n_sentences = 1;
		ev->span_start = (s - 1) * 200, ev->span_end = (s - 1) * 200 + 40;
		ev->modality = ANNALS__V1__MODALITY__MODALITY_REPORTED;
		if (i % 3 != 0) {
			Annals__V1__Event *e = AR_NEW(&f->a, Annals__V1__Event, ANNALS__V1__EVENT__INIT);
			e->id = ar_printf(&f->a, "ev:pile-%03u", 119 - i);
			e->type = "meeting";
			e->when = d;
			e->status = doc == 1 ? ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED
			                     : ANNALS__V1__EVENT_STATUS__EVENT_STATUS_PLANNED;
			e->evidence = ar_alloc(&f->a, sizeof(*e->evidence));
			e->evidence[0] = ev;
			e->n_evidence = 1;
			Annals__V1__Op *op = new_op(&f->a, &b);
			op->op_case = ANNALS__V1__OP__OP_PUT_EVENT;
			op->put_event = e;
		} else {
			Annals__V1__Relation *r =
			    AR_NEW(&f->a, Annals__V1__Relation, ANNALS__V1__RELATION__INIT);
			r->id = ar_printf(&f->a, "rel:pile-%03u", 119 - i);
			r->subject = ar_printf(&f->a, "country:c%u", rnd(g, GEN_COUNTRY));
			r->predicate = "observer_at";
			r->object = "org:o0";
			r->valid = AR_NEW(&f->a, Annals__V1__Interval, ANNALS__V1__INTERVAL__INIT);
			r->valid->start = AR_NEW(&f->a, Annals__V1__Bound, ANNALS__V1__BOUND__INIT);
			r->valid->start->kind = ANNALS__V1__BOUND_KIND__BOUND_KIND_OBSERVED;
			r->valid->start->date = d;
			r->evidence = ar_alloc(&f->a, sizeof(*r->evidence));
			r->evidence[0] = ev;
			r->n_evidence = 1;
			Annals__V1__Op *op = new_op(&f->a, &b);
			op->op_case = ANNALS__V1__OP__OP_PUT_RELATION;
			op->put_relation = r;
		}
	}
	return apply_batch(f, &b);
}

/* The bound of doc as answered: its deciding record and first day. */
static const char *bound_of(fixture *f, const char *doc)
{
	Annals__V1__MembersRequest mq = ANNALS__V1__MEMBERS_REQUEST__INIT;
	Annals__V1__MembersReply out = ANNALS__V1__MEMBERS_REPLY__INIT;
	st_err err;
	mq.organization = "org:o0";
	mq.at_document = (char *)doc;
	if (kn_q_members(f->txn, &mq, &f->a, &out, &err) != ANNALS_OK || out.publication == NULL)
		return "";
	return ar_printf(&f->a, "%s %d", out.publication->decided_by, out.publication->earliest);
}

/* A store written before ix_pubfloor existed: no keys and no mark. */
static bool drop_index(fixture *f)
{
	st_txn_end(f->txn);
	MDB_txn *txn;
	bool ok = mdb_txn_begin(f->store->env, NULL, 0, &txn) == MDB_SUCCESS;
	MDB_val mark = {strlen("ix_pubfloor"), "ix_pubfloor"};
	ok = ok && mdb_drop(txn, f->store->dbi[DB_PUBFLOOR], 0) == MDB_SUCCESS;
	ok = ok && mdb_del(txn, f->store->dbi[DB_META], &mark, NULL) == MDB_SUCCESS;
	ok = ok && mdb_txn_commit(txn) == MDB_SUCCESS;
	fixture_shut(f);
	return ok && fixture_reopen(f);
}

/* Every ix_pubfloor entry, key and value, hashed in key order: the index
 * the writes kept must be the one a rebuild from the records makes (the
 * flags byte of an 'a' entry written by pf_update came from a dead stack
 * slot once). */
static uint64_t pubfloor_digest(fixture *f, size_t *n)
{
	uint64_t h = HASH_FNV1A_INIT;
	*n = 0;
	MDB_cursor *cur;
	if (mdb_cursor_open(f->txn->txn, f->store->dbi[DB_PUBFLOOR], &cur) != MDB_SUCCESS)
		return 0;
	MDB_val k, v;
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		h = hash_fnv1a(hash_fnv1a(h, k.mv_data, k.mv_size), v.mv_data, v.mv_size);
		(*n)++;
	}
	mdb_cursor_close(cur);
	return h;
}

static void test_generated_store(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		char *json = gen_dataset(seed);
		fixture f;
		bool ok = fixture_open(&f, json, strlen(json));
		free(json);
		CHECK(ok);
		if (!ok) {
			fixture_close(&f);
			continue;
		}
		CHECK(derived_bounds(&f) >= 2);
		tally tl = ask_everything(&f);
		report("generated", &tl);
		CHECK(tl.answered > tl.asked / 4);
		CHECK_EQ_INT(tl.differ, 0);

		gen g = {.rng = seed * 77};
		for (int round = 0; round < 3; round++) {
			CHECK(churn(&f, &g, (unsigned)round));
			tl = ask_everything(&f);
			CHECK_EQ_INT(tl.differ, 0);
		}
		report("after rewrites and deletes", &tl);

		CHECK(pile_on(&f, &g));
		tl = ask_everything(&f);
		report("after a pile of records on one day", &tl);
		CHECK_EQ_INT(tl.differ, 0);
		/* the pile decides both: an event on doc:g1, a fact on doc:g2 */
		CHECK_CONTAINS(bound_of(&f, "doc:g1"), "ev:pile-");
		CHECK_CONTAINS(bound_of(&f, "doc:g2"), "rel:pile-");
		ar_reset(&f.a);

		size_t kept_n, built_n;
		uint64_t kept = pubfloor_digest(&f, &kept_n);
		CHECK(drop_index(&f));
		CHECK(derived_bounds(&f) >= 2); /* rebuilt: the bounds are found again */
		uint64_t built = pubfloor_digest(&f, &built_n);
		CHECK_EQ_INT((int)kept_n, (int)built_n);
		CHECK(kept_n > 0 && kept == built); /* the writes kept the index a rebuild makes */
		tl = ask_everything(&f);
		report("rebuilt at open", &tl);
		CHECK_EQ_INT(tl.differ, 0);
		fixture_close(&f);
	}
}

/* The comparison can fail: an index key removed by hand changes an answer. */
static void test_comparison_sees_a_stale_index(void)
{
	char *json = gen_dataset(9);
	fixture f;
	bool ok = fixture_open(&f, json, strlen(json));
	free(json);
	CHECK(ok);
	if (ok) {
		st_txn_end(f.txn);
		MDB_txn *txn;
		CHECK(mdb_txn_begin(f.store->env, NULL, 0, &txn) == MDB_SUCCESS);
		CHECK(mdb_drop(txn, f.store->dbi[DB_PUBFLOOR], 0) ==
		      MDB_SUCCESS); /* mark kept: not rebuilt */
		CHECK(mdb_txn_commit(txn) == MDB_SUCCESS);
		CHECK(st_txn_begin(f.txn) == ANNALS_OK);
		tally tl = ask_everything(&f);
		report("index emptied behind the store's back", &tl);
		CHECK(tl.differ > 0);
	}
	fixture_close(&f);
}

/* The packed lean answer of Members of org at day. */
static size_t members_bytes(fixture *f, const char *org, Annals__V1__Date *at, uint8_t *buf, size_t cap)
{
	Annals__V1__MembersRequest mq = ANNALS__V1__MEMBERS_REQUEST__INIT;
	Annals__V1__MembersReply out = ANNALS__V1__MEMBERS_REPLY__INIT;
	st_err err = {0};
	mq.organization = (char *)org;
	mq.at = at;
	size_t n = 0;
	if (kn_q_members(f->txn, &mq, &f->a, &out, &err) == ANNALS_OK) {
		n = protobuf_c_message_get_packed_size(&out.base);
		if (n <= cap)
			protobuf_c_message_pack(&out.base, buf);
		else
			n = 0;
	}
	ar_reset(&f->a);
	return n;
}

/* A relation dated relative to an undated document is judged by the
 * document's bounds as they are now: a new record citing the document moves
 * them, the relation's bytes stay, and the answer follows (the same as the
 * full scan's), asked on the same thread before and after. */
static void test_relative_dates_follow_their_anchor(void)
{
	static const char json[] =
	    "{\"documents\": [{\"id\": \"doc:u\", \"title\": \"Undated\", \"length\": 400, "
	    "\"sentences\": [{\"number\": 1, \"start\": 0, \"end\": 199}]}], "
	    "\"entities\": [{\"id\": \"org:x\", \"type\": \"ENTITY_TYPE_ORGANIZATION\", "
	    "\"names\": [{\"text\": \"Org X\", \"kind\": \"NAME_KIND_OFFICIAL\"}]}, "
	    "{\"id\": \"country:a\", \"type\": \"ENTITY_TYPE_COUNTRY\", "
	    "\"names\": [{\"text\": \"Country A\", \"kind\": \"NAME_KIND_OFFICIAL\"}]}], "
	    "\"relations\": [{\"id\": \"rel:a\", \"subject\": \"country:a\", \"predicate\": \"member_of\", "
	    "\"object\": \"org:x\", \"valid\": {\"start\": {\"kind\": \"BOUND_KIND_EXACT\", "
	    "\"date\": {\"precision\": \"PRECISION_DAY\", \"anchor\": \"doc:u\", \"offset_days\": -1}}}, "
	    "\"evidence\": [{\"document\": \"doc:u\", \"sentences\": [1], \"span_start\": 0, "
	    "\"span_end\": 40, \"modality\": \"MODALITY_REPORTED\"}]}]}";
	fixture f;
	bool ok = fixture_open(&f, json, strlen(json));
	CHECK(ok);
	if (!ok) {
		fixture_close(&f);
		return;
	}
	Annals__V1__Date at = ANNALS__V1__DATE__INIT;
	char msg[128];
	CHECK(date_parse("2030-01-01", &at, msg, sizeof(msg)) == 0);
	static uint8_t before[8192], after[8192];
	tally tl = {0};
	Annals__V1__MembersRequest mq = ANNALS__V1__MEMBERS_REQUEST__INIT;
	mq.organization = "org:x", mq.at = &at;
	ask(&f, &tl, "org:x", QUERY(members), &mq, &annals__v1__members_reply__descriptor);
	size_t nb = members_bytes(&f, "org:x", &at, before, sizeof(before));
	/* an event reported by the document: its bounds move to that day or later */
	Annals__V1__BatchRequest b = ANNALS__V1__BATCH_REQUEST__INIT;
	Annals__V1__Event *e = AR_NEW(&f.a, Annals__V1__Event, ANNALS__V1__EVENT__INIT);
	e->id = "ev:b", e->type = "meeting";
	e->when = AR_NEW(&f.a, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	CHECK(date_parse("2020-05-01", e->when, msg, sizeof(msg)) == 0);
	e->status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED;
	Annals__V1__Evidence *ev = AR_NEW(&f.a, Annals__V1__Evidence, ANNALS__V1__EVIDENCE__INIT);
	ev->document = "doc:u";
	ev->sentences = ar_alloc(&f.a, sizeof(uint32_t));
	ev->sentences[0] = 1, ev->n_sentences = 1;
	ev->span_start = 0, ev->span_end = 40, ev->modality = ANNALS__V1__MODALITY__MODALITY_REPORTED;
	e->evidence = ar_alloc(&f.a, sizeof(*e->evidence));
	e->evidence[0] = ev, e->n_evidence = 1;
	Annals__V1__Op *op = new_op(&f.a, &b);
	op->op_case = ANNALS__V1__OP__OP_PUT_EVENT;
	op->put_event = e;
	CHECK(apply_batch(&f, &b));
	ar_reset(&f.a);
	ask(&f, &tl, "org:x", QUERY(members), &mq, &annals__v1__members_reply__descriptor);
	size_t na = members_bytes(&f, "org:x", &at, after, sizeof(after));
	report("relative to an undated document", &tl);
	CHECK_EQ_INT(tl.differ, 0);
	CHECK(nb > 0 && na > 0);
	CHECK(nb != na || memcmp(before, after, na) != 0); /* the answer moved with the bounds */
	fixture_close(&f);
}

int main(void)
{
	RUN(test_builtin_dataset);
	RUN(test_generated_store);
	RUN(test_comparison_sees_a_stale_index);
	RUN(test_relative_dates_follow_their_anchor);
	return CHECK_DONE();
}

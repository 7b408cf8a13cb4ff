/*
 * The reply cache keeps an answer across the commits that wrote nothing it
 * read (store/deps.c), and only those: after every write of a random mix
 * (renames, moved event dates that relations are anchored on, new and
 * changed relations, events citing the founding article before and after
 * its latest dated offer, deletes, a publication date set and cleared, and
 * writes that touch nothing asked about), every question is asked twice on
 * the same snapshot: as is, where the cache may answer with an answer kept
 * from before the write, and with an unknown field appended to the request,
 * which no cached answer matches, so the server computes it afresh. The
 * two replies must be the same bytes. The server's metrics must show
 * answers kept across commits (else the test proves nothing about them),
 * and some answers must change (else the writes prove nothing).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "../lib/harness.h"

#define DOC      "doc:ad6eff3e562ac92b"
#define MAX_Q    1024
#define MAX_IDS  256
#define N_STEPS  40
#define Q_METHOD 32

static th_server srv;
static int metrics_port;

typedef struct question {
	char method[Q_METHOD];
	uint8_t *body;
	size_t len;
} question;

static question qs[MAX_Q];
static size_t n_qs;
static char *entities[MAX_IDS], *relations[MAX_IDS], *events[MAX_IDS];
static size_t n_entities, n_relations, n_events;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned pick(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* ---- questions ------------------------------------------------------------------ */

static void ask(const char *method, const ProtobufCMessage *m)
{
	if (n_qs == MAX_Q)
		return;
	question *q = &qs[n_qs++];
	snprintf(q->method, sizeof(q->method), "%s", method);
	q->len = protobuf_c_message_get_packed_size(m);
	q->body = malloc(q->len + 1);
	protobuf_c_message_pack(m, q->body);
}

static Annals__V1__Date *year(Annals__V1__Date *d, int y)
{
	annals__v1__date__init(d);
	d->precision = ANNALS__V1__PRECISION__PRECISION_YEAR;
	d->year = y;
	return d;
}

static void ask_about(char *id)
{
	Annals__V1__Date d1, d2;
	Annals__V1__MembersRequest mr = ANNALS__V1__MEMBERS_REQUEST__INIT;
	mr.organization = id;
	mr.at = year(&d1, 2012);
	ask("Members", &mr.base);
	mr.at = year(&d2, 2024);
	ask("Members", &mr.base);
	mr.at = NULL;
	mr.at_document = DOC;
	ask("Members", &mr.base);
	Annals__V1__HolderRequest hr = ANNALS__V1__HOLDER_REQUEST__INIT;
	hr.position = id;
	hr.at = year(&d1, 2015);
	ask("Holder", &hr.base);
	hr.at = NULL;
	hr.at_document = DOC;
	ask("Holder", &hr.base);
	Annals__V1__TimelineRequest tr = ANNALS__V1__TIMELINE_REQUEST__INIT;
	tr.entity = id;
	ask("Timeline", &tr.base);
	Annals__V1__RelationsRequest rr = ANNALS__V1__RELATIONS_REQUEST__INIT;
	rr.entity = id;
	rr.at = year(&d1, 2020);
	ask("Relations", &rr.base);
	rr.at = NULL;
	rr.inverse = true;
	rr.at_document = DOC;
	ask("Relations", &rr.base);
	Annals__V1__HistoryRequest hi = ANNALS__V1__HISTORY_REQUEST__INIT;
	hi.entity = id;
	ask("History", &hi.base);
	Annals__V1__SuccessionRequest sr = ANNALS__V1__SUCCESSION_REQUEST__INIT;
	sr.position = id;
	ask("Succession", &sr.base);
	Annals__V1__NameAtRequest nr = ANNALS__V1__NAME_AT_REQUEST__INIT;
	nr.entity = id;
	nr.at_document = DOC;
	ask("NameAt", &nr.base);
	Annals__V1__ListEventsRequest le = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	le.participant = id;
	ask("ListEvents", &le.base);
	Annals__V1__ListRelationsRequest lr = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	lr.subject = id;
	ask("ListRelations", &lr.base);
	lr.subject = NULL;
	lr.object = id;
	ask("ListRelations", &lr.base);
	Annals__V1__EvidenceRequest er = ANNALS__V1__EVIDENCE_REQUEST__INIT;
	er.id = id;
	ask("Evidence", &er.base);
}

static void ask_everything(void)
{
	for (size_t i = 0; i < n_entities; i++)
		ask_about(entities[i]);
	Annals__V1__Date d1, d2;
	Annals__V1__ListEventsRequest le = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	le.from = year(&d1, 2000);
	le.to = year(&d2, 2030);
	ask("ListEvents", &le.base);
	Annals__V1__ListEntitiesRequest la = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	ask("ListEntities", &la.base);
	la.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_COUNTRY;
	ask("ListEntities", &la.base);
	Annals__V1__ListDocumentsRequest ld = ANNALS__V1__LIST_DOCUMENTS_REQUEST__INIT;
	ask("ListDocuments", &ld.base);
	Annals__V1__FactsRequest fr = ANNALS__V1__FACTS_REQUEST__INIT;
	fr.document = DOC;
	ask("Facts", &fr.base);
	static const char *const names[] = {"ta", "kyr", "csto", "ra", "u"};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		Annals__V1__FindEntitiesRequest fe = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
		fe.name = (char *)names[i];
		fe.prefix = true;
		ask("FindEntities", &fe.base);
	}
	Annals__V1__DigestRequest dg = ANNALS__V1__DIGEST_REQUEST__INIT;
	ask("Digest", &dg.base);
}

/* ---- the records ---------------------------------------------------------------- */

static void load_ids(annals_client *c)
{
	Annals__V1__ListEntitiesRequest la = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	la.page_size = 1000;
	Annals__V1__EntityPage *ep = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_list_entities(c, &la, &ep, &err), ANNALS_OK);
	for (size_t i = 0; ep && i < ep->n_entities && n_entities < MAX_IDS; i++)
		entities[n_entities++] = strdup(ep->entities[i]->id);
	annals_free(ep);
	Annals__V1__ListRelationsRequest lr = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	lr.page_size = 1000;
	Annals__V1__RelationPage *rp = NULL;
	CHECK_EQ_INT(annals_list_relations(c, &lr, &rp, &err), ANNALS_OK);
	for (size_t i = 0; rp && i < rp->n_relations && n_relations < MAX_IDS; i++)
		relations[n_relations++] = strdup(rp->relations[i]->id);
	annals_free(rp);
	Annals__V1__ListEventsRequest le = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	le.page_size = 1000;
	Annals__V1__EventPage *vp = NULL;
	CHECK_EQ_INT(annals_list_events(c, &le, &vp, &err), ANNALS_OK);
	for (size_t i = 0; vp && i < vp->n_events && n_events < MAX_IDS; i++)
		events[n_events++] = strdup(vp->events[i]->id);
	annals_free(vp);
}

static Annals__V1__Evidence *cite(Annals__V1__Evidence *ev, uint32_t *sentence)
{
	annals__v1__evidence__init(ev);
	ev->document = DOC;
	ev->sentences = sentence;
	ev->n_sentences = 1;
	ev->span_start = 0;
	ev->span_end = 10;
	ev->modality = ANNALS__V1__MODALITY__MODALITY_ASSERTED;
	return ev;
}

static int put_event(annals_client *c, Annals__V1__Event *e)
{
	Annals__V1__PutEventRequest req = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	req.event = e;
	e->revision = 0;
	Annals__V1__WriteReply *wr = NULL;
	annals_error err;
	int rc = annals_put_event(c, &req, &wr, &err);
	annals_free(wr);
	return rc;
}

static int put_relation(annals_client *c, Annals__V1__Relation *r)
{
	Annals__V1__PutRelationRequest req = ANNALS__V1__PUT_RELATION_REQUEST__INIT;
	req.relation = r;
	r->revision = 0;
	Annals__V1__WriteReply *wr = NULL;
	annals_error err;
	int rc = annals_put_relation(c, &req, &wr, &err);
	annals_free(wr);
	return rc;
}

/* A new event between two entities of the data (or the two outsiders),
 * citing the founding article: its year decides whether the article's
 * derived publication bounds move. */
static int new_event(annals_client *c, int step, bool outsiders)
{
	char id[64];
	snprintf(id, sizeof(id), "ev:keep-%d", step);
	Annals__V1__Participant a = ANNALS__V1__PARTICIPANT__INIT, b = ANNALS__V1__PARTICIPANT__INIT;
	a.entity = outsiders ? "person:keep-host" : entities[pick((unsigned)n_entities)];
	b.entity = outsiders ? "person:keep-guest" : entities[pick((unsigned)n_entities)];
	a.role = "host";
	b.role = "visitor";
	Annals__V1__Participant *parts[2] = {&a, &b};
	Annals__V1__Date when;
	year(&when, 1995 + (int)pick(40));
	uint32_t s = 1 + pick(12);
	Annals__V1__Evidence ev, *evs[1] = {cite(&ev, &s)};
	Annals__V1__Event e = ANNALS__V1__EVENT__INIT;
	e.id = id;
	e.type = "meeting";
	e.when = &when;
	e.participants = parts;
	e.n_participants = strcmp(a.entity, b.entity) == 0 ? 1 : 2;
	e.status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED;
	e.evidence = evs;
	e.n_evidence = 1;
	int rc = put_event(c, &e);
	if (rc == ANNALS_OK && !outsiders && n_events < MAX_IDS)
		events[n_events++] = strdup(id);
	return rc;
}

/* A new membership or tenure, from a year or from an event's date. */
static int new_relation(annals_client *c, int step)
{
	char id[64];
	snprintf(id, sizeof(id), "rel:keep-%d", step);
	Annals__V1__Date start;
	year(&start, 1990 + (int)pick(35));
	if (pick(2) == 0 && n_events > 0) {
		start.precision = ANNALS__V1__PRECISION__PRECISION_UNSPECIFIED;
		start.year = 0;
		static char anchor[96];
		snprintf(anchor, sizeof(anchor), "event:%s", events[pick((unsigned)n_events)]);
		start.anchor = anchor;
	}
	Annals__V1__Bound b = ANNALS__V1__BOUND__INIT;
	b.kind = ANNALS__V1__BOUND_KIND__BOUND_KIND_EXACT;
	b.date = &start;
	Annals__V1__Interval valid = ANNALS__V1__INTERVAL__INIT;
	valid.start = &b;
	uint32_t s = 1 + pick(12);
	Annals__V1__Evidence ev, *evs[1] = {cite(&ev, &s)};
	Annals__V1__Relation r = ANNALS__V1__RELATION__INIT;
	r.id = id;
	r.subject = entities[pick((unsigned)n_entities)];
	r.object = entities[pick((unsigned)n_entities)];
	r.predicate = pick(2) ? "member_of" : "holds_position";
	r.status = strcmp(r.predicate, "member_of") == 0 ? "active" : "";
	r.valid = &valid;
	r.evidence = evs;
	r.n_evidence = 1;
	int rc = put_relation(c, &r);
	if (rc == ANNALS_OK && n_relations < MAX_IDS)
		relations[n_relations++] = strdup(id);
	return rc;
}

/* An entity's first name changed: every answer that shows its label. */
static int rename_entity(annals_client *c, int step)
{
	Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
	g.id = entities[pick((unsigned)n_entities)];
	Annals__V1__Entity *e = NULL;
	annals_error err;
	int rc = annals_get_entity(c, &g, &e, &err);
	if (rc != ANNALS_OK || e->n_names == 0) {
		annals_free(e);
		return rc;
	}
	char text[96];
	snprintf(text, sizeof(text), "%.60s %d", e->names[0]->text, step);
	char *was = e->names[0]->text; /* put back before the free: the reply owns it */
	e->names[0]->text = text;
	e->revision = 0;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = e;
	Annals__V1__WriteReply *wr = NULL;
	rc = annals_put_entity(c, &req, &wr, &err);
	e->names[0]->text = was;
	annals_free(wr);
	annals_free(e);
	return rc;
}

/* An event's date moved a year: relations anchored on it move too. */
static int move_event(annals_client *c)
{
	Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
	g.id = events[pick((unsigned)n_events)];
	Annals__V1__Event *e = NULL;
	annals_error err;
	int rc = annals_get_event(c, &g, &e, &err);
	if (rc != ANNALS_OK || e->when == NULL || e->when->anchor[0] != '\0' || e->when->year == 0) {
		annals_free(e);
		return rc;
	}
	e->when->year += pick(2) ? 1 : -1;
	e->when->resolved = false;
	rc = put_event(c, e);
	annals_free(e);
	return rc;
}

/* A relation's status or start changed. */
static int change_relation(annals_client *c)
{
	Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
	g.id = relations[pick((unsigned)n_relations)];
	Annals__V1__Relation *r = NULL;
	annals_error err;
	int rc = annals_get_relation(c, &g, &r, &err);
	if (rc != ANNALS_OK) {
		annals_free(r);
		return rc;
	}
	char *was = r->status;
	if (strcmp(r->predicate, "member_of") == 0)
		r->status = strcmp(r->status, "suspended") == 0 ? "active" : "suspended";
	else if (r->valid && r->valid->start && r->valid->start->date && r->valid->start->date->year)
		r->valid->start->date->year -= 1 + (int)pick(3);
	rc = put_relation(c, r);
	r->status = was;
	annals_free(r);
	return rc;
}

static int delete_one(annals_client *c)
{
	Annals__V1__DeleteRequest d = ANNALS__V1__DELETE_REQUEST__INIT;
	Annals__V1__WriteReply *wr = NULL;
	annals_error err;
	int rc;
	if (pick(2) && n_relations > 1) {
		size_t i = pick((unsigned)n_relations);
		d.id = relations[i];
		rc = annals_delete_relation(c, &d, &wr, &err);
		if (rc == ANNALS_OK) {
			free(relations[i]);
			relations[i] = relations[--n_relations];
		}
	} else {
		size_t i = pick((unsigned)n_events);
		d.id = events[i];
		rc = annals_delete_event(c, &d, &wr, &err); /* refused while relations are anchored on it */
		if (rc == ANNALS_OK) {
			free(events[i]);
			events[i] = events[--n_events];
		}
	}
	annals_free(wr);
	return rc;
}

/* The founding article's publication date set, or cleared again. */
static int toggle_published(annals_client *c)
{
	Annals__V1__GetRequest g = ANNALS__V1__GET_REQUEST__INIT;
	g.id = DOC;
	Annals__V1__Document *d = NULL;
	annals_error err;
	int rc = annals_get_document(c, &g, &d, &err);
	if (rc != ANNALS_OK) {
		annals_free(d);
		return rc;
	}
	Annals__V1__Date when, *was = d->published;
	d->published = was != NULL ? NULL : year(&when, 2024);
	d->revision = 0;
	Annals__V1__PutDocumentRequest req = ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT;
	req.document = d;
	Annals__V1__WriteReply *wr = NULL;
	rc = annals_put_document(c, &req, &wr, &err);
	d->published = was;
	annals_free(wr);
	annals_free(d);
	return rc;
}

/* ---- asking twice ---------------------------------------------------------------- */

typedef struct answer {
	int rc;
	uint8_t *body; /* the reply, or the error's message */
	size_t len;
} answer;

static answer call(annals_client *c, const char *method, const uint8_t *body, size_t len)
{
	answer a = {0};
	void *reply = NULL;
	annals_error err;
	a.rc = annals_call_raw(c, method, body, len, &reply, &a.len, NULL, &err);
	a.body = reply;
	if (a.rc != ANNALS_OK) {
		a.body = (uint8_t *)strdup(err.message);
		a.len = strlen(err.message);
	}
	return a;
}

/* Field 1000, varint: unknown to every request, so the server reads the
 * same question from different bytes, which no cached answer is kept under. */
static size_t with_nonce(const question *q, uint8_t *out, uint32_t nonce)
{
	memcpy(out, q->body, q->len);
	size_t n = q->len;
	uint32_t tag = (1000u << 3) | 0u;
	for (; tag >= 0x80; tag >>= 7)
		out[n++] = (uint8_t)(tag | 0x80);
	out[n++] = (uint8_t)tag;
	for (; nonce >= 0x80; nonce >>= 7)
		out[n++] = (uint8_t)(nonce | 0x80);
	out[n++] = (uint8_t)nonce;
	return n;
}

static uint64_t differ, answered, changed;
static answer last[MAX_Q];

static void ask_twice_all(annals_client *c, uint32_t nonce)
{
	uint8_t *buf = malloc(64 * 1024);
	for (size_t i = 0; i < n_qs; i++) {
		const question *q = &qs[i];
		answer kept = call(c, q->method, q->body, q->len);
		answer fresh = call(c, q->method, buf, with_nonce(q, buf, nonce));
		bool same = kept.rc == fresh.rc && kept.len == fresh.len &&
		            (kept.len == 0 || memcmp(kept.body, fresh.body, kept.len) == 0);
		if (!same && differ++ < 5)
			fprintf(
			    stderr,
			    "  differs after write %u: %s question %zu: status %d/%d, %zu/%zu bytes%s%.*s\n",
			    nonce, q->method, i, kept.rc, fresh.rc, kept.len, fresh.len, fresh.rc ? ": " : "",
			    fresh.rc ? (int)fresh.len : 0, fresh.rc ? (const char *)fresh.body : "");
		if (kept.rc == ANNALS_OK)
			answered++;
		if (last[i].rc != kept.rc || last[i].len != kept.len ||
		    (kept.len && memcmp(last[i].body, kept.body, kept.len) != 0))
			changed++;
		free(last[i].body);
		last[i] = kept;
		free(fresh.body);
	}
	free(buf);
}

/* ---- metrics ---------------------------------------------------------------------- */

static long long cache_count(const char *event)
{
	char *page = th_http_get(metrics_port, "/metrics"), want[96];
	snprintf(want, sizeof(want), "annals_reply_cache_total{event=\"%s\"} ", event);
	const char *p = page ? strstr(page, want) : NULL;
	long long n = p ? atoll(p + strlen(want)) : -1;
	free(page);
	return n;
}

static void test_kept_answers_are_the_fresh_ones(void)
{
	annals_client *c = th_client(&srv, 30000);
	CHECK_EQ_INT(th_put_person(c, "person:keep-host", NULL), ANNALS_OK);
	CHECK_EQ_INT(th_put_person(c, "person:keep-guest", NULL), ANNALS_OK);
	load_ids(c);
	CHECK(n_entities > 10 && n_relations > 5 && n_events > 3);
	ask_everything();
	ask_twice_all(c, 0);
	changed = 0;
	long long kept0 = cache_count("kept");
	int writes = 0, refused = 0;
	for (int step = 1; step <= N_STEPS; step++) {
		int rc;
		switch (pick(9)) {
		case 0:
			rc = rename_entity(c, step);
			break;
		case 1:
			rc = move_event(c);
			break;
		case 2:
			rc = new_relation(c, step);
			break;
		case 3:
			rc = change_relation(c);
			break;
		case 4:
			rc = new_event(c, step, false);
			break;
		case 5:
			rc = delete_one(c);
			break;
		case 6:
			rc = step % 3 == 0 ? toggle_published(c) : new_event(c, step, true);
			break;
		default:
			rc = new_event(c, step, true);
			break; /* touches nothing asked about */
		}
		if (rc == ANNALS_OK)
			writes++;
		else
			refused++;
		ask_twice_all(c, (uint32_t)step);
	}
	long long kept = cache_count("kept") - kept0;
	fprintf(stderr,
	        "  %d writes (%d refused), %zu questions each time: %llu answered, %llu changed, "
	        "%lld kept across commits, %llu differ\n",
	        writes, refused, n_qs, (unsigned long long)answered, (unsigned long long)changed, kept,
	        (unsigned long long)differ);
	CHECK_EQ_INT((int)differ, 0);
	CHECK(writes >= N_STEPS / 2);
	CHECK(changed > 0); /* the writes changed answers */
	CHECK(kept > 0);    /* and left others standing */
	annals_close(c);
}

int main(void)
{
	metrics_port = th_free_port();
	char mlisten[64], *murl = mlisten;
	snprintf(mlisten, sizeof(mlisten), "http://127.0.0.1:%d", metrics_port);
	const char *extra[] = {"--reply-cache-mb", "16", "--metrics-listen", murl, NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		fprintf(stderr, "could not start annalsd\n");
		return 1;
	}
	RUN(test_kept_answers_are_the_fresh_ones);
	th_stop(&srv);
	th_cleanup(&srv);
	for (size_t i = 0; i < n_qs; i++) {
		free(qs[i].body);
		free(last[i].body);
	}
	for (size_t i = 0; i < n_entities; i++)
		free(entities[i]);
	for (size_t i = 0; i < n_relations; i++)
		free(relations[i]);
	for (size_t i = 0; i < n_events; i++)
		free(events[i]);
	return CHECK_DONE();
}

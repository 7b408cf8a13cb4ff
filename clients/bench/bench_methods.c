/*
 * The methods a workload can call, and how each builds its request
 * templates from the key source. Everything protobuf happens here, before
 * the run; the driver only copies bytes and fills in digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "annals/v1/service.pb-c.h"
#include "bench.h"

#define GEN_NAME_POOL 4096 /* distinct generated names pre-packed for Find/Resolve */

static int rs_alloc(bench_reqset *rs, size_t n)
{
	rs->tmpl = calloc(n ? n : 1, sizeof(*rs->tmpl));
	rs->n_tmpl = n;
	return rs->tmpl ? 0 : -1;
}

/* "2019", "2019-05", "2019-05-01" into an absolute Date; the server
 * resolves it (resolved/earliest/latest are the server's to set). */
static void date_from_text(Annals__V1__Date *d, const char *s)
{
	annals__v1__date__init(d);
	int y = 0, m = 0, day = 0;
	int n = sscanf(s, "%d-%d-%d", &y, &m, &day);
	d->year = y;
	d->month = n >= 2 ? m : 0;
	d->day = n >= 3 ? day : 0;
	d->precision = n >= 3   ? ANNALS__V1__PRECISION__PRECISION_DAY
	               : n == 2 ? ANNALS__V1__PRECISION__PRECISION_MONTH
	                        : ANNALS__V1__PRECISION__PRECISION_YEAR;
}

/* Generated entity ids: one template per id prefix, the digits patched in. */
static int gen_variant(uint64_t key)
{
	switch (bench_gen_entity_type(key)) {
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON:
		return 0;
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION:
		return 1;
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PLACE:
		return 2;
	default:
		return 3;
	}
}

static const int gen_variant_types[4] = {
    ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON,
    ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION,
    ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PLACE,
    ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP,
};

static void gen_entity_marked_id(int variant, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s:gen-", bench_gen_entity_prefix(gen_variant_types[variant]));
	memset(buf + n, BENCH_MARK_KEY, BENCH_KEY_DIGITS);
	buf[n + BENCH_KEY_DIGITS] = '\0';
}

/* A method whose request names one entity: fill() puts the id into the
 * request, then it is packed once per built-in entity, or once per
 * generated id prefix. */
typedef void (*entity_fill_fn)(void *req, const char *id);

static int build_by_entity(bench_reqset *rs, const bench_build_ctx *bc, void *req, entity_fill_fn fill)
{
	const char *rpc = bench_methods[rs->method].rpc;
	if (bc->keys->kind == BENCH_KEYS_GEN) {
		if (rs_alloc(rs, 4) != 0)
			return -1;
		for (int v = 0; v < 4; v++) {
			char id[64];
			gen_entity_marked_id(v, id, sizeof(id));
			fill(req, id);
			int rc = bench_tmpl_from_msg(&rs->tmpl[v], rpc, req, NULL, bc->token, bc->timeout_ms);
			fill(req, ""); /* req outlives id */
			if (rc != 0)
				return -1;
		}
		rs->key_space = bc->keys->gen_entities;
		rs->key_is_variant = false;
		rs->variant_of = gen_variant;
		return 0;
	}
	if (rs_alloc(rs, bench_n_seed_entities) != 0)
		return -1;
	for (size_t i = 0; i < bench_n_seed_entities; i++) {
		fill(req, bench_seed_entities[i]);
		if (bench_tmpl_from_msg(&rs->tmpl[i], rpc, req, NULL, bc->token, bc->timeout_ms) != 0)
			return -1;
	}
	rs->key_space = rs->n_tmpl;
	rs->key_is_variant = true;
	return 0;
}

/* A method whose request is a name: the built-in names, or a pool of
 * generated display names and aliases. */
typedef void (*name_fill_fn)(void *req, const char *name);

static int build_by_name(bench_reqset *rs, const bench_build_ctx *bc, void *req, name_fill_fn fill)
{
	const char *rpc = bench_methods[rs->method].rpc;
	bool gen = bc->keys->kind == BENCH_KEYS_GEN;
	size_t n = bench_n_seed_names;
	if (gen)
		n = bc->keys->gen_entities < GEN_NAME_POOL ? (size_t)bc->keys->gen_entities : GEN_NAME_POOL;
	if (rs_alloc(rs, n) != 0)
		return -1;
	bench_rng rng = {0x5eed};
	for (size_t i = 0; i < n; i++) {
		char name[160];
		if (gen) {
			uint64_t e = bench_rng_below(&rng, bc->keys->gen_entities);
			if (i % 4 == 3)
				bench_gen_entity_alias(e, name, sizeof(name));
			else
				bench_gen_entity_name(e, name, sizeof(name));
		} else {
			snprintf(name, sizeof(name), "%s", bench_seed_names[i]);
		}
		fill(req, name);
		int rc = bench_tmpl_from_msg(&rs->tmpl[i], rpc, req, NULL, bc->token, bc->timeout_ms);
		fill(req, ""); /* req outlives name */
		if (rc != 0)
			return -1;
	}
	rs->key_space = n;
	rs->key_is_variant = true;
	return 0;
}

/* A knowledge query "as of": every built-in subject crossed with every date. */
typedef void (*asof_fill_fn)(void *req, const char *id, Annals__V1__Date *at);

static int build_asof(bench_reqset *rs, const bench_build_ctx *bc, void *req, const char *const *ids,
                      size_t n_ids, asof_fill_fn fill)
{
	const char *rpc = bench_methods[rs->method].rpc;
	if (rs_alloc(rs, n_ids * bench_n_seed_dates) != 0)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n_ids; i++) {
		for (size_t j = 0; j < bench_n_seed_dates; j++) {
			Annals__V1__Date at;
			date_from_text(&at, bench_seed_dates[j]);
			fill(req, ids[i], &at);
			int rc =
			    bench_tmpl_from_msg(&rs->tmpl[k++], rpc, req, NULL, bc->token, bc->timeout_ms);
			fill(req, "", NULL); /* req outlives at */
			if (rc != 0)
				return -1;
		}
	}
	rs->key_space = rs->n_tmpl;
	rs->key_is_variant = true;
	return 0;
}

/* ---- the methods --------------------------------------------------------------- */

static int build_health(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
	if (rs_alloc(rs, 1) != 0)
		return -1;
	rs->key_space = 1;
	rs->key_is_variant = true;
	return bench_tmpl_from_msg(&rs->tmpl[0], "Health", &req, NULL, bc->token, bc->timeout_ms);
}

static void fill_get(void *req, const char *id)
{
	((Annals__V1__GetRequest *)req)->id = (char *)id;
}

static int build_get_entity(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	return build_by_entity(rs, bc, &req, fill_get);
}

static int build_get_event(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	if (bc->keys->kind == BENCH_KEYS_GEN) {
		char id[64];
		int n = snprintf(id, sizeof(id), "ev:gen-");
		memset(id + n, BENCH_MARK_KEY, BENCH_EVENT_DIGITS);
		id[n + BENCH_EVENT_DIGITS] = '\0';
		req.id = id;
		if (rs_alloc(rs, 1) != 0)
			return -1;
		rs->key_space = bc->keys->gen_events;
		rs->key_is_variant = false;
		rs->variant_of = NULL;
		return bench_tmpl_from_msg(&rs->tmpl[0], "GetEvent", &req, NULL, bc->token, bc->timeout_ms);
	}
	if (rs_alloc(rs, bench_n_seed_events) != 0)
		return -1;
	for (size_t i = 0; i < bench_n_seed_events; i++) {
		req.id = (char *)bench_seed_events[i];
		if (bench_tmpl_from_msg(&rs->tmpl[i], "GetEvent", &req, NULL, bc->token, bc->timeout_ms) != 0)
			return -1;
	}
	rs->key_space = rs->n_tmpl;
	rs->key_is_variant = true;
	return 0;
}

static void fill_find(void *req, const char *name)
{
	Annals__V1__FindEntitiesRequest *r = req;
	r->name = (char *)name;
	r->limit = 10;
}

static int build_find(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__FindEntitiesRequest req = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
	return build_by_name(rs, bc, &req, fill_find);
}

static void fill_resolve(void *req, const char *name)
{
	((Annals__V1__ResolveRequest *)req)->name = (char *)name;
}

static int build_resolve(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__ResolveRequest req = ANNALS__V1__RESOLVE_REQUEST__INIT;
	return build_by_name(rs, bc, &req, fill_resolve);
}

static void fill_events(void *req, const char *id)
{
	Annals__V1__ListEventsRequest *r = req;
	r->participant = (char *)id;
	r->page_size = 20;
}

static int build_list_events(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__ListEventsRequest req = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	return build_by_entity(rs, bc, &req, fill_events);
}

static void fill_timeline(void *req, const char *id)
{
	((Annals__V1__TimelineRequest *)req)->entity = (char *)id;
}

static int build_timeline(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__TimelineRequest req = ANNALS__V1__TIMELINE_REQUEST__INIT;
	return build_by_entity(rs, bc, &req, fill_timeline);
}

static void fill_members(void *req, const char *id, Annals__V1__Date *at)
{
	Annals__V1__MembersRequest *r = req;
	r->organization = (char *)id;
	r->at = at;
}

static int build_members(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__MembersRequest req = ANNALS__V1__MEMBERS_REQUEST__INIT;
	return build_asof(rs, bc, &req, bench_seed_orgs, bench_n_seed_orgs, fill_members);
}

static void fill_holder(void *req, const char *id, Annals__V1__Date *at)
{
	Annals__V1__HolderRequest *r = req;
	r->position = (char *)id;
	r->at = at;
}

static int build_holder(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__HolderRequest req = ANNALS__V1__HOLDER_REQUEST__INIT;
	return build_asof(rs, bc, &req, bench_seed_positions, bench_n_seed_positions, fill_holder);
}

static void fill_relations(void *req, const char *id, Annals__V1__Date *at)
{
	Annals__V1__RelationsRequest *r = req;
	r->entity = (char *)id;
	r->at = at;
}

static int build_relations(bench_reqset *rs, const bench_build_ctx *bc)
{
	Annals__V1__RelationsRequest req = ANNALS__V1__RELATIONS_REQUEST__INIT;
	return build_asof(rs, bc, &req, bench_seed_entities, bench_n_seed_entities, fill_relations);
}

/* PutEvent: a new event per call (a put of identical bytes would be
 * answered "unchanged" without a commit, and measure nothing). Its id and
 * the Call's request_id carry the run's nonce and the call's sequence
 * number. The summary is padded so the packed event is about --payload
 * bytes. Its shape (two participants, a day-precision date, evidence) is
 * that of a typical event, so the writer does the usual index work. */
static int build_put_event(bench_reqset *rs, const bench_build_ctx *bc)
{
	char id[64], rid[64];
	char seq[BENCH_SEQ_DIGITS + 1];
	memset(seq, BENCH_MARK_SEQ, BENCH_SEQ_DIGITS);
	seq[BENCH_SEQ_DIGITS] = '\0';
	snprintf(id, sizeof(id), "ev:bench-%s-%s", bc->nonce, seq);
	snprintf(rid, sizeof(rid), "r-bench-%s-%s", bc->nonce, seq);
	/* Participants outside the read keys: thousands of bench events on
	 * Rahmon's timeline would slow the Timeline and ListEvents rows that
	 * run after the writes. (run_prepare puts them: references must exist.) */
	Annals__V1__Participant a = ANNALS__V1__PARTICIPANT__INIT, b = ANNALS__V1__PARTICIPANT__INIT;
	a.entity = BENCH_WRITE_HOST;
	a.role = "host";
	b.entity = BENCH_WRITE_VISITOR;
	b.role = "visitor";
	Annals__V1__Participant *parts[2] = {&a, &b};
	Annals__V1__Date when;
	date_from_text(&when, "2021-03-14");
	uint32_t sentences[1] = {1};
	Annals__V1__Evidence ev = ANNALS__V1__EVIDENCE__INIT;
	ev.document = "doc:ad6eff3e562ac92b";
	ev.sentences = sentences;
	ev.n_sentences = 1;
	ev.span_start = 0;
	ev.span_end = 120;
	ev.modality = ANNALS__V1__MODALITY__MODALITY_REPORTED;
	Annals__V1__Evidence *evs[1] = {&ev};
	Annals__V1__Event e = ANNALS__V1__EVENT__INIT;
	e.id = id;
	e.type = "meeting";
	e.when = &when;
	e.participants = parts;
	e.n_participants = 2;
	e.status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED;
	e.evidence = evs;
	e.n_evidence = 1;
	e.summary = "";
	size_t base = annals__v1__event__get_packed_size(&e);
	size_t want = bc->payload > base + 3 ? bc->payload - base - 3 : 0; /* 3: tag + length bytes */
	char *summary = malloc(want + 1);
	if (summary == NULL)
		return -1;
	static const char words[] = "The delegations met to discuss border security and trade. ";
	for (size_t i = 0; i < want; i++)
		summary[i] = words[i % (sizeof(words) - 1)];
	summary[want] = '\0';
	e.summary = summary;
	Annals__V1__PutEventRequest req = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	req.event = &e;
	int rc = rs_alloc(rs, 1);
	if (rc == 0)
		rc = bench_tmpl_from_msg(&rs->tmpl[0], "PutEvent", &req, rid, bc->token, bc->timeout_ms);
	free(summary);
	rs->key_space = 1;
	rs->key_is_variant = true;
	return rc;
}

const bench_method bench_methods[] = {
    {"health", "Health", false, "Health: the cheapest call through dispatch", build_health},
    {"get", "GetEntity", false, "GetEntity by id", build_get_entity},
    {"getevent", "GetEvent", false, "GetEvent by id", build_get_event},
    {"find", "FindEntities", false, "FindEntities by a name or alias (limit 10)", build_find},
    {"events", "ListEvents", false, "ListEvents of a participant (page of 20)", build_list_events},
    {"timeline", "Timeline", false, "Timeline of an entity", build_timeline},
    {"members", "Members", false, "Members of an organization as of a date", build_members},
    {"holder", "Holder", false, "Holder of a position as of a date", build_holder},
    {"relations", "Relations", false, "Relations of an entity as of a date", build_relations},
    {"resolve", "Resolve", false, "Resolve a name to candidates", build_resolve},
    {"put", "PutEvent", true, "PutEvent of a new event, durable (group commit)", build_put_event},
};
const int bench_n_methods = (int)(sizeof(bench_methods) / sizeof(bench_methods[0]));

int bench_method_find(const char *name)
{
	for (int i = 0; i < bench_n_methods; i++)
		if (strcasecmp(name, bench_methods[i].name) == 0 ||
		    strcasecmp(name, bench_methods[i].rpc) == 0)
			return i;
	return -1;
}

/*
 * annals-bench gen: builds a synthetic data set and loads it through the
 * service, as Batch calls of up to 10000 ops (the server's limit), several
 * in flight so that building the next Batch overlaps the server applying
 * the last one. Each Batch carries a request_id derived from the seed and
 * its number, so a resent Batch (after a timeout) is applied once.
 *
 * One thread per Batch in flight, each with its own client (connection):
 * the work per Batch is large (megabytes), so threads cost nothing here,
 * and the blocking client library keeps this file short.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"
#include "bench_gen.h"

#define LOAD_MAX_THREADS 64
#define LOAD_RETRIES     8

typedef struct load_opts {
	const char *url, *token;
	uint64_t entities, events, documents, seed;
	uint64_t batch;
	int in_flight;
	bool json, dry_run, quiet, bulk;
} load_opts;

typedef struct load_state {
	const load_opts *o;
	size_t max_message;
	/* Batches in three phases, documents, entities, events: a record may
	 * only name records that exist, so a phase starts once the one before
	 * it is acknowledged whole (phase_done). */
	uint64_t doc_batches, entity_batches, event_batches;
	_Atomic uint64_t next_batch;
	_Atomic uint64_t phase_done[3];
	_Atomic uint64_t entities_done, events_done, bytes_sent, batches_done;
	_Atomic uint64_t build_ns, call_ns; /* summed over threads: where the time goes */
	atomic_bool failed;
	/* --bulk: parts are numbered as they are sent (next_part); part 1 goes
	 * alone, since it starts the load, then the others in any order, as
	 * many at once as there are threads (the server checks them in
	 * parallel and writes them in number order). */
	_Atomic uint32_t next_part, parts_sent;
	atomic_bool part1_done;
	char load_id[64];
	uint64_t commit_ms, bulk_written, bulk_unchanged;
	_Atomic int running; /* worker threads still going */
	pthread_mutex_t mu;
	char error[600];
} load_state;

static void load_usage(FILE *out)
{
	fprintf(out, "usage: annals-bench gen [--entities N] [--events M] [options]\n"
	             "\n"
	             "Generates a synthetic data set with the shapes of real news data (people,\n"
	             "organizations, places and groups with names and ambiguous aliases; events with\n"
	             "2-4 participants, places, dates at day, month and year precision, some relative\n"
	             "to a document) and loads it through annalsd's Batch call. Ids are\n"
	             "person:gen-0000123 and ev:gen-000000001; drive them afterwards with\n"
	             "`annals-bench --keys gen:N:M`. The same seed makes the same records, so a rerun\n"
	             "changes nothing (the server answers \"unchanged\").\n"
	             "\n"
	             "  --entities N       entities (default 10000; k/M suffixes work)\n"
	             "  --events M         events (default 100000)\n"
	             "  --documents D      documents cited as evidence (default events/50; stored first,\n"
	             "                     bare: references must name records that exist)\n"
	             "  -u, --url URL      server (default $ANNALS_URL or tcp://127.0.0.1:7700)\n"
	             "      --token T      bearer token with the writer role (default $ANNALS_TOKEN)\n"
	             "      --batch N      ops per Batch (default and most: 10000, the server's limit); a\n"
	             "                     Batch over the server's message limit is split\n"
	             "  -c, --in-flight N  Batches in flight (default 2)\n"
	             "      --seed S       (default 1)\n"
	             "      --bulk         load through BulkLoad instead: parts staged (checked by the\n"
	             "                     server as they come, -c at once), then one commit that writes\n"
	             "                     everything in one transaction with sorted keys (admin token)\n"
	             "      --dry-run      build and pack everything but send nothing: the client's cost\n"
	             "      --json         one JSON object on stdout\n"
	             "  -q, --quiet        no progress line\n"
	             "  -h, --help         this text\n");
}

/* ---- one Batch ------------------------------------------------------------------ */

static Annals__V1__BatchRequest *load_build(load_state *st, ar_arena *a, uint64_t b, uint64_t *n_ent,
                                            uint64_t *n_ev)
{
	const load_opts *o = st->o;
	Annals__V1__BatchRequest *req = AR_NEW(a, Annals__V1__BatchRequest, ANNALS__V1__BATCH_REQUEST__INIT);
	bool docs = b < st->doc_batches;
	if (!docs)
		b -= st->doc_batches;
	bool entities = !docs && b < st->entity_batches;
	uint64_t first = (docs || entities ? b : b - st->entity_batches) * o->batch;
	uint64_t end = first + o->batch, limit = docs ? o->documents : entities ? o->entities : o->events;
	if (end > limit)
		end = limit;
	req->n_ops = (size_t)(end - first);
	req->ops = ar_alloc(a, req->n_ops * sizeof(*req->ops));
	Annals__V1__Op *ops = ar_alloc(a, req->n_ops * sizeof(*ops));
	for (uint64_t i = first; i < end; i++) {
		Annals__V1__Op *op = &ops[i - first];
		annals__v1__op__init(op);
		if (docs) {
			Annals__V1__Document *d = AR_NEW(a, Annals__V1__Document, ANNALS__V1__DOCUMENT__INIT);
			d->id = ar_printf(a, "doc:gen-%06llu", (unsigned long long)i);
			d->title = "a generated document";
			op->op_case = ANNALS__V1__OP__OP_PUT_DOCUMENT;
			op->put_document = d;
		} else if (entities) {
			op->op_case = ANNALS__V1__OP__OP_PUT_ENTITY;
			op->put_entity = bench_gen_entity(a, o->seed, i, o->documents);
		} else {
			op->op_case = ANNALS__V1__OP__OP_PUT_EVENT;
			op->put_event = bench_gen_event(a, o->seed, i, o->entities, o->documents);
		}
		req->ops[i - first] = op;
	}
	*n_ent = entities ? end - first : 0;
	*n_ev = docs || entities ? 0 : end - first;
	return req;
}

static int load_phase(const load_state *st, uint64_t b)
{
	return b < st->doc_batches ? 0 : b < st->doc_batches + st->entity_batches ? 1 : 2;
}

/* Waits until every Batch of the phases before b's is acknowledged;
 * false when the load failed or was interrupted meanwhile. */
static bool load_wait_phase(load_state *st, uint64_t b)
{
	uint64_t want[3] = {st->doc_batches, st->entity_batches, st->event_batches};
	for (int p = 0; p < load_phase(st, b); p++)
		while (atomic_load(&st->phase_done[p]) < want[p]) {
			if (atomic_load(&st->failed) || atomic_load(&bench_interrupted))
				return false;
			bench_sleep_until_ns(bench_now_ns() + 1000000ull);
		}
	return true;
}

/* The first failure stops every worker; its message is the one shown. */
static void load_fail(load_state *st, const char *what, const char *detail)
{
	pthread_mutex_lock(&st->mu);
	if (!atomic_exchange(&st->failed, true))
		snprintf(st->error, sizeof(st->error), "%s%s", what, detail);
	pthread_mutex_unlock(&st->mu);
}

static bool load_retryable(int rc)
{
	return rc == ANNALS_UNAVAILABLE || rc == ANNALS_DEADLINE_EXCEEDED || rc == ANNALS_RESOURCE_EXHAUSTED;
}

/* One call of the load (a Batch or a part), retried with backoff while the
 * server is busy; the same request_id each time, so it is applied once. */
static int load_call(load_state *st, annals_client *c, const char *method, const uint8_t *buf, size_t len,
                     const char *rid, annals_error *err)
{
	if (st->o->dry_run)
		return ANNALS_OK;
	int rc = ANNALS_OK;
	annals_call_opts co = {.timeout_ms = 600000, .request_id = rid};
	for (int attempt = 0; attempt < LOAD_RETRIES; attempt++) {
		void *reply = NULL;
		size_t rlen = 0;
		rc = annals_call_raw(c, method, buf, len, &reply, &rlen, &co, err);
		free(reply);
		if (!load_retryable(rc))
			break;
		bench_sleep_until_ns(bench_now_ns() + 250000000ull * (uint64_t)(attempt + 1));
	}
	return rc;
}

/* Sends ops [from, to) of req as one Batch; halves it when it is over the
 * server's message limit. */
static int load_send(load_state *st, annals_client *c, Annals__V1__BatchRequest *req, size_t from, size_t to,
                     const char *rid)
{
	Annals__V1__BatchRequest part = *req;
	part.ops = req->ops + from;
	part.n_ops = to - from;
	size_t len = annals__v1__batch_request__get_packed_size(&part);
	if (len + 512 > st->max_message && to - from > 1) {
		char rid_a[80], rid_b[80];
		snprintf(rid_a, sizeof(rid_a), "%s.a", rid);
		snprintf(rid_b, sizeof(rid_b), "%s.b", rid);
		size_t mid = from + (to - from) / 2;
		return load_send(st, c, req, from, mid, rid_a) || load_send(st, c, req, mid, to, rid_b);
	}
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL) {
		load_fail(st, "out of memory packing a Batch", "");
		return -1;
	}
	annals__v1__batch_request__pack(&part, buf);
	atomic_fetch_add(&st->bytes_sent, len);
	annals_error err = {0};
	int rc = load_call(st, c, "Batch", buf, len, rid, &err);
	free(buf);
	if (rc != ANNALS_OK) {
		char what[80];
		snprintf(what, sizeof(what), "Batch %s failed: %s: ", rid, annals_status_name(rc));
		load_fail(st, what, err.message);
		return -1;
	}
	return 0;
}

/* --bulk: ops [from, to) of req as BulkLoad parts (halved while over the
 * server's message limit), each numbered as it is sent; any part after
 * the first waits until part 1 is answered (it starts the load). */
static int load_send_bulk(load_state *st, annals_client *c, Annals__V1__BatchRequest *req, size_t from,
                          size_t to, ar_arena *a)
{
	Annals__V1__BulkLoadRequest part = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	for (size_t i = from; i < to; i++) {
		Annals__V1__Op *op = req->ops[i];
		if (op->op_case == ANNALS__V1__OP__OP_PUT_DOCUMENT)
			AR_PUSH(a, part.documents, part.n_documents, op->put_document);
		else if (op->op_case == ANNALS__V1__OP__OP_PUT_ENTITY)
			AR_PUSH(a, part.entities, part.n_entities, op->put_entity);
		else
			AR_PUSH(a, part.events, part.n_events, op->put_event);
	}
	part.load_id = st->load_id;
	part.part = UINT32_MAX; /* the largest varint: the size below holds for any number */
	size_t len = annals__v1__bulk_load_request__get_packed_size(&part);
	if (len + 512 > st->max_message && to - from > 1) {
		size_t mid = from + (to - from) / 2;
		return load_send_bulk(st, c, req, from, mid, a) || load_send_bulk(st, c, req, mid, to, a);
	}
	part.part = atomic_fetch_add(&st->next_part, 1) + 1;
	while (part.part > 1 && !atomic_load(&st->part1_done) && !atomic_load(&st->failed) &&
	       !atomic_load(&bench_interrupted))
		bench_sleep_until_ns(bench_now_ns() + 200000ull);
	len = annals__v1__bulk_load_request__get_packed_size(&part);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL) {
		load_fail(st, "out of memory packing a part", "");
		return -1;
	}
	annals__v1__bulk_load_request__pack(&part, buf);
	atomic_fetch_add(&st->bytes_sent, len);
	char rid[96];
	snprintf(rid, sizeof(rid), "r-%s-part-%u", st->load_id, part.part);
	annals_error err = {0};
	int rc = load_call(st, c, "BulkLoad", buf, len, rid, &err);
	free(buf);
	if (rc != ANNALS_OK) {
		char what[80];
		snprintf(what, sizeof(what), "BulkLoad part %u failed: %s: ", part.part,
		         annals_status_name(rc));
		load_fail(st, what, err.message);
		return -1;
	}
	atomic_fetch_add(&st->parts_sent, 1);
	if (part.part == 1)
		atomic_store(&st->part1_done, true);
	return 0;
}

/* --bulk, after a failure: the staged parts are dropped, so the load does
 * not hold the server's one load slot until it is dropped as idle. */
static void load_abort_bulk(load_state *st)
{
	annals_client *c = NULL;
	annals_error err = {0};
	annals_options ao = {.timeout_ms = 5000, .token = st->o->token};
	if (annals_open(&c, st->o->url, &ao, &err) != ANNALS_OK)
		return;
	Annals__V1__BulkLoadRequest req = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	req.load_id = st->load_id;
	req.abort = true;
	char rid[96];
	snprintf(rid, sizeof(rid), "r-%s-abort", st->load_id);
	annals_call_opts co = {.request_id = rid};
	ProtobufCMessage *rep = NULL;
	if (annals_call(c, "BulkLoad", &req.base, &rep, &co, &err) == ANNALS_OK)
		annals_free(rep);
	annals_close(c);
}

/* --bulk: the last call, which writes everything staged. */
static int load_commit_bulk(load_state *st)
{
	annals_client *c = NULL;
	annals_error err = {0};
	annals_options ao = {.timeout_ms = 3600000, .token = st->o->token};
	if (annals_open(&c, st->o->url, &ao, &err) != ANNALS_OK) {
		load_fail(st, err.message, "");
		return -1;
	}
	Annals__V1__BulkLoadRequest req = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	req.load_id = st->load_id;
	req.part = atomic_load(&st->parts_sent);
	req.commit = true;
	Annals__V1__BulkLoadReply *rep = NULL;
	char rid[96];
	snprintf(rid, sizeof(rid), "r-%s-commit", st->load_id);
	annals_call_opts co = {.timeout_ms = 3600000, .request_id = rid};
	/* past nng's resend time (a minute) the REQ socket sends the commit
	 * again, and that copy is answered UNAVAILABLE while the first runs:
	 * asked again until the first answer comes back from the request log */
	int rc;
	uint64_t until = bench_now_ns() + 3600ull * 1000000000ull;
	while ((rc = annals_call(c, "BulkLoad", &req.base, (ProtobufCMessage **)&rep, &co, &err)) ==
	           ANNALS_UNAVAILABLE &&
	       bench_now_ns() < until && !atomic_load(&bench_interrupted))
		bench_sleep_until_ns(bench_now_ns() + 1000000000ull);
	if (rc == ANNALS_OK) {
		st->commit_ms = rep->took_ms;
		st->bulk_written = rep->written;
		st->bulk_unchanged = rep->unchanged;
		annals_free(rep);
	} else {
		char what[80];
		snprintf(what, sizeof(what), "BulkLoad commit failed: %s: ", annals_status_name(rc));
		load_fail(st, what, err.message);
	}
	annals_close(c);
	return rc == ANNALS_OK ? 0 : -1;
}

static void *load_thread(void *arg)
{
	load_state *st = arg;
	annals_client *c = NULL;
	annals_error err;
	annals_options ao = {.timeout_ms = 600000, .token = st->o->token, .max_message_bytes = 64u << 20};
	if (!st->o->dry_run && annals_open(&c, st->o->url, &ao, &err) != ANNALS_OK) {
		load_fail(st, err.message, "");
		atomic_fetch_sub(&st->running, 1);
		return NULL;
	}
	ar_arena a;
	ar_init(&a);
	ar_alloc(&a, 48u << 20); /* one big first block: ar_reset keeps it for every Batch */
	ar_reset(&a);
	uint64_t total = st->doc_batches + st->entity_batches + st->event_batches;
	for (;;) {
		uint64_t b = atomic_fetch_add(&st->next_batch, 1);
		if (b >= total || atomic_load(&st->failed) || atomic_load(&bench_interrupted))
			break;
		if (!st->o->bulk && !load_wait_phase(st, b))
			break;
		uint64_t t0 = bench_now_ns(), n_ent, n_ev;
		Annals__V1__BatchRequest *req = load_build(st, &a, b, &n_ent, &n_ev);
		uint64_t t1 = bench_now_ns();
		char rid[64];
		snprintf(rid, sizeof(rid), "r-gen-%llu-%d-%llu", (unsigned long long)st->o->seed,
		         load_phase(st, b), (unsigned long long)b);
		int rc;
		if (st->o->bulk) {
			rc = load_send_bulk(st, c, req, 0, req->n_ops, &a);
		} else {
			rc = load_send(st, c, req, 0, req->n_ops, rid);
		}
		uint64_t t2 = bench_now_ns();
		ar_reset(&a);
		if (rc != 0)
			break;
		atomic_fetch_add(&st->build_ns, t1 - t0);
		atomic_fetch_add(&st->call_ns, t2 - t1);
		atomic_fetch_add(&st->entities_done, n_ent);
		atomic_fetch_add(&st->events_done, n_ev);
		atomic_fetch_add(&st->batches_done, 1);
		atomic_fetch_add(&st->phase_done[load_phase(st, b)], 1);
	}
	ar_free(&a);
	annals_close(c);
	atomic_fetch_sub(&st->running, 1);
	return NULL;
}

/* ---- the mode ------------------------------------------------------------------- */

static int load_parse(load_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"entities", required_argument, NULL, 'E'},
	    {"events", required_argument, NULL, 'V'},
	    {"documents", required_argument, NULL, 'D'},
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 'T'},
	    {"batch", required_argument, NULL, 'B'},
	    {"in-flight", required_argument, NULL, 'c'},
	    {"seed", required_argument, NULL, 'S'},
	    {"dry-run", no_argument, NULL, 'N'},
	    {"bulk", no_argument, NULL, 'K'},
	    {"json", no_argument, NULL, 'J'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->url = getenv("ANNALS_URL");
	if (o->url == NULL || *o->url == '\0')
		o->url = "tcp://127.0.0.1:7700";
	o->token = getenv("ANNALS_TOKEN");
	o->entities = 10000;
	o->events = 100000;
	/* The largest Batch is the fastest: 54k records/s at 10000 ops against
	 * 45k at 5000 and 32k at 2000 (fewer commits, and pages shared by more
	 * ops of one commit). */
	o->batch = 10000;
	o->in_flight = 2;
	o->seed = 1;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "u:c:qh", opts, NULL)) != -1) {
		int64_t v = 0;
		if (strchr("EVDBcS", opt) && (v = bench_parse_count(optarg)) < 0)
			return bench_usage_error("gen", "'%s' is not a number (k/M suffixes work)", optarg);
		switch (opt) {
		case 'E':
			o->entities = (uint64_t)v;
			break;
		case 'V':
			o->events = (uint64_t)v;
			break;
		case 'D':
			o->documents = (uint64_t)v;
			break;
		case 'B':
			o->batch = (uint64_t)v;
			break;
		case 'c':
			o->in_flight = (int)(v > LOAD_MAX_THREADS ? LOAD_MAX_THREADS : v);
			break;
		case 'S':
			o->seed = (uint64_t)v;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'T':
			o->token = optarg;
			break;
		case 'N':
			o->dry_run = true;
			break;
		case 'K':
			o->bulk = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			load_usage(stdout);
			return 1;
		default:
			return bench_usage_error("gen", "unknown or incomplete option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bench_usage_error("gen", "unexpected argument '%s'", argv[optind]);
	if (o->batch < 1 || o->batch > 10000)
		return bench_usage_error("gen", "--batch: from 1 to 10000 (the server's limit per Batch)");
	if (o->in_flight < 1)
		return bench_usage_error("gen", "--in-flight: at least 1");
	if (o->entities == 0 && o->events > 0)
		return bench_usage_error("gen", "--events need --entities to take part in them");
	if (o->entities >= 10000000ull || o->events >= 1000000000ull)
		return bench_usage_error("gen", "ids have room for < 10M entities and < 1G events");
	if (o->documents == 0)
		o->documents = o->events / 50 + 1;
	return 0;
}

/* The server's message limit, so no Batch is refused for its size. */
static int load_probe(load_state *st)
{
	const load_opts *o = st->o;
	st->max_message = 4u << 20;
	if (o->dry_run)
		return 0;
	annals_client *c;
	annals_error err;
	annals_options ao = {.timeout_ms = 5000, .token = o->token};
	if (annals_open(&c, o->url, &ao, &err) != ANNALS_OK) {
		fprintf(stderr, "annals-bench gen: %s\n", err.message);
		return -1;
	}
	Annals__V1__ServerInfoRequest req = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *info = NULL;
	int rc = annals_server_info(c, &req, &info, &err);
	if (rc == ANNALS_OK) {
		if (info->max_message_bytes)
			st->max_message = info->max_message_bytes;
		annals_free(info);
	} else {
		fprintf(stderr, "annals-bench gen: ServerInfo at %s: %s: %s\n", o->url,
		        annals_status_name(rc), err.message);
	}
	annals_close(c);
	return rc == ANNALS_OK ? 0 : -1;
}

static void load_progress(load_state *st, uint64_t start)
{
	double el = (double)(bench_now_ns() - start) / 1e9;
	uint64_t n = atomic_load(&st->entities_done) + atomic_load(&st->events_done);
	uint64_t total = st->o->entities + st->o->events;
	fprintf(stderr, "\r  %6.1f s  %llu / %llu records (%.1f%%)  %.0f records/s\033[K", el,
	        (unsigned long long)n, (unsigned long long)total,
	        total ? 100.0 * (double)n / (double)total : 100.0, el > 0 ? (double)n / el : 0.0);
	fflush(stderr);
}

static void load_report(const load_state *st, double seconds)
{
	const load_opts *o = st->o;
	uint64_t ent = atomic_load(&st->entities_done), ev = atomic_load(&st->events_done);
	double mb = (double)atomic_load(&st->bytes_sent) / 1e6;
	double build = (double)atomic_load(&st->build_ns) / 1e9,
	       call = (double)atomic_load(&st->call_ns) / 1e9;
	double rate = seconds > 0 ? (double)(ent + ev) / seconds : 0;
	if (o->json) {
		printf("{\"entities\":%llu,\"events\":%llu,\"seconds\":%.3f,\"records_per_s\":%.1f,"
		       "\"mb_sent\":%.1f,\"batches\":%llu,\"build_thread_s\":%.3f,\"call_thread_s\":%.3f,"
		       "\"dry_run\":%s,\"bulk\":%s,\"parts\":%u,\"commit_s\":%.3f,\"written\":%llu,"
		       "\"unchanged\":%llu,\"ok\":%s}\n",
		       (unsigned long long)ent, (unsigned long long)ev, seconds, rate, mb,
		       (unsigned long long)atomic_load(&st->batches_done), build, call,
		       o->dry_run ? "true" : "false", o->bulk ? "true" : "false",
		       atomic_load(&st->parts_sent), (double)st->commit_ms / 1e3,
		       (unsigned long long)st->bulk_written, (unsigned long long)st->bulk_unchanged,
		       atomic_load(&st->failed) ? "false" : "true");
		return;
	}
	printf("gen: %llu entities and %llu events %s in %.1f s: %.0f records/s, %.1f MB in %llu Batches "
	       "(%.1f MB/s)\n",
	       (unsigned long long)ent, (unsigned long long)ev, o->dry_run ? "built (dry run)" : "loaded",
	       seconds, rate, mb, (unsigned long long)atomic_load(&st->batches_done),
	       seconds > 0 ? mb / seconds : 0);
	printf("     thread time: %.1f s building and packing, %.1f s waiting for %s replies (%d in "
	       "flight)\n",
	       build, call, o->bulk ? "part" : "Batch", o->in_flight);
	if (o->bulk && !o->dry_run)
		printf("     bulk: %u parts, commit %.1f s in the writer, %llu records written, %llu "
		       "unchanged\n",
		       atomic_load(&st->parts_sent), (double)st->commit_ms / 1e3,
		       (unsigned long long)st->bulk_written, (unsigned long long)st->bulk_unchanged);
	if (!o->dry_run)
		printf("     drive it: annals-bench -u %s --keys gen:%llu:%llu -m get\n", o->url,
		       (unsigned long long)o->entities, (unsigned long long)o->events);
}

int bench_gen_main(int argc, char **argv)
{
	load_opts o;
	int prc = load_parse(&o, argc, argv);
	if (prc != 0)
		return prc == 1 ? 0 : 2;
	load_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return 1;
	st->o = &o;
	pthread_mutex_init(&st->mu, NULL);
	st->doc_batches = o.events > 0 || o.entities > 0 ? (o.documents + o.batch - 1) / o.batch : 0;
	st->entity_batches = (o.entities + o.batch - 1) / o.batch;
	st->event_batches = (o.events + o.batch - 1) / o.batch;
	snprintf(st->load_id, sizeof(st->load_id), "gen-%llu-%llu-%llu", (unsigned long long)o.seed,
	         (unsigned long long)o.entities, (unsigned long long)o.events);
	if (load_probe(st) != 0) {
		free(st);
		return 1;
	}
	bench_catch_signals();
	bool tty = !o.quiet && isatty(2);
	uint64_t start = bench_now_ns();
	pthread_t threads[LOAD_MAX_THREADS];
	int n = 0;
	atomic_store(&st->running, o.in_flight);
	for (; n < o.in_flight; n++)
		if (pthread_create(&threads[n], NULL, load_thread, st) != 0)
			break;
	atomic_fetch_sub(&st->running, o.in_flight - n);
	/* the main thread only reports progress; the workers do the rest */
	while (tty && atomic_load(&st->running) > 0) {
		struct timespec ts = {0, 500000000L};
		nanosleep(&ts, NULL);
		load_progress(st, start);
	}
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (o.bulk && !o.dry_run && !atomic_load(&st->failed) && !atomic_load(&bench_interrupted)) {
		if (tty)
			fprintf(stderr,
			        "  %.1f s  %u parts staged; committing (the server writes everything now)...",
			        (double)(bench_now_ns() - start) / 1e9, st->parts_sent);
		load_commit_bulk(st);
		if (tty)
			fprintf(stderr, "\r\033[K");
	}
	if (o.bulk && !o.dry_run && (atomic_load(&st->failed) || atomic_load(&bench_interrupted)))
		load_abort_bulk(st);
	double seconds = (double)(bench_now_ns() - start) / 1e9;
	load_report(st, seconds);
	int rc = 0;
	if (atomic_load(&st->failed)) {
		fprintf(stderr, "annals-bench gen: %s\n(rerun with the same --seed: %s)\n", st->error,
		        o.bulk ? "the staged parts were dropped; a committed load is answered from the "
		                 "server's request log"
		               : "Batches already applied are answered from the server's request log or "
		                 "change nothing");
		rc = 1;
	} else if (atomic_load(&bench_interrupted)) {
		rc = 1;
	}
	pthread_mutex_destroy(&st->mu);
	free(st);
	return rc;
}

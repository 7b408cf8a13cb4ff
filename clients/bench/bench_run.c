/* The run mode: options -> request templates -> drive -> report. */
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "bench.h"

static int run_build(const bench_opts *o, bench_reqset *sets, const char *nonce)
{
	bench_build_ctx bc = {
	    .keys = &o->keys,
	    .nonce = nonce,
	    .token = o->token,
	    .timeout_ms = o->timeout_ms,
	    .payload = o->payload,
	};
	for (int i = 0; i < o->n_mix; i++) {
		bench_reqset *rs = &sets[i];
		memset(rs, 0, sizeof(*rs));
		rs->method = o->mix[i].method;
		rs->weight = o->mix[i].weight;
		if (bench_methods[rs->method].build(rs, &bc) != 0) {
			fprintf(stderr, "annals-bench: cannot build the requests of %s (out of memory?)\n",
			        bench_methods[rs->method].rpc);
			return -1;
		}
		bench_dist_init(&rs->dist, rs->key_space, o->zipf, o->zipf_theta);
	}
	return 0;
}

/* The PutEvent row names two people outside the read keys; references
 * must name records that exist, so they are put first (a put of the same
 * bytes again changes nothing). An echo server needs nothing. */
static int run_prepare(const bench_opts *o)
{
	bool writes = false;
	for (int i = 0; i < o->n_mix; i++)
		writes |= strcmp(bench_methods[o->mix[i].method].rpc, "PutEvent") == 0;
	if (!writes || o->echo || o->n_urls == 0)
		return 0;
	annals_client *c;
	annals_error err;
	annals_options ao = {.timeout_ms = o->timeout_ms ? o->timeout_ms : 5000, .token = o->token};
	if (annals_open(&c, o->urls[0], &ao, &err) != ANNALS_OK) {
		fprintf(stderr, "annals-bench: %s\n", err.message);
		return -1;
	}
	static const char *const people[] = {BENCH_WRITE_HOST, BENCH_WRITE_VISITOR};
	int rc = ANNALS_OK;
	for (size_t i = 0; i < 2 && rc == ANNALS_OK; i++) {
		Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
		e.id = (char *)people[i];
		e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
		Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
		req.entity = &e;
		Annals__V1__WriteReply *wr = NULL;
		char rid[64];
		snprintf(rid, sizeof(rid), "r-bench-prepare-%s", people[i]);
		annals_call_opts co = {.request_id = rid};
		rc = annals_call(c, "PutEntity", &req.base, (ProtobufCMessage **)&wr, &co, &err);
		annals_free(wr);
	}
	annals_close(c);
	if (rc != ANNALS_OK)
		fprintf(stderr, "annals-bench: putting the people PutEvent names: %s: %s\n",
		        annals_status_name(rc), err.message);
	return rc == ANNALS_OK ? 0 : -1;
}

int bench_run_main(int argc, char **argv)
{
	bench_opts o;
	int prc = bench_opts_parse(&o, argc, argv);
	if (prc != 0)
		return prc == 1 ? 0 : 2;
	char nonce[9];
	bench_nonce(nonce);
	bench_reqset sets[BENCH_MAX_MIX];
	memset(sets, 0, sizeof(sets));
	bench_result *r = bench_result_new();
	int rc = 1;
	if (r != NULL && run_prepare(&o) == 0 && run_build(&o, sets, nonce) == 0) {
		bench_catch_signals();
		if (bench_drive(&o, sets, o.n_mix, r) == 0) {
			if (o.json)
				bench_report_json(stdout, &o, r);
			else
				bench_report_text(stdout, &o, r);
			uint64_t total = bench_result_total(r);
			rc = total > 0 && atomic_load(&r->codes[0]) == total ? 0 : 1;
			if (total == 0)
				fprintf(stderr, "annals-bench: no call finished in the measured window; "
				                "lengthen -z or check the server's log\n");
		}
	}
	for (int i = 0; i < o.n_mix; i++) {
		for (size_t k = 0; k < sets[i].n_tmpl; k++)
			bench_tmpl_free(&sets[i].tmpl[k]);
		free(sets[i].tmpl);
	}
	bench_result_free(r);
	return rc;
}

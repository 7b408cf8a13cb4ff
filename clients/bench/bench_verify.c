/*
 * annals-bench verify-acks FILE: every write the server acknowledged (each
 * line of an --ack-log) must be readable afterwards, e.g. after annalsd was
 * killed and restarted. This is the check behind "an answer is sent only
 * after its commit is durable". It uses the client library: speed does
 * not matter here, only the answers.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "bench.h"

#define VERIFY_SHOW 20 /* missing ids listed by name */

static void verify_usage(FILE *out)
{
	fprintf(out, "usage: annals-bench verify-acks [-u URL] [--token T] ACK_LOG\n"
	             "\n"
	             "Reads back (GetEvent) every write listed in ACK_LOG, the file `annals-bench\n"
	             "--ack-log` wrote: 'request_id id revision' per acknowledged write. Prints how many\n"
	             "are readable; exits 1 if any is missing (an acknowledged write was lost).\n"
	             "\n"
	             "  -u, --url URL   server (default $ANNALS_URL or tcp://127.0.0.1:7700)\n"
	             "      --token T   bearer token (default $ANNALS_TOKEN)\n"
	             "  -h, --help      this text\n");
}

typedef struct verify_tally {
	uint64_t lines, found, missing, stale, bad;
} verify_tally;

static int verify_line(annals_client *c, const char *line, verify_tally *t)
{
	char rid[160], id[260];
	unsigned long long rev = 0;
	if (sscanf(line, "%159s %259s %llu", rid, id, &rev) < 2) {
		t->bad++;
		return 0;
	}
	t->lines++;
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = id;
	Annals__V1__Event *ev = NULL;
	annals_error err;
	int rc = annals_get_event(c, &req, &ev, &err);
	if (rc == ANNALS_OK) {
		t->found++;
		/* a later write may have changed it; older than acknowledged is wrong */
		if (ev->revision < rev)
			t->stale++;
		annals_free(ev);
		return 0;
	}
	if (rc == ANNALS_NOT_FOUND) {
		if (t->missing++ < VERIFY_SHOW)
			printf("missing: %s (request_id %s, acknowledged at revision %llu)\n", id, rid, rev);
		return 0;
	}
	fprintf(stderr, "annals-bench verify-acks: GetEvent %s: %s: %s\n", id, annals_status_name(rc),
	        err.message);
	return -1;
}

int bench_verify_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = getenv("ANNALS_URL"), *token = getenv("ANNALS_TOKEN");
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "u:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			url = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			return bench_usage_error("verify-acks", "unknown or incomplete option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return bench_usage_error("verify-acks", "give exactly one ACK_LOG file");
	const char *path = argv[optind];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return bench_usage_error("verify-acks", "cannot read the ack log");
	}
	annals_options ao = {.timeout_ms = 10000, .token = token};
	annals_client *c = NULL;
	annals_error err;
	if (annals_open(&c, url && *url ? url : "tcp://127.0.0.1:7700", &ao, &err) != ANNALS_OK) {
		fprintf(stderr, "annals-bench verify-acks: %s\n", err.message);
		fclose(f);
		return 1;
	}
	verify_tally t = {0};
	char line[512];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f))
		rc = verify_line(c, line, &t);
	fclose(f);
	annals_close(c);
	if (rc != 0)
		return 1;
	printf("verify-acks: %llu acknowledged writes, %llu readable, %llu missing",
	       (unsigned long long)t.lines, (unsigned long long)t.found, (unsigned long long)t.missing);
	if (t.stale)
		printf(", %llu older than acknowledged", (unsigned long long)t.stale);
	if (t.bad)
		printf(", %llu unreadable lines", (unsigned long long)t.bad);
	printf("\n");
	return t.missing == 0 && t.stale == 0 && t.bad == 0 ? 0 : 1;
}

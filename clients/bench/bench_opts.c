/* Options of the run mode (annals-bench [run] ...). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void bench_run_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: annals-bench [run] [options]\n"
	    "\n"
	    "Drives annalsd (or `annals-bench echo-server`) and reports throughput and latency.\n"
	    "\n"
	    "Target\n"
	    "  -u, --url URL          server; repeatable (default $ANNALS_URL or tcp://127.0.0.1:7700);\n"
	    "                         tcp:// and ipc://\n"
	    "      --connections N    sockets (each its own connection), spread over the URLs (default 1)\n"
	    "      --token T          bearer token (default $ANNALS_TOKEN)\n"
	    "      --timeout MS       per call; a call without a reply by then counts as\n"
	    "                         DEADLINE_EXCEEDED (default 10000)\n"
	    "      --echo             the target is an echo server: send the same requests, only\n"
	    "                         check that each comes back\n"
	    "      --echo-size BYTES  pad echo messages to this size (default: the request's own size)\n"
	    "\n"
	    "Load\n"
	    "  -c, --in-flight N      calls in flight (closed loop: a new call as each one ends;\n"
	    "                         open loop: the most in flight at once) (default 16)\n"
	    "      --rps R            open loop: start R calls per second on a fixed schedule;\n"
	    "                         latency counts from each call's scheduled start, so time a\n"
	    "                         call waited for a free slot is included\n"
	    "  -n, --calls N          stop after N measured calls (k/M suffixes work)\n"
	    "  -z, --duration D       stop after D (10s, 500ms, 2m; default 10s unless -n)\n"
	    "      --warmup D         run D before measuring (default 0)\n"
	    "\n"
	    "Workload\n"
	    "  -m, --method NAME      one method (default get); NAME is a word below or its RPC name\n"
	    "      --mix W=N,...      weighted methods, e.g. get=70,find=10,timeline=10,put=10\n"
	    "      --keys SRC         builtin (data/seed, default) or gen:ENTITIES:EVENTS, the sizes\n"
	    "                         given to `annals-bench gen`\n"
	    "      --dist D           uniform (default) or zipf[:THETA] (THETA default 0.99)\n"
	    "      --payload BYTES    size of each written event (default 256)\n"
	    "      --seed N           random seed (default: from the clock)\n"
	    "\n"
	    "Report\n"
	    "      --json             one JSON object on stdout instead of the text report\n"
	    "      --ack-log FILE     append 'request_id id revision' for every acknowledged write\n"
	    "      --label TEXT       a name for this run in the report\n"
	    "  -q, --quiet            no progress line (it is shown only on a terminal anyway)\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "Methods\n");
	for (int i = 0; i < bench_n_methods; i++)
		fprintf(out, "  %-10s %-13s %s\n", bench_methods[i].name, bench_methods[i].rpc,
		        bench_methods[i].what);
	fprintf(out, "\n"
	             "Other modes: annals-bench gen | echo-server | verify-acks  (each has --help)\n"
	             "Exit status: 0 when every call succeeded, 1 when some failed, 2 on bad usage.\n");
}

static int opts_mix(bench_opts *o, const char *spec)
{
	char *copy = strdup(spec), *save = NULL;
	if (copy == NULL)
		return -1;
	o->n_mix = 0;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		double w = 1;
		if (eq) {
			*eq = '\0';
			char *end;
			w = strtod(eq + 1, &end);
			if (*end != '\0' || w <= 0) {
				rc = bench_usage_error(
				    NULL, "--mix: weight '%s' of %s is not a positive number", eq + 1, tok);
				break;
			}
		}
		int m = bench_method_find(tok);
		if (m < 0)
			rc = bench_usage_error(NULL, "--mix: no method '%s'; the list is in --help", tok);
		else if (o->n_mix >= BENCH_MAX_MIX)
			rc = bench_usage_error(NULL, "--mix: at most %d methods", BENCH_MAX_MIX);
		else
			o->mix[o->n_mix++] = (bench_mix_item){m, w};
	}
	free(copy);
	return rc;
}

static int opts_keys(bench_opts *o, const char *spec)
{
	if (strcmp(spec, "builtin") == 0) {
		o->keys.kind = BENCH_KEYS_BUILTIN;
		return 0;
	}
	if (strncmp(spec, "gen:", 4) == 0) {
		char a[32], b[32];
		if (sscanf(spec + 4, "%31[^:]:%31s", a, b) == 2) {
			int64_t e = bench_parse_count(a), v = bench_parse_count(b);
			if (e > 0 && v > 0) {
				o->keys.kind = BENCH_KEYS_GEN;
				o->keys.gen_entities = (uint64_t)e;
				o->keys.gen_events = (uint64_t)v;
				return 0;
			}
		}
	}
	return bench_usage_error(NULL,
	                         "--keys: '%s' is neither 'builtin' nor 'gen:ENTITIES:EVENTS' "
	                         "(e.g. gen:1M:10M, the sizes given to annals-bench gen)",
	                         spec);
}

static int opts_dist(bench_opts *o, const char *spec)
{
	if (strcmp(spec, "uniform") == 0) {
		o->zipf = false;
		return 0;
	}
	if (strncmp(spec, "zipf", 4) == 0) {
		o->zipf = true;
		o->zipf_theta = 0.99;
		if (spec[4] == ':') {
			char *end;
			o->zipf_theta = strtod(spec + 5, &end);
			if (*end != '\0' || o->zipf_theta <= 0 || o->zipf_theta >= 1)
				return bench_usage_error(
				    NULL, "--dist: zipf theta must be in (0, 1), got '%s'", spec + 5);
		} else if (spec[4] != '\0') {
			return bench_usage_error(NULL, "--dist: '%s' is neither uniform nor zipf[:THETA]",
			                         spec);
		}
		return 0;
	}
	return bench_usage_error(NULL, "--dist: '%s' is neither uniform nor zipf[:THETA]", spec);
}

enum {
	OPT_RPS = 256,
	OPT_WARMUP,
	OPT_CONNECTIONS,
	OPT_MIX,
	OPT_KEYS,
	OPT_DIST,
	OPT_PAYLOAD,
	OPT_TIMEOUT,
	OPT_TOKEN,
	OPT_ECHO,
	OPT_ECHO_SIZE,
	OPT_JSON,
	OPT_ACK_LOG,
	OPT_LABEL,
	OPT_SEED,
};

static const struct option run_options[] = {
    {"url", required_argument, NULL, 'u'},
    {"in-flight", required_argument, NULL, 'c'},
    {"calls", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, 'z'},
    {"method", required_argument, NULL, 'm'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"rps", required_argument, NULL, OPT_RPS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"mix", required_argument, NULL, OPT_MIX},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"dist", required_argument, NULL, OPT_DIST},
    {"payload", required_argument, NULL, OPT_PAYLOAD},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"echo", no_argument, NULL, OPT_ECHO},
    {"echo-size", required_argument, NULL, OPT_ECHO_SIZE},
    {"json", no_argument, NULL, OPT_JSON},
    {"ack-log", required_argument, NULL, OPT_ACK_LOG},
    {"label", required_argument, NULL, OPT_LABEL},
    {"seed", required_argument, NULL, OPT_SEED},
    {NULL, 0, NULL, 0},
};

/* A whole number in [min, max] for flag, or a usage error. */
static int opts_int(const char *flag, const char *text, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = bench_parse_count(text);
	if (v < min || v > max)
		return bench_usage_error(NULL, "%s: '%s' is not a number from %lld to %lld", flag, text,
		                         (long long)min, (long long)max);
	*out = v;
	return 0;
}

static int opts_duration(const char *flag, const char *text, uint64_t *out)
{
	int64_t v = bench_parse_duration_ns(text);
	if (v < 0)
		return bench_usage_error(NULL, "%s: '%s' is not a duration (e.g. 10s, 500ms, 2m)", flag,
		                         text);
	*out = (uint64_t)v;
	return 0;
}

static void opts_defaults(bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->in_flight = 16;
	o->connections = 1;
	o->payload = 256;
	o->timeout_ms = 10000;
	o->token = getenv("ANNALS_TOKEN");
	o->zipf_theta = 0.99;
	o->seed = bench_now_ns();
}

static int opts_one(bench_opts *o, int opt, const char *arg)
{
	int64_t v = 0;
	switch (opt) {
	case 'u':
		if (o->n_urls >= BENCH_MAX_URLS)
			return bench_usage_error(NULL, "--url: at most %d", BENCH_MAX_URLS);
		o->urls[o->n_urls++] = arg;
		return 0;
	case 'c':
		if (opts_int("--in-flight", arg, 1, 100000, &v))
			return 2;
		o->in_flight = (int)v;
		return 0;
	case 'n':
		if (opts_int("--calls", arg, 1, INT64_MAX / 2, &v))
			return 2;
		o->calls = (uint64_t)v;
		return 0;
	case 'z':
		return opts_duration("--duration", arg, &o->duration_ns) ? 2 : 0;
	case OPT_WARMUP:
		return opts_duration("--warmup", arg, &o->warmup_ns) ? 2 : 0;
	case 'm': {
		int m = bench_method_find(arg);
		if (m < 0)
			return bench_usage_error(NULL, "--method: no method '%s'; the list is in --help",
			                         arg);
		o->mix[0] = (bench_mix_item){m, 1};
		o->n_mix = 1;
		return 0;
	}
	case OPT_RPS: {
		char *end;
		o->rps = strtod(arg, &end);
		if (*end != '\0' || o->rps <= 0 || o->rps > 1e8)
			return bench_usage_error(NULL, "--rps: '%s' is not a rate in calls per second", arg);
		return 0;
	}
	case OPT_CONNECTIONS:
		if (opts_int("--connections", arg, 1, 1024, &v))
			return 2;
		o->connections = (int)v;
		return 0;
	case OPT_MIX:
		return opts_mix(o, arg) ? 2 : 0;
	case OPT_KEYS:
		return opts_keys(o, arg) ? 2 : 0;
	case OPT_DIST:
		return opts_dist(o, arg) ? 2 : 0;
	case OPT_PAYLOAD:
		if (opts_int("--payload", arg, 0, 3 << 20, &v))
			return 2;
		o->payload = (size_t)v;
		return 0;
	case OPT_TIMEOUT:
		if (opts_int("--timeout", arg, 1, 3600000, &v))
			return 2;
		o->timeout_ms = (uint32_t)v;
		return 0;
	case OPT_ECHO_SIZE:
		if (opts_int("--echo-size", arg, 0, 64 << 20, &v))
			return 2;
		o->echo_size = (size_t)v;
		return 0;
	case OPT_SEED:
		if (opts_int("--seed", arg, 0, INT64_MAX, &v))
			return 2;
		o->seed = (uint64_t)v;
		return 0;
	case OPT_TOKEN:
		o->token = arg;
		return 0;
	case OPT_ECHO:
		o->echo = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_ACK_LOG:
		o->ack_log = arg;
		return 0;
	case OPT_LABEL:
		o->label = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	default:
		return bench_usage_error(NULL, "unknown option");
	}
}

int bench_opts_parse(bench_opts *o, int argc, char **argv)
{
	opts_defaults(o);
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "u:c:n:z:m:qh", run_options, NULL)) != -1) {
		if (opt == 'h') {
			bench_run_usage(stdout);
			return 1;
		}
		if (opt == '?')
			return bench_usage_error(NULL, "unknown or incomplete option '%s'", argv[optind - 1]);
		if (opts_one(o, opt, optarg) != 0)
			return 2;
	}
	if (optind < argc)
		return bench_usage_error(NULL, "unexpected argument '%s'", argv[optind]);
	if (o->n_urls == 0) {
		const char *env = getenv("ANNALS_URL");
		o->urls[o->n_urls++] = env && *env ? env : "tcp://127.0.0.1:7700";
	}
	for (int i = 0; i < o->n_urls; i++)
		if (strncmp(o->urls[i], "tcp://", 6) != 0 && strncmp(o->urls[i], "ipc://", 6) != 0)
			return bench_usage_error(
			    NULL, "--url: '%s': the driver speaks tcp:// and ipc:// only", o->urls[i]);
	if (o->n_mix == 0)
		o->mix[o->n_mix++] = (bench_mix_item){bench_method_find("get"), 1};
	if (o->calls == 0 && o->duration_ns == 0)
		o->duration_ns = 10ull * 1000000000u;
	if (o->connections > o->in_flight)
		o->connections = o->in_flight; /* an idle socket measures nothing */
	if (o->ack_log && o->echo)
		return bench_usage_error(NULL, "--ack-log: an echo server acknowledges no writes");
	return 0;
}

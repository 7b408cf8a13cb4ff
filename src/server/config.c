/* srv_config_ — flags, with ANNALS_* environment variables as defaults. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

void srv_config_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: annalsd [options]\n"
	    "\n"
	    "Serves the annals registry over nng (REQ/REP, protobuf envelopes).\n"
	    "Every option has an ANNALS_* environment variable as its default.\n"
	    "\n"
	    "  --listen URL         listen here; repeatable (ANNALS_LISTEN, comma-separated)\n"
	    "                       default tcp://127.0.0.1:7700; ipc:// and tls+tcp:// work too\n"
	    "  --data DIR           LMDB directory, created if missing (ANNALS_DATA, default var/annals)\n"
	    "  --empty              start an empty store without the built-in data (ANNALS_EMPTY=1)\n"
	    "  --log-format F       plain or json (ANNALS_LOG_FORMAT)\n"
	    "  --debug              log every call (ANNALS_DEBUG=1)\n"
	    "  --access-log         one log line per call: method, code, duration, bytes in and out,\n"
	    "                       peer, request_id (ANNALS_ACCESS_LOG=1)\n"
	    "  --max-message BYTES  largest request accepted (ANNALS_MAX_MESSAGE, default 4194304)\n"
	    "  --contexts N         calls in flight at once (ANNALS_CONTEXTS, default 128)\n"
	    "  --max-inflight N     calls worked on at once; more get RESOURCE_EXHAUSTED at once\n"
	    "                       (ANNALS_MAX_INFLIGHT; default: contexts minus an eighth, at least 1)\n"
	    "  --max-writes N       queued writes before RESOURCE_EXHAUSTED (ANNALS_MAX_WRITES, default "
	    "4096)\n"
	    "  --bulk-max-mb N      memory a staged BulkLoad may take before its commit\n"
	    "                       (ANNALS_BULK_MAX_MB, default 8192; 0 refuses bulk loads)\n"
	    "  --max-inflight-bytes N  wire bytes of large requests (64 KiB and up) worked on at once;\n"
	    "                       more get RESOURCE_EXHAUSTED (ANNALS_MAX_INFLIGHT_BYTES, default "
	    "67108864)\n"
	    "  --max-connections N  open connections; one more is closed at once, with a log line\n"
	    "                       (ANNALS_MAX_CONNECTIONS, default 1024, at most the fd limit less 64)\n"
	    "  --idle-timeout-s S   a connection with no call in flight and no request or reply for S\n"
	    "                       seconds (idle, or stalled inside a frame) is closed; 0: never\n"
	    "                       (ANNALS_IDLE_TIMEOUT_S, default 120)\n"
	    "  --max-polls N        Changes long polls waiting at once, on contexts of their own outside\n"
	    "                       --contexts; more get RESOURCE_EXHAUSTED (ANNALS_MAX_POLLS, default 64)\n"
	    "  --reply-cache-mb N   answers of queries kept per answering thread, in MiB; 0 turns the\n"
	    "                       cache off (ANNALS_REPLY_CACHE_MB, default 4)\n"
	    "  --map-size BYTES     initial LMDB map size; it grows by itself (ANNALS_MAP_SIZE)\n"
	    "  --tokens FILE        'role token' per line; roles reader, writer, admin (ANNALS_TOKENS_FILE)\n"
	    "  --insecure           allow non-loopback listeners without tokens (ANNALS_INSECURE=1)\n"
	    "  --tls-cert FILE      server certificate for tls+tcp:// (ANNALS_TLS_CERT)\n"
	    "  --tls-key FILE       its key (ANNALS_TLS_KEY)\n"
	    "  --tls-ca FILE        CA for client certificates; makes them required (ANNALS_TLS_CA)\n"
	    "  --metrics-listen URL Prometheus /metrics, /healthz, /readyz over HTTP "
	    "(ANNALS_METRICS_LISTEN)\n"
	    "                       e.g. http://127.0.0.1:7709, the port deploy/ uses (9100 is "
	    "node_exporter's)\n"
	    "  --http-listen URL    HTTP/JSON gateway (POST /v1/{Method}) and the web page at /;\n"
	    "                       http://HOST:PORT, or https:// with --tls-cert/--tls-key\n"
	    "                       (ANNALS_HTTP_LISTEN; loopback-only without --tokens)\n"
	    "  --http-max-inflight N  HTTP calls at once, long polls included; more get 429\n"
	    "                       (ANNALS_HTTP_MAX_INFLIGHT, default 256)\n"
	    "  --web-root DIR       the built web page (ANNALS_WEB_ROOT; default: web/ beside annalsd,\n"
	    "                       then ../share/annals/web)\n"
	    "  --publish URL        nng PUB socket sending each committed change (ANNALS_PUBLISH)\n"
	    "  --cluster etcd://HOST:PORT[,HOST:PORT...]  cluster mode: every write goes through this\n"
	    "                       etcd cluster's log and every node applies it (ANNALS_CLUSTER);\n"
	    "                       the store starts empty and the built-in data enters through the log\n"
	    "  --node-name NAME     this node's name in the cluster, unique (ANNALS_NODE_NAME)\n"
	    "  --advertise URL      the URL other hosts reach this node at, for the node registry\n"
	    "                       (ANNALS_ADVERTISE; default the first --listen URL)\n"
	    "  --restore-from URL   when --data holds no store: fetch a peer's snapshot first (a new or\n"
	    "                       replaced cluster node; ANNALS_RESTORE_FROM), with --restore-token T,\n"
	    "                       the peer's admin token (ANNALS_RESTORE_TOKEN)\n"
	    "  --cluster-prefix P   etcd key prefix of this registry (ANNALS_CLUSTER_PREFIX, default "
	    "/annals)\n"
	    "  --cluster-keep N     etcd revisions kept below the slowest live node when compacting\n"
	    "                       (ANNALS_CLUSTER_KEEP, default 100000; 0: never compact)\n"
	    "  --cluster-compact-s S  how often the first live node compacts (ANNALS_CLUSTER_COMPACT_S, "
	    "default 30)\n"
	    "  --dedup-keep N       request ids remembered for resends (ANNALS_DEDUP_KEEP, default 100000)\n"
	    "  --dedup-age-s S      and for how long, in seconds (ANNALS_DEDUP_AGE_S, default 86400)\n"
	    "  --changes-keep N     change sets kept in the feed (ANNALS_CHANGES_KEEP, default 1000000)\n"
	    "  --sync MODE          how a write reaches the disk before it is answered (ANNALS_SYNC):\n"
	    "                       wal (default): its group is appended to a write-ahead log in the\n"
	    "                       data directory and that one file synced; the data file is synced\n"
	    "                       at checkpoints. lmdb: LMDB syncs its pages, then its meta page, on\n"
	    "                       every commit (slower; no log files)\n"
	    "  --checkpoint-ms MS   with --sync wal, how often the data file is synced and the log\n"
	    "                       cut (ANNALS_CHECKPOINT_MS, default 1000)\n"
	    "  --version            version, git describe, compiler, nng/LMDB/protobuf-c versions\n"
	    "  --help               this text\n"
	    "\n"
	    "SIGTERM or SIGINT drains calls in flight and exits 0.\n");
}

/* The tests' fault injection: accepted like any option, but kept out of
 * --help, where an operator would take them for tuning knobs. */
static void cfg_usage_test(FILE *out)
{
	fprintf(out, "annalsd: options for tests only (fault injection; never in production)\n"
	             "\n"
	             "  --test-delay-ms MS   wait before each call (ANNALS_TEST_DELAY_MS)\n"
	             "  --test-drop-publish N  drop every Nth PUB message (ANNALS_TEST_DROP_PUBLISH)\n");
}

static int cfg_sync_mode(const char *flag, const char *text, srv_config *cfg)
{
	if (strcmp(text, "wal") == 0 || strcmp(text, "lmdb") == 0) {
		cfg->store.lmdb_sync = strcmp(text, "lmdb") == 0;
		return 0;
	}
	fprintf(stderr, "annalsd: %s: '%s' is not a sync mode: say wal (the default) or lmdb\n", flag, text);
	return -1;
}

static const char *cfg_env(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return (v != NULL && *v != '\0') ? v : fallback;
}

static bool cfg_env_bool(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

static int cfg_number(const char *flag, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max || text[0] == '-') {
		fprintf(stderr, "annalsd: %s: '%s' is not a number from %llu to %llu\n", flag, text,
		        (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int cfg_add_listen(srv_config *cfg, const char *url)
{
	if (cfg->n_listen >= SRV_MAX_LISTEN) {
		fprintf(stderr, "annalsd: --listen: at most %d listeners\n", SRV_MAX_LISTEN);
		return -1;
	}
	cfg->listen[cfg->n_listen++] = url;
	return 0;
}

/* ANNALS_LISTEN may hold several URLs separated by commas. The split
 * copies are kept for the life of the process (config is never freed). */
static int cfg_listen_from_env(srv_config *cfg)
{
	const char *env = cfg_env("ANNALS_LISTEN", NULL);
	if (env == NULL)
		return 0;
	/* kept in cfg for the life of the process: the URLs point into it */
	char *copy = cfg->listen_env = strdup(env);
	if (copy == NULL)
		return -1;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (cfg_add_listen(cfg, tok) != 0)
			return -1;
	return 0;
}

static int cfg_defaults(srv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = cfg_env("ANNALS_DATA", "var/annals");
	cfg->empty = cfg_env_bool("ANNALS_EMPTY");
	cfg->log_json = strcmp(cfg_env("ANNALS_LOG_FORMAT", "plain"), "json") == 0;
	cfg->debug = cfg_env_bool("ANNALS_DEBUG");
	cfg->access_log = cfg_env_bool("ANNALS_ACCESS_LOG");
	cfg->insecure = cfg_env_bool("ANNALS_INSECURE");
	cfg->tokens_file = cfg_env("ANNALS_TOKENS_FILE", NULL);
	cfg->tls_cert = cfg_env("ANNALS_TLS_CERT", NULL);
	cfg->tls_key = cfg_env("ANNALS_TLS_KEY", NULL);
	cfg->tls_ca = cfg_env("ANNALS_TLS_CA", NULL);
	cfg->metrics_listen = cfg_env("ANNALS_METRICS_LISTEN", NULL);
	cfg->http_listen = cfg_env("ANNALS_HTTP_LISTEN", NULL);
	cfg->web_root = cfg_env("ANNALS_WEB_ROOT", NULL);
	cfg->http_max_inflight = 256;
	cfg->publish = cfg_env("ANNALS_PUBLISH", NULL);
	cfg->cluster = cfg_env("ANNALS_CLUSTER", NULL);
	cfg->node_name = cfg_env("ANNALS_NODE_NAME", NULL);
	cfg->cluster_prefix = cfg_env("ANNALS_CLUSTER_PREFIX", "/annals");
	cfg->advertise = cfg_env("ANNALS_ADVERTISE", NULL);
	cfg->restore_from = cfg_env("ANNALS_RESTORE_FROM", NULL);
	cfg->restore_token = cfg_env("ANNALS_RESTORE_TOKEN", NULL);
	cfg->max_message = 4u << 20;
	cfg->contexts = 128;
	cfg->max_inflight_writes = 4096;
	cfg->bulk_max_mb = 8192;
	cfg->max_polls = 64;
	cfg->cluster_keep = 100000;
	cfg->cluster_compact_s = 30;
	cfg->max_connections = 1024;
	cfg->idle_timeout_s = 120;
	cfg->max_inflight_bytes = 64u << 20;
	uint64_t cache_mb = 4;
	struct {
		const char *env;
		uint64_t min, max;
		void *dst;
		int size;
	} nums[] = {
	    {"ANNALS_MAX_MESSAGE", 1024, 1u << 30, &cfg->max_message, sizeof(size_t)},
	    {"ANNALS_CONTEXTS", 1, 900, &cfg->contexts, sizeof(int)},
	    {"ANNALS_MAX_INFLIGHT", 1, 900, &cfg->max_inflight, sizeof(int)},
	    {"ANNALS_MAX_WRITES", 1, 1000000, &cfg->max_inflight_writes, sizeof(int)},
	    {"ANNALS_BULK_MAX_MB", 0, 1u << 20, &cfg->bulk_max_mb, sizeof(uint64_t)},
	    {"ANNALS_MAX_POLLS", 0, 900, &cfg->max_polls, sizeof(int)},
	    {"ANNALS_HTTP_MAX_INFLIGHT", 1, 100000, &cfg->http_max_inflight, sizeof(int)},
	    {"ANNALS_MAX_CONNECTIONS", 1, 1000000, &cfg->max_connections, sizeof(int)},
	    {"ANNALS_IDLE_TIMEOUT_S", 0, 86400, &cfg->idle_timeout_s, sizeof(uint32_t)},
	    {"ANNALS_MAX_INFLIGHT_BYTES", 1u << 20, 1ull << 40, &cfg->max_inflight_bytes, sizeof(size_t)},
	    {"ANNALS_REPLY_CACHE_MB", 0, 4096, &cache_mb, sizeof(uint64_t)},
	    {"ANNALS_MAP_SIZE", 65536, UINT64_MAX, &cfg->store.map_size, sizeof(uint64_t)},
	    {"ANNALS_DEDUP_KEEP", 1, UINT64_MAX, &cfg->store.dedup_keep, sizeof(uint64_t)},
	    {"ANNALS_CHANGES_KEEP", 1, UINT64_MAX, &cfg->store.changes_keep, sizeof(uint64_t)},
	    {"ANNALS_CHECKPOINT_MS", 1, 600000, &cfg->store.checkpoint_ms, sizeof(unsigned)},
	    {"ANNALS_CLUSTER_KEEP", 0, UINT64_MAX, &cfg->cluster_keep, sizeof(uint64_t)},
	    {"ANNALS_CLUSTER_COMPACT_S", 1, 86400, &cfg->cluster_compact_s, sizeof(uint32_t)},
	    {"ANNALS_TEST_DELAY_MS", 0, 600000, &cfg->test_delay_ms, sizeof(uint32_t)},
	    {"ANNALS_TEST_DROP_PUBLISH", 0, 1000000, &cfg->test_drop_publish, sizeof(uint32_t)},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const char *v = cfg_env(nums[i].env, NULL);
		uint64_t n;
		if (v == NULL)
			continue;
		if (cfg_number(nums[i].env, v, nums[i].min, nums[i].max, &n) != 0)
			return -1;
		if (nums[i].size == sizeof(uint64_t))
			*(uint64_t *)nums[i].dst = n;
		else if (nums[i].size == sizeof(int))
			*(int *)nums[i].dst = (int)n;
	}
	cfg->reply_cache_bytes = (size_t)cache_mb << 20;
	const char *sync = cfg_env("ANNALS_SYNC", NULL);
	if (sync != NULL && cfg_sync_mode("ANNALS_SYNC", sync, cfg) != 0)
		return -1;
	const char *age = cfg_env("ANNALS_DEDUP_AGE_S", NULL);
	uint64_t secs;
	if (age != NULL) {
		if (cfg_number("ANNALS_DEDUP_AGE_S", age, 1, 365u * 86400u, &secs) != 0)
			return -1;
		cfg->store.dedup_age_ms = secs * 1000u;
	}
	return cfg_listen_from_env(cfg);
}

/* Cluster mode's flags go together; names and prefixes are etcd keys. */
static bool cfg_key_part_ok(const char *s, bool slashes)
{
	if (s == NULL || *s == '\0' || strlen(s) > 100)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.' || (slashes && *p == '/')))
			return false;
	return true;
}

static int cfg_cluster_check(srv_config *cfg)
{
	if (cfg->cluster == NULL) {
		if (cfg->node_name != NULL)
			fprintf(stderr, "annalsd: --node-name has no effect without --cluster\n");
		return 0;
	}
	if (!cfg_key_part_ok(cfg->node_name, false)) {
		fprintf(stderr, "annalsd: --cluster needs --node-name NAME (letters, digits, '-', '_', '.'; "
		                "unique in the cluster), e.g. --node-name $(hostname)\n");
		return -1;
	}
	if (!cfg_key_part_ok(cfg->cluster_prefix, true) || cfg->cluster_prefix[0] != '/') {
		fprintf(stderr,
		        "annalsd: --cluster-prefix '%s': a key path such as /annals (letters, digits, "
		        "'-', '_', '.', '/')\n",
		        cfg->cluster_prefix ? cfg->cluster_prefix : "");
		return -1;
	}
	/* every node starts empty: the built-in data enters through the log */
	cfg->empty = true;
	cfg->store.replicated = true;
	return 0;
}

enum {
	OPT_LOG_FORMAT = 256,
	OPT_ACCESS_LOG,
	OPT_VERSION,
	OPT_HELP_TEST,
	OPT_MAX_MESSAGE,
	OPT_CONTEXTS,
	OPT_MAX_WRITES,
	OPT_BULK_MAX_MB,
	OPT_MAP_SIZE,
	OPT_TOKENS,
	OPT_INSECURE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_METRICS,
	OPT_PUBLISH,
	OPT_DEDUP_KEEP,
	OPT_SYNC,
	OPT_CHECKPOINT_MS,
	OPT_CHANGES_KEEP,
	OPT_TEST_DELAY,
	OPT_EMPTY,
	OPT_DEBUG,
	OPT_TEST_DROP,
	OPT_MAX_INFLIGHT,
	OPT_DEDUP_AGE,
	OPT_REPLY_CACHE,
	OPT_MAX_POLLS,
	OPT_MAX_CONNECTIONS,
	OPT_MAX_INFLIGHT_BYTES,
	OPT_IDLE_TIMEOUT,
	OPT_CLUSTER,
	OPT_NODE_NAME,
	OPT_CLUSTER_PREFIX,
	OPT_CLUSTER_KEEP,
	OPT_CLUSTER_COMPACT,
	OPT_ADVERTISE,
	OPT_RESTORE_FROM,
	OPT_RESTORE_TOKEN,
	OPT_HTTP_LISTEN,
	OPT_WEB_ROOT,
	OPT_HTTP_MAX_INFLIGHT,
};

static const struct option cfg_options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"data", required_argument, NULL, 'd'},
    {"empty", no_argument, NULL, OPT_EMPTY},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"access-log", no_argument, NULL, OPT_ACCESS_LOG},
    {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
    {"contexts", required_argument, NULL, OPT_CONTEXTS},
    {"max-writes", required_argument, NULL, OPT_MAX_WRITES},
    {"bulk-max-mb", required_argument, NULL, OPT_BULK_MAX_MB},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"max-polls", required_argument, NULL, OPT_MAX_POLLS},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"idle-timeout-s", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-inflight-bytes", required_argument, NULL, OPT_MAX_INFLIGHT_BYTES},
    {"reply-cache-mb", required_argument, NULL, OPT_REPLY_CACHE},
    {"map-size", required_argument, NULL, OPT_MAP_SIZE},
    {"tokens", required_argument, NULL, OPT_TOKENS},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-ca", required_argument, NULL, OPT_TLS_CA},
    {"metrics-listen", required_argument, NULL, OPT_METRICS},
    {"http-listen", required_argument, NULL, OPT_HTTP_LISTEN},
    {"web-root", required_argument, NULL, OPT_WEB_ROOT},
    {"http-max-inflight", required_argument, NULL, OPT_HTTP_MAX_INFLIGHT},
    {"publish", required_argument, NULL, OPT_PUBLISH},
    {"cluster", required_argument, NULL, OPT_CLUSTER},
    {"node-name", required_argument, NULL, OPT_NODE_NAME},
    {"cluster-prefix", required_argument, NULL, OPT_CLUSTER_PREFIX},
    {"cluster-keep", required_argument, NULL, OPT_CLUSTER_KEEP},
    {"cluster-compact-s", required_argument, NULL, OPT_CLUSTER_COMPACT},
    {"advertise", required_argument, NULL, OPT_ADVERTISE},
    {"restore-from", required_argument, NULL, OPT_RESTORE_FROM},
    {"restore-token", required_argument, NULL, OPT_RESTORE_TOKEN},
    {"dedup-keep", required_argument, NULL, OPT_DEDUP_KEEP},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"checkpoint-ms", required_argument, NULL, OPT_CHECKPOINT_MS},
    {"dedup-age-s", required_argument, NULL, OPT_DEDUP_AGE},
    {"changes-keep", required_argument, NULL, OPT_CHANGES_KEEP},
    {"test-delay-ms", required_argument, NULL, OPT_TEST_DELAY},
    {"test-drop-publish", required_argument, NULL, OPT_TEST_DROP},
    {"help", no_argument, NULL, 'h'},
    {"help-test", no_argument, NULL, OPT_HELP_TEST},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int cfg_number_opt(int opt, const char *arg, srv_config *cfg)
{
	uint64_t n = 0;
	switch (opt) {
	case OPT_MAX_MESSAGE:
		if (cfg_number("--max-message", arg, 1024, 1u << 30, &n))
			return -1;
		cfg->max_message = (size_t)n;
		return 0;
	case OPT_CONTEXTS:
		if (cfg_number("--contexts", arg, 1, 900, &n))
			return -1;
		cfg->contexts = (int)n;
		return 0;
	case OPT_MAX_INFLIGHT:
		if (cfg_number("--max-inflight", arg, 1, 900, &n))
			return -1;
		cfg->max_inflight = (int)n;
		return 0;
	case OPT_MAX_WRITES:
		if (cfg_number("--max-writes", arg, 1, 1000000, &n))
			return -1;
		cfg->max_inflight_writes = (int)n;
		return 0;
	case OPT_BULK_MAX_MB:
		if (cfg_number("--bulk-max-mb", arg, 0, 1u << 20, &n))
			return -1;
		cfg->bulk_max_mb = n;
		return 0;
	case OPT_MAX_INFLIGHT_BYTES:
		if (cfg_number("--max-inflight-bytes", arg, 1u << 20, 1ull << 40, &n))
			return -1;
		cfg->max_inflight_bytes = (size_t)n;
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (cfg_number("--idle-timeout-s", arg, 0, 86400, &n))
			return -1;
		cfg->idle_timeout_s = (uint32_t)n;
		return 0;
	case OPT_HTTP_MAX_INFLIGHT:
		if (cfg_number("--http-max-inflight", arg, 1, 100000, &n))
			return -1;
		cfg->http_max_inflight = (int)n;
		return 0;
	case OPT_MAX_CONNECTIONS:
		if (cfg_number("--max-connections", arg, 1, 1000000, &n))
			return -1;
		cfg->max_connections = (int)n;
		return 0;
	case OPT_CLUSTER_KEEP:
		return cfg_number("--cluster-keep", arg, 0, UINT64_MAX, &cfg->cluster_keep);
	case OPT_CLUSTER_COMPACT:
		if (cfg_number("--cluster-compact-s", arg, 1, 86400, &n))
			return -1;
		cfg->cluster_compact_s = (uint32_t)n;
		return 0;
	case OPT_MAX_POLLS:
		if (cfg_number("--max-polls", arg, 0, 900, &n))
			return -1;
		cfg->max_polls = (int)n;
		return 0;
	case OPT_REPLY_CACHE:
		if (cfg_number("--reply-cache-mb", arg, 0, 4096, &n))
			return -1;
		cfg->reply_cache_bytes = (size_t)n << 20;
		return 0;
	case OPT_MAP_SIZE:
		return cfg_number("--map-size", arg, 65536, UINT64_MAX, &cfg->store.map_size);
	case OPT_DEDUP_AGE:
		if (cfg_number("--dedup-age-s", arg, 1, 365u * 86400u, &n))
			return -1;
		cfg->store.dedup_age_ms = n * 1000u;
		return 0;
	case OPT_DEDUP_KEEP:
		return cfg_number("--dedup-keep", arg, 1, UINT64_MAX, &cfg->store.dedup_keep);
	case OPT_SYNC:
		return cfg_sync_mode("--sync", arg, cfg);
	case OPT_CHECKPOINT_MS:
		if (cfg_number("--checkpoint-ms", arg, 1, 600000, &n))
			return -1;
		cfg->store.checkpoint_ms = (unsigned)n;
		return 0;
	case OPT_CHANGES_KEEP:
		return cfg_number("--changes-keep", arg, 1, UINT64_MAX, &cfg->store.changes_keep);
	case OPT_TEST_DELAY:
		if (cfg_number("--test-delay-ms", arg, 0, 600000, &n))
			return -1;
		cfg->test_delay_ms = (uint32_t)n;
		return 0;
	case OPT_TEST_DROP:
		if (cfg_number("--test-drop-publish", arg, 0, 1000000, &n))
			return -1;
		cfg->test_drop_publish = (uint32_t)n;
		return 0;
	default:
		return -1;
	}
}

/* Returns 0 to run, 1 when --help or --version was printed, -1 on a bad flag. */
int srv_config_parse(srv_config *cfg, int argc, char **argv)
{
	if (cfg_defaults(cfg) != 0)
		return -1;
	bool listen_from_flags = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:d:h", cfg_options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (!listen_from_flags) /* flags replace the environment's list */
				cfg->n_listen = 0;
			listen_from_flags = true;
			if (cfg_add_listen(cfg, optarg) != 0)
				return -1;
			break;
		case 'd':
			cfg->data_dir = optarg;
			break;
		case OPT_EMPTY:
			cfg->empty = true;
			break;
		case OPT_DEBUG:
			cfg->debug = true;
			break;
		case OPT_ACCESS_LOG:
			cfg->access_log = true;
			break;
		case OPT_INSECURE:
			cfg->insecure = true;
			break;
		case OPT_TOKENS:
			cfg->tokens_file = optarg;
			break;
		case OPT_TLS_CERT:
			cfg->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			cfg->tls_key = optarg;
			break;
		case OPT_TLS_CA:
			cfg->tls_ca = optarg;
			break;
		case OPT_METRICS:
			cfg->metrics_listen = optarg;
			break;
		case OPT_HTTP_LISTEN:
			cfg->http_listen = optarg;
			break;
		case OPT_WEB_ROOT:
			cfg->web_root = optarg;
			break;
		case OPT_PUBLISH:
			cfg->publish = optarg;
			break;
		case OPT_CLUSTER:
			cfg->cluster = optarg;
			break;
		case OPT_NODE_NAME:
			cfg->node_name = optarg;
			break;
		case OPT_CLUSTER_PREFIX:
			cfg->cluster_prefix = optarg;
			break;
		case OPT_ADVERTISE:
			cfg->advertise = optarg;
			break;
		case OPT_RESTORE_FROM:
			cfg->restore_from = optarg;
			break;
		case OPT_RESTORE_TOKEN:
			cfg->restore_token = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "plain") != 0) {
				fprintf(stderr, "annalsd: --log-format: '%s' is neither plain nor json\n",
				        optarg);
				return -1;
			}
			cfg->log_json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			srv_config_usage(stdout);
			return 1;
		case OPT_HELP_TEST:
			cfg_usage_test(stdout);
			return 1;
		case OPT_VERSION:
			srv_build_print(stdout);
			return 1;
		case '?':
			fprintf(stderr, "annalsd: see annalsd --help\n");
			return -1;
		default:
			if (cfg_number_opt(opt, optarg, cfg) != 0)
				return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "annalsd: unexpected argument '%s'; see annalsd --help\n", argv[optind]);
		return -1;
	}
	if (cfg->n_listen == 0)
		cfg->listen[cfg->n_listen++] = "tcp://127.0.0.1:7700";
	if (cfg_cluster_check(cfg) != 0)
		return -1;
	if (cfg->max_inflight == 0) /* keep an eighth of the contexts to say "busy" */
		cfg->max_inflight = cfg->contexts - cfg->contexts / 8;
	if (cfg->max_inflight < 1)
		cfg->max_inflight = 1;
	if (cfg->max_inflight > cfg->contexts) {
		fprintf(stderr, "annalsd: --max-inflight %d is more than --contexts %d\n", cfg->max_inflight,
		        cfg->contexts);
		return -1;
	}
	/* connections past the descriptors the process may open would fail
	 * in accept() with no word to anyone: keep the cap below them, with
	 * room for the store, listeners and logs */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)cfg->max_connections + 64 > nofile.rlim_cur) {
		int fit = nofile.rlim_cur > 128 ? (int)(nofile.rlim_cur - 64) : 64;
		fprintf(stderr,
		        "annalsd: --max-connections %d is above the open-file limit %llu less 64; using %d "
		        "(raise it with ulimit -n)\n",
		        cfg->max_connections, (unsigned long long)nofile.rlim_cur, fit);
		cfg->max_connections = fit;
	}
	return 0;
}

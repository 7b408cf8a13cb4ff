/*
 * annals-bench — the load-test harness. Internal header shared by the
 * bench_*.c files (they all link into one program, bin/annals-bench).
 *
 * Modes (bench_main.c picks one from argv[1]):
 *   run          (default) drive annalsd, or the echo server, and report
 *   gen          load a synthetic data set through Batch
 *   echo-server  a bare nng REP server: the transport's own ceiling
 *   verify-acks  read back every write of an --ack-log
 *
 * The driver talks raw nng (one REQ context + aio per call in flight, all
 * callbacks, no thread per call) with Call bytes packed before the run, so
 * on a 2-core machine the harness costs as little CPU as the transport
 * allows and the same code path measures annalsd and the echo server.
 */
#ifndef ANNALS_BENCH_BENCH_H
#define ANNALS_BENCH_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_URLS      8
#define BENCH_MAX_MIX       16
#define BENCH_ECHO_CONTEXTS 128 /* annalsd's default --contexts */

/* ---- time (bench_util.c) ------------------------------------------------- */
uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC */
void bench_sleep_until_ns(uint64_t t);
/* "10s", "500ms", "2m", "1.5" (seconds); -1 when it is not a duration. */
int64_t bench_parse_duration_ns(const char *s);
/* Whole number with an optional k/M/G suffix ("10M" = 10000000); -1 when bad. */
int64_t bench_parse_count(const char *s);
/* 8 random hex digits: makes ids and request ids of this run unique. */
void bench_nonce(char out[9]);
/* Fixed-width zero-padded decimal, no terminator (the width is the field's). */
void bench_put_digits(uint8_t *p, int width, uint64_t v);
/* Prints "annals-bench: <msg>" to stderr; always returns 2 (the usage exit). */
int bench_usage_error(const char *mode, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- random numbers and key distributions (bench_rng.c) ------------------ */
typedef struct bench_rng {
	uint64_t s;
} bench_rng;
uint64_t bench_rng_next(bench_rng *r); /* splitmix64: fast, good enough here */
double bench_rng_unit(bench_rng *r);   /* [0, 1) */
uint64_t bench_rng_below(bench_rng *r, uint64_t n);

/* Keys in [0, n): uniform, or zipfian (YCSB's generator, theta in (0, 1),
 * ranks scrambled so the hot keys are spread over the key space). */
typedef struct bench_dist {
	uint64_t n;
	bool zipf;
	double theta, alpha, zetan, eta, half_pow_theta;
} bench_dist;
void bench_dist_init(bench_dist *d, uint64_t n, bool zipf, double theta);
uint64_t bench_dist_draw(const bench_dist *d, bench_rng *r);

/* ---- latency histogram (bench_hist.c) ------------------------------------ */
/* HDR-style log-linear buckets over nanoseconds: values below 256 ns are
 * exact; above, each power of two is cut in 128 equal buckets, so any
 * recorded value is known to within 0.8%. Lock-free (relaxed atomics): the
 * nng callbacks of every slot record into one histogram. */
#define HIST_SUB_BITS 8
#define HIST_MAX_BITS 41 /* values up to 2^41 ns (~36 min) */
#define HIST_BUCKETS  ((1 << HIST_SUB_BITS) + (HIST_MAX_BITS - HIST_SUB_BITS) * (1 << (HIST_SUB_BITS - 1)))

typedef struct bench_hist {
	_Atomic uint64_t count, sum, min, max;
	_Atomic uint64_t bucket[HIST_BUCKETS];
} bench_hist;
void bench_hist_init(bench_hist *h);
void bench_hist_record(bench_hist *h, uint64_t ns);
/* The value (ns) at or below which fraction q of the samples lie (upper
 * edge of that bucket, capped at the maximum). */
uint64_t bench_hist_quantile(const bench_hist *h, double q);
double bench_hist_mean(const bench_hist *h);
double bench_hist_stddev(const bench_hist *h); /* from bucket midpoints */
uint64_t bench_hist_bucket_low(int i);
uint64_t bench_hist_bucket_high(int i);

/* ---- wire scanning (bench_wire.c) ---------------------------------------- */
/* Reads annals.v1.Reply without allocating: code, message and body point
 * into buf. Returns 0, or -1 when buf is no protobuf message. */
typedef struct bench_reply {
	int code;
	const char *message;
	size_t message_len;
	const uint8_t *body;
	size_t body_len;
} bench_reply;
int bench_wire_reply(const uint8_t *buf, size_t len, bench_reply *out);
/* The first length-delimited field `field` (e.g. Call.request_id = 5). */
int bench_wire_string(const uint8_t *buf, size_t len, uint32_t field, const char **out, size_t *out_len);
/* Reads id (field 1) and revision (field 2) of a WriteReply. */
int bench_wire_write_reply(const uint8_t *buf, size_t len, const char **id, size_t *id_len,
                           uint64_t *revision);

/* ---- methods, keys and request templates (bench_methods.c, bench_keys.c,
 *      bench_tmpl.c) ----------------------------------------------------- */
typedef enum bench_keys_kind {
	BENCH_KEYS_BUILTIN, /* the ids and names of data/seed */
	BENCH_KEYS_GEN,     /* the ids and names `annals-bench gen` makes */
} bench_keys_kind;

typedef struct bench_keys {
	bench_keys_kind kind;
	uint64_t gen_entities, gen_events; /* BENCH_KEYS_GEN: the data set's size */
} bench_keys;

/* A packed Call with numbers still to fill in: the key drawn for this call
 * (a generated id's digits) and/or the call's unique sequence number (the
 * id and request_id of a write). */
typedef enum bench_patch_kind { BENCH_PATCH_KEY = 1, BENCH_PATCH_SEQ = 2 } bench_patch_kind;
#define BENCH_MARK_KEY     '\x01' /* placeholder bytes in templates: never in real text */
#define BENCH_MARK_SEQ     '\x02'
#define BENCH_KEY_DIGITS   7
#define BENCH_EVENT_DIGITS 9
#define BENCH_SEQ_DIGITS   12
#define BENCH_MAX_PATCH    6

typedef struct bench_patch {
	uint32_t off;
	uint8_t width;
	uint8_t kind; /* bench_patch_kind */
} bench_patch;

typedef struct bench_tmpl {
	uint8_t *bytes;
	size_t len;
	bench_patch patch[BENCH_MAX_PATCH];
	int n_patch;
} bench_tmpl;

/* Packs a Call around body; finds the marker runs in the result. */
int bench_tmpl_make(bench_tmpl *t, const char *method, const uint8_t *body, size_t body_len,
                    const char *request_id, const char *token, uint32_t timeout_ms);
/* Packs m as the body of method's Call. */
int bench_tmpl_from_msg(bench_tmpl *t, const char *method, const void *protobuf_msg, const char *request_id,
                        const char *token, uint32_t timeout_ms);
/* Copies the template into dst (t->len bytes) and fills in the numbers. */
void bench_tmpl_fill(const bench_tmpl *t, uint8_t *dst, uint64_t key, uint64_t seq);
void bench_tmpl_free(bench_tmpl *t);

/* One workload entry: a method, its request variants and how keys pick one. */
typedef struct bench_reqset {
	int method; /* index in bench_methods[] */
	double weight;
	bench_tmpl *tmpl; /* variants */
	size_t n_tmpl;
	uint64_t key_space;  /* keys are drawn from [0, key_space) */
	bool key_is_variant; /* key k uses tmpl[k] (built-in keys); else tmpl[variant_of(k)] with k patched in
	                      */
	int (*variant_of)(uint64_t key);
	bench_dist dist;
} bench_reqset;

/* The people PutEvent's events name (put before a run that writes). */
#define BENCH_WRITE_HOST    "person:bench-host"
#define BENCH_WRITE_VISITOR "person:bench-visitor"

typedef struct bench_build_ctx {
	const bench_keys *keys;
	const char *nonce; /* this run's 8 hex digits */
	const char *token;
	uint32_t timeout_ms;
	size_t payload; /* write payload in bytes (approximate packed Event size) */
} bench_build_ctx;

typedef struct bench_method {
	const char *name; /* the --method / --mix word */
	const char *rpc;  /* "GetEntity" */
	bool write;
	const char *what; /* one line for --help */
	int (*build)(bench_reqset *rs, const bench_build_ctx *bc);
} bench_method;
extern const bench_method bench_methods[];
extern const int bench_n_methods;
/* Index by --method word or RPC name (case-insensitive); -1 when unknown. */
int bench_method_find(const char *name);

/* The built-in data's keys (bench_keys.c), as data/seed/README.md lists them. */
extern const char *const bench_seed_entities[];
extern const size_t bench_n_seed_entities;
extern const char *const bench_seed_events[];
extern const size_t bench_n_seed_events;
extern const char *const bench_seed_names[];
extern const size_t bench_n_seed_names;
extern const char *const bench_seed_orgs[];
extern const size_t bench_n_seed_orgs;
extern const char *const bench_seed_positions[];
extern const size_t bench_n_seed_positions;
extern const char *const bench_seed_dates[]; /* "as of" dates for knowledge queries */
extern const size_t bench_n_seed_dates;

/* Generated data (bench_keys.c): ids and names are functions of the index,
 * so the driver can ask for any generated record without a key list. */
int bench_gen_entity_type(uint64_t i);         /* ENTITY_TYPE_* */
const char *bench_gen_entity_prefix(int type); /* "person", "org", ... */
/* "person:gen-0000123"; buf >= 40 bytes. */
void bench_gen_entity_id(uint64_t i, char *buf, size_t len);
void bench_gen_event_id(uint64_t i, char *buf, size_t len);
/* The entity's display name ("Anna Petrova"), and its alias ("Petrova"). */
void bench_gen_entity_name(uint64_t i, char *buf, size_t len);
void bench_gen_entity_alias(uint64_t i, char *buf, size_t len);

/* ---- run options (bench_opts.c) ------------------------------------------ */
typedef struct bench_mix_item {
	int method;
	double weight;
} bench_mix_item;

typedef struct bench_opts {
	const char *urls[BENCH_MAX_URLS];
	int n_urls;
	int in_flight;        /* -c */
	double rps;           /* --rps: open loop when > 0 */
	uint64_t calls;       /* -n: 0 none */
	uint64_t duration_ns; /* -z: 0 none */
	uint64_t warmup_ns;
	int connections;
	bench_mix_item mix[BENCH_MAX_MIX];
	int n_mix;
	bench_keys keys;
	bool zipf;
	double zipf_theta;
	size_t payload;
	uint32_t timeout_ms;
	const char *token;
	bool echo;        /* drive an echo server: only check that a reply came */
	size_t echo_size; /* pad echo messages to this many bytes (0: the request's size) */
	bool json;
	const char *ack_log;
	const char *label; /* shown in the report */
	bool quiet;        /* no progress line even on a TTY */
	uint64_t seed;
} bench_opts;

/* 0: run; 1: --help printed; 2: bad usage (message printed). */
int bench_opts_parse(bench_opts *o, int argc, char **argv);
void bench_run_usage(FILE *out);

/* ---- results (bench_result.c, bench_report.c) ---------------------------- */
#define BENCH_CODES      17 /* gRPC canonical codes 0..16 */
#define BENCH_MAX_ERRORS 32

typedef struct bench_error_count {
	char message[200];
	uint64_t count;
} bench_error_count;

typedef struct bench_result {
	bench_hist hist; /* every measured call that finished */
	_Atomic uint64_t codes[BENCH_CODES];
	_Atomic uint64_t req_bytes, reply_bytes;
	_Atomic uint64_t writes_acked;
	uint64_t started_ns, finished_ns; /* measurement window */
	uint64_t backlog_max;             /* open loop: calls due but not yet sent */
	/* error messages with counts; under err_lock (errors are the rare path) */
	void *err_lock;
	bench_error_count errors[BENCH_MAX_ERRORS];
	int n_errors;
	uint64_t errors_other;
} bench_result;

bench_result *bench_result_new(void);
void bench_result_free(bench_result *r);
/* Counts one error message ("NOT_FOUND: entity ... not found"). */
void bench_result_error(bench_result *r, const char *msg, size_t len);
uint64_t bench_result_total(const bench_result *r);

void bench_report_text(FILE *out, const bench_opts *o, const bench_result *r);
void bench_report_json(FILE *out, const bench_opts *o, const bench_result *r);

/* ---- the driver (bench_driver.c) ------------------------------------------ */
/* Runs the workload; fills r. Returns 0, or 1 with a message on stderr
 * when the run could not start (bad URL, no templates). */
int bench_drive(const bench_opts *o, bench_reqset *sets, int n_sets, bench_result *r);

/* ---- modes ---------------------------------------------------------------- */
int bench_run_main(int argc, char **argv);
int bench_gen_main(int argc, char **argv);
int bench_echo_main(int argc, char **argv);
int bench_verify_main(int argc, char **argv);
int bench_feed_main(int argc, char **argv);

/* Set from SIGINT/SIGTERM (bench_util.c); every loop checks it. */
extern atomic_bool bench_interrupted;
void bench_catch_signals(void);

#endif

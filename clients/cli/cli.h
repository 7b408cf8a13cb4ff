/*
 * cli_ — the `annals` command-line client.
 *
 * One file per purpose: cli_main.c (command table, help), cli_globals.c
 * (global flags and their ANNALS_* variables), cli_args.c (argument parsing
 * and typed option values), cli_suggest.c ("did you mean"), cli_call.c (the
 * client, calls, error reports with hints), cli_out.c (tables, JSON, YAML
 * through cli_yaml.c), cli_fmt.c (dates, intervals, enums in words),
 * cli_page.c (paging through List* replies), cli_input.c (JSON files into
 * messages), cli_schema.c (the server's FileDescriptorSet, for describe),
 * cli_docs.c (man page and bash completion from the command table), and one
 * cli_cmd_*.c per group of subcommands.
 *
 * Every command is a row in a table (cli_cmd) naming its options, so the
 * parser, the help text and the dispatcher cannot drift apart. A command
 * returns the process exit status: 0, the status code of the call that
 * failed (1..16), or one of the CLI_EXIT_* codes below.
 */
#ifndef ANNALS_CLI_H
#define ANNALS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "annals/annals.h"
#include "common/arena.h"

#define CLI_EXIT_USAGE   64 /* bad command line (sysexits EX_USAGE) */
#define CLI_EXIT_NOINPUT 66 /* an input file cannot be read (EX_NOINPUT) */
#define CLI_EXIT_IOERR   74 /* output cannot be written (EX_IOERR) */

#define CLI_MAX_PAGE 1000 /* the largest page the List RPCs return */
#define CLI_MAX_POS  16
#define CLI_MAX_OPTS 48

typedef struct cli_optspec {
	const char *name; /* without the leading "--" */
	bool takes_value;
} cli_optspec;

/* The command line after the command words: positionals and options in
 * the order given. Values point into argv. */
typedef struct cli_args {
	const char *pos[CLI_MAX_POS];
	int n_pos;
	const char *names[CLI_MAX_OPTS];
	const char *values[CLI_MAX_OPTS]; /* "" for a flag */
	int n_opts;
} cli_args;

typedef struct cli_ctx cli_ctx;

/* -o FORMAT: tables for people (wide: more columns), the reply message for
 * programs (JSON, or YAML written from the same JSON value). */
typedef enum cli_output {
	CLI_OUT_TABLE,
	CLI_OUT_WIDE,
	CLI_OUT_JSON,
	CLI_OUT_YAML,
} cli_output;

typedef struct cli_cmd {
	const char *group;       /* "entity" for `annals entity get`, NULL for top-level commands */
	const char *name;        /* "get" */
	const char *synopsis;    /* what follows the command words: "ID [--expect-revision N]" */
	const char *summary;     /* one line for the command lists */
	const char *details;     /* option descriptions for --help, or NULL */
	const cli_optspec *opts; /* the command's own options, {NULL}-terminated; NULL: none */
	int min_pos, max_pos;    /* positional arguments accepted */
	int (*run)(cli_ctx *ctx);
	const void *data; /* a constant the command is parameterised by (e.g. a record kind) */
} cli_cmd;

struct cli_ctx {
	const cli_cmd *cmd;
	cli_args args;
	const char *server;
	const char *token;
	const char *tls_ca, *tls_cert, *tls_key;
	const char *tls_server_name; /* the name the server's certificate must carry */
	const char *request_id;      /* --request-id, for writes a script may retry */
	uint32_t timeout_ms;
	uint64_t min_revision; /* --min-revision, for reads */
	bool linearizable;     /* --linearizable */
	cli_output output;
	bool structured;       /* -o json or yaml (or --json): print the reply message, not a table */
	bool wide;             /* -o wide: tables with their extra columns */
	bool no_headers;       /* --no-headers: tables without their header line */
	annals_client *client; /* opened by the first call, closed by main */
	ar_arena ar;           /* output strings and parsed input; freed by main */
};

/* Command tables, each ended by an entry with run == NULL. */
extern const cli_cmd cli_cmds_server[];
extern const cli_cmd cli_cmds_records[];
extern const cli_cmd cli_cmds_list[];
extern const cli_cmd cli_cmds_knowledge[];
extern const cli_cmd cli_cmds_members[];
extern const cli_cmd cli_cmds_evidence[];
extern const cli_cmd cli_cmds_data[];
extern const cli_cmd cli_cmds_changes[];
extern const cli_cmd cli_cmds_cluster[];
extern const cli_cmd cli_cmds_ingest[];
extern const cli_cmd cli_cmds_annotate[];
extern const cli_cmd cli_cmds_refs[];
/* cli_cmd_refs.c: import's dry run of Batch b (made from ds by ds_batch):
 * lists every reference the file would leave naming no record, by its
 * path in the file; 0 when none, else the exit status (nothing sent). */
int cli_refs_dry_run(cli_ctx *ctx, const char *file, const Annals__V1__Dataset *ds,
                     const Annals__V1__BatchRequest *b);
extern const cli_cmd cli_cmds_call[];
extern const cli_cmd cli_cmds_docs[];

/* Every command table, for help, completion and the man page. */
extern const cli_cmd *const cli_tables[];
extern const size_t cli_ntables;
/* The help text of the global flags and the notes (cli_main.c). */
extern const char cli_global_help[];
extern const char cli_notes[];

/* ---- cli_globals.c ------------------------------------------------------- */

/* The global flags, each defaulting to its ANNALS_* variable; 0 or
 * CLI_EXIT_USAGE after a report. */
int cli_globals(cli_ctx *ctx);

/* ---- cli_suggest.c ------------------------------------------------------- */

/* Edit distance (a swap of neighbours is one edit), ignoring ASCII case. */
size_t cli_edit_distance(const char *a, const char *b);
/* The candidate closest to word when it is close enough to be a typo
 * (or word is a prefix of it), else NULL. */
const char *cli_closest(const char *word, const char *const *cands, size_t n);

/* ---- cli_args.c ---------------------------------------------------------- */

extern const cli_optspec cli_global_opts[];

/* Splits argv into positionals and options; options must be in one of the
 * two specs. Returns 0, or -1 with a reason in msg. */
int cli_args_parse(int argc, char **argv, const cli_optspec *cmd_opts, cli_args *out, char *msg,
                   size_t msglen);
/* The closest option name of either spec to the unknown --name, or NULL. */
const char *cli_opt_suggest(const cli_optspec *cmd_opts, const char *name, size_t len);
/* Does spec (a {NULL}-terminated list, may be NULL) hold --name? */
const cli_optspec *cli_opt_find(const cli_optspec *spec, const char *name, size_t len);

/* The last value of --name, or NULL. */
const char *cli_opt(const cli_ctx *ctx, const char *name);
bool cli_flag(const cli_ctx *ctx, const char *name);
const char *cli_pos(const cli_ctx *ctx, int i); /* NULL past the end */

/* Typed option values. Each returns 0 (leaving *out alone when the option
 * is absent) or CLI_EXIT_USAGE after printing a usage error naming the flag. */
int cli_opt_u32(cli_ctx *ctx, const char *name, uint32_t *out);
int cli_opt_u64(cli_ctx *ctx, const char *name, uint64_t *out, bool *given);
int cli_opt_date(cli_ctx *ctx, const char *name, Annals__V1__Date **out);
/* --at DATE or --at pub:DOC (the publication date of a document). */
int cli_opt_at(cli_ctx *ctx, const char *name, Annals__V1__Date **at, char **doc);
int cli_opt_enum(cli_ctx *ctx, const char *name, const ProtobufCEnumDescriptor *d, const char *prefix,
                 int *out);
int cli_opt_entity_type(cli_ctx *ctx, const char *name, Annals__V1__EntityType *out);
/* --page-size N: records asked per List call, 1..CLI_MAX_PAGE (the server's cap). */
int cli_opt_page_size(cli_ctx *ctx, uint32_t *out);
/* The same rules for a positional argument (its meaning named by `what`). */
int cli_pos_u32(cli_ctx *ctx, int i, const char *what, uint32_t *out);

/* Prints "annals: <reason>" and the command's usage line; returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "annals entity get ID [--expect-revision N]" for ctx->cmd. */
void cli_print_usage_line(FILE *f, const cli_cmd *cmd);

/* ---- cli_bulk.c ---------------------------------------------------------- */

/* `import --bulk`: ds (checked already) through BulkLoad parts and a commit. */
int cli_import_bulk(cli_ctx *ctx, const Annals__V1__Dataset *ds);

/* ---- cli_call.c ---------------------------------------------------------- */

/* Calls `method` ("GetEntity"), printing any failure with a hint. Returns
 * 0 with *reply set (free with annals_free), or the status code. */
int cli_call(cli_ctx *ctx, const char *method, const ProtobufCMessage *req, void *reply);
/* The same without printing, for callers that handle some codes themselves;
 * timeout_ms 0 means ctx->timeout_ms. */
int cli_call_quiet(cli_ctx *ctx, const char *method, const ProtobufCMessage *req, void *reply,
                   uint32_t timeout_ms, annals_error *err);
/* "annals: NOT_FOUND: <message>" and a hint on stderr; returns code. */
int cli_report(const cli_ctx *ctx, int code, const char *message);
/* Opens ctx->client (once) on --server; ANNALS_OK or why not in err. */
int cli_client(cli_ctx *ctx, annals_error *err);
/* The client options of --timeout, --token and the TLS files. */
annals_options cli_client_options(const cli_ctx *ctx);
/* A local failure (bad input file, ...): same format; returns code. */
int cli_fail(const cli_ctx *ctx, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- cli_source.c -------------------------------------------------------- */

/* A document's text as the reader gives it (annals keeps no text). */
typedef struct cli_source {
	const char *path;
	char *text; /* NUL-terminated, len bytes */
	size_t len;
	char sha256[65];
	const char *doc; /* the document it was checked to be, or NULL */
} cli_source;

/* Reads path and takes its sha256; 0 or an exit code (reported). */
int cli_source_load(cli_ctx *ctx, cli_source *s, const char *path);
void cli_source_free(cli_source *s);
/* Fetches doc_id and compares fingerprints (FAILED_PRECONDITION, reported,
 * when they differ); on 0 *out (if not NULL) holds the record (annals_free). */
int cli_source_check(cli_ctx *ctx, cli_source *s, const char *doc_id, Annals__V1__Document **out);

/* cli_cmd_ingest.c: the Document for a text (--id, else doc: and 16 hex
 * digits of its sha256; --title, --summary, --publisher, --published) with
 * its fingerprint and sentence table; 0 or an exit code (reported). */
int cli_ingest_document(cli_ctx *ctx, const cli_source *s, Annals__V1__Document **out);

/* ---- cli_out.c ----------------------------------------------------------- */

typedef struct cli_table {
	ar_arena *ar;
	int ncols;
	const char **cells; /* nrows * ncols, in the arena */
	size_t nrows, cap;
	size_t header_rows; /* 1 when row 0 is the header */
} cli_table;

void cli_table_init(cli_table *t, ar_arena *ar, int ncols);
/* The header line (column names), left out with --no-headers; first, if at all. */
void cli_table_header(cli_table *t, const cli_ctx *ctx, ...);
void cli_table_header_v(cli_table *t, const cli_ctx *ctx, const char *const *cells);
/* Rows added besides the header. */
size_t cli_table_data_rows(const cli_table *t);
/* Exactly ncols strings; NULL prints as "". The strings must live until
 * the table is printed (arena strings or reply fields). */
void cli_table_row(cli_table *t, ...);
/* The same from an array of ncols strings. */
void cli_table_row_v(cli_table *t, const char *const *cells);
/* Aligned columns separated by two spaces, each line starting with indent. */
void cli_table_print(const cli_table *t, FILE *f, const char *indent);
/* Display width of UTF-8 text: one column per code point. */
size_t cli_width(const char *s);

/* The message as -o asks: pretty JSON or a YAML document; returns 0 or an exit code. */
int cli_print_msg(const cli_ctx *ctx, const ProtobufCMessage *m);
/* One item of a stream: a compact JSON line, or a YAML document after "---". */
int cli_print_msg_line(const cli_ctx *ctx, const ProtobufCMessage *m);
/* The same for a JSON value built by hand (steals the reference). */
int cli_print_value(const cli_ctx *ctx, json_t *v, bool line);

/* ---- cli_yaml.c ---------------------------------------------------------- */

/* v as block-style YAML (kubectl's look): plain scalars where YAML would
 * read them back as the same string, double quotes otherwise (so "123",
 * 64-bit integers in proto3 JSON, stay strings). */
void cli_yaml_write(FILE *f, const json_t *v);
/* Whether stderr is a terminal (progress lines are for people only). */
bool cli_stderr_is_tty(void);
/* stdout flushed and without write errors, else a report and CLI_EXIT_IOERR. */
int cli_finish_output(int rc);

/* ---- cli_fmt.c ----------------------------------------------------------- */

/* "2019-05"; "1993 (ev:csto-founded +1y)"; "unresolved (doc:x -1d)"; "?" for none. */
const char *cli_date(ar_arena *a, const Annals__V1__Date *d);
/* "1992 .. open", "? .. before 2020-01-01", "always" for NULL. */
const char *cli_interval(ar_arena *a, const Annals__V1__Interval *iv);
/* The value's name without prefix, lowercased: ("ENTITY_TYPE_", 1) -> "person". */
const char *cli_enum_word(ar_arena *a, const ProtobufCEnumDescriptor *d, const char *prefix, int value);
const char *cli_entity_type(ar_arena *a, int type);
const char *cli_record_kind(ar_arena *a, int kind);
const char *cli_truth(int truth); /* "TRUE", "FALSE", "UNKNOWN", "-" */
/* "doc:x s1 [0,193) reported, by source:y" */
const char *cli_evidence_brief(ar_arena *a, const Annals__V1__Evidence *ev);
void cli_print_publication(ar_arena *a, const Annals__V1__Publication *p);
/* "1,2" */
const char *cli_sentences(ar_arena *a, const Annals__V1__Evidence *ev);
const char *cli_display_name(const Annals__V1__Entity *e); /* first name, or "" */

/* ---- cli_page.c ---------------------------------------------------------- */

/* The replies of a List* call, page after page. */
typedef struct cli_pages {
	ProtobufCMessage **replies;
	size_t n, cap;
	bool more; /* stopped before the last page */
} cli_pages;

/* Calls `method` with req (whose page_size/page_token fields it sets)
 * until the pages run out, or until `limit` items were fetched (0: no
 * limit). page_size is the size asked per call. */
int cli_fetch_pages(cli_ctx *ctx, const char *method, ProtobufCMessage *req, uint32_t page_size,
                    uint64_t limit, cli_pages *out);
/* The items of page i (its one repeated message field). */
size_t cli_page_items(const ProtobufCMessage *page, ProtobufCMessage ***items);
/* All items of all pages as one page message (for --json); pass to
 * cli_merged_free() after use. */
ProtobufCMessage *cli_pages_merge(const cli_pages *p);
void cli_merged_free(ProtobufCMessage *merged);
void cli_pages_free(cli_pages *p);

/* ---- cli_input.c --------------------------------------------------------- */

/* Reads a JSON file ("-": stdin) as a message of type d, built in ctx->ar.
 * Server-set fields are cleared. Returns 0, or an exit code after a report. */
int cli_read_message(cli_ctx *ctx, const char *path, const ProtobufCMessageDescriptor *d,
                     ProtobufCMessage **out);
/* The same without clearing anything (for `call`, which sends what it is given). */
int cli_read_json(cli_ctx *ctx, const char *path, const ProtobufCMessageDescriptor *d,
                  ProtobufCMessage **out);
/* JSON text (named `name` in errors) as a message of type d, in ctx->ar. */
int cli_parse_message(cli_ctx *ctx, const char *name, const char *text, size_t len,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **out);
/* Clears what only the server sets (record revisions; a date's resolved,
 * earliest and latest, and the values of relative dates), everywhere in m,
 * so that what `get --json` or `export` printed can be written back. */
void cli_strip_server_fields(ProtobufCMessage *m);

/* ---- cli_schema.c -------------------------------------------------------- */

/* A method named as a person would: "GetEntity", "getentity",
 * "annals.v1.Annals/GetEntity" or "annals.v1.Annals.GetEntity". Its index,
 * or -1 after a usage error naming the close names. */
int cli_method_lookup(cli_ctx *ctx, const char *name);
/* Up to max method names close to word (typos, prefixes, substrings). */
size_t cli_method_near(const char *word, const char **out, size_t max);
/* `annals describe [METHOD|MESSAGE]` from the server's FileDescriptorSet. */
int cli_describe(cli_ctx *ctx, const char *what);

/* ---- cli_show.c ---------------------------------------------------------- */

/* Detail views of one record, for `get`. */
void cli_show_entity(cli_ctx *ctx, const Annals__V1__Entity *e);
void cli_show_event(cli_ctx *ctx, const Annals__V1__Event *e);
void cli_show_relation(cli_ctx *ctx, const Annals__V1__Relation *r);
void cli_show_document(cli_ctx *ctx, const Annals__V1__Document *d);

#endif

/*
 * cli_args — the command line after the command words.
 *
 * Not getopt: global flags may come before or after the subcommand, and
 * which options take a value depends on the subcommand, which getopt's
 * single option string cannot express without global state. The parser is
 * a pure function of argv and the two specs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "common/date.h"

const cli_optspec cli_global_opts[] = {
    {"server", true},      {"timeout", true},         {"token", true},         {"tls-ca", true},
    {"tls-cert", true},    {"tls-key", true},         {"json", false},         {"help", false},
    {"version", false},    {"min-revision", true},    {"linearizable", false}, {"output", true},
    {"no-headers", false}, {"tls-server-name", true}, {NULL, false},
};

/* Every option name of both specs, for the suggestion. */
const char *cli_opt_suggest(const cli_optspec *cmd_opts, const char *name, size_t len)
{
	const char *names[2 * CLI_MAX_OPTS];
	size_t n = 0;
	for (const cli_optspec *o = cmd_opts; o && o->name && n < CLI_MAX_OPTS; o++)
		names[n++] = o->name;
	for (const cli_optspec *o = cli_global_opts; o->name && n < 2 * CLI_MAX_OPTS; o++)
		names[n++] = o->name;
	char word[80];
	snprintf(word, sizeof(word), "%.*s", (int)(len < 79 ? len : 79), name);
	return cli_closest(word, names, n);
}

const cli_optspec *cli_opt_find(const cli_optspec *spec, const char *name, size_t len)
{
	for (const cli_optspec *o = spec; o && o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static int args_add_opt(cli_args *out, const char *name, const char *value, char *msg, size_t msglen)
{
	if (out->n_opts >= CLI_MAX_OPTS) {
		snprintf(msg, msglen, "too many options (at most %d)", CLI_MAX_OPTS);
		return -1;
	}
	out->names[out->n_opts] = name;
	out->values[out->n_opts++] = value;
	return 0;
}

static int args_add_pos(cli_args *out, const char *arg, char *msg, size_t msglen)
{
	if (out->n_pos >= CLI_MAX_POS) {
		snprintf(msg, msglen, "too many arguments (at most %d)", CLI_MAX_POS);
		return -1;
	}
	out->pos[out->n_pos++] = arg;
	return 0;
}

/* One "--name", "--name=value" or "--name value"; *i advances past what it used. */
static int args_long(int argc, char **argv, int *i, const cli_optspec *cmd_opts, cli_args *out, char *msg,
                     size_t msglen)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const cli_optspec *o = cli_opt_find(cmd_opts, arg, len);
	if (o == NULL)
		o = cli_opt_find(cli_global_opts, arg, len);
	if (o == NULL) {
		const char *near = cli_opt_suggest(cmd_opts, arg, len);
		if (near)
			snprintf(msg, msglen, "unknown option --%.*s; did you mean --%s?", (int)len, arg,
			         near);
		else
			snprintf(msg, msglen, "unknown option --%.*s", (int)len, arg);
		return -1;
	}
	if (!o->takes_value) {
		if (eq) {
			snprintf(msg, msglen, "--%s takes no value", o->name);
			return -1;
		}
		return args_add_opt(out, o->name, "", msg, msglen);
	}
	if (eq)
		return args_add_opt(out, o->name, eq + 1, msg, msglen);
	if (*i + 1 >= argc) {
		snprintf(msg, msglen, "--%s needs a value", o->name);
		return -1;
	}
	*i += 1;
	return args_add_opt(out, o->name, argv[*i], msg, msglen);
}

static int args_short_output(int argc, char **argv, int *i, cli_args *out, char *msg, size_t msglen)
{
	const char *v = argv[*i] + 2;
	if (*v == '\0') {
		if (*i + 1 >= argc) {
			snprintf(msg, msglen, "-o needs a value: table, wide, json or yaml");
			return -1;
		}
		*i += 1;
		v = argv[*i];
	}
	return args_add_opt(out, "output", v, msg, msglen);
}

int cli_args_parse(int argc, char **argv, const cli_optspec *cmd_opts, cli_args *out, char *msg,
                   size_t msglen)
{
	memset(out, 0, sizeof(*out));
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int rc;
		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			rc = args_add_pos(out, a, msg, msglen);
		} else if (strcmp(a, "--") == 0) {
			only_pos = true;
			rc = 0;
		} else if (strcmp(a, "-h") == 0) {
			rc = args_add_opt(out, "help", "", msg, msglen);
		} else if (strncmp(a, "-o", 2) == 0) { /* -o json, -ojson (kubectl) */
			rc = args_short_output(argc, argv, &i, out, msg, msglen);
		} else if (a[1] == '-') {
			rc = args_long(argc, argv, &i, cmd_opts, out, msg, msglen);
		} else {
			snprintf(msg, msglen, "unknown option %s (options are spelled --name)", a);
			rc = -1;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

const char *cli_opt(const cli_ctx *ctx, const char *name)
{
	for (int i = ctx->args.n_opts - 1; i >= 0; i--)
		if (strcmp(ctx->args.names[i], name) == 0)
			return ctx->args.values[i];
	return NULL;
}

bool cli_flag(const cli_ctx *ctx, const char *name)
{
	return cli_opt(ctx, name) != NULL;
}

const char *cli_pos(const cli_ctx *ctx, int i)
{
	return i < ctx->args.n_pos ? ctx->args.pos[i] : NULL;
}

void cli_print_usage_line(FILE *f, const cli_cmd *cmd)
{
	if (cmd == NULL) {
		fprintf(f, "usage: annals [global flags] COMMAND [ARGS]   (annals --help lists them)\n");
		return;
	}
	fprintf(f, "usage: annals %s%s%s%s%s\n", cmd->group ? cmd->group : "", cmd->group ? " " : "",
	        cmd->name, cmd->synopsis && *cmd->synopsis ? " " : "", cmd->synopsis ? cmd->synopsis : "");
}

int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "annals: %s\n", msg);
	cli_print_usage_line(stderr, ctx->cmd);
	if (ctx->cmd)
		fprintf(stderr, "(more: annals %s%s%s --help)\n", ctx->cmd->group ? ctx->cmd->group : "",
		        ctx->cmd->group ? " " : "", ctx->cmd->name);
	return CLI_EXIT_USAGE;
}

/* Decimal digits only: strtoull would take "-1" and " 7". */
static int args_number(const char *text, uint64_t max, uint64_t *out)
{
	if (text[0] < '0' || text[0] > '9')
		return -1;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_opt_u64(cli_ctx *ctx, const char *name, uint64_t *out, bool *given)
{
	const char *v = cli_opt(ctx, name);
	if (given)
		*given = v != NULL;
	if (v == NULL)
		return 0;
	if (args_number(v, UINT64_MAX, out) != 0)
		return cli_usage_error(ctx, "--%s: '%s' is not a whole number", name, v);
	return 0;
}

int cli_opt_u32(cli_ctx *ctx, const char *name, uint32_t *out)
{
	const char *v = cli_opt(ctx, name);
	uint64_t n;
	if (v == NULL)
		return 0;
	if (args_number(v, UINT32_MAX, &n) != 0)
		return cli_usage_error(ctx, "--%s: '%s' is not a whole number from 0 to %u", name, v,
		                       UINT32_MAX);
	*out = (uint32_t)n;
	return 0;
}

int cli_pos_u32(cli_ctx *ctx, int i, const char *what, uint32_t *out)
{
	const char *v = cli_pos(ctx, i);
	uint64_t n;
	if (v == NULL)
		return 0;
	if (args_number(v, UINT32_MAX, &n) != 0)
		return cli_usage_error(ctx, "%s: '%s' is not a whole number", what, v);
	*out = (uint32_t)n;
	return 0;
}

static Annals__V1__Date *args_parse_date(cli_ctx *ctx, const char *name, const char *text, int *rc)
{
	Annals__V1__Date *d = AR_NEW(&ctx->ar, Annals__V1__Date, ANNALS__V1__DATE__INIT);
	char why[200] = "";
	*rc = 0;
	if (date_parse(text, d, why, sizeof(why)) != 0) {
		*rc = cli_usage_error(ctx, "--%s: %s (dates are 2019, 2019-05 or 2019-05-01)", name,
		                      why[0] ? why : "not a date");
		return NULL;
	}
	return d;
}

int cli_opt_date(cli_ctx *ctx, const char *name, Annals__V1__Date **out)
{
	const char *v = cli_opt(ctx, name);
	int rc = 0;
	if (v != NULL)
		*out = args_parse_date(ctx, name, v, &rc);
	return rc;
}

int cli_opt_at(cli_ctx *ctx, const char *name, Annals__V1__Date **at, char **doc)
{
	const char *v = cli_opt(ctx, name);
	int rc = 0;
	if (v == NULL)
		return 0;
	if (strncmp(v, "pub:", 4) == 0) {
		if (v[4] == '\0')
			return cli_usage_error(ctx, "--%s: pub: needs a document id (pub:doc:...)", name);
		*doc = ar_strdup(&ctx->ar, v + 4);
		return 0;
	}
	*at = args_parse_date(ctx, name, v, &rc);
	return rc;
}

/* Same word, ignoring case and reading '-' as '_' ("media-source"). */
static bool args_word_eq(const char *text, const char *word)
{
	for (; *text && *word; text++, word++) {
		char c = *text == '-' ? '_' : *text;
		if (tolower((unsigned char)c) != tolower((unsigned char)*word))
			return false;
	}
	return *text == '\0' && *word == '\0';
}

/* Accepts "person", "media-source" or "ENTITY_TYPE_PERSON" in any case;
 * the UNSPECIFIED value is never a valid choice. */
static int args_enum_value(const ProtobufCEnumDescriptor *d, const char *prefix, const char *text, int *out)
{
	size_t plen = strlen(prefix);
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *full = d->values[i].name;
		const char *word = strncmp(full, prefix, plen) == 0 ? full + plen : full;
		if (d->values[i].value != 0 && (args_word_eq(text, word) || args_word_eq(text, full))) {
			*out = d->values[i].value;
			return 0;
		}
	}
	return -1;
}

int cli_opt_enum(cli_ctx *ctx, const char *name, const ProtobufCEnumDescriptor *d, const char *prefix,
                 int *out)
{
	const char *v = cli_opt(ctx, name);
	if (v == NULL)
		return 0;
	if (args_enum_value(d, prefix, v, out) == 0)
		return 0;
	char choices[400] = "";
	size_t n = 0;
	for (unsigned i = 0; i < d->n_values && n < sizeof(choices); i++)
		if (d->values[i].value != 0)
			n += (size_t)snprintf(choices + n, sizeof(choices) - n, "%s%s", n ? ", " : "",
			                      cli_enum_word(&ctx->ar, d, prefix, d->values[i].value));
	return cli_usage_error(ctx, "--%s: '%s' is not one of %s", name, v, choices);
}

int cli_opt_entity_type(cli_ctx *ctx, const char *name, Annals__V1__EntityType *out)
{
	int v = (int)*out;
	int rc = cli_opt_enum(ctx, name, &annals__v1__entity_type__descriptor, "ENTITY_TYPE_", &v);
	*out = (Annals__V1__EntityType)v;
	return rc;
}

int cli_opt_page_size(cli_ctx *ctx, uint32_t *out)
{
	uint32_t n = *out;
	int rc = cli_opt_u32(ctx, "page-size", &n);
	if (rc == 0 && (n == 0 || n > CLI_MAX_PAGE))
		return cli_usage_error(ctx, "--page-size: give a number from 1 to %d", CLI_MAX_PAGE);
	*out = n;
	return rc;
}

/*
 * annals — the command-line client of the annals registry.
 *
 * main() finds the command words ("entity get", "members"), parses the
 * rest against that command's options plus the global ones, and runs the
 * command. The commands live in the tables of the cli_cmd_*.c files; this
 * file only knows how to find one, and how to print help for any of them.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAIN_DEFAULT_SERVER     "tcp://127.0.0.1:7700"
#define MAIN_DEFAULT_TIMEOUT_MS 5000

static const cli_cmd *const main_tables[] = {
    cli_cmds_server,   cli_cmds_records, cli_cmds_list,    cli_cmds_knowledge, cli_cmds_members,
    cli_cmds_evidence, cli_cmds_data,    cli_cmds_changes, cli_cmds_cluster,   cli_cmds_refs,
};
#define MAIN_NTABLES (sizeof(main_tables) / sizeof(main_tables[0]))

static const char main_global_help[] =
    "global flags (before or after the command):\n"
    "  --server URL        the server: tcp://HOST:PORT, ipc:///PATH or tls+tcp://HOST:PORT\n"
    "                      (ANNALS_SERVER; default " MAIN_DEFAULT_SERVER ")\n"
    "                      or a comma-separated list of a cluster's nodes (calls fail over)\n"
    "  --timeout MS        how long to wait for each answer (default 5000)\n"
    "  --token T           bearer token, when the server wants one (ANNALS_TOKEN)\n"
    "  --tls-ca FILE       CA that signed the server's certificate (tls+tcp://)\n"
    "  --tls-cert FILE     client certificate and --tls-key FILE its key (mutual TLS)\n"
    "  --min-revision N    reads: answer at store revision N or later (waits up to --timeout)\n"
    "  --linearizable      reads, cluster mode: see every write acknowledged before the call\n"
    "  --json              print the reply message as JSON (proto3 mapping, .proto field names)\n"
    "  --help              help; also after any command: annals members --help\n"
    "  --version           the client's version\n";

static const char main_notes[] =
    "dates: ISO 8601 at the precision you mean: 2019, 2019-05 or 2019-05-01; --at pub:DOC\n"
    "means the publication date of document DOC. Types: person, organization, country, place,\n"
    "position, treaty, group, media_source, document.\n"
    "\n"
    "exit status: 0 success; 1..16 the status code of the call that failed (3 INVALID_ARGUMENT,\n"
    "5 NOT_FOUND, 14 UNAVAILABLE, ...); 64 a usage error; 66 an input file cannot be read.\n";

static bool main_is_group(const char *word)
{
	for (size_t t = 0; t < MAIN_NTABLES; t++)
		for (const cli_cmd *c = main_tables[t]; c->run; c++)
			if (c->group && strcmp(c->group, word) == 0)
				return true;
	return false;
}

/* Is c the first command of its group in table order? */
static bool main_first_of_group(const cli_cmd *c)
{
	for (size_t t = 0; t < MAIN_NTABLES; t++)
		for (const cli_cmd *o = main_tables[t]; o->run; o++) {
			if (o == c)
				return true;
			if (o->group && strcmp(o->group, c->group) == 0)
				return false;
		}
	return false;
}

static const cli_cmd *main_find_cmd(const char *group, const char *name)
{
	for (size_t t = 0; t < MAIN_NTABLES; t++)
		for (const cli_cmd *c = main_tables[t]; c->run; c++) {
			bool same_group =
			    group ? (c->group && strcmp(c->group, group) == 0) : c->group == NULL;
			if (same_group && strcmp(c->name, name) == 0)
				return c;
		}
	return NULL;
}

static void main_add_row(cli_ctx *ctx, cli_table *t, const cli_cmd *c, bool synopsis)
{
	const char *words = c->group ? ar_printf(&ctx->ar, "%s %s", c->group, c->name) : c->name;
	if (synopsis && c->synopsis && *c->synopsis)
		words = ar_printf(&ctx->ar, "%s %s", words, c->synopsis);
	cli_table_row(t, words, c->summary);
}

/* Every command of `group`, from whichever table holds it. */
static void main_add_group(cli_ctx *ctx, cli_table *t, const char *group, bool synopsis)
{
	for (size_t i = 0; i < MAIN_NTABLES; i++)
		for (const cli_cmd *c = main_tables[i]; c->run; c++)
			if (c->group && strcmp(c->group, group) == 0)
				main_add_row(ctx, t, c, synopsis);
}

/* The command list: top-level commands in table order, and each group's
 * commands together where the group first appears. With a group, only
 * its commands, with their arguments (the full list would be too wide). */
static void main_list_cmds(cli_ctx *ctx, const char *group)
{
	cli_table t;
	cli_table_init(&t, &ctx->ar, 2);
	if (group != NULL)
		main_add_group(ctx, &t, group, true);
	for (size_t i = 0; group == NULL && i < MAIN_NTABLES; i++)
		for (const cli_cmd *c = main_tables[i]; c->run; c++) {
			if (c->group == NULL) {
				main_add_row(ctx, &t, c, false);
			} else if (main_first_of_group(c)) {
				main_add_group(ctx, &t, c->group, false);
			}
		}
	cli_table_print(&t, stdout, "  ");
}

static int main_help(cli_ctx *ctx)
{
	printf("annals — the command-line client of the annals entity-and-event registry\n\n"
	       "usage: annals [global flags] COMMAND [ARGS] [flags]\n\n%s\ncommands (annals COMMAND --help "
	       "tells more):\n",
	       main_global_help);
	main_list_cmds(ctx, NULL);
	printf("\n%s", main_notes);
	return 0;
}

static int main_group_help(cli_ctx *ctx, const char *group)
{
	printf("usage: annals %s COMMAND [ARGS] [flags]\n\ncommands:\n", group);
	main_list_cmds(ctx, group);
	printf("\nannals %s COMMAND --help tells more; annals --help lists the global flags.\n", group);
	return 0;
}

static int main_cmd_help(const cli_cmd *c)
{
	cli_print_usage_line(stdout, c);
	printf("\n%s\n", c->summary);
	if (c->details)
		printf("\n%s", c->details);
	printf("\n%s", main_global_help);
	return 0;
}

/* Where the command words are: argv indices of up to two words, skipping
 * global flags (and their values) before and between them. Stops at the
 * first other option, since only the command knows whether it takes a value. */
static int main_find_words(int argc, char **argv, int words[2], bool *help, bool *version)
{
	int n = 0;
	for (int i = 1; i < argc && n < 2; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0) {
			*help = true;
			continue;
		}
		if (a[0] == '-' && strcmp(a, "-") != 0) {
			if (a[1] != '-' || a[2] == '\0')
				break;
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			const cli_optspec *o = cli_opt_find(cli_global_opts, a + 2, len);
			if (o == NULL)
				break;
			*help |= strcmp(o->name, "help") == 0;
			*version |= strcmp(o->name, "version") == 0;
			if (o->takes_value && eq == NULL)
				i++;
			continue;
		}
		words[n++] = i;
		if (n == 1 && !main_is_group(a))
			break;
	}
	return n;
}

/* The command, or an exit status (help printed, or a usage error) in *rc. */
static const cli_cmd *main_pick(cli_ctx *ctx, int argc, char **argv, int words[2], int *nwords, int *rc)
{
	bool help = false, version = false;
	*nwords = main_find_words(argc, argv, words, &help, &version);
	*rc = 0;
	if (*nwords == 0) {
		if (version)
			printf("annals %s (protocol annals.v1)\n", ANNALS_VERSION);
		else if (help || argc == 1)
			*rc = main_help(ctx);
		else
			*rc = cli_usage_error(ctx, "which command? annals --help lists them");
		return NULL;
	}
	const char *w1 = argv[words[0]];
	if (!main_is_group(w1)) {
		const cli_cmd *c = main_find_cmd(NULL, w1);
		if (c == NULL)
			*rc = cli_usage_error(ctx, "unknown command '%s'; annals --help lists them", w1);
		return c;
	}
	if (*nwords < 2) {
		if (help)
			*rc = main_group_help(ctx, w1);
		else
			*rc = cli_usage_error(ctx, "%s: which one? annals %s --help lists them", w1, w1);
		return NULL;
	}
	const cli_cmd *c = main_find_cmd(w1, argv[words[1]]);
	if (c == NULL)
		*rc = cli_usage_error(ctx, "%s: unknown command '%s'; annals %s --help lists them", w1,
		                      argv[words[1]], w1);
	return c;
}

static int main_globals(cli_ctx *ctx)
{
	const char *env_server = getenv("ANNALS_SERVER");
	const char *env_token = getenv("ANNALS_TOKEN");
	ctx->server = cli_opt(ctx, "server");
	if (ctx->server == NULL)
		ctx->server = env_server && *env_server ? env_server : MAIN_DEFAULT_SERVER;
	ctx->token = cli_opt(ctx, "token");
	if (ctx->token == NULL && env_token && *env_token)
		ctx->token = env_token;
	ctx->tls_ca = cli_opt(ctx, "tls-ca");
	ctx->tls_cert = cli_opt(ctx, "tls-cert");
	ctx->tls_key = cli_opt(ctx, "tls-key");
	ctx->json = cli_flag(ctx, "json");
	ctx->request_id = cli_opt(ctx, "request-id");
	ctx->timeout_ms = MAIN_DEFAULT_TIMEOUT_MS;
	ctx->linearizable = cli_flag(ctx, "linearizable");
	bool given = false;
	int rc = cli_opt_u64(ctx, "min-revision", &ctx->min_revision, &given);
	if (rc == 0)
		rc = cli_opt_u32(ctx, "timeout", &ctx->timeout_ms);
	if (rc == 0 && ctx->timeout_ms == 0)
		rc = cli_usage_error(ctx, "--timeout: give a number of milliseconds above 0");
	if (rc == 0 && ctx->request_id && ctx->request_id[0] == '\0')
		rc = cli_usage_error(ctx, "--request-id: must not be empty");
	return rc;
}

/* The name of positional argument i in the synopsis ("ID" in "ID [--x N]"):
 * words that are not options, option values or bracketed. */
static const char *main_pos_name(cli_ctx *ctx, int i)
{
	const char *s = ctx->cmd->synopsis ? ctx->cmd->synopsis : "";
	bool after_flag = false;
	while (*s) {
		size_t n = strcspn(s, " ");
		bool is_pos = !after_flag && s[0] != '[' && s[0] != '-' && n > 0;
		after_flag = s[0] == '-';
		if (is_pos && i-- == 0)
			return ar_strndup(&ctx->ar, s, n);
		s += n + (s[n] == ' ');
	}
	return "argument";
}

/* Parses what is left after the command words and checks the positional count. */
static int main_parse(cli_ctx *ctx, int argc, char **argv, const int words[2], int nwords)
{
	char **rest = calloc((size_t)argc, sizeof(*rest));
	int n = 0;
	if (rest == NULL)
		return cli_fail(ctx, ANNALS_RESOURCE_EXHAUSTED, "out of memory");
	for (int i = 1; i < argc; i++)
		if (!(i == words[0] || (nwords > 1 && i == words[1])))
			rest[n++] = argv[i];
	char msg[300];
	int rc = cli_args_parse(n, rest, ctx->cmd->opts, &ctx->args, msg, sizeof(msg));
	free(rest); /* the parsed values point into argv, not into rest */
	if (rc != 0)
		return cli_usage_error(ctx, "%s", msg);
	if (cli_flag(ctx, "help") || cli_flag(ctx, "version"))
		return 0;
	if (ctx->args.n_pos < ctx->cmd->min_pos)
		return cli_usage_error(ctx, "missing %s", main_pos_name(ctx, ctx->args.n_pos));
	if (ctx->args.n_pos > ctx->cmd->max_pos)
		return cli_usage_error(ctx, "unexpected argument '%s'", ctx->args.pos[ctx->cmd->max_pos]);
	return main_globals(ctx);
}

static int main_run(cli_ctx *ctx, int argc, char **argv)
{
	int words[2] = {0, 0}, nwords = 0, rc = 0;
	ctx->cmd = main_pick(ctx, argc, argv, words, &nwords, &rc);
	if (ctx->cmd == NULL)
		return rc;
	rc = main_parse(ctx, argc, argv, words, nwords);
	if (rc != 0)
		return rc;
	if (cli_flag(ctx, "help"))
		return main_cmd_help(ctx->cmd);
	if (cli_flag(ctx, "version")) {
		printf("annals %s (protocol annals.v1)\n", ANNALS_VERSION);
		return 0;
	}
	return ctx->cmd->run(ctx);
}

int main(int argc, char **argv)
{
	cli_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ar_init(&ctx.ar);
	int rc = main_run(&ctx, argc, argv);
	rc = cli_finish_output(rc);
	annals_close(ctx.client);
	ar_free(&ctx.ar);
	return rc;
}

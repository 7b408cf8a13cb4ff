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

const cli_cmd *const cli_tables[] = {
    cli_cmds_server,   cli_cmds_records, cli_cmds_list,     cli_cmds_knowledge, cli_cmds_members,
    cli_cmds_evidence, cli_cmds_data,    cli_cmds_changes,  cli_cmds_cluster,   cli_cmds_call,
    cli_cmds_docs,     cli_cmds_ingest,  cli_cmds_annotate, cli_cmds_refs,
};
const size_t cli_ntables = sizeof(cli_tables) / sizeof(cli_tables[0]);

/* Each flag's variable is named beside it: the flag wins over the variable. */
const char cli_global_help[] =
    "global flags (before or after the command):\n"
    "  --server URL          the server: tcp://HOST:PORT, ipc:///PATH or tls+tcp://HOST:PORT\n"
    "                        (ANNALS_SERVER; default tcp://127.0.0.1:7700), or a comma-separated\n"
    "                        list of a cluster's nodes (calls fail over)\n"
    "  --timeout MS          how long to wait for each answer (ANNALS_TIMEOUT; default 5000)\n"
    "  --token T             bearer token, when the server wants one (ANNALS_TOKEN)\n"
    "  --tls-ca FILE         CA that signed the server's certificate, for tls+tcp:// (ANNALS_TLS_CA)\n"
    "  --tls-cert FILE       client certificate, for mutual TLS (ANNALS_TLS_CERT)\n"
    "  --tls-key FILE        its private key (ANNALS_TLS_KEY)\n"
    "  --tls-server-name N   the name the server's certificate must carry; default: the URL's\n"
    "                        host (ANNALS_TLS_SERVER_NAME)\n"
    "  --min-revision N      reads: answer at store revision N or later (waits up to --timeout)\n"
    "  --linearizable        reads, cluster mode: see every write acknowledged before the call\n"
    "  -o, --output FORMAT   table (default), wide (more columns), json (the reply message in\n"
    "                        the proto3 JSON mapping, .proto field names) or yaml (the same)\n"
    "  --json                the same as -o json\n"
    "  --no-headers          tables without their header line (table and wide)\n"
    "  --help                help; also after any command: annals members --help\n"
    "  --version             the client's version\n";

const char cli_notes[] =
    "dates: ISO 8601 at the precision you mean: 2019, 2019-05 or 2019-05-01; --at pub:DOC\n"
    "means the publication date of document DOC. Types: person, organization, country, place,\n"
    "position, treaty, group, media_source, document.\n"
    "\n"
    "exit status: 0 success; 1..16 the status code of the call that failed, one per class\n"
    "(3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED, 9 FAILED_PRECONDITION,\n"
    "14 UNAVAILABLE, 16 UNAUTHENTICATED, ...); 64 a usage error; 66 an input file cannot be\n"
    "read; 74 the output cannot be written.\n";

static bool main_is_group(const char *word)
{
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run; c++)
			if (c->group && strcmp(c->group, word) == 0)
				return true;
	return false;
}

/* Is c the first command of its group in table order? */
static bool main_first_of_group(const cli_cmd *c)
{
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *o = cli_tables[t]; o->run; o++) {
			if (o == c)
				return true;
			if (o->group && strcmp(o->group, c->group) == 0)
				return false;
		}
	return false;
}

static const cli_cmd *main_find_cmd(const char *group, const char *name)
{
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run; c++) {
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
	for (size_t i = 0; i < cli_ntables; i++)
		for (const cli_cmd *c = cli_tables[i]; c->run; c++)
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
	for (size_t i = 0; group == NULL && i < cli_ntables; i++)
		for (const cli_cmd *c = cli_tables[i]; c->run; c++) {
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
	       cli_global_help);
	main_list_cmds(ctx, NULL);
	printf("\n%s", cli_notes);
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
	printf("\n%s", cli_global_help);
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
		if (strncmp(a, "-o", 2) == 0) { /* -o FORMAT is global too */
			i += a[2] == '\0';
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

/* "unknown command 'membrs'; did you mean 'members'?": the closest
 * top-level command or group (or, in a group, its subcommand). */
static int main_unknown(cli_ctx *ctx, const char *group, const char *word)
{
	const char *names[128];
	size_t n = 0;
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run && n < 128; c++) {
			if (group != NULL && c->group && strcmp(c->group, group) == 0)
				names[n++] = c->name;
			else if (group == NULL)
				names[n++] = c->group ? c->group : c->name;
		}
	const char *near = cli_closest(word, names, n);
	const char *g = group ? group : "", *sp = group ? " " : "";
	if (near)
		return cli_usage_error(
		    ctx, "%s%sunknown command '%s'; did you mean '%s%s%s'? (annals %s%s--help lists them)", g,
		    group ? ": " : "", word, g, sp, near, g, sp);
	return cli_usage_error(ctx, "%s%sunknown command '%s'; annals %s%s--help lists them", g,
	                       group ? ": " : "", word, g, sp);
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
			*rc = main_unknown(ctx, NULL, w1);
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
		*rc = main_unknown(ctx, w1, argv[words[1]]);
	return c;
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
	return cli_globals(ctx);
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

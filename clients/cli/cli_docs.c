/*
 * cli_docs — the manual page annals(1) and the bash completion script,
 * both written from the command table (and the method table), so neither
 * can drift from what `annals --help` says. `make` runs the built CLI to
 * write them; `make install` installs them.
 */
#include <string.h>

#include "cli.h"
#include "common/envelope.h"

/* ---- the man page -------------------------------------------------------------- */

/* Text for roff: backslashes escaped, a leading dot or quote defused,
 * non-ASCII as \[uXXXX] (groff reads its input as Latin-1 otherwise). */
static void docs_roff_text(const char *s, bool line_start)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", stdout);
		line_start = *p == '\n';
		if (*p == '\\') {
			fputs("\\e", stdout);
		} else if (*p == '-') {
			fputs("\\-", stdout);
		} else if (*p < 0x80) {
			putchar(*p);
		} else {
			unsigned cp = 0;
			int more = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;
			cp = *p & (0x3Fu >> more);
			for (int i = 0; i < more && (p[1] & 0xC0) == 0x80; i++)
				cp = (cp << 6) | (*++p & 0x3Fu);
			printf("\\[u%04X]", cp);
		}
	}
}

static void docs_preformatted(const char *text)
{
	fputs(".RS 4\n.nf\n", stdout);
	docs_roff_text(text, true);
	if (text[0] && text[strlen(text) - 1] != '\n')
		putchar('\n');
	fputs(".fi\n.RE\n", stdout);
}

static void docs_man_cmd(const cli_cmd *c)
{
	fputs(".TP\n.B annals ", stdout);
	docs_roff_text(c->group ? c->group : "", false);
	fputs(c->group ? " " : "", stdout);
	docs_roff_text(c->name, false);
	if (c->synopsis && *c->synopsis) {
		fputs(" ", stdout);
		docs_roff_text(c->synopsis, false);
	}
	putchar('\n');
	docs_roff_text(c->summary, true);
	putchar('\n');
	if (c->details)
		docs_preformatted(c->details);
}

static const char docs_env[] = "ANNALS_SERVER\0the server URL(s), as --server\0"
                               "ANNALS_TIMEOUT\0milliseconds to wait for each answer, as --timeout\0"
                               "ANNALS_TOKEN\0the bearer token, as --token\0"
                               "ANNALS_TLS_CA\0the CA file, as --tls-ca\0"
                               "ANNALS_TLS_CERT\0the client certificate, as --tls-cert\0"
                               "ANNALS_TLS_KEY\0its key, as --tls-key\0"
                               "ANNALS_TLS_SERVER_NAME\0the name the certificate must carry, as "
                               "--tls-server-name\0";

static int cmd_manpage(cli_ctx *ctx)
{
	(void)ctx;
	printf(".TH ANNALS 1 \"\" \"annals %s\" \"User Commands\"\n", ANNALS_VERSION);
	fputs(
	    ".SH NAME\nannals \\- the command\\-line client of the annals entity\\-and\\-event registry\n"
	    ".SH SYNOPSIS\n.B annals\n[\\fIglobal flags\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR] [\\fIflags\\fR]\n"
	    ".SH DESCRIPTION\nannals asks an annalsd server about entities (people, organizations, "
	    "countries, offices, treaties) and events, and what held when, with the evidence for "
	    "every fact; it also writes records, imports and exports data sets, follows the change "
	    "feed and calls any method by name with a JSON body.\n"
	    "Every command answers \\fB\\-\\-help\\fR; the answers are tables for people, or the "
	    "reply message as JSON or YAML with \\fB\\-o json\\fR or \\fB\\-o yaml\\fR.\n"
	    ".SH COMMANDS\n",
	    stdout);
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run; c++)
			docs_man_cmd(c);
	fputs(".SH GLOBAL FLAGS\n", stdout);
	docs_preformatted(strchr(cli_global_help, '\n') + 1);
	fputs(".SH ENVIRONMENT\nA flag given on the command line wins over its variable.\n", stdout);
	for (const char *p = docs_env; *p; p += strlen(p) + 1) {
		printf(".TP\n.B %s\n", p);
		p += strlen(p) + 1;
		docs_roff_text(p, true);
		putchar('\n');
	}
	fputs(".SH NOTES AND EXIT STATUS\n", stdout);
	docs_preformatted(cli_notes);
	fputs(".SH EXAMPLES\n", stdout);
	docs_preformatted("annals resolve CST\n"
	                  "annals members org:csto --at 2005\n"
	                  "annals -o yaml holder position:csto-secretary-general --at 2020-01-01\n"
	                  "annals call GetEntity '{\"id\": \"org:csto\"}'\n"
	                  "annals describe Members\n"
	                  "source <(annals completion bash)\n");
	fputs(".SH SEE ALSO\n\\fBannalsd \\-\\-help\\fR for the server; the README of the annals "
	      "sources for the RPCs, the wire and the as\\-of rules.\n",
	      stdout);
	return 0;
}

/* ---- bash completion ------------------------------------------------------------- */

static void docs_opts(const cli_optspec *spec, bool valued_only)
{
	for (const cli_optspec *o = spec; o && o->name; o++)
		if (!valued_only || o->takes_value)
			printf(" --%s", o->name);
}

/* Every message and enum reachable from the methods, once, for describe. */
typedef struct docs_names {
	const char *names[256];
	size_t n;
} docs_names;

static bool docs_add_name(docs_names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return false;
	if (s->n < 256)
		s->names[s->n++] = name;
	return true;
}

static void docs_walk(docs_names *s, const ProtobufCMessageDescriptor *d)
{
	if (!docs_add_name(s, d->short_name))
		return;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			docs_walk(s, f->descriptor);
		else if (f->type == PROTOBUF_C_TYPE_ENUM)
			docs_add_name(s, ((const ProtobufCEnumDescriptor *)f->descriptor)->short_name);
	}
}

static void docs_words(void)
{
	const ProtobufCServiceDescriptor *sd = env_service();
	docs_names msgs = {.n = 0};
	fputs("_annals_methods='", stdout);
	for (unsigned i = 0; i < sd->n_methods; i++) {
		printf("%s%s", i ? " " : "", sd->methods[i].name);
		docs_walk(&msgs, sd->methods[i].input);
		docs_walk(&msgs, sd->methods[i].output);
	}
	fputs("'\n_annals_messages='", stdout);
	for (size_t i = 0; i < msgs.n; i++)
		printf("%s%s", i ? " " : "", msgs.names[i]);
	fputs("'\n", stdout);
}

static void docs_tables(void)
{
	fputs("_annals_commands='", stdout);
	bool first = true;
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run; c++) {
			const char *w = c->group ? c->group : c->name;
			bool seen = false; /* a group once, where it first appears */
			for (size_t u = 0; u <= t && !seen; u++)
				for (const cli_cmd *o = cli_tables[u]; o->run && o != c && !seen; o++)
					seen = o->group && c->group && strcmp(o->group, c->group) == 0;
			if (!seen) {
				printf("%s%s", first ? "" : " ", w);
				first = false;
			}
		}
	fputs("'\ndeclare -gA _annals_subs=()\ndeclare -gA _annals_opts=()\n", stdout);
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run; c++) {
			if (c->group)
				printf("_annals_subs[%s]+=' %s'\n", c->group, c->name);
			printf("_annals_opts['%s%s%s']='", c->group ? c->group : "", c->group ? " " : "",
			       c->name);
			docs_opts(c->opts, false);
			fputs("'\n", stdout);
		}
	fputs("_annals_global='-o", stdout);
	docs_opts(cli_global_opts, false);
	fputs("'\n_annals_valued='-o", stdout);
	docs_opts(cli_global_opts, true);
	for (size_t t = 0; t < cli_ntables; t++)
		for (const cli_cmd *c = cli_tables[t]; c->run; c++)
			docs_opts(c->opts, true);
	fputs("'\n", stdout);
}

/* The function: find the command words (skipping options and the values
 * of those that take one), then complete what may come at the cursor. */
static const char docs_bash_fn[] =
    "_annals() {\n"
    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "\tlocal i w cmd='' npos=0 skip=0\n"
    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
    "\t\tw=${COMP_WORDS[i]}\n"
    "\t\tif ((skip)); then skip=0; continue; fi\n"
    "\t\tcase $w in\n"
    "\t\t--*=*) continue ;;\n"
    "\t\t-*) [[ \" $_annals_valued \" == *\" $w \"* ]] && skip=1; continue ;;\n"
    "\t\tesac\n"
    "\t\tif [[ -z $cmd ]]; then cmd=$w\n"
    "\t\telif [[ -n ${_annals_subs[$cmd]+x} && $cmd != *' '* ]]; then cmd=\"$cmd $w\"\n"
    "\t\telse npos=$((npos + 1)); fi\n"
    "\tdone\n"
    "\tcase $prev in\n"
    "\t-o | --output) COMPREPLY=($(compgen -W 'table wide json yaml' -- \"$cur\")); return ;;\n"
    "\t--type) COMPREPLY=($(compgen -W 'person organization country place position treaty group "
    "media_source document' -- \"$cur\")); return ;;\n"
    "\t--kind) COMPREPLY=($(compgen -W 'entity event relation document' -- \"$cur\")); return ;;\n"
    "\t--status) COMPREPLY=($(compgen -W 'occurred planned cancelled' -- \"$cur\")); return ;;\n"
    "\t--source | --out | --tls-ca | --tls-cert | --tls-key) COMPREPLY=($(compgen -f -- \"$cur\")); "
    "return ;;\n"
    "\tesac\n"
    "\tif [[ \" $_annals_valued \" == *\" $prev \"* ]]; then COMPREPLY=(); return; fi\n"
    "\tif [[ $cur == -* ]]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"${_annals_opts[$cmd]} $_annals_global\" -- \"$cur\")); return\n"
    "\tfi\n"
    "\tif [[ -z $cmd ]]; then COMPREPLY=($(compgen -W \"$_annals_commands\" -- \"$cur\")); return; fi\n"
    "\tif [[ -n ${_annals_subs[$cmd]+x} ]]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"${_annals_subs[$cmd]}\" -- \"$cur\")); return\n"
    "\tfi\n"
    "\tcase \"$cmd:$npos\" in\n"
    "\tcall:0) COMPREPLY=($(compgen -W \"$_annals_methods\" -- \"$cur\")) ;;\n"
    "\tdescribe:0) COMPREPLY=($(compgen -W \"$_annals_methods $_annals_messages\" -- \"$cur\")) ;;\n"
    "\tcompletion:0) COMPREPLY=($(compgen -W 'bash' -- \"$cur\")) ;;\n"
    "\t*put:0 | batch:0 | import:0) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
    "\t*) COMPREPLY=() ;;\n"
    "\tesac\n"
    "}\n"
    "complete -F _annals annals\n";

static int cmd_completion(cli_ctx *ctx)
{
	if (strcmp(cli_pos(ctx, 0), "bash") != 0)
		return cli_usage_error(ctx, "completion: only bash is supported (annals completion bash)");
	fputs("# bash completion for annals, written by `annals completion bash` (annals " ANNALS_VERSION
	      ").\n# Load it with: source <(annals completion bash)\n",
	      stdout);
	docs_tables();
	docs_words();
	fputs(docs_bash_fn, stdout);
	return 0;
}

const cli_cmd cli_cmds_docs[] = {
    {.name = "completion",
     .synopsis = "bash",
     .summary = "a bash completion script: commands, options, method and message names",
     .details = "  Load it in the running shell: source <(annals completion bash); or install it\n"
                "  (make install puts it in share/bash-completion/completions/annals).\n",
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_completion},
    {.name = "manpage",
     .synopsis = "",
     .summary = "the manual page annals(1) in roff, from these help texts (make install installs it)",
     .details = "  Read it with: annals manpage | man -l -\n",
     .run = cmd_manpage},
    {.run = NULL},
};

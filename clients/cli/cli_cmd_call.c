/*
 * cli_cmd_call — any method by name, as grpcurl does it:
 * `annals call GetEntity '{"id": "org:csto"}'`, and `annals describe`.
 *
 * The body is proto3 JSON turned into the method's request message with
 * the descriptors this binary was built with (pbjson walks any of them);
 * the reply comes back as JSON. describe reads the schema the server
 * reports (cli_schema.c), so it shows what that server speaks.
 */
#include <string.h>

#include "cli.h"
#include "common/envelope.h"
#include "common/pbjson.h"

/* The request: '{...}' inline, '-' stdin, '@FILE' a file, none '{}'. */
static int call_body(cli_ctx *ctx, const ProtobufCMessageDescriptor *d, ProtobufCMessage **req)
{
	const char *arg = cli_pos(ctx, 1);
	if (arg == NULL)
		arg = "{}";
	if (strcmp(arg, "-") == 0)
		return cli_read_json(ctx, "-", d, req);
	if (arg[0] == '@')
		return cli_read_json(ctx, arg + 1, d, req);
	return cli_parse_message(ctx, "the request", arg, strlen(arg), d, req);
}

static int cmd_call(cli_ctx *ctx)
{
	int index = cli_method_lookup(ctx, cli_pos(ctx, 0));
	if (index < 0)
		return CLI_EXIT_USAGE;
	const ProtobufCMethodDescriptor *m = env_method(index);
	ProtobufCMessage *req, *rep;
	int rc = call_body(ctx, m->input, &req);
	if (rc != 0)
		return rc;
	rc = cli_call(ctx, m->name, req, &rep);
	if (rc != 0)
		return rc;
	int flags = cli_flag(ctx, "emit-defaults") ? PBJSON_EMIT_DEFAULTS : 0;
	json_t *j = pbjson_from_message(rep, flags);
	annals_free(rep);
	return cli_print_value(ctx, j, false);
}

static int cmd_describe(cli_ctx *ctx)
{
	return cli_describe(ctx, cli_pos(ctx, 0));
}

static const cli_optspec call_opts[] = {{"request-id", true}, {"emit-defaults", false}, {NULL, false}};

const cli_cmd cli_cmds_call[] = {
    {.name = "call",
     .synopsis = "METHOD [JSON|-|@FILE] [--emit-defaults] [--request-id ID]",
     .summary = "call any method by name with a JSON request; prints the JSON reply",
     .details =
         "  METHOD           GetEntity, or annals.v1.Annals/GetEntity (any case); `annals describe`\n"
         "                   lists them, `annals describe METHOD` shows its request and reply\n"
         "  JSON             the request in the proto3 JSON mapping (.proto or lowerCamel names);\n"
         "                   - reads it from stdin, @FILE from a file; none: {} (every field unset)\n"
         "  --emit-defaults  also print fields at their default (0, \"\", false, [])\n"
         "  --request-id ID  a write's id: a retry with the same id is applied once (default: a\n"
         "                   fresh one per call)\n"
         "The reply is pretty JSON (-o json is the same; -o yaml for YAML). A failed call prints\n"
         "`annals: CODE: message` on stderr and exits with the status code (5 NOT_FOUND, ...).\n"
         "Examples:\n"
         "  annals call GetEntity '{\"id\": \"org:csto\"}'\n"
         "  annals call Members '{\"organization\": \"CSTO\", \"at\": {\"precision\": \"PRECISION_YEAR\", "
         "\"year\": 2005}}'\n"
         "  echo '{}' | annals call annals.v1.Annals/Health -\n",
     .opts = call_opts,
     .min_pos = 1,
     .max_pos = 2,
     .run = cmd_call},
    {.name = "describe",
     .synopsis = "[METHOD|MESSAGE]",
     .summary = "the server's schema: its methods, a method's messages, or a message's fields",
     .details = "Read from the descriptors the server reports (ServerInfo with descriptors), so it\n"
                "shows what that server speaks, comments included.\n"
                "  (none)           the service: every method with its request, reply and kind\n"
                "  METHOD           the method, then its request and reply messages in full\n"
                "  MESSAGE          a message (or enum) in .proto syntax: Entity, annals.v1.Date\n",
     .max_pos = 1,
     .run = cmd_describe},
    {.run = NULL},
};

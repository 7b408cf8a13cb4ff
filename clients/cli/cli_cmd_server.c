/* cli_cmd_server — `annals health` and `annals info`: is it up, and what is it. */
#include <inttypes.h>

#include "cli.h"

static int cmd_health(cli_ctx *ctx)
{
	Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *rep;
	int rc = cli_call(ctx, "Health", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->json)
		rc = cli_print_json(&rep->base);
	else
		printf("%s at %s, revision %" PRIu64 "\n", rep->status, ctx->server, rep->revision);
	annals_free(rep);
	return rc;
}

static const char *info_size(ar_arena *a, uint64_t bytes)
{
	if (bytes >= (1u << 20))
		return ar_printf(a, "%.1f MiB", (double)bytes / (1u << 20));
	return ar_printf(a, "%.1f KiB", (double)bytes / 1024);
}

static void info_print(cli_ctx *ctx, const Annals__V1__ServerInfoReply *r)
{
	ar_arena *a = &ctx->ar;
	cli_table t;
	cli_table_init(&t, a, 2);
	cli_table_row(&t, "server", ctx->server);
	cli_table_row(&t, "version", r->version);
	cli_table_row(&t, "revision", ar_printf(a, "%" PRIu64, r->revision));
	cli_table_row(&t, "oldest change", ar_printf(a, "%" PRIu64, r->oldest_change));
	cli_table_row(&t, "uptime", ar_printf(a, "%.1f s", (double)r->uptime_ms / 1000));
	if (r->counts)
		cli_table_row(&t, "records",
		              ar_printf(a,
		                        "%" PRIu64 " entities, %" PRIu64 " events, %" PRIu64
		                        " relations, %" PRIu64 " documents",
		                        r->counts->entities, r->counts->events, r->counts->relations,
		                        r->counts->documents));
	cli_table_row(&t, "map",
	              ar_printf(a, "%s used of %s", info_size(a, r->map_used), info_size(a, r->map_size)));
	cli_table_row(&t, "max message", info_size(a, r->max_message_bytes));
	for (size_t i = 0; i < r->n_listen; i++)
		cli_table_row(&t, i == 0 ? "listening" : "", r->listen[i]);
	cli_table_print(&t, stdout, "");

	printf("\nmethods (%zu):\n", r->n_methods);
	cli_table_init(&t, a, 4);
	cli_table_row(&t, "METHOD", "REQUEST", "REPLY", "WRITE");
	for (size_t i = 0; i < r->n_methods; i++) {
		const Annals__V1__MethodInfo *m = r->methods[i];
		cli_table_row(&t, m->name, m->request, m->reply, m->write ? "write" : "");
	}
	cli_table_print(&t, stdout, "  ");
}

static int cmd_info(cli_ctx *ctx)
{
	Annals__V1__ServerInfoRequest req = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *rep;
	int rc = cli_call(ctx, "ServerInfo", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->json)
		rc = cli_print_json(&rep->base);
	else
		info_print(ctx, rep);
	annals_free(rep);
	return rc;
}

const cli_cmd cli_cmds_server[] = {
    {.name = "health",
     .synopsis = "",
     .summary = "whether the server answers, and its store revision",
     .run = cmd_health},
    {.name = "info",
     .synopsis = "",
     .summary = "server version, revision, record counts, storage and methods",
     .run = cmd_info},
    {.run = NULL},
};

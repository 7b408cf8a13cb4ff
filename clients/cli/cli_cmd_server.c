/* cli_cmd_server — `annals health` and `annals info`: is it up, and what is it. */
#include <inttypes.h>
#include <unistd.h>

#include "cli.h"

static int cmd_health(cli_ctx *ctx)
{
	Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *rep;
	int rc = cli_call(ctx, "Health", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else if (rep->node != NULL && rep->node[0] != '\0')
		printf("%s at %s, revision %" PRIu64 "; node %s applied etcd revision %" PRIu64 " of %" PRIu64
		       " (lag %" PRIu64 ")\n",
		       rep->status, ctx->server, rep->revision, rep->node, rep->log_applied,
		       rep->log_revision,
		       rep->log_revision > rep->log_applied ? rep->log_revision - rep->log_applied : 0);
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
	if (r->node != NULL && r->node[0] != '\0') {
		cli_table_row(&t, "cluster node", r->node);
		cli_table_row(&t, "log",
		              ar_printf(a, "applied etcd revision %" PRIu64 " of %" PRIu64 ", %zu nodes live",
		                        r->log_applied, r->log_revision, r->n_nodes));
	}
	cli_table_print(&t, stdout, "");

	printf("\nmethods (%zu):\n", r->n_methods);
	cli_table_init(&t, a, 4);
	cli_table_header(&t, ctx, "METHOD", "REQUEST", "REPLY", "KIND");
	for (size_t i = 0; i < r->n_methods; i++) {
		const Annals__V1__MethodInfo *m = r->methods[i];
		const char *kinds = "";
		for (size_t k = 0; k < m->n_kinds; k++)
			kinds = ar_printf(a, "%s%s%s", kinds, k ? "," : "", m->kinds[k]);
		cli_table_row(&t, m->name, m->request, m->reply, kinds);
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
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		info_print(ctx, rep);
	annals_free(rep);
	return rc;
}

static void stats_print(cli_ctx *ctx, const Annals__V1__StatsReply *r)
{
	ar_arena *a = &ctx->ar;
	cli_table t;
	cli_table_init(&t, a, 2);
	cli_table_row(&t, "server", ctx->server);
	cli_table_row(&t, "version", r->version);
	cli_table_row(&t, "uptime", ar_printf(a, "%.1f s", (double)r->uptime_ms / 1000));
	cli_table_row(&t, "revision", ar_printf(a, "%" PRIu64, r->revision));
	if (r->counts)
		cli_table_row(&t, "records",
		              ar_printf(a,
		                        "%" PRIu64 " entities, %" PRIu64 " events, %" PRIu64
		                        " relations, %" PRIu64 " documents",
		                        r->counts->entities, r->counts->events, r->counts->relations,
		                        r->counts->documents));
	cli_table_row(&t, "in flight",
	              ar_printf(a, "%u calls, %u writes queued", r->in_flight, r->writes_queued));
	cli_table_row(&t, "commits",
	              ar_printf(a, "%" PRIu64 " (%" PRIu64 " writes, %.1f per commit)", r->commits,
	                        r->committed_writes,
	                        r->commits ? (double)r->committed_writes / (double)r->commits : 0.0));
	cli_table_row(&t, "data file", info_size(a, r->data_file_bytes));
	cli_table_row(&t, "map",
	              ar_printf(a, "%s used of %s", info_size(a, r->map_used), info_size(a, r->map_size)));
	cli_table_print(&t, stdout, "");
	printf("\ncalls by method (latency from the server's histogram):\n");
	cli_table_init(&t, a, 6);
	cli_table_header(&t, ctx, "METHOD", "CALLS", "MEAN", "P50 <=", "P99 <=", "CODES");
	for (size_t i = 0; i < r->n_methods; i++) {
		const Annals__V1__MethodStats *m = r->methods[i];
		char *codes = "";
		for (size_t k = 0; k < m->n_codes; k++)
			codes = ar_printf(a, "%s%s%s=%" PRIu64, codes, k ? " " : "", m->codes[k]->code,
			                  m->codes[k]->count);
		cli_table_row(&t, m->method, ar_printf(a, "%" PRIu64, m->calls),
		              ar_printf(a, "%.3f ms", m->mean_ms), ar_printf(a, "%.3f ms", m->p50_ms),
		              ar_printf(a, "%.3f ms", m->p99_ms), codes);
	}
	cli_table_print(&t, stdout, "  ");
}

static int cmd_stats(cli_ctx *ctx)
{
	Annals__V1__StatsRequest req = ANNALS__V1__STATS_REQUEST__INIT;
	Annals__V1__StatsReply *rep;
	int rc = cli_call(ctx, "Stats", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		stats_print(ctx, rep);
	annals_free(rep);
	return rc;
}

static int cmd_backup(cli_ctx *ctx)
{
	Annals__V1__BackupRequest req = ANNALS__V1__BACKUP_REQUEST__INIT;
	req.dir = (char *)cli_pos(ctx, 0);
	if (req.dir[0] != '/')
		return cli_usage_error(ctx, "DIR: an absolute path on the server's host is required");
	Annals__V1__BackupReply *rep;
	int rc = cli_call(ctx, "Backup", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		printf("backup of revision %" PRIu64 " in %s: %s in %" PRIu64 " ms\n"
		       "start a server on it with: annalsd --data %s\n",
		       rep->revision, rep->dir, info_size(&ctx->ar, rep->bytes), rep->took_ms, rep->dir);
	annals_free(rep);
	return rc;
}

static void snapshot_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\r  %.1f of %.1f MiB", (double)done / (1u << 20), (double)total / (1u << 20));
}

static int cmd_snapshot(cli_ctx *ctx)
{
	const char *dir = cli_pos(ctx, 0);
	annals_error err = {0};
	int rc = cli_client(ctx, &err);
	uint64_t revision = 0;
	if (rc == ANNALS_OK)
		rc = annals_snapshot_save(ctx->client, dir, &revision,
		                          cli_stderr_is_tty() ? snapshot_progress : NULL, NULL, &err);
	if (cli_stderr_is_tty())
		fprintf(stderr, "\r%40s\r", "");
	if (rc != ANNALS_OK)
		return cli_report(ctx, rc, err.message);
	if (ctx->structured)
		return cli_print_value(
		    ctx,
		    json_pack("{s:s,s:s}", "dir", dir, "revision", ar_printf(&ctx->ar, "%" PRIu64, revision)),
		    false);
	else
		printf("snapshot of revision %" PRIu64
		       " in %s/data.mdb\nstart a server on it with: annalsd --data %s\n",
		       revision, dir, dir);
	return 0;
}

static int cmd_digest(cli_ctx *ctx)
{
	Annals__V1__DigestRequest req = ANNALS__V1__DIGEST_REQUEST__INIT;
	Annals__V1__DigestReply *rep;
	int rc = cli_call(ctx, "Digest", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		printf("revision %" PRIu64 "  sha256 %s  (%" PRIu64 " entities, %" PRIu64 " events, %" PRIu64
		       " relations, %" PRIu64 " documents)\n",
		       rep->revision, rep->sha256, rep->counts ? rep->counts->entities : 0,
		       rep->counts ? rep->counts->events : 0, rep->counts ? rep->counts->relations : 0,
		       rep->counts ? rep->counts->documents : 0);
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
    {.name = "digest",
     .synopsis = "",
     .summary = "sha256 of every record at the server's revision (compare replicas or backups)",
     .details = "  Two stores holding the same records at the same revision print the same digest.\n",
     .run = cmd_digest},
    {.name = "stats",
     .synopsis = "",
     .summary = "operating figures: calls and latency by method, commits, storage (as /metrics)",
     .run = cmd_stats},
    {.name = "backup",
     .synopsis = "DIR",
     .summary = "a hot, compacted copy of the store into DIR on the server's host (admin)",
     .details =
         "  DIR   an absolute path on the server's host; created if missing; must not hold a data.mdb.\n"
         "        The server keeps serving reads and writes while it copies.\n",
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_backup},
    {.name = "snapshot",
     .synopsis = "DIR",
     .summary = "a hot copy of the server's store fetched to DIR on this machine (admin)",
     .details = "  DIR   a local directory without a store in it (created if missing); the copy arrives in\n"
                "        chunks of 1 MiB and is renamed to DIR/data.mdb once whole and on disk.\n",
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_snapshot},
    {.run = NULL},
};

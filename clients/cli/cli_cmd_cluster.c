/*
 * cli_cmd_cluster — `annals cluster status`: the nodes of a cluster as the
 * server's registry lists them, each asked for its Health directly, in an
 * etcdctl-like table (or JSON lines with --json).
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* One node's Health over its own connection (same token and TLS files). */
static int node_health(const cli_ctx *ctx, const char *url, Annals__V1__HealthReply **rep, annals_error *err)
{
	annals_client *c = NULL;
	annals_options o = cli_client_options(ctx);
	if (o.timeout_ms > 2000)
		o.timeout_ms = 2000; /* a node that does not answer soon is reported DOWN */
	*rep = NULL;
	int rc = annals_open(&c, url, &o, err);
	if (rc == ANNALS_OK) {
		Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
		rc = annals_health(c, &req, rep, err);
	}
	annals_close(c);
	return rc;
}

static int cmd_cluster_status(cli_ctx *ctx)
{
	Annals__V1__ServerInfoRequest req = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *info;
	int rc = cli_call(ctx, "ServerInfo", &req.base, &info);
	if (rc != 0)
		return rc;
	if (info->node == NULL || info->node[0] == '\0') {
		annals_free(info);
		return cli_report(ctx, ANNALS_FAILED_PRECONDITION,
		                  "this server is a single node (started without --cluster)");
	}
	ar_arena *a = &ctx->ar;
	cli_table t;
	cli_table_init(&t, a, 6);
	cli_table_header(&t, ctx, "NAME", "ENDPOINT", "VERSION", "STATUS", "APPLIED", "LAG");
	int down = 0;
	for (size_t i = 0; i < info->n_nodes; i++) {
		const Annals__V1__ClusterNode *n = info->nodes[i];
		Annals__V1__HealthReply *h = NULL;
		annals_error err = {0};
		int hrc = node_health(ctx, n->listen, &h, &err);
		const char *status = hrc == ANNALS_OK ? ar_printf(a, "%s", h->status)
		                                      : ar_printf(a, "DOWN (%s)", annals_status_name(hrc));
		uint64_t applied = hrc == ANNALS_OK ? h->log_applied : n->log_applied;
		uint64_t log = hrc == ANNALS_OK ? h->log_revision : info->log_revision;
		down += hrc != ANNALS_OK;
		if (ctx->structured) {
			cli_print_value(ctx,
			                json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", n->name, "endpoint",
			                          n->listen, "version", n->version, "status",
			                          hrc == ANNALS_OK ? h->status : "DOWN", "log_applied",
			                          ar_printf(a, "%" PRIu64, applied), "log_revision",
			                          ar_printf(a, "%" PRIu64, log)),
			                true);
		} else {
			cli_table_row(&t, n->name, n->listen, n->version, status,
			              ar_printf(a, "%" PRIu64, applied),
			              ar_printf(a, "%" PRIu64, log > applied ? log - applied : 0));
		}
		annals_free(h);
	}
	if (!ctx->structured) {
		cli_table_print(&t, stdout, "");
		printf("\n%zu nodes in the registry (as %s saw it), %d not answering; the log is at etcd "
		       "revision %" PRIu64 "\n\n",
		       info->n_nodes, info->node, down, info->log_revision);
		cli_table_init(&t, a, 5);
		cli_table_header(&t, ctx, "ETCD ENDPOINT", "HEALTHY", "LEADER", "VERSION", "DB SIZE");
	}
	for (size_t i = 0; i < info->n_etcd; i++) {
		const Annals__V1__EtcdMember *m = info->etcd[i];
		if (ctx->structured)
			cli_print_value(ctx,
			                json_pack("{s:s,s:b,s:b,s:s,s:s,s:s}", "etcd_endpoint", m->endpoint,
			                          "healthy", m->healthy, "leader", m->leader, "version",
			                          m->version, "db_size", ar_printf(a, "%" PRIu64, m->db_size),
			                          "error", m->error),
			                true);
		else
			cli_table_row(&t, m->endpoint,
			              m->healthy ? "true" : ar_printf(a, "false (%s)", m->error),
			              m->leader ? "true" : "false", m->version,
			              ar_printf(a, "%.1f MiB", (double)m->db_size / (1u << 20)));
	}
	if (!ctx->structured)
		cli_table_print(&t, stdout, "");
	annals_free(info);
	return down ? ANNALS_UNAVAILABLE : 0;
}

const cli_cmd cli_cmds_cluster[] = {
    {.group = "cluster",
     .name = "status",
     .synopsis = "",
     .summary = "the nodes of a cluster (status, applied etcd revision, lag) and etcd's members",
     .details =
         "  Lists the nodes registered in etcd (as --server sees them) and asks each for its Health.\n"
         "  LAG: etcd revisions of the log not yet applied there. Exit status 14 when a node is down.\n",
     .run = cmd_cluster_status},
    {.run = NULL},
};

/*
 * srv_cluster_ — the server's side of cluster mode: hands checked writes to
 * the replicated log (src/cluster/log.h) and answers them from its hooks;
 * reports the node's place in the cluster in Health and ServerInfo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "cluster/log.h"
#include "common/log.h"
#include "server/server.h"

struct srv_cluster {
	cl_log *log;
	ar_arena seed; /* the built-in data set's Batch, until the log has proposed it */
};

static void srv_cluster_answer(void *ctx, void *const *tags, int n)
{
	srv_server *s = ctx;
	srv_worker *group[256];
	while (n > 0) {
		int k = n < 256 ? n : 256;
		for (int i = 0; i < k; i++)
			group[i] = tags[i];
		srv_answer_group(s, group, k);
		tags += k;
		n -= k;
	}
}

static void srv_cluster_refuse(void *ctx, void *tag, int code, const char *message)
{
	(void)ctx;
	srv_fail(tag, code, "%s", message);
}

static void srv_cluster_read_index(void *ctx)
{
	srv_poll_wake(ctx); /* linearizable reads parked there may go on */
}

static void srv_cluster_committed(void *ctx, unsigned n)
{
	srv_server *s = ctx;
	mx_record_commit(&s->mx, n, st_last_commit_us(s->store)); /* this thread's st_apply_log */
	srv_publish_commits(s);
	srv_poll_wake(s);
}

int srv_cluster_start(srv_server *s)
{
	if (s->cfg.cluster == NULL)
		return 0;
	srv_cluster *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	ar_init(&c->seed);
	s->cluster = c;
	Annals__V1__BatchRequest *seed = srv_seed_batch(&c->seed);
	cl_config cfg = {
	    .endpoints = s->cfg.cluster,
	    .node = s->cfg.node_name,
	    .prefix = s->cfg.cluster_prefix,
	    .listen = s->cfg.advertise ? s->cfg.advertise : s->cfg.listen[0],
	    .max_queued = s->cfg.max_inflight_writes,
	    .keep_revisions = s->cfg.cluster_keep,
	    .compact_ms = s->cfg.cluster_compact_s * 1000u,
	    .store = s->store,
	    .seed = seed ? &seed->base : NULL,
	    .seed_request_id = SRV_SEED_REQUEST_ID,
	    .hooks = {.ctx = s,
	              .answer = srv_cluster_answer,
	              .refuse = srv_cluster_refuse,
	              .committed = srv_cluster_committed,
	              .read_index = srv_cluster_read_index},
	};
	char err[400];
	if (cl_open(&cfg, &c->log, err, sizeof(err)) != 0) {
		log_msg(LOG_ERROR, "cluster", "problem=\"%s\"", err);
		return -1;
	}
	return 0;
}

void srv_cluster_stop(srv_server *s)
{
	srv_cluster *c = s->cluster;
	if (c == NULL)
		return;
	cl_close(c->log);
	ar_free(&c->seed);
	free(c);
	s->cluster = NULL;
}

void srv_cluster_submit(srv_server *s, srv_worker *w)
{
	char msg[480];
	int rc = cl_submit(s->cluster->log, &w->write, w->method, w, msg, sizeof(msg));
	if (rc != ANNALS_OK)
		srv_fail(w, rc, "%s", msg);
}

/* The fields Health and ServerInfo share: node, applied, log revision. */
#define SRV_CLUSTER_FIELDS(s, st, out)                                                                       \
	do {                                                                                                 \
		cl_state_get((s)->cluster->log, &(st));                                                      \
		(out)->node = (char *)(s)->cfg.node_name;                                                    \
		(out)->log_applied = (st).applied;                                                           \
		(out)->log_revision = (st).log_revision;                                                     \
	} while (0)

void srv_cluster_health(srv_server *s, Annals__V1__HealthReply *out)
{
	if (s->cluster == NULL)
		return;
	cl_state st;
	SRV_CLUSTER_FIELDS(s, st, out);
	if (!st.caught_up && !atomic_load(&s->draining))
		out->status = "CATCHING_UP";
}

void srv_cluster_info(srv_worker *w, Annals__V1__ServerInfoReply *out)
{
	srv_server *s = w->srv;
	if (s->cluster == NULL)
		return;
	cl_state st;
	SRV_CLUSTER_FIELDS(s, st, out);
	enum { MAX = 32 };
	cl_node nodes[MAX];
	int n = cl_nodes(s->cluster->log, nodes, MAX);
	for (int i = 0; i < n && i < MAX; i++) {
		Annals__V1__ClusterNode *cn =
		    AR_NEW(&w->arena, Annals__V1__ClusterNode, ANNALS__V1__CLUSTER_NODE__INIT);
		cn->name = ar_printf(&w->arena, "%s", nodes[i].name);
		cn->listen = ar_printf(&w->arena, "%s", nodes[i].listen);
		cn->version = ar_printf(&w->arena, "%s", nodes[i].version);
		cn->log_applied = nodes[i].applied;
		AR_PUSH(&w->arena, out->nodes, out->n_nodes, cn);
	}
	ed_member m[ED_MAX_ENDPOINTS];
	int nm = cl_members(s->cluster->log, m, ED_MAX_ENDPOINTS);
	for (int i = 0; i < nm; i++) {
		Annals__V1__EtcdMember *em =
		    AR_NEW(&w->arena, Annals__V1__EtcdMember, ANNALS__V1__ETCD_MEMBER__INIT);
		em->endpoint = ar_printf(&w->arena, "%s", m[i].endpoint);
		em->healthy = m[i].healthy;
		em->leader = m[i].leader;
		em->version = ar_printf(&w->arena, "%s", m[i].version);
		em->db_size = m[i].db_size;
		em->error = ar_printf(&w->arena, "%s", m[i].error);
		AR_PUSH(&w->arena, out->etcd, out->n_etcd, em);
	}
}

uint64_t srv_cluster_read_ticket(srv_server *s)
{
	return s->cluster ? cl_read_ticket(s->cluster->log) : 0;
}

bool srv_cluster_read_done(srv_server *s, uint64_t ticket, uint64_t *log_revision)
{
	return s->cluster ? cl_read_done(s->cluster->log, ticket, log_revision) : false;
}

uint64_t srv_cluster_applied(srv_server *s)
{
	return s->cluster ? st_log_applied(s->store) : 0;
}

/* A node this far behind the log answers no reads until it has caught up:
 * a restarted node would otherwise serve a store minutes old. */
#define SRV_CLUSTER_SERVE_LAG 1000u

const char *srv_cluster_unserving(srv_server *s, char *buf, size_t len)
{
	if (s->cluster == NULL)
		return NULL;
	cl_state st;
	cl_state_get(s->cluster->log, &st);
	if (st.compacted) {
		snprintf(buf, len,
		         "node %s is behind a compacted log (applied etcd revision %llu): it must be "
		         "restored from a "
		         "peer's backup; read from another node",
		         s->cfg.node_name, (unsigned long long)st.applied);
		return buf;
	}
	if (st.log_revision > st.applied + SRV_CLUSTER_SERVE_LAG) {
		snprintf(
		    buf, len,
		    "node %s is catching up (applied etcd revision %llu of %llu); read from another node",
		    s->cfg.node_name, (unsigned long long)st.applied, (unsigned long long)st.log_revision);
		return buf;
	}
	return NULL;
}

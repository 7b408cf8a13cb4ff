/*
 * cli_bulk — `annals import --bulk`: a data set through BulkLoad.
 *
 * The records go in parts under the server's message limit (documents,
 * entities, events, relations, in file order), each part its own call
 * with its own request id ("<load>-part-N", so a resend is answered and
 * not staged twice), then one commit call that writes them all in one
 * transaction. The load id and the request ids come from --request-id
 * when given, so running the same command again after a failure resends
 * the same calls: a committed load is answered from the server's request
 * log, not written twice.
 *
 * Nothing is in the store before the commit; a failure part way aborts
 * the staged load, so the server is left as it was.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BULK_COMMIT_TIMEOUT_MS (60u * 60u * 1000u) /* a 10M-record commit takes minutes */
#define BULK_PART_OVERHEAD     4096                /* envelope and part fields */

typedef struct bulk_run {
	cli_ctx *ctx;
	const Annals__V1__Dataset *ds;
	char load_id[96];
	size_t max_part; /* bytes of records per part */
	uint32_t parts;
	size_t sent, total;
} bulk_run;

static void bulk_progress(const bulk_run *b, const char *what)
{
	if (cli_stderr_is_tty())
		fprintf(stderr, "\r\033[Kbulk load %s: %s", b->load_id, what);
}

/* A commit that runs past nng's resend time (a minute) is sent again by
 * the REQ socket, and that copy is answered UNAVAILABLE while the first
 * runs: asked again (same request id) until the first answer, which the
 * server keeps in its request log, comes back. */
static int bulk_call(bulk_run *b, const Annals__V1__BulkLoadRequest *req, const char *rid,
                     uint32_t timeout_ms, Annals__V1__BulkLoadReply **rep)
{
	annals_error err = {0};
	const char *saved = b->ctx->request_id;
	b->ctx->request_id = rid;
	time_t until = time(NULL) + (timeout_ms ? timeout_ms : b->ctx->timeout_ms) / 1000 + 1;
	int rc;
	while ((rc = cli_call_quiet(b->ctx, "BulkLoad", &req->base, rep, timeout_ms, &err)) ==
	           ANNALS_UNAVAILABLE &&
	       req->commit && time(NULL) < until)
		sleep(1);
	b->ctx->request_id = saved;
	if (rc != ANNALS_OK) {
		if (cli_stderr_is_tty())
			fputs("\r\033[K", stderr);
		cli_report(b->ctx, rc, err.message);
	}
	return rc;
}

/* Takes back a load that failed part way, so it does not hold the server's
 * one load slot until it is dropped as idle. */
static void bulk_abort(bulk_run *b)
{
	Annals__V1__BulkLoadRequest req = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	req.load_id = b->load_id;
	req.abort = true;
	char rid[128];
	snprintf(rid, sizeof(rid), "%s-abort", b->load_id);
	annals_error err = {0};
	Annals__V1__BulkLoadReply *rep = NULL;
	const char *saved = b->ctx->request_id;
	b->ctx->request_id = rid;
	if (cli_call_quiet(b->ctx, "BulkLoad", &req.base, &rep, 0, &err) == ANNALS_OK)
		annals_free(rep);
	b->ctx->request_id = saved;
}

static int bulk_send_part(bulk_run *b, Annals__V1__BulkLoadRequest *part)
{
	part->load_id = b->load_id;
	part->part = ++b->parts;
	char rid[128], line[160];
	snprintf(rid, sizeof(rid), "%s-part-%" PRIu32, b->load_id, part->part);
	size_t n = part->n_documents + part->n_entities + part->n_events + part->n_relations;
	b->sent += n;
	snprintf(line, sizeof(line), "part %" PRIu32 ", %zu of %zu records staged", part->part, b->sent,
	         b->total);
	Annals__V1__BulkLoadReply *rep = NULL;
	int rc = bulk_call(b, part, rid, 0, &rep);
	if (rc == ANNALS_OK) {
		annals_free(rep);
		bulk_progress(b, line);
	}
	Annals__V1__BulkLoadRequest empty = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	*part = empty;
	return rc;
}

/* Every record of the data set, in parts of at most max_part bytes. */
static int bulk_stage_all(bulk_run *b)
{
	const Annals__V1__Dataset *ds = b->ds;
	struct {
		ProtobufCMessage **items;
		size_t n;
		size_t off; /* of the list in BulkLoadRequest */
		size_t count_off;
	} lists[4] = {
	    {(ProtobufCMessage **)ds->documents, ds->n_documents,
	     offsetof(Annals__V1__BulkLoadRequest, documents),
	     offsetof(Annals__V1__BulkLoadRequest, n_documents)},
	    {(ProtobufCMessage **)ds->entities, ds->n_entities,
	     offsetof(Annals__V1__BulkLoadRequest, entities),
	     offsetof(Annals__V1__BulkLoadRequest, n_entities)},
	    {(ProtobufCMessage **)ds->events, ds->n_events, offsetof(Annals__V1__BulkLoadRequest, events),
	     offsetof(Annals__V1__BulkLoadRequest, n_events)},
	    {(ProtobufCMessage **)ds->relations, ds->n_relations,
	     offsetof(Annals__V1__BulkLoadRequest, relations),
	     offsetof(Annals__V1__BulkLoadRequest, n_relations)},
	};
	Annals__V1__BulkLoadRequest part = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	size_t bytes = 0;
	for (int l = 0; l < 4; l++) {
		size_t i = 0;
		while (i < lists[l].n) {
			/* the run of this list that fits in what is left of the part */
			size_t from = i;
			while (i < lists[l].n) {
				size_t sz = protobuf_c_message_get_packed_size(lists[l].items[i]) + 8;
				if (bytes + sz > b->max_part && (bytes > 0 || i > from))
					break;
				bytes += sz;
				i++;
			}
			if (i > from) {
				*(ProtobufCMessage ***)((char *)&part + lists[l].off) = lists[l].items + from;
				*(size_t *)((char *)&part + lists[l].count_off) = i - from;
			}
			if (i < lists[l].n) { /* full */
				int rc = bulk_send_part(b, &part);
				if (rc != ANNALS_OK)
					return rc;
				bytes = 0;
			}
		}
	}
	if (bytes > 0)
		return bulk_send_part(b, &part);
	return ANNALS_OK;
}

static int bulk_max_part(cli_ctx *ctx, size_t *out)
{
	Annals__V1__ServerInfoRequest req = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *info = NULL;
	int rc = cli_call(ctx, "ServerInfo", &req.base, &info);
	if (rc != 0)
		return rc;
	size_t limit = info->max_message_bytes ? info->max_message_bytes : 4u << 20;
	annals_free(info);
	*out = limit > 2 * BULK_PART_OVERHEAD ? limit - BULK_PART_OVERHEAD : limit / 2;
	return 0;
}

int cli_import_bulk(cli_ctx *ctx, const Annals__V1__Dataset *ds)
{
	bulk_run b = {.ctx = ctx, .ds = ds};
	b.total = ds->n_documents + ds->n_entities + ds->n_events + ds->n_relations;
	if (ctx->request_id != NULL)
		snprintf(b.load_id, sizeof(b.load_id), "%s", ctx->request_id);
	else
		snprintf(b.load_id, sizeof(b.load_id), "import-%ld-%d", (long)time(NULL), (int)getpid());
	int rc = bulk_max_part(ctx, &b.max_part);
	if (rc != 0)
		return rc;
	rc = bulk_stage_all(&b);
	if (rc != ANNALS_OK) {
		bulk_abort(&b);
		fprintf(stderr, "annals: nothing was written (the staged parts were dropped)\n");
		return rc;
	}
	bulk_progress(&b, "committing (the server writes everything now)...");
	Annals__V1__BulkLoadRequest req = ANNALS__V1__BULK_LOAD_REQUEST__INIT;
	req.load_id = b.load_id;
	req.part = b.parts;
	req.commit = true;
	req.replace = cli_flag(ctx, "replace");
	char rid[128];
	snprintf(rid, sizeof(rid), "%s-commit", b.load_id);
	uint32_t timeout =
	    ctx->timeout_ms > BULK_COMMIT_TIMEOUT_MS ? ctx->timeout_ms : BULK_COMMIT_TIMEOUT_MS;
	Annals__V1__BulkLoadReply *rep = NULL;
	rc = bulk_call(&b, &req, rid, timeout, &rep);
	if (cli_stderr_is_tty())
		fputs("\r\033[K", stderr);
	if (rc != ANNALS_OK) {
		bulk_abort(&b);
		fprintf(stderr, "annals: nothing was written\n");
		return rc;
	}
	if (ctx->structured) {
		rc = cli_print_msg(ctx, &rep->base);
	} else {
		printf("%" PRIu64 " written, %" PRIu64 " unchanged", rep->written, rep->unchanged);
		if (rep->first_revision != 0)
			printf(", revisions %" PRIu64 "..%" PRIu64, rep->first_revision, rep->last_revision);
		else
			printf(", revision %" PRIu64, rep->last_revision);
		printf(" (%" PRIu32 " part%s, %.1f s in the writer)\n", b.parts, b.parts == 1 ? "" : "s",
		       (double)rep->took_ms / 1e3);
	}
	annals_free(rep);
	return rc;
}

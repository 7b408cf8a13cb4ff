/*
 * cli_cmd_data — whole data sets in and out: batch, import, export.
 *
 * import checks every record locally before anything is sent (the same
 * val_ rules the store applies, so the paths match), then asks the server
 * which of its references would name no record (CheckReferences with the
 * Batch: every one at once, nothing written), then sends the data
 * set as ONE Batch: it is applied entirely or not at all, and a second
 * import of the same file changes nothing (the server reports every
 * record unchanged). export pages through the four List RPCs and writes
 * a Dataset that import accepts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/dataset.h"
#include "common/pbjson.h"
#include "common/validate.h"

#define DATA_MAX_REPORTED 20 /* invalid records listed before "and N more" */

static void data_progress(const char *what)
{
	if (cli_stderr_is_tty())
		fprintf(stderr, "\r\033[K%s", what);
}

static void data_progress_done(void)
{
	if (cli_stderr_is_tty())
		fputs("\r\033[K", stderr);
}

static int data_print_results(cli_ctx *ctx, const Annals__V1__BatchReply *r)
{
	size_t unchanged = 0;
	for (size_t i = 0; i < r->n_results; i++)
		unchanged += r->results[i]->unchanged;
	if (ctx->structured)
		return cli_print_msg(ctx, &r->base);
	printf("%zu written, %zu unchanged, revision %" PRIu64 "\n", r->n_results - unchanged, unchanged,
	       r->revision);
	return 0;
}

static int data_send_batch(cli_ctx *ctx, const Annals__V1__BatchRequest *b)
{
	Annals__V1__BatchReply *rep;
	int rc = cli_call(ctx, "Batch", &b->base, &rep);
	data_progress_done();
	if (rc != 0)
		return rc;
	rc = data_print_results(ctx, rep);
	annals_free(rep);
	return rc;
}

static int cmd_batch(cli_ctx *ctx)
{
	ProtobufCMessage *m;
	int rc = cli_read_message(ctx, cli_pos(ctx, 0), &annals__v1__batch_request__descriptor, &m);
	if (rc != 0)
		return rc;
	return data_send_batch(ctx, (const Annals__V1__BatchRequest *)m);
}

/* ---- import ---------------------------------------------------------------- */

typedef struct data_check {
	char msg[512];
	size_t bad;
} data_check;

static void data_report(data_check *c, int failed)
{
	if (failed == 0)
		return;
	if (++c->bad <= DATA_MAX_REPORTED)
		fprintf(stderr, "  %s\n", c->msg);
}

/* Every record, each with its path; returns the number that failed. */
static size_t data_validate(const Annals__V1__Dataset *ds)
{
	data_check c = {.bad = 0};
	char path[64];
	for (size_t i = 0; i < ds->n_documents; i++) {
		snprintf(path, sizeof(path), "documents[%zu]", i);
		data_report(&c, val_document(ds->documents[i], path, c.msg, sizeof(c.msg)));
	}
	for (size_t i = 0; i < ds->n_entities; i++) {
		snprintf(path, sizeof(path), "entities[%zu]", i);
		data_report(&c, val_entity(ds->entities[i], path, c.msg, sizeof(c.msg)));
	}
	for (size_t i = 0; i < ds->n_relations; i++) {
		snprintf(path, sizeof(path), "relations[%zu]", i);
		data_report(&c, val_relation(ds->relations[i], path, c.msg, sizeof(c.msg)));
	}
	for (size_t i = 0; i < ds->n_events; i++) {
		snprintf(path, sizeof(path), "events[%zu]", i);
		data_report(&c, val_event(ds->events[i], path, c.msg, sizeof(c.msg)));
	}
	if (c.bad > DATA_MAX_REPORTED)
		fprintf(stderr, "  ... and %zu more\n", c.bad - DATA_MAX_REPORTED);
	return c.bad;
}

static int cmd_import(cli_ctx *ctx)
{
	const char *path = cli_pos(ctx, 0);
	ProtobufCMessage *m;
	data_progress("reading...");
	int rc = cli_read_message(ctx, path, &annals__v1__dataset__descriptor, &m);
	if (rc != 0) {
		data_progress_done();
		return rc;
	}
	const Annals__V1__Dataset *ds = (const Annals__V1__Dataset *)m;
	if (cli_flag(ctx, "replace") && !cli_flag(ctx, "bulk")) {
		data_progress_done();
		return cli_usage_error(ctx, "--replace goes with --bulk");
	}
	data_progress("checking...");
	size_t bad = data_validate(ds);
	if (bad > 0) {
		data_progress_done();
		return cli_fail(ctx, ANNALS_INVALID_ARGUMENT,
		                "%s: %zu invalid record%s (listed above); nothing was sent",
		                strcmp(path, "-") ? path : "stdin", bad, bad == 1 ? "" : "s");
	}
	if (cli_flag(ctx, "bulk")) {
		data_progress_done();
		return cli_import_bulk(ctx, ds);
	}
	Annals__V1__BatchRequest *b = ds_batch(&ctx->ar, ds);
	if (b->n_ops > VAL_MAX_REPEATED) {
		data_progress_done();
		return cli_fail(
		    ctx, ANNALS_INVALID_ARGUMENT,
		    "%s: %zu records, more than one batch holds (%d); nothing was sent. Import it "
		    "with --bulk (admin role), or split the file",
		    strcmp(path, "-") ? path : "stdin", b->n_ops, VAL_MAX_REPEATED);
	}
	data_progress("checking references...");
	rc = cli_refs_dry_run(ctx, strcmp(path, "-") ? path : "stdin", ds, b);
	if (rc != 0) {
		data_progress_done();
		return rc;
	}
	char line[128];
	snprintf(line, sizeof(line), "sending %zu records as one batch...", b->n_ops);
	data_progress(line);
	return data_send_batch(ctx, b);
}

/* ---- export ---------------------------------------------------------------- */

typedef struct data_export {
	cli_pages docs, entities, relations, events;
} data_export;

static void data_export_free(data_export *x)
{
	cli_pages_free(&x->docs);
	cli_pages_free(&x->entities);
	cli_pages_free(&x->relations);
	cli_pages_free(&x->events);
}

static int data_fetch_all(cli_ctx *ctx, data_export *x)
{
	uint32_t page = CLI_MAX_PAGE;
	int rc = cli_opt_page_size(ctx, &page);
	if (rc != 0)
		return rc;
	Annals__V1__ListDocumentsRequest d = ANNALS__V1__LIST_DOCUMENTS_REQUEST__INIT;
	Annals__V1__ListEntitiesRequest e = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	Annals__V1__ListRelationsRequest r = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	Annals__V1__ListEventsRequest v = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	rc = cli_fetch_pages(ctx, "ListDocuments", &d.base, page, 0, &x->docs);
	if (rc == 0)
		rc = cli_fetch_pages(ctx, "ListEntities", &e.base, page, 0, &x->entities);
	if (rc == 0)
		rc = cli_fetch_pages(ctx, "ListRelations", &r.base, page, 0, &x->relations);
	if (rc == 0)
		rc = cli_fetch_pages(ctx, "ListEvents", &v.base, page, 0, &x->events);
	return rc;
}

/* The items of all pages as one array in the arena (borrowed pointers). */
static void *data_concat(ar_arena *a, const cli_pages *p, size_t *n)
{
	ProtobufCMessage **items;
	size_t total = 0;
	for (size_t i = 0; i < p->n; i++)
		total += cli_page_items(p->replies[i], &items);
	ProtobufCMessage **all = ar_alloc(a, (total ? total : 1) * sizeof(ProtobufCMessage *));
	*n = 0;
	for (size_t i = 0; i < p->n; i++) {
		size_t k = cli_page_items(p->replies[i], &items);
		for (size_t j = 0; j < k; j++) {
			cli_strip_server_fields(items[j]); /* the file must import anywhere */
			all[(*n)++] = items[j];
		}
	}
	return all;
}

/* Writes beside the target and renames, so a failed export never leaves
 * a truncated file where a good one was. */
static int data_write_file(cli_ctx *ctx, const char *path, const char *text)
{
	char *tmp = ar_printf(&ctx->ar, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	bool ok = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
	ok = (f != NULL && fclose(f) == 0) && ok;
	if (ok && rename(tmp, path) == 0)
		return 0;
	int err = errno;
	if (f != NULL)
		remove(tmp);
	fprintf(stderr, "annals: cannot write %s: %s\n", path, strerror(err));
	return CLI_EXIT_IOERR;
}

static int data_write_dataset(cli_ctx *ctx, const Annals__V1__Dataset *ds)
{
	const char *out = cli_opt(ctx, "out");
	char *text = pbjson_dumps(&ds->base, PBJSON_PRETTY);
	if (text == NULL)
		return cli_fail(ctx, ANNALS_RESOURCE_EXHAUSTED, "out of memory writing the data set");
	int rc = 0;
	if (out == NULL || strcmp(out, "-") == 0) {
		puts(text);
	} else if ((rc = data_write_file(ctx, out, text)) == 0) {
		printf("exported %zu documents, %zu entities, %zu relations, %zu events to %s\n",
		       ds->n_documents, ds->n_entities, ds->n_relations, ds->n_events, out);
	}
	free(text);
	return rc;
}

static int cmd_export(cli_ctx *ctx)
{
	data_export x;
	memset(&x, 0, sizeof(x));
	int rc = data_fetch_all(ctx, &x);
	if (rc == 0) {
		Annals__V1__Dataset ds = ANNALS__V1__DATASET__INIT;
		ds.documents = data_concat(&ctx->ar, &x.docs, &ds.n_documents);
		ds.entities = data_concat(&ctx->ar, &x.entities, &ds.n_entities);
		ds.relations = data_concat(&ctx->ar, &x.relations, &ds.n_relations);
		ds.events = data_concat(&ctx->ar, &x.events, &ds.n_events);
		rc = data_write_dataset(ctx, &ds);
	}
	data_export_free(&x);
	return rc;
}

static const cli_optspec batch_opts[] = {{"request-id", true}, {NULL, false}};
static const cli_optspec import_opts[] = {
    {"request-id", true}, {"bulk", false}, {"replace", false}, {NULL, false}};
static const cli_optspec export_opts[] = {{"out", true}, {"page-size", true}, {NULL, false}};

const cli_cmd cli_cmds_data[] = {
    {.name = "batch",
     .synopsis = "FILE.json|- [--request-id ID]",
     .summary = "apply a BatchRequest (JSON) atomically: all of its writes or none",
     .details = "  --request-id ID  the write's id; a retry with the same id is applied once\n",
     .opts = batch_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_batch},
    {.name = "import",
     .synopsis = "FILE.json|- [--request-id ID] [--bulk [--replace]]",
     .summary = "import a Dataset (JSON) as one atomic batch, after checking every record",
     .details = "Every record is checked first and every problem reported with its path\n"
                "(\"events[3].when.month: 13 is not a month\"), and so is every reference to a\n"
                "record that exists neither on the server nor in the file\n"
                "(relations[7].subject: no entity \"country:nowhere\"); then nothing is sent (exit 3).\n"
                "Importing the same file again changes nothing: records stored exactly so are\n"
                "reported unchanged.\n\n"
                "--bulk is for large data sets (admin role): the records go in parts through\n"
                "BulkLoad and are written in one transaction with sorted keys, several times\n"
                "faster than a Batch; references are checked by the server at the commit\n"
                "against the store and the load, and the first problem is reported with its\n"
                "part and record. Records stored already with other contents are refused\n"
                "(ALREADY_EXISTS) unless --replace. The change feed names bulk-loaded records\n"
                "without their bodies (ChangeSet.bulk). Not in cluster mode.\n\n"
                "  --request-id ID  the write's id; a retry with the same id is applied once\n"
                "                   (with --bulk: the load's id, and its parts' ids)\n"
                "  --bulk           load through BulkLoad\n"
                "  --replace        with --bulk: overwrite records stored with other contents\n",
     .opts = import_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_import},
    {.name = "export",
     .synopsis = "[--out FILE] [--page-size N]",
     .summary = "write every record as one Dataset (JSON) that import accepts",
     .details = "Server-set fields (revisions, resolved dates) are left out, so the file\n"
                "imports into any server.\n\n"
                "  --out FILE       write to FILE (replaced only once complete) instead of stdout\n"
                "  --page-size N    records per List call (1..1000, default 1000)\n",
     .opts = export_opts,
     .max_pos = 0,
     .run = cmd_export},
    {.run = NULL},
};

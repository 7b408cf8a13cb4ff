/*
 * cli_cmd_refs — references that name no record: `annals check` (every
 * one the store holds: written before writes were refused for them) and
 * import's dry run (every one a file would leave, with the file's paths,
 * before anything is sent), both through CheckReferences.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

#define REFS_LIMIT 1000

/* The path of a Batch op in the Dataset it was made from (ds_batch's
 * order: documents, entities, relations, events). */
static const char *refs_dataset_path(ar_arena *a, const Annals__V1__Dataset *ds, size_t op)
{
	static const char *const names[] = {"documents", "entities", "relations", "events"};
	size_t n[] = {ds->n_documents, ds->n_entities, ds->n_relations, ds->n_events};
	for (size_t i = 0; i < 4; i++) {
		if (op < n[i])
			return ar_printf(a, "%s[%zu]", names[i], op);
		op -= n[i];
	}
	return ar_printf(a, "ops[%zu]", op);
}

int cli_refs_dry_run(cli_ctx *ctx, const char *file, const Annals__V1__Dataset *ds,
                     const Annals__V1__BatchRequest *b)
{
	Annals__V1__CheckReferencesRequest req = ANNALS__V1__CHECK_REFERENCES_REQUEST__INIT;
	req.batch = (Annals__V1__BatchRequest *)b;
	req.limit = REFS_LIMIT;
	Annals__V1__CheckReferencesReply *rep;
	annals_error err = {0};
	int rc = cli_call_quiet(ctx, "CheckReferences", &req.base, &rep, 0, &err);
	if (rc == ANNALS_UNIMPLEMENTED)
		return 0; /* an older server: it applies the file by its own rules */
	if (rc != ANNALS_OK)
		return cli_report(ctx, rc, err.message);
	uint64_t n = rep->dangling;
	for (size_t i = 0; i < rep->n_references; i++) {
		const Annals__V1__DanglingReference *d = rep->references[i];
		fprintf(stderr, "  %s.%s: %s\n", refs_dataset_path(&ctx->ar, ds, d->op), d->field,
		        d->problem);
	}
	if (n > rep->n_references)
		fprintf(stderr, "  ... and %" PRIu64 " more\n", n - rep->n_references);
	annals_free(rep);
	if (n == 0)
		return 0;
	return cli_fail(ctx, ANNALS_INVALID_ARGUMENT,
	                "%s: %" PRIu64 " reference%s to records that exist neither on the server nor in the "
	                "file (listed above); nothing was sent",
	                file, n, n == 1 ? "" : "s");
}

static int cmd_check(cli_ctx *ctx)
{
	Annals__V1__CheckReferencesRequest req = ANNALS__V1__CHECK_REFERENCES_REQUEST__INIT;
	req.limit = REFS_LIMIT;
	Annals__V1__CheckReferencesReply *rep;
	int rc = cli_call(ctx, "CheckReferences", &req.base, &rep);
	if (rc != 0)
		return rc;
	uint64_t n = rep->dangling;
	if (ctx->structured) {
		rc = cli_print_msg(ctx, &rep->base);
	} else if (n == 0) {
		printf("%" PRIu64 " records at revision %" PRIu64 ": every reference names a record\n",
		       rep->records, rep->revision);
	} else {
		cli_table t;
		cli_table_init(&t, &ctx->ar, 4);
		cli_table_row(&t, "KIND", "RECORD", "FIELD", "PROBLEM");
		for (size_t i = 0; i < rep->n_references; i++) {
			const Annals__V1__DanglingReference *d = rep->references[i];
			cli_table_row(&t, cli_record_kind(&ctx->ar, d->kind), d->record, d->field,
			              d->problem);
		}
		cli_table_print(&t, stdout, "");
		if (n > rep->n_references)
			printf("... and %" PRIu64 " more\n", n - rep->n_references);
	}
	uint64_t records = rep->records, revision = rep->revision;
	annals_free(rep);
	rc = cli_finish_output(rc);
	if (rc != 0 || n == 0)
		return rc;
	return cli_fail(ctx, ANNALS_FAILED_PRECONDITION,
	                "%" PRIu64 " dangling reference%s in %" PRIu64 " records at revision %" PRIu64
	                " (listed above)",
	                n, n == 1 ? "" : "s", records, revision);
}

const cli_cmd cli_cmds_refs[] = {
    {.name = "check",
     .synopsis = "",
     .summary = "list every reference of the store that names no record (exit 9 when any)",
     .details = "Reads every record once (CheckReferences) and lists each reference to a record\n"
                "that does not exist: a relation's subject or object, an event's participant or\n"
                "place, an evidence's document or attributed_to, an anchor, a bound's or link's\n"
                "event, an attribute's ref, a document's publisher. Writes refuse such references;\n"
                "a store written before they did may hold some: rewrite or delete the records\n"
                "listed. Exit 0 when there are none, 9 (FAILED_PRECONDITION) when there are.\n",
     .run = cmd_check},
    {.run = NULL},
};

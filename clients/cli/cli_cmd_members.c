/*
 * cli_cmd_members — who belongs to an organization, who holds an office,
 * and who held it in turn. Each answer names the relation segment that
 * decides it and the server's reason, so a reader can check the evidence
 * (`annals evidence REL`).
 */
#include <string.h>

#include "cli.h"

static int mem_require_at(cli_ctx *ctx, Annals__V1__Date **at, char **doc)
{
	if (cli_opt(ctx, "at") == NULL)
		return cli_usage_error(ctx, "--at DATE or --at pub:DOC is required");
	return cli_opt_at(ctx, "at", at, doc);
}

/* The first evidence of a relation, for -o wide. */
static const char *mem_evidence(ar_arena *a, const Annals__V1__Relation *r)
{
	return r && r->n_evidence ? cli_evidence_brief(a, r->evidence[0]) : "-";
}

/* "members (5):" and one line per member: id, name, status, deciding
 * segment with its validity, and the reason. */
static void mem_group(cli_ctx *ctx, const char *title, Annals__V1__Member *const *m, size_t n)
{
	ar_arena *a = &ctx->ar;
	printf("%s (%zu):\n", title, n);
	if (n == 0) {
		printf("  (none)\n");
		return;
	}
	cli_table t;
	cli_table_init(&t, a, ctx->wide ? 7 : 6); /* wide: the deciding segment's first evidence */
	for (size_t i = 0; i < n; i++) {
		const Annals__V1__RelationFact *d = m[i]->deciding;
		const Annals__V1__Relation *r = d ? d->relation : NULL;
		cli_table_row(&t, m[i]->entity, m[i]->name, m[i]->status[0] ? m[i]->status : "-",
		              r ? r->id : "-", r ? cli_interval(a, r->valid) : "",
		              d && d->reason[0] ? d->reason : cli_truth(m[i]->truth), mem_evidence(a, r));
	}
	cli_table_print(&t, stdout, "  ");
}

static int cmd_members(cli_ctx *ctx)
{
	Annals__V1__MembersRequest req = ANNALS__V1__MEMBERS_REQUEST__INIT;
	req.organization = (char *)cli_pos(ctx, 0);
	int rc = mem_require_at(ctx, &req.at, &req.at_document);
	Annals__V1__MembersReply *rep;
	if (rc != 0 || (rc = cli_call(ctx, "Members", &req.base, &rep)) != 0)
		return rc;
	if (ctx->structured) {
		rc = cli_print_msg(ctx, &rep->base);
	} else {
		printf("%s at %s\n", rep->organization, cli_opt(ctx, "at"));
		cli_print_publication(&ctx->ar, rep->publication);
		mem_group(ctx, "members", rep->members, rep->n_members);
		mem_group(ctx, "suspended", rep->suspended, rep->n_suspended);
		mem_group(ctx, "unknown", rep->unknown, rep->n_unknown);
		mem_group(ctx, "not members", rep->not_members, rep->n_not_members);
	}
	annals_free(rep);
	return rc;
}

static void mem_print_holders(cli_ctx *ctx, const Annals__V1__HolderReply *r)
{
	ar_arena *a = &ctx->ar;
	printf("%s at %s\n", r->position, cli_opt(ctx, "at"));
	cli_print_publication(a, r->publication);
	if (r->n_holders == 0) {
		printf("  nobody is known to hold it then\n");
		return;
	}
	cli_table t;
	cli_table_init(&t, a, ctx->wide ? 7 : 6);
	cli_table_header(&t, ctx, "TRUTH", "HOLDER", "NAME", "VALID", "RELATION", "REASON", "EVIDENCE");
	for (size_t i = 0; i < r->n_holders; i++) {
		const Annals__V1__RelationFact *f = r->holders[i];
		const Annals__V1__Relation *rel = f->relation;
		cli_table_row(&t, cli_truth(f->truth), rel ? rel->subject : "", f->subject_name,
		              rel ? cli_interval(a, rel->valid) : "", rel ? rel->id : "", f->reason,
		              mem_evidence(a, rel));
	}
	cli_table_print(&t, stdout, "  ");
}

static int cmd_holder(cli_ctx *ctx)
{
	Annals__V1__HolderRequest req = ANNALS__V1__HOLDER_REQUEST__INIT;
	req.position = (char *)cli_pos(ctx, 0);
	int rc = mem_require_at(ctx, &req.at, &req.at_document);
	Annals__V1__HolderReply *rep;
	if (rc != 0 || (rc = cli_call(ctx, "Holder", &req.base, &rep)) != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		mem_print_holders(ctx, rep);
	annals_free(rep);
	return rc;
}

static void mem_print_succession(cli_ctx *ctx, const Annals__V1__SuccessionReply *r)
{
	ar_arena *a = &ctx->ar;
	printf("succession of %s\n", r->position);
	if (r->n_tenures == 0) {
		printf("  no holders known\n");
		return;
	}
	cli_table t;
	cli_table_init(&t, a, ctx->wide ? 8 : 6);
	cli_table_header(&t, ctx, "#", "HOLDER", "NAME", "TENURE", "PREDECESSOR", "SUCCESSOR", "RELATION",
	                 "EVIDENCE");
	for (size_t i = 0; i < r->n_tenures; i++) {
		const Annals__V1__Tenure *tn = r->tenures[i];
		cli_table_row(&t, ar_printf(a, "%zu", i + 1), tn->holder, tn->name,
		              tn->relation ? cli_interval(a, tn->relation->valid) : "",
		              tn->predecessor[0] ? tn->predecessor : "-",
		              tn->successor[0] ? tn->successor : "-", tn->relation ? tn->relation->id : "-",
		              mem_evidence(a, tn->relation));
	}
	cli_table_print(&t, stdout, "  ");
}

static int cmd_succession(cli_ctx *ctx)
{
	Annals__V1__SuccessionRequest req = ANNALS__V1__SUCCESSION_REQUEST__INIT;
	req.position = (char *)cli_pos(ctx, 0);
	Annals__V1__SuccessionReply *rep;
	int rc = cli_call(ctx, "Succession", &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		mem_print_succession(ctx, rep);
	annals_free(rep);
	return rc;
}

static const cli_optspec mem_at_opts[] = {{"at", true}, {NULL, false}};

#define MEM_AT_HELP                                                                                          \
	"  --at DATE        2019, 2019-05 or 2019-05-01; a year or month asks about every day\n"             \
	"                   in it, so a change inside it makes the answer UNKNOWN\n"                         \
	"  --at pub:DOC     as of the publication date of document DOC\n"

const cli_cmd cli_cmds_members[] = {
    {.name = "members",
     .synopsis = "ORG --at DATE|pub:DOC",
     .summary = "members of an organization on a date: members, suspended, unknown, not members",
     .details = "Each line: the entity, its name, its membership status, the relation segment that\n"
                "decides it with its validity, and the reason.\n\n" MEM_AT_HELP,
     .opts = mem_at_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_members},
    {.name = "holder",
     .synopsis = "POSITION --at DATE|pub:DOC",
     .summary = "who holds an office on a date (TRUE or UNKNOWN tenures)",
     .details = MEM_AT_HELP,
     .opts = mem_at_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_holder},
    {.name = "succession",
     .synopsis = "POSITION",
     .summary = "the holders of an office in order of succession",
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_succession},
    {.run = NULL},
};

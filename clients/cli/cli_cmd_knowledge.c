/*
 * cli_cmd_knowledge — the knowledge queries about one entity or name:
 * resolve, name, relations, history, timeline, facts. Every answer "as of"
 * a date shows its truth value (TRUE / FALSE / UNKNOWN) and the reason the
 * server gives, because UNKNOWN without a reason reads like a bug.
 */
#include <string.h>

#include "cli.h"

/* --at DATE | pub:DOC, when the command requires it. */
static int kn_require_at(cli_ctx *ctx, Annals__V1__Date **at, char **doc)
{
	if (cli_opt(ctx, "at") == NULL)
		return cli_usage_error(ctx, "--at DATE or --at pub:DOC is required");
	return cli_opt_at(ctx, "at", at, doc);
}

static int cmd_resolve(cli_ctx *ctx)
{
	Annals__V1__ResolveRequest req = ANNALS__V1__RESOLVE_REQUEST__INIT;
	req.name = (char *)cli_pos(ctx, 0);
	int rc = cli_opt_entity_type(ctx, "type", &req.type);
	if (rc == 0)
		rc = cli_opt_date(ctx, "at", &req.at);
	Annals__V1__ResolveReply *rep;
	if (rc != 0 || (rc = cli_call(ctx, "Resolve", &req.base, &rep)) != 0)
		return rc;
	if (ctx->structured) {
		rc = cli_print_msg(ctx, &rep->base);
	} else if (rep->n_candidates == 0) {
		fprintf(stderr, "no entity has the name '%s'\n", req.name);
	} else {
		ar_arena *a = &ctx->ar;
		cli_table t;
		cli_table_init(&t, a, 7);
		cli_table_header(&t, ctx, "ENTITY", "TYPE", "NAME", "MATCHED", "KIND", "VALID",
		                 req.at ? "VALID AT" : "");
		for (size_t i = 0; i < rep->n_candidates; i++) {
			const Annals__V1__Candidate *c = rep->candidates[i];
			cli_table_row(
			    &t, c->entity, cli_entity_type(a, c->type), c->display_name, c->matched,
			    cli_enum_word(a, &annals__v1__name_kind__descriptor, "NAME_KIND_", c->kind),
			    c->valid ? cli_interval(a, c->valid) : "always",
			    req.at ? cli_truth(c->valid_at) : "");
		}
		cli_table_print(&t, stdout, "");
	}
	annals_free(rep);
	return rc;
}

static void kn_print_name_at(cli_ctx *ctx, const Annals__V1__NameAtReply *r)
{
	ar_arena *a = &ctx->ar;
	printf("%s at %s: %s (%s)\n", r->entity, cli_opt(ctx, "at"), r->name[0] ? r->name : "unknown",
	       cli_truth(r->truth));
	cli_print_publication(a, r->publication);
	cli_table t;
	cli_table_init(&t, a, 4);
	cli_table_header(&t, ctx, "TRUTH", "KIND", "NAME", "VALID");
	for (size_t i = 0; i < r->n_names; i++) {
		const Annals__V1__Name *n = r->names[i]->name;
		if (n == NULL)
			continue;
		cli_table_row(&t, cli_truth(r->names[i]->truth),
		              cli_enum_word(a, &annals__v1__name_kind__descriptor, "NAME_KIND_", n->kind),
		              n->text, n->valid ? cli_interval(a, n->valid) : "always");
	}
	cli_table_print(&t, stdout, "  ");
}

static int cmd_name(cli_ctx *ctx)
{
	Annals__V1__NameAtRequest req = ANNALS__V1__NAME_AT_REQUEST__INIT;
	req.entity = (char *)cli_pos(ctx, 0);
	int rc = kn_require_at(ctx, &req.at, &req.at_document);
	Annals__V1__NameAtReply *rep;
	if (rc != 0 || (rc = cli_call(ctx, "NameAt", &req.base, &rep)) != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		kn_print_name_at(ctx, rep);
	annals_free(rep);
	return rc;
}

/* One row per fact; the truth column only when a date was asked, and the
 * name of the other side (the object, or the subject with --inverse). */
static void kn_print_facts(cli_ctx *ctx, Annals__V1__RelationFact *const *facts, size_t n, bool dated)
{
	ar_arena *a = &ctx->ar;
	if (n == 0) {
		fprintf(stderr, "(no relations match)\n");
		return;
	}
	cli_table t;
	cli_table_init(&t, a, ctx->wide ? 9 : 8); /* wide: the relation's first evidence */
	cli_table_header(&t, ctx, dated ? "TRUTH" : "", "SUBJECT", "PREDICATE", "OBJECT", "STATUS", "VALID",
	                 "ID", "REASON", "EVIDENCE");
	for (size_t i = 0; i < n; i++) {
		const Annals__V1__Relation *r = facts[i]->relation;
		if (r == NULL)
			continue;
		const char *subj = facts[i]->subject_name[0]
		                       ? ar_printf(a, "%s (%s)", r->subject, facts[i]->subject_name)
		                       : r->subject;
		const char *obj = facts[i]->object_name[0]
		                      ? ar_printf(a, "%s (%s)", r->object, facts[i]->object_name)
		                      : r->object;
		cli_table_row(&t, dated ? cli_truth(facts[i]->truth) : "", subj, r->predicate, obj, r->status,
		              cli_interval(a, r->valid), r->id, facts[i]->reason,
		              r->n_evidence ? cli_evidence_brief(a, r->evidence[0]) : "-");
	}
	cli_table_print(&t, stdout, "");
}

static int kn_relations_reply(cli_ctx *ctx, const char *method, const ProtobufCMessage *req, bool dated)
{
	Annals__V1__RelationsReply *rep;
	int rc = cli_call(ctx, method, req, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured) {
		rc = cli_print_msg(ctx, &rep->base);
	} else {
		cli_print_publication(&ctx->ar, rep->publication);
		kn_print_facts(ctx, rep->facts, rep->n_facts, dated);
	}
	annals_free(rep);
	return rc;
}

static int cmd_relations(cli_ctx *ctx)
{
	Annals__V1__RelationsRequest req = ANNALS__V1__RELATIONS_REQUEST__INIT;
	req.entity = (char *)cli_pos(ctx, 0);
	req.inverse = cli_flag(ctx, "inverse");
	if (cli_opt(ctx, "predicate"))
		req.predicate = (char *)cli_opt(ctx, "predicate");
	if (cli_opt(ctx, "object"))
		req.object = (char *)cli_opt(ctx, "object");
	int rc = cli_opt_at(ctx, "at", &req.at, &req.at_document);
	if (rc != 0)
		return rc;
	return kn_relations_reply(ctx, "Relations", &req.base, req.at || req.at_document[0]);
}

static int cmd_history(cli_ctx *ctx)
{
	Annals__V1__HistoryRequest req = ANNALS__V1__HISTORY_REQUEST__INIT;
	req.entity = (char *)cli_pos(ctx, 0);
	if (cli_opt(ctx, "predicate"))
		req.predicate = (char *)cli_opt(ctx, "predicate");
	if (cli_opt(ctx, "object"))
		req.object = (char *)cli_opt(ctx, "object");
	return kn_relations_reply(ctx, "History", &req.base, false);
}

static const char *kn_item_record(const Annals__V1__TimelineItem *it)
{
	if (it->event)
		return it->event->id;
	return it->relation ? it->relation->id : "";
}

/* "event", or "event via treaty:x (formed_by_members_of)" for a tie's event. */
static const char *kn_item_kind(ar_arena *a, const Annals__V1__TimelineItem *it)
{
	if (it->via_entity[0] == '\0')
		return it->kind;
	return ar_printf(a, "%s via %s (%s)", it->kind, it->via_entity, it->via_predicate);
}

static void kn_print_timeline(cli_ctx *ctx, const Annals__V1__TimelineReply *r)
{
	cli_table t;
	cli_table_init(&t, &ctx->ar, 4);
	cli_table_header(&t, ctx, "WHEN", "WHAT", "RECORD", "DESCRIPTION");
	for (size_t i = 0; i < r->n_items; i++) {
		const Annals__V1__TimelineItem *it = r->items[i];
		cli_table_row(&t, it->undated || it->when == NULL ? "undated" : cli_date(&ctx->ar, it->when),
		              kn_item_kind(&ctx->ar, it), kn_item_record(it), it->description);
	}
	printf("timeline of %s\n", r->entity);
	cli_table_print(&t, stdout, "  ");
}

/* --via P1,P2 (the ties to follow) or --via none (only the entity's own). */
static int kn_opt_via(cli_ctx *ctx, Annals__V1__TimelineRequest *req)
{
	const char *v = cli_opt(ctx, "via");
	if (v == NULL)
		return 0;
	if (strcmp(v, "none") == 0) {
		req->direct_only = true;
		return 0;
	}
	char *list = ar_strdup(&ctx->ar, v), *save = NULL;
	for (char *p = strtok_r(list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save))
		AR_PUSH(&ctx->ar, req->via, req->n_via, p);
	if (req->n_via == 0)
		return cli_usage_error(ctx, "--via: name predicates (P1,P2) or none");
	return 0;
}

static int cmd_timeline(cli_ctx *ctx)
{
	Annals__V1__TimelineRequest req = ANNALS__V1__TIMELINE_REQUEST__INIT;
	req.entity = (char *)cli_pos(ctx, 0);
	int rc = cli_opt_date(ctx, "from", &req.from);
	if (rc == 0)
		rc = cli_opt_date(ctx, "to", &req.to);
	if (rc == 0)
		rc = kn_opt_via(ctx, &req);
	Annals__V1__TimelineReply *rep;
	if (rc != 0 || (rc = cli_call(ctx, "Timeline", &req.base, &rep)) != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		kn_print_timeline(ctx, rep);
	annals_free(rep);
	return rc;
}

static void kn_print_facts_of_doc(cli_ctx *ctx, const Annals__V1__FactsReply *r)
{
	ar_arena *a = &ctx->ar;
	cli_table t;
	cli_table_init(&t, a, 5);
	cli_table_header(&t, ctx, "SENTENCE", "RECORD", "PATH", "SPAN", "FACT");
	for (size_t i = 0; i < r->n_facts; i++) {
		const Annals__V1__Fact *f = r->facts[i];
		const char *span =
		    f->evidence ? ar_printf(a, "[%u,%u)", f->evidence->span_start, f->evidence->span_end)
		                : "";
		cli_table_row(&t, ar_printf(a, "%u", f->sentence), f->record ? f->record->id : "", f->path,
		              span, f->fact);
	}
	printf("facts of %s (%zu)\n", r->document, r->n_facts);
	cli_table_print(&t, stdout, "  ");
}

static int cmd_facts(cli_ctx *ctx)
{
	Annals__V1__FactsRequest req = ANNALS__V1__FACTS_REQUEST__INIT;
	req.document = (char *)cli_pos(ctx, 0);
	int rc = cli_opt_u32(ctx, "sentence", &req.sentence);
	Annals__V1__FactsReply *rep;
	if (rc != 0 || (rc = cli_call(ctx, "Facts", &req.base, &rep)) != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else
		kn_print_facts_of_doc(ctx, rep);
	annals_free(rep);
	return rc;
}

static const cli_optspec resolve_opts[] = {{"type", true}, {"at", true}, {NULL, false}};
static const cli_optspec at_opts[] = {{"at", true}, {NULL, false}};
static const cli_optspec relations_opts[] = {
    {"predicate", true}, {"object", true}, {"inverse", false}, {"at", true}, {NULL, false}};
static const cli_optspec history_opts[] = {{"predicate", true}, {"object", true}, {NULL, false}};
static const cli_optspec timeline_opts[] = {{"from", true}, {"to", true}, {"via", true}, {NULL, false}};
static const cli_optspec facts_opts[] = {{"sentence", true}, {NULL, false}};

#define KN_AT_HELP                                                                                           \
	"  --at DATE        as of this date: 2019, 2019-05 or 2019-05-01 (a year asks about every\n"         \
	"                   day of it: TRUE only if the fact held all year, UNKNOWN if unsure)\n"            \
	"  --at pub:DOC     as of the publication date of document DOC\n"

const cli_cmd cli_cmds_knowledge[] = {
    {.name = "resolve",
     .synopsis = "NAME [--type T] [--at DATE]",
     .summary = "which entities a name can mean (ids, official names, aliases, acronyms)",
     .details = "  --type T         only entities of this type\n"
                "  --at DATE        also say whether each name was in use then\n",
     .opts = resolve_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_resolve},
    {.name = "name",
     .synopsis = "ENTITY --at DATE|pub:DOC",
     .summary = "the official name of an entity on a date, and every name's truth then",
     .details = KN_AT_HELP,
     .opts = at_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_name},
    {.name = "relations",
     .synopsis = "ENTITY [--predicate P] [--object X] [--inverse] [--at DATE|pub:DOC]",
     .summary = "standing facts about an entity, optionally as of a date",
     .details =
         "  --predicate P    only this predicate (member_of, holds_position, chairs, ...)\n"
         "  --object X       only facts about this object (id or name)\n"
         "  --inverse        facts where the entity is the object (members of an org, ...)\n" KN_AT_HELP,
     .opts = relations_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_relations},
    {.name = "history",
     .synopsis = "ENTITY [--predicate P] [--object X]",
     .summary = "every segment of an entity's standing facts, in time order",
     .details = "  --predicate P    only this predicate\n"
                "  --object X       only facts about this object\n",
     .opts = history_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_history},
    {.name = "timeline",
     .synopsis = "ENTITY [--from D] [--to D] [--via P1,P2|none]",
     .summary = "events and changes of an entity in time order (undated ones last)",
     .details = "  --from D, --to D only this time range\n"
                "  --via P1,P2      also the events of entities tied to it by these relation\n"
                "                   predicates or attribute keys, marked \"via ENTITY (P)\";\n"
                "                   default for an organization: its founding treaty, offices and\n"
                "                   bodies; --via none: only its own\n",
     .opts = timeline_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_timeline},
    {.name = "facts",
     .synopsis = "DOC [--sentence N]",
     .summary = "what a document supports, sentence by sentence",
     .details = "  --sentence N     only sentence N (1-based)\n",
     .opts = facts_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_facts},
    {.run = NULL},
};

/*
 * cli_cmd_list — `entity list`, `entity find`, `event list`,
 * `relation list`, `document list`: one row per record.
 */
#include <string.h>

#include "cli.h"

#define LIST_DEFAULT_LIMIT 100

/* How one record kind is shown: its header and one row per record. The
 * first ncols columns are the table; -o wide adds the rest (kubectl's
 * rule: wide only ever adds columns at the end). */
#define LIST_MAX_COLS 8
typedef struct list_kind {
	int ncols, ncols_wide;
	const char *const *header;
	void (*row)(cli_ctx *ctx, const ProtobufCMessage *m, const char **cells);
} list_kind;

static const char *list_revision(cli_ctx *ctx, uint64_t rev)
{
	return ar_printf(&ctx->ar, "%llu", (unsigned long long)rev);
}

/* The names besides the first (which the NAME column shows). */
static const char *list_other_names(cli_ctx *ctx, const Annals__V1__Entity *e)
{
	const char *s = "";
	for (size_t i = 1; i < e->n_names; i++)
		s = ar_printf(&ctx->ar, "%s%s%s", s, i > 1 ? ", " : "", e->names[i]->text);
	return s;
}

static void row_entity(cli_ctx *ctx, const ProtobufCMessage *m, const char **c)
{
	const Annals__V1__Entity *e = (const Annals__V1__Entity *)m;
	c[0] = e->id, c[1] = cli_entity_type(&ctx->ar, e->type), c[2] = cli_display_name(e);
	c[3] = e->summary, c[4] = list_other_names(ctx, e), c[5] = list_revision(ctx, e->revision);
}

static void row_event(cli_ctx *ctx, const ProtobufCMessage *m, const char **c)
{
	const Annals__V1__Event *e = (const Annals__V1__Event *)m;
	const char *who = "";
	for (size_t i = 0; i < e->n_participants; i++)
		who = ar_printf(&ctx->ar, "%s%s%s", who, i ? "," : "", e->participants[i]->entity);
	c[0] = e->id, c[1] = e->type;
	c[2] = cli_enum_word(&ctx->ar, &annals__v1__event_status__descriptor, "EVENT_STATUS_", e->status);
	c[3] = e->when ? cli_date(&ctx->ar, e->when) : "undated", c[4] = e->place;
	c[5] = who, c[6] = list_revision(ctx, e->revision);
}

static void row_relation(cli_ctx *ctx, const ProtobufCMessage *m, const char **c)
{
	const Annals__V1__Relation *r = (const Annals__V1__Relation *)m;
	c[0] = r->subject, c[1] = r->predicate, c[2] = r->object, c[3] = r->status;
	c[4] = cli_interval(&ctx->ar, r->valid), c[5] = r->id;
	c[6] = r->n_evidence ? cli_evidence_brief(&ctx->ar, r->evidence[0]) : "";
	c[7] = list_revision(ctx, r->revision);
}

static void row_document(cli_ctx *ctx, const ProtobufCMessage *m, const char **c)
{
	const Annals__V1__Document *d = (const Annals__V1__Document *)m;
	c[0] = d->id, c[1] = ar_printf(&ctx->ar, "%u", d->length);
	c[2] = ar_printf(&ctx->ar, "%zu", d->n_sentences);
	c[3] = d->published ? cli_date(&ctx->ar, d->published) : "unknown", c[4] = d->title;
	c[5] = d->sha256, c[6] = list_revision(ctx, d->revision);
}

static const char *const entity_header[] = {"ID", "TYPE", "NAME", "SUMMARY", "OTHER NAMES", "REVISION"};
static const char *const event_header[] = {"ID",    "TYPE",         "STATUS",  "WHEN",
                                           "PLACE", "PARTICIPANTS", "REVISION"};
static const char *const relation_header[] = {"SUBJECT", "PREDICATE", "OBJECT",   "STATUS",
                                              "VALID",   "ID",        "EVIDENCE", "REVISION"};
static const char *const document_header[] = {"ID",    "BYTES",  "SENTENCES", "PUBLISHED",
                                              "TITLE", "SHA256", "REVISION"};

static const list_kind list_entities = {4, 6, entity_header, row_entity};
static const list_kind list_events = {5, 7, event_header, row_event};
static const list_kind list_relations = {6, 8, relation_header, row_relation};
static const list_kind list_documents = {5, 7, document_header, row_document};

static int list_print(cli_ctx *ctx, const cli_pages *p, const list_kind *k)
{
	if (ctx->structured) {
		ProtobufCMessage *all = cli_pages_merge(p);
		int rc =
		    all ? cli_print_msg(ctx, all) : cli_fail(ctx, ANNALS_RESOURCE_EXHAUSTED, "out of memory");
		cli_merged_free(all);
		return rc;
	}
	cli_table t;
	cli_table_init(&t, &ctx->ar, ctx->wide ? k->ncols_wide : k->ncols);
	cli_table_header_v(&t, ctx, k->header);
	for (size_t i = 0; i < p->n; i++) {
		ProtobufCMessage **items;
		size_t n = cli_page_items(p->replies[i], &items);
		for (size_t j = 0; j < n; j++) {
			const char *cells[LIST_MAX_COLS] = {0};
			k->row(ctx, items[j], cells);
			cli_table_row_v(&t, cells);
		}
	}
	if (cli_table_data_rows(&t) > 0)
		cli_table_print(&t, stdout, "");
	else
		fprintf(stderr, "(none found)\n");
	return 0;
}

/* --limit N (default 100) or --all; then one page after another. */
static int list_run(cli_ctx *ctx, const char *method, ProtobufCMessage *req, const list_kind *k)
{
	uint32_t limit = LIST_DEFAULT_LIMIT;
	int rc = cli_opt_u32(ctx, "limit", &limit);
	if (rc != 0)
		return rc;
	if (limit == 0)
		return cli_usage_error(ctx, "--limit: give a number above 0, or --all");
	bool all = cli_flag(ctx, "all");
	uint32_t page = all || limit > CLI_MAX_PAGE ? CLI_MAX_PAGE : limit;
	if ((rc = cli_opt_page_size(ctx, &page)) != 0)
		return rc;
	cli_pages pages;
	rc = cli_fetch_pages(ctx, method, req, page, all ? 0 : limit, &pages);
	if (rc == 0)
		rc = list_print(ctx, &pages, k);
	if (rc == 0 && pages.more && !all)
		fprintf(stderr, "(more: --all shows every one, --limit N more of them)\n");
	cli_pages_free(&pages);
	return rc;
}

static int cmd_entity_list(cli_ctx *ctx)
{
	Annals__V1__ListEntitiesRequest req = ANNALS__V1__LIST_ENTITIES_REQUEST__INIT;
	int rc = cli_opt_entity_type(ctx, "type", &req.type);
	if (rc != 0)
		return rc;
	if (cli_opt(ctx, "prefix"))
		req.name_prefix = (char *)cli_opt(ctx, "prefix");
	return list_run(ctx, "ListEntities", &req.base, &list_entities);
}

static int cmd_entity_find(cli_ctx *ctx)
{
	Annals__V1__FindEntitiesRequest req = ANNALS__V1__FIND_ENTITIES_REQUEST__INIT;
	req.name = (char *)cli_pos(ctx, 0);
	req.prefix = cli_flag(ctx, "prefix");
	int rc = cli_opt_entity_type(ctx, "type", &req.type);
	if (rc == 0)
		rc = cli_opt_u32(ctx, "limit", &req.limit);
	if (rc != 0)
		return rc;
	Annals__V1__EntityPage *page;
	rc = cli_call(ctx, "FindEntities", &req.base, &page);
	if (rc != 0)
		return rc;
	cli_pages one = {.replies = (ProtobufCMessage **)&page, .n = 1};
	rc = list_print(ctx, &one, &list_entities);
	annals_free(page);
	return rc;
}

static int cmd_event_list(cli_ctx *ctx)
{
	Annals__V1__ListEventsRequest req = ANNALS__V1__LIST_EVENTS_REQUEST__INIT;
	int status = 0;
	int rc = cli_opt_enum(ctx, "status", &annals__v1__event_status__descriptor, "EVENT_STATUS_", &status);
	if (rc == 0)
		rc = cli_opt_date(ctx, "from", &req.from);
	if (rc == 0)
		rc = cli_opt_date(ctx, "to", &req.to);
	if (rc != 0)
		return rc;
	req.status = (Annals__V1__EventStatus)status;
	const char *v;
	if ((v = cli_opt(ctx, "participant")) != NULL)
		req.participant = (char *)v;
	if ((v = cli_opt(ctx, "type")) != NULL)
		req.type = (char *)v;
	if ((v = cli_opt(ctx, "place")) != NULL)
		req.place = (char *)v;
	return list_run(ctx, "ListEvents", &req.base, &list_events);
}

static int cmd_relation_list(cli_ctx *ctx)
{
	Annals__V1__ListRelationsRequest req = ANNALS__V1__LIST_RELATIONS_REQUEST__INIT;
	const char *v;
	if ((v = cli_opt(ctx, "subject")) != NULL)
		req.subject = (char *)v;
	if ((v = cli_opt(ctx, "predicate")) != NULL)
		req.predicate = (char *)v;
	if ((v = cli_opt(ctx, "object")) != NULL)
		req.object = (char *)v;
	return list_run(ctx, "ListRelations", &req.base, &list_relations);
}

static int cmd_document_list(cli_ctx *ctx)
{
	Annals__V1__ListDocumentsRequest req = ANNALS__V1__LIST_DOCUMENTS_REQUEST__INIT;
	return list_run(ctx, "ListDocuments", &req.base, &list_documents);
}

static const cli_optspec entity_list_opts[] = {{"type", true}, {"prefix", true},    {"limit", true},
                                               {"all", false}, {"page-size", true}, {NULL, false}};
static const cli_optspec entity_find_opts[] = {
    {"type", true}, {"prefix", false}, {"limit", true}, {NULL, false}};
static const cli_optspec event_list_opts[] = {
    {"participant", true}, {"type", true},  {"place", true}, {"status", true},    {"from", true},
    {"to", true},          {"limit", true}, {"all", false},  {"page-size", true}, {NULL, false}};
static const cli_optspec relation_list_opts[] = {{"subject", true}, {"predicate", true}, {"object", true},
                                                 {"limit", true},   {"all", false},      {"page-size", true},
                                                 {NULL, false}};
static const cli_optspec document_list_opts[] = {
    {"limit", true}, {"all", false}, {"page-size", true}, {NULL, false}};

#define LIST_PAGING_HELP                                                                                     \
	"  --limit N        show at most N (default 100)\n"                                                  \
	"  --all            show every one, page after page\n"                                               \
	"  --page-size N    records per call (1..1000; default: --limit, at most 1000)\n"

const cli_cmd cli_cmds_list[] = {
    {.group = "entity",
     .name = "list",
     .synopsis = "[--type T] [--prefix P] [--limit N] [--all]",
     .summary = "list entities in id order",
     .details = "  --type T         only this type (person, organization, country, place, position,\n"
                "                   treaty, group, media_source, document)\n"
                "  --prefix P       only entities with a name starting with P (any case)\n" LIST_PAGING_HELP,
     .opts = entity_list_opts,
     .max_pos = 0,
     .run = cmd_entity_list},
    {.group = "entity",
     .name = "find",
     .synopsis = "NAME [--type T] [--prefix] [--limit N]",
     .summary = "entities with this name or alias (any case)",
     .details = "  --type T         only this type\n"
                "  --prefix         NAME is the start of a name\n"
                "  --limit N        at most N\n",
     .opts = entity_find_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_entity_find},
    {.group = "event",
     .name = "list",
     .synopsis =
         "[--participant X] [--type T] [--place P] [--status S] [--from D] [--to D] [--limit N] [--all]",
     .summary = "list events",
     .details = "  --participant X  events this entity (id or name) takes part in\n"
                "  --type T         event type: meeting, appointment, renaming, ...\n"
                "  --place P        events at this place (entity id)\n"
                "  --status S       occurred, planned or cancelled\n"
                "  --from D, --to D events in this time range (2019, 2019-05, 2019-05-01)\n" LIST_PAGING_HELP,
     .opts = event_list_opts,
     .max_pos = 0,
     .run = cmd_event_list},
    {.group = "relation",
     .name = "list",
     .synopsis = "[--subject X] [--predicate P] [--object Y] [--limit N] [--all]",
     .summary = "list relations (standing facts with their validity)",
     .details = "  --subject X      relations of this subject (entity id)\n"
                "  --predicate P    member_of, holds_position, chairs, ...\n"
                "  --object Y       relations to this object (entity id)\n" LIST_PAGING_HELP,
     .opts = relation_list_opts,
     .max_pos = 0,
     .run = cmd_relation_list},
    {.group = "document",
     .name = "list",
     .synopsis = "[--limit N] [--all]",
     .summary = "list source documents",
     .details = LIST_PAGING_HELP,
     .opts = document_list_opts,
     .max_pos = 0,
     .run = cmd_document_list},
    {.run = NULL},
};

/*
 * cli_cmd_records — get, put and delete of the four record kinds:
 * `annals entity get ID`, `annals event put FILE.json`, ...
 *
 * The kinds differ only in their message type and method names, so one
 * function per verb serves all four, parameterised by a rec_kind.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

typedef struct rec_kind {
	const char *word; /* "entity", as on the command line */
	const char *type; /* "Entity", as in the method names */
	const ProtobufCMessageDescriptor *desc;
} rec_kind;

static const rec_kind rec_entity = {"entity", "Entity", &annals__v1__entity__descriptor};
static const rec_kind rec_event = {"event", "Event", &annals__v1__event__descriptor};
static const rec_kind rec_relation = {"relation", "Relation", &annals__v1__relation__descriptor};
static const rec_kind rec_document = {"document", "Document", &annals__v1__document__descriptor};

static void rec_show(cli_ctx *ctx, const ProtobufCMessage *m)
{
	if (m->descriptor == &annals__v1__entity__descriptor)
		cli_show_entity(ctx, (const Annals__V1__Entity *)m);
	else if (m->descriptor == &annals__v1__event__descriptor)
		cli_show_event(ctx, (const Annals__V1__Event *)m);
	else if (m->descriptor == &annals__v1__relation__descriptor)
		cli_show_relation(ctx, (const Annals__V1__Relation *)m);
	else
		cli_show_document(ctx, (const Annals__V1__Document *)m);
}

static int cmd_get(cli_ctx *ctx)
{
	const rec_kind *k = ctx->cmd->data;
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)cli_pos(ctx, 0);
	ProtobufCMessage *rep;
	int rc = cli_call(ctx, ar_printf(&ctx->ar, "Get%s", k->type), &req.base, &rep);
	if (rc != 0)
		return rc;
	if (ctx->structured)
		rc = cli_print_msg(ctx, rep);
	else
		rec_show(ctx, rep);
	annals_free(rep);
	return rc;
}

/* --expect-revision N: a Guard, or NULL when the flag is absent. */
static int rec_guard(cli_ctx *ctx, Annals__V1__Guard **out)
{
	uint64_t rev = 0;
	bool given = false;
	int rc = cli_opt_u64(ctx, "expect-revision", &rev, &given);
	*out = NULL;
	if (rc == 0 && given) {
		*out = AR_NEW(&ctx->ar, Annals__V1__Guard, ANNALS__V1__GUARD__INIT);
		(*out)->revision = rev;
	}
	return rc;
}

static int rec_print_write(cli_ctx *ctx, const char *what, const Annals__V1__WriteReply *w)
{
	if (ctx->structured)
		return cli_print_msg(ctx, &w->base);
	printf("%s %s %s, revision %" PRIu64 "\n", ctx->cmd->group, w->id,
	       w->unchanged ? "unchanged (already stored so)" : what, w->revision);
	return 0;
}

/* The typed Put request around the record read from the file. */
static int rec_put_call(cli_ctx *ctx, ProtobufCMessage *rec, Annals__V1__Guard *g, Annals__V1__WriteReply **w)
{
	const rec_kind *k = ctx->cmd->data;
	const char *method = ar_printf(&ctx->ar, "Put%s", k->type);
	if (k == &rec_entity) {
		Annals__V1__PutEntityRequest r = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
		r.entity = (Annals__V1__Entity *)rec, r.guard = g;
		return cli_call(ctx, method, &r.base, w);
	}
	if (k == &rec_event) {
		Annals__V1__PutEventRequest r = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
		r.event = (Annals__V1__Event *)rec, r.guard = g;
		return cli_call(ctx, method, &r.base, w);
	}
	if (k == &rec_relation) {
		Annals__V1__PutRelationRequest r = ANNALS__V1__PUT_RELATION_REQUEST__INIT;
		r.relation = (Annals__V1__Relation *)rec, r.guard = g;
		return cli_call(ctx, method, &r.base, w);
	}
	Annals__V1__PutDocumentRequest r = ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT;
	r.document = (Annals__V1__Document *)rec, r.guard = g;
	return cli_call(ctx, method, &r.base, w);
}

static int cmd_put(cli_ctx *ctx)
{
	const rec_kind *k = ctx->cmd->data;
	Annals__V1__Guard *guard;
	ProtobufCMessage *rec;
	int rc = rec_guard(ctx, &guard);
	if (rc == 0)
		rc = cli_read_message(ctx, cli_pos(ctx, 0), k->desc, &rec);
	if (rc != 0)
		return rc;
	Annals__V1__WriteReply *w;
	rc = rec_put_call(ctx, rec, guard, &w);
	if (rc != 0)
		return rc;
	rc = rec_print_write(ctx, "written", w);
	annals_free(w);
	return rc;
}

static int cmd_delete(cli_ctx *ctx)
{
	const rec_kind *k = ctx->cmd->data;
	Annals__V1__DeleteRequest req = ANNALS__V1__DELETE_REQUEST__INIT;
	int rc = rec_guard(ctx, &req.guard);
	if (rc != 0)
		return rc;
	req.id = (char *)cli_pos(ctx, 0);
	Annals__V1__WriteReply *w;
	rc = cli_call(ctx, ar_printf(&ctx->ar, "Delete%s", k->type), &req.base, &w);
	if (rc != 0)
		return rc;
	rc = rec_print_write(ctx, "deleted", w);
	annals_free(w);
	return rc;
}

static const cli_optspec rec_put_opts[] = {{"expect-revision", true}, {"request-id", true}, {NULL, false}};

#define REC_GET_HELP                                                                                         \
	"Prints the record; with --json, the stored message in the proto3 JSON mapping (which\n"             \
	"`put` accepts back).\n"
#define REC_PUT_HELP                                                                                         \
	"FILE holds one record in JSON (proto3 mapping; `-` reads stdin). Fields only the server\n"          \
	"sets (revision, a date's resolved/earliest/latest) are ignored. Writing a record exactly\n"         \
	"as stored changes nothing and says so.\n\n"                                                         \
	"  --expect-revision N  write only if the stored record is at revision N (0: only if new)\n"         \
	"  --request-id ID      the write's id; a retry with the same id is applied once\n"
#define REC_DELETE_HELP                                                                                      \
	"  --expect-revision N  delete only if the stored record is at revision N\n"                         \
	"  --request-id ID      the write's id; a retry with the same id is applied once\n"

#define REC_CMDS(kind, KIND_WORD, A)                                                                         \
	{.group = KIND_WORD,                                                                                 \
	 .name = "get",                                                                                      \
	 .synopsis = "ID",                                                                                   \
	 .summary = "show one " KIND_WORD,                                                                   \
	 .details = REC_GET_HELP,                                                                            \
	 .min_pos = 1,                                                                                       \
	 .max_pos = 1,                                                                                       \
	 .run = cmd_get,                                                                                     \
	 .data = &kind},                                                                                     \
	    {.group = KIND_WORD,                                                                             \
	     .name = "put",                                                                                  \
	     .synopsis = "FILE.json|- [--expect-revision N] [--request-id ID]",                              \
	     .summary = "create or replace " A " " KIND_WORD " from JSON",                                   \
	     .details = REC_PUT_HELP,                                                                        \
	     .opts = rec_put_opts,                                                                           \
	     .min_pos = 1,                                                                                   \
	     .max_pos = 1,                                                                                   \
	     .run = cmd_put,                                                                                 \
	     .data = &kind},                                                                                 \
	{                                                                                                    \
		.group = KIND_WORD, .name = "delete",                                                        \
		.synopsis = "ID [--expect-revision N] [--request-id ID]",                                    \
		.summary = "delete " A " " KIND_WORD, .details = REC_DELETE_HELP, .opts = rec_put_opts,      \
		.min_pos = 1, .max_pos = 1, .run = cmd_delete, .data = &kind                                 \
	}

const cli_cmd cli_cmds_records[] = {
    REC_CMDS(rec_entity, "entity", "an"),
    REC_CMDS(rec_event, "event", "an"),
    REC_CMDS(rec_relation, "relation", "a"),
    REC_CMDS(rec_document, "document", "a"),
    {.run = NULL},
};

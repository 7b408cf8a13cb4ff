/*
 * cli_show — one record in full, for `get`: a header line, then its parts
 * as aligned tables. Evidence is counted, not listed: `annals evidence ID`
 * shows it with the sentences it points to.
 */
#include <inttypes.h>

#include "cli.h"

static void show_evidence_count(const char *id, size_t n)
{
	printf("evidence: %zu item%s (annals evidence %s)\n", n, n == 1 ? "" : "s", id);
}

static const char *show_name_kind(ar_arena *a, int kind)
{
	return cli_enum_word(a, &annals__v1__name_kind__descriptor, "NAME_KIND_", kind);
}

static void show_attributes(cli_ctx *ctx, Annals__V1__Attribute *const *attrs, size_t n)
{
	if (n == 0)
		return;
	cli_table t;
	cli_table_init(&t, &ctx->ar, 4);
	for (size_t i = 0; i < n; i++) {
		const Annals__V1__Attribute *at = attrs[i];
		cli_table_row(&t, at->key, at->value, at->ref[0] ? ar_printf(&ctx->ar, "-> %s", at->ref) : "",
		              at->valid ? cli_interval(&ctx->ar, at->valid) : "");
	}
	printf("attributes:\n");
	cli_table_print(&t, stdout, "  ");
}

void cli_show_entity(cli_ctx *ctx, const Annals__V1__Entity *e)
{
	ar_arena *a = &ctx->ar;
	printf("%s  %s  %s  (revision %" PRIu64 ")\n", e->id, cli_entity_type(a, e->type),
	       cli_display_name(e), e->revision);
	if (e->summary[0])
		printf("summary: %s\n", e->summary);
	if (e->n_names) {
		cli_table t;
		cli_table_init(&t, a, 3);
		for (size_t i = 0; i < e->n_names; i++) {
			const Annals__V1__Name *n = e->names[i];
			cli_table_row(&t, show_name_kind(a, n->kind), n->text,
			              n->valid ? cli_interval(a, n->valid) : "");
		}
		printf("names:\n");
		cli_table_print(&t, stdout, "  ");
	}
	show_attributes(ctx, e->attributes, e->n_attributes);
	show_evidence_count(e->id, e->n_evidence);
}

static void show_event_parts(cli_ctx *ctx, const Annals__V1__Event *e)
{
	cli_table t;
	if (e->n_participants) {
		cli_table_init(&t, &ctx->ar, 2);
		for (size_t i = 0; i < e->n_participants; i++)
			cli_table_row(&t, e->participants[i]->role[0] ? e->participants[i]->role : "-",
			              e->participants[i]->entity);
		printf("participants:\n");
		cli_table_print(&t, stdout, "  ");
	}
	if (e->n_links) {
		cli_table_init(&t, &ctx->ar, 2);
		for (size_t i = 0; i < e->n_links; i++)
			cli_table_row(&t, e->links[i]->kind, e->links[i]->event);
		printf("links:\n");
		cli_table_print(&t, stdout, "  ");
	}
}

void cli_show_event(cli_ctx *ctx, const Annals__V1__Event *e)
{
	ar_arena *a = &ctx->ar;
	printf("%s  %s  %s  (revision %" PRIu64 ")\n", e->id, e->type,
	       cli_enum_word(a, &annals__v1__event_status__descriptor, "EVENT_STATUS_", e->status),
	       e->revision);
	printf("when: %s\n", e->when ? cli_date(a, e->when) : "undated");
	if (e->place[0])
		printf("place: %s\n", e->place);
	if (e->summary[0])
		printf("summary: %s\n", e->summary);
	show_event_parts(ctx, e);
	show_attributes(ctx, e->attributes, e->n_attributes);
	show_evidence_count(e->id, e->n_evidence);
}

void cli_show_relation(cli_ctx *ctx, const Annals__V1__Relation *r)
{
	printf("%s  (revision %" PRIu64 ")\n", r->id, r->revision);
	printf("%s %s %s%s%s%s\n", r->subject, r->predicate, r->object, r->status[0] ? " [" : "", r->status,
	       r->status[0] ? "]" : "");
	printf("valid: %s\n", cli_interval(&ctx->ar, r->valid));
	if (r->valid && r->valid->start && r->valid->start->event[0])
		printf("opened by: %s\n", r->valid->start->event);
	if (r->valid && r->valid->end && r->valid->end->event[0])
		printf("closed by: %s\n", r->valid->end->event);
	if (r->note[0])
		printf("note: %s\n", r->note);
	show_evidence_count(r->id, r->n_evidence);
}

void cli_show_document(cli_ctx *ctx, const Annals__V1__Document *d)
{
	ar_arena *a = &ctx->ar;
	printf("%s  (revision %" PRIu64 ")\n", d->id, d->revision);
	cli_table t;
	cli_table_init(&t, a, 2);
	if (d->title[0])
		cli_table_row(&t, "title:", d->title);
	cli_table_row(&t, "sha256:", d->sha256);
	cli_table_row(&t, "length:", ar_printf(a, "%u bytes", d->length));
	cli_table_row(&t, "publisher:", d->publisher[0] ? d->publisher : "unknown");
	cli_table_row(&t, "published:", d->published ? cli_date(a, d->published) : "unknown");
	if (d->summary[0])
		cli_table_row(&t, "summary:", d->summary);
	cli_table_print(&t, stdout, "");
	if (d->n_sentences) {
		cli_table_init(&t, a, 3);
		cli_table_header(&t, ctx, "SENTENCE", "START", "END");
		for (size_t i = 0; i < d->n_sentences; i++)
			cli_table_row(&t, ar_printf(a, "%u", d->sentences[i]->number),
			              ar_printf(a, "%u", d->sentences[i]->start),
			              ar_printf(a, "%u", d->sentences[i]->end));
		printf("sentences (%zu):\n", d->n_sentences);
		cli_table_print(&t, stdout, "  ");
	}
	show_evidence_count(d->id, d->n_evidence);
}

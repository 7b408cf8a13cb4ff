/*
 * cli_cmd_evidence — where a record's facts come from.
 *
 * annals stores a document's fingerprint and sentence table, never its
 * text. With --source FILE the reader supplies the text: the file's
 * sha256 is checked against the document record, and only then are the
 * cited byte spans printed, so a quote is never taken from the wrong text.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The first document the evidence cites is the one the file must be. */
static int ev_source_match(cli_ctx *ctx, cli_source *s, const Annals__V1__EvidenceReply *r)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (r->items[i]->evidence && r->items[i]->evidence->document[0])
			return cli_source_check(ctx, s, r->items[i]->evidence->document, NULL);
	return cli_fail(ctx, ANNALS_FAILED_PRECONDITION, "the evidence cites no document to check %s against",
	                s->path);
}

/* The span on one line: line breaks and other control bytes become spaces. */
static void ev_quote(const cli_source *s, const Annals__V1__Evidence *ev)
{
	if (ev->span_end > s->len || ev->span_start > ev->span_end) {
		printf("    (span [%u,%u) lies outside the %zu-byte file)\n", ev->span_start, ev->span_end,
		       s->len);
		return;
	}
	fputs("    \"", stdout);
	for (uint32_t i = ev->span_start; i < ev->span_end; i++) {
		unsigned char c = (unsigned char)s->text[i];
		fputc(c < 0x20 || c == 0x7f ? ' ' : c, stdout);
	}
	fputs("\"\n", stdout);
}

static void ev_print(cli_ctx *ctx, const Annals__V1__EvidenceReply *r, const cli_source *s)
{
	ar_arena *a = &ctx->ar;
	const Annals__V1__RecordRef *rec = r->record;
	printf("evidence for %s %s: %zu item%s\n", rec ? cli_record_kind(a, rec->kind) : "record",
	       rec ? rec->id : cli_pos(ctx, 0), r->n_items, r->n_items == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_items; i++) {
		const Annals__V1__EvidenceItem *it = r->items[i];
		const Annals__V1__EvidenceItem *prev = i ? r->items[i - 1] : NULL;
		const Annals__V1__Evidence *ev = it->evidence;
		/* several sources for one fact: name the fact once */
		if (!prev || strcmp(prev->path, it->path) != 0 || strcmp(prev->fact, it->fact) != 0)
			printf("%s: %s\n", it->path[0] ? it->path : "(record)", it->fact);
		if (ev == NULL)
			continue;
		printf("    document %s, sentence %s, bytes [%u,%u)", ev->document, cli_sentences(a, ev),
		       ev->span_start, ev->span_end);
		if (ev->modality)
			printf(", %s", cli_enum_word(a, &annals__v1__modality__descriptor, "MODALITY_",
			                             ev->modality));
		if (ev->attributed_to[0])
			printf(", attributed to %s", ev->attributed_to);
		if (ev->inferred)
			printf(", inferred by rule %s", ev->rule[0] ? ev->rule : "(unnamed)");
		putchar('\n');
		if (ev->note[0])
			printf("    note: %s\n", ev->note);
		if (s && s->doc && strcmp(s->doc, ev->document) == 0)
			ev_quote(s, ev);
		else if (s)
			printf("    (not quoted: %s is not %s)\n", s->path, ev->document);
	}
}

static int cmd_evidence(cli_ctx *ctx)
{
	Annals__V1__EvidenceRequest req = ANNALS__V1__EVIDENCE_REQUEST__INIT;
	req.id = (char *)cli_pos(ctx, 0);
	cli_source src = {0};
	const char *path = cli_opt(ctx, "source");
	int rc = path ? cli_source_load(ctx, &src, path) : 0;
	Annals__V1__EvidenceReply *rep = NULL;
	if (rc == 0)
		rc = cli_call(ctx, "Evidence", &req.base, &rep);
	if (rc == 0 && path)
		rc = ev_source_match(ctx, &src, rep);
	if (rc == 0 && ctx->structured)
		rc = cli_print_msg(ctx, &rep->base);
	else if (rc == 0)
		ev_print(ctx, rep, path ? &src : NULL);
	annals_free(rep);
	cli_source_free(&src);
	return rc;
}

static const cli_optspec evidence_opts[] = {{"source", true}, {NULL, false}};

const cli_cmd cli_cmds_evidence[] = {
    {.name = "evidence",
     .synopsis = "RECORD_ID [--source FILE]",
     .summary = "the evidence behind a record: document, sentence, byte span, attribution",
     .details = "  --source FILE    the document's text (annals stores only its fingerprint): after\n"
                "                   checking the file's sha256 against the document record, print\n"
                "                   the cited span of each item\n",
     .opts = evidence_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_evidence},
    {.run = NULL},
};

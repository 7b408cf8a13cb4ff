/*
 * cli_cmd_ingest — from a new text to records: `document add` (the
 * fingerprint and sentence table, stored) and `cite` (the sentence and
 * byte span of some exact words, for an evidence entry); `annotate`, the
 * draft for a person to complete, is in cli_cmd_annotate.c.
 *
 * The text itself stays with the reader (see cli_source.c); what is stored
 * is what evidence cites: sentence numbers and byte spans of those bytes.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/sentences.h"

#define ING_MAX_SENTENCES 100000

/* ---- the document record ---------------------------------------------------- */

/* The sentence table of s, in the arena. */
static int ing_sentences(cli_ctx *ctx, const cli_source *s, Annals__V1__Document *doc)
{
	size_t n = sent_split(s->text, s->len, NULL, 0);
	if (n > ING_MAX_SENTENCES)
		return cli_fail(ctx, ANNALS_INVALID_ARGUMENT, "%s has %zu sentences; at most %d are kept",
		                s->path, n, ING_MAX_SENTENCES);
	sent_span *sp = ar_alloc(&ctx->ar, (n ? n : 1) * sizeof(*sp));
	sent_split(s->text, s->len, sp, n);
	doc->sentences = ar_alloc(&ctx->ar, (n ? n : 1) * sizeof(*doc->sentences));
	doc->n_sentences = n;
	for (size_t i = 0; i < n; i++) {
		Annals__V1__Sentence *x = AR_NEW(&ctx->ar, Annals__V1__Sentence, ANNALS__V1__SENTENCE__INIT);
		x->number = (uint32_t)i + 1;
		x->start = sp[i].start;
		x->end = sp[i].end;
		doc->sentences[i] = x;
	}
	return 0;
}

/* The Document for the text: id (--id, else doc: and the first 16 hex
 * digits of its sha256), fingerprint, length, sentences, and the options. */
int cli_ingest_document(cli_ctx *ctx, const cli_source *s, Annals__V1__Document **out)
{
	Annals__V1__Document *doc = AR_NEW(&ctx->ar, Annals__V1__Document, ANNALS__V1__DOCUMENT__INIT);
	const char *id = cli_opt(ctx, "id");
	doc->id = id ? (char *)id : ar_printf(&ctx->ar, "doc:%.16s", s->sha256);
	doc->sha256 = ar_strdup(&ctx->ar, s->sha256);
	doc->length = (uint32_t)s->len;
	if (cli_opt(ctx, "title"))
		doc->title = (char *)cli_opt(ctx, "title");
	if (cli_opt(ctx, "summary"))
		doc->summary = (char *)cli_opt(ctx, "summary");
	if (cli_opt(ctx, "publisher"))
		doc->publisher = (char *)cli_opt(ctx, "publisher");
	int rc = cli_opt_date(ctx, "published", &doc->published);
	if (rc == 0)
		rc = ing_sentences(ctx, s, doc);
	*out = doc;
	return rc;
}

static int cmd_document_add(cli_ctx *ctx)
{
	cli_source src;
	int rc = cli_source_load(ctx, &src, cli_pos(ctx, 0));
	Annals__V1__Document *doc = NULL;
	if (rc == 0)
		rc = cli_ingest_document(ctx, &src, &doc);
	if (rc == 0 && cli_flag(ctx, "dry-run")) {
		rc = cli_print_msg(ctx, &doc->base);
	} else if (rc == 0) {
		Annals__V1__PutDocumentRequest req = ANNALS__V1__PUT_DOCUMENT_REQUEST__INIT;
		req.document = doc;
		Annals__V1__WriteReply *w;
		rc = cli_call(ctx, "PutDocument", &req.base, &w);
		if (rc == 0 && ctx->structured)
			rc = cli_print_msg(ctx, &w->base);
		else if (rc == 0)
			printf("document %s %s, revision %" PRIu64 ": %zu sentences, %u bytes, sha256 %s\n",
			       w->id, w->unchanged ? "unchanged (already stored so)" : "written", w->revision,
			       doc->n_sentences, doc->length, doc->sha256);
		if (rc == 0)
			annals_free(w);
	}
	cli_source_free(&src);
	return rc;
}

/* ---- cite ---------------------------------------------------------------------- */

/* Does the text at p hold the words w, a run of spaces in w matching any
 * run of spaces (line breaks, U+00A0, the other Unicode spaces) in the text? The end of the match, or NULL.
 */
static const char *ing_match(const char *p, const char *end, const char *w)
{
	while (*w) {
		if (*w == ' ' || *w == '\t' || *w == '\n') {
			size_t n = sent_space(p, end);
			if (n == 0)
				return NULL;
			while ((n = sent_space(p, end)) > 0)
				p += n;
			while (*w == ' ' || *w == '\t' || *w == '\n')
				w++;
			continue;
		}
		if (p >= end || *p != *w)
			return NULL;
		p++, w++;
	}
	return p;
}

/* The sentences of the stored table that [a, b) touches, as evidence. */
static void ing_evidence_sentences(cli_ctx *ctx, const Annals__V1__Document *doc, uint32_t a, uint32_t b,
                                   Annals__V1__Evidence *ev)
{
	for (size_t i = 0; i < doc->n_sentences; i++) {
		const Annals__V1__Sentence *s = doc->sentences[i];
		if (s->start < b && a < s->end) {
			uint32_t *grown = ar_alloc(&ctx->ar, (ev->n_sentences + 1) * sizeof(*grown));
			if (ev->n_sentences)
				memcpy(grown, ev->sentences, ev->n_sentences * sizeof(*grown));
			grown[ev->n_sentences++] = s->number;
			ev->sentences = grown;
		}
	}
}

/* "...the group was renamed..." around [a, b), on one line, for choosing among matches. */
static const char *ing_context(cli_ctx *ctx, const cli_source *s, uint32_t a, uint32_t b)
{
	uint32_t from = a > 30 ? a - 30 : 0, to = b + 30 < s->len ? b + 30 : (uint32_t)s->len;
	while (from > 0 && ((unsigned char)s->text[from] & 0xc0) == 0x80)
		from--;
	while (to < s->len && ((unsigned char)s->text[to] & 0xc0) == 0x80)
		to++;
	char *out = ar_printf(&ctx->ar, "%s%.*s%s", from ? "..." : "", (int)(to - from), s->text + from,
	                      to < s->len ? "..." : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return out;
}

static int cmd_cite(cli_ctx *ctx)
{
	const char *doc_id = cli_pos(ctx, 0), *words = cli_pos(ctx, 1), *file = cli_opt(ctx, "file");
	if (file == NULL)
		return cli_usage_error(ctx,
		                       "--file FILE: the text of %s (annals keeps its fingerprint and "
		                       "sentence table, not its text)",
		                       doc_id);
	if (words[0] == '\0' || strspn(words, " \t\n") == strlen(words))
		return cli_usage_error(ctx, "the words to cite are empty");
	cli_source src;
	Annals__V1__Document *doc = NULL;
	int rc = cli_source_load(ctx, &src, file);
	if (rc == 0)
		rc = cli_source_check(ctx, &src, doc_id, &doc);
	if (rc != 0) {
		cli_source_free(&src);
		return rc;
	}
	const char *end = src.text + src.len;
	uint32_t starts[8], ends[8];
	size_t n = 0;
	for (const char *p = src.text; p < end; p++) {
		const char *m = ing_match(p, end, words);
		if (m != NULL) {
			if (n < 8) {
				starts[n] = (uint32_t)(p - src.text);
				ends[n] = (uint32_t)(m - src.text);
			}
			n++;
		}
	}
	if (n != 1) {
		if (n == 0)
			rc = cli_fail(
			    ctx, ANNALS_NOT_FOUND,
			    "\"%s\" does not occur in %s (%s): the words must be exact, in the text's "
			    "own spelling and case",
			    words, doc_id, file);
		else {
			rc = cli_fail(ctx, ANNALS_INVALID_ARGUMENT,
			              "\"%s\" occurs %zu times in %s; quote more words to pick one:", words,
			              n, doc_id);
			for (size_t i = 0; i < n && i < 8; i++) {
				Annals__V1__Evidence ev = ANNALS__V1__EVIDENCE__INIT;
				ing_evidence_sentences(ctx, doc, starts[i], ends[i], &ev);
				fprintf(stderr, "  sentence %s bytes [%u,%u)  %s\n",
				        cli_sentences(&ctx->ar, &ev), starts[i], ends[i],
				        ing_context(ctx, &src, starts[i], ends[i]));
			}
			if (n > 8)
				fprintf(stderr, "  ... and %zu more\n", n - 8);
		}
	} else {
		Annals__V1__Evidence ev = ANNALS__V1__EVIDENCE__INIT;
		ev.document = (char *)doc_id;
		ev.span_start = starts[0];
		ev.span_end = ends[0];
		ing_evidence_sentences(ctx, doc, starts[0], ends[0], &ev);
		if (ctx->structured)
			rc = cli_print_msg(ctx, &ev.base);
		else
			printf("%s sentence %s bytes [%u,%u)\n", doc_id, cli_sentences(&ctx->ar, &ev),
			       ev.span_start, ev.span_end);
	}
	annals_free(doc);
	cli_source_free(&src);
	return rc;
}

/* ---- the table ------------------------------------------------------------------- */

static const cli_optspec doc_add_opts[] = {{"id", true},        {"title", true},     {"summary", true},
                                           {"published", true}, {"publisher", true}, {"dry-run", false},
                                           {NULL, false}};
static const cli_optspec cite_opts[] = {{"file", true}, {NULL, false}};

const cli_cmd cli_cmds_ingest[] = {
    {.group = "document",
     .name = "add",
     .synopsis = "FILE [--id ID] [--title T] [--published DATE] [--publisher ID] [--dry-run]",
     .summary = "store a new text's fingerprint and sentence table (byte spans) as a Document",
     .details = "  --id ID          the document's id (default doc: and 16 hex digits of its sha256)\n"
                "  --title T, --summary S   in your own words\n"
                "  --published DATE the publication date, YYYY[-MM[-DD]]\n"
                "  --publisher ID   the entity that published it\n"
                "  --dry-run        print the Document as JSON instead of writing it\n"
                "The text is split into sentences where a reader would: not at abbreviations\n"
                "(Mr., Maj.-Gen.), initials (U.S.), decimals, inside quotations, or in a dateline.\n",
     .opts = doc_add_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_document_add},
    {.name = "cite",
     .synopsis = "DOC \"exact words\" --file FILE",
     .summary = "the sentence number and byte span of some exact words of a document, for evidence",
     .details = "  --file FILE      the document's text (its sha256 must match the stored record)\n"
                "A space in the words matches any run of spaces or line breaks in the text. Absent\n"
                "words are NOT_FOUND; words found more than once are listed, to quote more of them.\n",
     .opts = cite_opts,
     .min_pos = 2,
     .max_pos = 2,
     .run = cmd_cite},
    {.run = NULL},
};

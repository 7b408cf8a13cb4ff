/*
 * cli_cmd_ingest — from a new text to records: `document add` (the
 * fingerprint and sentence table, stored), `cite` (the sentence and byte
 * span of some exact words, for an evidence entry) and `annotate` (a draft
 * for a person to complete: the mentions the registry already knows and
 * the date expressions, normalised).
 *
 * The text itself stays with the reader (see cli_source.c); what is stored
 * is what evidence cites: sentence numbers and byte spans of those bytes.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/date.h"
#include "common/pbjson.h"
#include "common/sentences.h"
#include "common/timex.h"

#define ING_MAX_SENTENCES 100000
#define ING_MAX_DATES     20000

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
static int ing_document(cli_ctx *ctx, const cli_source *s, Annals__V1__Document **out)
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
		rc = ing_document(ctx, &src, &doc);
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

static size_t ing_space(const char *p, const char *end)
{
	unsigned char c = (unsigned char)*p;
	if (p < end && (c == ' ' || (c >= '\t' && c <= '\r')))
		return 1;
	if (p + 1 < end && c == 0xc2 && (unsigned char)p[1] == 0xa0)
		return 2;
	return 0;
}

/* Does the text at p hold the words w, a run of spaces in w matching any
 * run of spaces (line breaks, U+00A0) in the text? The end of the match, or NULL. */
static const char *ing_match(const char *p, const char *end, const char *w)
{
	while (*w) {
		if (*w == ' ' || *w == '\t' || *w == '\n') {
			size_t n = ing_space(p, end);
			if (n == 0)
				return NULL;
			while ((n = ing_space(p, end)) > 0)
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

/* ---- annotate: date expressions ---------------------------------------------- */

typedef struct ing_pub {
	const char *doc;
	const Annals__V1__Date *date;
} ing_pub;

static const Annals__V1__Date *ing_pub_date(void *arg, const char *anchor)
{
	const ing_pub *p = arg;
	return p->date && strcmp(anchor, p->doc) == 0 ? p->date : NULL;
}

static const char *const ing_kind_names[] = {"", "absolute", "relative_to_publication", "following"};

static json_t *ing_dates(cli_ctx *ctx, const cli_source *s, const Annals__V1__Document *doc,
                         const sent_span *sp, size_t nsent)
{
	size_t n = tx_find(s->text, s->len, NULL, 0);
	if (n > ING_MAX_DATES)
		n = ING_MAX_DATES;
	tx_expr *x = ar_alloc(&ctx->ar, (n ? n : 1) * sizeof(*x));
	tx_find(s->text, s->len, x, n);
	ing_pub pub = {doc->id, doc->published};
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		Annals__V1__Date d = x[i].date;
		if (x[i].kind == TX_DOC_RELATIVE)
			d.anchor = doc->id;
		date_resolve(&d, ing_pub_date, &pub);
		char value[16];
		json_t *j =
		    json_pack("{s:s#, s:i, s:i, s:i, s:s, s:o}", "text", s->text + x[i].start,
		              (int)(x[i].end - x[i].start), "sentence", (int)sent_at(sp, nsent, x[i].start),
		              "span_start", (int)x[i].start, "span_end", (int)x[i].end, "kind",
		              ing_kind_names[x[i].kind], "date", pbjson_from_message(&d.base, 0));
		if (x[i].signal[0])
			json_object_set_new(j, "signal", json_string(x[i].signal));
		if (tx_value(&d, value, sizeof(value))[0])
			json_object_set_new(j, "value", json_string(value));
		if (x[i].kind == TX_FOLLOWING && x[i].follows >= 0) {
			const tx_expr *f = &x[x[i].follows];
			json_object_set_new(j, "counted_from",
			                    json_pack("{s:s#, s:i, s:i}", "text", s->text + f->start,
			                              (int)(f->end - f->start), "span_start", (int)f->start,
			                              "span_end", (int)f->end));
		}
		json_array_append_new(arr, j);
	}
	return arr;
}

/* ---- annotate: mentions -------------------------------------------------------- */

typedef struct ing_tok {
	uint32_t start, end; /* the word, without a possessive 's or a final full stop */
	bool cap;            /* starts with a capital (or a letter outside ASCII) */
	bool joiner;         /* "of", "the", "and", "for", "de": inside a name only */
	bool stop;           /* punctuation after it ends a name */
} ing_tok;

static bool ing_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '\'' || c == '.' || c >= 0x80;
}

/* The words of [a, b), in the arena; *n their count. */
static ing_tok *ing_tokens(cli_ctx *ctx, const cli_source *s, uint32_t a, uint32_t b, size_t *n)
{
	static const char *const joiners[] = {"of", "the", "and", "for", "de", "du", "al", "on"};
	ing_tok *t = ar_alloc(&ctx->ar, ((b - a) / 2 + 2) * sizeof(*t));
	size_t k = 0;
	const unsigned char *x = (const unsigned char *)s->text;
	for (uint32_t i = a; i < b;) {
		/* U+00A0 and the typographic quotes are not word bytes */
		bool nb = i + 1 < b && x[i] == 0xc2 && x[i + 1] == 0xa0;
		bool quote =
		    i + 2 < b && x[i] == 0xe2 && x[i + 1] == 0x80 && (x[i + 2] == 0x9c || x[i + 2] == 0x9d);
		if (!ing_word_byte(x[i]) || nb || quote) {
			if (k > 0 && x[i] != ' ' && !nb)
				t[k - 1].stop = true;
			i += nb ? 2 : quote ? 3 : 1;
			continue;
		}
		uint32_t e = i;
		while (e < b && ing_word_byte(x[e]) && !(e + 1 < b && x[e] == 0xc2 && x[e + 1] == 0xa0) &&
		       !(e + 2 < b && x[e] == 0xe2 && x[e + 1] == 0x80 &&
		         (x[e + 2] == 0x9c || x[e + 2] == 0x9d)))
			e++;
		uint32_t we = e;
		if (we - i > 3 && memcmp(x + we - 4, "\xe2\x80\x99s", 4) == 0) /* Tajikistan’s */
			we -= 4;
		else if (we - i > 2 && x[we - 2] == '\'' && x[we - 1] == 's')
			we -= 2;
		bool dot = false;
		while (we > i && (x[we - 1] == '.' || x[we - 1] == '-' || x[we - 1] == '\'')) {
			dot = dot || x[we - 1] == '.';
			we--;
		}
		if (we > i) {
			ing_tok *w = &t[k++];
			*w = (ing_tok){
			    .start = i, .end = we, .cap = (x[i] >= 'A' && x[i] <= 'Z') || x[i] >= 0xc3};
			for (size_t j = 0; j < sizeof(joiners) / sizeof(joiners[0]); j++)
				if (strlen(joiners[j]) == we - i && memcmp(x + i, joiners[j], we - i) == 0)
					w->joiner = true;
			w->stop = dot && e == we + 1;
		}
		i = e;
	}
	*n = k;
	return t;
}

/* Resolve on one phrase; the reply when some entity has that name. */
static Annals__V1__ResolveReply *ing_resolve(cli_ctx *ctx, const char *name, const Annals__V1__Date *at)
{
	Annals__V1__ResolveRequest req = ANNALS__V1__RESOLVE_REQUEST__INIT;
	req.name = (char *)name;
	req.at = (Annals__V1__Date *)at;
	Annals__V1__ResolveReply *r = NULL;
	annals_error err;
	if (cli_call_quiet(ctx, "Resolve", &req.base, &r, 0, &err) != 0)
		return NULL;
	if (r->n_candidates == 0) {
		annals_free(r);
		return NULL;
	}
	return r;
}

static json_t *ing_mention(cli_ctx *ctx, const cli_source *s, uint32_t a, uint32_t b, uint32_t sentence,
                           const Annals__V1__ResolveReply *r, bool dated)
{
	json_t *cands = json_array();
	size_t live = 0;
	for (size_t i = 0; i < r->n_candidates; i++) {
		const Annals__V1__Candidate *c = r->candidates[i];
		if (dated && c->valid_at == ANNALS__V1__TRUTH__TRUTH_FALSE)
			continue; /* a name not in use on the publication date */
		live++;
		json_t *j = pbjson_from_message(&c->base, 0);
		json_array_append_new(cands, j);
	}
	(void)ctx;
	return json_pack("{s:s#, s:i, s:i, s:i, s:b, s:o}", "text", s->text + a, (int)(b - a), "sentence",
	                 (int)sentence, "span_start", (int)a, "span_end", (int)b, "ambiguous", live > 1,
	                 "candidates", cands);
}

/* Names the registry knows, sentence by sentence: runs of capitalised
 * words (with "of", "the"... inside), longest first, each asked of Resolve
 * at the publication date. */
static json_t *ing_mentions(cli_ctx *ctx, const cli_source *s, const Annals__V1__Document *doc,
                            const sent_span *sp, size_t nsent)
{
	json_t *arr = json_array();
	for (size_t si = 0; si < nsent; si++) {
		size_t n;
		ing_tok *t = ing_tokens(ctx, s, sp[si].start, sp[si].end, &n);
		for (size_t i = 0; i < n;) {
			if (!t[i].cap) {
				i++;
				continue;
			}
			size_t run = i + 1; /* the phrase: [i, run) */
			while (run < n && run - i < 8 && !t[run - 1].stop && (t[run].cap || t[run].joiner))
				run++;
			while (run > i + 1 && !t[run - 1].cap)
				run--;
			bool found = false;
			for (size_t e = run; e > i && !found; e--) {
				if (!t[e - 1].cap)
					continue;
				char *name = ar_printf(&ctx->ar, "%.*s", (int)(t[e - 1].end - t[i].start),
				                       s->text + t[i].start);
				for (char *p = name; *p; p++)
					if (*p == '\n' || *p == '\t')
						*p = ' ';
				Annals__V1__ResolveReply *r = ing_resolve(ctx, name, doc->published);
				if (r == NULL)
					continue;
				json_array_append_new(arr, ing_mention(ctx, s, t[i].start, t[e - 1].end,
				                                       (uint32_t)si + 1, r,
				                                       doc->published != NULL));
				annals_free(r);
				i = e;
				found = true;
			}
			if (!found)
				i++;
		}
	}
	return arr;
}

/* ---- annotate ------------------------------------------------------------------- */

static void ing_print(const json_t *out)
{
	const json_t *doc = json_object_get(out, "document");
	printf("document %s: %zu sentences, %lld bytes, sha256 %s\n",
	       json_string_value(json_object_get(doc, "id")),
	       json_array_size(json_object_get(doc, "sentences")),
	       json_integer_value(json_object_get(doc, "length")),
	       json_string_value(json_object_get(doc, "sha256")));
	const json_t *ms = json_object_get(out, "mentions"), *ds = json_object_get(out, "dates");
	printf("mentions (%zu):\n", json_array_size(ms));
	size_t i;
	const json_t *m;
	for (i = 0; i < json_array_size(ms) && (m = json_array_get(ms, i)) != NULL; i++) {
		const json_t *c = json_object_get(m, "candidates");
		printf("  s%-3lld [%lld,%lld)  %-32s ", json_integer_value(json_object_get(m, "sentence")),
		       json_integer_value(json_object_get(m, "span_start")),
		       json_integer_value(json_object_get(m, "span_end")),
		       json_string_value(json_object_get(m, "text")));
		if (json_array_size(c) == 0)
			printf("(no name of that text is in use at the publication date)");
		if (json_is_true(json_object_get(m, "ambiguous")))
			printf("ambiguous: ");
		size_t k;
		const json_t *x;
		for (k = 0; k < json_array_size(c) && (x = json_array_get(c, k)) != NULL; k++)
			printf("%s%s", k ? ", " : "", json_string_value(json_object_get(x, "entity")));
		putchar('\n');
	}
	printf("dates (%zu):\n", json_array_size(ds));
	for (i = 0; i < json_array_size(ds) && (m = json_array_get(ds, i)) != NULL; i++) {
		const char *v = json_string_value(json_object_get(m, "value"));
		const json_t *d = json_object_get(m, "date");
		const char *prec = json_string_value(json_object_get(d, "precision"));
		const char *unit = prec && strncmp(prec, "PRECISION_", 10) == 0 ? prec + 10 : "?";
		printf("  s%-3lld [%lld,%lld)  %-22s %-24s %s (%s)\n",
		       json_integer_value(json_object_get(m, "sentence")),
		       json_integer_value(json_object_get(m, "span_start")),
		       json_integer_value(json_object_get(m, "span_end")),
		       json_string_value(json_object_get(m, "text")),
		       json_string_value(json_object_get(m, "kind")), v ? v : "(publication date unknown)",
		       unit);
	}
}

static int cmd_annotate(cli_ctx *ctx)
{
	cli_source src;
	int rc = cli_source_load(ctx, &src, cli_pos(ctx, 0));
	Annals__V1__Document *doc = NULL;
	if (rc == 0)
		rc = ing_document(ctx, &src, &doc);
	if (rc != 0) {
		cli_source_free(&src);
		return rc;
	}
	if (doc->published)
		date_resolve(doc->published, NULL, NULL);
	sent_span *sp = ar_alloc(&ctx->ar, (doc->n_sentences ? doc->n_sentences : 1) * sizeof(*sp));
	for (size_t i = 0; i < doc->n_sentences; i++)
		sp[i] = (sent_span){doc->sentences[i]->start, doc->sentences[i]->end};
	json_t *out = json_object();
	json_object_set_new(out, "document", pbjson_from_message(&doc->base, 0));
	json_object_set_new(out, "mentions", ing_mentions(ctx, &src, doc, sp, doc->n_sentences));
	json_object_set_new(out, "dates", ing_dates(ctx, &src, doc, sp, doc->n_sentences));
	/* what `annals import` takes, for the person to complete */
	json_object_set_new(out, "draft",
	                    json_pack("{s:[O], s:[], s:[], s:[]}", "documents",
	                              json_object_get(out, "document"), "entities", "relations", "events"));
	if (ctx->structured)
		rc = cli_print_value(ctx, out, false);
	else {
		ing_print(out);
		json_decref(out);
	}
	cli_source_free(&src);
	return rc;
}

/* ---- the table ------------------------------------------------------------------- */

static const cli_optspec doc_add_opts[] = {{"id", true},        {"title", true},     {"summary", true},
                                           {"published", true}, {"publisher", true}, {"dry-run", false},
                                           {NULL, false}};
static const cli_optspec cite_opts[] = {{"file", true}, {NULL, false}};
static const cli_optspec annotate_opts[] = {{"id", true}, {"published", true}, {NULL, false}};

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
    {.name = "annotate",
     .synopsis = "FILE [--published DATE] [--id ID] [-o json]",
     .summary = "propose a draft: known entities mentioned in a text and its dates, normalised",
     .details = "  --published DATE resolve dates relative to publication (\"yesterday\", \"this year\")\n"
                "                   and check names were in use then; without it they stay relative\n"
                "  --id ID          the draft document's id (default doc: and 16 hex digits of sha256)\n"
                "Each mention lists the entities whose name it is (several: ambiguous); each date its\n"
                "sentence, bytes, kind (absolute, relative_to_publication, following) and value.\n"
                "-o json adds a draft data set (the document) to complete and `annals import`.\n",
     .opts = annotate_opts,
     .min_pos = 1,
     .max_pos = 1,
     .run = cmd_annotate},
    {.run = NULL},
};

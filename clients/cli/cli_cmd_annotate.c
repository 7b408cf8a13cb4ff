/*
 * cli_cmd_annotate — `annals annotate FILE`: a draft for a person to
 * complete and import. The mentions of names the registry already knows
 * (asked of Resolve at the publication date; several entities for one
 * name: ambiguous, every candidate listed) and the text's date expressions
 * (src/common/timex.c), each with its sentence and byte span; -o json adds
 * a data set holding the document record.
 */
#include <string.h>

#include "cli.h"
#include "common/date.h"
#include "common/pbjson.h"
#include "common/sentences.h"
#include "common/timex.h"

#define ING_MAX_DATES 20000

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
		rc = cli_ingest_document(ctx, &src, &doc);
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

static const cli_optspec annotate_opts[] = {{"id", true}, {"published", true}, {NULL, false}};

const cli_cmd cli_cmds_annotate[] = {
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

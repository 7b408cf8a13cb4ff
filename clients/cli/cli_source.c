/*
 * cli_source_ — a document's text, supplied by the reader.
 *
 * annals stores a document's fingerprint and sentence table, never its
 * text. Commands that need the text (evidence --source, cite, document
 * add, annotate) read it from a file and check its sha256 and length
 * against the document record before trusting any byte span in it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "cli.h"
#include "common/file.h"

#define CLI_SOURCE_MAX (64u << 20)

int cli_source_load(cli_ctx *ctx, cli_source *s, const char *path)
{
	unsigned char digest[32];
	memset(s, 0, sizeof(*s));
	s->path = path;
	s->text = file_read_all(path, CLI_SOURCE_MAX, &s->len);
	if (s->text == NULL) {
		fprintf(stderr, "annals: cannot read the document text %s (a file of at most %u MiB)\n", path,
		        CLI_SOURCE_MAX >> 20);
		return CLI_EXIT_NOINPUT;
	}
	if (mbedtls_sha256_ret((const unsigned char *)s->text, s->len, digest, 0) != 0)
		return cli_fail(ctx, ANNALS_INTERNAL, "sha256 of %s failed", path);
	for (int i = 0; i < 32; i++)
		snprintf(s->sha256 + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

void cli_source_free(cli_source *s)
{
	free(s->text);
	s->text = NULL;
}

int cli_source_check(cli_ctx *ctx, cli_source *s, const char *doc_id, Annals__V1__Document **out)
{
	Annals__V1__GetRequest req = ANNALS__V1__GET_REQUEST__INIT;
	req.id = (char *)doc_id;
	Annals__V1__Document *doc;
	int rc = cli_call(ctx, "GetDocument", &req.base, &doc);
	if (rc != 0)
		return rc;
	bool same = strcasecmp(doc->sha256, s->sha256) == 0 && doc->length == s->len;
	if (!same) {
		rc = cli_fail(
		    ctx, ANNALS_FAILED_PRECONDITION,
		    "%s is not the text of %s: sha256 %s, %zu bytes; the document record has sha256 "
		    "%s, %u bytes (give the document's exact bytes)",
		    s->path, doc_id, s->sha256, s->len, doc->sha256[0] ? doc->sha256 : "(none)", doc->length);
		annals_free(doc);
		return rc;
	}
	s->doc = doc_id;
	if (out)
		*out = doc;
	else
		annals_free(doc);
	return 0;
}

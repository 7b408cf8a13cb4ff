/*
 * cli_input — JSON files (or stdin) into protobuf messages, via pbjson.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/file.h"
#include "common/pbjson.h"

#define INPUT_MAX_BYTES (1u << 30)

int cli_parse_message(cli_ctx *ctx, const char *name, const char *text, size_t len,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
	char why[512] = "";
	*out = pbjson_parse(d, text, len, &ctx->ar, why, sizeof(why));
	if (*out == NULL)
		return cli_fail(ctx, ANNALS_INVALID_ARGUMENT, "%s is not a valid %s: %s", name, d->name, why);
	return 0;
}

int cli_read_json(cli_ctx *ctx, const char *path, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "stdin" : path;
	size_t len = 0;
	errno = 0;
	char *text = file_read_all(is_stdin ? "/dev/stdin" : path, INPUT_MAX_BYTES, &len);
	if (text == NULL) {
		fprintf(stderr, "annals: cannot read %s: %s\n", name,
		        errno ? strerror(errno) : "larger than 1 GiB");
		return CLI_EXIT_NOINPUT;
	}
	int rc = cli_parse_message(ctx, name, text, len, d, out);
	free(text);
	return rc;
}

int cli_read_message(cli_ctx *ctx, const char *path, const ProtobufCMessageDescriptor *d,
                     ProtobufCMessage **out)
{
	int rc = cli_read_json(ctx, path, d, out);
	if (rc == 0)
		cli_strip_server_fields(*out);
	return rc;
}

static bool input_is_record(const ProtobufCMessageDescriptor *d)
{
	return d == &annals__v1__entity__descriptor || d == &annals__v1__event__descriptor ||
	       d == &annals__v1__relation__descriptor || d == &annals__v1__document__descriptor;
}

static void input_strip_date(Annals__V1__Date *d)
{
	d->resolved = false;
	d->earliest = 0;
	d->latest = 0;
	if (d->anchor[0] != '\0') { /* the server fills these from the anchor */
		d->year = 0;
		d->month = 0;
		d->day = 0;
	}
}

/* The message held by field f of m, or (when repeated) its i-th element. */
static ProtobufCMessage *input_sub(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
	char *at = (char *)m + f->offset;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return (*(ProtobufCMessage ***)at)[i];
	return *(ProtobufCMessage **)at;
}

void cli_strip_server_fields(ProtobufCMessage *m)
{
	if (m == NULL)
		return;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (d == &annals__v1__date__descriptor) {
		input_strip_date((Annals__V1__Date *)m);
		return;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (input_is_record(d) && f->type == PROTOBUF_C_TYPE_UINT64 &&
		    strcmp(f->name, "revision") == 0)
			*(uint64_t *)((char *)m + f->offset) = 0;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		/* a oneof member's storage is shared: only the set member is ours */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
			continue;
		size_t n =
		    f->label == PROTOBUF_C_LABEL_REPEATED ? *(size_t *)((char *)m + f->quantifier_offset) : 1;
		for (size_t k = 0; k < n; k++)
			cli_strip_server_fields(input_sub(m, f, k));
	}
}

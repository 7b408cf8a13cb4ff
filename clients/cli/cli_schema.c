/*
 * cli_schema — method names for `call`, and `describe` from the schema the
 * server reports.
 *
 * ServerInfo{descriptors: true} carries a packed FileDescriptorSet of the
 * .proto files the server was built from (with their comments); it is
 * decoded with protobuf's own descriptor.proto, compiled by protoc-c, and
 * printed in .proto syntax as `grpcurl describe` does. So describe shows
 * what that server speaks, even when this binary is older or newer.
 * Top-level messages and enums only: the contract has no nested types.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "common/envelope.h"
#include "google/protobuf/descriptor.pb-c.h"

typedef Google__Protobuf__FileDescriptorProto sc_file;
typedef Google__Protobuf__DescriptorProto sc_msg;
typedef Google__Protobuf__EnumDescriptorProto sc_enum;
typedef Google__Protobuf__FieldDescriptorProto sc_field;

/* FileDescriptorProto field numbers, the steps of a SourceCodeInfo path. */
enum { SC_MESSAGE = 4, SC_ENUM = 5, SC_SERVICE = 6, SC_FIELD = 2, SC_VALUE = 2, SC_METHOD = 2 };

/* ---- method names ------------------------------------------------------------ */

/* "annals.v1.Annals/GetEntity" or "annals.v1.Annals.GetEntity" -> "GetEntity". */
static const char *sc_bare(const char *name)
{
	static const char svc[] = "annals.v1.Annals";
	if (strncasecmp(name, svc, sizeof(svc) - 1) == 0 &&
	    (name[sizeof(svc) - 1] == '/' || name[sizeof(svc) - 1] == '.'))
		return name + sizeof(svc);
	return name[0] == '/' ? name + 1 : name;
}

static bool sc_contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n < 3)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

size_t cli_method_near(const char *word, const char **out, size_t max)
{
	const ProtobufCServiceDescriptor *sd = env_service();
	const char *bare = sc_bare(word);
	size_t n = 0;
	size_t bound = strlen(bare) <= 4 ? 1 : strlen(bare) / 3 + 1;
	for (unsigned i = 0; i < sd->n_methods && n < max; i++) {
		const char *m = sd->methods[i].name;
		if (cli_edit_distance(bare, m) <= bound || sc_contains_nocase(m, bare))
			out[n++] = m;
	}
	return n;
}

int cli_method_lookup(cli_ctx *ctx, const char *name)
{
	const ProtobufCServiceDescriptor *sd = env_service();
	const char *bare = sc_bare(name);
	for (unsigned i = 0; i < sd->n_methods; i++)
		if (strcasecmp(sd->methods[i].name, bare) == 0)
			return (int)i;
	const char *near[6];
	size_t n = cli_method_near(name, near, 6);
	char list[300] = "";
	for (size_t i = 0, len = 0; i < n; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", near[i]);
	if (n > 0)
		cli_usage_error(ctx, "no method '%s'; did you mean %s? (annals describe lists them all)",
		                name, list);
	else
		cli_usage_error(ctx, "no method '%s'; annals describe lists them all", name);
	return -1;
}

/* ---- the schema ------------------------------------------------------------------ */

typedef struct sc_schema {
	Google__Protobuf__FileDescriptorSet *set;
	Annals__V1__ServerInfoReply *info; /* for the methods' kinds */
} sc_schema;

static int sc_fetch(cli_ctx *ctx, sc_schema *s)
{
	Annals__V1__ServerInfoRequest req = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	req.descriptors = true;
	int rc = cli_call(ctx, "ServerInfo", &req.base, &s->info);
	if (rc != 0)
		return rc;
	ProtobufCBinaryData *b = &s->info->file_descriptor_set;
	if (b->len == 0)
		return cli_fail(ctx, ANNALS_UNIMPLEMENTED,
		                "the server at %s reports no descriptors (it predates them): "
		                "`annals info` lists its methods; proto/annals/v1/ has the messages",
		                ctx->server);
	s->set = google__protobuf__file_descriptor_set__unpack(NULL, b->len, b->data);
	if (s->set == NULL)
		return cli_fail(ctx, ANNALS_DATA_LOSS, "the server's FileDescriptorSet does not decode");
	return 0;
}

static void sc_free(sc_schema *s)
{
	if (s->set)
		google__protobuf__file_descriptor_set__free_unpacked(s->set, NULL);
	annals_free(s->info);
}

/* What a name found: a message or an enum of file f, at index i. */
typedef struct sc_found {
	const sc_file *f;
	const sc_msg *msg;
	const sc_enum *en;
	int32_t index;
} sc_found;

/* "Entity", "annals.v1.Entity" or ".annals.v1.Entity", any case. */
static bool sc_name_is(const sc_file *f, const char *name, const char *want)
{
	if (want[0] == '.')
		want++;
	if (strcasecmp(name, want) == 0)
		return true;
	size_t plen = f->package ? strlen(f->package) : 0;
	return plen && strncasecmp(want, f->package, plen) == 0 && want[plen] == '.' &&
	       strcasecmp(want + plen + 1, name) == 0;
}

static bool sc_find_type(const sc_schema *s, const char *want, sc_found *out)
{
	for (size_t i = 0; i < s->set->n_file; i++) {
		const sc_file *f = s->set->file[i];
		for (size_t m = 0; m < f->n_message_type; m++)
			if (sc_name_is(f, f->message_type[m]->name, want)) {
				*out = (sc_found){.f = f, .msg = f->message_type[m], .index = (int32_t)m};
				return true;
			}
		for (size_t e = 0; e < f->n_enum_type; e++)
			if (sc_name_is(f, f->enum_type[e]->name, want)) {
				*out = (sc_found){.f = f, .en = f->enum_type[e], .index = (int32_t)e};
				return true;
			}
	}
	return false;
}

/* The comments protoc kept for the element at path (leading, trailing). */
static const Google__Protobuf__SourceCodeInfo__Location *sc_where(const sc_file *f, const int32_t *path,
                                                                  size_t n)
{
	if (f->source_code_info == NULL)
		return NULL;
	for (size_t i = 0; i < f->source_code_info->n_location; i++) {
		const Google__Protobuf__SourceCodeInfo__Location *l = f->source_code_info->location[i];
		if (l->n_path == n && memcmp(l->path, path, n * sizeof(*path)) == 0)
			return l;
	}
	return NULL;
}

/* Each line of a comment as "// line" at indent. */
static void sc_comment_block(const char *text, int indent)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		printf("%*s//%s%.*s\n", indent, "", text[0] == ' ' || n == 0 ? "" : " ", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static void sc_leading(const sc_file *f, const int32_t *path, size_t n, int indent)
{
	const Google__Protobuf__SourceCodeInfo__Location *l = sc_where(f, path, n);
	if (l)
		sc_comment_block(l->leading_comments, indent);
}

/* A trailing comment on the same line: its first line only. */
static void sc_trailing(const sc_file *f, const int32_t *path, size_t n)
{
	const Google__Protobuf__SourceCodeInfo__Location *l = sc_where(f, path, n);
	const char *t = l ? l->trailing_comments : NULL;
	if (t && *t)
		printf("  //%s%.*s", t[0] == ' ' ? "" : " ", (int)strcspn(t, "\n"), t);
	putchar('\n');
}

/* ".annals.v1.Date" -> "Date" inside annals.v1; other packages keep theirs. */
static const char *sc_short(const sc_file *f, const char *type_name)
{
	const char *t = type_name[0] == '.' ? type_name + 1 : type_name;
	size_t plen = f->package ? strlen(f->package) : 0;
	if (plen && strncmp(t, f->package, plen) == 0 && t[plen] == '.')
		return t + plen + 1;
	return t;
}

static const char *sc_scalar(int type)
{
	static const char *const names[] = {
	    [1] = "double",    [2] = "float",     [3] = "int64",   [4] = "uint64",
	    [5] = "int32",     [6] = "fixed64",   [7] = "fixed32", [8] = "bool",
	    [9] = "string",    [10] = "group",    [12] = "bytes",  [13] = "uint32",
	    [15] = "sfixed32", [16] = "sfixed64", [17] = "sint32", [18] = "sint64",
	};
	return type > 0 && type < (int)(sizeof(names) / sizeof(names[0])) && names[type] ? names[type] : "?";
}

static void sc_print_field(const sc_file *f, const sc_field *fd, int32_t *path, int indent)
{
	bool named = fd->type == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_MESSAGE ||
	             fd->type == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_ENUM;
	sc_leading(f, path, 4, indent);
	printf("%*s%s%s %s = %d;", indent, "",
	       fd->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED ? "repeated "
	                                                                                    : "",
	       named ? sc_short(f, fd->type_name) : sc_scalar((int)fd->type), fd->name, fd->number);
	sc_trailing(f, path, 4);
}

static void sc_print_message(const sc_file *f, const sc_msg *m, int32_t index)
{
	int32_t path[4] = {SC_MESSAGE, index, SC_FIELD, 0};
	sc_leading(f, path, 2, 0);
	printf("message %s {\n", m->name);
	int open_oneof = -1;
	for (size_t i = 0; i < m->n_field; i++) {
		const sc_field *fd = m->field[i];
		int oneof = fd->has_oneof_index && !fd->proto3_optional ? fd->oneof_index : -1;
		if (oneof != open_oneof && open_oneof >= 0)
			printf("  }\n");
		if (oneof >= 0 && oneof != open_oneof && (size_t)oneof < m->n_oneof_decl)
			printf("  oneof %s {\n", m->oneof_decl[oneof]->name);
		open_oneof = oneof;
		path[3] = (int32_t)i;
		sc_print_field(f, fd, path, oneof >= 0 ? 4 : 2);
	}
	if (open_oneof >= 0)
		printf("  }\n");
	printf("}\n");
}

static void sc_print_enum(const sc_file *f, const sc_enum *e, int32_t index)
{
	int32_t path[4] = {SC_ENUM, index, SC_VALUE, 0};
	sc_leading(f, path, 2, 0);
	printf("enum %s {\n", e->name);
	for (size_t i = 0; i < e->n_value; i++) {
		path[3] = (int32_t)i;
		sc_leading(f, path, 4, 2);
		printf("  %s = %d;", e->value[i]->name, e->value[i]->number);
		sc_trailing(f, path, 4);
	}
	printf("}\n");
}

static void sc_print_found(const sc_found *x)
{
	printf("%s.%s is %s:\n", x->f->package, x->msg ? x->msg->name : x->en->name,
	       x->msg ? "a message" : "an enum");
	if (x->msg)
		sc_print_message(x->f, x->msg, x->index);
	else
		sc_print_enum(x->f, x->en, x->index);
}

/* The service and where it is: file and index. */
static const Google__Protobuf__ServiceDescriptorProto *sc_service(const sc_schema *s, const sc_file **file,
                                                                  int32_t *index)
{
	for (size_t i = 0; i < s->set->n_file; i++)
		for (size_t k = 0; k < s->set->file[i]->n_service; k++) {
			*file = s->set->file[i];
			*index = (int32_t)k;
			return s->set->file[i]->service[k];
		}
	return NULL;
}

/* "read, cacheable": the method's kinds from the server's method table. */
static const char *sc_kinds(cli_ctx *ctx, const sc_schema *s, const char *method)
{
	const char *k = "";
	for (size_t i = 0; i < s->info->n_methods; i++) {
		const Annals__V1__MethodInfo *mi = s->info->methods[i];
		if (strcmp(sc_bare(mi->name), method) != 0)
			continue;
		for (size_t j = 0; j < mi->n_kinds; j++)
			k = ar_printf(&ctx->ar, "%s%s%s", k, j ? ", " : "", mi->kinds[j]);
	}
	return k;
}

static void sc_print_rpc(cli_ctx *ctx, const sc_schema *s, const sc_file *f, int32_t svc,
                         const Google__Protobuf__ServiceDescriptorProto *sd, size_t i, bool comments)
{
	const Google__Protobuf__MethodDescriptorProto *m = sd->method[i];
	int32_t path[4] = {SC_SERVICE, svc, SC_METHOD, (int32_t)i};
	if (comments)
		sc_leading(f, path, 4, 2);
	printf("  rpc %s(%s) returns (%s);  // %s\n", m->name, sc_short(f, m->input_type),
	       sc_short(f, m->output_type), sc_kinds(ctx, s, m->name));
}

static int sc_describe_service(cli_ctx *ctx, const sc_schema *s)
{
	const sc_file *f;
	int32_t index;
	const Google__Protobuf__ServiceDescriptorProto *sd = sc_service(s, &f, &index);
	if (sd == NULL)
		return cli_fail(ctx, ANNALS_DATA_LOSS, "the server's descriptors hold no service");
	printf("%s.%s is a service (methods are called as %s.%s/METHOD):\n", f->package, sd->name, f->package,
	       sd->name);
	int32_t path[2] = {SC_SERVICE, index};
	sc_leading(f, path, 2, 0);
	printf("service %s {\n", sd->name);
	for (size_t i = 0; i < sd->n_method; i++)
		sc_print_rpc(ctx, s, f, index, sd, i, false);
	printf("}\n");
	return 0;
}

/* A method: its rpc line, then its request and reply messages. */
static bool sc_describe_method(cli_ctx *ctx, const sc_schema *s, const char *want)
{
	const sc_file *f;
	int32_t index;
	const Google__Protobuf__ServiceDescriptorProto *sd = sc_service(s, &f, &index);
	const char *bare = sc_bare(want);
	for (size_t i = 0; sd && i < sd->n_method; i++) {
		if (strcasecmp(sd->method[i]->name, bare) != 0)
			continue;
		printf("%s.%s/%s is a method:\n", f->package, sd->name, sd->method[i]->name);
		sc_print_rpc(ctx, s, f, index, sd, i, true);
		sc_found req, rep;
		if (sc_find_type(s, sd->method[i]->input_type, &req)) {
			putchar('\n');
			sc_print_found(&req);
		}
		if (strcmp(sd->method[i]->input_type, sd->method[i]->output_type) != 0 &&
		    sc_find_type(s, sd->method[i]->output_type, &rep)) {
			putchar('\n');
			sc_print_found(&rep);
		}
		return true;
	}
	return false;
}

int cli_describe(cli_ctx *ctx, const char *what)
{
	if (ctx->structured)
		return cli_usage_error(ctx, "describe prints .proto text; for the raw descriptors use "
		                            "annals call ServerInfo '{\"descriptors\": true}'");
	sc_schema s = {0};
	int rc = sc_fetch(ctx, &s);
	sc_found x;
	if (rc != 0) {
		/* reported */
	} else if (what == NULL) {
		rc = sc_describe_service(ctx, &s);
	} else if (sc_describe_method(ctx, &s, what)) {
		rc = 0;
	} else if (sc_find_type(&s, what, &x)) {
		sc_print_found(&x);
	} else {
		const char *near[6];
		size_t n = cli_method_near(what, near, 6);
		rc =
		    cli_fail(ctx, ANNALS_NOT_FOUND, "the server's schema has no method or message '%s'%s%s%s",
		             what, n ? " (methods close to it: " : "", n ? near[0] : "", n ? ", ...)" : "");
	}
	sc_free(&s);
	return rc;
}

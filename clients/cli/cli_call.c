/*
 * cli_call — the one path by which commands reach the server, and the one
 * place that turns a failure into words: "annals: <STATUS>: <message>"
 * followed, where the status suggests one, by what to try next.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

/* The client is opened on the first call, so that --help, usage errors
 * and local validation never need a server. */
annals_options cli_client_options(const cli_ctx *ctx)
{
	annals_options o = {
	    .timeout_ms = ctx->timeout_ms,
	    .token = ctx->token,
	    .tls_ca_file = ctx->tls_ca,
	    .tls_cert_file = ctx->tls_cert,
	    .tls_key_file = ctx->tls_key,
	    .tls_server_name = ctx->tls_server_name,
	};
	return o;
}

int cli_client(cli_ctx *ctx, annals_error *err)
{
	if (ctx->client != NULL)
		return ANNALS_OK;
	annals_options o = cli_client_options(ctx);
	return annals_open(&ctx->client, ctx->server, &o, err);
}

int cli_call_quiet(cli_ctx *ctx, const char *method, const ProtobufCMessage *req, void *reply,
                   uint32_t timeout_ms, annals_error *err)
{
	*(ProtobufCMessage **)reply = NULL;
	int rc = cli_client(ctx, err);
	if (rc != ANNALS_OK)
		return rc;
	annals_call_opts opts = {
	    .timeout_ms = timeout_ms ? timeout_ms : ctx->timeout_ms,
	    .request_id = ctx->request_id,
	    .min_revision = ctx->min_revision,
	    .linearizable = ctx->linearizable,
	};
	return annals_call(ctx->client, method, req, (ProtobufCMessage **)reply, &opts, err);
}

int cli_call(cli_ctx *ctx, const char *method, const ProtobufCMessage *req, void *reply)
{
	annals_error err = {0};
	int rc = cli_call_quiet(ctx, method, req, reply, 0, &err);
	return rc == ANNALS_OK ? 0 : cli_report(ctx, rc, err.message);
}

static const char *call_hint(const cli_ctx *ctx, int code, const char *message, char *buf, size_t len)
{
	switch (code) {
	case ANNALS_UNAVAILABLE:
		snprintf(buf, len,
		         "is annalsd running at %s? start it with `make run`, or point --server "
		         "(or ANNALS_SERVER) at it",
		         ctx->server);
		return buf;
	case ANNALS_DEADLINE_EXCEEDED:
		snprintf(buf, len,
		         "the server did not answer in time; a busy server may need a longer "
		         "--timeout MS (now %u)",
		         ctx->timeout_ms);
		return buf;
	case ANNALS_UNAUTHENTICATED:
		return "this server wants a token: pass --token T or set ANNALS_TOKEN";
	case ANNALS_PERMISSION_DENIED:
		return "this token's role may not do that (writes need a writer or admin token)";
	case ANNALS_NOT_FOUND:
		return "`annals entity find NAME` or `annals resolve NAME` shows the ids that exist";
	case ANNALS_FAILED_PRECONDITION:
	case ANNALS_ABORTED:
		if (cli_flag(ctx, "expect-revision"))
			return "the record changed since that revision: get it again, then retry";
		if (strstr(message, "publication date") != NULL)
			return "that document's publication date is not known: ask with --at DATE instead";
		if (strstr(message, " applies to ") != NULL && cli_pos(ctx, 0) != NULL) {
			/* the question does not fit the entity: what does it take part in? */
			snprintf(buf, len, "try: annals relations %s", cli_pos(ctx, 0));
			return buf;
		}
		return NULL;
	case ANNALS_RESOURCE_EXHAUSTED:
		return "the server is overloaded or the message too large: retry later, or split the input";
	case ANNALS_INVALID_ARGUMENT:
		if (strstr(message, "ambiguous") == NULL)
			return NULL;
		if (ctx->cmd && cli_opt_find(ctx->cmd->opts, "type", 4))
			return "give one of the ids listed, or narrow the name with --type";
		return "give one of the ids listed instead of the name";
	default:
		return NULL;
	}
}

static void call_print(int code, const char *message)
{
	fflush(stdout); /* keep what was printed before the error in order */
	fprintf(stderr, "annals: %s: %s\n", annals_status_name(code),
	        message && *message ? message : "(no message)");
}

int cli_report(const cli_ctx *ctx, int code, const char *message)
{
	char buf[400];
	call_print(code, message);
	const char *hint = call_hint(ctx, code, message ? message : "", buf, sizeof(buf));
	if (hint != NULL)
		fprintf(stderr, "hint: %s\n", hint);
	return code;
}

/* Local failures say what to do in their message; the server hints would mislead. */
int cli_fail(const cli_ctx *ctx, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	call_print(code, msg);
	return code;
}

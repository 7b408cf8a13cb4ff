/*
 * cli_globals — the global flags, each with an ANNALS_* variable as its
 * default (a flag always wins over its variable, as kubectl and etcdctl
 * do), checked once before the command runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define GLOBALS_DEFAULT_SERVER     "tcp://127.0.0.1:7700"
#define GLOBALS_DEFAULT_TIMEOUT_MS 5000

static const char *const globals_formats[] = {"table", "wide", "json", "yaml"};
#define GLOBALS_NFORMATS (sizeof(globals_formats) / sizeof(globals_formats[0]))

/* --name, else a non-empty $VAR, else NULL. */
static const char *globals_value(const cli_ctx *ctx, const char *name, const char *var)
{
	const char *v = cli_opt(ctx, name);
	if (v != NULL)
		return v;
	v = getenv(var);
	return v && *v ? v : NULL;
}

static int globals_output(cli_ctx *ctx)
{
	const char *o = cli_opt(ctx, "output");
	ctx->output = cli_flag(ctx, "json") ? CLI_OUT_JSON : CLI_OUT_TABLE;
	if (o != NULL) {
		size_t i = 0;
		while (i < GLOBALS_NFORMATS && strcmp(o, globals_formats[i]) != 0)
			i++;
		if (i == GLOBALS_NFORMATS) {
			const char *near = cli_closest(o, globals_formats, GLOBALS_NFORMATS);
			return cli_usage_error(ctx, "-o: '%s' is not one of table, wide, json, yaml%s%s%s", o,
			                       near ? " (did you mean " : "", near ? near : "",
			                       near ? "?)" : "");
		}
		ctx->output = (cli_output)i;
	}
	ctx->structured = ctx->output == CLI_OUT_JSON || ctx->output == CLI_OUT_YAML;
	ctx->wide = ctx->output == CLI_OUT_WIDE;
	ctx->no_headers = cli_flag(ctx, "no-headers");
	return 0;
}

/* --timeout MS, else ANNALS_TIMEOUT, else 5000; above 0 either way. */
static int globals_timeout(cli_ctx *ctx)
{
	ctx->timeout_ms = GLOBALS_DEFAULT_TIMEOUT_MS;
	if (cli_opt(ctx, "timeout") != NULL) {
		int rc = cli_opt_u32(ctx, "timeout", &ctx->timeout_ms);
		if (rc == 0 && ctx->timeout_ms == 0)
			rc = cli_usage_error(ctx, "--timeout: give a number of milliseconds above 0");
		return rc;
	}
	const char *env = getenv("ANNALS_TIMEOUT");
	if (env == NULL || *env == '\0')
		return 0;
	char *end = NULL;
	unsigned long v = strtoul(env, &end, 10);
	if (env[0] < '0' || env[0] > '9' || *end != '\0' || v == 0 || v > UINT32_MAX)
		return cli_usage_error(ctx,
		                       "ANNALS_TIMEOUT: '%s' is not a number of milliseconds above 0 "
		                       "(unset it, or pass --timeout MS)",
		                       env);
	ctx->timeout_ms = (uint32_t)v;
	return 0;
}

/* A TLS file that cannot be read is named here, with where it came from:
 * the TLS layer would only say "Entry not found". */
static int globals_tls_file(cli_ctx *ctx, const char *name, const char *var, const char *path)
{
	if (path == NULL || access(path, R_OK) == 0)
		return 0;
	bool from_var = cli_opt(ctx, name) == NULL;
	fprintf(stderr, "annals: cannot read %s (given by %s%s): %s\n", path, from_var ? "" : "--",
	        from_var ? var : name, strerror(errno));
	return CLI_EXIT_NOINPUT;
}

int cli_globals(cli_ctx *ctx)
{
	ctx->server = globals_value(ctx, "server", "ANNALS_SERVER");
	if (ctx->server == NULL)
		ctx->server = GLOBALS_DEFAULT_SERVER;
	ctx->token = globals_value(ctx, "token", "ANNALS_TOKEN");
	ctx->tls_ca = globals_value(ctx, "tls-ca", "ANNALS_TLS_CA");
	ctx->tls_cert = globals_value(ctx, "tls-cert", "ANNALS_TLS_CERT");
	ctx->tls_key = globals_value(ctx, "tls-key", "ANNALS_TLS_KEY");
	ctx->tls_server_name = globals_value(ctx, "tls-server-name", "ANNALS_TLS_SERVER_NAME");
	ctx->request_id = cli_opt(ctx, "request-id");
	ctx->linearizable = cli_flag(ctx, "linearizable");
	int rc = globals_output(ctx);
	if (rc == 0)
		rc = cli_opt_u64(ctx, "min-revision", &ctx->min_revision, NULL);
	if (rc == 0)
		rc = globals_timeout(ctx);
	if (rc == 0 && ctx->request_id && ctx->request_id[0] == '\0')
		rc = cli_usage_error(ctx, "--request-id: must not be empty");
	if (rc == 0)
		rc = globals_tls_file(ctx, "tls-ca", "ANNALS_TLS_CA", ctx->tls_ca);
	if (rc == 0)
		rc = globals_tls_file(ctx, "tls-cert", "ANNALS_TLS_CERT", ctx->tls_cert);
	if (rc == 0)
		rc = globals_tls_file(ctx, "tls-key", "ANNALS_TLS_KEY", ctx->tls_key);
	return rc;
}

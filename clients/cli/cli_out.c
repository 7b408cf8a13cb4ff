/*
 * cli_out — what goes to stdout: aligned tables for people, the proto3
 * JSON mapping (through pbjson) for programs, or the same value as YAML.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/pbjson.h"

void cli_table_init(cli_table *t, ar_arena *ar, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ar = ar;
	t->ncols = ncols;
}

/* Room for one more row, growing inside the arena. */
static const char **out_new_row(cli_table *t)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		const char **cells = ar_alloc(t->ar, cap * (size_t)t->ncols * sizeof(*cells));
		if (t->nrows)
			memcpy(cells, t->cells, t->nrows * (size_t)t->ncols * sizeof(*cells));
		t->cells = cells;
		t->cap = cap;
	}
	return t->cells + t->nrows++ * (size_t)t->ncols;
}

/* One row from the variadic cells of cli_table_row or cli_table_header. */
static void out_row_va(cli_table *t, va_list ap)
{
	const char **row = out_new_row(t);
	for (int c = 0; c < t->ncols; c++) {
		const char *s = va_arg(ap, const char *);
		row[c] = s ? s : "";
	}
}

void cli_table_header(cli_table *t, const cli_ctx *ctx, ...)
{
	if (ctx->no_headers || t->nrows != 0)
		return;
	va_list ap;
	va_start(ap, ctx);
	out_row_va(t, ap);
	va_end(ap);
	t->header_rows = 1;
}

void cli_table_header_v(cli_table *t, const cli_ctx *ctx, const char *const *cells)
{
	if (ctx->no_headers || t->nrows != 0)
		return;
	cli_table_row_v(t, cells);
	t->header_rows = 1;
}

size_t cli_table_data_rows(const cli_table *t)
{
	return t->nrows - t->header_rows;
}

void cli_table_row(cli_table *t, ...)
{
	va_list ap;
	va_start(ap, t);
	out_row_va(t, ap);
	va_end(ap);
}

void cli_table_row_v(cli_table *t, const char *const *cells)
{
	const char **row = out_new_row(t);
	for (int c = 0; c < t->ncols; c++)
		row[c] = cells[c] ? cells[c] : "";
}

/* Code points, not bytes: names such as "Tajik–Afghan border" hold
 * multi-byte characters that take one column each. */
size_t cli_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		w += (*p & 0xC0) != 0x80;
	return w;
}

void cli_table_print(const cli_table *t, FILE *f, const char *indent)
{
	size_t width[32] = {0};
	int ncols = t->ncols < 32 ? t->ncols : 32;
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < ncols; c++) {
			size_t w = cli_width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			width[c] = w > width[c] ? w : width[c];
		}
	for (size_t r = 0; r < t->nrows; r++) {
		const char **row = t->cells + r * (size_t)t->ncols;
		int last = ncols - 1;
		while (last > 0 && row[last][0] == '\0') /* no trailing blanks */
			last--;
		fputs(indent ? indent : "", f);
		bool first = true;
		for (int c = 0; c <= last; c++) {
			if (width[c] == 0) /* a column empty in every row takes no room */
				continue;
			if (!first)
				fputs("  ", f);
			fputs(row[c], f);
			if (c < last)
				fprintf(f, "%*s", (int)(width[c] - cli_width(row[c])), "");
			first = false;
		}
		fputc('\n', f);
	}
}

int cli_print_value(const cli_ctx *ctx, json_t *v, bool line)
{
	if (v == NULL) {
		fprintf(stderr, "annals: RESOURCE_EXHAUSTED: out of memory writing the output\n");
		return ANNALS_RESOURCE_EXHAUSTED;
	}
	if (ctx->output == CLI_OUT_YAML) {
		if (line)
			fputs("---\n", stdout);
		cli_yaml_write(stdout, v);
		json_decref(v);
		return 0;
	}
	char *text = json_dumps(v, line ? JSON_COMPACT : JSON_INDENT(2));
	json_decref(v);
	if (text == NULL) {
		fprintf(stderr, "annals: RESOURCE_EXHAUSTED: out of memory writing JSON\n");
		return ANNALS_RESOURCE_EXHAUSTED;
	}
	fputs(text, stdout);
	fputc('\n', stdout);
	free(text);
	return 0;
}

int cli_print_msg(const cli_ctx *ctx, const ProtobufCMessage *m)
{
	return cli_print_value(ctx, pbjson_from_message(m, 0), false);
}

int cli_print_msg_line(const cli_ctx *ctx, const ProtobufCMessage *m)
{
	return cli_print_value(ctx, pbjson_from_message(m, 0), true);
}

bool cli_stderr_is_tty(void)
{
	return isatty(STDERR_FILENO) == 1;
}

/* A full disk or a closed pipe shows up only at flush time; a script must
 * not take a truncated export for a good one. */
int cli_finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE) /* `annals ... | head`: the reader left, not our failure */
			return rc;
		fprintf(stderr, "annals: cannot write the output: %s\n", strerror(errno));
		return rc ? rc : CLI_EXIT_IOERR;
	}
	return rc;
}

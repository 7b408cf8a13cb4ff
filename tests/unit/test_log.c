/* Unit tests of src/common/log.c: every line is valid JSON (parsed by
 * jansson) or valid logfmt whatever the arguments hold, with one key per
 * field, numbers as numbers, and lines that stay within PIPE_BUF when the
 * values are long. stderr is redirected into a file to read the lines. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "../lib/check.h"

/* The lines log_msg wrote while fn ran, NUL-terminated (free it). */
static char *captured(void (*fn)(void))
{
	char path[] = "/tmp/annals-test-log.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	int saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	off_t n = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)n + 1);
	if (text != NULL && pread(fd, text, (size_t)n, 0) != n)
		text[0] = '\0';
	close(fd);
	unlink(path);
	return text;
}

/* The one JSON line of text, parsed; NULL (a failed check) when text is
 * not exactly one valid JSON object and a newline. */
static json_t *one_object(const char *text)
{
	CHECK(text != NULL);
	if (text == NULL)
		return NULL;
	size_t n = strlen(text);
	CHECK(n > 0 && text[n - 1] == '\n' && strchr(text, '\n') == text + n - 1);
	CHECK(n <= 4096);
	json_error_t err;
	json_t *o = json_loadb(text, n, 0, &err);
	if (o == NULL)
		fprintf(stderr, "  not JSON (%s): %.300s\n", err.text, text);
	CHECK(o != NULL && json_is_object(o));
	return o;
}

static void log_types(void)
{
	log_msg(LOG_INFO, "typed", "a=%d b=%zu c=%llu d=%" PRIu64 " e=%.2f f=%s g=\"%d\" h=%d%% i=%5d", -3,
	        (size_t)7, 1ULL << 40, (uint64_t)1 << 50, 2.5, "5", 9, 50, 42);
}

static void test_json_numbers_are_numbers(void)
{
	log_init(1, LOG_INFO);
	char *text = captured(log_types);
	json_t *o = one_object(text);
	if (o != NULL) {
		CHECK_EQ_STR(json_string_value(json_object_get(o, "event")), "typed");
		CHECK_EQ_STR(json_string_value(json_object_get(o, "level")), "info");
		CHECK(json_integer_value(json_object_get(o, "a")) == -3);
		CHECK(json_integer_value(json_object_get(o, "b")) == 7);
		CHECK(json_integer_value(json_object_get(o, "c")) == 1LL << 40);
		CHECK(json_integer_value(json_object_get(o, "d")) == 1LL << 50);
		CHECK(json_is_real(json_object_get(o, "e")) &&
		      json_real_value(json_object_get(o, "e")) == 2.5);
		/* a %s, a quoted value, literal text or padding: strings */
		CHECK_EQ_STR(json_string_value(json_object_get(o, "f")), "5");
		CHECK_EQ_STR(json_string_value(json_object_get(o, "g")), "9");
		CHECK_EQ_STR(json_string_value(json_object_get(o, "h")), "50%");
		CHECK_EQ_STR(json_string_value(json_object_get(o, "i")), "   42");
		CHECK(json_object_get(o, "msg") == NULL);
	}
	json_decref(o);
	free(text);
}

static const char hostile[] = "say \"hi\"\\ then\nforge ts=1 level=error\x01\x7f done";

static void log_hostile(void)
{
	const char *volatile none = NULL; /* unknown to the compiler's format check */
	log_msg(LOG_WARN, "hostile", "id=%s problem=\"%s: %s\" empty=%s none=%s", hostile, "it said", hostile,
	        "", none);
}

static void test_json_escapes_client_text(void)
{
	log_init(1, LOG_INFO);
	char *text = captured(log_hostile);
	json_t *o = one_object(text);
	if (o != NULL) {
		CHECK_EQ_STR(json_string_value(json_object_get(o, "id")), hostile);
		char want[200];
		snprintf(want, sizeof(want), "it said: %s", hostile);
		CHECK_EQ_STR(json_string_value(json_object_get(o, "problem")), want);
		CHECK_EQ_STR(json_string_value(json_object_get(o, "empty")), "");
		CHECK_EQ_STR(json_string_value(json_object_get(o, "none")), "(null)");
		CHECK_EQ_STR(json_string_value(json_object_get(o, "level")), "warn");
	}
	json_decref(o);
	free(text);
}

static void test_plain_is_logfmt(void)
{
	log_init(0, LOG_INFO);
	char *text = captured(log_hostile);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK(strchr(text, '\n') == text + strlen(text) - 1); /* one line */
	CHECK(strncmp(text, "ts=", 3) == 0);
	CHECK_CONTAINS(text, " level=warn event=hostile id=\"say \\\"hi\\\"\\\\ then\\nforge ts=1 "
	                     "level=error\\x01\\x7f done\" problem=\"it said: say ");
	CHECK_CONTAINS(text, " empty=\"\" none=(null)\n");
	free(text);
}

static void log_not_fields(void)
{
	log_msg(LOG_ERROR, "odd", "%s revision=%d", "proposed=no reason=\"x\"", 4);
	log_msg(LOG_ERROR, "odd", "ok=%d key=\"a\"b%s", 1, "c");
}

/* Format text that is not key=value still makes valid lines, under msg. */
static void test_not_fields_go_under_msg(void)
{
	log_init(1, LOG_INFO);
	char *text = captured(log_not_fields);
	char *second = text ? strchr(text, '\n') : NULL;
	CHECK(second != NULL);
	if (second != NULL) {
		second++;
		char first[4200];
		snprintf(first, sizeof(first), "%.*s", (int)(second - text), text);
		json_t *a = one_object(first), *b = one_object(second);
		CHECK_EQ_STR(json_string_value(json_object_get(a, "msg")),
		             "proposed=no reason=\"x\" revision=4");
		CHECK(json_integer_value(json_object_get(b, "ok")) == 1);
		CHECK_EQ_STR(json_string_value(json_object_get(b, "key")), "a");
		CHECK_EQ_STR(json_string_value(json_object_get(b, "msg")), "bc");
		json_decref(a);
		json_decref(b);
	}
	free(text);
}

static char big[6000];

static void log_big(void)
{
	log_msg(LOG_INFO, "big", "n=%d value=%s after=%d", 1, big, 2);
	log_msg(LOG_INFO, "many", "a=\"%s\" b=\"%s\" c=\"%s\" d=\"%s\" e=\"%s\" f=%d", big, big, big, big,
	        big, 6);
}

/* Long values are cut (whole characters), and the line says so. */
static void test_long_values_are_cut(void)
{
	log_init(1, LOG_INFO);
	for (int pass = 0; pass < 3; pass++) {
		/* control bytes (6 bytes escaped each), 2-byte characters, plain */
		const char *unit = pass == 0 ? "\x01" : pass == 1 ? "\xc3\xa9" : "x";
		size_t u = strlen(unit), n = 0;
		while (n + u < sizeof(big)) {
			memcpy(big + n, unit, u);
			n += u;
		}
		big[n] = '\0';
		char *text = captured(log_big);
		char *second = text ? strchr(text, '\n') : NULL;
		CHECK(second != NULL);
		if (second == NULL) {
			free(text);
			continue;
		}
		second++;
		char first[5000];
		snprintf(first, sizeof(first), "%.*s", (int)(second - text), text);
		json_t *a = one_object(first), *b = one_object(second);
		CHECK(json_integer_value(json_object_get(a, "n")) == 1);
		CHECK(strlen(json_string_value(json_object_get(a, "value"))) >= 100);
		CHECK(json_object_get(b, "a") != NULL);
		CHECK(json_is_true(json_object_get(b, "truncated")));
		json_decref(a);
		json_decref(b);
		free(text);
	}
}

static void log_levels(void)
{
	log_msg(LOG_DEBUG, "hidden", "n=%d", 1);
	log_msg(LOG_INFO, "shown", "n=%d", 2);
}

static void test_levels(void)
{
	log_init(1, LOG_INFO);
	CHECK(!log_enabled(LOG_DEBUG) && log_enabled(LOG_INFO) && log_enabled(LOG_ERROR));
	char *text = captured(log_levels);
	CHECK(text != NULL && strstr(text, "hidden") == NULL && strstr(text, "\"event\":\"shown\"") != NULL);
	free(text);
	log_init(1, LOG_DEBUG);
	CHECK(log_enabled(LOG_DEBUG));
}

int main(void)
{
	RUN(test_json_numbers_are_numbers);
	RUN(test_json_escapes_client_text);
	RUN(test_plain_is_logfmt);
	RUN(test_not_fields_go_under_msg);
	RUN(test_long_values_are_cut);
	RUN(test_levels);
	return CHECK_DONE();
}

/* log_ — see log.h. */
#include "common/log.h"
#include "common/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set once by log_init before threads start; read-only afterwards. */
static int log_json;
static log_level log_min = LOG_INFO;

void log_init(int json, log_level min)
{
	log_json = json;
	log_min = min;
}

static const char *log_level_name(log_level l)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	return names[l];
}

/* Appends s as a JSON string body (without quotes) to buf. */
static size_t log_json_escape(char *buf, size_t cap, size_t at, const char *s)
{
	for (; *s != '\0' && at + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			buf[at++] = '\\';
			buf[at++] = (char)ch;
		} else if (ch < 0x20) {
			at += (size_t)snprintf(buf + at, cap - at, "\\u%04x", ch);
		} else {
			buf[at++] = (char)ch;
		}
	}
	return at;
}

/* Plain lines must stay one line each: a client's text (a method name, an
 * id) could otherwise forge log lines. Control bytes become \n, \xNN. */
static void log_plain_escape(char *s, size_t cap)
{
	char out[2048];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < sizeof(out); p++) {
		if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	size_t keep = o < cap ? o : cap - 1;
	memcpy(s, out, keep);
	s[keep] = '\0';
	utf8_scrub(s); /* the cut may split a character */
}

void log_msg(log_level lvl, const char *event, const char *fmt, ...)
{
	if (lvl < log_min)
		return;
	char fields[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fields, sizeof(fields), fmt, ap);
	va_end(ap);
	utf8_scrub(fields);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof(when) - w, ".%03ldZ", ts.tv_nsec / 1000000);

	char line[2048];
	size_t n;
	if (!log_json) {
		log_plain_escape(fields, sizeof(fields));
		n = (size_t)snprintf(line, sizeof(line), "%s %-5s %s %s\n", when, log_level_name(lvl),
		                     event, fields);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"",
		                     when, log_level_name(lvl));
		n = log_json_escape(line, sizeof(line), n, event);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"msg\":\"");
		n = log_json_escape(line, sizeof(line), n, fields);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}\n");
	}
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	ssize_t rc = write(STDERR_FILENO, line, n);
	(void)rc; /* nothing sensible to do if stderr is gone */
}

/* log_ — see log.h: the format of log_msg is walked field by field. */
#include "common/log.h"
#include "common/utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX  4096 /* PIPE_BUF: one write(2) is one line, even on a pipe */
#define LOG_VALUE_MAX 1024 /* one field's text before escaping; longer is cut */
#define LOG_TAIL      32   /* room kept for the closing: ","truncated":true}\n */

/* Set once by log_init before threads start; read-only afterwards. */
static int log_json;
static log_level log_min = LOG_INFO;

void log_init(int json, log_level min)
{
	log_json = json;
	log_min = min;
}

int log_enabled(log_level lvl)
{
	return lvl >= log_min;
}

static const char *log_level_name(log_level l)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	return names[l];
}

/* ---- the output line ------------------------------------------------------ */

typedef struct log_line {
	char buf[LOG_LINE_MAX];
	size_t len;
	bool json;
	bool cut; /* out of room: no more fields; the line says truncated */
} log_line;

/* Appends n bytes when they fit before the tail's room; else marks the
 * line cut and appends nothing. */
static bool line_put(log_line *l, const char *s, size_t n)
{
	if (l->cut || l->len + n > LOG_LINE_MAX - LOG_TAIL) {
		l->cut = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

/* The escape for byte ch inside a quoted value, or NULL to copy it. JSON
 * and logfmt (Go's strconv quoting) agree on these; other control bytes
 * differ (\u00XX and \xXX). */
static const char *log_escape_of(unsigned char ch)
{
	switch (ch) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

/* Appends v escaped and the closing quote (the opening one is out). A
 * cut keeps whole characters and still closes the quote: the tail's room
 * holds it. */
static void line_quoted_rest(log_line *l, const char *v, size_t n)
{
	for (size_t i = 0; i < n && !l->cut;) {
		unsigned char ch = (unsigned char)v[i];
		const char *esc = log_escape_of(ch);
		char hex[8];
		if (esc == NULL && (ch < 0x20 || ch == 0x7f)) {
			snprintf(hex, sizeof(hex), l->json ? "\\u%04x" : "\\x%02x", ch);
			esc = hex;
		}
		if (esc != NULL) {
			line_put(l, esc, strlen(esc));
			i++;
			continue;
		}
		size_t seq = ch < 0x80 ? 1 : utf8_seq((const unsigned char *)v + i, n - i);
		if (seq == 0)
			seq = 1; /* scrubbed before: cannot happen */
		line_put(l, v + i, seq);
		i += seq;
	}
	/* the closing quote goes into the tail's room, cut or not */
	l->buf[l->len++] = '"';
}

/* logfmt quotes a value only when it must: empty, or holding a space, a
 * quote, '=', a backslash or a control byte. */
static bool log_plain_needs_quotes(const char *v, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch <= ' ' || ch == '"' || ch == '=' || ch == '\\' || ch == 0x7f)
			return true;
	}
	return false;
}

/* One field: ,"key":value (JSON) or " key=value" (logfmt). A number that
 * does not fit is left out whole; a string is cut. */
static void line_field(log_line *l, const char *key, size_t klen, const char *v, size_t n, bool number)
{
	if (l->cut)
		return;
	size_t start = l->len;
	bool ok = l->json ? line_put(l, ",\"", 2) && line_put(l, key, klen) && line_put(l, "\":", 2)
	                  : line_put(l, " ", 1) && line_put(l, key, klen) && line_put(l, "=", 1);
	bool bare = l->json ? number : !log_plain_needs_quotes(v, n);
	if (ok)
		ok = bare ? line_put(l, v, n) : line_put(l, "\"", 1);
	if (!ok) {
		l->len = start; /* nothing of a field that has no room at all */
		return;
	}
	if (!bare)
		line_quoted_rest(l, v, n);
}

/* ---- walking the format --------------------------------------------------- */

typedef struct log_val {
	char s[LOG_VALUE_MAX];
	size_t len;
	int convs;    /* conversions in the value */
	bool literal; /* literal text in the value */
	bool numeric; /* its one conversion was an integer or floating one */
} log_val;

static void val_put(log_val *v, const char *s, size_t n)
{
	size_t room = sizeof(v->s) - 1 - v->len;
	if (n > room)
		n = room;
	memcpy(v->s + v->len, s, n);
	v->len += n;
	v->s[v->len] = '\0';
}

/* JSON's number grammar: what %d or %f printed may still be "nan" or
 * padded with spaces; such a value goes out as a string. */
static bool log_json_number(const char *s)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* Copies a conversion's flags, width and precision (a '*' taken from the
 * arguments) into spec; returns the format past them. */
static const char *log_spec_head(const char *f, va_list *ap, char *spec, size_t cap, size_t *n)
{
	while (*f != '\0' && strchr("-+ #0'", *f) != NULL && *n < cap / 2)
		spec[(*n)++] = *f++;
	for (int part = 0; part < 2; part++) {
		if (part == 1) {
			if (*f != '.')
				break;
			spec[(*n)++] = *f++;
		}
		if (*f == '*') {
			*n += (size_t)snprintf(spec + *n, cap - *n, "%d", va_arg(*ap, int));
			f++;
		}
		while (*f >= '0' && *f <= '9' && *n < cap - 8)
			spec[(*n)++] = *f++;
	}
	return f;
}

enum { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_LD };

static const char *log_spec_length(const char *f, char *spec, size_t *n, int *len)
{
	static const struct {
		const char *text;
		int len;
	} mods[] = {{"hh", LEN_HH}, {"h", LEN_H}, {"ll", LEN_LL}, {"l", LEN_L},
	            {"j", LEN_J},   {"z", LEN_Z}, {"t", LEN_T},   {"L", LEN_LD}};
	*len = LEN_NONE;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		size_t k = strlen(mods[i].text);
		if (strncmp(f, mods[i].text, k) == 0) {
			memcpy(spec + *n, mods[i].text, k);
			*n += k;
			*len = mods[i].len;
			return f + k;
		}
	}
	return f;
}

/* The format is the caller's printf format (checked by the compiler at
 * the call); spec is one conversion of it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int log_format_int(char *out, size_t cap, const char *spec, char conv, int len, va_list *ap)
{
	bool sign = conv == 'd' || conv == 'i';
	switch (len) {
	case LEN_L:
		return sign ? snprintf(out, cap, spec, va_arg(*ap, long))
		            : snprintf(out, cap, spec, va_arg(*ap, unsigned long));
	case LEN_LL:
		return sign ? snprintf(out, cap, spec, va_arg(*ap, long long))
		            : snprintf(out, cap, spec, va_arg(*ap, unsigned long long));
	case LEN_J:
		return sign ? snprintf(out, cap, spec, va_arg(*ap, intmax_t))
		            : snprintf(out, cap, spec, va_arg(*ap, uintmax_t));
	case LEN_Z:
		return sign ? snprintf(out, cap, spec, va_arg(*ap, ssize_t))
		            : snprintf(out, cap, spec, va_arg(*ap, size_t));
	case LEN_T:
		return snprintf(out, cap, spec, va_arg(*ap, ptrdiff_t));
	default: /* char and short arrive promoted to int */
		return sign ? snprintf(out, cap, spec, va_arg(*ap, int))
		            : snprintf(out, cap, spec, va_arg(*ap, unsigned));
	}
}

/* Formats the conversion at f (just past its '%') into v, taking its
 * arguments from ap; returns the format past it, or NULL for one this
 * logger does not know (%n): its arguments' types are unknown. */
static const char *log_conv(const char *f, va_list *ap, log_val *v)
{
	char spec[48] = "%", out[LOG_VALUE_MAX];
	size_t n = 1;
	int len, w = 0;
	f = log_spec_head(f, ap, spec, sizeof(spec), &n);
	f = log_spec_length(f, spec, &n, &len);
	char conv = *f++;
	spec[n++] = conv;
	spec[n] = '\0';
	bool numeric = false;
	if (conv != '\0' && strchr("diuxXo", conv) != NULL) {
		w = log_format_int(out, sizeof(out), spec, conv, len, ap);
		numeric = strchr("diu", conv) != NULL;
	} else if (conv != '\0' && strchr("fFeEgGaA", conv) != NULL) {
		w = len == LEN_LD ? snprintf(out, sizeof(out), spec, va_arg(*ap, long double))
		                  : snprintf(out, sizeof(out), spec, va_arg(*ap, double));
		numeric = true;
	} else if (conv == 's') {
		const char *s = va_arg(*ap, const char *);
		w = snprintf(out, sizeof(out), spec, s != NULL ? s : "(null)");
	} else if (conv == 'c') {
		w = snprintf(out, sizeof(out), spec, va_arg(*ap, int));
	} else if (conv == 'p') {
		w = snprintf(out, sizeof(out), spec, va_arg(*ap, void *));
	} else {
		return NULL;
	}
	if (w > 0)
		val_put(v, out, (size_t)w < sizeof(out) ? (size_t)w : sizeof(out) - 1);
	v->convs++;
	v->numeric = numeric;
	return f;
}

/* Format text that is not a field: all of it from f, formatted whole. */
static void log_rest(log_line *l, const char *f, va_list *ap)
{
	char rest[LOG_VALUE_MAX];
	vsnprintf(rest, sizeof(rest), f, *ap);
	utf8_scrub(rest);
	line_field(l, "msg", 3, rest, strlen(rest), false);
}
#pragma GCC diagnostic pop

static bool log_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* One value from f (just past "key="): a bare run up to a space or a
 * "quoted run" up to the next quote; returns the format past it, or NULL
 * at a conversion log_conv does not know. */
static const char *log_value(const char *f, va_list *ap, log_val *v)
{
	bool quoted = *f == '"';
	if (quoted)
		f++;
	while (*f != '\0' && (quoted ? *f != '"' : *f != ' ')) {
		if (f[0] == '%' && f[1] == '%') {
			val_put(v, "%", 1);
			v->literal = true;
			f += 2;
		} else if (f[0] == '%') {
			f = log_conv(f + 1, ap, v);
			if (f == NULL)
				return NULL;
		} else {
			const char *run = f;
			while (*f != '\0' && *f != '%' && (quoted ? *f != '"' : *f != ' '))
				f++;
			val_put(v, run, (size_t)(f - run));
			v->literal = true;
		}
	}
	if (quoted) {
		v->literal = true; /* quoted: a string, whatever it holds */
		if (*f == '"')
			f++;
	}
	return f;
}

static void log_fields(log_line *l, const char *f, va_list *ap)
{
	while (*f != '\0' && !l->cut) {
		while (*f == ' ')
			f++;
		const char *key = f;
		while (log_key_char(*f))
			f++;
		size_t klen = (size_t)(f - key);
		if (klen == 0 || klen > 64 || *f != '=') {
			if (*key != '\0')
				log_rest(l, key, ap);
			return;
		}
		/* the field's arguments, again, should it end up under msg */
		va_list again;
		va_copy(again, *ap);
		log_val v = {.len = 0};
		const char *next = log_value(f + 1, ap, &v);
		if (next == NULL) {
			log_rest(l, key, &again);
			va_end(again);
			return;
		}
		va_end(again);
		utf8_scrub(v.s); /* a cut may split a character; client text may be anything */
		v.len = strlen(v.s);
		bool number = v.convs == 1 && v.numeric && !v.literal && log_json_number(v.s);
		line_field(l, key, klen, v.s, v.len, number);
		f = next;
		if (*f != '\0' && *f != ' ') { /* e.g. key="a"b: the rest is not fields */
			log_rest(l, f, ap);
			return;
		}
	}
}

/* ---- the line --------------------------------------------------------------- */

static void log_head(log_line *l, log_level lvl, const char *event)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof(when) - w, ".%03ldZ", ts.tv_nsec / 1000000);
	const char *level = log_level_name(lvl);
	if (l->json) {
		line_put(l, "{\"ts\":\"", 7);
		line_put(l, when, strlen(when));
		line_put(l, "\",\"level\":\"", 11);
		line_put(l, level, strlen(level));
		line_put(l, "\"", 1);
	} else {
		line_put(l, "ts=", 3);
		line_put(l, when, strlen(when));
		line_put(l, " level=", 7);
		line_put(l, level, strlen(level));
	}
	char name[128];
	snprintf(name, sizeof(name), "%s", event);
	utf8_scrub(name);
	line_field(l, "event", 5, name, strlen(name), false);
}

void log_msg(log_level lvl, const char *event, const char *fmt, ...)
{
	if (lvl < log_min)
		return;
	log_line l = {.len = 0, .json = log_json != 0};
	log_head(&l, lvl, event);
	va_list ap;
	va_start(ap, fmt);
	log_fields(&l, fmt, &ap);
	va_end(ap);
	/* the tail's room (LOG_TAIL) holds the rest */
	const char *end =
	    l.json ? (l.cut ? ",\"truncated\":true}\n" : "}\n") : (l.cut ? " truncated=true\n" : "\n");
	size_t n = strlen(end);
	memcpy(l.buf + l.len, end, n);
	l.len += n;
	ssize_t rc = write(STDERR_FILENO, l.buf, l.len);
	(void)rc; /* nothing sensible to do if stderr is gone */
}

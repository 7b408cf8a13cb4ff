/*
 * log_ — one line per event on stderr: logfmt (plain) or one JSON object.
 *
 * The format is chosen once at start-up (log_init) before any thread runs;
 * after that the logger is read-only, so it needs no lock: each line is
 * written with a single write(2) of at most PIPE_BUF bytes, which keeps
 * lines from interleaving even on a pipe.
 *
 * Fields: the printf format of log_msg is a list of key=value fields
 * separated by single spaces, e.g.
 *     log_msg(LOG_INFO, "listening", "url=%s contexts=%d", url, n);
 *     log_msg(LOG_ERROR, "tls", "cert=%s problem=\"the key %s does not fit\"", c, k);
 * A value is a bare run of literal text and conversions up to the next
 * space, or a "quoted run" up to the next quote of the format (spaces
 * allowed). The logger walks the *format*, not the formatted text, so a
 * field's boundaries never depend on what its arguments hold: a quote or
 * a newline from a client stays inside its field, escaped for the output
 * (JSON string escapes; logfmt quoting where a value holds a space, a
 * quote, '=' or a control byte). A bare value that is exactly one integer
 * or floating conversion (%d, %zu, %llu, PRIu64, %f, ...) is a JSON number;
 * everything else is a JSON string, so a field keeps one type on every line.
 * Keys ts, level and event are the logger's own. Format text that is not a
 * field goes out whole under "msg" (still valid output; tests/cli/
 * test_logs.sh checks that no format in src/ needs that).
 *
 * Why the format and not a typed field API: the compiler keeps checking
 * every argument against its conversion (format attribute), the ~70 call
 * sites (and those other branches add) keep their shape, and the fields
 * are exactly as reliable as a typed API would make them.
 */
#ifndef ANNALS_COMMON_LOG_H
#define ANNALS_COMMON_LOG_H

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* json: one JSON object per line; min: lowest level printed. */
void log_init(int json, log_level min);
/* Whether a line of this level would be written (to skip costly fields). */
int log_enabled(log_level lvl);
void log_msg(log_level lvl, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

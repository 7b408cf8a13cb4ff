/*
 * log_ — one line per event on stderr, plain or JSON.
 *
 * The format is chosen once at start-up (log_init) before any thread runs;
 * after that the logger is read-only, so it needs no lock: each line is
 * written with a single write(2), which keeps lines from interleaving.
 */
#ifndef ANNALS_COMMON_LOG_H
#define ANNALS_COMMON_LOG_H

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* json: one JSON object per line; min: lowest level printed. */
void log_init(int json, log_level min);
/* msg is printf-style; key=value pairs after it go out as fields:
 * log_msg(LOG_INFO, "listening", "url=%s", url). */
void log_msg(log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

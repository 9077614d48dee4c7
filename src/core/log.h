/*
 * log: structured JSON log lines on stderr, one object per line, so that
 * journald, a SIEM or `jq` can read them.  Thread-safe: each line is written
 * with a single write(2).
 *
 *   {"ts":"2026-11-23T11:02:03.123Z","level":"info","event":"start","msg":"..."}
 *
 * Secrets and query contents never go to the log from here; callers pass only
 * what may be logged.
 */
#ifndef FOCAL_LOG_H
#define FOCAL_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
/* Where lines go (default 2 = stderr). Tests point it at a file. */
void log_set_fd(int fd);

/* A line with a formatted "msg". */
void log_emit(enum log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A line with "msg" and the members of fields (which is consumed; may be NULL). */
void log_emitj(enum log_level lvl, const char *event, const char *msg, json_t *fields);

#define log_debug(ev, ...) log_emit(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_emit(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_emit(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_emit(LOG_ERROR, ev, __VA_ARGS__)

#endif

/*
 * log: JSON lines (see log.h).  Built on jansson so that every value is
 * escaped correctly whatever bytes a caller passes.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_min = LOG_INFO;
static atomic_int log_fd = 2;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level min) { atomic_store(&log_min, (int)min); }
void log_set_fd(int fd) { atomic_store(&log_fd, fd); }

static void log_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000L);
}

void log_emitj(enum log_level lvl, const char *event, const char *msg, json_t *fields)
{
	char ts[40];
	json_t *line;
	char *text;
	size_t len;

	if ((int)lvl < atomic_load(&log_min)) {
		json_decref(fields);
		return;
	}
	log_timestamp(ts, sizeof(ts));
	line = json_object();
	if (line == NULL) {
		json_decref(fields);
		return;
	}
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "level", json_string(level_names[lvl]));
	json_object_set_new(line, "event", json_string(event));
	if (msg != NULL)
		json_object_set_new(line, "msg", json_string(msg));
	if (fields != NULL) {
		json_object_update(line, fields);
		json_decref(fields);
	}
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (text == NULL)
		return;
	len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
	if (write(atomic_load(&log_fd), text, len + 1) < 0) {
		/* nowhere left to report it */
	}
	free(text);
}

void log_emit(enum log_level lvl, const char *event, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if ((int)lvl < atomic_load(&log_min))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emitj(lvl, event, msg, NULL);
}

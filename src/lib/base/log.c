/* log.c -- JSON-lines logging on stderr; see log.h.
 * Globals: the program name and level (set before threads start, read-only
 * after) and a thread-local request id. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"

#define LOG_LINE_CAP (16 * 1024)

static const char *program = "conductor";
static enum log_level min_level = LOG_INFO;
static _Thread_local char request_id[129];

static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error"};

void log_set_program(const char *p)
{
	program = p;
}

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, LEVEL_NAMES[i]) == 0)
			return i;
	return -1;
}

void log_set_request_id(const char *id)
{
	snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

static void put_string(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_puts(b, "\"");
	buf_json_escape(b, s, strlen(s));
	buf_puts(b, "\"");
}

void log_write(enum log_level level, const char *msg, ...)
{
	struct buf b;
	struct timespec ts;
	struct tm tm;
	char stamp[40];
	const char *key;
	va_list ap;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	buf_init(&b, LOG_LINE_CAP);
	buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"program\":", stamp,
		   ts.tv_nsec / 1000000, LEVEL_NAMES[level]);
	put_string(&b, program);
	buf_puts(&b, ",\"msg\":");
	put_string(&b, msg);
	if (request_id[0] != '\0') {
		buf_puts(&b, ",\"request_id\":");
		put_string(&b, request_id);
	}
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		buf_puts(&b, ",");
		put_string(&b, key);
		buf_puts(&b, ":");
		put_string(&b, value);
	}
	va_end(ap);
	if (buf_overflowed(&b)) {
		buf_reset(&b);
		buf_init(&b, LOG_LINE_CAP);
		buf_printf(&b, "{\"level\":\"%s\",\"msg\":\"log line too long\"", LEVEL_NAMES[level]);
	}
	buf_puts(&b, "}\n");
	if (write(STDERR_FILENO, buf_str(&b), b.len) < 0) {
		/* nowhere left to report it */
	}
	buf_reset(&b);
}

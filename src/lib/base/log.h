/* log.h -- one JSON object per line on stderr.
 *
 * A line carries ts, level, program, msg, the calling thread's request id (when
 * one is set) and the key/value pairs given, all as JSON strings:
 *   log_info("token revoked", "name", name);
 * Keys are facts in lower_snake; values must never be secrets (tokens, API
 * keys, passwords). Each line is written with one write(2), so lines from
 * different threads never interleave.
 */
#ifndef CD_LOG_H
#define CD_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set once at start, before threads (configuration is read-only after). */
void log_set_program(const char *program);
void log_set_level(enum log_level level);
/* Parses "debug"/"info"/"warn"/"error"; -1 when unknown. */
int log_level_parse(const char *s);

/* The request id stamped on this thread's lines; NULL clears it. Copied. */
void log_set_request_id(const char *request_id);

/* Writes one line: msg, then pairs of (const char *key, const char *value)
 * ending with NULL. A NULL value is written as JSON null. */
void log_write(enum log_level level, const char *msg, ...);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__, (const char *)0)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__, (const char *)0)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__, (const char *)0)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__, (const char *)0)

#endif

/* err.h -- the one error-reporting convention of conductor.
 *
 * Every fallible function returns enum cd_err (CD_OK == 0) and, when the
 * caller wants the detail, fills an optional trailing struct cd_error.
 * The HTTP edge maps each value to a status and a snake_case code through one
 * table (fcgi/response.c); nothing else decides a status.
 *
 * Thread-safety: everything here is reentrant.
 */
#ifndef CD_ERR_H
#define CD_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum cd_err {
	CD_OK = 0,
	CD_INVALID,		   /* 400 invalid_request: a field is wrong */
	CD_UNAUTHORIZED,	   /* 401: no or bad credentials */
	CD_FORBIDDEN,		   /* 403: the role may not do this */
	CD_NOT_FOUND,		   /* 404: <thing>_not_found */
	CD_METHOD_NOT_ALLOWED,	   /* 405 */
	CD_CONFLICT,		   /* 409 conflict */
	CD_STALE_EPOCH,		   /* 409 stale_epoch */
	CD_IDEMPOTENCY_CONFLICT,   /* 409 idempotency_conflict */
	CD_INVALID_TRANSITION,	   /* 409 invalid_transition */
	CD_PRECONDITION_FAILED,	   /* 412 precondition_failed (If-Match) */
	CD_TOO_LARGE,		   /* 413 body_too_large */
	CD_UNSUPPORTED_MEDIA,	   /* 415 unsupported_media_type */
	CD_DEPENDENCY_CYCLE,	   /* 422 dependency_cycle */
	CD_AUTH_NOT_CONFIGURED,	   /* 503 auth_not_configured */
	CD_UNAVAILABLE,		   /* 503 database_unavailable (or the named dependency) */
	CD_UPSTREAM,		   /* 502 provider_error: a cloud provider failed or refused */
	CD_SCHEMA,		   /* start-up: the schema is not at the expected version */
	CD_CONFIG,		   /* start-up: a configuration key is wrong */
	CD_INTERNAL,		   /* 500: a bug of ours, never something a client sent */
	CD_ERR_COUNT
};

/* The detail of a failure. All strings are copied in; no ownership games. */
struct cd_error {
	enum cd_err err;
	char code[48];	   /* overrides the table's code, e.g. "job_not_found" */
	char field[96];	   /* the offending field or key, "" when none */
	char message[256]; /* a sentence a person can act on */
	char sqlstate[6];  /* SQLSTATE when the database said no, "" otherwise */
};

/* Fills e (when not NULL) and returns err, so a caller can write
 *   return cd_fail(e, CD_INVALID, "limit", "limit must be 1 to 500.");
 * field may be NULL. The message is a printf format. */
enum cd_err cd_fail(struct cd_error *e, enum cd_err err, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* cd_fail with a va_list. Both cut the field and the message at their
 * arrays' ends on a character boundary (never half a UTF-8 character). */
enum cd_err cd_vfail(struct cd_error *e, enum cd_err err, const char *field, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));

/* Sets e->code (when e is not NULL); returns e->err for chaining. */
enum cd_err cd_fail_code(struct cd_error *e, const char *code);

/* Puts prefix before e->message (truncating at the end, on a character
 * boundary). NULL-safe. */
void cd_error_prefix(struct cd_error *e, const char *prefix);

/* Clears e to CD_OK with empty strings. NULL-safe. */
void cd_error_reset(struct cd_error *e);

/* The stable lower-case name of err ("invalid", "not_found", ...), for logs. */
const char *cd_err_name(enum cd_err err);

#endif

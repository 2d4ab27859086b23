/* err.c -- filling struct cd_error and naming enum cd_err values.
 * See err.h for the convention. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

static const char *const ERR_NAMES[CD_ERR_COUNT] = {
	[CD_OK] = "ok",
	[CD_INVALID] = "invalid",
	[CD_UNAUTHORIZED] = "unauthorized",
	[CD_FORBIDDEN] = "forbidden",
	[CD_NOT_FOUND] = "not_found",
	[CD_METHOD_NOT_ALLOWED] = "method_not_allowed",
	[CD_CONFLICT] = "conflict",
	[CD_STALE_EPOCH] = "stale_epoch",
	[CD_IDEMPOTENCY_CONFLICT] = "idempotency_conflict",
	[CD_INVALID_TRANSITION] = "invalid_transition",
	[CD_PRECONDITION_FAILED] = "precondition_failed",
	[CD_TOO_LARGE] = "too_large",
	[CD_UNSUPPORTED_MEDIA] = "unsupported_media",
	[CD_DEPENDENCY_CYCLE] = "dependency_cycle",
	[CD_AUTH_NOT_CONFIGURED] = "auth_not_configured",
	[CD_UNAVAILABLE] = "unavailable",
	[CD_UPSTREAM] = "upstream",
	[CD_SCHEMA] = "schema",
	[CD_CONFIG] = "config",
	[CD_INTERNAL] = "internal",
};

/* Ends s (a NUL-terminated string that filled its array, perhaps cut by
 * snprintf) on a character boundary, never inside a UTF-8 character. */
static void cut_whole(char *s)
{
	s[buf_utf8_cut(s, strlen(s))] = '\0';
}

enum cd_err cd_vfail(struct cd_error *e, enum cd_err err, const char *field, const char *fmt,
		     va_list ap)
{
	if (e == NULL)
		return err;
	e->err = err;
	e->code[0] = '\0';
	e->sqlstate[0] = '\0';
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	cut_whole(e->field);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	cut_whole(e->message);
	return err;
}

enum cd_err cd_fail(struct cd_error *e, enum cd_err err, const char *field,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = cd_vfail(e, err, field, fmt, ap);
	va_end(ap);
	return err;
}

enum cd_err cd_fail_code(struct cd_error *e, const char *code)
{
	if (e == NULL)
		return CD_INTERNAL;
	snprintf(e->code, sizeof(e->code), "%s", code);
	return e->err;
}

void cd_error_reset(struct cd_error *e)
{
	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

const char *cd_err_name(enum cd_err err)
{
	if ((int)err < 0 || err >= CD_ERR_COUNT)
		return "unknown";
	return ERR_NAMES[err];
}

void cd_error_prefix(struct cd_error *e, const char *prefix)
{
	char tmp[2 * sizeof(e->message)];
	const char *p = prefix;

	if (e == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s%s", p, e->message);
	memcpy(e->message, tmp, sizeof(e->message) - 1);
	e->message[sizeof(e->message) - 1] = '\0';
	cut_whole(e->message);
}

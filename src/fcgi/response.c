/* response.c -- envelopes and the cd_err -> HTTP table; see response.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "fcgi/response.h"

/* THE table: one row per enum cd_err. */
static const struct {
	int status;
	const char *code;
} ERR_HTTP[CD_ERR_COUNT] = {
	[CD_OK] = {200, "ok"},
	[CD_INVALID] = {400, "invalid_request"},
	[CD_UNAUTHORIZED] = {401, "unauthorized"},
	[CD_FORBIDDEN] = {403, "forbidden"},
	[CD_NOT_FOUND] = {404, "not_found"},
	[CD_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
	[CD_CONFLICT] = {409, "conflict"},
	[CD_STALE_EPOCH] = {409, "stale_epoch"},
	[CD_IDEMPOTENCY_CONFLICT] = {409, "idempotency_conflict"},
	[CD_INVALID_TRANSITION] = {409, "invalid_transition"},
	[CD_PRECONDITION_FAILED] = {412, "precondition_failed"},
	[CD_TOO_LARGE] = {413, "body_too_large"},
	[CD_UNSUPPORTED_MEDIA] = {415, "unsupported_media_type"},
	[CD_DEPENDENCY_CYCLE] = {422, "dependency_cycle"},
	[CD_AUTH_NOT_CONFIGURED] = {503, "auth_not_configured"},
	[CD_UNAVAILABLE] = {503, "database_unavailable"},
	[CD_UPSTREAM] = {502, "provider_error"},
	[CD_SCHEMA] = {503, "database_unavailable"},
	[CD_CONFIG] = {500, "internal_error"},
	[CD_INTERNAL] = {500, "internal_error"},
};

int response_status(enum cd_err err)
{
	return (unsigned)err < CD_ERR_COUNT ? ERR_HTTP[err].status : 500;
}

const char *response_code(enum cd_err err)
{
	return (unsigned)err < CD_ERR_COUNT ? ERR_HTTP[err].code : "internal_error";
}

const char *response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void put_json_string(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	buf_json_escape(b, s, strlen(s));
	buf_puts(b, "\"");
}

static void write_ok_text(struct request *req, int status, const char *json)
{
	buf_reset(&req->out);
	req->status = status;
	buf_puts(&req->out, "{\"ok\":true,\"request_id\":");
	put_json_string(&req->out, req->request_id);
	buf_puts(&req->out, ",\"data\":");
	buf_puts(&req->out, json ? json : "null");
	buf_puts(&req->out, "}");
	if (buf_overflowed(&req->out))
		reply_fail(req, CD_INTERNAL, NULL, "response larger than %d bytes", RESPONSE_BODY_MAX);
}

void reply_ok_text(struct request *req, const char *json)
{
	write_ok_text(req, 200, json);
}

void reply_created_text(struct request *req, const char *json)
{
	write_ok_text(req, 201, json);
}

static void write_ok(struct request *req, int status, struct json_object *data)
{
	buf_reset(&req->out);
	req->status = status;
	buf_puts(&req->out, "{\"ok\":true,\"request_id\":");
	put_json_string(&req->out, req->request_id);
	buf_puts(&req->out, ",\"data\":");
	buf_puts(&req->out, data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
								       JSON_C_TO_STRING_NOSLASHESCAPE)
				 : "null");
	buf_puts(&req->out, "}");
	json_object_put(data);
	if (buf_overflowed(&req->out))
		reply_fail(req, CD_INTERNAL, NULL, "response larger than %d bytes", RESPONSE_BODY_MAX);
}

void reply_ok(struct request *req, struct json_object *data)
{
	write_ok(req, 200, data);
}

void reply_created(struct request *req, struct json_object *data)
{
	write_ok(req, 201, data);
}

void reply_error(struct request *req, const struct cd_error *e)
{
	enum cd_err err = (unsigned)e->err < CD_ERR_COUNT && e->err != CD_OK ? e->err : CD_INTERNAL;
	const char *code = e->code[0] ? e->code : response_code(err);
	const char *message = e->message[0] ? e->message : "The request failed.";

	if (response_status(err) >= 500 && err != CD_AUTH_NOT_CONFIGURED) {
		log_error("request failed", "error", cd_err_name(err), "detail", e->message,
			  "sqlstate", e->sqlstate);
		if (err == CD_INTERNAL || err == CD_CONFIG)
			message = "An internal error occurred; the request id identifies it in the server log.";
	}
	buf_reset(&req->out);
	req->status = response_status(err);
	buf_puts(&req->out, "{\"ok\":false,\"request_id\":");
	put_json_string(&req->out, req->request_id);
	buf_puts(&req->out, ",\"error\":");
	put_json_string(&req->out, code);
	buf_puts(&req->out, ",\"message\":");
	put_json_string(&req->out, message);
	buf_puts(&req->out, ",\"details\":{");
	if (e->field[0] != '\0') {
		buf_puts(&req->out, "\"field\":");
		put_json_string(&req->out, e->field);
	}
	buf_puts(&req->out, "}}");
}

void reply_fail(struct request *req, enum cd_err err, const char *field, const char *fmt, ...)
{
	struct cd_error e;
	va_list ap;

	cd_error_reset(&e);
	va_start(ap, fmt);
	cd_vfail(&e, err, field, fmt, ap);
	va_end(ap);
	reply_error(req, &e);
}

void reply_header(struct request *req, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n"))
		return;
	buf_printf(&req->out_headers, "%s: %s\r\n", name, value);
}

/* The status pages' headers: scripts from nowhere, styles from us only, no
 * framing, no type sniffing (Cache-Control: no-store is on every answer). */
static void html_headers(struct request *req)
{
	reply_header(req, "Content-Security-Policy",
		     "default-src 'none'; style-src 'self'; img-src 'self' data:; "
		     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	reply_header(req, "X-Content-Type-Options", "nosniff");
	reply_header(req, "X-Frame-Options", "DENY");
	reply_header(req, "Referrer-Policy", "same-origin");
}

void reply_html(struct request *req, enum cd_err err, const char *html)
{
	req->status = response_status(err);
	req->out_type = "text/html; charset=utf-8";
	html_headers(req);
	buf_reset(&req->out);
	buf_puts(&req->out, html);
}

void reply_redirect(struct request *req, const char *location)
{
	req->status = 303;
	req->out_type = "text/html; charset=utf-8";
	html_headers(req);
	reply_header(req, "Location", location);
	buf_reset(&req->out);
}

void reply_document(struct request *req, const char *type, const char *text)
{
	req->status = 200;
	req->out_type = type;
	buf_reset(&req->out);
	buf_puts(&req->out, text);
	if (buf_overflowed(&req->out))
		reply_fail(req, CD_INTERNAL, NULL, "response larger than %d bytes", RESPONSE_BODY_MAX);
}

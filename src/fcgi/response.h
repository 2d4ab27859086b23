/* response.h -- the JSON envelope of DESIGN 2 and the one table that turns
 * enum cd_err into an HTTP status and an error code.
 *
 *   {"ok":true,"request_id":"...","data":...}
 *   {"ok":false,"request_id":"...","error":"code","message":"...","details":{...}}
 */
#ifndef CD_RESPONSE_H
#define CD_RESPONSE_H

#include <json-c/json.h>

#include "base/err.h"
#include "fcgi/request.h"

/* 200 with data (stolen; NULL writes null). */
void reply_ok(struct request *req, struct json_object *data);
/* 201 with data (stolen). */
void reply_created(struct request *req, struct json_object *data);
/* 200 / 201 with data given as JSON text built by the database (trusted,
 * never client text); borrowed. */
void reply_ok_text(struct request *req, const char *json);
void reply_created_text(struct request *req, const char *json);
/* The error envelope for e; its status comes from the table. A CD_INTERNAL
 * message is logged and replaced by a generic sentence. */
void reply_error(struct request *req, const struct cd_error *e);
/* cd_fail + reply_error in one call. */
void reply_fail(struct request *req, enum cd_err err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* An HTML page (the status pages, fcgi/ui*.c): the status of err (CD_OK:
 * 200), text/html, and the pages' security headers (CSP without inline
 * script, nosniff, no framing). html is borrowed. */
void reply_html(struct request *req, enum cd_err err, const char *html);
/* 303 See Other to location (a path of ours), with the same headers. */
void reply_redirect(struct request *req, const char *location);

/* 200 with text as the whole body, not an envelope (GET /v1/openapi.json):
 * type is its Content-Type; both borrowed. */
void reply_document(struct request *req, const char *type, const char *text);

/* Adds a response header line; name and value must not hold CR or LF. */
void reply_header(struct request *req, const char *name, const char *value);

/* The status and default code of err (for tests and the server's own errors). */
int response_status(enum cd_err err);
const char *response_code(enum cd_err err);
/* The reason phrase of an HTTP status ("Not Found"). */
const char *response_reason(int status);

#endif

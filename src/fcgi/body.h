/* body.h -- reading a JSON request body against a field table, or replying 400.
 * The `*_or_reply` helpers of STYLE 8: on failure they write the envelope
 * that names the field and return false, and the handler just returns. */
#ifndef CD_BODY_H
#define CD_BODY_H

#include <stdbool.h>

#include <json-c/json.h>

#include "base/json.h"
#include "fcgi/request.h"

/* Parses req's body strictly and checks it against fields[0..n).
 * out: a new object the caller frees with json_object_put() (on true only).
 * An empty body is read as {}. */
bool body_object_or_reply(struct request *req, const struct json_field *fields, size_t n,
			  struct json_object **out);

#endif

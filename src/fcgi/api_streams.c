/* api_streams.c -- entries for the Redis task and results streams, for apps
 * that do not speak Redis (DESIGN 6). The rules (which streams, reply_to's
 * allow-list, source from the token) live in domain/routing.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "data/stream.h"
#include "domain/routing.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/handler.h"
#include "fcgi/openapi.h"
#include "fcgi/response.h"

#define REDIS_TIMEOUT_MS 1000
#define FIELDS_MAX 64		/* pairs an entry may carry */
#define FIELD_NAME_MAX 128	/* bytes of a field's name */

static const struct json_field ENTRY_FIELDS[] = {
	{.name = "fields", .type = JF_OBJECT, .required = true},
	{.name = "reply_to", .type = JF_STRING, .min = 1, .max = 200},
};

/* The fields object as (key, value, ..., NULL), borrowed from obj; NULL
 * after the 400 naming the field at fault (fields, fields.<key>). */
static const char **pairs_or_reply(struct request *req, struct json_object *obj)
{
	size_t n = (size_t)json_object_object_length(obj), k = 0;
	const char **pairs;

	if (n == 0 || n > FIELDS_MAX) {
		reply_fail(req, CD_INVALID, "fields", "fields must hold 1 to %d string values.",
			   FIELDS_MAX);
		return NULL;
	}
	pairs = xcalloc(2 * n + 1, sizeof(char *));
	json_object_object_foreach(obj, key, val)
	{
		if (strlen(key) == 0 || strlen(key) > FIELD_NAME_MAX ||
		    !json_object_is_type(val, json_type_string)) {
			char field[96];

			snprintf(field, sizeof(field), "fields.%.80s", key);
			reply_fail(req, CD_INVALID, field,
				   "Each field needs a name of 1 to %d bytes and a string value.",
				   FIELD_NAME_MAX);
			free(pairs);
			return NULL;
		}
		pairs[k++] = key;
		pairs[k++] = json_object_get_string(val);
	}
	return pairs;
}

/* POST /v1/streams/{stream}/entries   role: submitter
 * {fields: {name: "value", ... 1..64}, reply_to? (must match
 * CONDUCTOR_REPLY_TO_ALLOW)} -> 201 {id, stream, source, reply_to}.
 * Only configured streams (CONDUCTOR_STREAMS, CONDUCTOR_RESULTS_STREAMS);
 * `source` is the caller's tenant/token name, never the body's. */
void api_streams_add(struct request *req)
{
	const struct config *cfg = req->w->cfg;
	const char *stream = request_param(req, "stream"), *reply_to, **pairs = NULL;
	struct json_object *body = NULL, *data;
	char source[200], id[64];
	enum cd_err rc;

	if (!body_object_or_reply(req, ENTRY_FIELDS, NFIELDS(ENTRY_FIELDS), &body))
		return;
	if ((pairs = pairs_or_reply(req, json_get(body, "fields"))) == NULL)
		goto out;
	reply_to = json_get_string(body, "reply_to", NULL);
	snprintf(source, sizeof(source), "%s/%s", req->principal.tenant, req->principal.name);
	if (req->w->redis == NULL)
		stream_open(cfg->redis_url, REDIS_TIMEOUT_MS, &req->w->redis, &req->err);
	if (req->w->redis == NULL) {
		cd_fail_code(&req->err, "redis_unavailable");
		reply_error(req, &req->err);
		goto out;
	}
	rc = routing_enqueue(req->w->redis, cfg, stream ? stream : "", pairs, source, reply_to, id,
			     &req->err);
	if (rc != CD_OK) {
		if (rc == CD_UNAVAILABLE)
			cd_fail_code(&req->err, "redis_unavailable");
		reply_error(req, &req->err);
		goto out;
	}
	data = json_object_new_object();
	json_object_object_add(data, "id", json_object_new_string(id));
	json_object_object_add(data, "stream", json_object_new_string(stream));
	json_object_object_add(data, "source", json_object_new_string(source));
	json_object_object_add(data, "reply_to",
			       reply_to ? json_object_new_string(reply_to) : json_object_new_null());
	reply_created(req, data);
out:
	free(pairs);
	json_object_put(body);
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_STREAMS_PARTS[] = {
	OPENAPI_BODY("api_streams_add", "", ENTRY_FIELDS),
};
const size_t API_STREAMS_PARTS_COUNT = NFIELDS(API_STREAMS_PARTS);

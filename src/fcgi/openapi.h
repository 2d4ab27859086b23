/* openapi.h -- GET /v1/openapi.json: the OpenAPI 3.1 document of THE route
 * table, built from the tables the server itself runs on, so that it cannot
 * drift from them:
 *   - the paths, methods, roles and path parameters: ROUTES (fcgi/routes.c);
 *   - the request bodies: the handlers' own field tables (base/json.h), which
 *     each api_<area>.c lists below its handlers as openapi_parts (the table
 *     of a body, of an object inside it, of each item of an array, and the
 *     values a string field may take);
 *   - the query parameters: openapi.c's own table (the handlers read them
 *     with limit_or_reply() and friends, which have no table);
 *   - the answers: the envelope of fcgi/response.h around each route's data,
 *     and the errors a route can give, from the same cd_err table.
 * A route without a row in openapi.c's table of summaries and answers still
 * appears (with an empty data shape), and test_openapi fails on it.
 */
#ifndef CD_OPENAPI_H
#define CD_OPENAPI_H

#include <stddef.h>

#include "base/json.h"

/* One part of a route's request body. path: "" the body itself; "retry" the
 * object field retry; "jobs[]" each item of the array field jobs;
 * "jobs[].retry" below that. Either a field table (fields, nfields) or the
 * values a string field, or each string of a string array, may take
 * (values, nvalues). */
struct openapi_part {
	const char *route; /* the handler's name, as in ROUTES */
	const char *path;
	const struct json_field *fields;
	size_t nfields;
	const char *const *values;
	size_t nvalues;
	const char *table; /* the C name of fields, for x-field-table */
};

/* A part from a field table, or from an array of allowed strings. */
#define OPENAPI_BODY(route, path, t)                                                               \
	{                                                                                          \
		(route), (path), (t), sizeof(t) / sizeof((t)[0]), NULL, 0, #t                      \
	}
#define OPENAPI_ENUM(route, path, v)                                                               \
	{                                                                                          \
		(route), (path), NULL, 0, (v), sizeof(v) / sizeof((v)[0]), NULL                    \
	}

/* Each api_<area>.c's parts (defined at the end of that file). */
extern const struct openapi_part API_CONTROL_PARTS[];
extern const size_t API_CONTROL_PARTS_COUNT;
extern const struct openapi_part API_FLEET_PARTS[];
extern const size_t API_FLEET_PARTS_COUNT;
extern const struct openapi_part API_PROFILES_PARTS[];
extern const size_t API_PROFILES_PARTS_COUNT;
extern const struct openapi_part API_RUNTIMES_PARTS[];
extern const size_t API_RUNTIMES_PARTS_COUNT;
extern const struct openapi_part API_STREAMS_PARTS[];
extern const size_t API_STREAMS_PARTS_COUNT;
extern const struct openapi_part API_TASKS_PARTS[];
extern const size_t API_TASKS_PARTS_COUNT;
extern const struct openapi_part API_TENANTS_PARTS[];
extern const size_t API_TENANTS_PARTS_COUNT;

/* Part i of all the files' parts; NULL past the last (for tests). */
const struct openapi_part *openapi_part_at(size_t i);

/* The document as JSON text: built on the first call (thread-safe), then
 * the same string for the life of the process (borrowed; never freed). */
const char *openapi_document(void);

#endif

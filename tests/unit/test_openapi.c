/* test_openapi.c -- fcgi/openapi.c without a server: the document it builds
 * against the very tables it is built from.
 *   - every part of every api_<area>.c names a route of ROUTES, and is used:
 *     a field table's schema (x-field-table) is at its path of its route's
 *     request body, with each field's limits as the table has them
 *     (lengths, ranges, item counts, item lengths, x-max-bytes); a list of
 *     values is the enum of the field at its path;
 *   - every row of ROUTES has its summary and answers in openapi.c (no
 *     fallback), and every operation answers the error envelope for 401/403
 *     exactly when it needs a token.
 * The integration suite (tests/http/test_openapi.c) checks the document as
 * served against routes.tsv and the sources, and validates it.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../cutest.h"
#include "fcgi/openapi.h"
#include "fcgi/routes.h"

static struct json_object *DOC;

static struct json_object *at(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int64_t int_of(struct json_object *o, const char *key)
{
	struct json_object *v = at(o, key);

	return v != NULL ? json_object_get_int64(v) : -1;
}

/* The operation of ROUTES' row named route. */
static struct json_object *operation(const char *route)
{
	for (size_t i = 0; i < ROUTES_COUNT; i++) {
		char method[16];
		size_t k;

		if (strcmp(ROUTES[i].name, route) != 0)
			continue;
		for (k = 0; ROUTES[i].method[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(ROUTES[i].method[k] | 0x20);
		method[k] = '\0';
		return at(at(at(DOC, "paths"), ROUTES[i].pattern), method);
	}
	return NULL;
}

/* The schema at path ("jobs[].retry") of route's request body; NULL when
 * the path leads nowhere. */
static struct json_object *schema_at(const char *route, const char *path)
{
	struct json_object *s = at(
	    at(at(at(operation(route), "requestBody"), "content"), "application/json"), "schema");
	char copy[160], *save = NULL, *seg;

	snprintf(copy, sizeof(copy), "%s", path);
	for (seg = strtok_r(copy, ".", &save); seg && s; seg = strtok_r(NULL, ".", &save)) {
		size_t n = strlen(seg);
		bool items = n > 2 && strcmp(seg + n - 2, "[]") == 0;

		if (items)
			seg[n - 2] = '\0';
		s = at(at(s, "properties"), seg);
		if (items)
			s = at(s, "items");
	}
	return s;
}

/* Field f's limits in its schema s are the table's. */
static void check_limits(const struct openapi_part *p, const struct json_field *f,
                         struct json_object *s)
{
	bool ok = s != NULL;

	switch (f->type) {
	case JF_STRING:
		ok = ok && int_of(s, "maxLength") == f->max &&
		     (f->min == 0 || int_of(s, "minLength") == f->min);
		break;
	case JF_INT:
	case JF_NUMBER:
		ok = ok && int_of(s, "minimum") == f->min && int_of(s, "maximum") == f->max;
		break;
	case JF_ARRAY:
		ok = ok && int_of(s, "minItems") == f->min && int_of(s, "maxItems") == f->max;
		break;
	case JF_STRING_ARRAY:
		ok = ok && int_of(s, "minItems") == f->min && int_of(s, "maxItems") == f->max &&
		     int_of(at(s, "items"), "maxLength") == f->item_max;
		break;
	case JF_OBJECT: ok = ok && (f->max == 0 || int_of(s, "x-max-bytes") == f->max); break;
	default: break;
	}
	if (!ok)
		fprintf(stderr, "\n  %s %s.%s: the document's limits are not the table's: %s\n",
		        p->route, p->table, f->name, s ? json_object_to_json_string(s) : "absent");
	CU_ASSERT(ok);
}

static bool route_exists(const char *name)
{
	for (size_t i = 0; i < ROUTES_COUNT; i++)
		if (strcmp(ROUTES[i].name, name) == 0)
			return true;
	return false;
}

static void test_every_part_is_in_its_route_with_the_tables_limits(void)
{
	const struct openapi_part *p;
	size_t parts = 0, fields = 0, enums = 0;

	for (size_t i = 0; (p = openapi_part_at(i)) != NULL; i++) {
		struct json_object *s = schema_at(p->route, p->path);

		parts++;
		if (!route_exists(p->route) || s == NULL)
			fprintf(stderr, "\n  part %s \"%s\" (%s): %s\n", p->route, p->path,
			        p->table ? p->table : "values",
			        route_exists(p->route) ? "not in the document" : "no such route");
		CU_ASSERT(route_exists(p->route));
		CU_ASSERT_PTR_NOT_NULL(s);
		if (s == NULL)
			continue;
		if (p->fields != NULL) {
			CU_ASSERT_STRING_EQUAL(json_object_get_string(at(s, "x-field-table")),
			                       p->table);
			for (size_t k = 0; k < p->nfields; k++, fields++)
				check_limits(p, &p->fields[k],
				             at(at(s, "properties"), p->fields[k].name));
		} else {
			struct json_object *e = at(s, "enum");

			if (e == NULL)
				e = at(at(s, "items"), "enum");
			CU_ASSERT_EQUAL(e ? json_object_array_length(e) : 0, p->nvalues);
			for (size_t k = 0;
			     e != NULL && k < p->nvalues && k < json_object_array_length(e); k++)
				CU_ASSERT_STRING_EQUAL(
				    json_object_get_string(json_object_array_get_idx(e, k)),
				    p->values[k]);
			enums++;
		}
	}
	CU_ASSERT(parts >= 40);
	CU_ASSERT(fields >= 100);
	CU_ASSERT(enums >= 5);
}

static void test_every_route_has_its_answers_and_its_errors(void)
{
	for (size_t i = 0; i < ROUTES_COUNT; i++) {
		const struct route *rt = &ROUTES[i];
		struct json_object *op = operation(rt->name), *resp = at(op, "responses");
		bool html = strncmp(rt->pattern, "/ui/", 4) == 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(op);
		/* the summary of OPS, not the fallback (the handler's name) */
		if (strcmp(json_object_get_string(at(op, "summary")), rt->name) == 0)
			fprintf(stderr, "\n  %s has no row in openapi.c's OPS\n", rt->name);
		CU_ASSERT_STRING_NOT_EQUAL(json_object_get_string(at(op, "summary")), rt->name);
		CU_ASSERT(at(resp, "200") != NULL || at(resp, "201") != NULL ||
		          at(resp, "303") != NULL);
		if (!html) {
			CU_ASSERT_EQUAL(at(resp, "401") != NULL, rt->roles != 0);
			CU_ASSERT_EQUAL(at(resp, "403") != NULL, rt->roles != 0);
		}
	}
}

/* The Error component is the envelope of fcgi/response.h. */
static void test_the_error_envelope(void)
{
	struct json_object *e = at(at(at(DOC, "components"), "schemas"), "Error");
	const char *const keys[] = {"ok", "request_id", "error", "message", "details"};

	for (size_t i = 0; i < 5; i++)
		CU_ASSERT_PTR_NOT_NULL(at(at(e, "properties"), keys[i]));
	CU_ASSERT_EQUAL(json_object_array_length(at(e, "required")), 5);
	/* 409's codes come from THE cd_err table */
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(json_object_get_string(
	               at(at(at(at(DOC, "components"), "responses"), "409"), "description")),
	           "stale_epoch"));
}

static CU_TestInfo TESTS[] = {
    {"every_part_is_in_its_route_with_the_tables_limits",
     test_every_part_is_in_its_route_with_the_tables_limits},
    {"every_route_has_its_answers_and_its_errors", test_every_route_has_its_answers_and_its_errors},
    {"the_error_envelope", test_the_error_envelope},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	int rc;

	DOC = json_tokener_parse(openapi_document());
	if (DOC == NULL) {
		fprintf(stderr, "test_openapi: the document is not JSON\n");
		return 1;
	}
	rc = cutest_run("openapi", TESTS);
	json_object_put(DOC);
	return rc;
}

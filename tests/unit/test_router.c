/* test_router.c -- fcgi/router.c on a small local table: literal and {param}
 * segments, percent-decoded parameters, 404 (route_not_found, field "path")
 * versus 405 (the Allow list), and the paths that must not match. */
#include <string.h>

#include "../cutest.h"
#include "fcgi/router.h"

static void h_a_get(struct request *req) { (void)req; }
static void h_a_post(struct request *req) { (void)req; }
static void h_job_get(struct request *req) { (void)req; }
static void h_job_patch(struct request *req) { (void)req; }
static void h_batch(struct request *req) { (void)req; }
static void h_runs(struct request *req) { (void)req; }
static void h_deep(struct request *req) { (void)req; }
static void h_five(struct request *req) { (void)req; }

static const struct route TABLE[] = {
	{"GET", "/a", h_a_get, 0, "a_get"},
	{"POST", "/a", h_a_post, 0, "a_post"},
	{"GET", "/jobs/{id}", h_job_get, 0, "job_get"},
	{"PATCH", "/jobs/{id}", h_job_patch, 0, "job_patch"},
	{"POST", "/jobs:batch", h_batch, 0, "batch"},
	{"GET", "/jobs/{id}/runs", h_runs, 0, "runs"},
	{"GET", "/t/{a}/x/{b}/{c}/{d}", h_deep, 0, "deep"},
	{"GET", "/f/{a}/{b}/{c}/{d}/{e}", h_five, 0, "five"},
};
#define NTABLE (sizeof(TABLE) / sizeof(TABLE[0]))

struct result {
	enum cd_err rc;
	const struct route *route;
	struct route_param params[ROUTE_MAX_PARAMS];
	int nparams;
	char allow[64];
	struct cd_error e;
};

static void route(const char *method, const char *path, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->nparams = -1;
	r->rc = router_match(TABLE, NTABLE, method, path, &r->route, r->params, &r->nparams,
			     r->allow, sizeof(r->allow), &r->e);
}

/* Asserts method path reaches the row named name. */
static void expect_row(const char *method, const char *path, const char *name, struct result *r)
{
	route(method, path, r);
	CU_ASSERT_EQUAL(r->rc, CD_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->route);
	CU_ASSERT_STRING_EQUAL(r->route->name, name);
}

static void expect_404(const char *method, const char *path)
{
	struct result r;

	route(method, path, &r);
	CU_ASSERT_EQUAL(r.rc, CD_NOT_FOUND);
	CU_ASSERT_EQUAL(r.e.err, CD_NOT_FOUND);
	CU_ASSERT_STRING_EQUAL(r.e.code, "route_not_found");
	CU_ASSERT_STRING_EQUAL(r.e.field, "path");
	CU_ASSERT_PTR_NULL(r.route);
	CU_ASSERT_EQUAL(r.nparams, 0);
}

static void test_literal_routes(void)
{
	struct result r;

	expect_row("GET", "/a", "a_get", &r);
	CU_ASSERT_EQUAL(r.nparams, 0);
	CU_ASSERT_PTR_EQUAL(r.route, &TABLE[0]);
	CU_ASSERT_PTR_EQUAL(r.route->handler, h_a_get);
	expect_row("POST", "/a", "a_post", &r);
	CU_ASSERT_PTR_EQUAL(r.route, &TABLE[1]);
}

static void test_param_route(void)
{
	struct result r;

	expect_row("GET", "/jobs/12", "job_get", &r);
	CU_ASSERT_EQUAL(r.nparams, 1);
	CU_ASSERT_STRING_EQUAL(r.params[0].name, "id");
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "12");
	expect_row("PATCH", "/jobs/job_01HX", "job_patch", &r);
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "job_01HX");
}

static void test_param_is_percent_decoded(void)
{
	struct result r;

	expect_row("GET", "/jobs/a%20b", "job_get", &r);
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "a b");
	expect_row("GET", "/jobs/%7Bid%7d", "job_get", &r);
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "{id}");
}

static void test_param_refusals(void)
{
	/* a decoded '/' would smuggle a segment */
	expect_404("GET", "/jobs/a%2Fb");
	expect_404("GET", "/jobs/%2f");
	expect_404("GET", "/jobs/%00");
	expect_404("GET", "/jobs/%zz");
	expect_404("GET", "/jobs/%4");
}

static void test_nested_param_route(void)
{
	struct result r;

	expect_row("GET", "/jobs/12/runs", "runs", &r);
	CU_ASSERT_EQUAL(r.nparams, 1);
	CU_ASSERT_STRING_EQUAL(r.params[0].name, "id");
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "12");
	expect_404("GET", "/jobs/12/run");
	expect_404("GET", "/jobs/12/runs/x");
}

static void test_four_params(void)
{
	struct result r;

	expect_row("GET", "/t/1/x/2/3/4", "deep", &r);
	CU_ASSERT_EQUAL(r.nparams, 4);
	CU_ASSERT_STRING_EQUAL(r.params[0].name, "a");
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "1");
	CU_ASSERT_STRING_EQUAL(r.params[1].name, "b");
	CU_ASSERT_STRING_EQUAL(r.params[1].value, "2");
	CU_ASSERT_STRING_EQUAL(r.params[3].name, "d");
	CU_ASSERT_STRING_EQUAL(r.params[3].value, "4");
	expect_404("GET", "/t/1/y/2/3/4");
}

static void test_more_params_than_room_never_match(void)
{
	/* ROUTE_MAX_PARAMS is 4: a fifth parameter is refused, never written */
	CU_ASSERT_EQUAL(ROUTE_MAX_PARAMS, 4);
	expect_404("GET", "/f/1/2/3/4/5");
}

static void test_not_found(void)
{
	struct result r;

	expect_404("GET", "/nope");
	expect_404("GET", "/");
	expect_404("GET", "");
	expect_404("GET", "/A");
	route("GET", "/nope", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.e.message, "/nope"));
}

static void test_method_not_allowed(void)
{
	struct result r;

	route("DELETE", "/a", &r);
	CU_ASSERT_EQUAL(r.rc, CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_EQUAL(r.e.err, CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD, POST");
	CU_ASSERT_STRING_EQUAL(r.e.field, "method");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.e.message, "GET, HEAD, POST"));
	CU_ASSERT_PTR_NULL(r.route);
	CU_ASSERT_EQUAL(r.nparams, 0);

	route("POST", "/jobs/7", &r);
	CU_ASSERT_EQUAL(r.rc, CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD, PATCH");

	route("GET", "/jobs:batch", &r);
	CU_ASSERT_EQUAL(r.rc, CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(r.allow, "POST");

	/* methods are case-sensitive */
	route("get", "/a", &r);
	CU_ASSERT_EQUAL(r.rc, CD_METHOD_NOT_ALLOWED);
}

static void test_allow_list_respects_cap(void)
{
	const struct route *out;
	struct route_param params[ROUTE_MAX_PARAMS];
	char allow[8];
	int np;
	struct cd_error e;

	memset(allow, 'Z', sizeof(allow));
	/* "GET, HEAD, POST" needs 16 bytes; the list stops at what fits */
	CU_ASSERT_EQUAL(router_match(TABLE, NTABLE, "PUT", "/a", &out, params, &np, allow, 6, &e),
			CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "GET");
	CU_ASSERT_EQUAL(allow[6], 'Z');
	CU_ASSERT_EQUAL(allow[7], 'Z');
	/* no half method either ("GET, HE") */
	CU_ASSERT_EQUAL(router_match(TABLE, NTABLE, "PUT", "/a", &out, params, &np, allow,
				     sizeof(allow), &e),
			CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(allow, "GET");
}

/* HEAD reaches the GET row of a path (RFC 9110: HEAD is GET without the
 * body), never another method's row; a path without GET refuses it. */
static void test_head_answers_as_get(void)
{
	struct result r;

	expect_row("HEAD", "/a", "a_get", &r);
	expect_row("HEAD", "/jobs/7", "job_get", &r);
	CU_ASSERT_EQUAL(r.nparams, 1);
	CU_ASSERT_STRING_EQUAL(r.params[0].value, "7");
	expect_row("HEAD", "/jobs/7/runs", "runs", &r);
	route("HEAD", "/jobs:batch", &r);
	CU_ASSERT_EQUAL(r.rc, CD_METHOD_NOT_ALLOWED);
	CU_ASSERT_STRING_EQUAL(r.allow, "POST");
	expect_404("HEAD", "/nope");
	/* HEAD is listed once, right after GET */
	route("PUT", "/jobs/7/runs", &r);
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD");
}

static void test_trailing_and_double_slashes(void)
{
	expect_404("GET", "/a/");
	expect_404("GET", "//a");
	expect_404("GET", "/a//");
	expect_404("GET", "a");
	expect_404("GET", "/jobs/12/");
	expect_404("GET", "/jobs//runs");
}

static void test_empty_param_segment(void)
{
	expect_404("GET", "/jobs/");
	expect_404("GET", "/jobs");
	expect_404("PATCH", "/jobs/");
}

static void test_batch_not_confused_with_param(void)
{
	struct result r;

	expect_row("POST", "/jobs:batch", "batch", &r);
	CU_ASSERT_EQUAL(r.nparams, 0);
	/* and the other way round: ":batch" under /jobs/ is an id */
	expect_row("GET", "/jobs/:batch", "job_get", &r);
	CU_ASSERT_STRING_EQUAL(r.params[0].value, ":batch");
	expect_404("POST", "/jobs:batc");
	expect_404("POST", "/jobs:batch2");
}

static void test_param_length_limit(void)
{
	char path[16 + ROUTE_PARAM_MAX + 16];
	struct result r;

	/* ROUTE_PARAM_MAX - 1 bytes fit with the NUL */
	strcpy(path, "/jobs/");
	memset(path + 6, 'x', ROUTE_PARAM_MAX - 1);
	path[6 + ROUTE_PARAM_MAX - 1] = '\0';
	expect_row("GET", path, "job_get", &r);
	CU_ASSERT_EQUAL(strlen(r.params[0].value), ROUTE_PARAM_MAX - 1);

	memset(path + 6, 'x', ROUTE_PARAM_MAX);
	path[6 + ROUTE_PARAM_MAX] = '\0';
	expect_404("GET", path);
	strcat(path, "/runs");
	expect_404("GET", path);
}

static void test_no_error_detail_when_e_null(void)
{
	const struct route *out = &TABLE[0];
	struct route_param params[ROUTE_MAX_PARAMS];
	char allow[64];
	int np = 9;

	CU_ASSERT_EQUAL(router_match(TABLE, NTABLE, "GET", "/zz", &out, params, &np, allow,
				     sizeof(allow), NULL),
			CD_NOT_FOUND);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(np, 0);
	CU_ASSERT_EQUAL(router_match(TABLE, NTABLE, "PUT", "/a", &out, params, &np, allow,
				     sizeof(allow), NULL),
			CD_METHOD_NOT_ALLOWED);
}

static CU_TestInfo TESTS[] = {
	{"head_answers_as_get", test_head_answers_as_get},
	{"literal_routes", test_literal_routes},
	{"param_route", test_param_route},
	{"param_is_percent_decoded", test_param_is_percent_decoded},
	{"param_refusals", test_param_refusals},
	{"nested_param_route", test_nested_param_route},
	{"four_params", test_four_params},
	{"more_params_than_room_never_match", test_more_params_than_room_never_match},
	{"not_found", test_not_found},
	{"method_not_allowed", test_method_not_allowed},
	{"allow_list_respects_cap", test_allow_list_respects_cap},
	{"trailing_and_double_slashes", test_trailing_and_double_slashes},
	{"empty_param_segment", test_empty_param_segment},
	{"batch_not_confused_with_param", test_batch_not_confused_with_param},
	{"param_length_limit", test_param_length_limit},
	{"no_error_detail_when_e_null", test_no_error_detail_when_e_null},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("router", TESTS);
}

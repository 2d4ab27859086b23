/* test_http.c -- the foundation's integration suite: real PostgreSQL, Redis,
 * nginx and conductor-fcgi (started by tests/http/run-integration), spoken to
 * over HTTP through nginx.
 *
 * Covers: failing closed with no token, the auth matrix (missing, malformed,
 * unknown, revoked, expired, wrong role), the route x role table walked from
 * tests/data/routes.tsv, 404/405 envelopes, request ids, bad bodies (invalid
 * JSON, unknown field, wrong type, duplicate key, NUL, 2 MiB, 20 000-deep,
 * wrong media type, random mutations) never answered with a 5xx, and tenants.
 * Tests run in order: the first needs a database with no token at all.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "expect.h"

static const char *const ROLES[] = {"admin", "operator", "submitter", "worker", "controller",
				    "readonly"};
#define NROLES 6

static char *tokens[NROLES];	/* one token per role, tenant "default" (admin: all) */
static char *beta_token;	/* a readonly token of tenant "beta" */

/* ---- helpers ------------------------------------------------------------ */

static struct http_resp get(const char *path, const char *token)
{
	struct http_resp r;

	CU_ASSERT_EQUAL_FATAL(http_do("GET", path, token, NULL, 0, NULL, &r), 0);
	return r;
}

static struct http_resp post(const char *path, const char *token, const char *body)
{
	struct http_resp r;

	CU_ASSERT_EQUAL_FATAL(http_do("POST", path, token, body, strlen(body), NULL, &r), 0);
	return r;
}

static char *create_token(const char *role, const char *name, const char *extra)
{
	char args[512];

	snprintf(args, sizeof(args), "token create --role %s --name %s %s", role, name,
		 extra ? extra : "");
	return ctl_run(args);
}

/* ---- tests ------------------------------------------------------------- */

static void test_fail_closed_without_any_token(void)
{
	struct http_resp r;

	r = get("/v1/whoami", NULL);
	EXPECT_ERROR(r, 503, "auth_not_configured");
	http_resp_free(&r);
	r = get("/v1/whoami", "cdt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	EXPECT_ERROR(r, 503, "auth_not_configured");
	http_resp_free(&r);
	r = post("/v1/tenants", NULL, "{\"name\":\"x\"}");
	EXPECT_ERROR(r, 503, "auth_not_configured");
	http_resp_free(&r);
	r = get("/healthz", NULL); /* no auth, no database */
	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
}

static void test_tokens_created_by_conductorctl(void)
{
	char name[64];

	for (int i = 0; i < NROLES; i++) {
		snprintf(name, sizeof(name), "t-%s", ROLES[i]);
		tokens[i] = create_token(ROLES[i], name, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tokens[i]);
		CU_ASSERT_EQUAL(strlen(tokens[i]), 47);
		CU_ASSERT_EQUAL(strncmp(tokens[i], "cdt_", 4), 0);
	}
	free(ctl_run("tenant create beta"));
	beta_token = create_token("readonly", "beta-reader", "--tenant beta");
	CU_ASSERT_PTR_NOT_NULL_FATAL(beta_token);
	/* a token for a tenant that does not exist is refused */
	CU_ASSERT_PTR_NULL(create_token("worker", "ghost", "--tenant nosuchtenant"));
	/* a live name cannot be taken twice */
	CU_ASSERT_PTR_NULL(create_token("worker", "t-worker", NULL));
}

static void test_healthz_and_readyz(void)
{
	struct http_resp r = get("/healthz", NULL);

	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(json_object_get_boolean(obj_at(r.json, "ok")));
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r.json, "data"), "status"), "ok");
	CU_ASSERT_STRING_EQUAL(r.content_type, "application/json");
	http_resp_free(&r);
	r = get("/readyz", NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r.json, "data"), "postgresql"), "ok");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r.json, "data"), "redis"), "ok");
	http_resp_free(&r);
}

static void test_whoami_names_each_role(void)
{
	char name[64];

	for (int i = 0; i < NROLES; i++) {
		struct http_resp r = get("/v1/whoami", tokens[i]);
		struct json_object *d = obj_at(r.json, "data");

		snprintf(name, sizeof(name), "t-%s", ROLES[i]);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_STRING_EQUAL(str_at(d, "role"), ROLES[i]);
		CU_ASSERT_STRING_EQUAL(str_at(d, "name"), name);
		CU_ASSERT_STRING_EQUAL(str_at(d, "tenant"), "default");
		http_resp_free(&r);
	}
	struct http_resp r = get("/v1/whoami", beta_token);

	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r.json, "data"), "tenant"), "beta");
	http_resp_free(&r);
}

static void test_missing_and_malformed_credentials_401(void)
{
	static const char *const bad[] = {
		"Authorization: Basic dXNlcjpwYXNz",
		"Authorization: Bearer",
		"Authorization: Bearer cdt_short",
		"Authorization: Bearer cdt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* unknown */
		"Authorization: Bearer xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Authorization: Bearer cdt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/",
	};
	struct http_resp r = get("/v1/whoami", NULL);

	EXPECT_ERROR(r, 401, "unauthorized");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "Authorization");
	http_resp_free(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *h[] = {bad[i], NULL};

		CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", NULL, NULL, 0, h, &r), 0);
		EXPECT_ERROR(r, 401, "unauthorized");
		http_resp_free(&r);
	}
}

static void test_revoked_token_refused_on_next_request(void)
{
	char *tok = create_token("readonly", "soon-revoked", NULL);
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	r = get("/v1/whoami", tok);
	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
	free(ctl_run("token revoke --name soon-revoked"));
	r = get("/v1/whoami", tok);
	EXPECT_ERROR(r, 401, "unauthorized");
	http_resp_free(&r);
	/* revoking twice says there is no such live token */
	CU_ASSERT_PTR_NULL(ctl_run("token revoke --name soon-revoked"));
	free(tok);
}

static void test_expired_token_refused(void)
{
	char *tok = create_token("readonly", "short-lived", "--expires-in 1");
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	r = get("/v1/whoami", tok);
	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
	sleep(2);
	r = get("/v1/whoami", tok);
	EXPECT_ERROR(r, 401, "unauthorized");
	http_resp_free(&r);
	free(tok);
}

/* Replaces each {param} of pattern by "1". */
static void concrete_path(const char *pattern, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = pattern; *p && o + 2 < cap; p++) {
		if (*p == '{') {
			out[o++] = '1';
			while (*p && *p != '}')
				p++;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

static bool role_listed(const char *roles, const char *role)
{
	char copy[256], *save = NULL;

	if (strcmp(role, "admin") == 0)
		return true;
	snprintf(copy, sizeof(copy), "%s", roles);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcmp(t, role) == 0)
			return true;
	return false;
}

static void test_route_role_matrix_from_routes_tsv(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024], line[1024], method[16], pattern[512], handler[128], roles[256];
	int rows = 0, calls = 0;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	snprintf(path, sizeof(path), "%s/tests/data/routes.tsv", top);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char url[600];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, "%15s %511s %127s %255s", method, pattern, handler,
					     roles), 4);
		rows++;
		if (strcmp(roles, "-") == 0)
			continue;
		concrete_path(pattern, url, sizeof(url));
		for (int i = 0; i < NROLES; i++) {
			struct http_resp r;
			const char *body = strcmp(method, "GET") == 0 ? NULL : "{}";

			CU_ASSERT_EQUAL_FATAL(http_do(method, url, tokens[i], body,
						      body ? strlen(body) : 0, NULL, &r), 0);
			calls++;
			if (role_listed(roles, ROLES[i])) {
				CU_ASSERT(r.status != 401 && r.status != 403 && r.status < 500);
				if (r.status == 401 || r.status == 403 || r.status >= 500)
					fprintf(stderr, "\n  %s %s as %s: %ld %s\n", method, url,
						ROLES[i], r.status, r.body);
			} else {
				EXPECT_ERROR(r, 403, "forbidden");
			}
			http_resp_free(&r);
		}
	}
	fclose(f);
	CU_ASSERT(rows >= 3);
	CU_ASSERT(calls > 0);
}

static void test_unknown_route_404_and_wrong_method_405(void)
{
	struct http_resp r = get("/v1/nothing-here", tokens[0]);

	EXPECT_ERROR(r, 404, "route_not_found");
	http_resp_free(&r);
	r = get("/nothing", NULL);
	CU_ASSERT(r.status == 404);
	http_resp_free(&r);
	r = post("/v1/whoami", tokens[0], "{}");
	EXPECT_ERROR(r, 405, "method_not_allowed");
	CU_ASSERT_STRING_EQUAL(r.allow, "GET, HEAD");
	http_resp_free(&r);
	CU_ASSERT_EQUAL_FATAL(http_do("DELETE", "/healthz", NULL, NULL, 0, NULL, &r), 0);
	EXPECT_ERROR(r, 405, "method_not_allowed");
	http_resp_free(&r);
}

static void test_request_id_echoed(void)
{
	const char *h[] = {"X-Request-Id: trace-42.abc", NULL};
	char long_id[200];
	struct http_resp r;

	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", tokens[5], NULL, 0, h, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.request_id, "trace-42.abc");
	CU_ASSERT_STRING_EQUAL(str_at(r.json, "request_id"), "trace-42.abc");
	http_resp_free(&r);
	/* errors carry it too */
	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", NULL, NULL, 0, h, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.request_id, "trace-42.abc");
	CU_ASSERT_STRING_EQUAL(str_at(r.json, "request_id"), "trace-42.abc");
	http_resp_free(&r);
	/* none given: one is made, the same in header and body */
	r = get("/healthz", NULL);
	CU_ASSERT(strlen(r.request_id) >= 8);
	CU_ASSERT_STRING_EQUAL(str_at(r.json, "request_id"), r.request_id);
	http_resp_free(&r);
	/* too long: replaced, still consistent */
	memset(long_id, 'a', sizeof(long_id));
	memcpy(long_id, "X-Request-Id: ", 14);
	long_id[sizeof(long_id) - 1] = '\0';
	h[0] = long_id;
	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/healthz", NULL, NULL, 0, h, &r), 0);
	CU_ASSERT(strlen(r.request_id) <= 128);
	CU_ASSERT_STRING_EQUAL(str_at(r.json, "request_id"), r.request_id);
	http_resp_free(&r);
}

/* POSTs body to /v1/tenants as admin and expects status/code/field. */
static void expect_body_refused(const char *body, size_t len, long status, const char *code,
				const char *field)
{
	struct http_resp r;

	CU_ASSERT_EQUAL_FATAL(http_do("POST", "/v1/tenants", tokens[0], body, len, NULL, &r), 0);
	EXPECT_ERROR(r, status, code);
	if (field != NULL) {
		CU_ASSERT_STRING_EQUAL(field_of(&r), field);
		if (strcmp(field_of(&r), field) != 0)
			fprintf(stderr, "\n  field: want %s got %s\n", field, field_of(&r));
	}
	http_resp_free(&r);
}

static void test_bad_bodies_get_4xx_envelopes(void)
{
	static const char nul[] = "{\"name\":\"a\\u0000b\"}";
	size_t big_len = 2u << 20, depth = 20000;
	char *big = malloc(big_len + 1), *deep = malloc(2 * depth + 1);
	const char *plain[] = {"Content-Type: text/plain", NULL};
	struct http_resp r;

	expect_body_refused("{", strlen("{"), 400, "invalid_request", "body");
	expect_body_refused("not json", strlen("not json"), 400, "invalid_request", "body");
	expect_body_refused("{\"name\":\"ok\",\"extra\":1}", strlen("{\"name\":\"ok\",\"extra\":1}"), 400, "invalid_request", "extra");
	expect_body_refused("{\"name\":5}", strlen("{\"name\":5}"), 400, "invalid_request", "name");
	expect_body_refused("{\"name\":\"a\",\"name\":\"b\"}", strlen("{\"name\":\"a\",\"name\":\"b\"}"), 400, "invalid_request", "name");
	expect_body_refused(nul, strlen(nul), 400, "invalid_request", "name");
	expect_body_refused("[1,2]", strlen("[1,2]"), 400, "invalid_request", "body");
	expect_body_refused("{\"name\":\"Bad Name!\"}", strlen("{\"name\":\"Bad Name!\"}"), 400, "invalid_request", "name");
	expect_body_refused("{\"name\":\"\xff\xfe\"}", strlen("{\"name\":\"\xff\xfe\"}"), 400, "invalid_request", "name");
	/* empty body: the required field is named */
	CU_ASSERT_EQUAL_FATAL(http_do("POST", "/v1/tenants", tokens[0], "", 0, NULL, &r), 0);
	EXPECT_ERROR(r, 400, "invalid_request");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "name");
	http_resp_free(&r);
	/* 20 000-deep nesting */
	for (size_t i = 0; i < depth; i++)
		deep[i] = '[', deep[depth + i] = ']';
	deep[2 * depth] = '\0';
	expect_body_refused(deep, 2 * depth, 400, "invalid_request", NULL);
	/* 2 MiB: refused by nginx before it reaches conductor-fcgi, still an envelope */
	memset(big, ' ', big_len);
	big[0] = '{', big[big_len - 1] = '}';
	expect_body_refused(big, big_len, 413, "body_too_large", NULL);
	/* wrong media type */
	CU_ASSERT_EQUAL_FATAL(http_do("POST", "/v1/tenants", tokens[0], "{\"name\":\"x\"}", 12,
				      plain, &r), 0);
	EXPECT_ERROR(r, 415, "unsupported_media_type");
	http_resp_free(&r);
	free(big);
	free(deep);
}

static void test_tenant_create_then_conflict(void)
{
	struct http_resp r = post("/v1/tenants", tokens[0], "{\"name\":\"gamma\"}");

	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r.json, "data"), "name"), "gamma");
	http_resp_free(&r);
	r = post("/v1/tenants", tokens[0], "{\"name\":\"gamma\"}");
	EXPECT_ERROR(r, 409, "conflict");
	http_resp_free(&r);
}

static void test_mutated_bodies_never_5xx(void)
{
	static const char seed[] = "{\"name\":\"mut\"}";
	static const char alphabet[] = "{}[]\",:\\ 0123456789eE.-+truefalsnul\x01\x7f\xc3\xa9";
	unsigned state = 12345;
	int over = 0;

	for (int i = 0; i < 200; i++) {
		char body[64];
		size_t len = sizeof(seed) - 1;
		struct http_resp r;

		memcpy(body, seed, len);
		for (int m = 0; m < 1 + i % 4; m++) {
			state = state * 1103515245u + 12345u;
			size_t at = (state >> 8) % len;

			state = state * 1103515245u + 12345u;
			body[at] = alphabet[(state >> 8) % (sizeof(alphabet) - 1)];
		}
		CU_ASSERT_EQUAL_FATAL(http_do("POST", "/v1/tenants", tokens[0], body, len, NULL, &r),
				      0);
		if (r.status >= 500 || r.json == NULL) {
			over++;
			fprintf(stderr, "\n  mutated body %.*s -> %ld %s\n", (int)len, body, r.status,
				r.body);
		}
		http_resp_free(&r);
	}
	CU_ASSERT_EQUAL(over, 0);
}

static void test_tenant_header(void)
{
	const char *beta[] = {"X-Conductor-Tenant: beta", NULL};
	const char *ghost[] = {"X-Conductor-Tenant: ghost", NULL};
	struct http_resp r;

	/* an admin acts in the tenant it names */
	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", tokens[0], NULL, 0, beta, &r), 0);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r.json, "data"), "tenant"), "beta");
	http_resp_free(&r);
	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", tokens[0], NULL, 0, ghost, &r), 0);
	EXPECT_ERROR(r, 404, "tenant_not_found");
	http_resp_free(&r);
	/* a tenant's token cannot reach into another tenant */
	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", tokens[5], NULL, 0, beta, &r), 0);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
}

/* Kills every database connection but the test's own; answers how many. */
static int kill_database_connections(void)
{
	PGconn *c = PQconnectdb(getenv("CONDUCTOR_DATABASE_URL"));
	PGresult *r;
	int killed;

	CU_ASSERT_EQUAL_FATAL(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
		      " WHERE datname = current_database() AND pid <> pg_backend_pid()"
		      "   AND backend_type = 'client backend'");
	CU_ASSERT_EQUAL_FATAL(PQresultStatus(r), PGRES_TUPLES_OK);
	killed = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return killed;
}

/* Every database connection of conductor-fcgi is killed; the next requests
 * succeed all the same (each thread reconnects and prepares again). */
static void test_reconnects_after_database_connections_die(void)
{
	int ok = 0;

	CU_ASSERT(kill_database_connections() > 0);
	for (int i = 0; i < 100; i++) {
		struct http_resp resp = get("/v1/whoami", tokens[5]);

		ok += resp.status == 200;
		http_resp_free(&resp);
	}
	CU_ASSERT_EQUAL(ok, 100);
}

/* The same for requests that run a transaction (a submit): the token lookup
 * finds the connection dead and resets it; the transaction's statements are
 * prepared again and its BEGIN, sent with the first of them, opens it. */
static void test_transactions_after_database_connections_die(void)
{
	int ok = 0;

	for (int i = 0; i < 20; i++) { /* every thread holds a connection */
		struct http_resp resp = call("POST", "/v1/fleet/jobs", tokens[0],
					     "{\"body\":\"warm\"}", NULL);

		http_resp_free(&resp);
	}
	CU_ASSERT(kill_database_connections() > 0);
	for (int i = 0; i < 40; i++) {
		struct http_resp resp = call("POST", "/v1/fleet/jobs", tokens[0],
					     "{\"body\":\"after the kill\"}", NULL);

		ok += resp.status == 201;
		http_resp_free(&resp);
	}
	CU_ASSERT_EQUAL(ok, 40);
}

static int clean(void)
{
	for (int i = 0; i < NROLES; i++)
		free(tokens[i]);
	free(beta_token);
	return 0;
}

static CU_TestInfo TESTS[] = {
	{"fail_closed_without_any_token", test_fail_closed_without_any_token},
	{"tokens_created_by_conductorctl", test_tokens_created_by_conductorctl},
	{"healthz_and_readyz", test_healthz_and_readyz},
	{"whoami_names_each_role", test_whoami_names_each_role},
	{"missing_and_malformed_credentials_401", test_missing_and_malformed_credentials_401},
	{"revoked_token_refused_on_next_request", test_revoked_token_refused_on_next_request},
	{"expired_token_refused", test_expired_token_refused},
	{"route_role_matrix_from_routes_tsv", test_route_role_matrix_from_routes_tsv},
	{"unknown_route_404_and_wrong_method_405", test_unknown_route_404_and_wrong_method_405},
	{"request_id_echoed", test_request_id_echoed},
	{"bad_bodies_get_4xx_envelopes", test_bad_bodies_get_4xx_envelopes},
	{"tenant_create_then_conflict", test_tenant_create_then_conflict},
	{"mutated_bodies_never_5xx", test_mutated_bodies_never_5xx},
	{"tenant_header", test_tenant_header},
	{"reconnects_after_database_connections_die", test_reconnects_after_database_connections_die},
	{"transactions_after_database_connections_die",
	 test_transactions_after_database_connections_die},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run_with("http", TESTS, NULL, clean);
}

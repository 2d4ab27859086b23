/* test_http.c -- the foundation's integration suite: real PostgreSQL, Redis,
 * nginx and conductor-fcgi (started by tests/http/run-integration), spoken to
 * over HTTP through nginx.
 *
 * Covers: failing closed with no token, the auth matrix (missing, malformed,
 * unknown, revoked, expired, wrong role), the route x role table walked from
 * tests/data/routes.tsv, 404/405 envelopes, request ids, bad bodies (invalid
 * JSON, unknown field, wrong type, duplicate key, NUL, 2 MiB, 20 000-deep,
 * wrong media type, random mutations) never answered with a 5xx, and tenants;
 * bytes that are not UTF-8 in paths, ids, headers and bodies (every answer and
 * every log line stays UTF-8 JSON), nginx's own errors as envelopes (a second
 * nginx for the upstream failures), HEAD, the supervisor restarting a killed
 * conductor-fcgi, the logs' modes, and --help with no configuration.
 * Tests run in order: the first needs a database with no token at all.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "base/json.h"
#include "expect.h"

static const char *const ROLES[] = {"admin", "operator", "submitter", "worker", "controller",
				    "readonly", "metrics"};
#define NROLES 7

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
		if (strcmp(ROLES[i], "metrics") == 0)
			continue; /* it reads /metrics and nothing else (the matrix) */
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

/* A claim of one job by factory cache-w with tok. */
static struct http_resp claim_with(const char *tok)
{
	return post("/v1/fleet/claim", tok, "{\"factory_id\":\"cache-w\",\"max_jobs\":1}");
}

/* A new worker token called name (extra: more conductorctl arguments),
 * used twice on the claim route so that conductor-fcgi has it cached. */
static char *cached_worker(const char *name, const char *extra)
{
	char *tok = create_token("worker", name, extra);
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	for (int i = 0; i < 2; i++) { /* the first caches it, the second uses the cache */
		r = claim_with(tok);
		CU_ASSERT_EQUAL(r.status, 200);
		http_resp_free(&r);
	}
	return tok;
}

/* On the hot routes a token verified lately comes from conductor-fcgi's
 * cache, and its check travels with the handler's first statement: a
 * revocation still refuses the very next request, and the statement behind
 * the check does not run (the job stays queued). A handler that runs no
 * statement (a 400) has the check run before its answer leaves. */
static void test_revoked_token_refused_at_once_when_cached(void)
{
	char *tok = cached_worker("cached-worker", NULL), *tok2 = cached_worker("cached-worker2", NULL);
	char path[64];
	struct http_resp r;

	r = post("/v1/fleet/jobs", tokens[2], "{\"body\":\"cached-token job\"}");
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
	free(ctl_run("token revoke --name cached-worker"));
	free(ctl_run("token revoke --name cached-worker2"));
	r = claim_with(tok);
	EXPECT_ERROR(r, 401, "unauthorized");
	CU_ASSERT_STRING_EQUAL(field_of(&r), "Authorization");
	http_resp_free(&r);
	/* the claim behind the failed check did not run */
	r = get(path, tokens[5]);
	CU_ASSERT_STRING_EQUAL(str_at(data_of(&r), "stage"), "queued");
	http_resp_free(&r);
	/* the refusal wins over what the handler answers without a statement */
	r = post("/v1/fleet/claim", tok2, "{\"factory_id\":\"\"}");
	EXPECT_ERROR(r, 401, "unauthorized");
	http_resp_free(&r);
	r = post("/v1/fleet/jobs:transition", tok2, "{\"items\":[]}");
	EXPECT_ERROR(r, 401, "unauthorized");
	http_resp_free(&r);
	free(tok);
	free(tok2);
}

/* A cached token past its expires_at is refused like any other. */
static void test_expired_token_refused_when_cached(void)
{
	char *tok = cached_worker("cached-short", "--expires-in 2");
	struct http_resp r;

	sleep(3);
	r = claim_with(tok);
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

/* ---- hostile bytes, nginx's own errors, HEAD, the supervisor ------------ */

/* The stack's directory (run-integration exports it). */
static const char *stack_dir(void)
{
	const char *d = getenv("CONDUCTOR_STACK_DIR");

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	return d;
}

/* The port of $CONDUCTOR_URL (http://127.0.0.1:PORT). */
static int stack_port(void)
{
	const char *url = getenv("CONDUCTOR_URL"), *colon;

	CU_ASSERT_PTR_NOT_NULL_FATAL(url);
	colon = strrchr(url, ':');
	CU_ASSERT_PTR_NOT_NULL_FATAL(colon);
	return atoi(colon + 1);
}

/* Is text[0..n) one JSON value, in valid UTF-8? (the server's strict parser) */
static bool utf8_json(const char *text, size_t n)
{
	struct json_object *v = NULL;
	struct cd_error e;
	bool ok = json_parse_strict(text, n, &v, &e) == CD_OK;

	json_object_put(v);
	return ok;
}

/* An answer read off a socket as it came. */
struct raw_resp {
	long status;
	char content_type[128];
	char request_id[160];
	char *all;	/* owned: the whole answer */
	const char *body; /* in all */
	size_t body_len;
};

/* The value of header name in the head of an answer, into out. */
static void raw_header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
			const char *v = p + 3 + nl, *end = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", end ? (int)(end - v) : (int)strlen(v), v);
			return;
		}
		if (p[2] == '\r')
			return; /* end of the head */
	}
}

/* Sends req[0..n) to 127.0.0.1:port as it is (no client to tidy it up) and
 * reads the answer until the server closes (5 s at most). */
static struct raw_resp raw_request(int port, const char *req, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 5};
	struct raw_resp r = {0};
	size_t len = 0, cap = 1 << 16;
	char *sep;
	ssize_t got;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	/* nginx may answer (and close) before it has read everything: a short
	 * write is fine */
	signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, req + off, n - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	r.all = malloc(cap + 1);
	while ((got = read(fd, r.all + len, cap - len)) > 0 && (len += (size_t)got) < cap)
		;
	close(fd);
	r.all[len] = '\0';
	sscanf(r.all, "HTTP/1.%*c %ld", &r.status);
	raw_header(r.all, "Content-Type", r.content_type, sizeof(r.content_type));
	raw_header(r.all, "X-Request-Id", r.request_id, sizeof(r.request_id));
	sep = strstr(r.all, "\r\n\r\n");
	r.body = sep ? sep + 4 : r.all + len;
	r.body_len = (size_t)(r.all + len - r.body);
	return r;
}

/* The answer is conductor's error envelope: status, application/json,
 * strict UTF-8 JSON, ok false, error code, request_id the header's, details
 * an object. Says what came instead. */
#define EXPECT_RAW_ENVELOPE(r, s, code) expect_raw_envelope_at(&(r), (s), (code), __LINE__)
static void expect_raw_envelope_at(const struct raw_resp *r, long status, const char *code,
				   int line)
{
	struct json_object *v = NULL, *d = NULL;
	struct cd_error e;
	bool ok = r->status == status && strcmp(r->content_type, "application/json") == 0 &&
		  json_parse_strict(r->body, r->body_len, &v, &e) == CD_OK &&
		  json_object_is_type(v, json_type_object) && is_bool_at(v, "ok") &&
		  !bool_at(v, "ok") && strcmp(str_at(v, "error"), code) == 0 &&
		  r->request_id[0] != '\0' && strcmp(str_at(v, "request_id"), r->request_id) == 0 &&
		  str_at(v, "message")[0] != '\0' && json_object_object_get_ex(v, "details", &d) &&
		  json_object_is_type(d, json_type_object);

	check_at(ok, __FILE__, line, "an error envelope with this status and code");
	if (!ok)
		fprintf(stderr, "\n  line %d: want %ld %s, got: %.600s\n", line, status, code, r->all);
	json_object_put(v);
}

/* Paths, ids, headers and bodies that are not UTF-8, or that a 40-byte cut
 * would split in the middle of a character: every answer is strict UTF-8
 * JSON, and so is every line conductor-fcgi and nginx's access log wrote. */
static void test_hostile_bytes_answer_and_log_utf8_json(void)
{
	static const char *const PATHS[] = {
		"/v1/fleet/jobs/%ff%fe", "/v1/fleet/jobs/%c3", "/v1/fleet/jobs/%ed%a0%80",
		"/v1/fleet/jobs/%ff/runs", "/v1/tasks/%c0%af", "/v1/nothing/%ff%fe",
		"/v1/%f4%90%80%80",
	};
	static const char *const HEADERS[] = {
		"X-Request-Id: \xff\xfe", "X-Request-Id: caf\xc3\xa9", "X-Conductor-Tenant: \xff\xfe",
		"X-Conductor-Tenant: \xc3", "User-Agent: \xff", "X-Anything: \xed\xa0\x80",
	};
	static const char *const BODIES[] = {
		"{\"body\":\"\xff\xfe\"}", "{\"\xff\":1}", "{\"body\":\"a\xc3\"}", "\xff",
		"{\"body\":\"ok\",\"deps\":[\"\xc3\xa9\xff\"]}",
	};
	char path[256], line[1 << 16], *raw;
	const char *admin = tokens[0], *files[] = {"fcgi.log", "nginx-access.log"};
	struct http_resp r;
	struct raw_resp rr;
	int bad = 0, lines = 0;

	for (size_t i = 0; i < sizeof(PATHS) / sizeof(PATHS[0]); i++) {
		const char *methods[] = {"GET", "POST", "PATCH"};

		for (int m = 0; m < 3; m++) {
			r = call(methods[m], PATHS[i], admin, m ? "{}" : NULL, NULL);
			CU_ASSERT(r.status >= 400 && r.status < 500);
			if (!utf8_json(r.body, r.len))
				bad++, fprintf(stderr, "\n  %s %s: %s\n", methods[m], PATHS[i], r.body);
			http_resp_free(&r);
		}
	}
	/* "a" and 30 e-acute: 61 bytes, cut to 40 between the two bytes of one */
	strcpy(path, "/v1/fleet/jobs/a");
	for (int i = 0; i < 30; i++)
		strcat(path, "%c3%a9");
	r = call("GET", path, admin, NULL, NULL);
	EXPECT_ERROR(r, 404, "job_not_found");
	CU_ASSERT_TRUE(utf8_json(r.body, r.len));
	CU_ASSERT_PTR_NULL(strstr(r.body, "\\ufffd")); /* cut between characters, not in one */
	CU_ASSERT_PTR_NOT_NULL(strstr(str_at(r.json, "message"), "No job a\xc3\xa9"));
	http_resp_free(&r);
	for (size_t i = 0; i < sizeof(HEADERS) / sizeof(HEADERS[0]); i++) {
		const char *h[] = {HEADERS[i], NULL};

		CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", admin, NULL, 0, h, &r), 0);
		CU_ASSERT(r.status < 500);
		if (!utf8_json(r.body, r.len))
			bad++, fprintf(stderr, "\n  header %s: %s\n", HEADERS[i], r.body);
		if (strncmp(HEADERS[i], "X-Conductor-Tenant", 18) == 0) /* refused, naming it */
			EXPECT_STR(field_of(&r), "X-Conductor-Tenant");
		http_resp_free(&r);
		CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", "cdt_\xff\xfe", NULL, 0, h, &r), 0);
		EXPECT_ERROR(r, 401, "unauthorized");
		bad += !utf8_json(r.body, r.len);
		http_resp_free(&r);
	}
	for (size_t i = 0; i < sizeof(BODIES) / sizeof(BODIES[0]); i++) {
		r = call("POST", "/v1/fleet/jobs", tokens[2], BODIES[i], NULL);
		EXPECT_ERROR(r, 400, "invalid_request");
		bad += !utf8_json(r.body, r.len);
		http_resp_free(&r);
	}
	/* raw bytes in the request line, unencoded: no client library would send them */
	raw = fmt("GET /v1/fleet/jobs/\xff\xfe\xc3 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		  "X-Request-Id: \xc3\xa9\r\nConnection: close\r\n\r\n", admin);
	rr = raw_request(stack_port(), raw, strlen(raw));
	CU_ASSERT(rr.status >= 400 && rr.status < 500);
	if (!utf8_json(rr.body, rr.body_len))
		bad++, fprintf(stderr, "\n  raw request line: %s\n", rr.all);
	free(rr.all);
	free(raw);
	CU_ASSERT_EQUAL(bad, 0);

	/* nginx writes its access log at least once a second */
	sleep(2);
	for (size_t f = 0; f < 2; f++) {
		char *name = fmt("%s/log/%s", stack_dir(), files[f]);
		FILE *in = fopen(name, "r");

		CU_ASSERT_PTR_NOT_NULL_FATAL(in);
		while (fgets(line, sizeof(line), in) != NULL) {
			size_t n = strlen(line);

			lines++;
			if (!utf8_json(line, n) && bad++ < 5)
				fprintf(stderr, "\n  %s: not UTF-8 JSON: %.300s\n", files[f], line);
		}
		fclose(in);
		free(name);
	}
	CU_ASSERT(lines > 50);
	CU_ASSERT_EQUAL(bad, 0);
}

/* GET /healthz with count headers of its own, sent raw. */
static struct raw_resp raw_many_headers(int count)
{
	struct raw_resp rr;
	size_t cap = 64 * (size_t)count + 256, n;
	char *req = malloc(cap);

	n = (size_t)snprintf(req, cap, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
	for (int i = 0; i < count; i++)
		n += (size_t)snprintf(req + n, cap - n, "X-Header-%04d: some value here\r\n", i);
	n += (size_t)snprintf(req + n, cap - n, "Connection: close\r\n\r\n");
	rr = raw_request(stack_port(), req, n);
	free(req);
	return rr;
}

/* What nginx answers by itself is conductor's envelope, not its HTML page. */
static void test_nginx_own_errors_are_envelopes(void)
{
	char *ten_k = malloc(10241), *sixty_four_k = malloc(65537), *uri = malloc(9001);
	const char *h[] = {NULL, NULL};
	struct raw_resp rr;
	struct http_resp r;
	char *hdr;

	memset(ten_k, 'a', 10240), ten_k[10240] = '\0';
	memset(sixty_four_k, 'b', 65536), sixty_four_k[65536] = '\0';
	/* a 10 KB X-Request-Id, a 10 KB Authorization, a 64 KB header */
	hdr = fmt("X-Request-Id: %s", ten_k);
	h[0] = hdr;
	CU_ASSERT_EQUAL_FATAL(http_do("GET", "/v1/whoami", NULL, NULL, 0, h, &r), 0);
	rr = (struct raw_resp){.status = r.status, .all = r.body, .body = r.body, .body_len = r.len};
	snprintf(rr.content_type, sizeof(rr.content_type), "%s", r.content_type);
	snprintf(rr.request_id, sizeof(rr.request_id), "%s", r.request_id);
	EXPECT_RAW_ENVELOPE(rr, 431, "header_too_large");
	http_resp_free(&r);
	free(hdr);
	hdr = fmt("GET /v1/whoami HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		  "Connection: close\r\n\r\n", ten_k);
	rr = raw_request(stack_port(), hdr, strlen(hdr));
	EXPECT_RAW_ENVELOPE(rr, 431, "header_too_large");
	free(rr.all);
	free(hdr);
	hdr = fmt("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\nConnection: close\r\n\r\n",
		  sixty_four_k);
	rr = raw_request(stack_port(), hdr, strlen(hdr));
	EXPECT_RAW_ENVELOPE(rr, 431, "header_too_large");
	free(rr.all);
	free(hdr);
	/* a thousand headers */
	rr = raw_many_headers(1000);
	EXPECT_RAW_ENVELOPE(rr, 431, "header_too_large");
	free(rr.all);
	/* a request line of 9 000 bytes */
	memset(uri, 'u', 9000), uri[0] = '/', uri[9000] = '\0';
	hdr = fmt("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", uri);
	rr = raw_request(stack_port(), hdr, strlen(hdr));
	EXPECT_RAW_ENVELOPE(rr, 414, "uri_too_long");
	free(rr.all);
	free(hdr);
	/* no request line at all, a version nginx does not speak, an encoding it
	 * does not know, TRACE, nginx's own error pages asked for by name; the
	 * client's request id is kept where nginx read the headers */
	static const struct {
		const char *req;
		long status;
		const char *code;
	} RAW[] = {
		{"GARBAGE\r\n\r\n", 400, "bad_request"},
		{"GET /healthz HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400, "bad_request"},
		{"GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", 505, "http_version_not_supported"},
		{"POST /v1/tenants HTTP/1.1\r\nHost: t\r\nX-Request-Id: te-1\r\n"
		 "Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n", 501, "not_implemented"},
		{"TRACE / HTTP/1.1\r\nHost: t\r\nX-Request-Id: trace-1\r\nConnection: close\r\n\r\n",
		 405, "method_not_allowed"},
		{"GET /_nginx_error/bad_request HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404,
		 "route_not_found"},
	};
	for (size_t i = 0; i < sizeof(RAW) / sizeof(RAW[0]); i++) {
		rr = raw_request(stack_port(), RAW[i].req, strlen(RAW[i].req));
		EXPECT_RAW_ENVELOPE(rr, RAW[i].status, RAW[i].code);
		if (strstr(RAW[i].req, "trace-1") != NULL)
			CU_ASSERT_STRING_EQUAL(rr.request_id, "trace-1");
		free(rr.all);
	}
	free(ten_k);
	free(sixty_four_k);
	free(uri);
}

/* A free TCP port of 127.0.0.1 (the kernel's pick). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_answers(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* The upstream failures need an nginx of their own: a second one, on
 * nginx/conductor.conf and errors.conf as they are, in one process, whose
 * conductor_fcgi is a socket nobody listens on (502), beside a server whose
 * upstream accepts and never answers, with a 1 s timeout (504), and whose
 * locations return the other statuses nginx produces itself (411, 429, 500,
 * 503) -- the real stack's routes are left alone. */
static void test_nginx_upstream_errors_are_envelopes(void)
{
	const char *top = getenv("top_srcdir");
	char dir[512], line[4096], *conf, *temp = fmt("%s", ""), *p;
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	int port_a = free_port(), port_b = free_port(), silent;
	FILE *f;
	pid_t pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	snprintf(dir, sizeof(dir), "%s/nginx-errors-XXXXXX", stack_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	/* the temp paths this nginx needs, as tools/stack wrote them */
	p = fmt("%s/nginx/nginx.conf", stack_dir());
	f = fopen(p, "r");
	free(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "_temp_path") != NULL) {
			p = fmt("%s%s", temp, line);
			free(temp);
			temp = p;
		}
	fclose(f);
	conf = fmt("pid %s/nginx.pid;\nevents { worker_connections 64; }\nhttp {\n"
		   "access_log off;\n%s\nupstream conductor_fcgi { server unix:%s/nobody.sock; }\n"
		   "map $host $cd_ui_root { default \"%s/nginx\"; }\n"
		   "include %s/nginx/conductor.conf;\n"
		   "server {\n listen 127.0.0.1:%d;\n include errors.conf;\n"
		   " location = /slow { fastcgi_pass unix:%s/silent.sock; include fastcgi_params;"
		   " fastcgi_read_timeout 1s; }\n"
		   " location = /411 { return 411; }\n"
		   " location = /429 { return 429; }\n location = /500 { return 500; }\n"
		   " location = /503 { return 503; }\n}\n}\n",
		   dir, temp, dir, top, top, port_b, dir);
	p = fmt("%s/nginx.conf", dir);
	f = fopen(p, "w");
	fputs(conf, f);
	fclose(f);
	free(p);
	p = fmt("%s/listen.conf", dir);
	f = fopen(p, "w");
	fprintf(f, "listen 127.0.0.1:%d;\n", port_a);
	fclose(f);
	free(p);
	p = fmt("%s/errors.conf", dir);
	free(temp);
	temp = fmt("%s/nginx/errors.conf", top);
	CU_ASSERT_EQUAL(symlink(temp, p), 0);
	free(p), free(temp);
	p = fmt("%s/fastcgi_params", dir);
	temp = fmt("%s/nginx/fastcgi_params", top);
	CU_ASSERT_EQUAL(symlink(temp, p), 0);
	free(p), free(temp);
	/* the upstream that takes connections and never answers */
	silent = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(strlen(dir) < 90);
	snprintf(su.sun_path, sizeof(su.sun_path), "%.90s/silent.sock", dir);
	CU_ASSERT_FATAL(bind(silent, (struct sockaddr *)&su, sizeof(su)) == 0 &&
			listen(silent, 16) == 0);

	pid = fork();
	if (pid == 0) {
		char prefix[600], cfile[600], elog[600];

		snprintf(prefix, sizeof(prefix), "%s/", dir);
		snprintf(cfile, sizeof(cfile), "%s/nginx.conf", dir);
		snprintf(elog, sizeof(elog), "%s/error.log", dir);
		execlp("nginx", "nginx", "-p", prefix, "-c", cfile, "-e", elog, "-g",
		       "daemon off; master_process off;", (char *)NULL);
		_exit(127);
	}
	CU_ASSERT_FATAL(pid > 0);
	for (int i = 0; i < 100 && !(port_answers(port_a) && port_answers(port_b)); i++)
		usleep(50000);
	if (port_answers(port_b)) {
		static const struct {
			int server; /* 0: conductor.conf's, 1: the other */
			const char *path;
			long status;
			const char *code;
		} CASES[] = {
			{0, "/healthz", 503, "service_unavailable"}, /* nginx's 502 */
			{0, "/v1/whoami", 503, "service_unavailable"},
			{1, "/slow", 504, "upstream_timeout"},
			{1, "/411", 411, "length_required"},
			{1, "/429", 429, "rate_limited"},
			{1, "/500", 500, "internal_error"},
			{1, "/503", 503, "service_unavailable"},
		};
		for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
			char *req = fmt("GET %s HTTP/1.1\r\nHost: t\r\nX-Request-Id: up-%zu\r\n"
					"Connection: close\r\n\r\n", CASES[i].path, i);
			struct raw_resp rr = raw_request(CASES[i].server ? port_b : port_a, req,
							 strlen(req));

			EXPECT_RAW_ENVELOPE(rr, CASES[i].status, CASES[i].code);
			free(rr.all);
			free(req);
		}
	} else {
		CU_FAIL("the second nginx did not start (see its error.log)");
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	close(silent);
	free(conf);
	p = fmt("rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(p), 0);
	free(p);
}

/* HEAD answers as GET does, headers only: the same status, type and
 * Content-Length, no body; a path without GET refuses it with its Allow. */
static void test_head_answers_as_get(void)
{
	static const struct {
		const char *path;
		int token;	/* index into tokens, -1: none */
		long status;
		bool same_len;	/* the GET's body is the same on every call */
	} CASES[] = {
		{"/healthz", -1, 200, true},
		{"/readyz", -1, 200, true},
		{"/v1/whoami", 5, 200, true},
		{"/v1/fleet/jobs?limit=2", 5, 200, false},
		{"/v1/system/state", 5, 200, false},
		{"/v1/fleet/jobs/999999999", 5, 404, true},
		{"/v1/fleet/jobs/%ff", 5, 404, true},
		{"/v1/nothing-here", 5, 404, false}, /* its message names the method */
		{"/v1/whoami", -1, 401, true},
	};
	const char *h[] = {"X-Request-Id: head-and-get", NULL};
	struct http_resp g, hd;

	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		const char *tok = CASES[i].token >= 0 ? tokens[CASES[i].token] : NULL;

		CU_ASSERT_EQUAL_FATAL(http_do("GET", CASES[i].path, tok, NULL, 0, h, &g), 0);
		CU_ASSERT_EQUAL_FATAL(http_do("HEAD", CASES[i].path, tok, NULL, 0, h, &hd), 0);
		EXPECT_STATUS(g, CASES[i].status);
		EXPECT_STATUS(hd, CASES[i].status);
		EXPECT_STR(hd.content_type, g.content_type);
		EXPECT_STR(hd.request_id, "head-and-get");
		EXPECT_INT((int64_t)hd.len, 0);
		if (CASES[i].same_len)
			EXPECT_INT(hd.content_length, (int64_t)g.len);
		http_resp_free(&g);
		http_resp_free(&hd);
	}
	/* a POST-only route refuses HEAD, and every 405 that allows GET lists HEAD */
	CU_ASSERT_EQUAL_FATAL(http_do("HEAD", "/v1/fleet/claim", tokens[3], NULL, 0, NULL, &hd), 0);
	EXPECT_STATUS(hd, 405);
	EXPECT_STR(hd.allow, "POST");
	http_resp_free(&hd);
	CU_ASSERT_EQUAL_FATAL(http_do("DELETE", "/v1/fleet/jobs/1", tokens[5], NULL, 0, NULL, &g), 0);
	EXPECT_ERROR(g, 405, "method_not_allowed");
	EXPECT_STR(g.allow, "GET, HEAD, PATCH");
	http_resp_free(&g);
}

/* var/log is 0750 and every log in it at most 0640: no log is world-readable. */
static void test_logs_not_world_readable(void)
{
	char *dir = fmt("%s/log", stack_dir());
	struct dirent *de;
	struct stat st;
	int files = 0;
	DIR *d;

	CU_ASSERT_EQUAL_FATAL(stat(dir, &st), 0);
	EXPECT_INT(st.st_mode & 07777, 0750);
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		char *p = fmt("%s/%s", dir, de->d_name);

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			files++;
			if ((st.st_mode & 0137) != 0)
				fprintf(stderr, "\n  %s is %04o\n", p, (unsigned)(st.st_mode & 07777));
			CU_ASSERT_EQUAL(st.st_mode & 0137, 0);
		}
		free(p);
	}
	closedir(d);
	CU_ASSERT(files >= 4); /* fcgi, nginx's two, postgres, redis */
	free(dir);
}

/* The pid in the stack's run/NAME, 0 when none. */
static long stack_pid(const char *name)
{
	char *p = fmt("%s/run/%s", stack_dir(), name);
	FILE *f = fopen(p, "r");
	long pid = 0;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	free(p);
	return pid;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SIGKILLs the worker and waits for a new one that answers; the seconds it
 * took, or a large number when none came within 5 s. */
static double kill_worker_and_wait(void)
{
	long old = stack_pid("fcgi-worker.pid");
	double t0 = now_s();

	CU_ASSERT_FATAL(old > 0);
	CU_ASSERT_EQUAL_FATAL(kill((pid_t)old, SIGKILL), 0);
	while (now_s() - t0 < 5) {
		long now = stack_pid("fcgi-worker.pid");

		if (now > 0 && now != old && kill((pid_t)now, 0) == 0) {
			struct http_resp r = get("/v1/whoami", tokens[5]);
			bool ok = r.status == 200;

			http_resp_free(&r);
			if (ok)
				return now_s() - t0;
		}
		usleep(20000);
	}
	return 1e9;
}

/* The last line of fcgi.log holding needle, into out ("" when none). */
static void last_log_line(const char *needle, char *out, size_t cap)
{
	char *p = fmt("%s/log/fcgi.log", stack_dir()), line[8192];
	FILE *f = fopen(p, "r");

	out[0] = '\0';
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			snprintf(out, cap, "%s", line);
	fclose(f);
	free(p);
}

/* A SIGKILLed conductor-fcgi is started again by its supervisor: requests
 * succeed within 2 s, the restart is logged, and a second crash right after
 * the first waits longer (the backoff). */
static void test_killed_worker_is_restarted(void)
{
	char line[8192];
	double took;

	took = kill_worker_and_wait();
	CU_ASSERT(took < 2.0);
	fprintf(stderr, " [back in %.2f s", took);
	last_log_line("worker process died", line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"cause\":\"signal 9\""));
	CU_ASSERT_TRUE(utf8_json(line, strlen(line)));
	took = kill_worker_and_wait();
	CU_ASSERT(took < 2.0);
	fprintf(stderr, ", then %.2f s]", took);
	last_log_line("worker process died", line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"delay_ms\":\"200\""));
}

/* Every binary and every conductorctl command answers --help with no
 * configuration at all (an empty environment). */
static void test_help_without_configuration(void)
{
	const char *ctl = getenv("CONDUCTOR_CTL"), *reaper = getenv("CONDUCTOR_REAPER");
	static const char *const CTL_ARGS[] = {
		"--help",	  "token create --help", "token list --help", "token revoke --help",
		"tenant create --help", "tenant list --help", "token --help", "tenant -h",
		"token create --role admin --help",
	};
	char *dir, *cmd, out[4096];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reaper);
	dir = fmt("%s", ctl);
	*strrchr(dir, '/') = '\0';
	for (size_t i = 0; i < sizeof(CTL_ARGS) / sizeof(CTL_ARGS[0]) + 2; i++) {
		size_t n = sizeof(CTL_ARGS) / sizeof(CTL_ARGS[0]);
		FILE *p;
		int status;

		if (i < n)
			cmd = fmt("env -i %s %s 2>&1", ctl, CTL_ARGS[i]);
		else if (i == n)
			cmd = fmt("env -i %s --help 2>&1", reaper);
		else
			cmd = fmt("env -i %s/conductor-fcgi --help 2>&1", dir);
		p = popen(cmd, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		out[fread(out, 1, sizeof(out) - 1, p)] = '\0';
		while (fgetc(p) != EOF)
			;
		status = pclose(p);
		if (status != 0 || strstr(out, "Usage") == NULL)
			fprintf(stderr, "\n  %s: status %d: %.300s\n", cmd, status, out);
		CU_ASSERT_EQUAL(status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "Usage"));
		CU_ASSERT_PTR_NULL(strstr(out, "is required"));
		free(cmd);
	}
	free(dir);
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
	{"revoked_token_refused_at_once_when_cached", test_revoked_token_refused_at_once_when_cached},
	{"expired_token_refused_when_cached", test_expired_token_refused_when_cached},
	{"route_role_matrix_from_routes_tsv", test_route_role_matrix_from_routes_tsv},
	{"unknown_route_404_and_wrong_method_405", test_unknown_route_404_and_wrong_method_405},
	{"request_id_echoed", test_request_id_echoed},
	{"bad_bodies_get_4xx_envelopes", test_bad_bodies_get_4xx_envelopes},
	{"tenant_create_then_conflict", test_tenant_create_then_conflict},
	{"mutated_bodies_never_5xx", test_mutated_bodies_never_5xx},
	{"tenant_header", test_tenant_header},
	{"hostile_bytes_answer_and_log_utf8_json", test_hostile_bytes_answer_and_log_utf8_json},
	{"nginx_own_errors_are_envelopes", test_nginx_own_errors_are_envelopes},
	{"nginx_upstream_errors_are_envelopes", test_nginx_upstream_errors_are_envelopes},
	{"head_answers_as_get", test_head_answers_as_get},
	{"logs_not_world_readable", test_logs_not_world_readable},
	{"help_without_configuration", test_help_without_configuration},
	{"killed_worker_is_restarted", test_killed_worker_is_restarted},
	{"reconnects_after_database_connections_die", test_reconnects_after_database_connections_die},
	{"transactions_after_database_connections_die",
	 test_transactions_after_database_connections_die},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run_with("http", TESTS, NULL, clean);
}

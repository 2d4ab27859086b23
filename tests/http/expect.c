/* expect.c -- what the integration suites share; see the header. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "base/json.h"
#include "expect.h"

#define MAX_TENANTS 48

static const struct suite *cur; /* the running suite, for tenants and messages */
static PGconn *pg;              /* the database, for what the API cannot do */
static char run_tag[16];        /* makes names unique per run */
static struct tenant tenants[MAX_TENANTS];
static int ntenants;

/* ---- JSON ----------------------------------------------------------------- */

const char *str_at(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return "";
	return json_object_get_string(v);
}

struct json_object *obj_at(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

bool null_at(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o != NULL && json_object_object_get_ex(o, key, &v) && v == NULL;
}

int64_t int_at(struct json_object *o, const char *key)
{
	struct json_object *v = obj_at(o, key);

	return v != NULL ? json_object_get_int64(v) : -1;
}

bool bool_at(struct json_object *o, const char *key)
{
	return is_bool_at(o, key) && json_object_get_boolean(obj_at(o, key));
}

bool is_bool_at(struct json_object *o, const char *key)
{
	struct json_object *v = obj_at(o, key);

	return v != NULL && json_object_is_type(v, json_type_boolean);
}

bool is_array(struct json_object *o)
{
	return o != NULL && json_object_is_type(o, json_type_array);
}

size_t len_of(struct json_object *arr)
{
	return is_array(arr) ? json_object_array_length(arr) : 0;
}

struct json_object *item_at(struct json_object *arr, size_t i)
{
	return i < len_of(arr) ? json_object_array_get_idx(arr, i) : NULL;
}

struct json_object *data_of(const struct http_resp *r)
{
	return obj_at(r->json, "data");
}

const char *field_of(const struct http_resp *r)
{
	return str_at(obj_at(r->json, "details"), "field");
}

/* ---- assertions that name the caller's line ------------------------------ */

void check_at(bool ok, const char *file, int line, const char *text)
{
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned)line, text, file, "", CU_FALSE);
}

bool expect_status_at(const struct http_resp *r, long status, const char *file, int line)
{
	bool ok = r->status == status;

	check_at(ok, file, line, "HTTP status as expected");
	if (!ok)
		fprintf(stderr, "\n  line %d: expected %ld, got %ld %s\n", line, status, r->status,
		        r->body ? r->body : "(no body)");
	return ok;
}

void expect_error_at(const struct http_resp *r, long status, const char *code, const char *file,
                     int line)
{
	bool ok = r->status == status && strcmp(str_at(r->json, "error"), code) == 0;

	check_at(ok, file, line, "error status and code as expected");
	check_at(r->json != NULL && obj_at(r->json, "ok") != NULL && !bool_at(r->json, "ok"), file,
	         line, "error envelope has ok:false");
	check_at(strlen(str_at(r->json, "message")) > 10, file, line,
	         "error envelope has a message");
	check_at(obj_at(r->json, "details") != NULL, file, line, "error envelope has details");
	check_at(strlen(r->request_id) > 0 &&
	             strcmp(str_at(r->json, "request_id"), r->request_id) == 0,
	         file, line, "request_id in body equals X-Request-Id");
	if (!ok)
		fprintf(stderr, "\n  line %d: expected %ld %s, got %ld %s\n", line, status, code,
		        r->status, r->body ? r->body : "(no body)");
}

void expect_refused_at(const char *token, const char *method, const char *path, const char *body,
                       const char *field, const char *file, int line)
{
	struct http_resp r = call(method, path, token, body, NULL);

	expect_error_at(&r, 400, "invalid_request", file, line);
	check_at(strcmp(field_of(&r), field) == 0, file, line, "the refusal names the field");
	if (r.status != 400 || strcmp(field_of(&r), field) != 0)
		fprintf(stderr, "\n  line %d: %s %s %.300s: %ld field \"%s\", want 400 \"%s\"\n",
		        line, method, path, body, r.status, field_of(&r), field);
	http_resp_free(&r);
}

void expect_str_at(const char *got, const char *want, const char *file, int line)
{
	bool ok = strcmp(got, want) == 0;

	check_at(ok, file, line, "string as expected");
	if (!ok)
		fprintf(stderr, "\n  line %d: expected \"%s\", got \"%s\"\n", line, want, got);
}

void expect_int_at(int64_t got, int64_t want, const char *file, int line)
{
	bool ok = got == want;

	check_at(ok, file, line, "integer as expected");
	if (!ok)
		fprintf(stderr, "\n  line %d: expected %" PRId64 ", got %" PRId64 "\n", line, want,
		        got);
}

/* ---- HTTP ----------------------------------------------------------------- */

static char *vfmt(const char *f, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, f, ap) < 0)
		abort();
	return s;
}

char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	s = vfmt(f, ap);
	va_end(ap);
	return s;
}

struct http_resp call(const char *method, const char *path, const char *token, const char *body,
                      const char *const *headers)
{
	struct http_resp r;

	if (http_do(method, path, token, body, body ? strlen(body) : 0, headers, &r) != 0) {
		CU_FAIL("transport error");
		memset(&r, 0, sizeof(r));
	}
	return r;
}

struct http_resp callf(const char *method, const char *path, const char *token, const char *f, ...)
{
	struct http_resp r;
	va_list ap;
	char *body;

	va_start(ap, f);
	body = vfmt(f, ap);
	va_end(ap);
	r = call(method, path, token, body, NULL);
	free(body);
	return r;
}

/* ---- the database --------------------------------------------------------- */

/* Runs sql with the parameters that follow it in ap (see the header). */
static PGresult *pg_exec(const char *sql, va_list ap)
{
	const char *p[4], *s;
	PGresult *res;
	int n = 0;

	while (n < 4 && (s = va_arg(ap, const char *)) != NULL)
		p[n++] = s;
	res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	if (PQstatus(pg) != CONNECTION_OK) { /* PostgreSQL was restarted (test_reaper) */
		PQclear(res);
		PQreset(pg);
		res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	}
	return res;
}

/* Is res one row whose first value is not null? Says on stderr when the
 * query failed. */
static bool one_value(PGresult *res, const char *sql)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "\n  sql failed: %s: %s", sql, PQresultErrorMessage(res));
		return false;
	}
	return PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
}

long long pg_int(const char *sql, ...)
{
	PGresult *res;
	long long v = -1;
	va_list ap;

	va_start(ap, sql);
	res = pg_exec(sql, ap);
	va_end(ap);
	if (one_value(res, sql))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

const char *pg_str(char *out, size_t cap, const char *sql, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, sql);
	res = pg_exec(sql, ap);
	va_end(ap);
	out[0] = '\0';
	if (one_value(res, sql))
		snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

long long pg_cmd(char *state, const char *sql, ...)
{
	PGresult *res;
	long long v = -1;
	const char *s;
	va_list ap;

	va_start(ap, sql);
	res = pg_exec(sql, ap);
	va_end(ap);
	if (state != NULL)
		state[0] = '\0';
	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
		v = strtoll(PQcmdTuples(res)[0] ? PQcmdTuples(res) : "0", NULL, 10);
	} else if (state != NULL) {
		s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(state, 6, "%s", s ? s : "?????");
	} else {
		fprintf(stderr, "\n  sql failed: %s: %s", sql, PQresultErrorMessage(res));
	}
	PQclear(res);
	return v;
}

/* ---- tenants and tokens --------------------------------------------------- */

static char *token_new(const struct tenant *t, const char *role)
{
	char args[256];

	snprintf(args, sizeof(args),
	         "token create --role %s --name %c-%s-%c --tenant %s 2>/dev/null", role,
	         cur->tenant_prefix[0], t->name + strlen(cur->tenant_prefix) + 1, role[0], t->name);
	return ctl_run(args);
}

struct tenant *tenant_new(const char *what)
{
	struct tenant *t;
	char args[128];
	long long id;
	char *out;

	if (ntenants == MAX_TENANTS)
		return NULL;
	t = &tenants[ntenants++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s-%s-%s", cur->tenant_prefix, what, run_tag);
	snprintf(args, sizeof(args), "tenant create %s 2>/dev/null", t->name);
	if ((out = ctl_run(args)) == NULL)
		return NULL;
	free(out);
	t->submitter = token_new(t, "submitter");
	t->worker = token_new(t, "worker");
	t->reader = token_new(t, "readonly");
	if (cur->control_roles) {
		t->operator= token_new(t, "operator");
		t->controller = token_new(t, "controller");
	}
	id = pg_int("SELECT id FROM tenants WHERE name = $1", t->name, NULL);
	if (t->submitter == NULL || t->worker == NULL || t->reader == NULL ||
	    (cur->control_roles && (t->operator== NULL || t->controller == NULL)) || id <= 0)
		return NULL;
	snprintf(t->tid, sizeof(t->tid), "%lld", id);
	return t;
}

/* ---- jobs ----------------------------------------------------------------- */

int claimed_of(const struct http_resp *r, const char *factory, struct claimed *out,
               const char *file, int line)
{
	struct json_object *arr = obj_at(data_of(r), "jobs");

	out->n = 0;
	for (size_t i = 0; i < len_of(arr) && out->n < CLAIM_MAX; i++) {
		struct json_object *j = item_at(arr, i);

		snprintf(out->id[out->n], IDLEN, "%s", str_at(j, "id"));
		out->epoch[out->n] = int_at(obj_at(j, "lease"), "epoch");
		out->attempts[out->n] = int_at(j, "attempts");
		snprintf(out->priority[out->n], sizeof(out->priority[0]), "%s",
		         str_at(j, "priority"));
		check_at(strcmp(str_at(j, "stage"), "assigned") == 0, file, line,
		         "claimed job is assigned");
		check_at(strcmp(str_at(obj_at(j, "lease"), "holder"), factory) == 0, file, line,
		         "claimed job is held by the claimer");
		out->n++;
	}
	return out->n;
}

struct snap snap_job(const struct tenant *t, const char *id)
{
	char path[96];
	struct http_resp r;
	struct json_object *j, *l;
	struct snap s;

	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s", id);
	r = call("GET", path, t->reader, NULL, NULL);
	j = data_of(&r);
	l = obj_at(j, "lease");
	memset(&s, 0, sizeof(s));
	s.status = r.status;
	snprintf(s.stage, sizeof(s.stage), "%s", str_at(j, "stage"));
	snprintf(s.lease_status, sizeof(s.lease_status), "%s", str_at(l, "status"));
	snprintf(s.holder, sizeof(s.holder), "%s", str_at(l, "holder"));
	s.rev = int_at(j, "rev");
	s.epoch = int_at(l, "epoch");
	s.attempts = int_at(j, "attempts");
	http_resp_free(&r);
	return s;
}

void expect_unchanged_at(const struct snap *before, const struct snap *after, const char *file,
                         int line)
{
	bool same = after->status == 200 && before->rev == after->rev &&
	            strcmp(before->stage, after->stage) == 0 && before->epoch == after->epoch &&
	            strcmp(before->lease_status, after->lease_status) == 0 &&
	            strcmp(before->holder, after->holder) == 0;

	check_at(same, file, line, "job unchanged by the refused call");
	if (!same)
		fprintf(stderr,
		        "\n  line %d: job changed: rev %" PRId64 "->%" PRId64 " stage %s->%s "
		        "epoch %" PRId64 "->%" PRId64 " lease %s->%s\n",
		        line, before->rev, after->rev, before->stage, after->stage, before->epoch,
		        after->epoch, before->lease_status, after->lease_status);
}

/* ---- the suite ------------------------------------------------------------ */

static int suite_init(void)
{
	const char *url = getenv("CONDUCTOR_DATABASE_URL");

	snprintf(run_tag, sizeof(run_tag), "%08lx",
	         ((unsigned long)time(NULL) * 2654435761UL ^ (unsigned long)getpid()) &
	             0xffffffffUL);
	if (url == NULL || getenv("CONDUCTOR_URL") == NULL || getenv("CONDUCTOR_CTL") == NULL) {
		fprintf(stderr,
		        "test_%s needs CONDUCTOR_URL, CONDUCTOR_DATABASE_URL, CONDUCTOR_CTL\n",
		        cur->name);
		return 1;
	}
	pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "test_%s: %s", cur->name, PQerrorMessage(pg));
		return 1;
	}
	return 0;
}

static int suite_clean(void)
{
	for (int i = 0; i < ntenants; i++) {
		free(tenants[i].submitter);
		free(tenants[i].worker);
		free(tenants[i].reader);
		free(tenants[i].operator);
		free(tenants[i].controller);
	}
	PQfinish(pg);
	pg = NULL;
	return 0;
}

/* Keeps only the tests named in $<SUITE>_ONLY (name[,name...]), when set:
 * for working on one. */
static void only_named(CU_TestInfo *tests, const char *suite)
{
	char env[64];
	const char *only;
	size_t kept = 0;

	snprintf(env, sizeof(env), "%s_ONLY", suite);
	for (char *c = env; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	only = getenv(env);
	if (only == NULL || only[0] == '\0')
		return;
	for (size_t i = 0; tests[i].pName != NULL; i++) {
		size_t n = strlen(tests[i].pName);
		const char *p = only;
		bool hit = false;

		while (!hit && (p = strstr(p, tests[i].pName)) != NULL) {
			hit = (p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0');
			p += n;
		}
		if (hit)
			tests[kept++] = tests[i];
	}
	tests[kept] = (CU_TestInfo)CU_TEST_INFO_NULL;
}

int suite_run(const struct suite *s, CU_TestInfo *tests)
{
	int rc;

	cur = s;
	only_named(tests, s->name);
	curl_global_init(CURL_GLOBAL_ALL); /* before any thread */
	rc = cutest_run_with(s->name, tests, suite_init, suite_clean);
	curl_global_cleanup();
	return rc;
}

/* ---- the fake provider ------------------------------------------------------ */

struct fake_sink {
	char data[1 << 20];
	size_t len;
};

static size_t fake_on_data(char *p, size_t size, size_t n, void *userdata)
{
	struct fake_sink *s = userdata;
	size_t len = size * n;

	if (s->len + len >= sizeof(s->data))
		return 0;
	memcpy(s->data + s->len, p, len);
	s->len += len;
	s->data[s->len] = '\0';
	return len;
}

struct json_object *fake_call(const char *method, const char *path, const char *body)
{
	static struct fake_sink s;
	const char *base = getenv("CONDUCTOR_RUNPOD_API_URL"), *end;
	struct json_object *out = NULL;
	char url[512];
	CURL *c = curl_easy_init();

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	end = strstr(base, "/runpod/v1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	snprintf(url, sizeof(url), "%.*s%s", (int)(end - base), base, path);
	s.len = 0;
	s.data[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fake_on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	CU_ASSERT_EQUAL(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	if (s.len > 0)
		json_parse_strict(s.data, s.len, &out, NULL);
	return out;
}

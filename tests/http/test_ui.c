/* test_ui.c -- the status pages through nginx (DESIGN 8): redirect without a
 * session, login (the cookie's attributes; only the session id's hash
 * stored), logout ending the session on the server, session expiry, a
 * revoked token's sessions, CSRF refused (missing, or another session's),
 * readonly sees no buttons and its POST is 403, tenant B's session never sees
 * tenant A's jobs, values shown as text, and the security headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

#define FORM "Content-Type: application/x-www-form-urlencoded"

/* A browser session: the cookie header line and the page's CSRF token. */
struct sess {
	char cookie[128];	/* "Cookie: cd_session=..." */
	char sid[64];
	char csrf[65];
};

/* One request with the session's cookie (s may be NULL) and a form body. */
static struct http_resp ui(const char *method, const char *path, const struct sess *s,
			   const char *form, const char *extra)
{
	const char *h[4] = {FORM, s ? s->cookie : NULL, NULL, NULL};
	struct http_resp r;

	if (s == NULL)
		h[1] = extra, h[2] = NULL;
	else
		h[2] = extra;
	if (http_do(method, path, NULL, form, form ? strlen(form) : 0, h, &r) != 0) {
		CU_FAIL("transport error");
		r.status = 0;
	}
	return r;
}

/* The CSRF token in a page's forms; "" when none. */
static void csrf_of(const char *html, char out[65])
{
	const char *p = html ? strstr(html, "name=\"csrf\" value=\"") : NULL;

	out[0] = '\0';
	if (p != NULL)
		snprintf(out, 65, "%.64s", p + strlen("name=\"csrf\" value=\""));
}

/* Logs token in; fills s from the Set-Cookie and the overview's forms.
 * Returns the login's status. */
static long login(const char *token, struct sess *s, const char *extra)
{
	char *form = fmt("token=%s", token);
	struct http_resp r = ui("POST", "/ui/login", NULL, form, extra);
	long status = r.status;
	size_t n;

	memset(s, 0, sizeof(*s));
	if (strncmp(r.set_cookie, "cd_session=", 11) == 0) {
		n = strcspn(r.set_cookie + 11, ";");
		snprintf(s->sid, sizeof(s->sid), "%.*s", (int)n, r.set_cookie + 11);
		snprintf(s->cookie, sizeof(s->cookie), "Cookie: cd_session=%s", s->sid);
	}
	http_resp_free(&r);
	free(form);
	if (s->sid[0] != '\0') {
		r = ui("GET", "/ui/", s, NULL, NULL);
		csrf_of(r.body, s->csrf);
		http_resp_free(&r);
	}
	return status;
}

/* GET path with s answers 303 to the login page. */
#define EXPECT_LOGIN_REDIRECT(path, s) expect_redirect_at((path), (s), __LINE__)
static void expect_redirect_at(const char *path, const struct sess *s, int line)
{
	struct http_resp r = ui("GET", path, s, NULL, NULL);

	CHECK_AT(r.status == 303, line, "303 to the login page");
	CHECK_AT(strcmp(r.location, "/ui/login") == 0, line, "Location: /ui/login");
	http_resp_free(&r);
}

static void mode_of(const struct tenant *t, char out[32])
{
	struct http_resp r = call("GET", "/v1/system/state", t->reader, NULL, NULL);

	snprintf(out, 32, "%s", str_at(data_of(&r), "mode"));
	http_resp_free(&r);
}

static void test_redirect_without_session(void)
{
	struct sess bogus = {.cookie = "Cookie: cd_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	struct tenant *t = tenant_new("redir");
	struct http_resp r;
	char mode[32];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_LOGIN_REDIRECT("/ui/", NULL);
	EXPECT_LOGIN_REDIRECT("/ui/jobs", NULL);
	EXPECT_LOGIN_REDIRECT("/ui/jobs/1", NULL);
	EXPECT_LOGIN_REDIRECT("/ui/workers", NULL);
	EXPECT_LOGIN_REDIRECT("/ui/", &bogus);
	/* a bearer token is not a session */
	r = call("GET", "/ui/", t->operator, NULL, NULL);
	EXPECT_STATUS(r, 303);
	http_resp_free(&r);
	/* a POST without a session changes nothing */
	r = ui("POST", "/ui/system/pause", NULL, "reason=x", NULL);
	EXPECT_STATUS(r, 303);
	http_resp_free(&r);
	mode_of(t, mode);
	EXPECT_STR(mode, "running");
	/* the login page itself needs nothing */
	r = ui("GET", "/ui/login", NULL, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "name=\"token\""));
	http_resp_free(&r);
}

static void test_login_cookie_and_logout(void)
{
	struct tenant *t = tenant_new("login");
	struct sess s, https;
	struct http_resp r;
	char *form;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* refused: unknown token, a worker's token, an empty form */
	EXPECT_INT(login("cdt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &s, NULL), 401);
	CU_ASSERT_STRING_EQUAL(s.sid, "");
	EXPECT_INT(login(t->worker, &s, NULL), 403);
	CU_ASSERT_STRING_EQUAL(s.sid, "");
	r = ui("POST", "/ui/login", NULL, "", NULL);
	EXPECT_STATUS(r, 400);
	http_resp_free(&r);

	r = ui("POST", "/ui/login", NULL, (form = fmt("token=%s", t->operator)), NULL);
	EXPECT_STATUS(r, 303);
	EXPECT_STR(r.location, "/ui/");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.set_cookie, "; HttpOnly"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.set_cookie, "; SameSite=Strict"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.set_cookie, "; Path=/ui"));
	CU_ASSERT_PTR_NULL(strstr(r.set_cookie, "Secure"));
	CU_ASSERT_PTR_NULL(strstr(r.set_cookie, t->operator + 4));
	http_resp_free(&r);
	free(form);

	EXPECT_INT(login(t->operator, &s, NULL), 303);
	CU_ASSERT_EQUAL_FATAL(strlen(s.sid), 43);
	CU_ASSERT_EQUAL(strlen(s.csrf), 64);
	/* the database holds the id's SHA-256, never the id */
	EXPECT_INT(pg_int("SELECT count(*) FROM ui_sessions WHERE session_hash = "
			  "encode(sha256(convert_to($1, 'UTF8')), 'hex')",
			  s.sid, NULL),
		   1);
	EXPECT_INT(pg_int("SELECT count(*) FROM ui_sessions WHERE session_hash = $1", s.sid, NULL),
		   0);
	r = ui("GET", "/ui/", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "text/html"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "id=\"mode\""));
	http_resp_free(&r);

	/* over HTTPS (as nginx's front says) the cookie is Secure */
	r = ui("POST", "/ui/login", NULL, (form = fmt("token=%s", t->operator)),
	       "X-Forwarded-Proto: https");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.set_cookie, "; Secure"));
	http_resp_free(&r);
	free(form);
	(void)https;

	/* logout without the CSRF token: refused, the session lives on */
	r = ui("POST", "/ui/logout", &s, "", NULL);
	EXPECT_STATUS(r, 403);
	http_resp_free(&r);
	r = ui("GET", "/ui/", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	/* logout ends it on the server: the same cookie no longer works */
	r = ui("POST", "/ui/logout", &s, (form = fmt("csrf=%s", s.csrf)), NULL);
	EXPECT_STATUS(r, 303);
	EXPECT_STR(r.location, "/ui/login");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.set_cookie, "Max-Age=0"));
	http_resp_free(&r);
	free(form);
	EXPECT_INT(pg_int("SELECT count(*) FROM ui_sessions WHERE session_hash = "
			  "encode(sha256(convert_to($1, 'UTF8')), 'hex')",
			  s.sid, NULL),
		   0);
	EXPECT_LOGIN_REDIRECT("/ui/", &s);
}

static void test_session_expiry(void)
{
	struct tenant *t = tenant_new("expiry");
	struct sess s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(login(t->reader, &s, NULL), 303);
	CU_ASSERT_EQUAL_FATAL(strlen(s.sid), 43);
	EXPECT_INT(pg_cmd(NULL,
			  "UPDATE ui_sessions SET expires_at = now() - interval '1 second'"
			  " WHERE session_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
			  s.sid, NULL),
		   1);
	EXPECT_LOGIN_REDIRECT("/ui/", &s);
}

static void test_revoked_token_ends_sessions(void)
{
	struct tenant *t = tenant_new("revoke");
	struct sess s;
	struct http_resp r;
	char *out, *args;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(login(t->operator, &s, NULL), 303);
	r = ui("GET", "/ui/jobs", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	out = ctl_run((args = fmt("token revoke --name u-%s-o 2>/dev/null", t->name + 3)));
	CU_ASSERT_PTR_NOT_NULL(out);
	free(out);
	free(args);
	EXPECT_LOGIN_REDIRECT("/ui/jobs", &s);
	EXPECT_LOGIN_REDIRECT("/ui/", &s);
}

static void test_csrf_refused(void)
{
	struct tenant *t = tenant_new("csrf");
	struct sess a, b;
	struct http_resp r;
	char mode[32], *form;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(login(t->operator, &a, NULL), 303);
	EXPECT_INT(login(t->operator, &b, NULL), 303);
	CU_ASSERT_STRING_NOT_EQUAL(a.csrf, b.csrf);
	/* no token */
	r = ui("POST", "/ui/system/pause", &a, "reason=no+csrf", NULL);
	EXPECT_STATUS(r, 403);
	http_resp_free(&r);
	/* another session's token */
	r = ui("POST", "/ui/system/pause", &a, (form = fmt("csrf=%s&reason=x", b.csrf)), NULL);
	EXPECT_STATUS(r, 403);
	http_resp_free(&r);
	free(form);
	mode_of(t, mode);
	EXPECT_STR(mode, "running");
	r = ui("POST", "/ui/runtimes/999999999/destroy", &a, (form = fmt("csrf=%s", b.csrf)), NULL);
	EXPECT_STATUS(r, 403);
	http_resp_free(&r);
	free(form);
	/* past the CSRF check, the API's own answer: no such runtime */
	r = ui("POST", "/ui/runtimes/999999999/destroy", &a, (form = fmt("csrf=%s", a.csrf)), NULL);
	EXPECT_STATUS(r, 404);
	http_resp_free(&r);
	free(form);
	/* its own: the mode changes, with the reason and who */
	r = ui("POST", "/ui/system/pause", &a, (form = fmt("csrf=%s&reason=disk+%%26+full", a.csrf)),
	       NULL);
	EXPECT_STATUS(r, 303);
	http_resp_free(&r);
	free(form);
	mode_of(t, mode);
	EXPECT_STR(mode, "paused");
	r = ui("GET", "/ui/", &a, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "disk &amp; full"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "class=\"mode-paused\""));
	http_resp_free(&r);
	r = ui("POST", "/ui/system/resume", &a, (form = fmt("csrf=%s", a.csrf)), NULL);
	EXPECT_STATUS(r, 303);
	http_resp_free(&r);
	free(form);
	mode_of(t, mode);
	EXPECT_STR(mode, "running");
}

static void test_readonly_sees_no_buttons(void)
{
	struct tenant *t = tenant_new("ro");
	struct sess s;
	struct http_resp r;
	char mode[32], *form;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(login(t->reader, &s, NULL), 303);
	CU_ASSERT_EQUAL_FATAL(strlen(s.csrf), 64); /* the logout form's */
	r = ui("GET", "/ui/", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, "id=\"pause\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "/ui/system/"));
	http_resp_free(&r);
	r = ui("POST", "/ui/system/pause", &s, (form = fmt("csrf=%s&reason=ro", s.csrf)), NULL);
	EXPECT_STATUS(r, 403);
	http_resp_free(&r);
	free(form);
	mode_of(t, mode);
	EXPECT_STR(mode, "running");
	r = ui("POST", "/ui/runtimes/1/stop", &s, (form = fmt("csrf=%s", s.csrf)), NULL);
	EXPECT_STATUS(r, 403);
	http_resp_free(&r);
	free(form);
	/* an operator of the same tenant sees them */
	EXPECT_INT(login(t->operator, &s, NULL), 303);
	r = ui("GET", "/ui/", &s, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "id=\"pause\""));
	http_resp_free(&r);
}

/* Submits a job (body, engine_class ...); its id into id. */
static void submit(const struct tenant *t, const char *json, char id[IDLEN])
{
	struct http_resp r = call("POST", "/v1/fleet/jobs", t->submitter, json, NULL);

	EXPECT_STATUS(r, 201);
	snprintf(id, IDLEN, "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
}

static void test_tenant_b_never_sees_a(void)
{
	struct tenant *a = tenant_new("ta"), *b = tenant_new("tb");
	struct sess sa, sb;
	struct http_resp r;
	char id[IDLEN], *path;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	submit(a, "{\"engine_class\":\"only-for-tenant-a\",\"body\":\"secret of a\"}", id);
	EXPECT_INT(login(a->reader, &sa, NULL), 303);
	EXPECT_INT(login(b->operator, &sb, NULL), 303);
	path = fmt("/ui/jobs/%s", id);
	r = ui("GET", path, &sa, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "secret of a"));
	http_resp_free(&r);
	r = ui("GET", "/ui/jobs", &sa, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "only-for-tenant-a"));
	http_resp_free(&r);
	/* B: not on its list, its overview, nor by id */
	r = ui("GET", path, &sb, NULL, NULL);
	EXPECT_STATUS(r, 404);
	CU_ASSERT_PTR_NULL(strstr(r.body, "secret of a"));
	http_resp_free(&r);
	r = ui("GET", "/ui/jobs", &sb, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, "only-for-tenant-a"));
	http_resp_free(&r);
	r = ui("GET", "/ui/", &sb, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "id=\"jobs-total\">0<"));
	http_resp_free(&r);
	free(path);
}

static void test_values_shown_as_text(void)
{
	struct tenant *t = tenant_new("esc");
	size_t big = 256 * 1024;
	char id[IDLEN], id2[IDLEN], *path, *json, *body;
	struct sess s;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "{\"engine_class\":\"a \\\"quoted\\\" & name\",\"body\":\"<script>alert(1)</script>\"}",
	       id);
	body = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		body[i] = "<b>&"[i % 4];
	body[big] = '\0';
	json = fmt("{\"body\":\"%s\"}", body);
	submit(t, json, id2);
	EXPECT_INT(login(t->reader, &s, NULL), 303);
	r = ui("GET", (path = fmt("/ui/jobs/%s", id)), &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "a &quot;quoted&quot; &amp; name"));
	http_resp_free(&r);
	free(path);
	r = ui("GET", "/ui/jobs", &s, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "a &quot;quoted&quot; &amp; name"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "\"quoted\""));
	http_resp_free(&r);
	r = ui("GET", (path = fmt("/ui/jobs/%s", id2)), &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NULL(strstr(r.body, "<b>"));
	CU_ASSERT(r.len > big * 2);
	http_resp_free(&r);
	free(path);
	free(json);
	free(body);
}

/* Count of s's occurrences of what. */
static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s ? strstr(s, what) : NULL; p != NULL; p = strstr(p + 1, what))
		n++;
	return n;
}

/* Every page of an empty tenant, then of a busy one: 60 jobs (two pages of
 * 50 newest first, the cursor link to the rest), 5 of them claimed (a stage
 * filter, the lease on the job page), a worker; bad filters are 400 pages. */
/* The first cell of job id's row on the jobs page (a static buffer). */
static const char *fmt_first_row(const char *id)
{
	static char out[96];

	snprintf(out, sizeof(out), "<tr><td><a href=\"/ui/jobs/%s\">", id);
	return out;
}

static void test_pages_empty_and_busy(void)
{
	static const char *const pages[] = {"/ui/", "/ui/jobs", "/ui/workers", "/ui/runtimes"};
	struct tenant *t = tenant_new("busy");
	struct sess s;
	struct http_resp r;
	char id[IDLEN], first[IDLEN] = "", *path;
	const char *next;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(login(t->reader, &s, NULL), 303);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		r = ui("GET", pages[i], &s, NULL, NULL);
		EXPECT_STATUS(r, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "</html>"));
		http_resp_free(&r);
	}
	for (int i = 0; i < 60; i++) {
		submit(t, "{\"body\":\"busy\"}", id);
		if (i == 0)
			snprintf(first, sizeof(first), "%s", id);
	}
	r = call("POST", "/v1/fleet/factories/heartbeat", t->worker, "{\"factory_id\":\"ui-w1\"}",
		 NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	r = call("POST", "/v1/fleet/claim", t->worker, "{\"factory_id\":\"ui-w1\",\"max_jobs\":5}",
		 NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);

	r = ui("GET", "/ui/", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "id=\"jobs-total\">60<"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "ui-w1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "class=\"s-assigned\""));
	/* streams as GET /v1/status reports them (run-integration configures rt:a, rt:b) */
	if (getenv("CONDUCTOR_STACK_DIR") != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<table id=\"streams\">"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<td>rt:a</td>"));
	}
	http_resp_free(&r);
	r = ui("GET", "/ui/jobs", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	EXPECT_INT(count_of(r.body, "<tr><td><a href=\"/ui/jobs/"), 50);
	CU_ASSERT_PTR_NULL(strstr(r.body, fmt_first_row(first)));
	next = strstr(r.body, "id=\"next\" href=\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(next);
	path = strndup(next + strlen("id=\"next\" href=\""),
		       strcspn(next + strlen("id=\"next\" href=\""), "\""));
	http_resp_free(&r);
	/* the link's &amp; is HTML's; the request's & */
	for (char *amp; (amp = strstr(path, "&amp;")) != NULL;)
		memmove(amp + 1, amp + 5, strlen(amp + 5) + 1);
	r = ui("GET", path, &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	EXPECT_INT(count_of(r.body, "<tr><td><a href=\"/ui/jobs/"), 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, fmt_first_row(first)));
	CU_ASSERT_PTR_NULL(strstr(r.body, "id=\"next\""));
	http_resp_free(&r);
	free(path);
	r = ui("GET", "/ui/jobs?stage=assigned", &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	EXPECT_INT(count_of(r.body, "<tr><td><a href=\"/ui/jobs/"), 5);
	http_resp_free(&r);
	r = ui("GET", (path = fmt("/ui/jobs/%s", first)), &s, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "ui-w1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "id=\"lease-left\""));
	http_resp_free(&r);
	free(path);
	/* bad filters: a 400 page, never a 500 */
	r = ui("GET", "/ui/jobs?stage=nope", &s, NULL, NULL);
	EXPECT_STATUS(r, 400);
	http_resp_free(&r);
	r = ui("GET", "/ui/jobs?cursor=-3", &s, NULL, NULL);
	EXPECT_STATUS(r, 400);
	http_resp_free(&r);
	r = ui("GET", "/ui/jobs?cursor=%ff", &s, NULL, NULL);
	EXPECT_STATUS(r, 400);
	http_resp_free(&r);
	r = ui("GET", "/ui/jobs/abc", &s, NULL, NULL);
	EXPECT_STATUS(r, 404);
	http_resp_free(&r);
}

static void test_security_headers(void)
{
	static const char *const pages[] = {"/ui/login", "/ui/", "/ui/jobs", "/ui/workers",
					    "/ui/runtimes"};
	struct tenant *t = tenant_new("hdr");
	struct sess s;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(login(t->operator, &s, NULL), 303);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		r = ui("GET", pages[i], &s, NULL, NULL);
		EXPECT_STATUS(r, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.csp, "default-src 'none'"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.csp, "style-src 'self'"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.csp, "frame-ancestors 'none'"));
		CU_ASSERT_PTR_NULL(strstr(r.csp, "unsafe-inline"));
		CU_ASSERT_PTR_NULL(strstr(r.csp, "script-src"));
		EXPECT_STR(r.nosniff, "nosniff");
		EXPECT_STR(r.frame_options, "DENY");
		EXPECT_STR(r.cache_control, "no-store");
		CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
		http_resp_free(&r);
	}
	/* the redirect too */
	r = ui("GET", "/ui/", NULL, NULL, NULL);
	EXPECT_STR(r.frame_options, "DENY");
	http_resp_free(&r);
	/* the stylesheet, as CSS (nosniff would refuse anything else) */
	r = ui("GET", "/ui/static/conductor.css", NULL, NULL, NULL);
	EXPECT_STATUS(r, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "text/css"));
	EXPECT_STR(r.nosniff, "nosniff");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "prefers-color-scheme: dark"));
	http_resp_free(&r);
}

static CU_TestInfo TESTS[] = {
	{"redirect_without_session", test_redirect_without_session},
	{"login_cookie_and_logout", test_login_cookie_and_logout},
	{"session_expiry", test_session_expiry},
	{"revoked_token_ends_sessions", test_revoked_token_ends_sessions},
	{"csrf_refused", test_csrf_refused},
	{"readonly_sees_no_buttons", test_readonly_sees_no_buttons},
	{"tenant_b_never_sees_a", test_tenant_b_never_sees_a},
	{"values_shown_as_text", test_values_shown_as_text},
	{"pages_empty_and_busy", test_pages_empty_and_busy},
	{"security_headers", test_security_headers},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite s = {.name = "ui", .tenant_prefix = "ui", .control_roles = true};

	return suite_run(&s, TESTS);
}

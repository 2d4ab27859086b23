/* ui_session.c -- the status pages' login, logout and sessions (DESIGN 8).
 *
 *   GET  /ui/login    the form for a token
 *   POST /ui/login    token=... : a token of role operator, readonly or admin
 *                     opens a session; the cookie holds the session id
 *                     (HttpOnly; SameSite=Strict; Path=/ui; Secure over HTTPS)
 *   POST /ui/logout   csrf=... : ends the session on the server
 *
 * Every other /ui/ page calls ui_session_or_redirect() first; each request
 * joins the session to its token, so a revoked token's sessions end at once.
 */
#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "data/db_auth.h"
#include "data/db_ui.h"
#include "fcgi/api.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"
#include "fcgi/ui.h"

#define COOKIE "cd_session"
#define SID_LEN 43 /* 32 bytes as base64url */

/* out: the session id of the Cookie header; false when absent or malformed. */
static bool cookie_sid(const char *cookie, char out[SID_LEN + 1])
{
	const char *p = cookie;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, COOKIE "=", strlen(COOKIE) + 1) == 0) {
			const char *v = p + strlen(COOKIE) + 1;
			size_t n = strcspn(v, "; ");

			if (n != SID_LEN)
				return false;
			for (size_t i = 0; i < n; i++)
				if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
				      (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_'))
					return false;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

/* The hash and CSRF token of session id sid. */
static void session_keys(const char *sid, struct ui_session *s)
{
	char salted[64];

	crypto_sha256_hex(sid, strlen(sid), s->hash);
	snprintf(salted, sizeof(salted), "conductor-csrf:%s", sid);
	crypto_sha256_hex(salted, strlen(salted), s->csrf);
}

static bool ui_role(const char *role)
{
	return strcmp(role, "operator") == 0 || strcmp(role, "readonly") == 0 ||
	       strcmp(role, "admin") == 0;
}

bool ui_session_or_redirect(struct request *req, struct ui_session *s)
{
	struct db_token tok;
	struct cd_error e;
	struct db *db;
	char sid[SID_LEN + 1];
	int role;

	cd_error_reset(&e);
	memset(s, 0, sizeof(*s));
	if (!cookie_sid(req->cookie, sid)) {
		reply_redirect(req, "/ui/login");
		return false;
	}
	session_keys(sid, s);
	if ((db = request_db(req, &e)) == NULL) {
		ui_reply_error(req, e.err, "The database does not answer; try again shortly.");
		return false;
	}
	if (db_ui_session_lookup(db, s->hash, &tok, &e) != CD_OK) {
		if (e.err == CD_NOT_FOUND)
			reply_redirect(req, "/ui/login");
		else
			ui_reply_error(req, e.err, "The session could not be read; try again.");
		return false;
	}
	role = tokens_role_parse(tok.role);
	if (role < 0 || !ui_role(tok.role)) {
		reply_redirect(req, "/ui/login");
		return false;
	}
	memset(&req->principal, 0, sizeof(req->principal));
	req->principal.role = (enum role)role;
	req->principal.tenant_id = tok.tenant_id;
	snprintf(req->principal.tenant, sizeof(req->principal.tenant), "%s", tok.tenant);
	snprintf(req->principal.name, sizeof(req->principal.name), "%s", tok.name);
	if (tok.tenant_id == 0) {
		/* an admin's session acts in tenant "default" */
		if (db_tenants_find(db, "default", &req->principal.tenant_id, &e) != CD_OK) {
			ui_reply_error(req, e.err, "Tenant default is missing.");
			return false;
		}
		snprintf(req->principal.tenant, sizeof(req->principal.tenant), "default");
	}
	req->authenticated = true;
	return true;
}

bool ui_csrf_or_refuse(struct request *req, const struct ui_session *s)
{
	char got[128];

	if (html_form_value(req->body, req->body_len, "csrf", got, sizeof(got)) == 1 &&
	    strlen(got) == 64 && crypto_equal(got, s->csrf, 64))
		return true;
	log_info("csrf_refused", "token", req->principal.name, "path", req->path);
	ui_reply_error(req, CD_FORBIDDEN,
		       "This form is stale or did not come from this session: reload the page and "
		       "try again.");
	return false;
}

bool ui_can_operate(const struct request *req)
{
	return req->principal.role == ROLE_OPERATOR || req->principal.role == ROLE_ADMIN;
}

/* ---- pages ------------------------------------------------------------------ */

static void login_page(struct request *req, enum cd_err err, const char *message)
{
	struct html_page p = {.title = "Log in"};
	struct buf b;

	buf_init(&b, UI_PAGE_MAX);
	html_page_begin(&b, &p);
	if (message != NULL) {
		buf_puts(&b, "<p class=\"error\" id=\"login-error\">");
		html_text(&b, message);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<form method=\"post\" action=\"/ui/login\" class=\"card login\">"
		     "<label for=\"token\">API token (operator, readonly or admin)</label>"
		     "<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" "
		     "required placeholder=\"cdt_...\">"
		     "<button type=\"submit\" id=\"login\">Log in</button></form>"
		     "<p class=\"muted\">The token is checked once; the browser keeps only a "
		     "session cookie, never the token.</p>");
	html_page_end(&b);
	reply_html(req, err, buf_str(&b));
	buf_reset(&b);
}

void ui_reply_error(struct request *req, enum cd_err err, const char *message)
{
	struct html_page p = {.title = "Refused"};
	struct buf b;

	buf_init(&b, 64 * 1024);
	if (err == CD_NOT_FOUND)
		p.title = "Not found";
	else if (err != CD_FORBIDDEN)
		p.title = "Error";
	html_page_begin(&b, &p);
	buf_puts(&b, "<p class=\"error\">");
	html_text(&b, message);
	buf_puts(&b, "</p><p><a href=\"/ui/\">Back to the overview</a></p>");
	html_page_end(&b);
	reply_html(req, err, buf_str(&b));
	buf_reset(&b);
}

void ui_page_begin(struct request *req, const struct ui_session *s, struct buf *b,
		   const char *title, const char *self)
{
	char refresh[8];
	struct html_page p = {
		.title = title,
		.user = req->principal.name,
		.role = tokens_role_name(req->principal.role),
		.tenant = req->principal.tenant,
		.csrf = s->csrf,
		.self = self,
	};

	if (request_query(req, "refresh", refresh, sizeof(refresh)) == 1 &&
	    strcmp(refresh, "10") == 0)
		p.refresh_s = 10;
	buf_init(b, UI_PAGE_MAX);
	html_page_begin(b, &p);
}

void ui_page_end(struct request *req, struct buf *b)
{
	html_page_end(b);
	if (buf_overflowed(b))
		ui_reply_error(req, CD_INTERNAL, "This page grew past its size limit.");
	else
		reply_html(req, CD_OK, buf_str(b));
	buf_reset(b);
}

/* GET /ui/login   no token: the form. */
void api_ui_login_form(struct request *req)
{
	login_page(req, CD_OK, NULL);
}

/* POST /ui/login   token=cdt_... (form-encoded). */
void api_ui_login(struct request *req)
{
	struct principal who;
	struct db_token tok;
	struct cd_error e;
	struct db *db;
	struct ui_session s;
	char token[128], hash[65], sid[SID_LEN + 1], cookie[256];
	uint8_t raw[32];

	cd_error_reset(&e);
	if (html_form_value(req->body, req->body_len, "token", token, sizeof(token)) != 1) {
		login_page(req, CD_INVALID, "Paste an API token into the field.");
		return;
	}
	if ((db = request_db(req, &e)) == NULL) {
		login_page(req, e.err, "The database does not answer; try again shortly.");
		return;
	}
	if (tokens_authenticate(db, token, strlen(token), &who, &e) != CD_OK) {
		login_page(req, e.err == CD_UNAVAILABLE ? e.err : CD_UNAUTHORIZED,
			   "That token is unknown, revoked or expired.");
		return;
	}
	tokens_hash(token, strlen(token), hash);
	if (db_auth_lookup(db, hash, &tok, &e) != CD_OK) {
		login_page(req, CD_UNAUTHORIZED, "That token is unknown, revoked or expired.");
		return;
	}
	if (!ui_role(tok.role)) {
		login_page(req, CD_FORBIDDEN,
			   "The status pages take an operator, readonly or admin token.");
		return;
	}
	crypto_random(raw, sizeof(raw));
	crypto_base64url(raw, sizeof(raw), sid);
	session_keys(sid, &s);
	if (db_ui_session_create(db, s.hash, tok.id, UI_SESSION_TTL_S, &e) != CD_OK) {
		login_page(req, e.err, "The session could not be stored; try again.");
		return;
	}
	log_info("api_ui_login", "token", tok.name, "role", tok.role);
	snprintf(cookie, sizeof(cookie),
		 COOKIE "=%s; Path=/ui; Max-Age=%d; HttpOnly; SameSite=Strict%s", sid,
		 UI_SESSION_TTL_S, req->https ? "; Secure" : "");
	reply_redirect(req, "/ui/");
	reply_header(req, "Set-Cookie", cookie);
}

/* POST /ui/logout   csrf=... : ends the session, clears the cookie. */
void api_ui_logout(struct request *req)
{
	struct ui_session s;
	struct cd_error e;

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s) || !ui_csrf_or_refuse(req, &s))
		return;
	if (db_ui_session_delete(request_db(req, &e), s.hash, &e) != CD_OK) {
		ui_reply_error(req, e.err, "The session could not be ended; try again.");
		return;
	}
	log_info("api_ui_logout", "token", req->principal.name);
	reply_redirect(req, "/ui/login");
	reply_header(req, "Set-Cookie",
		     COOKIE "=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict");
}

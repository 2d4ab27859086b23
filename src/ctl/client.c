/* client.c -- conductorctl's client of the HTTP API (see client.h): the
 * envelope unwrapped, the API's refusal kept as it gave it, an answer that
 * is not ours told apart from a refusal. */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "ctl/client.h"

#define CLIENT_WHO "conductor" /* httpc's name for the server in its messages */
#define CLIENT_TIMEOUT_MS 30000
#define CLIENT_CONNECT_TIMEOUT_MS 5000
#define CLIENT_RETRIES 2

enum cd_err client_open(struct client *c, const struct ctl *ctl, struct cd_error *e)
{
	const char *url = ctl->url != NULL ? ctl->url : ctl->cfg.url;
	const char *token = ctl->token;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (token == NULL)
		token = ctl->cfg.token != NULL && ctl->cfg.token[0] != '\0' ? ctl->cfg.token
		                                                            : ctl->cfg.admin_token;
	if (url == NULL || url[0] == '\0')
		return cd_fail(e, CD_CONFIG, "url",
		               "no API URL: set CONDUCTOR_URL or pass --url (tools/up writes it "
		               "into var/conductor.env).");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return cd_fail(e, CD_CONFIG, "url", "the API URL must start with http:// or https://.");
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(c->url))
		return cd_fail(e, CD_CONFIG, "url", "the API URL is longer than %d bytes.",
		               CLIENT_URL_MAX - 1);
	memcpy(c->url, url, n);
	c->url[n] = '\0';
	if (token == NULL || token[0] == '\0')
		return cd_fail(e, CD_CONFIG, "token",
		               "no token: set CONDUCTOR_TOKEN or pass --token (conductorctl token "
		               "create makes one).");
	c->token = token;
	c->lim.timeout_ms = CLIENT_TIMEOUT_MS;
	c->lim.connect_timeout_ms = CLIENT_CONNECT_TIMEOUT_MS;
	c->lim.retries = CLIENT_RETRIES;
	return CD_OK;
}

/* The cd_err of an API refusal's status (the inverse of fcgi/response.c's
 * table, as far as a client needs it). */
static enum cd_err err_of_status(long status)
{
	switch (status) {
	case 400: return CD_INVALID;
	case 401: return CD_UNAUTHORIZED;
	case 403: return CD_FORBIDDEN;
	case 404: return CD_NOT_FOUND;
	case 405: return CD_METHOD_NOT_ALLOWED;
	case 412: return CD_PRECONDITION_FAILED;
	case 413: return CD_TOO_LARGE;
	case 415: return CD_UNSUPPORTED_MEDIA;
	case 422: return CD_DEPENDENCY_CYCLE;
	case 502: return CD_UPSTREAM;
	case 503: return CD_UNAVAILABLE;
	default: return status >= 500 ? CD_INTERNAL : CD_CONFLICT;
	}
}

/* Fills e from an error envelope: its code, its message as given, and
 * details.field. nginx's own "conductor-fcgi is not answering" answers are
 * CD_UPSTREAM (ctl_fail: the server cannot be reached). */
static enum cd_err fail_from_envelope(const struct client_answer *a, struct cd_error *e)
{
	const char *code = json_get_string(a->envelope, "error", "error");
	const char *message = json_get_string(a->envelope, "message", "");
	struct json_object *details = NULL, *field = NULL;
	enum cd_err err = err_of_status(a->status);

	if (strcmp(code, "service_unavailable") == 0 || strcmp(code, "upstream_timeout") == 0)
		err = CD_UPSTREAM;
	if (json_object_object_get_ex(a->envelope, "details", &details) &&
	    json_object_object_get_ex(details, "field", &field) &&
	    json_object_is_type(field, json_type_string))
		cd_fail(e, err, json_object_get_string(field), "%s", message);
	else
		cd_fail(e, err, NULL, "%s", message);
	return cd_fail_code(e, code);
}

enum cd_err client_call_within(const struct client *c, long timeout_ms, const char *method,
                               const char *path, const char *body, struct client_answer *out,
                               struct cd_error *e)
{
	struct httpc_limits lim = c->lim;
	struct httpc_req req = {.who = CLIENT_WHO, .method = method, .bearer = c->token,
	                        .body = body, .idempotent = strcmp(method, "GET") == 0,
	                        .quiet = true};
	struct httpc_resp resp;
	struct json_object *ok = NULL;
	char url[CLIENT_URL_MAX + 2048];
	enum cd_err rc;

	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (!httpc_url(url, sizeof(url), c->url, path))
		return cd_fail(e, CD_INVALID, "path", "the request path is too long.");
	req.url = url;
	lim.timeout_ms = timeout_ms;
	rc = httpc_call(&lim, &req, &resp, e);
	out->status = resp.status;
	out->retry_after_s = resp.retry_after_s;
	out->envelope = resp.json;
	resp.json = NULL;
	httpc_resp_free(&resp);
	if (rc != CD_OK) { /* CD_UPSTREAM: no answer in time */
		char prefix[CLIENT_URL_MAX + 32];

		snprintf(prefix, sizeof(prefix), "cannot reach %s: ", c->url);
		cd_error_prefix(e, prefix);
		return rc;
	}
	if (out->envelope == NULL || !json_object_is_type(out->envelope, json_type_object) ||
	    !json_object_object_get_ex(out->envelope, "ok", &ok))
		return cd_fail(e, CD_UPSTREAM, "url",
		               "%s answered HTTP %ld with something that is not conductor's JSON "
		               "envelope; is the URL right?",
		               c->url, out->status);
	if (!json_object_get_boolean(ok) || out->status < 200 || out->status > 299)
		return fail_from_envelope(out, e);
	json_object_object_get_ex(out->envelope, "data", &out->data);
	return CD_OK;
}

enum cd_err client_call(const struct client *c, const char *method, const char *path,
                        const char *body, struct client_answer *out, struct cd_error *e)
{
	return client_call_within(c, c->lim.timeout_ms, method, path, body, out, e);
}

enum cd_err client_call_json(const struct client *c, const char *method, const char *path,
                             struct json_object *body, struct client_answer *out,
                             struct cd_error *e)
{
	const char *text =
	    body != NULL ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;

	return client_call(c, method, path, text, out, e);
}

void client_answer_free(struct client_answer *a)
{
	if (a == NULL)
		return;
	json_object_put(a->envelope);
	memset(a, 0, sizeof(*a));
	a->retry_after_s = -1;
}

bool client_escape(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		             (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
		             ch == '~';

		if (n + (plain ? 1 : 3) >= cap)
			return false;
		if (plain) {
			out[n++] = (char)ch;
		} else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n] = '\0';
	return true;
}

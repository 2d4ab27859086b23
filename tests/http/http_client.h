/* http_client.h -- a small libcurl client for the integration tests: one
 * request, the whole response, its status, its X-Request-Id and its JSON. */
#ifndef CD_HTTP_CLIENT_H
#define CD_HTTP_CLIENT_H

#include <stddef.h>

#include <json-c/json.h>

struct http_resp {
	long status;
	char *body;		/* owned, NUL-terminated */
	size_t len;
	char request_id[160];	/* the X-Request-Id response header */
	char content_type[128];
	char allow[128];	/* the Allow response header */
	char retry_after[32];	/* the Retry-After response header */
	long long content_length; /* the Content-Length header; -1 when absent */
	/* headers the status pages' tests read (test_ui) */
	char location[256];
	char set_cookie[512];
	char csp[512];
	char nosniff[32];	/* X-Content-Type-Options */
	char frame_options[32];	/* X-Frame-Options */
	char cache_control[64];
	struct json_object *json; /* owned; NULL when the body is not JSON */
};

/* Sends method path (appended to $CONDUCTOR_URL) with an optional bearer
 * token, body (len bytes; NULL for none) and extra header lines
 * ("X-Request-Id: abc"; NULL-terminated array or NULL).
 * Content-Type is application/json unless an extra header sets it.
 * Returns 0 when an HTTP response arrived, -1 on a transport error. */
int http_do(const char *method, const char *path, const char *token, const char *body,
	    size_t len, const char *const *headers, struct http_resp *out);

/* Frees what out owns. NULL-safe. */
void http_resp_free(struct http_resp *r);

/* Runs `$CONDUCTOR_CTL args...` and returns its last stdout line (new
 * string, caller frees), or NULL when it failed. */
char *ctl_run(const char *args);

#endif

/* client.h -- conductorctl's client of the conductor HTTP API: a base URL and
 * a bearer token, one call = one request through data/httpc.c, the
 * envelope of DESIGN 2 unwrapped.
 *
 *   {"ok":true,"request_id":"...","data":...}            -> CD_OK, out->data
 *   {"ok":false,"error":"code","message":"...",...}      -> CD_CONFLICT (or the
 *        status's cd_err), e->code the API's code, e->message its message as
 *        it gave it, e->field details.field when there is one
 *   no answer / not an envelope                           -> CD_UPSTREAM
 * ctl_fail() turns these into the exit statuses 1 and 3.
 *
 * GETs are retried (idempotent) within the budget; other methods only when
 * no connection was made. The token is never printed or logged.
 *
 * Thread-safety: a struct client is read-only after client_open(); calls may
 * run from several threads at once (each answer is the caller's).
 */
#ifndef CD_CTL_CLIENT_H
#define CD_CTL_CLIENT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "base/err.h"
#include "ctl/ctl.h"
#include "data/httpc.h"

#define CLIENT_URL_MAX 1024

struct client {
	char url[CLIENT_URL_MAX]; /* base URL, no trailing slash */
	const char *token;        /* borrowed from the configuration or argv */
	struct httpc_limits lim;  /* each call's budget (client_call_within to change) */
};

/* One answer. */
struct client_answer {
	long status;                  /* HTTP status; 0 when none */
	long retry_after_s;           /* Retry-After in seconds; -1 when none */
	struct json_object *envelope; /* owned: the whole answer, NULL when not JSON */
	struct json_object *data;     /* borrowed from envelope: its "data" */
};

/* Fills c from ctl (--url/--token, else the configuration's url, token, then
 * admin_token). CD_CONFIG naming "url" or "token" when one is missing or the
 * URL is not http(s). */
enum cd_err client_open(struct client *c, const struct ctl *ctl, struct cd_error *e);

/* Sends METHOD path (e.g. "/v1/fleet/jobs?limit=5") with body (JSON text,
 * borrowed, may be NULL). out: free with client_answer_free() whatever the
 * return. Returns CD_OK on a 2xx envelope; see the top of the file. */
enum cd_err client_call(const struct client *c, const char *method, const char *path,
                        const char *body, struct client_answer *out, struct cd_error *e);

/* client_call with a budget of timeout_ms for this call (a long-poll claim
 * waits longer than the default budget). */
enum cd_err client_call_within(const struct client *c, long timeout_ms, const char *method,
                               const char *path, const char *body, struct client_answer *out,
                               struct cd_error *e);

/* client_call with body built from a json-c object (borrowed). */
enum cd_err client_call_json(const struct client *c, const char *method, const char *path,
                             struct json_object *body, struct client_answer *out,
                             struct cd_error *e);

/* Frees what a owns; a is reusable. NULL-safe. */
void client_answer_free(struct client_answer *a);

/* Appends s to out percent-encoded for a path segment or query value
 * (everything but A-Z a-z 0-9 - . _ ~). False when it does not fit in cap. */
bool client_escape(char *out, size_t cap, const char *s);

#endif

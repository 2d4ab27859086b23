/* httpc.h -- the one HTTP client of conductor (libcurl), for the cloud
 * providers' JSON APIs (DESIGN section 6). The only file that includes
 * <curl/curl.h> is httpc.c.
 *
 * One call = one logical request, bounded in time as a whole:
 *   - the total budget (provider_timeout_ms) covers every attempt and every
 *     wait between them; each attempt gets what is left of it, and a wait
 *     that would pass it is not taken (the last answer is returned instead);
 *   - connect timeout per attempt (provider_connect_timeout_ms);
 *   - up to provider_retries more attempts with exponential backoff and
 *     jitter on 429 (Retry-After honoured up to HTTPC_RETRY_AFTER_MAX_MS),
 *     on 5xx and on transport errors -- except that a request that is not
 *     idempotent (creating a pod or a droplet) is retried only when it cannot
 *     have been acted on: a 429, or a connection that never opened. A 500 on
 *     a create may have created the instance; trying again could start two;
 *   - the response body is capped (HTTPC_BODY_MAX); beyond it the call fails;
 *   - only http:// and https:// URLs, no redirects followed.
 * The bearer key goes only into the Authorization header: it is never logged
 * and httpc_fail_status() removes it from any text an upstream echoes back.
 *
 * Thread-safety: every function may be called from any thread at once;
 * libcurl's global initialisation runs once (pthread_once), each call uses
 * its own easy handle.
 */
#ifndef CD_HTTPC_H
#define CD_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"

#define HTTPC_BODY_MAX           (2u * 1024 * 1024) /* bytes of a response body kept */
#define HTTPC_RETRY_AFTER_MAX_MS 30000              /* a longer Retry-After is not waited for */
#define HTTPC_BACKOFF_BASE_MS    100                /* first backoff; doubles per attempt */

/* Limits of a call, from the configuration. */
struct httpc_limits {
	long timeout_ms;         /* the whole call, retries and waits included */
	long connect_timeout_ms; /* each attempt's connection */
	long retries;            /* attempts after the first, at most */
};

/* One request. Every pointer is borrowed for the call. */
struct httpc_req {
	const char *who;    /* the provider's name: messages, logs, e->field */
	const char *method; /* "GET", "POST", "DELETE" */
	const char *url;    /* absolute http(s) URL */
	const char *bearer; /* the API key (Authorization: Bearer); never logged */
	const char *body;   /* JSON text, or NULL for none */
	bool idempotent;    /* may be sent again after it may have been acted on */
	bool quiet;         /* no log line per retry (a CLI reports the outcome itself) */
};

/* The final answer. */
struct httpc_resp {
	long status;              /* HTTP status of the last attempt; 0: no answer */
	int attempts;             /* requests sent (1 + retries taken) */
	struct buf body;          /* owned; free with httpc_resp_free() */
	struct json_object *json; /* owned; the body parsed, NULL when empty or not JSON */
	long retry_after_s;       /* the last answer's Retry-After in seconds; -1: none */
};

/* The limits of cfg (provider_timeout_ms, provider_connect_timeout_ms,
 * provider_retries). */
void httpc_limits_from_config(const struct config *cfg, struct httpc_limits *out);

/* Sends req within lim. out: the last answer (free with httpc_resp_free()
 * whatever the return). Returns CD_OK when an HTTP answer arrived, whatever
 * its status (the caller reads out->status); CD_UPSTREAM (e->field = req->who,
 * status 0 in the message) when none did in time or the body passed the cap;
 * CD_INTERNAL when libcurl could not be set up. */
enum cd_err httpc_call(const struct httpc_limits *lim, const struct httpc_req *req,
                       struct httpc_resp *out, struct cd_error *e);

/* Fills e with CD_UPSTREAM for an answer the caller did not expect:
 * field = req->who, message "<who> answered HTTP <status> to <method> <what>:
 * <the upstream's own message>", with req->bearer removed from it. Returns
 * CD_UPSTREAM. */
enum cd_err httpc_fail_status(const struct httpc_req *req, const struct httpc_resp *resp,
                              const char *what, struct cd_error *e);

/* Frees what r owns; r is reusable after. NULL-safe. */
void httpc_resp_free(struct httpc_resp *r);

/* The number at key of o (an integer or not); 0 when absent or not a number. */
double httpc_num(struct json_object *o, const char *key);

/* out = base (trailing slashes dropped) + path ("/pods/abc"); false when it
 * does not fit in cap. */
bool httpc_url(char *out, size_t cap, const char *base, const char *path);

/* Is s a usable path segment (an instance id): 1..64 of [A-Za-z0-9_-]? */
bool httpc_id_ok(const char *s);

#endif

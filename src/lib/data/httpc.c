/* httpc.c -- libcurl for the providers' JSON APIs: a time budget per call,
 * bounded retries with backoff, a capped body, a key that never leaks.
 * See httpc.h for the rules. Never: a redirect followed, a protocol other
 * than http(s), CURLOPT_VERBOSE (it would print the Authorization header). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "base/crypto.h"
#include "base/json.h"
#include "base/log.h"
#include "data/httpc.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void httpc_limits_from_config(const struct config *cfg, struct httpc_limits *out)
{
	out->timeout_ms = cfg->provider_timeout_ms;
	out->connect_timeout_ms = cfg->provider_connect_timeout_ms;
	out->retries = cfg->provider_retries;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
	                      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* What one attempt leaves behind besides the body. */
struct attempt {
	struct buf *body;
	bool too_large;
	long retry_after_s; /* -1: none (or an HTTP date, which we do not parse) */
};

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
	struct attempt *a = userdata;

	if (!buf_append(a->body, p, size * n)) {
		a->too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
	struct attempt *a = userdata;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		char tmp[32];
		size_t m = len - 12 < sizeof(tmp) - 1 ? len - 12 : sizeof(tmp) - 1;
		char *end;
		long v;

		memcpy(tmp, p + 12, m);
		tmp[m] = '\0';
		v = strtol(tmp, &end, 10);
		while (*end == ' ' || *end == '\r' || *end == '\n')
			end++;
		if (end != tmp && *end == '\0' && v >= 0)
			a->retry_after_s = v;
	}
	return len;
}

/* May the answer (status, or transport result) be tried again? */
static bool retryable(const struct httpc_req *req, CURLcode cc, long status)
{
	if (cc == CURLE_OK)
		return status == 429 || (req->idempotent && status >= 500 && status <= 599);
	/* no connection was made: nothing can have been acted on */
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
		return true;
	return req->idempotent &&
	       (cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_RECV_ERROR ||
	        cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE);
}

/* The wait before attempt number `attempt` (1 = the first retry): the
 * upstream's Retry-After when it gave one, else 100 ms doubling, with up to
 * half of it again as jitter so that callers who failed together do not come
 * back together. */
static int64_t backoff_ms(int attempt, long retry_after_s)
{
	uint32_t r;
	int64_t base;

	if (retry_after_s >= 0)
		return retry_after_s * 1000;
	base = (int64_t)HTTPC_BACKOFF_BASE_MS << (attempt - 1 < 10 ? attempt - 1 : 10);
	crypto_random(&r, sizeof(r));
	return base + (int64_t)(r % (uint32_t)(base / 2 + 1));
}

static enum cd_err setup(CURL *h, const struct httpc_req *req, struct curl_slist **hdrs,
                         struct attempt *a, struct cd_error *e)
{
	char auth[4200];

	*hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (req->body != NULL || strcmp(req->method, "POST") == 0)
		*hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
	if (req->bearer != NULL && req->bearer[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->bearer);
		*hdrs = curl_slist_append(*hdrs, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	if (*hdrs == NULL)
		return cd_fail(e, CD_INTERNAL, req->who, "%s: could not build the request headers.",
		               req->who);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	if (req->body != NULL || strcmp(req->method, "POST") == 0) {
		/* a POST without a body still says Content-Length: 0 */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
		                 (long)(req->body ? strlen(req->body) : 0));
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_USERAGENT, "conductor");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	return CD_OK;
}

enum cd_err httpc_call(const struct httpc_limits *lim, const struct httpc_req *req,
                       struct httpc_resp *out, struct cd_error *e)
{
	struct curl_slist *hdrs = NULL;
	struct attempt a = {.body = &out->body, .retry_after_s = -1};
	int64_t deadline = now_ms() + lim->timeout_ms;
	CURLcode cc = CURLE_OK;
	enum cd_err rc = CD_INTERNAL;
	CURL *h = NULL;

	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	buf_init(&out->body, HTTPC_BODY_MAX);
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK || (h = curl_easy_init()) == NULL) {
		cd_fail(e, CD_INTERNAL, req->who, "%s: libcurl could not be initialised.",
		        req->who);
		goto out;
	}
	if (setup(h, req, &hdrs, &a, e) != CD_OK)
		goto out;
	for (;;) {
		int64_t left = deadline - now_ms(), wait;

		if (left <= 0)
			break;
		buf_reset(&out->body);
		a.too_large = false;
		a.retry_after_s = -1;
		out->status = 0;
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
		curl_easy_setopt(
		    h, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)(lim->connect_timeout_ms < left ? lim->connect_timeout_ms : left));
		out->attempts++;
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		if (a.too_large || out->attempts > lim->retries || !retryable(req, cc, out->status))
			break;
		wait = backoff_ms(out->attempts, out->status == 429 ? a.retry_after_s : -1);
		if (wait > HTTPC_RETRY_AFTER_MAX_MS || now_ms() + wait >= deadline)
			break; /* the wait would pass the budget: answer with what we have */
		if (!req->quiet) {
			char st[16], at[16], ms[24];

			snprintf(st, sizeof(st), "%ld", out->status);
			snprintf(at, sizeof(at), "%d", out->attempts);
			snprintf(ms, sizeof(ms), "%lld", (long long)wait);
			/* the provider and method only: no URL, never the key */
			log_warn("provider call retried", "provider", req->who, "method",
			         req->method, "status", st, "error",
			         cc == CURLE_OK ? "" : curl_easy_strerror(cc), "attempt", at,
			         "wait_ms", ms);
		}
		sleep_ms(wait);
	}
	out->retry_after_s = a.retry_after_s;
	if (a.too_large) {
		rc = cd_fail(e, CD_UPSTREAM, req->who,
		             "%s answered %s with a body larger than %u bytes; refused.", req->who,
		             req->method, HTTPC_BODY_MAX);
		goto out;
	}
	if (out->attempts == 0 || cc != CURLE_OK) {
		out->status = 0;
		rc = cd_fail(
		    e, CD_UPSTREAM, req->who,
		    "%s did not answer %s (HTTP status 0: %s) within %ld ms after %d attempt(s).",
		    req->who, req->method,
		    out->attempts == 0 ? "no time left" : curl_easy_strerror(cc), lim->timeout_ms,
		    out->attempts);
		goto out;
	}
	if (out->body.len > 0) {
		/* Not JSON is not an error here: the caller reads the status first. */
		if (json_parse_strict(out->body.data, out->body.len, &out->json, NULL) != CD_OK)
			out->json = NULL;
	}
	rc = CD_OK;
out:
	curl_slist_free_all(hdrs);
	if (h != NULL)
		curl_easy_cleanup(h);
	return rc;
}

/* Replaces every occurrence of secret in s (NUL-terminated, in place) with
 * "[redacted]" as far as s's capacity cap allows. */
static void scrub(char *s, size_t cap, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n == 0)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		size_t tail = strlen(p + n);
		size_t m = sizeof(mark) - 1;

		if ((size_t)(p - s) + m + tail + 1 > cap)
			tail = cap - (size_t)(p - s) - m - 1;
		memmove(p + m, p + n, tail);
		memcpy(p, mark, m);
		p[m + tail] = '\0';
	}
}

/* The upstream's own words: RunPod {"error": ...}, DigitalOcean
 * {"id": ..., "message": ...}, GraphQL {"errors": [{"message": ...}]}. */
static const char *upstream_message(const struct httpc_resp *resp)
{
	struct json_object *v, *errs;

	if (resp->json == NULL || !json_object_is_type(resp->json, json_type_object))
		return "";
	if ((v = json_get(resp->json, "message")) != NULL &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if ((v = json_get(resp->json, "error")) != NULL && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	errs = json_get(resp->json, "errors");
	if (errs != NULL && json_object_is_type(errs, json_type_array) &&
	    json_object_array_length(errs) > 0) {
		v = json_get(json_object_array_get_idx(errs, 0), "message");
		if (v != NULL && json_object_is_type(v, json_type_string))
			return json_object_get_string(v);
	}
	return "";
}

enum cd_err httpc_fail_status(const struct httpc_req *req, const struct httpc_resp *resp,
                              const char *what, struct cd_error *e)
{
	const char *said = upstream_message(resp);
	char said_short[120];

	if (e == NULL)
		return CD_UPSTREAM;
	snprintf(said_short, sizeof(said_short), "%s", said);
	cd_fail(e, CD_UPSTREAM, req->who, "%s answered HTTP %ld to %s %s%s%s", req->who,
	        resp->status, req->method, what, said_short[0] ? ": " : ".", said_short);
	scrub(e->message, sizeof(e->message), req->bearer);
	return CD_UPSTREAM;
}

void httpc_resp_free(struct httpc_resp *r)
{
	if (r == NULL)
		return;
	buf_reset(&r->body);
	json_object_put(r->json);
	r->json = NULL;
}

double httpc_num(struct json_object *o, const char *key)
{
	struct json_object *v = json_get(o, key);

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	return 0;
}

bool httpc_url(char *out, size_t cap, const char *base, const char *path)
{
	size_t n = strlen(base);
	int w;

	while (n > 0 && base[n - 1] == '/')
		n--;
	w = snprintf(out, cap, "%.*s%s", (int)n, base, path);
	return w >= 0 && (size_t)w < cap;
}

bool httpc_id_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= 64;
}

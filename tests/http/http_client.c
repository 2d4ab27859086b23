/* http_client.c -- libcurl requests for the integration tests; see the header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http_client.h"

struct sink {
	char *data;
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;

	s->data = realloc(s->data, s->len + add + 1);
	memcpy(s->data + s->len, p, add);
	s->len += add;
	s->data[s->len] = '\0';
	return add;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1, n -= nl + 1;
	while (n > 0 && *line == ' ')
		line++, n--;
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	snprintf(out, cap, "%.*s", (int)n, line);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *r = arg;

	header_value(p, size * n, "X-Request-Id", r->request_id, sizeof(r->request_id));
	header_value(p, size * n, "Content-Type", r->content_type, sizeof(r->content_type));
	header_value(p, size * n, "Allow", r->allow, sizeof(r->allow));
	header_value(p, size * n, "Retry-After", r->retry_after, sizeof(r->retry_after));
	/* the status pages' (test_ui) */
	header_value(p, size * n, "Location", r->location, sizeof(r->location));
	header_value(p, size * n, "Set-Cookie", r->set_cookie, sizeof(r->set_cookie));
	header_value(p, size * n, "Content-Security-Policy", r->csp, sizeof(r->csp));
	header_value(p, size * n, "X-Content-Type-Options", r->nosniff, sizeof(r->nosniff));
	header_value(p, size * n, "X-Frame-Options", r->frame_options, sizeof(r->frame_options));
	header_value(p, size * n, "Cache-Control", r->cache_control, sizeof(r->cache_control));
	return size * n;
}

int http_do(const char *method, const char *path, const char *token, const char *body,
	    size_t len, const char *const *headers, struct http_resp *out)
{
	const char *base = getenv("CONDUCTOR_URL");
	struct curl_slist *hl = NULL;
	struct sink s = {NULL, 0};
	char url[4096], auth[256];
	int has_type = 0, rc = -1;
	CURLcode cc;
	CURL *c;

	memset(out, 0, sizeof(*out));
	if (base == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s", base, path);
	c = curl_easy_init();
	for (const char *const *h = headers; h != NULL && *h != NULL; h++) {
		hl = curl_slist_append(hl, *h);
		if (strncasecmp(*h, "Content-Type:", 13) == 0)
			has_type = 1;
	}
	if (!has_type && body != NULL)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L); /* else curl waits for a body */
	}
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_off_t cl = -1;

		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		out->content_length = (long long)cl;
		out->body = s.data ? s.data : calloc(1, 1);
		out->len = s.len;
		out->json = json_tokener_parse(out->body);
		rc = 0;
	} else {
		fprintf(stderr, "http_do %s %s: %s\n", method, path, curl_easy_strerror(cc));
		free(s.data);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

void http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

char *ctl_run(const char *args)
{
	const char *ctl = getenv("CONDUCTOR_CTL");
	char cmd[4096], line[4096], last[4096] = "";
	FILE *p;

	if (ctl == NULL)
		return NULL;
	snprintf(cmd, sizeof(cmd), "%s %s", ctl, args);
	p = popen(cmd, "r");
	if (p == NULL)
		return NULL;
	while (fgets(line, sizeof(line), p) != NULL)
		snprintf(last, sizeof(last), "%s", line);
	if (pclose(p) != 0)
		return NULL;
	last[strcspn(last, "\n")] = '\0';
	return strdup(last);
}

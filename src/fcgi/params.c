/* params.c -- the generic edge parsers every handler uses; see params.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/params.h"
#include "fcgi/response.h"

int limit_or_reply(struct request *req)
{
	char v[16];
	char *end;
	long n;
	int got = request_query(req, "limit", v, sizeof(v));

	if (got == 0)
		return 50;
	n = got > 0 ? strtol(v, &end, 10) : 0;
	if (got < 0 || *end != '\0' || end == v || n < 1 || n > 500) {
		reply_fail(req, CD_INVALID, "limit", "limit must be an integer from 1 to 500.");
		return -1;
	}
	return (int)n;
}

int64_t cursor_or_reply(struct request *req)
{
	char v[32];
	char *end;
	int64_t n;
	int got = request_query(req, "cursor", v, sizeof(v));

	if (got == 0 || (got > 0 && v[0] == '\0'))
		return 0;
	n = got > 0 ? strtoll(v, &end, 10) : -1;
	if (got < 0 || n <= 0 || *end != '\0') {
		reply_fail(req, CD_INVALID, "cursor", "cursor must be a next_cursor from a previous page.");
		return -1;
	}
	return n;
}

bool item_or_reply(struct request *req, struct json_object *arr, size_t i,
			  const char *name, const struct json_field *fields, size_t n,
			  char *where, size_t cap)
{
	struct cd_error e;

	cd_error_reset(&e);
	snprintf(where, cap, "%s[%zu]", name, i);
	if (json_check_object(json_object_array_get_idx(arr, i), where, fields, n, &e) != CD_OK) {
		reply_error(req, &e);
		return false;
	}
	return true;
}

bool strings_in_or_reply(struct request *req, struct json_object *o, const char *key,
				const char *where, const char *const *allowed, size_t n)
{
	struct json_object *arr = json_get(o, key);

	for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		bool ok = false;

		for (size_t k = 0; k < n; k++)
			ok = ok || strcmp(s, allowed[k]) == 0;
		if (!ok) {
			char field[96];

			snprintf(field, sizeof(field), "%s%s[%zu]", where, key, i);
			reply_fail(req, CD_INVALID, field, "%s must be one of %s%s%s.", field, allowed[0],
				   n > 1 ? ", " : "", n > 1 ? allowed[1] : "");
			return false;
		}
	}
	return true;
}

bool enum_or_reply(struct request *req, struct json_object *o, const char *key,
			  const char *where, const char *const *allowed, size_t n)
{
	const char *s = json_get_string(o, key, NULL);
	char field[96], list[128] = "";

	if (s == NULL)
		return true;
	for (size_t k = 0; k < n; k++) {
		if (strcmp(s, allowed[k]) == 0)
			return true;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
			 allowed[k]);
	}
	snprintf(field, sizeof(field), "%s%s", where, key);
	reply_fail(req, CD_INVALID, field, "%s must be one of %s.", field, list);
	return false;
}

int64_t if_match_or_reply(struct request *req)
{
	const char *h = req->if_match;
	char digits[24];
	size_t n = 0;

	if (h == NULL || h[0] == '\0')
		return 0;
	if (*h == '"')
		h++;
	while (*h >= '0' && *h <= '9' && n < sizeof(digits) - 1)
		digits[n++] = *h++;
	digits[n] = '\0';
	if (n == 0 || n > 18 || (*h != '\0' && strcmp(h, "\"") != 0)) {
		reply_fail(req, CD_INVALID, "If-Match", "If-Match must be \"<rev>\", a job's rev.");
		return -1;
	}
	return strtoll(digits, NULL, 10);
}

int query_text_or_reply(struct request *req, const char *name, char *out, size_t cap, size_t max)
{
	int got = request_query(req, name, out, cap);

	if (got == 0)
		return 0;
	if (got < 0 || out[0] == '\0' || strlen(out) > max) {
		reply_fail(req, CD_INVALID, name, "%s must be 1 to %zu bytes.", name, max);
		return -1;
	}
	return 1;
}

int64_t query_id_or_reply(struct request *req, const char *name)
{
	char s[32], *end;
	int got = request_query(req, name, s, sizeof(s));
	int64_t v = 0;

	if (got == 0)
		return 0;
	if (got > 0 && s[0] >= '1' && s[0] <= '9' && strlen(s) <= 18 &&
	    (v = strtoll(s, &end, 10)) > 0 && *end == '\0')
		return v;
	reply_fail(req, CD_INVALID, name, "%s must be a job id.", name);
	return -1;
}

/* json.c -- strict JSON parsing into json-c trees and field-table checks.
 *
 * The parser is a recursive descent over a bounded depth (JSON_MAX_DEPTH), so
 * a 20 000-deep body is refused at depth 65 instead of exhausting the stack.
 * It keeps the path of the value being read so that an error names it.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"

#define PATH_CAP 96

struct parser {
	const char *p, *end;
	int depth;
	char path[PATH_CAP];
	struct cd_error *e;
};

static enum cd_err fail(struct parser *ps, const char *what)
{
	/* The top level has the empty path; name it "body" in the field and the sentence. */
	const char *where = ps->path[0] ? ps->path : "body";

	return cd_fail(ps->e, CD_INVALID, where, "%s is not valid JSON: %s.", where, what);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static enum cd_err parse_value(struct parser *ps, struct json_object **out);

/* Appends one code point as UTF-8. */
static void put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	}
	buf_append(b, u, n);
}

static int hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Reads a string after its opening quote into b (a NUL-free UTF-8 string). */
static enum cd_err parse_string_into(struct parser *ps, struct buf *b)
{
	while (ps->p < ps->end) {
		unsigned char c = (unsigned char)*ps->p;

		if (c == '"') {
			ps->p++;
			return buf_overflowed(b) ? fail(ps, "string too long") : CD_OK;
		}
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c == '\\') {
			uint32_t cp, lo;

			if (ps->end - ps->p < 2)
				break;
			switch (ps->p[1]) {
			case '"': buf_puts(b, "\""); break;
			case '\\': buf_puts(b, "\\"); break;
			case '/': buf_puts(b, "/"); break;
			case 'b': buf_puts(b, "\b"); break;
			case 'f': buf_puts(b, "\f"); break;
			case 'n': buf_puts(b, "\n"); break;
			case 'r': buf_puts(b, "\r"); break;
			case 't': buf_puts(b, "\t"); break;
			case 'u':
				if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp) < 0)
					return fail(ps, "bad \\u escape");
				ps->p += 4;
				if (cp == 0)
					return fail(ps, "NUL (\\u0000) is not allowed in a string");
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return fail(ps, "lone low surrogate");
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (ps->end - ps->p < 8 || ps->p[2] != '\\' || ps->p[3] != 'u' ||
					    hex4(ps->p + 4, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
						return fail(ps, "lone high surrogate");
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					ps->p += 6;
				}
				put_utf8(b, cp);
				break;
			default:
				return fail(ps, "bad escape");
			}
			ps->p += 2;
			continue;
		}
		size_t n = buf_utf8_len(ps->p, (size_t)(ps->end - ps->p));

		if (n == 0)
			return fail(ps, "invalid UTF-8");
		buf_append(b, ps->p, n);
		ps->p += n;
	}
	return fail(ps, "unterminated string");
}

static enum cd_err parse_string(struct parser *ps, struct json_object **out)
{
	struct buf b;
	enum cd_err rc;

	buf_init(&b, 1u << 20);
	ps->p++; /* the opening quote */
	rc = parse_string_into(ps, &b);
	if (rc == CD_OK)
		*out = json_object_new_string_len(buf_str(&b), (int)b.len);
	buf_reset(&b);
	return rc;
}

static enum cd_err parse_number(struct parser *ps, struct json_object **out)
{
	const char *s = ps->p;
	bool integer = true;
	char tmp[64];
	size_t len;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end)
		return fail(ps, "bad number");
	if (*ps->p == '0') {
		ps->p++;
	} else if (*ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		return fail(ps, "unexpected character");
	}
	if (ps->p < ps->end && *ps->p == '.') {
		integer = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	len = (size_t)(ps->p - s);
	if (len >= sizeof(tmp))
		return fail(ps, "number too long");
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	if (integer) {
		long long v = strtoll(tmp, NULL, 10);

		if (errno == ERANGE)
			return fail(ps, "integer out of range");
		*out = json_object_new_int64(v);
	} else {
		double d = strtod(tmp, NULL);

		if (errno == ERANGE || !isfinite(d))
			return fail(ps, "number out of range");
		*out = json_object_new_double(d);
	}
	return CD_OK;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

/* Extends the path with ".key" or "[i]" and returns the old length. */
static size_t path_push(struct parser *ps, const char *key, size_t index)
{
	size_t old = strlen(ps->path);

	if (key != NULL)
		snprintf(ps->path + old, PATH_CAP - old, "%s%s", old ? "." : "", key);
	else
		snprintf(ps->path + old, PATH_CAP - old, "[%zu]", index);
	return old;
}

static enum cd_err parse_object(struct parser *ps, struct json_object **out)
{
	struct json_object *obj = json_object_new_object();
	enum cd_err rc;
	struct buf key;

	buf_init(&key, 1024);
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		*out = obj;
		return CD_OK;
	}
	for (;;) {
		struct json_object *v = NULL, *dummy;
		size_t old;

		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			rc = fail(ps, "expected a key");
			goto out;
		}
		ps->p++;
		buf_reset(&key);
		rc = parse_string_into(ps, &key);
		if (rc != CD_OK)
			goto out;
		old = path_push(ps, buf_str(&key), 0);
		if (json_object_object_get_ex(obj, buf_str(&key), &dummy)) {
			rc = cd_fail(ps->e, CD_INVALID, ps->path, "%s appears twice; give each field once.",
				     ps->path);
			goto out;
		}
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			rc = fail(ps, "expected ':'");
			goto out;
		}
		ps->p++;
		rc = parse_value(ps, &v);
		if (rc != CD_OK)
			goto out;
		json_object_object_add(obj, buf_str(&key), v); /* steals v */
		ps->path[old] = '\0';
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		rc = fail(ps, "expected ',' or '}'");
		goto out;
	}
	*out = obj;
	obj = NULL;
	rc = CD_OK;
out:
	buf_reset(&key);
	json_object_put(obj);
	return rc;
}

static enum cd_err parse_array(struct parser *ps, struct json_object **out)
{
	struct json_object *arr = json_object_new_array();
	enum cd_err rc;
	size_t i = 0;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		*out = arr;
		return CD_OK;
	}
	for (;; i++) {
		struct json_object *v = NULL;
		size_t old = path_push(ps, NULL, i);

		rc = parse_value(ps, &v);
		if (rc != CD_OK)
			goto out;
		json_object_array_add(arr, v); /* steals v */
		ps->path[old] = '\0';
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			break;
		}
		rc = fail(ps, "expected ',' or ']'");
		goto out;
	}
	*out = arr;
	arr = NULL;
	rc = CD_OK;
out:
	json_object_put(arr);
	return rc;
}

static enum cd_err parse_value(struct parser *ps, struct json_object **out)
{
	enum cd_err rc;

	*out = NULL;
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > JSON_MAX_DEPTH)
			return cd_fail(ps->e, CD_INVALID, ps->path[0] ? ps->path : "body",
				       "The JSON nests deeper than %d levels.", JSON_MAX_DEPTH);
		rc = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
		ps->depth--;
		return rc;
	case '"':
		return parse_string(ps, out);
	case 't':
		if (literal(ps, "true"))
			return *out = json_object_new_boolean(1), CD_OK;
		break;
	case 'f':
		if (literal(ps, "false"))
			return *out = json_object_new_boolean(0), CD_OK;
		break;
	case 'n':
		if (literal(ps, "null"))
			return CD_OK; /* NULL is json-c's null */
		break;
	default:
		return parse_number(ps, out);
	}
	return fail(ps, "unexpected character");
}

enum cd_err json_parse_strict(const char *text, size_t n, struct json_object **out,
			      struct cd_error *e)
{
	struct parser ps = {.p = text, .end = text + n, .e = e};
	struct json_object *v = NULL;
	enum cd_err rc;

	*out = NULL;
	snprintf(ps.path, sizeof(ps.path), "%s", "");
	rc = parse_value(&ps, &v);
	if (rc != CD_OK) {
		if (e != NULL && e->field[0] == '\0')
			snprintf(e->field, sizeof(e->field), "body");
		json_object_put(v);
		return rc;
	}
	skip_ws(&ps);
	if (ps.p != ps.end) {
		json_object_put(v);
		return cd_fail(e, CD_INVALID, "body", "body has trailing characters after the JSON value.");
	}
	*out = v;
	return CD_OK;
}

/* ---- field tables ---------------------------------------------------- */

static const char *type_word(enum json_field_type t)
{
	switch (t) {
	case JF_STRING: return "a string";
	case JF_INT: return "an integer";
	case JF_NUMBER: return "a number";
	case JF_BOOL: return "true or false";
	case JF_OBJECT: return "an object";
	case JF_ARRAY: return "an array";
	case JF_STRING_ARRAY: return "an array of strings";
	}
	return "a value";
}

static void field_path(char *out, size_t cap, const char *where, const char *name)
{
	if (where == NULL || where[0] == '\0' || strcmp(where, "body") == 0)
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "%s.%s", where, name);
}

static enum cd_err check_value(struct json_object *v, const struct json_field *f,
			       const char *path, struct cd_error *e)
{
	enum json_type t = json_object_get_type(v);

	switch (f->type) {
	case JF_STRING: {
		int64_t len;

		if (t != json_type_string)
			break;
		len = json_object_get_string_len(v);
		if (len < f->min || len > f->max)
			return cd_fail(e, CD_INVALID, path,
				       "%s must be %" PRId64 " to %" PRId64 " bytes long.", path,
				       f->min, f->max);
		return CD_OK;
	}
	case JF_INT: {
		int64_t x;

		if (t != json_type_int)
			break;
		x = json_object_get_int64(v);
		if (x < f->min || x > f->max)
			return cd_fail(e, CD_INVALID, path,
				       "%s must be an integer from %" PRId64 " to %" PRId64 ".", path,
				       f->min, f->max);
		return CD_OK;
	}
	case JF_NUMBER: {
		double x;

		if (t != json_type_int && t != json_type_double)
			break;
		x = json_object_get_double(v);
		if (x < (double)f->min || x > (double)f->max)
			return cd_fail(e, CD_INVALID, path,
				       "%s must be a number from %" PRId64 " to %" PRId64 ".", path,
				       f->min, f->max);
		return CD_OK;
	}
	case JF_BOOL:
		if (t != json_type_boolean)
			break;
		return CD_OK;
	case JF_OBJECT:
		if (t != json_type_object)
			break;
		if (f->max > 0) {
			size_t len = strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));

			if ((int64_t)len > f->max)
				return cd_fail(e, CD_INVALID, path,
					       "%s is larger than %" PRId64 " bytes.", path, f->max);
		}
		return CD_OK;
	case JF_ARRAY:
	case JF_STRING_ARRAY: {
		int64_t n;

		if (t != json_type_array)
			break;
		n = (int64_t)json_object_array_length(v);
		if (n < f->min || n > f->max)
			return cd_fail(e, CD_INVALID, path,
				       "%s must have %" PRId64 " to %" PRId64 " items.", path, f->min,
				       f->max);
		if (f->type == JF_ARRAY)
			return CD_OK;
		for (int64_t i = 0; i < n; i++) {
			struct json_object *item = json_object_array_get_idx(v, (size_t)i);

			if (json_object_get_type(item) != json_type_string)
				return cd_fail(e, CD_INVALID, path,
					       "%s[%" PRId64 "] must be a string.", path, i);
			if (json_object_get_string_len(item) < 1 ||
			    json_object_get_string_len(item) > f->item_max)
				return cd_fail(e, CD_INVALID, path,
					       "%s[%" PRId64 "] must be 1 to %" PRId64 " bytes long.",
					       path, i, f->item_max);
		}
		return CD_OK;
	}
	}
	return cd_fail(e, CD_INVALID, path, "%s must be %s.", path, type_word(f->type));
}

enum cd_err json_check_object(struct json_object *obj, const char *where,
			      const struct json_field *fields, size_t n, struct cd_error *e)
{
	char path[PATH_CAP];
	const char *name = where ? where : "body";

	if (!json_object_is_type(obj, json_type_object))
		return cd_fail(e, CD_INVALID, name, "%s must be a JSON object.", name);
	json_object_object_foreach(obj, key, val)
	{
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		field_path(path, sizeof(path), where, key);
		if (i == n)
			return cd_fail(e, CD_INVALID, path, "%s is not a field this request accepts.",
				       path);
		if (val == NULL) {
			if (fields[i].nullable && !fields[i].required)
				continue;
			return cd_fail(e, CD_INVALID, path, "%s must not be null.", path);
		}
		if (check_value(val, &fields[i], path, e) != CD_OK)
			return CD_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (!fields[i].required || json_get(obj, fields[i].name) != NULL)
			continue;
		field_path(path, sizeof(path), where, fields[i].name);
		return cd_fail(e, CD_INVALID, path, "%s is required.", path);
	}
	return CD_OK;
}

struct json_object *json_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

const char *json_get_string(struct json_object *obj, const char *key, const char *dflt)
{
	struct json_object *v = json_get(obj, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : dflt;
}

int64_t json_get_int(struct json_object *obj, const char *key, int64_t dflt)
{
	struct json_object *v = json_get(obj, key);

	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

bool json_get_bool(struct json_object *obj, const char *key, bool dflt)
{
	struct json_object *v = json_get(obj, key);

	return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

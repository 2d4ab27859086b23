/* test_json.c -- base/json.c: the strict parser (what RFC 8259 allows is
 * accepted; duplicate keys, NUL, bad UTF-8, lone surrogates, trailing input,
 * deep nesting and int64 overflow are refused naming the path), the field
 * tables of json_check_object, and the json_get_* readers.
 * Every tree is freed: the suite runs under LeakSanitizer too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "base/json.h"

/* Parses text (NUL-terminated) and returns the tree, asserting success. */
static struct json_object *parse_ok(const char *text)
{
	struct json_object *v = NULL;
	struct cd_error e;

	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_parse_strict(text, strlen(text), &v, &e), CD_OK);
	return v;
}

/* Parses text[0..n) expecting a refusal whose e->field is field. */
static void refuse_n(const char *text, size_t n, const char *field)
{
	struct json_object *v = (struct json_object *)&v; /* must be reset to NULL */
	struct cd_error e;

	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_parse_strict(text, n, &v, &e), CD_INVALID);
	CU_ASSERT_EQUAL(e.err, CD_INVALID);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_NOT_EQUAL(e.message[0], '\0');
	if (field != NULL)
		CU_ASSERT_STRING_EQUAL(e.field, field);
}

static void refuse(const char *text, const char *field)
{
	refuse_n(text, strlen(text), field);
}

/* ---- accepted documents ---------------------------------------------- */

static void test_accepts_nested_document(void)
{
	struct json_object *v =
		parse_ok(" {\"a\": [1, 2, {\"b\": null, \"c\": true}], \"d\": {\"e\": \"f\"}, \"g\": false} ");
	struct json_object *a, *item;

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_object));
	a = json_get(v, "a");
	CU_ASSERT_TRUE(json_object_is_type(a, json_type_array));
	CU_ASSERT_EQUAL(json_object_array_length(a), 3);
	item = json_object_array_get_idx(a, 2);
	CU_ASSERT_TRUE(json_object_object_get_ex(item, "b", NULL));
	CU_ASSERT_PTR_NULL(json_get(item, "b"));
	CU_ASSERT_TRUE(json_get_bool(item, "c", false));
	CU_ASSERT_STRING_EQUAL(json_get_string(json_get(v, "d"), "e", ""), "f");
	CU_ASSERT_FALSE(json_get_bool(v, "g", true));
	json_object_put(v);
}

static void test_accepts_empty_containers(void)
{
	struct json_object *v = parse_ok("{\"o\":{},\"a\":[ ]}");

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(json_object_object_length(json_get(v, "o")), 0);
	CU_ASSERT_EQUAL(json_object_array_length(json_get(v, "a")), 0);
	json_object_put(v);
}

static void test_decodes_escapes(void)
{
	struct json_object *v = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u00E9 \\u20ac\"");

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v),
			       "q\" b\\ s/ \b\f\n\r\t \xc3\xa9\xc3\xa9 \xe2\x82\xac");
	json_object_put(v);
}

static void test_surrogate_pair_to_utf8(void)
{
	struct json_object *v = parse_ok("\"\\ud83d\\ude00\"");

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(json_object_get_string_len(v), 4);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "\xf0\x9f\x98\x80");
	json_object_put(v);
}

static void test_accepts_raw_utf8(void)
{
	/* 2-, 3- and 4-byte sequences, U+10FFFF the highest */
	struct json_object *v = parse_ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(json_object_get_string_len(v), 13);
	json_object_put(v);
}

static void test_numbers(void)
{
	struct json_object *v = parse_ok(
		"[0, -7, 1.5, -2.5e3, 1E+2, 3e-2, 9223372036854775807, -9223372036854775808, -0]");

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(v, 0)), 0);
	CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(v, 1), json_type_int));
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(v, 1)), -7);
	CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(v, 2), json_type_double));
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_array_get_idx(v, 2)), 1.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_array_get_idx(v, 3)), -2500.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_array_get_idx(v, 4)), 100.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(json_object_array_get_idx(v, 5)), 0.03, 1e-12);
	CU_ASSERT_TRUE(json_object_is_type(json_object_array_get_idx(v, 6), json_type_int));
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(v, 6)), INT64_MAX);
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(v, 7)), INT64_MIN);
	CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(v, 8)), 0);
	json_object_put(v);
}

static void test_bare_values_at_top_level(void)
{
	struct json_object *v;
	struct cd_error e;

	v = parse_ok("true");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_boolean));
	CU_ASSERT_TRUE(json_object_get_boolean(v));
	json_object_put(v);

	v = parse_ok(" 1 ");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_int));
	CU_ASSERT_EQUAL(json_object_get_int64(v), 1);
	json_object_put(v);

	v = parse_ok("\"s\"");
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_string));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "s");
	json_object_put(v);

	/* null is json-c's NULL, and accepted */
	v = (struct json_object *)&e;
	CU_ASSERT_EQUAL(json_parse_strict("null", 4, &v, &e), CD_OK);
	CU_ASSERT_PTR_NULL(v);
}

static void test_length_not_nul_terminated(void)
{
	/* only text[0..n) is read */
	struct json_object *v = NULL;
	struct cd_error e;

	CU_ASSERT_EQUAL(json_parse_strict("[1]garbage", 3, &v, &e), CD_OK);
	CU_ASSERT_EQUAL(json_object_array_length(v), 1);
	json_object_put(v);
}

/* ---- refusals -------------------------------------------------------- */

static void test_refuses_duplicate_key(void)
{
	refuse("{\"a\":1,\"a\":2}", "a");
	refuse("{\"outer\":{\"a\":1,\"b\":2,\"a\":3}}", "outer.a");
	/* the same key spelled with an escape is still the same key */
	refuse("{\"a\":1,\"\\u0061\":2}", "a");
	refuse("{\"x\":[{\"k\":1,\"k\":1}]}", "x[0].k");
}

static void test_duplicate_key_message(void)
{
	struct json_object *v = NULL;
	struct cd_error e;
	const char *t = "{\"a\":1,\"a\":2}";

	CU_ASSERT_EQUAL(json_parse_strict(t, strlen(t), &v, &e), CD_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "twice"));
}

/* A top-level fault names "body" in the sentence too, not an empty path
 * (the message once read " is not valid JSON: ..."). */
static void test_top_level_message_names_body(void)
{
	const char *docs[] = {"", "\"\\u0000\"", "{\"a\":1,}", "]", "x"};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct json_object *v = NULL;
		struct cd_error e;

		cd_error_reset(&e);
		CU_ASSERT_EQUAL(json_parse_strict(docs[i], strlen(docs[i]), &v, &e), CD_INVALID);
		CU_ASSERT_STRING_EQUAL(e.field, "body");
		CU_ASSERT_EQUAL(strncmp(e.message, "body ", 5), 0);
	}
}

static void test_nested_message_names_path(void)
{
	struct json_object *v = NULL;
	struct cd_error e;
	const char *t = "{\"outer\":{\"list\":[1,\"\\ud800\"]}}";

	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_parse_strict(t, strlen(t), &v, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "outer.list[1]");
	CU_ASSERT_EQUAL(strncmp(e.message, "outer.list[1] ", 14), 0);
}

static void test_refuses_nul_escape(void)
{
	refuse("\"a\\u0000b\"", "body");
	refuse("{\"name\":\"x\\u0000\"}", "name");
}

static void test_refuses_raw_control_char(void)
{
	refuse("\"a\x01z\"", "body");
	refuse("{\"k\":\"a\nb\"}", "k");
	refuse("{\"k\":\"a\tb\"}", "k");
	/* a raw NUL byte inside the given length */
	refuse_n("\"a\0b\"", 5, "body");
}

static void test_refuses_invalid_utf8(void)
{
	refuse("\"\xc0\x80\"", "body");	     /* overlong NUL */
	refuse("\"\xc1\xbf\"", "body");	     /* overlong 2-byte */
	refuse("\"\xe0\x80\xaf\"", "body");  /* overlong 3-byte */
	refuse("\"\xf0\x80\x80\xaf\"", "body"); /* overlong 4-byte */
	refuse("\"\x80\"", "body");	     /* lone continuation */
	refuse("\"\xed\xa0\x80\"", "body");  /* a surrogate encoded in UTF-8 */
	refuse("\"\xf4\x90\x80\x80\"", "body"); /* above U+10FFFF */
	refuse("\"\xf5\x80\x80\x80\"", "body");
	refuse("\"\xff\"", "body");
	refuse("\"\xc3\"", "body");	     /* truncated before the quote */
	refuse_n("\"\xe2\x82", 3, "body");   /* truncated at the end of input */
	refuse("{\"k\":[\"ok\",\"\xc3\x28\"]}", "k[1]");
}

static void test_refuses_invalid_utf8_in_key(void)
{
	refuse("{\"\xc0\x80\":1}", NULL);
}

static void test_refuses_lone_surrogates(void)
{
	refuse("\"\\ud800\"", "body");
	refuse("\"\\udc00\"", "body");
	refuse("\"\\ud83dx\"", "body");
	refuse("\"\\ud83d\\u0041\"", "body");
	refuse("\"\\ud83d\\ud83d\"", "body");
	refuse("\"\\ude00\\ud83d\"", "body");
	refuse("{\"s\":\"\\ud800\"}", "s");
}

static void test_refuses_bad_escapes(void)
{
	refuse("\"\\x41\"", "body");
	refuse("\"\\u12\"", "body");
	refuse("\"\\u12g4\"", "body");
	refuse("\"\\'\"", "body");
	refuse("\"abc", "body");
	refuse("\"abc\\", "body");
}

static void test_refuses_trailing_garbage(void)
{
	refuse("{} x", "body");
	refuse("{}{}", "body");
	refuse("[1] ]", "body");
	refuse("1 2", "body");
	refuse("true false", "body");
}

static void test_refuses_trailing_commas(void)
{
	refuse("[1,]", NULL);
	refuse("{\"a\":1,}", NULL);
	refuse("[,1]", NULL);
	refuse("{,}", NULL);
}

static void test_refuses_structural_errors(void)
{
	refuse("{\"a\" 1}", "a");
	refuse("{\"a\":1 \"b\":2}", NULL);
	refuse("{a:1}", NULL);
	refuse("{'a':1}", NULL);
	refuse("[1 2]", NULL);
	refuse("[1", NULL);
	refuse("{\"a\":1", NULL);
	refuse("{\"a\":", NULL);
	refuse("tru", "body");
	refuse("nul", "body");
	refuse("True", "body");
	refuse("undefined", "body");
}

static void test_refuses_bad_numbers(void)
{
	refuse("01", "body");
	refuse("-01", "body");
	refuse("[01]", NULL);
	refuse("+1", "body");
	refuse(".5", "body");
	refuse("1.", "body");
	refuse("1.e3", "body");
	refuse("1e", "body");
	refuse("1e+", "body");
	refuse("-", "body");
	refuse("0x10", "body");
	refuse("NaN", "body");
	refuse("Infinity", "body");
	refuse("-Infinity", "body");
	refuse("1e999", "body");
}

static void test_refuses_integer_overflow(void)
{
	refuse("9223372036854775808", "body");
	refuse("-9223372036854775809", "body");
	refuse("{\"n\":99999999999999999999}", "n");
}

static void test_refuses_empty_input(void)
{
	refuse("", "body");
	refuse("   \n\t", "body");
}

static char *nested(size_t open, size_t close, char o, char c)
{
	char *s = malloc(open + close + 1);

	memset(s, o, open);
	memset(s + open, c, close);
	s[open + close] = '\0';
	return s;
}

static void test_refuses_20000_deep_nesting(void)
{
	char *s = nested(20000, 0, '[', ']');
	char *t = nested(20000, 20000, '[', ']');

	refuse(s, NULL);
	refuse(t, NULL);
	free(s);
	free(t);
}

static void test_refuses_deep_object_nesting(void)
{
	size_t n = 20000;
	char *s = malloc(6 * n + 2);

	for (size_t i = 0; i < n; i++)
		memcpy(s + 6 * i, "{\"a\":", 5), s[6 * i + 5] = ' ';
	s[6 * n] = '1';
	s[6 * n + 1] = '\0';
	refuse(s, NULL);
	free(s);
}

static void test_depth_limit_exact(void)
{
	char *ok = nested(JSON_MAX_DEPTH, JSON_MAX_DEPTH, '[', ']');
	char *too_deep = nested(JSON_MAX_DEPTH + 1, JSON_MAX_DEPTH + 1, '[', ']');
	struct json_object *v = parse_ok(ok);
	struct json_object *inner = v;

	CU_ASSERT_PTR_NOT_NULL(v);
	for (int i = 1; i < JSON_MAX_DEPTH && inner != NULL; i++)
		inner = json_object_array_get_idx(inner, 0);
	CU_ASSERT_TRUE(json_object_is_type(inner, json_type_array));
	CU_ASSERT_EQUAL(json_object_array_length(inner), 0);
	json_object_put(v);
	refuse(too_deep, NULL);
	free(ok);
	free(too_deep);
}

static void test_depth_limit_counts_objects(void)
{
	/* JSON_MAX_DEPTH containers mixing objects and arrays */
	char s[16 * JSON_MAX_DEPTH];
	size_t o = 0;

	for (int i = 0; i < JSON_MAX_DEPTH; i++) {
		if (i % 2 == 0)
			o += (size_t)snprintf(s + o, sizeof(s) - o, "{\"k\":");
		else
			s[o++] = '[';
	}
	for (int i = JSON_MAX_DEPTH - 1; i >= 0; i--)
		s[o++] = i % 2 == 0 ? '}' : ']';
	s[o] = '\0';
	json_object_put(parse_ok(s));

	/* and one more level is refused */
	memmove(s + 1, s, o + 1);
	s[0] = '[';
	s[o + 1] = ']';
	s[o + 2] = '\0';
	refuse(s, NULL);
}

/* ---- field tables ---------------------------------------------------- */

static const struct json_field CLAIM_FIELDS[] = {
	{"factory_id", JF_STRING, true, 1, 8, 0, false},
	{"max_jobs", JF_INT, false, 1, 100, 0, false},
	{"ratio", JF_NUMBER, false, 0, 1, 0, false},
	{"drain", JF_BOOL, false, 0, 0, 0, false},
	{"capabilities", JF_STRING_ARRAY, false, 0, 3, 5, false},
	{"items", JF_ARRAY, false, 1, 2, 0, false},
	{"meta", JF_OBJECT, false, 0, 20, 0, false},
	{"note", JF_STRING, false, 0, 10, 0, true},
};
#define NCLAIM (sizeof(CLAIM_FIELDS) / sizeof(CLAIM_FIELDS[0]))

/* Parses text and checks it against CLAIM_FIELDS under where. */
static enum cd_err check(const char *text, const char *where, struct cd_error *e)
{
	struct json_object *v = parse_ok(text);
	enum cd_err rc;

	cd_error_reset(e);
	rc = json_check_object(v, where, CLAIM_FIELDS, NCLAIM, e);
	json_object_put(v);
	return rc;
}

static void check_refused(const char *text, const char *field, const char *needle)
{
	struct cd_error e;

	CU_ASSERT_EQUAL(check(text, "body", &e), CD_INVALID);
	CU_ASSERT_EQUAL(e.err, CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, field);
	if (needle != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(e.message, needle));
}

static void test_check_accepts_valid_object(void)
{
	struct cd_error e;

	CU_ASSERT_EQUAL(check("{\"factory_id\":\"f1\",\"max_jobs\":100,\"ratio\":0.5,\"drain\":true,"
			      "\"capabilities\":[\"gpu\",\"cpu\"],\"items\":[1],\"meta\":{\"a\":1},"
			      "\"note\":\"hi\"}",
			      "body", &e),
			CD_OK);
	CU_ASSERT_EQUAL(check("{\"factory_id\":\"f\"}", "body", &e), CD_OK);
	/* JF_NUMBER takes an integer too */
	CU_ASSERT_EQUAL(check("{\"factory_id\":\"f\",\"ratio\":1}", "body", &e), CD_OK);
}

static void test_check_unknown_field(void)
{
	check_refused("{\"factory_id\":\"f\",\"bogus\":1}", "bogus", "not a field");
}

static void test_check_wrong_type(void)
{
	check_refused("{\"factory_id\":\"f\",\"max_jobs\":\"x\"}", "max_jobs", "integer");
	check_refused("{\"factory_id\":\"f\",\"max_jobs\":1.5}", "max_jobs", "integer");
	check_refused("{\"factory_id\":\"f\",\"max_jobs\":true}", "max_jobs", "integer");
	check_refused("{\"factory_id\":7}", "factory_id", "string");
	check_refused("{\"factory_id\":\"f\",\"ratio\":\"0.5\"}", "ratio", "number");
	check_refused("{\"factory_id\":\"f\",\"drain\":1}", "drain", "true or false");
	check_refused("{\"factory_id\":\"f\",\"capabilities\":\"gpu\"}", "capabilities", "array");
	check_refused("{\"factory_id\":\"f\",\"items\":{}}", "items", "array");
	check_refused("{\"factory_id\":\"f\",\"meta\":[]}", "meta", "object");
}

static void test_check_out_of_range(void)
{
	check_refused("{\"factory_id\":\"f\",\"max_jobs\":0}", "max_jobs", "1 to 100");
	check_refused("{\"factory_id\":\"f\",\"max_jobs\":101}", "max_jobs", "1 to 100");
	check_refused("{\"factory_id\":\"f\",\"max_jobs\":-9223372036854775808}", "max_jobs", NULL);
	check_refused("{\"factory_id\":\"f\",\"ratio\":1.01}", "ratio", NULL);
	check_refused("{\"factory_id\":\"f\",\"ratio\":-0.5}", "ratio", NULL);
	check_refused("{\"factory_id\":\"f\",\"items\":[]}", "items", NULL);
	check_refused("{\"factory_id\":\"f\",\"items\":[1,2,3]}", "items", NULL);
	check_refused("{\"factory_id\":\"f\",\"capabilities\":[\"a\",\"b\",\"c\",\"d\"]}",
		      "capabilities", NULL);
	check_refused("{\"factory_id\":\"f\",\"meta\":{\"long\":\"aaaaaaaaaaaaaaa\"}}", "meta", NULL);
}

static void test_check_string_length(void)
{
	struct cd_error e;

	CU_ASSERT_EQUAL(check("{\"factory_id\":\"12345678\"}", "body", &e), CD_OK);
	check_refused("{\"factory_id\":\"123456789\"}", "factory_id", "1 to 8");
	check_refused("{\"factory_id\":\"\"}", "factory_id", NULL);
	/* length is in bytes: four 2-byte characters fit, five do not */
	CU_ASSERT_EQUAL(check("{\"factory_id\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", "body", &e),
			CD_OK);
	check_refused("{\"factory_id\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", "factory_id",
		      NULL);
}

static void test_check_required_missing(void)
{
	check_refused("{}", "factory_id", "required");
	check_refused("{\"max_jobs\":3}", "factory_id", "required");
}

static void test_check_string_array_items(void)
{
	struct cd_error e;

	check_refused("{\"factory_id\":\"f\",\"capabilities\":[\"ok\",3]}", "capabilities", "[1]");
	check_refused("{\"factory_id\":\"f\",\"capabilities\":[null]}", "capabilities", "[0]");
	check_refused("{\"factory_id\":\"f\",\"capabilities\":[\"ok\",\"toolong\"]}", "capabilities",
		      "[1]");
	check_refused("{\"factory_id\":\"f\",\"capabilities\":[\"\"]}", "capabilities", "[0]");
	CU_ASSERT_EQUAL(check("{\"factory_id\":\"f\",\"capabilities\":[\"12345\"]}", "body", &e), CD_OK);
	CU_ASSERT_EQUAL(check("{\"factory_id\":\"f\",\"capabilities\":[]}", "body", &e), CD_OK);
}

static void test_check_nested_where(void)
{
	static const struct json_field RETRY[] = {
		{"max", JF_INT, true, 0, 10, 0, false},
	};
	struct json_object *v = parse_ok("{\"max\":11}");
	struct cd_error e;

	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(v, "retry", RETRY, 1, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "retry.max");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "retry.max"));
	json_object_put(v);

	v = parse_ok("{}");
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(v, "retry", RETRY, 1, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "retry.max");
	json_object_put(v);

	v = parse_ok("{\"max\":1,\"min\":0}");
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(v, "retry", RETRY, 1, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "retry.min");
	json_object_put(v);

	/* "body" and NULL name no prefix */
	v = parse_ok("{\"max\":11}");
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(v, NULL, RETRY, 1, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "max");
	json_object_put(v);
}

static void test_check_nullable(void)
{
	static const struct json_field F[] = {
		{"opt_null", JF_STRING, false, 0, 10, 0, true},
		{"opt", JF_STRING, false, 0, 10, 0, false},
		{"req_null", JF_INT, true, 0, 10, 0, true},
	};
	struct json_object *v;
	struct cd_error e;

	v = parse_ok("{\"opt_null\":null,\"req_null\":1}");
	CU_ASSERT_EQUAL(json_check_object(v, "body", F, 3, &e), CD_OK);
	/* a null reads as absent */
	CU_ASSERT_STRING_EQUAL(json_get_string(v, "opt_null", "dflt"), "dflt");
	json_object_put(v);

	v = parse_ok("{\"opt\":null,\"req_null\":1}");
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(v, "body", F, 3, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "opt");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "null"));
	json_object_put(v);

	/* nullable does not make a required field optional */
	v = parse_ok("{\"req_null\":null}");
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(v, "body", F, 3, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "req_null");
	json_object_put(v);
}

static void test_check_top_level_not_object(void)
{
	static const struct json_field F[] = {
		{"a", JF_INT, false, 0, 10, 0, false},
	};
	const char *docs[] = {"[]", "1", "\"s\"", "true"};
	struct cd_error e;

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct json_object *v = parse_ok(docs[i]);

		cd_error_reset(&e);
		CU_ASSERT_EQUAL(json_check_object(v, "body", F, 1, &e), CD_INVALID);
		CU_ASSERT_STRING_EQUAL(e.field, "body");
		CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "object"));
		json_object_put(v);
	}
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(json_check_object(NULL, "body", F, 1, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "body");
}

/* ---- readers --------------------------------------------------------- */

static void test_readers_and_defaults(void)
{
	struct json_object *v =
		parse_ok("{\"s\":\"str\",\"i\":42,\"b\":true,\"n\":null,\"d\":1.5,\"o\":{}}");

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_STRING_EQUAL(json_get_string(v, "s", "x"), "str");
	CU_ASSERT_STRING_EQUAL(json_get_string(v, "missing", "x"), "x");
	CU_ASSERT_STRING_EQUAL(json_get_string(v, "n", "x"), "x");
	CU_ASSERT_STRING_EQUAL(json_get_string(v, "i", "x"), "x");
	CU_ASSERT_PTR_NULL(json_get_string(v, "missing", NULL));

	CU_ASSERT_EQUAL(json_get_int(v, "i", -1), 42);
	CU_ASSERT_EQUAL(json_get_int(v, "missing", -1), -1);
	CU_ASSERT_EQUAL(json_get_int(v, "n", -1), -1);
	CU_ASSERT_EQUAL(json_get_int(v, "s", -1), -1);
	CU_ASSERT_EQUAL(json_get_int(v, "d", -1), -1);

	CU_ASSERT_TRUE(json_get_bool(v, "b", false));
	CU_ASSERT_TRUE(json_get_bool(v, "missing", true));
	CU_ASSERT_FALSE(json_get_bool(v, "missing", false));
	CU_ASSERT_TRUE(json_get_bool(v, "n", true));
	CU_ASSERT_FALSE(json_get_bool(v, "i", false));

	CU_ASSERT_PTR_NOT_NULL(json_get(v, "o"));
	CU_ASSERT_PTR_NULL(json_get(v, "n"));
	CU_ASSERT_PTR_NULL(json_get(v, "missing"));
	CU_ASSERT_PTR_NULL(json_get(NULL, "s"));
	CU_ASSERT_STRING_EQUAL(json_get_string(NULL, "s", "d"), "d");
	json_object_put(v);
}

static CU_TestInfo TESTS[] = {
	{"accepts_nested_document", test_accepts_nested_document},
	{"accepts_empty_containers", test_accepts_empty_containers},
	{"decodes_escapes", test_decodes_escapes},
	{"surrogate_pair_to_utf8", test_surrogate_pair_to_utf8},
	{"accepts_raw_utf8", test_accepts_raw_utf8},
	{"numbers", test_numbers},
	{"bare_values_at_top_level", test_bare_values_at_top_level},
	{"length_not_nul_terminated", test_length_not_nul_terminated},
	{"refuses_duplicate_key", test_refuses_duplicate_key},
	{"duplicate_key_message", test_duplicate_key_message},
	{"top_level_message_names_body", test_top_level_message_names_body},
	{"nested_message_names_path", test_nested_message_names_path},
	{"refuses_nul_escape", test_refuses_nul_escape},
	{"refuses_raw_control_char", test_refuses_raw_control_char},
	{"refuses_invalid_utf8", test_refuses_invalid_utf8},
	{"refuses_invalid_utf8_in_key", test_refuses_invalid_utf8_in_key},
	{"refuses_lone_surrogates", test_refuses_lone_surrogates},
	{"refuses_bad_escapes", test_refuses_bad_escapes},
	{"refuses_trailing_garbage", test_refuses_trailing_garbage},
	{"refuses_trailing_commas", test_refuses_trailing_commas},
	{"refuses_structural_errors", test_refuses_structural_errors},
	{"refuses_bad_numbers", test_refuses_bad_numbers},
	{"refuses_integer_overflow", test_refuses_integer_overflow},
	{"refuses_empty_input", test_refuses_empty_input},
	{"refuses_20000_deep_nesting", test_refuses_20000_deep_nesting},
	{"refuses_deep_object_nesting", test_refuses_deep_object_nesting},
	{"depth_limit_exact", test_depth_limit_exact},
	{"depth_limit_counts_objects", test_depth_limit_counts_objects},
	{"check_accepts_valid_object", test_check_accepts_valid_object},
	{"check_unknown_field", test_check_unknown_field},
	{"check_wrong_type", test_check_wrong_type},
	{"check_out_of_range", test_check_out_of_range},
	{"check_string_length", test_check_string_length},
	{"check_required_missing", test_check_required_missing},
	{"check_string_array_items", test_check_string_array_items},
	{"check_nested_where", test_check_nested_where},
	{"check_nullable", test_check_nullable},
	{"check_top_level_not_object", test_check_top_level_not_object},
	{"readers_and_defaults", test_readers_and_defaults},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("json", TESTS);
}

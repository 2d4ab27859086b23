/* test_envelope.c -- fcgi/response.c and fcgi/request.c: the JSON envelope of
 * reply_ok / reply_created / reply_error / reply_fail, THE cd_err -> status
 * table, request ids, header injection, and query/percent decoding.
 * Every response body is parsed back with json-c rather than compared as text. */
#include <ctype.h>
#include <string.h>

#include <json-c/json.h>

#include "../cutest.h"
#include "base/json.h"
#include "fcgi/request.h"
#include "fcgi/response.h"

#define INTERNAL_SENTENCE "An internal error occurred"

static void start(struct request *req)
{
	request_init(req, NULL);
	request_set_id(req, "abc");
}

/* The parsed body of req; asserts it is a JSON object. Caller puts it. */
static struct json_object *body(const struct request *req)
{
	struct json_object *v = json_tokener_parse(buf_str(&req->out));

	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_object));
	return v;
}

/* A string member of obj, "" when absent. */
static const char *str(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static bool ok_flag(struct json_object *obj)
{
	struct json_object *v = NULL;

	CU_ASSERT_TRUE(json_object_object_get_ex(obj, "ok", &v));
	CU_ASSERT_TRUE(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

/* details.field, "" when there is none; asserts details is an object. */
static const char *details_field(struct json_object *obj)
{
	struct json_object *d = NULL;

	CU_ASSERT_TRUE(json_object_object_get_ex(obj, "details", &d));
	CU_ASSERT_TRUE(json_object_is_type(d, json_type_object));
	return str(d, "field");
}

/* ---- success envelopes ----------------------------------------------- */

static void test_reply_ok(void)
{
	struct request req;
	struct json_object *data = json_object_new_object(), *v, *d = NULL;

	start(&req);
	json_object_object_add(data, "x", json_object_new_int(1));
	json_object_object_add(data, "path", json_object_new_string("a/b"));
	reply_ok(&req, data); /* steals data */
	CU_ASSERT_EQUAL(req.status, 200);
	v = body(&req);
	CU_ASSERT_TRUE(ok_flag(v));
	CU_ASSERT_STRING_EQUAL(str(v, "request_id"), "abc");
	CU_ASSERT_TRUE(json_object_object_get_ex(v, "data", &d));
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(d, "x")), 1);
	CU_ASSERT_STRING_EQUAL(str(d, "path"), "a/b");
	CU_ASSERT_FALSE(json_object_object_get_ex(v, "error", NULL));
	/* no slash escaping in the text */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_str(&req.out), "a/b"));
	json_object_put(v);
	request_reset(&req);
}

static void test_reply_ok_null_data(void)
{
	struct request req;
	struct json_object *v, *d = (struct json_object *)&req;

	start(&req);
	reply_ok(&req, NULL);
	CU_ASSERT_EQUAL(req.status, 200);
	v = body(&req);
	CU_ASSERT_TRUE(ok_flag(v));
	CU_ASSERT_TRUE(json_object_object_get_ex(v, "data", &d));
	CU_ASSERT_PTR_NULL(d);
	json_object_put(v);
	request_reset(&req);
}

static void test_reply_created(void)
{
	struct request req;
	struct json_object *v, *d = NULL;

	start(&req);
	reply_created(&req, json_object_new_array());
	CU_ASSERT_EQUAL(req.status, 201);
	v = body(&req);
	CU_ASSERT_TRUE(ok_flag(v));
	CU_ASSERT_STRING_EQUAL(str(v, "request_id"), "abc");
	CU_ASSERT_TRUE(json_object_object_get_ex(v, "data", &d));
	CU_ASSERT_TRUE(json_object_is_type(d, json_type_array));
	json_object_put(v);
	request_reset(&req);
}

static void test_reply_text(void)
{
	struct request req;
	struct json_object *v, *d = NULL;

	start(&req);
	reply_ok_text(&req, "{\"id\":7}");
	CU_ASSERT_EQUAL(req.status, 200);
	v = body(&req);
	CU_ASSERT_TRUE(json_object_object_get_ex(v, "data", &d));
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(d, "id")), 7);
	json_object_put(v);

	reply_created_text(&req, NULL);
	CU_ASSERT_EQUAL(req.status, 201);
	v = body(&req);
	CU_ASSERT_TRUE(ok_flag(v));
	CU_ASSERT_TRUE(json_object_object_get_ex(v, "data", &d));
	CU_ASSERT_PTR_NULL(d);
	json_object_put(v);
	request_reset(&req);
}

/* ---- error envelopes ------------------------------------------------- */

static void test_reply_error_invalid(void)
{
	struct request req;
	struct cd_error e;
	struct json_object *v;

	start(&req);
	cd_fail(&e, CD_INVALID, "max_jobs", "max_jobs must be 1 to 100.");
	reply_error(&req, &e);
	CU_ASSERT_EQUAL(req.status, 400);
	v = body(&req);
	CU_ASSERT_FALSE(ok_flag(v));
	CU_ASSERT_STRING_EQUAL(str(v, "request_id"), "abc");
	CU_ASSERT_STRING_EQUAL(str(v, "error"), "invalid_request");
	CU_ASSERT_STRING_EQUAL(str(v, "message"), "max_jobs must be 1 to 100.");
	CU_ASSERT_STRING_EQUAL(details_field(v), "max_jobs");
	CU_ASSERT_FALSE(json_object_object_get_ex(v, "data", NULL));
	json_object_put(v);
	request_reset(&req);
}

static void test_reply_error_without_field(void)
{
	struct request req;
	struct cd_error e;
	struct json_object *v, *d = NULL;

	start(&req);
	cd_fail(&e, CD_FORBIDDEN, NULL, "Your role may not do this.");
	reply_error(&req, &e);
	CU_ASSERT_EQUAL(req.status, 403);
	v = body(&req);
	CU_ASSERT_STRING_EQUAL(str(v, "error"), "forbidden");
	CU_ASSERT_TRUE(json_object_object_get_ex(v, "details", &d));
	CU_ASSERT_EQUAL(json_object_object_length(d), 0);
	json_object_put(v);
	request_reset(&req);
}

static void check_code_override(enum cd_err err, const char *code, int status)
{
	struct request req;
	struct cd_error e;
	struct json_object *v;

	start(&req);
	cd_fail(&e, err, "id", "Something about %s.", "id");
	cd_fail_code(&e, code);
	reply_error(&req, &e);
	CU_ASSERT_EQUAL(req.status, status);
	v = body(&req);
	CU_ASSERT_FALSE(ok_flag(v));
	CU_ASSERT_STRING_EQUAL(str(v, "error"), code);
	CU_ASSERT_STRING_EQUAL(str(v, "message"), "Something about id.");
	CU_ASSERT_STRING_EQUAL(details_field(v), "id");
	json_object_put(v);
	request_reset(&req);
}

static void test_reply_error_statuses_and_codes(void)
{
	check_code_override(CD_NOT_FOUND, "job_not_found", 404);
	check_code_override(CD_CONFLICT, "conflict", 409);
	check_code_override(CD_STALE_EPOCH, "stale_epoch", 409);
	check_code_override(CD_TOO_LARGE, "body_too_large", 413);
	check_code_override(CD_UNSUPPORTED_MEDIA, "unsupported_media_type", 415);
	check_code_override(CD_UNAVAILABLE, "redis_unavailable", 503);
	check_code_override(CD_UNAUTHORIZED, "unauthorized", 401);
	check_code_override(CD_PRECONDITION_FAILED, "precondition_failed", 412);
	check_code_override(CD_DEPENDENCY_CYCLE, "dependency_cycle", 422);
}

static void test_reply_error_default_codes(void)
{
	static const struct {
		enum cd_err err;
		int status;
		const char *code;
	} V[] = {
		{CD_NOT_FOUND, 404, "not_found"},
		{CD_METHOD_NOT_ALLOWED, 405, "method_not_allowed"},
		{CD_CONFLICT, 409, "conflict"},
		{CD_TOO_LARGE, 413, "body_too_large"},
		{CD_UNSUPPORTED_MEDIA, 415, "unsupported_media_type"},
		{CD_AUTH_NOT_CONFIGURED, 503, "auth_not_configured"},
		{CD_UNAVAILABLE, 503, "database_unavailable"},
	};

	for (size_t i = 0; i < sizeof(V) / sizeof(V[0]); i++) {
		struct request req;
		struct json_object *v;

		start(&req);
		reply_fail(&req, V[i].err, NULL, "Case %zu.", i);
		CU_ASSERT_EQUAL(req.status, V[i].status);
		v = body(&req);
		CU_ASSERT_STRING_EQUAL(str(v, "error"), V[i].code);
		CU_ASSERT_EQUAL(strncmp(str(v, "message"), "Case ", 5), 0);
		json_object_put(v);
		request_reset(&req);
	}
}

static void test_reply_fail_formats(void)
{
	struct request req;
	struct json_object *v;

	start(&req);
	reply_fail(&req, CD_INVALID, "limit", "limit must be %d to %d.", 1, 500);
	CU_ASSERT_EQUAL(req.status, 400);
	v = body(&req);
	CU_ASSERT_STRING_EQUAL(str(v, "error"), "invalid_request");
	CU_ASSERT_STRING_EQUAL(str(v, "message"), "limit must be 1 to 500.");
	CU_ASSERT_STRING_EQUAL(details_field(v), "limit");
	json_object_put(v);
	request_reset(&req);
}

static void test_internal_message_not_leaked(void)
{
	static const enum cd_err HIDDEN[] = {CD_INTERNAL, CD_CONFIG};

	for (size_t i = 0; i < 2; i++) {
		struct request req;
		struct cd_error e;
		struct json_object *v;

		start(&req);
		cd_fail(&e, HIDDEN[i], NULL, "PQexec failed: password=hunter2 host=db.internal");
		reply_error(&req, &e);
		CU_ASSERT_EQUAL(req.status, 500);
		CU_ASSERT_PTR_NULL(strstr(buf_str(&req.out), "hunter2"));
		CU_ASSERT_PTR_NULL(strstr(buf_str(&req.out), "db.internal"));
		v = body(&req);
		CU_ASSERT_STRING_EQUAL(str(v, "error"), "internal_error");
		CU_ASSERT_EQUAL(strncmp(str(v, "message"), INTERNAL_SENTENCE, strlen(INTERNAL_SENTENCE)),
				0);
		CU_ASSERT_STRING_EQUAL(str(v, "request_id"), "abc");
		json_object_put(v);
		request_reset(&req);
	}
}

static void test_unavailable_message_kept(void)
{
	/* a 503 is not a bug of ours: its sentence reaches the client */
	struct request req;
	struct json_object *v;

	start(&req);
	reply_fail(&req, CD_UNAVAILABLE, NULL, "The database is unavailable; try again shortly.");
	CU_ASSERT_EQUAL(req.status, 503);
	v = body(&req);
	CU_ASSERT_STRING_EQUAL(str(v, "message"), "The database is unavailable; try again shortly.");
	json_object_put(v);
	request_reset(&req);
}

static void test_reply_error_odd_inputs(void)
{
	struct request req;
	struct cd_error e;
	struct json_object *v;

	/* CD_OK and out-of-range values are bugs: 500 */
	start(&req);
	cd_error_reset(&e);
	reply_error(&req, &e);
	CU_ASSERT_EQUAL(req.status, 500);
	v = body(&req);
	CU_ASSERT_FALSE(ok_flag(v));
	CU_ASSERT_STRING_EQUAL(str(v, "error"), "internal_error");
	json_object_put(v);

	cd_error_reset(&e);
	e.err = CD_ERR_COUNT + 3;
	reply_error(&req, &e);
	CU_ASSERT_EQUAL(req.status, 500);
	json_object_put(body(&req));

	/* an empty message still gives a sentence */
	cd_error_reset(&e);
	e.err = CD_CONFLICT;
	reply_error(&req, &e);
	CU_ASSERT_EQUAL(req.status, 409);
	v = body(&req);
	CU_ASSERT_NOT_EQUAL(str(v, "message")[0], '\0');
	json_object_put(v);
	request_reset(&req);
}

static void test_error_text_is_escaped(void)
{
	struct request req;
	struct json_object *v;
	const char *msg = "a \"quoted\" \\ back\nslash\ttab \x01 ctl </script>";

	start(&req);
	reply_fail(&req, CD_INVALID, "we\"ird\nfield", "%s", msg);
	v = body(&req);
	CU_ASSERT_STRING_EQUAL(str(v, "message"), msg);
	CU_ASSERT_STRING_EQUAL(details_field(v), "we\"ird\nfield");
	json_object_put(v);
	request_reset(&req);
}

/* Text cut at the end of cd_error's arrays (a long path in a message, a long
 * field name) ends between characters, and bytes that are not UTF-8 become
 * U+FFFD: the envelope is strict UTF-8 JSON either way. */
static void test_error_text_cut_between_characters(void)
{
	char path[601], field[301], shifted[303];
	struct json_object *v = NULL;
	struct cd_error e;
	struct request req;

	/* "/" and 300 e-acute: any cut at an even length splits one */
	path[0] = '/';
	for (int i = 0; i < 300; i++)
		path[1 + 2 * i] = '\xc3', path[2 + 2 * i] = '\xa9';
	path[600] = '\0';
	for (int i = 0; i < 150; i++)
		field[2 * i] = '\xc3', field[2 * i + 1] = '\xa9';
	field[300] = '\0';
	for (int shift = 0; shift < 3; shift++) {
		snprintf(shifted, sizeof(shifted), "%.*s%s", shift, "ab", field);
		start(&req);
		reply_fail(&req, CD_NOT_FOUND, shifted, "No route matches %.*s %s.", shift, "GET",
			   path);
		CU_ASSERT_EQUAL(json_parse_strict(buf_str(&req.out), req.out.len, &v, &e), CD_OK);
		CU_ASSERT_PTR_NULL(strstr(buf_str(&req.out), "\\ufffd"));
		CU_ASSERT_PTR_NOT_NULL(strstr(buf_str(&req.out), "No route matches"));
		json_object_put(v);
		v = NULL;
		request_reset(&req);
	}
	/* a prefix pushing the message past its end is cut the same way */
	cd_error_reset(&e);
	cd_fail(&e, CD_INVALID, NULL, "%s", path + 1);
	cd_error_prefix(&e, "xy");
	CU_ASSERT_EQUAL(buf_utf8_cut(e.message, strlen(e.message)), strlen(e.message));
	CU_ASSERT_EQUAL(strlen(e.message) % 2, 0); /* "xy" and whole e-acutes */
	/* bytes that are not UTF-8 at all are replaced, not passed on */
	start(&req);
	reply_fail(&req, CD_NOT_FOUND, "path", "No route matches GET /v1/%s.", "\xff\xfe\xc3");
	CU_ASSERT_EQUAL(json_parse_strict(buf_str(&req.out), req.out.len, &v, &e), CD_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_str(&req.out), "/v1/\\ufffd\\ufffd\\ufffd."));
	json_object_put(v);
	request_reset(&req);
}

static void test_error_replaces_earlier_body(void)
{
	struct request req;
	struct json_object *v;

	start(&req);
	reply_ok(&req, json_object_new_string("first"));
	reply_fail(&req, CD_NOT_FOUND, "id", "No such job.");
	CU_ASSERT_EQUAL(req.status, 404);
	CU_ASSERT_PTR_NULL(strstr(buf_str(&req.out), "first"));
	v = body(&req);
	CU_ASSERT_FALSE(ok_flag(v));
	json_object_put(v);
	request_reset(&req);
}

/* ---- the table ------------------------------------------------------- */

static void test_every_error_has_a_status(void)
{
	for (int i = 0; i < CD_ERR_COUNT; i++) {
		int s = response_status((enum cd_err)i);
		const char *code = response_code((enum cd_err)i);

		CU_ASSERT_TRUE(s >= 200 && s <= 599);
		CU_ASSERT_PTR_NOT_NULL_FATAL(code);
		CU_ASSERT_NOT_EQUAL(code[0], '\0');
		for (const char *p = code; *p; p++)
			CU_ASSERT_TRUE(islower((unsigned char)*p) || *p == '_');
		/* a status the table uses has its own reason phrase */
		if (s != 500)
			CU_ASSERT_STRING_NOT_EQUAL(response_reason(s), "Internal Server Error");
		/* only our own bugs are 500 */
		if (i != CD_INTERNAL && i != CD_CONFIG)
			CU_ASSERT_NOT_EQUAL(s, 500);
		/* only CD_OK is a success */
		if (i != CD_OK)
			CU_ASSERT_TRUE(s >= 400);
	}
	CU_ASSERT_EQUAL(response_status(CD_OK), 200);
	CU_ASSERT_EQUAL(response_status(CD_INVALID), 400);
	CU_ASSERT_EQUAL(response_status(CD_UNAUTHORIZED), 401);
	CU_ASSERT_EQUAL(response_status(CD_FORBIDDEN), 403);
	CU_ASSERT_EQUAL(response_status(CD_NOT_FOUND), 404);
	CU_ASSERT_EQUAL(response_status(CD_METHOD_NOT_ALLOWED), 405);
	CU_ASSERT_EQUAL(response_status(CD_IDEMPOTENCY_CONFLICT), 409);
	CU_ASSERT_EQUAL(response_status(CD_INVALID_TRANSITION), 409);
	CU_ASSERT_EQUAL(response_status(CD_UPSTREAM), 502);
	CU_ASSERT_STRING_EQUAL(response_code(CD_UPSTREAM), "provider_error");
	CU_ASSERT_EQUAL(response_status(CD_INTERNAL), 500);
	CU_ASSERT_EQUAL(response_status((enum cd_err)-1), 500);
	CU_ASSERT_EQUAL(response_status(CD_ERR_COUNT), 500);
	CU_ASSERT_STRING_EQUAL(response_code(CD_ERR_COUNT), "internal_error");
	CU_ASSERT_STRING_EQUAL(response_reason(404), "Not Found");
	CU_ASSERT_STRING_EQUAL(response_reason(201), "Created");
}

/* ---- request ids ----------------------------------------------------- */

static bool generated_id(const char *id)
{
	if (strlen(id) != 28 || strncmp(id, "req_", 4) != 0)
		return false;
	for (const char *p = id + 4; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

static void test_request_id_accepted(void)
{
	struct request req;
	char id[129];

	request_init(&req, NULL);
	request_set_id(&req, "abc");
	CU_ASSERT_STRING_EQUAL(req.request_id, "abc");
	memset(id, 'x', 128);
	id[0] = '!';
	id[127] = '~';
	id[128] = '\0';
	request_set_id(&req, id);
	CU_ASSERT_STRING_EQUAL(req.request_id, id);
	request_reset(&req);
}

static void test_request_id_replaced(void)
{
	struct request req;
	char id[130];

	request_init(&req, NULL);
	memset(id, 'x', 129);
	id[129] = '\0';
	request_set_id(&req, id);
	CU_ASSERT_TRUE(generated_id(req.request_id));

	request_set_id(&req, "has space");
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_set_id(&req, "ctl\x01");
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_set_id(&req, "tab\t");
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_set_id(&req, "del\x7f");
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_set_id(&req, "caf\xc3\xa9");
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_set_id(&req, "");
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_set_id(&req, NULL);
	CU_ASSERT_TRUE(generated_id(req.request_id));
	request_reset(&req);
}

static void test_generated_ids_differ(void)
{
	struct request a, b;

	request_init(&a, NULL);
	request_init(&b, NULL);
	request_set_id(&a, NULL);
	request_set_id(&b, NULL);
	CU_ASSERT_TRUE(generated_id(a.request_id));
	CU_ASSERT_TRUE(generated_id(b.request_id));
	CU_ASSERT_STRING_NOT_EQUAL(a.request_id, b.request_id);
	request_reset(&a);
	request_reset(&b);
}

/* ---- headers --------------------------------------------------------- */

static void test_reply_header(void)
{
	struct request req;

	start(&req);
	reply_header(&req, "Allow", "GET, POST");
	CU_ASSERT_STRING_EQUAL(buf_str(&req.out_headers), "Allow: GET, POST\r\n");
	reply_header(&req, "X-Bad", "a\r\nSet-Cookie: x=1");
	reply_header(&req, "X-Bad", "a\nb");
	reply_header(&req, "X-Bad", "a\rb");
	reply_header(&req, "X-Bad\r\nInjected", "v");
	reply_header(&req, "X-Bad\n", "v");
	CU_ASSERT_STRING_EQUAL(buf_str(&req.out_headers), "Allow: GET, POST\r\n");
	reply_header(&req, "ETag", "\"3\"");
	CU_ASSERT_STRING_EQUAL(buf_str(&req.out_headers), "Allow: GET, POST\r\nETag: \"3\"\r\n");
	request_reset(&req);
}

/* ---- query and percent decoding -------------------------------------- */

static void test_request_query(void)
{
	struct request req;
	char out[16], big[17];

	request_init(&req, NULL);
	req.query = "a=1&b=x%20y&c&ab=2&d=%00&e=%zz&f=&g=a+b&h=%2Fz%2f&long=0123456789abcdef";
	CU_ASSERT_EQUAL(request_query(&req, "a", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "1");
	CU_ASSERT_EQUAL(request_query(&req, "b", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "x y");
	CU_ASSERT_EQUAL(request_query(&req, "ab", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "2");
	strcpy(out, "junk");
	CU_ASSERT_EQUAL(request_query(&req, "c", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(request_query(&req, "f", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(request_query(&req, "g", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "a+b");
	CU_ASSERT_EQUAL(request_query(&req, "h", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "/z/");
	CU_ASSERT_EQUAL(request_query(&req, "d", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_query(&req, "e", out, sizeof(out)), -1);
	/* 16 characters do not fit 16 bytes with the NUL */
	CU_ASSERT_EQUAL(request_query(&req, "long", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_query(&req, "long", big, sizeof(big)), 1);
	CU_ASSERT_STRING_EQUAL(big, "0123456789abcdef");
	/* absent, and no prefix confusion */
	CU_ASSERT_EQUAL(request_query(&req, "z", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(request_query(&req, "lon", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(request_query(&req, "1", out, sizeof(out)), 0);
	req.query = "";
	CU_ASSERT_EQUAL(request_query(&req, "a", out, sizeof(out)), 0);
	request_reset(&req);
}

static void test_request_decode(void)
{
	char out[8];

	CU_ASSERT_EQUAL(request_decode("a%41%6a", 7, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "aAj");
	CU_ASSERT_EQUAL(request_decode("%E2%82%ac", 9, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "\xe2\x82\xac");
	CU_ASSERT_EQUAL(request_decode("a+b", 3, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "a+b");
	CU_ASSERT_EQUAL(request_decode("", 0, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	/* only src[0..n) is read */
	CU_ASSERT_EQUAL(request_decode("abc%zz", 3, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "abc");

	CU_ASSERT_EQUAL(request_decode("%00", 3, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_decode("a%00b", 5, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_decode("%zz", 3, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_decode("%4g", 3, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_decode("%4", 2, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(request_decode("ab%", 3, out, sizeof(out)), -1);
	/* "%41" cut to two bytes is malformed, not "A" */
	CU_ASSERT_EQUAL(request_decode("%41", 2, out, sizeof(out)), -1);

	/* capacity: 7 characters fit 8 bytes, 8 do not */
	CU_ASSERT_EQUAL(request_decode("1234567", 7, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1234567");
	CU_ASSERT_EQUAL(request_decode("12345678", 8, out, sizeof(out)), -1);
	/* decoded length counts, not encoded */
	CU_ASSERT_EQUAL(request_decode("%31%32%33%34%35%36%37", 21, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1234567");
}

static void test_request_param(void)
{
	struct request req;

	request_init(&req, NULL);
	CU_ASSERT_PTR_NULL(request_param(&req, "id"));
	strcpy(req.params[0].name, "id");
	strcpy(req.params[0].value, "12");
	strcpy(req.params[1].name, "run");
	strcpy(req.params[1].value, "3");
	req.nparams = 2;
	CU_ASSERT_STRING_EQUAL(request_param(&req, "id"), "12");
	CU_ASSERT_STRING_EQUAL(request_param(&req, "run"), "3");
	CU_ASSERT_PTR_NULL(request_param(&req, "i"));
	request_reset(&req);
}

static void test_request_init_defaults(void)
{
	struct request req;

	request_init(&req, NULL);
	CU_ASSERT_EQUAL(req.status, 200);
	CU_ASSERT_STRING_EQUAL(req.query, "");
	CU_ASSERT_STRING_EQUAL(req.out_type, "application/json");
	CU_ASSERT_EQUAL(req.nparams, 0);
	CU_ASSERT_PTR_NULL(req.route);
	CU_ASSERT_FALSE(req.authenticated);
	CU_ASSERT_STRING_EQUAL(buf_str(&req.out), "");
	request_reset(&req);
}

static CU_TestInfo TESTS[] = {
	{"reply_ok", test_reply_ok},
	{"reply_ok_null_data", test_reply_ok_null_data},
	{"reply_created", test_reply_created},
	{"reply_text", test_reply_text},
	{"reply_error_invalid", test_reply_error_invalid},
	{"reply_error_without_field", test_reply_error_without_field},
	{"reply_error_statuses_and_codes", test_reply_error_statuses_and_codes},
	{"reply_error_default_codes", test_reply_error_default_codes},
	{"reply_fail_formats", test_reply_fail_formats},
	{"internal_message_not_leaked", test_internal_message_not_leaked},
	{"unavailable_message_kept", test_unavailable_message_kept},
	{"reply_error_odd_inputs", test_reply_error_odd_inputs},
	{"error_text_is_escaped", test_error_text_is_escaped},
	{"error_text_cut_between_characters", test_error_text_cut_between_characters},
	{"error_replaces_earlier_body", test_error_replaces_earlier_body},
	{"every_error_has_a_status", test_every_error_has_a_status},
	{"request_id_accepted", test_request_id_accepted},
	{"request_id_replaced", test_request_id_replaced},
	{"generated_ids_differ", test_generated_ids_differ},
	{"reply_header", test_reply_header},
	{"request_query", test_request_query},
	{"request_decode", test_request_decode},
	{"request_param", test_request_param},
	{"request_init_defaults", test_request_init_defaults},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("envelope", TESTS);
}

/* test_openapi.c -- GET /v1/openapi.json through nginx, against the stack
 * tests/http/run-integration starts (program test_openapi_http).
 *
 * The document must describe what the server runs, so this suite reads the
 * server's own sources rather than the document's builder:
 *   - every row of tests/data/routes.tsv (which test_routes keeps equal to
 *     ROUTES) is an operation, with its handler as operationId, its roles as
 *     x-roles (admin implied), `security: []` exactly where no token is
 *     needed, and each {name} of its pattern as a path parameter; and the
 *     document has no operation that is not a row;
 *   - every `struct json_field NAME[]` table of the .c files of src/fcgi (FENCE_FIELDS
 *     expanded from handler.h) is in the document as a schema marked
 *     x-field-table NAME with exactly its fields, their JSON types and which
 *     are required; and the table a handler hands to body_object_or_reply()
 *     (or step_or_reply()) is its operation's request body; and each query
 *     or header parameter a handler reads (request_query(), limit_or_reply(),
 *     cursor_or_reply(), If-Match) is a parameter of its operation;
 *   - the document is valid against the official OpenAPI 3.1 schema and its
 *     Schema Objects against JSON Schema 2020-12 (tests/http/validate_openapi.mjs),
 *     and that validator refuses a document with an invalid type;
 *   - every GET route of /v1 (a job's, for {id}), a submit, a claim and a
 *     PATCH answer the data their operation describes: each key of data
 *     documented, of its type;
 *   - it is served without a token, cacheable, the same bytes every time,
 *     and HEAD answers its headers.
 *
 * OPENAPI_ONLY=name[,name] runs only those tests.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "expect.h"

#define EXIT_MISSING 77 /* validate_openapi.mjs: the validator is not installed */

static struct json_object *DOC; /* the document, fetched once */

/* ---- reading files ---------------------------------------------------------- */

/* $top_srcdir/rel's contents (new string), or NULL. */
static char *slurp(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char *text = NULL, *path;
	size_t cap = 0, n;
	FILE *f;

	if (top == NULL)
		return NULL;
	path = fmt("%s/%s", top, rel);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return NULL;
	n = (size_t)getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n == (size_t)-1) {
		free(text);
		return NULL;
	}
	return text;
}

static struct json_object *document(void)
{
	struct http_resp r;

	if (DOC != NULL)
		return DOC;
	r = call("GET", "/v1/openapi.json", NULL, NULL, NULL);
	if (r.status == 200 && r.json != NULL)
		DOC = json_object_get(r.json);
	http_resp_free(&r);
	return DOC;
}

/* The operation of method (upper case) pattern; NULL when there is none. */
static struct json_object *operation_of(const char *method, const char *pattern)
{
	char lower[16];
	size_t i;

	for (i = 0; method[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)method[i]);
	lower[i] = '\0';
	return obj_at(obj_at(obj_at(document(), "paths"), pattern), lower);
}

/* The operation whose operationId is id; NULL when there is none. */
static struct json_object *operation_by_id(const char *id)
{
	json_object_object_foreach(obj_at(document(), "paths"), pattern, item)
	{
		(void)pattern;
		json_object_object_foreach(item, method, op)
		{
			(void)method;
			if (strcmp(str_at(op, "operationId"), id) == 0)
				return op;
		}
	}
	return NULL;
}

/* ---- served ------------------------------------------------------------------ */

static void test_served_without_a_token_cacheable_and_stable(void)
{
	struct http_resp a = call("GET", "/v1/openapi.json", NULL, NULL, NULL);
	struct http_resp b = call("GET", "/v1/openapi.json", NULL, NULL, NULL);
	struct http_resp h;

	EXPECT_STATUS(a, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.json);
	CU_ASSERT(strncmp(a.content_type, "application/json", 16) == 0);
	CU_ASSERT(strstr(a.cache_control, "public") != NULL);
	CU_ASSERT(strstr(a.cache_control, "max-age=") != NULL);
	EXPECT_STR(str_at(a.json, "openapi"), "3.1.0");
	/* the document itself, not an envelope around it */
	CU_ASSERT_PTR_NULL(obj_at(a.json, "ok"));
	CU_ASSERT(a.len == b.len && memcmp(a.body, b.body, a.len) == 0);
	CU_ASSERT_EQUAL_FATAL(http_do("HEAD", "/v1/openapi.json", NULL, NULL, 0, NULL, &h), 0);
	EXPECT_STATUS(h, 200);
	CU_ASSERT_EQUAL(h.len, 0);
	CU_ASSERT_EQUAL(h.content_length, (long long)a.len);
	/* every other answer stays uncacheable */
	http_resp_free(&b);
	b = call("GET", "/healthz", NULL, NULL, NULL);
	EXPECT_STR(b.cache_control, "no-store");
	http_resp_free(&a);
	http_resp_free(&b);
	http_resp_free(&h);
}

/* ---- routes.tsv ---------------------------------------------------------------- */

/* Does the JSON array of strings a hold exactly the comma-separated words
 * of want? */
static bool same_words(struct json_object *a, const char *want)
{
	char *copy = fmt("%s", want), *save = NULL, *w;
	size_t n = 0;
	bool ok = true;

	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		bool found = false;

		n++;
		for (size_t i = 0; i < len_of(a); i++)
			found = found || strcmp(json_object_get_string(item_at(a, i)), w) == 0;
		ok = ok && found;
	}
	free(copy);
	return ok && n == len_of(a);
}

/* Is there a path parameter name, required, among op's parameters? */
static bool has_path_param(struct json_object *op, const char *name)
{
	struct json_object *params = obj_at(op, "parameters");

	for (size_t i = 0; i < len_of(params); i++) {
		struct json_object *p = item_at(params, i);

		if (strcmp(str_at(p, "name"), name) == 0 && strcmp(str_at(p, "in"), "path") == 0 &&
		    bool_at(p, "required"))
			return true;
	}
	return false;
}

static void test_every_route_of_routes_tsv(void)
{
	char *tsv = slurp("tests/data/routes.tsv"), *save = NULL, *line;
	size_t rows = 0, ops = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tsv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(document());
	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char method[16], pattern[512], handler[128], roles[256], want[300];
		struct json_object *op;
		const char *p;

		if (line[0] == '#' ||
		    sscanf(line, "%15s %511s %127s %255s", method, pattern, handler, roles) != 4)
			continue;
		rows++;
		op = operation_of(method, pattern);
		CU_ASSERT_PTR_NOT_NULL(op);
		if (op == NULL) {
			fprintf(stderr, "\n  the document lacks %s %s\n", method, pattern);
			continue;
		}
		EXPECT_STR(str_at(op, "operationId"), handler);
		if (strcmp(roles, "-") == 0)
			snprintf(want, sizeof(want), "%s", "");
		else if (strcmp(roles, "admin") == 0)
			snprintf(want, sizeof(want), "admin");
		else
			snprintf(want, sizeof(want), "admin,%s", roles);
		if (!same_words(obj_at(op, "x-roles"), want))
			fprintf(stderr, "\n  %s %s: x-roles %s, routes.tsv says %s\n", method,
			        pattern, json_object_to_json_string(obj_at(op, "x-roles")), roles);
		CU_ASSERT(same_words(obj_at(op, "x-roles"), want));
		CU_ASSERT(is_array(obj_at(op, "security")));
		CU_ASSERT_EQUAL(len_of(obj_at(op, "security")), strcmp(roles, "-") == 0 ? 0 : 1);
		for (p = strchr(pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
			char name[64];

			if (sscanf(p + 1, "%63[^}]", name) != 1)
				continue;
			if (!has_path_param(op, name))
				fprintf(stderr, "\n  %s %s lacks its path parameter %s\n", method,
				        pattern, name);
			CU_ASSERT(has_path_param(op, name));
		}
	}
	/* and nothing but the rows */
	json_object_object_foreach(obj_at(document(), "paths"), pattern, item)
	{
		(void)pattern;
		ops += (size_t)json_object_object_length(item);
	}
	EXPECT_INT((int64_t)ops, (int64_t)rows);
	CU_ASSERT(rows > 50);
	free(tsv);
}

/* ---- the field tables of the sources ------------------------------------------------ */

struct src_field {
	char name[64];
	char type[16]; /* the JSON Schema type of its JF_ type */
	bool required;
};

struct src_table {
	char name[64];
	struct src_field f[64];
	size_t n;
};

static const char *json_type_of(const char *jf)
{
	static const char *const MAP[][2] = {
	    {"JF_STRING_ARRAY", "array"}, {"JF_STRING", "string"}, {"JF_INT", "integer"},
	    {"JF_NUMBER", "number"},      {"JF_BOOL", "boolean"},  {"JF_OBJECT", "object"},
	    {"JF_ARRAY", "array"},
	};

	for (size_t i = 0; i < sizeof(MAP) / sizeof(MAP[0]); i++)
		if (strncmp(jf, MAP[i][0], strlen(MAP[i][0])) == 0 &&
		    !isalnum((unsigned char)jf[strlen(MAP[i][0])]) && jf[strlen(MAP[i][0])] != '_')
			return MAP[i][1];
	return "?";
}

/* Adds the rows ({.name = "x", .type = JF_Y, .required = true, ...}) of
 * text[0..n) to t; FENCE_FIELDS is expanded from fence. */
static void read_rows(const char *text, size_t n, const char *fence, struct src_table *t)
{
	const char *p = text, *end = text + n;

	while (p < end) {
		const char *name = strstr(p, ".name = \""), *macro = strstr(p, "FENCE_FIELDS");
		const char *row_end;
		struct src_field *f;

		if (macro != NULL && macro < end && (name == NULL || macro < name) &&
		    fence != NULL) {
			read_rows(fence, strlen(fence), NULL, t);
			p = macro + strlen("FENCE_FIELDS");
			continue;
		}
		if (name == NULL || name >= end || t->n >= sizeof(t->f) / sizeof(t->f[0]))
			return;
		row_end = strchr(name, '}');
		if (row_end == NULL || row_end > end)
			row_end = end;
		f = &t->f[t->n++];
		memset(f, 0, sizeof(*f));
		sscanf(name + strlen(".name = \""), "%63[^\"]", f->name);
		{
			const char *ty = strstr(name, ".type = ");

			snprintf(f->type, sizeof(f->type), "%s",
			         ty && ty < row_end ? json_type_of(ty + strlen(".type = ")) : "?");
		}
		{
			const char *rq = strstr(name, ".required = true");

			f->required = rq != NULL && rq < row_end;
		}
		p = row_end;
	}
}

/* The text of handler.h's FENCE_FIELDS macro (new string), or NULL. */
static char *fence_macro(void)
{
	char *h = slurp("src/fcgi/handler.h"), *start, *stop, *out = NULL;

	if (h != NULL && (start = strstr(h, "#define FENCE_FIELDS")) != NULL) {
		stop = strstr(start, "\n\n");
		out = stop ? fmt("%.*s", (int)(stop - start), start) : fmt("%s", start);
	}
	free(h);
	return out;
}

/* Calls fn with the text of each .c file of src/fcgi (only the api_*.c and
 * ui_*.c ones when handlers_only). */
static void for_each_source(bool handlers_only, void (*fn)(const char *text, void *arg), void *arg)
{
	const char *top = getenv("top_srcdir");
	char *dir = fmt("%s/src/fcgi", top ? top : ".");
	struct dirent *de;
	DIR *d = opendir(dir);

	CU_ASSERT_PTR_NOT_NULL(d);
	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *rel, *text;

		if (len < 3 || strcmp(de->d_name + len - 2, ".c") != 0 ||
		    (handlers_only && strncmp(de->d_name, "api_", 4) != 0 &&
		     strncmp(de->d_name, "ui_", 3) != 0))
			continue;
		rel = fmt("src/fcgi/%s", de->d_name);
		text = slurp(rel);
		free(rel);
		if (text != NULL)
			fn(text, arg);
		free(text);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

struct tables {
	struct src_table *t;
	size_t n, cap;
	const char *fence; /* handler.h's FENCE_FIELDS */
};

/* Adds the field tables of one source text to arg (a struct tables). */
static void tables_of(const char *text, void *arg)
{
	static const char DECL[] = "struct json_field ";
	struct tables *ts = arg;
	const char *p;

	for (p = text; (p = strstr(p, DECL)) != NULL && ts->n < ts->cap; p++) {
		const char *body, *stop;
		char name[64];

		if (sscanf(p + strlen(DECL), "%63[A-Za-z0-9_]", name) != 1 ||
		    strncmp(p + strlen(DECL) + strlen(name), "[] = {", 6) != 0)
			continue;
		body = p + strlen(DECL) + strlen(name);
		if ((stop = strstr(body, "\n};")) == NULL)
			continue;
		memset(&ts->t[ts->n], 0, sizeof(ts->t[ts->n]));
		snprintf(ts->t[ts->n].name, sizeof(ts->t[ts->n].name), "%s", name);
		read_rows(body, (size_t)(stop - body), ts->fence, &ts->t[ts->n]);
		ts->n++;
	}
}

/* Reads every field table of the .c files of src/fcgi into tables (up to
 * cap); returns how many. */
static size_t read_tables(struct src_table *tables, size_t cap)
{
	char *fence = fence_macro();
	struct tables ts = {tables, 0, cap, fence};

	CU_ASSERT_PTR_NOT_NULL(fence);
	for_each_source(false, tables_of, &ts);
	free(fence);
	return ts.n;
}

/* Collects into out (up to cap) every schema of o marked x-field-table name. */
static size_t find_schemas(struct json_object *o, const char *name, struct json_object **out,
                           size_t n, size_t cap)
{
	if (json_object_is_type(o, json_type_object)) {
		if (strcmp(str_at(o, "x-field-table"), name) == 0 && n < cap)
			out[n++] = o;
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			n = find_schemas(v, name, out, n, cap);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < len_of(o); i++)
			n = find_schemas(item_at(o, i), name, out, n, cap);
	}
	return n;
}

/* The first type of a schema ("string" of ["string", "null"]). */
static const char *type_of(struct json_object *s)
{
	struct json_object *t = obj_at(s, "type");

	if (is_array(t))
		return json_object_get_string(item_at(t, 0));
	return t ? json_object_get_string(t) : "";
}

static bool in_array(struct json_object *a, const char *s)
{
	for (size_t i = 0; i < len_of(a); i++)
		if (strcmp(json_object_get_string(item_at(a, i)), s) == 0)
			return true;
	return false;
}

/* Schema s has exactly t's fields, types and required ones. */
static void check_schema_is_table(struct json_object *s, const struct src_table *t)
{
	struct json_object *props = obj_at(s, "properties"), *req = obj_at(s, "required");

	for (size_t i = 0; i < t->n; i++) {
		const struct src_field *f = &t->f[i];
		struct json_object *p = obj_at(props, f->name);

		if (p == NULL || strcmp(type_of(p), f->type) != 0 ||
		    in_array(req, f->name) != f->required)
			fprintf(stderr,
			        "\n  %s.%s: in the document %s, type %s, required %d; "
			        "in the source type %s, required %d\n",
			        t->name, f->name, p ? "present" : "MISSING", p ? type_of(p) : "-",
			        in_array(req, f->name), f->type, f->required);
		CU_ASSERT_PTR_NOT_NULL(p);
		CU_ASSERT_STRING_EQUAL(p ? type_of(p) : "", f->type);
		CU_ASSERT_EQUAL(in_array(req, f->name), f->required);
	}
	EXPECT_INT((int64_t)json_object_object_length(props), (int64_t)t->n);
	CU_ASSERT(obj_at(s, "additionalProperties") != NULL &&
	          !json_object_get_boolean(obj_at(s, "additionalProperties")));
}

#define MAX_TABLES 64

static void test_every_field_table_of_the_handlers(void)
{
	static struct src_table tables[MAX_TABLES];
	size_t n = read_tables(tables, MAX_TABLES), fields = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(document());
	CU_ASSERT(n >= 25);
	for (size_t i = 0; i < n; i++) {
		struct json_object *found[16];
		size_t k = find_schemas(document(), tables[i].name, found, 0, 16);

		if (k == 0)
			fprintf(stderr,
			        "\n  the field table %s is in no request body of the document\n",
			        tables[i].name);
		CU_ASSERT(k > 0);
		CU_ASSERT(tables[i].n > 0);
		for (size_t j = 0; j < k; j++)
			check_schema_is_table(found[j], &tables[i]);
		fields += tables[i].n;
	}
	CU_ASSERT(fields >= 100);
}

/* The identifier after the first `call` ("body_object_or_reply(req, ") in
 * text[0..n) into out (64 bytes); "" when there is none. */
static void table_passed(const char *text, size_t n, const char *call, char out[64])
{
	const char *p = strstr(text, call);

	out[0] = '\0';
	if (p != NULL && p < text + n && sscanf(p + strlen(call), "%63[A-Za-z0-9_]", out) != 1)
		out[0] = '\0';
}

struct handler_walk {
	void (*fn)(const char *name, const char *text, size_t n, void *arg);
	void *arg;
};

/* Calls walk->fn for each handler (a function `void api_...(`) of text. */
static void handlers_of(const char *text, void *arg)
{
	struct handler_walk *walk = arg;
	const char *p;

	for (p = text; (p = strstr(p, "\nvoid api_")) != NULL; p++) {
		const char *stop = strstr(p + 1, "\n}\n");
		char name[128];

		if (stop != NULL && sscanf(p + strlen("\nvoid "), "%127[a-z_](", name) == 1)
			walk->fn(name, p, (size_t)(stop - p), walk->arg);
	}
}

/* Calls fn for each handler of the api_*.c and ui_*.c files of src/fcgi,
 * with its name and its text (up to its closing brace). */
static void for_each_handler(void (*fn)(const char *name, const char *text, size_t n, void *arg),
                             void *arg)
{
	struct handler_walk walk = {fn, arg};

	for_each_source(true, handlers_of, &walk);
}

/* The table handler name checks its body against is its request body. */
static void body_is_its_table(const char *name, const char *text, size_t n, void *arg)
{
	struct json_object *schema;
	char table[64];
	int *checked = arg;

	table_passed(text, n, "body_object_or_reply(req, ", table);
	if (table[0] == '\0')
		table_passed(text, n, "step_or_reply(req, ", table);
	if (table[0] == '\0' || strcmp(table, "NULL") == 0)
		return;
	schema = obj_at(obj_at(obj_at(obj_at(operation_by_id(name), "requestBody"), "content"),
	                       "application/json"),
	                "schema");
	if (strcmp(str_at(schema, "x-field-table"), table) != 0)
		fprintf(
		    stderr,
		    "\n  %s checks its body against %s; its request body in the document is %s\n",
		    name, table, str_at(schema, "x-field-table"));
	EXPECT_STR(str_at(schema, "x-field-table"), table);
	(*checked)++;
}

static void test_the_table_a_handler_checks_is_its_request_body(void)
{
	int checked = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(document());
	for_each_handler(body_is_its_table, &checked);
	CU_ASSERT(checked >= 20);
}

/* Is name a query or header parameter of operation id? */
static bool has_param(const char *id, const char *name)
{
	struct json_object *params = obj_at(operation_by_id(id), "parameters");

	for (size_t i = 0; i < len_of(params); i++)
		if (strcmp(str_at(item_at(params, i), "name"), name) == 0 &&
		    strcmp(str_at(item_at(params, i), "in"), "path") != 0)
			return true;
	return false;
}

/* Each parameter handler name reads (request_query, limit_or_reply,
 * cursor_or_reply, If-Match) is a parameter of its operation. */
static void params_are_documented(const char *name, const char *text, size_t n, void *arg)
{
	static const char *const READERS[][2] = {{"limit_or_reply(req)", "limit"},
	                                         {"cursor_or_reply(req)", "cursor"},
	                                         {"if_match_or_reply(req)", "If-Match"}};
	const char *p;
	int *checked = arg;

	for (size_t i = 0; i < sizeof(READERS) / sizeof(READERS[0]); i++) {
		p = strstr(text, READERS[i][0]);
		if (p == NULL || p >= text + n)
			continue;
		if (!has_param(name, READERS[i][1]))
			fprintf(stderr, "\n  %s reads %s; its operation lacks it\n", name,
			        READERS[i][1]);
		CU_ASSERT(has_param(name, READERS[i][1]));
		(*checked)++;
	}
	for (p = text; (p = strstr(p, "request_query(req, \"")) != NULL && p < text + n; p++) {
		char q[64];

		if (sscanf(p + strlen("request_query(req, \""), "%63[^\"]", q) != 1)
			continue;
		if (!has_param(name, q))
			fprintf(stderr, "\n  %s reads ?%s; its operation lacks it\n", name, q);
		CU_ASSERT(has_param(name, q));
		(*checked)++;
	}
}

static void test_the_query_a_handler_reads_is_in_its_operation(void)
{
	int checked = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(document());
	for_each_handler(params_are_documented, &checked);
	CU_ASSERT(checked >= 8);
}

/* ---- answers ----------------------------------------------------------------------- */

/* Has v the JSON Schema type of s (a name, or [name, "null"])? Any type
 * when s names none. */
static bool has_type(struct json_object *v, struct json_object *s)
{
	struct json_object *t = obj_at(s, "type");
	const char *want = type_of(s);
	enum json_type got = json_object_get_type(v);

	if (v == NULL)
		return !is_array(t) || len_of(t) < 2 ? t == NULL : true;
	if (want[0] == '\0')
		return true;
	return (strcmp(want, "string") == 0 && got == json_type_string) ||
	       (strcmp(want, "integer") == 0 && got == json_type_int) ||
	       (strcmp(want, "number") == 0 && (got == json_type_int || got == json_type_double)) ||
	       (strcmp(want, "boolean") == 0 && got == json_type_boolean) ||
	       (strcmp(want, "object") == 0 && got == json_type_object) ||
	       (strcmp(want, "array") == 0 && got == json_type_array);
}

/* Every key of the answered object o is a property of schema s, of its type. */
static int check_keys(const char *what, struct json_object *s, struct json_object *o)
{
	struct json_object *props = obj_at(s, "properties");
	int bad = 0;

	json_object_object_foreach(o, key, v)
	{
		struct json_object *p = obj_at(props, key);

		if (p == NULL || !has_type(v, p)) {
			fprintf(stderr, "\n  %s: data.%s is %s, the document says %s\n", what, key,
			        json_type_to_name(json_object_get_type(v)),
			        p ? json_object_to_json_string(p) : "nothing");
			bad++;
		}
	}
	return bad;
}

/* The answer r of the operation method pattern is what its status's data
 * schema says, at the top level (and in the first items of an array). */
static void check_answer(const char *method, const char *pattern, const struct http_resp *r)
{
	char status[8], *what = fmt("%s %s", method, pattern);
	struct json_object *s, *data = data_of(r);
	int bad = 0;

	snprintf(status, sizeof(status), "%ld", r->status);
	s = obj_at(
	    obj_at(obj_at(obj_at(obj_at(obj_at(operation_of(method, pattern), "responses"), status),
	                         "content"),
	                  "application/json"),
	           "schema"),
	    "properties");
	s = obj_at(s, "data");
	if (s == NULL || data == NULL || !has_type(data, s)) {
		fprintf(stderr, "\n  %s: answered %s %s, the document says %s\n", what, status,
		        r->body, s ? json_object_to_json_string(s) : "nothing");
		bad++;
	} else if (is_array(data)) {
		for (size_t i = 0; i < len_of(data) && i < 3; i++)
			bad += check_keys(what, obj_at(s, "items"), item_at(data, i));
	} else {
		bad += check_keys(what, s, data);
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(what);
}

/* The token of t for a route whose roles (routes.tsv) are roles; NULL when
 * t has none. */
static const char *token_for(const struct tenant *t, const char *roles)
{
	if (strstr(roles, "operator"))
		return t->operator;
	if (strstr(roles, "readonly"))
		return t->reader;
	if (strstr(roles, "submitter"))
		return t->submitter;
	if (strstr(roles, "worker"))
		return t->worker;
	if (strstr(roles, "controller"))
		return t->controller;
	return NULL;
}

/* Every GET route of /v1 (a job's for {id}) answers the data its
 * operation describes, and so do a submit, a claim and a PATCH. */
static void test_answers_are_what_the_document_says(void)
{
	struct tenant *t = tenant_new("answers");
	char *tsv = slurp("tests/data/routes.tsv"), *save = NULL, *line, *path, id[IDLEN];
	struct http_resp r;
	int checked = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tsv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(document());
	r = callf("POST", "/v1/fleet/jobs", t->submitter,
	          "{\"body\":\"x\",\"capabilities\":[\"oas\"]}");
	EXPECT_STATUS(r, 201);
	check_answer("POST", "/v1/fleet/jobs", &r);
	snprintf(id, sizeof(id), "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
	r = callf("POST", "/v1/fleet/claim", t->worker,
	          "{\"factory_id\":\"oas-f\",\"capabilities\":[\"oas\"]}");
	EXPECT_STATUS(r, 200);
	check_answer("POST", "/v1/fleet/claim", &r);
	http_resp_free(&r);
	path = fmt("/v1/fleet/jobs/%s", id);
	r = callf("PATCH", path, t->worker,
	          "{\"factory_id\":\"oas-f\",\"lease_epoch\":1,\"stage\":\"shipped\"}");
	EXPECT_STATUS(r, 200);
	check_answer("PATCH", "/v1/fleet/jobs/{id}", &r);
	http_resp_free(&r);
	free(path);
	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char method[16], pattern[512], handler[128], roles[256];
		const char *token;

		if (line[0] == '#' ||
		    sscanf(line, "%15s %511s %127s %255s", method, pattern, handler, roles) != 4 ||
		    strcmp(method, "GET") != 0 || strncmp(pattern, "/v1/", 4) != 0 ||
		    strcmp(pattern, "/v1/openapi.json") == 0 ||
		    (token = token_for(t, roles)) == NULL)
			continue;
		if (strchr(pattern, '{') != NULL &&
		    strncmp(pattern, "/v1/fleet/jobs/{id}", 19) != 0)
			continue;
		path = strchr(pattern, '{') ? fmt("/v1/fleet/jobs/%s%s", id, pattern + 19)
		                            : fmt("%s", pattern);
		r = call("GET", path, token, NULL, NULL);
		EXPECT_STATUS(r, 200);
		check_answer("GET", pattern, &r);
		http_resp_free(&r);
		free(path);
		checked++;
	}
	CU_ASSERT(checked >= 10);
	free(tsv);
}

/* ---- the official schema ------------------------------------------------------------- */

/* Runs validate_openapi.mjs on doc; its exit status (-1: could not run). */
static int validate(struct json_object *doc)
{
	char path[] = "/tmp/test_openapi-XXXXXX";
	int fd = mkstemp(path), st;
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	char *cmd;

	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	cmd = fmt("node \"%s/tests/http/validate_openapi.mjs\" \"%s\"", getenv("top_srcdir"), path);
	st = system(cmd);
	free(cmd);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_valid_against_the_openapi_3_1_schema(void)
{
	struct json_object *bad, *s;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(document());
	CU_ASSERT_PTR_NOT_NULL_FATAL(getenv("top_srcdir"));
	rc = validate(document());
	if (rc == EXIT_MISSING) {
		printf("\n  SKIPPED: the OpenAPI validator is not installed (tools/check installs "
		       "it)\n");
		return;
	}
	EXPECT_INT(rc, 0);
	/* the validator does refuse an invalid type */
	bad = json_tokener_parse(json_object_to_json_string(document()));
	s = obj_at(obj_at(obj_at(obj_at(obj_at(obj_at(obj_at(bad, "paths"), "/healthz"), "get"),
	                                "responses"),
	                         "200"),
	                  "content"),
	           "application/json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_object_object_add(obj_at(s, "schema"), "type", json_object_new_string("strng"));
	EXPECT_INT(validate(bad), 1);
	json_object_put(bad);
}

static CU_TestInfo TESTS[] = {
    {"served_without_a_token_cacheable_and_stable",
     test_served_without_a_token_cacheable_and_stable},
    {"every_route_of_routes_tsv", test_every_route_of_routes_tsv},
    {"every_field_table_of_the_handlers", test_every_field_table_of_the_handlers},
    {"the_table_a_handler_checks_is_its_request_body",
     test_the_table_a_handler_checks_is_its_request_body},
    {"the_query_a_handler_reads_is_in_its_operation",
     test_the_query_a_handler_reads_is_in_its_operation},
    {"answers_are_what_the_document_says", test_answers_are_what_the_document_says},
    {"valid_against_the_openapi_3_1_schema", test_valid_against_the_openapi_3_1_schema},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite openapi = {
	    .name = "openapi", .tenant_prefix = "oas", .control_roles = true};
	int rc = suite_run(&openapi, TESTS);

	json_object_put(DOC);
	return rc;
}

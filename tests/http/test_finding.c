/* test_finding.c -- finding jobs (issue 18 item 4) through nginx against the
 * real stack of tests/http/run-integration: GET /v1/fleet/jobs filtered by
 * idempotency_key, capability and parent_id, combined with stage and the
 * cursor; each filter on a tenant of 10 000 jobs answered from ITS index
 * (pg_stat_user_indexes counts the scans of the conductor-fcgi backend; no
 * sequential scan of jobs meanwhile); GET /v1/fleet/jobs/{id}/deps in both
 * directions; bad filters -> 400 naming the parameter; tenants apart.
 * FINDING_ONLY=name[,name] runs only those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cutest.h"
#include "base/json.h"
#include "expect.h"

/* POST a job with extra fields (JSON members, may be ""); its id (new). */
static char *submit(const struct tenant *t, const char *extra)
{
	struct http_resp r = callf("POST", "/v1/fleet/jobs", t->submitter, "{\"body\":\"b\"%s%s}",
	                           extra[0] ? "," : "", extra);
	char *id = NULL;

	if (EXPECT_STATUS(r, 201))
		id = strdup(str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
	return id != NULL ? id : strdup("0");
}

/* GET path with t's reader: the ids of the page's items, comma-separated
 * (new string), and *next_cursor ("" when null; cap 32). */
static char *ids_of(const struct tenant *t, const char *path, char *next_cursor)
{
	struct http_resp r = call("GET", path, t->reader, NULL, NULL);
	struct json_object *items;
	size_t cap = 4096, n = 0;
	char *out = calloc(1, cap);

	if (next_cursor != NULL)
		next_cursor[0] = '\0';
	if (EXPECT_STATUS(r, 200)) {
		items = obj_at(data_of(&r), "items");
		for (size_t i = 0; i < len_of(items) && n + 32 < cap; i++)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "",
			                      str_at(item_at(items, i), "id"));
		if (next_cursor != NULL && !null_at(data_of(&r), "next_cursor"))
			snprintf(next_cursor, 32, "%s", str_at(data_of(&r), "next_cursor"));
	}
	http_resp_free(&r);
	return out;
}

static void test_filters_combine(void)
{
	struct tenant *t = tenant_new("filters");
	struct tenant *other = tenant_new("filters-other");
	char *a = submit(t, "\"idempotency_key\":\"alpha\",\"capabilities\":[\"gpu\",\"linux\"]");
	char *b = submit(t, "\"idempotency_key\":\"beta\",\"capabilities\":[\"linux\"]");
	char *c = submit(t, "\"capabilities\":[\"gpu\"]");
	char *d = submit(t, "");
	char *o = submit(other, "\"idempotency_key\":\"alpha\",\"capabilities\":[\"gpu\"]");
	char *got, *want, next[32], *path;
	struct http_resp r;

	got = ids_of(t, "/v1/fleet/jobs?idempotency_key=alpha", NULL);
	EXPECT_STR(got, a);
	free(got);
	want = fmt("%s,%s", c, a);
	got = ids_of(t, "/v1/fleet/jobs?capability=gpu", NULL);
	EXPECT_STR(got, want);
	free(got);
	free(want);
	/* combined with the cursor: one per page, newest first */
	got = ids_of(t, "/v1/fleet/jobs?capability=gpu&limit=1", next);
	EXPECT_STR(got, c);
	free(got);
	path = fmt("/v1/fleet/jobs?capability=gpu&limit=1&cursor=%s", next);
	got = ids_of(t, path, next);
	EXPECT_STR(got, a);
	free(got);
	free(path);
	/* combined with each other and with stage (AND) */
	got = ids_of(t, "/v1/fleet/jobs?capability=linux&idempotency_key=beta", NULL);
	EXPECT_STR(got, b);
	free(got);
	got = ids_of(t, "/v1/fleet/jobs?capability=linux&idempotency_key=gamma", NULL);
	EXPECT_STR(got, "");
	free(got);
	got = ids_of(t, "/v1/fleet/jobs?capability=gpu&stage=shipped", NULL);
	EXPECT_STR(got, "");
	free(got);
	got = ids_of(t, "/v1/fleet/jobs?capability=gpu&stage=queued&idempotency_key=alpha", NULL);
	EXPECT_STR(got, a);
	free(got);
	got = ids_of(t, "/v1/fleet/jobs?capability=nothing", NULL);
	EXPECT_STR(got, "");
	free(got);
	/* the other tenant's alpha is its own */
	got = ids_of(other, "/v1/fleet/jobs?idempotency_key=alpha", NULL);
	EXPECT_STR(got, o);
	free(got);
	/* bad filters: 400 naming the parameter, nothing listed */
	r = call("GET", "/v1/fleet/jobs?parent_id=x1", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	EXPECT_STR(field_of(&r), "parent_id");
	http_resp_free(&r);
	r = call("GET", "/v1/fleet/jobs?idempotency_key=", t->reader, NULL, NULL);
	EXPECT_STR(field_of(&r), "idempotency_key");
	http_resp_free(&r);
	path = fmt("/v1/fleet/jobs?capability=%0200d", 0);
	r = call("GET", path, t->reader, NULL, NULL);
	EXPECT_STR(field_of(&r), "capability");
	http_resp_free(&r);
	free(path);
	free(a), free(b), free(c), free(d), free(o);
}

static void test_parent_filter_and_deps(void)
{
	struct tenant *t = tenant_new("deps");
	char *first = submit(t, "\"idempotency_key\":\"first\"");
	char *second = submit(t, "\"idempotency_key\":\"second\",\"deps\":[\"first\"]");
	char *third = submit(t, "\"deps\":[\"first\",\"second\"],\"deps_mode\":\"soft\"");
	char *path, *got, want_buf[64];
	struct http_resp r;
	struct json_object *d;

	path = fmt("/v1/fleet/jobs/%s/deps", second);
	r = call("GET", path, t->reader, NULL, NULL);
	if (EXPECT_STATUS(r, 200)) {
		d = data_of(&r);
		EXPECT_INT((int64_t)len_of(obj_at(d, "deps")), 1);
		EXPECT_STR(str_at(item_at(obj_at(d, "deps"), 0), "id"), first);
		CHECK_AT(!bool_at(item_at(obj_at(d, "deps"), 0), "met"), __LINE__, "not met");
		EXPECT_INT((int64_t)len_of(obj_at(d, "dependents")), 1);
		EXPECT_STR(str_at(item_at(obj_at(d, "dependents"), 0), "id"), third);
		CHECK_AT(!bool_at(d, "dependents_more"), __LINE__, "no more");
	}
	http_resp_free(&r);
	free(path);
	path = fmt("/v1/fleet/jobs/%s/deps", first);
	r = call("GET", path, t->reader, NULL, NULL);
	if (EXPECT_STATUS(r, 200)) {
		d = data_of(&r);
		EXPECT_INT((int64_t)len_of(obj_at(d, "deps")), 0);
		EXPECT_INT((int64_t)len_of(obj_at(d, "dependents")), 2);
	}
	http_resp_free(&r);
	free(path);
	r = call("GET", "/v1/fleet/jobs/999999999/deps", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 404, "job_not_found");
	http_resp_free(&r);
	/* a task's steps by parent_id: a composite job and two steps (made in SQL:
	 * the task routes' planning is another suite's) */
	{
		char task[32];

		pg_str(task, sizeof(task),
		       "INSERT INTO jobs (tenant_id, content_hash, kind) VALUES ($1::bigint, 'x',"
		       " 'composite') RETURNING id",
		       t->tid, NULL);
		pg_cmd(NULL,
		       "INSERT INTO jobs (tenant_id, content_hash, parent_id)"
		       " SELECT $1::bigint, 'x', $2::bigint FROM generate_series(1, 2)",
		       t->tid, task, NULL);
		path = fmt("/v1/fleet/jobs?parent_id=%s", task);
		got = ids_of(t, path, NULL);
		pg_str(want_buf, sizeof(want_buf),
		       "SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM jobs"
		       " WHERE parent_id = $1::bigint",
		       task, NULL);
		EXPECT_STR(got, want_buf);
		CHECK_AT(strchr(got, ',') != NULL, __LINE__, "two steps listed");
		free(got);
		free(path);
	}
	free(first), free(second), free(third);
}

/* The scans of index name so far (as the statistics show them). */
static long long index_scans(const char *name)
{
	return pg_int("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1", name,
	              NULL);
}

static long long jobs_seq_scans(void)
{
	return pg_int("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'jobs'", NULL);
}

/* Waits (up to 15 s: a backend sends its statistics when idle, at most
 * every 10 s) until index name has been scanned more than before. */
static bool index_scanned_since(const char *name, long long before)
{
	for (int i = 0; i < 60; i++) {
		pg_cmd(NULL, "SELECT pg_stat_clear_snapshot()", NULL);
		if (index_scans(name) > before)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 250 * 1000 * 1000}, NULL);
	}
	return false;
}

/* Waits until the sequential scans of jobs have not moved for 11 s (at most
 * 40 s): every backend has then sent what the earlier tests made it count,
 * and what moves after is this test's. */
static void settle_statistics(void)
{
	long long last = -2;
	int still = 0;

	for (int i = 0; i < 160 && still < 44; i++) {
		long long now;

		pg_cmd(NULL, "SELECT pg_stat_clear_snapshot()", NULL);
		now = jobs_seq_scans();
		still = now == last ? still + 1 : 0;
		last = now;
		nanosleep(&(struct timespec){.tv_nsec = 250 * 1000 * 1000}, NULL);
	}
}

static void test_each_filter_uses_its_index(void)
{
	static const struct {
		const char *query; /* the parent's id follows when with_parent */
		bool with_parent;
		const char *index;
	} FILTERS[] = {
		{"idempotency_key=k4242", false, "jobs_idempotency"},
		{"parent_id=", true, "jobs_children"},
		{"capability=rare", false, "jobs_by_capability"},
		{"capability=linux&stage=queued&parent_id=", true, "jobs_children"},
	};
	struct tenant *t = tenant_new("indexes");
	char parent[32];
	long long seq;

	/* 10 000 jobs: 10 composite parents, each with 50 children; one job in
	 * 500 has the capability "rare", one in 10 "linux" */
	CU_ASSERT_EQUAL(pg_cmd(NULL,
	                       "INSERT INTO jobs (tenant_id, content_hash, kind)"
	                       " SELECT $1::bigint, 'x', 'composite' FROM generate_series(1, 10)",
	                       t->tid, NULL),
	                10);
	pg_str(parent, sizeof(parent), "SELECT min(id) FROM jobs WHERE tenant_id = $1::bigint",
	       t->tid, NULL);
	CU_ASSERT_EQUAL(
	    pg_cmd(NULL,
	           "INSERT INTO jobs (tenant_id, content_hash, idempotency_key, capabilities,"
	           "                  parent_id)"
	           " SELECT $1::bigint, 'x', 'k' || i,"
	           "        CASE WHEN i % 500 = 0 THEN '{rare}'::text[]"
	           "             WHEN i % 10 = 0 THEN '{linux}'::text[] ELSE '{}' END,"
	           "        CASE WHEN i % 20 = 0 THEN $2::bigint + (i / 20) % 10 END"
	           "   FROM generate_series(1, 9990) i",
	           t->tid, parent, NULL),
	    9990);
	pg_cmd(NULL, "ANALYZE jobs", NULL);
	/* this connection's own counts (its inserts, its reads) go out now, not
	 * in the middle of the measurements */
	pg_cmd(NULL, "SELECT pg_stat_force_next_flush()", NULL);
	pg_cmd(NULL, "SELECT 1", NULL);
	settle_statistics();
	for (size_t i = 0; i < sizeof(FILTERS) / sizeof(FILTERS[0]); i++) {
		char *query = fmt("%s%s", FILTERS[i].query, FILTERS[i].with_parent ? parent : ""),
		     *path = fmt("/v1/fleet/jobs?%s", query);
		long long before;
		struct http_resp r;

		pg_cmd(NULL, "SELECT pg_stat_clear_snapshot()", NULL);
		before = index_scans(FILTERS[i].index);
		seq = jobs_seq_scans();
		r = call("GET", path, t->reader, NULL, NULL);
		EXPECT_STATUS(r, 200);
		CHECK_AT(len_of(obj_at(data_of(&r), "items")) > 0, __LINE__, query);
		http_resp_free(&r);
		if (!index_scanned_since(FILTERS[i].index, before))
			fprintf(stderr, "\n  %s did not scan %s", query, FILTERS[i].index);
		CHECK_AT(index_scans(FILTERS[i].index) > before, __LINE__, FILTERS[i].index);
		if (jobs_seq_scans() != seq)
			fprintf(stderr, "\n  %s scanned jobs sequentially", query);
		CHECK_AT(jobs_seq_scans() == seq, __LINE__, "no sequential scan of jobs");
		free(query);
		free(path);
	}
}

static CU_TestInfo TESTS[] = {
	{"filters_combine", test_filters_combine},
	{"parent_filter_and_deps", test_parent_filter_and_deps},
	{"each_filter_uses_its_index", test_each_filter_uses_its_index},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite finding = {.name = "finding", .tenant_prefix = "find"};

	return suite_run(&finding, TESTS);
}

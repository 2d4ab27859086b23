/* test_profiles.c -- profiles (DESIGN section 4, issue 18) through nginx
 * against the real stack of tests/http/run-integration.
 *
 * Covers: versions 1, 2 ... made by POST /v1/profiles, the same spec again ->
 * 200 with the existing version; reads (list, latest with its versions, one
 * version); a version is immutable: no route changes it, and UPDATE and
 * DELETE by SQL are refused by the database itself; a job naming "name" is
 * pinned at submit to the latest version ("name@v") and keeps it after a new
 * version exists, "name@1" stays on 1; an unknown profile -> 400 naming
 * `profile` (in a batch: jobs[i].profile) and no job is made; the claim
 * answers the pinned version's spec and the run records the version; bad
 * bodies -> 400 naming the field; roles; tenants do not see each other's.
 * PROFILES_ONLY=name[,name] runs only those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "base/json.h"
#include "expect.h"

/* POST /v1/profiles {name, spec} with t's operator token; the answer. */
static struct http_resp put(const struct tenant *t, const char *name, const char *spec)
{
	return callf("POST", "/v1/profiles", t->operator, "{\"name\":\"%s\",\"spec\":%s}", name,
	             spec);
}

static void test_versions_and_same_spec(void)
{
	struct tenant *t = tenant_new("versions");
	struct http_resp r;

	r = put(t, "coder", "{\"model\":\"m1\",\"limits\":{\"turns\":5}}");
	if (EXPECT_STATUS(r, 201)) {
		EXPECT_INT(int_at(data_of(&r), "version"), 1);
		CHECK_AT(bool_at(data_of(&r), "created"), __LINE__, "created");
		EXPECT_STR(str_at(obj_at(data_of(&r), "spec"), "model"), "m1");
	}
	http_resp_free(&r);
	/* the same spec, keys in another order: the existing version, 200 */
	r = put(t, "coder", "{\"limits\":{\"turns\":5},\"model\":\"m1\"}");
	if (EXPECT_STATUS(r, 200)) {
		EXPECT_INT(int_at(data_of(&r), "version"), 1);
		CHECK_AT(!bool_at(data_of(&r), "created"), __LINE__, "not created");
	}
	http_resp_free(&r);
	r = put(t, "coder", "{\"model\":\"m2\"}");
	if (EXPECT_STATUS(r, 201))
		EXPECT_INT(int_at(data_of(&r), "version"), 2);
	http_resp_free(&r);
	r = call("GET", "/v1/profiles/coder", t->reader, NULL, NULL);
	if (EXPECT_STATUS(r, 200)) {
		EXPECT_INT(int_at(obj_at(data_of(&r), "latest"), "version"), 2);
		EXPECT_STR(str_at(obj_at(obj_at(data_of(&r), "latest"), "spec"), "model"), "m2");
		EXPECT_INT((int64_t)len_of(obj_at(data_of(&r), "versions")), 2);
		EXPECT_INT(int_at(item_at(obj_at(data_of(&r), "versions"), 0), "version"), 2);
	}
	http_resp_free(&r);
	r = call("GET", "/v1/profiles/coder/versions/1", t->reader, NULL, NULL);
	if (EXPECT_STATUS(r, 200))
		EXPECT_STR(str_at(obj_at(data_of(&r), "spec"), "model"), "m1");
	http_resp_free(&r);
	r = call("GET", "/v1/profiles", t->reader, NULL, NULL);
	if (EXPECT_STATUS(r, 200)) {
		EXPECT_INT((int64_t)len_of(obj_at(data_of(&r), "items")), 1);
		EXPECT_INT(int_at(item_at(obj_at(data_of(&r), "items"), 0), "latest"), 2);
	}
	http_resp_free(&r);
	r = call("GET", "/v1/profiles/coder/versions/3", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 404, "profile_not_found");
	http_resp_free(&r);
	r = call("GET", "/v1/profiles/nobody", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 404, "profile_not_found");
	http_resp_free(&r);
	r = call("GET", "/v1/profiles/coder/versions/x1", t->reader, NULL, NULL);
	EXPECT_ERROR(r, 404, "profile_not_found");
	http_resp_free(&r);
}

static void test_immutable_also_by_sql(void)
{
	struct tenant *t = tenant_new("immutable");
	char state[6] = "";
	char spec[256];
	struct http_resp r = put(t, "frozen", "{\"model\":\"m1\"}");

	http_resp_free(&r);
	EXPECT_INT(pg_cmd(state, "UPDATE profiles SET body = '{\"model\":\"evil\"}'"
	                         " WHERE tenant_id = $1 AND name = 'frozen'",
	                  t->tid, NULL),
	           -1);
	EXPECT_STR(state, "42501");
	state[0] = '\0';
	EXPECT_INT(pg_cmd(state, "DELETE FROM profiles WHERE tenant_id = $1 AND name = 'frozen'",
	                  t->tid, NULL),
	           -1);
	EXPECT_STR(state, "42501");
	pg_str(spec, sizeof(spec), "SELECT body::text FROM profiles WHERE tenant_id = $1", t->tid,
	       NULL);
	EXPECT_STR(spec, "{\"model\": \"m1\"}");
	/* and no route changes or deletes one */
	r = callf("PUT", "/v1/profiles/frozen", t->operator, "{\"spec\":{}}");
	CHECK_AT(r.status == 404 || r.status == 405, __LINE__, "no PUT");
	http_resp_free(&r);
	r = call("DELETE", "/v1/profiles/frozen/versions/1", t->operator, NULL, NULL);
	CHECK_AT(r.status == 404 || r.status == 405, __LINE__, "no DELETE");
	http_resp_free(&r);
}

/* Submits {body, profile}; returns the job's id (new string) or NULL. */
static char *submit_with(const struct tenant *t, const char *profile, struct http_resp *out)
{
	*out = callf("POST", "/v1/fleet/jobs", t->submitter,
	             "{\"body\":\"x\",\"profile\":\"%s\",\"capabilities\":[\"prof\"]}", profile);
	if (out->status != 201)
		return NULL;
	return strdup(str_at(obj_at(data_of(out), "job"), "id"));
}

static void test_job_pinned_at_submit(void)
{
	struct tenant *t = tenant_new("pinned");
	struct http_resp r, c;
	char *latest, *one, *path;

	r = put(t, "p", "{\"model\":\"v1\"}");
	http_resp_free(&r);
	latest = submit_with(t, "p", &r);
	EXPECT_STATUS(r, 201);
	EXPECT_STR(str_at(obj_at(data_of(&r), "job"), "profile"), "p@1");
	http_resp_free(&r);
	one = submit_with(t, "p@1", &r);
	http_resp_free(&r);
	r = put(t, "p", "{\"model\":\"v2\"}");
	http_resp_free(&r);
	/* both stay on version 1 after version 2 exists */
	path = fmt("/v1/fleet/jobs/%s", latest ? latest : "0");
	r = call("GET", path, t->reader, NULL, NULL);
	EXPECT_STR(str_at(data_of(&r), "profile"), "p@1");
	http_resp_free(&r);
	free(path);
	/* a new "p" now pins 2 */
	free(submit_with(t, "p", &r));
	EXPECT_STR(str_at(obj_at(data_of(&r), "job"), "profile"), "p@2");
	http_resp_free(&r);
	/* the claim hands out the pinned version's spec, oldest first */
	c = callf("POST", "/v1/fleet/claim", t->worker,
	          "{\"factory_id\":\"pf\",\"capabilities\":[\"prof\"],\"max_jobs\":3}");
	if (EXPECT_STATUS(c, 200)) {
		struct json_object *jobs = obj_at(data_of(&c), "jobs");

		EXPECT_INT((int64_t)len_of(jobs), 3);
		EXPECT_STR(str_at(obj_at(item_at(jobs, 0), "profile_spec"), "model"), "v1");
		EXPECT_STR(str_at(obj_at(item_at(jobs, 1), "profile_spec"), "model"), "v1");
		EXPECT_STR(str_at(obj_at(item_at(jobs, 2), "profile_spec"), "model"), "v2");
	}
	http_resp_free(&c);
	/* the run records the version it ran with */
	path = fmt("/v1/fleet/jobs/%s/runs", one ? one : "0");
	r = call("GET", path, t->reader, NULL, NULL);
	if (EXPECT_STATUS(r, 200))
		EXPECT_STR(str_at(item_at(data_of(&r), 0), "profile"), "p@1");
	http_resp_free(&r);
	free(path);
	free(latest);
	free(one);
}

static void test_unknown_profile_refused(void)
{
	struct tenant *t = tenant_new("unknown");
	struct tenant *other = tenant_new("unknown-other");
	struct http_resp r;

	r = put(other, "theirs", "{}");
	http_resp_free(&r);
	EXPECT_REFUSED(t->submitter, "POST", "/v1/fleet/jobs",
	               "{\"body\":\"x\",\"profile\":\"nothing\"}", "profile");
	/* another tenant's profile is not this tenant's */
	EXPECT_REFUSED(t->submitter, "POST", "/v1/fleet/jobs",
	               "{\"body\":\"x\",\"profile\":\"theirs\"}", "profile");
	r = put(t, "mine", "{}");
	http_resp_free(&r);
	EXPECT_REFUSED(t->submitter, "POST", "/v1/fleet/jobs",
	               "{\"body\":\"x\",\"profile\":\"mine@2\"}", "profile");
	EXPECT_REFUSED(t->submitter, "POST", "/v1/fleet/jobs:batch",
	               "{\"jobs\":[{\"body\":\"a\",\"profile\":\"mine\"},"
	               "{\"body\":\"b\",\"profile\":\"mine@7\"}]}",
	               "jobs[1].profile");
	EXPECT_INT(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 0);
	r = call("GET", "/v1/profiles", other->reader, NULL, NULL);
	EXPECT_INT((int64_t)len_of(obj_at(data_of(&r), "items")), 1);
	http_resp_free(&r);
}

static void test_bad_bodies(void)
{
	struct tenant *t = tenant_new("bodies");
	char big[70 * 1024 + 64];

	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles", "{\"spec\":{}}", "name");
	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles", "{\"name\":\"a\"}", "spec");
	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles", "{\"name\":\"a\",\"spec\":[1]}",
	               "spec");
	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles", "{\"name\":\"a@1\",\"spec\":{}}",
	               "name");
	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles", "{\"name\":\"\",\"spec\":{}}", "name");
	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles",
	               "{\"name\":\"a\",\"spec\":{},\"extra\":1}", "extra");
	snprintf(big, sizeof(big), "{\"name\":\"big\",\"spec\":{\"p\":\"%0*d\"}}", 66 * 1024, 0);
	EXPECT_REFUSED(t->operator, "POST", "/v1/profiles", big, "spec");
	EXPECT_INT(pg_int("SELECT count(*) FROM profiles WHERE tenant_id = $1", t->tid, NULL), 0);
}

static void test_roles(void)
{
	struct tenant *t = tenant_new("roles");
	struct http_resp r;

	r = callf("POST", "/v1/profiles", t->reader, "{\"name\":\"r\",\"spec\":{}}");
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = callf("POST", "/v1/profiles", t->submitter, "{\"name\":\"r\",\"spec\":{}}");
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("GET", "/v1/profiles", t->worker, NULL, NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
}

static CU_TestInfo TESTS[] = {
	{"versions_and_same_spec", test_versions_and_same_spec},
	{"immutable_also_by_sql", test_immutable_also_by_sql},
	{"job_pinned_at_submit", test_job_pinned_at_submit},
	{"unknown_profile_refused", test_unknown_profile_refused},
	{"bad_bodies", test_bad_bodies},
	{"roles", test_roles},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite profiles = {
	    .name = "profiles", .tenant_prefix = "prof", .control_roles = true};

	return suite_run(&profiles, TESTS);
}

/* test_profiles.c -- domain/profiles.c: profile names, a job's reference
 * ("name" for the latest, "name@v" for that version), version segments. */
#include <string.h>

#include "../cutest.h"
#include "domain/profiles.h"

static void test_names(void)
{
	struct cd_error e;
	char long_name[PROFILE_NAME_MAX + 2];

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CU_ASSERT_EQUAL(profiles_check_name("gpt-large.v2_x", "name", &e), CD_OK);
	CU_ASSERT_EQUAL(profiles_check_name("", "name", &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "name");
	CU_ASSERT_EQUAL(profiles_check_name("-x", "name", &e), CD_INVALID);
	CU_ASSERT_EQUAL(profiles_check_name("a b", "name", &e), CD_INVALID);
	CU_ASSERT_EQUAL(profiles_check_name("a@1", "name", &e), CD_INVALID);
	CU_ASSERT_EQUAL(profiles_check_name("a/b", "name", &e), CD_INVALID);
	CU_ASSERT_EQUAL(profiles_check_name(long_name, "name", &e), CD_INVALID);
	long_name[PROFILE_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(profiles_check_name(long_name, "name", &e), CD_OK);
}

static void test_references(void)
{
	struct cd_error e;
	char name[PROFILE_NAME_MAX + 1];
	int v = -7;

	CU_ASSERT_EQUAL(profiles_parse_ref("coder", "profile", name, sizeof(name), &v, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(name, "coder");
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(profiles_parse_ref("coder@12", "profile", name, sizeof(name), &v, &e),
	                CD_OK);
	CU_ASSERT_STRING_EQUAL(name, "coder");
	CU_ASSERT_EQUAL(v, 12);
	CU_ASSERT_EQUAL(profiles_parse_ref("coder@", "profile", name, sizeof(name), &v, &e),
	                CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "profile");
	CU_ASSERT_EQUAL(profiles_parse_ref("coder@0", "profile", name, sizeof(name), &v, &e),
	                CD_INVALID);
	CU_ASSERT_EQUAL(profiles_parse_ref("coder@1@2", "profile", name, sizeof(name), &v, &e),
	                CD_INVALID);
	CU_ASSERT_EQUAL(profiles_parse_ref("@1", "jobs[2].profile", name, sizeof(name), &v, &e),
	                CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "jobs[2].profile");
}

static void test_versions(void)
{
	CU_ASSERT_EQUAL(profiles_parse_version("1"), 1);
	CU_ASSERT_EQUAL(profiles_parse_version("999999999"), 999999999);
	CU_ASSERT_EQUAL(profiles_parse_version("0"), -1);
	CU_ASSERT_EQUAL(profiles_parse_version("01"), -1);
	CU_ASSERT_EQUAL(profiles_parse_version("1000000000"), -1);
	CU_ASSERT_EQUAL(profiles_parse_version("2x"), -1);
	CU_ASSERT_EQUAL(profiles_parse_version(""), -1);
	CU_ASSERT_EQUAL(profiles_parse_version(NULL), -1);
}

static CU_TestInfo TESTS[] = {
	{"names", test_names},
	{"references", test_references},
	{"versions", test_versions},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("profiles", TESTS);
}

/* test_stages.c -- the transition table of domain/stages.c: forward moves,
 * skips, no way back, failure from any active stage, nothing from queued,
 * blocked or a final stage, and the from-stage sets PATCH uses. */
#include <string.h>

#include "../cutest.h"
#include "domain/stages.h"

static void test_names_round_trip(void)
{
	for (int s = 0; s < STAGE_COUNT; s++)
		CU_ASSERT_EQUAL(stages_parse(stages_name((enum stage)s)), s);
	CU_ASSERT_EQUAL(stages_parse("done"), -1);
	CU_ASSERT_EQUAL(stages_parse(""), -1);
	CU_ASSERT_STRING_EQUAL(stages_name(STAGE_DEAD_LETTER), "dead_letter");
}

static void test_forward_and_skips_allowed(void)
{
	CU_ASSERT_TRUE(stages_allowed(STAGE_ASSIGNED, STAGE_BUILDING));
	CU_ASSERT_TRUE(stages_allowed(STAGE_ASSIGNED, STAGE_SHIPPED)); /* a simple worker */
	CU_ASSERT_TRUE(stages_allowed(STAGE_BUILDING, STAGE_TESTING));
	CU_ASSERT_TRUE(stages_allowed(STAGE_TESTING, STAGE_SHIPPED));
	CU_ASSERT_TRUE(stages_allowed(STAGE_REVIEW, STAGE_REVIEW)); /* checkpoint only */
}

static void test_never_backward(void)
{
	CU_ASSERT_FALSE(stages_allowed(STAGE_BUILDING, STAGE_ASSIGNED));
	CU_ASSERT_FALSE(stages_allowed(STAGE_TESTING, STAGE_REVIEW));
	CU_ASSERT_FALSE(stages_allowed(STAGE_SHIPPED, STAGE_TESTING));
}

static void test_failed_from_every_active_stage_only(void)
{
	for (int s = 0; s < STAGE_COUNT; s++)
		CU_ASSERT_EQUAL(stages_allowed((enum stage)s, STAGE_FAILED),
				stages_active((enum stage)s));
}

static void test_nothing_moves_without_a_lease(void)
{
	static const enum stage idle[] = {STAGE_QUEUED, STAGE_BLOCKED, STAGE_SHIPPED, STAGE_FAILED,
					  STAGE_DEAD_LETTER, STAGE_CANCELLED};

	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		for (int to = 0; to < STAGE_COUNT; to++)
			CU_ASSERT_FALSE(stages_allowed(idle[i], (enum stage)to));
}

static void test_sources_of_each_target(void)
{
	enum stage from[STAGE_COUNT];

	CU_ASSERT_EQUAL(stages_sources(STAGE_SHIPPED, from), 4);
	CU_ASSERT_EQUAL(stages_sources(STAGE_FAILED, from), 4);
	CU_ASSERT_EQUAL(stages_sources(STAGE_BUILDING, from), 2);
	CU_ASSERT_EQUAL(from[0], STAGE_ASSIGNED);
	CU_ASSERT_EQUAL(from[1], STAGE_BUILDING);
	CU_ASSERT_EQUAL(stages_sources(STAGE_ASSIGNED, from), 1);
	CU_ASSERT_EQUAL(stages_sources(STAGE_QUEUED, from), 0);
	CU_ASSERT_EQUAL(stages_sources(STAGE_CANCELLED, from), 0);
}

static void test_check_target(void)
{
	struct cd_error e;
	enum stage s;

	CU_ASSERT_EQUAL(stages_check_target("shipped", &s, &e), CD_OK);
	CU_ASSERT_EQUAL(s, STAGE_SHIPPED);
	CU_ASSERT_EQUAL(stages_check_target("bogus", &s, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "stage");
	CU_ASSERT_EQUAL(stages_check_target("queued", &s, &e), CD_INVALID_TRANSITION);
	CU_ASSERT_EQUAL(stages_check_target("dead_letter", &s, &e), CD_INVALID_TRANSITION);
}

static void test_priorities(void)
{
	CU_ASSERT_EQUAL(stages_priority_parse("critical"), 0);
	CU_ASSERT_EQUAL(stages_priority_parse("low"), 3);
	CU_ASSERT_EQUAL(stages_priority_parse("urgent"), -1);
	CU_ASSERT_STRING_EQUAL(stages_priority_name(1), "high");
}

/* The rule of sql/012_lean_lifecycle.sql: shipped meets every dependent, testing
 * only a soft one, no other stage any. */
static void test_dep_met(void)
{
	for (int s = 0; s < STAGE_COUNT; s++) {
		CU_ASSERT_EQUAL(stages_dep_met((enum stage)s, false), s == STAGE_SHIPPED);
		CU_ASSERT_EQUAL(stages_dep_met((enum stage)s, true),
				s == STAGE_SHIPPED || s == STAGE_TESTING);
	}
}

static CU_TestInfo TESTS[] = {
	{"names_round_trip", test_names_round_trip},
	{"forward_and_skips_allowed", test_forward_and_skips_allowed},
	{"never_backward", test_never_backward},
	{"failed_from_every_active_stage_only", test_failed_from_every_active_stage_only},
	{"nothing_moves_without_a_lease", test_nothing_moves_without_a_lease},
	{"sources_of_each_target", test_sources_of_each_target},
	{"check_target", test_check_target},
	{"priorities", test_priorities},
	{"dep_met", test_dep_met},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("stages", TESTS);
}

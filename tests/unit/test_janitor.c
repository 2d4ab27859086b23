/* test_janitor.c -- the janitor's pure rules (domain/janitor.c): how many
 * deliveries an entry has had across its copies, and requeue vs dead-letter
 * at the limit. The stream moves themselves are tested against a real Redis
 * in tests/reaper/test_reaper.c. */
#include "../cutest.h"
#include "domain/janitor.h"

static void test_deliveries_of_a_first_copy(void)
{
	/* pending count includes the janitor's own claim */
	CU_ASSERT_EQUAL(janitor_deliveries(NULL, 1), 0);
	CU_ASSERT_EQUAL(janitor_deliveries(NULL, 2), 1);
	CU_ASSERT_EQUAL(janitor_deliveries(NULL, 5), 4);
	CU_ASSERT_EQUAL(janitor_deliveries(NULL, 0), 0); /* not pending any more */
}

static void test_deliveries_carried_by_earlier_copies(void)
{
	CU_ASSERT_EQUAL(janitor_deliveries("3", 2), 4);
	CU_ASSERT_EQUAL(janitor_deliveries("0", 2), 1);
}

static void test_carried_count_that_is_not_a_number_counts_zero(void)
{
	CU_ASSERT_EQUAL(janitor_deliveries("", 2), 1);
	CU_ASSERT_EQUAL(janitor_deliveries("three", 2), 1);
	CU_ASSERT_EQUAL(janitor_deliveries("3x", 2), 1);
	CU_ASSERT_EQUAL(janitor_deliveries("-4", 2), 1);
	CU_ASSERT_EQUAL(janitor_deliveries("99999999999999999999", 2), 1);
}

static void test_requeue_up_to_the_limit_then_dead(void)
{
	CU_ASSERT_EQUAL(janitor_decide(0, 3), JANITOR_REQUEUE);
	CU_ASSERT_EQUAL(janitor_decide(3, 3), JANITOR_REQUEUE);
	CU_ASSERT_EQUAL(janitor_decide(4, 3), JANITOR_DEAD);
	CU_ASSERT_EQUAL(janitor_decide(2, 1), JANITOR_DEAD);
}

static CU_TestInfo TESTS[] = {
	{"deliveries_of_a_first_copy", test_deliveries_of_a_first_copy},
	{"deliveries_carried_by_earlier_copies", test_deliveries_carried_by_earlier_copies},
	{"carried_count_that_is_not_a_number_counts_zero",
	 test_carried_count_that_is_not_a_number_counts_zero},
	{"requeue_up_to_the_limit_then_dead", test_requeue_up_to_the_limit_then_dead},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("janitor", TESTS);
}

/* cutest.c -- one CUnit registry, one suite, basic verbose run; see cutest.h. */
#include <stdio.h>

#include "cutest.h"

int cutest_run_with(const char *suite, CU_TestInfo *tests, CU_InitializeFunc init,
		    CU_CleanupFunc cleanup)
{
	CU_SuiteInfo suites[] = {
		{suite, init, cleanup, NULL, NULL, tests},
		CU_SUITE_INFO_NULL,
	};
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "cannot register suite %s: %s\n", suite, CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
		 CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0)
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

int cutest_run(const char *suite, CU_TestInfo *tests)
{
	return cutest_run_with(suite, tests, NULL, NULL);
}

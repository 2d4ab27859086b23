/* cutest.h -- the shared main of conductor's CUnit programs.
 *
 * A test file declares its tests as a CU_TestInfo array and ends with
 *     int main(void) { return cutest_run("router", TESTS); }
 * The run prints CUnit's basic report (its closing "Run Summary" lines are
 * what CI reads) and returns 1 when any assertion failed.
 */
#ifndef CD_CUTEST_H
#define CD_CUTEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

int cutest_run(const char *suite, CU_TestInfo *tests);

/* Same, with set-up and tear-down run once around the suite. */
int cutest_run_with(const char *suite, CU_TestInfo *tests, CU_InitializeFunc init,
		    CU_CleanupFunc cleanup);

#endif

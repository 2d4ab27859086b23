/* test_ui.c -- the status pages through nginx (DESIGN 8). */
#include "expect.h"

static CU_TestInfo TESTS[] = {
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite s = {.name = "ui", .tenant_prefix = "ui", .control_roles = true};

	return suite_run(&s, TESTS);
}

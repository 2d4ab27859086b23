/* test_deps.c -- batch dependency order (domain/deps.c): dependencies come
 * first, outside references are ignored, a repeated key and a cycle are
 * refused, and the cycle's keys are named. */
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "base/buf.h"
#include "domain/deps.h"

/* position of item i in order[0..n) */
static size_t pos(const size_t *order, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (order[k] == i)
			return k;
	return n;
}

static void test_dependencies_first(void)
{
	const char *a_refs[] = {"b", "c"}, *b_refs[] = {"c"};
	struct deps_item items[] = {{"a", a_refs, 2}, {"b", b_refs, 1}, {"c", NULL, 0}};
	size_t order[3];
	struct buf cycle;
	struct cd_error e;

	buf_init(&cycle, 1024);
	CU_ASSERT_EQUAL_FATAL(deps_order(items, 3, order, &cycle, &e), CD_OK);
	CU_ASSERT(pos(order, 3, 2) < pos(order, 3, 1));
	CU_ASSERT(pos(order, 3, 1) < pos(order, 3, 0));
	buf_reset(&cycle);
}

static void test_outside_refs_and_keyless_items(void)
{
	const char *refs[] = {"12345", "some-existing-key"};
	struct deps_item items[] = {{NULL, refs, 2}, {"x", NULL, 0}, {NULL, NULL, 0}};
	size_t order[3];
	struct buf cycle;
	struct cd_error e;

	buf_init(&cycle, 1024);
	CU_ASSERT_EQUAL(deps_order(items, 3, order, &cycle, &e), CD_OK);
	CU_ASSERT_EQUAL(order[0] + order[1] + order[2], 3);
	buf_reset(&cycle);
}

static void test_cycle_named(void)
{
	const char *x_refs[] = {"y"}, *y_refs[] = {"z"}, *z_refs[] = {"x"}, *w_refs[] = {"x"};
	struct deps_item items[] = {
		{"w", w_refs, 1}, {"x", x_refs, 1}, {"y", y_refs, 1}, {"z", z_refs, 1}};
	size_t order[4];
	struct buf cycle;
	struct cd_error e;

	buf_init(&cycle, 1024);
	CU_ASSERT_EQUAL(deps_order(items, 4, order, &cycle, &e), CD_DEPENDENCY_CYCLE);
	/* the loop is x -> y -> z; w only leads into it */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_str(&cycle), "x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_str(&cycle), "y"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf_str(&cycle), "z"));
	CU_ASSERT_PTR_NULL(strstr(buf_str(&cycle), "w"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "y"));
	buf_reset(&cycle);
}

static void test_self_dependency_is_a_cycle(void)
{
	const char *refs[] = {"me"};
	struct deps_item items[] = {{"me", refs, 1}};
	size_t order[1];
	struct buf cycle;
	struct cd_error e;

	buf_init(&cycle, 1024);
	CU_ASSERT_EQUAL(deps_order(items, 1, order, &cycle, &e), CD_DEPENDENCY_CYCLE);
	CU_ASSERT_STRING_EQUAL(buf_str(&cycle), "me");
	buf_reset(&cycle);
}

static void test_repeated_key_refused(void)
{
	struct deps_item items[] = {{"k", NULL, 0}, {"k", NULL, 0}};
	size_t order[2];
	struct buf cycle;
	struct cd_error e;

	buf_init(&cycle, 1024);
	CU_ASSERT_EQUAL(deps_order(items, 2, order, &cycle, &e), CD_INVALID);
	CU_ASSERT_STRING_EQUAL(e.field, "jobs[1].idempotency_key");
	buf_reset(&cycle);
}

static void test_long_chain_is_fast_and_ordered(void)
{
	enum { N = 1000 };
	struct deps_item *items = calloc(N, sizeof(*items));
	char (*keys)[16] = calloc(N, sizeof(*keys));
	const char **refs = calloc(N, sizeof(*refs));
	size_t *order = calloc(N, sizeof(*order));
	struct buf cycle;
	struct cd_error e;

	buf_init(&cycle, 1024);
	/* item i depends on item i+1: the reverse of the given order */
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	for (int i = 0; i < N; i++) {
		refs[i] = i + 1 < N ? keys[i + 1] : NULL;
		items[i] = (struct deps_item){keys[i], &refs[i], i + 1 < N ? 1 : 0};
	}
	CU_ASSERT_EQUAL_FATAL(deps_order(items, N, order, &cycle, &e), CD_OK);
	for (int k = 0; k < N; k++)
		CU_ASSERT_EQUAL(order[k], (size_t)(N - 1 - k));
	free(items);
	free(keys);
	free(refs);
	free(order);
	buf_reset(&cycle);
}

static CU_TestInfo TESTS[] = {
	{"dependencies_first", test_dependencies_first},
	{"outside_refs_and_keyless_items", test_outside_refs_and_keyless_items},
	{"cycle_named", test_cycle_named},
	{"self_dependency_is_a_cycle", test_self_dependency_is_a_cycle},
	{"repeated_key_refused", test_repeated_key_refused},
	{"long_chain_is_fast_and_ordered", test_long_chain_is_fast_and_ordered},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("deps", TESTS);
}

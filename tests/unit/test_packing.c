/* test_packing.c -- cost packing (domain/packing.c): the cheapest offer that
 * meets the GPU memory need wins, across providers; offers that do not fit
 * are never ranked; ties keep the provider order; the ranking is the
 * fallback order; the offers considered are recorded as JSON. */
#include <stdio.h>
#include <string.h>

#include "../cutest.h"
#include "domain/packing.h"

static struct provider_offer offer(const char *provider, const char *gpu, int mem, double price)
{
	struct provider_offer o;

	memset(&o, 0, sizeof(o));
	snprintf(o.provider, sizeof(o.provider), "%s", provider);
	snprintf(o.gpu, sizeof(o.gpu), "%s", gpu);
	o.gpu_mem_gb = mem;
	o.price_per_hour = price;
	return o;
}

static void test_cheapest_that_fits_wins_across_providers(void)
{
	struct provider_offer o[4] = {offer("runpod", "A100", 80, 1.89),
				      offer("runpod", "RTX4090", 24, 0.69),
				      offer("digitalocean", "H100", 80, 3.39),
				      offer("manual", "L40S", 48, 0.95)};
	size_t rank[4];
	size_t m = packing_rank(o, 4, 40, rank);

	CU_ASSERT_EQUAL(m, 3); /* the 24 GB card does not fit */
	CU_ASSERT_EQUAL(rank[0], 3);
	CU_ASSERT_EQUAL(rank[1], 0);
	CU_ASSERT_EQUAL(rank[2], 2);
	/* with no need, the cheapest of all */
	m = packing_rank(o, 4, 0, rank);
	CU_ASSERT_EQUAL(m, 4);
	CU_ASSERT_EQUAL(rank[0], 1);
}

static void test_nothing_fits_nothing_ranked(void)
{
	struct provider_offer o[2] = {offer("runpod", "T4", 16, 0.2), offer("manual", "x", 8, 0)};
	size_t rank[2];

	CU_ASSERT_EQUAL(packing_rank(o, 2, 24, rank), 0);
	CU_ASSERT_EQUAL(packing_rank(o, 0, 0, rank), 0);
}

static void test_exactly_the_need_fits(void)
{
	struct provider_offer o[1] = {offer("runpod", "A10", 24, 0.5)};
	size_t rank[1];

	CU_ASSERT_EQUAL(packing_rank(o, 1, 24, rank), 1);
	CU_ASSERT_EQUAL(packing_rank(o, 1, 25, rank), 0);
}

static void test_ties_keep_the_provider_order(void)
{
	struct provider_offer o[3] = {offer("runpod", "a", 24, 1.0), offer("digitalocean", "b", 24, 1.0),
				      offer("manual", "c", 24, 1.0)};
	size_t rank[3];

	CU_ASSERT_EQUAL(packing_rank(o, 3, 0, rank), 3);
	CU_ASSERT_EQUAL(rank[0], 0);
	CU_ASSERT_EQUAL(rank[1], 1);
	CU_ASSERT_EQUAL(rank[2], 2);
}

static void test_offers_as_json(void)
{
	struct provider_offer o[2] = {offer("runpod", "A\"1", 80, 1.5), offer("manual", "T4", 16, 0)};
	struct json_object *arr = packing_offers_json(o, 2, 24);

	CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN),
			       "[{\"provider\":\"runpod\",\"gpu\":\"A\\\"1\",\"gpu_mem_gb\":80,"
			       "\"price_per_hour\":1.5000,\"region\":\"\",\"fits\":true},"
			       "{\"provider\":\"manual\",\"gpu\":\"T4\",\"gpu_mem_gb\":16,"
			       "\"price_per_hour\":0.0000,\"region\":\"\",\"fits\":false}]");
	json_object_put(arr);
}

static CU_TestInfo TESTS[] = {
	{"cheapest_that_fits_wins_across_providers", test_cheapest_that_fits_wins_across_providers},
	{"nothing_fits_nothing_ranked", test_nothing_fits_nothing_ranked},
	{"exactly_the_need_fits", test_exactly_the_need_fits},
	{"ties_keep_the_provider_order", test_ties_keep_the_provider_order},
	{"offers_as_json", test_offers_as_json},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("packing", TESTS);
}

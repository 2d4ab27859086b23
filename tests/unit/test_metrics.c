/* test_metrics.c -- base/metrics.c: the exposition writer (HELP/TYPE, label
 * escaping, numbers) and the process's counters (per route slot, cumulative
 * buckets, take resets, give back restores). */
#include <math.h>
#include <string.h>

#include "../cutest.h"
#include "base/metrics.h"

static const char *const PATTERNS[] = {"/v1/fleet/jobs", "/v1/fleet/jobs/{id}"};

static void test_family_help_escaped(void)
{
	struct buf b;

	buf_init(&b, 1024);
	metrics_family(&b, "conductor_x_total", "counter", "a \\ b\nc \"q\"");
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "# HELP conductor_x_total a \\\\ b\\nc \"q\"\n"
					    "# TYPE conductor_x_total counter\n");
	buf_reset(&b);
}

static void test_sample_labels_escaped(void)
{
	const char *l[4] = {"tenant", "a\"b\\c\nd", "stage", "queued"};
	struct buf b;

	buf_init(&b, 1024);
	metrics_sample(&b, "conductor_jobs", l, 2, 3);
	CU_ASSERT_STRING_EQUAL(buf_str(&b),
			       "conductor_jobs{tenant=\"a\\\"b\\\\c\\nd\",stage=\"queued\"} 3\n");
	buf_reset(&b);
}

static void test_sample_numbers(void)
{
	struct buf b;

	buf_init(&b, 1024);
	metrics_sample(&b, "a", NULL, 0, 0);
	metrics_sample(&b, "a", NULL, 0, 12345678901.0);
	metrics_sample(&b, "a", NULL, 0, 0.1);
	metrics_sample(&b, "a", NULL, 0, 2.5e-7);
	metrics_sample(&b, "a", NULL, 0, INFINITY);
	metrics_sample(&b, "a", NULL, 0, NAN);
	CU_ASSERT_STRING_EQUAL(buf_str(&b),
			       "a 0\na 12345678901\na 0.1\na 2.5e-07\na +Inf\na NaN\n");
	buf_reset(&b);
}

static void test_le_shortest(void)
{
	char s[40];

	metrics_le(0.005, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "0.005");
	metrics_le(0.1, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "0.1");
	metrics_le(10, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "10");
	metrics_le(INFINITY, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "+Inf");
}

/* Every delta taken, found by name/route/status/le; -1 when absent. */
static double find(const struct metrics_delta *d, size_t n, const char *name, const char *route,
		   int status, double le)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0 && strcmp(d[i].route, route) == 0 &&
		    d[i].status == status && d[i].le == le)
			return d[i].value;
	return -1;
}

static void test_requests_by_pattern_and_cumulative_buckets(void)
{
	struct metrics_delta d[256];
	size_t n;

	metrics_request(1, 200, 0.003);	 /* /v1/fleet/jobs/{id} */
	metrics_request(1, 200, 0.2);
	metrics_request(1, 404, 0.0001);
	metrics_request(7, 404, 20);	 /* past the table: unmatched, past every bound */
	metrics_request(0, 42, 0.001);	 /* a status out of range counts as 599 */
	n = metrics_take(d, 256);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_requests_total", "/v1/fleet/jobs/{id}", 200, 0), 2);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_requests_total", "/v1/fleet/jobs/{id}", 404, 0), 1);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_requests_total", METRICS_UNMATCHED, 404, 0), 1);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_requests_total", "/v1/fleet/jobs", 599, 0), 1);
	/* cumulative: 0.0001 <= 0.001; 0.003 <= 0.005; 0.2 <= 0.25 */
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     "/v1/fleet/jobs/{id}", 0, 0.001), 1);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     "/v1/fleet/jobs/{id}", 0, 0.005), 2);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     "/v1/fleet/jobs/{id}", 0, 0.1), 2);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     "/v1/fleet/jobs/{id}", 0, 0.25), 3);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     "/v1/fleet/jobs/{id}", 0, INFINITY), 3);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     METRICS_UNMATCHED, 0, 10), -1);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_request_duration_seconds_bucket",
			     METRICS_UNMATCHED, 0, INFINITY), 1);
	CU_ASSERT_DOUBLE_EQUAL(find(d, n, "conductor_http_request_duration_seconds_sum",
				    "/v1/fleet/jobs/{id}", 0, 0), 0.2031, 1e-9);
	/* a take resets: nothing is taken twice */
	CU_ASSERT_EQUAL(metrics_take(d, 256), 0);
}

static void test_counters_take_and_give_back(void)
{
	struct metrics_delta d[16];
	size_t n;

	metrics_count(METRICS_CLAIMS, 5);
	metrics_count(METRICS_SHIPPED, 2);
	metrics_request(0, 201, 0.5);
	n = metrics_take(d, 16);
	CU_ASSERT_EQUAL(find(d, n, "conductor_claims_total", "", 0, 0), 5);
	CU_ASSERT_EQUAL(find(d, n, "conductor_jobs_shipped_total", "", 0, 0), 2);
	CU_ASSERT_EQUAL(find(d, n, "conductor_leases_reaped_total", "", 0, 0), -1);
	/* a flush that failed gives its deltas back: the next take has them, plus
	 * what was counted meanwhile */
	metrics_give_back(d, n);
	metrics_count(METRICS_CLAIMS, 1);
	n = metrics_take(d, 16);
	CU_ASSERT_EQUAL(find(d, n, "conductor_claims_total", "", 0, 0), 6);
	CU_ASSERT_DOUBLE_EQUAL(find(d, n, "conductor_http_request_duration_seconds_sum",
				    "/v1/fleet/jobs", 0, 0), 0.5, 1e-9);
	CU_ASSERT_EQUAL(find(d, n, "conductor_http_requests_total", "/v1/fleet/jobs", 201, 0), 1);
}

static void test_take_respects_cap(void)
{
	struct metrics_delta d[2];

	metrics_count(METRICS_CLAIMS, 1);
	metrics_count(METRICS_SHIPPED, 1);
	metrics_count(METRICS_LEASES_REAPED, 1);
	CU_ASSERT_EQUAL(metrics_take(d, 2), 2);
	CU_ASSERT_EQUAL(metrics_take(d, 2), 1); /* the rest stayed */
	CU_ASSERT_EQUAL(metrics_take(d, 2), 0);
}

static CU_TestInfo TESTS[] = {
	{"family_help_escaped", test_family_help_escaped},
	{"sample_labels_escaped", test_sample_labels_escaped},
	{"sample_numbers", test_sample_numbers},
	{"le_shortest", test_le_shortest},
	{"requests_by_pattern_and_cumulative_buckets", test_requests_by_pattern_and_cumulative_buckets},
	{"counters_take_and_give_back", test_counters_take_and_give_back},
	{"take_respects_cap", test_take_respects_cap},
	CU_TEST_INFO_NULL,
};

static int init(void)
{
	metrics_init(PATTERNS, 2);
	return 0;
}

int main(void)
{
	return cutest_run_with("metrics", TESTS, init, NULL);
}

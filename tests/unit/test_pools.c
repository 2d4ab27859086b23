/* test_pools.c -- the `pools` configuration key (base/pools.c) and the
 * watcher's keys of the config table (base/config.c): a full spec, the
 * defaults, and every kind of mistake refused with the pool and the key
 * named; `providers` validated against the known names. */
#include <string.h>

#include "../cutest.h"
#include "base/config.h"
#include "base/pools.h"

static struct watch_policy P[POOLS_MAX];

static void test_full_spec(void)
{
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(pools_parse("image:streams=tasks:image+tasks:thumb,capability=gpu,"
					  "gpu_mem_gb=24,spawn_threshold=5,max_instances=3,"
					  "cooldown_s=60,idle_s=120,long_running_s=7200,poll_s=5,"
					  "tenant=acme; text:streams=tasks:text",
					  P, POOLS_MAX, &n, NULL),
			      CD_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(P[0].name, "image");
	CU_ASSERT_EQUAL(P[0].nstreams, 2);
	CU_ASSERT_STRING_EQUAL(P[0].streams[0], "tasks:image");
	CU_ASSERT_STRING_EQUAL(P[0].streams[1], "tasks:thumb");
	CU_ASSERT_STRING_EQUAL(P[0].capability, "gpu");
	CU_ASSERT_STRING_EQUAL(P[0].tenant, "acme");
	CU_ASSERT_EQUAL(P[0].gpu_mem_gb, 24);
	CU_ASSERT_EQUAL(P[0].spawn_threshold, 5);
	CU_ASSERT_EQUAL(P[0].max_instances, 3);
	CU_ASSERT_EQUAL(P[0].cooldown_s, 60);
	CU_ASSERT_EQUAL(P[0].idle_s, 120);
	CU_ASSERT_EQUAL(P[0].long_running_s, 7200);
	CU_ASSERT_EQUAL(P[0].poll_s, 5);
}

static void test_defaults(void)
{
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(pools_parse("text:streams=tasks:text", P, POOLS_MAX, &n, NULL), CD_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(P[0].tenant, "default");
	CU_ASSERT_STRING_EQUAL(P[0].capability, "");
	CU_ASSERT_EQUAL(P[0].gpu_mem_gb, 0);
	CU_ASSERT_EQUAL(P[0].spawn_threshold, 1);
	CU_ASSERT_EQUAL(P[0].max_instances, 1);
	CU_ASSERT_EQUAL(P[0].cooldown_s, 300);
	CU_ASSERT_EQUAL(P[0].idle_s, 600);
	CU_ASSERT_EQUAL(P[0].long_running_s, 86400);
	CU_ASSERT_EQUAL(P[0].poll_s, 15);
	CU_ASSERT_EQUAL(pools_parse("", P, POOLS_MAX, &n, NULL), CD_OK);
	CU_ASSERT_EQUAL(n, 0);
}

/* spec is refused, and the message holds needle. */
static void refused(const char *spec, const char *needle)
{
	struct cd_error e;
	size_t n = 7;

	cd_error_reset(&e);
	CU_ASSERT_EQUAL(pools_parse(spec, P, POOLS_MAX, &n, &e), CD_CONFIG);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_STRING_EQUAL(e.field, "pools");
	if (strstr(e.message, needle) == NULL)
		fprintf(stderr, "\n%s: message \"%s\" lacks \"%s\"\n", spec, e.message, needle);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, needle));
}

static void test_mistakes_name_the_pool_and_key(void)
{
	refused("gpu:streams=a,spawn_threshold=0", "pool gpu: spawn_threshold");
	refused("gpu:streams=a,max_instances=x", "pool gpu: max_instances");
	refused("gpu:streams=a,poll_s=", "pool gpu: poll_s");
	refused("gpu:streams=a,idle_s=-1", "pool gpu: idle_s");
	refused("gpu:streams=a,colour=red", "pool gpu: unknown key \"colour\"");
	refused("gpu:streams=a,capability", "pool gpu: expected key=value");
	refused("gpu:streams=a b", "pool gpu: stream \"a b\"");
	refused("gpu:capability=GPU", "pool gpu: capability");
	refused("gpu:streams=a,tenant=", "pool gpu: tenant");
	refused("GPU:streams=a", "pool name \"GPU\"");
	refused(":streams=a", "pool name \"\"");
	refused("gpu", "pool gpu serves nothing");
	refused("gpu:streams=a;gpu:streams=b", "pool gpu is named twice");
}

static void test_too_many(void)
{
	char spec[2048] = "";
	size_t n;

	for (int i = 0; i <= POOLS_MAX; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), "p%d:streams=s;", i);
	CU_ASSERT_EQUAL(pools_parse(spec, P, POOLS_MAX, &n, NULL), CD_CONFIG);
}

static void test_config_keys(void)
{
	struct config cfg;
	struct cd_error e;

	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, NULL), CD_OK);
	CU_ASSERT_STRING_EQUAL(cfg.providers, "manual");
	CU_ASSERT_STRING_EQUAL(cfg.pools, "");
	CU_ASSERT_EQUAL(config_set(&cfg, "CONDUCTOR_POOLS", "gpu:streams=q,max_instances=2", NULL),
			CD_OK);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_set(&cfg, "pools", "gpu:streams=q,max_instances=0", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "pools");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "CONDUCTOR_POOLS"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "max_instances"));
	CU_ASSERT_EQUAL(config_set(&cfg, "providers", "runpod,digitalocean,manual", NULL), CD_OK);
	CU_ASSERT_EQUAL(config_set(&cfg, "providers", "manual", NULL), CD_OK);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_set(&cfg, "providers", "manual,aws", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "providers");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "\"aws\" is unknown"));
	CU_ASSERT_EQUAL(config_set(&cfg, "providers", "manual,manual", &e), CD_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "named twice"));
	CU_ASSERT_EQUAL(config_set(&cfg, "providers", "manual,", &e), CD_CONFIG);
	CU_ASSERT_EQUAL(config_set(&cfg, "providers", ",manual", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(cfg.providers, "manual"); /* a refused value changes nothing */
	config_free(&cfg);
}

static CU_TestInfo TESTS[] = {
	{"full_spec", test_full_spec},
	{"defaults", test_defaults},
	{"mistakes_name_the_pool_and_key", test_mistakes_name_the_pool_and_key},
	{"too_many", test_too_many},
	{"config_keys", test_config_keys},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("pools", TESTS);
}

/* test_providers.c -- the RunPod and DigitalOcean adapters (data/provider_*.c
 * through data/httpc.c) against tools/fake-provider, the real HTTP server on
 * 127.0.0.1 that tests/http/run-integration's stack starts (its URLs and fake
 * keys come from the stack's conductor.env: CONDUCTOR_RUNPOD_*, CONDUCTOR_DO_*;
 * the fake's control routes are at the root of the same address).
 *
 * Covers: the configuration keys (URLs, cloud type, ranges; a value never in
 * a message, a key never in --help); not configured -> CD_CONFIG; the offers
 * with their prices, filtered by memory, stock and availability, cheapest
 * first; start/status/stop/destroy for each provider; 429 then success -> one
 * instance, Retry-After waited; 500 every time -> CD_UPSTREAM naming the
 * provider and 500 after a bounded number of calls (one for a create); a slow
 * provider -> the call ends within provider_timeout_ms; no capacity -> zero
 * offers and no error; a wrong key -> CD_UPSTREAM 401; the key in no error
 * message and no log line (the fake echoes a wrong key back, so removing it
 * is tested); a body over the cap, a refused connection, a Retry-After that
 * does not fit the budget; sixteen threads at once; an instance id that is no
 * path segment -> CD_INVALID.
 *
 * Each test resets the fake first (POST /_fake/reset). PROVIDERS_ONLY=name
 * runs only those tests.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../cutest.h"
#include "../http/expect.h"
#include "base/config.h"
#include "base/json.h"
#include "data/provider.h"

#define NEED_24 24 /* DigitalOcean is the cheaper for this (see tools/fake-provider) */
#define NEED_80 80 /* only RunPod has one */

/* ---- the fake's control endpoint ------------------------------------------ */

static void fake_reset(void)
{
	json_object_put(fake_call("POST", "/_fake/reset", NULL));
}

/* Sets the fake's mode for provider (and slow_ms when > 0). */
static void fake_mode(const char *provider, const char *mode, int slow_ms)
{
	char body[160];
	struct json_object *r;

	if (slow_ms > 0)
		snprintf(body, sizeof(body), "{\"%s\": \"%s\", \"slow_ms\": %d}", provider, mode,
		         slow_ms);
	else
		snprintf(body, sizeof(body), "{\"%s\": \"%s\"}", provider, mode);
	r = fake_call("POST", "/_fake/mode", body);
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(r, "modes"), provider), mode);
	json_object_put(r);
}

/* How many calls the fake counted on route ("POST /runpod/v1/pods") of
 * provider; with route NULL, on every route. */
static int64_t fake_calls(const char *provider, const char *route)
{
	struct json_object *st = fake_call("GET", "/_fake/state", NULL);
	struct json_object *p = obj_at(st, provider);
	int64_t n = route ? int_at(obj_at(p, "calls"), route) : int_at(p, "total_calls");

	json_object_put(st);
	return n < 0 ? 0 : n;
}

/* How many instances the fake holds for provider. */
static size_t fake_instances(const char *provider)
{
	struct json_object *st = fake_call("GET", "/_fake/state", NULL);
	size_t n = len_of(
	    obj_at(obj_at(st, provider), strcmp(provider, "runpod") == 0 ? "pods" : "droplets"));

	json_object_put(st);
	return n;
}

/* ---- helpers ------------------------------------------------------------------ */

static const char *const NAMES[] = {"runpod", "digitalocean"};
#define NPROV (sizeof(NAMES) / sizeof(NAMES[0]))

/* The route a create goes to, per provider. */
static const char *create_route(const char *name)
{
	return strcmp(name, "runpod") == 0 ? "POST /runpod/v1/pods" : "POST /do/v2/droplets";
}

/* ... and an availability call. */
static const char *offers_route(const char *name)
{
	return strcmp(name, "runpod") == 0 ? "POST /runpod/graphql" : "GET /do/v2/sizes";
}

static const char *key_of(const struct config *cfg, const char *name)
{
	return strcmp(name, "runpod") == 0 ? cfg->runpod_api_key : cfg->do_api_key;
}

/* The stack's configuration (from the environment). */
static void load(struct config *cfg)
{
	struct cd_error e = {0};

	CU_ASSERT_EQUAL_FATAL(config_load(cfg, NULL, &e), CD_OK);
	CU_ASSERT_FATAL(cfg->runpod_api_key[0] != '\0' && cfg->do_api_key[0] != '\0');
}

static void set(struct config *cfg, const char *key, const char *value)
{
	CU_ASSERT_EQUAL_FATAL(config_set(cfg, key, value, NULL), CD_OK);
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The offers of name for gpu_mem_gb, n of them; CD_OK asserted. */
static size_t offers(const struct provider_ctx *ctx, const char *name, int gpu_mem_gb,
                     struct provider_offer *out)
{
	const struct provider *p = provider_find(name);
	struct provider_need need = {.pool = "test", .gpu_mem_gb = gpu_mem_gb, .capability = ""};
	struct cd_error e = {0};
	size_t n = 0;
	enum cd_err rc = p->availability(ctx, &need, out, PROVIDER_OFFERS_MAX, &n, &e);

	CU_ASSERT_EQUAL(rc, CD_OK);
	if (rc != CD_OK)
		fprintf(stderr, "\n  %s availability: %s\n", name, e.message);
	return rc == CD_OK ? n : 0;
}

/* Did e name the provider (field and message) and the HTTP status? */
static void expect_upstream(enum cd_err rc, const struct cd_error *e, const char *name,
                            const char *status_text)
{
	CU_ASSERT_EQUAL(rc, CD_UPSTREAM);
	CU_ASSERT_STRING_EQUAL(e->field, name);
	CU_ASSERT_PTR_NOT_NULL(strstr(e->message, name));
	CU_ASSERT_PTR_NOT_NULL(strstr(e->message, status_text));
	if (rc != CD_UPSTREAM || strstr(e->message, status_text) == NULL)
		fprintf(stderr, "\n  %s: rc %d, message: %s\n", name, rc, e->message);
}

/* ---- tests ----------------------------------------------------------------------- */

/* The keys are validated and named; a value is never echoed; --help shows no key. */
static void test_config_keys(void)
{
	struct config cfg;
	struct cd_error e = {0};
	char *help = NULL;
	size_t help_len = 0;
	FILE *f;

	load(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "runpod_api_url", "ftp://secret-in-url", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "runpod_api_url");
	CU_ASSERT_PTR_NULL(strstr(e.message, "secret-in-url"));
	CU_ASSERT_EQUAL(config_set(&cfg, "CONDUCTOR_DO_API_URL", "api.digitalocean.com", &e),
	                CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "do_api_url");
	CU_ASSERT_EQUAL(config_set(&cfg, "runpod_graphql_url", "http://a b", &e), CD_CONFIG);
	CU_ASSERT_EQUAL(config_set(&cfg, "runpod_cloud_type", "SPOT", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "runpod_cloud_type");
	CU_ASSERT_EQUAL(config_set(&cfg, "provider_retries", "11", &e), CD_CONFIG);
	CU_ASSERT_EQUAL(config_set(&cfg, "provider_timeout_ms", "99", &e), CD_CONFIG);
	CU_ASSERT_EQUAL(config_set(&cfg, "runpod_cloud_type", "COMMUNITY", &e), CD_OK);
	CU_ASSERT_EQUAL(config_set(&cfg, "do_api_url", "https://api.digitalocean.com/v2", &e),
	                CD_OK);
	f = open_memstream(&help, &help_len);
	config_print_help(f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(help, "CONDUCTOR_RUNPOD_API_KEY"));
	CU_ASSERT_PTR_NULL(strstr(help, cfg.runpod_api_key));
	CU_ASSERT_PTR_NULL(strstr(help, cfg.do_api_key));
	free(help);
	config_free(&cfg);
}

/* No key: configured() is false and every call is CD_CONFIG, with no request. */
static void test_not_configured(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};
	struct provider_offer o[PROVIDER_OFFERS_MAX];
	struct provider_need need = {.pool = "test", .gpu_mem_gb = 0, .capability = ""};
	struct provider_instance inst;

	fake_reset();
	load(&cfg);
	set(&cfg, "runpod_api_key", "");
	set(&cfg, "do_api_key", "");
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct cd_error e = {0};
		size_t n = 99;

		CU_ASSERT_FALSE(p->configured(&ctx));
		CU_ASSERT_EQUAL(p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e),
		                CD_CONFIG);
		CU_ASSERT_STRING_EQUAL(e.field, NAMES[i]);
		CU_ASSERT_EQUAL(n, 99); /* out-params untouched on failure */
		CU_ASSERT_EQUAL(p->status(&ctx, "abc123", &inst, &e), CD_CONFIG);
		CU_ASSERT_EQUAL(p->destroy(&ctx, "abc123", &e), CD_CONFIG);
		CU_ASSERT_EQUAL(fake_calls(NAMES[i], NULL), 0);
	}
	config_free(&cfg);
	load(&cfg);
	CU_ASSERT_TRUE(provider_find("runpod")->configured(&ctx));
	CU_ASSERT_TRUE(provider_find("digitalocean")->configured(&ctx));
	CU_ASSERT_PTR_NULL(provider_find("nope"));
	CU_ASSERT_PTR_NULL(provider_find(NULL));
	config_free(&cfg);
}

/* The offers: memory, stock and availability filter; prices as listed;
 * cheapest first; DigitalOcean cheaper for 24 GB, only RunPod for 80 GB. */
static void test_availability_offers(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};
	struct provider_offer rp[PROVIDER_OFFERS_MAX], dig[PROVIDER_OFFERS_MAX];
	size_t nrp, ndo;

	fake_reset();
	load(&cfg);
	nrp = offers(&ctx, "runpod", NEED_24, rp);
	ndo = offers(&ctx, "digitalocean", NEED_24, dig);
	CU_ASSERT_EQUAL(nrp,
	                3); /* 4090, A6000, A100; not the 3070 (8 GB) nor the H100 (no stock) */
	CU_ASSERT_EQUAL(ndo, 2); /* l40s, 6000 ada; not the 4000 ada (20 GB), the H100
	                          * (not available) or a CPU size */
	if (nrp == 3) {
		EXPECT_STR(rp[0].provider, "runpod");
		EXPECT_STR(rp[0].gpu, "NVIDIA GeForce RTX 4090");
		EXPECT_INT(rp[0].gpu_mem_gb, 24);
		CU_ASSERT_DOUBLE_EQUAL(rp[0].price_per_hour, 0.69, 1e-9);
		EXPECT_STR(rp[0].region, "SECURE");
		EXPECT_STR(rp[2].gpu, "NVIDIA A100 80GB PCIe");
		CU_ASSERT(rp[0].price_per_hour <= rp[1].price_per_hour &&
		          rp[1].price_per_hour <= rp[2].price_per_hour);
	}
	if (ndo == 2) {
		EXPECT_STR(dig[0].provider, "digitalocean");
		EXPECT_STR(dig[0].gpu, "gpu-l40sx1-48gb");
		EXPECT_INT(dig[0].gpu_mem_gb, 48);
		CU_ASSERT_DOUBLE_EQUAL(dig[0].price_per_hour, 0.59, 1e-9);
		EXPECT_STR(dig[0].region, "tor1");
		CU_ASSERT(dig[0].price_per_hour < rp[0].price_per_hour);
	}
	CU_ASSERT_EQUAL(offers(&ctx, "digitalocean", NEED_80, dig), 0);
	nrp = offers(&ctx, "runpod", NEED_80, rp);
	CU_ASSERT_EQUAL(nrp, 1);
	if (nrp == 1)
		EXPECT_STR(rp[0].gpu, "NVIDIA A100 80GB PCIe");
	/* the community cloud has its own prices */
	set(&cfg, "runpod_cloud_type", "COMMUNITY");
	nrp = offers(&ctx, "runpod", NEED_24, rp);
	CU_ASSERT_EQUAL(nrp, 3);
	if (nrp > 0) {
		CU_ASSERT_DOUBLE_EQUAL(rp[0].price_per_hour, 0.34, 1e-9);
		EXPECT_STR(rp[0].region, "COMMUNITY");
	}
	config_free(&cfg);
}

/* The status of id at p, polled until it is want (3 s at most). */
static bool wait_state(const struct provider_ctx *ctx, const struct provider *p, const char *id,
                       const char *want, struct provider_instance *out)
{
	for (int i = 0; i < 30; i++) {
		struct cd_error e = {0};

		CU_ASSERT_EQUAL(p->status(ctx, id, out, &e), CD_OK);
		if (strcmp(out->state, want) == 0)
			return true;
		usleep(100 * 1000);
	}
	fprintf(stderr, "\n  %s %s: state %s, wanted %s\n", p->name, id, out->state, want);
	return false;
}

/* start -> starting, then running with an address; stop -> stopped; destroy
 * -> gone; destroy again is fine. */
static void test_round_trip(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX];
		struct provider_instance inst, now;
		struct cd_error e = {0};
		enum cd_err rc;

		CU_ASSERT_FATAL(offers(&ctx, NAMES[i], NEED_24, o) > 0);
		rc = p->start(&ctx, &o[0], "pool_rt:1", &inst, &e);
		CU_ASSERT_EQUAL(rc, CD_OK);
		if (rc != CD_OK) {
			fprintf(stderr, "\n  %s start: %s\n", NAMES[i], e.message);
			continue;
		}
		CU_ASSERT(inst.provider_id[0] != '\0');
		EXPECT_STR(inst.state, "starting");
		EXPECT_STR(inst.gpu, o[0].gpu);
		CU_ASSERT_DOUBLE_EQUAL(inst.price_per_hour, o[0].price_per_hour, 1e-9);
		CU_ASSERT_EQUAL(fake_instances(NAMES[i]), 1);
		CU_ASSERT_TRUE(wait_state(&ctx, p, inst.provider_id, "running", &now));
		EXPECT_STR(now.provider_id, inst.provider_id);
		CU_ASSERT_EQUAL(strncmp(now.address, "203.0.113.", 10), 0);
		CU_ASSERT_EQUAL(p->stop(&ctx, inst.provider_id, &e), CD_OK);
		CU_ASSERT_TRUE(wait_state(&ctx, p, inst.provider_id, "stopped", &now));
		CU_ASSERT_EQUAL(p->destroy(&ctx, inst.provider_id, &e), CD_OK);
		CU_ASSERT_TRUE(wait_state(&ctx, p, inst.provider_id, "gone", &now));
		CU_ASSERT_EQUAL(fake_instances(NAMES[i]), 0);
		CU_ASSERT_EQUAL(p->destroy(&ctx, inst.provider_id, &e), CD_OK); /* gone already */
		/* stopping what is gone is the provider's 404, named */
		expect_upstream(p->stop(&ctx, inst.provider_id, &e), &e, NAMES[i], "404");
	}
	config_free(&cfg);
}

/* A 429 on the create, then success: one instance, two calls, Retry-After
 * (1 s) waited. */
static void test_429_once(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX];
		struct provider_instance inst;
		struct cd_error e = {0};
		int64_t t0;
		enum cd_err rc;

		CU_ASSERT_FATAL(offers(&ctx, NAMES[i], NEED_24, o) > 0);
		fake_mode(NAMES[i], "429_once", 0);
		t0 = ms_now();
		rc = p->start(&ctx, &o[0], "pool-429", &inst, &e);
		CU_ASSERT_EQUAL(rc, CD_OK);
		if (rc != CD_OK)
			fprintf(stderr, "\n  %s start after 429: %s\n", NAMES[i], e.message);
		CU_ASSERT(ms_now() - t0 >= 950);
		EXPECT_INT(fake_calls(NAMES[i], create_route(NAMES[i])), 2);
		EXPECT_INT((int64_t)fake_instances(NAMES[i]), 1);
	}
	config_free(&cfg);
}

/* 500 every time: CD_UPSTREAM naming the provider and 500; a query is tried
 * 1 + provider_retries times, a create once (it may have happened). */
static void test_500_always(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX], keep[PROVIDER_OFFERS_MAX];
		struct provider_need need = {.pool = "t", .gpu_mem_gb = NEED_24, .capability = ""};
		struct provider_instance inst;
		struct cd_error e = {0};
		size_t n = 0;
		int64_t before;

		CU_ASSERT_FATAL(offers(&ctx, NAMES[i], NEED_24, keep) > 0);
		fake_mode(NAMES[i], "500", 0);
		before = fake_calls(NAMES[i], offers_route(NAMES[i]));
		expect_upstream(p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e), &e,
		                NAMES[i], "HTTP 500");
		EXPECT_INT(fake_calls(NAMES[i], offers_route(NAMES[i])) - before,
		           1 + cfg.provider_retries);
		expect_upstream(p->start(&ctx, &keep[0], "pool-500", &inst, &e), &e, NAMES[i],
		                "HTTP 500");
		EXPECT_INT(fake_calls(NAMES[i], create_route(NAMES[i])), 1);
		EXPECT_INT((int64_t)fake_instances(NAMES[i]), 0);
		set(&cfg, "provider_retries", "0");
		before = fake_calls(NAMES[i], NULL);
		expect_upstream(p->destroy(&ctx, "abc123", &e), &e, NAMES[i], "HTTP 500");
		EXPECT_INT(fake_calls(NAMES[i], NULL) - before, 1);
		set(&cfg, "provider_retries", "2");
	}
	config_free(&cfg);
}

/* A provider that answers in 3 s: the call ends within provider_timeout_ms
 * (800), retries included, as CD_UPSTREAM status 0. */
static void test_slow(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	set(&cfg, "provider_timeout_ms", "800");
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX];
		struct provider_need need = {.pool = "t", .gpu_mem_gb = NEED_24, .capability = ""};
		struct provider_instance inst;
		struct cd_error e = {0};
		size_t n = 0;
		int64_t t0, took;

		fake_mode(NAMES[i], "slow", 3000);
		t0 = ms_now();
		expect_upstream(p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e), &e,
		                NAMES[i], "HTTP status 0");
		took = ms_now() - t0;
		CU_ASSERT(took >= 700 && took < 1300);
		t0 = ms_now();
		expect_upstream(p->status(&ctx, "abc123", &inst, &e), &e, NAMES[i],
		                "HTTP status 0");
		took = ms_now() - t0;
		CU_ASSERT(took >= 700 && took < 1300);
		if (took >= 1300)
			fprintf(stderr, "\n  %s status took %lld ms\n", NAMES[i], (long long)took);
		fake_mode(NAMES[i], "ok", 0);
	}
	config_free(&cfg);
}

/* Nothing in stock: zero offers, no error; a create anyway is refused as the
 * service refuses it, and named. */
static void test_no_capacity(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX], keep[PROVIDER_OFFERS_MAX];
		struct provider_instance inst;
		struct cd_error e = {0};

		CU_ASSERT_FATAL(offers(&ctx, NAMES[i], NEED_24, keep) > 0);
		fake_mode(NAMES[i], "no_capacity", 0);
		EXPECT_INT((int64_t)offers(&ctx, NAMES[i], NEED_24, o), 0);
		EXPECT_INT((int64_t)offers(&ctx, NAMES[i], 0, o), 0);
		CU_ASSERT_EQUAL(p->start(&ctx, &keep[0], "pool-full", &inst, &e), CD_UPSTREAM);
		CU_ASSERT_STRING_EQUAL(e.field, NAMES[i]);
		EXPECT_INT((int64_t)fake_instances(NAMES[i]), 0);
	}
	config_free(&cfg);
}

/* A wrong key: CD_UPSTREAM 401 -- and the key the fake echoed is not in the
 * message. */
static void test_wrong_key(void)
{
	static const char WRONG[] = "wrong-key-9f8e7d6c5b4a";
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	set(&cfg, "runpod_api_key", WRONG);
	set(&cfg, "do_api_key", WRONG);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX];
		struct provider_need need = {.pool = "t", .gpu_mem_gb = 0, .capability = ""};
		struct provider_instance inst;
		struct cd_error e = {0};
		size_t n = 0;

		expect_upstream(p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e), &e,
		                NAMES[i], "HTTP 401");
		CU_ASSERT_PTR_NULL(strstr(e.message, WRONG));
		CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "[redacted]"));
		expect_upstream(p->status(&ctx, "abc123", &inst, &e), &e, NAMES[i], "HTTP 401");
		CU_ASSERT_PTR_NULL(strstr(e.message, WRONG));
		EXPECT_INT(fake_calls(NAMES[i], NULL), 2); /* a 401 is not retried */
	}
	config_free(&cfg);
}

/* Whatever fails -- 429 with retries logged, 500, slow, a wrong key -- the key
 * is in no error message and no log line. */
static void test_key_never_leaks(void)
{
	static const char *const MODES[] = {"429", "500", "slow", "ok"};
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};
	char path[] = "/tmp/test_providers_log_XXXXXX", *log = NULL;
	int fd = mkstemp(path), saved = dup(2);
	size_t len = 0;
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
	fake_reset();
	load(&cfg);
	set(&cfg, "provider_timeout_ms", "1200");
	fflush(stderr);
	dup2(fd, 2); /* the log lines of these calls go to the file */
	for (size_t m = 0; m < sizeof(MODES) / sizeof(MODES[0]); m++) {
		for (size_t i = 0; i < NPROV; i++) {
			const struct provider *p = provider_find(NAMES[i]);
			struct provider_offer o[PROVIDER_OFFERS_MAX];
			struct provider_need need = {
			    .pool = "t", .gpu_mem_gb = 0, .capability = ""};
			struct provider_instance inst;
			struct cd_error e = {0};
			size_t n = 0;
			char key[256];

			snprintf(key, sizeof(key), "%s", key_of(&cfg, NAMES[i]));
			if (strcmp(MODES[m], "ok") == 0) /* the wrong key's turn */
				set(&cfg,
				    strcmp(NAMES[i], "runpod") == 0 ? "runpod_api_key"
				                                    : "do_api_key",
				    "another-wrong-key-0a1b2c3d");
			fake_mode(NAMES[i], MODES[m], 2000);
			CU_ASSERT_EQUAL(
			    p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e),
			    CD_UPSTREAM);
			CU_ASSERT_PTR_NULL(strstr(e.message, key_of(&cfg, NAMES[i])));
			CU_ASSERT_PTR_NULL(strstr(e.message, key));
			CU_ASSERT_EQUAL(p->status(&ctx, "abc123", &inst, &e), CD_UPSTREAM);
			CU_ASSERT_PTR_NULL(strstr(e.message, key_of(&cfg, NAMES[i])));
			CU_ASSERT_PTR_NULL(strstr(e.message, key));
		}
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	(void)!getdelim(&log, &len, '\0', f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(log);
	if (log != NULL) {
		struct config stack;

		load(&stack);
		/* the retries were logged, without a key */
		CU_ASSERT_PTR_NOT_NULL(strstr(log, "provider call retried"));
		CU_ASSERT_PTR_NULL(strstr(log, stack.runpod_api_key));
		CU_ASSERT_PTR_NULL(strstr(log, stack.do_api_key));
		CU_ASSERT_PTR_NULL(strstr(log, "another-wrong-key-0a1b2c3d"));
		CU_ASSERT_PTR_NULL(strstr(log, "Bearer"));
		config_free(&stack);
	}
	free(log);
	close(fd);
	unlink(path);
	config_free(&cfg);
}

/* The limits: a body over the cap is refused; a port that refuses
 * connections costs 1 + provider_retries attempts and ends as status 0; a
 * Retry-After longer than what is left of the budget is not waited for. */
static void test_limits(void)
{
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};
	struct provider_need need = {.pool = "t", .gpu_mem_gb = 0, .capability = ""};

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);
		struct provider_offer o[PROVIDER_OFFERS_MAX];
		struct cd_error e = {0};
		size_t n = 0;
		int64_t t0, took, before;

		fake_mode(NAMES[i], "huge", 0);
		expect_upstream(p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e), &e,
		                NAMES[i], "larger than 2097152 bytes");
		fake_mode(NAMES[i], "429", 0);
		set(&cfg, "provider_timeout_ms", "500");
		before = fake_calls(NAMES[i], NULL);
		t0 = ms_now();
		expect_upstream(p->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &n, &e), &e,
		                NAMES[i], "HTTP 429");
		took = ms_now() - t0;
		CU_ASSERT(took < 400); /* Retry-After: 1 does not fit in 500 ms: no wait */
		EXPECT_INT(fake_calls(NAMES[i], NULL) - before, 1);
		set(&cfg, "provider_timeout_ms", "15000");
	}
	/* nothing listens on port 1 */
	set(&cfg, "runpod_graphql_url", "http://127.0.0.1:1/graphql");
	set(&cfg, "do_api_url", "http://127.0.0.1:1/v2");
	for (size_t i = 0; i < NPROV; i++) {
		struct provider_offer o[PROVIDER_OFFERS_MAX];
		struct cd_error e = {0};
		size_t n = 0;

		expect_upstream(provider_find(NAMES[i])->availability(&ctx, &need, o,
		                                                      PROVIDER_OFFERS_MAX, &n, &e),
		                &e, NAMES[i], "HTTP status 0");
		CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "after 3 attempt(s)"));
	}
	config_free(&cfg);
}

struct racer {
	const struct config *cfg;
	const char *name;
	enum cd_err rc;
	size_t n;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct provider_ctx ctx = {.cfg = r->cfg};
	struct provider_need need = {.pool = "t", .gpu_mem_gb = NEED_24, .capability = ""};
	struct provider_offer o[PROVIDER_OFFERS_MAX];

	r->rc =
	    provider_find(r->name)->availability(&ctx, &need, o, PROVIDER_OFFERS_MAX, &r->n, NULL);
	return NULL;
}

/* Sixteen threads at once, each with its own call: every one answered in
 * full (one libcurl initialisation, no shared handle). */
static void test_threads(void)
{
	struct config cfg;
	struct racer r[16];
	pthread_t t[16];

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < 16; i++) {
		r[i] = (struct racer){.cfg = &cfg, .name = NAMES[i % NPROV], .rc = CD_INTERNAL};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (size_t i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(r[i].rc, CD_OK);
		CU_ASSERT_EQUAL(r[i].n, strcmp(r[i].name, "runpod") == 0 ? 3u : 2u);
	}
	EXPECT_INT(fake_calls("runpod", NULL) + fake_calls("digitalocean", NULL), 16);
	config_free(&cfg);
}

/* An id that is no path segment is refused before any request. */
static void test_bad_id(void)
{
	static const char *const BAD[] = {
	    "",    "../sizes",
	    "a/b", "a?b=1",
	    "a b", "0123456789012345678901234567890123456789012345678901234567890123456789"};
	struct config cfg;
	struct provider_ctx ctx = {.cfg = &cfg};

	fake_reset();
	load(&cfg);
	for (size_t i = 0; i < NPROV; i++) {
		const struct provider *p = provider_find(NAMES[i]);

		for (size_t b = 0; b < sizeof(BAD) / sizeof(BAD[0]); b++) {
			struct provider_instance inst;
			struct cd_error e = {0};

			CU_ASSERT_EQUAL(p->status(&ctx, BAD[b], &inst, &e), CD_INVALID);
			CU_ASSERT_STRING_EQUAL(e.field, "provider_id");
			CU_ASSERT_EQUAL(p->stop(&ctx, BAD[b], &e), CD_INVALID);
			CU_ASSERT_EQUAL(p->destroy(&ctx, BAD[b], &e), CD_INVALID);
		}
		EXPECT_INT(fake_calls(NAMES[i], NULL), 0);
	}
	config_free(&cfg);
}

static CU_TestInfo TESTS[] = {
    {"config_keys", test_config_keys},
    {"not_configured", test_not_configured},
    {"availability_offers", test_availability_offers},
    {"round_trip", test_round_trip},
    {"429_once", test_429_once},
    {"500_always", test_500_always},
    {"slow", test_slow},
    {"no_capacity", test_no_capacity},
    {"wrong_key", test_wrong_key},
    {"key_never_leaks", test_key_never_leaks},
    {"limits", test_limits},
    {"threads", test_threads},
    {"bad_id", test_bad_id},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite s = {.name = "providers", .tenant_prefix = "prov"};

	return suite_run(&s, TESTS);
}

/* test_runtimes.c -- the runtime routes (DESIGN 6) through nginx against the
 * real stack of tests/http/run-integration and tools/fake-provider (its
 * control routes at the root of $CONDUCTOR_RUNPOD_API_URL's host).
 *
 * The stack's conductor-fcgi runs with the pools, streams and providers
 * run-integration gives it (RUNTIME_ENV there): pools rta (stream rt:a, 24
 * GB: DigitalOcean's L40S is the cheapest), rtb..rte (capabilities, 24 or
 * 80 GB: only RunPod's A100 fits 80), providers runpod,digitalocean,manual,
 * and CONDUCTOR_PROVIDER_TIMEOUT_MS=2000.
 *
 * Covers: ensure under 8 concurrent callers -> one instance (201 once, 200
 * with the same id for the others); ensure with the provider answering 429
 * once -> one instance; every provider failing (500) -> 502 provider_error
 * naming the provider and its HTTP status, a spawn_failed event, no instance
 * running; a slow provider -> the request ends within the provider budget;
 * stop / destroy round trip at the fake and in GET /v1/runtimes, 409 when
 * the state does not allow it, 404 runtime_not_found; manual registration,
 * bad bodies -> 400 naming the field; GET /v1/status with streams (entries
 * pushed and left pending), pools and events; roles (an operator of any
 * tenant and admin act, readonly reads, submitter is refused).
 *
 * Runtimes are global: each test uses pools of its own, and the suite starts
 * from no instance and no machine. RUNTIMES_ONLY=name[,name] runs only those.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "../cutest.h"
#include "base/config.h"
#include "base/json.h"
#include "expect.h"

#define ENSURE_CALLERS 8

static struct tenant *T; /* the suite's tenant: operator, readonly, submitter */

/* Once, before the first test that runs: the tenant, no manual machine
 * (the suites before leave some, which would be offers), a fake at rest. */
static void setup(void);

/* ---- the fake provider ------------------------------------------------------- */

/* Every provider back to answering normally. The fake is reset (its
 * instances forgotten) only once, in setup(): it numbers droplets from the
 * same id again, and an id already recorded could not be recorded twice. */
static void fake_ok(void)
{
	json_object_put(
	    fake_call("POST", "/_fake/mode", "{\"runpod\": \"ok\", \"digitalocean\": \"ok\"}"));
}

/* body: {"runpod": MODE, ...} */
static void fake_mode(const char *body)
{
	json_object_put(fake_call("POST", "/_fake/mode", body));
}

/* The fake's instances of provider ("runpod": pods, "digitalocean":
 * droplets) whose name starts with prefix. out (may be NULL): the last
 * one's status ("RUNNING", "EXITED", "active", "off"). */
static size_t fake_count(const char *provider, const char *prefix, char *out, size_t cap)
{
	struct json_object *st = fake_call("GET", "/_fake/state", NULL);
	bool rp = strcmp(provider, "runpod") == 0;
	struct json_object *v = obj_at(obj_at(st, provider), rp ? "pods" : "droplets");
	size_t n = 0;

	for (size_t i = 0; i < len_of(v); i++) {
		struct json_object *it = item_at(v, i);

		if (strncmp(str_at(it, "name"), prefix, strlen(prefix)) != 0)
			continue;
		n++;
		if (out != NULL)
			snprintf(out, cap, "%s", str_at(it, rp ? "desiredStatus" : "status"));
	}
	json_object_put(st);
	return n;
}

static void setup(void)
{
	if (T != NULL)
		return;
	T = tenant_new("rt");
	CU_ASSERT_PTR_NOT_NULL_FATAL(T);
	pg_cmd(NULL, "DELETE FROM runtime_machines", NULL);
	json_object_put(fake_call("POST", "/_fake/reset", NULL));
}

/* ---- helpers ------------------------------------------------------------------ */

static struct http_resp ensure(const char *token, const char *pool)
{
	return callf("POST", "/v1/runtimes/ensure", token, "{\"pool\":\"%s\"}", pool);
}

static long long live_of(const char *pool)
{
	return pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
	              " AND state IN ('starting', 'running', 'stopping', 'stopped')",
	              pool, NULL);
}

/* POST /v1/runtimes/<id>/<verb> as the suite's operator. */
static struct http_resp act(const char *id, const char *verb)
{
	char *path = fmt("/v1/runtimes/%s/%s", id, verb);
	struct http_resp r = call("POST", path, T->operator, NULL, NULL);

	free(path);
	return r;
}

/* The state of instance id in GET /v1/runtimes ("" when absent). */
static void listed_state(const char *id, char *out, size_t cap)
{
	struct http_resp r = call("GET", "/v1/runtimes?limit=500", T->reader, NULL, NULL);
	struct json_object *items = obj_at(data_of(&r), "items");

	out[0] = '\0';
	for (size_t i = 0; i < len_of(items); i++)
		if (strcmp(str_at(item_at(items, i), "id"), id) == 0)
			snprintf(out, cap, "%s", str_at(item_at(items, i), "state"));
	http_resp_free(&r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ensure ------------------------------------------------------------------- */

struct ensurer {
	pthread_barrier_t *start;
	long status;
	char id[IDLEN];
};

static void *ensure_one(void *arg)
{
	struct ensurer *c = arg;
	const char *body = "{\"pool\":\"rta\"}";
	struct http_resp r;

	pthread_barrier_wait(c->start);
	if (http_do("POST", "/v1/runtimes/ensure", T->operator, body, strlen(body), NULL, &r) ==
	    0) {
		c->status = r.status;
		snprintf(c->id, sizeof(c->id), "%s", str_at(data_of(&r), "id"));
		http_resp_free(&r);
	}
	return NULL;
}

/* 8 callers at once through nginx: one instance is started (one 201), the
 * others get it (200, the same id); the fake holds one droplet. */
static void test_ensure_concurrent_one_instance(void)
{
	struct ensurer c[ENSURE_CALLERS];
	pthread_t th[ENSURE_CALLERS];
	pthread_barrier_t start;
	int created = 0, ok = 0;

	setup();
	fake_ok();
	memset(c, 0, sizeof(c));
	pthread_barrier_init(&start, NULL, ENSURE_CALLERS);
	for (int i = 0; i < ENSURE_CALLERS; i++) {
		c[i].start = &start;
		pthread_create(&th[i], NULL, ensure_one, &c[i]);
	}
	for (int i = 0; i < ENSURE_CALLERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < ENSURE_CALLERS; i++) {
		created += c[i].status == 201;
		ok += c[i].status == 200;
		EXPECT_STR(c[i].id, c[0].id);
	}
	EXPECT_INT(created, 1);
	EXPECT_INT(ok, ENSURE_CALLERS - 1);
	EXPECT_INT(live_of("rta"), 1);
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = 'rta'", NULL), 1);
	EXPECT_INT((int64_t)fake_count("digitalocean", "rta-", NULL, 0), 1);
	EXPECT_INT((int64_t)fake_count("runpod", "rta-", NULL, 0), 0);

	/* and once it runs, ensure answers it: 200, same id, running */
	struct http_resp r = ensure(T->operator, "rta");

	EXPECT_STATUS(r, 200);
	EXPECT_STR(str_at(data_of(&r), "id"), c[0].id);
	EXPECT_STR(str_at(data_of(&r), "state"), "running");
	EXPECT_STR(str_at(data_of(&r), "provider"), "digitalocean");
	http_resp_free(&r);
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_events WHERE kind = 'spawn'"
	                  " AND data->>'pool' = 'rta' AND data->>'actor' = 'api'"
	                  " AND data->'offers' IS NOT NULL AND data->>'price_per_hour' IS NOT NULL",
	                  NULL),
	           1);
}

/* RunPod answers 429 once: retried within the call, one pod, one instance. */
static void test_ensure_429_once(void)
{
	struct http_resp r;

	setup();
	fake_ok();
	fake_mode("{\"runpod\": \"429_once\"}");
	r = ensure(T->operator, "rtb");
	EXPECT_STATUS(r, 201);
	EXPECT_STR(str_at(data_of(&r), "provider"), "runpod");
	EXPECT_STR(str_at(data_of(&r), "state"), "running");
	http_resp_free(&r);
	EXPECT_INT((int64_t)fake_count("runpod", "rtb-", NULL, 0), 1);
	EXPECT_INT(live_of("rtb"), 1);
}

/* Every provider answers 500: 502 provider_error naming a provider and the
 * status, a spawn_failed event, no instance live; nothing at the fake. */
static void test_ensure_providers_fail(void)
{
	struct http_resp r;

	setup();
	fake_ok();
	fake_mode("{\"runpod\": \"500\", \"digitalocean\": \"500\"}");
	r = ensure(T->operator, "rtd");
	EXPECT_ERROR(r, 502, "provider_error");
	CU_ASSERT(strcmp(field_of(&r), "runpod") == 0 || strcmp(field_of(&r), "digitalocean") == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(str_at(r.json, "message"), "HTTP 500"));
	http_resp_free(&r);
	fake_ok();
	EXPECT_INT(live_of("rtd"), 0);
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = 'rtd'"
	                  " AND state = 'failed'",
	                  NULL),
	           1);
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_events WHERE kind = 'spawn_failed'"
	                  " AND data->>'pool' = 'rtd' AND jsonb_array_length(data->'tried') >= 2",
	                  NULL),
	           1);
	EXPECT_INT((int64_t)fake_count("runpod", "rtd-", NULL, 0), 0);
}

/* Every provider slow (10 s a call): the request ends within the provider
 * budget (2 s a call, CONDUCTOR_PROVIDER_TIMEOUT_MS), far below nginx's
 * 60 s: 502, no instance live. */
static void test_ensure_slow_provider_bounded(void)
{
	struct http_resp r;
	double t0, took;

	setup();
	fake_ok();
	fake_mode("{\"runpod\": \"slow\", \"digitalocean\": \"slow\", \"slow_ms\": 10000}");
	t0 = now_s();
	r = ensure(T->operator, "rte");
	took = now_s() - t0;
	fake_ok();
	EXPECT_ERROR(r, 502, "provider_error");
	CU_ASSERT(took < 8.0);
	if (took >= 8.0)
		fprintf(stderr, "test_runtimes: a slow provider took %.1f s\n", took);
	http_resp_free(&r);
	EXPECT_INT(live_of("rte"), 0);
}

static void test_ensure_bad_input(void)
{
	struct http_resp r;

	setup();
	EXPECT_REFUSED(T->operator, "POST", "/v1/runtimes/ensure", "{}", "pool");
	EXPECT_REFUSED(T->operator, "POST", "/v1/runtimes/ensure", "{\"pool\": 3}", "pool");
	EXPECT_REFUSED(T->operator, "POST", "/v1/runtimes/ensure", "{\"pool\":\"rta\",\"x\":1}",
	               "x");
	r = ensure(T->operator, "nosuchpool");
	EXPECT_ERROR(r, 404, "pool_not_found");
	EXPECT_STR(field_of(&r), "pool");
	http_resp_free(&r);
}

/* ---- stop and destroy --------------------------------------------------------- */

static void test_stop_destroy_round_trip(void)
{
	struct http_resp r;
	char id[IDLEN], st[32];

	setup();
	fake_ok();
	r = ensure(T->operator, "rtc");
	EXPECT_STATUS(r, 201);
	snprintf(id, sizeof(id), "%s", str_at(data_of(&r), "id"));
	http_resp_free(&r);

	r = act(id, "stop");
	EXPECT_STATUS(r, 200);
	EXPECT_STR(str_at(data_of(&r), "state"), "stopped");
	http_resp_free(&r);
	EXPECT_INT((int64_t)fake_count("digitalocean", "rtc-", st, sizeof(st)), 1);
	EXPECT_STR(st, "off");
	listed_state(id, st, sizeof(st));
	EXPECT_STR(st, "stopped");

	r = act(id, "stop"); /* stopped already */
	EXPECT_ERROR(r, 409, "invalid_state");
	EXPECT_STR(field_of(&r), "state");
	http_resp_free(&r);

	r = act(id, "destroy");
	EXPECT_STATUS(r, 200);
	EXPECT_STR(str_at(data_of(&r), "state"), "destroyed");
	http_resp_free(&r);
	EXPECT_INT((int64_t)fake_count("digitalocean", "rtc-", NULL, 0), 0);
	listed_state(id, st, sizeof(st));
	EXPECT_STR(st, "destroyed");

	r = act(id, "destroy");
	EXPECT_ERROR(r, 409, "invalid_state");
	http_resp_free(&r);
	r = act("999999999", "stop");
	EXPECT_ERROR(r, 404, "runtime_not_found");
	http_resp_free(&r);
	r = act("abc", "destroy");
	EXPECT_ERROR(r, 404, "runtime_not_found");
	http_resp_free(&r);
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_events WHERE instance_id = $1::bigint"
	                  " AND kind IN ('stop', 'teardown') AND data->>'actor' = 'api'",
	                  id, NULL),
	           2);

	/* the pool is free again: ensure starts a new one */
	r = ensure(T->operator, "rtc");
	EXPECT_STATUS(r, 201);
	CU_ASSERT(strcmp(str_at(data_of(&r), "id"), id) != 0);
	http_resp_free(&r);
}

/* A provider failing on stop: 502 naming it, the instance still running. */
static void test_stop_provider_fails(void)
{
	struct http_resp r;
	char id[IDLEN], st[32];

	setup();
	r = ensure(T->operator, "rtc"); /* the one test_stop_destroy_round_trip left, or new */
	CU_ASSERT(r.status == 200 || r.status == 201);
	snprintf(id, sizeof(id), "%s", str_at(data_of(&r), "id"));
	http_resp_free(&r);
	fake_mode("{\"digitalocean\": \"500\"}");
	r = act(id, "stop");
	fake_mode("{\"digitalocean\": \"ok\"}");
	EXPECT_ERROR(r, 502, "provider_error");
	EXPECT_STR(field_of(&r), "digitalocean");
	http_resp_free(&r);
	listed_state(id, st, sizeof(st));
	EXPECT_STR(st, "running");
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_events WHERE instance_id = $1::bigint"
	                  " AND kind = 'stop_failed'",
	                  id, NULL),
	           1);
}

/* ---- manual machines ---------------------------------------------------------- */

/* Bodies POST /v1/runtimes/manual refuses, and the field it names. */
static const struct {
	const char *body, *field;
} BAD_MACHINES[] = {
    {"{\"gpu\":\"x\",\"gpu_mem_gb\":1,\"price_per_hour\":1}", "name"},
    {"{\"name\":\"-bad\",\"gpu\":\"x\",\"gpu_mem_gb\":1,\"price_per_hour\":1}", "name"},
    {"{\"name\":\"a b\",\"gpu\":\"x\",\"gpu_mem_gb\":1,\"price_per_hour\":1}", "name"},
    {"{\"name\":\"ok\",\"gpu_mem_gb\":1,\"price_per_hour\":1}", "gpu"},
    {"{\"name\":\"ok\",\"gpu\":\"x\",\"gpu_mem_gb\":\"48\",\"price_per_hour\":1}", "gpu_mem_gb"},
    {"{\"name\":\"ok\",\"gpu\":\"x\",\"gpu_mem_gb\":0,\"price_per_hour\":1}", "gpu_mem_gb"},
    {"{\"name\":\"ok\",\"gpu\":\"x\",\"gpu_mem_gb\":8,\"price_per_hour\":-1}", "price_per_hour"},
    {"{\"name\":\"ok\",\"gpu\":\"x\",\"gpu_mem_gb\":8}", "price_per_hour"},
    {"{\"name\":\"ok\",\"gpu\":\"x\",\"gpu_mem_gb\":8,\"price_per_hour\":1,\"address\":7}",
     "address"},
    {"{\"name\":\"ok\",\"gpu\":\"x\",\"gpu_mem_gb\":8,\"price_per_hour\":1,\"extra\":true}",
     "extra"},
};

static void test_manual_register(void)
{
	const char *path = "/v1/runtimes/manual";
	struct http_resp r;

	setup();
	r = call("POST", path, T->operator,
	         "{\"name\":\"rt-box-1\",\"gpu\":\"A6000\",\"gpu_mem_gb\":48,"
	         "\"price_per_hour\":0.25,\"address\":\"10.0.0.5\"}",
	         NULL);
	EXPECT_STATUS(r, 201);
	EXPECT_STR(str_at(data_of(&r), "state"), "idle");
	EXPECT_INT(int_at(data_of(&r), "gpu_mem_gb"), 48);
	http_resp_free(&r);

	for (size_t i = 0; i < sizeof(BAD_MACHINES) / sizeof(BAD_MACHINES[0]); i++)
		EXPECT_REFUSED(T->operator, "POST", path, BAD_MACHINES[i].body,
		               BAD_MACHINES[i].field);
	EXPECT_INT(pg_int("SELECT count(*) FROM runtime_machines WHERE name = 'ok'", NULL), 0);
	/* not offered to anyone else: leave no idle machine behind */
	pg_cmd(NULL, "DELETE FROM runtime_machines WHERE name = 'rt-box-1'", NULL);
}

/* ---- roles -------------------------------------------------------------------- */

static void test_roles(void)
{
	struct tenant *other = tenant_new("other");
	const char *admin = getenv("CONDUCTOR_ADMIN_TOKEN");
	struct http_resp r;

	setup();
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	r = ensure(T->reader, "rta");
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = ensure(T->submitter, "rta");
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("GET", "/v1/runtimes", T->submitter, NULL, NULL);
	EXPECT_ERROR(r, 403, "forbidden");
	http_resp_free(&r);
	r = call("GET", "/v1/runtimes", T->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	/* runtimes are the system's: another tenant's operator, and admin, see
	 * the same instance */
	r = ensure(other->operator, "rta");
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	if (admin != NULL) {
		r = ensure(admin, "rta");
		EXPECT_STATUS(r, 200);
		http_resp_free(&r);
	}
	EXPECT_INT(live_of("rta"), 1);
	r = call("GET", "/v1/runtimes?limit=0", T->reader, NULL, NULL);
	EXPECT_ERROR(r, 400, "invalid_request");
	EXPECT_STR(field_of(&r), "limit");
	http_resp_free(&r);
}

/* ---- status ------------------------------------------------------------------- */

static redisContext *redis(void)
{
	struct redis_target rt;
	redisContext *c;

	CU_ASSERT_EQUAL_FATAL(config_parse_redis_url(getenv("CONDUCTOR_REDIS_URL"), &rt, NULL),
	                      CD_OK);
	c = rt.path[0] ? redisConnectUnix(rt.path) : redisConnect(rt.host, rt.port);
	CU_ASSERT_FATAL(c != NULL && c->err == 0);
	return c;
}

static void redis_do(redisContext *c, const char *cmd)
{
	freeReplyObject(redisCommand(c, cmd));
}

/* The item of arr whose key is value, or NULL. */
static struct json_object *find(struct json_object *arr, const char *key, const char *value)
{
	for (size_t i = 0; i < len_of(arr); i++)
		if (strcmp(str_at(item_at(arr, i), key), value) == 0)
			return item_at(arr, i);
	return NULL;
}

static void test_status_streams_pools_events(void)
{
	redisContext *c = redis();
	struct json_object *d, *s, *p;
	struct http_resp r;

	setup();
	r = ensure(T->operator, "rta"); /* idempotent: the pool's one instance */
	CU_ASSERT(r.status == 200 || r.status == 201);
	http_resp_free(&r);
	redis_do(c, "DEL rt:a");
	redis_do(c, "XADD rt:a 1000-0 k v");
	redis_do(c, "XADD rt:a * k v");
	redis_do(c, "XADD rt:a * k v");
	redis_do(c, "XGROUP CREATE rt:a workers 0");
	redis_do(c, "XREADGROUP GROUP workers w1 COUNT 2 STREAMS rt:a >");
	r = call("GET", "/v1/status", T->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	d = data_of(&r);
	EXPECT_STR(str_at(obj_at(d, "streams"), "redis"), "ok");
	s = find(obj_at(obj_at(d, "streams"), "items"), "stream", "rt:a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	EXPECT_INT(int_at(s, "depth"), 3);
	EXPECT_INT(int_at(s, "pending"), 2);
	CU_ASSERT(int_at(s, "oldest_pending_age_s") > 1000000); /* 1000-0: 1970 */
	s = find(obj_at(obj_at(d, "streams"), "items"), "stream", "rt:b");
	CU_ASSERT_PTR_NOT_NULL(s);
	EXPECT_INT(int_at(s, "depth"), 0);
	EXPECT_INT(int_at(s, "pending"), 0);
	EXPECT_INT(int_at(s, "oldest_pending_age_s"), 0);

	p = find(obj_at(d, "pools"), "pool", "rta");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	EXPECT_INT(int_at(p, "gpu_mem_gb"), 24);
	EXPECT_STR(json_object_get_string(item_at(obj_at(p, "streams"), 0)), "rt:a");
	EXPECT_INT((int64_t)len_of(obj_at(p, "instances")), 1);
	EXPECT_STR(str_at(item_at(obj_at(p, "instances"), 0), "provider"), "digitalocean");
	p = find(obj_at(d, "pools"), "pool", "rtd");
	CU_ASSERT_PTR_NOT_NULL(p);
	EXPECT_INT((int64_t)len_of(obj_at(p, "instances")), 0);
	CU_ASSERT(len_of(obj_at(obj_at(d, "runtime_events"), "items")) > 0);
	http_resp_free(&r);
	redis_do(c, "DEL rt:a");
	redisFree(c);
}

/* Redis down: the streams section says so, the rest answers 200. */
static void test_status_redis_down(void)
{
	redisContext *c = redis();
	char *cmd;
	struct http_resp r;

	setup();
	/* Stop Redis (its pid is the stack's), ask, start it again with the
	 * stack's own tool, which starts what is not running. */
	redis_do(c, "SHUTDOWN NOSAVE");
	redisFree(c);
	r = call("GET", "/v1/status", T->reader, NULL, NULL);
	EXPECT_STATUS(r, 200);
	EXPECT_STR(str_at(obj_at(data_of(&r), "streams"), "redis"), "unavailable");
	CU_ASSERT(null_at(obj_at(data_of(&r), "streams"), "items"));
	CU_ASSERT(is_array(obj_at(data_of(&r), "pools")));
	http_resp_free(&r);
	cmd = fmt("\"%s/tools/stack\" start \"%s\" >/dev/null 2>&1", getenv("top_srcdir"),
	          getenv("CONDUCTOR_STACK_DIR"));
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(cmd);
	r = call("GET", "/v1/status", T->reader, NULL, NULL);
	EXPECT_STR(str_at(obj_at(data_of(&r), "streams"), "redis"), "ok");
	http_resp_free(&r);
}

/* ---- the suite ---------------------------------------------------------------- */

static CU_TestInfo TESTS[] = {
    {"ensure_concurrent_one_instance", test_ensure_concurrent_one_instance},
    {"ensure_429_once", test_ensure_429_once},
    {"ensure_providers_fail", test_ensure_providers_fail},
    {"ensure_slow_provider_bounded", test_ensure_slow_provider_bounded},
    {"ensure_bad_input", test_ensure_bad_input},
    {"stop_destroy_round_trip", test_stop_destroy_round_trip},
    {"stop_provider_fails", test_stop_provider_fails},
    {"manual_register", test_manual_register},
    {"roles", test_roles},
    {"status_streams_pools_events", test_status_streams_pools_events},
    {"status_redis_down", test_status_redis_down},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite s = {
	    .name = "runtimes", .tenant_prefix = "runtimes", .control_roles = true};

	return suite_run(&s, TESTS);
}

/* test_watcher.c -- conductor-watcher's integration suite (DESIGN 6): real
 * PostgreSQL and Redis started by tests/http/run-integration (no watcher
 * loop), the real conductor-watcher binary run as a child process with the
 * stack's environment, and the `manual` provider (machines registered in
 * runtime_machines).
 *
 * Covers: demand over the threshold on two polls -> exactly one instance, at
 * the cheapest machine that fits, with the offers and the price in the
 * event; the poll count kept in PostgreSQL across processes and leader
 * terms; teardown after idle_s, none while an entry is pending; the cooldown
 * holding across watcher processes, and lifting once it passed; queued jobs
 * needing the pool's capability as demand, and a draining tenant never
 * spawning; nothing that fits -> spawn_failed, no instance left live; two
 * watchers started together -> one acts; two commits racing on the same
 * state -> one applies (through the data layer); bad configuration -> exit
 * 2 naming the key.
 *
 * Machines and instances are global (not per tenant): each test starts from
 * none (reset_runtimes) and uses pools and streams of its own.
 * WATCHER_ONLY=name[,name] runs only those tests.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "../cutest.h"
#include "../http/expect.h"
#include "../http/procs.h"
#include "base/config.h"
#include "base/pools.h"
#include "data/db.h"
#include "data/db_runtime.h"

/* ---- running the watcher ---------------------------------------------------- */

/* "CONDUCTOR_STREAMS=" every stream of the pools spec (a pool's streams
 * must be configured streams). New string. */
static char *streams_of(const char *pools)
{
	struct watch_policy *p = calloc(POOLS_MAX, sizeof(*p));
	char *out = fmt("CONDUCTOR_STREAMS="), *next;
	size_t n = 0;

	if (pools_parse(pools, p, POOLS_MAX, &n, NULL) != CD_OK)
		n = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < p[i].nstreams; s++) {
			next = fmt("%s%s%s", out, out[18] ? "," : "", p[i].streams[s]);
			free(out);
			out = next;
		}
	free(p);
	return out;
}

/* Starts conductor-watcher with pools (CONDUCTOR_POOLS), extra environment
 * (NULL-terminated "KEY=value" list, or NULL) and args; output appended to
 * log_path(log). */
static pid_t watcher_spawn(const char *log, const char *pools, const char *const *env,
			   const char *const *args)
{
	const char *bin = getenv("CONDUCTOR_WATCHER");
	char *pv = fmt("CONDUCTOR_POOLS=%s", pools), *sv = streams_of(pools);
	const char *all[16] = {pv, sv, "CONDUCTOR_PROVIDERS=manual", "CONDUCTOR_LOG_LEVEL=debug"};
	pid_t pid = -1;

	for (int i = 0, n = 4; env != NULL && env[i] != NULL && n < 15; i++)
		all[n++] = env[i];
	if (bin != NULL)
		pid = spawn_logged(log, O_APPEND, bin, args, all);
	else
		CU_FAIL("CONDUCTOR_WATCHER (the conductor-watcher binary) is not set");
	free(pv);
	free(sv);
	return pid;
}

/* One --once pass; returns its exit status. */
static int watcher_once(const char *log, const char *pools, const char *const *env)
{
	static const char *const once[] = {"--once", NULL};

	return wait_exit(watcher_spawn(log, pools, env, once));
}

/* ---- fixtures ---------------------------------------------------------------- */

static char TAG[16]; /* makes pool and stream names unique per run */

/* A name of this run: <what>-<tag>. New string. */
static char *named(const char *what)
{
	if (TAG[0] == '\0')
		snprintf(TAG, sizeof(TAG), "%lx", (unsigned long)time(NULL) % 0xfffff);
	return fmt("%s-%s", what, TAG);
}

/* The tenant of the pools (a pool counts its tenant's jobs and obeys its
 * mode; the suites before this one leave `default` paused or draining). */
static const char *own_tenant(void)
{
	static struct tenant *t;

	if (t == NULL)
		t = tenant_new("pools");
	return t != NULL ? t->name : "default";
}

/* No machine and no live instance, as a test starts. */
static void reset_runtimes(void)
{
	pg_cmd(NULL, "UPDATE runtime_instances SET state = 'destroyed'"
	       " WHERE state IN ('starting', 'running', 'stopping', 'stopped')", NULL);
	pg_cmd(NULL, "DELETE FROM runtime_machines", NULL);
}

/* Registers a machine through the data layer (as POST /v1/runtimes/manual
 * will); returns its id as text into id (24). */
static void machine(const char *name, const char *gpu, int mem, double price, char *id)
{
	struct runtime_machine m = {.gpu_mem_gb = mem, .price_per_hour = price};
	struct cd_error e;
	struct db *db = NULL;
	char *out = NULL;

	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.gpu, sizeof(m.gpu), "%s", gpu);
	CU_ASSERT_EQUAL_FATAL(db_open(getenv("CONDUCTOR_DATABASE_URL"), &db, &e), CD_OK);
	CU_ASSERT_EQUAL(db_runtime_machine_register(db, &m, "test", &out, &e), CD_OK);
	free(out);
	db_close(db);
	if (id != NULL)
		pg_str(id, 24, "SELECT id FROM runtime_machines WHERE name = $1", name, NULL);
}

static long long live_of(const char *pool)
{
	return pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
		      " AND state IN ('starting', 'running', 'stopping', 'stopped')",
		      pool, NULL);
}

static long long events_of(const char *pool, const char *kind)
{
	return pg_int("SELECT count(*) FROM runtime_events WHERE data->>'pool' = $1 AND kind = $2",
		      pool, kind, NULL);
}

/* n entries onto stream. */
static void push(redisContext *c, const char *stream, int n)
{
	for (int i = 0; i < n; i++)
		rdo(c, "XADD %s * body x%d source test", stream, i);
}

/* A running instance of pool on machine id, as an earlier spawn left it. */
static void running_instance(const char *pool, const char *machine_id)
{
	char *name = fmt("%s-seed", pool);

	CU_ASSERT_EQUAL(pg_cmd(NULL, "UPDATE runtime_machines SET state = 'running' WHERE id = $1",
			       machine_id, NULL),
			1);
	CU_ASSERT_EQUAL(pg_cmd(NULL, "INSERT INTO runtime_instances (pool, provider, provider_id,"
			       "  name, state, price_per_hour, started_at)"
			       " VALUES ($1, 'manual', $2, $3, 'running', 0.5, now())",
			       pool, machine_id, name, NULL),
			1);
	free(name);
}

/* The data layer's listings show pool's one live instance and its spawn. */
static void check_listings(const char *pool)
{
	struct json_object *o = NULL, *items, *it;
	struct cd_error e;
	struct db *db = NULL;
	char *text = NULL;
	bool seen = false;

	CU_ASSERT_EQUAL_FATAL(db_open(getenv("CONDUCTOR_DATABASE_URL"), &db, &e), CD_OK);
	CU_ASSERT_EQUAL(db_runtime_pools(db, &text, &e), CD_OK);
	o = json_tokener_parse(text ? text : "");
	items = obj_at(o, "items");
	for (size_t i = 0; i < len_of(items); i++) {
		it = item_at(items, i);
		if (strcmp(str_at(it, "pool"), pool) != 0)
			continue;
		seen = true;
		CU_ASSERT_STRING_EQUAL(str_at(it, "last_action"), "spawn");
		CU_ASSERT_EQUAL(len_of(obj_at(it, "instances")), 1);
		CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(it, "instances"), 0), "state"), "running");
	}
	CU_ASSERT(seen);
	json_object_put(o);
	free(text);
	CU_ASSERT_EQUAL(db_runtime_events_recent(db, 5, &text, &e), CD_OK);
	o = json_tokener_parse(text ? text : "");
	it = item_at(obj_at(o, "items"), 0);
	CU_ASSERT_STRING_EQUAL(str_at(it, "kind"), "spawn");
	CU_ASSERT_STRING_EQUAL(str_at(obj_at(it, "data"), "pool"), pool);
	json_object_put(o);
	free(text);
	CU_ASSERT_EQUAL(db_runtime_list(db, 1, &text, &e), CD_OK);
	o = json_tokener_parse(text ? text : "");
	CU_ASSERT_STRING_EQUAL(str_at(item_at(obj_at(o, "items"), 0), "pool"), pool);
	json_object_put(o);
	free(text);
	db_close(db);
}

/* What a test of one pool works with: a pool of its own serving stream
 * w:<pool> in the suite's tenant, Redis, and a world with no machine and no
 * live instance. */
struct fx {
	char *pool, *stream, *spec;
	redisContext *c;
};

/* Sets f up for pool what-<tag> with policy (pool keys beyond streams and
 * tenant); false (a failed assertion) when Redis does not answer. */
static bool fx_open(struct fx *f, const char *what, const char *policy)
{
	f->pool = named(what);
	f->stream = fmt("w:%s", f->pool);
	f->spec = fmt("%s:streams=%s,tenant=%s,%s", f->pool, f->stream, own_tenant(), policy);
	f->c = redis_open();
	reset_runtimes();
	CU_ASSERT_PTR_NOT_NULL(f->c);
	return f->c != NULL;
}

static void fx_close(struct fx *f)
{
	if (f->c != NULL)
		redisFree(f->c);
	free(f->spec);
	free(f->stream);
	free(f->pool);
}

/* ---- spawn --------------------------------------------------------------------- */

static void test_two_polls_over_one_instance_at_the_cheapest_fit(void)
{
	struct fx f;
	char cheap[24], term1[24];

	if (!fx_open(&f, "spawn", "spawn_threshold=3,gpu_mem_gb=20,max_instances=1,poll_s=1"))
		return;
	machine("t4", "T4", 16, 0.10, NULL); /* cheapest, but too small */
	machine("l4", "L4", 24, 0.50, cheap);
	machine("a100", "A100", 80, 1.20, NULL);
	push(f.c, f.stream, 3);

	/* one poll over: hold, and the count is in PostgreSQL */
	CU_ASSERT_EQUAL(watcher_once("spawn.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT over_polls FROM runtime_pools WHERE pool = $1", f.pool, NULL),
			1);
	pg_str(term1, sizeof(term1), "SELECT term FROM runtime_pools WHERE pool = $1", f.pool, NULL);

	/* a second process (a new term: --once gave the lease up) sees the
	 * second poll over: exactly one instance, on the cheapest that fits */
	CU_ASSERT_EQUAL(watcher_once("spawn.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND state = 'running' AND provider = 'manual' AND provider_id = $2"
			       " AND price_per_hour = 0.5 AND gpu = 'L4' AND started_at IS NOT NULL",
			       f.pool, cheap, NULL),
			1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_machines WHERE id = $1"
			       " AND state = 'running'",
			       cheap, NULL),
			1);
	/* the event: pool, reason, term, the choice, the price, every offer */
	CU_ASSERT_EQUAL(events_of(f.pool, "spawn"), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_events e JOIN runtime_instances i"
			       "    ON i.id = e.instance_id"
			       " WHERE e.kind = 'spawn' AND i.pool = $1"
			       "   AND e.data->>'provider' = 'manual' AND e.data->>'gpu' = 'L4'"
			       "   AND (e.data->>'price_per_hour')::numeric = 0.5"
			       "   AND jsonb_array_length(e.data->'offers') = 2" /* T4 does not fit */
			       "   AND e.data->'offers' @> '[{\"gpu\":\"A100\",\"fits\":true}]'"
			       "   AND e.data->>'reason' LIKE '%2 consecutive polls%'"
			       "   AND (e.data->>'term')::bigint > $2::bigint",
			       f.pool, term1, NULL),
			1);

	/* what GET /v1/status and GET /v1/runtimes read */
	check_listings(f.pool);

	/* demand stays: the count starts again, then max_instances holds */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(watcher_once("spawn.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	CU_ASSERT_EQUAL(events_of(f.pool, "spawn"), 1);
	fx_close(&f);
}

/* Makes the updates that trigger (a CREATE TRIGGER test_refuse ... WHEN
 * (...) head, without its EXECUTE) selects fail, as a refusing provider or
 * a failing database would. */
static void refuse_updates(const char *trigger)
{
	char *sql = fmt("%s EXECUTE FUNCTION test_refuse()", trigger);

	CU_ASSERT_EQUAL(pg_cmd(NULL, "CREATE FUNCTION test_refuse() RETURNS trigger"
			       " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
			       NULL),
			0);
	CU_ASSERT_EQUAL(pg_cmd(NULL, sql, NULL), 0);
	free(sql);
}

/* Undoes refuse_updates on table. */
static void allow_updates(const char *table)
{
	char *sql = fmt("DROP TRIGGER test_refuse ON %s", table);

	pg_cmd(NULL, sql, NULL);
	pg_cmd(NULL, "DROP FUNCTION test_refuse()", NULL);
	free(sql);
}

/* The cheapest offer fails to start (a trigger refuses to take that
 * machine, as a provider would refuse): the next cheapest starts, and the
 * event says what was tried. */
static void test_a_failed_start_falls_back_to_the_next_offer(void)
{
	struct fx f;
	char next[24];

	if (!fx_open(&f, "fallback", "poll_s=1"))
		return;
	machine("broken", "L4", 24, 0.20, NULL);
	machine("second", "L4", 24, 0.30, next);
	machine("third", "L4", 24, 0.40, NULL);
	refuse_updates("CREATE TRIGGER test_refuse BEFORE UPDATE ON runtime_machines FOR EACH ROW"
		       " WHEN (NEW.name = 'broken' AND NEW.state = 'running')");
	push(f.c, f.stream, 1);
	CU_ASSERT_EQUAL(watcher_once("fallback.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(watcher_once("fallback.log", f.spec, NULL), 0);
	allow_updates("runtime_machines");
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND state = 'running' AND provider_id = $2 AND price_per_hour = 0.3",
			       f.pool, next, NULL),
			1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_events WHERE kind = 'spawn'"
			       " AND data->>'pool' = $1 AND jsonb_array_length(data->'tried') = 1"
			       " AND data->'tried'->0->>'error' LIKE '%refused%'"
			       " AND jsonb_array_length(data->'offers') = 3",
			       f.pool, NULL),
			1);
	fx_close(&f);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* POSTs body to path of tools/fake-provider (its root is
 * $CONDUCTOR_RUNPOD_API_URL without /runpod/v1); asserts a 200. */
static void fake_post(const char *path, const char *body)
{
	const char *base = getenv("CONDUCTOR_RUNPOD_API_URL"), *end;
	char url[512];
	long status = 0;
	CURL *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	end = strstr(base, "/runpod/v1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	snprintf(url, sizeof(url), "%.*s%s", (int)(end - base), base, path);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CU_ASSERT_EQUAL(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	CU_ASSERT_EQUAL(status, 200);
	curl_easy_cleanup(c);
}

/* Through tools/fake-provider's catalogue: for 24 GB DigitalOcean's L40S
 * (0.59/h) beats RunPod's RTX 4090 (0.69/h) and a manual machine (0.99/h);
 * with DigitalOcean out of capacity RunPod wins; a 429 answered once still
 * gives one instance. */
static void test_the_cheapest_available_provider_wins(void)
{
	static const char *const all[] = {"CONDUCTOR_PROVIDERS=runpod,digitalocean,manual", NULL};
	static const char *const kinds[] = {"cheapest", "nocap", "throttled"};
	static const char *const modes[] = {"{}", "{\"digitalocean\":\"no_capacity\"}",
					    "{\"digitalocean\":\"no_capacity\",\"runpod\":\"429_once\"}"};
	static const char *const want[] = {"digitalocean", "runpod", "runpod"};

	for (int i = 0; i < 3; i++) {
		struct fx f;

		if (!fx_open(&f, kinds[i], "gpu_mem_gb=24,poll_s=1"))
			return;
		machine("pricey", "L40S", 48, 0.99, NULL);
		fake_post("/_fake/reset", "{}");
		fake_post("/_fake/mode", modes[i]);
		push(f.c, f.stream, 1);
		CU_ASSERT_EQUAL(watcher_once("cheapest.log", f.spec, all), 0);
		CU_ASSERT_EQUAL(watcher_once("cheapest.log", f.spec, all), 0);
		CU_ASSERT_EQUAL(live_of(f.pool), 1);
		CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
				       " AND state = 'running' AND provider = $2",
				       f.pool, want[i], NULL),
				1);
		CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_events WHERE kind = 'spawn'"
				       " AND data->>'pool' = $1 AND data->>'provider' = $2"
				       " AND data->'offers' @> '[{\"provider\":\"manual\"}]'",
				       f.pool, want[i], NULL),
				1);
		if (i == 0) /* the L40S at its price, with 4 decimals */
			CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_events WHERE kind = 'spawn'"
					       " AND data->>'pool' = $1 AND data->>'gpu' = 'gpu-l40sx1-48gb'"
					       " AND data->>'price_per_hour' = '0.5900'",
					       f.pool, NULL),
					1);
		fx_close(&f);
	}
	fake_post("/_fake/reset", "{}");
}

/* The provider started it but PostgreSQL refused to record it (a trigger
 * here): the watcher gives the instance back rather than leave one billing
 * that nobody knows of. */
static void test_an_unrecorded_instance_is_destroyed(void)
{
	struct fx f;
	char id[24];

	if (!fx_open(&f, "unrecorded", "poll_s=1"))
		return;
	machine("lonely", "L4", 24, 0.5, id);
	refuse_updates("CREATE TRIGGER test_refuse BEFORE UPDATE ON runtime_instances FOR EACH ROW"
		       " WHEN (OLD.provider IS NULL AND NEW.provider IS NOT NULL)");
	push(f.c, f.stream, 1);
	CU_ASSERT_EQUAL(watcher_once("unrecorded.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(watcher_once("unrecorded.log", f.spec, NULL), 0);
	allow_updates("runtime_instances");
	CU_ASSERT_EQUAL(live_of(f.pool), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_machines WHERE id = $1"
			       " AND state = 'idle'",
			       id, NULL),
			1);
	CU_ASSERT_EQUAL(events_of(f.pool, "spawn_failed"), 1);
	fx_close(&f);
}

static void test_nothing_fits_spawn_failed_nothing_live(void)
{
	struct fx f;

	if (!fx_open(&f, "nofit", "gpu_mem_gb=40,poll_s=1"))
		return;
	machine("small", "T4", 16, 0.10, NULL);
	push(f.c, f.stream, 1);
	CU_ASSERT_EQUAL(watcher_once("nofit.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(watcher_once("nofit.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 0);
	CU_ASSERT_EQUAL(events_of(f.pool, "spawn_failed"), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND state = 'failed' AND last_status LIKE 'no provider offered%'",
			       f.pool, NULL),
			1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_machines WHERE state = 'idle'", NULL),
			1);
	fx_close(&f);
}

static void test_a_pool_is_polled_every_poll_s(void)
{
	struct fx f;

	if (!fx_open(&f, "slow", "poll_s=3600"))
		return;
	machine("slow-box", "L4", 24, 0.5, NULL);
	push(f.c, f.stream, 1);
	CU_ASSERT_EQUAL(watcher_once("slow.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT over_polls FROM runtime_pools WHERE pool = $1", f.pool, NULL),
			1);
	/* not due: the second pass leaves the pool alone */
	CU_ASSERT_EQUAL(watcher_once("slow.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT over_polls FROM runtime_pools WHERE pool = $1", f.pool, NULL),
			1);
	CU_ASSERT_EQUAL(live_of(f.pool), 0);
	/* an hour later it is polled again: the second poll over spawns */
	pg_cmd(NULL, "UPDATE runtime_pools SET last_poll_at = now() - interval '3600 s'"
	       " WHERE pool = $1", f.pool, NULL);
	CU_ASSERT_EQUAL(watcher_once("slow.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	fx_close(&f);
}

/* ---- teardown and cooldown ----------------------------------------------------- */

static void test_teardown_after_idle_none_while_pending(void)
{
	struct fx f;
	char id[24];
	redisReply *r;

	if (!fx_open(&f, "idle", "spawn_threshold=100,idle_s=2,poll_s=1"))
		return;
	machine("idle-box", "L4", 24, 0.5, id);
	running_instance(f.pool, id);

	/* one entry delivered to a worker and not acked; the stream itself
	 * emptied (XDEL): XLEN 0, pending 1 */
	rdo(f.c, "XGROUP CREATE %s workers $ MKSTREAM", f.stream);
	push(f.c, f.stream, 1);
	r = redisCommand(f.c, "XREADGROUP GROUP workers w1 COUNT 1 STREAMS %s >", f.stream);
	CU_ASSERT(r != NULL && r->type == REDIS_REPLY_ARRAY);
	freeReplyObject(r);
	r = redisCommand(f.c, "XRANGE %s - +", f.stream);
	CU_ASSERT_FATAL(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
	rdo(f.c, "XDEL %s %s", f.stream, r->element[0]->element[0]->str);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(watcher_once("idle.log", f.spec, NULL), 0);
		sleep(1);
	}
	CU_ASSERT_EQUAL(live_of(f.pool), 1); /* 3 s > idle_s, but an entry is pending */
	CU_ASSERT_EQUAL(events_of(f.pool, "teardown"), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT (idle_since IS NULL)::int FROM runtime_pools WHERE pool = $1",
			       f.pool, NULL),
			1);

	/* acked: idle from now on; torn down once idle_s passed */
	rdo(f.c, "XACK %s workers %s", f.stream, r->element[0]->element[0]->str);
	freeReplyObject(r);
	CU_ASSERT_EQUAL(watcher_once("idle.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	sleep(3);
	CU_ASSERT_EQUAL(watcher_once("idle.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 0);
	CU_ASSERT_EQUAL(events_of(f.pool, "teardown"), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND state = 'destroyed' AND stopped_at IS NOT NULL",
			       f.pool, NULL),
			1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_machines WHERE id = $1"
			       " AND state = 'idle'",
			       id, NULL),
			1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_events WHERE kind = 'teardown'"
			       " AND data->>'pool' = $1 AND (data->>'term')::bigint > 0"
			       " AND data->>'reason' LIKE 'no demand for%'",
			       f.pool, NULL),
			1);
	fx_close(&f);
}

static void test_cooldown_holds_across_processes_then_lifts(void)
{
	struct fx f;
	char id[24];

	if (!fx_open(&f, "cool", "idle_s=0,cooldown_s=3600,poll_s=1,max_instances=2"))
		return;
	machine("cool-box", "L4", 24, 0.5, id);
	running_instance(f.pool, id);

	/* one process tears down */
	CU_ASSERT_EQUAL(watcher_once("cool.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(events_of(f.pool, "teardown"), 1);
	CU_ASSERT_EQUAL(live_of(f.pool), 0);

	/* demand comes back: new processes poll over and over, none spawns */
	push(f.c, f.stream, 5);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(watcher_once("cool.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 0);
	CU_ASSERT_EQUAL(events_of(f.pool, "spawn"), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT (last_reason LIKE '%cooling down%')::int FROM runtime_pools"
			       " WHERE pool = $1",
			       f.pool, NULL),
			1);

	/* an hour later (what time would do): the next poll spawns */
	pg_cmd(NULL, "UPDATE runtime_pools SET last_teardown_at = now() - interval '3601 s'"
	       " WHERE pool = $1", f.pool, NULL);
	CU_ASSERT_EQUAL(watcher_once("cool.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	CU_ASSERT_EQUAL(events_of(f.pool, "spawn"), 1);
	/* on the same machine again: its id names a live instance once more */
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND state = 'running' AND provider_id = $2",
			       f.pool, id, NULL),
			1);
	fx_close(&f);
}

/* A manual machine the operator removed: its instance is gone at its
 * provider, so it is recorded destroyed, no longer holds a slot, and the
 * demand gets another machine. */
static void test_an_instance_gone_at_its_provider_is_forgotten(void)
{
	struct fx f;
	char old[24], other[24];

	if (!fx_open(&f, "vanish", "poll_s=1,max_instances=1,idle_s=3600"))
		return;
	machine("vanishing", "L4", 24, 0.5, old);
	machine("spare", "L4", 24, 0.6, other);
	running_instance(f.pool, old);
	push(f.c, f.stream, 1);
	CU_ASSERT_EQUAL(watcher_once("vanish.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(events_of(f.pool, "gone"), 0); /* it answers: still running */
	CU_ASSERT_EQUAL(pg_cmd(NULL, "DELETE FROM runtime_machines WHERE id = $1", old, NULL), 1);
	CU_ASSERT_EQUAL(watcher_once("vanish.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(events_of(f.pool, "gone"), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND provider_id = $2 AND state = 'destroyed'"
			       " AND last_status = 'provider: gone' AND stopped_at IS NOT NULL",
			       f.pool, old, NULL),
			1);
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1"
			       " AND provider_id = $2 AND state = 'running'",
			       f.pool, other, NULL),
			1);
	fx_close(&f);
}

/* ---- demand from jobs, draining --------------------------------------------- */

static void test_queued_jobs_are_demand_draining_never_spawns(void)
{
	struct tenant *t = tenant_new("drain");
	char *pool = named("jobs"), *cap = named("gpu"), *spec;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	reset_runtimes();
	machine("jobs-box", "L4", 24, 0.5, NULL);
	spec = fmt("%s:capability=%s,tenant=%s,spawn_threshold=2,poll_s=1", pool, cap, t->name);
	for (int i = 0; i < 2; i++) {
		struct http_resp r = callf("POST", "/v1/fleet/jobs", t->submitter,
					   "{\"body\":\"b\",\"capabilities\":[\"%s\"]}", cap);

		CU_ASSERT_EQUAL(r.status, 201);
		http_resp_free(&r);
	}
	CU_ASSERT_EQUAL(pg_cmd(NULL, "INSERT INTO system_modes (tenant_id, mode) VALUES ($1,"
			       " 'draining')",
			       t->tid, NULL),
			1);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(watcher_once("drain.log", spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(pool), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT (last_reason LIKE '%draining%' AND last_demand = 2)::int"
			       " FROM runtime_pools WHERE pool = $1",
			       pool, NULL),
			1);
	/* running again: the jobs still wait, the next poll spawns */
	pg_cmd(NULL, "UPDATE system_modes SET mode = 'running' WHERE tenant_id = $1", t->tid, NULL);
	CU_ASSERT_EQUAL(watcher_once("drain.log", spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(pool), 1);
	free(spec);
	free(cap);
	free(pool);
}

/* ---- one acts ------------------------------------------------------------------ */

static void test_two_watchers_started_together_one_acts(void)
{
	static const char *const loop[] = {"--interval", "1", NULL};
	struct fx f;
	pid_t a, b;
	bool a_stood, b_stood;

	if (!fx_open(&f, "pair", "poll_s=1,max_instances=4"))
		return;
	for (int i = 0; i < 4; i++) {
		char *n = fmt("pair-%d", i);

		machine(n, "L4", 24, 0.5, NULL);
		free(n);
	}
	push(f.c, f.stream, 10);
	pg_cmd(NULL, "UPDATE leader_leases SET lease_expires_at = now()"
	       " WHERE tenant_id = 0 AND name = 'watcher'", NULL);
	log_reset("pair-a.log");
	log_reset("pair-b.log");
	a = watcher_spawn("pair-a.log", f.spec, NULL, loop);
	b = watcher_spawn("pair-b.log", f.spec, NULL, loop);
	usleep(2500 * 1000);
	kill(a, SIGTERM);
	kill(b, SIGTERM);
	CU_ASSERT_EQUAL(wait_exit(a), 0);
	CU_ASSERT_EQUAL(wait_exit(b), 0);
	a_stood = log_has("pair-a.log", "standing by");
	b_stood = log_has("pair-b.log", "standing by");
	CU_ASSERT(a_stood != b_stood); /* exactly one stood by the whole time */
	CU_ASSERT(!(a_stood && log_has("pair-a.log", "\"spawned\"")));
	CU_ASSERT(!(b_stood && log_has("pair-b.log", "\"spawned\"")));
	/* polls at about 0, 1, 2 s: the second spawned, the third counted one */
	CU_ASSERT_EQUAL(live_of(f.pool), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(DISTINCT data->>'term') FROM runtime_events"
			       " WHERE data->>'pool' = $1",
			       f.pool, NULL),
			1);
	fx_close(&f);
}

/* Two watchers that read the same state at once, through the data layer. */
struct racer {
	const char *pool;
	pthread_barrier_t *go;
	struct runtime_pool_outcome out;
	enum cd_err rc;
};

static void *race_commit(void *arg)
{
	struct racer *r = arg;
	struct runtime_pool_row row;
	struct cd_error e;
	struct db *db = NULL;
	char name[96];

	r->rc = db_open(getenv("CONDUCTOR_DATABASE_URL"), &db, &e);
	if (r->rc == CD_OK)
		r->rc = db_runtime_pool_load(db, r->pool, &row, &e);
	pthread_barrier_wait(r->go); /* both have read the same rev */
	snprintf(name, sizeof(name), "%s-%" PRId64 "-%p", r->pool, row.rev, (void *)r);
	struct runtime_pool_write w = {.pool = r->pool, .rev = row.rev, .term = 1,
				       .action = "spawn", .reason = "race", .max_instances = 100,
				       .name = name};
	if (r->rc == CD_OK)
		r->rc = db_runtime_pool_commit(db, &w, &r->out, &e);
	db_close(db);
	return NULL;
}

static void test_two_commits_on_the_same_state_one_applies(void)
{
	char *pool = named("race");

	for (int round = 0; round < 10; round++) {
		struct racer r[2] = {{.pool = pool}, {.pool = pool}};
		pthread_barrier_t go;
		pthread_t th[2];

		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++) {
			r[i].go = &go;
			pthread_create(&th[i], NULL, race_commit, &r[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		CU_ASSERT_EQUAL(r[0].rc, CD_OK);
		CU_ASSERT_EQUAL(r[1].rc, CD_OK);
		CU_ASSERT_EQUAL(r[0].out.applied + r[1].out.applied, 1);
	}
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE pool = $1", pool, NULL),
			10);
	CU_ASSERT_EQUAL(pg_int("SELECT rev FROM runtime_pools WHERE pool = $1", pool, NULL), 10);
	pg_cmd(NULL, "UPDATE runtime_instances SET state = 'failed' WHERE pool = $1", pool, NULL);
	free(pool);
}

/* A watcher killed between its reservation and the provider's answer left a
 * `starting` row: after ABANDONED_AFTER_S it no longer holds a slot. */
static void test_an_abandoned_reservation_is_settled(void)
{
	struct fx f;
	char *name;

	if (!fx_open(&f, "gone", "poll_s=1,max_instances=1"))
		return;
	name = fmt("%s-x", f.pool);
	machine("gone-box", "L4", 24, 0.5, NULL);
	CU_ASSERT_EQUAL(pg_cmd(NULL, "INSERT INTO runtime_instances (pool, name, created_at)"
			       " VALUES ($1, $2, now() - interval '11 minutes')",
			       f.pool, name, NULL),
			1);
	push(f.c, f.stream, 1);
	CU_ASSERT_EQUAL(watcher_once("gone.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_instances WHERE name = $1"
			       " AND state = 'failed' AND last_status LIKE 'abandoned%'",
			       name, NULL),
			1);
	CU_ASSERT_EQUAL(watcher_once("gone.log", f.spec, NULL), 0);
	CU_ASSERT_EQUAL(live_of(f.pool), 1); /* the slot was free again */
	free(name);
	fx_close(&f);
}

/* A spawn decided on a stale count (an ensure got there between the read
 * and the commit) reserves nothing past max_instances. */
static void test_the_reservation_never_passes_max_instances(void)
{
	char *pool = named("full"), *name = fmt("%s-x", pool);
	struct runtime_pool_outcome out;
	struct runtime_pool_row row;
	struct cd_error e;
	struct db *db = NULL;
	int64_t id = 0;
	bool existing = true;

	CU_ASSERT_EQUAL_FATAL(db_open(getenv("CONDUCTOR_DATABASE_URL"), &db, &e), CD_OK);
	CU_ASSERT_EQUAL(db_runtime_pool_load(db, pool, &row, &e), CD_OK);
	CU_ASSERT_EQUAL(row.live, 0);
	CU_ASSERT_EQUAL(db_runtime_reserve(db, pool, name, "test", &id, &existing, &e), CD_OK);
	CU_ASSERT(id > 0 && !existing);
	struct runtime_pool_write w = {.pool = pool, .rev = row.rev, .term = 1, .action = "spawn",
				       .reason = "stale", .max_instances = 1, .name = "unused"};
	CU_ASSERT_EQUAL(db_runtime_pool_commit(db, &w, &out, &e), CD_OK);
	CU_ASSERT(out.applied);
	CU_ASSERT_EQUAL(out.instance_id, 0);
	CU_ASSERT_EQUAL(live_of(pool), 1);
	pg_cmd(NULL, "UPDATE runtime_instances SET state = 'failed' WHERE pool = $1", pool, NULL);
	db_close(db);
	free(name);
	free(pool);
}

/* ---- configuration --------------------------------------------------------------- */

static void test_bad_configuration_exits_2_naming_the_key(void)
{
	static const char *const aws[] = {"CONDUCTOR_PROVIDERS=manual,aws", NULL};
	static const char *const other[] = {"CONDUCTOR_STREAMS=a,c", NULL};

	CU_ASSERT_EQUAL(watcher_once("config.log", "gpu:streams=a,max_instances=0", NULL), 2);
	CU_ASSERT(log_has("config.log", "pool gpu: max_instances"));
	CU_ASSERT(log_has("config.log", "\"key\":\"pools\""));
	CU_ASSERT_EQUAL(watcher_once("config.log", "gpu:streams=a", aws), 2);
	CU_ASSERT(log_has("config.log", "\"key\":\"providers\""));
	/* a pool's stream must be a configured stream */
	CU_ASSERT_EQUAL(watcher_once("config.log", "gpu:streams=a+b", other), 2);
	CU_ASSERT(log_has("config.log", "pool gpu serves stream b, which is not one of "
					"CONDUCTOR_STREAMS"));
}

static CU_TestInfo TESTS[] = {
	{"two_polls_over_one_instance_at_the_cheapest_fit",
	 test_two_polls_over_one_instance_at_the_cheapest_fit},
	{"a_failed_start_falls_back_to_the_next_offer",
	 test_a_failed_start_falls_back_to_the_next_offer},
	{"an_unrecorded_instance_is_destroyed", test_an_unrecorded_instance_is_destroyed},
	{"nothing_fits_spawn_failed_nothing_live", test_nothing_fits_spawn_failed_nothing_live},
	{"the_cheapest_available_provider_wins", test_the_cheapest_available_provider_wins},
	{"teardown_after_idle_none_while_pending", test_teardown_after_idle_none_while_pending},
	{"cooldown_holds_across_processes_then_lifts",
	 test_cooldown_holds_across_processes_then_lifts},
	{"an_instance_gone_at_its_provider_is_forgotten",
	 test_an_instance_gone_at_its_provider_is_forgotten},
	{"queued_jobs_are_demand_draining_never_spawns",
	 test_queued_jobs_are_demand_draining_never_spawns},
	{"two_watchers_started_together_one_acts", test_two_watchers_started_together_one_acts},
	{"two_commits_on_the_same_state_one_applies",
	 test_two_commits_on_the_same_state_one_applies},
	{"the_reservation_never_passes_max_instances",
	 test_the_reservation_never_passes_max_instances},
	{"a_pool_is_polled_every_poll_s", test_a_pool_is_polled_every_poll_s},
	{"an_abandoned_reservation_is_settled", test_an_abandoned_reservation_is_settled},
	{"bad_configuration_exits_2_naming_the_key", test_bad_configuration_exits_2_naming_the_key},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite watcher = {"watcher", "watcher", false};

	procs_logdir("watcher-logs");
	return suite_run(&watcher, TESTS);
}

/* test_reaper.c -- conductor-reaper's integration suite (DESIGN 6 janitor,
 * 7): real PostgreSQL, Redis, nginx and conductor-fcgi started by
 * tests/http/run-integration (without a reaper loop), and the real
 * conductor-reaper binary run as a child process with the stack's
 * environment.
 *
 * Covers: an expired lease requeued with backoff, its checkpoint kept, the
 * zombie worker fenced, a second pass changing nothing; retries exhausted ->
 * dead_letter (and lease_expired not retried); a dependency that regressed
 * -> blocked; a dead-lettered step failing its task; two reapers started at
 * once reaping each lease once; concurrent batches through the data layer;
 * a reaper killed with SIGKILL mid-pass and the next pass finishing; silent
 * workers and controllers marked down once; the stream janitor (reclaim,
 * dead-letter with fields intact, a missing stream); retention; the lease
 * (standby, release on exit) and the exit statuses; the leader states
 * (degraded after 2 failed renewals with PostgreSQL stopped, leader again when
 * it is back; two loops, one acts) and a failed pass naming its step.
 *
 * Each test works in a tenant of its own (reaper-<what>-<run tag>). The
 * reaper acts on every tenant, so assertions look at the test's own rows.
 * libpq is used directly for what the API cannot do: moving a lease or a
 * heartbeat into the past, bulk-loading held leases, counting rows.
 * CUnit's assertions are not thread-safe: threads record, main asserts.
 * REAPER_ONLY=name[,name] runs only those tests.
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
#include <libpq-fe.h>

#include "../cutest.h"
#include "../http/expect.h"
#include "../http/http_client.h"
#include "../http/procs.h"
#include "base/config.h"
#include "data/db.h"
#include "data/db_reaper.h"

/* Submits body, returns the new job's id in id (IDLEN). */
static bool submit(const struct tenant *t, const char *body, char *id)
{
	struct http_resp r = callf("POST", "/v1/fleet/jobs", t->submitter, "%s", body);
	bool ok = r.status == 201;

	CU_ASSERT_EQUAL(r.status, 201);
	snprintf(id, IDLEN, "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
	return ok;
}

/* Claims one job for factory; its id into id, returns its epoch (-1: none). */
static int64_t claim_one(const struct tenant *t, const char *factory, char *id)
{
	struct http_resp r = callf("POST", "/v1/fleet/claim", t->worker,
				   "{\"factory_id\":\"%s\",\"lease_ttl_s\":600}", factory);
	struct json_object *jobs = obj_at(data_of(&r), "jobs"), *j;
	int64_t epoch = -1;

	CU_ASSERT_EQUAL(r.status, 200);
	if (jobs != NULL && json_object_array_length(jobs) == 1) {
		j = json_object_array_get_idx(jobs, 0);
		snprintf(id, IDLEN, "%s", str_at(j, "id"));
		epoch = json_object_get_int64(obj_at(obj_at(j, "lease"), "epoch"));
	}
	http_resp_free(&r);
	return epoch;
}

/* PATCH the job to stage as factory with epoch; extra goes inside the body. */
static long patch(const struct tenant *t, const char *id, const char *factory, int64_t epoch,
		  const char *stage, const char *extra)
{
	char path[96];
	struct http_resp r;
	long status;

	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s", id);
	r = callf("PATCH", path, t->worker,
		  "{\"factory_id\":\"%s\",\"lease_epoch\":%" PRId64 ",\"stage\":\"%s\"%s}", factory,
		  epoch, stage, extra ? extra : "");
	status = r.status;
	http_resp_free(&r);
	return status;
}

/* Makes job id's lease expire now (what time would do). */
static void expire_lease(const char *id)
{
	CU_ASSERT_EQUAL(pg_cmd(NULL, "UPDATE jobs SET lease_expires_at = now() - interval '1 s'"
			       " WHERE id = $1 AND lease_status = 'held'",
			       id, NULL),
			1);
}

static const char *job_stage(char *out, const char *id)
{
	return pg_str(out, IDLEN, "SELECT stage FROM jobs WHERE id = $1", id, NULL);
}

static long long events_of(const char *id, const char *kind)
{
	return pg_int("SELECT count(*) FROM job_events WHERE job_id = $1 AND kind = $2", id, kind,
		      NULL);
}

/* ---- running the reaper ---------------------------------------------------- */

/* Starts conductor-reaper with args (NULL-terminated) and extra environment
 * ("KEY=value", NULL-terminated or NULL); its output goes to log_path(log). */
static pid_t reaper_spawn(const char *log, const char *const *env, const char *const *args)
{
	const char *bin = getenv("CONDUCTOR_REAPER");

	if (bin == NULL) {
		CU_FAIL("CONDUCTOR_REAPER (the conductor-reaper binary) is not set");
		return -1;
	}
	return spawn_logged(log, O_TRUNC, bin, args, env);
}

/* One --once pass with extra environment; returns its exit status. */
static int reaper_once(const char *log, const char *const *env)
{
	static const char *const once[] = {"--once", NULL};

	return wait_exit(reaper_spawn(log, env, once));
}

/* The sum of "key":"N" over the log's lines. */
static long log_sum(const char *log, const char *key)
{
	char *text = log_text(log), *pat = fmt("\"%s\":\"", key);
	long sum = 0;

	for (const char *p = strstr(text, pat); p != NULL; p = strstr(p + 1, pat))
		sum += atol(p + strlen(pat));
	free(pat);
	free(text);
	return sum;
}

/* Lets the next pass take the reaper lease at once (what its TTL would do). */
static void expire_reaper_lease(void)
{
	pg_cmd(NULL, "UPDATE leader_leases SET lease_expires_at = now()"
	       " WHERE tenant_id = 0 AND name = 'reaper'",
	       NULL);
}

/* Loads n jobs of t straight into the database, each with a held lease of
 * factory "f-bulk" (epoch 1, attempt 1) that expired a minute ago. */
static void load_expired(const struct tenant *t, int n)
{
	char count[16];

	snprintf(count, sizeof(count), "%d", n);
	CU_ASSERT_EQUAL(pg_cmd(NULL, "INSERT INTO jobs (tenant_id, content_hash, stage, lease_epoch,"
			       "  lease_holder, lease_expires_at, lease_status, attempts)"
			       " SELECT $1, 'bulk', 'assigned', 1, 'f-bulk',"
			       "        now() - interval '1 minute', 'held', 1"
			       "   FROM generate_series(1, $2::int)",
			       t->tid, count, NULL),
			n);
}

/* ---- expired leases -------------------------------------------------------- */

static void test_expired_lease_requeued_checkpoint_kept_zombie_fenced(void)
{
	struct tenant *t = tenant_new("requeue");
	char id[IDLEN], id2[IDLEN], stage[IDLEN], path[96], ck[256];
	int64_t epoch, epoch2;
	long long rev, events;
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_FATAL(submit(t, "{\"body\":\"b\",\"retry\":{\"max\":3,\"backoff_s\":60}}", id));
	epoch = claim_one(t, "f-zombie", id);
	CU_ASSERT_FATAL(epoch > 0);
	CU_ASSERT_EQUAL(patch(t, id, "f-zombie", epoch, "building",
			      ",\"checkpoint\":{\"wip_branch\":\"wip/1\",\"wip_commit\":\"abc\"}"),
			200);
	expire_lease(id);
	CU_ASSERT_EQUAL(reaper_once("requeue.log", NULL), 0);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, id), "queued");
	CU_ASSERT_EQUAL(pg_int("SELECT lease_epoch FROM jobs WHERE id = $1", id, NULL), epoch + 1);
	CU_ASSERT_EQUAL(pg_int("SELECT (lease_status = 'expired')::int FROM jobs WHERE id = $1", id,
			       NULL),
			1);
	/* backoff: 60 s for the first attempt */
	CU_ASSERT_EQUAL(pg_int("SELECT (not_before BETWEEN now() + interval '50 s'"
			       " AND now() + interval '61 s')::int FROM jobs WHERE id = $1",
			       id, NULL),
			1);
	pg_str(ck, sizeof(ck), "SELECT checkpoint->>'wip_commit' FROM jobs WHERE id = $1", id, NULL);
	CU_ASSERT_STRING_EQUAL(ck, "abc");
	CU_ASSERT_EQUAL(events_of(id, "lease_expired"), 1);
	CU_ASSERT_EQUAL(events_of(id, "requeued"), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE job_id = $1"
			       " AND kind = 'lease_expired' AND (data->>'term')::bigint > 0"
			       " AND data->>'factory_id' = 'f-zombie'",
			       id, NULL),
			1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runs WHERE job_id = $1"
			       " AND exit = 'lease_expired' AND ended_at IS NOT NULL",
			       id, NULL),
			1);
	/* the reaper's events name it and the term of its lease (issue 18's
	 * actor), and the run it ended keeps the claim's worker */
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE job_id = $1"
			       " AND kind IN ('lease_expired', 'requeued')"
			       " AND actor->>'timer' = 'reaper' AND (actor->>'term')::bigint > 0"
			       " AND actor->>'term' = data->>'term'",
			       id, NULL),
			2);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runs WHERE job_id = $1"
			       " AND actor->>'timer' = 'reaper' AND claim_actor->>'role' = 'worker'",
			       id, NULL),
			1);

	/* the zombie is fenced out: PATCH, renew, transition all refused */
	rev = pg_int("SELECT rev FROM jobs WHERE id = $1", id, NULL);
	CU_ASSERT_EQUAL(patch(t, id, "f-zombie", epoch, "shipped", NULL), 409);
	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s/lease/renew", id);
	r = callf("POST", path, t->worker, "{\"factory_id\":\"f-zombie\",\"lease_epoch\":%" PRId64 "}",
		  epoch);
	CU_ASSERT_EQUAL(r.status, 409);
	CU_ASSERT_STRING_EQUAL(str_at(r.json, "error"), "stale_epoch");
	http_resp_free(&r);
	CU_ASSERT_EQUAL(pg_int("SELECT rev FROM jobs WHERE id = $1", id, NULL), rev);

	/* a second pass changes nothing */
	events = pg_int("SELECT count(*) FROM job_events WHERE job_id = $1", id, NULL);
	CU_ASSERT_EQUAL(reaper_once("requeue-2.log", NULL), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT rev FROM jobs WHERE id = $1", id, NULL), rev);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE job_id = $1", id, NULL),
			events);

	/* the next worker gets it with its checkpoint, epoch + 2 */
	pg_cmd(NULL, "UPDATE jobs SET not_before = now() WHERE id = $1", id, NULL);
	r = callf("POST", "/v1/fleet/claim", t->worker, "{\"factory_id\":\"f-next\"}");
	CU_ASSERT_EQUAL(r.status, 200);
	{
		struct json_object *j = json_object_array_get_idx(obj_at(data_of(&r), "jobs"), 0);

		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		snprintf(id2, sizeof(id2), "%s", str_at(j, "id"));
		epoch2 = json_object_get_int64(obj_at(obj_at(j, "lease"), "epoch"));
		CU_ASSERT_STRING_EQUAL(str_at(obj_at(j, "checkpoint"), "wip_branch"), "wip/1");
		CU_ASSERT_EQUAL(json_object_get_int64(obj_at(j, "attempts")), 2);
	}
	http_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(id2, id);
	CU_ASSERT_EQUAL(epoch2, epoch + 2);
	CU_ASSERT_EQUAL(patch(t, id, "f-next", epoch2, "shipped", NULL), 200);
}

static void test_retries_exhausted_dead_letter(void)
{
	struct tenant *t = tenant_new("dead");
	char id[IDLEN], dep[IDLEN], other[IDLEN], stage[IDLEN], got[IDLEN], *body;
	int64_t epoch;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_FATAL(submit(t, "{\"body\":\"x\",\"retry\":{\"max\":1,\"backoff_s\":1}}", id));
	body = fmt("{\"body\":\"after\",\"deps\":[\"%s\"]}", id);
	CU_ASSERT_FATAL(submit(t, body, dep));
	free(body);
	/* attempt 1 expires: queued again */
	CU_ASSERT_FATAL(claim_one(t, "f-1", got) > 0);
	CU_ASSERT_STRING_EQUAL(got, id);
	expire_lease(id);
	CU_ASSERT_EQUAL(reaper_once("dead-1.log", NULL), 0);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, id), "queued");
	/* attempt 2 expires: retries spent */
	pg_cmd(NULL, "UPDATE jobs SET not_before = now() WHERE id = $1", id, NULL);
	CU_ASSERT_FATAL(claim_one(t, "f-2", got) > 0);
	CU_ASSERT_STRING_EQUAL(got, id);
	expire_lease(id);
	CU_ASSERT_EQUAL(reaper_once("dead-2.log", NULL), 0);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, id), "dead_letter");
	CU_ASSERT_EQUAL(pg_int("SELECT attempts FROM jobs WHERE id = $1", id, NULL), 2);
	CU_ASSERT_EQUAL(pg_int("SELECT (finished_at IS NOT NULL)::int FROM jobs WHERE id = $1", id,
			       NULL),
			1);
	CU_ASSERT_EQUAL(events_of(id, "lease_expired"), 2);
	CU_ASSERT_EQUAL(events_of(id, "dead_lettered"), 1);
	/* its dependent stays blocked, and is told why */
	CU_ASSERT_STRING_EQUAL(job_stage(stage, dep), "blocked");
	CU_ASSERT_EQUAL(events_of(dep, "dependency_failed"), 1);

	/* retry.on without lease_expired: the first expiry is final */
	CU_ASSERT_FATAL(submit(t, "{\"body\":\"y\",\"retry\":{\"max\":5,\"on\":[\"failed\"]}}", other));
	epoch = claim_one(t, "f-3", got);
	CU_ASSERT_FATAL(epoch > 0);
	CU_ASSERT_STRING_EQUAL(got, other);
	expire_lease(other);
	CU_ASSERT_EQUAL(reaper_once("dead-3.log", NULL), 0);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, other), "dead_letter");
	CU_ASSERT_EQUAL(patch(t, other, "f-3", epoch, "shipped", NULL), 409);
}

/* A soft dependency that was in testing fails and is requeued; the
 * dependent's lease expires meanwhile: it goes back to blocked, and is
 * queued again when the dependency reaches testing again. */
static void test_regressed_dependency_blocks(void)
{
	struct tenant *t = tenant_new("regress");
	char a[IDLEN], b[IDLEN], got[IDLEN], stage[IDLEN], *body;
	int64_t ea, eb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_FATAL(submit(t, "{\"body\":\"a\",\"retry\":{\"max\":3,\"backoff_s\":1}}", a));
	body = fmt("{\"body\":\"b\",\"deps\":[\"%s\"],\"deps_mode\":\"soft\"}", a);
	CU_ASSERT_FATAL(submit(t, body, b));
	free(body);
	ea = claim_one(t, "f-a", got);
	CU_ASSERT_STRING_EQUAL(got, a);
	CU_ASSERT_EQUAL(patch(t, a, "f-a", ea, "testing", NULL), 200);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, b), "queued");
	eb = claim_one(t, "f-b", got);
	CU_ASSERT_FATAL(eb > 0);
	CU_ASSERT_STRING_EQUAL(got, b);
	CU_ASSERT_EQUAL(patch(t, a, "f-a", ea, "failed", NULL), 200);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, a), "queued");
	expire_lease(b);
	CU_ASSERT_EQUAL(reaper_once("regress.log", NULL), 0);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, b), "blocked");
	CU_ASSERT_EQUAL(events_of(b, "blocked"), 1);
	/* a reaches testing again: b is claimable again */
	pg_cmd(NULL, "UPDATE jobs SET not_before = now() WHERE id = $1", a, NULL);
	ea = claim_one(t, "f-a", got);
	CU_ASSERT_STRING_EQUAL(got, a);
	CU_ASSERT_EQUAL(patch(t, a, "f-a", ea, "testing", NULL), 200);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, b), "queued");
}

static void test_dead_lettered_step_fails_task(void)
{
	struct tenant *t = tenant_new("task");
	char task[IDLEN], step[IDLEN], got[IDLEN], stage[IDLEN], path[96];
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	r = callf("POST", "/v1/tasks", t->submitter,
		  "{\"repo\":\"r\",\"task_type\":\"fix\",\"title\":\"t\",\"goal\":\"g\"}");
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	snprintf(task, sizeof(task), "%s", str_at(obj_at(data_of(&r), "task"), "id"));
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/v1/tasks/%s/plan", task);
	r = callf("POST", path, t->controller, "{\"steps\":[{\"title\":\"one\",\"body\":\"b\"}]}");
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	http_resp_free(&r);
	pg_cmd(NULL, "UPDATE jobs SET retry_max = 0 WHERE parent_id = $1", task, NULL);
	CU_ASSERT_FATAL(claim_one(t, "f-step", step) > 0);
	expire_lease(step);
	CU_ASSERT_EQUAL(reaper_once("task.log", NULL), 0);
	CU_ASSERT_STRING_EQUAL(job_stage(stage, step), "dead_letter");
	CU_ASSERT_STRING_EQUAL(job_stage(got, task), "failed");
}

/* ---- concurrency and crashes ----------------------------------------------- */

#define RACE_JOBS 3000

static void test_two_reapers_at_once_reap_each_lease_once(void)
{
	static const char *const once[] = {"--once", NULL};
	struct tenant *t = tenant_new("two");
	pid_t a, b;
	int sa, sb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	load_expired(t, RACE_JOBS);
	expire_reaper_lease();
	a = reaper_spawn("two-a.log", NULL, once);
	b = reaper_spawn("two-b.log", NULL, once);
	sa = wait_exit(a);
	sb = wait_exit(b);
	CU_ASSERT_EQUAL(sa, 0);
	CU_ASSERT_EQUAL(sb, 0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1"
			       " AND stage = 'queued' AND lease_status = 'expired' AND lease_epoch = 2",
			       t->tid, NULL),
			RACE_JOBS);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE tenant_id = $1"
			       " AND kind = 'lease_expired'",
			       t->tid, NULL),
			RACE_JOBS);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM (SELECT job_id FROM job_events"
			       " WHERE tenant_id = $1 AND kind = 'lease_expired'"
			       " GROUP BY job_id HAVING count(*) > 1) x",
			       t->tid, NULL),
			0);
	/* only the lease holder acted: one copy reaped all of them, the other
	 * stood by (or, started after the first gave the lease up, found
	 * nothing). Without the lease the two would split the work. */
	{
		long ra = log_sum("two-a.log", "leases_reaped");
		long rb = log_sum("two-b.log", "leases_reaped");

		CU_ASSERT((ra >= RACE_JOBS) != (rb >= RACE_JOBS));
		CU_ASSERT(ra + rb >= RACE_JOBS);
	}
}

struct batcher {
	long reaped;
	int failed;
};

static void *reap_batches(void *arg)
{
	struct batcher *b = arg;
	struct reap_counts c;
	struct cd_error e;
	struct db *db = NULL;

	if (db_open(getenv("CONDUCTOR_DATABASE_URL"), &db, &e) != CD_OK) {
		b->failed = 1;
		return NULL;
	}
	do {
		if (db_reaper_expire_leases(db, 50, 1, &c, &e) != CD_OK) {
			b->failed = 1;
			break;
		}
		b->reaped += c.reaped;
	} while (c.reaped > 0);
	db_close(db);
	return NULL;
}

/* The data layer without the leader lease: four connections reaping in
 * small batches at once still expire each lease exactly once. */
static void test_concurrent_batches_reap_each_lease_once(void)
{
	struct tenant *t = tenant_new("batches");
	struct batcher b[4] = {{0, 0}};
	pthread_t th[4];
	long total = 0;
	int failed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	load_expired(t, 2000);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, reap_batches, &b[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += b[i].reaped;
		failed += b[i].failed;
	}
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT(total >= 2000);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1"
			       " AND lease_status = 'expired' AND lease_epoch = 2",
			       t->tid, NULL),
			2000);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE tenant_id = $1"
			       " AND kind = 'lease_expired'",
			       t->tid, NULL),
			2000);
}

#define KILL_JOBS 40000

static long long expired_count(const struct tenant *t)
{
	return pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND lease_status = 'expired'",
		      t->tid, NULL);
}

/* Every job in exactly one consistent state: either still held (assigned,
 * epoch 1, no event) or reaped (queued, expired, epoch 2, one event). */
static void expect_consistent(const struct tenant *t, long long reaped)
{
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1 AND NOT ("
			       " (stage = 'assigned' AND lease_status = 'held' AND lease_epoch = 1)"
			       " OR (stage = 'queued' AND lease_status = 'expired' AND lease_epoch = 2))",
			       t->tid, NULL),
			0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE tenant_id = $1"
			       " AND kind = 'lease_expired'",
			       t->tid, NULL),
			reaped);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runs WHERE tenant_id = $1", t->tid, NULL), 0);
}

static void test_killed_mid_pass_next_pass_finishes(void)
{
	static const char *const once[] = {"--once", NULL};
	struct tenant *t = tenant_new("kill");
	struct timespec step = {0, 5 * 1000 * 1000};
	long long reaped = 0;
	pid_t pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	load_expired(t, KILL_JOBS);
	expire_reaper_lease();
	pid = reaper_spawn("kill.log", NULL, once);
	for (int i = 0; i < 4000 && reaped == 0; i++) {
		nanosleep(&step, NULL);
		reaped = expired_count(t);
	}
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(wait_exit(pid), 128 + SIGKILL);
	reaped = expired_count(t);
	fprintf(stderr, "\n  killed after %lld of %d leases were reaped\n", reaped, KILL_JOBS);
	CU_ASSERT(reaped > 0);
	CU_ASSERT(reaped < KILL_JOBS); /* it was mid-pass */
	expect_consistent(t, reaped);
	/* the killed copy still holds the lease until its TTL; let it pass */
	expire_reaper_lease();
	CU_ASSERT_EQUAL(reaper_once("kill-2.log", NULL), 0);
	expect_consistent(t, KILL_JOBS);
	CU_ASSERT_EQUAL(expired_count(t), KILL_JOBS);
}

/* ---- silent workers -------------------------------------------------------- */

static void test_silent_workers_and_controllers_marked_down_once(void)
{
	static const char *const env[] = {"CONDUCTOR_FACTORY_STALE_S=3600", NULL};
	struct tenant *t = tenant_new("silent");
	struct http_resp r;
	char health[IDLEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int i = 0; i < 2; i++) {
		r = callf("POST", "/v1/fleet/factories/heartbeat", t->worker,
			  "{\"factory_id\":\"f-%s\",\"capabilities\":[],\"health\":\"ok\"}",
			  i ? "quiet" : "alive");
		CU_ASSERT_EQUAL(r.status, 200);
		http_resp_free(&r);
		r = callf("POST", "/v1/controllers/heartbeat", t->controller,
			  "{\"controller_id\":\"c-%s\",\"host\":\"h\",\"role\":\"planner\","
			  "\"priority\":1,\"status\":\"ok\"}",
			  i ? "quiet" : "alive");
		CU_ASSERT_EQUAL(r.status, 200);
		http_resp_free(&r);
	}
	pg_cmd(NULL, "UPDATE factories SET last_heartbeat_at = now() - interval '2 hours'"
	       " WHERE tenant_id = $1 AND factory_id = 'f-quiet'",
	       t->tid, NULL);
	pg_cmd(NULL, "UPDATE controllers SET last_heartbeat_at = now() - interval '2 hours'"
	       " WHERE tenant_id = $1 AND controller_id = 'c-quiet'",
	       t->tid, NULL);
	CU_ASSERT_EQUAL(reaper_once("silent.log", env), 0);
	CU_ASSERT_EQUAL(reaper_once("silent-2.log", env), 0);
	pg_str(health, sizeof(health),
	       "SELECT health FROM factories WHERE factory_id = 'f-quiet' AND tenant_id = "
	       "$1::bigint",
	       t->tid, NULL);
	CU_ASSERT_STRING_EQUAL(health, "down");
	pg_str(health, sizeof(health),
	       "SELECT health FROM factories WHERE factory_id = 'f-alive' AND tenant_id = "
	       "$1::bigint",
	       t->tid, NULL);
	CU_ASSERT_STRING_EQUAL(health, "ok");
	pg_str(health, sizeof(health),
	       "SELECT status FROM controllers WHERE controller_id = 'c-quiet' AND tenant_id = "
	       "$1::bigint",
	       t->tid, NULL);
	CU_ASSERT_STRING_EQUAL(health, "down");
	/* one event each, though two passes ran */
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM health_events WHERE tenant_id = $1"
			       " AND kind = 'down' AND subject_id IN ('f-quiet', 'c-quiet')",
			       t->tid, NULL),
			2);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM health_events WHERE tenant_id = $1"
			       " AND subject_id IN ('f-alive', 'c-alive')",
			       t->tid, NULL),
			0);
	/* the API shows it */
	r = call("GET", "/v1/fleet/factories", t->reader, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body ? r.body : "", "\"down\""));
	http_resp_free(&r);
}

/* ---- the stream janitor ---------------------------------------------------- */

/* The value of field in the only entry of stream (""). */
static void only_entry_field(redisContext *c, const char *stream, const char *field, char *out,
			     size_t cap)
{
	redisReply *r = rcmd(c, "XRANGE %s - +", stream);

	out[0] = '\0';
	CU_ASSERT(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		const char *v = field_in(r->element[0]->element[1], field);

		if (v != NULL)
			snprintf(out, cap, "%s", v);
	}
	freeReplyObject(r);
}

static void test_janitor_reclaims_and_dead_letters(void)
{
	redisContext *c = redis_open();
	struct tenant *t = tenant_new("janitor"); /* only for a name of this run */
	char stream[80], dead[96], streams[200], idle_env[] = "CONDUCTOR_RECLAIM_IDLE_S=1";
	char ok_id[64], bad_id[64], fresh_id[64], v[256], *streams_env;
	const char *env[4];
	struct timespec wait = {1, 200 * 1000 * 1000};

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	snprintf(stream, sizeof(stream), "tasks:%s", t->name);
	snprintf(dead, sizeof(dead), "dead:%s", stream);
	snprintf(streams, sizeof(streams), "%s,%s-missing", stream, stream);
	streams_env = fmt("CONDUCTOR_STREAMS=%s", streams);
	env[0] = streams_env, env[1] = idle_env, env[2] = "CONDUCTOR_MAX_DELIVERIES=3", env[3] = NULL;
	rdo(c, "XGROUP CREATE %s workers $ MKSTREAM", stream);
	rdo_id(c, ok_id, "XADD %s * body one source app-a reply_to results:app-a", stream);
	rdo_id(c, bad_id, "XADD %s * body two source app-b reply_to results:app-b", stream);
	freeReplyObject(rcmd(c, "XREADGROUP GROUP workers w1 COUNT 2 STREAMS %s >", stream));
	/* delivered 3 times (at the limit) and 4 times (past it) */
	rdo(c, "XCLAIM %s workers w1 0 %s RETRYCOUNT 3 JUSTID", stream, ok_id);
	rdo(c, "XCLAIM %s workers w1 0 %s RETRYCOUNT 4 JUSTID", stream, bad_id);
	nanosleep(&wait, NULL);
	/* a third one delivered just now is not idle yet */
	rdo_id(c, fresh_id, "XADD %s * body three source app-c reply_to results:app-c", stream);
	freeReplyObject(rcmd(c, "XREADGROUP GROUP workers w2 COUNT 1 STREAMS %s >", stream));

	CU_ASSERT_EQUAL(reaper_once("janitor.log", env), 0);
	/* the fresh one still pending; the reclaimed copy is new and unread */
	CU_ASSERT_EQUAL(pending(c, stream, "workers"), 1);
	CU_ASSERT_EQUAL(xlen(c, stream), 2);
	CU_ASSERT_EQUAL(xlen(c, dead), 1);
	{
		redisReply *r = rcmd(c, "XRANGE %s - +", stream);

		/* in id order: the fresh entry, then the copy the janitor added */
		CU_ASSERT(r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
			redisReply *copy = r->element[1], *f = copy->element[1];

			CU_ASSERT_STRING_EQUAL(r->element[0]->element[0]->str, fresh_id);
			CU_ASSERT_STRING_NOT_EQUAL(copy->element[0]->str, ok_id);
			CU_ASSERT_EQUAL(f->elements, 8);
			if (f->elements == 8) {
				CU_ASSERT_STRING_EQUAL(f->element[1]->str, "one");
				CU_ASSERT_STRING_EQUAL(f->element[3]->str, "app-a");
				CU_ASSERT_STRING_EQUAL(f->element[5]->str, "results:app-a");
				CU_ASSERT_STRING_EQUAL(f->element[6]->str, "deliveries");
				CU_ASSERT_STRING_EQUAL(f->element[7]->str, "3");
			}
		}
		freeReplyObject(r);
	}
	only_entry_field(c, dead, "body", v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "two");
	only_entry_field(c, dead, "source", v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "app-b");
	only_entry_field(c, dead, "reply_to", v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "results:app-b");
	only_entry_field(c, dead, "original_id", v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, bad_id);
	only_entry_field(c, dead, "deliveries", v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "4");
	only_entry_field(c, dead, "dead_reason", v, sizeof(v));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "delivered 4 times"));
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runtime_events"
			       " WHERE kind = 'stream_entry_dead_lettered' AND data->>'original_id' = $1"
			       " AND data->>'source' = 'app-b' AND data->>'stream' = $2",
			       bad_id, stream, NULL),
			1);
	CU_ASSERT_EQUAL(log_sum("janitor.log", "stream_entries_reclaimed"), 1);
	CU_ASSERT_EQUAL(log_sum("janitor.log", "stream_entries_dead"), 1);

	/* the copy is delivered once more and stuck again: 3 + 1 > 3, dead; the
	 * fresh one is idle by now: reclaimed as a new, unread copy */
	freeReplyObject(rcmd(c, "XREADGROUP GROUP workers w3 COUNT 5 STREAMS %s >", stream));
	nanosleep(&wait, NULL);
	CU_ASSERT_EQUAL(reaper_once("janitor-2.log", env), 0);
	CU_ASSERT_EQUAL(xlen(c, dead), 2);
	CU_ASSERT_EQUAL(xlen(c, stream), 1);
	CU_ASSERT_EQUAL(pending(c, stream, "workers"), 0);
	CU_ASSERT_EQUAL(log_sum("janitor-2.log", "stream_entries_dead"), 1);
	CU_ASSERT_EQUAL(log_sum("janitor-2.log", "stream_entries_reclaimed"), 1);
	free(streams_env);
	redisFree(c);
}

/* ---- retention ------------------------------------------------------------- */

static void test_retention_prunes_old_history_only(void)
{
	static const char *const env[] = {"CONDUCTOR_RETENTION_DAYS=30", NULL};
	struct tenant *t = tenant_new("retention");
	char old_id[IDLEN], kept_dep[IDLEN], recent[IDLEN], waiting[IDLEN], state[8];
	static const char sql_job[] =
		"INSERT INTO jobs (tenant_id, content_hash, stage, finished_at)"
		" VALUES ($1, 'r', $2, now() - make_interval(days => $3::int)) RETURNING id";

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	pg_str(old_id, IDLEN, sql_job, t->tid, "shipped", "40", NULL);
	pg_str(kept_dep, IDLEN, sql_job, t->tid, "dead_letter", "40", NULL);
	pg_str(recent, IDLEN, sql_job, t->tid, "shipped", "1", NULL);
	pg_str(waiting, IDLEN, sql_job, t->tid, "blocked", "0", NULL);
	CU_ASSERT_FATAL(old_id[0] && kept_dep[0] && recent[0] && waiting[0]);
	/* the waiting job depends on kept_dep: that one must stay */
	pg_cmd(NULL, "INSERT INTO job_deps (tenant_id, job_id, dep_id) VALUES ($1, $2, $3)", t->tid,
	       waiting, kept_dep, NULL);
	for (int i = 0; i < 3; i++)
		pg_cmd(NULL, "INSERT INTO job_events (tenant_id, job_id, kind, at)"
		       " VALUES ($1, $2, 'old', now() - interval '40 days')",
		       t->tid, i == 0 ? old_id : i == 1 ? kept_dep : recent, NULL);
	pg_cmd(NULL, "INSERT INTO job_events (tenant_id, job_id, kind) VALUES ($1, $2, 'new')", t->tid,
	       recent, NULL);
	/* runs have no foreign key to cascade: retention deletes them itself */
	for (int i = 0; i < 2; i++)
		pg_cmd(NULL, "INSERT INTO runs (tenant_id, job_id, attempt, lease_epoch, factory_id)"
		       " VALUES ($1, $2, 1, 1, 'f-retention')",
		       t->tid, i == 0 ? old_id : recent, NULL);
	CU_ASSERT_EQUAL(reaper_once("retention.log", env), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runs WHERE job_id = $1", old_id, NULL), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM runs WHERE job_id = $1", recent, NULL), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE id = $1", old_id, NULL), 0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE id = $1", kept_dep, NULL), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE id = $1", recent, NULL), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM jobs WHERE id = $1", waiting, NULL), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_deps WHERE job_id = $1", waiting, NULL), 1);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE tenant_id = $1 AND kind = 'old'",
			       t->tid, NULL),
			0);
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM job_events WHERE tenant_id = $1 AND kind = 'new'",
			       t->tid, NULL),
			1);
	/* outside the reaper, history is still append-only */
	CU_ASSERT_EQUAL(pg_cmd(state, "DELETE FROM job_events WHERE tenant_id = $1", t->tid, NULL),
			-1);
	CU_ASSERT_STRING_EQUAL(state, "42501");
}

/* ---- the lease and the process --------------------------------------------- */

static void test_standby_does_nothing_and_lease_is_given_up(void)
{
	static const char *const loop[] = {"--interval", "1", NULL};
	struct tenant *t = tenant_new("standby");
	char holder[160], id[IDLEN];
	struct timespec step = {0, 200 * 1000 * 1000};
	long long term;
	pid_t pid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	load_expired(t, 1);
	pg_str(id, sizeof(id), "SELECT id FROM jobs WHERE tenant_id = $1::bigint", t->tid, NULL);
	/* another host holds the lease */
	pg_cmd(NULL, "INSERT INTO leader_leases (tenant_id, name, holder_id, holder_host, term,"
	       " lease_expires_at) VALUES (0, 'reaper', 'elsewhere/1', 'elsewhere', 1,"
	       " now() + interval '1 minute') ON CONFLICT (tenant_id, name) DO UPDATE SET"
	       " holder_id = 'elsewhere/1', holder_host = 'elsewhere',"
	       " term = leader_leases.term + 1, lease_expires_at = now() + interval '1 minute'",
	       NULL);
	term = pg_int("SELECT term FROM leader_leases WHERE tenant_id = 0 AND name = 'reaper'", NULL);
	CU_ASSERT_EQUAL(reaper_once("standby.log", NULL), 0);
	CU_ASSERT(log_has("standby.log", "standing by"));
	CU_ASSERT(log_has("standby.log", "elsewhere/1"));
	CU_ASSERT_EQUAL(pg_int("SELECT lease_epoch FROM jobs WHERE id = $1", id, NULL), 1);
	/* its lease expires: a loop takes over with term + 1 and reaps */
	expire_reaper_lease();
	pid = reaper_spawn("loop.log", NULL, loop);
	for (int i = 0; i < 50 && pg_int("SELECT lease_epoch FROM jobs WHERE id = $1", id, NULL) == 1;
	     i++)
		nanosleep(&step, NULL);
	CU_ASSERT_EQUAL(pg_int("SELECT lease_epoch FROM jobs WHERE id = $1", id, NULL), 2);
	pg_str(holder, sizeof(holder),
	       "SELECT holder_id || ' ' || term FROM leader_leases WHERE tenant_id = 0"
	       " AND name = 'reaper' AND lease_expires_at > now()",
	       NULL);
	CU_ASSERT(strstr(holder, "elsewhere") == NULL && holder[0] != '\0');
	CU_ASSERT_EQUAL(pg_int("SELECT term FROM leader_leases WHERE tenant_id = 0"
			       " AND name = 'reaper'",
			       NULL),
			term + 1);
	/* SIGTERM: the loop ends after its pass, exits 0, and gives the lease up */
	kill(pid, SIGTERM);
	CU_ASSERT_EQUAL(wait_exit(pid), 0);
	CU_ASSERT(log_has("loop.log", "\"msg\":\"stopped\""));
	CU_ASSERT_EQUAL(pg_int("SELECT count(*) FROM leader_leases WHERE tenant_id = 0"
			       " AND name = 'reaper' AND lease_expires_at > now()",
			       NULL),
			0);
}

static void test_exit_status_names_the_problem(void)
{
	static const char *const bad_key[] = {"CONDUCTOR_FACTORY_STALE_S=soon", NULL};
	static const char *const no_db[] = {
		"CONDUCTOR_DATABASE_URL=postgresql:///conductor?host=/nonexistent-socket-dir", NULL};
	static const char *const no_redis[] = {"CONDUCTOR_STREAMS=tasks:x", "CONDUCTOR_REDIS_URL=",
					       NULL};
	static const char *const help[] = {"--help", NULL};
	static const char *const both[] = {"--once", "--interval", "5", NULL};

	CU_ASSERT_EQUAL(reaper_once("bad-key.log", bad_key), 2);
	CU_ASSERT(log_has("bad-key.log", "factory_stale_s"));
	CU_ASSERT_EQUAL(reaper_once("no-db.log", no_db), 1);
	CU_ASSERT(log_has("no-db.log", "PostgreSQL"));
	CU_ASSERT_EQUAL(reaper_once("no-redis.log", no_redis), 2);
	CU_ASSERT(log_has("no-redis.log", "redis_url"));
	CU_ASSERT_EQUAL(wait_exit(reaper_spawn("help.log", NULL, help)), 0);
	CU_ASSERT_EQUAL(wait_exit(reaper_spawn("both.log", NULL, both)), 2);
}

/* ---- leader states ----------------------------------------------------------- */

/* Runs script with bash, its output into log_path(log); returns its status.
 * The stack's scripts (tools/lib.sh, tools/stack) are bash. */
static int bash(const char *log, const char *script)
{
	const char *const args[] = {"-c", script, NULL};

	return wait_exit(spawn_logged(log, O_APPEND, "bash", args, NULL));
}

/* Stops the stack's PostgreSQL (pg_ctl, as tools/stack does). */
static int stop_postgres(void)
{
	return bash("postgres.log",
		    ". \"$top_srcdir/tools/lib.sh\" && as_pg \"$(pg_bindir)/pg_ctl\" stop"
		    " -D \"$CONDUCTOR_STACK_DIR/pg/data\" -m fast -w -t 30");
}

/* Starts it again: tools/stack start starts what is not running. It needs
 * the stack's port (run-integration exports it), or it would move nginx. */
static int start_postgres(void)
{
	return bash("postgres.log", "[ -n \"${CONDUCTOR_HTTP_PORT:-}\" ] &&"
				    " \"$top_srcdir/tools/stack\" start \"$CONDUCTOR_STACK_DIR\"");
}

/* This copy's row of `timers`: its state ("" when it has none). */
static const char *timer_state_of(char *out, pid_t pid)
{
	char p[24];

	snprintf(p, sizeof(p), "%ld", (long)pid);
	return pg_str(out, 32,
		      "SELECT state FROM timers WHERE name = 'reaper' AND holder_id LIKE '%/' || $1",
		      p, NULL);
}

/* DESIGN 5: after 2 failed renewals in a row the holder is degraded and does
 * nothing until a renewal succeeds; each change is logged once; a failure
 * never claims to be standing by (issue 13, item 8). */
static void test_degraded_after_two_failed_renewals_leader_again(void)
{
	static const char *const loop[] = {"--interval", "1", NULL};
	char state[32];
	int done_before;
	pid_t pid;

	expire_reaper_lease();
	pid = reaper_spawn("degraded.log", NULL, loop);
	CU_ASSERT_FATAL(log_wait("degraded.log", "\"msg\":\"leader: this copy holds", 1, 10));
	CU_ASSERT_STRING_EQUAL(timer_state_of(state, pid), "leader");
	CU_ASSERT_EQUAL_FATAL(stop_postgres(), 0);
	/* passes before the stop may have reaped what earlier suites left
	 * (logged "pass done" at info): only the ones after it count */
	done_before = log_count("degraded.log", "pass done");
	CU_ASSERT(log_wait("degraded.log", "\"msg\":\"degraded: 2 renewals", 1, 15));
	/* more failed passes: the change is logged once, the first failure warned once */
	sleep(3);
	CU_ASSERT_EQUAL(log_count("degraded.log", "\"msg\":\"degraded"), 1);
	CU_ASSERT_EQUAL(log_count("degraded.log", "\"msg\":\"lease renewal failed"), 1);
	CU_ASSERT(log_has("degraded.log", "\"failures_in_a_row\":\"1\""));
	CU_ASSERT_FALSE(log_has("degraded.log", "standing by"));
	CU_ASSERT_EQUAL(log_count("degraded.log", "pass done"), done_before);
	CU_ASSERT_EQUAL_FATAL(start_postgres(), 0);
	/* the next renewal succeeds: leader again, said once */
	CU_ASSERT(log_wait("degraded.log", "\"msg\":\"leader: this copy holds", 2, 20));
	sleep(2);
	CU_ASSERT_EQUAL(log_count("degraded.log", "\"msg\":\"leader: this copy holds"), 2);
	CU_ASSERT_STRING_EQUAL(timer_state_of(state, pid), "leader");
	kill(pid, SIGTERM);
	CU_ASSERT_EQUAL(wait_exit(pid), 0);
	/* a copy that exits cleanly leaves no row */
	CU_ASSERT_STRING_EQUAL(timer_state_of(state, pid), "");
}

/* Issue 13, item 8: PostgreSQL drops during a pass (the reaper's backend is
 * terminated while it waits on a lock): the pass logs what failed, with the
 * step, and never claims to be standing by. */
static void test_failed_pass_logs_what_failed(void)
{
	static const char *const once[] = {"--once", NULL};
	struct timespec step = {0, 100 * 1000 * 1000};
	PGconn *locker = PQconnectdb(getenv("CONDUCTOR_DATABASE_URL"));
	PGresult *res;
	long long killed = 0;
	pid_t pid;

	CU_ASSERT_FATAL(PQstatus(locker) == CONNECTION_OK);
	expire_reaper_lease();
	res = PQexec(locker, "BEGIN; LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
	CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	pid = reaper_spawn("dropped.log", NULL, once);
	/* its pass took the lease, then waits for jobs: drop its connection */
	for (int i = 0; i < 100 && killed < 1; i++) {
		nanosleep(&step, NULL);
		killed = pg_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
				" WHERE datname = current_database() AND wait_event_type = 'Lock'"
				"   AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
				NULL);
	}
	CU_ASSERT_EQUAL(killed, 1);
	PQclear(PQexec(locker, "ROLLBACK"));
	PQfinish(locker);
	CU_ASSERT_EQUAL(wait_exit(pid), 1);
	CU_ASSERT(log_has("dropped.log", "\"msg\":\"leader: this copy holds"));
	CU_ASSERT(log_has("dropped.log", "\"msg\":\"pass failed\",\"step\":\"expire_leases\""));
	CU_ASSERT(log_has("dropped.log", "\"step\":\"expire_leases\",\"error\":\"The database is"
				       " unavailable"));
	CU_ASSERT_FALSE(log_has("dropped.log", "standing by"));
	CU_ASSERT_FALSE(log_has("dropped.log", "\"holder\":\"\""));
}

/* Two --interval copies started together: one leader, one standby (in their
 * logs and in `timers`); the leader's SIGTERM hands the lease to the other. */
static void test_two_loops_one_acts_standby_takes_over(void)
{
	static const char *const loop[] = {"--interval", "1", NULL};
	char sa[32], sb[32];
	pid_t a, b, leader, standby;
	const char *standby_log;

	expire_reaper_lease();
	a = reaper_spawn("pair-a.log", NULL, loop);
	b = reaper_spawn("pair-b.log", NULL, loop);
	CU_ASSERT(log_wait("pair-a.log", "\"msg\":\"started\"", 1, 10));
	CU_ASSERT(log_wait("pair-b.log", "\"msg\":\"started\"", 1, 10));
	sleep(3);
	timer_state_of(sa, a);
	timer_state_of(sb, b);
	CU_ASSERT((strcmp(sa, "leader") == 0 && strcmp(sb, "standby") == 0) ||
		  (strcmp(sa, "standby") == 0 && strcmp(sb, "leader") == 0));
	CU_ASSERT_EQUAL(log_count("pair-a.log", "\"msg\":\"leader: this copy holds") +
				log_count("pair-b.log", "\"msg\":\"leader: this copy holds"),
			1);
	CU_ASSERT_EQUAL(log_count("pair-a.log", "standing by") +
				log_count("pair-b.log", "standing by"),
			1);
	leader = strcmp(sa, "leader") == 0 ? a : b;
	standby = leader == a ? b : a;
	standby_log = leader == a ? "pair-b.log" : "pair-a.log";
	kill(leader, SIGTERM);
	CU_ASSERT_EQUAL(wait_exit(leader), 0);
	CU_ASSERT(log_wait(standby_log, "\"msg\":\"leader: this copy holds", 1, 10));
	CU_ASSERT_STRING_EQUAL(timer_state_of(sa, standby), "leader");
	kill(standby, SIGTERM);
	CU_ASSERT_EQUAL(wait_exit(standby), 0);
}

/* ---- the suite ------------------------------------------------------------- */

static CU_TestInfo TESTS[] = {
	{"expired_lease_requeued_checkpoint_kept_zombie_fenced",
	 test_expired_lease_requeued_checkpoint_kept_zombie_fenced},
	{"retries_exhausted_dead_letter", test_retries_exhausted_dead_letter},
	{"regressed_dependency_blocks", test_regressed_dependency_blocks},
	{"dead_lettered_step_fails_task", test_dead_lettered_step_fails_task},
	{"two_reapers_at_once_reap_each_lease_once", test_two_reapers_at_once_reap_each_lease_once},
	{"concurrent_batches_reap_each_lease_once", test_concurrent_batches_reap_each_lease_once},
	{"killed_mid_pass_next_pass_finishes", test_killed_mid_pass_next_pass_finishes},
	{"silent_workers_and_controllers_marked_down_once",
	 test_silent_workers_and_controllers_marked_down_once},
	{"janitor_reclaims_and_dead_letters", test_janitor_reclaims_and_dead_letters},
	{"retention_prunes_old_history_only", test_retention_prunes_old_history_only},
	{"standby_does_nothing_and_lease_is_given_up",
	 test_standby_does_nothing_and_lease_is_given_up},
	{"exit_status_names_the_problem", test_exit_status_names_the_problem},
	{"failed_pass_logs_what_failed", test_failed_pass_logs_what_failed},
	{"two_loops_one_acts_standby_takes_over", test_two_loops_one_acts_standby_takes_over},
	/* last: it stops and restarts PostgreSQL */
	{"degraded_after_two_failed_renewals_leader_again",
	 test_degraded_after_two_failed_renewals_leader_again},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite reaper = {"reaper", "reaper", true};

	procs_logdir("reaper-logs");
	return suite_run(&reaper, TESTS);
}

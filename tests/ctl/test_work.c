/* test_work.c -- `conductorctl work` (src/ctl/work.c) against the real stack
 * that tests/http/run-integration starts: the agent is the real conductorctl
 * binary run as a child with a worker token, jobs are submitted and read
 * back over HTTP through nginx, and libpq reads what the API does not show
 * (events' transaction times, a lease moved into the past for the reaper).
 *
 * Covers: jobs end to end (the body on stdin, the job's environment without
 * the token, result and insights with the wall time, or what the result
 * file sets); a failing command -> failed with its exit status and the last
 * 4 KiB of stderr, retried per the job's retry policy; a checkpoint file
 * saved with the renewal; a cancelled job's command killed and nothing
 * reported (the access log shows no transition); an agent SIGKILLed (its
 * command dies with it), the reaper takes the job back, a second agent
 * finishes it; SIGTERM drains within --grace (a finished job reported, a
 * running one killed and requeued, no claim after), a second SIGTERM ends at
 * once; jobs that end together reported in one jobs:transition (one
 * transaction: their events share one time); no claim spinning while the
 * server has no long-poll slot (Retry-After); nginx stopped while a command
 * runs -> reported once it is back; bad flags.
 *
 * Each test works in a tenant of its own (work-<what>-<run tag>); agents'
 * logs go to <stack>/work-logs/. WORK_ONLY=name[,name] runs only those tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cutest.h"
#include "../http/expect.h"
#include "../http/procs.h"

/* ---- helpers ---------------------------------------------------------------- */

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Submits a job (extra: more JSON members, or ""); its id into id (IDLEN). */
static void submit(const struct tenant *t, const char *body, const char *extra, char *id)
{
	struct http_resp r =
	    callf("POST", "/v1/fleet/jobs", t->submitter, "{\"body\":\"%s\"%s}", body, extra);

	CU_ASSERT_EQUAL(r.status, 201);
	snprintf(id, IDLEN, "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
}

static const char *stage_of(char *out, const char *id)
{
	return pg_str(out, IDLEN, "SELECT stage FROM jobs WHERE id = $1", id, NULL);
}

/* Waits up to s seconds for job id to be in stage. */
static bool wait_stage(const char *id, const char *stage, int s)
{
	char now[IDLEN];

	for (int i = 0; i < s * 10; i++) {
		if (strcmp(stage_of(now, id), stage) == 0)
			return true;
		sleep_ms(100);
	}
	fprintf(stderr, "test_work: job %s is %s, not %s, after %d s\n", id, now, stage, s);
	return false;
}

static long long events_of(const char *id, const char *kind)
{
	return pg_int("SELECT count(*) FROM job_history WHERE job_id = $1 AND kind = $2", id, kind,
	              NULL);
}

/* GET the job's runs (the caller puts the array). */
static struct json_object *runs_of(const struct tenant *t, const char *id)
{
	char *path = fmt("/v1/fleet/jobs/%s/runs", id);
	struct http_resp r = call("GET", path, t->reader, NULL, NULL);
	struct json_object *runs = json_object_get(data_of(&r));

	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
	free(path);
	return runs;
}

/* Starts `conductorctl work` as t's worker, output into log. */
static pid_t agent_start(const struct tenant *t, const char *log, const char *factory,
                         const char *seats, const char *ttl, const char *grace, const char *script)
{
	static char token[8][160];
	static int k;
	const char *args[] = {
	    "work",    "--factory-id", factory, "--seats", seats, "--lease-ttl", ttl,
	    "--grace", grace,          "--",    "sh",      "-c",  script,        NULL};
	const char *env[] = {token[k], NULL};
	const char *ctl = getenv("CONDUCTOR_CTL");
	pid_t pid;

	snprintf(token[k], sizeof(token[k]), "CONDUCTOR_TOKEN=%s", t->worker);
	k = (k + 1) % 8;
	if (ctl == NULL) {
		CU_FAIL("CONDUCTOR_CTL (the conductorctl binary) is not set");
		return -1;
	}
	pid = spawn_logged(log, O_TRUNC, ctl, args, env);
	CU_ASSERT(log_wait(log, "\"msg\":\"agent started\"", 1, 10));
	return pid;
}

/* No sanitizer report in the agent's log (conductorctl is built with them
 * by tools/check; run-integration looks only at the servers' logs). */
#define EXPECT_CLEAN(log)                                                                          \
	do {                                                                                       \
		CU_ASSERT_FALSE(log_has((log), "Sanitizer"));                                      \
		CU_ASSERT_FALSE(log_has((log), "runtime error:"));                                 \
	} while (0)

/* SIGTERM to the agent; its exit status (0 after a drain). Its log (log)
 * must hold no sanitizer report. */
static int agent_stop(pid_t pid, const char *log)
{
	int status;

	kill(pid, SIGTERM);
	status = wait_exit(pid);
	EXPECT_CLEAN(log);
	return status;
}

/* The pid a command wrote into the file at path; 0 when none. */
static pid_t pid_in(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

/* Has pid ended, not yet waited for (state Z in /proc/<pid>/stat)? */
static bool is_zombie(pid_t pid)
{
	char path[64], stat[256] = "", *paren;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	if (fgets(stat, sizeof(stat), f) == NULL)
		stat[0] = '\0';
	fclose(f);
	paren = strrchr(stat, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

/* Waits up to 5 s for a command to write its pid into the file at path;
 * 0 when none did. */
static pid_t wait_pid_in(const char *path)
{
	pid_t pid = 0;

	for (int i = 0; i < 50 && (pid = pid_in(path)) == 0; i++)
		sleep_ms(100);
	return pid;
}

/* Waits up to ms for pid to be gone. */
static bool gone_within(pid_t pid, long ms)
{
	for (long waited = 0; waited <= ms; waited += 50) {
		if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
			return true;
		if (pid > 0 && is_zombie(pid)) /* dead, its parent gone: whoever adopted it reaps */
			return true;
		sleep_ms(50);
	}
	return false;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Lines of nginx's access log holding needle (and also2, unless NULL). The
 * log is written at most a second late: this waits first. */
static int access_lines2(const char *needle, const char *also)
{
	char path[512], line[4096];
	FILE *f;
	int n = 0;

	sleep_ms(1500);
	snprintf(path, sizeof(path), "%s/log/nginx-access.log", getenv("CONDUCTOR_STACK_DIR"));
	if ((f = fopen(path, "r")) == NULL) {
		CU_FAIL("no nginx access log");
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL && (also == NULL || strstr(line, also) != NULL);
	fclose(f);
	return n;
}

static int access_lines(const char *needle)
{
	return access_lines2(needle, NULL);
}

/* The claims answered in under a second (that did not wait). */
static int quick_claims(void)
{
	return access_lines2("\"uri\":\"/v1/fleet/claim\"", "\"request_time\":0.");
}

/* ---- jobs end to end ---------------------------------------------------------- */

/* The body on stdin, the job's id and epoch in the environment, the token
 * not; exit 0 -> shipped with exit_status, stdout/stderr tails and wall_ms;
 * a result file sets result and insights (wall_ms added); one that is no
 * JSON, or that the API refuses (an unknown insights key: a 400 for the
 * whole jobs:transition), is reported without, saying why, and does not keep
 * the others from being reported. */
static void test_jobs_complete_end_to_end(void)
{
	struct tenant *t = tenant_new("e2e");
	char plain[IDLEN], file[IDLEN], bad[IDLEN], junk[IDLEN], *want;
	struct json_object *runs, *run, *res, *ins;
	pid_t agent;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "plain", "", plain);
	submit(t, "file", "", file);
	submit(t, "bad", "", bad);
	submit(t, "junk", "", junk);
	agent = agent_start(
	    t, "e2e.log", "e2e-box", "4", "30", "5",
	    "b=$(cat); echo \"did $b token=${CONDUCTOR_TOKEN:-none}${CONDUCTOR_ADMIN_TOKEN:-}\";"
	    " echo \"$CONDUCTOR_JOB_ID/$CONDUCTOR_LEASE_EPOCH\" >&2; sleep 0.3;"
	    " if [ \"$b\" = file ]; then echo '{\"result\":{\"answer\":42},"
	    "\"insights\":{\"tokens_in\":5}}' > \"$CONDUCTOR_RESULT_FILE\"; fi;"
	    " if [ \"$b\" = bad ]; then echo '{\"insights\":{\"nope\":1}}' > "
	    "\"$CONDUCTOR_RESULT_FILE\"; fi;"
	    " if [ \"$b\" = junk ]; then echo 'nope' > \"$CONDUCTOR_RESULT_FILE\"; fi");
	CU_ASSERT(wait_stage(plain, "shipped", 15));
	CU_ASSERT(wait_stage(file, "shipped", 15));
	CU_ASSERT(wait_stage(bad, "shipped", 15));
	CU_ASSERT(wait_stage(junk, "shipped", 15));
	CU_ASSERT_EQUAL(agent_stop(agent, "e2e.log"), 0);

	runs = runs_of(t, plain);
	CU_ASSERT_EQUAL_FATAL(len_of(runs), 1);
	run = item_at(runs, 0);
	res = obj_at(run, "result");
	ins = obj_at(run, "insights");
	EXPECT_STR(str_at(run, "exit"), "shipped");
	EXPECT_STR(str_at(run, "factory_id"), "e2e-box");
	EXPECT_INT(int_at(res, "exit_status"), 0);
	EXPECT_STR(str_at(res, "stdout_tail"), "did plain token=none\n");
	want = fmt("%s/1\n", plain);
	EXPECT_STR(str_at(res, "stderr_tail"), want);
	free(want);
	CU_ASSERT(int_at(ins, "wall_ms") >= 300 && int_at(ins, "wall_ms") < 10000);
	json_object_put(runs);

	runs = runs_of(t, file);
	CU_ASSERT_EQUAL_FATAL(len_of(runs), 1);
	res = obj_at(item_at(runs, 0), "result");
	ins = obj_at(item_at(runs, 0), "insights");
	EXPECT_INT(int_at(res, "answer"), 42);
	CU_ASSERT_PTR_NULL(obj_at(res, "exit_status")); /* the file's result, whole */
	EXPECT_INT(int_at(ins, "tokens_in"), 5);
	CU_ASSERT(int_at(ins, "wall_ms") >= 300);
	json_object_put(runs);

	runs = runs_of(t, bad);
	res = obj_at(item_at(runs, 0), "result");
	EXPECT_INT(int_at(res, "exit_status"), 0);
	CU_ASSERT(strstr(str_at(res, "result_file_error"), "nope") != NULL);
	CU_ASSERT(int_at(obj_at(item_at(runs, 0), "insights"), "wall_ms") >= 300);
	json_object_put(runs);
	runs = runs_of(t, junk);
	res = obj_at(item_at(runs, 0), "result");
	EXPECT_STR(str_at(res, "result_file_error"), "the result file is not a JSON object");
	EXPECT_STR(str_at(res, "stdout_tail"), "did junk token=none\n");
	json_object_put(runs);
	CU_ASSERT(log_has("e2e.log", "\"msg\":\"job finished\",\"job_id\":\""));
	CU_ASSERT(log_has("e2e.log", "\"msg\":\"agent stopped\""));
}

/* Exit 3 -> failed with the status and the last 4 KiB of stderr; retried per
 * the retry policy: {max 1} -> a second attempt that ships, {max 0} ->
 * dead_letter after one run. */
static void test_failing_command_failed_then_retried(void)
{
	struct tenant *t = tenant_new("fail");
	char retried[IDLEN], once[IDLEN];
	struct json_object *runs, *res;
	const char *tail;
	pid_t agent;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "a", ",\"retry\":{\"max\":1,\"backoff_s\":0}", retried);
	submit(t, "b", ",\"retry\":{\"max\":0,\"backoff_s\":0}", once);
	agent = agent_start(
	    t, "fail.log", "fail-box", "2", "30", "5",
	    "if [ \"$(cat)\" = a ] && [ \"$CONDUCTOR_LEASE_EPOCH\" -ge 2 ]; then exit 0; fi;"
	    " head -c 10000 /dev/zero | tr '\\0' x >&2; echo END >&2; exit 3");
	CU_ASSERT(wait_stage(retried, "shipped", 20));
	CU_ASSERT(wait_stage(once, "dead_letter", 20));
	CU_ASSERT_EQUAL(agent_stop(agent, "fail.log"), 0);

	runs = runs_of(t, retried);
	CU_ASSERT_EQUAL_FATAL(len_of(runs), 2);
	EXPECT_STR(str_at(item_at(runs, 0), "exit"), "failed");
	res = obj_at(item_at(runs, 0), "result");
	EXPECT_INT(int_at(res, "exit_status"), 3);
	tail = str_at(res, "stderr_tail");
	EXPECT_INT((int64_t)strlen(tail), 4096);
	CU_ASSERT(strlen(tail) >= 4 && strcmp(tail + strlen(tail) - 4, "END\n") == 0);
	CU_ASSERT(int_at(obj_at(item_at(runs, 0), "insights"), "wall_ms") >= 0);
	EXPECT_STR(str_at(item_at(runs, 1), "exit"), "shipped");
	json_object_put(runs);
	EXPECT_INT(events_of(retried, "failed"), 1);
	EXPECT_INT(events_of(retried, "requeued"), 1);

	runs = runs_of(t, once);
	EXPECT_INT((int64_t)len_of(runs), 1);
	EXPECT_INT(int_at(obj_at(item_at(runs, 0), "result"), "exit_status"), 3);
	json_object_put(runs);
	EXPECT_INT(events_of(once, "dead_lettered"), 1);
	CU_ASSERT(log_has("fail.log", "\"stage\":\"dead_letter\",\"exit_status\":\"3\""));
}

/* A checkpoint written while the command runs is saved with the renewal
 * (lease 6 s: renewed after 2 s), before the job ends. */
static void test_checkpoint_saved_with_renewal(void)
{
	struct tenant *t = tenant_new("ckpt");
	char id[IDLEN], cp[256] = "";
	pid_t agent;
	bool seen = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "x", "", id);
	agent = agent_start(t, "ckpt.log", "ckpt-box", "1", "6", "5",
	                    "echo '{\"step\": 3}' > \"$CONDUCTOR_CHECKPOINT_FILE\"; sleep 5");
	for (int i = 0; i < 45 && !seen; i++) {
		sleep_ms(100);
		pg_str(cp, sizeof(cp),
		       "SELECT checkpoint->>'step' FROM jobs WHERE id = $1 AND "
		       "stage = 'assigned'",
		       id, NULL);
		seen = strcmp(cp, "3") == 0;
	}
	CU_ASSERT(seen);
	CU_ASSERT(wait_stage(id, "shipped", 10));
	CU_ASSERT_EQUAL(agent_stop(agent, "ckpt.log"), 0);
}

/* ---- fencing ------------------------------------------------------------------ */

/* A job cancelled while its command runs: the next renewal (lease 6 s:
 * every 2 s) answers 409, the command's whole process group is killed (a
 * process it started in the background too), and the agent
 * sends no report for it: no transition, no PATCH in the access log, no
 * event after `cancelled`. */
static void test_cancelled_job_killed_no_stale_report(void)
{
	struct tenant *t = tenant_new("cancel");
	char id[IDLEN], pidfile[512], marker[512], script[1400], *path;
	int transitions, patches;
	struct http_resp r;
	pid_t agent, cmd = 0;
	long long t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	log_path(pidfile, sizeof(pidfile), "cancel.pid");
	log_path(marker, sizeof(marker), "cancel.marker");
	unlink(pidfile);
	unlink(marker);
	/* the pid is the background sleep's: the group is killed, not only the shell */
	snprintf(script, sizeof(script), "sleep 8 & echo $! > '%s'; wait; touch '%s'", pidfile,
	         marker);
	submit(t, "x", "", id);
	transitions = access_lines("\"uri\":\"/v1/fleet/jobs:transition\"");
	patches = access_lines("\"method\":\"PATCH\"");
	agent = agent_start(t, "cancel.log", "cancel-box", "1", "6", "5", script);
	t0 = mono_ms();
	CU_ASSERT(wait_stage(id, "assigned", 10));
	cmd = wait_pid_in(pidfile);
	CU_ASSERT_FATAL(cmd > 0);
	path = fmt("/v1/fleet/jobs/%s/cancel", id);
	r = call("POST", path, t->submitter, "{}", NULL);
	EXPECT_STATUS(r, 200);
	http_resp_free(&r);
	free(path);
	/* killed at the next renewal: within a third of the TTL (and a margin) */
	CU_ASSERT(gone_within(cmd, 3500));
	CU_ASSERT(log_wait("cancel.log", "\"msg\":\"lease lost (job cancelled or reaped)", 1, 5));
	/* the command would have touched the marker after 8 s */
	while (mono_ms() - t0 < 9500)
		sleep_ms(100);
	CU_ASSERT_FALSE(file_exists(marker));
	CU_ASSERT_EQUAL(agent_stop(agent, "cancel.log"), 0);
	EXPECT_INT(access_lines("\"uri\":\"/v1/fleet/jobs:transition\""), transitions);
	EXPECT_INT(access_lines("\"method\":\"PATCH\""), patches);
	EXPECT_INT(
	    pg_int("SELECT count(*) FROM job_history WHERE job_id = $1 AND id > "
	           "(SELECT max(id) FROM job_history WHERE job_id = $1 AND kind = 'cancelled')",
	           id, NULL),
	    0);
	{
		char st[IDLEN];

		EXPECT_STR(stage_of(st, id), "cancelled");
	}
	CU_ASSERT_FALSE(log_has("cancel.log", "\"msg\":\"job finished\""));
}

/* An agent SIGKILLed: its command dies with it; the lease expires, the
 * reaper requeues the job (its checkpoint kept), and a second agent
 * finishes it, its command given the checkpoint the first one saved. */
static void test_reaper_takes_back_killed_agents_job(void)
{
	struct tenant *t = tenant_new("reap");
	static const char *const once[] = {"--once", NULL};
	char id[IDLEN], pidfile[512], script[1400];
	struct json_object *runs;
	pid_t agent, cmd = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	log_path(pidfile, sizeof(pidfile), "reap.pid");
	unlink(pidfile);
	snprintf(script, sizeof(script),
	         "if [ \"$CONDUCTOR_LEASE_EPOCH\" = 1 ]; then"
	         " echo '{\"step\": 1}' > \"$CONDUCTOR_CHECKPOINT_FILE\"; echo $$ > '%s';"
	         " exec sleep 60; fi; echo \"second $CONDUCTOR_JOB_CHECKPOINT\"",
	         pidfile);
	submit(t, "x", ",\"retry\":{\"max\":3,\"backoff_s\":0}", id);
	agent = agent_start(t, "reap-1.log", "reap-box-1", "1", "5", "5", script);
	CU_ASSERT(wait_stage(id, "assigned", 10));
	cmd = wait_pid_in(pidfile);
	CU_ASSERT_FATAL(cmd > 0);
	/* its checkpoint saved with the first renewal (after 5/3 s) */
	for (int i = 0;
	     i < 40 &&
	     pg_int("SELECT (checkpoint->>'step')::int FROM jobs WHERE id = $1", id, NULL) != 1;
	     i++)
		sleep_ms(100);
	kill(agent, SIGKILL);
	EXPECT_INT(wait_exit(agent), 128 + SIGKILL);
	CU_ASSERT(gone_within(cmd, 2000)); /* PR_SET_PDEATHSIG */
	if (cmd > 0)
		kill(-cmd, SIGKILL); /* whatever it left, if the above failed */
	/* what 5 s would do; then one reaper pass */
	EXPECT_INT(pg_cmd(NULL,
	                  "UPDATE jobs SET lease_expires_at = now() - interval '1 s'"
	                  " WHERE id = $1 AND lease_status = 'held'",
	                  id, NULL),
	           1);
	EXPECT_INT(wait_exit(spawn_logged("reap-reaper.log", O_TRUNC, getenv("CONDUCTOR_REAPER"),
	                                  once, NULL)),
	           0);
	CU_ASSERT(wait_stage(id, "queued", 5));
	EXPECT_INT(events_of(id, "lease_expired"), 1);
	agent = agent_start(t, "reap-2.log", "reap-box-2", "1", "5", "5", script);
	CU_ASSERT(wait_stage(id, "shipped", 15));
	CU_ASSERT_EQUAL(agent_stop(agent, "reap-2.log"), 0);
	runs = runs_of(t, id);
	CU_ASSERT_EQUAL_FATAL(len_of(runs), 2);
	EXPECT_STR(str_at(item_at(runs, 0), "exit"), "lease_expired");
	EXPECT_STR(str_at(item_at(runs, 1), "factory_id"), "reap-box-2");
	/* the second attempt resumed from the first's checkpoint */
	EXPECT_STR(str_at(obj_at(item_at(runs, 1), "result"), "stdout_tail"),
	           "second {\"step\":1}\n");
	json_object_put(runs);
}

/* ---- stopping ----------------------------------------------------------------- */

/* SIGTERM with a short job and a long one running (--grace 2): the short one
 * finishes and is reported, the long one is killed at the end of the grace
 * and its job requeued (released, not a failed attempt), nothing is claimed
 * after the signal, and the agent exits 0 soon after the grace. */
static void test_sigterm_drains_within_grace(void)
{
	struct tenant *t = tenant_new("drain");
	char quick[IDLEN], slow[IDLEN], later[IDLEN], pidfile[512], script[1400], st[IDLEN];
	pid_t agent, cmd = 0;
	long long t0, took;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	log_path(pidfile, sizeof(pidfile), "drain.pid");
	unlink(pidfile);
	snprintf(script, sizeof(script),
	         "if [ \"$(cat)\" = slow ]; then echo $$ > '%s'; sleep 30; else sleep 1; fi",
	         pidfile);
	submit(t, "quick", "", quick);
	submit(t, "slow", "", slow);
	agent = agent_start(t, "drain.log", "drain-box", "2", "30", "2", script);
	CU_ASSERT(wait_stage(quick, "assigned", 10));
	CU_ASSERT(wait_stage(slow, "assigned", 10));
	cmd = wait_pid_in(pidfile);
	t0 = mono_ms();
	kill(agent, SIGTERM);
	sleep_ms(300);
	submit(t, "quick", "", later); /* an agent that is draining claims nothing */
	status = wait_exit(agent);
	took = mono_ms() - t0;
	EXPECT_CLEAN("drain.log");
	EXPECT_INT(status, 0);
	CU_ASSERT(took >= 2000 && took < 5500);
	if (took < 2000 || took >= 5500)
		fprintf(stderr, "test_work: drained in %lld ms with --grace 2\n", took);
	EXPECT_STR(stage_of(st, quick), "shipped");
	EXPECT_STR(stage_of(st, slow), "queued");
	EXPECT_STR(stage_of(st, later), "queued");
	EXPECT_INT(events_of(slow, "released"), 1);
	EXPECT_INT(pg_int("SELECT attempts FROM jobs WHERE id = $1", slow, NULL), 1);
	CU_ASSERT(cmd > 0 && gone_within(cmd, 500));
	CU_ASSERT(log_has("drain.log", "\"msg\":\"grace over: command killed, lease released\""));
}

/* A second SIGTERM ends the agent at once, its command killed. */
static void test_second_sigterm_ends_at_once(void)
{
	struct tenant *t = tenant_new("twice");
	char id[IDLEN], pidfile[512], script[1400];
	pid_t agent, cmd = 0;
	long long t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	log_path(pidfile, sizeof(pidfile), "twice.pid");
	unlink(pidfile);
	snprintf(script, sizeof(script), "echo $$ > '%s'; sleep 30", pidfile);
	submit(t, "x", "", id);
	agent = agent_start(t, "twice.log", "twice-box", "1", "30", "60", script);
	CU_ASSERT(wait_stage(id, "assigned", 10));
	cmd = wait_pid_in(pidfile);
	kill(agent, SIGTERM);
	CU_ASSERT(log_wait("twice.log", "\"msg\":\"draining", 1, 5));
	t0 = mono_ms();
	kill(agent, SIGTERM);
	EXPECT_INT(wait_exit(agent), 128 + SIGTERM);
	EXPECT_CLEAN("twice.log");
	CU_ASSERT(mono_ms() - t0 < 2500);
	CU_ASSERT(cmd > 0 && gone_within(cmd, 1000));
}

/* ---- reporting ---------------------------------------------------------------- */

/* Four jobs claimed together end together (their commands wait for the
 * test to close a FIFO): one jobs:transition, so one transaction, so their
 * stage_changed events carry one time (now() is the transaction's). */
static void test_finished_jobs_reported_in_one_transition(void)
{
	struct tenant *t = tenant_new("batch");
	char id[4][IDLEN], fifo[512], started[512], script[1400], *ids;
	pid_t agent;
	int fd, n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	log_path(fifo, sizeof(fifo), "batch.fifo");
	log_path(started, sizeof(started), "batch.started");
	unlink(fifo);
	unlink(started);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDWR | O_CLOEXEC); /* a writer: the commands' reads wait for its close */
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(script, sizeof(script), "echo x >> '%s'; cat '%s' > /dev/null", started, fifo);
	for (int i = 0; i < 4; i++)
		submit(t, "x", "", id[i]);
	agent = agent_start(t, "batch.log", "batch-box", "4", "30", "5", script);
	for (int i = 0; i < 100 && n < 4; i++) {
		char *text;

		sleep_ms(100);
		text = log_text("batch.started");
		n = 0;
		for (const char *p = text; (p = strchr(p, 'x')) != NULL; p++)
			n++;
		free(text);
	}
	EXPECT_INT(n, 4);
	sleep_ms(500); /* each is in its read */
	close(fd);
	for (int i = 0; i < 4; i++)
		CU_ASSERT(wait_stage(id[i], "shipped", 15));
	CU_ASSERT_EQUAL(agent_stop(agent, "batch.log"), 0);
	ids = fmt("{%s,%s,%s,%s}", id[0], id[1], id[2], id[3]);
	/* job_history: a ship's stage_changed is read from its run (sql/012) */
	EXPECT_INT(pg_int("SELECT count(*) FROM job_history WHERE job_id = ANY($1::bigint[])"
	                  " AND kind = 'stage_changed'",
	                  ids, NULL),
	           4);
	EXPECT_INT(
	    pg_int("SELECT count(DISTINCT at) FROM job_history WHERE job_id = ANY($1::bigint[])"
	           " AND kind = 'stage_changed'",
	           ids, NULL),
	    1);
	free(ids);
	unlink(fifo);
}

/* Every long-poll slot of conductor-fcgi taken (6 claims waiting 6 s; the
 * stack has 8 threads, so 4 slots): the agent's claims are answered at once,
 * empty, with Retry-After. It must not ask again at once: over 3 s, a few
 * claims, not hundreds. */
static void test_claims_do_not_spin_when_server_cannot_wait(void)
{
	struct tenant *t = tenant_new("spin");
	char auth[200], *url;
	pid_t hog[6], agent;
	int before, claims;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->worker);
	url = fmt("%s/v1/fleet/claim", getenv("CONDUCTOR_URL"));
	for (int i = 0; i < 6; i++) {
		const char *args[] = {"-s",
		                      "-o",
		                      "/dev/null",
		                      "-H",
		                      auth,
		                      "-H",
		                      "Content-Type: application/json",
		                      "-d",
		                      "{\"factory_id\":\"hog\",\"wait_ms\":6000}",
		                      url,
		                      NULL};

		hog[i] = spawn_logged("spin-hog.log", O_APPEND, "curl", args, NULL);
	}
	before = quick_claims(); /* the hogs beyond the slots answered at once */
	agent = agent_start(t, "spin.log", "spin-box", "1", "30", "5", "true");
	sleep_ms(3000);
	CU_ASSERT_EQUAL(agent_stop(agent, "spin.log"), 0);
	claims = quick_claims() - before;
	CU_ASSERT(claims >= 1 && claims <= 5);
	if (claims < 1 || claims > 5)
		fprintf(stderr, "test_work: %d claims answered at once in 3 s\n", claims);
	for (int i = 0; i < 6; i++)
		wait_exit(hog[i]);
	free(url);
}

/* nginx stopped while a command runs: the command goes on, the agent backs
 * off, and reports once nginx is back (the lease still holds). */
static void test_api_lost_reported_when_back(void)
{
	struct tenant *t = tenant_new("lost");
	const char *stack = getenv("CONDUCTOR_STACK_DIR");
	char id[IDLEN], *pidpath, *start;
	pid_t agent, nginx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "x", "", id);
	agent = agent_start(t, "lost.log", "lost-box", "1", "30", "5", "sleep 2; echo done");
	CU_ASSERT(wait_stage(id, "assigned", 10));
	pidpath = fmt("%s/nginx/nginx.pid", stack);
	nginx = pid_in(pidpath);
	CU_ASSERT_FATAL(nginx > 0);
	kill(nginx, SIGTERM);
	CU_ASSERT(gone_within(nginx, 5000));
	CU_ASSERT(log_wait("lost.log", "\"msg\":\"api unreachable", 1, 10));
	sleep_ms(1000);
	start = fmt("nginx -p '%s/nginx/' -c '%s/nginx/nginx.conf' -e '%s/log/nginx-error.log'",
	            stack, stack, stack);
	CU_ASSERT_EQUAL_FATAL(system(start), 0);
	CU_ASSERT(wait_stage(id, "shipped", 40));
	CU_ASSERT(log_has("lost.log", "\"msg\":\"api reachable again\""));
	CU_ASSERT_EQUAL(agent_stop(agent, "lost.log"), 0);
	free(start);
	free(pidpath);
}

/* ---- usage -------------------------------------------------------------------- */

static int ctl_status(const char *args)
{
	char *cmd = fmt("'%s' %s >/dev/null 2>&1", getenv("CONDUCTOR_CTL"), args);
	int st = system(cmd);

	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Bad flags: exit 2 before anything runs; a token that may not work: 1. */
static void test_bad_flags_and_token(void)
{
	struct tenant *t = tenant_new("flags");
	char *args;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	EXPECT_INT(ctl_status("work -- true"), 2);                          /* no --factory-id */
	EXPECT_INT(ctl_status("work --factory-id f"), 2);                   /* no command */
	EXPECT_INT(ctl_status("work --factory-id f --seats 0 -- true"), 2); /* 1..100 */
	EXPECT_INT(ctl_status("work --factory-id f --lease-ttl 4 -- true"), 2);
	EXPECT_INT(ctl_status("work --factory-id f --grace x -- true"), 2);
	EXPECT_INT(ctl_status("work --factory-id f -- no-such-command-here"), 2);
	EXPECT_INT(ctl_status("work --help"), 0);
	args = fmt("--token '%s' work --factory-id f -- true", t->reader); /* readonly: 403 */
	EXPECT_INT(ctl_status(args), 1);
	free(args);
	EXPECT_INT(ctl_status("--url http://127.0.0.1:1 --token t work --factory-id f -- true"), 3);
}

/* ---- the suite ------------------------------------------------------------------ */

static CU_TestInfo TESTS[] = {
    {"jobs_complete_end_to_end", test_jobs_complete_end_to_end},
    {"failing_command_failed_then_retried", test_failing_command_failed_then_retried},
    {"checkpoint_saved_with_renewal", test_checkpoint_saved_with_renewal},
    {"cancelled_job_killed_no_stale_report", test_cancelled_job_killed_no_stale_report},
    {"reaper_takes_back_killed_agents_job", test_reaper_takes_back_killed_agents_job},
    {"sigterm_drains_within_grace", test_sigterm_drains_within_grace},
    {"second_sigterm_ends_at_once", test_second_sigterm_ends_at_once},
    {"finished_jobs_reported_in_one_transition", test_finished_jobs_reported_in_one_transition},
    {"claims_do_not_spin_when_server_cannot_wait", test_claims_do_not_spin_when_server_cannot_wait},
    {"bad_flags_and_token", test_bad_flags_and_token},
    /* last: it stops and restarts nginx */
    {"api_lost_reported_when_back", test_api_lost_reported_when_back},
    CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite work = {"work", "work", false};

	procs_logdir("work-logs");
	return suite_run(&work, TESTS);
}

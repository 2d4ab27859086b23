/* test_check.c -- `conductorctl check` and `conductorctl config` against the
 * real stack (run by tests/http/run-integration; program test_ctl_check,
 * CTL_CHECK_ONLY=name[,name] runs only those tests).
 *
 * check: every line ✔ and exit 0 on the healthy stack (and --json says the
 * same); the PostgreSQL line ✘ when database_url points at a socket
 * directory where nothing listens (the shared stack's PostgreSQL is never
 * stopped), the checks needing it skipped, not failed again; the schema line
 * ✘ naming the missing migration on a second database of the same server
 * migrated one step short (tools/migrate run on a copy of sql/ without its
 * newest file); the token line ✘ with a revoked token; the timers line ✘
 * with a copy that stopped writing its state. config: the source of a key
 * set in the environment, in a --config file and by default; never a secret
 * (the output is searched for the token, the API key and the password).
 *
 * conductorctl runs as a child with extra environment (procs.h); its stdout
 * and stderr go to a log under the stack's directory, read back whole.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "../cutest.h"
#include "../http/expect.h"
#include "../http/procs.h"

#define LOG "ctl.log"

static char tag[16]; /* makes names unique per run */

/* ---- running conductorctl ---------------------------------------------------- */

/* Runs conductorctl with args and extra environment (both NULL-terminated
 * or NULL); *out: what it printed, stdout and stderr (new string). Returns
 * its exit status. */
static int ctl(const char *const *args, const char *const *env, char **out)
{
	const char *bin = getenv("CONDUCTOR_CTL");
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
	status = wait_exit(spawn_logged(LOG, O_TRUNC, bin, args, env));
	*out = log_text(LOG);
	return status;
}

/* Expects needle in text; says what came instead. */
#define EXPECT_HAS(text, needle) expect_has_at((text), (needle), true, __LINE__)
#define EXPECT_LACKS(text, needle) expect_has_at((text), (needle), false, __LINE__)
static void expect_has_at(const char *text, const char *needle, bool want, int line)
{
	bool has = strstr(text, needle) != NULL;

	CHECK_AT(has == want, line, want ? "output has the text" : "output lacks the text");
	if (has != want)
		fprintf(stderr, "\n  line %d: %s \"%s\" in:\n%s\n", line,
		        want ? "no" : "unexpected", needle, text);
}

/* A new token of role called name (tenant default; admin: every tenant);
 * NULL when conductorctl failed. Caller frees. */
static char *token_new(const char *role, const char *name)
{
	const char *const args[] = {"token", "create", "--role", role, "--name", name, NULL};
	char *out, *nl, *last;
	int status = ctl(args, NULL, &out);

	/* the token is alone on the last line of stdout */
	while ((nl = strrchr(out, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	last = strrchr(out, '\n');
	last = strdup(last != NULL ? last + 1 : out);
	if (status != 0)
		fprintf(stderr, "token create: %s\n", out);
	free(out);
	if (status != 0) {
		free(last);
		return NULL;
	}
	return last;
}

/* The checks all passed: exit 0, lines 1-7 ✔, nothing failed or skipped. */
static void expect_all_pass_at(int status, const char *out, int line)
{
	char want[16];

	CHECK_AT(status == 0, line, "check exits 0");
	for (int n = 1; n <= 7; n++) {
		snprintf(want, sizeof(want), "✔ %d. ", n);
		expect_has_at(out, want, true, line);
	}
	expect_has_at(out, "✘", false, line);
	expect_has_at(out, "skipped:", false, line);
	if (status != 0)
		fprintf(stderr, "\n  line %d: check exited %d:\n%s\n", line, status, out);
}

/* ---- a healthy stack ---------------------------------------------------------- */

/* The stream and group check's line 4 expects, made in the stack's Redis. */
#define STREAM "ctlcheck:tasks"
#define GROUP  "ctlcheck"

static char *operator_token;

/* What a deployment has: an operator token, a stream with its workers'
 * group, a reaper that ran. Copies other suites SIGKILLed on purpose left
 * rows that stopped being written (degraded by the reading rule): they are
 * deleted, as an operator would after looking at them (the timers test
 * shows check failing on such a row). */
static void healthy_setup(void)
{
	static const char *const once[] = {"--once", NULL};
	const char *reaper = getenv("CONDUCTOR_REAPER");
	redisContext *rc = redis_open();
	char name[64];

	if (operator_token == NULL) {
		snprintf(name, sizeof(name), "ctlcheck-op-%s", tag);
		operator_token = token_new("operator", name);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(operator_token);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	freeReplyObject(rcmd(rc, "XGROUP CREATE %s %s 0 MKSTREAM", STREAM, GROUP));
	redisFree(rc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reaper);
	CU_ASSERT_EQUAL(wait_exit(spawn_logged("reaper.log", O_TRUNC, reaper, once, NULL)), 0);
	pg_cmd(NULL, "DELETE FROM timers WHERE updated_at < now() - make_interval(secs => "
	             "stale_after_s)",
	       NULL);
}

/* Runs `conductorctl check [--json]` in a healthy deployment's environment
 * (token, the stream and its group) plus extra ("KEY=value" or NULL);
 * *out: what it printed (new string). Returns its exit status. */
static int check_with(const char *token, bool json, const char *extra, char **out)
{
	const char *const args[] = {"check", json ? "--json" : NULL, NULL};
	char *tok = fmt("CONDUCTOR_TOKEN=%s", token);
	const char *const env[] = {tok, "CONDUCTOR_STREAMS=" STREAM, "CONDUCTOR_STREAM_GROUP=" GROUP,
	                           extra, NULL};
	int status = ctl(args, env, out);

	free(tok);
	return status;
}

static void test_check_passes_on_healthy_stack(void)
{
	struct json_object *j;
	const char *key = getenv("CONDUCTOR_RUNPOD_API_KEY");
	char *out;
	int status;

	healthy_setup();
	status = check_with(operator_token, false, NULL, &out);
	expect_all_pass_at(status, out, __LINE__);
	EXPECT_HAS(out, "1 stream(s) " STREAM " have group " GROUP);
	EXPECT_HAS(out, "role operator");
	EXPECT_HAS(out, "token = ********  (environment)");
	/* never a secret: the token, the fake provider's API key */
	EXPECT_LACKS(out, operator_token);
	if (key != NULL && key[0] != '\0')
		EXPECT_LACKS(out, key);
	free(out);

	status = check_with(operator_token, true, NULL, &out);
	CU_ASSERT_EQUAL(status, 0);
	j = json_tokener_parse(out);
	CU_ASSERT_PTR_NOT_NULL(j);
	CU_ASSERT_TRUE(bool_at(j, "ok"));
	CU_ASSERT_EQUAL(len_of(obj_at(j, "checks")), 7);
	for (size_t i = 0; i < len_of(obj_at(j, "checks")); i++)
		EXPECT_STR(str_at(item_at(obj_at(j, "checks"), i), "status"), "pass");
	EXPECT_LACKS(out, operator_token);
	json_object_put(j);
	free(out);

	/* a stream without its group is line 4's failure, named */
	status = check_with(operator_token, false, "CONDUCTOR_STREAMS=" STREAM ",ctlcheck:nogroup",
	                    &out);
	CU_ASSERT_EQUAL(status, 1);
	EXPECT_HAS(out, "✘ 4. Redis");
	EXPECT_HAS(out, "ctlcheck:nogroup have no consumer group " GROUP);
	EXPECT_HAS(out, "✔ 5. ");
	free(out);
}

/* ---- PostgreSQL down ------------------------------------------------------------- */

static void test_check_fails_when_postgresql_down(void)
{
	char dir[] = "/tmp/ctlcheck-nopg-XXXXXX", *out, *url, enc[128] = "";
	int status;

	healthy_setup();
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	for (const char *p = dir; *p; p++) /* the directory as a URL's host: / is %2F */
		snprintf(enc + strlen(enc), sizeof(enc) - strlen(enc), *p == '/' ? "%%2F" : "%c", *p);
	url = fmt("CONDUCTOR_DATABASE_URL=postgresql://conductor@%s/conductor", enc);
	status = check_with(operator_token, false, url, &out);
	CU_ASSERT_EQUAL(status, 1);
	EXPECT_HAS(out, "✔ 1. configuration");
	EXPECT_HAS(out, "✘ 2. PostgreSQL: PostgreSQL is unavailable");
	EXPECT_HAS(out, dir);
	EXPECT_HAS(out, "-> start PostgreSQL, or point database_url at it");
	/* what needs PostgreSQL says so, once, instead of failing again */
	EXPECT_HAS(out, "- 3. schema: skipped: needs 2. PostgreSQL");
	EXPECT_HAS(out, "- 7. timers: skipped: needs 3. schema");
	EXPECT_HAS(out, "✔ 4. Redis");
	EXPECT_HAS(out, "✔ 5. API");
	EXPECT_HAS(out, "✔ 6. token");
	EXPECT_HAS(out, "FAILED: 4 of 7 checks passed, 1 failed, 2 skipped");
	free(out);
	free(url);
	rmdir(dir);
}

/* ---- the schema one migration behind ------------------------------------------ */

/* A connection to the stack's server as postgres (the role conductor may not
 * create databases); NULL when it failed. */
static PGconn *pg_admin(void)
{
	const char *url = getenv("CONDUCTOR_DATABASE_URL");
	char *admin = fmt("%s", url), *at = strstr(admin, "conductor@"), *slash;
	PGconn *c = NULL;

	if (at != NULL && (slash = strrchr(admin, '/')) != NULL && slash > at) {
		char *u = fmt("postgresql://postgres@%.*s/postgres", (int)(slash - at - 10), at + 10);

		c = PQconnectdb(u);
		free(u);
		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "test_ctl_check: %s", PQerrorMessage(c));
			PQfinish(c);
			c = NULL;
		}
	}
	free(admin);
	return c;
}

static bool admin_cmd(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "test_ctl_check: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

/* The newest file of sql/ ("011_ui_sessions") into out; false when none. */
static bool newest_migration(char *out, size_t cap)
{
	char *cmd = fmt("ls %s/sql | grep -E '^[0-9]{3}_.*\\.sql$' | sort | tail -n 1",
	                getenv("top_srcdir"));
	FILE *p = popen(cmd, "r");
	bool ok = p != NULL && fgets(out, (int)cap, p) != NULL;

	if (p != NULL)
		pclose(p);
	free(cmd);
	if (ok && strstr(out, ".sql") != NULL)
		*strstr(out, ".sql") = '\0';
	return ok && out[0] != '\0';
}

static void test_check_fails_when_schema_behind(void)
{
	char newest[128], dir[] = "/tmp/ctlcheck-behind-XXXXXX", *db, *sql, *cmd, *url, *out, *want;
	const char *base = getenv("CONDUCTOR_DATABASE_URL");
	PGconn *admin = pg_admin();
	int status;

	healthy_setup();
	CU_ASSERT_PTR_NOT_NULL_FATAL(admin);
	CU_ASSERT_FATAL(newest_migration(newest, sizeof(newest)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	db = fmt("ctlcheck_behind_%s", tag);
	sql = fmt("CREATE DATABASE %s OWNER conductor", db);
	CU_ASSERT_FATAL(admin_cmd(admin, sql));
	free(sql);
	/* tools/migrate from a copy of the tree whose sql/ lacks its newest file */
	url = fmt("%.*s/%s", (int)(strrchr(base, '/') - base), base, db);
	cmd = fmt("set -e; mkdir -p %s/tools %s/sql; cp %s/tools/migrate %s/tools/lib.sh %s/tools/;"
	          " cp %s/sql/*.sql %s/sql/; rm %s/sql/%s.sql;"
	          " CONDUCTOR_DATABASE_URL='%s' %s/tools/migrate >/dev/null",
	          dir, dir, getenv("top_srcdir"), getenv("top_srcdir"), dir, getenv("top_srcdir"), dir,
	          dir, newest, url, dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(cmd);
	free(url);
	url = fmt("CONDUCTOR_DATABASE_URL=%.*s/%s", (int)(strrchr(base, '/') - base), base, db);
	status = check_with(operator_token, false, url, &out);
	CU_ASSERT_EQUAL(status, 1);
	EXPECT_HAS(out, "✔ 2. PostgreSQL");
	want = fmt("✘ 3. schema: Migration %s is missing", newest);
	EXPECT_HAS(out, want);
	EXPECT_HAS(out, "-> run tools/migrate");
	EXPECT_HAS(out, "- 7. timers: skipped");
	EXPECT_HAS(out, "✔ 6. token");
	free(want);
	free(out);
	free(url);
	cmd = fmt("rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(cmd);
	sql = fmt("DROP DATABASE %s", db);
	admin_cmd(admin, sql);
	free(sql);
	free(db);
	PQfinish(admin);
}

/* ---- a revoked token -------------------------------------------------------------- */

static void test_check_fails_with_revoked_token(void)
{
	char name[64], *token, *out;
	int status;

	healthy_setup();
	snprintf(name, sizeof(name), "ctlcheck-revoked-%s", tag);
	token = token_new("operator", name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(token);
	{
		const char *const revoke[] = {"token", "revoke", "--name", name, NULL};

		CU_ASSERT_EQUAL(ctl(revoke, NULL, &out), 0);
		free(out);
	}
	status = check_with(token, false, NULL, &out);
	CU_ASSERT_EQUAL(status, 1);
	EXPECT_HAS(out, "✔ 5. API");
	EXPECT_HAS(out, "✘ 6. token: GET /v1/whoami refused the token");
	EXPECT_HAS(out, "-> the token is unknown, revoked or expired");
	EXPECT_HAS(out, "✔ 7. timers");
	EXPECT_HAS(out, "FAILED: 6 of 7 checks passed, 1 failed");
	EXPECT_LACKS(out, token);
	free(out);
	free(token);
}

/* ---- a timer with no healthy copy -------------------------------------------------- */

static void test_check_fails_with_degraded_timer(void)
{
	char timer[64], *out;
	int status;

	healthy_setup();
	snprintf(timer, sizeof(timer), "ctlcheck-%s", tag);
	/* a copy that wrote "leader" an hour ago and nothing since */
	CU_ASSERT_EQUAL(pg_cmd(NULL,
	                       "INSERT INTO timers (name, holder_id, state, stale_after_s, updated_at)"
	                       " VALUES ($1, 'gone/1', 'leader', 30, now() - interval '1 hour')",
	                       timer, NULL),
	                1);
	status = check_with(operator_token, false, NULL, &out);
	CU_ASSERT_EQUAL(status, 1);
	EXPECT_HAS(out, "✘ 7. timers: 1 of ");
	EXPECT_HAS(out, "no healthy copy; gone/1 degraded since 1 h ago");
	pg_cmd(NULL, "DELETE FROM timers WHERE name = $1", timer, NULL);
	free(out);
}

/* ---- warnings ----------------------------------------------------------------------- */

/* Warnings are ⚠ lines and do not fail: a token expiring within 7 days, a
 * provider configured without its key, a timer whose last pass is further
 * back than its lease TTL. */
static void test_check_warns_without_failing(void)
{
	char name[64], timer[64], *token, *out, *want;
	int status;

	healthy_setup();
	snprintf(name, sizeof(name), "ctlcheck-soon-%s", tag);
	{
		const char *const args[] = {"token", "create", "--role", "readonly", "--name", name,
		                            "--expires-in", "5400", NULL};

		CU_ASSERT_EQUAL(ctl(args, NULL, &out), 0);
		free(out);
	}
	/* a timer run --once whose last pass (it gave its lease up at the end)
	 * ended 10 min ago; a timer of its own, so that no copy another suite
	 * left running holds it */
	snprintf(timer, sizeof(timer), "ctlcheck-once-%s", tag);
	CU_ASSERT_EQUAL(pg_cmd(NULL,
	                       "INSERT INTO leader_leases (tenant_id, name, holder_id, term,"
	                       " lease_expires_at) VALUES (0, $1, 'gone/2', 7,"
	                       " now() - interval '10 min')",
	                       timer, NULL),
	                1);
	token = fmt("CONDUCTOR_PROVIDERS=runpod,manual");
	{
		const char *const args[] = {"check", NULL};
		char *tok = fmt("CONDUCTOR_TOKEN=%s", operator_token);
		const char *const env[] = {tok, token, "CONDUCTOR_RUNPOD_API_KEY=", NULL};

		status = ctl(args, env, &out);
		free(tok);
	}
	expect_all_pass_at(status, out, __LINE__);
	EXPECT_HAS(out, "⚠ provider runpod is configured (providers) but runpod_api_key is empty");
	EXPECT_HAS(out, "expires in 1 h");
	EXPECT_HAS(out, name);
	want = fmt("⚠ timer %s: its last pass ended 10 min ago, longer ago than its lease TTL "
	           "(300 s)",
	           timer);
	EXPECT_HAS(out, want);
	pg_cmd(NULL, "DELETE FROM leader_leases WHERE tenant_id = 0 AND name = $1", timer, NULL);
	free(want);
	free(out);
	free(token);
}

/* ---- config ------------------------------------------------------------------------ */

/* The line of key in config's output (new string, "" when none). */
static char *line_of(const char *out, const char *key)
{
	char *want = fmt("\n%s ", key);
	const char *p = strstr(out, want);
	char *line = strdup("");

	if (p != NULL) {
		free(line);
		line = strndup(p + 1, strcspn(p + 1, "\n"));
	}
	free(want);
	return line;
}

static void test_config_names_sources_and_masks_secrets(void)
{
	char path[] = "/tmp/ctlcheck-conf-XXXXXX", *file_token, *env_token, *password, *db, *out,
	     *line, *text, *opt;
	struct json_object *j;
	int fd;

	healthy_setup();
	file_token = fmt("cdt_filesecret_%s", tag);
	env_token = fmt("CONDUCTOR_TOKEN=%s", operator_token);
	password = fmt("pw-%s-secret", tag);
	db = fmt("CONDUCTOR_DATABASE_URL=postgresql://conductor:%s@db.example/conductor", password);
	text = fmt("# a --config file\nstream_group = fromfile\nadmin_token=%s\nthreads=3\n",
	           file_token);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	opt = fmt("--config=%s", path);
	{
		const char *const args[] = {"config", opt, NULL};
		const char *const env[] = {env_token, db, "CONDUCTOR_THREADS=5", NULL};

		CU_ASSERT_EQUAL(ctl(args, env, &out), 0);
	}
	line = line_of(out, "stream_group");
	EXPECT_HAS(line, "fromfile");
	EXPECT_HAS(line, "file (");
	EXPECT_HAS(line, path);
	free(line);
	line = line_of(out, "threads"); /* in both: the environment wins */
	EXPECT_HAS(line, " 5 ");
	EXPECT_HAS(line, "environment (CONDUCTOR_THREADS)");
	free(line);
	line = line_of(out, "database_url");
	EXPECT_HAS(line, "postgresql://conductor:****@db.example/conductor");
	EXPECT_HAS(line, "environment (CONDUCTOR_DATABASE_URL)");
	free(line);
	line = line_of(out, "retention_days");
	EXPECT_HAS(line, " 30 ");
	EXPECT_HAS(line, "default");
	free(line);
	line = line_of(out, "token");
	EXPECT_HAS(line, "********");
	free(line);
	EXPECT_LACKS(out, operator_token);
	EXPECT_LACKS(out, file_token);
	EXPECT_LACKS(out, password);
	free(out);
	{
		const char *const args[] = {"--json", "config", opt, NULL};
		const char *const env[] = {env_token, db, NULL};

		CU_ASSERT_EQUAL(ctl(args, env, &out), 0);
	}
	j = json_tokener_parse(out);
	CU_ASSERT_PTR_NOT_NULL(j);
	EXPECT_STR(str_at(j, "file"), path);
	for (size_t i = 0; i < len_of(obj_at(j, "keys")); i++) {
		struct json_object *k = item_at(obj_at(j, "keys"), i);
		const char *key = str_at(k, "key");

		if (strcmp(key, "stream_group") == 0)
			EXPECT_STR(str_at(k, "source"), "file");
		if (strcmp(key, "token") == 0) {
			EXPECT_STR(str_at(k, "source"), "environment");
			CU_ASSERT_TRUE(bool_at(k, "secret"));
		}
		if (strcmp(key, "retention_days") == 0)
			EXPECT_STR(str_at(k, "source"), "default");
	}
	EXPECT_LACKS(out, operator_token);
	EXPECT_LACKS(out, file_token);
	EXPECT_LACKS(out, password);
	json_object_put(j);
	free(out);
	/* a bad key: exit 2 naming it, the value not echoed */
	{
		const char *const args[] = {"config", NULL};
		const char *const env[] = {"CONDUCTOR_THREADS=many", NULL};

		CU_ASSERT_EQUAL(ctl(args, env, &out), 2);
		EXPECT_HAS(out, "threads (CONDUCTOR_THREADS)");
		free(out);
	}
	unlink(path);
	free(opt);
	free(text);
	free(db);
	free(password);
	free(env_token);
	free(file_token);
}

/* check's line 1 is a bad key's place, not an exit: the rest is skipped. */
static void test_check_bad_key_is_line_one(void)
{
	static const char *const args[] = {"check", NULL};
	const char *const env[] = {"CONDUCTOR_THREADS=many", NULL};
	char *out;

	CU_ASSERT_EQUAL(ctl(args, env, &out), 1);
	EXPECT_HAS(out, "✘ 1. configuration: configuration key threads (CONDUCTOR_THREADS)");
	EXPECT_HAS(out, "- 2. PostgreSQL: skipped: needs 1. configuration");
	EXPECT_HAS(out, "- 6. token: skipped: needs 5. API");
	EXPECT_HAS(out, "0 of 7 checks passed, 1 failed, 6 skipped");
	free(out);
}

static CU_TestInfo TESTS[] = {
	{"check_passes_on_healthy_stack", test_check_passes_on_healthy_stack},
	{"check_fails_when_postgresql_down", test_check_fails_when_postgresql_down},
	{"check_fails_when_schema_behind", test_check_fails_when_schema_behind},
	{"check_fails_with_revoked_token", test_check_fails_with_revoked_token},
	{"check_fails_with_degraded_timer", test_check_fails_with_degraded_timer},
	{"check_bad_key_is_line_one", test_check_bad_key_is_line_one},
	{"check_warns_without_failing", test_check_warns_without_failing},
	{"config_names_sources_and_masks_secrets", test_config_names_sources_and_masks_secrets},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite s = {"ctl_check", "ctlcheck", false};
	int rc;

	snprintf(tag, sizeof(tag), "%08lx", ((unsigned long)getpid() * 2654435761UL) & 0xffffffffUL);
	procs_logdir("ctl-check-logs");
	rc = suite_run(&s, TESTS);
	free(operator_token);
	return rc;
}

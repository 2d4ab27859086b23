/* test_ctl.c -- conductorctl's commands over the HTTP API (src/ctl/jobs.c,
 * tasks.c, control.c, output.c), run as a person or a script runs them:
 * the binary ($CONDUCTOR_CTL) as a child process against the stack
 * tests/http/run-integration starts, through nginx.
 *
 * Covers: --json prints one JSON document for every command, and it says
 * what the API says (submit then show: the same id and body; list --all
 * follows the cursor past one page; the answers of workers, runtimes,
 * status, system and tasks equal the API's own); every command's --help
 * exits 0, names the command and has an Example line; the exit statuses: 1
 * when the API refuses (its message printed as the envelope gave it), 2 for
 * bad usage, 3 when nothing listens at the URL; jobs wait exits 0 on
 * shipped and 1 on failed or cancelled (and at --timeout); jobs batch names
 * the line the API or the parser refused and submits none of them; human
 * output: columns aligned, long values cut with an ellipsis, no control
 * character of the data printed, colour only on a terminal and never with
 * NO_COLOR.
 *
 * Each test works in tenants of its own (octl-<what>-<run tag>), so counts
 * are exact. CTL_ONLY=name[,name] runs only those tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../http/expect.h"
#include "base/json.h"

#define CLI_ARGS_MAX 32
#define CLI_TIMEOUT_S 60 /* a run that takes longer is killed and fails the test */

/* One run of conductorctl. */
struct cli {
	pid_t pid;
	int status;                      /* exit status; -1 killed or not run */
	char *out, *err;                 /* what it printed (owned) */
	struct json_object *json;        /* out parsed strictly, NULL when it is not JSON */
	char out_path[512], err_path[512], in_path[512];
};

/* ---- running conductorctl ------------------------------------------------ */

static void temp_path(char *out, size_t cap, const char *what)
{
	static int n;
	const char *dir = getenv("CONDUCTOR_STACK_DIR");

	snprintf(out, cap, "%s/ctl-%d-%d.%s", dir ? dir : ".", (int)getpid(), n++, what);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 4096, r;
	char *s = malloc(cap);

	if (f == NULL) {
		s[0] = '\0';
		return s;
	}
	while ((r = fread(s + n, 1, cap - 1 - n, f)) > 0) {
		n += r;
		if (n + 1 == cap)
			s = realloc(s, cap *= 2);
	}
	fclose(f);
	s[n] = '\0';
	return s;
}

/* Starts conductorctl with argv (NULL-terminated), stdin from in (NULL:
 * /dev/null), extra environment env ("K=V", NULL-terminated, or NULL). */
static void cli_start(struct cli *c, const char *in, const char *const *env,
                      const char *const *argv)
{
	const char *ctl = getenv("CONDUCTOR_CTL");
	const char *args[CLI_ARGS_MAX + 2];
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	c->status = -1;
	temp_path(c->out_path, sizeof(c->out_path), "out");
	temp_path(c->err_path, sizeof(c->err_path), "err");
	temp_path(c->in_path, sizeof(c->in_path), "in");
	if (in != NULL) {
		FILE *f = fopen(c->in_path, "wb");

		fputs(in, f);
		fclose(f);
	}
	args[n++] = ctl;
	for (size_t i = 0; argv[i] != NULL && n < CLI_ARGS_MAX; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	c->pid = fork();
	if (c->pid == 0) {
		int i = open(in ? c->in_path : "/dev/null", O_RDONLY);
		int o = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(c->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		for (size_t k = 0; env != NULL && env[k] != NULL; k++)
			putenv((char *)env[k]);
		execv(ctl, (char *const *)args);
		_exit(127);
	}
}

/* Waits for the run (killing it after CLI_TIMEOUT_S) and reads what it
 * printed. */
static void cli_finish(struct cli *c)
{
	struct cd_error e;
	int st = 0;

	for (int waited = 0; waited < CLI_TIMEOUT_S * 20; waited++) {
		pid_t p = waitpid(c->pid, &st, WNOHANG);

		if (p == c->pid) {
			c->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			break;
		}
		usleep(50 * 1000);
	}
	if (c->status == -1 && kill(c->pid, 0) == 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &st, 0);
		fprintf(stderr, "\n  conductorctl ran longer than %d s: killed\n", CLI_TIMEOUT_S);
	}
	c->out = slurp(c->out_path);
	c->err = slurp(c->err_path);
	unlink(c->out_path);
	unlink(c->err_path);
	unlink(c->in_path);
	cd_error_reset(&e);
	if (json_parse_strict(c->out, strlen(c->out), &c->json, &e) != CD_OK)
		c->json = NULL;
}

static void cli_free(struct cli *c)
{
	free(c->out);
	free(c->err);
	json_object_put(c->json);
	memset(c, 0, sizeof(*c));
}

/* Runs conductorctl ARGS... (NULL-terminated) with stdin in; says its
 * output on stderr when it exits otherwise than want (one assertion at
 * the caller's line). */
#define CLI(c, want, in, ...) cli_at((c), (want), (in), __LINE__, (const char *[]){__VA_ARGS__, NULL})
static void cli_at(struct cli *c, int want, const char *in, int line, const char *const *argv)
{
	char text[160];

	cli_start(c, in, NULL, argv);
	cli_finish(c);
	snprintf(text, sizeof(text), "conductorctl %s %s ... exits %d", argv[0],
	         argv[1] ? argv[1] : "", want);
	CHECK_AT(c->status == want, line, text);
	if (c->status != want)
		fprintf(stderr, "\n  line %d: exit %d, want %d\n  stdout: %.600s\n  stderr: %.600s\n",
		        line, c->status, want, c->out, c->err);
}

/* The data of GET path with token, as a new tree (caller puts). */
static struct json_object *api_get(const char *token, const char *path)
{
	struct http_resp r = call("GET", path, token, NULL, NULL);
	struct json_object *d = json_object_get(data_of(&r));

	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
	return d;
}

/* Are a and b the same JSON value? (one assertion at the caller's line) */
#define EXPECT_SAME_JSON(a, b) expect_same_json_at((a), (b), __LINE__)
static void expect_same_json_at(struct json_object *a, struct json_object *b, int line)
{
	bool same = json_object_equal(a, b);

	CHECK_AT(same, line, "--json prints what the API answers");
	if (!same)
		fprintf(stderr, "\n  line %d:\n  ctl: %.800s\n  api: %.800s\n", line,
		        json_object_to_json_string(a), json_object_to_json_string(b));
}

/* A job submitted with t's submitter token; its id into id. */
static void submit(const struct tenant *t, const char *body, char *id)
{
	struct http_resp r = callf("POST", "/v1/fleet/jobs", t->submitter, "%s", body);

	CU_ASSERT(r.status == 201);
	snprintf(id, IDLEN, "%s", str_at(obj_at(data_of(&r), "job"), "id"));
	http_resp_free(&r);
}

/* ---- --help --------------------------------------------------------------- */

/* Every command `conductorctl --help` lists: its --help exits 0, names it
 * and shows an example. */
static void test_help_for_every_command(void)
{
	struct cli all, one;
	int commands = 0;
	char *line, *save = NULL, *list;

	CLI(&all, 0, NULL, "--help");
	list = strstr(all.out, "Commands:\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	list = strdup(list + strlen("Commands:\n"));
	for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char noun[64] = "", verb[64] = "", want[160];
		const char *p = line + 2;

		if (line[0] != ' ')
			break; /* "Global flags": the list has ended */
		if (line[2] == ' ')
			continue; /* a summary on its own line */
		sscanf(p, "%63s %63s", noun, verb);
		/* the verb: a second lower-case word, before the summary's column */
		if (strspn(verb, "abcdefghijklmnopqrstuvwxyz") != strlen(verb) ||
		    strstr(p, "  ") == p + strlen(noun))
			verb[0] = '\0';
		commands++;
		if (verb[0])
			CLI(&one, 0, NULL, noun, verb, "--help");
		else
			CLI(&one, 0, NULL, noun, "--help");
		snprintf(want, sizeof(want), "Usage: conductorctl %s%s%s", noun, verb[0] ? " " : "", verb);
		CU_ASSERT_PTR_NOT_NULL(strstr(one.out, want));
		CU_ASSERT_PTR_NOT_NULL(strstr(one.out, "\nExample: "));
		if (strstr(one.out, want) == NULL || strstr(one.out, "\nExample: ") == NULL)
			fprintf(stderr, "\n  %s %s --help: no usage or example:\n%s\n", noun, verb, one.out);
		cli_free(&one);
	}
	/* jobs x6, tasks x3, system x4, workers, runtimes, status, and admin's */
	CU_ASSERT(commands >= 16);
	free(list);
	cli_free(&all);
}

/* ---- jobs ---------------------------------------------------------------- */

static void test_submit_then_show_same_job(void)
{
	struct tenant *t = tenant_new("show");
	struct json_object *api, *job;
	struct cli sub, show;
	char path[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&sub, 0, NULL, "--token", t->submitter, "jobs", "submit", "--body", "make test\nline 2",
	    "--capability", "linux", "--capability", "gpu", "--priority", "high",
	    "--idempotency-key", "build-42", "--retry-max", "2", "--json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sub.json);
	job = obj_at(sub.json, "job");
	EXPECT_STR(str_at(sub.json, "outcome"), "created");
	EXPECT_STR(str_at(job, "body"), "make test\nline 2");
	EXPECT_STR(str_at(job, "priority"), "high");
	EXPECT_STR(str_at(job, "idempotency_key"), "build-42");
	EXPECT_INT(int_at(obj_at(job, "retry"), "max"), 2);
	EXPECT_INT((int64_t)len_of(obj_at(job, "capabilities")), 2);

	CLI(&show, 0, NULL, "--token", t->submitter, "jobs", "show", str_at(job, "id"), "--json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(show.json);
	EXPECT_STR(str_at(obj_at(show.json, "job"), "id"), str_at(job, "id"));
	EXPECT_STR(str_at(obj_at(show.json, "job"), "body"), "make test\nline 2");
	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s", str_at(job, "id"));
	api = api_get(t->submitter, path);
	EXPECT_SAME_JSON(obj_at(show.json, "job"), api);
	json_object_put(api);
	CU_ASSERT(is_array(obj_at(show.json, "runs")));
	EXPECT_INT((int64_t)len_of(obj_at(show.json, "events")), 1);
	EXPECT_STR(str_at(item_at(obj_at(show.json, "events"), 0), "kind"), "submitted");

	/* the same again: replayed, the same job */
	cli_free(&sub);
	CLI(&sub, 0, NULL, "--token", t->submitter, "jobs", "submit", "--body", "make test\nline 2",
	    "--capability", "linux", "--capability", "gpu", "--priority", "high",
	    "--idempotency-key", "build-42", "--retry-max", "2", "--json");
	EXPECT_STR(str_at(sub.json, "outcome"), "replayed");
	EXPECT_STR(str_at(obj_at(sub.json, "job"), "id"), str_at(obj_at(show.json, "job"), "id"));
	cli_free(&sub);
	cli_free(&show);
}

/* A job from a JSON file on stdin with the flags put over it; a body from a
 * file. */
static void test_submit_from_file_and_stdin(void)
{
	struct tenant *t = tenant_new("file");
	struct json_object *job;
	struct cli c;
	char path[512];
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&c, 0, "{\"body\":\"from stdin\",\"capabilities\":[\"a\"],\"retry\":{\"backoff_s\":5}}",
	    "--token", t->submitter, "jobs", "submit", "-", "--retry-max", "1", "--capability", "b",
	    "--json");
	job = obj_at(c.json, "job");
	EXPECT_STR(str_at(job, "body"), "from stdin");
	EXPECT_INT(int_at(obj_at(job, "retry"), "max"), 1);       /* the flag */
	EXPECT_INT(int_at(obj_at(job, "retry"), "backoff_s"), 5); /* the file's, kept */
	EXPECT_INT((int64_t)len_of(obj_at(job, "capabilities")), 1);
	EXPECT_STR(json_object_get_string(item_at(obj_at(job, "capabilities"), 0)), "b");
	cli_free(&c);

	temp_path(path, sizeof(path), "body");
	f = fopen(path, "w");
	fputs("#!/bin/sh\necho \"quoted\" \\\\ done\n", f);
	fclose(f);
	CLI(&c, 0, NULL, "--token", t->submitter, "jobs", "submit", "--body-file", path, "--json");
	EXPECT_STR(str_at(obj_at(c.json, "job"), "body"), "#!/bin/sh\necho \"quoted\" \\\\ done\n");
	cli_free(&c);
	CLI(&c, 0, "from stdin too", "--token", t->submitter, "jobs", "submit", "--body-file", "-",
	    "--json");
	EXPECT_STR(str_at(obj_at(c.json, "job"), "body"), "from stdin too");
	cli_free(&c);
	unlink(path);

	/* usage: not JSON, not an object, both stdins, both bodies, a missing file */
	CLI(&c, 2, "{\"body\":", "--token", t->submitter, "jobs", "submit", "-");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "stdin"));
	cli_free(&c);
	CLI(&c, 2, "[1]", "--token", t->submitter, "jobs", "submit", "-");
	cli_free(&c);
	CLI(&c, 2, "{}", "--token", t->submitter, "jobs", "submit", "-", "--body-file", "-");
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "submit", "--body", "a", "--body-file", "-");
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "submit", "/nonexistent/job.json");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "/nonexistent/job.json"));
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "submit", "--retry-max", "many");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "--retry-max"));
	cli_free(&c);
	EXPECT_INT(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 3);
}

static void test_batch_json_lines(void)
{
	struct tenant *t = tenant_new("batch");
	struct json_object *jobs;
	struct cli c;
	struct snap s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&c, 0,
	    "{\"idempotency_key\":\"a\",\"body\":\"one\"}\n"
	    "\n"
	    "{\"idempotency_key\":\"b\",\"body\":\"two\",\"deps\":[\"a\"]}\n",
	    "--token", t->submitter, "jobs", "batch", "-", "--json");
	jobs = obj_at(c.json, "jobs");
	EXPECT_INT((int64_t)len_of(jobs), 2);
	EXPECT_STR(str_at(item_at(jobs, 1), "idempotency_key"), "b");
	EXPECT_STR(str_at(item_at(jobs, 1), "outcome"), "created");
	s = snap_job(t, str_at(item_at(jobs, 1), "id"));
	EXPECT_STR(s.stage, "blocked"); /* its dep, by key, is not shipped */
	cli_free(&c);

	/* the API refuses line 3 (the second job): exit 1, the line named, the
	 * message as the API gave it, nothing submitted */
	CLI(&c, 1, "{\"body\":\"x\"}\n\n{\"priority\":\"urgent\"}\n", "--token", t->submitter, "jobs",
	    "batch", "-");
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(c.err, "stdin:3: jobs[1].priority must be one of critical, high, medium, low."));
	cli_free(&c);
	/* a line that is not JSON: exit 2, its number named, nothing sent */
	CLI(&c, 2, "{\"body\":\"x\"}\n{\"body\":\n", "--token", t->submitter, "jobs", "batch", "-");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "stdin:2: "));
	cli_free(&c);
	CLI(&c, 2, "\n\n", "--token", t->submitter, "jobs", "batch", "-");
	cli_free(&c);
	EXPECT_INT(pg_int("SELECT count(*) FROM jobs WHERE tenant_id = $1", t->tid, NULL), 2);
}

static void test_list_all_follows_the_cursor(void)
{
	struct tenant *t = tenant_new("list");
	struct json_object *items;
	char ids[7][IDLEN];
	struct cli page, all, human;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (int i = 0; i < 7; i++)
		submit(t, "{\"body\":\"x\"}", ids[i]);
	CLI(&page, 0, NULL, "--token", t->reader, "jobs", "list", "--limit", "3", "--json");
	EXPECT_INT((int64_t)len_of(obj_at(page.json, "items")), 3);
	CU_ASSERT_STRING_NOT_EQUAL(str_at(page.json, "next_cursor"), "");

	CLI(&all, 0, NULL, "--token", t->reader, "jobs", "list", "--limit", "3", "--all", "--json");
	items = obj_at(all.json, "items");
	EXPECT_INT((int64_t)len_of(items), 7); /* three pages */
	CU_ASSERT(null_at(all.json, "next_cursor"));
	for (int i = 0; i < 7; i++) /* newest first, each once */
		EXPECT_STR(str_at(item_at(items, (size_t)i), "id"), ids[6 - i]);

	CLI(&human, 0, NULL, "--token", t->reader, "jobs", "list", "--stage", "queued", "--all");
	CU_ASSERT_PTR_NOT_NULL(strstr(human.out, "ID"));
	CU_ASSERT_PTR_NOT_NULL(strstr(human.out, ids[0]));
	cli_free(&human);
	CLI(&human, 0, NULL, "--token", t->reader, "jobs", "list", "--stage", "shipped");
	EXPECT_STR(human.out, "no jobs in stage shipped\n");
	cli_free(&human);
	/* the API's refusal of a stage, as it gave it */
	CLI(&human, 1, NULL, "--token", t->reader, "jobs", "list", "--stage", "done");
	CU_ASSERT_PTR_NOT_NULL(strstr(human.err, "stage must be one of queued"));
	cli_free(&human);
	CLI(&human, 2, NULL, "--token", t->reader, "jobs", "list", "--limit", "501");
	cli_free(&human);
	cli_free(&page);
	cli_free(&all);
}

/* Columns as wide as their widest value, a long one cut with an ellipsis,
 * the data's control characters never printed. */
static void test_human_output_aligned_and_clean(void)
{
	struct tenant *t = tenant_new("human");
	char id[IDLEN], *second, *third;
	const char *key_col;
	struct cli c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "{\"idempotency_key\":\"short\"}", id);
	submit(t, "{\"idempotency_key\":\"a-key-much-longer-than-its-column-of-28\\u001b[31m\","
	          "\"body\":\"line\\u001b]0;title\\u0007\\nnext\"}", id);
	CLI(&c, 0, NULL, "--token", t->reader, "jobs", "list");
	CU_ASSERT_PTR_NULL(strchr(c.out, '\033')); /* no escape from the data, no colour */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "a-key-much-longer-than-its-\xe2\x80\xa6"));
	/* header, then the newest (long key), then the short one: KEY starts at
	 * the same column in all three */
	second = strchr(c.out, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	third = strchr(second + 1, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(third);
	key_col = strstr(c.out, "KEY");
	CU_ASSERT_PTR_NOT_NULL_FATAL(key_col);
	CU_ASSERT_EQUAL(key_col - c.out, strstr(second + 1, "a-key") - (second + 1));
	CU_ASSERT_EQUAL(key_col - c.out, strstr(third + 1, "short") - (third + 1));
	cli_free(&c);

	CLI(&c, 0, NULL, "--token", t->reader, "jobs", "show", id);
	CU_ASSERT_PTR_NULL(strchr(c.out, '\033'));
	CU_ASSERT_PTR_NULL(strchr(c.out, '\007'));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "    line ]0;title \n    next\n")); /* the body's lines */
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "just now"));                      /* relative times */
	cli_free(&c);
}

/* Colour only on a terminal, never with NO_COLOR. */
static void test_colour_only_on_a_terminal(void)
{
	struct tenant *t = tenant_new("colour");
	const char *ctl = getenv("CONDUCTOR_CTL");
	char id[IDLEN];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "{\"body\":\"x\"}", id);
	for (int no_color = 0; no_color < 2; no_color++) {
		char out[8192];
		size_t n = 0;
		ssize_t r;
		int master, st;
		pid_t pid = forkpty(&master, NULL, NULL, NULL);

		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			if (no_color)
				setenv("NO_COLOR", "1", 1);
			else
				unsetenv("NO_COLOR");
			execl(ctl, ctl, "--token", t->reader, "jobs", "list", (char *)NULL);
			_exit(127);
		}
		while (n < sizeof(out) - 1 && (r = read(master, out + n, sizeof(out) - 1 - n)) > 0)
			n += (size_t)r;
		out[n] = '\0';
		close(master);
		waitpid(pid, &st, 0);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "queued"));
		if (no_color) {
			CU_ASSERT_PTR_NULL(strchr(out, '\033'));
		} else {
			CU_ASSERT_PTR_NOT_NULL(strstr(out, "\033[1mID\033[0m")); /* bold header */
		}
	}
}

static void test_cancel_and_refusals(void)
{
	struct tenant *t = tenant_new("cancel");
	struct http_resp r;
	char id[IDLEN], want[300], *path;
	struct cli c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "{\"body\":\"x\"}", id);
	CLI(&c, 0, NULL, "--token", t->submitter, "jobs", "cancel", id, "--json");
	EXPECT_STR(str_at(c.json, "stage"), "cancelled");
	EXPECT_STR(str_at(c.json, "id"), id);
	cli_free(&c);
	/* again: the API's 409, its message printed as it gave it, exit 1 */
	path = fmt("/v1/fleet/jobs/%s/cancel", id);
	r = call("POST", path, t->submitter, NULL, NULL);
	free(path);
	snprintf(want, sizeof(want), "conductorctl: %s\n", str_at(r.json, "message"));
	CLI(&c, 1, NULL, "--token", t->submitter, "jobs", "cancel", id);
	EXPECT_STR(c.err, want);
	EXPECT_STR(c.out, "");
	cli_free(&c);
	http_resp_free(&r);
	/* an unknown job */
	CLI(&c, 1, NULL, "--token", t->submitter, "jobs", "cancel", "999999999");
	EXPECT_STR(c.err, "conductorctl: No job 999999999 exists in this tenant.\n");
	cli_free(&c);
	CLI(&c, 1, NULL, "--token", t->submitter, "jobs", "show", "999999999", "--json");
	EXPECT_STR(c.out, "");
	cli_free(&c);
	/* a role the route does not allow: the API's 403, exit 1 */
	CLI(&c, 1, NULL, "--token", t->worker, "jobs", "list");
	CU_ASSERT(c.err[0] != '\0');
	cli_free(&c);
}

/* A socket bound to a port of 127.0.0.1 that does not listen: a connect
 * there is refused at once. Its port into *port; close the fd after. */
static int dead_port(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	          getsockname(fd, (struct sockaddr *)&a, &n) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_exit_statuses(void)
{
	struct tenant *t = tenant_new("exit");
	char url[64];
	struct cli c;
	int port, fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "list", "--no-such-flag");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "unknown flag --no-such-flag"));
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "show");
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "wait", "1", "--timeout");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "--timeout needs a value"));
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->submitter, "jobs", "frobnicate");
	cli_free(&c);
	CLI(&c, 2, NULL, "--url", "ftp://example", "jobs", "list");
	cli_free(&c);
	fd = dead_port(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	CLI(&c, 3, NULL, "--url", url, "--token", t->submitter, "jobs", "list");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "cannot reach http://127.0.0.1:"));
	cli_free(&c);
	CLI(&c, 3, NULL, "--url", url, "--token", t->submitter, "status", "--json");
	EXPECT_STR(c.out, "");
	cli_free(&c);
	close(fd);
	/* a token the API does not know: its 401, exit 1 */
	CLI(&c, 1, NULL, "--token", "cdt_nottherightone", "jobs", "list");
	cli_free(&c);
}

/* The worker's claim and a PATCH to stage, through the API. */
static void claim_and_end(const struct tenant *t, const char *id, const char *factory,
                          const char *cap, const char *stage)
{
	struct http_resp r = callf("POST", "/v1/fleet/claim", t->worker,
	                           "{\"factory_id\":\"%s\",\"capabilities\":[\"%s\"],\"max_jobs\":1}",
	                           factory, cap);
	char *path = fmt("/v1/fleet/jobs/%s", id);

	CU_ASSERT_EQUAL(r.status, 200);
	EXPECT_STR(str_at(item_at(obj_at(data_of(&r), "jobs"), 0), "id"), id);
	http_resp_free(&r);
	r = callf("PATCH", path, t->worker,
	          "{\"factory_id\":\"%s\",\"lease_epoch\":1,\"stage\":\"%s\","
	          "\"insights\":{\"model\":\"m1\",\"turns\":3}}",
	          factory, stage);
	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
	free(path);
}

static void test_wait_shipped_and_failed(void)
{
	struct tenant *t = tenant_new("wait");
	char ok[IDLEN], bad[IDLEN], gone[IDLEN], idle[IDLEN], want[64];
	struct cli c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	submit(t, "{\"body\":\"a\",\"capabilities\":[\"w-ok\"]}", ok);
	/* failed for good: no retry on failure */
	submit(t, "{\"body\":\"b\",\"capabilities\":[\"w-bad\"],\"retry\":{\"on\":[\"lease_expired\"]}}",
	       bad);
	submit(t, "{\"body\":\"c\",\"capabilities\":[\"w-gone\"]}", gone);
	submit(t, "{\"body\":\"d\",\"capabilities\":[\"w-idle\"]}", idle);

	/* wait starts first, and sees the job end while it polls */
	cli_start(&c, NULL, NULL,
	          (const char *[]){"--token", t->reader, "jobs", "wait", ok, "--timeout", "30", NULL});
	usleep(600 * 1000);
	claim_and_end(t, ok, "w-1", "w-ok", "shipped");
	cli_finish(&c);
	EXPECT_INT(c.status, 0);
	snprintf(want, sizeof(want), "job %s shipped\n", ok);
	EXPECT_STR(c.out, want);
	cli_free(&c);

	cli_start(&c, NULL, NULL,
	          (const char *[]){"--token", t->reader, "jobs", "wait", bad, "--json", NULL});
	usleep(600 * 1000);
	claim_and_end(t, bad, "w-2", "w-bad", "failed");
	cli_finish(&c);
	EXPECT_INT(c.status, 1);
	EXPECT_STR(str_at(c.json, "stage"), "failed");
	cli_free(&c);

	/* cancelled: 1 */
	cli_start(&c, NULL, NULL, (const char *[]){"--token", t->reader, "jobs", "wait", gone, NULL});
	usleep(300 * 1000);
	{
		char *path = fmt("/v1/fleet/jobs/%s/cancel", gone);
		struct http_resp r = call("POST", path, t->submitter, NULL, NULL);

		CU_ASSERT_EQUAL(r.status, 200);
		http_resp_free(&r);
		free(path);
	}
	cli_finish(&c);
	EXPECT_INT(c.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "cancelled"));
	cli_free(&c);

	/* still queued at --timeout: 1, said on stderr, within about the timeout */
	{
		time_t start = time(NULL);

		CLI(&c, 1, NULL, "--token", t->reader, "jobs", "wait", idle, "--timeout", "1");
		CU_ASSERT(time(NULL) - start <= 4);
		CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "still queued after 1 s"));
		cli_free(&c);
	}
	/* a lease released when the job shipped: no worker shown in the list */
	CLI(&c, 0, NULL, "--token", t->reader, "jobs", "list");
	CU_ASSERT_PTR_NULL(strstr(c.out, "w-1"));
	cli_free(&c);
	/* the runs and their insights, as show prints them */
	CLI(&c, 0, NULL, "--token", t->reader, "jobs", "show", ok);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "model=m1 turns=3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "Runs (1)"));
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->reader, "jobs", "show", ok, "--json");
	EXPECT_STR(str_at(obj_at(item_at(obj_at(c.json, "runs"), 0), "insights"), "model"), "m1");
	cli_free(&c);
}

/* ---- control ------------------------------------------------------------- */

static void test_system_modes(void)
{
	struct tenant *t = tenant_new("mode");
	struct json_object *api;
	struct cli c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&c, 0, NULL, "--token", t->operator, "system", "pause", "--reason", "db upgrade", "--json");
	EXPECT_STR(str_at(c.json, "mode"), "paused");
	EXPECT_STR(str_at(c.json, "reason"), "db upgrade");
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->reader, "system", "state", "--json");
	api = api_get(t->reader, "/v1/system/state");
	EXPECT_SAME_JSON(c.json, api);
	EXPECT_STR(str_at(api, "mode"), "paused");
	json_object_put(api);
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->operator, "system", "drain", "--json");
	EXPECT_STR(str_at(c.json, "mode"), "draining");
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->operator, "system", "resume");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "running"));
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->operator, "system", "resume", "--json");
	EXPECT_STR(str_at(c.json, "mode"), "running");
	cli_free(&c);
	/* the API's 403 for a reader, exit 1; a stray operand, exit 2 */
	CLI(&c, 1, NULL, "--token", t->reader, "system", "pause");
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->operator, "system", "pause", "now");
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->reader, "system", "state");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "running"));
	cli_free(&c);
}

static void test_workers_runtimes_status(void)
{
	struct tenant *t = tenant_new("fleet");
	struct json_object *api;
	struct http_resp r;
	struct cli c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&c, 0, NULL, "--token", t->operator, "workers");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "no workers"));
	cli_free(&c);
	r = call("POST", "/v1/fleet/factories/heartbeat", t->worker,
	         "{\"factory_id\":\"box-7\",\"capabilities\":[\"linux\"],\"seat_limit\":4}", NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	http_resp_free(&r);
	CLI(&c, 0, NULL, "--token", t->operator, "workers", "--json");
	api = api_get(t->operator, "/v1/fleet/factories");
	EXPECT_SAME_JSON(c.json, api);
	EXPECT_STR(str_at(item_at(c.json, 0), "factory_id"), "box-7");
	json_object_put(api);
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->operator, "workers");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "box-7"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "0/4"));
	cli_free(&c);

	CLI(&c, 0, NULL, "--token", t->operator, "runtimes", "--json");
	api = api_get(t->operator, "/v1/runtimes");
	EXPECT_SAME_JSON(c.json, api);
	json_object_put(api);
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->operator, "runtimes");
	cli_free(&c);

	CLI(&c, 0, NULL, "--token", t->operator, "status", "--json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.json);
	EXPECT_STR(str_at(obj_at(c.json, "system"), "mode"), "running");
	EXPECT_INT(int_at(obj_at(c.json, "jobs"), "total"), 0);
	EXPECT_STR(str_at(item_at(obj_at(c.json, "workers"), 0), "factory_id"), "box-7");
	CU_ASSERT_PTR_NOT_NULL(obj_at(c.json, "streams"));
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->operator, "status");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "Workers (1)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "Streams"));
	cli_free(&c);
	CLI(&c, 1, NULL, "--token", t->submitter, "status");
	cli_free(&c);
}

static void test_tasks_create_plan_show(void)
{
	struct tenant *t = tenant_new("tasks");
	struct json_object *api, *steps;
	char id[IDLEN], *path;
	struct cli c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CLI(&c, 0, NULL, "--token", t->submitter, "tasks", "create", "--repo", "git@x:app.git",
	    "--task-type", "fix", "--title", "Fix login", "--goal", "the login test passes",
	    "--acceptance", "tests pass", "--json");
	snprintf(id, sizeof(id), "%s", str_at(obj_at(c.json, "task"), "id"));
	EXPECT_STR(str_at(obj_at(c.json, "task"), "stage"), "queued");
	EXPECT_STR(str_at(obj_at(c.json, "task"), "title"), "Fix login");
	cli_free(&c);
	/* from a file on stdin, the flag over it */
	CLI(&c, 0, "{\"repo\":\"r\",\"task_type\":\"t\",\"title\":\"file\",\"goal\":\"g\"}",
	    "--token", t->submitter, "tasks", "create", "-", "--title", "flag", "--json");
	EXPECT_STR(str_at(obj_at(c.json, "task"), "title"), "flag");
	cli_free(&c);
	CLI(&c, 1, NULL, "--token", t->submitter, "tasks", "create", "--repo", "r");
	CU_ASSERT_PTR_NOT_NULL(strstr(c.err, "task_type"));
	cli_free(&c);

	CLI(&c, 0, "{\"steps\":[{\"title\":\"read\",\"body\":\"read the code\"}]}", "--token",
	    t->controller, "tasks", "plan", id, "-", "--step", "fix=write the fix = done", "--json");
	steps = obj_at(obj_at(c.json, "task"), "steps");
	EXPECT_INT((int64_t)len_of(steps), 2);
	EXPECT_STR(str_at(item_at(steps, 0), "title"), "read");
	EXPECT_STR(str_at(item_at(steps, 1), "title"), "fix");
	cli_free(&c);
	CLI(&c, 2, NULL, "--token", t->controller, "tasks", "plan", id, "--step", "no-equals");
	cli_free(&c);

	CLI(&c, 0, NULL, "--token", t->reader, "tasks", "show", id, "--json");
	path = fmt("/v1/tasks/%s", id);
	api = api_get(t->reader, path);
	EXPECT_SAME_JSON(c.json, api);
	json_object_put(api);
	free(path);
	cli_free(&c);
	CLI(&c, 0, NULL, "--token", t->reader, "tasks", "show", id);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "Steps (2)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.out, "step          1 of 2"));
	cli_free(&c);
	/* the step's body: a job's body, the title ending at the first = */
	{
		char body[64];

		EXPECT_STR(pg_str(body, sizeof(body),
		                  "SELECT body FROM jobs WHERE parent_id = $1::bigint ORDER BY id DESC"
		                  " LIMIT 1",
		                  id, NULL),
		           "write the fix = done");
	}
}

static CU_TestInfo TESTS[] = {
	{"help_for_every_command", test_help_for_every_command},
	{"submit_then_show_same_job", test_submit_then_show_same_job},
	{"submit_from_file_and_stdin", test_submit_from_file_and_stdin},
	{"batch_json_lines", test_batch_json_lines},
	{"list_all_follows_the_cursor", test_list_all_follows_the_cursor},
	{"human_output_aligned_and_clean", test_human_output_aligned_and_clean},
	{"colour_only_on_a_terminal", test_colour_only_on_a_terminal},
	{"cancel_and_refusals", test_cancel_and_refusals},
	{"exit_statuses", test_exit_statuses},
	{"wait_shipped_and_failed", test_wait_shipped_and_failed},
	{"system_modes", test_system_modes},
	{"workers_runtimes_status", test_workers_runtimes_status},
	{"tasks_create_plan_show", test_tasks_create_plan_show},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	static const struct suite ctl = {.name = "ctl", .tenant_prefix = "octl", .control_roles = true};

	return suite_run(&ctl, TESTS);
}

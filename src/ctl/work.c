/* work.c -- `conductorctl work`: a worker agent that runs a command per job.
 *
 *   conductorctl work --factory-id ID [--capability C]... [--seats N]
 *                     [--lease-ttl S] [--grace S] -- COMMAND ARGS...
 *
 * It heartbeats, claims up to its free seats, runs COMMAND for each job
 * (work_proc.c: its own process group, the body on stdin, the job in its
 * environment), renews each lease at a third of its TTL (saving the
 * checkpoint file first when it changed), and reports what finished: exit
 * 0 -> shipped, else failed, with the exit status, the last 4 KiB of stdout
 * and stderr in the result and the wall time in the insights -- or what the
 * command wrote to its result file. Every job that finished by the time the
 * report goes out is in that one POST /v1/fleet/jobs:transition (a few ms
 * of waiting, COALESCE_MS, lets jobs that end together go together).
 *
 * The rules it keeps:
 *   - a renewal answered 409/404 (cancelled, reaped: fenced) kills the
 *     command's process group at once, and the job is never reported;
 *   - the API unreachable (no answer, nginx's 502/503/504, a 5xx of ours):
 *     commands keep running, calls wait for a backoff (0.5 s doubling to
 *     30 s), and what finished is reported when the API is back -- the
 *     server's fence decides whether the lease still held;
 *   - SIGTERM/SIGINT: no more claims; running commands get --grace seconds,
 *     then their groups are SIGKILLed and their leases released (requeued,
 *     not a failed attempt); a second signal kills them and exits at once
 *     (leases left to the reaper), status 128 + the signal;
 *   - a claim answered empty before its wait was over (the server had no
 *     long-poll slot: Retry-After) is not asked again before the later of
 *     Retry-After and the rest of the wait: no spinning.
 *
 * One loop and one claim thread. The loop poll()s a signalfd (SIGCHLD,
 * SIGTERM, SIGINT), the commands' pipes and the claim thread's answer pipe,
 * then, in order: reap, report, release, renew, heartbeat, ask for a claim.
 * The claim thread only makes the long-poll POST /v1/fleet/claim the loop
 * handed it (a body of text, one at a time) and hands the answer back; it
 * touches nothing else (the client is read-only, logging is one write).
 * Why a thread: a long-poll made by the loop itself would hold back, for
 * its whole wait, the report of a job that ended meanwhile (splitting jobs
 * that end together into two reports) and a renewal falling due. Its wait is
 * CLAIM_WAIT_MS (2 s), so that a claim still out at SIGTERM delays the exit
 * by 2 s at most (its jobs are then given back, not left to the reaper).
 *
 * Output: on a terminal, one live progress line on stderr (done, running,
 * failed, jobs/s); otherwise one JSON log line per job on stderr, like the
 * other binaries. Exit: 0 after a drain, 1 the API refused the first
 * heartbeat (token, role), 2 usage, 3 the API unreachable at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "ctl/client.h"
#include "ctl/ctl.h"
#include "ctl/work_proc.h"

#define WORK_ARGS                                                                                  \
	"--factory-id ID [--capability C]... [--seats N] [--lease-ttl S] [--grace S] -- COMMAND "  \
	"ARGS..."

#define CLAIM_WAIT_MS   2000  /* the longest long-poll (see the top of the file) */
#define HEARTBEAT_MS    15000 /* well inside the server's factory_stale_s (60 s) */
#define COALESCE_MS     20    /* the report waits until no command ended for this long */
#define COALESCE_MAX_MS 200   /* ... but no longer than this after the first one ended */
#define BACKOFF_MIN_MS  500   /* the API unreachable: first wait, doubled each time */
#define BACKOFF_MAX_MS  30000
#define CALL_TIMEOUT_MS 10000 /* one call's budget (a claim: its wait on top) */
#define FINAL_MS        10000 /* after the grace: how long to keep trying to report */
#define PROGRESS_MS     250   /* the progress line's refresh */
#define REPORT_MAX      100   /* jobs:transition's items */
#define RESULT_MAX      (64 * 1024) /* the API's result and checkpoint objects */
#define SEATS_MAX       100 /* the claim's max_jobs */
#define CAPS_MAX        64
#define ID_MAX          24

enum slot_state {
	SLOT_FREE,
	SLOT_RUNNING, /* the command runs */
	SLOT_DONE,    /* it exited; the report is pending */
	SLOT_RELEASE, /* killed at the end of the grace; the release is pending */
};

/* One seat. */
struct slot {
	enum slot_state state;
	char id[ID_MAX];
	long long epoch;
	struct work_proc proc;
	long long started_ms, ended_ms, renew_at_ms;
	bool fenced;            /* a renewal said 409/404: killed, never reported */
	bool drain_killed;      /* killed at the end of the grace: released, not reported */
	char *checkpoint_sent;  /* the checkpoint last saved (the claim's at first) */
	struct json_object *item;     /* SLOT_DONE: its jobs:transition item */
	struct json_object *fallback; /* the item without what the result file set */
};

struct agent {
	const struct client *api;
	const char *factory_id;
	const char *caps[CAPS_MAX];
	int ncaps, seats, ttl_s, grace_s;
	char **argv; /* COMMAND ARGS..., borrowed */
	char dir[256];
	struct slot *slots;
	int sfd;
	bool draining;
	long long drain_deadline_ms;
	int forced; /* a second signal: exit 128 + it */
	long long heartbeat_at_ms, claim_at_ms;
	long long report_at_ms; /* a report the API refused (not ours to fix): retried then */
	bool api_down;
	long long api_at_ms; /* the API down: no call before */
	long backoff_ms;
	long long done, failed, lost, t0_ms;
	bool tty;
	long long progress_at_ms;
	bool progress_shown;
	long long last_exit_ms; /* when a command last ended */
	/* the claim thread (see the top of the file) */
	pthread_t claimer;
	bool claimer_started;
	int claim_req[2], claim_ans[2]; /* a byte each way: 'c' claim, 'q' quit / 'a' answered */
	bool claim_out;                 /* a claim is out: cc is the thread's until it answers */
	struct claim_call {
		char *body;    /* the request, JSON text (owned) */
		long wait_ms;  /* its wait_ms */
		enum cd_err rc;
		struct cd_error e;
		struct client_answer ans;
	} cc;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *lltoa(char *buf, size_t cap, long long v)
{
	snprintf(buf, cap, "%lld", v);
	return buf;
}

/* ---- output ------------------------------------------------------------- */

/* Clears the progress line before a log line on a terminal. */
static void progress_clear(struct agent *a)
{
	if (a->tty && a->progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		a->progress_shown = false;
	}
}

static int busy(const struct agent *a, enum slot_state s)
{
	int n = 0;

	for (int i = 0; i < a->seats; i++)
		n += a->slots[i].state == s;
	return n;
}

static void progress(struct agent *a, long long now, bool force)
{
	double secs = (double)(now - a->t0_ms) / 1000.0;
	char lost[32] = "";

	if (!a->tty || (!force && now < a->progress_at_ms))
		return;
	a->progress_at_ms = now + PROGRESS_MS;
	if (a->lost > 0)
		snprintf(lost, sizeof(lost), "  lost %lld", a->lost);
	fprintf(stderr, "\r\033[Kdone %lld  running %d  failed %lld%s  %.1f jobs/s%s", a->done,
	        busy(a, SLOT_RUNNING), a->failed, lost,
	        secs > 0 ? (double)(a->done + a->failed) / secs : 0.0,
	        a->draining ? "  (draining)" : "");
	fflush(stderr);
	a->progress_shown = true;
}

/* ---- the API ------------------------------------------------------------ */

/* Does rc mean the API is not reachable now (no answer, nginx's or our
 * 5xx), rather than a refusal? */
static bool unreachable(enum cd_err rc)
{
	return rc == CD_UPSTREAM || rc == CD_UNAVAILABLE || rc == CD_INTERNAL;
}

static bool api_ready(const struct agent *a, long long now)
{
	return !a->api_down || now >= a->api_at_ms;
}

/* What a call's rc says about the API: unreachable marks it down and sets
 * the backoff; the next answer says it is back. Returns rc. */
static enum cd_err account(struct agent *a, enum cd_err rc, const struct cd_error *e)
{
	if (unreachable(rc)) {
		if (!a->api_down && a->t0_ms != 0) { /* at start, cmd_work says it */
			progress_clear(a);
			log_warn("api unreachable; commands keep running, calls retried with backoff",
			         "error", e->message);
		}
		a->api_down = true;
		a->backoff_ms = a->backoff_ms == 0 ? BACKOFF_MIN_MS : a->backoff_ms * 2;
		if (a->backoff_ms > BACKOFF_MAX_MS)
			a->backoff_ms = BACKOFF_MAX_MS;
		a->api_at_ms = now_ms() + a->backoff_ms;
		return rc;
	}
	if (a->api_down) {
		progress_clear(a);
		log_info("api reachable again");
	}
	a->api_down = false;
	a->backoff_ms = 0;
	return rc;
}

/* One call of the API with body (borrowed, may be NULL), accounted; out: free
 * with client_answer_free() whatever the return. */
static enum cd_err call(struct agent *a, long timeout_ms, const char *method, const char *path,
                        struct json_object *body, struct client_answer *out, struct cd_error *e)
{
	const char *text =
	    body != NULL ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;

	return account(a, client_call_within(a->api, timeout_ms, method, path, text, out, e), e);
}

/* {factory_id, lease_epoch} of s: the fence every write of a job carries. */
static struct json_object *fence_body(const struct agent *a, const struct slot *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "factory_id", json_object_new_string(a->factory_id));
	json_object_object_add(o, "lease_epoch", json_object_new_int64(s->epoch));
	return o;
}

static struct json_object *caps_array(const struct agent *a)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < a->ncaps; i++)
		json_object_array_add(arr, json_object_new_string(a->caps[i]));
	return arr;
}

/* POST /v1/fleet/factories/heartbeat. */
static enum cd_err heartbeat(struct agent *a, struct cd_error *e)
{
	struct json_object *body = json_object_new_object(), *d = json_object_new_object();
	struct client_answer ans;
	char host[256] = "";
	enum cd_err rc;

	gethostname(host, sizeof(host) - 1);
	json_object_object_add(d, "agent", json_object_new_string(PROGRAM " work"));
	json_object_object_add(d, "command", json_object_new_string(a->argv[0]));
	json_object_object_add(d, "host", json_object_new_string(host));
	json_object_object_add(d, "pid", json_object_new_int64(getpid()));
	json_object_object_add(body, "factory_id", json_object_new_string(a->factory_id));
	json_object_object_add(body, "capabilities", caps_array(a));
	json_object_object_add(body, "health", json_object_new_string("ok"));
	json_object_object_add(body, "load", json_object_new_int(busy(a, SLOT_RUNNING)));
	json_object_object_add(body, "seat_limit", json_object_new_int(a->seats));
	json_object_object_add(body, "descriptor", d);
	rc = call(a, CALL_TIMEOUT_MS, "POST", "/v1/fleet/factories/heartbeat", body, &ans, e);
	client_answer_free(&ans);
	json_object_put(body);
	return rc;
}

/* ---- a job's slot ------------------------------------------------------- */

static void slot_free(struct slot *s)
{
	work_proc_free(&s->proc);
	free(s->checkpoint_sent);
	json_object_put(s->item);
	json_object_put(s->fallback);
	memset(s, 0, sizeof(*s));
	s->proc.out_fd = s->proc.err_fd = -1;
}

static struct slot *slot_of_pid(struct agent *a, pid_t pid)
{
	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_RUNNING && a->slots[i].proc.pid == pid)
			return &a->slots[i];
	return NULL;
}

static struct slot *slot_of_id(struct agent *a, const char *id)
{
	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_DONE && strcmp(a->slots[i].id, id) == 0)
			return &a->slots[i];
	return NULL;
}

/* The checkpoint file of s when it changed since the last save and holds a
 * JSON object (new; caller puts), else NULL. Its text into *text (new). */
static struct json_object *checkpoint_changed(struct slot *s, char **text)
{
	struct json_object *o = NULL;
	struct cd_error e;
	bool big;
	char *t = work_read_file(s->proc.checkpoint_path, RESULT_MAX, &big);

	*text = NULL;
	cd_error_reset(&e);
	if (t == NULL || (s->checkpoint_sent != NULL && strcmp(t, s->checkpoint_sent) == 0)) {
		free(t);
		return NULL;
	}
	if (json_parse_strict(t, strlen(t), &o, &e) != CD_OK ||
	    !json_object_is_type(o, json_type_object)) {
		log_warn("checkpoint file is not a JSON object; not saved", "job_id", s->id);
		json_object_put(o);
		free(s->checkpoint_sent); /* said once per content */
		s->checkpoint_sent = t;
		return NULL;
	}
	*text = t;
	return o;
}

/* Does a refusal say the lease is gone: 409 stale_epoch (cancelled, reaped,
 * or held by another) or 404 (the job is gone)? */
static bool fenced_out(const struct client_answer *ans, const struct cd_error *e)
{
	return ans->status == 404 || strcmp(e->code, "stale_epoch") == 0;
}

/* Marks s fenced: its command's group is killed, it will not be reported. */
static void fence(struct agent *a, struct slot *s, const struct cd_error *e)
{
	progress_clear(a);
	log_warn("lease lost (job cancelled or reaped): command killed, job not reported", "job_id",
	         s->id, "error", e->code[0] ? e->code : cd_err_name(e->err));
	s->fenced = true;
	a->lost++;
	work_proc_kill(&s->proc);
}

/* ---- renewals ----------------------------------------------------------- */

/* Saves a changed checkpoint (a same-stage PATCH), then renews the lease. */
static void renew_one(struct agent *a, struct slot *s, long long now)
{
	struct json_object *cp, *body;
	struct client_answer ans;
	struct cd_error e;
	char path[96], *text = NULL;
	enum cd_err rc;

	cd_error_reset(&e);
	if ((cp = checkpoint_changed(s, &text)) != NULL) {
		body = fence_body(a, s);
		json_object_object_add(body, "stage", json_object_new_string("assigned"));
		json_object_object_add(body, "checkpoint", cp);
		snprintf(path, sizeof(path), "/v1/fleet/jobs/%s", s->id);
		rc = call(a, CALL_TIMEOUT_MS, "PATCH", path, body, &ans, &e);
		json_object_put(body);
		if (rc != CD_OK && !unreachable(rc) && !fenced_out(&ans, &e))
			log_warn("checkpoint refused; not sent again", "job_id", s->id, "error",
			         e.message);
		if (!unreachable(rc)) { /* saved, or refused: this content goes once */
			free(s->checkpoint_sent);
			s->checkpoint_sent = text;
			text = NULL;
		}
		free(text);
		if (rc != CD_OK && fenced_out(&ans, &e)) {
			client_answer_free(&ans);
			fence(a, s, &e);
			return;
		}
		client_answer_free(&ans);
		if (unreachable(rc))
			return;
	}
	body = fence_body(a, s);
	json_object_object_add(body, "ttl_s", json_object_new_int(a->ttl_s));
	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s/lease/renew", s->id);
	cd_error_reset(&e);
	rc = call(a, CALL_TIMEOUT_MS, "POST", path, body, &ans, &e);
	json_object_put(body);
	if (rc == CD_OK || !unreachable(rc))
		s->renew_at_ms = now + (long long)a->ttl_s * 1000 / 3;
	if (rc != CD_OK && fenced_out(&ans, &e))
		fence(a, s, &e);
	else if (rc != CD_OK && !unreachable(rc))
		log_warn("renewal refused", "job_id", s->id, "error", e.message);
	client_answer_free(&ans);
}

static void renew_due(struct agent *a)
{
	for (int i = 0; i < a->seats; i++) {
		struct slot *s = &a->slots[i];
		long long now = now_ms();

		if (s->state == SLOT_RUNNING && !s->fenced && now >= s->renew_at_ms &&
		    api_ready(a, now))
			renew_one(a, s, now);
	}
}

/* ---- finished jobs ------------------------------------------------------ */

/* The result file of s: its "result" and "insights" objects, or, when it has
 * neither key, the whole object as the result. Fills *result / *insights
 * (new, or left NULL); a file that is no JSON object: *why says so. */
static void result_file(const struct slot *s, struct json_object **result,
                        struct json_object **insights, const char **why)
{
	struct json_object *o = NULL, *r, *i;
	struct cd_error e;
	bool big;
	char *t = work_read_file(s->proc.result_path, RESULT_MAX, &big);

	cd_error_reset(&e);
	*why = big ? "the result file is larger than 64 KiB" : NULL;
	if (t == NULL)
		return;
	if (json_parse_strict(t, strlen(t), &o, &e) != CD_OK ||
	    !json_object_is_type(o, json_type_object)) {
		*why = "the result file is not a JSON object";
		goto out;
	}
	r = json_get(o, "result");
	i = json_get(o, "insights");
	if (r == NULL && i == NULL) {
		*result = json_object_get(o);
		goto out;
	}
	if ((r != NULL && !json_object_is_type(r, json_type_object)) ||
	    (i != NULL && !json_object_is_type(i, json_type_object))) {
		*why = "the result file's result and insights must be JSON objects";
		goto out;
	}
	*result = json_object_get(r);
	*insights = json_object_get(i);
out:
	json_object_put(o);
	free(t);
}

/* Builds s's jobs:transition item (and its fallback without the result
 * file) once its command exited. */
static void build_item(struct agent *a, struct slot *s)
{
	int st = s->proc.wait_status;
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	struct json_object *res = json_object_new_object(), *ins = json_object_new_object();
	struct json_object *fres = NULL, *fins = NULL, *cp;
	const char *why = NULL;
	char *out = work_tail_text(&s->proc.out), *err = work_tail_text(&s->proc.err), *text;

	if (WIFEXITED(st))
		json_object_object_add(res, "exit_status", json_object_new_int(WEXITSTATUS(st)));
	else if (WIFSIGNALED(st))
		json_object_object_add(res, "signal", json_object_new_int(WTERMSIG(st)));
	if (out[0] != '\0')
		json_object_object_add(res, "stdout_tail", json_object_new_string(out));
	if (err[0] != '\0')
		json_object_object_add(res, "stderr_tail", json_object_new_string(err));
	json_object_object_add(ins, "wall_ms", json_object_new_int64(s->ended_ms - s->started_ms));
	s->fallback = fence_body(a, s);
	json_object_object_add(s->fallback, "id", json_object_new_string(s->id));
	json_object_object_add(s->fallback, "stage", json_object_new_string(ok ? "shipped" : "failed"));
	if ((cp = checkpoint_changed(s, &text)) != NULL) {
		json_object_object_add(s->fallback, "checkpoint", cp);
		free(text);
	}
	result_file(s, &fres, &fins, &why);
	if (why != NULL)
		json_object_object_add(res, "result_file_error", json_object_new_string(why));
	json_object_deep_copy(s->fallback, &s->item, NULL);
	json_object_object_add(s->fallback, "result", json_object_get(res));
	json_object_object_add(s->fallback, "insights", json_object_get(ins));
	if (fins != NULL && json_get(fins, "wall_ms") == NULL)
		json_object_object_add(fins, "wall_ms", json_object_new_int64(s->ended_ms - s->started_ms));
	json_object_object_add(s->item, "result", fres != NULL ? fres : json_object_get(res));
	json_object_object_add(s->item, "insights", fins != NULL ? fins : json_object_get(ins));
	json_object_put(res);
	json_object_put(ins);
	free(out);
	free(err);
}

/* Waits for every command that exited. */
static void reap(struct agent *a)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct slot *s = slot_of_pid(a, pid);

		if (s == NULL)
			continue;
		s->ended_ms = a->last_exit_ms = now_ms();
		work_proc_exited(&s->proc, st);
		if (s->fenced) {
			slot_free(s);
		} else if (s->drain_killed) {
			s->state = SLOT_RELEASE;
		} else {
			build_item(a, s);
			s->state = SLOT_DONE;
		}
	}
}

/* The index i of "items[i]..." in a refusal's field; -1 when it names none. */
static int item_index(const char *field)
{
	char *end;
	long i;

	if (strncmp(field, "items[", 6) != 0)
		return -1;
	i = strtol(field + 6, &end, 10);
	return *end == ']' && i >= 0 && i < REPORT_MAX ? (int)i : -1;
}

/* One answer of jobs:transition: {id, ok, stage} or {id, ok:false, error}. */
static void reported(struct agent *a, struct json_object *it)
{
	struct slot *s = slot_of_id(a, json_get_string(it, "id", ""));
	const char *stage = json_get_string(it, "stage", "");
	char st[16], wall[24];
	int ws;

	if (s == NULL)
		return;
	ws = s->proc.wait_status;
	if (!json_get_bool(it, "ok", false)) {
		progress_clear(a);
		log_warn("report refused: the lease was lost (job cancelled or reaped, or this report "
		         "arrived before and its answer was lost)",
		         "job_id", s->id, "error", json_get_string(it, "error", ""));
		a->lost++;
	} else {
		if (strcmp(stage, "shipped") == 0)
			a->done++;
		else
			a->failed++;
		if (!a->tty)
			log_info("job finished", "job_id", s->id, "stage", stage, "exit_status",
			         WIFEXITED(ws) ? lltoa(st, sizeof(st), WEXITSTATUS(ws)) : NULL, "signal",
			         WIFSIGNALED(ws) ? lltoa(st, sizeof(st), WTERMSIG(ws)) : NULL, "wall_ms",
			         lltoa(wall, sizeof(wall), s->ended_ms - s->started_ms));
	}
	slot_free(s);
}

/* Reports every finished job in one POST /v1/fleet/jobs:transition, once no
 * command ended for COALESCE_MS (or the first waited COALESCE_MAX_MS, or
 * nothing else runs). An item refused for what the result file set goes
 * again without it. */
static void report(struct agent *a, bool all)
{
	struct slot *take[REPORT_MAX];
	struct json_object *body, *items;
	struct client_answer ans;
	struct cd_error e;
	long long now = now_ms();
	bool due = all || busy(a, SLOT_RUNNING) == 0 || now >= a->last_exit_ms + COALESCE_MS;
	int n = 0;
	enum cd_err rc;

	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_DONE && now >= a->slots[i].ended_ms + COALESCE_MAX_MS)
			due = true;
	if (!due || !api_ready(a, now) || now < a->report_at_ms)
		return;
	for (int i = 0; i < a->seats && n < REPORT_MAX; i++)
		if (a->slots[i].state == SLOT_DONE)
			take[n++] = &a->slots[i];
	for (int tries = 0; n > 0 && tries <= n; tries++) {
		int bad;

		body = json_object_new_object();
		items = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(items, json_object_get(take[i]->item));
		json_object_object_add(body, "items", items);
		cd_error_reset(&e);
		rc = call(a, CALL_TIMEOUT_MS, "POST", "/v1/fleet/jobs:transition", body, &ans, &e);
		json_object_put(body);
		if (rc == CD_OK) {
			struct json_object *answers = json_get(ans.data, "items");

			for (size_t i = 0; i < json_object_array_length(answers); i++)
				reported(a, json_object_array_get_idx(answers, i));
			client_answer_free(&ans);
			return;
		}
		client_answer_free(&ans);
		bad = rc == CD_INVALID ? item_index(e.field) : -1;
		if (bad < 0 || bad >= n || take[bad]->item == take[bad]->fallback) {
			if (!unreachable(rc)) { /* not ours to fix: keep them, try later */
				progress_clear(a);
				log_error("report refused; tried again later", "error", e.message,
				          "field", e.field);
				a->report_at_ms = now_ms() + BACKOFF_MAX_MS;
			}
			return;
		}
		/* what the command's result file set was refused: report without it */
		progress_clear(a);
		log_warn("result file refused by the API; reported without it", "job_id",
		         take[bad]->id, "error", e.message);
		json_object_object_add(json_get(take[bad]->fallback, "result"), "result_file_error",
		                       json_object_new_string(e.message));
		json_object_put(take[bad]->item);
		take[bad]->item = json_object_get(take[bad]->fallback);
	}
}

/* ---- claiming ----------------------------------------------------------- */

/* POST /v1/fleet/jobs/{id}/lease/release {requeue: true}: the job goes back
 * to queued (not a failed attempt). */
static enum cd_err release(struct agent *a, const char *id, long long epoch, struct cd_error *e)
{
	struct json_object *body = json_object_new_object();
	struct client_answer ans;
	char path[96];
	enum cd_err rc;

	json_object_object_add(body, "factory_id", json_object_new_string(a->factory_id));
	json_object_object_add(body, "lease_epoch", json_object_new_int64(epoch));
	json_object_object_add(body, "requeue", json_object_new_boolean(true));
	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s/lease/release", id);
	rc = call(a, CALL_TIMEOUT_MS, "POST", path, body, &ans, e);
	client_answer_free(&ans);
	json_object_put(body);
	return rc;
}

/* Releases the leases of the commands killed at the end of the grace. */
static void release_killed(struct agent *a)
{
	for (int i = 0; i < a->seats; i++) {
		struct slot *s = &a->slots[i];
		struct cd_error e;
		enum cd_err rc;

		if (s->state != SLOT_RELEASE || !api_ready(a, now_ms()))
			continue;
		cd_error_reset(&e);
		rc = release(a, s->id, s->epoch, &e);
		if (unreachable(rc))
			continue;
		progress_clear(a);
		if (rc == CD_OK)
			log_info("grace over: command killed, lease released", "job_id", s->id);
		else
			log_warn("release refused", "job_id", s->id, "error", e.message);
		slot_free(s);
	}
}

/* Gives back a job this agent will not run (claimed while a signal came). */
static void give_back(struct agent *a, const char *id, long long epoch)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (release(a, id, epoch, &e) != CD_OK)
		log_warn("cannot give back a job claimed while stopping; the reaper will", "job_id", id,
		         "error", e.message);
}

/* Starts the command for job (a claim's item) in a free slot. */
static void start(struct agent *a, struct json_object *job)
{
	struct json_object *lease = json_get(job, "lease"), *cp = json_get(job, "checkpoint");
	const char *id = json_get_string(job, "id", ""), *body = json_get_string(job, "body", "");
	long long epoch = json_get_int(lease, "epoch", 0);
	struct slot *s = NULL;
	struct work_spec spec;
	struct cd_error e;

	cd_error_reset(&e);
	for (int i = 0; i < a->seats && s == NULL; i++)
		if (a->slots[i].state == SLOT_FREE)
			s = &a->slots[i];
	if (s == NULL || strlen(id) >= ID_MAX) { /* cannot happen: max_jobs was the free seats */
		give_back(a, id, epoch);
		return;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->epoch = epoch;
	s->checkpoint_sent =
	    xstrdup(cp != NULL ? json_object_to_json_string_ext(cp, JSON_C_TO_STRING_PLAIN) : "");
	spec = (struct work_spec){.argv = a->argv, .job_id = id, .epoch = epoch,
	                          .checkpoint = s->checkpoint_sent, .body = body,
	                          .body_len = strlen(body), .dir = a->dir};
	s->started_ms = now_ms(); /* before the fork: the wall time holds all of the command */
	if (work_proc_start(&s->proc, &spec, &e) != CD_OK) {
		progress_clear(a);
		log_error("cannot start the command; job given back", "job_id", id, "error", e.message);
		give_back(a, id, epoch);
		slot_free(s);
		a->claim_at_ms = now_ms() + BACKOFF_MAX_MS / 6;
		return;
	}
	s->state = SLOT_RUNNING;
	s->renew_at_ms = s->started_ms + (long long)a->ttl_s * 1000 / 3;
	log_debug("job started", "job_id", id);
}

static void read_signals(struct agent *a);

/* The claim thread: makes each claim the loop hands it, answers. */
static void *claimer_main(void *p)
{
	struct agent *a = p;
	struct claim_call *c = &a->cc;
	char b;

	while (read(a->claim_req[0], &b, 1) == 1 && b == 'c') {
		cd_error_reset(&c->e);
		c->rc = client_call_within(a->api, CALL_TIMEOUT_MS + c->wait_ms, "POST",
		                           "/v1/fleet/claim", c->body, &c->ans, &c->e);
		if (write(a->claim_ans[1], "a", 1) != 1)
			break;
	}
	return NULL;
}

/* Hands the claim thread a claim for the free seats, when one may go. */
static void claim_send(struct agent *a)
{
	int free_seats = busy(a, SLOT_FREE);
	struct json_object *body;
	long long now = now_ms();

	if (a->claim_out || a->draining || free_seats == 0 || now < a->claim_at_ms ||
	    !api_ready(a, now))
		return;
	body = json_object_new_object();
	json_object_object_add(body, "factory_id", json_object_new_string(a->factory_id));
	json_object_object_add(body, "capabilities", caps_array(a));
	json_object_object_add(body, "max_jobs", json_object_new_int(free_seats));
	json_object_object_add(body, "lease_ttl_s", json_object_new_int(a->ttl_s));
	json_object_object_add(body, "wait_ms", json_object_new_int(CLAIM_WAIT_MS));
	a->cc.body = xstrdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	a->cc.wait_ms = CLAIM_WAIT_MS;
	json_object_put(body);
	if (write(a->claim_req[1], "c", 1) != 1) {
		free(a->cc.body);
		a->cc.body = NULL;
		return;
	}
	a->claim_out = true;
}

/* The claim thread answered: starts a command for each job (or gives the
 * jobs back when a signal came meanwhile). An empty answer before the wait
 * was over (the server could not wait: Retry-After) is not followed by
 * another claim before the later of Retry-After and the rest of the wait:
 * no spinning. */
static void claim_done(struct agent *a)
{
	struct claim_call *c = &a->cc;
	struct json_object *jobs;
	long long after = now_ms();
	char b;
	size_t n;

	if (read(a->claim_ans[0], &b, 1) != 1)
		return;
	a->claim_out = false;
	free(c->body);
	c->body = NULL;
	if (account(a, c->rc, &c->e) != CD_OK) {
		if (!unreachable(c->rc)) {
			progress_clear(a);
			log_warn("claim refused", "error", c->e.message);
			a->claim_at_ms = after + BACKOFF_MAX_MS;
		}
		client_answer_free(&c->ans);
		return;
	}
	read_signals(a); /* a SIGTERM that came during the wait: give the jobs back */
	jobs = json_get(c->ans.data, "jobs");
	n = json_object_array_length(jobs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *j = json_object_array_get_idx(jobs, i);

		if (a->draining)
			give_back(a, json_get_string(j, "id", ""),
			          json_get_int(json_get(j, "lease"), "epoch", 0));
		else
			start(a, j);
	}
	if (n == 0) {
		long long rest = c->wait_ms - json_get_int(c->ans.data, "waited_ms", c->wait_ms);
		long long ra = c->ans.retry_after_s > 0 ? c->ans.retry_after_s * 1000 : 0;

		a->claim_at_ms = after + (rest > ra ? rest : ra);
	}
	client_answer_free(&c->ans);
}

/* ---- signals and the loop ----------------------------------------------- */

static void kill_all(struct agent *a)
{
	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_RUNNING)
			work_proc_kill(&a->slots[i].proc);
}

static void on_signal(struct agent *a, int sig)
{
	if (sig == SIGCHLD)
		return; /* reap() runs every turn */
	progress_clear(a);
	if (a->draining) {
		log_warn("second signal: commands killed, exiting now; their leases are left to the "
		         "reaper",
		         "signal", strsignal(sig));
		kill_all(a);
		a->forced = sig;
		return;
	}
	a->draining = true;
	a->drain_deadline_ms = now_ms() + (long long)a->grace_s * 1000;
	log_info("draining: no more claims; running commands get the grace", "signal",
	         strsignal(sig));
}

static void read_signals(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		on_signal(a, (int)si.ssi_signo);
}

/* Reads the commands' pipes that poll() said are ready. */
static void poll_once(struct agent *a, int timeout_ms)
{
	struct pollfd fds[2 + 2 * SEATS_MAX];
	struct work_proc *owner[2 + 2 * SEATS_MAX];
	nfds_t n = 0;

	fds[n++] = (struct pollfd){.fd = a->sfd, .events = POLLIN};
	fds[n++] = (struct pollfd){.fd = a->claim_ans[0], .events = POLLIN};
	for (int i = 0; i < a->seats; i++) {
		struct work_proc *p = &a->slots[i].proc;

		if (a->slots[i].state != SLOT_RUNNING)
			continue;
		if (p->out_fd >= 0) {
			owner[n] = p;
			fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
		}
		if (p->err_fd >= 0) {
			owner[n] = p;
			fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
		}
	}
	if (poll(fds, n, timeout_ms) <= 0)
		return;
	if (fds[0].revents != 0)
		read_signals(a);
	if (fds[1].revents != 0)
		claim_done(a);
	for (nfds_t i = 2; i < n; i++)
		if (fds[i].revents != 0)
			work_proc_drain(owner[i], fds[i].fd);
}

/* The next renewal or heartbeat due. */
static long long next_due(const struct agent *a)
{
	long long t = a->heartbeat_at_ms;

	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_RUNNING && !a->slots[i].fenced &&
		    a->slots[i].renew_at_ms < t)
			t = a->slots[i].renew_at_ms;
	return t;
}

/* How long poll() may sleep: until the next thing due. What needs the API
 * waits for it to be tried again; what does not (the end of the grace, the
 * progress line) does not. Never 0 for something that cannot happen now. */
static int sleep_ms(const struct agent *a)
{
	long long now = now_ms(), t = next_due(a);

	if (!a->claim_out && !a->draining && busy(a, SLOT_FREE) > 0 && a->claim_at_ms < t)
		t = a->claim_at_ms;
	for (int i = 0; i < a->seats; i++) {
		const struct slot *s = &a->slots[i];
		long long at = a->last_exit_ms + COALESCE_MS;

		if (s->state == SLOT_DONE && a->report_at_ms > at)
			at = a->report_at_ms;
		if ((s->state == SLOT_DONE || s->state == SLOT_RELEASE) && at < t)
			t = at;
	}
	if (a->api_down && t < a->api_at_ms)
		t = a->api_at_ms;
	if (a->draining && now < a->drain_deadline_ms && a->drain_deadline_ms < t)
		t = a->drain_deadline_ms;
	if (a->draining && now < a->drain_deadline_ms + FINAL_MS && a->drain_deadline_ms + FINAL_MS < t)
		t = a->drain_deadline_ms + FINAL_MS;
	if (a->tty && a->progress_at_ms < t)
		t = a->progress_at_ms;
	t -= now;
	return t < 0 ? 0 : t > 1000 ? 1000 : (int)t;
}

/* Runs until drained; returns the exit status. */
static int run(struct agent *a)
{
	long long now;

	for (;;) {
		poll_once(a, sleep_ms(a));
		if (a->forced)
			return 128 + a->forced;
		reap(a);
		now = now_ms();
		if (a->draining && now >= a->drain_deadline_ms) {
			for (int i = 0; i < a->seats; i++) {
				struct slot *s = &a->slots[i];

				if (s->state == SLOT_RUNNING && !s->drain_killed && !s->fenced) {
					s->drain_killed = true;
					work_proc_kill(&s->proc);
				}
			}
		}
		report(a, a->draining);
		release_killed(a);
		renew_due(a);
		now = now_ms();
		if (now >= a->heartbeat_at_ms && api_ready(a, now)) {
			struct cd_error e;
			enum cd_err rc;

			cd_error_reset(&e);
			rc = heartbeat(a, &e);
			if (rc != CD_OK && !unreachable(rc)) {
				progress_clear(a);
				log_warn("heartbeat refused", "error", e.message);
			}
			if (!unreachable(rc))
				a->heartbeat_at_ms = now + HEARTBEAT_MS;
		}
		if (a->draining && busy(a, SLOT_FREE) == a->seats && !a->claim_out)
			return CTL_EXIT_OK;
		if (a->draining && now >= a->drain_deadline_ms + FINAL_MS &&
		    busy(a, SLOT_RUNNING) == 0) {
			char n[24];

			progress_clear(a);
			log_error("api unreachable after the grace: finished jobs not reported",
			          "jobs", lltoa(n, sizeof(n), busy(a, SLOT_DONE) + busy(a, SLOT_RELEASE)));
			return CTL_EXIT_UNREACHABLE;
		}
		claim_send(a);
		progress(a, now_ms(), false);
	}
}

/* ---- the command -------------------------------------------------------- */

/* Can COMMAND be run: a path to an executable, or a name found in PATH? A
 * typo would otherwise fail every job it claims. */
static bool runnable(const char *cmd)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	for (const char *p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0';) {
		size_t n = strcspn(p, ":");

		if (snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, n > 0 ? p : ".", cmd) <
		        (int)sizeof(dir) &&
		    access(dir, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* An integer flag in lo..hi, or -1 after saying what is wrong. */
static long int_flag(const char *name, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, PROGRAM ": --%s takes a whole number from %ld to %ld\n", name, lo, hi);
		return -1;
	}
	return n;
}

/* Parses the flags into a; returns an exit status (0: go on). */
static int parse_flags(struct ctl *ctl, struct agent *a)
{
	static const struct option opts[] = {
		{"factory-id", required_argument, NULL, 'f'},
		{"capability", required_argument, NULL, 'c'},
		{"seats", required_argument, NULL, 's'},
		{"lease-ttl", required_argument, NULL, 't'},
		{"grace", required_argument, NULL, 'g'},
		{NULL, 0, NULL, 0},
	};
	int c, argc = ctl->argc + 1;
	char **argv = ctl->argv - 1;
	long v;

	a->seats = 1;
	a->ttl_s = 60;
	a->grace_s = 30;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (optarg[0] == '\0' || strlen(optarg) > 128) {
				fprintf(stderr, PROGRAM ": --factory-id takes 1 to 128 characters\n");
				return CTL_EXIT_USAGE;
			}
			a->factory_id = optarg;
			break;
		case 'c':
			if (a->ncaps == CAPS_MAX || optarg[0] == '\0' || strlen(optarg) > 64) {
				fprintf(stderr, PROGRAM ": --capability takes 1 to 64 characters, at most "
				                "%d times\n", CAPS_MAX);
				return CTL_EXIT_USAGE;
			}
			a->caps[a->ncaps++] = optarg;
			break;
		case 's':
			if ((v = int_flag("seats", optarg, 1, SEATS_MAX)) < 0)
				return CTL_EXIT_USAGE;
			a->seats = (int)v;
			break;
		case 't':
			if ((v = int_flag("lease-ttl", optarg, 5, 3600)) < 0)
				return CTL_EXIT_USAGE;
			a->ttl_s = (int)v;
			break;
		case 'g':
			if ((v = int_flag("grace", optarg, 0, 86400)) < 0)
				return CTL_EXIT_USAGE;
			a->grace_s = (int)v;
			break;
		default: return ctl_usage("work " WORK_ARGS);
		}
	}
	if (a->factory_id == NULL || optind >= argc)
		return ctl_usage("work " WORK_ARGS);
	a->argv = argv + optind;
	if (!runnable(a->argv[0])) {
		fprintf(stderr, PROGRAM ": %s: command not found or not executable\n", a->argv[0]);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* Blocks the signals the loop reads and opens its signalfd. */
static bool signals_setup(struct agent *a)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return false;
	a->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sfd >= 0;
}

/* Waits (a second at most) for the commands killed by a second signal, so
 * that none is left a zombie for whoever adopts it. */
static void reap_killed(struct agent *a)
{
	for (int tries = 0; tries < 100 && busy(a, SLOT_RUNNING) > 0; tries++) {
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (int i = 0; i < a->seats; i++)
				if (a->slots[i].state == SLOT_RUNNING && a->slots[i].proc.pid == pid)
					slot_free(&a->slots[i]);
		}
		if (busy(a, SLOT_RUNNING) > 0)
			usleep(10000);
	}
}

/* The claim thread and its pipes; false (errno set) when they failed. */
static bool claimer_start(struct agent *a)
{
	int rc;

	if (pipe2(a->claim_req, O_CLOEXEC) != 0)
		return false;
	if (pipe2(a->claim_ans, O_CLOEXEC) != 0)
		return false;
	if ((rc = pthread_create(&a->claimer, NULL, claimer_main, a)) != 0) {
		errno = rc;
		return false;
	}
	a->claimer_started = true;
	return true;
}

/* Ends the claim thread (none is out: the loop waited for it). */
static void claimer_stop(struct agent *a)
{
	if (a->claimer_started) {
		if (write(a->claim_req[1], "q", 1) == 1)
			pthread_join(a->claimer, NULL);
		else
			pthread_detach(a->claimer);
	}
	for (int i = 0; i < 2; i++) {
		if (a->claim_req[i] >= 0)
			close(a->claim_req[i]);
		if (a->claim_ans[i] >= 0)
			close(a->claim_ans[i]);
	}
}

static int cmd_work(struct ctl *ctl)
{
	struct agent a;
	struct cd_error e;
	const char *tmp = getenv("TMPDIR");
	char seats[16];
	int status;

	memset(&a, 0, sizeof(a));
	a.sfd = -1;
	a.claim_req[0] = a.claim_req[1] = a.claim_ans[0] = a.claim_ans[1] = -1;
	cd_error_reset(&e);
	log_set_program(PROGRAM);
	if ((status = parse_flags(ctl, &a)) != CTL_EXIT_OK)
		return status;
	a.api = ctl->api;
	a.tty = isatty(STDERR_FILENO) != 0;
	snprintf(a.dir, sizeof(a.dir), "%s/conductorctl-work.XXXXXX",
	         tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 128 ? tmp : "/tmp");
	if (mkdtemp(a.dir) == NULL) {
		fprintf(stderr, PROGRAM ": cannot make a work directory in %s: %s\n",
		        tmp ? tmp : "/tmp", strerror(errno));
		return CTL_EXIT_USAGE;
	}
	a.slots = xcalloc((size_t)a.seats, sizeof(*a.slots));
	for (int i = 0; i < a.seats; i++)
		a.slots[i].proc.out_fd = a.slots[i].proc.err_fd = -1;
	/* signals blocked first: the claim thread inherits the mask */
	if (!signals_setup(&a) || !claimer_start(&a)) {
		fprintf(stderr, PROGRAM ": cannot set up signals or the claim thread: %s\n",
		        strerror(errno));
		status = CTL_EXIT_USAGE;
		goto out;
	}
	/* the first heartbeat tells a wrong URL or token at once */
	if (heartbeat(&a, &e) != CD_OK) {
		status = ctl_fail(&e);
		goto out;
	}
	a.t0_ms = now_ms();
	a.heartbeat_at_ms = a.t0_ms + HEARTBEAT_MS;
	log_info("agent started", "factory_id", a.factory_id, "seats",
	         lltoa(seats, sizeof(seats), a.seats), "command", a.argv[0]);
	status = run(&a);
	if (a.forced) {
		kill_all(&a);
		reap_killed(&a);
	}
	progress(&a, now_ms(), true);
	if (a.tty)
		fputc('\n', stderr);
	log_info("agent stopped", "factory_id", a.factory_id);
	if (a.claim_out) /* a second signal with a claim out: do not wait for it */
		_exit(status);
out:
	claimer_stop(&a);
	for (int i = 0; i < a.seats; i++)
		slot_free(&a.slots[i]);
	free(a.slots);
	if (a.sfd >= 0)
		close(a.sfd);
	rmdir(a.dir);
	return status;
}

const struct ctl_command CTL_WORK_COMMANDS[] = {
	{"work", NULL, cmd_work, CTL_NEEDS_API, WORK_ARGS,
	 "run COMMAND for each job claimed (a worker agent), until SIGTERM",
	 "Heartbeats, claims up to --seats (default 1) jobs with capabilities C, and runs\n"
	 "COMMAND for each in its own process group: the job's body on stdin;\n"
	 "CONDUCTOR_JOB_ID, CONDUCTOR_LEASE_EPOCH, CONDUCTOR_JOB_CHECKPOINT (JSON, or\n"
	 "empty), CONDUCTOR_RESULT_FILE and CONDUCTOR_CHECKPOINT_FILE in its environment\n"
	 "(not the agent's token). The lease (--lease-ttl, default 60 s) is renewed\n"
	 "every third of it, with the checkpoint file's JSON object when it changed.\n"
	 "Exit 0 -> shipped, else failed; the result holds exit_status (or signal),\n"
	 "stdout_tail and stderr_tail (the last 4 KiB), the insights wall_ms. A JSON\n"
	 "object written to the result file sets them instead: {\"result\": {...},\n"
	 "\"insights\": {...}}, or, with neither key, the whole object is the result.\n"
	 "A job cancelled or reaped meanwhile: its command is killed, nothing reported.\n"
	 "SIGTERM or Ctrl-C: no more claims, --grace S (default 30) for the running\n"
	 "commands, then they are killed and their jobs requeued; a second one exits\n"
	 "at once. A progress line on a terminal, else a JSON log line per job.\n"
	 "Example: " PROGRAM " work --factory-id box-1 --seats 4 -- sh -c 'wc -w'"},
};
const size_t CTL_WORK_NCOMMANDS = sizeof(CTL_WORK_COMMANDS) / sizeof(CTL_WORK_COMMANDS[0]);

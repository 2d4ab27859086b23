/* work_jobs.c -- the jobs' side of `conductorctl work` (see work.h and the
 * rules at the top of work.c): the API calls and what the agent does with a
 * job -- start its command, renew its lease (saving a changed checkpoint),
 * fence it, reap its command, build its report (exit status, tails, wall
 * time, or the result file), report finished jobs together in one
 * jobs:transition, release what the grace killed. Runs on the loop's thread
 * only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "ctl/ctl.h"
#include "ctl/work.h"

/* ---- the API ------------------------------------------------------------ */

/* Does rc mean the API is not reachable now (no answer, nginx's or our
 * 5xx), rather than a refusal? */
bool work_jobs_unreachable(enum cd_err rc)
{
	return rc == CD_UPSTREAM || rc == CD_UNAVAILABLE || rc == CD_INTERNAL;
}

bool work_jobs_api_ready(const struct agent *a, long long now)
{
	return !a->api_down || now >= a->api_at_ms;
}

/* What a call's rc says about the API: unreachable marks it down and sets
 * the backoff; the next answer says it is back. Returns rc. */
enum cd_err work_jobs_account(struct agent *a, enum cd_err rc, const struct cd_error *e)
{
	if (work_jobs_unreachable(rc)) {
		if (!a->api_down && a->t0_ms != 0) { /* at start, cmd_work says it */
			work_progress_clear(a);
			log_warn(
			    "api unreachable; commands keep running, calls retried with backoff",
			    "error", e->message);
		}
		a->api_down = true;
		a->backoff_ms = a->backoff_ms == 0 ? BACKOFF_MIN_MS : a->backoff_ms * 2;
		if (a->backoff_ms > BACKOFF_MAX_MS)
			a->backoff_ms = BACKOFF_MAX_MS;
		a->api_at_ms = work_now_ms() + a->backoff_ms;
		return rc;
	}
	if (a->api_down) {
		work_progress_clear(a);
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

	return work_jobs_account(
	    a, client_call_within(a->api, timeout_ms, method, path, text, out, e), e);
}

/* {factory_id, lease_epoch} of s: the fence every write of a job carries. */
static struct json_object *fence_body(const struct agent *a, const struct slot *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "factory_id", json_object_new_string(a->factory_id));
	json_object_object_add(o, "lease_epoch", json_object_new_int64(s->epoch));
	return o;
}

struct json_object *work_jobs_caps_array(const struct agent *a)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < a->ncaps; i++)
		json_object_array_add(arr, json_object_new_string(a->caps[i]));
	return arr;
}

/* POST /v1/fleet/factories/heartbeat. */
enum cd_err work_jobs_heartbeat(struct agent *a, struct cd_error *e)
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
	json_object_object_add(body, "capabilities", work_jobs_caps_array(a));
	json_object_object_add(body, "health", json_object_new_string("ok"));
	json_object_object_add(body, "load", json_object_new_int(work_busy(a, SLOT_RUNNING)));
	json_object_object_add(body, "seat_limit", json_object_new_int(a->seats));
	json_object_object_add(body, "descriptor", d);
	rc = call(a, CALL_TIMEOUT_MS, "POST", "/v1/fleet/factories/heartbeat", body, &ans, e);
	client_answer_free(&ans);
	json_object_put(body);
	return rc;
}

/* ---- a job's slot ------------------------------------------------------- */

void work_jobs_slot_free(struct slot *s)
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
	work_progress_clear(a);
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
		if (rc != CD_OK && !work_jobs_unreachable(rc) && !fenced_out(&ans, &e))
			log_warn("checkpoint refused; not sent again", "job_id", s->id, "error",
			         e.message);
		if (!work_jobs_unreachable(rc)) { /* saved, or refused: this content goes once */
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
		if (work_jobs_unreachable(rc))
			return;
	}
	body = fence_body(a, s);
	json_object_object_add(body, "ttl_s", json_object_new_int(a->ttl_s));
	snprintf(path, sizeof(path), "/v1/fleet/jobs/%s/lease/renew", s->id);
	cd_error_reset(&e);
	rc = call(a, CALL_TIMEOUT_MS, "POST", path, body, &ans, &e);
	json_object_put(body);
	if (rc == CD_OK || !work_jobs_unreachable(rc))
		s->renew_at_ms = now + (long long)a->ttl_s * 1000 / 3;
	if (rc != CD_OK && fenced_out(&ans, &e))
		fence(a, s, &e);
	else if (rc != CD_OK && !work_jobs_unreachable(rc))
		log_warn("renewal refused", "job_id", s->id, "error", e.message);
	client_answer_free(&ans);
}

void work_jobs_renew_due(struct agent *a)
{
	for (int i = 0; i < a->seats; i++) {
		struct slot *s = &a->slots[i];
		long long now = work_now_ms();

		if (s->state == SLOT_RUNNING && !s->fenced && now >= s->renew_at_ms &&
		    work_jobs_api_ready(a, now))
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
	json_object_object_add(s->fallback, "stage",
	                       json_object_new_string(ok ? "shipped" : "failed"));
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
		json_object_object_add(fins, "wall_ms",
		                       json_object_new_int64(s->ended_ms - s->started_ms));
	json_object_object_add(s->item, "result", fres != NULL ? fres : json_object_get(res));
	json_object_object_add(s->item, "insights", fins != NULL ? fins : json_object_get(ins));
	json_object_put(res);
	json_object_put(ins);
	free(out);
	free(err);
}

/* Waits for every command that exited. */
void work_jobs_reap(struct agent *a)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct slot *s = slot_of_pid(a, pid);

		if (s == NULL)
			continue;
		s->ended_ms = a->last_exit_ms = work_now_ms();
		work_proc_exited(&s->proc, st);
		if (s->fenced) {
			work_jobs_slot_free(s);
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
		work_progress_clear(a);
		log_warn("report refused: lease lost (cancelled, reaped, or reported before)",
		         "job_id", s->id, "error", json_get_string(it, "error", ""));
		a->lost++;
	} else {
		if (strcmp(stage, "shipped") == 0)
			a->done++;
		else
			a->failed++;
		work_rate_add(a, work_now_ms());
		if (!a->tty)
			log_info("job finished", "job_id", s->id, "stage", stage, "exit_status",
			         WIFEXITED(ws) ? work_lltoa(st, sizeof(st), WEXITSTATUS(ws)) : NULL,
			         "signal",
			         WIFSIGNALED(ws) ? work_lltoa(st, sizeof(st), WTERMSIG(ws)) : NULL,
			         "wall_ms",
			         work_lltoa(wall, sizeof(wall), s->ended_ms - s->started_ms));
	}
	work_jobs_slot_free(s);
}

/* Reports every finished job in one POST /v1/fleet/jobs:transition, once no
 * command ended for COALESCE_MS (or the first waited COALESCE_MAX_MS, or
 * nothing else runs). An item refused for what the result file set goes
 * again without it. */
void work_jobs_report(struct agent *a, bool all)
{
	struct slot *take[REPORT_MAX];
	struct json_object *body, *items;
	struct client_answer ans;
	struct cd_error e;
	long long now = work_now_ms();
	bool due = all || work_busy(a, SLOT_RUNNING) == 0 || now >= a->last_exit_ms + COALESCE_MS;
	int n = 0;
	enum cd_err rc;

	for (int i = 0; i < a->seats; i++)
		if (a->slots[i].state == SLOT_DONE && now >= a->slots[i].ended_ms + COALESCE_MAX_MS)
			due = true;
	if (!due || !work_jobs_api_ready(a, now) || now < a->report_at_ms)
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
			if (!work_jobs_unreachable(
			        rc)) { /* not ours to fix: keep them, try later */
				work_progress_clear(a);
				log_error("report refused; tried again later", "error", e.message,
				          "field", e.field);
				a->report_at_ms = work_now_ms() + BACKOFF_MAX_MS;
			}
			return;
		}
		/* what the command's result file set was refused: report without it */
		work_progress_clear(a);
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
void work_jobs_release_killed(struct agent *a)
{
	for (int i = 0; i < a->seats; i++) {
		struct slot *s = &a->slots[i];
		struct cd_error e;
		enum cd_err rc;

		if (s->state != SLOT_RELEASE || !work_jobs_api_ready(a, work_now_ms()))
			continue;
		cd_error_reset(&e);
		rc = release(a, s->id, s->epoch, &e);
		if (work_jobs_unreachable(rc))
			continue;
		work_progress_clear(a);
		if (rc == CD_OK)
			log_info("grace over: command killed, lease released", "job_id", s->id);
		else
			log_warn("release refused", "job_id", s->id, "error", e.message);
		work_jobs_slot_free(s);
	}
}

/* Gives back a job this agent will not run (claimed while a signal came). */
void work_jobs_give_back(struct agent *a, const char *id, long long epoch)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (release(a, id, epoch, &e) != CD_OK)
		log_warn("cannot give back a job claimed while stopping; the reaper will", "job_id",
		         id, "error", e.message);
}

/* Starts the command for job (a claim's item) in a free slot. */
void work_jobs_start(struct agent *a, struct json_object *job)
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
		work_jobs_give_back(a, id, epoch);
		return;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->epoch = epoch;
	s->checkpoint_sent =
	    xstrdup(cp != NULL ? json_object_to_json_string_ext(cp, JSON_C_TO_STRING_PLAIN) : "");
	spec = (struct work_spec){.argv = a->argv,
	                          .job_id = id,
	                          .epoch = epoch,
	                          .checkpoint = s->checkpoint_sent,
	                          .body = body,
	                          .body_len = strlen(body),
	                          .dir = a->dir};
	s->started_ms = work_now_ms(); /* before the fork: the wall time holds all of the command */
	if (work_proc_start(&s->proc, &spec, &e) != CD_OK) {
		work_progress_clear(a);
		log_error("cannot start the command; job given back", "job_id", id, "error",
		          e.message);
		work_jobs_give_back(a, id, epoch);
		work_jobs_slot_free(s);
		a->claim_at_ms = work_now_ms() + BACKOFF_MAX_MS / 6;
		return;
	}
	s->state = SLOT_RUNNING;
	s->renew_at_ms = s->started_ms + (long long)a->ttl_s * 1000 / 3;
	log_debug("job started", "job_id", id);
}

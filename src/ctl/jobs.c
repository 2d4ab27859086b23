/* jobs.c -- conductorctl's jobs commands, over the HTTP API (DESIGN 4):
 *
 *   jobs submit [FILE|-] [--body TEXT | --body-file F] [--dep ID]... [--priority P]
 *               [--capability C]... [--idempotency-key K] [--retry-max N] [--deps-mode M]
 *   jobs batch FILE|-            one submit object per line -> POST /v1/fleet/jobs:batch
 *   jobs list [--stage S] [--limit N] [--all]
 *   jobs show ID                 the job, its runs with insights, its events
 *   jobs cancel ID
 *   jobs wait ID [--timeout S]   0 when shipped, 1 when failed, dead_letter or cancelled
 *
 * Each prints a table or a few lines for a person, or with --json the API's
 * data (output.h). A refusal is printed as the API gave it and exits 1.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/mem.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

#define JOBS_PATH "/v1/fleet/jobs"
#define BATCH_MAX 1000      /* the API's most jobs in one batch: bigger files go in chunks */
#define PAGE_MAX 500        /* the API's most items in one page */
#define WAIT_FIRST_MS 250   /* jobs wait: the first poll's delay, doubled up to WAIT_MAX_MS */
#define WAIT_MAX_MS 5000
#define BODY_LINES_SHOWN 20 /* jobs show: the body's first lines */

/* ---- submit ------------------------------------------------------------- */

#define SUBMIT_ARGS "[FILE|-] [--body TEXT | --body-file F|-] [FLAGS]"

/* Reads submit's flags and operand into a new job object (*out). */
static int submit_body(struct ctl *ctl, struct json_object **out)
{
	static const struct option opts[] = {
		{"body", required_argument, NULL, 'b'},
		{"body-file", required_argument, NULL, 'B'},
		{"dep", required_argument, NULL, 'd'},
		{"deps-mode", required_argument, NULL, 'm'},
		{"priority", required_argument, NULL, 'p'},
		{"capability", required_argument, NULL, 'c'},
		{"idempotency-key", required_argument, NULL, 'k'},
		{"retry-max", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	static const char *const CMD = "jobs submit";
	struct json_object *flags = json_object_new_object(), *job = NULL;
	const char *body_file = NULL;
	int c, rc = CTL_EXIT_USAGE, n;
	long long max;
	char **rest;
	size_t len;
	char *text;

	args_start();
	while ((c = args_next(ctl, CMD, opts)) != -1) {
		switch (c) {
		case 'b': json_object_object_add(flags, "body", json_object_new_string(optarg)); break;
		case 'B': body_file = optarg; break;
		case 'd': args_push(flags, "deps", optarg); break;
		case 'm': json_object_object_add(flags, "deps_mode", json_object_new_string(optarg)); break;
		case 'p': json_object_object_add(flags, "priority", json_object_new_string(optarg)); break;
		case 'c': args_push(flags, "capabilities", optarg); break;
		case 'k':
			json_object_object_add(flags, "idempotency_key", json_object_new_string(optarg));
			break;
		case 'r':
			if (!args_int(CMD, "--retry-max", optarg, 0, 100, &max))
				goto out;
			json_object_object_add(flags, "retry", json_object_new_object());
			json_object_object_add(json_get(flags, "retry"), "max",
			                       json_object_new_int64(max));
			break;
		default: goto out;
		}
	}
	n = args_rest(ctl, &rest);
	if (body_file != NULL && json_get(flags, "body") != NULL) {
		args_fail(CMD, "--body and --body-file: one or the other");
		goto out;
	}
	if (body_file != NULL && n >= 1 && strcmp(body_file, "-") == 0 && strcmp(rest[0], "-") == 0) {
		args_fail(CMD, "stdin cannot be both the job (-) and its body (--body-file -)");
		goto out;
	}
	if (!args_object_operand(CMD, n, rest, &job))
		goto out;
	if (body_file != NULL) {
		if (!args_read(CMD, body_file, &text, &len))
			goto out;
		json_object_object_add(flags, "body", json_object_new_string_len(text, (int)len));
		free(text);
	}
	args_merge(job, flags);
	*out = job;
	job = NULL;
	rc = CTL_EXIT_OK;
out:
	json_object_put(job);
	json_object_put(flags);
	return rc;
}

static int cmd_jobs_submit(struct ctl *ctl)
{
	struct client_answer a = {0};
	struct json_object *job = NULL, *got;
	char stage[64];
	int rc;

	if ((rc = submit_body(ctl, &job)) != CTL_EXIT_OK)
		return rc;
	if ((rc = args_call(ctl, "POST", JOBS_PATH, job, &a)) != CTL_EXIT_OK)
		goto out;
	got = json_get(a.data, "job");
	if (ctl->json) {
		out_json(a.data);
		goto out;
	}
	printf("job %s %s: %s, priority %s\n", json_get_string(got, "id", "?"),
	       json_get_string(a.data, "outcome", "?"),
	       out_paint(stage, sizeof(stage), json_get_string(got, "stage", "?"),
	                 out_stage_sgr(json_get_string(got, "stage", NULL))),
	       json_get_string(got, "priority", "?"));
out:
	client_answer_free(&a);
	json_object_put(job);
	return rc;
}

/* ---- batch -------------------------------------------------------------- */

/* The lines of a batch file: objects[i] came from line[i]. */
struct batch {
	struct json_object *objects; /* array of every line's object */
	int *line;                   /* line numbers, one per object */
};

/* Parses text, one JSON object per line (blank lines skipped); false after
 * printing "FILE:LINE: what is wrong". */
static bool batch_parse(const char *name, char *text, size_t n, struct batch *b)
{
	size_t count = 0, alloc = 64;
	char *p = text, *end = text + n;
	int lineno = 0;

	b->objects = json_object_new_array();
	b->line = xmalloc(alloc * sizeof(*b->line));
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct json_object *o = NULL;
		struct cd_error e;

		lineno++;
		cd_error_reset(&e);
		if (strspn(p, " \t\r") < len) {
			if (json_parse_strict(p, len, &o, &e) != CD_OK) {
				args_fail("jobs batch", "%s:%d: %s", name, lineno, e.message);
				return false;
			}
			if (!json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				args_fail("jobs batch", "%s:%d: each line is one job, a JSON object",
				          name, lineno);
				return false;
			}
			if (count == alloc)
				b->line = xrealloc(b->line, (alloc *= 2) * sizeof(*b->line));
			b->line[count++] = lineno;
			json_object_array_add(b->objects, o);
		}
		p += len + 1;
	}
	if (count == 0) {
		args_fail("jobs batch", "%s holds no job (one JSON object per line)", name);
		return false;
	}
	return true;
}

/* The line of the job a refusal names ("jobs[3].priority" -> line of object
 * from + 3), or 0. */
static int refused_line(const struct batch *b, size_t from, const char *field)
{
	char *end;
	long i;

	if (strncmp(field, "jobs[", 5) != 0)
		return 0;
	i = strtol(field + 5, &end, 10);
	if (*end != ']' || i < 0 || from + (size_t)i >= json_object_array_length(b->objects))
		return 0;
	return b->line[from + (size_t)i];
}

static int cmd_jobs_batch(struct ctl *ctl)
{
	static const struct out_column COLS[] = {
		{"ID", 0, true}, {"KEY", 40, false}, {"OUTCOME", 0, false}};
	struct batch b = {0};
	struct json_object *all = json_object_new_array();
	struct client_answer a = {0};
	struct table *t = NULL;
	int rc = CTL_EXIT_USAGE, n, counts[3] = {0};
	size_t len, total;
	char **rest, *text = NULL;
	const char *name;

	if (!args_none(ctl, "jobs batch"))
		goto out;
	if ((n = args_rest(ctl, &rest)) != 1) {
		rc = ctl_usage("jobs batch FILE|-   (one JSON object per line)");
		goto out;
	}
	name = strcmp(rest[0], "-") == 0 ? "stdin" : rest[0];
	if (!args_read("jobs batch", rest[0], &text, &len) || !batch_parse(name, text, len, &b))
		goto out;
	total = json_object_array_length(b.objects);
	for (size_t from = 0; from < total; from += BATCH_MAX) {
		struct json_object *body = json_object_new_object(), *jobs = json_object_new_array();
		struct json_object *items;
		struct cd_error e;
		size_t to = from + BATCH_MAX < total ? from + BATCH_MAX : total;
		int line;

		cd_error_reset(&e);
		for (size_t i = from; i < to; i++)
			json_object_array_add(jobs, json_object_get(json_object_array_get_idx(b.objects, i)));
		json_object_object_add(body, "jobs", jobs);
		client_answer_free(&a);
		if (client_call_json(ctl->api, "POST", JOBS_PATH ":batch", body, &a, &e) != CD_OK) {
			json_object_put(body);
			if ((line = refused_line(&b, from, e.field)) > 0) {
				char where[300];

				snprintf(where, sizeof(where), "%s:%d: ", name, line);
				cd_error_prefix(&e, where);
			}
			rc = ctl_fail(&e);
			if (from > 0)
				fprintf(stderr, PROGRAM " jobs batch: the jobs of lines %d-%d were submitted "
				        "(in batches of %d), the rest not\n", b.line[0], b.line[from - 1],
				        BATCH_MAX);
			goto out;
		}
		json_object_put(body);
		items = json_get(a.data, "jobs");
		for (size_t i = 0; i < json_object_array_length(items); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(items, i)));
	}
	rc = CTL_EXIT_OK;
	if (ctl->json) {
		struct json_object *data = json_object_new_object();

		json_object_object_add(data, "jobs", json_object_get(all));
		out_json(data);
		json_object_put(data);
		goto out;
	}
	t = table_new(COLS, 3);
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *j = json_object_array_get_idx(all, i);
		const char *outcome = json_get_string(j, "outcome", "");

		table_cell(t, json_get_string(j, "id", NULL));
		table_cell(t, json_get_string(j, "idempotency_key", NULL));
		table_cell(t, outcome);
		counts[strcmp(outcome, "created") == 0 ? 0 : strcmp(outcome, "replayed") == 0 ? 1 : 2]++;
	}
	table_print(t, stdout);
	printf("%zu jobs: %d created, %d replayed, %d superseded\n", json_object_array_length(all),
	       counts[0], counts[1], counts[2]);
out:
	table_free(t);
	client_answer_free(&a);
	json_object_put(all);
	json_object_put(b.objects);
	free(b.line);
	free(text);
	return rc;
}

/* ---- list --------------------------------------------------------------- */

static void print_jobs(struct json_object *items)
{
	static const struct out_column COLS[] = {
		{"ID", 0, true},        {"STAGE", 0, false},         {"PRIORITY", 0, false},
		{"ATTEMPTS", 0, true},  {"WORKER", 20, false},       {"KEY", 28, false},
		{"CAPABILITIES", 24, false}, {"UPDATED", 0, false},
	};
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *j = json_object_array_get_idx(items, i);

		table_cell(t, json_get_string(j, "id", NULL));
		table_cell_stage(t, json_get_string(j, "stage", NULL));
		table_cell(t, json_get_string(j, "priority", NULL));
		table_cellf(t, "%lld", (long long)json_get_int(j, "attempts", 0));
		table_cell(t, out_lease_holder(json_get(j, "lease")));
		table_cell(t, json_get_string(j, "idempotency_key", NULL));
		table_cell_json(t, json_get(j, "capabilities"));
		table_cell_when(t, json_get_string(j, "updated_at", NULL));
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_jobs_list(struct ctl *ctl)
{
	static const struct option opts[] = {
		{"stage", required_argument, NULL, 's'},
		{"limit", required_argument, NULL, 'l'},
		{"all", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct json_object *all = json_object_new_array();
	struct client_answer a = {0};
	const char *stage = NULL;
	char path[512], cursor[64] = "";
	bool every = false, more = false;
	long long limit = 0;
	char **rest;
	int c, rc = CTL_EXIT_USAGE;

	args_start();
	while ((c = args_next(ctl, "jobs list", opts)) != -1) {
		switch (c) {
		case 's':
			stage = optarg;
			if (strlen(stage) > 32) {
				rc = args_fail("jobs list", "--stage takes a stage (see --help)");
				goto out;
			}
			break;
		case 'l':
			if (!args_int("jobs list", "--limit", optarg, 1, PAGE_MAX, &limit))
				goto out;
			break;
		case 'a': every = true; break;
		default: goto out;
		}
	}
	if (args_rest(ctl, &rest) != 0) {
		rc = args_fail("jobs list", "takes no operand (\"%s\"); see --help", rest[0]);
		goto out;
	}
	if (limit == 0)
		limit = every ? PAGE_MAX : 50;
	do {
		struct json_object *items;
		const char *next;

		snprintf(path, sizeof(path), JOBS_PATH "?limit=%lld%s", limit,
		         stage != NULL ? "&stage=" : "");
		if (stage != NULL) /* fits: at most 32 bytes, 96 escaped */
			client_escape(path, sizeof(path), stage);
		if (cursor[0] != '\0') { /* fits: at most 63 bytes, 189 escaped */
			strcat(path, "&cursor=");
			client_escape(path, sizeof(path), cursor);
		}
		client_answer_free(&a);
		if ((rc = args_call(ctl, "GET", path, NULL, &a)) != CTL_EXIT_OK)
			goto out;
		items = json_get(a.data, "items");
		for (size_t i = 0; i < json_object_array_length(items); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(items, i)));
		next = json_get_string(a.data, "next_cursor", NULL);
		more = next != NULL && next[0] != '\0';
		snprintf(cursor, sizeof(cursor), "%s", more ? next : "");
	} while (every && more);
	if (ctl->json) {
		struct json_object *data = json_object_new_object();

		json_object_object_add(data, "items", json_object_get(all));
		json_object_object_add(data, "next_cursor", more ? json_object_new_string(cursor) : NULL);
		out_json(data);
		json_object_put(data);
	} else if (json_object_array_length(all) == 0) {
		printf("no jobs%s%s\n", stage ? " in stage " : "", stage ? stage : "");
	} else {
		print_jobs(all);
		if (more)
			fprintf(stderr, "(the newest %zu; --all lists every one)\n",
			        json_object_array_length(all));
	}
out:
	client_answer_free(&a);
	json_object_put(all);
	return rc;
}

/* ---- show --------------------------------------------------------------- */

/* The one operand, an id, into *id; usage when there is not exactly one. */
static int one_id(struct ctl *ctl, const char *usage, const char **id)
{
	char **rest;

	if (args_rest(ctl, &rest) != 1)
		return ctl_usage(usage);
	*id = rest[0];
	return CTL_EXIT_OK;
}

/* Every event of the job (following the cursor) into a new array *out. */
static int all_events(struct ctl *ctl, const char *id, struct json_object **out)
{
	struct json_object *all = json_object_new_array();
	struct client_answer a = {0};
	char path[512], suffix[96];
	const char *next = NULL;
	int rc;

	do {
		snprintf(suffix, sizeof(suffix), "/events?limit=%d%s", PAGE_MAX, next ? "&cursor=" : "");
		if (next != NULL && !client_escape(suffix, sizeof(suffix), next))
			next = NULL; /* an id the API gave: never this long */
		if (!args_path(path, sizeof(path), "jobs show", JOBS_PATH "/", id, suffix)) {
			rc = CTL_EXIT_USAGE;
			goto out;
		}
		client_answer_free(&a);
		if ((rc = args_call(ctl, "GET", path, NULL, &a)) != CTL_EXIT_OK)
			goto out;
		for (size_t i = 0; i < json_object_array_length(json_get(a.data, "items")); i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(
			                               json_get(a.data, "items"), i)));
		next = json_get_string(a.data, "next_cursor", NULL);
	} while (next != NULL);
	*out = all;
	all = NULL;
out:
	client_answer_free(&a);
	json_object_put(all);
	return rc;
}

static void print_job(struct json_object *job)
{
	struct json_object *lease = json_get(job, "lease"), *retry = json_get(job, "retry");
	const char *body = json_get_string(job, "body", NULL);
	char stage[64];

	printf("Job %s  %s\n", json_get_string(job, "id", "?"),
	       out_paint(stage, sizeof(stage), json_get_string(job, "stage", "?"),
	                 out_stage_sgr(json_get_string(job, "stage", NULL))));
	out_field("key", json_get_string(job, "idempotency_key", NULL));
	out_field("priority", json_get_string(job, "priority", NULL));
	out_field("kind", json_get_string(job, "kind", NULL));
	if (json_get(job, "parent_id") != NULL)
		out_field("task", json_get_string(job, "parent_id", NULL));
	out_field_json("capabilities", json_get(job, "capabilities"));
	if (json_object_array_length(json_get(job, "deps")) > 0) {
		out_field_json("deps", json_get(job, "deps"));
		out_field("deps mode", json_get_string(job, "deps_mode", NULL));
	}
	out_fieldf("attempts", "%lld (retries: at most %lld, backoff %lld s)",
	           (long long)json_get_int(job, "attempts", 0), (long long)json_get_int(retry, "max", 0),
	           (long long)json_get_int(retry, "backoff_s", 0));
	out_fieldf("lease", "%s, epoch %lld%s%s", json_get_string(lease, "status", "none"),
	           (long long)json_get_int(lease, "epoch", 0),
	           json_get(lease, "holder") ? ", worker " : "",
	           json_get_string(lease, "holder", ""));
	if (json_get(lease, "expires_at") != NULL && strcmp(json_get_string(lease, "status", ""), "held") == 0)
		out_field_when("lease ends", json_get_string(lease, "expires_at", NULL));
	out_field_when("created", json_get_string(job, "created_at", NULL));
	out_field_when("updated", json_get_string(job, "updated_at", NULL));
	if (json_get(job, "finished_at") != NULL)
		out_field_when("finished", json_get_string(job, "finished_at", NULL));
	if (json_get(job, "result") != NULL)
		out_field_json("result", json_get(job, "result"));
	if (json_get(job, "checkpoint") != NULL)
		out_field_json("checkpoint", json_get(job, "checkpoint"));
	if (body != NULL && body[0] != '\0') {
		out_section("Body");
		out_text_block(body, BODY_LINES_SHOWN);
	}
}

static void print_runs(struct json_object *runs)
{
	static const struct out_column COLS[] = {
		{"ATTEMPT", 0, true}, {"WORKER", 20, false}, {"EPOCH", 0, true},
		{"STARTED", 0, false}, {"ENDED", 0, false},  {"EXIT", 0, false},
		{"INSIGHTS", 60, false},
	};
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	out_section("Runs (%zu)", json_object_array_length(runs));
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		struct json_object *r = json_object_array_get_idx(runs, i);

		table_cellf(t, "%lld", (long long)json_get_int(r, "attempt", 0));
		table_cell(t, json_get_string(r, "factory_id", NULL));
		table_cellf(t, "%lld", (long long)json_get_int(r, "lease_epoch", 0));
		table_cell_when(t, json_get_string(r, "started_at", NULL));
		table_cell_when(t, json_get_string(r, "ended_at", NULL));
		table_cell_stage(t, json_get_string(r, "exit", NULL));
		table_cell_pairs(t, json_get(r, "insights"));
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	table_free(t);
}

static void print_events(struct json_object *events)
{
	static const struct out_column COLS[] = {{"WHEN", 0, false},
						 {"EVENT", 0, false},
						 {"BY", 40, false},
						 {"DETAILS", 72, false}};
	struct table *t = table_new(COLS, 4);

	out_section("Events (%zu)", json_object_array_length(events));
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		struct json_object *ev = json_object_array_get_idx(events, i);
		struct json_object *actor = json_get(ev, "actor");

		table_cell_when(t, json_get_string(ev, "at", NULL));
		table_cell_stage(t, json_get_string(ev, "kind", NULL));
		/* who caused it: a token (name, role) or a timer and its term */
		if (json_get(actor, "timer") != NULL)
			table_cellf(t, "%s (term %" PRId64 ")", json_get_string(actor, "timer", "-"),
				    json_get_int(actor, "term", 0));
		else if (actor != NULL)
			table_cellf(t, "%s (%s)", json_get_string(actor, "name", "-"),
				    json_get_string(actor, "role", "-"));
		else
			table_cell(t, NULL);
		table_cell_pairs(t, json_get(ev, "data"));
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	table_free(t);
}

static int cmd_jobs_show(struct ctl *ctl)
{
	struct client_answer job = {0}, runs = {0};
	struct json_object *events = NULL;
	char path[512];
	const char *id = NULL;
	int rc;

	if (!args_none(ctl, "jobs show"))
		return CTL_EXIT_USAGE;
	if ((rc = one_id(ctl, "jobs show ID", &id)) != CTL_EXIT_OK)
		return rc;
	if (!args_path(path, sizeof(path), "jobs show", JOBS_PATH "/", id, ""))
		return CTL_EXIT_USAGE;
	if ((rc = args_call(ctl, "GET", path, NULL, &job)) != CTL_EXIT_OK)
		goto out;
	strcat(path, "/runs");
	if ((rc = args_call(ctl, "GET", path, NULL, &runs)) != CTL_EXIT_OK ||
	    (rc = all_events(ctl, id, &events)) != CTL_EXIT_OK)
		goto out;
	if (ctl->json) {
		struct json_object *data = json_object_new_object();

		json_object_object_add(data, "job", json_object_get(job.data));
		json_object_object_add(data, "runs", json_object_get(runs.data));
		json_object_object_add(data, "events", json_object_get(events));
		out_json(data);
		json_object_put(data);
		goto out;
	}
	print_job(job.data);
	print_runs(runs.data);
	print_events(events);
out:
	client_answer_free(&job);
	client_answer_free(&runs);
	json_object_put(events);
	return rc;
}

/* ---- cancel ------------------------------------------------------------- */

static int cmd_jobs_cancel(struct ctl *ctl)
{
	struct client_answer a = {0};
	char path[512], stage[64];
	const char *id = NULL;
	int rc;

	if (!args_none(ctl, "jobs cancel"))
		return CTL_EXIT_USAGE;
	if ((rc = one_id(ctl, "jobs cancel ID", &id)) != CTL_EXIT_OK)
		return rc;
	if (!args_path(path, sizeof(path), "jobs cancel", JOBS_PATH "/", id, "/cancel"))
		return CTL_EXIT_USAGE;
	if ((rc = args_call(ctl, "POST", path, NULL, &a)) != CTL_EXIT_OK)
		goto out;
	if (ctl->json)
		out_json(a.data);
	else
		printf("job %s %s\n", json_get_string(a.data, "id", id),
		       out_paint(stage, sizeof(stage), json_get_string(a.data, "stage", "cancelled"),
		                 out_stage_sgr("cancelled")));
out:
	client_answer_free(&a);
	return rc;
}

/* ---- wait --------------------------------------------------------------- */

/* Is stage final, and is it success? */
static bool final_stage(const char *stage, bool *shipped)
{
	*shipped = strcmp(stage, "shipped") == 0;
	return *shipped || strcmp(stage, "failed") == 0 || strcmp(stage, "dead_letter") == 0 ||
	       strcmp(stage, "cancelled") == 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_jobs_wait(struct ctl *ctl)
{
	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct client_answer a = {0};
	long long timeout_s = 0, start = now_ms(), delay = WAIT_FIRST_MS;
	bool shipped, tty = isatty(STDERR_FILENO);
	char path[512], last[32] = "", shown[64];
	const char *id = NULL, *stage;
	int c, rc;

	args_start();
	while ((c = args_next(ctl, "jobs wait", opts)) != -1) {
		if (c != 't' || !args_int("jobs wait", "--timeout", optarg, 1, 31536000, &timeout_s))
			return CTL_EXIT_USAGE;
	}
	if ((rc = one_id(ctl, "jobs wait ID [--timeout S]", &id)) != CTL_EXIT_OK)
		return rc;
	if (!args_path(path, sizeof(path), "jobs wait", JOBS_PATH "/", id, ""))
		return CTL_EXIT_USAGE;
	for (;;) {
		long long left;

		client_answer_free(&a);
		if ((rc = args_call(ctl, "GET", path, NULL, &a)) != CTL_EXIT_OK)
			goto out;
		stage = json_get_string(a.data, "stage", "?");
		if (final_stage(stage, &shipped))
			break;
		if (tty && !ctl->json && strcmp(stage, last) != 0)
			fprintf(stderr, "job %s is %s\n", id, stage);
		snprintf(last, sizeof(last), "%s", stage);
		left = timeout_s * 1000 - (now_ms() - start);
		if (timeout_s > 0 && left <= 0) {
			fprintf(stderr, PROGRAM ": job %s is still %s after %lld s\n", id, stage, timeout_s);
			rc = CTL_EXIT_REFUSED;
			goto out;
		}
		usleep((useconds_t)((timeout_s > 0 && left < delay ? left : delay) * 1000));
		delay = delay * 2 < WAIT_MAX_MS ? delay * 2 : WAIT_MAX_MS;
	}
	if (ctl->json)
		out_json(a.data);
	else
		printf("job %s %s\n", id, out_paint(shown, sizeof(shown), stage, out_stage_sgr(stage)));
	rc = shipped ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
out:
	client_answer_free(&a);
	return rc;
}

const struct ctl_command CTL_JOBS_COMMANDS[] = {
	{"jobs", "submit", cmd_jobs_submit, CTL_NEEDS_API, SUBMIT_ARGS, "submit one job",
	 "The job is FILE's JSON object (a POST /v1/fleet/jobs body; - reads stdin)\n"
	 "with the flags' fields put over it, or the flags alone. The job's body is\n"
	 "a string: --body TEXT, or --body-file F (- for stdin) for a file's bytes.\n"
	 "  --capability C         a worker must have C to claim it (repeats)\n"
	 "  --dep ID               a job (id or idempotency key) it waits for (repeats)\n"
	 "  --deps-mode hard|soft  hard (default): deps shipped; soft: testing will do\n"
	 "  --priority P           critical, high, medium (default) or low\n"
	 "  --idempotency-key K    submitting K again replays, or supersedes a queued job\n"
	 "  --retry-max N          retries after the first attempt, 0-100 (default 3)\n"
	 "Prints \"job ID OUTCOME: STAGE, priority P\"; OUTCOME is created, replayed\n"
	 "(same key, same content) or superseded.\n"
	 "Example: " PROGRAM " jobs submit --body 'make test' --capability linux "
	 "--idempotency-key build-42 --priority high"},
	{"jobs", "batch", cmd_jobs_batch, CTL_NEEDS_API, "FILE|-",
	 "submit many jobs from JSON lines, in one transaction",
	 "One job (a JSON object, as jobs submit's FILE) per line; blank lines are\n"
	 "skipped. A job's deps may name another's idempotency_key. Up to 1000 jobs\n"
	 "are one transaction (a refusal names the line and submits none of them);\n"
	 "a longer file is sent 1000 lines at a time, in order.\n"
	 "Example: seq 20 | sed 's/.*/{\"body\":\"job &\"}/' | " PROGRAM " jobs batch -"},
	{"jobs", "list", cmd_jobs_list, CTL_NEEDS_API, "[--stage S] [--limit N] [--all]",
	 "list jobs, newest first",
	 "--limit N: a page of N (1-500; default 50). --all follows the cursor to\n"
	 "the oldest job (pages of --limit, default 500). STAGE: queued, blocked,\n"
	 "assigned, building, review, testing, shipped, failed, dead_letter,\n"
	 "cancelled. --json prints {items, next_cursor}.\n"
	 "Example: " PROGRAM " jobs list --stage failed --all"},
	{"jobs", "show", cmd_jobs_show, CTL_NEEDS_API, "ID",
	 "show a job, its runs with their insights, and its events",
	 "--json prints {job, runs, events}: the three GETs' data.\n"
	 "Example: " PROGRAM " jobs show 42"},
	{"jobs", "cancel", cmd_jobs_cancel, CTL_NEEDS_API, "ID", "cancel a job that has not ended",
	 "A running job's lease is fenced: its worker's next renewal or report is\n"
	 "refused. A task's cancel takes its unfinished steps with it.\n"
	 "Example: " PROGRAM " jobs cancel 42"},
	{"jobs", "wait", cmd_jobs_wait, CTL_NEEDS_API, "ID [--timeout S]",
	 "wait for a job to end; exit 0 when shipped",
	 "Polls the job (every 0.25 s at first, then up to every 5 s) and prints its\n"
	 "final stage. Exit status 0 when shipped, 1 when failed, dead_letter or\n"
	 "cancelled, or when it is still going after --timeout S (said on stderr).\n"
	 "Example: " PROGRAM " jobs wait 42 --timeout 600 && echo done"},
};
const size_t CTL_JOBS_NCOMMANDS = sizeof(CTL_JOBS_COMMANDS) / sizeof(CTL_JOBS_COMMANDS[0]);

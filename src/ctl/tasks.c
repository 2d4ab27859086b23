/* tasks.c -- conductorctl's tasks commands over the HTTP API (DESIGN 5): a
 * task is a composite job whose planned steps are claimed one after the
 * other.
 *
 *   tasks create [FILE|-] [--repo R] [--task-type T] [--title T] [--goal G]
 *                [--priority P] [--acceptance A]...
 *   tasks show ID
 *   tasks plan ID [FILE|-] [--step TITLE=BODY]...
 *
 * FILE is the route's JSON body (- reads stdin); the flags' fields are put
 * over it (args_merge). Human output by default, the API's data with --json.
 */
#include <string.h>

#include "base/json.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

#define TASKS_PATH "/v1/tasks/"
#define GOAL_LINES_SHOWN 20

#define CREATE_ARGS "[FILE|-] --repo R --task-type T --title T --goal G [FLAGS]"
#define PLAN_ARGS "ID [FILE|-] [--step TITLE=BODY]..."

static void print_task(struct json_object *task)
{
	static const struct out_column COLS[] = {
		{"#", 0, true},         {"JOB", 0, true},      {"TITLE", 40, false},
		{"STAGE", 0, false},    {"ATTEMPTS", 0, true}, {"WORKER", 24, false},
	};
	struct json_object *steps = json_get(task, "steps");
	const char *goal = json_get_string(task, "goal", NULL);
	size_t n = json_object_array_length(steps);
	char stage[64];
	struct table *t;

	printf("Task %s  %s\n", json_get_string(task, "id", "?"),
	       out_paint(stage, sizeof(stage), json_get_string(task, "stage", "?"),
	                 out_stage_sgr(json_get_string(task, "stage", NULL))));
	out_field("title", json_get_string(task, "title", NULL));
	out_field("repo", json_get_string(task, "repo", NULL));
	out_field("type", json_get_string(task, "task_type", NULL));
	out_field("priority", json_get_string(task, "priority", NULL));
	if (json_get(task, "acceptance") != NULL)
		out_field_json("acceptance", json_get(task, "acceptance"));
	if (n > 0)
		out_fieldf("step", "%lld of %zu", (long long)json_get_int(task, "current_step_index", 0) + 1,
		           n);
	out_field_when("created", json_get_string(task, "created_at", NULL));
	out_field_when("updated", json_get_string(task, "updated_at", NULL));
	if (json_get(task, "finished_at") != NULL)
		out_field_when("finished", json_get_string(task, "finished_at", NULL));
	if (goal != NULL && goal[0] != '\0') {
		out_section("Goal");
		out_text_block(goal, GOAL_LINES_SHOWN);
	}
	out_section("Steps (%zu)", n);
	if (n == 0) {
		printf("not planned yet (" PROGRAM " tasks plan %s --step 'TITLE=BODY')\n",
		       json_get_string(task, "id", "ID"));
		return;
	}
	t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(steps, i);

		table_cellf(t, "%lld", (long long)json_get_int(s, "index", 0) + 1);
		table_cell(t, json_get_string(s, "id", NULL));
		table_cell(t, json_get_string(s, "title", NULL));
		table_cell_stage(t, json_get_string(s, "stage", NULL));
		table_cellf(t, "%lld", (long long)json_get_int(s, "attempts", 0));
		table_cell(t, out_lease_holder(json_get(s, "lease")));
	}
	table_print(t, stdout);
	table_free(t);
}

/* Sends the request and prints the answer's task. */
static int task_call(struct ctl *ctl, const char *method, const char *path,
                     struct json_object *body)
{
	struct client_answer a = {0};
	int rc;

	if ((rc = args_call(ctl, method, path, body, &a)) == CTL_EXIT_OK) {
		if (ctl->json)
			out_json(a.data);
		else
			print_task(json_get(a.data, "task"));
	}
	client_answer_free(&a);
	return rc;
}

static int cmd_tasks_create(struct ctl *ctl)
{
	static const struct option opts[] = {
		{"repo", required_argument, NULL, 'r'},
		{"task-type", required_argument, NULL, 't'},
		{"title", required_argument, NULL, 'T'},
		{"goal", required_argument, NULL, 'g'},
		{"priority", required_argument, NULL, 'p'},
		{"acceptance", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	static const char *const KEYS[] = {['r'] = "repo", ['t'] = "task_type", ['T'] = "title",
	                                   ['g'] = "goal", ['p'] = "priority"};
	struct json_object *flags = json_object_new_object(), *task = NULL;
	char **rest;
	int c, rc = CTL_EXIT_USAGE, n;

	args_start();
	while ((c = args_next(ctl, "tasks create", opts)) != -1) {
		if (c == 'a')
			args_push(flags, "acceptance", optarg);
		else if (c > 0 && (size_t)c < sizeof(KEYS) / sizeof(KEYS[0]) && KEYS[c] != NULL)
			json_object_object_add(flags, KEYS[c], json_object_new_string(optarg));
		else
			goto out;
	}
	n = args_rest(ctl, &rest);
	if (!args_object_operand("tasks create", n, rest, &task))
		goto out;
	args_merge(task, flags);
	rc = task_call(ctl, "POST", "/v1/tasks", task);
out:
	json_object_put(task);
	json_object_put(flags);
	return rc;
}

static int cmd_tasks_show(struct ctl *ctl)
{
	char path[512], **rest;

	if (!args_none(ctl, "tasks show"))
		return CTL_EXIT_USAGE;
	if (args_rest(ctl, &rest) != 1)
		return ctl_usage("tasks show ID");
	if (!args_path(path, sizeof(path), "tasks show", TASKS_PATH, rest[0], ""))
		return CTL_EXIT_USAGE;
	return task_call(ctl, "GET", path, NULL);
}

/* Appends --step TITLE=BODY to the array of steps. */
static bool add_step(struct json_object *steps, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct json_object *step;

	if (eq == NULL || eq == arg) {
		args_fail("tasks plan", "--step takes TITLE=BODY (the title ends at the first =), "
		          "not \"%s\"", arg);
		return false;
	}
	step = json_object_new_object();
	json_object_object_add(step, "title", json_object_new_string_len(arg, (int)(eq - arg)));
	json_object_object_add(step, "body", json_object_new_string(eq + 1));
	json_object_array_add(steps, step);
	return true;
}

static int cmd_tasks_plan(struct ctl *ctl)
{
	static const struct option opts[] = {
		{"step", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct json_object *steps = json_object_new_array(), *plan = NULL, *have;
	char path[512], **rest;
	int c, rc = CTL_EXIT_USAGE, n;

	args_start();
	while ((c = args_next(ctl, "tasks plan", opts)) != -1)
		if (c != 's' || !add_step(steps, optarg))
			goto out;
	n = args_rest(ctl, &rest);
	if (n < 1) {
		rc = ctl_usage("tasks plan " PLAN_ARGS);
		goto out;
	}
	if (!args_path(path, sizeof(path), "tasks plan", TASKS_PATH, rest[0], "/plan") ||
	    !args_object_operand("tasks plan", n - 1, rest + 1, &plan))
		goto out;
	/* the file's steps first, then the flags' */
	if (json_object_array_length(steps) > 0) {
		if (!json_object_object_get_ex(plan, "steps", &have) ||
		    !json_object_is_type(have, json_type_array)) {
			have = json_object_new_array();
			json_object_object_add(plan, "steps", have);
		}
		for (size_t i = 0; i < json_object_array_length(steps); i++)
			json_object_array_add(have, json_object_get(json_object_array_get_idx(steps, i)));
	}
	rc = task_call(ctl, "POST", path, plan);
out:
	json_object_put(plan);
	json_object_put(steps);
	return rc;
}

const struct ctl_command CTL_TASKS_COMMANDS[] = {
	{"tasks", "create", cmd_tasks_create, CTL_NEEDS_API, CREATE_ARGS,
	 "create a task (a composite job, planned into steps later)",
	 "FILE: a POST /v1/tasks body (- reads stdin); the flags are put over it.\n"
	 "  --priority P     critical, high, medium (default) or low\n"
	 "  --acceptance A   one acceptance criterion (repeats)\n"
	 "Example: " PROGRAM " tasks create --repo git@example.com:app.git --task-type fix "
	 "--title 'Fix login' --goal 'the login test passes'"},
	{"tasks", "show", cmd_tasks_show, CTL_NEEDS_API, "ID", "show a task and its steps",
	 "Example: " PROGRAM " tasks show 7"},
	{"tasks", "plan", cmd_tasks_plan, CTL_NEEDS_API, PLAN_ARGS,
	 "plan a task: its steps, each a job depending on the previous",
	 "Once per task. --step TITLE=BODY repeats (the title ends at the first =);\n"
	 "FILE is a POST /v1/tasks/{id}/plan body, {\"steps\":[{title, body,\n"
	 "capabilities?}]}, whose steps come before the flags'. Needs a controller\n"
	 "(or admin) token.\n"
	 "Example: " PROGRAM " tasks plan 7 --step 'read=read the code' --step 'fix=write the fix'"},
};
const size_t CTL_TASKS_NCOMMANDS = sizeof(CTL_TASKS_COMMANDS) / sizeof(CTL_TASKS_COMMANDS[0]);

/* control.c -- conductorctl's operator commands over the HTTP API: the
 * system mode, the workers, the runtimes, the whole status.
 *
 *   system state | system pause|resume|drain [--reason R]
 *   workers      GET /v1/fleet/factories
 *   runtimes     GET /v1/runtimes
 *   status       GET /v1/status: mode, jobs by stage, timers, workers,
 *                streams, pools, the last runtime events
 *
 * Human output by default, the API's data with --json (output.h).
 */
#include <string.h>

#include "base/json.h"
#include "ctl/args.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

#define STATUS_EVENTS_SHOWN 5 /* status: the newest runtime events */

/* ---- system ------------------------------------------------------------- */

/* The mode block of GET /v1/system/state's data (status shows it too). */
static void print_mode(struct json_object *s)
{
	out_field_stage("mode", json_get_string(s, "mode", NULL));
	out_field("reason", json_get_string(s, "reason", NULL));
	out_field("by", json_get_string(s, "requested_by", NULL));
	out_field_when("since", json_get_string(s, "updated_at", NULL));
}

static int cmd_system_state(struct ctl *ctl)
{
	struct client_answer a = {0};
	char **rest;
	int rc;

	if (!args_none(ctl, "system state"))
		return CTL_EXIT_USAGE;
	if (args_rest(ctl, &rest) != 0)
		return ctl_usage("system state");
	if ((rc = args_call(ctl, "GET", "/v1/system/state", NULL, &a)) == CTL_EXIT_OK) {
		if (ctl->json)
			out_json(a.data);
		else
			print_mode(a.data);
	}
	client_answer_free(&a);
	return rc;
}

/* system pause|resume|drain [--reason R]: verb is argv[-1]. */
static int cmd_system_set(struct ctl *ctl)
{
	static const struct option opts[] = {
		{"reason", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	static const struct {
		const char *verb, *done;
	} SAID[] = {
		{"pause", "paused: claims answer nothing; running jobs still renew and report"},
		{"resume", "running: claims hand out jobs again"},
		{"drain", "draining: no claims and the watcher starts nothing; running jobs finish"},
	};
	struct json_object *body = json_object_new_object();
	struct client_answer a = {0};
	const char *verb = ctl->argv[-1];
	char cmd[32], path[64], **rest;
	int c, rc = CTL_EXIT_USAGE;

	snprintf(cmd, sizeof(cmd), "system %s", verb);
	args_start();
	while ((c = args_next(ctl, cmd, opts)) != -1) {
		if (c != 'r')
			goto out;
		json_object_object_add(body, "reason", json_object_new_string(optarg));
	}
	if (args_rest(ctl, &rest) != 0) {
		rc = args_fail(cmd, "takes no operand; a reason goes in --reason \"...\"");
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/system/%s", verb);
	if ((rc = args_call(ctl, "POST", path, body, &a)) != CTL_EXIT_OK)
		goto out;
	if (ctl->json) {
		out_json(a.data);
		goto out;
	}
	for (size_t i = 0; i < sizeof(SAID) / sizeof(SAID[0]); i++)
		if (strcmp(SAID[i].verb, verb) == 0)
			printf("%s\n", SAID[i].done);
	print_mode(a.data);
out:
	client_answer_free(&a);
	json_object_put(body);
	return rc;
}

/* ---- workers ------------------------------------------------------------ */

static void print_workers(struct json_object *items)
{
	static const struct out_column COLS[] = {
		{"WORKER", 32, false},       {"HEALTH", 0, false}, {"SEATS", 0, true},
		{"LOAD", 0, true},           {"CAPABILITIES", 32, false},
		{"LAST HEARTBEAT", 0, false},
	};
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *w = json_object_array_get_idx(items, i);
		const char *health = json_get_string(w, "health", NULL);
		struct json_object *limit = json_get(w, "seat_limit");

		table_cell(t, json_get_string(w, "factory_id", NULL));
		if (json_get_bool(w, "stale", false))
			table_cell_sgr(t, "stale", "33");
		else
			table_cell_stage(t, health);
		if (limit != NULL)
			table_cellf(t, "%lld/%lld", (long long)json_get_int(w, "held", 0),
			            (long long)json_object_get_int64(limit));
		else
			table_cellf(t, "%lld/-", (long long)json_get_int(w, "held", 0));
		table_cell_json(t, json_get(w, "load"));
		table_cell_json(t, json_get(w, "capabilities"));
		table_cell_when(t, json_get_string(w, "last_heartbeat_at", NULL));
	}
	table_print(t, stdout);
	table_free(t);
}

/* GET path and print its data (an array, or {items}) with print, or "none". */
static int list_command(struct ctl *ctl, const char *cmd, const char *path, const char *none,
                        void (*print)(struct json_object *items))
{
	struct client_answer a = {0};
	struct json_object *items;
	char **rest;
	int rc;

	if (!args_none(ctl, cmd))
		return CTL_EXIT_USAGE;
	if (args_rest(ctl, &rest) != 0)
		return ctl_usage(cmd);
	if ((rc = args_call(ctl, "GET", path, NULL, &a)) != CTL_EXIT_OK)
		goto out;
	items = json_object_is_type(a.data, json_type_array) ? a.data : json_get(a.data, "items");
	if (ctl->json)
		out_json(a.data);
	else if (json_object_array_length(items) == 0)
		printf("%s\n", none);
	else
		print(items);
out:
	client_answer_free(&a);
	return rc;
}

static int cmd_workers(struct ctl *ctl)
{
	return list_command(ctl, "workers", "/v1/fleet/factories",
	                    "no workers: none has sent a heartbeat (POST /v1/fleet/factories/heartbeat)",
	                    print_workers);
}

/* ---- runtimes ----------------------------------------------------------- */

static void print_runtimes(struct json_object *items)
{
	static const struct out_column COLS[] = {
		{"ID", 0, true},       {"POOL", 20, false},  {"PROVIDER", 0, false},
		{"STATE", 0, false},   {"GPU", 24, false},   {"GB", 0, true},
		{"$/H", 0, true},      {"REGION", 0, false}, {"STARTED", 0, false},
		{"NAME", 32, false},
	};
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *r = json_object_array_get_idx(items, i);

		table_cell(t, json_get_string(r, "id", NULL));
		table_cell(t, json_get_string(r, "pool", NULL));
		table_cell(t, json_get_string(r, "provider", NULL));
		table_cell_stage(t, json_get_string(r, "state", NULL));
		table_cell(t, json_get_string(r, "gpu", NULL));
		table_cell_json(t, json_get(r, "gpu_mem_gb"));
		table_cellf(t, "%.2f", json_object_get_double(json_get(r, "price_per_hour")));
		table_cell(t, json_get_string(r, "region", NULL));
		table_cell_when(t, json_get_string(r, "started_at", NULL));
		table_cell(t, json_get_string(r, "name", NULL));
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_runtimes(struct ctl *ctl)
{
	return list_command(ctl, "runtimes", "/v1/runtimes",
	                    "no runtimes: the watcher has started none (see status's pools)",
	                    print_runtimes);
}

/* ---- status ------------------------------------------------------------- */

static void print_status_jobs(struct json_object *jobs)
{
	struct json_object *by = json_get(jobs, "by_stage");
	char line[1024];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "%lld", (long long)json_get_int(jobs, "total", 0));
	json_object_object_foreach(by, name, count) {
		if (n >= sizeof(line))
			break;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%lld %s",
		                      n > 0 && strchr(line, ':') ? ", " : ": ",
		                      (long long)json_object_get_int64(count), name);
	}
	out_field("jobs", line);
}

static void print_timers(struct json_object *timers)
{
	static const struct out_column COLS[] = {
		{"TIMER", 0, false}, {"STATE", 0, false}, {"HOLDER", 32, false},
		{"TERM", 0, true},   {"UPDATED", 0, false},
	};
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	out_section("Timers");
	for (size_t i = 0; i < json_object_array_length(timers); i++) {
		struct json_object *x = json_object_array_get_idx(timers, i);

		table_cell(t, json_get_string(x, "name", NULL));
		if (json_get_bool(x, "stale", false))
			table_cell_sgr(t, "stale", "33");
		else
			table_cell_stage(t, json_get_string(x, "state", NULL));
		table_cell(t, json_get_string(x, "holder", NULL));
		table_cell_json(t, json_get(x, "term"));
		table_cell_when(t, json_get_string(x, "updated_at", NULL));
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	else
		printf("no timer has run (conductor-reaper, conductor-watcher)\n");
	table_free(t);
}

static void print_streams(struct json_object *streams)
{
	static const struct out_column COLS[] = {
		{"STREAM", 32, false}, {"DEPTH", 0, true}, {"PENDING", 0, true},
		{"OLDEST PENDING", 0, true},
	};
	struct json_object *items = json_get(streams, "items");
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	out_section("Streams (redis %s, group %s)", json_get_string(streams, "redis", "?"),
	            json_get_string(streams, "group", "-"));
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *s = json_object_array_get_idx(items, i);

		table_cell(t, json_get_string(s, "stream", NULL));
		table_cell_json(t, json_get(s, "depth"));
		table_cell_json(t, json_get(s, "pending"));
		table_cellf(t, "%lld s", (long long)json_get_int(s, "oldest_pending_age_s", 0));
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	else
		printf("no streams configured (CONDUCTOR_STREAMS)\n");
	table_free(t);
}

static void print_pools(struct json_object *pools)
{
	static const struct out_column COLS[] = {
		{"POOL", 20, false}, {"GB", 0, true}, {"INSTANCES", 0, true},
		{"DEMAND", 0, true}, {"LAST ACTION", 0, false}, {"WHY", 60, false},
	};
	struct table *t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));

	out_section("Pools");
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		struct json_object *p = json_object_array_get_idx(pools, i), *st = json_get(p, "state");

		table_cell(t, json_get_string(p, "pool", NULL));
		table_cell_json(t, json_get(p, "gpu_mem_gb"));
		table_cellf(t, "%zu/%lld", json_object_array_length(json_get(p, "instances")),
		            (long long)json_get_int(p, "max_instances", 0));
		table_cell_json(t, json_get(st, "last_demand"));
		table_cell(t, json_get_string(st, "last_action", NULL));
		table_cell(t, json_get_string(st, "last_reason", NULL));
	}
	if (table_rows(t) > 0)
		table_print(t, stdout);
	else
		printf("no pools configured (CONDUCTOR_POOLS)\n");
	table_free(t);
}

static void print_runtime_events(struct json_object *events)
{
	static const struct out_column COLS[] = {
		{"WHEN", 0, false}, {"EVENT", 24, false}, {"RUNTIME", 0, true},
		{"DETAILS", 72, false},
	};
	struct json_object *items = json_get(events, "items");
	size_t n = json_object_array_length(items);
	struct table *t;

	if (n == 0)
		return;
	t = table_new(COLS, sizeof(COLS) / sizeof(COLS[0]));
	out_section("Runtime events (the newest %zu)", n < STATUS_EVENTS_SHOWN ? n : STATUS_EVENTS_SHOWN);
	for (size_t i = 0; i < n && i < STATUS_EVENTS_SHOWN; i++) {
		struct json_object *ev = json_object_array_get_idx(items, i);

		table_cell_when(t, json_get_string(ev, "at", NULL));
		table_cell(t, json_get_string(ev, "kind", NULL));
		table_cell(t, json_get_string(ev, "instance_id", NULL));
		table_cell_pairs(t, json_get(ev, "data"));
	}
	table_print(t, stdout);
	table_free(t);
}

static int cmd_status(struct ctl *ctl)
{
	struct client_answer a = {0};
	struct json_object *workers;
	char **rest;
	int rc;

	if (!args_none(ctl, "status"))
		return CTL_EXIT_USAGE;
	if (args_rest(ctl, &rest) != 0)
		return ctl_usage("status");
	if ((rc = args_call(ctl, "GET", "/v1/status", NULL, &a)) != CTL_EXIT_OK)
		goto out;
	if (ctl->json) {
		out_json(a.data);
		goto out;
	}
	print_mode(json_get(a.data, "system"));
	print_status_jobs(json_get(a.data, "jobs"));
	print_timers(json_get(a.data, "timers"));
	workers = json_get(a.data, "workers");
	out_section("Workers (%zu)", json_object_array_length(workers));
	if (json_object_array_length(workers) > 0)
		print_workers(workers);
	print_streams(json_get(a.data, "streams"));
	print_pools(json_get(a.data, "pools"));
	print_runtime_events(json_get(a.data, "runtime_events"));
out:
	client_answer_free(&a);
	return rc;
}

const struct ctl_command CTL_CONTROL_COMMANDS[] = {
	{"system", "state", cmd_system_state, CTL_NEEDS_API, "",
	 "show this tenant's system mode: running, paused or draining",
	 "Example: " PROGRAM " system state"},
	{"system", "pause", cmd_system_set, CTL_NEEDS_API, "[--reason R]",
	 "pause: claims answer nothing until resume",
	 "Running jobs still renew their leases and report, so they can finish.\n"
	 "Example: " PROGRAM " system pause --reason 'database upgrade'"},
	{"system", "resume", cmd_system_set, CTL_NEEDS_API, "[--reason R]",
	 "resume: claims hand out jobs again", "Example: " PROGRAM " system resume"},
	{"system", "drain", cmd_system_set, CTL_NEEDS_API, "[--reason R]",
	 "drain: no claims, and the watcher starts no capacity",
	 "Example: " PROGRAM " system drain --reason 'end of the day'"},
	{"workers", NULL, cmd_workers, CTL_NEEDS_API, "",
	 "list the workers (their last heartbeat, health, seats held/limit)",
	 "A worker is stale when silent past CONDUCTOR_FACTORY_STALE_S.\n"
	 "Example: " PROGRAM " workers"},
	{"runtimes", NULL, cmd_runtimes, CTL_NEEDS_API, "",
	 "list the GPU runtime instances the watcher (or an operator) started",
	 "Example: " PROGRAM " runtimes --json"},
	{"status", NULL, cmd_status, CTL_NEEDS_API, "",
	 "show the whole picture: mode, jobs by stage, timers, workers, streams, pools",
	 "Example: " PROGRAM " status"},
};
const size_t CTL_CONTROL_NCOMMANDS = sizeof(CTL_CONTROL_COMMANDS) / sizeof(CTL_CONTROL_COMMANDS[0]);

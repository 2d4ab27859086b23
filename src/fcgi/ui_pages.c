/* ui_pages.c -- the status pages (DESIGN 8), rendered on the server from
 * the same data functions GET /v1/status and the fleet API answer with
 * (their JSON text, parsed here): no SQL of the pages' own but the
 * throughput and recent events of data/db_ui.c.
 *
 *   GET  /ui/                 overview: mode (+ buttons), timers, jobs by stage
 *                             (SVG bar), shipped/failed per minute (SVG sparkline),
 *                             workers, runtime instances, the last 50 events
 *   POST /ui/system/{mode}    pause, resume, drain (operator, admin; CSRF)
 *   GET  /ui/jobs             ?stage=&cursor= newest first, the API's cursor
 *   GET  /ui/jobs/{id}        every field, the lease, deps, runs, events, artifacts
 *   GET  /ui/workers, /ui/runtimes
 *
 * Every value from the database goes through html.h's escaping.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "base/mem.h"
#include "data/db_control.h"
#include "data/db_factories.h"
#include "data/db_jobs.h"
#include "data/db_runtime.h"
#include "data/db_status.h"
#include "data/db_timers.h"
#include "data/db_ui.h"
#include "domain/runtime.h"
#include "domain/stages.h"
#include "fcgi/api.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"
#include "fcgi/ui.h"

#define PAGE_JOBS 50

/* The stages, in domain/stages.h's order, for the bar and the filter. */
#define NSTAGES ((size_t)STAGE_COUNT)
#define STAGES_AT(i) stages_name((enum stage)(i))

/* ---- rendering JSON ----------------------------------------------------------- */

/* A value as text: strings as they are, null as a dash, the rest as JSON. */
static void value_text(struct buf *b, struct json_object *v)
{
	if (v == NULL)
		buf_puts(b, "<span class=\"muted\">–</span>");
	else if (json_object_is_type(v, json_type_string))
		html_escape(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	else
		html_text(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* A link to job id (a string or a number). */
static void job_link(struct buf *b, struct json_object *id)
{
	buf_puts(b, "<a href=\"/ui/jobs/");
	value_text(b, id);
	buf_puts(b, "\">");
	value_text(b, id);
	buf_puts(b, "</a>");
}

/* A line of links to the jobs of array ids ("None." when empty). */
static void job_links(struct buf *b, const char *label, struct json_object *ids, const char *id)
{
	size_t n = json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;

	buf_printf(b, "<p id=\"%s\">", id);
	html_text(b, label);
	buf_puts(b, ": ");
	if (n == 0)
		buf_puts(b, "<span class=\"muted\">none</span>");
	for (size_t i = 0; i < n; i++) {
		job_link(b, json_object_array_get_idx(ids, i));
		buf_puts(b, " ");
	}
	buf_puts(b, "</p>");
}

/* An array of objects as a table: columns cols (NULL: the first row's keys);
 * a column named in links links to the job page. */
static void table(struct buf *b, struct json_object *arr, const char *const *cols, size_t ncols,
		  const char *link_col, const char *id)
{
	const char *keys[64];
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (n == 0) {
		buf_puts(b, "<p class=\"muted\">None.</p>");
		return;
	}
	if (cols == NULL) {
		ncols = 0;
		json_object_object_foreach(json_object_array_get_idx(arr, 0), k, v) {
			(void)v;
			if (ncols < 64)
				keys[ncols++] = k;
		}
		cols = keys;
	}
	buf_puts(b, "<div class=\"scroll\"><table");
	if (id != NULL)
		buf_printf(b, " id=\"%s\"", id);
	buf_puts(b, "><thead><tr>");
	for (size_t c = 0; c < ncols; c++) {
		buf_puts(b, "<th>");
		html_text(b, cols[c]);
		buf_puts(b, "</th>");
	}
	buf_puts(b, "</tr></thead><tbody>");
	for (size_t r = 0; r < n; r++) {
		struct json_object *row = json_object_array_get_idx(arr, r), *st = NULL;

		json_object_object_get_ex(row, "stale", &st);
		buf_puts(b, json_object_get_boolean(st) ? "<tr class=\"stale\">" : "<tr>");
		for (size_t c = 0; c < ncols; c++) {
			struct json_object *v = NULL;

			json_object_object_get_ex(row, cols[c], &v);
			buf_puts(b, "<td>");
			if (link_col != NULL && strcmp(cols[c], link_col) == 0 && v != NULL)
				job_link(b, v);
			else
				value_text(b, v);
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>");
	}
	buf_puts(b, "</tbody></table></div>");
}

/* Every field of an object as a definition list. */
static void fields(struct buf *b, struct json_object *obj, const char *id)
{
	buf_puts(b, "<dl class=\"fields\"");
	if (id != NULL)
		buf_printf(b, " id=\"%s\"", id);
	buf_puts(b, ">");
	json_object_object_foreach(obj, k, v) {
		buf_puts(b, "<dt>");
		html_text(b, k);
		buf_puts(b, "</dt><dd>");
		if (v != NULL && !json_object_is_type(v, json_type_string))
			buf_puts(b, "<code>");
		value_text(b, v);
		if (v != NULL && !json_object_is_type(v, json_type_string))
			buf_puts(b, "</code>");
		buf_puts(b, "</dd>");
	}
	buf_puts(b, "</dl>");
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/* Parses text (JSON from a data function) and frees it; NULL when absent. */
static struct json_object *parsed(char *text)
{
	struct json_object *o = text ? json_tokener_parse(text) : NULL;

	free(text);
	return o;
}

/* The items of {items: [...]} or the array itself. */
static struct json_object *items_of(struct json_object *o)
{
	struct json_object *v = NULL;

	if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "items", &v))
		return v;
	return o;
}

/* "expires in N s" (or "expired N s ago") of an RFC 3339 UTC time such as
 * 2026-01-02T03:04:05.678Z; nothing for anything else. Reloading the page
 * (auto-refresh) counts it down. */
static void lease_left(struct buf *b, const char *at)
{
	struct tm tm;
	const char *rest;
	long left;

	memset(&tm, 0, sizeof(tm));
	if (at == NULL || (rest = strptime(at, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return;
	left = (long)(timegm(&tm) - time(NULL));
	if (left >= 0)
		buf_printf(b, "<p id=\"lease-left\">Expires in <strong>%ld s</strong></p>", left);
	else
		buf_printf(b, "<p id=\"lease-left\" class=\"error\">Expired %ld s ago</p>", -left);
}

/* How long ago an RFC 3339 UTC time was: "3 h 12 min", "45 s". */
static void age(struct buf *b, const char *at)
{
	struct tm tm;
	long s;

	memset(&tm, 0, sizeof(tm));
	if (at == NULL || strptime(at, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		buf_puts(b, "–");
		return;
	}
	s = (long)(time(NULL) - timegm(&tm));
	if (s < 120)
		buf_printf(b, "%ld s", s);
	else if (s < 7200)
		buf_printf(b, "%ld min", s / 60);
	else if (s < 172800)
		buf_printf(b, "%ld h %ld min", s / 3600, s % 3600 / 60);
	else
		buf_printf(b, "%ld d", s / 86400);
}

/* ---- overview parts ----------------------------------------------------------- */

static void mode_section(struct request *req, const struct ui_session *s, struct buf *b,
			 struct json_object *state)
{
	const char *mode = str_of(state, "mode");

	buf_puts(b, "<section class=\"card\"><h2>System</h2><p class=\"mode\">Mode: "
		    "<strong id=\"mode\" class=\"mode-");
	html_text(b, mode ? mode : "unknown");
	buf_puts(b, "\">");
	html_text(b, mode ? mode : "unknown");
	buf_puts(b, "</strong></p><p>Reason: <span id=\"mode-reason\">");
	html_text(b, str_of(state, "reason") ? str_of(state, "reason") : "–");
	buf_puts(b, "</span> · set by <span id=\"mode-by\">");
	html_text(b, str_of(state, "requested_by") ? str_of(state, "requested_by") : "–");
	buf_puts(b, "</span> at ");
	html_text(b, str_of(state, "updated_at") ? str_of(state, "updated_at") : "–");
	buf_puts(b, "</p>");
	if (ui_can_operate(req)) {
		buf_puts(b, "<form method=\"post\" action=\"/ui/system/pause\" class=\"controls\">");
		html_csrf_input(b, s->csrf);
		buf_puts(b, "<input type=\"text\" name=\"reason\" id=\"reason\" maxlength=\"500\" "
			    "placeholder=\"reason\">"
			    "<button type=\"submit\" id=\"pause\">Pause</button>"
			    "<button type=\"submit\" id=\"resume\" formaction=\"/ui/system/resume\">"
			    "Resume</button>"
			    "<button type=\"submit\" id=\"drain\" formaction=\"/ui/system/drain\">"
			    "Drain</button></form>");
	}
	buf_puts(b, "</section>");
}

/* Job counts by stage as one stacked SVG bar and a legend. */
static void stage_bar(struct buf *b, struct json_object *jobs)
{
	struct json_object *by = NULL, *total_o = NULL;
	int64_t total, x = 0;

	json_object_object_get_ex(jobs, "by_stage", &by);
	json_object_object_get_ex(jobs, "total", &total_o);
	total = json_object_get_int64(total_o);
	buf_printf(b, "<section class=\"card\"><h2>Jobs by stage</h2><p><span id=\"jobs-total\">%"
		      PRId64 "</span> jobs</p>", total);
	buf_puts(b, "<svg class=\"bar\" viewBox=\"0 0 1000 32\" preserveAspectRatio=\"none\" "
		    "role=\"img\" aria-label=\"jobs by stage\">");
	if (total == 0)
		buf_puts(b, "<rect class=\"empty\" x=\"0\" y=\"0\" width=\"1000\" height=\"32\"/>");
	for (size_t i = 0; i < NSTAGES && total > 0; i++) {
		struct json_object *c = NULL;
		int64_t n, w;

		if (!json_object_object_get_ex(by, STAGES_AT(i), &c))
			continue;
		n = json_object_get_int64(c);
		w = n * 1000 / total;
		buf_printf(b, "<rect class=\"s-%s\" x=\"%" PRId64 "\" y=\"0\" width=\"%" PRId64
			      "\" height=\"32\"><title>%s: %" PRId64 "</title></rect>",
			   STAGES_AT(i), x, w > 0 ? w : 1, STAGES_AT(i), n);
		x += w;
	}
	buf_puts(b, "</svg><ul class=\"legend\">");
	for (size_t i = 0; i < NSTAGES; i++) {
		struct json_object *c = NULL;

		if (!json_object_object_get_ex(by, STAGES_AT(i), &c))
			continue;
		buf_printf(b, "<li><a href=\"/ui/jobs?stage=%s\"><span class=\"sw s-%s\"></span>%s "
			      "<strong>%" PRId64 "</strong></a></li>",
			   STAGES_AT(i), STAGES_AT(i), STAGES_AT(i), json_object_get_int64(c));
	}
	buf_puts(b, "</ul></section>");
}

/* Shipped and failed per minute over the last hour: two SVG polylines. */
static void sparkline(struct buf *b, struct json_object *series)
{
	size_t n = json_object_is_type(series, json_type_array) ? json_object_array_length(series) : 0;
	int64_t max = 0, sum[2] = {0, 0};

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 2; k++) {
			int64_t v = json_object_get_int64(
				json_object_array_get_idx(json_object_array_get_idx(series, i), k));

			sum[k] += v;
			max = v > max ? v : max;
		}
	buf_printf(b, "<section class=\"card\"><h2>Last hour</h2><p><span class=\"k-shipped\">"
		      "shipped <strong id=\"shipped-hour\">%" PRId64 "</strong></span> · "
		      "<span class=\"k-failed\">failed <strong id=\"failed-hour\">%" PRId64
		      "</strong></span> · peak %" PRId64 "/min</p>",
		   sum[0], sum[1], max);
	buf_puts(b, "<svg class=\"spark\" viewBox=\"0 0 590 64\" preserveAspectRatio=\"none\" "
		    "role=\"img\" aria-label=\"shipped and failed per minute\">"
		    "<line class=\"axis\" x1=\"0\" y1=\"62\" x2=\"590\" y2=\"62\"/>");
	for (size_t k = 0; k < 2; k++) {
		buf_printf(b, "<polyline class=\"%s\" points=\"", k == 0 ? "l-shipped" : "l-failed");
		for (size_t i = 0; i < n; i++) {
			int64_t v = json_object_get_int64(
				json_object_array_get_idx(json_object_array_get_idx(series, i), k));

			buf_printf(b, "%zu,%" PRId64 " ", i * 10, 62 - v * 58 / (max > 0 ? max : 1));
		}
		buf_puts(b, "\"/>");
	}
	buf_puts(b, "</svg><p class=\"muted small\">60 minutes ago → now</p></section>");
}

static void section_table(struct buf *b, const char *title, struct json_object *arr,
			  const char *const *cols, size_t ncols, const char *link, const char *id)
{
	buf_puts(b, "<section class=\"card wide\"><h2>");
	html_text(b, title);
	buf_puts(b, "</h2>");
	table(b, arr, cols, ncols, link, id);
	buf_puts(b, "</section>");
}

static const char *const TIMER_COLS[] = {"name", "state", "leader", "holder", "term",
					 "updated_at", "stale"};
static const char *const WORKER_COLS[] = {"factory_id", "health", "held", "load",
					  "capabilities", "last_heartbeat_at", "stale"};
static const char *const RUNTIME_COLS[] = {"id", "pool", "provider", "name", "state",
					   "price_per_hour", "gpu", "created_at", "started_at"};
static const char *const STREAM_COLS[] = {"stream", "depth", "pending", "oldest_pending_age_s"};
static const char *const RT_EVENT_COLS[] = {"at", "instance_id", "kind", "data"};
static const char *const EVENT_COLS[] = {"at", "job_id", "kind", "data"};
static const char *const JOB_COLS[] = {"id",	     "stage",	 "priority",
				       "kind",	     "profile",	 "engine_class",
				       "capabilities", "attempts", "created_at",
				       "updated_at"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Runtime instances with their age, and stop / destroy for operators. */
static void runtime_table(struct request *req, const struct ui_session *s, struct buf *b,
			  struct json_object *arr)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	bool buttons = ui_can_operate(req);

	buf_puts(b, "<section class=\"card wide\"><h2>Runtime instances</h2>");
	if (n == 0) {
		buf_puts(b, "<p class=\"muted\" id=\"runtimes\">None.</p></section>");
		return;
	}
	buf_puts(b, "<div class=\"scroll\"><table id=\"runtimes\"><thead><tr>");
	for (size_t c = 0; c < N(RUNTIME_COLS); c++)
		buf_printf(b, "<th>%s</th>", RUNTIME_COLS[c]);
	buf_puts(b, buttons ? "<th>age</th><th></th></tr></thead><tbody>"
			    : "<th>age</th></tr></thead><tbody>");
	for (size_t r = 0; r < n; r++) {
		struct json_object *row = json_object_array_get_idx(arr, r), *v = NULL;
		const char *state = str_of(row, "state"), *id = str_of(row, "id");

		buf_puts(b, "<tr>");
		for (size_t c = 0; c < N(RUNTIME_COLS); c++) {
			v = NULL;
			json_object_object_get_ex(row, RUNTIME_COLS[c], &v);
			buf_puts(b, "<td>");
			value_text(b, v);
			buf_puts(b, "</td>");
		}
		buf_puts(b, "<td>");
		age(b, str_of(row, "created_at"));
		buf_puts(b, "</td>");
		if (buttons) {
			buf_puts(b, "<td class=\"actions\">");
			for (size_t k = 0; k < 2 && id != NULL && state != NULL; k++) {
				const char *act = k == 0 ? "stop" : "destroy";

				if (k == 0 && strcmp(state, "running") != 0)
					continue;
				if (k == 1 && strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0)
					continue;
				buf_puts(b, "<form method=\"post\" class=\"inline\" action=\"/ui/runtimes/");
				html_text(b, id);
				buf_printf(b, "/%s\">", act);
				html_csrf_input(b, s->csrf);
				buf_printf(b, "<button type=\"submit\" class=\"%s\">%s</button></form>", act,
					   k == 0 ? "Stop" : "Destroy");
			}
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>");
	}
	buf_puts(b, "</tbody></table></div></section>");
}

/* Streams from the status section: {redis, group, items}. */
static void streams_section(struct buf *b, struct json_object *st)
{
	struct json_object *items = NULL;

	buf_puts(b, "<section class=\"card wide\"><h2>Streams</h2>");
	if (st == NULL) {
		buf_puts(b, "<p class=\"muted\">Not reported by this build.</p></section>");
		return;
	}
	if (str_of(st, "redis") != NULL && strcmp(str_of(st, "redis"), "ok") != 0) {
		buf_puts(b, "<p class=\"error\">Redis: ");
		html_text(b, str_of(st, "message"));
		buf_puts(b, "</p></section>");
		return;
	}
	json_object_object_get_ex(st, "items", &items);
	table(b, items, STREAM_COLS, N(STREAM_COLS), NULL, "streams");
	buf_puts(b, "</section>");
}

/* GET /ui/   session: operator, readonly, admin */
void api_ui_overview(struct request *req)
{
	/* GET /v1/status's sections this page shows, in the order of o[] */
	static const char *const SECTIONS[] = {"system",  "timers",	    "jobs",
					       "workers", "streams",	    "runtime_events"};
	enum { SYSTEM, TIMERS, JOBS, WORKERS, STREAMS, RT_EVENTS, THROUGHPUT, RUNTIMES, EVENTS, NPARTS };
	struct ui_session s;
	struct cd_error e;
	struct buf b;
	struct db *db;
	char *t[NPARTS] = {0};
	struct json_object *o[NPARTS] = {0};
	enum cd_err rc = CD_OK;
	int64_t tenant;

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s))
		return;
	db = request_db(req, &e);
	tenant = req->principal.tenant_id;
	for (size_t i = 0; i < N(SECTIONS) && rc == CD_OK; i++)
		rc = api_status_section(req, db, SECTIONS[i], &t[i], &e);
	if (rc == CD_OK)
		rc = db_ui_throughput(db, tenant, &t[THROUGHPUT], &e);
	if (rc == CD_OK)
		rc = db_runtime_list(db, 50, &t[RUNTIMES], &e);
	if (rc == CD_OK)
		rc = db_ui_recent_events(db, tenant, 50, &t[EVENTS], &e);
	for (size_t i = 0; i < NPARTS; i++)
		o[i] = parsed(t[i]);
	if (rc != CD_OK) {
		ui_reply_error(req, rc, "The status could not be read; try again shortly.");
		goto out;
	}
	ui_page_begin(req, &s, &b, "Overview", "/ui/");
	buf_puts(&b, "<div class=\"grid\">");
	mode_section(req, &s, &b, o[SYSTEM]);
	stage_bar(&b, o[JOBS]);
	sparkline(&b, o[THROUGHPUT]);
	buf_puts(&b, "</div>");
	section_table(&b, "Timers", o[TIMERS], TIMER_COLS, N(TIMER_COLS), NULL, "timers");
	streams_section(&b, o[STREAMS]);
	section_table(&b, "Workers", items_of(o[WORKERS]), WORKER_COLS, N(WORKER_COLS), NULL,
		      "workers");
	runtime_table(req, &s, &b, items_of(o[RUNTIMES]));
	section_table(&b, "Last 50 events", o[EVENTS], EVENT_COLS, N(EVENT_COLS), "job_id", "events");
	section_table(&b, "Runtime events", items_of(o[RT_EVENTS]), RT_EVENT_COLS, N(RT_EVENT_COLS),
		      NULL, "runtime-events");
	ui_page_end(req, &b);
out:
	for (size_t i = 0; i < NPARTS; i++)
		json_object_put(o[i]);
}

/* POST /ui/runtimes/{id}/{action}   session: operator, admin; form: csrf
 * action stop or destroy, through the same domain calls as the API's. */
void api_ui_runtime_action(struct request *req)
{
	const char *action = request_param(req, "action");
	struct ui_session s;
	struct cd_error e;
	char *out = NULL, *end;
	int64_t id;
	enum cd_err rc;

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s))
		return;
	if (!ui_can_operate(req)) {
		ui_reply_error(req, CD_FORBIDDEN, "A readonly token may not stop or destroy runtimes.");
		return;
	}
	if (!ui_csrf_or_refuse(req, &s))
		return;
	id = strtoll(request_param(req, "id"), &end, 10);
	if (*end != '\0' || id <= 0 || id > ID_MAX ||
	    (strcmp(action, "stop") != 0 && strcmp(action, "destroy") != 0)) {
		ui_reply_error(req, CD_NOT_FOUND, "No such runtime action.");
		return;
	}
	rc = (strcmp(action, "stop") == 0 ? runtime_stop : runtime_destroy)(
		request_db(req, &e), req->w->cfg, id, req->principal.name, &out, &e);
	free(out);
	if (rc != CD_OK) {
		ui_reply_error(req, rc, e.message[0] ? e.message : "The action failed.");
		return;
	}
	reply_redirect(req, "/ui/");
}

/* POST /ui/system/{mode}   session: operator, admin; form: csrf, reason */
void api_ui_system_mode(struct request *req)
{
	static const char *const MODES[][2] = {
		{"pause", "paused"}, {"resume", "running"}, {"drain", "draining"}};
	const char *action = request_param(req, "mode"), *mode = NULL;
	struct ui_session s;
	struct cd_error e;
	char reason[600];

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s))
		return;
	if (!ui_can_operate(req)) {
		ui_reply_error(req, CD_FORBIDDEN, "A readonly token may not change the system mode.");
		return;
	}
	if (!ui_csrf_or_refuse(req, &s))
		return;
	for (size_t i = 0; i < N(MODES); i++)
		if (strcmp(action, MODES[i][0]) == 0)
			mode = MODES[i][1];
	if (mode == NULL) {
		ui_reply_error(req, CD_NOT_FOUND, "No such action: pause, resume or drain.");
		return;
	}
	if (html_form_value(req->body, req->body_len, "reason", reason, sizeof(reason)) < 0) {
		ui_reply_error(req, CD_INVALID, "The reason is too long or badly encoded.");
		return;
	}
	if (db_control_set_mode(request_db(req, &e), req->principal.tenant_id, mode,
				reason[0] ? reason : NULL, req->principal.name, &e) != CD_OK) {
		ui_reply_error(req, e.err, "The mode could not be changed.");
		return;
	}
	reply_redirect(req, "/ui/");
}

/* GET /ui/jobs?stage=&cursor=   newest first, PAGE_JOBS a page */
void api_ui_jobs(struct request *req)
{
	struct ui_session s;
	struct cd_error e;
	struct buf b;
	char stage[32], cursor[32], *items = NULL, *end = NULL;
	struct json_object *arr;
	int has_stage, has_cursor;
	int64_t before = 0, next = 0;

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s))
		return;
	has_stage = request_query(req, "stage", stage, sizeof(stage));
	has_cursor = request_query(req, "cursor", cursor, sizeof(cursor));
	if (has_stage < 0 || (has_stage > 0 && stage[0] != '\0' && stages_parse(stage) < 0)) {
		ui_reply_error(req, CD_INVALID, "stage must be one of the stages listed on the page.");
		return;
	}
	if (has_cursor > 0 && cursor[0] != '\0')
		before = strtoll(cursor, &end, 10);
	if (has_cursor < 0 || (end != NULL && (*end != '\0' || before <= 0))) {
		ui_reply_error(req, CD_INVALID, "cursor must come from a previous page's link.");
		return;
	}
	if (has_stage <= 0)
		stage[0] = '\0';
	if (db_jobs_list(request_db(req, &e), req->principal.tenant_id,
			 stage[0] ? stage : NULL, PAGE_JOBS, before, &items, &next, &e) != CD_OK) {
		ui_reply_error(req, e.err, "The jobs could not be read.");
		return;
	}
	arr = parsed(items);
	ui_page_begin(req, &s, &b, "Jobs", NULL);
	buf_puts(&b, "<nav class=\"filter\"><a href=\"/ui/jobs\"");
	buf_puts(&b, stage[0] ? ">" : " class=\"on\">");
	buf_puts(&b, "all</a>");
	for (size_t i = 0; i < NSTAGES; i++)
		buf_printf(&b, "<a href=\"/ui/jobs?stage=%s\"%s>%s</a>", STAGES_AT(i),
			   strcmp(stage, STAGES_AT(i)) == 0 ? " class=\"on\"" : "", STAGES_AT(i));
	buf_puts(&b, "</nav><section class=\"card wide\">");
	table(&b, arr, JOB_COLS, N(JOB_COLS), "id", "jobs");
	if (next > 0) {
		buf_puts(&b, "<p><a id=\"next\" href=\"/ui/jobs?stage=");
		html_text(&b, stage);
		buf_printf(&b, "&amp;cursor=%" PRId64 "\">Older →</a></p>", next);
	}
	buf_puts(&b, "</section>");
	ui_page_end(req, &b);
	json_object_put(arr);
}

/* GET /ui/jobs/{id}   the job, its runs, events and artifacts */
void api_ui_job(struct request *req)
{
	struct ui_session s;
	struct cd_error e;
	struct buf b;
	struct db *db;
	char *t[5] = {0}, title[64];
	struct json_object *o[5] = {0}, *lease = NULL, *deps = NULL;
	const char *idp = request_param(req, "id");
	char *end;
	int64_t id, next = 0;
	enum cd_err rc;

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s))
		return;
	id = strtoll(idp, &end, 10);
	if (*end != '\0' || id <= 0 || id > ID_MAX) {
		ui_reply_error(req, CD_NOT_FOUND, "No such job.");
		return;
	}
	db = request_db(req, &e);
	rc = db_jobs_get(db, req->principal.tenant_id, id, true, &t[0], &e);
	if (rc == CD_OK)
		rc = db_jobs_runs(db, req->principal.tenant_id, id, &t[1], &e);
	if (rc == CD_OK)
		rc = db_jobs_events(db, req->principal.tenant_id, id, 500, 0, &t[2], &next, &e);
	if (rc == CD_OK)
		rc = db_jobs_artifacts(db, req->principal.tenant_id, id, &t[3], &e);
	if (rc == CD_OK)
		rc = db_ui_dependents(db, req->principal.tenant_id, id, &t[4], &e);
	for (size_t i = 0; i < 5; i++)
		o[i] = parsed(t[i]);
	if (rc != CD_OK) {
		ui_reply_error(req, rc, rc == CD_NOT_FOUND ? "No such job in this tenant."
							    : "The job could not be read.");
		goto out;
	}
	snprintf(title, sizeof(title), "Job %" PRId64, id);
	ui_page_begin(req, &s, &b, title, NULL);
	buf_puts(&b, "<section class=\"card wide\"><h2>Lease</h2>");
	if (json_object_object_get_ex(o[0], "lease", &lease) && lease != NULL) {
		lease_left(&b, str_of(lease, "expires_at"));
		fields(&b, lease, "lease");
	}
	else
		buf_puts(&b, "<p class=\"muted\" id=\"lease\">No lease.</p>");
	buf_puts(&b, "</section><section class=\"card wide\"><h2>Dependencies</h2>");
	json_object_object_get_ex(o[0], "deps", &deps);
	job_links(&b, "Depends on", deps, "deps");
	job_links(&b, "Needed by", o[4], "dependents");
	buf_puts(&b, "</section><section class=\"card wide\"><h2>Fields</h2>");
	fields(&b, o[0], "job");
	buf_puts(&b, "</section>");
	section_table(&b, "Runs", items_of(o[1]), NULL, 0, NULL, "runs");
	section_table(&b, "Events", items_of(o[2]), NULL, 0, NULL, "job-events");
	section_table(&b, "Artifacts", items_of(o[3]), NULL, 0, NULL, "artifacts");
	ui_page_end(req, &b);
out:
	for (size_t i = 0; i < 5; i++)
		json_object_put(o[i]);
}

/* A page of one table: what fetch answers (tenant-scoped or not). */
typedef enum cd_err (*list_fn)(struct request *req, struct db *db, char **out,
			       struct cd_error *e);

static void list_page(struct request *req, const char *title, const char *self,
		      const char *heading, const char *id, list_fn fetch)
{
	struct ui_session s;
	struct cd_error e;
	struct buf b;
	char *t = NULL;
	struct json_object *o;

	cd_error_reset(&e);
	if (!ui_session_or_redirect(req, &s))
		return;
	if (fetch(req, request_db(req, &e), &t, &e) != CD_OK) {
		ui_reply_error(req, e.err, "The list could not be read.");
		return;
	}
	o = parsed(t);
	ui_page_begin(req, &s, &b, title, self);
	section_table(&b, heading, items_of(o), NULL, 0, NULL, id);
	ui_page_end(req, &b);
	json_object_put(o);
}

static enum cd_err fetch_workers(struct request *req, struct db *db, char **out,
				 struct cd_error *e)
{
	return db_factories_list(db, req->principal.tenant_id, req->w->cfg->factory_stale_s, out, e);
}

static enum cd_err fetch_runtimes(struct request *req, struct db *db, char **out,
				  struct cd_error *e)
{
	(void)req;
	return db_runtime_list(db, 500, out, e);
}

/* GET /ui/workers   the tenant's workers, stale ones marked */
void api_ui_workers(struct request *req)
{
	list_page(req, "Workers", "/ui/workers", "Workers (stale ones marked)", "workers",
		  fetch_workers);
}

/* GET /ui/runtimes   runtime instances, newest first */
void api_ui_runtimes(struct request *req)
{
	list_page(req, "Runtimes", "/ui/runtimes", "Runtime instances", "runtimes", fetch_runtimes);
}

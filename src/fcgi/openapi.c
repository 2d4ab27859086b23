/* openapi.c -- the OpenAPI 3.1 document of GET /v1/openapi.json; see
 * openapi.h for where each part comes from.
 *
 * Walks ROUTES once: one operation per row (operationId: the handler's
 * name, tag: its api_<area>), its roles (x-roles, admin always among them,
 * and a bearer `security` entry; `security: []` where the row needs no
 * token), its {name} path parameters, the query parameters of QUERY the
 * route reads, its request body built from the handler's field tables (the
 * openapi_parts of api_<area>.c: types, lengths, ranges, required, enums,
 * unknown fields refused), and its answers: the envelope of fcgi/response.h
 * around the data shape OPS gives, and the error envelope for every status
 * the route can give (those of its role check, body, query, {id} and the
 * ones OPS adds), each status's codes read from response.c's cd_err table.
 * The document is built on the first request and kept for the process.
 * Never: a second copy of a field table, or a route not in ROUTES.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/mem.h"
#include "domain/stages.h"
#include "domain/tokens.h"
#include "fcgi/openapi.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/routes.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* ---- the parts of every api_<area>.c --------------------------------------- */

static const struct {
	const struct openapi_part *parts;
	const size_t *count;
} FILES[] = {
    {API_CONTROL_PARTS, &API_CONTROL_PARTS_COUNT},   {API_FLEET_PARTS, &API_FLEET_PARTS_COUNT},
    {API_RUNTIMES_PARTS, &API_RUNTIMES_PARTS_COUNT}, {API_STREAMS_PARTS, &API_STREAMS_PARTS_COUNT},
    {API_TASKS_PARTS, &API_TASKS_PARTS_COUNT},       {API_PROFILES_PARTS, &API_PROFILES_PARTS_COUNT},       {API_TENANTS_PARTS, &API_TENANTS_PARTS_COUNT},
};

const struct openapi_part *openapi_part_at(size_t i)
{
	for (size_t f = 0; f < sizeof(FILES) / sizeof(FILES[0]); f++) {
		if (i < *FILES[f].count)
			return &FILES[f].parts[i];
		i -= *FILES[f].count;
	}
	return NULL;
}

/* The part of route at path: a field table (want_fields) or a list of
 * values; NULL when there is none. */
static const struct openapi_part *part_find(const char *route, const char *path, bool want_fields)
{
	const struct openapi_part *p;

	for (size_t i = 0; (p = openapi_part_at(i)) != NULL; i++)
		if (strcmp(p->route, route) == 0 && strcmp(p->path, path) == 0 &&
		    (p->fields != NULL) == want_fields)
			return p;
	return NULL;
}

/* ---- query and header parameters ------------------------------------------- */

/* The parameters the handlers read besides the path and the body. This
 * table is the document's only: the handlers parse them with
 * limit_or_reply() (fcgi/handler.c), cursor_or_reply() and ?stage
 * (api_fleet.c), If-Match (api_fleet.c), ?stage/?cursor/?refresh
 * (ui_pages.c, ui_session.c), with these same limits. */
static const struct param {
	const char *name;
	const char *in;   /* "query" or "header" */
	const char *type; /* a JSON Schema type */
	int64_t min, max; /* integer: the range (min < max) */
	bool stages;      /* the value is a stage's name (domain/stages.c) */
	const char *description;
} PARAMS[] = {
    {"limit", "query", "integer", 1, 500, false, "Items per page, 1 to 500 (default 50)."},
    {"cursor", "query", "string", 0, 0, false,
     "The next_cursor of the previous page; absent for the first page."},
    {"stage", "query", "string", 0, 0, true, "Only jobs in this stage."},
    {"idempotency_key", "query", "string", 0, 0, false, "Only the job with this key (exact)."},
    {"capability", "query", "string", 0, 0, false,
     "Only jobs that require this capability."},
    {"parent_id", "query", "string", 0, 0, false, "Only the steps of this task (a job id)."},
    {"If-Match", "header", "string", 0, 0, false,
     "\"<rev>\": the write happens only while the job's rev is this one (else 412)."},
    {"refresh", "query", "string", 0, 0, false, "Reload the page every few seconds."},
};

static const struct param *param_find(const char *name)
{
	for (size_t i = 0; i < sizeof(PARAMS) / sizeof(PARAMS[0]); i++)
		if (strcmp(PARAMS[i].name, name) == 0)
			return &PARAMS[i];
	return NULL;
}

/* ---- what each route answers ------------------------------------------------ */

/* The top-level shape of a route's data: "name:type,..." with JSON Schema
 * types and ? for nullable; "[...]" for an array of such objects. */
#define JOB                                                                                        \
	"id:string,idempotency_key:string?,stage:string,priority:string,capabilities:array,"       \
	"deps:array,deps_mode:string,kind:string,parent_id:string?,body:string?,manifest:object?," \
	"engine_class:string?,profile:string?,budget:object?,retry:object,checkpoint:object?,"     \
	"result:object?,attempts:integer,not_before:string?,lease:object,rev:integer,"             \
	"created_at:string,updated_at:string,finished_at:string?"
#define JOB_STATE                                                                                  \
	"id:string,stage:string,attempts:integer,not_before:string?,lease:object,"                 \
	"checkpoint:object?,rev:integer,updated_at:string"
#define PAGE     "items:array,next_cursor:string?"
#define ARTIFACT "id:string,uri:string,sha256:string?,bytes:integer?,kind:string,created_at:string"
#define TASK     "task:object"
#define INSTANCE                                                                                   \
	"id:string,pool:string,provider:string,provider_id:string?,name:string?,state:string,"     \
	"price_per_hour:number?,gpu:string?,gpu_mem_gb:integer?,region:string?,address:string?,"   \
	"term:integer?,requested_by:string?,created_at:string,started_at:string?,"                 \
	"stopped_at:string?"
#define FACTORY                                                                                    \
	"factory_id:string,capabilities:array,health:string,load:number,seat_limit:integer?,"      \
	"descriptor:object?,last_heartbeat_at:string,stale:boolean"
#define SYSTEM                                                                                     \
	"mode:string,reason:string?,requested_by:string?,updated_at:string?,holder_id:string?,"    \
	"term:integer?,lease_expires_at:string?"
#define PROFILE_VERSION "name:string,version:integer,spec:object,created_at:string"
#define HTML "html" /* a status page: text/html, no envelope */

static const struct op {
	const char *route; /* the handler's name, as in ROUTES */
	const char *summary;
	const char *ok;     /* the success statuses: "200", "201,200" */
	const char *data;   /* the data's shape (see above), HTML, or NULL (none) */
	const char *params; /* of PARAMS, comma-separated */
	const char *errors; /* statuses beyond those operation() derives */
} OPS[] = {
    {"api_health_healthz", "Liveness: answers without the database", "200", "status:string", "",
     ""},
    {"api_health_readyz", "Readiness: PostgreSQL (schema) and Redis answer", "200",
     "status:string,postgresql:string,redis:string,schema:string", "", "503"},
    {"api_health_whoami", "The caller's tenant, role and token name", "200",
     "tenant:string,role:string,name:string", "", ""},
    {"api_openapi_get", "This document", "200", NULL, "", ""},
    {"api_tenants_create", "Create a tenant", "201", "name:string", "", "409"},
    {"api_tenants_list", "List tenants", "200", "items:array", "", ""},
    {"api_fleet_submit", "Submit one job (idempotent by idempotency_key)", "201,200",
     "job:object,outcome:string,replayed:boolean", "", "409"},
    {"api_fleet_submit_batch", "Submit up to 1000 jobs in one transaction", "201", "jobs:array", "",
     "409,422"},
    {"api_fleet_transition", "Up to 100 fenced transitions in one transaction", "200",
     "items:array", "", ""},
    {"api_fleet_list", "List jobs, newest first (summaries); the filters combine", "200", PAGE,
     "stage,idempotency_key,capability,parent_id,limit,cursor", ""},
    {"api_fleet_deps", "A job's dependencies and dependents, one step each way", "200",
     "id:string,deps_mode:string,deps:array,dependents:array,dependents_more:boolean", "", ""},
    {"api_profiles_create", "A new version of a profile (the same spec: the latest, 200)",
     "201,200", PROFILE_VERSION ",created:boolean", "", ""},
    {"api_profiles_list", "Profiles, each with its latest version", "200", "items:array", "", ""},
    {"api_profiles_get", "A profile's latest version and its versions", "200",
     "name:string,latest:object,versions:array", "", ""},
    {"api_profiles_version", "One version of a profile", "200", PROFILE_VERSION, "", ""},
    {"api_fleet_get", "One job, whole", "200", JOB, "", ""},
    {"api_fleet_patch", "A fenced transition of a job the caller holds", "200", JOB_STATE,
     "If-Match", "409,412"},
    {"api_fleet_cancel", "Cancel a job; its worker is fenced out", "200", JOB_STATE, "", "409"},
    {"api_fleet_renew", "Renew a lease", "200", JOB_STATE, "", "409"},
    {"api_fleet_release", "Release a lease (requeue by default)", "200", JOB_STATE, "", "409"},
    {"api_fleet_runs", "A job's runs, one per attempt, with insights", "200",
     "[attempt:integer,factory_id:string,engine:string?,profile:string?,lease_epoch:integer,started_at:string,"
     "ended_at:string?,exit:string?,result:object?,insights:object?]",
     "", ""},
    {"api_fleet_events", "A job's events, oldest first", "200", PAGE, "limit,cursor", ""},
    {"api_fleet_artifact_add", "Record a pointer to a blob stored elsewhere", "201", ARTIFACT, "",
     ""},
    {"api_fleet_artifacts", "A job's artifacts", "200", "[" ARTIFACT "]", "", ""},
    {"api_fleet_claim", "Claim queued jobs (long-poll with wait_ms)", "200",
     "jobs:array,waited_ms:integer", "", ""},
    {"api_fleet_heartbeat", "A worker's heartbeat", "200", FACTORY, "", ""},
    {"api_fleet_factories", "Workers, stale when silent", "200", "[" FACTORY "]", "", ""},
    {"api_control_heartbeat", "A controller's heartbeat", "200",
     "controller_id:string,host:string?,role:string?,priority:integer?,status:string?,"
     "version:string?,metadata:object?,stale:boolean",
     "", ""},
    {"api_control_list", "Controllers", "200", "items:array", "", ""},
    {"api_control_acquire", "Take or renew a leader lease", "200",
     "lease:string,holder_id:string?,holder_host:string?,term:integer,"
     "lease_expires_at:string?,is_leader:boolean,operation:string",
     "", ""},
    {"api_control_state", "The system mode and the leader", "200", SYSTEM, "", ""},
    {"api_control_mode_events", "The mode's changes, newest first", "200", "items:array", "", ""},
    {"api_control_pause", "Pause: no claims", "200", SYSTEM, "", ""},
    {"api_control_resume", "Resume claims", "200", SYSTEM, "", ""},
    {"api_control_drain", "Drain: no claims, no new runtimes", "200", SYSTEM, "", ""},
    {"api_tasks_create", "Create a task (a composite job)", "201", TASK, "", ""},
    {"api_tasks_get", "A task with its steps", "200", TASK, "", ""},
    {"api_tasks_plan", "Plan a task's steps", "200", TASK, "", "409"},
    {"api_tasks_cancel", "Cancel a task and its unfinished steps", "200", TASK, "", "409"},
    {"api_steps_heartbeat", "Renew a step's lease", "200", JOB_STATE, "", "409"},
    {"api_steps_checkpoint", "Save a step's checkpoint", "200", JOB_STATE, "", "409"},
    {"api_steps_complete", "A step shipped", "200", JOB_STATE, "", "409"},
    {"api_steps_fail", "A step failed (retried per its policy)", "200", JOB_STATE, "", "409"},
    {"api_status_get", "The whole system at a glance", "200",
     "system:object,timers:array,timer_leases:array,jobs:object,workers:array,streams:object,"
     "pools:array,runtime_events:object",
     "", ""},
    {"api_metrics_get", "Prometheus text exposition (not an envelope)", "200", NULL, "", ""},
    {"api_runtimes_list", "Runtime instances, newest first", "200", "items:array", "limit", ""},
    {"api_runtimes_ensure", "A live instance of a pool: the one running, or a new one", "201,200",
     INSTANCE, "", "409,502"},
    {"api_runtimes_manual", "Register a machine for the manual provider", "201",
     "id:string,name:string,gpu:string,gpu_mem_gb:integer,price_per_hour:number,"
     "address:string?,state:string,registered_at:string",
     "", ""},
    {"api_runtimes_stop", "Stop an instance through its provider", "200", INSTANCE, "", "409,502"},
    {"api_runtimes_destroy", "Destroy an instance through its provider", "200", INSTANCE, "",
     "409,502"},
    {"api_streams_add", "Add an entry to a configured Redis stream", "201",
     "id:string,stream:string,source:string,reply_to:string?", "", "404"},
    {"api_ui_login_form", "Status pages: the login form", "200", HTML, "", ""},
    {"api_ui_login", "Status pages: log in with a token (form field token)", "303", HTML, "", ""},
    {"api_ui_logout", "Status pages: log out", "303", HTML, "", ""},
    {"api_ui_overview", "Status pages: the overview", "200", HTML, "refresh", ""},
    {"api_ui_system_mode", "Status pages: pause, resume or drain (form)", "303", HTML, "", ""},
    {"api_ui_jobs", "Status pages: jobs", "200", HTML, "stage,cursor", ""},
    {"api_ui_job", "Status pages: one job", "200", HTML, "", ""},
    {"api_ui_workers", "Status pages: workers", "200", HTML, "", ""},
    {"api_ui_runtimes", "Status pages: runtimes", "200", HTML, "", ""},
    {"api_ui_runtime_action", "Status pages: stop or destroy a runtime (form)", "303", HTML, "",
     ""},
};

static const struct op *op_find(const char *route)
{
	for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++)
		if (strcmp(OPS[i].route, route) == 0)
			return &OPS[i];
	return NULL;
}

/* ---- JSON helpers ------------------------------------------------------------ */

static void put(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static void put_str(struct json_object *o, const char *key, const char *s)
{
	put(o, key, json_object_new_string(s));
}

static struct json_object *obj_of(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v)) {
		v = json_object_new_object();
		put(o, key, v);
	}
	return v;
}

/* {"type": type} or {"type": [type, "null"]}. */
static struct json_object *typed(const char *type, bool nullable)
{
	struct json_object *s = json_object_new_object(), *t;

	if (!nullable) {
		put_str(s, "type", type);
		return s;
	}
	t = json_object_new_array();
	json_object_array_add(t, json_object_new_string(type));
	json_object_array_add(t, json_object_new_string("null"));
	put(s, "type", t);
	return s;
}

static struct json_object *strings(const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* The stages a PATCH may ask for (domain/stages.c). */
static struct json_object *stage_targets(void)
{
	struct json_object *a = json_object_new_array();
	struct cd_error e;
	enum stage s;

	for (int i = 0; i < STAGE_COUNT; i++)
		if (stages_check_target(stages_name((enum stage)i), &s, &e) == CD_OK)
			json_object_array_add(a,
			                      json_object_new_string(stages_name((enum stage)i)));
	return a;
}

static struct json_object *all_stages(void)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < STAGE_COUNT; i++)
		json_object_array_add(a, json_object_new_string(stages_name((enum stage)i)));
	return a;
}

/* ---- request bodies from the field tables ------------------------------------ */

static struct json_object *table_schema(const char *route, const char *path,
                                        const struct openapi_part *p);

/* The schema of field f of route's body at path (its full name, "jobs[].retry"). */
static struct json_object *field_schema(const char *route, const char *path,
                                        const struct json_field *f)
{
	static const char *const TYPES[] = {
	    [JF_STRING] = "string",      [JF_INT] = "integer",   [JF_NUMBER] = "number",
	    [JF_BOOL] = "boolean",       [JF_OBJECT] = "object", [JF_ARRAY] = "array",
	    [JF_STRING_ARRAY] = "array",
	};
	const struct openapi_part *sub = part_find(route, path, true);
	const struct openapi_part *vals = part_find(route, path, false);
	struct json_object *s, *items;
	char below[160];

	if (f->type == JF_OBJECT && sub != NULL) {
		s = table_schema(route, path, sub);
		if (f->nullable)
			put(s, "type", json_tokener_parse("[\"object\",\"null\"]"));
	} else {
		s = typed(TYPES[f->type], f->nullable);
	}
	switch (f->type) {
	case JF_STRING:
		if (f->min > 0)
			put(s, "minLength", json_object_new_int64(f->min));
		put(s, "maxLength", json_object_new_int64(f->max));
		if (vals != NULL)
			put(s, "enum", strings(vals->values, vals->nvalues));
		else if (strcmp(f->name, "stage") == 0)
			put(s, "enum", stage_targets());
		break;
	case JF_INT:
	case JF_NUMBER:
		put(s, "minimum", json_object_new_int64(f->min));
		put(s, "maximum", json_object_new_int64(f->max));
		break;
	case JF_OBJECT:
		if (f->max > 0)
			put(s, "x-max-bytes", json_object_new_int64(f->max));
		break;
	case JF_ARRAY:
	case JF_STRING_ARRAY:
		put(s, "minItems", json_object_new_int64(f->min));
		put(s, "maxItems", json_object_new_int64(f->max));
		if (f->type == JF_ARRAY) {
			sub = (size_t)snprintf(below, sizeof(below), "%s[]", path) < sizeof(below)
			          ? part_find(route, below, true)
			          : NULL;
			items = sub ? table_schema(route, below, sub) : json_object_new_object();
		} else {
			items = typed("string", false);
			put(items, "maxLength", json_object_new_int64(f->item_max));
			if (vals != NULL)
				put(items, "enum", strings(vals->values, vals->nvalues));
		}
		put(s, "items", items);
		break;
	default: break;
	}
	return s;
}

/* The object schema of part p (a field table) of route at path ("" the body). */
static struct json_object *table_schema(const char *route, const char *path,
                                        const struct openapi_part *p)
{
	struct json_object *s = typed("object", false), *props = json_object_new_object();
	struct json_object *req = json_object_new_array();
	char sub[160];

	for (size_t i = 0; i < p->nfields; i++) {
		const struct json_field *f = &p->fields[i];

		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
		put(props, f->name, field_schema(route, sub, f));
		if (f->required)
			json_object_array_add(req, json_object_new_string(f->name));
	}
	put(s, "properties", props);
	if (json_object_array_length(req) > 0)
		put(s, "required", req);
	else
		json_object_put(req);
	/* input is denied by default: any other key is a 400 naming it */
	put(s, "additionalProperties", json_object_new_boolean(false));
	put_str(s, "x-field-table", p->table);
	return s;
}

/* ---- answers ------------------------------------------------------------------ */

/* The schema of a data shape ("a:string,b:integer?", "[...]"). */
static struct json_object *shape_schema(const char *shape)
{
	bool array = shape[0] == '[';
	struct json_object *s = typed("object", false), *props = json_object_new_object(), *a;
	char *copy = xstrdup(array ? shape + 1 : shape), *save = NULL, *tok;

	if (array && copy[0] != '\0')
		copy[strlen(copy) - 1] = '\0';
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *type = strchr(tok, ':');
		size_t n;
		bool nullable;

		if (type == NULL)
			continue;
		*type++ = '\0';
		n = strlen(type);
		nullable = n > 0 && type[n - 1] == '?';
		if (nullable)
			type[n - 1] = '\0';
		put(props, tok, typed(type, nullable));
	}
	free(copy);
	put(s, "properties", props);
	if (!array)
		return s;
	a = typed("array", false);
	put(a, "items", s);
	return a;
}

/* {"description", "content": {"application/json": {"schema": envelope(data)}}} */
static struct json_object *ok_response(const char *status, const struct op *op)
{
	struct json_object *r = json_object_new_object(), *media, *env, *props, *req;

	put_str(r, "description",
	        strcmp(status, "201") == 0   ? "Created."
	        : strcmp(status, "303") == 0 ? "See Other."
	                                     : "OK.");
	if (op->data != NULL && strcmp(op->data, HTML) == 0) {
		if (strcmp(status, "303") == 0) {
			struct json_object *h = obj_of(r, "headers");

			put(obj_of(h, "Location"), "schema", typed("string", false));
			return r;
		}
		put(obj_of(obj_of(r, "content"), "text/html"), "schema", typed("string", false));
		return r;
	}
	if (strcmp(op->route, "api_metrics_get") == 0) {
		put(obj_of(obj_of(r, "content"), "text/plain"), "schema", typed("string", false));
		return r;
	}
	media = obj_of(obj_of(r, "content"), "application/json");
	if (strcmp(op->route, "api_openapi_get") == 0) {
		/* the document itself, not an envelope */
		env = typed("object", false);
		put(env, "description", json_object_new_string("An OpenAPI 3.1 document."));
		put(media, "schema", env);
		return r;
	}
	env = typed("object", false);
	props = json_object_new_object();
	put(props, "ok", json_tokener_parse("{\"const\":true}"));
	put(props, "request_id", typed("string", false));
	put(props, "data", shape_schema(op->data ? op->data : ""));
	put(env, "properties", props);
	req = json_object_new_array();
	json_object_array_add(req, json_object_new_string("ok"));
	json_object_array_add(req, json_object_new_string("request_id"));
	json_object_array_add(req, json_object_new_string("data"));
	put(env, "required", req);
	put(media, "schema", env);
	return r;
}

/* The statuses conductor-fcgi answers with an error envelope, each with the
 * codes response.c's table gives it. */
static const int ERROR_STATUSES[] = {400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 502, 503};

static struct json_object *error_responses(void)
{
	struct json_object *out = json_object_new_object();

	for (size_t i = 0; i < sizeof(ERROR_STATUSES) / sizeof(ERROR_STATUSES[0]); i++) {
		struct json_object *r = json_object_new_object();
		char name[8], text[256] = "";

		for (int e = 1; e < CD_ERR_COUNT; e++) {
			if (response_status((enum cd_err)e) != ERROR_STATUSES[i])
				continue;
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
			         text[0] ? ", " : "", response_code((enum cd_err)e));
		}
		if (ERROR_STATUSES[i] == 404)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
			         ", <thing>_not_found (job_not_found, task_not_found, ...)");
		snprintf(name, sizeof(name), "%d", ERROR_STATUSES[i]);
		put_str(r, "description", text[0] ? text : response_reason(ERROR_STATUSES[i]));
		put(obj_of(obj_of(r, "content"), "application/json"), "schema",
		    json_tokener_parse("{\"$ref\":\"#/components/schemas/Error\"}"));
		put(out, name, r);
	}
	return out;
}

/* Adds the error status s to op's responses (a $ref to components). */
static void add_error(struct json_object *responses, int s)
{
	char name[8], ref[64];

	snprintf(name, sizeof(name), "%d", s);
	if (json_object_object_get_ex(responses, name, NULL))
		return;
	snprintf(ref, sizeof(ref), "{\"$ref\":\"#/components/responses/%d\"}", s);
	put(responses, name, json_tokener_parse(ref));
}

/* ---- operations ---------------------------------------------------------------- */

static struct json_object *path_params(const char *pattern)
{
	struct json_object *a = json_object_new_array();
	const char *p = pattern;

	while ((p = strchr(p, '{')) != NULL) {
		const char *end = strchr(p, '}');
		struct json_object *prm = json_object_new_object(), *s = typed("string", false);
		char name[64];

		if (end == NULL || (size_t)(end - p - 1) >= sizeof(name))
			break;
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
		put_str(prm, "name", name);
		put_str(prm, "in", "path");
		put(prm, "required", json_object_new_boolean(true));
		if (strcmp(name, "id") == 0)
			put_str(s, "pattern", "^[0-9]{1,18}$");
		put(prm, "schema", s);
		json_object_array_add(a, prm);
		p = end;
	}
	return a;
}

/* Adds op's query and header parameters (names in list) to params. */
static void add_params(struct json_object *params, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		const struct param *q = param_find(tok);
		struct json_object *prm = json_object_new_object(), *s;

		if (q == NULL) {
			json_object_put(prm);
			continue;
		}
		s = typed(q->type, false);
		if (q->min < q->max) {
			put(s, "minimum", json_object_new_int64(q->min));
			put(s, "maximum", json_object_new_int64(q->max));
		}
		if (q->stages)
			put(s, "enum", all_stages());
		put_str(prm, "name", q->name);
		put_str(prm, "in", q->in);
		put_str(prm, "description", q->description);
		put(prm, "schema", s);
		json_object_array_add(params, prm);
	}
	free(copy);
}

/* "api_fleet_submit" -> "fleet" */
static void tag_of(const char *route, char *out, size_t cap)
{
	const char *p = strncmp(route, "api_", 4) == 0 ? route + 4 : route;
	size_t n = strcspn(p, "_");

	snprintf(out, cap, "%.*s", (int)n, p);
}

static struct json_object *roles_of(unsigned roles)
{
	struct json_object *a = json_object_new_array();

	if (roles == 0)
		return a;
	/* admin may call every route */
	roles |= ROLE_BIT(ROLE_ADMIN);
	for (int r = 0; r < ROLE_COUNT; r++)
		if (roles & ROLE_BIT(r))
			json_object_array_add(
			    a, json_object_new_string(tokens_role_name((enum role)r)));
	return a;
}

/* Must a body be sent? Only when its table requires a field (an empty body
 * reads as {}). */
static bool has_required(const struct openapi_part *body)
{
	for (size_t i = 0; body != NULL && i < body->nfields; i++)
		if (body->fields[i].required)
			return true;
	return false;
}

static struct json_object *operation(const struct route *rt)
{
	const struct op *op = op_find(rt->name);
	const struct openapi_part *body = part_find(rt->name, "", true);
	bool html = strncmp(rt->pattern, "/ui/", 4) == 0;
	bool has_body = strcmp(rt->method, "POST") == 0 || strcmp(rt->method, "PATCH") == 0;
	struct json_object *o = json_object_new_object(), *params, *responses, *tags;
	struct op fallback = {rt->name, rt->name, "200", NULL, "", ""};
	char tag[32], *copy, *save = NULL, *tok;

	if (op == NULL)
		op = &fallback;
	put_str(o, "operationId", rt->name);
	put_str(o, "summary", op->summary);
	tag_of(rt->name, tag, sizeof(tag));
	tags = json_object_new_array();
	json_object_array_add(tags, json_object_new_string(tag));
	put(o, "tags", tags);
	put(o, "x-roles", roles_of(rt->roles));
	put(o, "security", json_tokener_parse(rt->roles ? "[{\"bearer\":[]}]" : "[]"));
	params = path_params(rt->pattern);
	add_params(params, op->params);
	if (json_object_array_length(params) > 0)
		put(o, "parameters", params);
	else
		json_object_put(params);

	if (has_body && html) {
		struct json_object *rb = json_object_new_object();

		put(obj_of(obj_of(rb, "content"), "application/x-www-form-urlencoded"), "schema",
		    typed("object", false));
		put(o, "requestBody", rb);
	} else if (has_body) {
		struct json_object *rb = json_object_new_object(), *s;

		if (body != NULL) {
			s = table_schema(rt->name, "", body);
		} else {
			/* the handler takes no field: {} or no body at all */
			s = typed("object", false);
			put(s, "maxProperties", json_object_new_int(0));
		}
		put(rb, "required", json_object_new_boolean(has_required(body)));
		put(obj_of(obj_of(rb, "content"), "application/json"), "schema", s);
		put(o, "requestBody", rb);
	}

	responses = json_object_new_object();
	copy = xstrdup(op->ok);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		put(responses, tok, ok_response(tok, op));
	free(copy);
	if (!html) {
		if (has_body) {
			add_error(responses, 400);
			add_error(responses, 413);
			add_error(responses, 415);
		}
		if (op->params[0] != '\0')
			add_error(responses, 400);
		if (strchr(rt->pattern, '{') != NULL)
			add_error(responses, 404);
		if (rt->roles != 0) {
			add_error(responses, 401);
			add_error(responses, 403);
			add_error(responses, 503);
		}
		copy = xstrdup(op->errors);
		save = NULL;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			add_error(responses, atoi(tok));
		free(copy);
	}
	put(o, "responses", responses);
	return o;
}

/* ---- the document ------------------------------------------------------------- */

static const char DESCRIPTION[] =
    "conductor's HTTP API: durable jobs with atomic claims, leases and fencing; controllers, "
    "the leader lease and the system mode; tasks; GPU runtimes; the status pages.\n\n"
    "Every JSON answer is an envelope: {ok: true, request_id, data} or {ok: false, request_id, "
    "error, message, details} (details.field names the field at fault). Send "
    "`Authorization: Bearer <token>`; x-roles lists the roles a route admits (admin is always "
    "one). A GET answers HEAD too. Request bodies are JSON (Content-Type: application/json, at "
    "most 1 MiB); a field not listed is refused. String lengths are in bytes of UTF-8; "
    "x-max-bytes bounds an object field's size as JSON. Lists "
    "page with ?limit and ?cursor (next_cursor, null at the end). This document is built from "
    "the server's own route and field tables.";

static char *DOCUMENT;
static pthread_once_t ONCE = PTHREAD_ONCE_INIT;

static void build(void)
{
	struct json_object *doc = json_object_new_object(), *info = json_object_new_object();
	struct json_object *paths = json_object_new_object(), *comp = json_object_new_object();
	struct json_object *bearer = json_object_new_object();

	put_str(doc, "openapi", "3.1.0");
	put_str(info, "title", "conductor");
	put_str(info, "version", PACKAGE_VERSION);
	put_str(info, "description", DESCRIPTION);
	put(doc, "info", info);
	for (size_t i = 0; i < ROUTES_COUNT; i++) {
		const struct route *rt = &ROUTES[i];
		char method[16];
		size_t k;

		for (k = 0; rt->method[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(rt->method[k] | 0x20);
		method[k] = '\0';
		put(obj_of(paths, rt->pattern), method, operation(rt));
	}
	put(doc, "paths", paths);
	put_str(bearer, "type", "http");
	put_str(bearer, "scheme", "bearer");
	put_str(bearer, "description",
	        "An API token (cdt_...), made with conductorctl token create.");
	put(obj_of(comp, "securitySchemes"), "bearer", bearer);
	put(obj_of(comp, "schemas"), "Error",
	    json_tokener_parse(
	        "{\"type\":\"object\",\"required\":[\"ok\",\"request_id\",\"error\","
	        "\"message\",\"details\"],\"properties\":{\"ok\":{\"const\":false},"
	        "\"request_id\":{\"type\":\"string\"},\"error\":{\"type\":\"string\"},"
	        "\"message\":{\"type\":\"string\"},\"details\":{\"type\":\"object\","
	        "\"properties\":{\"field\":{\"type\":\"string\"}}}}}"));
	put(comp, "responses", error_responses());
	put(doc, "components", comp);
	DOCUMENT = xstrdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

const char *openapi_document(void)
{
	pthread_once(&ONCE, build);
	return DOCUMENT;
}

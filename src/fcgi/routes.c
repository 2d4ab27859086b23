/* routes.c -- THE route table (method, pattern, handler, roles) and dispatch.
 *
 * Admin may call every route; a row whose roles are R(ADMIN) alone is for
 * admin only. A route with roles 0 needs no token. Keep tests/data/routes.tsv in step: test_routes checks they agree,
 * and the integration suite walks the file with a token of every role.
 */
#include <string.h>
#include <strings.h>

#include "data/db.h"
#include "domain/tokens.h"
#include "fcgi/api.h"
#include "fcgi/auth.h"
#include "fcgi/response.h"
#include "fcgi/routes.h"

#define R(role) ROLE_BIT(ROLE_##role)
/* Every role but metrics, which reads GET /metrics and nothing else. */
#define ANY_ROLE (ROLES_ALL & ~R(METRICS))
/* Who may read jobs: operators read everything in their tenant, submitters
 * read the jobs they submit, readonly reads. */
#define READERS (R(OPERATOR) | R(SUBMITTER) | R(READONLY))

const struct route ROUTES[] = {
	/* method  pattern        handler              roles            name */
	{"GET", "/healthz", api_health_healthz, 0, "api_health_healthz"},
	{"GET", "/readyz", api_health_readyz, 0, "api_health_readyz"},
	{"GET", "/v1/whoami", api_health_whoami, ANY_ROLE, "api_health_whoami"},
	{"GET", "/v1/openapi.json", api_openapi_get, 0, "api_openapi_get"},
	{"POST", "/v1/tenants", api_tenants_create, R(ADMIN), "api_tenants_create"},
	{"GET", "/v1/tenants", api_tenants_list, R(ADMIN), "api_tenants_list"},
	{"POST", "/v1/fleet/jobs", api_fleet_submit, R(SUBMITTER), "api_fleet_submit"},
	{"POST", "/v1/fleet/jobs:batch", api_fleet_submit_batch, R(SUBMITTER), "api_fleet_submit_batch"},
	{"POST", "/v1/fleet/jobs:transition", api_fleet_transition, R(WORKER), "api_fleet_transition"},
	{"GET", "/v1/fleet/jobs", api_fleet_list, READERS, "api_fleet_list"},
	{"GET", "/v1/fleet/jobs/{id}", api_fleet_get, READERS, "api_fleet_get"},
	{"PATCH", "/v1/fleet/jobs/{id}", api_fleet_patch, R(WORKER), "api_fleet_patch"},
	{"POST", "/v1/fleet/jobs/{id}/cancel", api_fleet_cancel, R(SUBMITTER) | R(OPERATOR), "api_fleet_cancel"},
	{"POST", "/v1/fleet/jobs/{id}/lease/renew", api_fleet_renew, R(WORKER), "api_fleet_renew"},
	{"POST", "/v1/fleet/jobs/{id}/lease/release", api_fleet_release, R(WORKER), "api_fleet_release"},
	{"GET", "/v1/fleet/jobs/{id}/runs", api_fleet_runs, READERS, "api_fleet_runs"},
	{"GET", "/v1/fleet/jobs/{id}/deps", api_fleet_deps, READERS, "api_fleet_deps"},
	{"GET", "/v1/fleet/jobs/{id}/events", api_fleet_events, READERS, "api_fleet_events"},
	{"POST", "/v1/fleet/jobs/{id}/artifacts", api_fleet_artifact_add, R(WORKER), "api_fleet_artifact_add"},
	{"GET", "/v1/fleet/jobs/{id}/artifacts", api_fleet_artifacts, READERS, "api_fleet_artifacts"},
	{"POST", "/v1/fleet/claim", api_fleet_claim, R(WORKER), "api_fleet_claim"},
	{"POST", "/v1/fleet/factories/heartbeat", api_fleet_heartbeat, R(WORKER), "api_fleet_heartbeat"},
	{"GET", "/v1/fleet/factories", api_fleet_factories, R(OPERATOR) | R(READONLY), "api_fleet_factories"},
	{"POST", "/v1/controllers/heartbeat", api_control_heartbeat, R(CONTROLLER), "api_control_heartbeat"},
	{"GET", "/v1/controllers", api_control_list, R(OPERATOR) | R(READONLY), "api_control_list"},
	{"POST", "/v1/leader/acquire", api_control_acquire, R(CONTROLLER), "api_control_acquire"},
	{"GET", "/v1/system/state", api_control_state, ANY_ROLE, "api_control_state"},
	{"GET", "/v1/system/events", api_control_mode_events, R(OPERATOR) | R(READONLY), "api_control_mode_events"},
	{"POST", "/v1/system/pause", api_control_pause, R(OPERATOR), "api_control_pause"},
	{"POST", "/v1/system/resume", api_control_resume, R(OPERATOR), "api_control_resume"},
	{"POST", "/v1/system/drain", api_control_drain, R(OPERATOR), "api_control_drain"},
	{"POST", "/v1/tasks", api_tasks_create, R(SUBMITTER), "api_tasks_create"},
	{"GET", "/v1/tasks/{id}", api_tasks_get, READERS, "api_tasks_get"},
	{"POST", "/v1/tasks/{id}/plan", api_tasks_plan, R(CONTROLLER), "api_tasks_plan"},
	{"POST", "/v1/tasks/{id}/cancel", api_tasks_cancel, R(SUBMITTER) | R(OPERATOR), "api_tasks_cancel"},
	{"POST", "/v1/steps/{id}/heartbeat", api_steps_heartbeat, R(WORKER), "api_steps_heartbeat"},
	{"POST", "/v1/steps/{id}/checkpoint", api_steps_checkpoint, R(WORKER), "api_steps_checkpoint"},
	{"POST", "/v1/steps/{id}/complete", api_steps_complete, R(WORKER), "api_steps_complete"},
	{"POST", "/v1/steps/{id}/fail", api_steps_fail, R(WORKER), "api_steps_fail"},
	{"GET", "/v1/status", api_status_get, R(OPERATOR) | R(READONLY), "api_status_get"},
	{"GET", "/metrics", api_metrics_get, R(READONLY) | R(METRICS), "api_metrics_get"},
	{"GET", "/v1/runtimes", api_runtimes_list, R(OPERATOR) | R(READONLY), "api_runtimes_list"},
	{"POST", "/v1/runtimes/ensure", api_runtimes_ensure, R(OPERATOR), "api_runtimes_ensure"},
	{"POST", "/v1/runtimes/manual", api_runtimes_manual, R(OPERATOR), "api_runtimes_manual"},
	{"POST", "/v1/runtimes/{id}/stop", api_runtimes_stop, R(OPERATOR), "api_runtimes_stop"},
	{"POST", "/v1/runtimes/{id}/destroy", api_runtimes_destroy, R(OPERATOR), "api_runtimes_destroy"},
	{"POST", "/v1/streams/{stream}/entries", api_streams_add, R(SUBMITTER), "api_streams_add"},
	{"POST", "/v1/profiles", api_profiles_create, R(OPERATOR), "api_profiles_create"},
	{"GET", "/v1/profiles", api_profiles_list, R(OPERATOR) | R(READONLY), "api_profiles_list"},
	{"GET", "/v1/profiles/{name}", api_profiles_get, R(OPERATOR) | R(READONLY), "api_profiles_get"},
	{"GET", "/v1/profiles/{name}/versions/{v}", api_profiles_version, R(OPERATOR) | R(READONLY), "api_profiles_version"},
	/* the status pages: roles 0 here, their session is checked by each page (fcgi/ui.h) */
	{"GET", "/ui/login", api_ui_login_form, 0, "api_ui_login_form"},
	{"POST", "/ui/login", api_ui_login, 0, "api_ui_login"},
	{"POST", "/ui/logout", api_ui_logout, 0, "api_ui_logout"},
	{"GET", "/ui/", api_ui_overview, 0, "api_ui_overview"},
	{"POST", "/ui/system/{mode}", api_ui_system_mode, 0, "api_ui_system_mode"},
	{"GET", "/ui/jobs", api_ui_jobs, 0, "api_ui_jobs"},
	{"GET", "/ui/jobs/{id}", api_ui_job, 0, "api_ui_job"},
	{"GET", "/ui/workers", api_ui_workers, 0, "api_ui_workers"},
	{"GET", "/ui/runtimes", api_ui_runtimes, 0, "api_ui_runtimes"},
	{"POST", "/ui/runtimes/{id}/{action}", api_ui_runtime_action, 0, "api_ui_runtime_action"},
};

const size_t ROUTES_COUNT = sizeof(ROUTES) / sizeof(ROUTES[0]);

/* application/json, with or without parameters such as charset. */
static bool json_media(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void routes_dispatch(struct request *req)
{
	struct cd_error e;
	char allow[64];
	enum cd_err rc;

	cd_error_reset(&e);
	rc = router_match(ROUTES, ROUTES_COUNT, req->method, req->path, &req->route, req->params,
			  &req->nparams, allow, sizeof(allow), &e);
	if (rc != CD_OK) {
		if (rc == CD_METHOD_NOT_ALLOWED)
			reply_header(req, "Allow", allow);
		reply_error(req, &e);
		return;
	}
	if (req->route->roles != 0 && !auth_or_reply(req))
		return;
	/* every route behind a token works on the database: its handler finds
	 * the connection on the request (or the client had the 503 here) */
	cd_error_reset(&req->err);
	if (req->route->roles != 0 && (req->db = request_db(req, &req->err)) == NULL) {
		reply_error(req, &req->err);
		return;
	}
	/* who this request's writes are made by: every job event and run it
	 * writes names the token (fail closed: no actor, no request) */
	if (req->route->roles != 0) {
		char actor[TOKENS_ACTOR_MAX];

		tokens_actor_json(&req->principal, actor, sizeof(actor));
		if (db_set_actor(req->db, actor, &req->err) != CD_OK) {
			reply_error(req, &req->err);
			auth_end(req); /* a pending token check that failed on it answers 401 */
			return;
		}
	}
	/* the status pages' forms are form-encoded, and each page reads its own */
	if (req->body_len > 0 && !json_media(req->content_type) && strncmp(req->path, "/ui/", 4) != 0) {
		reply_fail(req, CD_UNSUPPORTED_MEDIA, "Content-Type",
			   "Send the body as JSON with Content-Type: application/json.");
		auth_end(req);
		return;
	}
	req->route->handler(req);
	auth_end(req);
}

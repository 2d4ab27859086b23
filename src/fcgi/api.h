/* api.h -- every HTTP handler, one group per api_<area>.c file.
 * A handler's comment (in its file) gives its route, role and body shape. */
#ifndef CD_API_H
#define CD_API_H

#include "fcgi/request.h"

/* api_health.c */
void api_health_healthz(struct request *req);
void api_health_readyz(struct request *req);
void api_health_whoami(struct request *req);

/* api_profiles.c */
void api_profiles_create(struct request *req);
void api_profiles_list(struct request *req);
void api_profiles_get(struct request *req);
void api_profiles_version(struct request *req);
/* api_openapi.c */
void api_openapi_get(struct request *req);

/* api_tenants.c */
void api_tenants_create(struct request *req);
void api_tenants_list(struct request *req);

/* api_fleet.c */
void api_fleet_submit(struct request *req);
void api_fleet_submit_batch(struct request *req);
void api_fleet_list(struct request *req);
void api_fleet_get(struct request *req);
void api_fleet_deps(struct request *req);
void api_fleet_events(struct request *req);
void api_fleet_runs(struct request *req);
void api_fleet_claim(struct request *req);
void api_fleet_patch(struct request *req);
void api_fleet_transition(struct request *req);
void api_fleet_renew(struct request *req);
void api_fleet_release(struct request *req);
void api_fleet_cancel(struct request *req);
void api_fleet_heartbeat(struct request *req);
void api_fleet_factories(struct request *req);
void api_fleet_artifact_add(struct request *req);
void api_fleet_artifacts(struct request *req);

/* api_control.c */
void api_control_heartbeat(struct request *req);
void api_control_list(struct request *req);
void api_control_acquire(struct request *req);
void api_control_state(struct request *req);
void api_control_mode_events(struct request *req);
void api_control_pause(struct request *req);
void api_control_resume(struct request *req);
void api_control_drain(struct request *req);

/* api_tasks.c */
void api_tasks_create(struct request *req);
void api_tasks_get(struct request *req);
void api_tasks_plan(struct request *req);
void api_tasks_cancel(struct request *req);
void api_steps_heartbeat(struct request *req);
void api_steps_checkpoint(struct request *req);
void api_steps_complete(struct request *req);
void api_steps_fail(struct request *req);

/* api_status.c */
void api_status_get(struct request *req);

/* api_metrics.c */
void api_metrics_get(struct request *req);
/* api_runtimes.c */
void api_runtimes_list(struct request *req);
void api_runtimes_ensure(struct request *req);
void api_runtimes_manual(struct request *req);
void api_runtimes_stop(struct request *req);
void api_runtimes_destroy(struct request *req);

/* api_streams.c */
void api_streams_add(struct request *req);
/* The JSON text (new, the caller frees it) of GET /v1/status's section key
 * ("system", "streams", ...) for req's principal: the status pages render
 * the very values the API answers (api_status.c). */
struct db;
enum cd_err api_status_section(struct request *req, struct db *db, const char *key, char **out,
			       struct cd_error *e);

/* ui_session.c, ui_pages.c: the status pages (HTML; a session, not a bearer) */
void api_ui_login_form(struct request *req);
void api_ui_login(struct request *req);
void api_ui_logout(struct request *req);
void api_ui_overview(struct request *req);
void api_ui_system_mode(struct request *req);
void api_ui_jobs(struct request *req);
void api_ui_job(struct request *req);
void api_ui_workers(struct request *req);
void api_ui_runtimes(struct request *req);
void api_ui_runtime_action(struct request *req);

#endif

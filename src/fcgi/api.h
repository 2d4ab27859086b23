/* api.h -- every HTTP handler, one group per api_<area>.c file.
 * A handler's comment (in its file) gives its route, role and body shape. */
#ifndef CD_API_H
#define CD_API_H

#include "fcgi/request.h"

/* api_health.c */
void api_health_healthz(struct request *req);
void api_health_readyz(struct request *req);
void api_health_whoami(struct request *req);

/* api_tenants.c */
void api_tenants_create(struct request *req);
void api_tenants_list(struct request *req);

/* api_fleet.c */
void api_fleet_submit(struct request *req);
void api_fleet_submit_batch(struct request *req);
void api_fleet_list(struct request *req);
void api_fleet_get(struct request *req);
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

#endif

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

#endif

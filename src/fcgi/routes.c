/* routes.c -- THE route table (method, pattern, handler, roles) and dispatch.
 *
 * Admin may call every route; a row whose roles are R(ADMIN) alone is for
 * admin only. A route with roles 0 needs no token. Keep tests/data/routes.tsv in step: test_routes checks they agree,
 * and the integration suite walks the file with a token of every role.
 */
#include <string.h>
#include <strings.h>

#include "fcgi/api.h"
#include "fcgi/auth.h"
#include "fcgi/response.h"
#include "fcgi/routes.h"

#define R(role) ROLE_BIT(ROLE_##role)
#define ANY_ROLE ROLES_ALL

const struct route ROUTES[] = {
	/* method  pattern        handler              roles            name */
	{"GET", "/healthz", api_health_healthz, 0, "api_health_healthz"},
	{"GET", "/readyz", api_health_readyz, 0, "api_health_readyz"},
	{"GET", "/v1/whoami", api_health_whoami, ANY_ROLE, "api_health_whoami"},
	{"POST", "/v1/tenants", api_tenants_create, R(ADMIN), "api_tenants_create"},
	{"GET", "/v1/tenants", api_tenants_list, R(ADMIN), "api_tenants_list"},
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
	if (req->body_len > 0 && !json_media(req->content_type)) {
		reply_fail(req, CD_UNSUPPORTED_MEDIA, "Content-Type",
			   "Send the body as JSON with Content-Type: application/json.");
		return;
	}
	req->route->handler(req);
}

/* auth.c -- from the Authorization header to a principal allowed on the route.
 * Parsing the header is HTTP's business and lives here; deciding whether a
 * token is good is domain/tokens.c's.
 *
 * On the hot routes (GUARDED) a token verified lately comes from the
 * process's cache and its check travels with the handler's first statement
 * (tokens_authenticate_guarded); auth_end then settles it before the answer
 * leaves, and replaces the answer by the refusal when the token no longer
 * holds. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "data/db_auth.h"
#include "fcgi/api.h"
#include "fcgi/auth.h"
#include "fcgi/response.h"
#include "fcgi/router.h"

/* The hot routes: a worker's claim and lease traffic, several requests per
 * job. Only handlers whose every effect is a PostgreSQL statement belong
 * here (none of these touches Redis or a provider): an effect elsewhere
 * would happen before the guard ran. */
static route_handler *const GUARDED[] = {
	api_fleet_claim, api_fleet_patch,   api_fleet_transition,
	api_fleet_renew, api_fleet_release, api_fleet_heartbeat,
};

static bool guarded_route(const struct route *route)
{
	for (size_t i = 0; i < sizeof(GUARDED) / sizeof(GUARDED[0]); i++)
		if (route->handler == GUARDED[i])
			return true;
	return false;
}

/* Points *tok at the token of "Bearer <token>"; NULL when absent or not Bearer. */
static void bearer_token(const char *header, const char **tok, size_t *n)
{
	*tok = NULL;
	*n = 0;
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return;
	header += 7;
	while (*header == ' ')
		header++;
	*n = strlen(header);
	while (*n > 0 && header[*n - 1] == ' ')
		(*n)--;
	*tok = header;
}

/* An admin acts in the tenant named by X-Conductor-Tenant, else "default". */
static bool pick_admin_tenant(struct request *req, struct db *db)
{
	const char *name = req->tenant_header ? req->tenant_header : "default";
	struct cd_error e;
	int64_t id;

	cd_error_reset(&e);
	if (db_tenants_find(db, name, &id, &e) != CD_OK) {
		/* not found, or refused by PostgreSQL (bytes that are not UTF-8) */
		if (e.err == CD_NOT_FOUND || e.err == CD_INVALID)
			snprintf(e.field, sizeof(e.field), "X-Conductor-Tenant");
		reply_error(req, &e);
		return false;
	}
	req->principal.tenant_id = id;
	snprintf(req->principal.tenant, sizeof(req->principal.tenant), "%s", name);
	return true;
}

/* Authenticates and authorizes; false after the refusal is written. */
static bool authorize(struct request *req)
{
	struct cd_error e;
	struct db *db;
	const char *tok;
	bool guarded = false;
	size_t n;

	cd_error_reset(&e);
	db = request_db(req, &e);
	if (db == NULL) {
		reply_error(req, &e);
		return false;
	}
	if (req->authorization != NULL && strncasecmp(req->authorization, "Bearer ", 7) != 0) {
		/* Present but not a bearer token: say so, unless auth is unconfigured. */
		tokens_authenticate(db, "x", 1, &req->principal, &e);
		if (e.err == CD_UNAUTHORIZED)
			snprintf(e.message, sizeof(e.message),
				 "The Authorization header must be \"Bearer <token>\".");
		reply_error(req, &e);
		return false;
	}
	bearer_token(req->authorization, &tok, &n);
	if ((guarded_route(req->route)
		     ? tokens_authenticate_guarded(db, tok, n, &req->principal, &guarded, &e)
		     : tokens_authenticate(db, tok, n, &req->principal, &e)) != CD_OK) {
		reply_error(req, &e);
		return false;
	}
	if (req->principal.role != ROLE_ADMIN &&
	    (req->route->roles & ROLE_BIT(req->principal.role)) == 0) {
		log_info("forbidden", "token", req->principal.name, "role",
			 tokens_role_name(req->principal.role), "route", req->route->name);
		reply_fail(req, CD_FORBIDDEN, "role", "A %s token may not call %s %s.",
			   tokens_role_name(req->principal.role), req->route->method,
			   req->route->pattern);
		return false;
	}
	if (req->principal.tenant_id == 0 && !pick_admin_tenant(req, db))
		return false;
	if (req->principal.role != ROLE_ADMIN && req->tenant_header != NULL &&
	    strcmp(req->tenant_header, req->principal.tenant) != 0) {
		reply_fail(req, CD_FORBIDDEN, "X-Conductor-Tenant",
			   "This token belongs to tenant %s and cannot act in another.",
			   req->principal.tenant);
		return false;
	}
	req->authenticated = true;
	return true;
}

bool auth_or_reply(struct request *req)
{
	if (authorize(req))
		return true;
	auth_end(req); /* a 403 for a token that is no longer live is a 401 */
	return false;
}

void auth_end(struct request *req)
{
	struct cd_error e;
	const char *tok;
	size_t n;

	if (req->w->db == NULL || req->route == NULL || !guarded_route(req->route))
		return;
	cd_error_reset(&e);
	bearer_token(req->authorization, &tok, &n);
	if (tokens_guard_end(req->w->db, tok, n, &e) == CD_OK)
		return;
	req->authenticated = false;
	buf_reset(&req->out_headers);
	req->out_type = "application/json";
	reply_error(req, &e);
}

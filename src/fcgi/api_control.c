/* api_control.c -- the control routes of DESIGN 5: controller heartbeats,
 * the leader lease, the system mode. */
#include <stdlib.h>
#include <string.h>

#include "data/db_control.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/handler.h"
#include "fcgi/openapi.h"
#include "fcgi/response.h"

static const struct json_field CONTROLLER_FIELDS[] = {
	{.name = "controller_id", .type = JF_STRING, .required = true, .min = 1, .max = 128},
	{.name = "host", .type = JF_STRING, .min = 0, .max = 255},
	{.name = "role", .type = JF_STRING, .min = 0, .max = 64},
	{.name = "priority", .type = JF_INT, .min = 0, .max = 1000},
	{.name = "status", .type = JF_STRING, .min = 0, .max = 64},
	{.name = "version", .type = JF_STRING, .min = 0, .max = 64},
	{.name = "metadata", .type = JF_OBJECT, .max = 16 * 1024},
};

/* POST /v1/controllers/heartbeat   role: controller
 * {controller_id, host?, role?, priority? 0..1000, status?, version?, metadata?} */
void api_control_heartbeat(struct request *req)
{
	struct json_object *body = NULL;
	char *out = NULL;
	enum cd_err rc;

	if (!body_object_or_reply(req, CONTROLLER_FIELDS, NFIELDS(CONTROLLER_FIELDS), &body))
		return;
	rc = db_control_heartbeat(req->db, req->principal.tenant_id,
				  json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
				  req->w->cfg->factory_stale_s, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
	json_object_put(body);
}

/* GET /v1/controllers   role: operator, readonly
 * {items: [controllers]}, `stale` past CONDUCTOR_FACTORY_STALE_S. */
void api_control_list(struct request *req)
{
	char *out = NULL;
	enum cd_err rc;

	rc = db_control_list(req->db, req->principal.tenant_id, req->w->cfg->factory_stale_s, &out,
			     &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

static const struct json_field ACQUIRE_FIELDS[] = {
	{.name = "controller_id", .type = JF_STRING, .required = true, .min = 1, .max = 128},
	{.name = "host", .type = JF_STRING, .min = 0, .max = 255},
	{.name = "ttl_s", .type = JF_INT, .required = true, .min = 1, .max = 3600},
	{.name = "preferred", .type = JF_BOOL},
	{.name = "lease", .type = JF_STRING, .min = 1, .max = 64},
};

/* POST /v1/leader/acquire   role: controller
 * {controller_id, host?, ttl_s 1..3600, preferred?, lease? (default "global")}
 * -> {lease, holder_id, holder_host, term, lease_expires_at, is_leader, operation}.
 * `preferred` is accepted and preempts nobody: even a preferred
 * controller takes over only after the lease expired (DESIGN 5). */
void api_control_acquire(struct request *req)
{
	struct json_object *body = NULL;
	const char *lease;
	char *out = NULL;
	enum cd_err rc;

	if (!body_object_or_reply(req, ACQUIRE_FIELDS, NFIELDS(ACQUIRE_FIELDS), &body))
		return;
	lease = json_get_string(body, "lease", "global");
	if (strspn(lease, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(lease)) {
		reply_fail(req, CD_INVALID, "lease", "lease must be 1 to 64 of a-z 0-9 _ -.");
		goto out;
	}
	rc = db_control_acquire(req->db, req->principal.tenant_id, lease,
				json_get_string(body, "controller_id", ""),
				json_get_string(body, "host", NULL),
				(int)json_get_int(body, "ttl_s", 30), &out, NULL, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
out:
	json_object_put(body);
}

/* GET /v1/system/state   role: any
 * {mode, reason, requested_by, updated_at, holder_id, term, lease_expires_at} */
void api_control_state(struct request *req)
{
	char *out = NULL;
	enum cd_err rc;

	rc = db_control_state(req->db, req->principal.tenant_id, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* GET /v1/system/events   role: operator, readonly
 * The mode changes, newest first. */
void api_control_mode_events(struct request *req)
{
	char *out = NULL;
	enum cd_err rc;

	rc = db_control_mode_events(req->db, req->principal.tenant_id, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

static const struct json_field MODE_FIELDS[] = {
	{.name = "reason", .type = JF_STRING, .min = 0, .max = 500},
	{.name = "requested_by", .type = JF_STRING, .min = 0, .max = 128},
};

/* Sets the caller's tenant to mode and answers the new state. */
static void set_mode(struct request *req, const char *mode)
{
	struct json_object *body = NULL;
	char *out = NULL;
	enum cd_err rc;

	if (!body_object_or_reply(req, MODE_FIELDS, NFIELDS(MODE_FIELDS), &body))
		return;
	rc = db_control_set_mode(req->db, req->principal.tenant_id, mode,
				 json_get_string(body, "reason", NULL),
				 json_get_string(body, "requested_by", req->principal.name), &req->err);
	if (rc == CD_OK)
		rc = db_control_state(req->db, req->principal.tenant_id, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
	json_object_put(body);
}

/* POST /v1/system/pause   role: operator   {reason?, requested_by?}
 * No claims; leases still renew and PATCHes still land, so running work ends. */
void api_control_pause(struct request *req)
{
	set_mode(req, "paused");
}

/* POST /v1/system/resume   role: operator   {reason?, requested_by?} */
void api_control_resume(struct request *req)
{
	set_mode(req, "running");
}

/* POST /v1/system/drain   role: operator   {reason?, requested_by?}
 * No claims, and the watcher spawns nothing. */
void api_control_drain(struct request *req)
{
	set_mode(req, "draining");
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_CONTROL_PARTS[] = {
	OPENAPI_BODY("api_control_heartbeat", "", CONTROLLER_FIELDS),
	OPENAPI_BODY("api_control_acquire", "", ACQUIRE_FIELDS),
	OPENAPI_BODY("api_control_pause", "", MODE_FIELDS),
	OPENAPI_BODY("api_control_resume", "", MODE_FIELDS),
	OPENAPI_BODY("api_control_drain", "", MODE_FIELDS),
};
const size_t API_CONTROL_PARTS_COUNT = NFIELDS(API_CONTROL_PARTS);

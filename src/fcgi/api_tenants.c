/* api_tenants.c -- tenants over HTTP (admin only): create and list. */
#include "data/db_auth.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/openapi.h"
#include "fcgi/response.h"

static const struct json_field TENANT_FIELDS[] = {
	{.name = "name", .type = JF_STRING, .required = true, .min = 1, .max = 63},
};

/* POST /v1/tenants   role: admin
 * {name: 1..63 of [a-z0-9_-]}  ->  201 {name} */
void api_tenants_create(struct request *req)
{
	struct json_object *body = NULL, *data;
	const char *name;

	if (!body_object_or_reply(req, TENANT_FIELDS, 1, &body))
		return;
	name = json_get_string(body, "name", "");
	if (db_tenants_create(req->db, name, &req->err) != CD_OK) {
		reply_error(req, &req->err);
		goto out;
	}
	data = json_object_new_object();
	json_object_object_add(data, "name", json_object_new_string(name));
	reply_created(req, data);
out:
	json_object_put(body);
}

/* GET /v1/tenants   role: admin
 * -> [{name, created_at}] */
void api_tenants_list(struct request *req)
{
	struct json_object *rows = NULL, *data;

	if (db_tenants_list(req->db, &rows, &req->err) != CD_OK) {
		reply_error(req, &req->err);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "items", rows);
	reply_ok(req, data);
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_TENANTS_PARTS[] = {
	OPENAPI_BODY("api_tenants_create", "", TENANT_FIELDS),
};
const size_t API_TENANTS_PARTS_COUNT = sizeof(API_TENANTS_PARTS) / sizeof(API_TENANTS_PARTS[0]);

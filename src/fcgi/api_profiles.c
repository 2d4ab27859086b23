/* api_profiles.c -- /v1/profiles: immutable named, versioned profiles
 * (DESIGN section 4). Operators write, readers read; a version is never
 * changed or deleted (there is no route for it, and the database refuses it
 * too). The rules of names and references are domain/profiles.c's; the
 * making of versions is profile_put()'s (sql/014_profiles.sql). */
#include <string.h>

#include "base/json.h"
#include "data/db_profiles.h"
#include "domain/profiles.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/handler.h"
#include "fcgi/openapi.h"
#include "fcgi/response.h"

static const struct json_field PROFILE_FIELDS[] = {
	{.name = "name", .type = JF_STRING, .required = true, .min = 1, .max = PROFILE_NAME_MAX},
	{.name = "spec", .type = JF_OBJECT, .required = true, .max = PROFILE_SPEC_MAX},
};

/* POST /v1/profiles   role: operator
 * {name, spec: a JSON object <= 64 KiB} -> 201 {name, version, created: true,
 * spec, created_at}, or 200 with the latest version (created: false) when
 * spec equals it. */
void api_profiles_create(struct request *req)
{
	struct json_object *body = NULL;
	const char *name;
	char *out = NULL;
	bool created = false;

	if (!body_object_or_reply(req, PROFILE_FIELDS, NFIELDS(PROFILE_FIELDS), &body))
		return;
	name = json_get_string(body, "name", "");
	if (profiles_check_name(name, "name", &req->err) != CD_OK ||
	    db_profiles_put(req->db, req->principal.tenant_id, name,
	                    json_object_to_json_string_ext(json_get(body, "spec"),
	                                                   JSON_C_TO_STRING_PLAIN),
	                    &out, &created, &req->err) != CD_OK) {
		reply_error(req, &req->err);
		goto out;
	}
	if (created)
		reply_created_text(req, out);
	else
		reply_ok_text(req, out);
out:
	free(out);
	json_object_put(body);
}

/* GET /v1/profiles   role: readonly
 * -> {items: [{name, latest, created_at, updated_at}]} */
void api_profiles_list(struct request *req)
{
	char *out = NULL;
	enum cd_err rc = db_profiles_list(req->db, req->principal.tenant_id, &out, &req->err);

	reply_text_or_error(req, rc, out, &req->err);
}

/* The {name} of the path; false after replying 404 profile_not_found (a name
 * that cannot exist is not there). */
static bool name_or_reply(struct request *req, const char **out)
{
	struct cd_error e;

	cd_error_reset(&e);
	*out = request_param(req, "name");
	if (*out != NULL && profiles_check_name(*out, "name", &e) == CD_OK)
		return true;
	cd_fail(&e, CD_NOT_FOUND, "name", "No such profile exists in this tenant.");
	cd_fail_code(&e, "profile_not_found");
	reply_error(req, &e);
	return false;
}

/* GET /v1/profiles/{name}   role: readonly
 * -> {name, latest: {version, spec, created_at}, versions: [{version,
 * created_at}] newest first} */
void api_profiles_get(struct request *req)
{
	const char *name;
	char *out = NULL;
	enum cd_err rc;

	if (!name_or_reply(req, &name))
		return;
	rc = db_profiles_get(req->db, req->principal.tenant_id, name, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* GET /v1/profiles/{name}/versions/{v}   role: readonly
 * -> {name, version, spec, created_at} */
void api_profiles_version(struct request *req)
{
	const char *name;
	char *out = NULL;
	enum cd_err rc;
	int v;

	if (!name_or_reply(req, &name))
		return;
	if ((v = profiles_parse_version(request_param(req, "v"))) < 0) {
		cd_fail(&req->err, CD_NOT_FOUND, "version", "Profile %s has no such version.", name);
		cd_fail_code(&req->err, "profile_not_found");
		reply_error(req, &req->err);
		return;
	}
	rc = db_profiles_version(req->db, req->principal.tenant_id, name, v, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_PROFILES_PARTS[] = {
	OPENAPI_BODY("api_profiles_create", "", PROFILE_FIELDS),
};
const size_t API_PROFILES_PARTS_COUNT = sizeof(API_PROFILES_PARTS) / sizeof(API_PROFILES_PARTS[0]);

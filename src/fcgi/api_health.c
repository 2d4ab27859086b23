/* api_health.c -- liveness, readiness and who-am-I. */
#include <json-c/json.h>

#include "data/db.h"
#include "data/stream.h"
#include "fcgi/api.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"

/* GET /healthz   no auth
 * Liveness: answers without touching the database. */
void api_health_healthz(struct request *req)
{
	struct json_object *data = json_object_new_object();

	json_object_object_add(data, "status", json_object_new_string("ok"));
	reply_ok(req, data);
}

/* The 503 naming the dependency that is down; why: the failure's detail. */
static void not_ready(struct request *req, const struct cd_error *why, const char *field,
		      const char *code, const char *label)
{
	struct cd_error e;

	cd_fail(&e, CD_UNAVAILABLE, field, "%s is not ready: %s", label, why->message);
	cd_fail_code(&e, code);
	reply_error(req, &e);
}

/* GET /readyz   no auth
 * Readiness: PostgreSQL answers with the expected schema, and Redis answers.
 * 503 names the one that is down in details.field. */
void api_health_readyz(struct request *req)
{
	struct json_object *data;
	struct cd_error e;
	struct db *db;

	cd_error_reset(&e);
	db = request_db(req, &e);
	if (db == NULL || db_ping(db, &e) != CD_OK || db_check_schema(db, &e) != CD_OK) {
		not_ready(req, &e, "postgresql", "database_unavailable", "PostgreSQL");
		return;
	}
	if (redis_or_null(req, &e) == NULL || stream_ping(req->w->redis, &e) != CD_OK) {
		not_ready(req, &e, "redis", "redis_unavailable", "Redis");
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "status", json_object_new_string("ready"));
	json_object_object_add(data, "postgresql", json_object_new_string("ok"));
	json_object_object_add(data, "redis", json_object_new_string("ok"));
	json_object_object_add(data, "schema", json_object_new_string(db_schema_expected()));
	reply_ok(req, data);
}

/* GET /v1/whoami   role: any
 * {tenant, role, name} of the caller's token. */
void api_health_whoami(struct request *req)
{
	struct json_object *data = json_object_new_object();

	json_object_object_add(data, "tenant", json_object_new_string(req->principal.tenant));
	json_object_object_add(data, "role",
			       json_object_new_string(tokens_role_name(req->principal.role)));
	json_object_object_add(data, "name", json_object_new_string(req->principal.name));
	reply_ok(req, data);
}

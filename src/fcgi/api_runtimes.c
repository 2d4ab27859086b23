/* api_runtimes.c -- the runtime routes of DESIGN 6: GPU instances, ensure,
 * stop, destroy, manual machines. The rules are domain/runtime.c's (the
 * watcher acts through the same functions); a handler reads its input,
 * calls one, and answers.
 *
 * Runtimes are the system's own (no tenant): an operator of ANY tenant (and
 * admin) manages them, a readonly token of any tenant reads them (README,
 * Watcher). A provider failure is 502 provider_error with details.field
 * naming the provider and a message naming its HTTP status, after a runtime
 * event recorded it; every provider call is bounded
 * (CONDUCTOR_PROVIDER_TIMEOUT_MS), so no route here hangs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_runtime.h"
#include "domain/runtime.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/handler.h"
#include "fcgi/openapi.h"
#include "fcgi/params.h"
#include "fcgi/response.h"

#define MACHINE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-"

/* GET /v1/runtimes?limit=   role: operator, readonly
 * {items: [instance]} newest first (1..500, default 50): pool, provider,
 * provider_id, state, price_per_hour, gpu, started_at, stopped_at,
 * last_status, ... (data/db_runtime.h). */
void api_runtimes_list(struct request *req)
{
	char *out = NULL;
	int limit = limit_or_reply(req);
	enum cd_err rc;

	if (limit < 0)
		return;
	rc = db_runtime_list(req->db, limit, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

static const struct json_field ENSURE_FIELDS[] = {
    {.name = "pool", .type = JF_STRING, .required = true, .min = 1, .max = 63},
};

/* POST /v1/runtimes/ensure   role: operator
 * {pool} -> the pool's live instance (200), or one started now through the
 * provider order, cheapest fitting offer first (201). Concurrent ensures of
 * a pool start one instance. 404 pool_not_found; 409 when the pool's slot
 * is held by an instance being stopped; 502 provider_error; 503
 * no_capacity. */
void api_runtimes_ensure(struct request *req)
{
	struct json_object *body = NULL;
	char *out = NULL;
	bool created = false;
	enum cd_err rc;

	if (!body_object_or_reply(req, ENSURE_FIELDS, NFIELDS(ENSURE_FIELDS), &body))
		return;
	rc = runtime_ensure(req->db, req->w->cfg, json_get_string(body, "pool", ""),
	                    req->principal.name, &out, &created, &req->err);
	if (rc == CD_OK && created)
		reply_created_text(req, out);
	else if (rc == CD_OK)
		reply_ok_text(req, out);
	else
		reply_error(req, &req->err);
	free(out);
	json_object_put(body);
}

/* The action of a /v1/runtimes/{id}/<verb> route. */
typedef enum cd_err (*instance_action)(struct db *db, const struct config *cfg, int64_t id,
                                       const char *by, char **out, struct cd_error *e);

/* What /stop and /destroy share: the id, the database, the action. */
static void act_on_instance(struct request *req, instance_action fn)
{
	int64_t id;
	char *out = NULL;
	enum cd_err rc;

	if (!id_or_reply(req, "runtime", &id))
		return;
	rc = fn(req->db, req->w->cfg, id, req->principal.name, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* POST /v1/runtimes/{id}/stop   role: operator
 * A running instance is stopped through its own provider -> the instance
 * (state stopped). 404 runtime_not_found; 409 invalid_state when it is not
 * running; 502 provider_error (it stays running). */
void api_runtimes_stop(struct request *req)
{
	act_on_instance(req, runtime_stop);
}

/* POST /v1/runtimes/{id}/destroy   role: operator
 * A running or stopped instance is stopped, then destroyed through its own
 * provider -> the instance (state destroyed). 404 runtime_not_found; 409
 * invalid_state otherwise; 502 provider_error (it keeps its state). */
void api_runtimes_destroy(struct request *req)
{
	act_on_instance(req, runtime_destroy);
}

static const struct json_field MACHINE_FIELDS[] = {
    {.name = "name", .type = JF_STRING, .required = true, .min = 1, .max = 128},
    {.name = "gpu", .type = JF_STRING, .required = true, .min = 1, .max = 64},
    {.name = "gpu_mem_gb", .type = JF_INT, .required = true, .min = 1, .max = 100000},
    {.name = "price_per_hour", .type = JF_NUMBER, .required = true, .min = 0, .max = 10000},
    {.name = "address", .type = JF_STRING, .min = 0, .max = 128},
};

/* POST /v1/runtimes/manual   role: operator
 * {name, gpu, gpu_mem_gb 1..100000, price_per_hour 0..10000, address?}
 * Registers a machine for the `manual` provider (by name: registering it
 * again updates it) -> {id, name, gpu, gpu_mem_gb, price_per_hour, address,
 * state, registered_at}. name: 1..128 of A-Z a-z 0-9 _ . : -, starting
 * with a letter or digit. */
void api_runtimes_manual(struct request *req)
{
	struct json_object *body = NULL;
	struct runtime_machine m = {0};
	const char *name;
	char *out = NULL;
	enum cd_err rc;

	if (!body_object_or_reply(req, MACHINE_FIELDS, NFIELDS(MACHINE_FIELDS), &body))
		return;
	name = json_get_string(body, "name", "");
	if (strspn(name, MACHINE_NAME_CHARS) != strlen(name) || strchr("_.:-", name[0]) != NULL) {
		reply_fail(req, CD_INVALID, "name",
		           "name must be 1 to 128 of A-Z a-z 0-9 _ . : -, starting with a letter "
		           "or a digit.");
		goto out;
	}
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.gpu, sizeof(m.gpu), "%s", json_get_string(body, "gpu", ""));
	snprintf(m.address, sizeof(m.address), "%s", json_get_string(body, "address", ""));
	m.gpu_mem_gb = (int)json_get_int(body, "gpu_mem_gb", 0);
	m.price_per_hour = json_object_get_double(json_get(body, "price_per_hour"));
	rc = db_runtime_machine_register(req->db, &m, req->principal.name, &out, &req->err);
	if (rc == CD_OK)
		reply_created_text(req, out);
	else
		reply_error(req, &req->err);
	free(out);
out:
	json_object_put(body);
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_RUNTIMES_PARTS[] = {
	OPENAPI_BODY("api_runtimes_ensure", "", ENSURE_FIELDS),
	OPENAPI_BODY("api_runtimes_manual", "", MACHINE_FIELDS),
};
const size_t API_RUNTIMES_PARTS_COUNT = NFIELDS(API_RUNTIMES_PARTS);

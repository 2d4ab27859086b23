/* api_tasks.c -- tasks (composite jobs), their plans and cancels, and the step routes:
 * the step forms of renew, PATCH checkpoint, PATCH shipped and PATCH failed,
 * fenced exactly like the fleet routes (they call the same domain code). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_tasks.h"
#include "domain/jobs.h"
#include "domain/tasks.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/handler.h"
#include "fcgi/openapi.h"
#include "fcgi/params.h"
#include "fcgi/response.h"

static const struct json_field TASK_FIELDS[] = {
	{.name = "repo", .type = JF_STRING, .required = true, .min = 1, .max = 512},
	{.name = "task_type", .type = JF_STRING, .required = true, .min = 1, .max = 64},
	{.name = "title", .type = JF_STRING, .required = true, .min = 1, .max = 500},
	{.name = "goal", .type = JF_STRING, .required = true, .min = 0, .max = 64 * 1024},
	{.name = "priority", .type = JF_STRING, .min = 1, .max = 16},
	{.name = "constraints", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "acceptance", .type = JF_STRING_ARRAY, .min = 0, .max = 100, .item_max = 2000},
	{.name = "metadata", .type = JF_OBJECT, .max = 16 * 1024},
};

static void reply_task(struct request *req, int64_t id, bool created)
{
	char *task = NULL;
	struct buf b;

	if (db_tasks_get(req->db, req->principal.tenant_id, id, &task, &req->err) != CD_OK) {
		reply_error(req, &req->err);
		return;
	}
	buf_init(&b, RESPONSE_BODY_MAX);
	buf_printf(&b, "{\"task\":%s}", task);
	if (created)
		reply_created_text(req, buf_str(&b));
	else
		reply_ok_text(req, buf_str(&b));
	buf_reset(&b);
	free(task);
}

static const char *const priorities[] = {"critical", "high", "medium", "low"};

/* POST /v1/tasks   role: submitter
 * {repo, task_type, title, goal, priority?, constraints?, acceptance?[], metadata?}
 * -> 201 {task}; a task is never claimed itself, its planned steps are. */
void api_tasks_create(struct request *req)
{
	struct json_object *body = NULL;
	int64_t id;

	if (!body_object_or_reply(req, TASK_FIELDS, NFIELDS(TASK_FIELDS), &body))
		return;
	if (enum_or_reply(req, body, "priority", "", priorities, 4)) {
		if (db_tasks_create(req->db, req->principal.tenant_id,
				    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), &id,
				    &req->err) != CD_OK)
			reply_error(req, &req->err);
		else
			reply_task(req, id, true);
	}
	json_object_put(body);
}

/* GET /v1/tasks/{id}   role: readonly
 * {task} with current_step_index and its steps' stages. */
void api_tasks_get(struct request *req)
{
	int64_t id;

	if (id_or_reply(req, "task", &id))
		reply_task(req, id, false);
}

static const struct json_field PLAN_FIELDS[] = {
	{.name = "steps", .type = JF_ARRAY, .required = true, .min = 1, .max = 100},
};

static const struct json_field STEP_FIELDS[] = {
	{.name = "title", .type = JF_STRING, .required = true, .min = 1, .max = 500},
	{.name = "body", .type = JF_STRING, .required = true, .min = 0, .max = 256 * 1024},
	{.name = "capabilities", .type = JF_STRING_ARRAY, .min = 0, .max = 32, .item_max = 64},
};

/* POST /v1/tasks/{id}/plan   role: controller
 * {steps: [{title, body, capabilities?}] 1..100} -> {task}; each step a leaf
 * job depending on the previous; 409 when the task is planned already. */
void api_tasks_plan(struct request *req)
{
	struct json_object *body = NULL, *steps;
	int64_t id;

	if (!id_or_reply(req, "task", &id) ||
	    !body_object_or_reply(req, PLAN_FIELDS, NFIELDS(PLAN_FIELDS), &body))
		return;
	steps = json_get(body, "steps");
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		char where[32];

		snprintf(where, sizeof(where), "steps[%zu]", i);
		if (json_check_object(json_object_array_get_idx(steps, i), where, STEP_FIELDS,
				      NFIELDS(STEP_FIELDS), &req->err) != CD_OK) {
			reply_error(req, &req->err);
			goto out;
		}
	}
	if (tasks_plan(req->db, req->principal.tenant_id, id, steps, &req->err) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_task(req, id, false);
out:
	json_object_put(body);
}

/* POST /v1/tasks/{id}/cancel   role: submitter, operator
 * {} -> {task}: the task and every unfinished step cancelled in one
 * transaction; a running step's epoch moves, so its worker is fenced out.
 * 409 invalid_transition when the task has ended. */
void api_tasks_cancel(struct request *req)
{
	struct json_object *body = NULL;
	int64_t id;

	if (!id_or_reply(req, "task", &id) || !body_object_or_reply(req, NULL, 0, &body))
		return;
	if (tasks_cancel(req->db, req->principal.tenant_id, id, req->principal.name, &req->err) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_task(req, id, false);
	json_object_put(body);
}

/* ---- steps -------------------------------------------------------------- */

static const struct json_field STEP_HEARTBEAT_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "ttl_s", .type = JF_INT, .min = 5, .max = 3600},
};

static const struct json_field STEP_CHECKPOINT_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "checkpoint", .type = JF_OBJECT, .required = true, .max = 64 * 1024},
};

static const struct json_field STEP_COMPLETE_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "result", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "insights", .type = JF_OBJECT, .max = 4096},
};

static const struct json_field STEP_FAIL_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "result", .type = JF_OBJECT, .max = 64 * 1024},
};

/* Reads the step id and body; the step's current stage in stage. */
static bool step_or_reply(struct request *req, const struct json_field *fields, size_t n,
			  int64_t *id, struct json_object **body, char stage[16])
{
	if (!id_or_reply(req, "step", id) || !body_object_or_reply(req, fields, n, body))
		return false;
	if (db_tasks_step_stage(req->db, req->principal.tenant_id, *id, stage, &req->err) != CD_OK) {
		reply_error(req, &req->err);
		goto fail;
	}
	return true;
fail:
	json_object_put(*body);
	*body = NULL;
	return false;
}

/* PATCHes the step to stage with the body's other fields. */
static void step_transition(struct request *req, int64_t id, struct json_object *body,
			    const char *stage)
{
	char *out = NULL;
	enum cd_err rc;

	json_object_object_add(body, "stage", json_object_new_string(stage));
	rc = jobs_transition(req->db, req->principal.tenant_id, body, id, 0, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* POST /v1/steps/{id}/heartbeat   role: worker
 * {factory_id, lease_epoch, ttl_s? 5..3600 (default 60)}: the lease renewal. */
void api_steps_heartbeat(struct request *req)
{
	struct json_object *body = NULL;
	struct fence f;
	char stage[16], *out = NULL;
	int64_t id;
	enum cd_err rc;

	if (!step_or_reply(req, STEP_HEARTBEAT_FIELDS, NFIELDS(STEP_HEARTBEAT_FIELDS), &id,
			   &body, stage))
		return;
	f = (struct fence){id, json_get_string(body, "factory_id", ""),
			   json_get_int(body, "lease_epoch", 0), 0};
	rc = jobs_renew(req->db, req->principal.tenant_id, &f, (int)json_get_int(body, "ttl_s", 60), &out,
			&req->err);
	reply_text_or_error(req, rc, out, &req->err);
	json_object_put(body);
}

/* POST /v1/steps/{id}/checkpoint   role: worker
 * {factory_id, lease_epoch, checkpoint}: saved, the stage unchanged. */
void api_steps_checkpoint(struct request *req)
{
	struct json_object *body = NULL;
	char stage[16];
	int64_t id;

	if (!step_or_reply(req, STEP_CHECKPOINT_FIELDS, NFIELDS(STEP_CHECKPOINT_FIELDS), &id,
			   &body, stage))
		return;
	step_transition(req, id, body, stage);
	json_object_put(body);
}

/* POST /v1/steps/{id}/complete   role: worker
 * {factory_id, lease_epoch, result?, insights?}: shipped; the next step unblocks. */
void api_steps_complete(struct request *req)
{
	struct json_object *body = NULL;
	char stage[16];
	int64_t id;

	if (!step_or_reply(req, STEP_COMPLETE_FIELDS, NFIELDS(STEP_COMPLETE_FIELDS), &id,
			   &body, stage))
		return;
	step_transition(req, id, body, "shipped");
	json_object_put(body);
}

/* POST /v1/steps/{id}/fail   role: worker
 * {factory_id, lease_epoch, result?}: failed, with the job's retry policy. */
void api_steps_fail(struct request *req)
{
	struct json_object *body = NULL;
	char stage[16];
	int64_t id;

	if (!step_or_reply(req, STEP_FAIL_FIELDS, NFIELDS(STEP_FAIL_FIELDS), &id, &body,
			   stage))
		return;
	step_transition(req, id, body, "failed");
	json_object_put(body);
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_TASKS_PARTS[] = {
	OPENAPI_BODY("api_tasks_create", "", TASK_FIELDS),
	OPENAPI_ENUM("api_tasks_create", "priority", priorities),
	OPENAPI_BODY("api_tasks_plan", "", PLAN_FIELDS),
	OPENAPI_BODY("api_tasks_plan", "steps[]", STEP_FIELDS),
	OPENAPI_BODY("api_steps_heartbeat", "", STEP_HEARTBEAT_FIELDS),
	OPENAPI_BODY("api_steps_checkpoint", "", STEP_CHECKPOINT_FIELDS),
	OPENAPI_BODY("api_steps_complete", "", STEP_COMPLETE_FIELDS),
	OPENAPI_BODY("api_steps_fail", "", STEP_FAIL_FIELDS),
};
const size_t API_TASKS_PARTS_COUNT = NFIELDS(API_TASKS_PARTS);

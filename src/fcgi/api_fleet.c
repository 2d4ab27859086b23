/* api_fleet.c -- the fleet routes of DESIGN 4: submit, claim, leases and
 * fenced transitions, workers, runs, events, artifacts.
 *
 * Each handler checks its body against a field table (unknown field, type,
 * range, length -> 400 naming the field), the enumerated values the table
 * cannot express, then calls domain/jobs.c. JSON that comes back from the
 * database is passed through as text.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_factories.h"
#include "domain/jobs.h"
#include "domain/stages.h"
#include "fcgi/api.h"
#include "fcgi/body.h"
#include "fcgi/handler.h"
#include "fcgi/openapi.h"
#include "fcgi/params.h"
#include "fcgi/response.h"


/* ---- shared readers ----------------------------------------------------- */

static void reply_page(struct request *req, const char *items, int64_t next)
{
	struct buf b;

	buf_init(&b, RESPONSE_BODY_MAX);
	buf_printf(&b, "{\"items\":%s,\"next_cursor\":", items);
	if (next > 0)
		buf_printf(&b, "\"%" PRId64 "\"}", next);
	else
		buf_puts(&b, "null}");
	reply_ok_text(req, buf_str(&b));
	buf_reset(&b);
}

/* Answers {"<key>": json} (json: text from the database), 201 or 200. */
static void reply_wrapped(struct request *req, bool created, const char *key, const char *json)
{
	struct buf b;

	buf_init(&b, RESPONSE_BODY_MAX);
	buf_printf(&b, "{\"%s\":%s}", key, json);
	if (created)
		reply_created_text(req, buf_str(&b));
	else
		reply_ok_text(req, buf_str(&b));
	buf_reset(&b);
}

/* ---- submit ------------------------------------------------------------- */

static const struct json_field RETRY_FIELDS[] = {
	{.name = "max", .type = JF_INT, .min = 0, .max = 100},
	{.name = "backoff_s", .type = JF_INT, .min = 0, .max = 86400},
	{.name = "on", .type = JF_STRING_ARRAY, .min = 0, .max = 2, .item_max = 32},
};

static const struct json_field BUDGET_FIELDS[] = {
	{.name = "usd", .type = JF_NUMBER, .min = 0, .max = 1000000},
	{.name = "tokens", .type = JF_INT, .min = 0, .max = INT64_C(1000000000000)},
	{.name = "wall_s", .type = JF_INT, .min = 0, .max = 31536000},
};

static const struct json_field SUBMIT_FIELDS[] = {
	{.name = "idempotency_key", .type = JF_STRING, .min = 1, .max = 200},
	{.name = "priority", .type = JF_STRING, .min = 1, .max = 16},
	{.name = "capabilities", .type = JF_STRING_ARRAY, .min = 0, .max = 32, .item_max = 64},
	{.name = "deps", .type = JF_STRING_ARRAY, .min = 0, .max = 100, .item_max = 200},
	{.name = "deps_mode", .type = JF_STRING, .min = 1, .max = 8},
	{.name = "body", .type = JF_STRING, .min = 0, .max = 256 * 1024},
	{.name = "manifest", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "engine_class", .type = JF_STRING, .min = 1, .max = 64},
	{.name = "profile", .type = JF_STRING, .min = 1, .max = 128},
	{.name = "budget", .type = JF_OBJECT, .max = 1024},
	{.name = "retry", .type = JF_OBJECT, .max = 1024},
};

static const char *const PRIORITIES[] = {"critical", "high", "medium", "low"};
static const char *const DEPS_MODES[] = {"hard", "soft"};
static const char *const RETRY_ON[] = {"failed", "lease_expired"};

/* The checks a field table cannot express. where: "" or "jobs[3].". */
static bool submit_item_or_reply(struct request *req, struct json_object *o, const char *where)
{
	struct json_object *sub;
	char path[64];

	if (!enum_or_reply(req, o, "priority", where, PRIORITIES, 4) ||
	    !enum_or_reply(req, o, "deps_mode", where, DEPS_MODES, 2))
		return false;
	if ((sub = json_get(o, "retry")) != NULL) {
		snprintf(path, sizeof(path), "%sretry", where);
		if (json_check_object(sub, path, RETRY_FIELDS, NFIELDS(RETRY_FIELDS), &req->err) != CD_OK) {
			reply_error(req, &req->err);
			return false;
		}
		strcat(path, ".");
		if (!strings_in_or_reply(req, sub, "on", path, RETRY_ON, 2))
			return false;
	}
	if ((sub = json_get(o, "budget")) != NULL) {
		snprintf(path, sizeof(path), "%sbudget", where);
		if (json_check_object(sub, path, BUDGET_FIELDS, NFIELDS(BUDGET_FIELDS), &req->err) != CD_OK) {
			reply_error(req, &req->err);
			return false;
		}
	}
	return true;
}

static const char *const OUTCOME_WORDS[] = {"created", "replayed", "superseded"};

/* POST /v1/fleet/jobs   role: submitter
 * {idempotency_key?, priority?, capabilities?, deps?, deps_mode?, body?, manifest?,
 *  engine_class?, profile?, budget?, retry?}
 * 201 new; 200 replayed (same key, same content) or superseded (queued/blocked);
 * 409 idempotency_conflict otherwise; 400 naming deps[i] for an unknown dep. */
void api_fleet_submit(struct request *req)
{
	struct json_object *body = NULL;
	enum submit_outcome outcome = SUBMIT_CREATED;
	struct buf b;
	char *job = NULL;
	enum cd_err rc;

	if (!body_object_or_reply(req, SUBMIT_FIELDS, NFIELDS(SUBMIT_FIELDS), &body))
		return;
	if (!submit_item_or_reply(req, body, ""))
		goto out;
	rc = jobs_submit(req->db, req->principal.tenant_id, body, &outcome, &job, &req->err);
	if (rc != CD_OK) {
		reply_error(req, &req->err);
		goto out;
	}
	buf_init(&b, RESPONSE_BODY_MAX);
	buf_printf(&b, "{\"job\":%s,\"outcome\":\"%s\",\"replayed\":%s}", job,
		   OUTCOME_WORDS[outcome], outcome == SUBMIT_REPLAYED ? "true" : "false");
	if (outcome == SUBMIT_CREATED)
		reply_created_text(req, buf_str(&b));
	else
		reply_ok_text(req, buf_str(&b));
	buf_reset(&b);
out:
	free(job);
	json_object_put(body);
}

static const struct json_field BATCH_FIELDS[] = {
	{.name = "jobs", .type = JF_ARRAY, .required = true, .min = 1, .max = 1000},
};

/* POST /v1/fleet/jobs:batch   role: submitter
 * {jobs: [submit bodies] (1..1000)}: one transaction; deps may name other
 * jobs of the batch by idempotency_key; a cycle -> 422 naming its keys. */
void api_fleet_submit_batch(struct request *req)
{
	struct json_object *body = NULL, *jobs;
	char *out = NULL;

	if (!body_object_or_reply(req, BATCH_FIELDS, NFIELDS(BATCH_FIELDS), &body))
		return;
	jobs = json_get(body, "jobs");
	for (size_t i = 0; i < json_object_array_length(jobs); i++) {
		char where[64];

		if (!item_or_reply(req, jobs, i, "jobs", SUBMIT_FIELDS, NFIELDS(SUBMIT_FIELDS), where,
				   40))
			goto out;
		strcat(where, ".");
		if (!submit_item_or_reply(req, json_object_array_get_idx(jobs, i), where))
			goto out;
	}
	if (jobs_submit_batch(req->db, req->principal.tenant_id, jobs, &out, &req->err) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_wrapped(req, true, "jobs", out);
out:
	free(out);
	json_object_put(body);
}

/* ---- reads -------------------------------------------------------------- */

/* GET /v1/fleet/jobs?stage=&idempotency_key=&capability=&parent_id=&limit=&cursor=
 * role: readonly. Newest first; summaries (no body, manifest, checkpoint,
 * result); the filters combine (AND). */
void api_fleet_list(struct request *req)
{
	char stage[32], key[256], capability[160];
	int has_stage = request_query(req, "stage", stage, sizeof(stage));
	int has_key = query_text_or_reply(req, "idempotency_key", key, sizeof(key), 200);
	int has_cap = has_key < 0 ? -1 : query_text_or_reply(req, "capability", capability,
							     sizeof(capability), 128);
	int64_t parent = has_cap < 0 ? -1 : query_id_or_reply(req, "parent_id");
	int limit = parent < 0 ? -1 : limit_or_reply(req);
	struct job_filter f = {0};
	int64_t before, next = 0;
	char *items = NULL;

	if (limit < 0 || (before = cursor_or_reply(req)) < 0)
		return; /* the first refusal has answered 400 */
	if (has_stage < 0 || (has_stage > 0 && stages_parse(stage) < 0)) {
		reply_fail(req, CD_INVALID, "stage",
			   "stage must be one of queued, blocked, assigned, building, review, testing, "
			   "shipped, failed, dead_letter, cancelled.");
		return;
	}
	f.parent_id = parent;
	f.stage = has_stage > 0 ? stage : NULL;
	f.idempotency_key = has_key > 0 ? key : NULL;
	f.capability = has_cap > 0 ? capability : NULL;
	if ((f.idempotency_key != NULL || f.capability != NULL || f.parent_id > 0
		 ? db_jobs_find(req->db, req->principal.tenant_id, &f, limit, before, &items, &next,
				&req->err)
		 : db_jobs_list(req->db, req->principal.tenant_id, f.stage, limit, before, &items,
				&next, &req->err)) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_page(req, items, next);
	free(items);
}

/* GET /v1/fleet/jobs/{id}/deps   role: readonly
 * Both directions: the jobs it waits for (each with met) and the jobs that
 * wait for it. */
void api_fleet_deps(struct request *req)
{
	int64_t id;
	char *out = NULL;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id))
		return;
	rc = db_jobs_deps(req->db, req->principal.tenant_id, id, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* GET /v1/fleet/jobs/{id}   role: readonly
 * The whole job. */
void api_fleet_get(struct request *req)
{
	int64_t id;
	char *job = NULL;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id))
		return;
	rc = db_jobs_get(req->db, req->principal.tenant_id, id, true, &job, &req->err);
	reply_text_or_error(req, rc, job, &req->err);
}

/* GET /v1/fleet/jobs/{id}/events?limit=&cursor=   role: readonly
 * Append-only history, oldest first. */
void api_fleet_events(struct request *req)
{
	int limit = limit_or_reply(req);
	int64_t id, after, next = 0;
	char *items = NULL;

	if (limit < 0 || (after = cursor_or_reply(req)) < 0 || !id_or_reply(req, "job", &id))
		return;
	if (db_jobs_events(req->db, req->principal.tenant_id, id, limit, after, &items, &next,
			   &req->err) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_page(req, items, next);
	free(items);
}

/* GET /v1/fleet/jobs/{id}/runs   role: readonly
 * One run per attempt with its insights. */
void api_fleet_runs(struct request *req)
{
	int64_t id;
	char *runs = NULL;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id))
		return;
	rc = db_jobs_runs(req->db, req->principal.tenant_id, id, &runs, &req->err);
	reply_text_or_error(req, rc, runs, &req->err);
}

/* ---- claim and leases --------------------------------------------------- */

static const struct json_field CLAIM_FIELDS[] = {
	{.name = "factory_id", .type = JF_STRING, .required = true, .min = 1, .max = 128},
	{.name = "capabilities", .type = JF_STRING_ARRAY, .min = 0, .max = 64, .item_max = 64},
	{.name = "max_jobs", .type = JF_INT, .min = 1, .max = 100},
	{.name = "lease_ttl_s", .type = JF_INT, .min = 5, .max = 3600},
	{.name = "wait_ms", .type = JF_INT, .min = 0, .max = 30000},
};

/* What a claim that could not wait asks its client to wait, in seconds:
 * long enough that 32 clients asking at once stay a few dozen claims a
 * second, short enough that a slot freed meanwhile is taken soon. */
#define CLAIM_RETRY_AFTER_S "1"

/* POST /v1/fleet/claim   role: worker
 * {factory_id, capabilities?, max_jobs 1..100, lease_ttl_s 5..3600, wait_ms 0..30000}
 * Gives each queued job to exactly one caller: {jobs: [...], waited_ms}
 * (jobs maybe empty). A claim that was asked to wait but could not (every
 * long-poll slot of the process taken) and got nothing says so with
 * Retry-After, so that its client backs off instead of asking again at once. */
void api_fleet_claim(struct request *req)
{
	struct json_object *body = NULL, *caps;
	struct claim_request c;
	struct claim_waited w;
	struct buf b;
	char *jobs = NULL;
	int count = 0;

	if (!body_object_or_reply(req, CLAIM_FIELDS, NFIELDS(CLAIM_FIELDS), &body))
		return;
	caps = json_get(body, "capabilities");
	c = (struct claim_request){
		.factory_id = json_get_string(body, "factory_id", ""),
		.capabilities = caps ? json_object_to_json_string_ext(caps, JSON_C_TO_STRING_PLAIN) : "[]",
		.max_jobs = (int)json_get_int(body, "max_jobs", 1),
		.lease_ttl_s = (int)json_get_int(body, "lease_ttl_s", 60),
	};
	if (jobs_claim(req->db, req->principal.tenant_id, &c, (int)json_get_int(body, "wait_ms", 0), &jobs,
		       &count, &w, &req->err) != CD_OK) {
		reply_error(req, &req->err);
		goto out;
	}
	if (w.cut_short)
		reply_header(req, "Retry-After", CLAIM_RETRY_AFTER_S);
	buf_init(&b, RESPONSE_BODY_MAX);
	buf_printf(&b, "{\"jobs\":%s,\"waited_ms\":%ld}", jobs, w.ms);
	reply_ok_text(req, buf_str(&b));
	buf_reset(&b);
out:
	free(jobs);
	json_object_put(body);
}

static const struct json_field INSIGHTS_FIELDS[] = {
	{.name = "model", .type = JF_STRING, .min = 0, .max = 128},
	{.name = "tokens_in", .type = JF_INT, .min = 0, .max = INT64_C(1000000000000)},
	{.name = "tokens_out", .type = JF_INT, .min = 0, .max = INT64_C(1000000000000)},
	{.name = "tokens_cached", .type = JF_INT, .min = 0, .max = INT64_C(1000000000000)},
	{.name = "cost_usd", .type = JF_NUMBER, .min = 0, .max = 1000000},
	{.name = "estimated", .type = JF_BOOL},
	{.name = "turns", .type = JF_INT, .min = 0, .max = 1000000000},
	{.name = "tool_calls", .type = JF_INT, .min = 0, .max = 1000000000},
	{.name = "files_changed", .type = JF_INT, .min = 0, .max = 1000000000},
	{.name = "lines_added", .type = JF_INT, .min = 0, .max = 1000000000},
	{.name = "lines_deleted", .type = JF_INT, .min = 0, .max = 1000000000},
	{.name = "wall_ms", .type = JF_INT, .min = 0, .max = INT64_C(31536000000)}, /* the run's wall time */
};

static const struct json_field PATCH_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "stage", .type = JF_STRING, .required = true, .min = 1, .max = 16},
	{.name = "checkpoint", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "result", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "insights", .type = JF_OBJECT, .max = 4096},
	{.name = "engine", .type = JF_STRING, .min = 1, .max = 64}, /* the engine the run used */
};

static bool insights_or_reply(struct request *req, struct json_object *o, const char *where)
{
	struct json_object *ins = json_get(o, "insights");

	if (ins != NULL &&
	    json_check_object(ins, where, INSIGHTS_FIELDS, NFIELDS(INSIGHTS_FIELDS), &req->err) != CD_OK) {
		reply_error(req, &req->err);
		return false;
	}
	return true;
}

/* PATCH /v1/fleet/jobs/{id}   role: worker
 * {factory_id, lease_epoch, stage, checkpoint?, result?, insights?}; If-Match: "<rev>"
 * Fenced: 409 stale_epoch unless the caller holds the current lease. */
void api_fleet_patch(struct request *req)
{
	struct json_object *body = NULL;
	char *job = NULL;
	int64_t id, rev;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id) || (rev = if_match_or_reply(req)) < 0 ||
	    !body_object_or_reply(req, PATCH_FIELDS, NFIELDS(PATCH_FIELDS), &body))
		return;
	if (!insights_or_reply(req, body, "insights"))
		goto out;
	rc = jobs_transition(req->db, req->principal.tenant_id, body, id, rev, &job, &req->err);
	reply_text_or_error(req, rc, job, &req->err);
out:
	json_object_put(body);
}

static const struct json_field TRANSITION_ITEM_FIELDS[] = {
	{.name = "id", .type = JF_STRING, .required = true, .min = 1, .max = 18},
	FENCE_FIELDS,
	{.name = "stage", .type = JF_STRING, .required = true, .min = 1, .max = 16},
	{.name = "checkpoint", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "result", .type = JF_OBJECT, .max = 64 * 1024},
	{.name = "insights", .type = JF_OBJECT, .max = 4096},
	{.name = "engine", .type = JF_STRING, .min = 1, .max = 64}, /* the engine the run used */
};

static const struct json_field TRANSITIONS_FIELDS[] = {
	{.name = "items", .type = JF_ARRAY, .required = true, .min = 1, .max = 100},
};

/* POST /v1/fleet/jobs:transition   role: worker
 * {items: [{id, factory_id, lease_epoch, stage, result?, insights?, checkpoint?}] (1..100)}
 * PATCH's rules for each, one transaction for all, one answer per item. */
void api_fleet_transition(struct request *req)
{
	struct json_object *body = NULL, *items;
	char *out = NULL;

	if (!body_object_or_reply(req, TRANSITIONS_FIELDS, NFIELDS(TRANSITIONS_FIELDS), &body))
		return;
	items = json_get(body, "items");
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *id;
		char where[64];

		if (!item_or_reply(req, items, i, "items", TRANSITION_ITEM_FIELDS,
				   NFIELDS(TRANSITION_ITEM_FIELDS), where, 40))
			goto out;
		id = json_get_string(it, "id", "");
		if (strspn(id, "0123456789") != strlen(id)) {
			strcat(where, ".id");
			reply_fail(req, CD_INVALID, where, "%s must be a job id (digits).", where);
			goto out;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(id, json_get_string(json_object_array_get_idx(items, k), "id", "")) == 0) {
				reply_fail(req, CD_INVALID, where, "%s names job %s a second time; "
					   "give each job once per request.", where, id);
				goto out;
			}
		}
		strcat(where, ".insights");
		if (!insights_or_reply(req, it, where))
			goto out;
	}
	if (jobs_transition_many(req->db, req->principal.tenant_id, items, &out, &req->err) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_wrapped(req, false, "items", out);
out:
	free(out);
	json_object_put(body);
}

static const struct json_field RENEW_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "ttl_s", .type = JF_INT, .min = 5, .max = 3600},
};

/* POST /v1/fleet/jobs/{id}/lease/renew   role: worker
 * {factory_id, lease_epoch, ttl_s 5..3600 (default 60)} -> the job with its new expires_at */
void api_fleet_renew(struct request *req)
{
	struct json_object *body = NULL;
	struct fence f;
	char *job = NULL;
	int64_t id;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id) ||
	    !body_object_or_reply(req, RENEW_FIELDS, NFIELDS(RENEW_FIELDS), &body))
		return;
	f = (struct fence){id, json_get_string(body, "factory_id", ""),
			   json_get_int(body, "lease_epoch", 0), 0};
	rc = jobs_renew(req->db, req->principal.tenant_id, &f, (int)json_get_int(body, "ttl_s", 60),
			&job, &req->err);
	reply_text_or_error(req, rc, job, &req->err);
	json_object_put(body);
}

static const struct json_field RELEASE_FIELDS[] = {
	FENCE_FIELDS,
	{.name = "requeue", .type = JF_BOOL},
};

/* POST /v1/fleet/jobs/{id}/lease/release   role: worker
 * {factory_id, lease_epoch, requeue? (default true)}: requeue -> queued (not a
 * failed attempt); requeue false -> the lease ends and the stage stays. */
void api_fleet_release(struct request *req)
{
	struct json_object *body = NULL;
	struct fence f;
	char *job = NULL;
	int64_t id;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id) ||
	    !body_object_or_reply(req, RELEASE_FIELDS, NFIELDS(RELEASE_FIELDS), &body))
		return;
	f = (struct fence){id, json_get_string(body, "factory_id", ""),
			   json_get_int(body, "lease_epoch", 0), 0};
	rc = jobs_release(req->db, req->principal.tenant_id, &f,
			  json_get_bool(body, "requeue", true), &job, &req->err);
	reply_text_or_error(req, rc, job, &req->err);
	json_object_put(body);
}

/* POST /v1/fleet/jobs/{id}/cancel   role: submitter
 * {} -> cancelled; the epoch is bumped so a running worker is fenced out. */
void api_fleet_cancel(struct request *req)
{
	struct json_object *body = NULL;
	char *job = NULL;
	int64_t id;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id) || !body_object_or_reply(req, NULL, 0, &body))
		return;
	rc = jobs_cancel(req->db, req->principal.tenant_id, id, req->principal.name, &job, &req->err);
	reply_text_or_error(req, rc, job, &req->err);
	json_object_put(body);
}

/* ---- workers and artifacts ---------------------------------------------- */

static const struct json_field HEARTBEAT_FIELDS[] = {
	{.name = "factory_id", .type = JF_STRING, .required = true, .min = 1, .max = 128},
	{.name = "capabilities", .type = JF_STRING_ARRAY, .min = 0, .max = 64, .item_max = 64},
	{.name = "health", .type = JF_STRING, .min = 1, .max = 16},
	{.name = "load", .type = JF_NUMBER, .min = 0, .max = 1000000},
	{.name = "seat_limit", .type = JF_INT, .min = 1, .max = 1000},
	{.name = "descriptor", .type = JF_OBJECT, .max = 16 * 1024},
};

static const char *const HEALTH[] = {"ok", "degraded", "down"};

/* POST /v1/fleet/factories/heartbeat   role: worker
 * {factory_id, capabilities?, health? ok/degraded/down, load?, seat_limit? 1..1000, descriptor?} */
void api_fleet_heartbeat(struct request *req)
{
	struct json_object *body = NULL;
	char *out = NULL;
	enum cd_err rc;

	if (!body_object_or_reply(req, HEARTBEAT_FIELDS, NFIELDS(HEARTBEAT_FIELDS), &body))
		return;
	if (enum_or_reply(req, body, "health", "", HEALTH, 3)) {
		rc = db_factories_heartbeat(req->db, req->principal.tenant_id,
					    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
					    &out, &req->err);
		reply_text_or_error(req, rc, out, &req->err);
	}
	json_object_put(body);
}

/* GET /v1/fleet/factories   role: readonly
 * Workers with `stale` when silent past CONDUCTOR_FACTORY_STALE_S. */
void api_fleet_factories(struct request *req)
{
	char *out = NULL;
	enum cd_err rc;

	rc = db_factories_list(req->db, req->principal.tenant_id, req->w->cfg->factory_stale_s, &out,
			       &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

static const struct json_field ARTIFACT_FIELDS[] = {
	{.name = "uri", .type = JF_STRING, .required = true, .min = 1, .max = 2048},
	{.name = "sha256", .type = JF_STRING, .min = 64, .max = 64},
	{.name = "bytes", .type = JF_INT, .min = 0, .max = INT64_C(1) << 50},
	{.name = "kind", .type = JF_STRING, .min = 1, .max = 32},
};

/* POST /v1/fleet/jobs/{id}/artifacts   role: worker
 * {uri, sha256?, bytes?, kind?}: a pointer to a blob stored elsewhere. */
void api_fleet_artifact_add(struct request *req)
{
	struct json_object *body = NULL;
	char *out = NULL;
	const char *sha;
	int64_t id;

	if (!id_or_reply(req, "job", &id) ||
	    !body_object_or_reply(req, ARTIFACT_FIELDS, NFIELDS(ARTIFACT_FIELDS), &body))
		return;
	sha = json_get_string(body, "sha256", NULL);
	if (sha != NULL && strspn(sha, "0123456789abcdef") != 64) {
		reply_fail(req, CD_INVALID, "sha256", "sha256 must be 64 lower-case hex digits.");
		goto out;
	}
	if (db_jobs_artifact_add(req->db, req->principal.tenant_id, id,
				 json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), &out,
				 &req->err) != CD_OK)
		reply_error(req, &req->err);
	else
		reply_created_text(req, out);
	free(out);
out:
	json_object_put(body);
}

/* GET /v1/fleet/jobs/{id}/artifacts   role: readonly */
void api_fleet_artifacts(struct request *req)
{
	int64_t id;
	char *out = NULL;
	enum cd_err rc;

	if (!id_or_reply(req, "job", &id))
		return;
	rc = db_jobs_artifacts(req->db, req->principal.tenant_id, id, &out, &req->err);
	reply_text_or_error(req, rc, out, &req->err);
}

/* ---- the bodies, for GET /v1/openapi.json (fcgi/openapi.h) ------------- */

const struct openapi_part API_FLEET_PARTS[] = {
	OPENAPI_BODY("api_fleet_submit", "", SUBMIT_FIELDS),
	OPENAPI_BODY("api_fleet_submit", "retry", RETRY_FIELDS),
	OPENAPI_BODY("api_fleet_submit", "budget", BUDGET_FIELDS),
	OPENAPI_ENUM("api_fleet_submit", "priority", PRIORITIES),
	OPENAPI_ENUM("api_fleet_submit", "deps_mode", DEPS_MODES),
	OPENAPI_ENUM("api_fleet_submit", "retry.on", RETRY_ON),
	OPENAPI_BODY("api_fleet_submit_batch", "", BATCH_FIELDS),
	OPENAPI_BODY("api_fleet_submit_batch", "jobs[]", SUBMIT_FIELDS),
	OPENAPI_BODY("api_fleet_submit_batch", "jobs[].retry", RETRY_FIELDS),
	OPENAPI_BODY("api_fleet_submit_batch", "jobs[].budget", BUDGET_FIELDS),
	OPENAPI_ENUM("api_fleet_submit_batch", "jobs[].priority", PRIORITIES),
	OPENAPI_ENUM("api_fleet_submit_batch", "jobs[].deps_mode", DEPS_MODES),
	OPENAPI_ENUM("api_fleet_submit_batch", "jobs[].retry.on", RETRY_ON),
	OPENAPI_BODY("api_fleet_claim", "", CLAIM_FIELDS),
	OPENAPI_BODY("api_fleet_patch", "", PATCH_FIELDS),
	OPENAPI_BODY("api_fleet_patch", "insights", INSIGHTS_FIELDS),
	OPENAPI_BODY("api_fleet_transition", "", TRANSITIONS_FIELDS),
	OPENAPI_BODY("api_fleet_transition", "items[]", TRANSITION_ITEM_FIELDS),
	OPENAPI_BODY("api_fleet_transition", "items[].insights", INSIGHTS_FIELDS),
	OPENAPI_BODY("api_fleet_renew", "", RENEW_FIELDS),
	OPENAPI_BODY("api_fleet_release", "", RELEASE_FIELDS),
	OPENAPI_BODY("api_fleet_heartbeat", "", HEARTBEAT_FIELDS),
	OPENAPI_ENUM("api_fleet_heartbeat", "health", HEALTH),
	OPENAPI_BODY("api_fleet_artifact_add", "", ARTIFACT_FIELDS),
};
const size_t API_FLEET_PARTS_COUNT = NFIELDS(API_FLEET_PARTS);

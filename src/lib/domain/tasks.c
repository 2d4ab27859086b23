/* tasks.c -- a task's plan: lock the task, add its steps in order (each
 * depending on the previous, so they run one after the other, possibly on
 * different workers), mark it planned, wake claimers; and its cancel, which
 * takes every unfinished step with it (db_leases_cancel). See tasks.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_jobs.h"
#include "data/db_leases.h"
#include "data/db_tasks.h"
#include "domain/tasks.h"

struct plan_ctx {
	int64_t tenant, task;
	struct json_object *steps;
	struct cd_error *e;
};

static enum cd_err plan_step(struct db *db, void *p)
{
	struct plan_ctx *c = p;
	int64_t prev = 0, id = 0;
	enum cd_err rc = db_tasks_lock_unplanned(db, c->tenant, c->task, c->e);

	for (size_t i = 0; rc == CD_OK && i < json_object_array_length(c->steps); i++) {
		const char *step = json_object_to_json_string_ext(
			json_object_array_get_idx(c->steps, i), JSON_C_TO_STRING_PLAIN);

		rc = db_tasks_add_step(db, c->tenant, c->task, (int)i, step, prev, &id, c->e);
		prev = id;
	}
	if (rc == CD_OK)
		rc = db_tasks_mark_planned(db, c->tenant, c->task, c->e);
	if (rc == CD_OK)
		rc = db_jobs_notify(db, c->tenant, c->e);
	return rc;
}

enum cd_err tasks_plan(struct db *db, int64_t tenant, int64_t task, struct json_object *steps,
		       struct cd_error *e)
{
	struct plan_ctx c = {tenant, task, steps, e};

	return db_run_tx(db, plan_step, &c, e);
}

struct cancel_ctx {
	int64_t tenant, task;
	const char *by;
	struct cd_error *e;
};

static bool final_stage(const char *stage)
{
	return strcmp(stage, "shipped") == 0 || strcmp(stage, "failed") == 0 ||
	       strcmp(stage, "dead_letter") == 0 || strcmp(stage, "cancelled") == 0;
}

static enum cd_err cancel_step(struct db *db, void *p)
{
	struct cancel_ctx *c = p;
	char stage[16], *job = NULL;
	enum cd_err rc = db_tasks_stage(db, c->tenant, c->task, stage, c->e);

	if (rc == CD_OK && final_stage(stage))
		rc = cd_fail(c->e, CD_INVALID_TRANSITION, "stage",
			     "Task %" PRId64 " is %s already and cannot be cancelled.", c->task,
			     stage);
	if (rc == CD_OK)
		rc = db_leases_cancel(db, c->tenant, c->task, c->by, &job, c->e);
	free(job);
	return rc;
}

enum cd_err tasks_cancel(struct db *db, int64_t tenant, int64_t task, const char *by,
			 struct cd_error *e)
{
	struct cancel_ctx c = {tenant, task, by, e};

	return db_run_tx(db, cancel_step, &c, e);
}

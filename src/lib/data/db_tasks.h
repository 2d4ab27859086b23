/* db_tasks.h -- tasks (composite jobs) and their steps (leaf child jobs,
 * each depending on the previous). A task is never claimed itself; its
 * steps are claimed like any job. */
#ifndef CD_DB_TASKS_H
#define CD_DB_TASKS_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* Creates a task from a validated request; out: its id. */
enum cd_err db_tasks_create(struct db *db, int64_t tenant, const char *request, int64_t *id,
			    struct cd_error *e);

/* out: the task as JSON with current_step_index and its steps (new string).
 * CD_NOT_FOUND (task_not_found) when absent, not a task or another tenant's. */
enum cd_err db_tasks_get(struct db *db, int64_t tenant, int64_t id, char **out,
			 struct cd_error *e);

/* Locks the task (in a transaction); CD_NOT_FOUND (task_not_found), or
 * CD_CONFLICT when it has steps already or is no longer queued (cancelled). */
enum cd_err db_tasks_lock_unplanned(struct db *db, int64_t tenant, int64_t id,
				    struct cd_error *e);

/* Adds step index (in a transaction): step: {title, body, capabilities?} as
 * JSON text; prev: the previous step's id, 0 for the first. out: its id. */
enum cd_err db_tasks_add_step(struct db *db, int64_t tenant, int64_t task, int index,
			      const char *step, int64_t prev, int64_t *out, struct cd_error *e);

/* Marks a planned task as in progress (in a transaction). */
enum cd_err db_tasks_mark_planned(struct db *db, int64_t tenant, int64_t task,
				  struct cd_error *e);

/* out: the stage of step id (a job with a task as parent), in stage (16
 * bytes). CD_NOT_FOUND (step_not_found) otherwise. */
enum cd_err db_tasks_step_stage(struct db *db, int64_t tenant, int64_t id, char stage[16],
				struct cd_error *e);

/* out: the stage of task id, in stage (16 bytes). CD_NOT_FOUND
 * (task_not_found) when absent, not a task or another tenant's. */
enum cd_err db_tasks_stage(struct db *db, int64_t tenant, int64_t id, char stage[16],
			   struct cd_error *e);

#endif

/* tasks.h -- planning a task: its steps become leaf child jobs, each
 * depending on the previous, in one transaction; cancelling it with them. */
#ifndef CD_TASKS_H
#define CD_TASKS_H

#include <stdint.h>

#include <json-c/json.h>

#include "base/err.h"
#include "data/db.h"

/* steps: validated array of {title, body, capabilities?}. CD_NOT_FOUND
 * (task_not_found), CD_CONFLICT when the task is planned already. */
enum cd_err tasks_plan(struct db *db, int64_t tenant, int64_t task, struct json_object *steps,
		       struct cd_error *e);

/* Cancels task and every unfinished step of it in one transaction; a
 * running step's epoch moves, so its worker's next write gets 409
 * stale_epoch. by: who cancels (the token's name). CD_NOT_FOUND
 * (task_not_found), CD_INVALID_TRANSITION when the task has ended. */
enum cd_err tasks_cancel(struct db *db, int64_t tenant, int64_t task, const char *by,
			 struct cd_error *e);

#endif

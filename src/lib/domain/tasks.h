/* tasks.h -- planning a task: its steps become leaf child jobs, each
 * depending on the previous, in one transaction. */
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

#endif

/* db_status.h -- the read-only aggregates of GET /v1/status that belong to
 * no other data file. Each answers one section's JSON value (a new string
 * the caller frees); each is one statement, scoped to the caller's tenant.
 */
#ifndef CD_DB_STATUS_H
#define CD_DB_STATUS_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* out: {total, by_stage: {stage: count}} of the tenant's jobs (a stage with
 * no job is absent). An index-only walk of jobs_by_stage. */
enum cd_err db_status_jobs(struct db *db, int64_t tenant, char **out, struct cd_error *e);

#endif

/* db_jobs.h -- jobs in PostgreSQL: submit, reads, history, artifacts
 * (a lease's claim, fenced writes, release and cancel: data/db_leases.h).
 *
 * Every function filters by tenant. JSON results come back as text built by
 * PostgreSQL's job_json() (sql/002_fleet.sql) and are returned as new strings
 * the caller frees with free(). Functions marked "in a transaction" expect
 * the caller to have called db_begin(); the others run on their own.
 */
#ifndef CD_DB_JOBS_H
#define CD_DB_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

enum submit_outcome { SUBMIT_CREATED, SUBMIT_REPLAYED, SUBMIT_SUPERSEDED };

/* Submits one job (in a transaction). request: the validated request object
 * as JSON text; key: its idempotency_key or NULL. where: the field prefix for
 * errors ("" for a single submit, "jobs[3]." in a batch).
 * out: the outcome and the job's id. Errors: CD_INVALID naming deps[i] for an
 * unknown dependency, CD_IDEMPOTENCY_CONFLICT, CD_DEPENDENCY_CYCLE. */
enum cd_err db_jobs_submit(struct db *db, int64_t tenant, const char *request, const char *key,
			   const char *where, enum submit_outcome *outcome, int64_t *id,
			   struct cd_error *e);

/* Wakes long-polling claimers of tenant (delivered at commit). */
enum cd_err db_jobs_notify(struct db *db, int64_t tenant, struct cd_error *e);

/* THE 404 of a job that is absent or another tenant's: fills e with
 * CD_NOT_FOUND, code job_not_found, field id; returns CD_NOT_FOUND. */
enum cd_err db_jobs_not_found(struct cd_error *e, int64_t id);

/* out: the job as JSON (full: with body, manifest, checkpoint, result).
 * CD_NOT_FOUND (job_not_found) when absent or another tenant's. */
enum cd_err db_jobs_get(struct db *db, int64_t tenant, int64_t id, bool full, char **out,
			struct cd_error *e);

/* out: a JSON array of jobs, newest first, ids below `before` (0: from the
 * newest), at most limit; stage NULL for every stage. next: the id to pass
 * as `before` for the next page, 0 at the end. */
enum cd_err db_jobs_list(struct db *db, int64_t tenant, const char *stage, int limit,
			 int64_t before, char **out, int64_t *next, struct cd_error *e);

/* The filters of GET /v1/fleet/jobs beside stage (NULL / 0: not filtered). */
struct job_filter {
	const char *stage;           /* a stage name */
	const char *idempotency_key; /* exact */
	const char *capability;      /* the job's capabilities include it */
	int64_t parent_id;           /* the steps of this task */
};

/* db_jobs_list with filters: one statement per most selective filter
 * (idempotency_key, then parent_id, then capability), each on an index
 * (jobs' unique key, jobs_children, jobs_by_capability), the others checked
 * on the rows it finds. Same page and cursor as db_jobs_list. */
enum cd_err db_jobs_find(struct db *db, int64_t tenant, const struct job_filter *f, int limit,
			 int64_t before, char **out, int64_t *next, struct cd_error *e);

/* out: new JSON text {id, deps_mode, deps: [{id, idempotency_key, stage,
 * met}], dependents: [{id, idempotency_key, stage}], dependents_more}: both
 * directions of the dependency graph, one step, at most 1000 dependents
 * (dependents_more: there are others). CD_NOT_FOUND for no such job. */
enum cd_err db_jobs_deps(struct db *db, int64_t tenant, int64_t id, char **out,
			 struct cd_error *e);

/* out: JSON array of the job's events (id > after, oldest first, at most
 * limit); next: the last id when the page is full, else 0. */
enum cd_err db_jobs_events(struct db *db, int64_t tenant, int64_t id, int limit, int64_t after,
			   char **out, int64_t *next, struct cd_error *e);

/* out: JSON array of the job's runs, one per attempt. */
enum cd_err db_jobs_runs(struct db *db, int64_t tenant, int64_t id, char **out,
			 struct cd_error *e);

/* Adds an artifact pointer (request: validated JSON). out: the artifact. */
enum cd_err db_jobs_artifact_add(struct db *db, int64_t tenant, int64_t id, const char *request,
				 char **out, struct cd_error *e);
/* out: JSON array of the job's artifacts. */
enum cd_err db_jobs_artifacts(struct db *db, int64_t tenant, int64_t id, char **out,
			      struct cd_error *e);

#endif

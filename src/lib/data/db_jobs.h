/* db_jobs.h -- jobs in PostgreSQL: submit, claim, fenced writes, reads.
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

/* Settles the tasks (composite jobs) whose steps `ids` (a bigint[] literal,
 * "{1,2}") just ended -- THE rule of a task's end: every step shipped ->
 * shipped; a step cancelled -> cancelled; a step dead-lettered or failed for
 * good -> failed, and then its unfinished steps are cancelled (epoch + 1).
 * In a transaction. */
enum cd_err db_jobs_settle_tasks(struct db *db, int64_t tenant, const char *ids,
				 struct cd_error *e);

/* Wakes long-polling claimers of tenant (delivered at commit). */
enum cd_err db_jobs_notify(struct db *db, int64_t tenant, struct cd_error *e);

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

struct claim_request {
	const char *factory_id;
	const char *capabilities;	/* JSON array of strings */
	int max_jobs;
	int lease_ttl_s;
};

/* Locks the worker's heartbeat row until commit (in a transaction), so that
 * its claims see each other's leases when counting free seats. */
enum cd_err db_jobs_lock_factory(struct db *db, int64_t tenant, const char *factory_id,
				 struct cd_error *e);

/* Claims up to max_jobs queued jobs in one statement (FOR UPDATE SKIP
 * LOCKED), with their runs and `claimed` events. out: JSON array of full
 * jobs; count: how many. Paused or draining: an empty array.
 * fast: on its own, for a worker without a seat limit; when the worker has
 * one, nothing is claimed and limited is set: call again with fast false
 * inside a transaction after db_jobs_lock_factory(). */
enum cd_err db_jobs_claim(struct db *db, int64_t tenant, const struct claim_request *c,
			  bool fast, char **out, int *count, bool *limited, struct cd_error *e);

/* A fenced write's identity: the job, the worker and the epoch it holds. */
struct fence {
	int64_t id;
	const char *factory_id;
	int64_t epoch;
	int64_t if_rev;		/* If-Match; 0 for none */
};

/* One fenced transition of a batch. */
struct transition {
	struct fence f;
	const char *stage;	/* target stage name, already checked by the domain */
	/* outcome, filled by db_jobs_transition: */
	enum cd_err rc;		/* CD_OK, or why this item changed nothing */
	struct cd_error err;	/* detail when rc != CD_OK */
	char ended[16];		/* the stage it ended in */
	char *state;		/* new string: the job's state JSON (CD_OK, want_state) */
};

/* Applies n fenced transitions in one statement (in a transaction).
 * items: JSON array, one object per transition in the same order:
 * {ord, id, factory_id, lease_epoch, if_rev, stage, sources: [from-stages],
 *  checkpoint?, result?, insights?}. Each t[i] gets its own outcome: an item
 * that touched no row is explained by a re-read (CD_NOT_FOUND,
 * CD_STALE_EPOCH, CD_PRECONDITION_FAILED, CD_INVALID_TRANSITION). Jobs that
 * reached shipped (or testing) unblock their now satisfied dependents.
 * want_state: fill t[i].state (PATCH answers it; jobs:transition does not,
 * and skips building it). Returns an error only when the database failed
 * (then nothing applies). */
enum cd_err db_jobs_transition(struct db *db, int64_t tenant, const char *items,
			       struct transition *t, size_t n, bool want_state,
			       struct cd_error *e);

/* Fenced lease renewal: expires_at = now + ttl_s. out: the job JSON. */
enum cd_err db_jobs_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
			  char **out, struct cd_error *e);

/* Fenced release (in a transaction): the job goes back to queued now (not a
 * failed attempt). requeue is accepted for DESIGN's shape; a held job is
 * never final, so it is requeued either way (never left active and lease-less). */
enum cd_err db_jobs_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
			    char **out, struct cd_error *e);

/* Cancels a job in any non-final stage (in a transaction); bumps the epoch so
 * the holder is fenced out. A task takes its unfinished steps with it; a
 * step ends its task (db_jobs_settle_tasks). by: who cancels, for the
 * events. out: the job's summary JSON. CD_NOT_FOUND (job_not_found),
 * CD_INVALID_TRANSITION when already final. */
enum cd_err db_jobs_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
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

/* db_leases.h -- a job's lease in PostgreSQL: the one-statement claim, the
 * set-based fenced transitions, renew, release, cancel, and THE end of a
 * task (db_leases_settle_tasks).
 *
 * Every function filters by tenant. Every write from a worker is fenced on
 * (lease_epoch, lease_holder, lease_status = 'held'); a miss is explained by
 * a re-read. JSON results come back as text built by PostgreSQL and are
 * returned as new strings the caller frees with free(). Functions marked
 * "in a transaction" expect the caller to have called db_begin().
 */
#ifndef CD_DB_LEASES_H
#define CD_DB_LEASES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* Settles the tasks (composite jobs) whose steps `ids` (a bigint[] literal,
 * "{1,2}") just ended -- THE rule of a task's end: every step shipped ->
 * shipped; a step cancelled -> cancelled; a step dead-lettered or failed for
 * good -> failed, and then its unfinished steps are cancelled (epoch + 1).
 * In a transaction. */
enum cd_err db_leases_settle_tasks(struct db *db, int64_t tenant, const char *ids,
				 struct cd_error *e);

struct claim_request {
	const char *factory_id;
	const char *capabilities;	/* JSON array of strings */
	int max_jobs;
	int lease_ttl_s;
};

/* Locks the worker's heartbeat row until commit (in a transaction), so that
 * its claims see each other's leases when counting free seats. */
enum cd_err db_leases_lock_factory(struct db *db, int64_t tenant, const char *factory_id,
				 struct cd_error *e);

/* Claims up to max_jobs queued jobs in one statement (FOR UPDATE SKIP
 * LOCKED), with their runs and `claimed` events. out: JSON array of full
 * jobs; count: how many. Paused or draining: an empty array.
 * fast: on its own, for a worker without a seat limit; when the worker has
 * one, nothing is claimed and limited is set: call again with fast false
 * inside a transaction after db_leases_lock_factory(). */
enum cd_err db_leases_claim(struct db *db, int64_t tenant, const struct claim_request *c,
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
	bool unblocks;		/* reaching stage may meet a dependent's dep (stages_dep_met) */
	/* outcome, filled by db_leases_transition: */
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
enum cd_err db_leases_transition(struct db *db, int64_t tenant, const char *items,
			       struct transition *t, size_t n, bool want_state,
			       struct cd_error *e);

/* db_leases_transition in one round trip, outside a transaction: the
 * statement and the check that no item has a blocked dependent, pipelined as
 * one implicit transaction. done: every item applied and nothing is left to
 * do after them (no miss to explain, no dependent to unblock, no task to
 * settle, no requeue to announce, no dependent to tell of a failure); t[i]
 * filled as db_leases_transition does. Not done: nothing changed (rolled
 * back, or every item missed): run db_leases_transition in a transaction.
 * Errors only when the database failed. */
enum cd_err db_leases_transition_fast(struct db *db, int64_t tenant, const char *items,
				      struct transition *t, size_t n, bool want_state, bool *done,
				      struct cd_error *e);

/* Fenced lease renewal: expires_at = now + ttl_s. out: the job JSON. */
enum cd_err db_leases_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
			  char **out, struct cd_error *e);

/* Fenced release (in a transaction): the job goes back to queued now (not a
 * failed attempt). requeue is accepted for DESIGN's shape; a held job is
 * never final, so it is requeued either way (never left active and lease-less). */
enum cd_err db_leases_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
			    char **out, struct cd_error *e);

/* Cancels a job in any non-final stage (in a transaction); bumps the epoch so
 * the holder is fenced out. A task takes its unfinished steps with it; a
 * step ends its task (db_leases_settle_tasks). by: who cancels, for the
 * events. out: the job's summary JSON. CD_NOT_FOUND (job_not_found),
 * CD_INVALID_TRANSITION when already final. */
enum cd_err db_leases_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
			   struct cd_error *e);

#endif

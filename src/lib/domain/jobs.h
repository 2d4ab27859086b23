/* jobs.h -- what the fleet routes ask of jobs: submit (one or a batch),
 * claim (with long-poll), fenced transitions (one or many), each as one
 * transaction retried on serialization failures.
 *
 * Entry points take an already validated request (fcgi/api_fleet.c checks
 * fields and ranges) and return JSON text built by the database (new
 * strings; free()). Thread-safety: one struct db per thread; the long-poll
 * slot counter is an atomic shared by the process.
 */
#ifndef CD_JOBS_H
#define CD_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/err.h"
#include "data/db.h"
#include "data/db_jobs.h"
#include "data/db_leases.h"

/* Submits request (a validated object). out: the full job JSON. */
enum cd_err jobs_submit(struct db *db, int64_t tenant, struct json_object *request,
			enum submit_outcome *outcome, char **out, struct cd_error *e);

/* Submits every object of items (validated) in one transaction, in
 * dependency order. out: JSON array of {id, idempotency_key, outcome} in
 * the order given. Nothing is written on any error. */
enum cd_err jobs_submit_batch(struct db *db, int64_t tenant, struct json_object *items,
			      char **out, struct cd_error *e);

/* Sets how many claims of this process may long-poll at once (0: none). */
void jobs_set_wait_slots(int slots);

/* How a claim's wait went. */
struct claim_waited {
	long ms;	/* how long it waited for a job to come */
	bool cut_short;	/* it was asked to wait, nothing came, and it could not wait
			 * (every long-poll slot taken): it answered at once, and the
			 * client should back off before asking again */
};

/* Claims; with wait_ms > 0 and nothing to claim, waits for a NOTIFY (or
 * the end of the wait) while a long-poll slot is free, else answers at once.
 * w (out, may be NULL): how the wait went. */
enum cd_err jobs_claim(struct db *db, int64_t tenant, const struct claim_request *c, int wait_ms,
		       char **out, int *count, struct claim_waited *w, struct cd_error *e);

#define TRANSITIONS_MAX 100

/* One fenced transition (PATCH /v1/fleet/jobs/{id}). request: the validated
 * body {factory_id, lease_epoch, stage, checkpoint?, result?, insights?};
 * if_rev: If-Match, 0 for none. out: the job's state JSON. */
enum cd_err jobs_transition(struct db *db, int64_t tenant, struct json_object *request,
			    int64_t id, int64_t if_rev, char **out, struct cd_error *e);

/* Up to TRANSITIONS_MAX fenced transitions in one transaction and one
 * statement; items: validated objects {id, factory_id, lease_epoch, stage,
 * checkpoint?, result?, insights?}. out: JSON array of {id, ok:true, stage}
 * or {id, ok:false, error, message}, in the order given. */
enum cd_err jobs_transition_many(struct db *db, int64_t tenant, struct json_object *items,
				 char **out, struct cd_error *e);

/* Fenced renew / release / unfenced cancel, each its own transaction. A
 * cancelled task takes its unfinished steps with it, a cancelled step ends
 * its task (db_leases_cancel). */
enum cd_err jobs_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
		       char **out, struct cd_error *e);
enum cd_err jobs_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
			 char **out, struct cd_error *e);
enum cd_err jobs_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
			struct cd_error *e);

#endif

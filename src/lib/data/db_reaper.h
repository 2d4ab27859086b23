/* db_reaper.h -- the reaper's SQL: expired leases, silent workers and
 * controllers, runtime events, retention.
 *
 * The reaper is the system's own process: unlike every route, these
 * statements work across tenants (each row they write keeps its own
 * tenant_id). Each function is one transaction of bounded size, so a reaper
 * killed at any moment leaves every job in exactly one stage and the next
 * pass finishes the work. `term` is the caller's leader-lease term, stamped on
 * the events it writes.
 */
#ifndef CD_DB_REAPER_H
#define CD_DB_REAPER_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* What one batch of expired leases became. */
struct reap_counts {
	long reaped;	/* leases expired (the sum of the three below) */
	long requeued;	/* back to queued, after the retry delay */
	long blocked;	/* back to blocked: a dependency is no longer satisfied */
	long dead;	/* dead_letter: retries spent, or lease_expired not retried */
};

/* Expires at most limit leases whose lease_expires_at has passed, in one
 * transaction (FOR UPDATE SKIP LOCKED: a concurrent reaper or a renewal in
 * flight is skipped, never waited for): lease `expired`, epoch + 1, the run
 * ended, the checkpoint kept, events lease_expired and requeued / blocked /
 * dead_lettered; tasks of dead-lettered steps settled; claimers woken.
 * out: the counts of this batch (reaped < limit: nothing is left). */
enum cd_err db_reaper_expire_leases(struct db *db, int limit, int64_t term,
				    struct reap_counts *out, struct cd_error *e);

/* Marks workers (factories) and controllers silent for more than stale_s as
 * down, once each, with a health event. out: how many of each. */
enum cd_err db_reaper_mark_silent(struct db *db, long stale_s, int64_t term, long *factories,
				  long *controllers, struct cd_error *e);

/* Records a runtime event of the system (tenant 0): a dead-lettered stream
 * entry. data: a JSON object as text. */
enum cd_err db_reaper_runtime_event(struct db *db, const char *kind, const char *data,
				    struct cd_error *e);

/* Deletes at most limit job events, and at most limit health and runtime
 * events, older than days, oldest first, in one short transaction.
 * out: how many rows went. */
enum cd_err db_reaper_prune_events(struct db *db, long days, int limit, long *out,
				   struct cd_error *e);

/* Deletes at most limit finished jobs (shipped, failed, dead_letter,
 * cancelled) whose finished_at is older than days, with their events, runs,
 * artifacts and edges; never a job that an unfinished job depends on, nor a
 * task whose steps remain. out: how many jobs went. */
enum cd_err db_reaper_prune_jobs(struct db *db, long days, int limit, long *out,
				 struct cd_error *e);

#endif

/* db_timers.h -- the `timers` table (sql/008_timers.sql): one row per
 * running copy of a timer with its leader state, holder and term, written by
 * domain/timer.c before each pass and read by GET /v1/status.
 *
 * The reading rule: a row not written for its stale_after_s (the copy's
 * lease TTL) is reported as state "degraded" with stale true, whatever it
 * says: its copy has not reached PostgreSQL for that long (or died without
 * exiting cleanly), and a copy that cannot reach the database cannot write
 * that it is degraded. JSON answers are new strings the caller frees.
 */
#ifndef CD_DB_TIMERS_H
#define CD_DB_TIMERS_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* Upserts this copy's row (name, holder) with state ("leader", "standby",
 * "degraded"), the term and the lease's holder it saw (leader may be NULL),
 * and stale_after_s; deletes other copies' rows of the timer that have been
 * stale for a day. */
enum cd_err db_timers_record(struct db *db, const char *name, const char *holder,
			     const char *host, const char *state, int64_t term,
			     const char *leader, int stale_after_s, struct cd_error *e);

/* Deletes this copy's row (on a clean exit). */
enum cd_err db_timers_forget(struct db *db, const char *name, const char *holder,
			     struct cd_error *e);

/* out: [{name, holder, host, state, term, leader, updated_at, stale}] by
 * name then holder, the reading rule applied. */
enum cd_err db_timers_list(struct db *db, char **out, struct cd_error *e);

/* out: [{name, holder, term, lease_expires_at, live}]: the system's leader
 * leases (tenant 0), which outlive the copies (a --once copy exits). */
enum cd_err db_timers_leases(struct db *db, char **out, struct cd_error *e);

#endif

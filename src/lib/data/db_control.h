/* db_control.h -- controllers, leader leases and the system mode.
 *
 * The leader lease is also what the reaper and the watcher take before each
 * pass (tenant 0, names "reaper" and "watcher"), through db_control_acquire
 * directly: they never go through HTTP. JSON answers are new strings the
 * caller frees with free().
 */
#ifndef CD_DB_CONTROL_H
#define CD_DB_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

#define LEADER_SYSTEM_TENANT 0 /* the tenant of the system's own leases */

/* The outcome of an acquire. */
struct leader_lease {
	bool is_leader;
	bool renewed;		/* the caller held it already: same term */
	int64_t term;
	char holder_id[129];
};

/* Takes or renews lease `name` of tenant for holder, in one conditional
 * statement: the holder renews (same term); anyone takes an expired lease
 * (term + 1); nobody else gets it while it is live. out: the lease as JSON
 * {lease, holder_id, holder_host, term, lease_expires_at, is_leader,
 * operation}; may be NULL. lease: the outcome; may be NULL. */
enum cd_err db_control_acquire(struct db *db, int64_t tenant, const char *name,
			       const char *holder, const char *host, int ttl_s, char **out,
			       struct leader_lease *lease, struct cd_error *e);

/* Gives lease `name` of tenant up if holder holds it (it expires now), so a
 * standby need not wait for the TTL. Nothing happens otherwise. */
enum cd_err db_control_release(struct db *db, int64_t tenant, const char *name,
			       const char *holder, struct cd_error *e);

/* Upserts a controller from a validated heartbeat; out: the controller. */
enum cd_err db_control_heartbeat(struct db *db, int64_t tenant, const char *request,
				 long stale_s, char **out, struct cd_error *e);

/* out: {items: [controllers]} with `stale` past stale_s. */
enum cd_err db_control_list(struct db *db, int64_t tenant, long stale_s, char **out,
			    struct cd_error *e);

/* Sets the tenant's mode (running, paused, draining) and records the change. */
enum cd_err db_control_set_mode(struct db *db, int64_t tenant, const char *mode,
				const char *reason, const char *requested_by, struct cd_error *e);

/* out: {mode, reason, requested_by, updated_at, holder_id, term, lease_expires_at}. */
enum cd_err db_control_state(struct db *db, int64_t tenant, char **out, struct cd_error *e);

/* out: {items: [{mode, reason, requested_by, at}]} newest first, at most 100. */
enum cd_err db_control_mode_events(struct db *db, int64_t tenant, char **out,
				   struct cd_error *e);

#endif

/* db_runtime.h -- the SQL of GPU runtimes (DESIGN section 6,
 * sql/009_runtimes.sql): instances, the watcher's state per pool, the
 * machines of the manual provider, runtime events.
 *
 * These are the system's own rows (no tenant). Every write that decides
 * something is conditional, so two callers racing (two watchers, two
 * ensures) act once:
 *   - a pool's row is the lock of its instances: a reservation counts the
 *     pool's live instances and inserts a `starting` row under it;
 *   - the watcher writes a pool's state only if the row is still at the rev
 *     it read and no newer term wrote it (db_runtime_pool_commit).
 * Times cross this interface as seconds since the epoch of the DATABASE's
 * clock (several watcher hosts share one clock that way); 0 means none.
 * `term` is the caller's leader term, 0 for an API call.
 */
#ifndef CD_DB_RUNTIME_H
#define CD_DB_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/err.h"
#include "data/db.h"

/* One instance as a route, a teardown or a status check needs it. */
struct runtime_instance {
	int64_t id;
	char pool[64], provider[33], provider_id[129], state[16];
};

/* ---- pools: the watcher's memory ------------------------------------------ */

/* A pool's row and what its instances look like now. */
struct runtime_pool_row {
	time_t now;		/* the database's clock when read */
	int over_polls;		/* consecutive polls at or over the threshold */
	time_t idle_since;	/* no demand since then; 0: demand at the last poll */
	time_t last_poll_at, last_teardown_at, last_alert_at;
	int64_t rev, term;	/* see db_runtime_pool_commit */
	long live;		/* instances starting, running, stopping or stopped */
	long running;		/* of which running */
	time_t oldest_started_at; /* of the running ones; 0: none */
};

/* Reads pool's row, creating it (all zero) on first use. out: the row. */
enum cd_err db_runtime_pool_load(struct db *db, const char *pool, struct runtime_pool_row *out,
				 struct cd_error *e);

/* Settles what a killed caller left half done in pool, older than older_s:
 * a `starting` row that never got a provider id becomes `failed` (its
 * reservation no longer holds a slot); a `stopping` row goes back to
 * `running`, so the next idle decision tears it down again.
 * out: how many rows changed. */
enum cd_err db_runtime_sweep(struct db *db, const char *pool, long older_s, long *out,
			     struct cd_error *e);

/* The running instances of pool (at most cap) into out; n: how many. */
enum cd_err db_runtime_running(struct db *db, const char *pool, struct runtime_instance *out,
			       size_t cap, size_t *n, struct cd_error *e);

/* Records what the provider says of running instance id now: its state
 * (`gone` makes it `destroyed`, `stopped` makes it `stopped`; anything
 * else leaves it running) and last status. changed: whether the row left
 * `running`. */
enum cd_err db_runtime_observed(struct db *db, int64_t id, const char *provider_state,
				bool *changed, struct cd_error *e);

/* What a pass writes back, and the action it takes. */
struct runtime_pool_write {
	const char *pool;
	int64_t rev;		/* the rev read by db_runtime_pool_load */
	int64_t term;		/* the writer's leader term */
	int over_polls;
	time_t idle_since;	/* 0: NULL */
	long demand;
	const char *action;	/* "spawn", "teardown", "hold", "alert_long_running" */
	const char *reason;
	long max_instances;	/* spawn: the pool's limit */
	const char *name;	/* spawn: the new instance's unique name */
	const char *event;	/* alert: the event's data (a JSON object) */
};

/* What a commit did. */
struct runtime_pool_outcome {
	bool applied;		/* false: another writer got there first; nothing written */
	int64_t instance_id;	/* spawn: the reserved instance, 0 when the pool is full;
				 * teardown: the instance now `stopping`, 0 when none runs */
	char provider[33];	/* teardown: its provider and the provider's id */
	char provider_id[129];
};

/* In one transaction: writes w into the pool's row if it is still at w->rev
 * and no newer term wrote it (else out->applied is false and nothing is
 * written), then for a spawn reserves a `starting` instance if fewer than
 * max_instances live, for a teardown moves the priciest running instance to
 * `stopping`, for an alert records the event (kind alert_long_running).
 * The last teardown or alert time becomes now. */
enum cd_err db_runtime_pool_commit(struct db *db, const struct runtime_pool_write *w,
				   struct runtime_pool_outcome *out, struct cd_error *e);

/* Queued fleet jobs of tenant (by name) that need capability, and whether
 * the tenant is draining. An unknown tenant: 0 and not draining. */
enum cd_err db_runtime_demand_jobs(struct db *db, const char *tenant, const char *capability,
				   long *queued, bool *draining, struct cd_error *e);

/* ---- instances ------------------------------------------------------------ */

/* Reserves a `starting` instance named name for pool under the pool's lock,
 * unless the pool already has a live one (ensure: idempotent).
 * out: the new instance's id, or the existing one's (existing set). */
enum cd_err db_runtime_reserve(struct db *db, const char *pool, const char *name,
			       const char *requested_by, int64_t *out, bool *existing,
			       struct cd_error *e);

/* What a provider started, for db_runtime_started. */
struct runtime_started {
	const char *provider, *provider_id, *gpu, *region, *address;
	int gpu_mem_gb;
	double price_per_hour;
	const char *status;	/* the provider's state ("running", "starting") */
};

/* A reserved instance was started: provider fields set, state `running`,
 * started_at now. */
enum cd_err db_runtime_started(struct db *db, int64_t id, const struct runtime_started *s,
			       struct cd_error *e);

/* Sets an instance's state (running, stopping, stopped, destroyed, failed)
 * and its last status; stopped_at is set on stopped or destroyed, the
 * first time. */
enum cd_err db_runtime_set_state(struct db *db, int64_t id, const char *state,
				 const char *last_status, struct cd_error *e);

/* out: instance id. CD_NOT_FOUND (code runtime_not_found) when there is none. */
enum cd_err db_runtime_get(struct db *db, int64_t id, struct runtime_instance *out,
			   struct cd_error *e);

/* Moves instance id to `stopping` if its state is one of from (a comma
 * list, e.g. "running,stopped") and it has a provider id: of two callers,
 * one moves it. changed: whether it moved; out: the instance (after);
 * prev: its state before. */
enum cd_err db_runtime_begin(struct db *db, int64_t id, const char *from, bool *changed,
			     struct runtime_instance *out, char prev[16], struct cd_error *e);

/* out: instance id as JSON (as an item of db_runtime_list). CD_NOT_FOUND
 * runtime_not_found. New string; free(). */
enum cd_err db_runtime_get_json(struct db *db, int64_t id, char **out, struct cd_error *e);

/* out: {items: [instance]} newest first, at most limit (1..500); an
 * instance is {id, pool, provider, provider_id, name, state, price_per_hour,
 * gpu, gpu_mem_gb, region, address, term, requested_by, created_at,
 * started_at, stopped_at, last_status, last_status_at}. New string; free(). */
enum cd_err db_runtime_list(struct db *db, int limit, char **out, struct cd_error *e);

/* out: {items: [{pool, over_polls, idle_since, last_poll_at, last_demand,
 * last_teardown_at, last_alert_at, last_action, last_reason, term,
 * instances: [instance as db_runtime_list, live ones only]}]} by pool name,
 * for GET /v1/status. New string; free(). */
enum cd_err db_runtime_pools(struct db *db, char **out, struct cd_error *e);

/* ---- events --------------------------------------------------------------- */

/* Records a runtime event (tenant 0). instance_id 0: none. data: a JSON
 * object as text. */
enum cd_err db_runtime_event(struct db *db, int64_t instance_id, const char *kind,
			     const char *data, struct cd_error *e);

/* out: {items: [{id, instance_id, kind, at, data}]} newest first, at most
 * limit (1..500). New string; free(). */
enum cd_err db_runtime_events_recent(struct db *db, int limit, char **out, struct cd_error *e);

/* ---- manual machines ------------------------------------------------------ */

struct runtime_machine {
	int64_t id;
	char name[129], gpu[65], address[129], state[16];
	int gpu_mem_gb;
	double price_per_hour;
};

/* Registers (or, by name, updates the gpu, memory, price and address of) a
 * machine. out: the machine as JSON {id, name, gpu, gpu_mem_gb,
 * price_per_hour, address, state, registered_at}; new string, free(). */
enum cd_err db_runtime_machine_register(struct db *db, const struct runtime_machine *m,
					const char *registered_by, char **out,
					struct cd_error *e);

/* Idle machines with at least min_mem_gb of GPU memory, cheapest first.
 * out: up to cap; n: how many. */
enum cd_err db_runtime_machines_idle(struct db *db, int min_mem_gb, struct runtime_machine *out,
				     size_t cap, size_t *n, struct cd_error *e);

/* Moves machine id from state `from` (a comma-free state, or "*" for any)
 * to `to`. changed: whether it was in `from` (false: someone else took it,
 * or it is gone). out (may be NULL): the machine after. */
enum cd_err db_runtime_machine_move(struct db *db, int64_t id, const char *from, const char *to,
				    bool *changed, struct runtime_machine *out,
				    struct cd_error *e);

/* out: machine id. CD_NOT_FOUND when there is none. */
enum cd_err db_runtime_machine_get(struct db *db, int64_t id, struct runtime_machine *out,
				   struct cd_error *e);

#endif

/* runtime.h -- THE rules of acting on GPU runtime instances (DESIGN section
 * 6), written once for the watcher (domain/watch.c) and the runtime routes
 * (fcgi/api_runtimes.c):
 *   - spawn: a reserved (`starting`) instance is started at the cheapest
 *     offer of the configured providers that meets the pool's GPU memory
 *     need (domain/packing.c), the next offer when a start fails; the event
 *     lists the offers considered, every failed try, the choice and its
 *     price;
 *   - teardown: stop then destroy through the instance's OWN provider (a
 *     failed stop does not prevent the destroy);
 *   - stop: through the instance's own provider, the instance `stopped`;
 *   - ensure: idempotent, one live instance per pool whoever asks (the
 *     reservation counts the pool's live instances under its row lock,
 *     data/db_runtime.c), started as a spawn;
 *   - pools status: each configured pool, its policy and live instances.
 * Every action is a runtime_events row, whether it worked or not. Provider
 * calls are bounded (CONDUCTOR_PROVIDER_TIMEOUT_MS, data/httpc.c): nothing
 * here waits longer than the providers it asks.
 * Errors: a provider's failure is CD_UPSTREAM with e->field the provider's
 * name and a message naming the HTTP status it answered.
 * Thread-safety: every function may run on any thread with its own db.
 */
#ifndef CD_RUNTIME_H
#define CD_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/config.h"
#include "base/err.h"
#include "base/pools.h"
#include "data/db.h"
#include "data/db_runtime.h"

/* Records o as a runtime event of kind for instance id (0: none) and puts
 * o (steals it); a failure is logged, not fatal: the action happened whether
 * or not its record did. */
void runtime_event_put(struct db *db, int64_t id, const char *kind, struct json_object *o);

/* Starts reserved instance id (named name) of pool p. ev: the event's own
 * fields (pool, actor, reason, ...); steals it, adds name, gpu_mem_gb,
 * offers, tried and the choice, and records it (spawn / spawn_failed).
 * CD_OK when it started (the instance is `running`). Otherwise the
 * instance is `failed` and: CD_UPSTREAM naming the last provider that
 * failed, or CD_UNAVAILABLE code no_capacity (field pool) when no provider
 * offered a machine that fits and none failed. */
enum cd_err runtime_spawn(struct db *db, const struct config *cfg, const struct watch_policy *p,
                          int64_t id, const char *name, struct json_object *ev, struct cd_error *e);

/* Tears inst (state `stopping`) down: stop, then destroy through its own
 * provider. ev: steals it, as runtime_spawn; recorded as teardown /
 * teardown_failed. Destroyed: state `destroyed` with last status
 * done_status. Failed: back to state `back` (so it is tried again), the
 * provider's error in e (CD_UPSTREAM). */
enum cd_err runtime_teardown(struct db *db, const struct config *cfg,
                             const struct runtime_instance *inst, const char *back,
                             const char *done_status, struct json_object *ev, struct cd_error *e);

/* POST /v1/runtimes/{id}/stop's rule: a `running` instance is stopped
 * through its own provider (`stopped`; back to `running` when the provider
 * failed: CD_UPSTREAM). CD_NOT_FOUND runtime_not_found; CD_CONFLICT
 * (field state) when it is not running. by: who asked (the token's name).
 * out: the instance as JSON after; new string, free(). */
enum cd_err runtime_stop(struct db *db, const struct config *cfg, int64_t id, const char *by,
                         char **out, struct cd_error *e);

/* POST /v1/runtimes/{id}/destroy's rule: a `running` or `stopped` instance
 * is torn down (runtime_teardown). Errors as runtime_stop. */
enum cd_err runtime_destroy(struct db *db, const struct config *cfg, int64_t id, const char *by,
                            char **out, struct cd_error *e);

/* POST /v1/runtimes/ensure's rule: pool's live instance (starting or
 * running) when it has one (*created false), else a new one reserved and
 * spawned (*created true). CD_NOT_FOUND pool_not_found when pool is not
 * one of CONDUCTOR_POOLS; CD_CONFLICT when the pool's slot is held by an
 * instance being stopped; runtime_spawn's errors. out: the instance as
 * JSON; new string, free(). */
enum cd_err runtime_ensure(struct db *db, const struct config *cfg, const char *pool,
                           const char *by, char **out, bool *created, struct cd_error *e);

/* GET /v1/status's pools: [{pool, streams, capability, tenant, gpu_mem_gb,
 * spawn_threshold, max_instances, cooldown_s, idle_s, long_running_s,
 * poll_s, state (the watcher's memory of it, null before its first poll),
 * instances (live)}] for each pool of CONDUCTOR_POOLS, in its order.
 * out: new string, free(). */
enum cd_err runtime_pools_status(struct db *db, const struct config *cfg, char **out,
                                 struct cd_error *e);

#endif

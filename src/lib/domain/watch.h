/* watch.h -- one watcher pass (DESIGN section 6), as conductor-watcher runs
 * it from a timer or a loop.
 *
 * The timer runner (domain/timer.h) takes the system's `watcher` leader
 * lease before each pass; only the holder runs it. The pass, for each pool of
 * CONDUCTOR_POOLS that is due (poll_s):
 *   1. asks each running instance's provider about it (status): one gone
 *      there is recorded destroyed, one powered off stopped, with an event;
 *      then gathers its state: XLEN and the pending count of each of its streams,
 *      the queued fleet jobs needing its capability, its tenant's mode, its
 *      live instances and the state kept in runtime_pools;
 *   2. decide()s (domain/decide.c, pure);
 *   3. writes the new state and claims the action in one conditional
 *      transaction (db_runtime_pool_commit): of two watchers that read the
 *      same state, one writes and acts, the other does nothing;
 *   4. acts: spawn = every configured provider's offers that fit the pool's
 *      GPU memory need, cheapest first (domain/packing.c), the next offer
 *      when a start fails; teardown = stop and destroy through the instance's
 *      own provider; alert = an event only, never a kill.
 * Every action is a runtime_events row with the pool, the reason and the
 * term. A pool whose streams cannot be read (Redis down) is skipped: no
 * decision is taken on data it does not have.
 */
#ifndef CD_WATCH_H
#define CD_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"
#include "data/db.h"
#include "data/stream.h"
#include "domain/timer.h"

#define WATCHER_LEASE "watcher"

struct watch_report {
	long pools;		/* pools polled (due) */
	long spawned, torn_down, alerts;
	long failed;		/* spawns or teardowns no provider could do */
	long raced;		/* pools another watcher wrote first: left alone */
	bool streams_failed;	/* Redis did not answer: those pools were skipped */
	bool lost_lease;	/* another copy took the lease mid-pass: the rest was left */
};

/* One pass as the leader of term ctx->term (the watcher's timer slot `pass`;
 * src/watcher/main.c). report: a struct watch_report. The lease is renewed
 * (timer_still_leader) before each pool after the first. CD_UNAVAILABLE
 * when PostgreSQL (or Redis, for pools with streams) failed. */
enum cd_err watch_pass(struct timer_ctx *ctx, void *report, struct cd_error *e);

/* Logs a pass's report (the timer's `report` slot): at info when it acted,
 * debug when it only held. */
void watch_report_log(const struct timer_ctx *ctx, const void *report, bool ok, double ms);

/* The watcher's own configuration checks (the timer's `check_config`):
 * every stream a pool serves is one of CONDUCTOR_STREAMS (the streams the
 * janitor sweeps and the routes accept; and Redis is opened for them), and
 * redis_url is set then; every provider of CONDUCTOR_PROVIDERS is built in.
 * CD_CONFIG naming the key. */
enum cd_err watch_check_config(const struct config *cfg, struct cd_error *e);

#endif

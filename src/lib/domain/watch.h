/* watch.h -- one watcher pass (DESIGN section 6), as conductor-watcher runs
 * it from a timer or a loop.
 *
 * A pass first takes (or renews) the system's `watcher` leader lease; a copy
 * that is not the holder does nothing. The holder then, for each pool of
 * CONDUCTOR_POOLS that is due (poll_s):
 *   1. gathers its state: XLEN and the pending count of each of its streams,
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

#define WATCHER_LEASE "watcher"

struct watch_opts {
	const struct config *cfg;
	const char *holder;	/* this copy's lease holder id: host/pid */
	const char *host;
	int lease_ttl_s;
};

struct watch_report {
	bool leader;
	int64_t term;
	char holder[129];	/* who holds the lease (this copy when leader) */
	long pools;		/* pools polled (due) */
	long spawned, torn_down, alerts;
	long failed;		/* spawns or teardowns no provider could do */
	long raced;		/* pools another watcher wrote first: left alone */
	bool streams_failed;	/* Redis did not answer: those pools were skipped */
};

/* One pass. rs: the stream connection; NULL when none could be opened (pools
 * with streams are then skipped and the pass counts as failed).
 * CD_UNAVAILABLE when PostgreSQL (or Redis) failed. */
enum cd_err watch_pass(struct db *db, struct stream_conn *rs, const struct watch_opts *o,
		       struct watch_report *out, struct cd_error *e);

/* The pass's work for the holder of term (no lease taken): for a runner
 * that took the lease itself. out->leader and out->term are set by it. */
enum cd_err watch_pools(struct db *db, struct stream_conn *rs, const struct config *cfg,
			int64_t term, struct watch_report *out, struct cd_error *e);

/* Gives the lease up (on exit), so a standby takes over at once. */
enum cd_err watch_stand_down(struct db *db, const struct watch_opts *o, struct cd_error *e);

#endif

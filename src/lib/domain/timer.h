/* timer.h -- THE runner of conductor's timers (conductor-reaper,
 * conductor-watcher): everything a timer does that is not its pass.
 *
 * A timer is a const table of its slots (struct timer); its main is
 *
 *     int main(int argc, char **argv) { return timer_main(argc, argv, &REAPER); }
 *
 * timer_main owns the command line (--once | --interval S, --config FILE,
 * --help, --version), the configuration, the schema check, SIGTERM between
 * passes, the holder id (host/pid), the lease TTL, the leader lease taken
 * before every pass, the leader state of this copy, its row in `timers`,
 * logging each pass, giving the lease up on exit, and the exit status:
 *   0 the pass(es) ran or stood by; 1 PostgreSQL (or Redis) failed during a
 *   --once pass; 2 bad flags or configuration (the message names the key).
 *
 * Leader states (DESIGN 5). Before each pass the copy takes or renews the
 * timer's lease (tenant 0, name = the table's `lease`):
 *   leader    it holds the lease: the pass runs, stamping the lease's term;
 *   standby   another copy holds it: nothing runs;
 *   degraded  TIMER_DEGRADED_AFTER renewals in a row failed (PostgreSQL
 *             unreachable): nothing runs until a renewal succeeds again.
 * A pass runs only right after a successful renewal: one failed renewal
 * already skips the pass (and is logged as a warning), the second makes the
 * copy degraded. Each change of state is logged once, not every pass.
 * The state is written to `timers` at each pass (data/db_timers.h); a copy
 * that cannot reach PostgreSQL cannot write "degraded", so readers call a
 * row not written for its stale_after_s degraded (see db_timers.h).
 *
 * Single-threaded: one copy, one PostgreSQL connection, one Redis connection.
 */
#ifndef CD_TIMER_H
#define CD_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"
#include "data/db.h"
#include "data/stream.h"

#define TIMER_DEGRADED_AFTER 2	  /* failed renewals in a row that make a copy degraded */
#define TIMER_ONCE_LEASE_TTL_S 300 /* --once: covers a long pass; given up at the end */
#define TIMER_MIN_LEASE_TTL_S 30   /* --interval S: the TTL is 3 S, at least this */
#define TIMER_INTERVAL_MAX_S 86400
#define TIMER_REDIS_TIMEOUT_MS 5000

enum timer_state { TIMER_STANDBY = 0, TIMER_LEADER, TIMER_DEGRADED };

/* What a pass gets. Owned by timer_main; valid during the pass. */
struct timer_ctx {
	const struct config *cfg; /* the validated configuration */
	struct db *db;		  /* PostgreSQL, connected and schema-checked */
	struct stream_conn *rs;	  /* Redis when the timer uses it, streams are configured and it
				   * answered; NULL otherwise (the pass decides what that means) */
	const char *lease;	  /* the timer's lease name */
	const char *holder;	  /* this copy's holder id: host/pid */
	const char *host;
	int lease_ttl_s;
	int64_t term;	   /* the term of the lease this pass holds: stamp it on writes */
	const char *step;  /* out: the step the pass is in (a static string); logged with the
			    * error when the pass fails, so a failure says what failed */
};

/* One timer: what makes the reaper the reaper. A const table, one per main. */
struct timer {
	/* The binary's name: in logs, --version, messages. */
	const char *program;
	/* The leader lease (tenant 0) taken before each pass, and the timer's
	 * name in `timers` and GET /v1/status. */
	const char *lease;
	/* --help: what a pass does, between the usage line and the flags. */
	const char *about;
	/* Opens the Redis connection (ctx->rs) when streams are configured. */
	bool uses_redis;
	/* Size of the pass's report; zeroed before each pass. */
	size_t report_size;
	/* Checks the keys this timer needs beyond database_url; NULL: none.
	 * CD_CONFIG with e->field naming the key makes the binary exit 2. */
	enum cd_err (*check_config)(const struct config *cfg, struct cd_error *e);
	/* One pass, as the leader: ctx->term is the lease's term. Sets ctx->step
	 * as it goes. May renew mid-pass with timer_still_leader(). Returns
	 * CD_OK, or what failed (CD_UNAVAILABLE: PostgreSQL or Redis) with e. */
	enum cd_err (*pass)(struct timer_ctx *ctx, void *report, struct cd_error *e);
	/* Logs the report of a pass that ran (ok: it returned CD_OK; else the
	 * runner has logged the failure and this logs what was done before it).
	 * ms: the pass's duration. */
	void (*report)(const struct timer_ctx *ctx, const void *report, bool ok, double ms);
	/* Work beside the passes, on every copy whatever its leader state
	 * (conductor-watcher: result routing); NULL: none. beside_start runs once
	 * the database answered, before the first pass (once: --once); what it
	 * returns goes to beside_stop, which runs after the last pass, before the
	 * configuration is freed. */
	void *(*beside_start)(const struct config *cfg, bool once);
	void (*beside_stop)(void *beside);
};

/* The whole life of a timer binary; returns the process's exit status.
 * Installs SIGTERM/SIGINT handlers: a signal ends the loop after the pass. */
int timer_main(int argc, char **argv, const struct timer *t);

/* Renews the lease in the middle of a long pass. Returns true while this
 * copy still holds it; false (logged) when another copy does, or when the
 * renewal failed (*rc != CD_OK, with e): either way the pass stops acting. */
bool timer_still_leader(struct timer_ctx *ctx, enum cd_err *rc, struct cd_error *e);

/* True once SIGTERM or SIGINT came: a long pass (or work a timer does beside
 * its passes) checks it to end early; the runner then stands down. */
bool timer_stopping(void);

/* "leader", "standby", "degraded". */
const char *timer_state_name(enum timer_state s);

#endif

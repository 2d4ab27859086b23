/* decide.h -- the watcher's decision for one pool (DESIGN section 6, pass
 * step 2): spawn, teardown, hold or alert, with a reason. Pure: no I/O, no
 * clock (now is a parameter), includes only base/; tests/unit/test_decide.c
 * holds a test for every rule.
 *
 * Rules, in the order they are applied:
 *   demand = the pool's stream lengths + pending entries + queued fleet jobs
 *   needing its capability. This poll counts as "over" when demand >=
 *   spawn_threshold; over_polls is the run of consecutive over polls
 *   including this one (an under poll resets it to 0).
 *   1. spawn when over_polls >= 2, not draining, fewer than max_instances
 *      live, and cooldown_s has passed since the last teardown; a spawn
 *      starts the count again (over_polls 0).
 *   2. teardown when demand has been 0 (every stream empty, nothing pending,
 *      no queued job) for idle_s and an instance runs -- never while an
 *      entry is pending, never with nothing running.
 *   3. alert_long_running when a running instance started more than
 *      long_running_s ago and no alert came in the last day; never a kill.
 *   4. otherwise hold, with the reason spawning or teardown waits for.
 * decide() also says what the pool's state becomes (over_polls, idle_since),
 * which the caller stores whatever the action.
 */
#ifndef CD_DECIDE_H
#define CD_DECIDE_H

#include <stdbool.h>
#include <time.h>

#include "base/pools.h"

#define DECIDE_SPAWN_POLLS 2		/* consecutive polls over the threshold */
#define DECIDE_ALERT_EVERY_S 86400	/* a long-running alert again at most this often */

/* What the watcher knows of a pool at one poll. Times: seconds since the
 * epoch, 0 for never. */
struct watch_state {
	long stream_len;	/* sum of XLEN over the pool's streams */
	long pending;		/* sum of XPENDING counts over them */
	long queued_jobs;	/* queued fleet jobs needing the pool's capability */
	bool draining;		/* the pool's tenant is draining: never spawn */
	long live;		/* instances starting, running, stopping or stopped */
	long running;		/* of which running */
	time_t oldest_started_at; /* of the running ones; 0 none */
	int over_polls;		/* consecutive over polls BEFORE this one */
	time_t idle_since;	/* demand 0 since; 0: there was demand */
	time_t last_poll_at;
	time_t last_teardown_at;
	time_t last_alert_at;
};

enum watch_action {
	WATCH_HOLD = 0,
	WATCH_SPAWN,
	WATCH_TEARDOWN,
	WATCH_ALERT_LONG_RUNNING,
};

struct decision {
	enum watch_action action;
	char reason[200];	/* a sentence, for the event and the log */
	long demand;
	int over_polls;		/* store this: the run including this poll (0 after a spawn) */
	time_t idle_since;	/* store this */
};

/* The decision for one pool at now. Never fails. */
struct decision decide(const struct watch_state *s, const struct watch_policy *p, time_t now);

/* Is the pool due for a poll (poll_s since the last, with a second of slack
 * for the clock's rounding)? */
bool decide_due(const struct watch_state *s, const struct watch_policy *p, time_t now);

/* "spawn", "teardown", "hold", "alert_long_running". */
const char *decide_action_name(enum watch_action a);

#endif

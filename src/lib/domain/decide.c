/* decide.c -- the watcher's pure decision. See decide.h for the rules. */
#include <stdio.h>

#include "domain/decide.h"

const char *decide_action_name(enum watch_action a)
{
	switch (a) {
	case WATCH_SPAWN: return "spawn";
	case WATCH_TEARDOWN: return "teardown";
	case WATCH_ALERT_LONG_RUNNING: return "alert_long_running";
	case WATCH_HOLD: break;
	}
	return "hold";
}

bool decide_due(const struct watch_state *s, const struct watch_policy *p, time_t now)
{
	return s->last_poll_at == 0 || now - s->last_poll_at >= p->poll_s - 1;
}

/* Why a pool with demand over the threshold does not spawn now; NULL when it
 * may. */
static const char *spawn_blocked(const struct watch_state *s, const struct watch_policy *p,
				 int over, time_t now, char *buf, size_t cap)
{
	if (over < DECIDE_SPAWN_POLLS)
		snprintf(buf, cap, "demand at or over the threshold on %d poll of %d", over,
			 DECIDE_SPAWN_POLLS);
	else if (s->draining)
		snprintf(buf, cap, "draining: no spawn");
	else if (s->live >= p->max_instances)
		snprintf(buf, cap, "at max_instances (%ld live of %ld)", s->live, p->max_instances);
	else if (s->last_teardown_at != 0 && now - s->last_teardown_at < p->cooldown_s)
		snprintf(buf, cap, "cooling down: %lds since the last teardown, cooldown %lds",
			 (long)(now - s->last_teardown_at), p->cooldown_s);
	else
		return NULL;
	return buf;
}

struct decision decide(const struct watch_state *s, const struct watch_policy *p, time_t now)
{
	struct decision d = {.action = WATCH_HOLD};
	char why[160];
	const char *blocked;

	d.demand = s->stream_len + s->pending + s->queued_jobs;
	d.over_polls = d.demand >= p->spawn_threshold ? s->over_polls + 1 : 0;
	d.idle_since = d.demand > 0 ? 0 : s->idle_since != 0 ? s->idle_since : now;

	/* 1. spawn */
	if (d.over_polls > 0) {
		blocked = spawn_blocked(s, p, d.over_polls, now, why, sizeof(why));
		if (blocked == NULL) {
			d.action = WATCH_SPAWN;
			snprintf(d.reason, sizeof(d.reason),
				 "demand %ld at or over spawn_threshold %ld on %d consecutive polls, "
				 "%ld live of %ld",
				 d.demand, p->spawn_threshold, d.over_polls, s->live, p->max_instances);
			d.over_polls = 0;
			return d;
		}
		snprintf(d.reason, sizeof(d.reason), "demand %ld: %s", d.demand, blocked);
	}
	/* 2. teardown: demand 0 (so nothing pending) for idle_s, something running */
	if (d.demand == 0 && s->running > 0 && now - d.idle_since >= p->idle_s) {
		d.action = WATCH_TEARDOWN;
		snprintf(d.reason, sizeof(d.reason),
			 "no demand for %lds (idle_s %ld), %ld running", (long)(now - d.idle_since),
			 p->idle_s, s->running);
		return d;
	}
	/* 3. alert, never a kill */
	if (s->running > 0 && s->oldest_started_at != 0 &&
	    now - s->oldest_started_at > p->long_running_s &&
	    (s->last_alert_at == 0 || now - s->last_alert_at >= DECIDE_ALERT_EVERY_S)) {
		d.action = WATCH_ALERT_LONG_RUNNING;
		snprintf(d.reason, sizeof(d.reason),
			 "an instance has run for %lds, over long_running_s %ld",
			 (long)(now - s->oldest_started_at), p->long_running_s);
		return d;
	}
	/* 4. hold */
	if (d.reason[0] != '\0')
		return d;
	if (d.demand == 0 && s->running > 0)
		snprintf(d.reason, sizeof(d.reason), "idle for %lds of idle_s %ld",
			 (long)(now - d.idle_since), p->idle_s);
	else if (d.demand > 0 && s->pending > 0 && s->running > 0)
		snprintf(d.reason, sizeof(d.reason), "demand %ld, %ld pending: busy", d.demand,
			 s->pending);
	else
		snprintf(d.reason, sizeof(d.reason), "demand %ld under spawn_threshold %ld",
			 d.demand, p->spawn_threshold);
	return d;
}

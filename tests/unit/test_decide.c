/* test_decide.c -- every rule of the watcher's decision (domain/decide.c,
 * DESIGN section 6): two consecutive polls over the threshold before a
 * spawn, max_instances, the cooldown after a teardown, teardown only after
 * idle_s with nothing pending and something running, the long-running alert
 * at most once a day and never a kill, draining, what demand is made of,
 * and when a pool is due. */
#include <string.h>

#include "../cutest.h"
#include "domain/decide.h"

#define T0 1800000000 /* a fixed "now" */

static struct watch_policy policy(void)
{
	struct watch_policy p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "gpu");
	p.spawn_threshold = 5;
	p.max_instances = 2;
	p.cooldown_s = 300;
	p.idle_s = 600;
	p.long_running_s = 86400;
	p.poll_s = 15;
	return p;
}

/* Applies what decide() says the state becomes, as watch_pass stores it. */
static struct decision poll_once(struct watch_state *s, const struct watch_policy *p, time_t now)
{
	struct decision d = decide(s, p, now);

	s->over_polls = d.over_polls;
	s->idle_since = d.idle_since;
	s->last_poll_at = now;
	return d;
}

static void test_spawn_only_on_the_second_consecutive_poll_over(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 5};

	CU_ASSERT_EQUAL(poll_once(&s, &p, T0).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(s.over_polls, 1);
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 15).action, WATCH_SPAWN);
	CU_ASSERT_EQUAL(s.over_polls, 0); /* a spawn starts the count again */
}

static void test_a_poll_under_resets_the_count(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 9};

	CU_ASSERT_EQUAL(poll_once(&s, &p, T0).action, WATCH_HOLD);
	s.stream_len = 4; /* under */
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 15).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(s.over_polls, 0);
	s.stream_len = 9;
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 30).action, WATCH_HOLD); /* one over again */
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 45).action, WATCH_SPAWN);
}

static void test_exactly_at_the_threshold_counts(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 4, .over_polls = 1};

	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD); /* 4 < 5 */
	s.stream_len = 5;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_SPAWN);
}

static void test_demand_is_streams_plus_pending_plus_queued_jobs(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 2, .pending = 2, .queued_jobs = 1, .over_polls = 1,
				.running = 1, .live = 1};
	struct decision d = decide(&s, &p, T0);

	CU_ASSERT_EQUAL(d.demand, 5);
	CU_ASSERT_EQUAL(d.action, WATCH_SPAWN);
	s.queued_jobs = 0;
	d = decide(&s, &p, T0);
	CU_ASSERT_EQUAL(d.demand, 4);
	CU_ASSERT_EQUAL(d.action, WATCH_HOLD);
	/* jobs alone are demand too */
	s = (struct watch_state){.queued_jobs = 7, .over_polls = 1};
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_SPAWN);
}

static void test_never_at_or_over_max_instances(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 50, .over_polls = 5, .live = 2, .running = 2};
	struct decision d = decide(&s, &p, T0);

	CU_ASSERT_EQUAL(d.action, WATCH_HOLD);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "max_instances"));
	s.live = 3; /* over (a limit lowered since) */
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
	s.live = 1;
	s.running = 1;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_SPAWN);
	/* a live instance that is stopping still counts */
	s.live = 2;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
}

static void test_never_within_the_cooldown_then_again(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 50, .over_polls = 3, .last_teardown_at = T0 - 299};
	struct decision d = decide(&s, &p, T0);

	CU_ASSERT_EQUAL(d.action, WATCH_HOLD);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "cooling down"));
	CU_ASSERT(d.over_polls >= 2); /* the count is kept through the cooldown */
	s.last_teardown_at = T0 - 300;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_SPAWN);
	s.last_teardown_at = T0 - 10000;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_SPAWN);
}

static void test_draining_never_spawns(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.stream_len = 50, .over_polls = 9, .draining = true};
	struct decision d = decide(&s, &p, T0);

	CU_ASSERT_EQUAL(d.action, WATCH_HOLD);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "draining"));
	s.draining = false;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_SPAWN);
}

static void test_teardown_after_idle_s_of_no_demand(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.running = 1, .live = 1};

	CU_ASSERT_EQUAL(poll_once(&s, &p, T0).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(s.idle_since, T0); /* the idle period starts */
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 599).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(s.idle_since, T0); /* and is kept */
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 600).action, WATCH_TEARDOWN);
}

static void test_never_teardown_while_anything_is_pending(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.running = 1, .live = 1, .idle_since = T0 - 100000};

	s.pending = 1; /* the stream is empty but a worker holds an entry */
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(s.idle_since, 0); /* demand: the idle period is over */
	s.pending = 0;
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 15).action, WATCH_HOLD); /* starts again */
	CU_ASSERT_EQUAL(s.idle_since, T0 + 15);
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 614).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(poll_once(&s, &p, T0 + 615).action, WATCH_TEARDOWN);
	/* a non-empty stream or a queued job holds it off too */
	s = (struct watch_state){.running = 1, .live = 1, .idle_since = T0 - 100000,
				 .stream_len = 1};
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
	s.stream_len = 0;
	s.queued_jobs = 1;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
}

static void test_never_teardown_when_nothing_runs(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.idle_since = T0 - 100000};

	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
	s.live = 1; /* one is starting: not running yet */
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
	s.running = 1;
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_TEARDOWN);
}

static void test_long_running_alerts_once_a_day_never_kills(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {.running = 1, .live = 1, .stream_len = 1,
				.oldest_started_at = T0 - 86401};
	struct decision d = decide(&s, &p, T0);

	CU_ASSERT_EQUAL(d.action, WATCH_ALERT_LONG_RUNNING);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "long_running_s"));
	s.last_alert_at = T0; /* alerted just now */
	CU_ASSERT_EQUAL(decide(&s, &p, T0 + 3600).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(decide(&s, &p, T0 + 86399).action, WATCH_HOLD);
	CU_ASSERT_EQUAL(decide(&s, &p, T0 + 86400).action, WATCH_ALERT_LONG_RUNNING);
	/* not old enough: nothing */
	s = (struct watch_state){.running = 1, .live = 1, .stream_len = 1,
				 .oldest_started_at = T0 - 86400};
	CU_ASSERT_EQUAL(decide(&s, &p, T0).action, WATCH_HOLD);
	/* never a kill: a busy old instance is never torn down for its age */
	for (int i = 0; i < 10; i++) {
		s.oldest_started_at = T0 - 86400 * (i + 2);
		CU_ASSERT_NOT_EQUAL(decide(&s, &p, T0).action, WATCH_TEARDOWN);
	}
}

static void test_due_every_poll_s(void)
{
	struct watch_policy p = policy();
	struct watch_state s = {0};

	CU_ASSERT(decide_due(&s, &p, T0)); /* never polled */
	s.last_poll_at = T0;
	CU_ASSERT(!decide_due(&s, &p, T0 + 5));
	CU_ASSERT(decide_due(&s, &p, T0 + 14)); /* a second of slack for rounding */
	CU_ASSERT(decide_due(&s, &p, T0 + 60));
}

static void test_action_names(void)
{
	CU_ASSERT_STRING_EQUAL(decide_action_name(WATCH_SPAWN), "spawn");
	CU_ASSERT_STRING_EQUAL(decide_action_name(WATCH_TEARDOWN), "teardown");
	CU_ASSERT_STRING_EQUAL(decide_action_name(WATCH_HOLD), "hold");
	CU_ASSERT_STRING_EQUAL(decide_action_name(WATCH_ALERT_LONG_RUNNING), "alert_long_running");
}

static CU_TestInfo TESTS[] = {
	{"spawn_only_on_the_second_consecutive_poll_over",
	 test_spawn_only_on_the_second_consecutive_poll_over},
	{"a_poll_under_resets_the_count", test_a_poll_under_resets_the_count},
	{"exactly_at_the_threshold_counts", test_exactly_at_the_threshold_counts},
	{"demand_is_streams_plus_pending_plus_queued_jobs",
	 test_demand_is_streams_plus_pending_plus_queued_jobs},
	{"never_at_or_over_max_instances", test_never_at_or_over_max_instances},
	{"never_within_the_cooldown_then_again", test_never_within_the_cooldown_then_again},
	{"draining_never_spawns", test_draining_never_spawns},
	{"teardown_after_idle_s_of_no_demand", test_teardown_after_idle_s_of_no_demand},
	{"never_teardown_while_anything_is_pending", test_never_teardown_while_anything_is_pending},
	{"never_teardown_when_nothing_runs", test_never_teardown_when_nothing_runs},
	{"long_running_alerts_once_a_day_never_kills",
	 test_long_running_alerts_once_a_day_never_kills},
	{"due_every_poll_s", test_due_every_poll_s},
	{"action_names", test_action_names},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("decide", TESTS);
}

/* main.c -- conductor-watcher: the watcher's timer table, run by the timer
 * runner (domain/timer.h: flags, configuration, the leader lease and its
 * states, one pass with --once or a pass every S seconds with --interval S
 * until SIGTERM). The pass lives in domain/watch.c, the decision in
 * domain/decide.c. */
#include "domain/timer.h"
#include "domain/watch.h"

static const struct timer WATCHER = {
	.program = "conductor-watcher",
	.lease = WATCHER_LEASE,
	.about = "Follows demand with GPU capacity: for each pool of CONDUCTOR_POOLS, reads the\n"
		 "length and pending entries of its streams and the queued jobs needing its\n"
		 "capability, decides spawn / teardown / hold / alert, and acts through the\n"
		 "providers of CONDUCTOR_PROVIDERS, the cheapest offer that fits first.",
	.uses_redis = true,
	.report_size = sizeof(struct watch_report),
	.check_config = watch_check_config,
	.pass = watch_pass,
	.report = watch_report_log,
};

int main(int argc, char **argv)
{
	return timer_main(argc, argv, &WATCHER);
}

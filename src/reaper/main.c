/* main.c -- conductor-reaper: the reaper's timer table, run by the timer
 * runner (domain/timer.h: flags, configuration, the leader lease and its
 * states, one pass with --once or a pass every S seconds with --interval S
 * until SIGTERM). The pass lives in domain/reaper.c. */
#include "domain/reaper.h"
#include "domain/timer.h"

/* With streams configured, the janitor needs Redis. */
static enum cd_err check_config(const struct config *cfg, struct cd_error *e)
{
	if (cfg->streams[0] == '\0')
		return CD_OK;
	return config_require(cfg, "redis_url", e);
}

static const struct timer REAPER = {
	.program = "conductor-reaper",
	.lease = REAPER_LEASE,
	.about = "Requeues jobs whose lease expired, marks silent workers and controllers down,\n"
		 "reclaims or dead-letters stuck Redis stream entries, prunes old history.",
	.uses_redis = true,
	.report_size = sizeof(struct reaper_report),
	.check_config = check_config,
	.pass = reaper_pass,
	.report = reaper_report_log,
};

int main(int argc, char **argv)
{
	return timer_main(argc, argv, &REAPER);
}

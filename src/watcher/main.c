/* main.c -- conductor-watcher: the watcher's timer table, run by the timer
 * runner (domain/timer.h: flags, configuration, the leader lease and its
 * states, one pass with --once or a pass every S seconds with --interval S
 * until SIGTERM). The pass lives in domain/watch.c, the decision in
 * domain/decide.c. Beside the passes, on every copy: result routing
 * (domain/routing.c) when CONDUCTOR_RESULT_ROUTING=on. */
#include <stddef.h>

#include "base/log.h"
#include "domain/routing.h"
#include "domain/timer.h"
#include "domain/watch.h"

/* The pools and providers; the routing keys when routing is on. */
static enum cd_err check_config(const struct config *cfg, struct cd_error *e)
{
	enum cd_err rc = watch_check_config(cfg, e);

	if (rc == CD_OK && cfg->result_routing)
		rc = routing_check_config(cfg, e);
	return rc;
}

/* --interval: a router thread (routing_start_if_on: NULL when off) that
 * routes continuously beside the passes; --once: what is there now
 * (routing_drain), before the pass. */
static void *routing_beside_start(const struct config *cfg, bool once)
{
	struct routing_counts n;
	struct cd_error e;
	char consumer[160];

	if (!once)
		return routing_start_if_on(cfg);
	if (cfg->result_routing) {
		cd_error_reset(&e);
		routing_consumer_name(consumer, sizeof(consumer), NULL);
		if (routing_drain(cfg, consumer, &n, &e) != CD_OK)
			log_error("result routing failed", "field", e.field, "detail", e.message);
	}
	return NULL;
}

static void routing_beside_stop(void *router)
{
	routing_stop_thread(router, NULL);
}

static const struct timer WATCHER = {
	.program = "conductor-watcher",
	.lease = WATCHER_LEASE,
	.about = "Follows demand with GPU capacity: for each pool of CONDUCTOR_POOLS, reads the\n"
		 "length and pending entries of its streams and the queued jobs needing its\n"
		 "capability, decides spawn / teardown / hold / alert, and acts through the\n"
		 "providers of CONDUCTOR_PROVIDERS, the cheapest offer that fits first.",
	.uses_redis = true,
	.report_size = sizeof(struct watch_report),
	.check_config = check_config,
	.pass = watch_pass,
	.report = watch_report_log,
	.beside_start = routing_beside_start,
	.beside_stop = routing_beside_stop,
};

int main(int argc, char **argv)
{
	return timer_main(argc, argv, &WATCHER);
}

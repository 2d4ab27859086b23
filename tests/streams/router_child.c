/* router_child.c -- a result router as a process of its own, for
 * test_routing's kill test until conductor-watcher runs routing itself:
 * `router_child CONSUMER` loads the configuration from the environment and
 * runs routing_run() until SIGTERM, then prints its counts on stdout
 * (`routed N dead N reclaimed N errors N`) and exits 0 (2: bad
 * configuration). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/log.h"
#include "domain/routing.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	struct routing_counts n = {0};
	struct sigaction sa;
	struct config cfg;
	struct cd_error e;
	int status = 2;

	log_set_program("router_child");
	cd_error_reset(&e);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* routing_run's contract: Redis may close on us */
	if (argc != 2) {
		fprintf(stderr, "usage: router_child CONSUMER\n");
		return 2;
	}
	if (config_load(&cfg, NULL, &e) == CD_OK &&
	    routing_run(&cfg, argv[1], &stopping, &n, &e) == CD_OK) {
		printf("routed %ld dead %ld reclaimed %ld errors %ld\n", n.routed, n.dead,
		       n.reclaimed, n.errors);
		status = 0;
	} else {
		fprintf(stderr, "router_child: %s\n", e.message);
	}
	config_free(&cfg);
	return status;
}

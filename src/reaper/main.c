/* main.c -- conductor-reaper: flags, configuration, the schema check, then
 * one pass (--once) or a pass every S seconds (--interval S) until SIGTERM.
 * The pass itself lives in lib/domain/reaper.c. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <getopt.h>

#include "base/cli.h"
#include "base/log.h"
#include "data/db.h"
#include "data/stream.h"
#include "domain/reaper.h"

#define PROGRAM "conductor-reaper"
#define ONCE_LEASE_TTL_S 300	/* --once: covers a long pass; released at the end */
#define MIN_LEASE_TTL_S 30
#define REDIS_TIMEOUT_MS 5000
#define INTERVAL_MAX_S 86400

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROGRAM " (--once | --interval S) [--config FILE]\n"
		"\n"
		"Requeues jobs whose lease expired, marks silent workers and controllers down,\n"
		"reclaims or dead-letters stuck Redis stream entries, prunes old history.\n"
		"Each pass first takes the `reaper` leader lease: with several copies running\n"
		"(on several hosts) only the holder acts, the others stand by.\n"
		"\n"
		"  --once          one pass, then exit (for a systemd timer or cron; the default)\n"
		"  --interval S    a pass every S seconds (1-86400) until SIGTERM, which ends\n"
		"                  the loop after the current pass\n"
		"  --config FILE   key=value configuration file\n"
		"  --help, --version\n"
		"\n"
		"Exit status: 0 pass done or standing by; 1 the database (or Redis) failed;\n"
		"2 bad flags or configuration (the message names the key).\n");
	config_print_help(out);
}

/* Parses the --interval value; 0 when it is not 1..INTERVAL_MAX_S. */
static long parse_interval(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > INTERVAL_MAX_S)
		return 0;
	return v;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Sleeps s seconds in short steps, returning early once a signal came. */
static void nap(long s)
{
	struct timespec step = {0, 100 * 1000 * 1000};

	for (long i = 0; i < s * 10 && !stopping; i++)
		nanosleep(&step, NULL);
}

static void log_report(const struct reaper_report *r, double ms)
{
	char term[24], v[10][24], took[24];
	bool busy = false;
	long n[10] = {r->leases.reaped,	 r->leases.requeued, r->leases.blocked, r->leases.dead,
		      r->factories_down, r->controllers_down, r->streams.requeued,
		      r->streams.dead,	 r->events_pruned,  r->jobs_pruned};

	snprintf(term, sizeof(term), "%lld", (long long)r->term);
	snprintf(took, sizeof(took), "%.1f", ms);
	if (!r->leader) {
		log_info("standing by: another copy holds the reaper lease", "holder", r->holder,
			 "term", term);
		return;
	}
	for (int i = 0; i < 10; i++) {
		snprintf(v[i], sizeof(v[i]), "%ld", n[i]);
		busy = busy || n[i] != 0;
	}
	/* an idle pass every few seconds is not news: debug level */
	log_write(busy ? LOG_INFO : LOG_DEBUG, "pass done", "term", term, "leases_reaped", v[0],
		  "requeued", v[1], "blocked", v[2], "dead_lettered", v[3], "factories_down", v[4],
		  "controllers_down", v[5], "stream_entries_reclaimed", v[6],
		  "stream_entries_dead", v[7], "events_pruned", v[8], "jobs_pruned", v[9], "ms",
		  took, (const char *)0);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* One pass, logged. Returns its status. */
static enum cd_err run_pass(struct db *db, struct stream_conn **rs, const struct config *cfg,
			    const struct reaper_opts *o)
{
	struct reaper_report r;
	struct cd_error e;
	double t0 = now_ms();
	enum cd_err rc;

	cd_error_reset(&e);
	if (*rs == NULL && cfg->streams[0] != '\0' &&
	    stream_open(cfg->redis_url, REDIS_TIMEOUT_MS, rs, &e) != CD_OK)
		log_warn("cannot connect to Redis", "error", e.message);
	cd_error_reset(&e);
	rc = reaper_pass(db, *rs, o, &r, &e);
	if (rc != CD_OK && !r.streams_failed)
		log_error("pass failed", "error", e.message, "sqlstate", e.sqlstate);
	log_report(&r, now_ms() - t0);
	return rc;
}

static int run(const struct config *cfg, long interval)
{
	char host[256] = "localhost", holder[300];
	struct reaper_opts o = {.cfg = cfg, .host = host, .holder = holder};
	struct stream_conn *rs = NULL;
	struct db *db = NULL;
	struct cd_error e;
	enum cd_err rc;

	cd_error_reset(&e);
	gethostname(host, sizeof(host) - 1);
	snprintf(holder, sizeof(holder), "%s/%ld", host, (long)getpid());
	o.lease_ttl_s = interval > 0 ? (int)(interval * 3 > MIN_LEASE_TTL_S ? interval * 3
									 : MIN_LEASE_TTL_S)
				     : ONCE_LEASE_TTL_S;
	if (db_open(cfg->database_url, &db, &e) != CD_OK || db_check_schema(db, &e) != CD_OK) {
		log_error(e.message, "key", e.field);
		fprintf(stderr, PROGRAM ": %s\n", e.message);
		db_close(db);
		return e.err == CD_CONFIG ? 2 : 1;
	}
	log_info("started", "holder", holder, "mode", interval > 0 ? "interval" : "once");
	do {
		rc = run_pass(db, &rs, cfg, &o);
		if (interval > 0)
			nap(interval);
	} while (interval > 0 && !stopping);
	cd_error_reset(&e);
	if (reaper_stand_down(db, &o, &e) != CD_OK)
		log_warn("could not give the lease up; it expires by itself", "error", e.message);
	stream_close(rs);
	db_close(db);
	log_info("stopped");
	return interval > 0 || rc == CD_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"once", no_argument, NULL, 'o'},	 {"interval", required_argument, NULL, 'i'},
		{"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	 {NULL, 0, NULL, 0},
	};
	const char *config_file = NULL;
	struct config cfg;
	struct cd_error e;
	long interval = 0;
	int c, status, once = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': once = 1; break;
		case 'i':
			interval = parse_interval(optarg);
			if (interval == 0) {
				fprintf(stderr, PROGRAM ": --interval must be 1 to %d seconds, not %s\n",
					INTERVAL_MAX_S, optarg);
				return 2;
			}
			break;
		case 'c': config_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': cli_print_version(PROGRAM); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || (once && interval > 0)) {
		fprintf(stderr, PROGRAM ": %s\n",
			optind < argc ? "unexpected argument" : "--once and --interval exclude each other");
		return 2;
	}
	cli_load_config(&cfg, PROGRAM, config_file);
	cd_error_reset(&e);
	if (config_require(&cfg, "database_url", &e) != CD_OK ||
	    (cfg.streams[0] != '\0' && config_require(&cfg, "redis_url", &e) != CD_OK))
		cli_die_config(PROGRAM, &e);
	install_signals();
	status = run(&cfg, interval);
	config_free(&cfg);
	return status;
}

/* main.c -- conductor-watcher: flags, configuration, the schema check, then
 * one pass (--once) or a pass every S seconds (--interval S) until SIGTERM.
 * The pass lives in lib/domain/watch.c; the decision in lib/domain/decide.c.
 * (Written on src/reaper/main.c's model until the shared timer runner
 * lands; the flags, lease and exit statuses are the reaper's.) */
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
#include "data/provider.h"
#include "data/stream.h"
#include "domain/watch.h"

#define PROGRAM "conductor-watcher"
#define ONCE_LEASE_TTL_S 300	/* --once: covers a slow provider; released at the end */
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
		"Follows demand with GPU capacity: for each pool of CONDUCTOR_POOLS, reads its\n"
		"streams' length and pending entries and the queued jobs needing its capability,\n"
		"decides spawn / teardown / hold / alert, and acts through the providers of\n"
		"CONDUCTOR_PROVIDERS (the cheapest offer that fits first). Each pass first takes\n"
		"the `watcher` leader lease: with several copies running only the holder acts.\n"
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

static void log_report(const struct watch_report *r)
{
	char term[24], v[6][24];
	long n[6] = {r->pools, r->spawned, r->torn_down, r->alerts, r->failed, r->raced};
	bool busy = false;

	snprintf(term, sizeof(term), "%lld", (long long)r->term);
	if (!r->leader) {
		log_info("standing by: another copy holds the watcher lease", "holder", r->holder,
			 "term", term);
		return;
	}
	for (int i = 0; i < 6; i++) {
		snprintf(v[i], sizeof(v[i]), "%ld", n[i]);
		busy = busy || (i > 0 && n[i] != 0);
	}
	log_write(busy ? LOG_INFO : LOG_DEBUG, "pass done", "term", term, "pools", v[0], "spawned",
		  v[1], "torn_down", v[2], "alerts", v[3], "failed", v[4], "raced", v[5],
		  (const char *)0);
}

/* One pass, logged. Returns its status. */
static enum cd_err run_pass(struct db *db, struct stream_conn **rs, const struct watch_opts *o)
{
	struct watch_report r;
	struct cd_error e;
	enum cd_err rc;

	cd_error_reset(&e);
	if (*rs == NULL && stream_open(o->cfg->redis_url, REDIS_TIMEOUT_MS, rs, &e) != CD_OK)
		log_warn("cannot connect to Redis", "error", e.message);
	cd_error_reset(&e);
	rc = watch_pass(db, *rs, o, &r, &e);
	if (rc != CD_OK)
		log_error("pass failed", "error", e.message, "sqlstate", e.sqlstate);
	log_report(&r);
	return rc;
}

static int run(const struct config *cfg, long interval)
{
	char host[256] = "localhost", holder[300];
	struct watch_opts o = {.cfg = cfg, .host = host, .holder = holder};
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
	if (cfg->pools[0] == '\0')
		log_warn("no pools configured (CONDUCTOR_POOLS): every pass does nothing");
	log_info("started", "holder", holder, "mode", interval > 0 ? "interval" : "once");
	do {
		rc = run_pass(db, &rs, &o);
		if (interval > 0)
			nap(interval);
	} while (interval > 0 && !stopping);
	cd_error_reset(&e);
	if (watch_stand_down(db, &o, &e) != CD_OK)
		log_warn("could not give the lease up; it expires by itself", "error", e.message);
	stream_close(rs);
	db_close(db);
	log_info("stopped");
	return interval > 0 || rc == CD_OK ? 0 : 1;
}

/* Every provider of cfg->providers has an adapter in this build. */
static enum cd_err check_providers(const struct config *cfg, struct cd_error *e)
{
	const char *p = cfg->providers;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : 31), p);
		if (provider_find(name) == NULL)
			return cd_fail(e, CD_CONFIG, "providers",
				       "configuration key providers (CONDUCTOR_PROVIDERS): %s is not "
				       "built into this conductor-watcher.",
				       name);
		p += len + (p[len] == ',');
	}
	return CD_OK;
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
	    config_require(&cfg, "redis_url", &e) != CD_OK || check_providers(&cfg, &e) != CD_OK)
		cli_die_config(PROGRAM, &e);
	install_signals();
	status = run(&cfg, interval);
	config_free(&cfg);
	return status;
}

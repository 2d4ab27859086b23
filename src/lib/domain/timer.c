/* timer.c -- the runner of conductor's timers: flags, configuration, the
 * loop, the leader lease and the leader states. See timer.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <getopt.h>

#include "base/cli.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/db_control.h"
#include "data/db_timers.h"
#include "domain/timer.h"

static volatile sig_atomic_t stopping;

/* One copy of a timer while it runs. */
struct runner {
	const struct timer *t;
	struct timer_ctx ctx;
	long interval;	      /* 0: --once */
	enum timer_state state;
	bool stated;	      /* a state was taken (and logged) already */
	int failures;	      /* renewals failed in a row */
	char leader[129];     /* the lease's holder, as last seen */
	void *report;	      /* t->report_size bytes */
};

static const char *const STATE_NAMES[] = {
	[TIMER_STANDBY] = "standby",
	[TIMER_LEADER] = "leader",
	[TIMER_DEGRADED] = "degraded",
};

const char *timer_state_name(enum timer_state s)
{
	return STATE_NAMES[s];
}

/* ---- the command line ------------------------------------------------------ */

static void usage(FILE *out, const struct timer *t)
{
	fprintf(out,
		"Usage: %s (--once | --interval S) [--config FILE]\n"
		"\n"
		"%s\n"
		"Each pass first takes the `%s` leader lease: with several copies running\n"
		"(on several hosts) only the holder acts, the others stand by. After %d\n"
		"failed renewals in a row (PostgreSQL unreachable) a copy is degraded and\n"
		"does nothing until a renewal succeeds again.\n"
		"\n"
		"  --once          one pass, then exit (for a systemd timer or cron; the default)\n"
		"  --interval S    a pass every S seconds (1-%d) until SIGTERM, which ends\n"
		"                  the loop after the current pass\n"
		"  --config FILE   key=value configuration file\n"
		"  --help, --version\n"
		"\n"
		"Exit status: 0 pass done or standing by; 1 the database (or Redis) failed;\n"
		"2 bad flags or configuration (the message names the key).\n",
		t->program, t->about, t->lease, TIMER_DEGRADED_AFTER, TIMER_INTERVAL_MAX_S);
	config_print_help(out);
}

/* Parses the --interval value; 0 when it is not 1..TIMER_INTERVAL_MAX_S. */
static long parse_interval(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > TIMER_INTERVAL_MAX_S)
		return 0;
	return v;
}

/* Parses argv into *interval and *config_file. Returns -1 to go on, else the
 * exit status (0 after --help / --version, 2 for bad flags). */
static int parse_flags(int argc, char **argv, const struct timer *t, long *interval,
		       const char **config_file)
{
	static const struct option opts[] = {
		{"once", no_argument, NULL, 'o'},	 {"interval", required_argument, NULL, 'i'},
		{"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	 {NULL, 0, NULL, 0},
	};
	int c, once = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': once = 1; break;
		case 'i':
			*interval = parse_interval(optarg);
			if (*interval == 0) {
				fprintf(stderr, "%s: --interval must be 1 to %d seconds, not %s\n",
					t->program, TIMER_INTERVAL_MAX_S, optarg);
				return 2;
			}
			break;
		case 'c': *config_file = optarg; break;
		case 'h': usage(stdout, t); return 0;
		case 'V': cli_print_version(t->program); return 0;
		default: usage(stderr, t); return 2;
		}
	}
	if (optind < argc || (once && *interval > 0)) {
		fprintf(stderr, "%s: %s\n", t->program,
			optind < argc ? "unexpected argument" : "--once and --interval exclude each other");
		return 2;
	}
	return -1;
}

/* ---- signals and time ------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

bool timer_stopping(void)
{
	return stopping != 0;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* a write to a connection Redis closed fails with EPIPE, not the process */
	signal(SIGPIPE, SIG_IGN);
}

/* Sleeps s seconds in short steps, returning early once a signal came. */
static void nap(long s)
{
	struct timespec step = {0, 100 * 1000 * 1000};

	for (long i = 0; i < s * 10 && !stopping; i++)
		nanosleep(&step, NULL);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* ---- leader states --------------------------------------------------------- */

/* Writes this copy's row; a failure is only logged (the pass goes on). */
static void record(struct runner *r)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (db_timers_record(r->ctx.db, r->t->lease, r->ctx.holder, r->ctx.host,
			     timer_state_name(r->state), r->ctx.term,
			     r->leader[0] != '\0' ? r->leader : NULL, r->ctx.lease_ttl_s,
			     &e) != CD_OK)
		log_write(r->state == TIMER_DEGRADED ? LOG_DEBUG : LOG_WARN,
			  "could not record the timer's state", "error", e.message, (const char *)0);
}

/* Takes state s (leader: the lease's holder); logs it only when it changed
 * (or, standing by, when another copy took the lease), and records it. */
static void set_state(struct runner *r, enum timer_state s, const char *leader,
		      const struct cd_error *why)
{
	char term[24], msg[160];
	bool news = !r->stated || s != r->state ||
		    (s == TIMER_STANDBY && strcmp(leader, r->leader) != 0);

	if (s != TIMER_DEGRADED)
		snprintf(r->leader, sizeof(r->leader), "%s", leader);
	r->state = s;
	r->stated = true;
	record(r);
	if (!news)
		return;
	snprintf(term, sizeof(term), "%lld", (long long)r->ctx.term);
	switch (s) {
	case TIMER_LEADER:
		snprintf(msg, sizeof(msg), "leader: this copy holds the %s lease", r->t->lease);
		log_info(msg, "holder", r->ctx.holder, "term", term);
		break;
	case TIMER_STANDBY:
		snprintf(msg, sizeof(msg), "standing by: another copy holds the %s lease",
			 r->t->lease);
		log_info(msg, "holder", leader, "term", term);
		break;
	case TIMER_DEGRADED:
		snprintf(msg, sizeof(msg),
			 "degraded: %d renewals of the %s lease failed in a row; not acting"
			 " until one succeeds",
			 r->failures, r->t->lease);
		log_error(msg, "error", why->message, "sqlstate", why->sqlstate);
		break;
	}
}

/* Takes or renews the lease. CD_OK: *leader says whether this copy holds it
 * (r's state follows); else the renewal failed and was logged. */
static enum cd_err renew(struct runner *r, bool *leader, struct cd_error *e)
{
	struct leader_lease lease;
	char n[12];
	enum cd_err rc;

	*leader = false;
	rc = db_control_acquire(r->ctx.db, LEADER_SYSTEM_TENANT, r->t->lease, r->ctx.holder,
				r->ctx.host, r->ctx.lease_ttl_s, NULL, &lease, e);
	if (rc != CD_OK) {
		r->failures++;
		snprintf(n, sizeof(n), "%d", r->failures);
		if (r->failures == TIMER_DEGRADED_AFTER)
			set_state(r, TIMER_DEGRADED, NULL, e);
		else
			log_write(r->failures < TIMER_DEGRADED_AFTER ? LOG_WARN : LOG_DEBUG,
				  "lease renewal failed: this pass does nothing", "lease",
				  r->t->lease, "failures_in_a_row", n, "error", e->message,
				  "sqlstate", e->sqlstate, (const char *)0);
		return rc;
	}
	r->failures = 0;
	r->ctx.term = lease.term;
	*leader = lease.is_leader;
	set_state(r, lease.is_leader ? TIMER_LEADER : TIMER_STANDBY, lease.holder_id, NULL);
	return CD_OK;
}

bool timer_still_leader(struct timer_ctx *ctx, enum cd_err *rc, struct cd_error *e)
{
	struct leader_lease lease;
	char msg[120];

	*rc = db_control_acquire(ctx->db, LEADER_SYSTEM_TENANT, ctx->lease, ctx->holder,
				 ctx->host, ctx->lease_ttl_s, NULL, &lease, e);
	if (*rc == CD_OK && !lease.is_leader) {
		snprintf(msg, sizeof(msg), "lost the %s lease mid-pass: stopping", ctx->lease);
		log_warn(msg, "holder", lease.holder_id);
	}
	return *rc == CD_OK && lease.is_leader;
}

/* ---- the loop -------------------------------------------------------------- */

/* One pass: the lease, then (as the leader) the timer's pass, logged.
 * Returns its status. */
static enum cd_err run_pass(struct runner *r)
{
	const struct config *cfg = r->ctx.cfg;
	struct cd_error e;
	bool leader;
	double t0;
	enum cd_err rc;
	char actor[128];

	cd_error_reset(&e);
	r->ctx.step = "lease";
	rc = renew(r, &leader, &e);
	if (rc != CD_OK || !leader)
		return rc;
	if (r->t->uses_redis && r->ctx.rs == NULL && cfg->streams[0] != '\0' &&
	    stream_open(cfg->redis_url, TIMER_REDIS_TIMEOUT_MS, &r->ctx.rs, &e) != CD_OK)
		log_warn("cannot connect to Redis", "error", e.message);
	cd_error_reset(&e);
	/* what the pass writes names this timer and its term (job events, runs) */
	r->ctx.step = "actor";
	snprintf(actor, sizeof(actor), "{\"timer\":\"%s\",\"term\":%lld}", r->t->lease,
		 (long long)r->ctx.term);
	if ((rc = db_set_actor(r->ctx.db, actor, &e)) != CD_OK) {
		log_error("pass failed", "step", r->ctx.step, "error", e.message);
		return rc;
	}
	memset(r->report, 0, r->t->report_size);
	r->ctx.step = "pass";
	t0 = now_ms();
	rc = r->t->pass(&r->ctx, r->report, &e);
	if (rc != CD_OK)
		log_error("pass failed", "step", r->ctx.step, "error", e.message, "sqlstate",
			  e.sqlstate);
	r->t->report(&r->ctx, r->report, rc == CD_OK, now_ms() - t0);
	return rc;
}

/* Gives the lease up and forgets this copy's row, so a standby takes over at
 * once and GET /v1/status no longer lists it. */
static void stand_down(struct runner *r)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (db_control_release(r->ctx.db, LEADER_SYSTEM_TENANT, r->t->lease, r->ctx.holder, &e) !=
	    CD_OK)
		log_warn("could not give the lease up; it expires by itself", "error", e.message);
	cd_error_reset(&e);
	if (db_timers_forget(r->ctx.db, r->t->lease, r->ctx.holder, &e) != CD_OK)
		log_warn("could not remove the timer's row; it goes stale by itself", "error",
			 e.message);
}

static int run(const struct timer *t, const struct config *cfg, long interval)
{
	char host[256] = "localhost", holder[300];
	struct runner r = {.t = t, .interval = interval};
	void *beside;
	struct cd_error e;
	enum cd_err rc = CD_OK;

	cd_error_reset(&e);
	gethostname(host, sizeof(host) - 1);
	snprintf(holder, sizeof(holder), "%s/%ld", host, (long)getpid());
	r.ctx = (struct timer_ctx){.cfg = cfg, .lease = t->lease, .holder = holder, .host = host};
	r.ctx.lease_ttl_s = interval > 0 ? (int)(interval * 3 > TIMER_MIN_LEASE_TTL_S
							 ? interval * 3
							 : TIMER_MIN_LEASE_TTL_S)
					 : TIMER_ONCE_LEASE_TTL_S;
	if (db_open(cfg->database_url, &r.ctx.db, &e) != CD_OK ||
	    db_check_schema(r.ctx.db, &e) != CD_OK) {
		log_error(e.message, "key", e.field);
		fprintf(stderr, "%s: %s\n", t->program, e.message);
		db_close(r.ctx.db);
		return e.err == CD_CONFIG ? 2 : 1;
	}
	r.report = xcalloc(1, t->report_size > 0 ? t->report_size : 1);
	log_info("started", "holder", holder, "mode", interval > 0 ? "interval" : "once");
	beside = t->beside_start != NULL ? t->beside_start(cfg, interval == 0) : NULL;
	do {
		rc = run_pass(&r);
		if (interval > 0)
			nap(interval);
	} while (interval > 0 && !stopping);
	if (t->beside_stop != NULL)
		t->beside_stop(beside);
	stand_down(&r);
	stream_close(r.ctx.rs);
	db_close(r.ctx.db);
	free(r.report);
	log_info("stopped");
	return interval > 0 || rc == CD_OK ? 0 : 1;
}

int timer_main(int argc, char **argv, const struct timer *t)
{
	const char *config_file = NULL;
	struct config cfg;
	struct cd_error e;
	long interval = 0;
	int status;

	status = parse_flags(argc, argv, t, &interval, &config_file);
	if (status >= 0)
		return status;
	cli_load_config(&cfg, t->program, config_file);
	cd_error_reset(&e);
	if (config_require(&cfg, "database_url", &e) != CD_OK ||
	    (t->check_config != NULL && t->check_config(&cfg, &e) != CD_OK)) {
		config_free(&cfg);
		cli_die_config(t->program, &e);
	}
	install_signals();
	status = run(t, &cfg, interval);
	config_free(&cfg);
	return status;
}

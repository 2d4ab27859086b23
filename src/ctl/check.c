/* check.c -- `conductorctl check`: what a deployment needs, line by line, in
 * the spirit of `nginx -t`.
 *
 *   ✔ 1. configuration   loads, every key valid (the keys not at their
 *                        default listed, secrets masked)
 *   ✔ 2. PostgreSQL      database_url answers
 *   ✔ 3. schema          at the migration this build expects, or the missing one named
 *   ✔ 4. Redis           redis_url answers; each of `streams` has `stream_group`
 *   ✔ 5. API             url answers GET /readyz (through nginx)
 *   ✔ 6. token           GET /v1/whoami: its tenant, role and expiry
 *   ✔ 7. timers          each timer's leader state (table `timers`)
 *   ⚠ warnings           a token expiring within 7 days, a timer whose passes
 *                        are further apart than its lease TTL, a provider
 *                        without its key, no live token at all
 *
 * Each check names the one it needs (CHECKS[].needs): when that one did not
 * pass, it says "skipped" instead of failing a second time for the same
 * cause. A failed line says what to do. Exit 0 only when every check passed
 * (warnings do not fail); 1 otherwise. --json prints the same as
 * {ok, checks: [{n, name, status: pass|fail|skip, message, fix}], warnings}.
 *
 * The command needs nothing opened (CTL_NEEDS_NOTHING): it loads the
 * configuration itself so that a bad key is line 1, not an exit. It never
 * prints a secret: values go through config_value_text(masked).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "base/config.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "ctl/client.h"
#include "ctl/ctl.h"
#include "data/db.h"
#include "data/db_auth.h"
#include "data/db_timers.h"
#include "data/stream.h"
#include "domain/timer.h"

#define TEXT_MAX 2048
#define EXPIRY_WARN_S (7 * 86400)
#define REDIS_TIMEOUT_MS 3000
#define API_TIMEOUT_MS 10000
#define PG_CONNECT_TIMEOUT_S "5" /* libpq's PGCONNECT_TIMEOUT, when the caller set none */

enum verdict { CHECK_PASS, CHECK_FAIL, CHECK_SKIP };

/* What the checks share, in the order they fill it. */
struct state {
	struct ctl *ctl;
	enum config_source *sources; /* config_nkeys() slots */
	struct db *db;               /* check 2 opened it */
	struct stream_conn *rs;      /* check 4 opened it */
	struct client api;           /* check 5 filled it */
	bool have_token;             /* a token to send (--token, token, admin_token) */
	char token_name[129];        /* check 6: whoami's name */
	struct json_object *warnings; /* owned: array of strings */
	/* written by the check being run */
	char msg[TEXT_MAX];     /* what it found, one line */
	char fix[TEXT_MAX];     /* what to do, when it failed */
	char details[TEXT_MAX]; /* more lines, each printed indented */
};

__attribute__((format(printf, 3, 4))) static void put(char *out, size_t cap, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(out, cap, f, ap);
	va_end(ap);
}

/* Appends a line to s->details. */
__attribute__((format(printf, 2, 3))) static void detail(struct state *s, const char *f, ...)
{
	size_t n = strlen(s->details);
	va_list ap;

	if (n + 2 >= sizeof(s->details))
		return;
	if (n > 0)
		s->details[n++] = '\n';
	va_start(ap, f);
	vsnprintf(s->details + n, sizeof(s->details) - n, f, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void warn(struct state *s, const char *f, ...)
{
	char line[TEXT_MAX];
	va_list ap;

	va_start(ap, f);
	vsnprintf(line, sizeof(line), f, ap);
	va_end(ap);
	json_object_array_add(s->warnings, json_object_new_string(line));
}

/* Seconds from now to an API/database timestamp ("2026-12-03T19:22:54.178Z");
 * false when ts does not parse. */
static bool seconds_until(const char *ts, long *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return false;
	*out = (long)difftime(timegm(&tm), time(NULL));
	return true;
}

/* ---- 1. configuration ------------------------------------------------------ */

static enum verdict check_config(struct state *s)
{
	struct cd_error e;
	size_t set = 0;
	char value[512];

	cd_error_reset(&e);
	if (config_load_sources(&s->ctl->cfg, s->ctl->config_file, s->sources, &e) != CD_OK) {
		put(s->msg, sizeof(s->msg), "%s", e.message);
		if (strcmp(e.field, "config") == 0) /* the file itself: missing, or a line */
			put(s->fix, sizeof(s->fix),
			    "give --config a readable file of key=value lines (# comments)");
		else
			put(s->fix, sizeof(s->fix),
			    "correct %s in the environment%s%s; `" PROGRAM " --help` lists every "
			    "key and its range",
			    e.field, s->ctl->config_file ? " or " : "",
			    s->ctl->config_file ? s->ctl->config_file : "");
		return CHECK_FAIL;
	}
	for (size_t i = 0; i < config_nkeys(); i++) {
		if (s->sources[i] == CONFIG_SOURCE_DEFAULT)
			continue;
		set++;
		config_value_text(&s->ctl->cfg, i, true, value, sizeof(value));
		detail(s, "%s = %s  (%s)", config_key_name(i), value,
		       config_source_name(s->sources[i]));
	}
	/* the lines say what failed; retries and reconnects are logged only
	 * when asked for (log_level=debug) */
	if (log_level_parse(s->ctl->cfg.log_level) != LOG_DEBUG)
		log_set_level(LOG_ERROR);
	put(s->msg, sizeof(s->msg), "loads: every key valid, %zu set%s%s, the others at their default",
	    set, s->ctl->config_file ? " from the environment and " : " in the environment",
	    s->ctl->config_file ? s->ctl->config_file : "");
	return CHECK_PASS;
}

/* ---- 2. PostgreSQL ---------------------------------------------------------- */

static enum verdict check_postgresql(struct state *s)
{
	struct cd_error e;
	char where[512];

	cd_error_reset(&e);
	config_mask_url(s->ctl->cfg.database_url, where, sizeof(where));
	if (s->ctl->cfg.database_url[0] == '\0') {
		put(s->msg, sizeof(s->msg), "database_url is empty");
		put(s->fix, sizeof(s->fix),
		    "set CONDUCTOR_DATABASE_URL (tools/up writes it into var/conductor.env)");
		return CHECK_FAIL;
	}
	setenv("PGCONNECT_TIMEOUT", PG_CONNECT_TIMEOUT_S, 0);
	if (db_open(s->ctl->cfg.database_url, &s->db, &e) != CD_OK ||
	    db_ping(s->db, &e) != CD_OK) {
		db_close(s->db);
		s->db = NULL;
		put(s->msg, sizeof(s->msg), "%s (database_url %s)", e.message, where);
		put(s->fix, sizeof(s->fix),
		    "start PostgreSQL, or point database_url at it (`" PROGRAM " config` shows "
		    "where the value comes from)");
		return CHECK_FAIL;
	}
	put(s->msg, sizeof(s->msg), "answers at %s", where);
	return CHECK_PASS;
}

/* ---- 3. schema -------------------------------------------------------------- */

static enum verdict check_schema(struct state *s)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (db_check_schema(s->db, &e) != CD_OK) {
		put(s->msg, sizeof(s->msg), "%s", e.message);
		put(s->fix, sizeof(s->fix),
		    "run tools/migrate with CONDUCTOR_DATABASE_URL set to this database");
		return CHECK_FAIL;
	}
	put(s->msg, sizeof(s->msg), "at %s, the migration this build expects",
	    db_schema_expected());
	return CHECK_PASS;
}

/* ---- 4. Redis --------------------------------------------------------------- */

static enum verdict check_redis(struct state *s)
{
	const struct config *cfg = &s->ctl->cfg;
	char where[512], missing[TEXT_MAX] = "", name[256];
	size_t nstreams = 0;
	struct cd_error e;

	cd_error_reset(&e);
	config_mask_url(cfg->redis_url, where, sizeof(where));
	if (stream_open(cfg->redis_url, REDIS_TIMEOUT_MS, &s->rs, &e) != CD_OK ||
	    stream_ping(s->rs, &e) != CD_OK) {
		put(s->msg, sizeof(s->msg), "%s (redis_url %s)", e.message, where);
		put(s->fix, sizeof(s->fix), "start Redis, or point redis_url at it");
		return CHECK_FAIL;
	}
	for (const char *p = cfg->streams; *p != '\0';) {
		size_t len = strcspn(p, ",");
		bool has = false;

		put(name, sizeof(name), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if (len == 0)
			continue;
		nstreams++;
		if (stream_group_exists(s->rs, name, cfg->stream_group, &has, &e) != CD_OK) {
			put(s->msg, sizeof(s->msg), "%s (stream %s)", e.message, name);
			put(s->fix, sizeof(s->fix), "look at Redis's log");
			return CHECK_FAIL;
		}
		if (!has)
			put(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			    missing[0] ? ", " : "", name);
	}
	if (missing[0] != '\0') {
		put(s->msg, sizeof(s->msg), "answers at %s, but stream(s) %s have no consumer group %s",
		    where, missing, cfg->stream_group);
		put(s->fix, sizeof(s->fix),
		    "start the workers that read them, or create the group: redis-cli XGROUP CREATE "
		    "STREAM %s 0 MKSTREAM",
		    cfg->stream_group);
		return CHECK_FAIL;
	}
	if (nstreams == 0)
		put(s->msg, sizeof(s->msg), "answers at %s (no streams configured)", where);
	else
		put(s->msg, sizeof(s->msg), "answers at %s; %zu stream(s) %s have group %s", where,
		    nstreams, cfg->streams, cfg->stream_group);
	return CHECK_PASS;
}

/* ---- 5. API ------------------------------------------------------------------ */

static enum verdict check_api(struct state *s)
{
	struct client_answer a = {0};
	struct cd_error e;
	enum verdict v = CHECK_FAIL;

	cd_error_reset(&e);
	if (client_open(&s->api, s->ctl, &e) != CD_OK) {
		if (strcmp(e.field, "token") != 0) {
			put(s->msg, sizeof(s->msg), "%s", e.message);
			put(s->fix, sizeof(s->fix), "set CONDUCTOR_URL to nginx's address, or pass --url");
			return CHECK_FAIL;
		}
		/* no token: /readyz needs none; check 6 says what is missing */
		{
			struct ctl with = *s->ctl;

			with.token = "-";
			client_open(&s->api, &with, &e);
			s->api.token = NULL;
		}
	} else {
		s->have_token = true;
	}
	if (client_call_within(&s->api, API_TIMEOUT_MS, "GET", "/readyz", NULL, &a, &e) != CD_OK) {
		put(s->msg, sizeof(s->msg), "GET %s/readyz: %s", s->api.url, e.message);
		if (a.status == 503 && e.code[0] != '\0' && e.field[0] != '\0')
			put(s->fix, sizeof(s->fix),
			    "the API answers but is not ready: %s is down for conductor-fcgi (see "
			    "its log, and checks 2-4)",
			    e.field);
		else
			put(s->fix, sizeof(s->fix),
			    "start nginx and conductor-fcgi, or set url to nginx's address (--url)");
		goto out;
	}
	put(s->msg, sizeof(s->msg), "%s/readyz answers %s (schema %s)", s->api.url,
	    json_get_string(a.data, "status", "?"), json_get_string(a.data, "schema", "?"));
	v = CHECK_PASS;
out:
	client_answer_free(&a);
	return v;
}

/* ---- 6. token ----------------------------------------------------------------- */

/* The expiry of the live token called name, from the database: into out
 * ("never" when it has none); false when unknown. */
static bool token_expiry(struct state *s, const char *name, char *out, size_t cap,
			 const char **expires_at)
{
	struct json_object *rows = NULL;
	struct cd_error e;
	bool found = false;

	cd_error_reset(&e);
	*expires_at = NULL;
	if (s->db == NULL || db_auth_list(s->db, &rows, &e) != CD_OK)
		goto out;
	for (size_t i = 0; i < json_object_array_length(rows) && !found; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *exp = json_get_string(r, "expires_at", NULL);
		char rel[64];

		if (strcmp(json_get_string(r, "name", ""), name) != 0 ||
		    json_get_string(r, "revoked_at", NULL) != NULL)
			continue;
		found = true;
		if (exp == NULL) {
			put(out, cap, "never expires");
		} else {
			put(out, cap, "expires %s (%s)", ctl_relative_time(exp, 0, rel, sizeof(rel)), exp);
			*expires_at = exp;
		}
	}
out:
	json_object_put(rows);
	return found;
}

static enum verdict check_token(struct state *s)
{
	struct client_answer a = {0};
	const char *tenant, *role, *expires_at;
	char expiry[256];
	struct cd_error e;
	long left;
	enum verdict v = CHECK_FAIL;

	cd_error_reset(&e);
	if (!s->have_token) {
		put(s->msg, sizeof(s->msg), "no token: token and admin_token are empty");
		put(s->fix, sizeof(s->fix),
		    "make one (" PROGRAM " token create --role operator --name NAME) and set "
		    "CONDUCTOR_TOKEN, or pass --token");
		return CHECK_FAIL;
	}
	if (client_call_within(&s->api, API_TIMEOUT_MS, "GET", "/v1/whoami", NULL, &a, &e) != CD_OK) {
		put(s->msg, sizeof(s->msg), "GET /v1/whoami refused the token: %s%s%s", e.message,
		    e.code[0] ? " -- " : "", e.code);
		put(s->fix, sizeof(s->fix),
		    "the token is unknown, revoked or expired: make a new one (" PROGRAM
		    " token create --role ROLE --name NAME) and set CONDUCTOR_TOKEN");
		goto out;
	}
	tenant = json_get_string(a.data, "tenant", "");
	role = json_get_string(a.data, "role", "?");
	put(s->token_name, sizeof(s->token_name), "%s", json_get_string(a.data, "name", "?"));
	if (!token_expiry(s, s->token_name, expiry, sizeof(expiry), &expires_at))
		put(expiry, sizeof(expiry), "expiry unknown (PostgreSQL did not say)");
	put(s->msg, sizeof(s->msg), "\"%s\" is valid: tenant %s, role %s, %s", s->token_name,
	    tenant[0] ? tenant : "* (every tenant)", role, expiry);
	if (expires_at != NULL && seconds_until(expires_at, &left) && left < EXPIRY_WARN_S)
		warn(s, "the token in use, \"%s\", %s: make another before then", s->token_name,
		     expiry);
	v = CHECK_PASS;
out:
	client_answer_free(&a);
	return v;
}

/* ---- 7. timers ---------------------------------------------------------------- */

/* The JSON array a db_timers_* call answered (new; NULL on failure, e set). */
static struct json_object *timers_json(struct state *s,
				       enum cd_err (*read)(struct db *, char **, struct cd_error *),
				       struct cd_error *e)
{
	struct json_object *out = NULL;
	char *text = NULL;

	if (read(s->db, &text, e) == CD_OK)
		json_parse_strict(text, strlen(text), &out, e);
	free(text);
	return out;
}

/* One timer's line from its copies' rows and its lease; false when it has
 * no healthy copy but a degraded one. */
static bool one_timer(struct state *s, const char *name, struct json_object *rows,
		      struct json_object *lease)
{
	const char *leader = NULL, *degraded = NULL, *degraded_at = NULL;
	int standby = 0, fresh = 0;
	int64_t term = 0, ttl = 0;
	char rel[64];
	long since;

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *state = json_get_string(r, "state", "");

		if (strcmp(json_get_string(r, "name", ""), name) != 0)
			continue;
		if (strcmp(state, "degraded") == 0) {
			degraded = json_get_string(r, "holder", "?");
			degraded_at = json_get_string(r, "updated_at", NULL);
			continue;
		}
		fresh++;
		if (strcmp(state, "leader") == 0) {
			leader = json_get_string(r, "holder", "?");
			term = json_get_int(r, "term", 0);
		} else {
			standby++;
		}
	}
	if (leader != NULL) {
		detail(s, "%s: leader %s (term %lld)%s%d standby", name, leader, (long long)term,
		       ", ", standby);
		if (degraded != NULL)
			warn(s, "timer %s: copy %s has not written its state since %s (degraded): it "
			     "died or cannot reach PostgreSQL; the leader %s goes on",
			     name, degraded, ctl_relative_time(degraded_at, 0, rel, sizeof(rel)), leader);
		return true;
	}
	if (degraded != NULL && fresh == 0) {
		detail(s, "%s: no healthy copy; %s degraded since %s", name, degraded,
		       ctl_relative_time(degraded_at, 0, rel, sizeof(rel)));
		return false;
	}
	if (fresh > 0) {
		detail(s, "%s: %d standby, the lease held by %s", name, standby,
		       json_get_string(lease, "holder", "nobody"));
		return true;
	}
	/* no copy running now: a --once copy on a timer exits after its pass and
	 * gives the lease up (its expiry is the end of the last pass) */
	detail(s, "%s: no copy running now; last pass ended %s (term %lld)", name,
	       ctl_relative_time(json_get_string(lease, "lease_expires_at", NULL), 0, rel, sizeof(rel)),
	       (long long)json_get_int(lease, "term", 0));
	ttl = TIMER_ONCE_LEASE_TTL_S;
	if (!json_get_bool(lease, "live", false) &&
	    seconds_until(json_get_string(lease, "lease_expires_at", NULL), &since) && -since > ttl)
		warn(s, "timer %s: its last pass ended %s, longer ago than its lease TTL (%lld s): "
		     "run it at least every %lld s (a longer interval lets another copy take the "
		     "lease between passes), or check that it still runs",
		     name, rel, (long long)ttl, (long long)ttl);
	return true;
}

static enum verdict check_timers(struct state *s)
{
	struct json_object *rows, *leases = NULL;
	struct cd_error e;
	enum verdict v = CHECK_FAIL;
	int bad = 0, n = 0;

	cd_error_reset(&e);
	rows = timers_json(s, db_timers_list, &e);
	if (rows != NULL)
		leases = timers_json(s, db_timers_leases, &e);
	if (leases == NULL) {
		put(s->msg, sizeof(s->msg), "cannot read the timers' states: %s", e.message);
		put(s->fix, sizeof(s->fix), "look at PostgreSQL's log");
		goto out;
	}
	/* every timer named by a lease, then those with rows but no lease yet */
	for (size_t i = 0; i < json_object_array_length(leases); i++) {
		struct json_object *l = json_object_array_get_idx(leases, i);

		n++;
		bad += !one_timer(s, json_get_string(l, "name", "?"), rows, l);
	}
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		const char *name = json_get_string(json_object_array_get_idx(rows, i), "name", "?");
		bool known = false;

		for (size_t j = 0; j < json_object_array_length(leases) && !known; j++)
			known = strcmp(json_get_string(json_object_array_get_idx(leases, j), "name", ""),
				       name) == 0;
		for (size_t j = 0; j < i && !known; j++)
			known = strcmp(json_get_string(json_object_array_get_idx(rows, j), "name", ""),
				       name) == 0;
		if (!known) {
			n++;
			bad += !one_timer(s, name, rows, NULL);
		}
	}
	if (n == 0) {
		put(s->msg, sizeof(s->msg), "no timer has ever run: nothing requeues expired leases");
		put(s->fix, sizeof(s->fix),
		    "run conductor-reaper --interval 15 (or install tools/systemd's "
		    "conductor-reaper.timer)");
		goto out;
	}
	if (bad > 0) {
		put(s->msg, sizeof(s->msg), "%d of %d timer(s) have no healthy copy", bad, n);
		put(s->fix, sizeof(s->fix),
		    "a degraded copy cannot reach PostgreSQL or died: look at its log, restart it");
		goto out;
	}
	put(s->msg, sizeof(s->msg), "%d timer(s), each with a leader or run on a timer", n);
	v = CHECK_PASS;
out:
	json_object_put(rows);
	json_object_put(leases);
	return v;
}

/* ---- warnings ------------------------------------------------------------------ */

/* The warnings that need no check of their own: providers without a key, and
 * (PostgreSQL answering) no live token, live tokens expiring within 7 days. */
static void gather_warnings(struct state *s, bool config_ok)
{
	static const struct {
		const char *provider, *key;
		size_t offset;
	} KEYS[] = {
		{"runpod", "runpod_api_key", offsetof(struct config, runpod_api_key)},
		{"digitalocean", "do_api_key", offsetof(struct config, do_api_key)},
	};
	struct json_object *rows = NULL;
	struct cd_error e;
	bool live = true;

	cd_error_reset(&e);
	for (size_t i = 0; config_ok && i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
		const char *key = *(char *const *)(const void *)((const char *)&s->ctl->cfg +
								  KEYS[i].offset);

		if (config_list_has(s->ctl->cfg.providers, KEYS[i].provider) && key[0] == '\0')
			warn(s, "provider %s is configured (providers) but %s is empty: the watcher "
			     "cannot use it",
			     KEYS[i].provider, KEYS[i].key);
	}
	if (s->db == NULL)
		return;
	if (db_auth_any_live(s->db, &live, &e) == CD_OK && !live)
		warn(s, "no live token at all: the API refuses every request; make one with "
		     PROGRAM " token create --role admin --name NAME");
	if (db_auth_list(s->db, &rows, &e) != CD_OK)
		return;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);
		const char *name = json_get_string(r, "name", "?");
		const char *exp = json_get_string(r, "expires_at", NULL);
		char rel[64];
		long left;

		if (json_get_string(r, "revoked_at", NULL) != NULL || exp == NULL ||
		    strcmp(name, s->token_name) == 0 || !seconds_until(exp, &left) || left <= 0 ||
		    left >= EXPIRY_WARN_S)
			continue;
		warn(s, "token \"%s\" (%s, tenant %s) expires %s", name,
		     json_get_string(r, "role", "?"), json_get_string(r, "tenant", "*"),
		     ctl_relative_time(exp, 0, rel, sizeof(rel)));
	}
	json_object_put(rows);
}

/* ---- the list ------------------------------------------------------------------ */

/* THE checklist, in order; needs: the number of the check that must have
 * passed first (0: none). */
static const struct {
	const char *name;
	int needs;
	enum verdict (*run)(struct state *s);
} CHECKS[] = {
	{"configuration", 0, check_config},
	{"PostgreSQL", 1, check_postgresql},
	{"schema", 2, check_schema},
	{"Redis", 1, check_redis},
	{"API", 1, check_api},
	{"token", 5, check_token},
	{"timers", 3, check_timers},
};
#define NCHECKS (sizeof(CHECKS) / sizeof(CHECKS[0]))

static const char *const STATUS_NAMES[] = {"pass", "fail", "skip"};

/* One check's lines on stdout: "✔ 1. name: msg", its details indented, and
 * for a failure "→ fix". */
static void print_check(size_t n, enum verdict v, const struct state *s, bool colour)
{
	static const char *const GLYPHS[] = {"✔", "✘", "-"};
	static const char *const COLOURS[] = {"\033[32m", "\033[31m", "\033[2m"};
	const char *p = s->details;

	printf("%s%s%s %zu. %s: %s\n", colour ? COLOURS[v] : "", GLYPHS[v], colour ? "\033[0m" : "",
	       n, CHECKS[n - 1].name, s->msg);
	while (*p != '\0') {
		size_t len = strcspn(p, "\n");

		printf("     %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
	if (v == CHECK_FAIL && s->fix[0] != '\0')
		printf("     -> %s\n", s->fix);
}

static int cmd_check(struct ctl *ctl)
{
	struct state s;
	struct json_object *out = json_object_new_object(), *checks = json_object_new_array();
	enum verdict done[NCHECKS] = {CHECK_SKIP};
	bool colour = !ctl->json && ctl_colour(stdout);
	size_t passed = 0, failed = 0;
	int status;

	if (ctl->argc != 0) {
		json_object_put(out);
		json_object_put(checks);
		return ctl_usage("check");
	}
	memset(&s, 0, sizeof(s));
	s.ctl = ctl;
	s.sources = xcalloc(config_nkeys(), sizeof(*s.sources));
	s.warnings = json_object_new_array();
	log_set_program(PROGRAM);
	for (size_t i = 0; i < NCHECKS; i++) {
		struct json_object *c = json_object_new_object();
		int need = CHECKS[i].needs;

		s.msg[0] = s.fix[0] = s.details[0] = '\0';
		if (need > 0 && done[need - 1] != CHECK_PASS) {
			done[i] = CHECK_SKIP;
			put(s.msg, sizeof(s.msg), "skipped: needs %d. %s, which did not pass", need,
			    CHECKS[need - 1].name);
		} else {
			done[i] = CHECKS[i].run(&s);
		}
		passed += done[i] == CHECK_PASS;
		failed += done[i] == CHECK_FAIL;
		if (!ctl->json)
			print_check(i + 1, done[i], &s, colour);
		json_object_object_add(c, "n", json_object_new_int((int)i + 1));
		json_object_object_add(c, "name", json_object_new_string(CHECKS[i].name));
		json_object_object_add(c, "status", json_object_new_string(STATUS_NAMES[done[i]]));
		json_object_object_add(c, "message", json_object_new_string(s.msg));
		if (s.details[0] != '\0')
			json_object_object_add(c, "details", json_object_new_string(s.details));
		if (done[i] == CHECK_FAIL)
			json_object_object_add(c, "fix", json_object_new_string(s.fix));
		json_object_array_add(checks, c);
	}
	gather_warnings(&s, done[0] == CHECK_PASS);
	status = passed == NCHECKS ? CTL_EXIT_OK : CTL_EXIT_REFUSED;
	if (ctl->json) {
		json_object_object_add(out, "ok", json_object_new_boolean(status == CTL_EXIT_OK));
		json_object_object_add(out, "checks", json_object_get(checks));
		json_object_object_add(out, "warnings", json_object_get(s.warnings));
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
									JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		for (size_t i = 0; i < json_object_array_length(s.warnings); i++)
			printf("%s⚠%s %s\n", colour ? "\033[33m" : "", colour ? "\033[0m" : "",
			       json_object_get_string(json_object_array_get_idx(s.warnings, i)));
		printf("%s: %zu of %zu checks passed, %zu failed, %zu skipped; %zu warning(s)\n",
		       status == CTL_EXIT_OK ? "ok" : "FAILED", passed, NCHECKS, failed,
		       NCHECKS - passed - failed, json_object_array_length(s.warnings));
	}
	json_object_put(out);
	json_object_put(checks);
	json_object_put(s.warnings);
	stream_close(s.rs);
	db_close(s.db);
	config_free(&ctl->cfg);
	free(s.sources);
	return status;
}

const struct ctl_command CTL_CHECK_COMMANDS[] = {
	{"check", NULL, cmd_check, CTL_NEEDS_NOTHING, "",
	 "check the deployment line by line: configuration, PostgreSQL, schema, Redis, API, "
	 "token, timers",
	 "Each line is ✔ (passed), ✘ (failed, with what to do) or - (skipped: a check it\n"
	 "needs did not pass); ⚠ lines are warnings (a token expiring within 7 days, a timer\n"
	 "run less often than its lease TTL, a provider without its key, no live token).\n"
	 "Exit status 0 only when every check passed (warnings do not fail), else 1.\n"
	 "--json prints {ok, checks: [{n, name, status, message, fix}], warnings}.\n"
	 "Example: " PROGRAM " check --config /etc/conductor/conductor.env"},
};
const size_t CTL_CHECK_NCOMMANDS = sizeof(CTL_CHECK_COMMANDS) / sizeof(CTL_CHECK_COMMANDS[0]);

/* watch.c -- the watcher pass: lease, then per pool gather, decide, commit,
 * act. See watch.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/pools.h"
#include "data/db_runtime.h"
#include "data/provider.h"
#include "domain/decide.h"
#include "domain/runtime.h"
#include "domain/watch.h"

/* A start or a teardown left half done this long ago was interrupted: every
 * provider call is bounded far below it. */
#define ABANDONED_AFTER_S 600
#define OBSERVE_MAX 1000	/* running instances of a pool asked about per poll */

/* ---- events ----------------------------------------------------------------- */

/* A new event object with what every watcher event carries. */
static struct json_object *event_new(const struct watch_policy *p, int64_t term,
				     const struct decision *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pool", json_object_new_string(p->name));
	json_object_object_add(o, "term", json_object_new_int64(term));
	json_object_object_add(o, "actor", json_object_new_string("watcher"));
	json_object_object_add(o, "reason", json_object_new_string(d->reason));
	json_object_object_add(o, "demand", json_object_new_int64(d->demand));
	return o;
}

/* ---- acting: the rules live in runtime.c ----------------------------------- */

/* Starts reserved instance id for the decision d. Returns whether it started. */
static bool spawn(struct db *db, const struct config *cfg, const struct watch_policy *p,
		  int64_t term, const struct decision *d, int64_t id, const char *name)
{
	return runtime_spawn(db, cfg, p, id, name, event_new(p, term, d), NULL) == CD_OK;
}

/* Tears down the instance the commit moved to `stopping`; a destroy that
 * fails puts it back to running, so the next idle decision tries again.
 * Returns whether it is destroyed. */
static bool teardown(struct db *db, const struct config *cfg, const struct watch_policy *p,
		     int64_t term, const struct decision *d,
		     const struct runtime_pool_outcome *c)
{
	struct runtime_instance inst = {.id = c->instance_id};

	snprintf(inst.pool, sizeof(inst.pool), "%s", p->name);
	snprintf(inst.provider, sizeof(inst.provider), "%s", c->provider);
	snprintf(inst.provider_id, sizeof(inst.provider_id), "%s", c->provider_id);
	return runtime_teardown(db, cfg, &inst, "running", "destroyed by the watcher",
				event_new(p, term, d), NULL) == CD_OK;
}

/* ---- one pool --------------------------------------------------------------- */

/* The pool's streams into s. false when Redis did not answer. */
static bool gather_streams(struct stream_conn *rs, const struct config *cfg,
			   const struct watch_policy *p, struct watch_state *s)
{
	for (size_t i = 0; i < p->nstreams; i++) {
		struct cd_error e;
		long len = 0, pending = 0;

		cd_error_reset(&e);
		if (rs == NULL || stream_len(rs, p->streams[i], &len, &e) != CD_OK ||
		    stream_pending_count(rs, p->streams[i], cfg->stream_group, &pending, &e) != CD_OK) {
			log_error("cannot read the pool's streams: pool skipped", "pool", p->name,
				  "stream", p->streams[i], "error",
				  rs == NULL ? "Redis is unavailable" : e.message);
			return false;
		}
		s->stream_len += len;
		s->pending += pending;
	}
	return true;
}

static void state_from_row(const struct runtime_pool_row *row, struct watch_state *s)
{
	memset(s, 0, sizeof(*s));
	s->live = row->live;
	s->running = row->running;
	s->oldest_started_at = row->oldest_started_at;
	s->over_polls = row->over_polls;
	s->idle_since = row->idle_since;
	s->last_poll_at = row->last_poll_at;
	s->last_teardown_at = row->last_teardown_at;
	s->last_alert_at = row->last_alert_at;
}

/* What the providers say of the pool's running instances: one that is gone
 * at its provider (deleted there, or a manual machine removed) is recorded
 * destroyed, one powered off stopped, each with an event, and s follows.
 * A status call that fails changes nothing. */
static enum cd_err observe(struct db *db, const struct config *cfg, const struct watch_policy *p,
			   int64_t term, struct watch_state *s, struct cd_error *e)
{
	struct provider_ctx ctx = {.cfg = cfg, .db = db};
	struct runtime_instance *run = xcalloc(OBSERVE_MAX, sizeof(*run));
	size_t n = 0;
	enum cd_err rc = db_runtime_running(db, p->name, run, OBSERVE_MAX, &n, e);

	for (size_t i = 0; rc == CD_OK && i < n; i++) {
		const struct provider *pv = provider_find(run[i].provider);
		struct provider_instance now;
		struct json_object *ev;
		struct cd_error pe;
		bool changed = false;

		cd_error_reset(&pe);
		if (pv == NULL || pv->status(&ctx, run[i].provider_id, &now, &pe) != CD_OK) {
			log_warn("provider status failed: instance left as it is", "provider",
				 run[i].provider, "error", pv == NULL ? "not built in" : pe.message);
			continue;
		}
		if (strcmp(now.state, "gone") != 0 && strcmp(now.state, "stopped") != 0)
			continue;
		rc = db_runtime_observed(db, run[i].id, now.state, &changed, e);
		if (rc != CD_OK || !changed)
			continue;
		s->running--;
		s->live -= strcmp(now.state, "gone") == 0;
		ev = json_object_new_object();
		json_object_object_add(ev, "pool", json_object_new_string(p->name));
		json_object_object_add(ev, "term", json_object_new_int64(term));
		json_object_object_add(ev, "actor", json_object_new_string("watcher"));
		json_object_object_add(ev, "provider", json_object_new_string(run[i].provider));
		json_object_object_add(ev, "provider_id", json_object_new_string(run[i].provider_id));
		json_object_object_add(ev, "reason",
				       json_object_new_string(strcmp(now.state, "gone") == 0
								  ? "gone at the provider"
								  : "stopped at the provider"));
		log_warn("instance no longer running at its provider", "pool", p->name, "provider",
			 run[i].provider, "state", now.state);
		runtime_event_put(db, run[i].id, strcmp(now.state, "gone") == 0 ? "gone" : "stopped", ev);
	}
	free(run);
	return rc;
}

/* Step 1: the pool's state, into row and s. *due: false when the pool is
 * not due or its streams could not be read (out says which); nothing is
 * decided then. */
static enum cd_err gather(struct db *db, struct stream_conn *rs, const struct config *cfg,
			  const struct watch_policy *p, int64_t term, struct runtime_pool_row *row,
			  struct watch_state *s, bool *due, struct watch_report *out,
			  struct cd_error *e)
{
	long swept = 0;
	enum cd_err rc;

	*due = false;
	rc = db_runtime_sweep(db, p->name, ABANDONED_AFTER_S, &swept, e);
	if (rc == CD_OK && swept > 0)
		log_warn("settled instances left half done by an interrupted pass", "pool", p->name);
	if (rc == CD_OK)
		rc = db_runtime_pool_load(db, p->name, row, e);
	if (rc != CD_OK)
		return rc;
	state_from_row(row, s);
	if (!decide_due(s, p, row->now))
		return CD_OK;
	rc = observe(db, cfg, p, term, s, e);
	if (rc != CD_OK)
		return rc;
	if (!gather_streams(rs, cfg, p, s)) {
		out->streams_failed = true;
		return CD_OK;
	}
	rc = db_runtime_demand_jobs(db, p->tenant, p->capability, &s->queued_jobs, &s->draining, e);
	*due = rc == CD_OK;
	return rc;
}

/* Step 4: what the committed decision d asks of the providers. */
static void act(struct db *db, const struct config *cfg, const struct watch_policy *p,
		int64_t term, const struct decision *d, const struct runtime_pool_outcome *c,
		const char *name, struct watch_report *out)
{
	if (d->action == WATCH_SPAWN && c->instance_id == 0)
		log_info("pool is full: no spawn", "pool", p->name);
	else if (d->action == WATCH_SPAWN && spawn(db, cfg, p, term, d, c->instance_id, name))
		out->spawned++;
	else if (d->action == WATCH_SPAWN)
		out->failed++;
	if (d->action == WATCH_TEARDOWN && c->instance_id != 0) {
		if (teardown(db, cfg, p, term, d, c))
			out->torn_down++;
		else
			out->failed++;
	}
	if (d->action == WATCH_ALERT_LONG_RUNNING) {
		out->alerts++;
		log_warn("an instance runs longer than long_running_s", "pool", p->name, "reason",
			 d->reason);
	}
}

static enum cd_err watch_pool(struct db *db, struct stream_conn *rs, const struct config *cfg,
			      const struct watch_policy *p, int64_t term, struct watch_report *out,
			      struct cd_error *e)
{
	struct runtime_pool_row row;
	struct runtime_pool_outcome c;
	struct watch_state s;
	struct decision d;
	struct json_object *alert = NULL;
	char name[POOL_NAME_MAX + 48];
	bool due;
	enum cd_err rc;

	rc = gather(db, rs, cfg, p, term, &row, &s, &due, out, e);
	if (rc != CD_OK || !due)
		return rc;
	out->pools++;
	d = decide(&s, p, row.now);
	/* unique: a pool's rev never repeats */
	snprintf(name, sizeof(name), "%s-w%" PRId64 "-%" PRId64, p->name, term, row.rev + 1);
	if (d.action == WATCH_ALERT_LONG_RUNNING) {
		alert = event_new(p, term, &d);
		json_object_object_add(alert, "oldest_started_at",
				       json_object_new_int64((int64_t)s.oldest_started_at));
	}
	struct runtime_pool_write w = {
		.pool = p->name, .rev = row.rev, .term = term, .over_polls = d.over_polls,
		.idle_since = d.idle_since, .demand = d.demand,
		.action = decide_action_name(d.action), .reason = d.reason,
		.max_instances = p->max_instances, .name = name,
		.event = alert ? json_object_to_json_string_ext(alert, JSON_C_TO_STRING_PLAIN) : NULL,
	};
	rc = db_runtime_pool_commit(db, &w, &c, e);
	json_object_put(alert);
	if (rc != CD_OK)
		return rc;
	log_debug("pool polled", "pool", p->name, "action", w.action, "reason", d.reason);
	if (!c.applied) {
		out->raced++;
		log_info("another watcher wrote the pool first: left alone", "pool", p->name);
		return CD_OK;
	}
	act(db, cfg, p, term, &d, &c, name, out);
	return CD_OK;
}

/* ---- the pass --------------------------------------------------------------- */

enum cd_err watch_pass(struct timer_ctx *ctx, void *report, struct cd_error *e)
{
	struct watch_report *out = report;
	struct watch_policy *pools = xcalloc(POOLS_MAX, sizeof(*pools));
	size_t n = 0;
	enum cd_err rc;

	ctx->step = "pools";
	rc = pools_parse(ctx->cfg->pools, pools, POOLS_MAX, &n, e);
	for (size_t i = 0; rc == CD_OK && i < n; i++) {
		if (i > 0 && timer_stopping())
			break; /* SIGTERM: the other pools wait for the next pass */
		/* a slow provider may have eaten the TTL: still ours? */
		if (i > 0 && !timer_still_leader(ctx, &rc, e)) {
			out->lost_lease = rc == CD_OK;
			break;
		}
		ctx->step = pools[i].name;
		rc = watch_pool(ctx->db, ctx->rs, ctx->cfg, &pools[i], ctx->term, out, e);
	}
	free(pools);
	if (rc == CD_OK && out->streams_failed)
		rc = cd_fail(e, CD_UNAVAILABLE, "redis_url",
			     "Redis is unavailable: the pools with streams were skipped.");
	return rc;
}

void watch_report_log(const struct timer_ctx *ctx, const void *report, bool ok, double ms)
{
	const struct watch_report *r = report;
	long n[6] = {r->pools, r->spawned, r->torn_down, r->alerts, r->failed, r->raced};
	char term[24], v[6][24], took[24];
	bool busy = !ok || r->lost_lease;

	snprintf(term, sizeof(term), "%lld", (long long)ctx->term);
	snprintf(took, sizeof(took), "%.1f", ms);
	for (int i = 0; i < 6; i++) {
		snprintf(v[i], sizeof(v[i]), "%ld", n[i]);
		busy = busy || (i > 0 && n[i] != 0);
	}
	/* a pass that only held, every few seconds, is not news: debug level */
	log_write(busy ? LOG_INFO : LOG_DEBUG, "pass done", "term", term, "pools", v[0],
		  "spawned", v[1], "torn_down", v[2], "alerts", v[3], "failed", v[4], "raced",
		  v[5], "ms", took, (const char *)0);
}

/* Is stream one of the comma list list? */
static bool listed(const char *list, const char *stream)
{
	size_t len = strlen(stream);

	for (const char *p = list; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strcspn(p, ",") == len && strncmp(p, stream, len) == 0)
			return true;
	}
	return false;
}

enum cd_err watch_check_config(const struct config *cfg, struct cd_error *e)
{
	struct watch_policy *pools = xcalloc(POOLS_MAX, sizeof(*pools));
	const char *p = cfg->providers;
	enum cd_err rc = CD_CONFIG;
	bool streams = false;
	size_t n = 0;

	if (pools_parse(cfg->pools, pools, POOLS_MAX, &n, e) != CD_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < pools[i].nstreams; s++) {
			streams = true;
			if (!listed(cfg->streams, pools[i].streams[s])) {
				cd_fail(e, CD_CONFIG, "pools",
					"configuration key pools (CONDUCTOR_POOLS): pool %s serves "
					"stream %s, which is not one of CONDUCTOR_STREAMS; add it there.",
					pools[i].name, pools[i].streams[s]);
				goto out;
			}
		}
	if (streams && config_require(cfg, "redis_url", e) != CD_OK)
		goto out;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : 31), p);
		if (provider_find(name) == NULL) {
			cd_fail(e, CD_CONFIG, "providers",
				"configuration key providers (CONDUCTOR_PROVIDERS): %s is not built "
				"into this conductor-watcher.",
				name);
			goto out;
		}
		p += len + (p[len] == ',');
	}
	if (n == 0)
		log_warn("no pools configured (CONDUCTOR_POOLS): every pass does nothing");
	rc = CD_OK;
out:
	free(pools);
	return rc;
}

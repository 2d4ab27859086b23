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
#include "domain/packing.h"
#include "domain/watch.h"

#define PROVIDERS_MAX 8
/* A start or a teardown left half done this long ago was interrupted: every
 * provider call is bounded far below it. */
#define ABANDONED_AFTER_S 600
#define OFFERS_MAX (PROVIDERS_MAX * PROVIDER_OFFERS_MAX)

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

/* Records o (and puts it) as kind for instance id; a failure is logged,
 * not fatal: the action happened whether or not its record did. */
static void event_put(struct db *db, int64_t id, const char *kind, struct json_object *o)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (db_runtime_event(db, id, kind,
			     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), &e) != CD_OK)
		log_error("could not record a runtime event", "kind", kind, "error", e.message);
	json_object_put(o);
}

/* {provider, error} into the tried list. */
static void tried_add(struct json_object *tried, const char *provider, const struct cd_error *e)
{
	struct json_object *t = json_object_new_object();

	json_object_object_add(t, "provider", json_object_new_string(provider));
	json_object_object_add(t, "error", json_object_new_string(e->message));
	json_object_array_add(tried, t);
}

/* ---- spawn ------------------------------------------------------------------ */

/* Every configured provider's offers for need, in provider order. Failures
 * go to tried; a provider without capacity simply offers nothing. */
static size_t gather_offers(const struct provider_ctx *ctx, const struct provider_need *need,
			    struct provider_offer *offers, struct json_object *tried)
{
	const struct provider *pv[PROVIDERS_MAX];
	size_t npv = 0, n = 0;

	provider_configured_order(ctx->cfg, pv, PROVIDERS_MAX, &npv);
	for (size_t i = 0; i < npv; i++) {
		struct cd_error e;
		size_t k = 0;

		cd_error_reset(&e);
		if (!pv[i]->configured(ctx))
			continue;
		if (pv[i]->availability(ctx, need, offers + n, PROVIDER_OFFERS_MAX, &k, &e) != CD_OK) {
			log_warn("provider availability failed", "provider", pv[i]->name, "error",
				 e.message);
			tried_add(tried, pv[i]->name, &e);
			continue;
		}
		n += k;
	}
	return n;
}

/* Starts reserved instance id at the cheapest offer that fits, then the next
 * one on failure. Returns whether one started. */
static bool spawn(struct db *db, const struct config *cfg, const struct watch_policy *p,
		  int64_t term, const struct decision *d, int64_t id, const char *name)
{
	struct provider_ctx ctx = {.cfg = cfg, .db = db};
	struct provider_need need = {.pool = p->name, .gpu_mem_gb = (int)p->gpu_mem_gb,
				     .capability = p->capability};
	struct provider_offer *offers = xcalloc(OFFERS_MAX, sizeof(*offers));
	size_t *rank = xcalloc(OFFERS_MAX, sizeof(*rank));
	struct json_object *ev = event_new(p, term, d), *tried = json_object_new_array();
	size_t n = gather_offers(&ctx, &need, offers, tried);
	size_t m = packing_rank(offers, n, need.gpu_mem_gb, rank);
	bool started = false;

	json_object_object_add(ev, "name", json_object_new_string(name));
	json_object_object_add(ev, "gpu_mem_gb", json_object_new_int64(p->gpu_mem_gb));
	json_object_object_add(ev, "offers", packing_offers_json(offers, n, need.gpu_mem_gb));
	for (size_t i = 0; i < m && !started; i++) {
		const struct provider_offer *o = &offers[rank[i]];
		const struct provider *pv = provider_find(o->provider);
		struct provider_instance inst;
		struct cd_error e;

		cd_error_reset(&e);
		if (pv == NULL || pv->start(&ctx, o, name, &inst, &e) != CD_OK) {
			if (pv == NULL)
				cd_fail(&e, CD_UPSTREAM, o->provider, "%s is not built in", o->provider);
			log_warn("provider start failed: trying the next offer", "provider",
				 o->provider, "error", e.message);
			tried_add(tried, o->provider, &e);
			continue;
		}
		struct runtime_started s = {.provider = o->provider, .provider_id = inst.provider_id,
					    .gpu = o->gpu, .region = o->region,
					    .address = inst.address, .gpu_mem_gb = o->gpu_mem_gb,
					    .price_per_hour = o->price_per_hour, .status = inst.state};
		cd_error_reset(&e);
		if (db_runtime_started(db, id, &s, &e) != CD_OK) {
			/* an instance nobody knows of would bill forever: give it back */
			struct cd_error de;

			log_error("instance started but not recorded: destroying it", "provider",
				  o->provider, "provider_id", inst.provider_id, "error", e.message);
			cd_error_reset(&de);
			if (pv->destroy(&ctx, inst.provider_id, &de) != CD_OK)
				log_error("could not destroy the unrecorded instance", "provider",
					  o->provider, "provider_id", inst.provider_id, "error",
					  de.message);
			tried_add(tried, o->provider, &e);
			break;
		}
		json_object_object_add(ev, "provider", json_object_new_string(o->provider));
		json_object_object_add(ev, "provider_id", json_object_new_string(inst.provider_id));
		json_object_object_add(ev, "gpu", json_object_new_string(o->gpu));
		json_object_object_add(ev, "price_per_hour", packing_price_json(o->price_per_hour));
		started = true;
	}
	json_object_object_add(ev, "tried", tried);
	if (!started) {
		struct cd_error e;
		char why[200];

		snprintf(why, sizeof(why), "%s", m == 0 ? "no provider offered a machine that fits"
						      : "every offer that fits failed to start");
		json_object_object_add(ev, "error", json_object_new_string(why));
		cd_error_reset(&e);
		if (db_runtime_set_state(db, id, "failed", why, &e) != CD_OK)
			log_error("could not mark the instance failed", "error", e.message);
		log_warn("spawn failed", "pool", p->name, "reason", why);
	} else {
		log_info("spawned", "pool", p->name, "provider",
			 json_object_get_string(json_object_object_get(ev, "provider")), "reason",
			 d->reason);
	}
	event_put(db, id, started ? "spawn" : "spawn_failed", ev);
	free(rank);
	free(offers);
	return started;
}

/* ---- teardown --------------------------------------------------------------- */

/* Stops and destroys the instance through its own provider. A stop that
 * fails does not stop the destroy (an instance that is gone cannot be
 * stopped); a destroy that fails puts it back to running, so the next idle
 * decision tries again. Returns whether it is destroyed. */
static bool teardown(struct db *db, const struct config *cfg, const struct watch_policy *p,
		     int64_t term, const struct decision *d,
		     const struct runtime_pool_outcome *c)
{
	struct provider_ctx ctx = {.cfg = cfg, .db = db};
	const struct provider *pv = provider_find(c->provider);
	struct json_object *ev = event_new(p, term, d);
	struct cd_error e, se;
	bool done = false;

	cd_error_reset(&e);
	cd_error_reset(&se);
	json_object_object_add(ev, "provider", json_object_new_string(c->provider));
	json_object_object_add(ev, "provider_id", json_object_new_string(c->provider_id));
	if (pv == NULL) {
		cd_fail(&e, CD_UPSTREAM, c->provider, "provider %s is not built in", c->provider);
	} else {
		if (pv->stop(&ctx, c->provider_id, &se) != CD_OK) {
			log_warn("provider stop failed: destroying anyway", "provider", c->provider,
				 "error", se.message);
			json_object_object_add(ev, "stop_error", json_object_new_string(se.message));
		}
		done = pv->destroy(&ctx, c->provider_id, &e) == CD_OK;
	}
	if (!done)
		json_object_object_add(ev, "error", json_object_new_string(e.message));
	cd_error_reset(&se);
	if (db_runtime_set_state(db, c->instance_id, done ? "destroyed" : "running",
				 done ? "destroyed by the watcher" : e.message, &se) != CD_OK)
		log_error("could not record the instance's state", "error", se.message);
	if (done)
		log_info("torn down", "pool", p->name, "provider", c->provider, "reason", d->reason);
	else
		log_warn("teardown failed", "pool", p->name, "provider", c->provider, "error",
			 e.message);
	event_put(db, c->instance_id, done ? "teardown" : "teardown_failed", ev);
	return done;
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

/* Step 1: the pool's state, into row and s. *due: false when the pool is
 * not due or its streams could not be read (out says which); nothing is
 * decided then. */
static enum cd_err gather(struct db *db, struct stream_conn *rs, const struct config *cfg,
			  const struct watch_policy *p, struct runtime_pool_row *row,
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

	rc = gather(db, rs, cfg, p, &row, &s, &due, out, e);
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

/* runtime.c -- spawn, teardown, stop, ensure: the rules of acting on GPU
 * runtime instances, for the watcher and the routes. See runtime.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/provider.h"
#include "domain/packing.h"
#include "domain/runtime.h"

#define PROVIDERS_MAX 8
#define OFFERS_MAX    (PROVIDERS_MAX * PROVIDER_OFFERS_MAX)

/* ---- events ----------------------------------------------------------------- */

void runtime_event_put(struct db *db, int64_t id, const char *kind, struct json_object *o)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (db_runtime_event(db, id, kind,
	                     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                     &e) != CD_OK)
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

/* The string at key of ev ("" when none). Borrowed. */
static const char *ev_str(struct json_object *ev, const char *key)
{
	const char *s = json_object_get_string(json_object_object_get(ev, key));

	return s != NULL ? s : "";
}

/* ---- spawn ------------------------------------------------------------------ */

/* Every configured provider's offers for need, in provider order. Failures
 * go to tried (the last one into last); a provider without capacity simply
 * offers nothing. */
static size_t gather_offers(const struct provider_ctx *ctx, const struct provider_need *need,
                            struct provider_offer *offers, struct json_object *tried,
                            struct cd_error *last)
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
		if (pv[i]->availability(ctx, need, offers + n, PROVIDER_OFFERS_MAX, &k, &e) !=
		    CD_OK) {
			log_warn("provider availability failed", "provider", pv[i]->name, "error",
			         e.message);
			tried_add(tried, pv[i]->name, &e);
			*last = e;
			continue;
		}
		n += k;
	}
	return n;
}

enum cd_err runtime_spawn(struct db *db, const struct config *cfg, const struct watch_policy *p,
                          int64_t id, const char *name, struct json_object *ev, struct cd_error *e)
{
	struct provider_ctx ctx = {.cfg = cfg, .db = db};
	struct provider_need need = {
	    .pool = p->name, .gpu_mem_gb = (int)p->gpu_mem_gb, .capability = p->capability};
	struct provider_offer *offers = xcalloc(OFFERS_MAX, sizeof(*offers));
	size_t *rank = xcalloc(OFFERS_MAX, sizeof(*rank));
	struct json_object *tried = json_object_new_array();
	struct cd_error last;
	size_t n, m;
	enum cd_err rc = CD_UPSTREAM;

	cd_error_reset(&last);
	n = gather_offers(&ctx, &need, offers, tried, &last);
	m = packing_rank(offers, n, need.gpu_mem_gb, rank);
	json_object_object_add(ev, "name", json_object_new_string(name));
	json_object_object_add(ev, "gpu_mem_gb", json_object_new_int64(p->gpu_mem_gb));
	json_object_object_add(ev, "offers", packing_offers_json(offers, n, need.gpu_mem_gb));
	for (size_t i = 0; i < m && rc != CD_OK; i++) {
		const struct provider_offer *o = &offers[rank[i]];
		const struct provider *pv = provider_find(o->provider);
		struct provider_instance inst;
		struct cd_error se;

		cd_error_reset(&se);
		if (pv == NULL || pv->start(&ctx, o, name, &inst, &se) != CD_OK) {
			if (pv == NULL)
				cd_fail(&se, CD_UPSTREAM, o->provider, "%s is not built in",
				        o->provider);
			log_warn("provider start failed: trying the next offer", "provider",
			         o->provider, "error", se.message);
			tried_add(tried, o->provider, &se);
			last = se;
			continue;
		}
		struct runtime_started s = {.provider = o->provider,
		                            .provider_id = inst.provider_id,
		                            .gpu = o->gpu,
		                            .region = o->region,
		                            .address = inst.address,
		                            .gpu_mem_gb = o->gpu_mem_gb,
		                            .price_per_hour = o->price_per_hour,
		                            .status = inst.state};
		cd_error_reset(&se);
		if (db_runtime_started(db, id, &s, &se) != CD_OK) {
			/* an instance nobody knows of would bill forever: give it back */
			struct cd_error de;

			log_error("instance started but not recorded: destroying it", "provider",
			          o->provider, "provider_id", inst.provider_id, "error", se.message);
			cd_error_reset(&de);
			if (pv->destroy(&ctx, inst.provider_id, &de) != CD_OK)
				log_error("could not destroy the unrecorded instance", "provider",
				          o->provider, "provider_id", inst.provider_id, "error",
				          de.message);
			tried_add(tried, o->provider, &se);
			last = se;
			break;
		}
		json_object_object_add(ev, "provider", json_object_new_string(o->provider));
		json_object_object_add(ev, "provider_id", json_object_new_string(inst.provider_id));
		json_object_object_add(ev, "gpu", json_object_new_string(o->gpu));
		json_object_object_add(ev, "price_per_hour", packing_price_json(o->price_per_hour));
		rc = CD_OK;
	}
	json_object_object_add(ev, "tried", tried);
	if (rc != CD_OK) {
		struct cd_error se;
		char why[200];

		snprintf(why, sizeof(why), "%s",
		         m == 0 ? "no provider offered a machine that fits"
		                : "every offer that fits failed to start");
		json_object_object_add(ev, "error", json_object_new_string(why));
		cd_error_reset(&se);
		if (db_runtime_set_state(db, id, "failed", why, &se) != CD_OK)
			log_error("could not mark the instance failed", "error", se.message);
		log_warn("spawn failed", "pool", p->name, "reason", why);
		if (last.err != CD_OK) {
			rc = last.err == CD_CONFIG ? CD_UPSTREAM : last.err;
			if (e != NULL) {
				*e = last;
				e->err = rc;
			}
		} else {
			rc = cd_fail(
			    e, CD_UNAVAILABLE, "pool",
			    "No provider offers a machine with %ld GB of GPU memory for pool "
			    "%s now; try again later or register a manual machine.",
			    p->gpu_mem_gb, p->name);
			cd_fail_code(e, "no_capacity");
		}
	} else {
		log_info("spawned", "pool", p->name, "provider", ev_str(ev, "provider"), "reason",
		         ev_str(ev, "reason"));
	}
	runtime_event_put(db, id, rc == CD_OK ? "spawn" : "spawn_failed", ev);
	free(rank);
	free(offers);
	return rc;
}

/* ---- teardown and stop ------------------------------------------------------ */

enum cd_err runtime_teardown(struct db *db, const struct config *cfg,
                             const struct runtime_instance *inst, const char *back,
                             const char *done_status, struct json_object *ev, struct cd_error *e)
{
	struct provider_ctx ctx = {.cfg = cfg, .db = db};
	const struct provider *pv = provider_find(inst->provider);
	const char *pool = ev_str(ev, "pool");
	struct cd_error de, se;
	enum cd_err rc = CD_UPSTREAM;

	cd_error_reset(&de);
	cd_error_reset(&se);
	json_object_object_add(ev, "provider", json_object_new_string(inst->provider));
	json_object_object_add(ev, "provider_id", json_object_new_string(inst->provider_id));
	if (pv == NULL) {
		cd_fail(&de, CD_UPSTREAM, inst->provider, "provider %s is not built in",
		        inst->provider);
	} else {
		if (pv->stop(&ctx, inst->provider_id, &se) != CD_OK) {
			log_warn("provider stop failed: destroying anyway", "provider",
			         inst->provider, "error", se.message);
			json_object_object_add(ev, "stop_error",
			                       json_object_new_string(se.message));
		}
		rc = pv->destroy(&ctx, inst->provider_id, &de);
	}
	if (rc != CD_OK)
		json_object_object_add(ev, "error", json_object_new_string(de.message));
	cd_error_reset(&se);
	if (db_runtime_set_state(db, inst->id, rc == CD_OK ? "destroyed" : back,
	                         rc == CD_OK ? done_status : de.message, &se) != CD_OK)
		log_error("could not record the instance's state", "error", se.message);
	if (rc == CD_OK)
		log_info("torn down", "pool", pool, "provider", inst->provider, "reason",
		         ev_str(ev, "reason"));
	else
		log_warn("teardown failed", "pool", pool, "provider", inst->provider, "error",
		         de.message);
	runtime_event_put(db, inst->id, rc == CD_OK ? "teardown" : "teardown_failed", ev);
	if (rc != CD_OK) {
		rc = de.err == CD_OK || de.err == CD_CONFIG ? CD_UPSTREAM : de.err;
		if (e != NULL) {
			*e = de;
			e->err = rc;
		}
	}
	return rc;
}

/* An API call's event on instance inst: who asked, and why. New object. */
static struct json_object *api_event(const struct runtime_instance *inst, const char *by,
                                     const char *reason)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "pool", json_object_new_string(inst->pool));
	json_object_object_add(o, "term", json_object_new_int64(0));
	json_object_object_add(o, "actor", json_object_new_string("api"));
	json_object_object_add(o, "requested_by", json_object_new_string(by));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	return o;
}

/* Moves instance id from one of `from` to `stopping` (conditional: of two
 * callers, one gets it). out: the instance; prev: its state before.
 * CD_NOT_FOUND runtime_not_found; CD_CONFLICT naming its state when it is
 * in none of from. */
static enum cd_err begin(struct db *db, int64_t id, const char *from, const char *verb,
                         struct runtime_instance *out, char prev[16], struct cd_error *e)
{
	bool changed = false;
	enum cd_err rc = db_runtime_get(db, id, out, e);

	if (rc == CD_OK)
		rc = db_runtime_begin(db, id, from, &changed, out, prev, e);
	if (rc != CD_OK || changed)
		return rc;
	if ((rc = db_runtime_get(db, id, out, e)) != CD_OK)
		return rc;
	rc = cd_fail(e, CD_CONFLICT, "state",
	             "Runtime %" PRId64 " is %s: only a %s instance can be %s.", id, out->state,
	             strcmp(from, "running") == 0 ? "running" : "running or stopped", verb);
	cd_fail_code(e, "invalid_state");
	return rc;
}

enum cd_err runtime_stop(struct db *db, const struct config *cfg, int64_t id, const char *by,
                         char **out, struct cd_error *e)
{
	struct provider_ctx ctx = {.cfg = cfg, .db = db};
	struct runtime_instance inst;
	const struct provider *pv;
	struct json_object *ev;
	struct cd_error se;
	char prev[16];
	enum cd_err rc;

	*out = NULL;
	if ((rc = begin(db, id, "running", "stopped", &inst, prev, e)) != CD_OK)
		return rc;
	ev = api_event(&inst, by, "stop requested");
	json_object_object_add(ev, "provider", json_object_new_string(inst.provider));
	json_object_object_add(ev, "provider_id", json_object_new_string(inst.provider_id));
	pv = provider_find(inst.provider);
	rc = pv == NULL ? cd_fail(e, CD_UPSTREAM, inst.provider, "provider %s is not built in",
	                          inst.provider)
	                : pv->stop(&ctx, inst.provider_id, e);
	if (rc != CD_OK && rc != CD_UPSTREAM)
		rc = e != NULL ? (e->err = CD_UPSTREAM) : CD_UPSTREAM;
	if (rc != CD_OK)
		json_object_object_add(ev, "error", json_object_new_string(e ? e->message : ""));
	cd_error_reset(&se);
	if (db_runtime_set_state(db, id, rc == CD_OK ? "stopped" : prev,
	                         rc == CD_OK ? "stopped on request"
	                                     : (e ? e->message : "stop failed"),
	                         &se) != CD_OK)
		log_error("could not record the instance's state", "error", se.message);
	log_info(rc == CD_OK ? "stopped" : "stop failed", "pool", inst.pool, "provider",
	         inst.provider, "by", by);
	runtime_event_put(db, id, rc == CD_OK ? "stop" : "stop_failed", ev);
	if (rc == CD_OK)
		rc = db_runtime_get_json(db, id, out, e);
	return rc;
}

enum cd_err runtime_destroy(struct db *db, const struct config *cfg, int64_t id, const char *by,
                            char **out, struct cd_error *e)
{
	struct runtime_instance inst;
	char prev[16];
	enum cd_err rc;

	*out = NULL;
	if ((rc = begin(db, id, "running,stopped", "destroyed", &inst, prev, e)) != CD_OK)
		return rc;
	rc = runtime_teardown(db, cfg, &inst, prev, "destroyed on request",
	                      api_event(&inst, by, "destroy requested"), e);
	if (rc == CD_OK)
		rc = db_runtime_get_json(db, id, out, e);
	return rc;
}

/* ---- ensure ----------------------------------------------------------------- */

/* pool's policy from CONDUCTOR_POOLS into out. CD_NOT_FOUND pool_not_found. */
static enum cd_err find_pool(const struct config *cfg, const char *pool, struct watch_policy *out,
                             struct cd_error *e)
{
	struct watch_policy *pools = xcalloc(POOLS_MAX, sizeof(*pools));
	size_t n = 0;
	enum cd_err rc = pools_parse(cfg->pools, pools, POOLS_MAX, &n, e);

	for (size_t i = 0; rc == CD_OK && i < n; i++)
		if (strcmp(pools[i].name, pool) == 0) {
			*out = pools[i];
			free(pools);
			return CD_OK;
		}
	free(pools);
	if (rc != CD_OK)
		return rc;
	rc = cd_fail(
	    e, CD_NOT_FOUND, "pool",
	    "No pool %.64s is configured (CONDUCTOR_POOLS); GET /v1/status lists the pools.", pool);
	cd_fail_code(e, "pool_not_found");
	return rc;
}

enum cd_err runtime_ensure(struct db *db, const struct config *cfg, const char *pool,
                           const char *by, char **out, bool *created, struct cd_error *e)
{
	struct watch_policy p;
	uint8_t rnd[6];
	char name[POOL_NAME_MAX + 32], hex[sizeof(rnd) * 2 + 1];
	struct json_object *ev;
	int64_t id = 0;
	bool existing = false;
	enum cd_err rc;

	*out = NULL;
	*created = false;
	if ((rc = find_pool(cfg, pool, &p, e)) != CD_OK)
		return rc;
	crypto_random(rnd, sizeof(rnd));
	crypto_hex(rnd, sizeof(rnd), hex);
	snprintf(name, sizeof(name), "%s-api-%s", p.name, hex);
	rc = db_runtime_reserve(db, p.name, name, by, &id, &existing, e);
	if (rc != CD_OK)
		return rc;
	if (!existing) {
		ev = json_object_new_object();
		json_object_object_add(ev, "pool", json_object_new_string(p.name));
		json_object_object_add(ev, "term", json_object_new_int64(0));
		json_object_object_add(ev, "actor", json_object_new_string("api"));
		json_object_object_add(ev, "requested_by", json_object_new_string(by));
		json_object_object_add(ev, "reason", json_object_new_string("ensure requested"));
		if ((rc = runtime_spawn(db, cfg, &p, id, name, ev, e)) != CD_OK)
			return rc;
		*created = true;
	}
	return db_runtime_get_json(db, id, out, e);
}

/* ---- status ----------------------------------------------------------------- */

/* The policy of p as the keys of a pools item. */
static void policy_into(struct json_object *o, const struct watch_policy *p)
{
	struct json_object *streams = json_object_new_array();

	for (size_t s = 0; s < p->nstreams; s++)
		json_object_array_add(streams, json_object_new_string(p->streams[s]));
	json_object_object_add(o, "pool", json_object_new_string(p->name));
	json_object_object_add(o, "streams", streams);
	json_object_object_add(o, "capability", json_object_new_string(p->capability));
	json_object_object_add(o, "tenant", json_object_new_string(p->tenant));
	json_object_object_add(o, "gpu_mem_gb", json_object_new_int64(p->gpu_mem_gb));
	json_object_object_add(o, "spawn_threshold", json_object_new_int64(p->spawn_threshold));
	json_object_object_add(o, "max_instances", json_object_new_int64(p->max_instances));
	json_object_object_add(o, "cooldown_s", json_object_new_int64(p->cooldown_s));
	json_object_object_add(o, "idle_s", json_object_new_int64(p->idle_s));
	json_object_object_add(o, "long_running_s", json_object_new_int64(p->long_running_s));
	json_object_object_add(o, "poll_s", json_object_new_int64(p->poll_s));
}

/* The item of rows (db_runtime_pools' items) whose pool is name, or NULL.
 * Borrowed. */
static struct json_object *row_of(struct json_object *rows, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		if (strcmp(ev_str(r, "pool"), name) == 0)
			return r;
	}
	return NULL;
}

enum cd_err runtime_pools_status(struct db *db, const struct config *cfg, char **out,
                                 struct cd_error *e)
{
	struct watch_policy *pools = xcalloc(POOLS_MAX, sizeof(*pools));
	struct json_object *all = NULL, *rows, *items = NULL;
	char *text = NULL;
	size_t n = 0;
	enum cd_err rc;

	*out = NULL;
	rc = pools_parse(cfg->pools, pools, POOLS_MAX, &n, e);
	if (rc == CD_OK)
		rc = db_runtime_pools(db, &text, e);
	if (rc != CD_OK)
		goto out;
	all = json_tokener_parse(text);
	rows = json_object_object_get(all, "items");
	items = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		struct json_object *row = row_of(rows, pools[i].name), *inst = NULL, *state = NULL;

		policy_into(o, &pools[i]);
		if (row != NULL) {
			/* the row's instances become the item's; the rest its state */
			inst = json_object_get(json_object_object_get(row, "instances"));
			state = json_object_get(row);
			json_object_object_del(state, "instances");
			json_object_object_del(state, "pool");
		}
		json_object_object_add(o, "state", state);
		json_object_object_add(o, "instances", inst ? inst : json_object_new_array());
		json_object_array_add(items, o);
	}
	*out = xstrdup(json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN));
	rc = CD_OK;
out:
	json_object_put(items);
	json_object_put(all);
	free(text);
	free(pools);
	return rc;
}

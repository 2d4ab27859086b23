/* api_status.c -- GET /v1/status (DESIGN 6): one answer with what an
 * operator looks at first.
 *
 * The answer is an object of sections, one per row of SECTIONS; each
 * section is one function that answers its JSON value as text (one
 * statement, or one Redis round trip), so a new section is a function and a
 * row. A section is scoped to the caller's tenant unless its row says
 * "system": the timers are the system's own (tenant 0), shared by every
 * tenant, and name no tenant's data.
 *
 * Sections today: system (the tenant's mode), timers (each running copy of
 * conductor-reaper / conductor-watcher with its leader state; the reading
 * rule is in data/db_timers.h), timer_leases, jobs (counts by stage), workers
 * (with `stale`), streams (depth, pending, oldest pending age of each
 * configured stream: Redis down is said in the section, not a failure of
 * the answer), pools (each configured pool, its policy, the watcher's
 * memory of it and its live instances), runtime_events (the recent ones).
 * Streams, pools and runtime events are the system's own: every tenant's
 * operator and readonly see them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/pools.h"
#include "data/db_control.h"
#include "data/db_factories.h"
#include "data/db_runtime.h"
#include "data/db_status.h"
#include "data/db_timers.h"
#include "data/stream.h"
#include "domain/runtime.h"
#include "fcgi/api.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"

#define STATUS_MAX_BYTES (4 * 1024 * 1024) /* the answer's cap */
#define RUNTIME_EVENTS 20		   /* recent runtime events shown */

/* A section's value. out: new JSON text the caller frees. */
typedef enum cd_err (*section_fn)(struct request *req, struct db *db, char **out,
				  struct cd_error *e);

/* ---- sections -------------------------------------------------------------- */

/* {mode, reason, requested_by, updated_at, holder_id, term, lease_expires_at}
 * of the caller's tenant, as GET /v1/system/state. */
static enum cd_err section_system(struct request *req, struct db *db, char **out,
				  struct cd_error *e)
{
	return db_control_state(db, req->principal.tenant_id, out, e);
}

/* [{name, holder, host, state, term, leader, updated_at, stale}]: every
 * running copy of a timer (data/db_timers.h); system-wide. */
static enum cd_err section_timers(struct request *req, struct db *db, char **out,
				  struct cd_error *e)
{
	(void)req;
	return db_timers_list(db, out, e);
}

/* [{name, holder, term, lease_expires_at, live}]: the timers' leader leases;
 * system-wide. */
static enum cd_err section_timer_leases(struct request *req, struct db *db, char **out,
					struct cd_error *e)
{
	(void)req;
	return db_timers_leases(db, out, e);
}

/* {total, by_stage: {stage: count}} of the tenant's jobs. */
static enum cd_err section_jobs(struct request *req, struct db *db, char **out,
				struct cd_error *e)
{
	return db_status_jobs(db, req->principal.tenant_id, out, e);
}

/* [workers] of the tenant, `stale` past CONDUCTOR_FACTORY_STALE_S, as GET
 * /v1/fleet/factories. */
static enum cd_err section_workers(struct request *req, struct db *db, char **out,
				   struct cd_error *e)
{
	return db_factories_list(db, req->principal.tenant_id, req->w->cfg->factory_stale_s, out,
				 e);
}

/* {stream, depth, pending, oldest_pending_age_s} of stream name. out: a
 * new object on CD_OK. */
static enum cd_err stream_item(struct stream_conn *rs, const char *group, const char *name,
			       struct json_object **out, struct cd_error *e)
{
	long depth = 0, pending = 0, age = 0;
	enum cd_err rc = stream_len(rs, name, &depth, e);

	if (rc == CD_OK)
		rc = stream_pending_age(rs, name, group, &pending, &age, e);
	if (rc != CD_OK)
		return rc;
	*out = json_object_new_object();
	json_object_object_add(*out, "stream", json_object_new_string(name));
	json_object_object_add(*out, "depth", json_object_new_int64(depth));
	json_object_object_add(*out, "pending", json_object_new_int64(pending));
	json_object_object_add(*out, "oldest_pending_age_s", json_object_new_int64(age));
	return CD_OK;
}

/* {redis: "ok", group, items: [{stream, depth, pending,
 * oldest_pending_age_s}]} for each stream of CONDUCTOR_STREAMS; system-wide.
 * Redis down is not the answer's failure: {redis: "unavailable", message,
 * items: null}, and the other sections still answer. */
static enum cd_err section_streams(struct request *req, struct db *db, char **out,
				   struct cd_error *e)
{
	const struct config *cfg = req->w->cfg;
	struct json_object *o = json_object_new_object(), *items = json_object_new_array();
	struct stream_conn *rs;
	struct cd_error re;
	char name[POOL_STREAM_MAX];
	enum cd_err rc = CD_OK;

	(void)db, (void)e;
	cd_error_reset(&re);
	rs = redis_or_null(req, &re);
	for (const char *p = cfg->streams; rs != NULL && rc == CD_OK && *p != '\0';) {
		size_t len = strcspn(p, ",");
		struct json_object *it = NULL;

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if ((rc = stream_item(rs, cfg->stream_group, name, &it, &re)) == CD_OK)
			json_object_array_add(items, it);
		p += len + (p[len] == ',');
	}
	if (rs == NULL || rc != CD_OK) {
		json_object_put(items);
		json_object_object_add(o, "redis", json_object_new_string("unavailable"));
		json_object_object_add(o, "message", json_object_new_string(re.message));
		json_object_object_add(o, "items", NULL);
	} else {
		json_object_object_add(o, "redis", json_object_new_string("ok"));
		json_object_object_add(o, "group", json_object_new_string(cfg->stream_group));
		json_object_object_add(o, "items", items);
	}
	*out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return CD_OK;
}

/* [{pool, its policy, state, instances}] for each pool of CONDUCTOR_POOLS
 * (domain/runtime.h); system-wide: runtimes are the system's own. */
static enum cd_err section_pools(struct request *req, struct db *db, char **out,
				 struct cd_error *e)
{
	return runtime_pools_status(db, req->w->cfg, out, e);
}

/* {items: [{id, instance_id, kind, at, data}]}: the last RUNTIME_EVENTS
 * runtime events, newest first; system-wide. */
static enum cd_err section_runtime_events(struct request *req, struct db *db, char **out,
					  struct cd_error *e)
{
	(void)req;
	return db_runtime_events_recent(db, RUNTIME_EVENTS, out, e);
}

/* ---- the answer ------------------------------------------------------------ */

struct status_section {
	const char *key; /* the answer's key */
	section_fn fn;	 /* its value */
};

/* THE sections, in answer order. */
static const struct status_section SECTIONS[] = {
	{"system", section_system},
	{"timers", section_timers},
	{"timer_leases", section_timer_leases},
	{"jobs", section_jobs},
	{"workers", section_workers},
	{"streams", section_streams},
	{"pools", section_pools},
	{"runtime_events", section_runtime_events},
};

#define NSECTIONS (sizeof(SECTIONS) / sizeof(SECTIONS[0]))

enum cd_err api_status_section(struct request *req, struct db *db, const char *key, char **out,
			       struct cd_error *e)
{
	*out = NULL;
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(SECTIONS[i].key, key) == 0)
			return SECTIONS[i].fn(req, db, out, e);
	return cd_fail(e, CD_INTERNAL, NULL, "no status section %s", key);
}

/* GET /v1/status   role: readonly, operator
 * {system, timers, timer_leases, jobs: {total, by_stage}, workers, streams,
 *  pools, runtime_events}. The first section that fails answers its error
 * (503 database_unavailable when PostgreSQL is down). */
void api_status_get(struct request *req)
{
	struct buf b;
	char *part = NULL;
	enum cd_err rc = CD_OK;

	buf_init(&b, STATUS_MAX_BYTES);
	buf_puts(&b, "{");
	for (size_t i = 0; i < NSECTIONS && rc == CD_OK; i++) {
		rc = SECTIONS[i].fn(req, req->db, &part, &req->err);
		if (rc != CD_OK)
			break;
		buf_printf(&b, "%s\"%s\":%s", i > 0 ? "," : "", SECTIONS[i].key, part);
		free(part);
		part = NULL;
	}
	buf_puts(&b, "}");
	if (rc == CD_OK && buf_overflowed(&b))
		rc = cd_fail(&req->err, CD_INTERNAL, NULL, "the status answer passed %d bytes",
			     STATUS_MAX_BYTES);
	if (rc == CD_OK)
		reply_ok_text(req, buf_str(&b));
	else
		reply_error(req, &req->err);
	buf_reset(&b);
}

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
 * (with `stale`). The places for streams, pools (with their runtime
 * instances) and runtime_events are marked below: until they are filled in,
 * their value is null, which reads "not reported by this build".
 */
#include <stdlib.h>

#include "base/buf.h"
#include "base/mem.h"
#include "data/db_control.h"
#include "data/db_factories.h"
#include "data/db_status.h"
#include "data/db_timers.h"
#include "fcgi/api.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"

#define STATUS_MAX_BYTES (4 * 1024 * 1024) /* the answer's cap */

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

/* Streams (per configured stream: depth, pending, oldest pending age):
 * to be filled in (issue 14, item 6). */
static enum cd_err section_streams(struct request *req, struct db *db, char **out,
				   struct cd_error *e)
{
	(void)req, (void)db, (void)e;
	*out = xstrdup("null");
	return CD_OK;
}

/* Pools with their runtime instances: to be filled in (issue 14, item 6). */
static enum cd_err section_pools(struct request *req, struct db *db, char **out,
				 struct cd_error *e)
{
	(void)req, (void)db, (void)e;
	*out = xstrdup("null");
	return CD_OK;
}

/* Recent runtime events: to be filled in (issue 14, item 6). */
static enum cd_err section_runtime_events(struct request *req, struct db *db, char **out,
					  struct cd_error *e)
{
	(void)req, (void)db, (void)e;
	*out = xstrdup("null");
	return CD_OK;
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

/* GET /v1/status   role: readonly, operator
 * {system, timers, timer_leases, jobs: {total, by_stage}, workers, streams,
 *  pools, runtime_events}. The first section that fails answers its error
 * (503 database_unavailable when PostgreSQL is down). */
void api_status_get(struct request *req)
{
	struct cd_error e;
	struct buf b;
	struct db *db;
	char *part = NULL;
	enum cd_err rc = CD_OK;

	cd_error_reset(&e);
	if ((db = db_or_reply(req)) == NULL)
		return;
	buf_init(&b, STATUS_MAX_BYTES);
	buf_puts(&b, "{");
	for (size_t i = 0; i < NSECTIONS && rc == CD_OK; i++) {
		rc = SECTIONS[i].fn(req, db, &part, &e);
		if (rc != CD_OK)
			break;
		buf_printf(&b, "%s\"%s\":%s", i > 0 ? "," : "", SECTIONS[i].key, part);
		free(part);
		part = NULL;
	}
	buf_puts(&b, "}");
	if (rc == CD_OK && buf_overflowed(&b))
		rc = cd_fail(&e, CD_INTERNAL, NULL, "the status answer passed %d bytes",
			     STATUS_MAX_BYTES);
	if (rc == CD_OK)
		reply_ok_text(req, buf_str(&b));
	else
		reply_error(req, &e);
	buf_reset(&b);
}

/* db_runtime.c -- the SQL of GPU runtimes: pools, instances, events, manual
 * machines. See db_runtime.h.
 *
 * The one rule every statement here keeps: a decision is written only where
 * it is still true. The pool's row is locked (UPDATE, or INSERT ... ON
 * CONFLICT DO UPDATE) before its live instances are counted, so the count and
 * the insert it allows cannot interleave with another caller's; and the
 * watcher's state is written only at the rev it read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "data/db_internal.h"
#include "data/db_runtime.h"

#define LIVE_STATES "('starting', 'running', 'stopping', 'stopped')"

/* Seconds since the epoch of a timestamptz column, 0 for NULL. */
#define EPOCH(col) "coalesce(extract(epoch FROM " col ")::bigint, 0)"

static time_t col_time(const PGresult *res, int row, int col)
{
	return (time_t)strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A time parameter: NULL for 0. */
static const char *time_param(char *buf, size_t cap, time_t t)
{
	if (t == 0)
		return NULL;
	fmt_i64(buf, cap, (int64_t)t);
	return buf;
}

static void copy_field(char *dst, size_t cap, const PGresult *res, int row, int col)
{
	snprintf(dst, cap, "%s", PQgetvalue(res, row, col));
}

/* ---- pools ------------------------------------------------------------------ */

/* The row, created on first use. DO UPDATE (of nothing) rather than DO
 * NOTHING: it returns the row even when another caller inserted it after
 * this statement's snapshot was taken, which a separate SELECT would miss. */
static struct db_stmt SQL_POOL_LOAD = DB_STMT(
	"WITH p AS ("
	"  INSERT INTO runtime_pools (pool) VALUES ($1)"
	"  ON CONFLICT (pool) DO UPDATE SET pool = excluded.pool"
	"  RETURNING *"
	")"
	"SELECT extract(epoch FROM now())::bigint, p.over_polls, " EPOCH("p.idle_since") ","
	"       " EPOCH("p.last_poll_at") ", " EPOCH("p.last_teardown_at") ","
	"       " EPOCH("p.last_alert_at") ", p.rev, p.term,"
	"       (SELECT count(*) FROM runtime_instances i"
	"         WHERE i.pool = $1 AND i.state IN " LIVE_STATES "),"
	"       (SELECT count(*) FROM runtime_instances i WHERE i.pool = $1 AND i.state = 'running'),"
	"       (SELECT " EPOCH("min(i.started_at)") " FROM runtime_instances i"
	"         WHERE i.pool = $1 AND i.state = 'running')"
	"  FROM p LIMIT 1");

enum cd_err db_runtime_pool_load(struct db *db, const char *pool, struct runtime_pool_row *out,
				 struct cd_error *e)
{
	const char *p[1] = {pool};
	PGresult *res = NULL;
	enum cd_err rc;

	memset(out, 0, sizeof(*out));
	rc = db_exec(db, &SQL_POOL_LOAD, 1, p, &res, e);
	if (rc != CD_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = cd_fail(e, CD_INTERNAL, "pool", "the state of pool %s could not be read", pool);
		goto out;
	}
	out->now = col_time(res, 0, 0);
	out->over_polls = atoi(PQgetvalue(res, 0, 1));
	out->idle_since = col_time(res, 0, 2);
	out->last_poll_at = col_time(res, 0, 3);
	out->last_teardown_at = col_time(res, 0, 4);
	out->last_alert_at = col_time(res, 0, 5);
	out->rev = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	out->term = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	out->live = atol(PQgetvalue(res, 0, 8));
	out->running = atol(PQgetvalue(res, 0, 9));
	out->oldest_started_at = col_time(res, 0, 10);
	rc = CD_OK;
out:
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_SWEEP = DB_STMT(
	"WITH abandoned AS ("
	"  UPDATE runtime_instances SET state = 'failed', last_status_at = now(), updated_at = now(),"
	"         last_status = 'abandoned: its start never completed (the caller stopped)'"
	"   WHERE pool = $1 AND state = 'starting' AND provider_id IS NULL"
	"     AND created_at < now() - make_interval(secs => $2::int)"
	"  RETURNING 1"
	"), stuck AS ("
	"  UPDATE runtime_instances SET state = 'running', last_status_at = now(), updated_at = now(),"
	"         last_status = 'teardown interrupted: to be torn down again'"
	"   WHERE pool = $1 AND state = 'stopping'"
	"     AND updated_at < now() - make_interval(secs => $2::int)"
	"  RETURNING 1"
	")"
	"SELECT (SELECT count(*) FROM abandoned) + (SELECT count(*) FROM stuck)");

enum cd_err db_runtime_sweep(struct db *db, const char *pool, long older_s, long *out,
			     struct cd_error *e)
{
	char s[24];
	const char *p[2] = {pool, s};
	PGresult *res = NULL;
	enum cd_err rc;

	fmt_i64(s, sizeof(s), older_s);
	rc = db_exec(db, &SQL_SWEEP, 2, p, &res, e);
	*out = rc == CD_OK ? atol(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_RUNNING = DB_STMT(
	"SELECT id, pool, provider, provider_id, state FROM runtime_instances"
	" WHERE pool = $1 AND state = 'running' AND provider IS NOT NULL"
	" ORDER BY id LIMIT $2");

enum cd_err db_runtime_running(struct db *db, const char *pool, struct runtime_instance *out,
			       size_t cap, size_t *n, struct cd_error *e)
{
	char lim[24];
	const char *p[2] = {pool, lim};
	PGresult *res = NULL;
	enum cd_err rc;

	*n = 0;
	snprintf(lim, sizeof(lim), "%zu", cap);
	rc = db_exec(db, &SQL_RUNNING, 2, p, &res, e);
	for (int r = 0; rc == CD_OK && r < PQntuples(res) && *n < cap; r++) {
		struct runtime_instance *it = &out[(*n)++];

		it->id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		copy_field(it->pool, sizeof(it->pool), res, r, 1);
		copy_field(it->provider, sizeof(it->provider), res, r, 2);
		copy_field(it->provider_id, sizeof(it->provider_id), res, r, 3);
		copy_field(it->state, sizeof(it->state), res, r, 4);
	}
	PQclear(res);
	return rc;
}

/* Only a row still running: a teardown that moved it on meanwhile wins. */
static struct db_stmt SQL_OBSERVED = DB_STMT(
	"UPDATE runtime_instances SET"
	"  state = CASE $2 WHEN 'gone' THEN 'destroyed' WHEN 'stopped' THEN 'stopped'"
	"                  ELSE state END,"
	"  stopped_at = CASE WHEN $2 IN ('gone', 'stopped') THEN now() ELSE stopped_at END,"
	"  last_status = 'provider: ' || $2, last_status_at = now(), updated_at = now()"
	" WHERE id = $1 AND state = 'running'"
	" RETURNING state <> 'running'");

enum cd_err db_runtime_observed(struct db *db, int64_t id, const char *provider_state,
				bool *changed, struct cd_error *e)
{
	char ids[24];
	const char *p[2] = {ids, provider_state};
	PGresult *res = NULL;
	enum cd_err rc;

	fmt_i64(ids, sizeof(ids), id);
	rc = db_exec(db, &SQL_OBSERVED, 2, p, &res, e);
	*changed = rc == CD_OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

/* Conditional on the rev read and on no newer term: the row lock it takes
 * also serializes the reservation that follows. A waiting writer re-checks
 * rev on the winner's row version (READ COMMITTED) and updates nothing. */
static struct db_stmt SQL_POOL_WRITE = DB_STMT(
	"UPDATE runtime_pools SET over_polls = $3, idle_since = to_timestamp($4::float8),"
	"       last_poll_at = now(), last_demand = $5,"
	"       last_teardown_at = CASE WHEN $6 = 'teardown' THEN now() ELSE last_teardown_at END,"
	"       last_alert_at = CASE WHEN $6 = 'alert_long_running' THEN now()"
	"                            ELSE last_alert_at END,"
	"       last_action = $6, last_reason = $7, term = $8, rev = rev + 1, updated_at = now()"
	" WHERE pool = $1 AND rev = $2 AND term <= $8"
	" RETURNING rev");

/* Under the pool's lock: a new `starting` row if fewer than $4 live. */
static struct db_stmt SQL_RESERVE = DB_STMT(
	"INSERT INTO runtime_instances (pool, name, term, requested_by)"
	" SELECT $1, $2, $3::bigint, $5"
	"  WHERE (SELECT count(*) FROM runtime_instances"
	"          WHERE pool = $1 AND state IN " LIVE_STATES ") < $4::bigint"
	" RETURNING id");

/* The priciest running instance goes first (then the newest). */
static struct db_stmt SQL_PICK_TEARDOWN = DB_STMT(
	"UPDATE runtime_instances SET state = 'stopping', updated_at = now()"
	" WHERE id = (SELECT id FROM runtime_instances WHERE pool = $1 AND state = 'running'"
	"              ORDER BY price_per_hour DESC NULLS LAST, id DESC LIMIT 1"
	"              FOR UPDATE SKIP LOCKED)"
	" RETURNING id, coalesce(provider, ''), coalesce(provider_id, '')");

static struct db_stmt SQL_EVENT = DB_STMT(
	"INSERT INTO runtime_events (tenant_id, instance_id, kind, data)"
	" VALUES (0, $1, $2, $3::jsonb)");

struct commit_ctx {
	const struct runtime_pool_write *w;
	struct runtime_pool_outcome out;
	struct cd_error *e;
};

static enum cd_err reserve(struct db *db, const struct runtime_pool_write *w, int64_t *id,
			   struct cd_error *e)
{
	char term[24], max[24];
	const char *p[5] = {w->pool, w->name, term, max, "watcher"};
	PGresult *res = NULL;
	enum cd_err rc;

	fmt_i64(term, sizeof(term), w->term);
	fmt_i64(max, sizeof(max), w->max_instances);
	rc = db_exec(db, &SQL_RESERVE, 5, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 1)
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static enum cd_err pick_teardown(struct db *db, const char *pool,
				 struct runtime_pool_outcome *out, struct cd_error *e)
{
	const char *p[1] = {pool};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_PICK_TEARDOWN, 1, p, &res, e);

	if (rc == CD_OK && PQntuples(res) == 1) {
		out->instance_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		copy_field(out->provider, sizeof(out->provider), res, 0, 1);
		copy_field(out->provider_id, sizeof(out->provider_id), res, 0, 2);
	}
	PQclear(res);
	return rc;
}

static enum cd_err commit_step(struct db *db, void *arg)
{
	struct commit_ctx *c = arg;
	const struct runtime_pool_write *w = c->w;
	char rev[24], over[16], idle[24], demand[24], term[24];
	const char *p[8] = {w->pool, rev, over, NULL, demand, w->action, w->reason, term};
	PGresult *res = NULL;
	enum cd_err rc;

	memset(&c->out, 0, sizeof(c->out));
	fmt_i64(rev, sizeof(rev), w->rev);
	snprintf(over, sizeof(over), "%d", w->over_polls);
	p[3] = time_param(idle, sizeof(idle), w->idle_since);
	fmt_i64(demand, sizeof(demand), w->demand);
	fmt_i64(term, sizeof(term), w->term);
	rc = db_exec(db, &SQL_POOL_WRITE, 8, p, &res, c->e);
	if (rc != CD_OK)
		return rc;
	c->out.applied = PQntuples(res) == 1;
	PQclear(res);
	if (!c->out.applied)
		return CD_OK;
	if (strcmp(w->action, "spawn") == 0)
		return reserve(db, w, &c->out.instance_id, c->e);
	if (strcmp(w->action, "teardown") == 0)
		return pick_teardown(db, w->pool, &c->out, c->e);
	if (strcmp(w->action, "alert_long_running") == 0) {
		const char *q[3] = {NULL, w->action, w->event ? w->event : "{}"};

		return db_exec_command(db, &SQL_EVENT, 3, q, c->e);
	}
	return CD_OK;
}

enum cd_err db_runtime_pool_commit(struct db *db, const struct runtime_pool_write *w,
				   struct runtime_pool_outcome *out, struct cd_error *e)
{
	struct commit_ctx c = {.w = w, .e = e};
	enum cd_err rc = db_run_tx(db, commit_step, &c, e);

	*out = rc == CD_OK ? c.out : (struct runtime_pool_outcome){0};
	return rc;
}

/* Through jobs_claimable (tenant, queued): the count reads queued rows only. */
static struct db_stmt SQL_DEMAND_JOBS = DB_STMT(
	"SELECT (SELECT count(*) FROM jobs j"
	"         WHERE j.tenant_id = t.id AND j.stage = 'queued' AND $2 <> ''"
	"           AND $2 = ANY (j.capabilities)),"
	"       coalesce((SELECT m.mode = 'draining' FROM system_modes m WHERE m.tenant_id = t.id),"
	"                false)"
	"  FROM tenants t WHERE t.name = $1");

enum cd_err db_runtime_demand_jobs(struct db *db, const char *tenant, const char *capability,
				   long *queued, bool *draining, struct cd_error *e)
{
	const char *p[2] = {tenant, capability};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_DEMAND_JOBS, 2, p, &res, e);

	*queued = 0;
	*draining = false;
	if (rc == CD_OK && PQntuples(res) == 1) {
		*queued = atol(PQgetvalue(res, 0, 0));
		*draining = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return rc;
}

/* ---- instances -------------------------------------------------------------- */

/* Creates and locks the pool's row in one statement (DO UPDATE locks). */
static struct db_stmt SQL_POOL_LOCK = DB_STMT(
	"INSERT INTO runtime_pools (pool) VALUES ($1)"
	" ON CONFLICT (pool) DO UPDATE SET updated_at = now()");

static struct db_stmt SQL_LIVE_ONE = DB_STMT(
	"SELECT id FROM runtime_instances WHERE pool = $1 AND state IN ('starting', 'running')"
	" ORDER BY id LIMIT 1");

struct reserve_ctx {
	const char *pool, *name, *by;
	int64_t id;
	bool existing;
	struct cd_error *e;
};

static enum cd_err reserve_step(struct db *db, void *arg)
{
	struct reserve_ctx *c = arg;
	const char *p[5] = {c->pool, c->name, "0", "1", c->by};
	PGresult *res = NULL;
	enum cd_err rc;

	c->id = 0;
	c->existing = false;
	rc = db_exec_command(db, &SQL_POOL_LOCK, 1, p, c->e);
	if (rc == CD_OK)
		rc = db_exec(db, &SQL_LIVE_ONE, 1, p, &res, c->e);
	if (rc == CD_OK && PQntuples(res) == 1) {
		c->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		c->existing = true;
	}
	PQclear(res);
	res = NULL;
	if (rc != CD_OK || c->existing)
		return rc;
	rc = db_exec(db, &SQL_RESERVE, 5, p, &res, c->e);
	if (rc == CD_OK && PQntuples(res) == 1)
		c->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (rc == CD_OK) /* a stopping or stopped one is live: the slot is taken */
		rc = cd_fail(c->e, CD_CONFLICT, "pool",
			     "Pool %s has an instance being stopped; try again once it is.", c->pool);
	PQclear(res);
	return rc;
}

enum cd_err db_runtime_reserve(struct db *db, const char *pool, const char *name,
			       const char *requested_by, int64_t *out, bool *existing,
			       struct cd_error *e)
{
	struct reserve_ctx c = {.pool = pool, .name = name, .by = requested_by, .e = e};
	enum cd_err rc = db_run_tx(db, reserve_step, &c, e);

	*out = rc == CD_OK ? c.id : 0;
	*existing = rc == CD_OK && c.existing;
	return rc;
}

static struct db_stmt SQL_STARTED = DB_STMT(
	"UPDATE runtime_instances SET provider = $2, provider_id = $3, gpu = $4, region = $5,"
	"       address = $6, gpu_mem_gb = $7, price_per_hour = $8, last_status = $9,"
	"       state = 'running', started_at = now(), last_status_at = now(), updated_at = now()"
	" WHERE id = $1");

enum cd_err db_runtime_started(struct db *db, int64_t id, const struct runtime_started *s,
			       struct cd_error *e)
{
	char ids[24], mem[16], price[32];
	const char *p[9] = {ids, s->provider, s->provider_id, s->gpu, s->region,
			    s->address, mem, price, s->status};

	fmt_i64(ids, sizeof(ids), id);
	snprintf(mem, sizeof(mem), "%d", s->gpu_mem_gb);
	snprintf(price, sizeof(price), "%.4f", s->price_per_hour);
	return db_exec_command(db, &SQL_STARTED, 9, p, e);
}

static struct db_stmt SQL_SET_STATE = DB_STMT(
	"UPDATE runtime_instances SET state = $2, last_status = $3, last_status_at = now(),"
	"       stopped_at = CASE WHEN $2 IN ('stopped', 'destroyed') AND stopped_at IS NULL"
	"                         THEN now() ELSE stopped_at END,"
	"       updated_at = now()"
	" WHERE id = $1");

enum cd_err db_runtime_set_state(struct db *db, int64_t id, const char *state,
				 const char *last_status, struct cd_error *e)
{
	char ids[24];
	const char *p[3] = {ids, state, last_status};

	fmt_i64(ids, sizeof(ids), id);
	return db_exec_command(db, &SQL_SET_STATE, 3, p, e);
}

static struct db_stmt SQL_GET = DB_STMT(
	"SELECT id, pool, coalesce(provider, ''), coalesce(provider_id, ''), state"
	"  FROM runtime_instances WHERE id = $1");

enum cd_err db_runtime_get(struct db *db, int64_t id, struct runtime_instance *out,
			   struct cd_error *e)
{
	char ids[24];
	const char *p[1] = {ids};
	PGresult *res = NULL;
	enum cd_err rc;

	memset(out, 0, sizeof(*out));
	fmt_i64(ids, sizeof(ids), id);
	rc = db_exec(db, &SQL_GET, 1, p, &res, e);
	if (rc != CD_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = cd_fail(e, CD_NOT_FOUND, "id", "No runtime instance has id %" PRId64 ".", id);
		cd_fail_code(e, "runtime_not_found");
		goto out;
	}
	out->id = id;
	copy_field(out->pool, sizeof(out->pool), res, 0, 1);
	copy_field(out->provider, sizeof(out->provider), res, 0, 2);
	copy_field(out->provider_id, sizeof(out->provider_id), res, 0, 3);
	copy_field(out->state, sizeof(out->state), res, 0, 4);
	rc = CD_OK;
out:
	PQclear(res);
	return rc;
}

/* One instance row i as JSON (GET /v1/runtimes, GET /v1/status). */
#define INSTANCE_JSON                                                                     \
	"json_build_object('id', i.id::text, 'pool', i.pool, 'provider', i.provider,"       \
	"  'provider_id', i.provider_id, 'name', i.name, 'state', i.state,"               \
	"  'price_per_hour', i.price_per_hour, 'gpu', i.gpu, 'gpu_mem_gb', i.gpu_mem_gb,"   \
	"  'region', i.region, 'address', i.address, 'term', i.term,"                      \
	"  'requested_by', i.requested_by, 'created_at', rfc3339(i.created_at),"           \
	"  'started_at', rfc3339(i.started_at), 'stopped_at', rfc3339(i.stopped_at),"      \
	"  'last_status', i.last_status, 'last_status_at', rfc3339(i.last_status_at))"

static struct db_stmt SQL_LIST = DB_STMT(
	"SELECT json_build_object('items', coalesce(json_agg(" INSTANCE_JSON
	"         ORDER BY i.id DESC), '[]'))"
	"  FROM (SELECT * FROM runtime_instances ORDER BY id DESC LIMIT $1) i");

enum cd_err db_runtime_list(struct db *db, int limit, char **out, struct cd_error *e)
{
	char lim[16];
	const char *p[1] = {lim};

	snprintf(lim, sizeof(lim), "%d", limit);
	return db_exec_text(db, &SQL_LIST, 1, p, out, e);
}

/* The row lock of the UPDATE serializes two callers: the second re-reads
 * the state the first wrote and moves nothing. */
static struct db_stmt SQL_BEGIN = DB_STMT(
	"WITH old AS (SELECT id, state FROM runtime_instances WHERE id = $1 FOR UPDATE)"
	" UPDATE runtime_instances i SET state = 'stopping', updated_at = now()"
	"   FROM old WHERE i.id = old.id AND old.state = ANY (string_to_array($2, ','))"
	"    AND i.provider_id IS NOT NULL"
	" RETURNING i.pool, i.provider, i.provider_id, old.state");

enum cd_err db_runtime_begin(struct db *db, int64_t id, const char *from, bool *changed,
			     struct runtime_instance *out, char prev[16], struct cd_error *e)
{
	char ids[24];
	const char *p[2] = {ids, from};
	PGresult *res = NULL;
	enum cd_err rc;

	*changed = false;
	prev[0] = '\0';
	fmt_i64(ids, sizeof(ids), id);
	rc = db_exec(db, &SQL_BEGIN, 2, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 1) {
		*changed = true;
		out->id = id;
		copy_field(out->pool, sizeof(out->pool), res, 0, 0);
		copy_field(out->provider, sizeof(out->provider), res, 0, 1);
		copy_field(out->provider_id, sizeof(out->provider_id), res, 0, 2);
		snprintf(out->state, sizeof(out->state), "stopping");
		copy_field(prev, 16, res, 0, 3);
	}
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_GET_JSON = DB_STMT(
	"SELECT (SELECT " INSTANCE_JSON " FROM runtime_instances i WHERE i.id = $1)");

enum cd_err db_runtime_get_json(struct db *db, int64_t id, char **out, struct cd_error *e)
{
	char ids[24];
	const char *p[1] = {ids};
	enum cd_err rc;

	fmt_i64(ids, sizeof(ids), id);
	rc = db_exec_text(db, &SQL_GET_JSON, 1, p, out, e);
	if (rc == CD_OK && **out == '\0') { /* NULL: no such row */
		free(*out);
		*out = NULL;
		rc = cd_fail(e, CD_NOT_FOUND, "id", "No runtime instance has id %" PRId64 ".", id);
		cd_fail_code(e, "runtime_not_found");
	}
	return rc;
}

static struct db_stmt SQL_POOLS = DB_STMT(
	"SELECT json_build_object('items', coalesce(json_agg(json_build_object("
	"         'pool', p.pool, 'over_polls', p.over_polls, 'idle_since', rfc3339(p.idle_since),"
	"         'last_poll_at', rfc3339(p.last_poll_at), 'last_demand', p.last_demand,"
	"         'last_teardown_at', rfc3339(p.last_teardown_at),"
	"         'last_alert_at', rfc3339(p.last_alert_at), 'last_action', p.last_action,"
	"         'last_reason', p.last_reason, 'term', p.term,"
	"         'instances', (SELECT coalesce(json_agg(" INSTANCE_JSON " ORDER BY i.id), '[]')"
	"                         FROM runtime_instances i WHERE i.pool = p.pool"
	"                          AND i.state IN " LIVE_STATES "))"
	"         ORDER BY p.pool), '[]'))"
	"  FROM runtime_pools p");

enum cd_err db_runtime_pools(struct db *db, char **out, struct cd_error *e)
{
	return db_exec_text(db, &SQL_POOLS, 0, NULL, out, e);
}

/* ---- events ----------------------------------------------------------------- */

static struct db_stmt SQL_EVENTS_RECENT = DB_STMT(
	"SELECT json_build_object('items', coalesce(json_agg(json_build_object("
	"         'id', v.id::text, 'instance_id', v.instance_id::text, 'kind', v.kind,"
	"         'at', rfc3339(v.at), 'data', v.data) ORDER BY v.id DESC), '[]'))"
	"  FROM (SELECT * FROM runtime_events ORDER BY id DESC LIMIT $1) v");

enum cd_err db_runtime_events_recent(struct db *db, int limit, char **out, struct cd_error *e)
{
	char lim[16];
	const char *p[1] = {lim};

	snprintf(lim, sizeof(lim), "%d", limit);
	return db_exec_text(db, &SQL_EVENTS_RECENT, 1, p, out, e);
}

enum cd_err db_runtime_event(struct db *db, int64_t instance_id, const char *kind,
			     const char *data, struct cd_error *e)
{
	char ids[24];
	const char *p[3] = {NULL, kind, data};

	if (instance_id != 0) {
		fmt_i64(ids, sizeof(ids), instance_id);
		p[0] = ids;
	}
	return db_exec_command(db, &SQL_EVENT, 3, p, e);
}

/* ---- manual machines -------------------------------------------------------- */

#define MACHINE_COLS "id, name, gpu, gpu_mem_gb, price_per_hour::float8, address, state"

static void take_machine(const PGresult *res, int row, struct runtime_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	copy_field(m->name, sizeof(m->name), res, row, 1);
	copy_field(m->gpu, sizeof(m->gpu), res, row, 2);
	m->gpu_mem_gb = atoi(PQgetvalue(res, row, 3));
	m->price_per_hour = strtod(PQgetvalue(res, row, 4), NULL);
	copy_field(m->address, sizeof(m->address), res, row, 5);
	copy_field(m->state, sizeof(m->state), res, row, 6);
}

static struct db_stmt SQL_MACHINE_REGISTER = DB_STMT(
	"WITH m AS ("
	"  INSERT INTO runtime_machines (name, gpu, gpu_mem_gb, price_per_hour, address,"
	"                                registered_by)"
	"  VALUES ($1, $2, $3, $4, $5, $6)"
	"  ON CONFLICT (name) DO UPDATE SET gpu = excluded.gpu, gpu_mem_gb = excluded.gpu_mem_gb,"
	"    price_per_hour = excluded.price_per_hour, address = excluded.address,"
	"    updated_at = now()"
	"  RETURNING *"
	")"
	"SELECT json_build_object('id', id::text, 'name', name, 'gpu', gpu,"
	"       'gpu_mem_gb', gpu_mem_gb, 'price_per_hour', price_per_hour, 'address', address,"
	"       'state', state, 'registered_at', rfc3339(registered_at)) FROM m");

enum cd_err db_runtime_machine_register(struct db *db, const struct runtime_machine *m,
					const char *registered_by, char **out, struct cd_error *e)
{
	char mem[16], price[32];
	const char *p[6] = {m->name, m->gpu, mem, price, m->address, registered_by};

	snprintf(mem, sizeof(mem), "%d", m->gpu_mem_gb);
	snprintf(price, sizeof(price), "%.4f", m->price_per_hour);
	return db_exec_text(db, &SQL_MACHINE_REGISTER, 6, p, out, e);
}

static struct db_stmt SQL_MACHINES_IDLE = DB_STMT(
	"SELECT " MACHINE_COLS " FROM runtime_machines"
	" WHERE state = 'idle' AND gpu_mem_gb >= $1"
	" ORDER BY price_per_hour, id LIMIT $2");

enum cd_err db_runtime_machines_idle(struct db *db, int min_mem_gb, struct runtime_machine *out,
				     size_t cap, size_t *n, struct cd_error *e)
{
	char mem[16], lim[24];
	const char *p[2] = {mem, lim};
	PGresult *res = NULL;
	enum cd_err rc;

	*n = 0;
	snprintf(mem, sizeof(mem), "%d", min_mem_gb);
	snprintf(lim, sizeof(lim), "%zu", cap);
	rc = db_exec(db, &SQL_MACHINES_IDLE, 2, p, &res, e);
	for (int r = 0; rc == CD_OK && r < PQntuples(res) && *n < cap; r++)
		take_machine(res, r, &out[(*n)++]);
	PQclear(res);
	return rc;
}

/* Conditional on the state it leaves: of two starts racing for one idle
 * machine, one moves it. */
static struct db_stmt SQL_MACHINE_MOVE = DB_STMT(
	"UPDATE runtime_machines SET state = $3, updated_at = now()"
	" WHERE id = $1 AND ($2 = '*' OR state = $2)"
	" RETURNING " MACHINE_COLS);

enum cd_err db_runtime_machine_move(struct db *db, int64_t id, const char *from, const char *to,
				    bool *changed, struct runtime_machine *out,
				    struct cd_error *e)
{
	char ids[24];
	const char *p[3] = {ids, from, to};
	PGresult *res = NULL;
	enum cd_err rc;

	*changed = false;
	fmt_i64(ids, sizeof(ids), id);
	rc = db_exec(db, &SQL_MACHINE_MOVE, 3, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 1) {
		*changed = true;
		if (out != NULL)
			take_machine(res, 0, out);
	}
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_MACHINE_GET = DB_STMT(
	"SELECT " MACHINE_COLS " FROM runtime_machines WHERE id = $1");

enum cd_err db_runtime_machine_get(struct db *db, int64_t id, struct runtime_machine *out,
				   struct cd_error *e)
{
	char ids[24];
	const char *p[1] = {ids};
	PGresult *res = NULL;
	enum cd_err rc;

	fmt_i64(ids, sizeof(ids), id);
	rc = db_exec(db, &SQL_MACHINE_GET, 1, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 1)
		take_machine(res, 0, out);
	else if (rc == CD_OK)
		rc = cd_fail(e, CD_NOT_FOUND, "id", "No manual machine has id %" PRId64 ".", id);
	PQclear(res);
	return rc;
}

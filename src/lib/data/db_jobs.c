/* db_jobs.c -- the SQL of jobs: submit, claim, fenced writes, reads.
 *
 * Owns: every statement on jobs, job_deps, runs, job_events and artifacts.
 * Invariants: every statement filters by tenant_id; every write from a
 * worker is conditional on (lease_epoch, lease_holder, lease_status='held')
 * and a miss is explained by a re-read, never guessed; a state change, its
 * run row and its event are written by one statement or one transaction.
 * Never formats a value into SQL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "data/db_internal.h"
#include "data/db_jobs.h"

/* Copies the single text value of res (row 0, col 0) into a new string. */
static char *take_text(PGresult *res)
{
	return xstrdup(PQgetvalue(res, 0, 0));
}

static enum cd_err job_not_found(struct cd_error *e, int64_t id)
{
	cd_fail(e, CD_NOT_FOUND, "id", "No job %" PRId64 " exists in this tenant.", id);
	return cd_fail_code(e, "job_not_found");
}

/* ---- submit ------------------------------------------------------------- */

static struct db_stmt SQL_FIND_BY_KEY = DB_STMT(
	"SELECT id, content_hash = encode(sha256(convert_to($3::jsonb::text, 'UTF8')), 'hex'),"
	"       stage"
	"  FROM jobs WHERE tenant_id = $1 AND idempotency_key = $2 FOR UPDATE");

/* Resolves each dep (an id or an idempotency key) of the request and locks
 * it FOR SHARE until commit, so a dep that ships meanwhile either ships
 * first (and is seen shipped) or sees this job among its dependents. */
static struct db_stmt SQL_RESOLVE_DEPS = DB_STMT(
	"SELECT x.ord, d.id"
	"  FROM jsonb_array_elements_text(coalesce($2::jsonb -> 'deps', '[]'::jsonb))"
	"       WITH ORDINALITY AS x(ref, ord)"
	"  LEFT JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.tenant_id = $1"
	"                        AND (j.idempotency_key = x.ref"
	"                             OR j.id = CASE WHEN x.ref ~ '^[0-9]{1,18}$'"
	"                                            THEN x.ref::bigint END)"
	"                      ORDER BY (j.idempotency_key IS NOT DISTINCT FROM x.ref) DESC"
	"                      LIMIT 1"
	"                      FOR SHARE) d ON true"
	" ORDER BY x.ord");

/* Would `job` depending on the deps create a cycle (a dep reaching job)? */
static struct db_stmt SQL_DEPS_REACH = DB_STMT(
	"WITH RECURSIVE up(id) AS ("
	"    SELECT unnest($2::bigint[])"
	"  UNION"
	"    SELECT d.dep_id FROM job_deps d JOIN up ON d.job_id = up.id)"
	"SELECT EXISTS (SELECT 1 FROM up WHERE id = $1)");

#define JOB_CONTENT_COLUMNS                                                                        \
	"priority = coalesce(array_position(ARRAY['critical','high','medium','low'],"              \
	"                    r->>'priority') - 1, 2),"                                               \
	" capabilities = ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'capabilities',"        \
	"                      '[]'::jsonb))),"                                                      \
	" deps_mode = coalesce(r->>'deps_mode', 'hard'),"                                           \
	" body = coalesce(r->>'body', ''),"                                                         \
	" manifest = coalesce(r->'manifest', '{}'::jsonb),"                                         \
	" engine_class = r->>'engine_class', profile = r->>'profile', budget = r->'budget',"        \
	" retry_max = coalesce((r->'retry'->>'max')::int, 3),"                                      \
	" retry_backoff_s = coalesce((r->'retry'->>'backoff_s')::int, 30),"                         \
	" retry_on = CASE WHEN r->'retry' ? 'on'"                                                   \
	"            THEN ARRAY(SELECT jsonb_array_elements_text(r->'retry'->'on'))"                \
	"            ELSE '{failed,lease_expired}'::text[] END,"                                     \
	" content_hash = encode(sha256(convert_to(r::text, 'UTF8')), 'hex')"

static struct db_stmt SQL_INSERT_JOB = DB_STMT(
	"INSERT INTO jobs AS j (tenant_id, idempotency_key, content_hash)"
	" VALUES ($1, $2, '')"
	" ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
	" RETURNING id");

/* Content, then the stage its deps allow: blocked while any dep is unmet. */
static struct db_stmt SQL_SET_CONTENT = DB_STMT(
	"UPDATE jobs SET " JOB_CONTENT_COLUMNS ","
	"       stage = CASE WHEN EXISTS ("
	"                 SELECT 1 FROM job_deps d JOIN jobs x ON x.id = d.dep_id"
	"                  WHERE d.job_id = $1"
	"                    AND NOT (x.stage = 'shipped' OR (coalesce(r->>'deps_mode', 'hard') = 'soft'"
	"                                                    AND x.stage = 'testing')))"
	"               THEN 'blocked' ELSE 'queued' END,"
	"       rev = rev + $4, dep_ids = $5::bigint[], updated_at = now()"
	"  FROM (SELECT $3::jsonb AS r) s"
	" WHERE id = $1 AND tenant_id = $2"
	" RETURNING stage");

static struct db_stmt SQL_CLEAR_DEPS = DB_STMT(
	"DELETE FROM job_deps WHERE job_id = $1 AND tenant_id = $2");

static struct db_stmt SQL_ADD_DEPS = DB_STMT(
	"INSERT INTO job_deps (tenant_id, job_id, dep_id)"
	" SELECT $1, $2, unnest($3::bigint[]) ON CONFLICT DO NOTHING");

static struct db_stmt SQL_ADD_EVENT = DB_STMT(
	"INSERT INTO job_events (tenant_id, job_id, kind, data) VALUES ($1, $2, $3, $4::jsonb)");

static enum cd_err add_event(struct db *db, const char *tenant, const char *id, const char *kind,
			     const char *data, struct cd_error *e)
{
	const char *p[4] = {tenant, id, kind, data ? data : "{}"};

	return db_exec_command(db, &SQL_ADD_EVENT, 4, p, e);
}

/* Resolves deps into a bigint[] literal; blocked: some dep is not satisfied. */
static enum cd_err resolve_deps(struct db *db, const char *tenant, const char *request,
				const char *where, struct buf *ids, struct cd_error *e)
{
	const char *p[2] = {tenant, request};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_RESOLVE_DEPS, 2, p, &res, e);

	if (rc != CD_OK)
		goto out;
	buf_puts(ids, "{");
	for (int r = 0; r < PQntuples(res); r++) {
		if (PQgetisnull(res, r, 1)) {
			char field[64];

			snprintf(field, sizeof(field), "%sdeps[%d]", where, r);
			rc = cd_fail(e, CD_INVALID, field,
				     "%s names no job of this tenant (give an id or an idempotency_key).",
				     field);
			goto out;
		}
		buf_printf(ids, "%s%s", r ? "," : "", PQgetvalue(res, r, 1));
	}
	buf_puts(ids, "}");
	rc = CD_OK;
out:
	PQclear(res);
	return rc;
}

static enum cd_err check_no_cycle(struct db *db, const char *id, const char *deps,
				  const char *key, struct cd_error *e)
{
	const char *p[2] = {id, deps};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_DEPS_REACH, 2, p, &res, e);

	if (rc == CD_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		rc = cd_fail(e, CD_DEPENDENCY_CYCLE, "deps",
			     "These deps would make job %s depend on itself: %s.", key ? key : id,
			     key ? key : id);
	}
	PQclear(res);
	return rc;
}

/* Writes deps, then content and the stage the deps allow. */
static enum cd_err write_content(struct db *db, const char *tenant, const char *id,
				 const char *request, const char *deps, bool bump,
				 struct cd_error *e)
{
	const char *clear[2] = {id, tenant};
	const char *add[3] = {tenant, id, deps};
	const char *content[5] = {id, tenant, request, bump ? "1" : "0", deps};
	PGresult *res = NULL;
	enum cd_err rc;

	rc = db_exec(db, &SQL_CLEAR_DEPS, 2, clear, &res, e);
	PQclear(res);
	if (rc == CD_OK) {
		rc = db_exec(db, &SQL_ADD_DEPS, 3, add, &res, e);
		PQclear(res);
	}
	if (rc == CD_OK) {
		rc = db_exec(db, &SQL_SET_CONTENT, 5, content, &res, e);
		PQclear(res);
	}
	return rc;
}

enum cd_err db_jobs_submit(struct db *db, int64_t tenant, const char *request, const char *key,
			   const char *where, enum submit_outcome *outcome, int64_t *id,
			   struct cd_error *e)
{
	char t[24], idbuf[24];
	struct buf deps;
	PGresult *res = NULL;
	enum cd_err rc;

	fmt_i64(t, sizeof(t), tenant);
	buf_init(&deps, 64 * 1024);
	rc = resolve_deps(db, t, request, where, &deps, e);
	if (rc != CD_OK)
		goto out;
	for (int attempt = 0; attempt < 3; attempt++) {
		if (key != NULL) {
			const char *p[3] = {t, key, request};

			rc = db_exec(db, &SQL_FIND_BY_KEY, 3, p, &res, e);
			if (rc != CD_OK)
				goto out;
			if (PQntuples(res) == 1) {
				const char *stage = PQgetvalue(res, 0, 2);

				*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
				snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(res, 0, 0));
				if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
					*outcome = SUBMIT_REPLAYED;
					rc = CD_OK;
					goto out;
				}
				if (strcmp(stage, "queued") != 0 && strcmp(stage, "blocked") != 0) {
					rc = cd_fail(e, CD_IDEMPOTENCY_CONFLICT, "idempotency_key",
						     "Job %s already has idempotency_key %s with other content "
						     "and is %s, so it cannot be superseded.",
						     idbuf, key, stage);
					goto out;
				}
				PQclear(res);
				res = NULL;
				rc = check_no_cycle(db, idbuf, buf_str(&deps), key, e);
				if (rc == CD_OK)
					rc = write_content(db, t, idbuf, request, buf_str(&deps), true, e);
				if (rc == CD_OK)
					rc = add_event(db, t, idbuf, "superseded", NULL, e);
				*outcome = SUBMIT_SUPERSEDED;
				goto out;
			}
			PQclear(res);
			res = NULL;
		}
		{
			const char *p[2] = {t, key};

			rc = db_exec(db, &SQL_INSERT_JOB, 2, p, &res, e);
			if (rc != CD_OK)
				goto out;
			if (PQntuples(res) == 0) {
				/* another transaction inserted this key first: read it */
				PQclear(res);
				res = NULL;
				continue;
			}
			snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(res, 0, 0));
			*id = strtoll(idbuf, NULL, 10);
			PQclear(res);
			res = NULL;
		}
		rc = write_content(db, t, idbuf, request, buf_str(&deps), false, e);
		if (rc == CD_OK)
			rc = add_event(db, t, idbuf, "submitted", NULL, e);
		*outcome = SUBMIT_CREATED;
		goto out;
	}
	rc = cd_fail(e, CD_CONFLICT, "idempotency_key",
		     "The idempotency_key is being submitted concurrently; retry.");
out:
	PQclear(res);
	buf_reset(&deps);
	return rc;
}

static struct db_stmt SQL_NOTIFY = DB_STMT("SELECT pg_notify('conductor_jobs', $1)");

enum cd_err db_jobs_notify(struct db *db, int64_t tenant, struct cd_error *e)
{
	char t[24];
	const char *p[1] = {t};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_command(db, &SQL_NOTIFY, 1, p, e);
}

/* ---- reads -------------------------------------------------------------- */

static struct db_stmt SQL_GET = DB_STMT(
	"SELECT job_json(j, $3) FROM jobs j WHERE j.id = $1 AND j.tenant_id = $2");

enum cd_err db_jobs_get(struct db *db, int64_t tenant, int64_t id, bool full, char **out,
			struct cd_error *e)
{
	char t[24], i[24];
	const char *p[3] = {i, t, full ? "true" : "false"};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), id);
	rc = db_exec(db, &SQL_GET, 3, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 0)
		rc = job_not_found(e, id);
	else if (rc == CD_OK)
		*out = take_text(res);
	PQclear(res);
	return rc;
}

/* Newest first, keyset on id. Two statements rather than one with optional
 * parameters, so that each has a good generic plan (db_use_generic_plans):
 * jobs_by_tenant or jobs_by_stage, the cursor as an index condition. */
#define LIST_PAGE(where)                                                                           \
	"SELECT coalesce(json_agg(job_json(j, false) ORDER BY j.id DESC), '[]'::json),"          \
	"       count(*), min(j.id)"                                                               \
	"  FROM (SELECT * FROM jobs WHERE " where " ORDER BY id DESC LIMIT $3) j"

static struct db_stmt SQL_LIST = DB_STMT(LIST_PAGE("tenant_id = $1 AND id < $2"));
static struct db_stmt SQL_LIST_STAGE =
	DB_STMT(LIST_PAGE("tenant_id = $1 AND id < $2 AND stage = $4"));

enum cd_err db_jobs_list(struct db *db, int64_t tenant, const char *stage, int limit,
			 int64_t before, char **out, int64_t *next, struct cd_error *e)
{
	char t[24], b[24], l[16];
	const char *p[4] = {t, b, l, stage};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	*next = 0;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(b, sizeof(b), before > 0 ? before : INT64_MAX);
	snprintf(l, sizeof(l), "%d", limit);
	rc = db_exec(db, stage ? &SQL_LIST_STAGE : &SQL_LIST, stage ? 4 : 3, p, &res, e);
	if (rc == CD_OK) {
		*out = take_text(res);
		if (atoi(PQgetvalue(res, 0, 1)) == limit)
			*next = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return rc;
}

/* ---- claim -------------------------------------------------------------- */

/* One statement: free seats, pick with SKIP LOCKED in claim order, lease,
 * run row, claimed event, the jobs as JSON. $6 (fast): claim only if the
 * worker has no seat limit, else claim nothing and answer limited = true so
 * the caller retries under db_jobs_lock_factory. Free seats: the seat_limit of
 * the worker's last heartbeat minus the leases it holds (counted only for a
 * limited worker); a worker that never sent a heartbeat is limited by
 * max_jobs alone. f is MATERIALIZED so that the worker's row is read once:
 * inlined, each use of seat_limit in lim became an index probe of its own. */
static struct db_stmt SQL_CLAIM = DB_STMT(
	"WITH f AS MATERIALIZED ("
	"  SELECT (SELECT seat_limit FROM factories"
	"           WHERE tenant_id = $1 AND factory_id = $2) AS seat_limit"
	"), lim AS ("
	"  SELECT seat_limit IS NOT NULL AS limited,"
	"         CASE WHEN seat_limit IS NULL THEN $3::int"
	"              ELSE least($3::int, greatest(0, seat_limit"
	"                     - (SELECT count(*) FROM jobs h WHERE h.tenant_id = $1"
	"                          AND h.lease_holder = $2 AND h.lease_status = 'held')))::int"
	"         END AS n"
	"    FROM f"
	"), picked AS ("
	"  SELECT j.id FROM jobs j"
	"   WHERE j.tenant_id = $1 AND j.stage = 'queued' AND j.not_before <= now()"
	"     AND j.capabilities <@ ARRAY(SELECT json_array_elements_text($4::json))"
	"     AND j.kind = 'leaf'"
	"     AND coalesce((SELECT mode FROM system_modes WHERE tenant_id = $1), 'running')"
	"         = 'running'"
	"     AND NOT ($6 AND (SELECT limited FROM lim))"
	"   ORDER BY j.priority, j.created_at, j.id"
	"   LIMIT (SELECT n FROM lim)"
	"   FOR UPDATE SKIP LOCKED"
	"), claimed AS ("
	"  UPDATE jobs j SET stage = 'assigned', lease_epoch = j.lease_epoch + 1,"
	"         lease_holder = $2, lease_expires_at = now() + make_interval(secs => $5::int),"
	"         lease_renewals = 0, lease_status = 'held', attempts = j.attempts + 1,"
	"         rev = j.rev + 1, updated_at = now()"
	"    FROM picked WHERE j.id = picked.id"
	"  RETURNING j.*"
	"), run AS ("
	"  INSERT INTO runs (tenant_id, job_id, attempt, lease_epoch, factory_id, engine)"
	"  SELECT tenant_id, id, attempts, lease_epoch, $2, engine_class FROM claimed"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, 'claimed', jsonb_build_object('factory_id', $2::text,"
	"         'epoch', lease_epoch, 'attempt', attempts) FROM claimed"
	")"
	"SELECT coalesce(json_agg(job_json(c::jobs, true) ORDER BY c.priority, c.created_at, c.id),"
	"                '[]'::json), count(*), (SELECT limited FROM lim)"
	"  FROM claimed c");

/* Serializes the claims of one seat-limited worker: concurrent claims of the
 * same factory_id wait here, and the claim statement that follows takes its
 * snapshot after the previous claim committed, so it counts those leases. */
static struct db_stmt SQL_LOCK_FACTORY = DB_STMT(
	"SELECT 1 FROM factories WHERE tenant_id = $1 AND factory_id = $2 FOR UPDATE");

enum cd_err db_jobs_lock_factory(struct db *db, int64_t tenant, const char *factory_id,
				 struct cd_error *e)
{
	char t[24];
	const char *p[2] = {t, factory_id};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_command(db, &SQL_LOCK_FACTORY, 2, p, e);
}

enum cd_err db_jobs_claim(struct db *db, int64_t tenant, const struct claim_request *c,
			  bool fast, char **out, int *count, bool *limited, struct cd_error *e)
{
	char t[24], m[16], ttl[16];
	const char *p[6] = {t, c->factory_id, m, c->capabilities, ttl, fast ? "true" : "false"};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	*count = 0;
	fmt_i64(t, sizeof(t), tenant);
	snprintf(m, sizeof(m), "%d", c->max_jobs);
	snprintf(ttl, sizeof(ttl), "%d", c->lease_ttl_s);
	rc = db_exec(db, &SQL_CLAIM, 6, p, &res, e);
	if (rc == CD_OK) {
		*out = take_text(res);
		*count = atoi(PQgetvalue(res, 0, 1));
		*limited = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	}
	PQclear(res);
	return rc;
}

/* ---- fenced writes ------------------------------------------------------ */

static struct db_stmt SQL_FENCE_STATE = DB_STMT(
	"SELECT stage, lease_epoch, lease_holder, lease_status, rev"
	"  FROM jobs WHERE id = $1 AND tenant_id = $2");

/* Explains why a fenced statement touched no row. */
static enum cd_err explain_miss(struct db *db, const char *t, const struct fence *f,
				const char *target, struct cd_error *e)
{
	char i[24];
	const char *p[2] = {i, t};
	PGresult *res = NULL;
	enum cd_err rc;

	fmt_i64(i, sizeof(i), f->id);
	rc = db_exec(db, &SQL_FENCE_STATE, 2, p, &res, e);
	if (rc != CD_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = job_not_found(e, f->id);
		goto out;
	}
	if (strtoll(PQgetvalue(res, 0, 1), NULL, 10) != f->epoch ||
	    strcmp(PQgetvalue(res, 0, 3), "held") != 0 ||
	    strcmp(PQgetvalue(res, 0, 2), f->factory_id) != 0) {
		rc = cd_fail(e, CD_STALE_EPOCH, "lease_epoch",
			     "Lease epoch %" PRId64 " of %s is no longer current for job %" PRId64
			     " (epoch %s, lease %s); stop working on it.",
			     f->epoch, f->factory_id, f->id, PQgetvalue(res, 0, 1),
			     PQgetvalue(res, 0, 3));
		goto out;
	}
	if (f->if_rev != 0 && strtoll(PQgetvalue(res, 0, 4), NULL, 10) != f->if_rev) {
		rc = cd_fail(e, CD_PRECONDITION_FAILED, "If-Match",
			     "The job is at rev %s, not %" PRId64 ".", PQgetvalue(res, 0, 4),
			     f->if_rev);
		goto out;
	}
	rc = cd_fail(e, CD_INVALID_TRANSITION, "stage", "A job in stage %s cannot move to %s.",
		     PQgetvalue(res, 0, 0), target);
out:
	PQclear(res);
	return rc;
}

/* The fenced transitions in one statement: the stage (with what `failed`
 * becomes under the retry policy), checkpoint/result, the run row, the
 * events. Items whose fence does not hold simply match no row.
 * The jobs are found by `id = ANY(ARRAY(ids))`, which the planner reads as
 * "a few rows by primary key", and the fence is written IS NOT DISTINCT FROM
 * (the same test: items carry no NULLs) so that it can neither hash-join on
 * it nor read the jobs through the partial indexes of held leases. Generic
 * plans made from json_to_recordset's guess of 100 items did both: a scan of
 * every held lease of the tenant (statistics of an idle fleet say "none"),
 * or of the whole tenant, on each transition. Now each item is a primary-key
 * lookup, whatever the fleet holds. */
static struct db_stmt SQL_TRANSITION = DB_STMT(
	"WITH items AS ("
	"  SELECT * FROM json_to_recordset($2::json) AS x(ord int, id bigint, factory_id text,"
	"         lease_epoch bigint, if_rev bigint, stage text, sources text[], checkpoint jsonb,"
	"         result jsonb, insights jsonb)"
	"), cur AS ("
	"  SELECT j.id, j.stage AS old_stage FROM jobs j"
	"   WHERE j.tenant_id = $1 AND j.id = ANY(ARRAY(SELECT id FROM items))"
	"), upd AS ("
	"  UPDATE jobs j SET"
	"    stage = CASE WHEN i.stage <> 'failed' THEN i.stage"
	"                 WHEN NOT ('failed' = ANY(j.retry_on)) THEN 'failed'"
	"                 WHEN j.attempts <= j.retry_max THEN 'queued'"
	"                 ELSE 'dead_letter' END,"
	"    not_before = CASE WHEN i.stage = 'failed' AND 'failed' = ANY(j.retry_on)"
	"                       AND j.attempts <= j.retry_max"
	"                      THEN now() + retry_delay(j.retry_backoff_s, j.attempts)"
	"                      ELSE j.not_before END,"
	"    lease_status = CASE WHEN i.stage IN ('shipped', 'failed') THEN 'released'"
	"                        ELSE j.lease_status END,"
	"    checkpoint = coalesce(i.checkpoint, j.checkpoint),"
	"    result = coalesce(i.result, j.result),"
	"    finished_at = CASE WHEN i.stage = 'shipped' OR (i.stage = 'failed' AND"
	"                       NOT ('failed' = ANY(j.retry_on) AND j.attempts <= j.retry_max))"
	"                       THEN now() ELSE j.finished_at END,"
	"    rev = j.rev + 1, updated_at = now()"
	"  FROM items i JOIN cur ON cur.id = i.id"
	"  WHERE j.id = i.id AND j.id = ANY(ARRAY(SELECT id FROM items)) AND j.tenant_id = $1"
	"    AND j.lease_epoch IS NOT DISTINCT FROM i.lease_epoch"
	"    AND j.lease_holder IS NOT DISTINCT FROM i.factory_id"
	"    AND j.lease_status IS NOT DISTINCT FROM 'held'"
	"    AND j.stage = ANY(i.sources) AND (i.if_rev = 0 OR j.rev = i.if_rev)"
	"  RETURNING j.id, j.tenant_id, j.stage, j.lease_epoch, i.ord,"
	"            CASE WHEN $3 THEN job_state_json(j) END AS state,"
	"            j.parent_id IS NOT NULL AS has_parent,"
	"            i.stage AS target, i.factory_id AS fid, i.result AS res,"
	"            i.insights AS ins, cur.old_stage"
	"), run AS ("
	"  UPDATE runs r SET"
	"    ended_at = CASE WHEN upd.target IN ('shipped', 'failed') THEN now() END,"
	"    exit = CASE WHEN upd.target IN ('shipped', 'failed') THEN upd.target END,"
	"    result = coalesce(upd.res, r.result),"
	"    insights = coalesce(upd.ins, r.insights)"
	"  FROM upd WHERE r.job_id = upd.id AND r.lease_epoch = upd.lease_epoch"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT upd.tenant_id, upd.id, k.kind, jsonb_build_object('from', upd.old_stage,"
	"         'to', upd.stage, 'epoch', upd.lease_epoch, 'factory_id', upd.fid)"
	"    FROM upd, LATERAL (VALUES"
	"         (CASE WHEN upd.target = 'failed' THEN 'failed' ELSE 'stage_changed' END),"
	"         (CASE WHEN upd.stage = 'queued' THEN 'requeued'"
	"               WHEN upd.stage = 'dead_letter' THEN 'dead_lettered' END)) k(kind)"
	"   WHERE k.kind IS NOT NULL AND (upd.old_stage <> upd.stage OR upd.target = 'failed')"
	")"
	"SELECT upd.ord, upd.stage, upd.state, upd.has_parent FROM upd");

/* Locks the blocked dependents of the given jobs, in id order (no
 * deadlocks). A statement of its own, after the transition (in its
 * pipeline): its snapshot sees every dependent committed before the shipped
 * rows were locked (submits hold FOR SHARE on their deps), and every other
 * dep. It is given the items that target shipped or testing before their
 * fences are known: locking the dependents of an item whose fence then
 * failed only holds rows that the unblock re-checks anyway. */
static struct db_stmt SQL_LOCK_DEPENDENTS = DB_STMT(
	"SELECT d.id FROM jobs d"
	" WHERE d.id IN (SELECT job_id FROM job_deps WHERE dep_id = ANY($1::bigint[]))"
	"   AND d.tenant_id = $2 AND d.stage = 'blocked'"
	" ORDER BY d.id FOR UPDATE");

static struct db_stmt SQL_UNBLOCK = DB_STMT(
	"WITH ready AS ("
	"  UPDATE jobs d SET stage = 'queued', rev = d.rev + 1, updated_at = now()"
	"   WHERE d.id IN (SELECT job_id FROM job_deps WHERE dep_id = ANY($1::bigint[]))"
	"     AND d.tenant_id = $2 AND d.stage = 'blocked'"
	"     AND NOT EXISTS (SELECT 1 FROM job_deps dd JOIN jobs x ON x.id = dd.dep_id"
	"                      WHERE dd.job_id = d.id"
	"                        AND NOT (x.stage = 'shipped'"
	"                                 OR (d.deps_mode = 'soft' AND x.stage = 'testing')))"
	"  RETURNING d.id, d.tenant_id"
	")"
	"INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"SELECT tenant_id, id, 'unblocked', '{}'::jsonb FROM ready");

/* ids: a bigint[] literal of jobs that reached shipped or testing, whose
 * dependents are locked. any: some dependent moved to queued. */
static enum cd_err unblock_dependents(struct db *db, const char *t, const char *ids, bool *any,
				      struct cd_error *e)
{
	const char *p[2] = {ids, t};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_UNBLOCK, 2, p, &res, e);

	*any = rc == CD_OK && strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return rc;
}

/* The blocked dependents of jobs that just failed for good (failed without
 * a retry, or dead_letter) stay blocked: each records why. ids: those
 * jobs, as a bigint[] literal. Its own statement, run only when a job
 * failed for good, rather than a part of every transition. */
static struct db_stmt SQL_DEPENDENCY_FAILED = DB_STMT(
	"INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"SELECT d.tenant_id, d.id, 'dependency_failed',"
	"       jsonb_build_object('dep_id', f.id::text, 'dep_stage', f.stage)"
	"  FROM jobs f JOIN job_deps jd ON jd.dep_id = f.id JOIN jobs d ON d.id = jd.job_id"
	" WHERE f.id = ANY($1::bigint[]) AND f.tenant_id = $2 AND d.stage = 'blocked'");

/* A bigint[] literal built id by id: open_ids, add_id..., close_ids (true
 * when it holds an id). */
static void open_ids(struct buf *ids)
{
	buf_init(ids, 64 * 1024);
	buf_puts(ids, "{");
}

static void add_id(struct buf *ids, int64_t id)
{
	buf_printf(ids, "%s%" PRId64, ids->len > 1 ? "," : "", id);
}

static bool close_ids(struct buf *ids)
{
	buf_puts(ids, "}");
	return ids->len > 2;
}

/* A job reaching this stage can satisfy its dependents' deps. */
static bool satisfies_deps(const char *stage)
{
	return strcmp(stage, "shipped") == 0 || strcmp(stage, "testing") == 0;
}

/* ---- cancel, and the end of a task --------------------------------------- */

/* THE rule of a task's end, one statement every path that ends a step goes
 * through (PATCH and jobs:transition, the step forms, a cancel, the reaper's
 * dead-lettering): a task whose steps all shipped is `shipped`; one with a
 * step cancelled is `cancelled`; one with a step dead-lettered or failed for
 * good is `failed`. ids: the steps that just ended, as a bigint[] literal.
 * Its own statement, after theirs, so it sees the steps' new stages; the
 * stage is re-checked on the task's newest row, so a task ends once.
 * Answers the tasks that ended otherwise than shipped: their unfinished
 * steps are cancelled next (settle_tasks), so no task is left active with
 * nothing claimable. */
static struct db_stmt SQL_SETTLE_TASKS = DB_STMT(
	"WITH decided AS ("
	"  SELECT p.id,"
	"         CASE WHEN EXISTS (SELECT 1 FROM jobs c WHERE c.parent_id = p.id"
	"                              AND c.stage = 'cancelled') THEN 'cancelled'"
	"              WHEN EXISTS (SELECT 1 FROM jobs c WHERE c.parent_id = p.id"
	"                              AND c.stage IN ('dead_letter', 'failed')) THEN 'failed'"
	"              WHEN NOT EXISTS (SELECT 1 FROM jobs c WHERE c.parent_id = p.id"
	"                                  AND c.stage <> 'shipped') THEN 'shipped'"
	"         END AS next"
	"    FROM jobs p"
	"   WHERE p.id IN (SELECT parent_id FROM jobs WHERE id = ANY($1::bigint[])"
	"                     AND parent_id IS NOT NULL)"
	"     AND p.tenant_id = $2 AND p.kind = 'composite'"
	"     AND p.stage NOT IN ('shipped', 'failed', 'dead_letter', 'cancelled')"
	"), settled AS ("
	"  UPDATE jobs p SET stage = d.next, finished_at = now(), rev = p.rev + 1, updated_at = now()"
	"    FROM decided d"
	"   WHERE p.id = d.id AND d.next IS NOT NULL"
	"     AND p.stage NOT IN ('shipped', 'failed', 'dead_letter', 'cancelled')"
	"  RETURNING p.id, p.tenant_id, p.stage"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, 'stage_changed', jsonb_build_object('to', stage) FROM settled"
	")"
	"SELECT id FROM settled WHERE stage <> 'shipped'");

/* Cancels, in one statement, the jobs of $1 (a bigint[] literal) that are
 * not final, and every unfinished step of those that are tasks: a task
 * never ends with a step still claimable or running. Each cancelled job's
 * epoch moves and a held lease is released, so its worker's next renew or
 * PATCH gets 409 stale_epoch. Rows are locked steps first, then tasks, each
 * in id order: the order a worker's transition takes them (its step, the
 * next step, then the task), so the two do not deadlock. The lock re-checks
 * the stage on the newest row: a step that shipped meanwhile stays shipped.
 * Answers each cancelled job with whether it is a step. */
static struct db_stmt SQL_CANCEL = DB_STMT(
	"WITH target AS ("
	"  SELECT j.id, j.stage AS old_stage FROM jobs j"
	"   WHERE j.tenant_id = $2"
	"     AND (j.id = ANY($1::bigint[]) OR j.parent_id = ANY($1::bigint[]))"
	"     AND j.stage NOT IN ('shipped', 'failed', 'dead_letter', 'cancelled')"
	"   ORDER BY j.kind = 'composite', j.id"
	"   FOR UPDATE"
	"), upd AS ("
	"  UPDATE jobs j SET stage = 'cancelled', lease_epoch = j.lease_epoch + 1,"
	"         lease_status = CASE WHEN j.lease_status = 'held' THEN 'released'"
	"                             ELSE j.lease_status END,"
	"         finished_at = now(), rev = j.rev + 1, updated_at = now()"
	"    FROM target"
	"   WHERE j.id = target.id"
	"  RETURNING j.id, j.tenant_id, j.parent_id, j.lease_epoch, target.old_stage"
	"), run AS ("
	"  UPDATE runs r SET ended_at = now(), exit = 'cancelled'"
	"    FROM upd WHERE r.job_id = upd.id AND r.ended_at IS NULL"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, 'cancelled', jsonb_build_object('from', old_stage, 'by', $3::text,"
	"         'epoch', lease_epoch)"
	"         || CASE WHEN id = ANY($1::bigint[]) THEN '{}'::jsonb"
	"                 ELSE jsonb_build_object('task_id', parent_id::text) END"
	"    FROM upd"
	"), blocked_ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT d.tenant_id, d.id, 'dependency_cancelled', jsonb_build_object('dep_id', upd.id::text)"
	"    FROM jobs d JOIN job_deps jd ON jd.job_id = d.id JOIN upd ON jd.dep_id = upd.id"
	"   WHERE d.stage = 'blocked' AND d.id NOT IN (SELECT id FROM upd)"
	")"
	"SELECT id, parent_id IS NOT NULL FROM upd");

/* Runs SQL_CANCEL over ids (in a transaction). hit: whether job `want`
 * was among the cancelled; steps gets the cancelled steps (open_ids). */
static enum cd_err cancel_jobs(struct db *db, const char *t, const char *ids, const char *by,
			       int64_t want, bool *hit, struct buf *steps, struct cd_error *e)
{
	const char *p[3] = {ids, t, by};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_CANCEL, 3, p, &res, e);

	*hit = false;
	for (int r = 0; rc == CD_OK && r < PQntuples(res); r++) {
		int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);

		*hit = *hit || id == want;
		if (strcmp(PQgetvalue(res, r, 1), "t") == 0)
			add_id(steps, id);
	}
	PQclear(res);
	return rc;
}

/* Settles the tasks of the steps ids (SQL_SETTLE_TASKS), then cancels the
 * unfinished steps of those that ended failed or cancelled. Nothing else
 * follows: the steps cancelled here belong to tasks that have ended. */
static enum cd_err settle_tasks(struct db *db, const char *t, const char *ids, struct cd_error *e)
{
	const char *p[2] = {ids, t};
	PGresult *res = NULL;
	struct buf ended, steps;
	bool hit;
	enum cd_err rc = db_exec(db, &SQL_SETTLE_TASKS, 2, p, &res, e);

	open_ids(&ended);
	open_ids(&steps);
	for (int r = 0; rc == CD_OK && r < PQntuples(res); r++)
		add_id(&ended, strtoll(PQgetvalue(res, r, 0), NULL, 10));
	if (rc == CD_OK && close_ids(&ended))
		rc = cancel_jobs(db, t, buf_str(&ended), "task_ended", 0, &hit, &steps, e);
	PQclear(res);
	buf_reset(&ended);
	buf_reset(&steps);
	return rc;
}

enum cd_err db_jobs_settle_tasks(struct db *db, int64_t tenant, const char *ids,
				 struct cd_error *e)
{
	char t[24];

	fmt_i64(t, sizeof(t), tenant);
	return settle_tasks(db, t, ids, e);
}

static struct db_stmt SQL_STAGE = DB_STMT("SELECT stage FROM jobs WHERE id = $1 AND tenant_id = $2");

enum cd_err db_jobs_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
			   struct cd_error *e)
{
	char t[24], i[24], ids[32];
	const char *p[2] = {i, t};
	struct buf steps;
	PGresult *res = NULL;
	bool hit = false;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), id);
	snprintf(ids, sizeof(ids), "{%s}", i);
	open_ids(&steps);
	rc = cancel_jobs(db, t, ids, by, id, &hit, &steps, e);
	if (rc == CD_OK && !hit) {
		/* not cancelled: absent, or final already */
		rc = db_exec(db, &SQL_STAGE, 2, p, &res, e);
		if (rc == CD_OK && PQntuples(res) == 0)
			rc = job_not_found(e, id);
		else if (rc == CD_OK)
			rc = cd_fail(e, CD_INVALID_TRANSITION, "stage",
				     "Job %" PRId64 " is %s already and cannot be cancelled.", id,
				     PQgetvalue(res, 0, 0));
		goto out;
	}
	/* a cancelled step ends its task, and the task its other steps */
	if (rc == CD_OK && close_ids(&steps))
		rc = settle_tasks(db, t, buf_str(&steps), e);
	if (rc == CD_OK)
		rc = db_jobs_get(db, tenant, id, false, out, e);
out:
	PQclear(res);
	buf_reset(&steps);
	return rc;
}

/* The transition statement, and in the same round trip the lock of the
 * dependents of every item that targets shipped or testing. locked: some
 * dependent was locked. */
static enum cd_err transition_and_lock(struct db *db, const char *t, const char *items,
				       bool want_state, const struct transition *tr, size_t n,
				       PGresult **out, bool *locked, struct cd_error *e)
{
	const char *p[3] = {t, items, want_state ? "true" : "false"};
	struct buf targets;
	const char *lp[2] = {NULL, t};
	struct db_call calls[2] = {{&SQL_TRANSITION, 3, p, NULL}, {&SQL_LOCK_DEPENDENTS, 2, lp, NULL}};
	enum cd_err rc;

	*locked = false;
	open_ids(&targets);
	for (size_t i = 0; i < n; i++)
		if (satisfies_deps(tr[i].stage))
			add_id(&targets, tr[i].f.id);
	if (close_ids(&targets)) {
		lp[0] = buf_str(&targets);
		rc = db_exec_pipeline(db, calls, 2, e);
		*locked = rc == CD_OK && PQntuples(calls[1].res) > 0;
		PQclear(calls[1].res);
	} else {
		rc = db_exec(db, &SQL_TRANSITION, 3, p, &calls[0].res, e);
	}
	*out = calls[0].res;
	buf_reset(&targets);
	return rc;
}

enum cd_err db_jobs_transition(struct db *db, int64_t tenant, const char *items,
			       struct transition *tr, size_t n, bool want_state,
			       struct cd_error *e)
{
	char t[24];
	PGresult *res = NULL;
	struct buf shipped, ended, failed;
	bool locked = false, unblocked = false, requeued = false;
	bool any_shipped, any_ended, any_failed;
	enum cd_err rc;

	fmt_i64(t, sizeof(t), tenant);
	open_ids(&shipped);
	open_ids(&ended);
	open_ids(&failed);
	for (size_t i = 0; i < n; i++) {
		tr[i].rc = CD_INTERNAL;
		tr[i].state = NULL;
		tr[i].ended[0] = '\0';
	}
	rc = transition_and_lock(db, t, items, want_state, tr, n, &res, &locked, e);
	if (rc != CD_OK)
		goto out;
	for (int r = 0; r < PQntuples(res); r++) {
		size_t ord = (size_t)atol(PQgetvalue(res, r, 0));
		const char *stage = PQgetvalue(res, r, 1);
		bool failed_for_good =
			strcmp(stage, "dead_letter") == 0 || strcmp(stage, "failed") == 0;

		if (ord >= n)
			continue;
		tr[ord].rc = CD_OK;
		snprintf(tr[ord].ended, sizeof(tr[ord].ended), "%s", stage);
		tr[ord].state = want_state ? xstrdup(PQgetvalue(res, r, 2)) : NULL;
		if (satisfies_deps(stage))
			add_id(&shipped, tr[ord].f.id);
		if (failed_for_good)
			add_id(&failed, tr[ord].f.id);
		/* only a step (a job with a parent) can settle a task */
		if ((strcmp(stage, "shipped") == 0 || failed_for_good) &&
		    strcmp(PQgetvalue(res, r, 3), "t") == 0)
			add_id(&ended, tr[ord].f.id);
		requeued = requeued || strcmp(stage, "queued") == 0;
	}
	any_shipped = close_ids(&shipped);
	any_failed = close_ids(&failed);
	any_ended = close_ids(&ended);
	PQclear(res);
	res = NULL;
	for (size_t i = 0; i < n; i++) {
		if (tr[i].rc == CD_OK)
			continue;
		cd_error_reset(&tr[i].err);
		tr[i].rc = explain_miss(db, t, &tr[i].f, tr[i].stage, &tr[i].err);
		if (tr[i].rc == CD_UNAVAILABLE || tr[i].rc == CD_INTERNAL) {
			*e = tr[i].err;
			rc = tr[i].rc;
			goto out;
		}
	}
	if (any_shipped && locked)
		rc = unblock_dependents(db, t, buf_str(&shipped), &unblocked, e);
	if (rc == CD_OK && any_failed) {
		const char *p[2] = {buf_str(&failed), t};

		rc = db_exec_command(db, &SQL_DEPENDENCY_FAILED, 2, p, e);
	}
	if (rc == CD_OK && any_ended)
		rc = settle_tasks(db, t, buf_str(&ended), e);
	if (rc == CD_OK && (unblocked || requeued))
		rc = db_jobs_notify(db, tenant, e);
out:
	PQclear(res);
	buf_reset(&shipped);
	buf_reset(&ended);
	buf_reset(&failed);
	if (rc != CD_OK) {
		for (size_t i = 0; i < n; i++) {
			free(tr[i].state);
			tr[i].state = NULL;
		}
	}
	return rc;
}

static struct db_stmt SQL_RENEW = DB_STMT(
	"WITH upd AS ("
	"  UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => $5::int),"
	"         lease_renewals = j.lease_renewals + 1, rev = j.rev + 1, updated_at = now()"
	"   WHERE j.id = $1 AND j.tenant_id = $2 AND j.lease_epoch = $3 AND j.lease_holder = $4"
	"     AND j.lease_status = 'held'"
	"  RETURNING j.*"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, 'renewed', jsonb_build_object('epoch', lease_epoch,"
	"         'expires_at', rfc3339(lease_expires_at)) FROM upd"
	")"
	"SELECT job_state_json(u::jobs) FROM upd u");

enum cd_err db_jobs_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
			  char **out, struct cd_error *e)
{
	char t[24], i[24], ep[24], ttl[16];
	const char *p[5] = {i, t, ep, f->factory_id, ttl};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), f->id);
	fmt_i64(ep, sizeof(ep), f->epoch);
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	rc = db_exec(db, &SQL_RENEW, 5, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 0)
		rc = explain_miss(db, t, f, "renewed", e);
	else if (rc == CD_OK)
		*out = take_text(res);
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_RELEASE = DB_STMT(
	"WITH upd AS ("
	"  UPDATE jobs j SET stage = 'queued', not_before = now(),"
	"         lease_status = 'released', rev = j.rev + 1, updated_at = now()"
	"   WHERE j.id = $1 AND j.tenant_id = $2 AND j.lease_epoch = $3 AND j.lease_holder = $4"
	"     AND j.lease_status = 'held'"
	"  RETURNING j.*"
	"), run AS ("
	"  UPDATE runs r SET ended_at = now(), exit = 'released'"
	"    FROM upd WHERE r.job_id = upd.id AND r.lease_epoch = upd.lease_epoch"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, k, jsonb_build_object('epoch', lease_epoch, 'factory_id', $4::text)"
	"    FROM upd, unnest(ARRAY['released', 'requeued']) k"
	")"
	"SELECT job_state_json(u::jobs) FROM upd u");

enum cd_err db_jobs_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
			    char **out, struct cd_error *e)
{
	char t[24], i[24], ep[24];
	const char *p[4] = {i, t, ep, f->factory_id};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), f->id);
	fmt_i64(ep, sizeof(ep), f->epoch);
	rc = db_exec(db, &SQL_RELEASE, 4, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 0)
		rc = explain_miss(db, t, f, "released", e);
	else if (rc == CD_OK)
		*out = take_text(res);
	PQclear(res);
	if (rc == CD_OK)
		rc = db_jobs_notify(db, tenant, e);
	return rc;
}

/* ---- history ------------------------------------------------------------ */

static struct db_stmt SQL_JOB_EXISTS = DB_STMT(
	"SELECT 1 FROM jobs WHERE id = $1 AND tenant_id = $2");

static enum cd_err require_job(struct db *db, const char *t, const char *i, int64_t id,
			       struct cd_error *e)
{
	const char *p[2] = {i, t};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_JOB_EXISTS, 2, p, &res, e);

	if (rc == CD_OK && PQntuples(res) == 0)
		rc = job_not_found(e, id);
	PQclear(res);
	return rc;
}

/* Runs st with ($1 job id, $2 tenant[, $3 extra]) after checking the job
 * exists in the tenant; out: its text answer (new string). */
static enum cd_err job_text(struct db *db, int64_t tenant, int64_t id, struct db_stmt *st,
			    const char *extra, char **out, struct cd_error *e)
{
	char t[24], i[24];
	const char *p[3] = {i, t, extra};
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), id);
	rc = require_job(db, t, i, id, e);
	if (rc != CD_OK)
		return rc;
	return db_exec_text(db, st, extra ? 3 : 2, p, out, e);
}

static struct db_stmt SQL_EVENTS = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('id', ev.id::text, 'kind', ev.kind,"
	"         'at', rfc3339(ev.at), 'data', ev.data) ORDER BY ev.id), '[]'::json),"
	"       count(*), max(ev.id)"
	"  FROM (SELECT * FROM job_events WHERE job_id = $1 AND tenant_id = $2 AND id > $3"
	"         ORDER BY id LIMIT $4) ev");

enum cd_err db_jobs_events(struct db *db, int64_t tenant, int64_t id, int limit, int64_t after,
			   char **out, int64_t *next, struct cd_error *e)
{
	char t[24], i[24], a[24], l[16];
	const char *p[4] = {i, t, a, l};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	*next = 0;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), id);
	fmt_i64(a, sizeof(a), after);
	snprintf(l, sizeof(l), "%d", limit);
	rc = require_job(db, t, i, id, e);
	if (rc != CD_OK)
		return rc;
	rc = db_exec(db, &SQL_EVENTS, 4, p, &res, e);
	if (rc == CD_OK) {
		*out = take_text(res);
		if (atoi(PQgetvalue(res, 0, 1)) == limit)
			*next = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_RUNS = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('attempt', r.attempt, 'factory_id', r.factory_id,"
	"         'engine', r.engine, 'lease_epoch', r.lease_epoch, 'started_at', rfc3339(r.started_at),"
	"         'ended_at', rfc3339(r.ended_at), 'exit', r.exit, 'result', r.result,"
	"         'insights', r.insights) ORDER BY r.attempt, r.id), '[]'::json)"
	"  FROM runs r WHERE r.job_id = $1 AND r.tenant_id = $2");

enum cd_err db_jobs_runs(struct db *db, int64_t tenant, int64_t id, char **out,
			 struct cd_error *e)
{
	return job_text(db, tenant, id, &SQL_RUNS, NULL, out, e);
}

#define ARTIFACT_JSON                                                                              \
	"json_build_object('id', a.id::text, 'uri', a.uri, 'sha256', a.sha256, 'bytes', a.bytes,"  \
	" 'kind', a.kind, 'created_at', rfc3339(a.created_at))"

static struct db_stmt SQL_ARTIFACT_ADD = DB_STMT(
	"WITH a AS ("
	"  INSERT INTO artifacts (tenant_id, job_id, uri, sha256, bytes, kind)"
	"  SELECT $2, $1, r->>'uri', r->>'sha256', (r->>'bytes')::bigint, coalesce(r->>'kind', 'file')"
	"    FROM (SELECT $3::jsonb AS r) s"
	"  RETURNING *"
	") SELECT " ARTIFACT_JSON " FROM a");

enum cd_err db_jobs_artifact_add(struct db *db, int64_t tenant, int64_t id, const char *request,
				 char **out, struct cd_error *e)
{
	return job_text(db, tenant, id, &SQL_ARTIFACT_ADD, request, out, e);
}

static struct db_stmt SQL_ARTIFACTS = DB_STMT(
	"SELECT coalesce(json_agg(" ARTIFACT_JSON " ORDER BY a.id), '[]'::json)"
	"  FROM artifacts a WHERE a.job_id = $1 AND a.tenant_id = $2");

enum cd_err db_jobs_artifacts(struct db *db, int64_t tenant, int64_t id, char **out,
			      struct cd_error *e)
{
	return job_text(db, tenant, id, &SQL_ARTIFACTS, NULL, out, e);
}

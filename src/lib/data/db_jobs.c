/* db_jobs.c -- the SQL of jobs: submit, reads, history, artifacts.
 *
 * Owns: the statements that create jobs (with their deps and `submitted`
 * events) and read jobs, runs, events and artifacts; what takes, moves or
 * ends a lease is data/db_leases.c. Invariants: every statement filters by
 * tenant_id; a job and its event are written in one transaction. Never
 * formats a value into SQL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "data/db_internal.h"
#include "data/db_jobs.h"

enum cd_err db_jobs_not_found(struct cd_error *e, int64_t id)
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
	" engine_class = r->>'engine_class', profile = profile_resolve($2, r->>'profile'),"        \
	" budget = r->'budget',"        \
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
	"                    AND NOT dep_met(x.stage, coalesce(r->>'deps_mode', 'hard')))"
	"               THEN 'blocked' ELSE 'queued' END,"
	"       rev = rev + $4, dep_ids = $5::bigint[], updated_at = now()"
	"  FROM (SELECT $3::jsonb AS r) s"
	" WHERE id = $1 AND tenant_id = $2"
	" RETURNING stage, r->>'profile' IS NOT NULL AND profile IS NULL");

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
				 const char *where, struct cd_error *e)
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
		if (rc == CD_OK && strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
			char field[64];

			snprintf(field, sizeof(field), "%sprofile", where);
			rc = cd_fail(e, CD_INVALID, field,
				     "%sprofile names no profile of this tenant (give \"name\" for its "
				     "latest version or \"name@v\"; POST /v1/profiles creates one).",
				     where);
		}
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
					rc = write_content(db, t, idbuf, request, buf_str(&deps), true, where, e);
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
		rc = write_content(db, t, idbuf, request, buf_str(&deps), false, where, e);
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
		rc = db_jobs_not_found(e, id);
	else if (rc == CD_OK)
		*out = db_first_text(res);
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
		*out = db_first_text(res);
		if (atoi(PQgetvalue(res, 0, 1)) == limit)
			*next = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return rc;
}

/* The filters of db_jobs_find beside the one the statement's index serves:
 * every statement names $4..$7 (stage, key, parent, capability), NULL when
 * not filtered. */
#define FIND_FILTERS                                                                               \
	" AND ($4::text IS NULL OR stage = $4) AND ($5::text IS NULL OR idempotency_key = $5)"    \
	" AND ($6::bigint IS NULL OR parent_id = $6)"                                              \
	" AND ($7::text IS NULL OR (capabilities @> ARRAY[$7::text] AND capabilities <> '{}'))"

static struct db_stmt SQL_FIND_KEY = DB_STMT(LIST_PAGE(
	"tenant_id = $1 AND idempotency_key = $5 AND id < $2" FIND_FILTERS));
static struct db_stmt SQL_FIND_PARENT = DB_STMT(LIST_PAGE(
	"tenant_id = $1 AND parent_id = $6 AND id < $2" FIND_FILTERS));
/* capabilities <> '{}' twice: the planner then matches jobs_by_capability's
 * predicate (a GIN index of the jobs that have capabilities). */
static struct db_stmt SQL_FIND_CAPABILITY = DB_STMT(LIST_PAGE(
	"tenant_id = $1 AND capabilities @> ARRAY[$7::text] AND capabilities <> '{}'"
	" AND id < $2" FIND_FILTERS));

enum cd_err db_jobs_find(struct db *db, int64_t tenant, const struct job_filter *f, int limit,
			 int64_t before, char **out, int64_t *next, struct cd_error *e)
{
	char t[24], b[24], l[16], parent[24];
	const char *p[7] = {t, b, l, f->stage, f->idempotency_key,
			    f->parent_id > 0 ? parent : NULL, f->capability};
	struct db_stmt *st = f->idempotency_key != NULL ? &SQL_FIND_KEY
			     : f->parent_id > 0	     ? &SQL_FIND_PARENT
						     : &SQL_FIND_CAPABILITY;
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	*next = 0;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(b, sizeof(b), before > 0 ? before : INT64_MAX);
	fmt_i64(parent, sizeof(parent), f->parent_id);
	snprintf(l, sizeof(l), "%d", limit);
	rc = db_exec(db, st, 7, p, &res, e);
	if (rc == CD_OK) {
		*out = db_first_text(res);
		if (atoi(PQgetvalue(res, 0, 1)) == limit)
			*next = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return rc;
}

#define DEPS_MAX "1000"

static struct db_stmt SQL_DEPS = DB_STMT(
	"SELECT json_build_object('id', j.id::text, 'deps_mode', j.deps_mode,"
	"  'deps', coalesce((SELECT json_agg(json_build_object('id', d.id::text,"
	"                     'idempotency_key', d.idempotency_key, 'stage', d.stage,"
	"                     'met', d.stage = 'shipped'"
	"                            OR (j.deps_mode = 'soft' AND d.stage = 'testing'))"
	"                   ORDER BY d.id)"
	"             FROM job_deps x JOIN jobs d ON d.id = x.dep_id"
	"            WHERE x.job_id = j.id AND x.tenant_id = $2), '[]'::json),"
	"  'dependents', coalesce((SELECT json_agg(json_build_object('id', d.id::text,"
	"                     'idempotency_key', d.idempotency_key, 'stage', d.stage)"
	"                   ORDER BY d.id)"
	"             FROM (SELECT x.job_id FROM job_deps x"
	"                    WHERE x.dep_id = j.id AND x.tenant_id = $2"
	"                    ORDER BY x.job_id LIMIT " DEPS_MAX ") x"
	"             JOIN jobs d ON d.id = x.job_id), '[]'::json),"
	"  'dependents_more', (SELECT count(*) > " DEPS_MAX " FROM (SELECT 1 FROM job_deps x"
	"                     WHERE x.dep_id = j.id AND x.tenant_id = $2"
	"                     LIMIT " DEPS_MAX " + 1) m))"
	"  FROM jobs j WHERE j.id = $1 AND j.tenant_id = $2");

enum cd_err db_jobs_deps(struct db *db, int64_t tenant, int64_t id, char **out,
			 struct cd_error *e)
{
	char t[24], i[24];
	const char *p[2] = {i, t};
	PGresult *res = NULL;
	enum cd_err rc;

	*out = NULL;
	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), id);
	rc = db_exec(db, &SQL_DEPS, 2, p, &res, e);
	if (rc == CD_OK && PQntuples(res) == 0)
		rc = db_jobs_not_found(e, id);
	else if (rc == CD_OK)
		*out = db_first_text(res);
	PQclear(res);
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
		rc = db_jobs_not_found(e, id);
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

/* job_history (sql/012_lean_lifecycle.sql): the stored events and the
 * claims and ships the runs stand for, under the ids they were given when
 * they happened. */
static struct db_stmt SQL_EVENTS = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('id', ev.id::text, 'kind', ev.kind,"
	"         'at', rfc3339(ev.at), 'data', ev.data, 'actor', ev.actor) ORDER BY ev.id),"
	"         '[]'::json),"
	"       count(*), max(ev.id)"
	"  FROM (SELECT * FROM job_history WHERE job_id = $1 AND tenant_id = $2 AND id > $3"
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
		*out = db_first_text(res);
		if (atoi(PQgetvalue(res, 0, 1)) == limit)
			*next = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	}
	PQclear(res);
	return rc;
}

/* job_runs (sql/012_lean_lifecycle.sql): the ended runs and the one
 * running now, which lives on the job row until it ends. */
static struct db_stmt SQL_RUNS = DB_STMT(
	"SELECT coalesce(json_agg(json_build_object('attempt', r.attempt, 'factory_id', r.factory_id,"
	"         'engine', r.engine, 'profile', r.profile, 'lease_epoch', r.lease_epoch, 'started_at', rfc3339(r.started_at),"
	"         'ended_at', rfc3339(r.ended_at), 'exit', r.exit, 'result', r.result,"
	"         'insights', r.insights) ORDER BY r.attempt, r.id), '[]'::json)"
	"  FROM job_runs r WHERE r.job_id = $1 AND r.tenant_id = $2");

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

/* db_tasks.c -- the SQL of tasks and steps; see db_tasks.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "data/db_internal.h"
#include "data/db_tasks.h"

static enum cd_err not_found(struct cd_error *e, const char *what, int64_t id)
{
	char code[32];

	cd_fail(e, CD_NOT_FOUND, "id", "No %s %" PRId64 " exists in this tenant.", what, id);
	snprintf(code, sizeof(code), "%s_not_found", what);
	return cd_fail_code(e, code);
}

/* Runs st with ($1 id, $2 tenant). res: its result on CD_OK, freed by the
 * caller; no row: CD_NOT_FOUND naming what. */
static enum cd_err exec_by_id(struct db *db, struct db_stmt *st, int64_t tenant, int64_t id,
			      const char *what, PGresult **res, struct cd_error *e)
{
	char t[24], i[24];
	const char *p[2] = {i, t};
	enum cd_err rc;

	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(i, sizeof(i), id);
	rc = db_exec(db, st, 2, p, res, e);
	if (rc == CD_OK && PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		rc = not_found(e, what, id);
	}
	return rc;
}

static struct db_stmt SQL_CREATE = DB_STMT(
	"WITH t AS ("
	"  INSERT INTO jobs (tenant_id, content_hash, stage, kind, priority, body, manifest)"
	"  SELECT $1, '', 'queued', 'composite',"
	"         coalesce(array_position(ARRAY['critical','high','medium','low'],"
	"                                 r->>'priority') - 1, 2),"
	"         coalesce(r->>'goal', ''), r - 'goal' - 'priority'"
	"    FROM (SELECT $2::jsonb AS r) s"
	"  RETURNING id, tenant_id"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind) SELECT tenant_id, id, 'submitted' FROM t"
	") SELECT id FROM t");

enum cd_err db_tasks_create(struct db *db, int64_t tenant, const char *request, int64_t *id,
			    struct cd_error *e)
{
	char t[24];
	const char *p[2] = {t, request};
	char *text = NULL;
	enum cd_err rc;

	fmt_i64(t, sizeof(t), tenant);
	rc = db_exec_text(db, &SQL_CREATE, 2, p, &text, e);
	if (rc == CD_OK)
		*id = strtoll(text, NULL, 10);
	free(text);
	return rc;
}

static struct db_stmt SQL_GET = DB_STMT(
	"SELECT json_build_object('id', t.id::text, 'stage', t.stage,"
	"         'repo', t.manifest->>'repo', 'task_type', t.manifest->>'task_type',"
	"         'title', t.manifest->>'title', 'goal', t.body,"
	"         'priority', priority_name(t.priority), 'constraints', t.manifest->'constraints',"
	"         'acceptance', t.manifest->'acceptance', 'metadata', t.manifest->'metadata',"
	"         'current_step_index', coalesce((SELECT min(s.step_index) FROM jobs s"
	"                                          WHERE s.parent_id = t.id AND s.stage <> 'shipped'),"
	"                                         (SELECT count(*) FROM jobs s WHERE s.parent_id = t.id)),"
	"         'steps', coalesce((SELECT json_agg(json_build_object('id', s.id::text,"
	"                  'index', s.step_index, 'title', s.manifest->>'title', 'stage', s.stage,"
	"                  'attempts', s.attempts, 'checkpoint', s.checkpoint,"
	"                  'lease', json_build_object('epoch', s.lease_epoch, 'holder', s.lease_holder,"
	"                        'expires_at', rfc3339(s.lease_expires_at), 'status', s.lease_status))"
	"                  ORDER BY s.step_index) FROM jobs s WHERE s.parent_id = t.id), '[]'::json),"
	"         'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at),"
	"         'finished_at', rfc3339(t.finished_at))"
	"  FROM jobs t WHERE t.id = $1 AND t.tenant_id = $2 AND t.kind = 'composite'");

enum cd_err db_tasks_get(struct db *db, int64_t tenant, int64_t id, char **out,
			 struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc = exec_by_id(db, &SQL_GET, tenant, id, "task", &res, e);

	*out = rc == CD_OK ? xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return rc;
}

/*
 * Two statements on purpose: under READ COMMITTED a statement that waited for
 * the row lock still evaluates its subqueries with the snapshot it started
 * with, so "lock and look for steps" in one statement lets a planner that
 * waited for a concurrent one miss the steps it just committed. The second
 * statement takes a fresh snapshot after the lock is held.
 */
static struct db_stmt SQL_LOCK = DB_STMT(
	"SELECT stage FROM jobs WHERE id = $1 AND tenant_id = $2 AND kind = 'composite' FOR UPDATE");

static struct db_stmt SQL_HAS_STEPS = DB_STMT(
	"SELECT EXISTS (SELECT 1 FROM jobs WHERE parent_id = $1 AND tenant_id = $2)");

enum cd_err db_tasks_lock_unplanned(struct db *db, int64_t tenant, int64_t id,
				    struct cd_error *e)
{
	PGresult *res = NULL;
	char stage[16] = "";
	enum cd_err rc = exec_by_id(db, &SQL_LOCK, tenant, id, "task", &res, e);

	if (rc == CD_OK)
		snprintf(stage, sizeof(stage), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (rc == CD_OK) /* always one row */
		rc = exec_by_id(db, &SQL_HAS_STEPS, tenant, id, "task", &res, e);
	if (rc == CD_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		rc = cd_fail(e, CD_CONFLICT, "steps",
			     "Task %" PRId64 " is planned already; a plan is given once.", id);
	else if (rc == CD_OK && strcmp(stage, "queued") != 0) /* cancelled before its plan */
		rc = cd_fail(e, CD_CONFLICT, "steps",
			     "Task %" PRId64 " is %s; an ended task is not planned.", id, stage);
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_ADD_STEP = DB_STMT(
	"WITH s AS ("
	"  INSERT INTO jobs (tenant_id, content_hash, stage, priority, capabilities, kind, parent_id,"
	"                    step_index, body, manifest, dep_ids)"
	"  SELECT $1, '', CASE WHEN $4::bigint = 0 THEN 'queued' ELSE 'blocked' END, t.priority,"
	"         ARRAY(SELECT jsonb_array_elements_text(coalesce(r->'capabilities', '[]'::jsonb))),"
	"         'leaf', t.id, $3, coalesce(r->>'body', ''), jsonb_build_object('title', r->>'title'),"
	"         CASE WHEN $4::bigint = 0 THEN '{}'::bigint[] ELSE ARRAY[$4::bigint] END"
	"    FROM jobs t, (SELECT $5::jsonb AS r) x"
	"   WHERE t.id = $2 AND t.tenant_id = $1"
	"  RETURNING id, tenant_id"
	"), d AS ("
	"  INSERT INTO job_deps (tenant_id, job_id, dep_id)"
	"  SELECT tenant_id, id, $4 FROM s WHERE $4::bigint <> 0"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, 'submitted', jsonb_build_object('task_id', $2::text) FROM s"
	") SELECT id FROM s");

enum cd_err db_tasks_add_step(struct db *db, int64_t tenant, int64_t task, int index,
			      const char *step, int64_t prev, int64_t *out, struct cd_error *e)
{
	char t[24], k[24], ix[16], pv[24];
	const char *p[5] = {t, k, ix, pv, step};
	char *text = NULL;
	enum cd_err rc;

	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(k, sizeof(k), task);
	fmt_i64(pv, sizeof(pv), prev);
	snprintf(ix, sizeof(ix), "%d", index);
	rc = db_exec_text(db, &SQL_ADD_STEP, 5, p, &text, e);
	if (rc == CD_OK)
		*out = strtoll(text, NULL, 10);
	free(text);
	return rc;
}

static struct db_stmt SQL_PLANNED = DB_STMT(
	"WITH t AS ("
	"  UPDATE jobs SET stage = 'building', rev = rev + 1, updated_at = now()"
	"   WHERE id = $1 AND tenant_id = $2 RETURNING id, tenant_id"
	") INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, 'planned', '{}'::jsonb FROM t");

enum cd_err db_tasks_mark_planned(struct db *db, int64_t tenant, int64_t task,
				  struct cd_error *e)
{
	char t[24], k[24];
	const char *p[2] = {k, t};

	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(k, sizeof(k), task);
	return db_exec_command(db, &SQL_PLANNED, 2, p, e);
}

/* Runs st ($1 id, $2 tenant; one stage column) and copies the stage into
 * stage (16 bytes); CD_NOT_FOUND naming what when no row. */
static enum cd_err stage_of(struct db *db, struct db_stmt *st, int64_t tenant, int64_t id,
			    const char *what, char stage[16], struct cd_error *e)
{
	PGresult *res = NULL;
	enum cd_err rc = exec_by_id(db, st, tenant, id, what, &res, e);

	if (rc == CD_OK)
		snprintf(stage, 16, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static struct db_stmt SQL_STEP = DB_STMT(
	"SELECT s.stage FROM jobs s JOIN jobs t ON t.id = s.parent_id AND t.kind = 'composite'"
	" WHERE s.id = $1 AND s.tenant_id = $2");

enum cd_err db_tasks_step_stage(struct db *db, int64_t tenant, int64_t id, char stage[16],
				struct cd_error *e)
{
	return stage_of(db, &SQL_STEP, tenant, id, "step", stage, e);
}

static struct db_stmt SQL_TASK_STAGE = DB_STMT(
	"SELECT stage FROM jobs WHERE id = $1 AND tenant_id = $2 AND kind = 'composite'");

enum cd_err db_tasks_stage(struct db *db, int64_t tenant, int64_t id, char stage[16],
			   struct cd_error *e)
{
	return stage_of(db, &SQL_TASK_STAGE, tenant, id, "task", stage, e);
}

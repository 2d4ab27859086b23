/* db_leases.c -- the SQL of a job's lease: claim, fenced writes, renew,
 * release, cancel, and the end of a task. See db_leases.h.
 *
 * Owns: every statement that takes, moves or ends a lease, with the run row
 * and the events it writes. Invariants: every statement filters by
 * tenant_id; every write from a worker is conditional on (lease_epoch,
 * lease_holder, lease_status='held') and a miss is explained by a re-read,
 * never guessed; a state change, its run row and its event are written by
 * one statement or one transaction. Never formats a value into SQL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "data/db_internal.h"
#include "data/db_jobs.h"
#include "data/db_leases.h"

/* ---- claim -------------------------------------------------------------- */

/* One statement: free seats, pick with SKIP LOCKED in claim order, lease,
 * the jobs as JSON. The attempt starts on the job row (run_started_at, and
 * run_claim_event: the id job_history shows its `claimed` event under, from
 * job_events' sequence; sql/012_lean_lifecycle.sql): one row write a job.
 * $6 (fast): claim only if the worker has no seat limit, else claim nothing
 * and answer limited = true so the caller retries under
 * db_leases_lock_factory. Free seats: the seat_limit of
 * the worker's last heartbeat minus the leases it holds (counted only for a
 * limited worker); a worker that never sent a heartbeat is limited by
 * max_jobs alone. */
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
	"         run_started_at = now(), run_claim_event = nextval('job_events_id_seq'),"
	"         run_claim_actor = actor_now(),"
	"         run_result = NULL, run_insights = NULL, run_engine = NULL,"
	"         rev = j.rev + 1, updated_at = now()"
	"    FROM picked WHERE j.id = picked.id"
	"  RETURNING j.*"
	")"
	"SELECT coalesce(json_agg(CASE WHEN c.profile IS NULL THEN job_json(c::jobs, true)"
	"       ELSE (job_json(c::jobs, true)::jsonb || jsonb_build_object('profile_spec',"
	"             (SELECT p.body FROM profiles p WHERE p.tenant_id = c.tenant_id"
	"                 AND p.name = split_part(c.profile, '@', 1)"
	"                 AND p.version = split_part(c.profile, '@', 2)::int)))::json END"
	"       ORDER BY c.priority, c.created_at, c.id),"
	"                '[]'::json), count(*), (SELECT limited FROM lim)"
	"  FROM claimed c");

/* Serializes the claims of one seat-limited worker: concurrent claims of the
 * same factory_id wait here, and the claim statement that follows takes its
 * snapshot after the previous claim committed, so it counts those leases. */
static struct db_stmt SQL_LOCK_FACTORY = DB_STMT(
	"SELECT 1 FROM factories WHERE tenant_id = $1 AND factory_id = $2 FOR UPDATE");

enum cd_err db_leases_lock_factory(struct db *db, int64_t tenant, const char *factory_id,
				 struct cd_error *e)
{
	char t[24];
	const char *p[2] = {t, factory_id};

	fmt_i64(t, sizeof(t), tenant);
	return db_exec_command(db, &SQL_LOCK_FACTORY, 2, p, e);
}

enum cd_err db_leases_claim(struct db *db, int64_t tenant, const struct claim_request *c,
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
		*out = db_first_text(res);
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
		rc = db_jobs_not_found(e, f->id);
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
	"         result jsonb, insights jsonb, engine text)"
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
	"    run_result = coalesce(i.result, j.run_result),"
	"    run_insights = coalesce(i.insights, j.run_insights),"
	"    run_engine = coalesce(i.engine, j.run_engine),"
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
	"            i.stage AS target, i.factory_id AS fid, cur.old_stage, j.attempts,"
	"            coalesce(j.run_engine, j.engine_class) AS engine_class, j.run_started_at,"
	"            j.run_claim_event, j.run_result, j.run_insights, j.profile, j.run_claim_actor"
	"), run AS ("
	"  INSERT INTO runs (tenant_id, job_id, attempt, lease_epoch, factory_id, engine, started_at,"
	"                    ended_at, exit, result, insights, claim_event, end_event, end_from,"
	"                    profile, claim_actor)"
	"  SELECT tenant_id, id, attempts, lease_epoch, fid, engine_class, run_started_at, now(),"
	"         target, run_result, run_insights, run_claim_event,"
	"         CASE WHEN target = 'shipped' THEN nextval('job_events_id_seq') END,"
	"         CASE WHEN target = 'shipped' THEN old_stage END, profile, run_claim_actor"
	"    FROM upd WHERE target IN ('shipped', 'failed') AND run_started_at IS NOT NULL"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT upd.tenant_id, upd.id, k.kind, jsonb_build_object('from', upd.old_stage,"
	"         'to', upd.stage, 'epoch', upd.lease_epoch, 'factory_id', upd.fid)"
	"    FROM upd, LATERAL (VALUES"
	"         (CASE WHEN upd.target = 'failed' THEN 'failed'"
	"               WHEN upd.target <> 'shipped' THEN 'stage_changed' END),"
	"         (CASE WHEN upd.stage = 'queued' THEN 'requeued'"
	"               WHEN upd.stage = 'dead_letter' THEN 'dead_lettered' END)) k(kind)"
	"   WHERE k.kind IS NOT NULL AND (upd.old_stage <> upd.stage OR upd.target = 'failed')"
	")"
	"SELECT upd.ord, upd.stage, upd.state, upd.has_parent FROM upd"
	/* $4, the fast path: nothing may be left for the full path to do */
	" WHERE NOT $4 OR fast_path_holds("
	"   (SELECT count(*) FROM upd) = (SELECT count(*) FROM items)"
	"   AND NOT EXISTS (SELECT 1 FROM upd u WHERE u.stage IN ('queued', 'failed', 'dead_letter')"
	"                      OR (u.has_parent AND u.stage = 'shipped')))");

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
	"                        AND NOT dep_met(x.stage, d.deps_mode))"
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
	"  SELECT j.id, j.stage AS old_stage, j.lease_status = 'held' AS held, j.tenant_id,"
	"         j.attempts, j.lease_epoch, j.lease_holder,"
	"         coalesce(j.run_engine, j.engine_class) AS engine_class, j.run_started_at,"
	"         j.run_claim_event, j.run_result, j.run_insights, j.profile, j.run_claim_actor"
	"    FROM jobs j"
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
	"  INSERT INTO runs (tenant_id, job_id, attempt, lease_epoch, factory_id, engine, started_at,"
	"                    ended_at, exit, result, insights, claim_event, profile, claim_actor)"
	"  SELECT t.tenant_id, t.id, t.attempts, t.lease_epoch, t.lease_holder, t.engine_class,"
	"         t.run_started_at, now(), 'cancelled', t.run_result, t.run_insights,"
	"         t.run_claim_event, t.profile, t.run_claim_actor"
	"    FROM target t JOIN upd ON upd.id = t.id WHERE t.held AND t.run_started_at IS NOT NULL"
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

enum cd_err db_leases_settle_tasks(struct db *db, int64_t tenant, const char *ids,
				 struct cd_error *e)
{
	char t[24];

	fmt_i64(t, sizeof(t), tenant);
	return settle_tasks(db, t, ids, e);
}

static struct db_stmt SQL_STAGE = DB_STMT("SELECT stage FROM jobs WHERE id = $1 AND tenant_id = $2");

enum cd_err db_leases_cancel(struct db *db, int64_t tenant, int64_t id, const char *by, char **out,
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
			rc = db_jobs_not_found(e, id);
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

/* The fast path's second statement: the items that target shipped or
 * testing have no blocked dependent (else fast_path_holds raises and the
 * full path unblocks them). Its snapshot, taken after the transition's, sees
 * every dependent a submit committed while holding its dep FOR SHARE, as
 * SQL_LOCK_DEPENDENTS does. */
static struct db_stmt SQL_NO_BLOCKED_DEPENDENTS = DB_STMT(
	"SELECT fast_path_holds(NOT EXISTS (SELECT 1 FROM jobs d"
	"  WHERE d.id IN (SELECT job_id FROM job_deps WHERE dep_id = ANY($1::bigint[]))"
	"    AND d.tenant_id = $2 AND d.stage = 'blocked'))");

/* The transition statement, and in the same round trip the lock of the
 * dependents of every item that targets shipped or testing (locked: some
 * dependent was locked). fast: outside a transaction, the two are one
 * implicit transaction that fails with DB_SQLSTATE_FAST_PATH unless every
 * item applied with nothing left to do after it. */
static enum cd_err transition_and_lock(struct db *db, const char *t, const char *items,
				       bool want_state, bool fast, const struct transition *tr,
				       size_t n, PGresult **out, bool *locked, struct cd_error *e)
{
	const char *p[4] = {t, items, want_state ? "true" : "false", fast ? "true" : "false"};
	struct buf targets;
	const char *lp[2] = {NULL, t};
	struct db_call calls[2] = {
		{&SQL_TRANSITION, 4, p, NULL},
		{fast ? &SQL_NO_BLOCKED_DEPENDENTS : &SQL_LOCK_DEPENDENTS, 2, lp, NULL}};
	enum cd_err rc;

	*locked = false;
	open_ids(&targets);
	for (size_t i = 0; i < n; i++)
		if (tr[i].unblocks)
			add_id(&targets, tr[i].f.id);
	if (close_ids(&targets)) {
		lp[0] = buf_str(&targets);
		rc = db_exec_pipeline(db, calls, 2, e);
		*locked = rc == CD_OK && !fast && PQntuples(calls[1].res) > 0;
		PQclear(calls[1].res);
	} else {
		rc = db_exec(db, &SQL_TRANSITION, 4, p, &calls[0].res, e);
	}
	*out = calls[0].res;
	buf_reset(&targets);
	return rc;
}

/* Every outcome unknown yet. */
static void reset_outcomes(struct transition *tr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tr[i].rc = CD_INTERNAL;
		tr[i].state = NULL;
		tr[i].ended[0] = '\0';
	}
}

/* Row r of SQL_TRANSITION's answer: its item applied. Returns the item's
 * index, n when the row names none. */
static size_t take_row(struct transition *tr, size_t n, PGresult *res, int r, bool want_state)
{
	size_t ord = (size_t)atol(PQgetvalue(res, r, 0));

	if (ord >= n)
		return n;
	tr[ord].rc = CD_OK;
	snprintf(tr[ord].ended, sizeof(tr[ord].ended), "%s", PQgetvalue(res, r, 1));
	tr[ord].state = want_state ? xstrdup(PQgetvalue(res, r, 2)) : NULL;
	return ord;
}

enum cd_err db_leases_transition_fast(struct db *db, int64_t tenant, const char *items,
				      struct transition *tr, size_t n, bool want_state, bool *done,
				      struct cd_error *e)
{
	char t[24];
	PGresult *res = NULL;
	struct cd_error err;
	bool locked;
	enum cd_err rc;

	*done = false;
	fmt_i64(t, sizeof(t), tenant);
	reset_outcomes(tr, n);
	cd_error_reset(&err);
	rc = transition_and_lock(db, t, items, want_state, true, tr, n, &res, &locked, &err);
	if (rc != CD_OK) {
		/* rolled back: the full path does it all again */
		if (strcmp(err.sqlstate, DB_SQLSTATE_FAST_PATH) == 0 || db_is_retryable(&err))
			return CD_OK;
		if (e != NULL)
			*e = err;
		return rc;
	}
	/* fewer rows: every item missed (a partial miss raises), nothing changed */
	if ((size_t)PQntuples(res) == n) {
		for (int r = 0; r < PQntuples(res); r++)
			take_row(tr, n, res, r, want_state);
		*done = true;
	}
	PQclear(res);
	return CD_OK;
}

enum cd_err db_leases_transition(struct db *db, int64_t tenant, const char *items,
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
	reset_outcomes(tr, n);
	rc = transition_and_lock(db, t, items, want_state, false, tr, n, &res, &locked, e);
	if (rc != CD_OK)
		goto out;
	for (int r = 0; r < PQntuples(res); r++) {
		size_t ord = take_row(tr, n, res, r, want_state);
		const char *stage = PQgetvalue(res, r, 1);
		bool failed_for_good =
			strcmp(stage, "dead_letter") == 0 || strcmp(stage, "failed") == 0;

		if (ord >= n)
			continue;
		/* a target that meets deps is never rewritten (only failed is) */
		if (tr[ord].unblocks)
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

enum cd_err db_leases_renew(struct db *db, int64_t tenant, const struct fence *f, int ttl_s,
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
		*out = db_first_text(res);
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
	"  INSERT INTO runs (tenant_id, job_id, attempt, lease_epoch, factory_id, engine, started_at,"
	"                    ended_at, exit, result, insights, claim_event, profile, claim_actor)"
	"  SELECT tenant_id, id, attempts, lease_epoch, lease_holder,"
	"         coalesce(run_engine, engine_class), run_started_at, now(), 'released',"
	"         run_result, run_insights, run_claim_event, profile,"
	"         run_claim_actor"
	"    FROM upd WHERE run_started_at IS NOT NULL"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT tenant_id, id, k, jsonb_build_object('epoch', lease_epoch, 'factory_id', $4::text)"
	"    FROM upd, unnest(ARRAY['released', 'requeued']) k"
	")"
	"SELECT job_state_json(u::jobs) FROM upd u");

enum cd_err db_leases_release(struct db *db, int64_t tenant, const struct fence *f, bool requeue,
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
		*out = db_first_text(res);
	PQclear(res);
	if (rc == CD_OK)
		rc = db_jobs_notify(db, tenant, e);
	return rc;
}


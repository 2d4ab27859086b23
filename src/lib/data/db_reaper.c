/* db_reaper.c -- the SQL of the reaper pass. See db_reaper.h.
 *
 * Why a reaper at all: PostgreSQL has no row TTL. A lease is a timestamp on
 * the job row, and nothing in the database acts when that time passes -- a
 * row only changes when a statement changes it. A crashed worker never sends
 * that statement, so something outside must find the expired leases and move
 * their jobs on, with the same fencing (epoch + 1) a claim uses. That
 * something is this pass, run by whichever reaper holds the `reaper` lease.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/db_internal.h"
#include "data/db_jobs.h"
#include "data/db_leases.h"
#include "data/db_reaper.h"

/* ---- expired leases ------------------------------------------------------ */

/* One statement per batch. The locking sub-select re-checks its WHERE on the
 * newest row version (READ COMMITTED), so a lease renewed after the snapshot
 * is left alone, and SKIP LOCKED makes two reapers share the work instead of
 * queueing behind each other. The decision follows DESIGN section 7:
 * dead_letter past retry.max (or when lease_expired is not retried), blocked
 * when a dependency no longer holds, else queued after the retry delay. */
static struct db_stmt SQL_EXPIRE = DB_STMT(
	"WITH picked AS ("
	"  SELECT id FROM jobs"
	"   WHERE lease_status = 'held' AND lease_expires_at < now()"
	"   ORDER BY lease_expires_at"
	"   LIMIT $1"
	"   FOR UPDATE SKIP LOCKED"
	"), decided AS ("
	"  SELECT j.id, j.lease_epoch AS old_epoch, j.stage AS old_stage,"
	"         CASE WHEN NOT ('lease_expired' = ANY(j.retry_on))"
	"                   OR j.attempts > j.retry_max THEN 'dead_letter'"
	"              WHEN EXISTS (SELECT 1 FROM job_deps dd JOIN jobs x ON x.id = dd.dep_id"
	"                            WHERE dd.job_id = j.id"
	"                              AND NOT dep_met(x.stage, j.deps_mode))"
	"                   THEN 'blocked'"
	"              ELSE 'queued' END AS next"
	"    FROM jobs j JOIN picked USING (id)"
	"), upd AS ("
	"  UPDATE jobs j SET"
	"    stage = d.next,"
	"    not_before = CASE WHEN d.next = 'dead_letter' THEN j.not_before"
	"                      ELSE now() + retry_delay(j.retry_backoff_s, j.attempts) END,"
	"    lease_epoch = j.lease_epoch + 1, lease_status = 'expired',"
	"    finished_at = CASE WHEN d.next = 'dead_letter' THEN now() ELSE j.finished_at END,"
	"    rev = j.rev + 1, updated_at = now()"
	"    FROM decided d WHERE j.id = d.id"
	"  RETURNING j.id, j.tenant_id, j.stage, j.parent_id, j.lease_holder, j.attempts,"
	"            d.old_epoch, d.old_stage, coalesce(j.run_engine, j.engine_class) AS engine_class,"
	"            j.run_started_at,"
	"            j.run_claim_event, j.run_result, j.run_insights, j.profile, j.run_claim_actor"
	"), run AS ("
	"  INSERT INTO runs (tenant_id, job_id, attempt, lease_epoch, factory_id, engine, started_at,"
	"                    ended_at, exit, result, insights, claim_event, profile, claim_actor)"
	"  SELECT tenant_id, id, attempts, old_epoch, lease_holder, engine_class, run_started_at,"
	"         now(), 'lease_expired', run_result, run_insights, run_claim_event, profile,"
	"         run_claim_actor"
	"    FROM upd WHERE run_started_at IS NOT NULL"
	"), ev AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT upd.tenant_id, upd.id, k.kind,"
	"         jsonb_build_object('from', upd.old_stage, 'to', upd.stage,"
	"                            'factory_id', upd.lease_holder, 'epoch', upd.old_epoch + 1,"
	"                            'attempts', upd.attempts, 'term', $2::bigint)"
	"    FROM upd, LATERAL (VALUES ('lease_expired'),"
	"         (CASE upd.stage WHEN 'queued' THEN 'requeued' WHEN 'blocked' THEN 'blocked'"
	"                         ELSE 'dead_lettered' END)) k(kind)"
	"), dep_failed AS ("
	"  INSERT INTO job_events (tenant_id, job_id, kind, data)"
	"  SELECT d.tenant_id, d.id, 'dependency_failed',"
	"         jsonb_build_object('dep_id', upd.id::text, 'dep_stage', upd.stage)"
	"    FROM upd JOIN job_deps jd ON jd.dep_id = upd.id JOIN jobs d ON d.id = jd.job_id"
	"   WHERE upd.stage = 'dead_letter' AND d.stage = 'blocked'"
	")"
	"SELECT tenant_id, id, stage, parent_id IS NOT NULL FROM upd ORDER BY tenant_id, id");

struct expire_ctx {
	char limit_s[16], term_s[24];
	struct reap_counts counts;
	struct cd_error *e;
};

/* After the batch: settle the tasks of dead-lettered steps, wake the
 * claimers of every tenant that got a job back. Rows come by tenant. */
static enum cd_err follow_up(struct db *db, PGresult *res, struct cd_error *e)
{
	int64_t woken = -1;
	enum cd_err rc = CD_OK;
	char ids[48];

	for (int r = 0; r < PQntuples(res) && rc == CD_OK; r++) {
		int64_t tenant = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		const char *stage = PQgetvalue(res, r, 2);

		if (strcmp(stage, "dead_letter") == 0 && strcmp(PQgetvalue(res, r, 3), "t") == 0) {
			snprintf(ids, sizeof(ids), "{%s}", PQgetvalue(res, r, 1));
			rc = db_leases_settle_tasks(db, tenant, ids, e);
		}
		if (rc == CD_OK && strcmp(stage, "queued") == 0 && tenant != woken) {
			rc = db_jobs_notify(db, tenant, e);
			woken = tenant;
		}
	}
	return rc;
}

static enum cd_err expire_step(struct db *db, void *arg)
{
	struct expire_ctx *c = arg;
	const char *p[2] = {c->limit_s, c->term_s};
	PGresult *res = NULL;
	enum cd_err rc;

	memset(&c->counts, 0, sizeof(c->counts));
	rc = db_exec(db, &SQL_EXPIRE, 2, p, &res, c->e);
	if (rc != CD_OK)
		return rc;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *stage = PQgetvalue(res, r, 2);

		c->counts.reaped++;
		if (strcmp(stage, "queued") == 0)
			c->counts.requeued++;
		else if (strcmp(stage, "blocked") == 0)
			c->counts.blocked++;
		else
			c->counts.dead++;
	}
	rc = follow_up(db, res, c->e);
	PQclear(res);
	return rc;
}

enum cd_err db_reaper_expire_leases(struct db *db, int limit, int64_t term,
				    struct reap_counts *out, struct cd_error *e)
{
	struct expire_ctx c = {.e = e};
	enum cd_err rc;

	snprintf(c.limit_s, sizeof(c.limit_s), "%d", limit);
	fmt_i64(c.term_s, sizeof(c.term_s), term);
	rc = db_run_tx(db, expire_step, &c, e);
	*out = rc == CD_OK ? c.counts : (struct reap_counts){0};
	return rc;
}

/* ---- silent workers and controllers -------------------------------------- */

static struct db_stmt SQL_SILENT = DB_STMT(
	"WITH f AS ("
	"  UPDATE factories SET health = 'down'"
	"   WHERE health <> 'down' AND last_heartbeat_at < now() - make_interval(secs => $1::int)"
	"  RETURNING tenant_id, factory_id AS sid, last_heartbeat_at"
	"), c AS ("
	"  UPDATE controllers SET status = 'down'"
	"   WHERE status IS DISTINCT FROM 'down'"
	"     AND last_heartbeat_at < now() - make_interval(secs => $1::int)"
	"  RETURNING tenant_id, controller_id AS sid, last_heartbeat_at"
	"), ev AS ("
	"  INSERT INTO health_events (tenant_id, subject, subject_id, kind, data)"
	"  SELECT tenant_id, s.subject, sid, 'down',"
	"         jsonb_build_object('last_heartbeat_at', rfc3339(last_heartbeat_at),"
	"                            'stale_s', $1::int, 'term', $2::bigint)"
	"    FROM (SELECT 'factory' AS subject, * FROM f"
	"          UNION ALL SELECT 'controller', * FROM c) s"
	")"
	"SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM c)");

enum cd_err db_reaper_mark_silent(struct db *db, long stale_s, int64_t term, long *factories,
				  long *controllers, struct cd_error *e)
{
	char s[24], t[24];
	const char *p[2] = {s, t};
	PGresult *res = NULL;
	enum cd_err rc;

	*factories = *controllers = 0;
	fmt_i64(s, sizeof(s), stale_s);
	fmt_i64(t, sizeof(t), term);
	rc = db_exec(db, &SQL_SILENT, 2, p, &res, e);
	if (rc == CD_OK) {
		*factories = atol(PQgetvalue(res, 0, 0));
		*controllers = atol(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return rc;
}

/* ---- runtime events ------------------------------------------------------ */

static struct db_stmt SQL_RUNTIME_EVENT = DB_STMT(
	"INSERT INTO runtime_events (tenant_id, kind, data) VALUES (0, $1, $2::jsonb)");

enum cd_err db_reaper_runtime_event(struct db *db, const char *kind, const char *data,
				    struct cd_error *e)
{
	const char *p[2] = {kind, data};

	return db_exec_command(db, &SQL_RUNTIME_EVENT, 2, p, e);
}

/* ---- retention ----------------------------------------------------------- */

/* job_events refuses DELETE unless conductor.retention is on in the
 * transaction (sql/002_fleet.sql): only this pass turns it on, locally. */
static struct db_stmt SQL_RETENTION_ON = DB_STMT(
	"SELECT set_config('conductor.retention', 'on', true)");

/* Oldest first by time, through job_events_by_time: a pass that finds
 * nothing to delete reads one index entry, not the whole history (the
 * reaper loop runs it every few seconds, beside the claims). */
static struct db_stmt SQL_PRUNE_EVENTS = DB_STMT(
	"WITH je AS ("
	"  DELETE FROM job_events WHERE id IN ("
	"    SELECT id FROM job_events WHERE at < now() - make_interval(days => $1::int)"
	"     ORDER BY at LIMIT $2)"
	"  RETURNING 1"
	"), he AS ("
	"  DELETE FROM health_events WHERE id IN ("
	"    SELECT id FROM health_events WHERE at < now() - make_interval(days => $1::int)"
	"     ORDER BY id LIMIT $2)"
	"  RETURNING 1"
	"), re AS ("
	"  DELETE FROM runtime_events WHERE id IN ("
	"    SELECT id FROM runtime_events WHERE at < now() - make_interval(days => $1::int)"
	"     ORDER BY id LIMIT $2)"
	"  RETURNING 1"
	")"
	"SELECT (SELECT count(*) FROM je) + (SELECT count(*) FROM he) + (SELECT count(*) FROM re)");

/* Oldest first through jobs_finished (sql/004_reaper.sql). Children before
 * parents (a task goes once its steps are gone), and never a job an
 * unfinished job still waits for: its edge would vanish with it. Runs and
 * events go with their job (neither has a foreign key to cascade). */
static struct db_stmt SQL_PRUNE_JOBS = DB_STMT(
	"WITH old AS ("
	"  SELECT j.id FROM jobs j"
	"   WHERE j.stage IN ('shipped', 'failed', 'dead_letter', 'cancelled')"
	"     AND j.finished_at < now() - make_interval(days => $1::int)"
	"     AND NOT EXISTS (SELECT 1 FROM jobs c WHERE c.parent_id = j.id)"
	"     AND NOT EXISTS (SELECT 1 FROM job_deps jd JOIN jobs w ON w.id = jd.job_id"
	"                      WHERE jd.dep_id = j.id"
	"                        AND w.stage NOT IN ('shipped', 'failed', 'dead_letter',"
	"                                            'cancelled'))"
	"   ORDER BY j.finished_at LIMIT $2"
	"   FOR UPDATE SKIP LOCKED"
	"), ev AS ("
	"  DELETE FROM job_events e USING old WHERE e.job_id = old.id"
	"), run AS ("
	"  DELETE FROM runs r USING old WHERE r.job_id = old.id"
	"), gone AS ("
	"  DELETE FROM jobs j USING old WHERE j.id = old.id RETURNING 1"
	")"
	"SELECT count(*) FROM gone");

struct prune_ctx {
	struct db_stmt *st;
	char days[24], limit[16];
	long n;
	struct cd_error *e;
};

static enum cd_err prune_step(struct db *db, void *arg)
{
	struct prune_ctx *c = arg;
	const char *p[2] = {c->days, c->limit};
	PGresult *res = NULL;
	enum cd_err rc = db_exec(db, &SQL_RETENTION_ON, 0, NULL, &res, c->e);

	PQclear(res);
	res = NULL;
	c->n = 0;
	if (rc == CD_OK)
		rc = db_exec(db, c->st, 2, p, &res, c->e);
	if (rc == CD_OK)
		c->n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static enum cd_err prune(struct db *db, struct db_stmt *st, long days, int limit, long *out,
			 struct cd_error *e)
{
	struct prune_ctx c = {.st = st, .e = e};
	enum cd_err rc;

	fmt_i64(c.days, sizeof(c.days), days);
	snprintf(c.limit, sizeof(c.limit), "%d", limit);
	rc = db_run_tx(db, prune_step, &c, e);
	*out = rc == CD_OK ? c.n : 0;
	return rc;
}

enum cd_err db_reaper_prune_events(struct db *db, long days, int limit, long *out,
				   struct cd_error *e)
{
	return prune(db, &SQL_PRUNE_EVENTS, days, limit, out, e);
}

enum cd_err db_reaper_prune_jobs(struct db *db, long days, int limit, long *out,
				 struct cd_error *e)
{
	return prune(db, &SQL_PRUNE_JOBS, days, limit, out, e);
}

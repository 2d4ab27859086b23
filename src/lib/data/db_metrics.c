/* db_metrics.c -- the SQL of GET /metrics. See db_metrics.h. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/metrics.h"
#include "data/db_internal.h"
#include "data/db_metrics.h"

#define FLUSH_BATCH 256			     /* samples per statement */
#define FLUSH_MAX_BYTES (FLUSH_BATCH * 1024) /* a route pattern is short */

/* Rows in key order, so that concurrent flushes lock shared rows in the same
 * order and cannot deadlock; a route pattern shared by two methods sums. */
static struct db_stmt SQL_FLUSH = DB_STMT(
	"INSERT INTO metrics_counters AS m (name, route, status, le, value)"
	"  SELECT x.name, x.route, x.status,"
	"         CASE WHEN x.le = '+Inf' THEN 'Infinity'::float8 ELSE x.le::float8 END,"
	"         sum(x.value)"
	"    FROM json_to_recordset($1::json) AS x(name text, route text, status int, le text,"
	"                                           value float8)"
	"   GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
	"  ON CONFLICT (name, route, status, le)"
	"  DO UPDATE SET value = m.value + excluded.value, updated_at = now()");

/* The deltas as the JSON array SQL_FLUSH reads. */
static void deltas_json(struct buf *b, const struct metrics_delta *d, size_t n)
{
	buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		char le[40] = "0";

		if (d[i].le != 0)
			metrics_le(d[i].le, le, sizeof(le));
		buf_printf(b, "%s{\"name\":\"%s\",\"route\":\"", i > 0 ? "," : "", d[i].name);
		buf_json_escape(b, d[i].route, strlen(d[i].route));
		buf_printf(b, "\",\"status\":%d,\"le\":\"%s\",\"value\":%.17g}", d[i].status, le,
			   d[i].value);
	}
	buf_puts(b, "]");
}

/* A flush does not wait for its WAL to reach the disk (about 10 ms here, a
 * scrape's whole cost otherwise): a PostgreSQL crash may lose the last
 * fraction of a second of counts, a price a counter can pay. */
static struct db_stmt SQL_ASYNC_COMMIT = DB_STMT(
	"SELECT set_config('synchronous_commit', 'off', true)");

enum cd_err db_metrics_flush(struct db *db, struct cd_error *e)
{
	struct metrics_delta d[FLUSH_BATCH];
	enum cd_err rc = CD_OK;
	size_t n;

	do {
		struct buf b;
		const char *p[1];

		n = metrics_take(d, FLUSH_BATCH);
		if (n == 0)
			break;
		buf_init(&b, FLUSH_MAX_BYTES);
		deltas_json(&b, d, n);
		p[0] = buf_str(&b);
		if (buf_overflowed(&b))
			rc = cd_fail(e, CD_INTERNAL, NULL, "the metrics flush passed its cap");
		else if ((rc = db_begin(db, e)) == CD_OK) {
			rc = db_exec_command(db, &SQL_ASYNC_COMMIT, 0, NULL, e);
			if (rc == CD_OK)
				rc = db_exec_command(db, &SQL_FLUSH, 1, p, e);
			if (rc == CD_OK)
				rc = db_commit(db, e);
			else
				db_rollback(db);
		}
		if (rc != CD_OK)
			metrics_give_back(d, n);
		buf_reset(&b);
	} while (rc == CD_OK && n == FLUSH_BATCH);
	return rc;
}

static struct db_stmt SQL_COUNTERS = DB_STMT(
	"SELECT coalesce(json_agg(json_build_array(name, route, status,"
	"         CASE WHEN le = 'Infinity' THEN '+Inf'"
	"              WHEN name = 'conductor_http_request_duration_seconds_bucket' THEN le::text"
	"              ELSE '' END, value) ORDER BY name, route, status, le), '[]'::json)"
	"  FROM metrics_counters");

enum cd_err db_metrics_counters(struct db *db, char **out, struct cd_error *e)
{
	return db_exec_text(db, &SQL_COUNTERS, 0, NULL, out, e);
}

/* The recount happens only in the statement that moved counted_at: the row
 * lock makes concurrent scrapes wait for it and then find it fresh (their
 * answer is the count they saw at their start: at most one interval old). */
static struct db_stmt SQL_JOBS = DB_STMT(
	"WITH due AS ("
	"  UPDATE metrics_jobs_counted SET counted_at = now()"
	"   WHERE counted_at <= now() - make_interval(secs => $2::int) RETURNING counted_at),"
	" gone AS (DELETE FROM metrics_job_counts WHERE EXISTS (SELECT 1 FROM due)),"
	" fresh AS ("
	"  INSERT INTO metrics_job_counts (tenant_id, stage, n)"
	"  SELECT tenant_id, stage, count(*) FROM jobs WHERE EXISTS (SELECT 1 FROM due)"
	"   GROUP BY tenant_id, stage RETURNING tenant_id, stage, n),"
	" counts AS ("
	"  SELECT tenant_id, stage, n FROM fresh"
	"  UNION ALL SELECT tenant_id, stage, n FROM metrics_job_counts"
	"   WHERE NOT EXISTS (SELECT 1 FROM due))"
	"SELECT json_build_object("
	"  'age_s', (SELECT CASE WHEN EXISTS (SELECT 1 FROM due) THEN 0"
	"            ELSE extract(epoch FROM now() - counted_at) END FROM metrics_jobs_counted),"
	"  'jobs', (SELECT coalesce(json_agg(json_build_array(t.name, c.stage, c.n)"
	"                                    ORDER BY t.name, c.stage), '[]'::json)"
	"             FROM counts c JOIN tenants t ON t.id = c.tenant_id"
	"            WHERE $1::bigint = 0 OR c.tenant_id = $1::bigint))");

/* st with $1 the tenant and $2 a number of seconds. */
static enum cd_err tenant_and_seconds(struct db *db, struct db_stmt *st, int64_t tenant,
				      long seconds, char **out, struct cd_error *e)
{
	char t[24], s[24];
	const char *p[2] = {t, s};

	fmt_i64(t, sizeof(t), tenant);
	fmt_i64(s, sizeof(s), seconds);
	return db_exec_text(db, st, 2, p, out, e);
}

enum cd_err db_metrics_jobs(struct db *db, int64_t tenant, int ttl_s, char **out,
			    struct cd_error *e)
{
	return tenant_and_seconds(db, &SQL_JOBS, tenant, ttl_s, out, e);
}

static struct db_stmt SQL_GAUGES = DB_STMT(
	"SELECT json_build_object("
	"  'runtimes', (SELECT coalesce(json_agg(json_build_array(pool, state, n)"
	"                                        ORDER BY pool, state), '[]'::json)"
	"     FROM (SELECT pool, state, count(*) AS n FROM runtime_instances"
	"            WHERE state IN ('starting', 'running', 'stopping', 'stopped')"
	"            GROUP BY pool, state) r),"
	"  'workers', (SELECT coalesce(json_agg(json_build_array(health, n) ORDER BY health),"
	"                              '[]'::json)"
	"     FROM (SELECT CASE WHEN health = 'ok' AND last_heartbeat_at <"
	"                         now() - make_interval(secs => $2::int) THEN 'stale'"
	"                       ELSE health END AS health, count(*) AS n"
	"             FROM factories WHERE $1::bigint = 0 OR tenant_id = $1::bigint"
	"            GROUP BY 1) w))");

enum cd_err db_metrics_gauges(struct db *db, int64_t tenant, long stale_s, char **out,
			      struct cd_error *e)
{
	return tenant_and_seconds(db, &SQL_GAUGES, tenant, stale_s, out, e);
}

/* db_metrics.h -- the SQL of GET /metrics: storing this process's counts
 * (base/metrics.h) as sums in metrics_counters, and reading what a scrape
 * shows (sql/010_metrics.sql says why the tables look the way they do).
 * Every answer is JSON text built by the database; the caller frees it.
 */
#ifndef CD_DB_METRICS_H
#define CD_DB_METRICS_H

#include <stdint.h>

#include "base/err.h"
#include "data/db.h"

/* Adds every count this process made since its last flush to
 * metrics_counters: one transaction of one statement per 256 samples (none
 * when nothing was counted), committed without waiting for the disk. On
 * failure the counts are given back for the next flush. Call outside a
 * transaction. Thread-safe (each thread its own db). */
enum cd_err db_metrics_flush(struct db *db, struct cd_error *e);

/* out: [[name, route, status, le, value]] of every stored counter, ordered
 * by name, route, status and le (numerically; le "+Inf" last, "" when the
 * sample has none). */
enum cd_err db_metrics_counters(struct db *db, char **out, struct cd_error *e);

/* out: {"age_s": seconds since counted, "jobs": [[tenant, stage, n]]}: the
 * jobs by tenant (name) and stage, recounted first when the stored count is
 * older than ttl_s (by one caller at a time; the others read the stored
 * count). tenant 0: every tenant; else that tenant's rows only. */
enum cd_err db_metrics_jobs(struct db *db, int64_t tenant, int ttl_s, char **out,
			    struct cd_error *e);

/* out: {"runtimes": [[pool, state, n]], "workers": [[health, n]]}: live
 * runtime instances by pool and state (system-wide) and workers by health,
 * "stale" for an ok worker silent past stale_s (tenant 0: every tenant). */
enum cd_err db_metrics_gauges(struct db *db, int64_t tenant, long stale_s, char **out,
			      struct cd_error *e);

#endif

/* reaper.c -- the reaper pass: expired leases, silent workers, the janitor,
 * retention, and its report. See reaper.h. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"
#include "data/db_metrics.h"
#include "domain/reaper.h"

/* Renews the lease during a long pass (every RENEW_EVERY batches). */
#define RENEW_EVERY 10

static enum cd_err expire_all(struct timer_ctx *ctx, struct reaper_report *out,
			      struct cd_error *e)
{
	struct reap_counts b;
	enum cd_err rc;

	ctx->step = "expire_leases";
	do {
		rc = db_reaper_expire_leases(ctx->db, REAPER_BATCH, ctx->term, &b, e);
		if (rc == CD_OK) /* its own committed transaction */
			metrics_count(METRICS_LEASES_REAPED, (uint64_t)b.reaped);
		out->leases.reaped += b.reaped;
		out->leases.requeued += b.requeued;
		out->leases.blocked += b.blocked;
		out->leases.dead += b.dead;
		out->batches += b.reaped > 0;
		if (rc == CD_OK && b.reaped == REAPER_BATCH && out->batches % RENEW_EVERY == 0) {
			bool held = timer_still_leader(ctx, &rc, e);

			if (rc != CD_OK)
				break;
			if (!held) {
				out->lost_lease = true; /* the rest of the pass is not ours */
				break;
			}
		}
	} while (rc == CD_OK && b.reaped == REAPER_BATCH);
	return rc;
}

typedef enum cd_err (*prune_fn)(struct db *, long, int, long *, struct cd_error *);

static enum cd_err prune_all(struct db *db, prune_fn fn, long days, long *total,
			     struct cd_error *e)
{
	long n = 0;
	enum cd_err rc = CD_OK;

	for (int i = 0; i < REAPER_PRUNE_MAX_BATCHES && rc == CD_OK; i++) {
		rc = fn(db, days, REAPER_PRUNE_BATCH, &n, e);
		*total += n;
		if (n < REAPER_PRUNE_BATCH)
			break;
	}
	return rc;
}

static void sweep_streams(struct timer_ctx *ctx, struct reaper_report *out, struct cd_error *js)
{
	if (ctx->cfg->streams[0] == '\0')
		return;
	if (ctx->rs == NULL)
		cd_fail(js, CD_UNAVAILABLE, "redis_url",
			"Redis is unavailable: the stream janitor did not run.");
	if (ctx->rs == NULL || janitor_sweep(ctx->db, ctx->rs, ctx->cfg, &out->streams, js) != CD_OK) {
		out->streams_failed = true;
		log_error("stream janitor failed", "error", js->message);
	}
}

enum cd_err reaper_pass(struct timer_ctx *ctx, void *report, struct cd_error *e)
{
	struct reaper_report *out = report;
	const struct config *cfg = ctx->cfg;
	struct cd_error js;
	enum cd_err rc;

	cd_error_reset(&js);
	rc = expire_all(ctx, out, e);
	if (db_metrics_flush(ctx->db, &js) != CD_OK) /* a failed flush keeps its counts */
		log_warn("metrics flush failed", "error", js.message);
	cd_error_reset(&js);
	if (rc != CD_OK || out->lost_lease)
		return rc;
	ctx->step = "mark_silent";
	rc = db_reaper_mark_silent(ctx->db, cfg->factory_stale_s, ctx->term, &out->factories_down,
				   &out->controllers_down, e);
	if (rc != CD_OK)
		return rc;
	sweep_streams(ctx, out, &js);
	ctx->step = "prune_events";
	rc = prune_all(ctx->db, db_reaper_prune_events, cfg->retention_days, &out->events_pruned, e);
	if (rc != CD_OK)
		return rc;
	ctx->step = "prune_jobs";
	rc = prune_all(ctx->db, db_reaper_prune_jobs, cfg->retention_days, &out->jobs_pruned, e);
	if (rc == CD_OK && out->streams_failed) {
		ctx->step = "stream_janitor";
		if (e != NULL)
			*e = js;
		rc = js.err;
	}
	return rc;
}

void reaper_report_log(const struct timer_ctx *ctx, const void *report, bool ok, double ms)
{
	const struct reaper_report *r = report;
	char term[24], v[10][24], took[24];
	bool busy = !ok;
	long n[10] = {r->leases.reaped,	 r->leases.requeued, r->leases.blocked, r->leases.dead,
		      r->factories_down, r->controllers_down, r->streams.requeued,
		      r->streams.dead,	 r->events_pruned,  r->jobs_pruned};

	snprintf(term, sizeof(term), "%lld", (long long)ctx->term);
	snprintf(took, sizeof(took), "%.1f", ms);
	for (int i = 0; i < 10; i++) {
		snprintf(v[i], sizeof(v[i]), "%ld", n[i]);
		busy = busy || n[i] != 0;
	}
	/* an idle pass every few seconds is not news: debug level */
	log_write(busy ? LOG_INFO : LOG_DEBUG, ok ? "pass done" : "pass incomplete",
		  "term", term, "leases_reaped", v[0], "requeued", v[1], "blocked", v[2],
		  "dead_lettered", v[3], "factories_down", v[4], "controllers_down", v[5],
		  "stream_entries_reclaimed", v[6], "stream_entries_dead", v[7], "events_pruned",
		  v[8], "jobs_pruned", v[9], "ms", took, (const char *)0);
}

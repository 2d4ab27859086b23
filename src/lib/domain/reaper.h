/* reaper.h -- one reaper pass (DESIGN section 7), the pass and report slots
 * of conductor-reaper's timer table (src/reaper/main.c, domain/timer.h).
 *
 * The runner takes (or renews) the system's `reaper` leader lease before the
 * pass; only the holder runs it. The pass expires leases in
 * batches until none is left, marks silent workers and controllers down,
 * sweeps the configured streams, and prunes history in small batches. Every
 * step is its own short transaction: a pass killed at any point is finished
 * by the next one.
 */
#ifndef CD_REAPER_H
#define CD_REAPER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "base/err.h"
#include "data/db.h"
#include "data/db_reaper.h"
#include "data/stream.h"
#include "domain/janitor.h"
#include "domain/timer.h"

#define REAPER_LEASE "reaper"
#define REAPER_BATCH 1000		/* expired leases per transaction */
#define REAPER_PRUNE_BATCH 500		/* history rows per transaction */
#define REAPER_PRUNE_MAX_BATCHES 200	/* per pass; the next pass goes on */

struct reaper_report {
	bool lost_lease;	/* another copy took the lease mid-pass: the rest did not run */
	struct reap_counts leases;
	long batches;
	long factories_down, controllers_down;
	struct janitor_counts streams;
	bool streams_failed;	/* Redis did not answer: the rest of the pass ran */
	long events_pruned, jobs_pruned;
};

/* One pass as the leader of term ctx->term (the timer's pass slot).
 * ctx->rs: the stream connection; NULL when none could be opened (with
 * streams configured, the janitor then counts as failed). out: a struct
 * reaper_report. CD_UNAVAILABLE when PostgreSQL (or, for the janitor, Redis)
 * failed, ctx->step naming the step; after a janitor failure the rest of the
 * pass still ran. */
enum cd_err reaper_pass(struct timer_ctx *ctx, void *out, struct cd_error *e);

/* Logs the report of a pass (the timer's report slot): its counts, at info
 * when it did anything (or failed), else at debug. */
void reaper_report_log(const struct timer_ctx *ctx, const void *report, bool ok, double ms);

#endif

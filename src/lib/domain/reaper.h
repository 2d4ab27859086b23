/* reaper.h -- one reaper pass (DESIGN section 7), as conductor-reaper runs it
 * from a timer or a loop.
 *
 * A pass first takes (or renews) the system's `reaper` leader lease; a copy
 * that is not the holder does nothing. The holder then expires leases in
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

#define REAPER_LEASE "reaper"
#define REAPER_BATCH 1000		/* expired leases per transaction */
#define REAPER_PRUNE_BATCH 500		/* history rows per transaction */
#define REAPER_PRUNE_MAX_BATCHES 200	/* per pass; the next pass goes on */

struct reaper_opts {
	const struct config *cfg;
	const char *holder;	/* this copy's lease holder id: host/pid */
	const char *host;
	int lease_ttl_s;
};

struct reaper_report {
	bool leader;
	int64_t term;
	char holder[129];	/* who holds the lease (this copy when leader) */
	struct reap_counts leases;
	long batches;
	long factories_down, controllers_down;
	struct janitor_counts streams;
	bool streams_failed;	/* Redis did not answer: the rest of the pass ran */
	long events_pruned, jobs_pruned;
};

/* One pass. rs: the stream connection; NULL when none could be opened (with
 * streams configured, the janitor then counts as failed). CD_UNAVAILABLE
 * when PostgreSQL (or, for the janitor, Redis) failed; the rest of the pass
 * still ran. */
enum cd_err reaper_pass(struct db *db, struct stream_conn *rs, const struct reaper_opts *o,
			struct reaper_report *out, struct cd_error *e);

/* Gives the lease up (on exit), so a standby takes over at once. */
enum cd_err reaper_stand_down(struct db *db, const struct reaper_opts *o, struct cd_error *e);

#endif

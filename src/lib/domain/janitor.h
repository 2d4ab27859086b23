/* janitor.h -- the Redis stream janitor of the reaper pass (DESIGN section 6).
 *
 * Per configured stream, entries of the consumer group pending longer than
 * reclaim_idle_s are taken over (XAUTOCLAIM). One delivered at most
 * max_deliveries times goes back on its stream as a fresh copy (its fields
 * kept, `deliveries` carrying the count), then is acked and deleted; one
 * delivered more goes to `dead:<stream>` with `dead_reason` and
 * `original_id`, is acked and deleted, and a runtime event records it.
 * Each move is one MULTI/EXEC, so an entry is never lost nor doubled.
 */
#ifndef CD_JANITOR_H
#define CD_JANITOR_H

#include <stdbool.h>

#include "base/config.h"
#include "base/err.h"
#include "data/db.h"
#include "data/stream.h"

#define JANITOR_CONSUMER "conductor-janitor"
#define JANITOR_DELIVERIES_FIELD "deliveries"

enum janitor_verdict { JANITOR_REQUEUE, JANITOR_DEAD };

/* How many times an entry has been delivered in all: the count its earlier
 * copies carried (the `deliveries` field; NULL or not a number: 0) plus
 * this copy's deliveries to workers -- pending_count less the janitor's own
 * claim. */
long janitor_deliveries(const char *carried, long pending_count);

/* Requeue while deliveries <= max_deliveries, else dead-letter. */
enum janitor_verdict janitor_decide(long deliveries, long max_deliveries);

struct janitor_counts {
	long requeued;		/* re-added as fresh copies */
	long dead;		/* moved to dead:<stream> */
	long missing;		/* configured streams (or groups) that do not exist */
};

/* One sweep over cfg->streams. Runtime events go through db. */
enum cd_err janitor_sweep(struct db *db, struct stream_conn *rs, const struct config *cfg,
			  struct janitor_counts *out, struct cd_error *e);

#endif

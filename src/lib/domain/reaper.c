/* reaper.c -- the reaper pass: lease, expired leases, silent workers, the
 * janitor, retention. See reaper.h. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "data/db_control.h"
#include "domain/reaper.h"

/* Renews the lease during a long pass (every RENEW_EVERY batches); false
 * when another copy holds it now -- this one stops acting. */
#define RENEW_EVERY 10

static bool still_leader(struct db *db, const struct reaper_opts *o, struct cd_error *e,
			 enum cd_err *rc)
{
	struct leader_lease lease;

	*rc = db_control_acquire(db, LEADER_SYSTEM_TENANT, REAPER_LEASE, o->holder, o->host,
				 o->lease_ttl_s, NULL, &lease, e);
	if (*rc == CD_OK && !lease.is_leader)
		log_warn("lost the reaper lease mid-pass: stopping", "holder", lease.holder_id);
	return *rc == CD_OK && lease.is_leader;
}

static enum cd_err expire_all(struct db *db, const struct reaper_opts *o,
			      struct reaper_report *out, struct cd_error *e)
{
	struct reap_counts b;
	enum cd_err rc;

	do {
		rc = db_reaper_expire_leases(db, REAPER_BATCH, out->term, &b, e);
		out->leases.reaped += b.reaped;
		out->leases.requeued += b.requeued;
		out->leases.blocked += b.blocked;
		out->leases.dead += b.dead;
		out->batches += b.reaped > 0;
		if (rc == CD_OK && b.reaped == REAPER_BATCH && out->batches % RENEW_EVERY == 0) {
			bool held = still_leader(db, o, e, &rc);

			if (rc != CD_OK)
				break;
			if (!held) {
				out->leader = false; /* the rest of the pass is not ours */
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

static void sweep_streams(struct db *db, struct stream_conn *rs, const struct config *cfg,
			  struct reaper_report *out, struct cd_error *js)
{
	if (cfg->streams[0] == '\0')
		return;
	if (rs == NULL)
		cd_fail(js, CD_UNAVAILABLE, "redis_url",
			"Redis is unavailable: the stream janitor did not run.");
	if (rs == NULL || janitor_sweep(db, rs, cfg, &out->streams, js) != CD_OK) {
		out->streams_failed = true;
		log_error("stream janitor failed", "error", js->message);
	}
}

enum cd_err reaper_pass(struct db *db, struct stream_conn *rs, const struct reaper_opts *o,
			struct reaper_report *out, struct cd_error *e)
{
	struct leader_lease lease;
	struct cd_error js;
	enum cd_err rc;

	memset(out, 0, sizeof(*out));
	cd_error_reset(&js);
	rc = db_control_acquire(db, LEADER_SYSTEM_TENANT, REAPER_LEASE, o->holder, o->host,
				o->lease_ttl_s, NULL, &lease, e);
	if (rc != CD_OK)
		return rc;
	out->leader = lease.is_leader;
	out->term = lease.term;
	snprintf(out->holder, sizeof(out->holder), "%s", lease.holder_id);
	if (!out->leader)
		return CD_OK;
	rc = expire_all(db, o, out, e);
	if (rc == CD_OK && !out->leader)
		return CD_OK;
	if (rc == CD_OK)
		rc = db_reaper_mark_silent(db, o->cfg->factory_stale_s, out->term,
					   &out->factories_down, &out->controllers_down, e);
	if (rc == CD_OK)
		sweep_streams(db, rs, o->cfg, out, &js);
	if (rc == CD_OK)
		rc = prune_all(db, db_reaper_prune_events, o->cfg->retention_days,
			       &out->events_pruned, e);
	if (rc == CD_OK)
		rc = prune_all(db, db_reaper_prune_jobs, o->cfg->retention_days, &out->jobs_pruned,
			       e);
	if (rc == CD_OK && out->streams_failed) {
		if (e != NULL)
			*e = js;
		rc = js.err;
	}
	return rc;
}

enum cd_err reaper_stand_down(struct db *db, const struct reaper_opts *o, struct cd_error *e)
{
	return db_control_release(db, LEADER_SYSTEM_TENANT, REAPER_LEASE, o->holder, e);
}

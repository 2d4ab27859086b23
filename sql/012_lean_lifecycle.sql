-- 012_lean_lifecycle: a lean job lifecycle (issue 17): THE rule of a met
-- dependency in one place (1), and at most three row writes per job (2).
--
-- 1. THE rule of a met dependency, in one place.
--
-- A dependent may run once each of its deps is shipped, or, when the
-- dependent's deps_mode is soft, testing. The submit (the stage a new job
-- starts in), the unblock after a transition and the reaper (the stage an
-- expired lease goes back to) each ask it of every dep of a job; they used
-- to spell it out three times. domain/stages.c:stages_dep_met() is the same
-- rule for C: which transitions may unblock a dependent.
--
-- A single SQL expression, IMMUTABLE, not STRICT, with no sub-select: the
-- planner inlines it into each statement, so it costs what the expression
-- written in place cost (no function call per dep).
CREATE FUNCTION dep_met(dep_stage text, deps_mode text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT dep_stage = 'shipped' OR (deps_mode = 'soft' AND dep_stage = 'testing')
$$;

-- 2. At most three row writes per job on the common path
-- (claim, then ship, no dependents): the claim's UPDATE of the job, the
-- ship's UPDATE of the job, and one INSERT of the run row when it ends.
--
-- Before (measured with pg_stat_user_tables, n_tup_ins + n_tup_upd per job
-- over 200 claim + PATCH shipped): 6.00 -- the job updated twice, the run
-- inserted at the claim and updated at its end, a `claimed` and a
-- `stage_changed` event inserted. After: 3.00.
--
-- * The running attempt lives on the job row (run_started_at, run_result,
--   run_insights, and run_claim_event: the id its `claimed` event shows),
--   and is written once, as its run row, when it ends (shipped, failed,
--   released, cancelled, lease expired). Runs are never updated any more:
--   UPDATE is refused like job_events'. A lease with no recorded start (a
--   row loaded by hand) has no run, as before.
-- * A run remembers the ids of its `claimed` event and, when a worker
--   shipped it, of its `stage_changed` to shipped (claim_event, end_event,
--   end_from): both come from job_events' own sequence, taken when the
--   thing happened, so job_history shows every event of a job in the order
--   it happened, with the id, time and data the stored event had. Every
--   other event is still a row of job_events.
-- * job_history and job_runs are THE readings of a job's history and runs
--   (events API, runs API, tests): stored rows plus what the runs and the
--   running attempt say. Both are UNION ALLs the planner flattens, so a
--   job_id = $1 reaches each branch's index (job_events_by_job, runs_by_job,
--   the jobs primary key). The running attempt's test is written IS NOT
--   DISTINCT FROM 'held' (the same test: lease_status is never NULL) so that
--   it cannot match the partial indexes of held leases: a plan that read one
--   job through jobs_held_by scanned every lease its tenant holds.
--
-- The indexes of jobs, each with the query that needs it (sql/002, 004,
-- 006); an update writes an entry only in those whose predicate the new row
-- meets, so a claim writes none in jobs_claimable and a ship none in the
-- held-lease ones:
--   jobs_pkey          every statement by id (get, PATCH, transitions, cancel)
--   jobs_claimable     the claim: WHERE tenant_id AND stage = 'queued' ORDER BY
--                      priority, created_at, id (partial: queued only)
--   jobs_by_tenant     GET /v1/fleet/jobs: WHERE tenant_id AND id < $cursor ORDER BY id DESC
--   jobs_by_stage      GET /v1/fleet/jobs?stage=: the same within a stage; status counts
--   jobs_held_expiry   the reaper: WHERE lease_status = 'held' AND lease_expires_at < now()
--                      ORDER BY lease_expires_at (partial: held only)
--   jobs_held_by       a seat-limited worker's free seats: WHERE tenant_id AND
--                      lease_holder AND lease_status = 'held' (partial: held only)
--   jobs_children      a task's steps: WHERE parent_id (partial: steps only)
--   jobs_finished      retention and the status pages' throughput: WHERE
--                      finished_at < ... ORDER BY finished_at (partial: finished only)
--   jobs_idempotency   submit by key: UNIQUE (tenant_id, idempotency_key)
--                      (partial: jobs with a key only)

ALTER TABLE jobs
    ADD COLUMN run_started_at timestamptz,
    ADD COLUMN run_claim_event bigint,
    ADD COLUMN run_result jsonb,
    ADD COLUMN run_insights jsonb;

ALTER TABLE runs
    ADD COLUMN claim_event bigint,
    ADD COLUMN end_event bigint,
    ADD COLUMN end_from text;

-- Runs are inserted whole now: no room to keep for updates.
ALTER TABLE runs RESET (fillfactor);

-- The attempts running now move onto their job rows (their claimed events
-- are rows of job_events already: run_claim_event stays NULL).
UPDATE jobs j SET run_started_at = r.started_at, run_result = r.result, run_insights = r.insights
  FROM runs r
 WHERE r.job_id = j.id AND r.ended_at IS NULL AND r.lease_epoch = j.lease_epoch
   AND j.lease_status = 'held';
DELETE FROM runs r USING jobs j
 WHERE r.job_id = j.id AND r.ended_at IS NULL AND r.lease_epoch = j.lease_epoch
   AND j.lease_status = 'held';

-- History is append-only: the same rule for job_events and now runs.
CREATE OR REPLACE FUNCTION job_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('conductor.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- Runs refuse UPDATE; DELETE goes as before (retention, a tenant's clean-up).
CREATE TRIGGER runs_append_only BEFORE UPDATE ON runs
    FOR EACH ROW EXECUTE FUNCTION job_events_append_only();

-- Every run of a job: the ended ones, and the one running now (on its job).
CREATE VIEW job_runs AS
    SELECT r.id, r.tenant_id, r.job_id, r.attempt, r.lease_epoch, r.factory_id, r.engine,
           r.started_at, r.ended_at, r.exit, r.result, r.insights
      FROM runs r
    UNION ALL
    SELECT NULL::bigint, j.tenant_id, j.id, j.attempts, j.lease_epoch, j.lease_holder,
           j.engine_class, j.run_started_at, NULL::timestamptz, NULL::text, j.run_result,
           j.run_insights
      FROM jobs j
     WHERE j.lease_status IS NOT DISTINCT FROM 'held' AND j.run_started_at IS NOT NULL;

-- Every event of a job: the stored ones, and the claims and ships the runs
-- (and the running attempt) stand for, each with the data its row had.
CREATE VIEW job_history AS
    SELECT e.id, e.tenant_id, e.job_id, e.kind, e.at, e.data
      FROM job_events e
    UNION ALL
    SELECT r.claim_event, r.tenant_id, r.job_id, 'claimed'::text, r.started_at,
           jsonb_build_object('factory_id', r.factory_id, 'epoch', r.lease_epoch,
                              'attempt', r.attempt)
      FROM runs r
     WHERE r.claim_event IS NOT NULL
    UNION ALL
    SELECT r.end_event, r.tenant_id, r.job_id, 'stage_changed'::text, r.ended_at,
           jsonb_build_object('from', r.end_from, 'to', 'shipped', 'epoch', r.lease_epoch,
                              'factory_id', r.factory_id)
      FROM runs r
     WHERE r.end_event IS NOT NULL
    UNION ALL
    SELECT j.run_claim_event, j.tenant_id, j.id, 'claimed'::text, j.run_started_at,
           jsonb_build_object('factory_id', j.lease_holder, 'epoch', j.lease_epoch,
                              'attempt', j.attempts)
      FROM jobs j
     WHERE j.lease_status IS NOT DISTINCT FROM 'held' AND j.run_claim_event IS NOT NULL;

-- The guard of a fast path (PATCH and jobs:transition in one round trip,
-- data/db_leases.c): true when ok, else it raises SQLSTATE CD000, which rolls
-- back the implicit transaction the statement runs in, and the caller takes
-- the full path (which explains misses, unblocks dependents, settles tasks).
CREATE FUNCTION fast_path_holds(ok boolean) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    IF ok THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'the fast path does not apply' USING ERRCODE = 'CD000';
END
$$;

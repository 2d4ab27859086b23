-- 017_run_engine: the engine a run actually used (issue 18). A worker may
-- report it with PATCH or jobs:transition (`engine`); the running attempt
-- keeps it on the job row (run_engine, cleared by each claim) and the run
-- row is written with it when the attempt ends (sql/012). Without a report
-- a run shows the job's engine_class, as before.
ALTER TABLE jobs ADD COLUMN run_engine text;

CREATE OR REPLACE VIEW job_runs AS
    SELECT r.id, r.tenant_id, r.job_id, r.attempt, r.lease_epoch, r.factory_id, r.engine,
           r.started_at, r.ended_at, r.exit, r.result, r.insights, r.profile
      FROM runs r
    UNION ALL
    SELECT NULL::bigint, j.tenant_id, j.id, j.attempts, j.lease_epoch, j.lease_holder,
           coalesce(j.run_engine, j.engine_class), j.run_started_at, NULL::timestamptz,
           NULL::text, j.run_result, j.run_insights, j.profile
      FROM jobs j
     WHERE j.lease_status IS NOT DISTINCT FROM 'held' AND j.run_started_at IS NOT NULL;

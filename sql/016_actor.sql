-- 016_actor: every job event names who caused it (DESIGN section 4: "Every
-- event carries actor: the token's name and role, or the timer and its
-- term"). The writer says who it is once per connection, in the session
-- setting conductor.actor (data/db.c, db_set_actor: conductor-fcgi per
-- request from the token, the timers per pass with their term); every
-- INSERT of job_events and runs takes it as a column default, so no
-- statement has to carry it and none can forget it.
--
-- The two events that are not rows (sql/012_lean_lifecycle: a claim and a ship, read from
-- the runs) keep theirs beside them: the claim's on the job row while it
-- runs (run_claim_actor, written by the claim's own UPDATE: no extra write)
-- and then on the run (claim_actor); the ship's is the run's own actor, the
-- writer of the run row.
--
-- Rows written before this migration have no actor (null).

CREATE FUNCTION actor_now() RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('conductor.actor', true), '')::jsonb
$$;

ALTER TABLE job_events ADD COLUMN actor jsonb DEFAULT actor_now();
ALTER TABLE runs ADD COLUMN actor jsonb DEFAULT actor_now(),
                 ADD COLUMN claim_actor jsonb;
ALTER TABLE jobs ADD COLUMN run_claim_actor jsonb;

CREATE OR REPLACE VIEW job_history AS
    SELECT e.id, e.tenant_id, e.job_id, e.kind, e.at, e.data, e.actor
      FROM job_events e
    UNION ALL
    SELECT r.claim_event, r.tenant_id, r.job_id, 'claimed'::text, r.started_at,
           jsonb_build_object('factory_id', r.factory_id, 'epoch', r.lease_epoch,
                              'attempt', r.attempt),
           r.claim_actor
      FROM runs r
     WHERE r.claim_event IS NOT NULL
    UNION ALL
    SELECT r.end_event, r.tenant_id, r.job_id, 'stage_changed'::text, r.ended_at,
           jsonb_build_object('from', r.end_from, 'to', 'shipped', 'epoch', r.lease_epoch,
                              'factory_id', r.factory_id),
           r.actor
      FROM runs r
     WHERE r.end_event IS NOT NULL
    UNION ALL
    SELECT j.run_claim_event, j.tenant_id, j.id, 'claimed'::text, j.run_started_at,
           jsonb_build_object('factory_id', j.lease_holder, 'epoch', j.lease_epoch,
                              'attempt', j.attempts),
           j.run_claim_actor
      FROM jobs j
     WHERE j.lease_status IS NOT DISTINCT FROM 'held' AND j.run_claim_event IS NOT NULL;

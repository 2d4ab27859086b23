-- 004_reaper: what the reaper reads and writes besides the lease columns -- the health events of
-- silent workers and controllers, the runtime events (the janitor's
-- dead-lettered stream entries; the watcher records its actions here too) --
-- and the retry delay shared by failed transitions and expired leases.

-- The delay before a retried job may be claimed again: backoff_s doubled for
-- each attempt after the first, capped at one hour (DESIGN section 4, retry).
CREATE FUNCTION retry_delay(backoff_s integer, attempts integer) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT make_interval(secs => least(3600,
        backoff_s::float8 * power(2, least(greatest(attempts - 1, 0), 32))))
$$;

-- Retention reads finished jobs oldest first; without this index every
-- pass would scan the whole jobs table to find none.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- A worker or controller the reaper found silent (health -> down), or any
-- later health change worth keeping. Append-only like job_events.
CREATE TABLE health_events (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL,
    subject     text NOT NULL CHECK (subject IN ('factory', 'controller')),
    subject_id  text NOT NULL,
    kind        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX health_events_by_subject ON health_events (tenant_id, subject, subject_id, id);

-- What happened to the data plane and the runtimes: dead-lettered stream
-- entries (the janitor), spawns and teardowns (the watcher). tenant_id 0 is
-- the system's own. instance_id names a runtime instance when there is one.
CREATE TABLE runtime_events (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL DEFAULT 0,
    instance_id  bigint,
    kind         text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    data         jsonb NOT NULL DEFAULT '{}'
);

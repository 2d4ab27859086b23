-- 008_timers: every running copy of a timer (conductor-reaper,
-- conductor-watcher) and its leader state, written by the copy itself before
-- each pass and deleted when it exits cleanly; GET /v1/status reads it.
--
-- A copy that cannot reach PostgreSQL cannot write that it is degraded, so
-- readers call a row not written for stale_after_s seconds (the copy's lease
-- TTL: three intervals, at least 30 s) degraded and stale. Rows of other
-- copies stale for a day are deleted by the next write of the same timer.
CREATE TABLE timers (
    name           text NOT NULL CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    holder_id      text NOT NULL,           -- this copy: host/pid
    host           text,
    state          text NOT NULL CHECK (state IN ('leader', 'standby', 'degraded')),
    term           bigint NOT NULL DEFAULT 0, -- the lease's term this copy saw last
    leader_id      text,                    -- the lease's holder, as this copy saw it
    stale_after_s  integer NOT NULL CHECK (stale_after_s > 0),
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, holder_id)
);

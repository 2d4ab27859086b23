-- 002_fleet: jobs with their lease on the row, dependencies, runs, events,
-- artifacts, workers (factories), profiles, and the global system mode.
--
-- The lease lives on the job row (lease_epoch, lease_holder, lease_expires_at,
-- lease_status) so a claim, a renewal and a fenced transition are each one
-- conditional UPDATE of one row. Every table carries tenant_id and every
-- query filters on it.

-- One row: the mode claims obey (paused and draining hand out nothing).
CREATE TABLE system_state (
    id            integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    mode          text NOT NULL DEFAULT 'running'
                  CHECK (mode IN ('running', 'paused', 'draining')),
    reason        text,
    requested_by  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO system_state (id) VALUES (1);

CREATE TABLE jobs (
    id                bigserial PRIMARY KEY,
    tenant_id         bigint NOT NULL REFERENCES tenants (id),
    idempotency_key   text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    content_hash      text NOT NULL,   -- SHA-256 of the submitted content: replay vs supersede
    stage             text NOT NULL DEFAULT 'queued'
                      CHECK (stage IN ('queued', 'blocked', 'assigned', 'building', 'review',
                                       'testing', 'shipped', 'failed', 'dead_letter',
                                       'cancelled')),
    priority          smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 3),
                      -- 0 critical, 1 high, 2 medium, 3 low: claims take the smallest first
    capabilities      text[] NOT NULL DEFAULT '{}',
    deps_mode         text NOT NULL DEFAULT 'hard' CHECK (deps_mode IN ('hard', 'soft')),
    kind              text NOT NULL DEFAULT 'leaf' CHECK (kind IN ('leaf', 'composite')),
    parent_id         bigint REFERENCES jobs (id),
    dep_ids           bigint[] NOT NULL DEFAULT '{}',  -- copy of job_deps for job_json()
    body              text NOT NULL DEFAULT '',
    manifest          jsonb NOT NULL DEFAULT '{}',
    engine_class      text,
    profile           text,
    budget            jsonb,
    retry_max         integer NOT NULL DEFAULT 3,
    retry_backoff_s   integer NOT NULL DEFAULT 30,
    retry_on          text[] NOT NULL DEFAULT '{failed,lease_expired}',
    checkpoint        jsonb,
    result            jsonb,
    attempts          integer NOT NULL DEFAULT 0,
    not_before        timestamptz NOT NULL DEFAULT now(),
    lease_epoch       bigint NOT NULL DEFAULT 0,
    lease_holder      text,
    lease_expires_at  timestamptz,
    lease_renewals    integer NOT NULL DEFAULT 0,
    lease_status      text NOT NULL DEFAULT 'none'
                      CHECK (lease_status IN ('none', 'held', 'expired', 'released')),
    rev               bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    UNIQUE (tenant_id, idempotency_key)
);

-- The claim reads only queued rows, in claim order: its cost does not grow
-- with finished history.
CREATE INDEX jobs_claimable ON jobs (tenant_id, priority, created_at, id)
    WHERE stage = 'queued';
-- Listing, newest first, optionally by stage (keyset on id).
CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id DESC);
CREATE INDEX jobs_by_stage ON jobs (tenant_id, stage, id DESC);
-- The reaper's scan and a worker's free seats.
CREATE INDEX jobs_held_expiry ON jobs (lease_expires_at) WHERE lease_status = 'held';
CREATE INDEX jobs_held_by ON jobs (tenant_id, lease_holder) WHERE lease_status = 'held';
CREATE INDEX jobs_children ON jobs (parent_id) WHERE parent_id IS NOT NULL;

-- Child tables carry tenant_id for filtering; it follows from the job, so
-- only the job is a foreign key (each FK costs a check per inserted row).
CREATE TABLE job_deps (
    tenant_id  bigint NOT NULL,
    job_id     bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    dep_id     bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, dep_id),
    CHECK (job_id <> dep_id)
);
CREATE INDEX job_deps_by_dep ON job_deps (dep_id, job_id);

-- One run per attempt (per claim).
CREATE TABLE runs (
    id           bigserial PRIMARY KEY,
    tenant_id    bigint NOT NULL,
    job_id       bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    lease_epoch  bigint NOT NULL,
    factory_id   text NOT NULL,
    engine       text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    exit         text,        -- the stage or event that ended it
    result       jsonb,
    insights     jsonb
);
CREATE INDEX runs_by_job ON runs (job_id, attempt);

-- Append-only history. UPDATE is always refused; DELETE only by the
-- reaper's retention pass, which sets conductor.retention = 'on' locally.
CREATE TABLE job_events (
    id         bigserial PRIMARY KEY,
    tenant_id  bigint NOT NULL,
    job_id     bigint NOT NULL,
    kind       text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX job_events_by_job ON job_events (job_id, id);
CREATE INDEX job_events_by_time ON job_events (at);

CREATE FUNCTION job_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('conductor.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'job_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER job_events_append_only BEFORE UPDATE OR DELETE ON job_events
    FOR EACH ROW EXECUTE FUNCTION job_events_append_only();

CREATE TABLE artifacts (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL,
    job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    uri         text NOT NULL,
    sha256      text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes       bigint CHECK (bytes >= 0),
    kind        text NOT NULL DEFAULT 'file',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_by_job ON artifacts (job_id, id);

-- Workers ("factories"), upserted by their heartbeat.
CREATE TABLE factories (
    tenant_id          bigint NOT NULL REFERENCES tenants (id),
    factory_id         text NOT NULL,
    capabilities       text[] NOT NULL DEFAULT '{}',
    health             text NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'degraded', 'down')),
    load               double precision NOT NULL DEFAULT 0,
    seat_limit         integer CHECK (seat_limit > 0),  -- NULL: max_jobs alone limits claims
    descriptor         jsonb NOT NULL DEFAULT '{}',
    last_heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, factory_id)
);

-- Immutable named, versioned snapshots a job may name as its profile.
CREATE TABLE profiles (
    tenant_id   bigint NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    version     integer NOT NULL,
    body        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name, version)
);

-- ---- JSON views of rows -----------------------------------------------------
-- The API's JSON for a job is built here, once, so every route returns the
-- same shape (DESIGN section 4) and the service passes it through verbatim.

CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION priority_name(p smallint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (ARRAY['critical', 'high', 'medium', 'low'])[p + 1]
$$;

-- whole: body, manifest, checkpoint and result included (one job, claims);
-- lists leave them out so a page of 500 stays small.
-- A single SQL expression with no sub-select, so the planner inlines it
-- into each statement (deps come from the dep_ids copy, not job_deps).
CREATE FUNCTION job_json(j jobs, whole boolean) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', j.id::text,
        'idempotency_key', j.idempotency_key,
        'stage', j.stage,
        'priority', priority_name(j.priority),
        'capabilities', to_json(j.capabilities),
        'deps', to_json(j.dep_ids::text[]),
        'deps_mode', j.deps_mode,
        'kind', j.kind,
        'parent_id', j.parent_id::text,
        'body', CASE WHEN whole THEN j.body END,
        'manifest', CASE WHEN whole THEN j.manifest END,
        'engine_class', j.engine_class,
        'profile', j.profile,
        'budget', j.budget,
        'retry', json_build_object('max', j.retry_max, 'backoff_s', j.retry_backoff_s,
                                   'on', to_json(j.retry_on)),
        'checkpoint', CASE WHEN whole THEN j.checkpoint END,
        'result', CASE WHEN whole THEN j.result END,
        'attempts', j.attempts,
        'not_before', rfc3339(j.not_before),
        'lease', json_build_object('epoch', j.lease_epoch, 'holder', j.lease_holder,
                                   'expires_at', rfc3339(j.lease_expires_at),
                                   'renewals', j.lease_renewals, 'status', j.lease_status),
        'rev', j.rev,
        'created_at', rfc3339(j.created_at),
        'updated_at', rfc3339(j.updated_at),
        'finished_at', rfc3339(j.finished_at))
$$;

-- What a fenced write answers: the job's state without its content.
CREATE FUNCTION job_state_json(j jobs) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', j.id::text,
        'stage', j.stage,
        'attempts', j.attempts,
        'not_before', rfc3339(j.not_before),
        'lease', json_build_object('epoch', j.lease_epoch, 'holder', j.lease_holder,
                                   'expires_at', rfc3339(j.lease_expires_at),
                                   'renewals', j.lease_renewals, 'status', j.lease_status),
        'checkpoint', j.checkpoint,
        'rev', j.rev,
        'updated_at', rfc3339(j.updated_at))
$$;

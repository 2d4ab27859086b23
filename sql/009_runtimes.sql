-- 009_runtimes: GPU runtimes (DESIGN section 6) -- the instances the watcher
-- and the runtime routes start at a provider, the state the watcher keeps per
-- pool (so a restart or a new leader carries on where the last pass stopped),
-- and the machines an operator registered for the `manual` provider.
-- What happened to them is recorded in runtime_events (sql/004_reaper.sql).
-- These are the system's own rows: no tenant_id (a pool may serve any
-- tenant's streams).

-- One instance at one provider. A row is written BEFORE the provider is
-- asked (state 'starting', no provider_id yet), inside the transaction that
-- counted the pool's active instances under the pool's row lock: two
-- spawns racing for a pool's last slot cannot both get one.
--   starting  reserved, the provider is being asked (provider_id NULL)
--   running   the provider started it (provider_id set)
--   stopping  a teardown is under way
--   stopped   powered off, still billed by some providers
--   destroyed deleted at the provider: billing ended
--   failed    no provider could start it
CREATE TABLE runtime_instances (
    id              bigserial PRIMARY KEY,
    pool            text NOT NULL CHECK (pool ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    provider        text CHECK (provider ~ '^[a-z0-9_-]{1,32}$'),
    provider_id     text CHECK (length(provider_id) BETWEEN 1 AND 128),
    name            text NOT NULL UNIQUE,
    state           text NOT NULL DEFAULT 'starting'
                    CHECK (state IN ('starting', 'running', 'stopping', 'stopped',
                                     'destroyed', 'failed')),
    price_per_hour  numeric(12, 4),
    gpu             text,
    gpu_mem_gb      integer,
    region          text,
    address         text,
    term            bigint NOT NULL DEFAULT 0,     -- the leader term (0: an API call) that started it
    requested_by    text NOT NULL DEFAULT 'watcher',
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    stopped_at      timestamptz,
    last_status     text,                          -- the provider's last word, or why it failed
    last_status_at  timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- A provider's id names one live instance; once destroyed (or failed) the id
-- may come back (a manual machine's id does, each time it is started again).
CREATE UNIQUE INDEX runtime_instances_provider_id ON runtime_instances (provider, provider_id)
    WHERE state IN ('starting', 'running', 'stopping', 'stopped');
-- What a pass reads: the live instances of a pool.
CREATE INDEX runtime_instances_live ON runtime_instances (pool, state)
    WHERE state IN ('starting', 'running', 'stopping', 'stopped');
CREATE INDEX runtime_instances_newest ON runtime_instances (id DESC);

-- The watcher's memory of each pool, one row per pool, created on its first
-- poll. rev grows with every write: a pass writes only if the row is still
-- the one it read (rev) and no newer leader wrote it (term), so two watchers
-- that decided on the same state act once.
CREATE TABLE runtime_pools (
    pool              text PRIMARY KEY CHECK (pool ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    over_polls        integer NOT NULL DEFAULT 0,  -- consecutive polls at or over the threshold
    idle_since        timestamptz,                 -- no demand since then; NULL: demand now
    last_poll_at      timestamptz,
    last_demand       bigint NOT NULL DEFAULT 0,
    last_teardown_at  timestamptz,
    last_alert_at     timestamptz,
    last_action       text,
    last_reason       text,
    term              bigint NOT NULL DEFAULT 0,   -- the term of the last writer
    rev               bigint NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Machines an operator registered for the `manual` provider. A machine is
-- `idle` (free: an offer), `running` (an instance is on it) or `stopped`
-- (its instance powered off, not offered); destroying the instance makes it
-- idle again. Removing a machine is the operator's business.
CREATE TABLE runtime_machines (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    gpu             text NOT NULL DEFAULT '' CHECK (length(gpu) <= 64),
    gpu_mem_gb      integer NOT NULL DEFAULT 0 CHECK (gpu_mem_gb BETWEEN 0 AND 100000),
    price_per_hour  numeric(12, 4) NOT NULL DEFAULT 0 CHECK (price_per_hour >= 0),
    address         text NOT NULL DEFAULT '' CHECK (length(address) <= 128),
    state           text NOT NULL DEFAULT 'idle' CHECK (state IN ('idle', 'running', 'stopped')),
    registered_by   text,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Recent events, newest first (GET /v1/status), and an instance's history.
CREATE INDEX runtime_events_newest ON runtime_events (id DESC);
CREATE INDEX runtime_events_by_instance ON runtime_events (instance_id, id)
    WHERE instance_id IS NOT NULL;

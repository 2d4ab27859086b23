-- 003_control: controllers, leader leases with terms, the system mode per
-- tenant with its history, and tasks (composite jobs) with their steps.

-- Controllers, upserted by their heartbeat.
CREATE TABLE controllers (
    tenant_id          bigint NOT NULL REFERENCES tenants (id),
    controller_id      text NOT NULL,
    host               text,
    role               text,
    priority           integer NOT NULL DEFAULT 0,
    status             text,
    version            text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    last_heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, controller_id)
);

-- Leader leases. tenant_id 0 holds the system's own leases (the reaper's
-- and the watcher's); every other row belongs to a tenant. The term is a
-- fencing token: it grows by one each time the lease changes hands.
CREATE TABLE leader_leases (
    tenant_id         bigint NOT NULL,
    name              text NOT NULL CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    holder_id         text NOT NULL,
    holder_host       text,
    term              bigint NOT NULL,
    lease_expires_at  timestamptz NOT NULL,
    acquired_at       timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- The mode claims obey, per tenant (a tenant's operator pauses its own
-- fleet, never another tenant's). No row: running.
CREATE TABLE system_modes (
    tenant_id     bigint PRIMARY KEY REFERENCES tenants (id),
    mode          text NOT NULL CHECK (mode IN ('running', 'paused', 'draining')),
    reason        text,
    requested_by  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE system_mode_events (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants (id),
    mode          text NOT NULL,
    reason        text,
    requested_by  text,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_mode_events_by_tenant ON system_mode_events (tenant_id, id DESC);

-- 002's single global row is replaced by system_modes.
DROP TABLE system_state;

-- Steps are leaf jobs whose parent_id is their task; step_index orders them.
ALTER TABLE jobs ADD COLUMN step_index integer;

-- 001_foundation: tenants and API tokens.
--
-- schema_migrations itself is created by tools/migrate before it applies
-- anything, so that a fresh database can record this very file.
-- Every tenant-owned table of later migrations carries tenant_id and every
-- query filters on it (DESIGN section 3).

CREATE TABLE tenants (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE
                CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The tenant that tokens created without --tenant belong to.
INSERT INTO tenants (name) VALUES ('default');

-- Only the SHA-256 of a token is stored (lower-case hex), so a dump of this
-- table leaks no usable token. tenant_id NULL means every tenant and is
-- allowed for admin tokens only.
CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint REFERENCES tenants (id),
    role        text NOT NULL
                CHECK (role IN ('admin', 'operator', 'submitter', 'worker',
                                'controller', 'readonly')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    CHECK (tenant_id IS NOT NULL OR role = 'admin')
);

-- A name designates one live token, so `conductorctl token revoke --name`
-- is unambiguous; a revoked token's name may be reused.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name)
    WHERE revoked_at IS NULL;

-- The fail-closed check ("is any token active at all?") reads this index.
CREATE INDEX api_tokens_live ON api_tokens (expires_at)
    WHERE revoked_at IS NULL;

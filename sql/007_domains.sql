-- 007_domains: the value checks of jobs move from table CHECK constraints to
-- domains, with the same rules.
--
-- PostgreSQL evaluates every CHECK constraint of a table on every UPDATE of
-- a row, whatever columns the UPDATE sets, and reads each one back from the
-- catalog (stringToNode) and compiles it again in every statement that
-- writes the table. A domain's check runs only where a value of its column
-- is written, from the type cache. A claim and a ship set stage and
-- lease_status, so they check those two instead of six. Measured (one job's
-- claim UPDATE, one client, pgbench): about 35 us of CPU less per statement.
--
-- The table is rewritten once (the domains' checks are verified on it).

CREATE DOMAIN job_stage AS text
    CHECK (VALUE IN ('queued', 'blocked', 'assigned', 'building', 'review', 'testing',
                     'shipped', 'failed', 'dead_letter', 'cancelled'));
CREATE DOMAIN job_priority AS smallint CHECK (VALUE BETWEEN 0 AND 3);
CREATE DOMAIN job_deps_mode AS text CHECK (VALUE IN ('hard', 'soft'));
CREATE DOMAIN job_kind AS text CHECK (VALUE IN ('leaf', 'composite'));
CREATE DOMAIN job_lease_status AS text
    CHECK (VALUE IN ('none', 'held', 'expired', 'released'));
CREATE DOMAIN idempotency_key AS text CHECK (length(VALUE) BETWEEN 1 AND 200);

ALTER TABLE jobs
    DROP CONSTRAINT jobs_stage_check,
    DROP CONSTRAINT jobs_priority_check,
    DROP CONSTRAINT jobs_deps_mode_check,
    DROP CONSTRAINT jobs_kind_check,
    DROP CONSTRAINT jobs_lease_status_check,
    DROP CONSTRAINT jobs_idempotency_key_check,
    ALTER COLUMN stage TYPE job_stage,
    ALTER COLUMN priority TYPE job_priority,
    ALTER COLUMN deps_mode TYPE job_deps_mode,
    ALTER COLUMN kind TYPE job_kind,
    ALTER COLUMN lease_status TYPE job_lease_status,
    ALTER COLUMN idempotency_key TYPE idempotency_key;

-- 010_metrics: what GET /metrics reads that no other table keeps (DESIGN 8).
--
-- metrics_counters: the counters of every conductor process (claims, jobs
-- shipped, leases reaped, HTTP requests and their latency histogram), one
-- row per sample. A process counts in memory and adds what it counted since
-- its last flush every few seconds (INSERT .. ON CONFLICT DO UPDATE SET
-- value = value + excluded.value), so the rows are the sums over every
-- process on every host and survive restarts: monotonic, as Prometheus
-- expects of a counter. Labels that do not apply are '' / 0.
CREATE TABLE metrics_counters (
    name       text NOT NULL,
    route      text NOT NULL DEFAULT '',
    status     integer NOT NULL DEFAULT 0,
    le         double precision NOT NULL DEFAULT 0,
    value      double precision NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, route, status, le)
);

-- metrics_job_counts: the jobs by tenant and stage as last counted. A
-- scrape recounts (one index-only walk of jobs_by_stage) only when the
-- count is older than its time to live, so however many scrapers ask, the
-- jobs table is walked at most once per interval; other scrapes read these
-- few rows. metrics_jobs_counted holds when (one row, locked by the recount).
CREATE TABLE metrics_job_counts (
    tenant_id  bigint NOT NULL,
    stage      text NOT NULL,
    n          bigint NOT NULL
);

CREATE TABLE metrics_jobs_counted (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    counted_at timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO metrics_jobs_counted DEFAULT VALUES;

-- The metrics role: a token that may read GET /metrics and nothing else
-- (the credential a Prometheus server keeps).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'operator', 'submitter', 'worker', 'controller', 'readonly',
                    'metrics'));

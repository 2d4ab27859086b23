-- 015_job_filters: what GET /v1/fleet/jobs?capability= needs. The other new
-- filters have their index already: ?idempotency_key= the unique
-- jobs_idempotency (006_lean), ?parent_id= jobs_children.
--
-- A GIN index of the jobs that have capabilities, for
--   SELECT ... FROM jobs WHERE tenant_id = $1
--      AND capabilities @> ARRAY[$7] AND capabilities <> '{}' AND id < $2
--    ORDER BY id DESC LIMIT $3                    (data/db_jobs.c, db_jobs_find)
-- Partial: a job without capabilities (most of them, and every claim-heavy
-- benchmark's) writes no entry here.
CREATE INDEX jobs_by_capability ON jobs USING gin (capabilities)
    WHERE capabilities <> '{}';

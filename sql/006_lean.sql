-- 006_lean: fewer index entries and checks written per job. A claim and a
-- ship write the job row twice, a run row and two events; each btree on
-- those tables is one more insert per write, each foreign key one more
-- lookup and row lock per inserted row.
--
-- * runs.job_id loses its foreign key: the claim inserts the run in the
--   statement that has just locked and updated the job, so the check proved
--   nothing but cost a lookup and a KEY SHARE lock of the job per claim. The
--   reaper's retention deletes a job's runs with the job, as its events.
-- * Idempotency keys are unique through a partial index: a job without a key
--   writes no entry there (NULLs never conflict anyway).

ALTER TABLE runs DROP CONSTRAINT runs_job_id_fkey;

ALTER TABLE jobs DROP CONSTRAINT jobs_tenant_id_idempotency_key_key;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

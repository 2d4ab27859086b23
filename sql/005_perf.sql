-- 005_perf: the run row is written at the claim and updated once when the
-- run ends. Half of each page stays free for that update, so it is HOT (same
-- page, no new entry in runs_pkey and runs_by_job): measured in batched mode,
-- 91% of run updates stayed on their page at fillfactor 50, 42% at the
-- default. Applies to pages written from now on.
ALTER TABLE runs SET (fillfactor = 50);

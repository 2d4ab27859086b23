-- 014_profiles: profiles are immutable, named, versioned snapshots of how a
-- job should run (DESIGN section 4). A version, once written, is never
-- updated or deleted: a trigger refuses both whoever asks, the API and SQL
-- alike. profile_put() is THE rule of a new version; profile_resolve() THE
-- rule of what a job's `profile` names. A job stores the exact version
-- ("name@v") it resolved to at submit.

CREATE FUNCTION profiles_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'profile versions are immutable (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER profiles_immutable BEFORE UPDATE OR DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_immutable();

-- A new version of (tenant, name) holding spec, unless spec equals the
-- latest version's: then that one (created = false), so that sending the
-- same profile again is harmless. Concurrent puts of one name queue on an
-- advisory lock, so versions are 1, 2, 3 ... with no gap and no duplicate.
CREATE FUNCTION profile_put(p_tenant bigint, p_name text, p_spec jsonb,
                            OUT version integer, OUT created boolean,
                            OUT spec jsonb, OUT created_at timestamptz)
    LANGUAGE plpgsql AS $$
DECLARE
    latest profiles;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('profile:' || p_tenant || ':' || p_name, 0));
    SELECT * INTO latest FROM profiles p
     WHERE p.tenant_id = p_tenant AND p.name = p_name
     ORDER BY p.version DESC LIMIT 1;
    IF FOUND AND latest.body = p_spec THEN
        version := latest.version;
        created := false;
        spec := latest.body;
        created_at := latest.created_at;
        RETURN;
    END IF;
    version := coalesce(latest.version, 0) + 1;
    created := true;
    INSERT INTO profiles AS p (tenant_id, name, version, body)
    VALUES (p_tenant, p_name, version, p_spec)
    RETURNING p.body, p.created_at INTO spec, created_at;
END
$$;

-- "name" -> "name@<latest>", "name@v" -> itself when that version exists;
-- NULL when nothing matches (the caller answers 400 naming `profile`).
CREATE FUNCTION profile_resolve(p_tenant bigint, p_ref text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT p.name || '@' || p.version
      FROM profiles p
     WHERE p.tenant_id = p_tenant
       AND p.name = split_part(p_ref, '@', 1)
       AND (position('@' IN p_ref) = 0
            OR p.version::text = split_part(p_ref, '@', 2))
     ORDER BY p.version DESC
     LIMIT 1
$$;

-- The version each run ran with ("name@v", as the job names it): copied
-- from the job when the run row is written (sql/012: when the run ends; a
-- job's profile cannot change while it runs), and for the running attempt
-- read from the job itself.
ALTER TABLE runs ADD COLUMN profile text;

CREATE OR REPLACE VIEW job_runs AS
    SELECT r.id, r.tenant_id, r.job_id, r.attempt, r.lease_epoch, r.factory_id, r.engine,
           r.started_at, r.ended_at, r.exit, r.result, r.insights, r.profile
      FROM runs r
    UNION ALL
    SELECT NULL::bigint, j.tenant_id, j.id, j.attempts, j.lease_epoch, j.lease_holder,
           j.engine_class, j.run_started_at, NULL::timestamptz, NULL::text, j.run_result,
           j.run_insights, j.profile
      FROM jobs j
     WHERE j.lease_status IS NOT DISTINCT FROM 'held' AND j.run_started_at IS NOT NULL;

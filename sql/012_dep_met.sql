-- 012_dep_met: THE rule of a met dependency, in one place.
--
-- A dependent may run once each of its deps is shipped, or, when the
-- dependent's deps_mode is soft, testing. The submit (the stage a new job
-- starts in), the unblock after a transition and the reaper (the stage an
-- expired lease goes back to) each ask it of every dep of a job; they used
-- to spell it out three times. domain/stages.c:stages_dep_met() is the same
-- rule for C: which transitions may unblock a dependent.
--
-- A single SQL expression, IMMUTABLE, not STRICT, with no sub-select: the
-- planner inlines it into each statement, so it costs what the expression
-- written in place cost (no function call per dep).
CREATE FUNCTION dep_met(dep_stage text, deps_mode text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT dep_stage = 'shipped' OR (deps_mode = 'soft' AND dep_stage = 'testing')
$$;

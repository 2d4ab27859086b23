-- 013_token_guard: the token check that travels with a request's first
-- statement.
--
-- conductor-fcgi caches the tokens it has verified (by their SHA-256, never
-- the token) and, on the hot routes, sends SELECT token_guard(hash) in the
-- same round trip as the request's first statement, ahead of it
-- (data/db.c's guard). When the token was revoked or has expired since, the
-- function raises 28000 and PostgreSQL skips the statement behind it, so a
-- revocation still takes effect on the next request and the check costs no
-- round trip of its own. Reads api_tokens through its unique token_hash
-- index (001).
CREATE FUNCTION token_guard(hash text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM api_tokens
                    WHERE token_hash = hash AND revoked_at IS NULL
                      AND (expires_at IS NULL OR expires_at > now())) THEN
        RAISE EXCEPTION 'The token is unknown, revoked or expired.'
              USING ERRCODE = '28000';
    END IF;
END
$$;

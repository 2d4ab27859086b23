-- 011_ui_sessions: the status pages' browser sessions (DESIGN section 8).
--
-- The cookie holds a random session id; only its SHA-256 (lower-case hex) is
-- stored, so a dump of this table opens no session. A session belongs to the
-- token that logged in: every request joins api_tokens, so revoking (or the
-- expiry of) the token ends its sessions on their next request. The CSRF
-- token of a session is derived from the session id (fcgi/ui_session.c) and
-- is not stored.

CREATE TABLE ui_sessions (
    id            bigserial PRIMARY KEY,
    session_hash  text NOT NULL UNIQUE CHECK (session_hash ~ '^[0-9a-f]{64}$'),
    token_id      bigint NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);

-- Logging in deletes the expired sessions through this index.
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
CREATE INDEX ui_sessions_token ON ui_sessions (token_id);

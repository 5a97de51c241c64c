-- Sessions of a library's database (Better Auth, Auth.js) that Warden ended: the library keeps no row of
-- an ended session, so Warden copies each one here, in the same transaction as the change and its audit
-- event, for the timeline and the audit log to keep. Used only in a database Warden adopted.
CREATE TABLE library_sessions_ended (
    id          INTEGER PRIMARY KEY,
    -- The library's session id, or `sha256:` and the start of its token's hash where the library's
    -- sessions have no id (never the token itself).
    session_key TEXT NOT NULL,
    user_key    TEXT NOT NULL,
    created_at  INTEGER,
    expires_at  INTEGER,
    ip          TEXT,
    user_agent  TEXT,
    ended_at    INTEGER NOT NULL,
    -- A RevokeReason.
    reason      TEXT NOT NULL,
    audit_seq   INTEGER NOT NULL
);
CREATE INDEX library_sessions_ended_by_user ON library_sessions_ended (user_key, ended_at);

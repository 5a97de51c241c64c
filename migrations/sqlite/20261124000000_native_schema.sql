-- Warden native schema, SQLite dialect. Times are unix milliseconds (INTEGER); ids are UUIDv7 (BLOB, 16 bytes).

CREATE TABLE warden_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO warden_meta (key, value) VALUES ('schema', 'warden');

CREATE TABLE users (
    id                 BLOB PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    name_lower         TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'support', 'security_admin')),
    email_verified_at  INTEGER,
    password_hash      TEXT NOT NULL,
    totp_secret        BLOB,
    totp_enabled_at    INTEGER,
    totp_last_step     INTEGER,
    disabled_at        INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    last_active_at     INTEGER NOT NULL DEFAULT 0,
    failed_count       INTEGER NOT NULL DEFAULT 0,
    window_started_at  INTEGER,
    locked_until       INTEGER,
    locked_permanently INTEGER NOT NULL DEFAULT 0,
    lock_count         INTEGER NOT NULL DEFAULT 0,
    last_locked_at     INTEGER,
    last_failed_at     INTEGER,
    last_failed_ip     TEXT
);
CREATE INDEX users_by_created ON users (created_at, id);
CREATE INDEX users_by_last_active ON users (last_active_at, id);
CREATE INDEX users_by_name ON users (name_lower);
CREATE INDEX users_locked ON users (locked_until) WHERE locked_until IS NOT NULL OR locked_permanently = 1;

CREATE TABLE sessions (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id),
    token_hash      BLOB NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    refreshed_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    authenticated_at INTEGER NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    device          TEXT NOT NULL,
    browser         TEXT,
    browser_version TEXT,
    os              TEXT,
    country         TEXT,
    city            TEXT,
    auth_method     TEXT NOT NULL,
    client          TEXT,
    privileged      INTEGER NOT NULL DEFAULT 0,
    elevated_until  INTEGER,
    revoked_at      INTEGER,
    revoked_by      TEXT,
    revoke_reason   TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_live ON sessions (created_at, id) WHERE revoked_at IS NULL;

CREATE TABLE session_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id BLOB NOT NULL REFERENCES sessions (id),
    user_id    BLOB NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    ip         TEXT,
    detail     TEXT
);
CREATE INDEX session_events_by_session ON session_events (session_id, at);
CREATE INDEX session_events_by_user ON session_events (user_id, at);

CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    user_id    BLOB,
    email      TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    outcome    TEXT NOT NULL
);
CREATE INDEX login_attempts_by_user ON login_attempts (user_id, at);
CREATE INDEX login_attempts_by_at ON login_attempts (at);

CREATE TABLE audit_events (
    seq               INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    actor_id          BLOB,
    actor_kind        TEXT NOT NULL,
    actor_label       TEXT NOT NULL,
    action            TEXT NOT NULL,
    target_user_id    BLOB,
    target_session_id BLOB,
    status            TEXT NOT NULL,
    reason            TEXT,
    ip                TEXT,
    metadata          TEXT NOT NULL,
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL
);
CREATE INDEX audit_by_at ON audit_events (at);
CREATE INDEX audit_by_action ON audit_events (action, seq);
CREATE INDEX audit_by_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_by_target ON audit_events (target_user_id, seq);

-- The chain's head: appenders serialize on this one row, and verification checks the tail against it.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TABLE policy_versions (
    version    INTEGER PRIMARY KEY,
    policy     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    note       TEXT NOT NULL
);

CREATE TABLE verification_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX verification_tokens_by_user ON verification_tokens (user_id);

CREATE TABLE backup_codes (
    user_id   BLOB NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE flags (
    id          BLOB PRIMARY KEY,
    user_id     BLOB NOT NULL REFERENCES users (id),
    session_id  BLOB,
    rule        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    detail      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'actioned')),
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT
);
CREATE INDEX flags_by_user ON flags (user_id, created_at);
CREATE INDEX flags_open ON flags (status, created_at);

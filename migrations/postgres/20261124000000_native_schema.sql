-- Warden native schema, PostgreSQL dialect. Times are unix milliseconds (BIGINT); ids are UUIDv7 (uuid).

CREATE TABLE warden_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO warden_meta (key, value) VALUES ('schema', 'warden');

CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    name_lower         TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('user', 'support', 'security_admin')),
    email_verified_at  BIGINT,
    password_hash      TEXT NOT NULL,
    totp_secret        BYTEA,
    totp_enabled_at    BIGINT,
    totp_last_step     BIGINT,
    disabled_at        BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    last_active_at     BIGINT NOT NULL DEFAULT 0,
    failed_count       BIGINT NOT NULL DEFAULT 0,
    window_started_at  BIGINT,
    locked_until       BIGINT,
    locked_permanently BOOLEAN NOT NULL DEFAULT FALSE,
    lock_count         BIGINT NOT NULL DEFAULT 0,
    last_locked_at     BIGINT,
    last_failed_at     BIGINT,
    last_failed_ip     TEXT
);
CREATE INDEX users_by_created ON users (created_at, id);
CREATE INDEX users_by_last_active ON users (last_active_at, id);
CREATE INDEX users_by_name ON users (name_lower);
CREATE INDEX users_locked ON users (locked_until) WHERE locked_until IS NOT NULL OR locked_permanently;

CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id),
    token_hash      BYTEA NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    refreshed_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    authenticated_at BIGINT NOT NULL,
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
    privileged      BOOLEAN NOT NULL DEFAULT FALSE,
    elevated_until  BIGINT,
    revoked_at      BIGINT,
    revoked_by      TEXT,
    revoke_reason   TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_live ON sessions (created_at, id) WHERE revoked_at IS NULL;

CREATE TABLE session_events (
    id         BIGSERIAL PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    user_id    uuid NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    ip         TEXT,
    detail     TEXT
);
CREATE INDEX session_events_by_session ON session_events (session_id, at);
CREATE INDEX session_events_by_user ON session_events (user_id, at);

CREATE TABLE login_attempts (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    user_id    uuid,
    email      TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    outcome    TEXT NOT NULL
);
CREATE INDEX login_attempts_by_user ON login_attempts (user_id, at);
CREATE INDEX login_attempts_by_at ON login_attempts (at);

CREATE TABLE audit_events (
    seq               BIGINT PRIMARY KEY,
    at                BIGINT NOT NULL,
    actor_id          uuid,
    actor_kind        TEXT NOT NULL,
    actor_label       TEXT NOT NULL,
    action            TEXT NOT NULL,
    target_user_id    uuid,
    target_session_id uuid,
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
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION warden_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION warden_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION warden_audit_append_only();

CREATE TABLE policy_versions (
    version    BIGINT PRIMARY KEY,
    policy     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    note       TEXT NOT NULL
);

CREATE TABLE verification_tokens (
    token_hash BYTEA PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX verification_tokens_by_user ON verification_tokens (user_id);

CREATE TABLE backup_codes (
    user_id   uuid NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE flags (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    session_id  uuid,
    rule        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    detail      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'actioned')),
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT
);
CREATE INDEX flags_by_user ON flags (user_id, created_at);
CREATE INDEX flags_open ON flags (status, created_at);

-- Users search as you type on millions of accounts: every search term of a user — the email, the whole
-- lower-case name and each suffix of it that starts after a space — in one index, so that a prefix is one
-- index range ("lim" finds "Ana Lima", "maria l" finds "Ana Maria Lima").
CREATE TABLE user_search_terms (
    term    TEXT NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (term, user_id)
) WITHOUT ROWID;
WITH RECURSIVE suffixes(user_id, rest) AS (
    SELECT id, name_lower FROM users
    UNION ALL
    SELECT user_id, substr(rest, instr(rest, ' ') + 1) FROM suffixes WHERE instr(rest, ' ') > 0
)
INSERT OR IGNORE INTO user_search_terms (term, user_id)
SELECT t, id FROM (
    SELECT id, lower(email) AS t FROM users
    UNION ALL SELECT user_id, rest FROM suffixes
) WHERE t <> '';

-- "Locked accounts, most recently active (or newest) first": a walk of a small partial index instead of
-- the index of every user.
CREATE INDEX users_locked_by_last_active ON users (last_active_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently = 1;
CREATE INDEX users_locked_by_created ON users (created_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently = 1;

-- The sessions screen: sorted by last activity, and the incident filters (country, IP or range) on
-- unrevoked sessions.
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at, id);
CREATE INDEX sessions_unrevoked_by_country ON sessions (country, created_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_unrevoked_by_ip ON sessions (ip) WHERE revoked_at IS NULL;

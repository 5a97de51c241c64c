-- Users search as you type on millions of accounts: every search term of a user — the email, the whole
-- lower-case name and each suffix of it that starts after a space — in one index, so that a prefix is one
-- index range ("lim" finds "Ana Lima", "maria l" finds "Ana Maria Lima"). COLLATE "C" makes the range
-- byte-exact whatever the database's collation.
CREATE TABLE user_search_terms (
    term    TEXT COLLATE "C" NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (term, user_id)
);
INSERT INTO user_search_terms (term, user_id)
SELECT DISTINCT t, id FROM (
    SELECT id, lower(email) AS t FROM users
    UNION ALL SELECT id, name_lower FROM users
    UNION ALL SELECT id, substr(name_lower, p + 1) FROM users, generate_series(1, length(name_lower)) AS p
        WHERE substr(name_lower, p, 1) = ' '
) s WHERE t <> '';

-- "Locked accounts, most recently active (or newest) first": a walk of a small partial index instead of
-- the index of every user.
CREATE INDEX users_locked_by_last_active ON users (last_active_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently;
CREATE INDEX users_locked_by_created ON users (created_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently;

-- The sessions screen: sorted by last activity, and the incident filters (country, IP or range) on
-- unrevoked sessions.
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at, id);
CREATE INDEX sessions_unrevoked_by_country ON sessions (country, created_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_unrevoked_by_ip ON sessions (ip) WHERE revoked_at IS NULL;

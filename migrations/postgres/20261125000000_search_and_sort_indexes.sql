-- Users search as you type on millions of accounts: every search term of a user (the email, the whole
-- name, each word of the name; all lower case) in one index, so that a prefix is one index range on any
-- backend. COLLATE "C" makes the range byte-exact whatever the database's collation.
CREATE TABLE user_search_terms (
    term    TEXT COLLATE "C" NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (term, user_id)
);
INSERT INTO user_search_terms (term, user_id)
SELECT DISTINCT t, id FROM (
    SELECT id, lower(email) AS t FROM users
    UNION ALL SELECT id, name_lower FROM users
    UNION ALL SELECT id, regexp_split_to_table(name_lower, ' ') FROM users
) s WHERE t <> '';

-- "Locked accounts, most recently active first": a walk of this small partial index instead of the
-- last-activity index of every user.
CREATE INDEX users_locked_by_last_active ON users (last_active_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently;
CREATE INDEX users_locked_by_created ON users (created_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently;

-- The sessions screen sorted by last activity (live and recently ended sessions).
CREATE INDEX sessions_unrevoked_by_last_seen ON sessions (last_seen_at, id) WHERE revoked_at IS NULL;

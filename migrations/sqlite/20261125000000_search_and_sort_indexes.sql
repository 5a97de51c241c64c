-- Users search as you type on millions of accounts: every search term of a user (the email, the whole
-- name, each word of the name; all lower case) in one index, so that a prefix is one index range.
CREATE TABLE user_search_terms (
    term    TEXT NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (term, user_id)
) WITHOUT ROWID;
WITH RECURSIVE words(user_id, word, rest) AS (
    SELECT id, '', name_lower || ' ' FROM users
    UNION ALL
    SELECT user_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
    FROM words WHERE rest <> ''
)
INSERT OR IGNORE INTO user_search_terms (term, user_id)
SELECT t, id FROM (
    SELECT id, lower(email) AS t FROM users
    UNION ALL SELECT id, name_lower FROM users
    UNION ALL SELECT user_id, word FROM words
) WHERE t <> '';

-- "Locked accounts, most recently active first": a walk of this small partial index instead of the
-- last-activity index of every user.
CREATE INDEX users_locked_by_last_active ON users (last_active_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently = 1;
CREATE INDEX users_locked_by_created ON users (created_at, id)
    WHERE locked_until IS NOT NULL OR locked_permanently = 1;

-- The sessions screen sorted by last activity (live and recently ended sessions).
CREATE INDEX sessions_unrevoked_by_last_seen ON sessions (last_seen_at, id) WHERE revoked_at IS NULL;

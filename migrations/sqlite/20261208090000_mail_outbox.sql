-- Emails to deliver, kept until the mail server accepted them, so a refused or unreachable mail server
-- or a restart loses none: each row is tried at once, then again with a growing delay, and given up
-- after a day. A row holds no token: each attempt issues a fresh link, stored only as its hash.
CREATE TABLE mail_outbox (
    id          BLOB PRIMARY KEY,
    user_id     BLOB NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('verification')),
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt is due; a sender claims a row by moving it past its attempt.
    next_at     INTEGER NOT NULL,
    last_error  TEXT,
    sent_at     INTEGER,
    gave_up_at  INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE sent_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX mail_outbox_by_user ON mail_outbox (user_id, created_at);

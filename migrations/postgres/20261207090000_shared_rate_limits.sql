-- Request rate limits shared by every server process on this database: one fixed window per key
-- (`sign_in:ip:203.0.113.7`, `2fa:acct:<uuid>`, …), counted in the same transaction that checks it.
-- Windows that have ended are deleted in passing (by `ends_at`).
CREATE TABLE rate_limit_windows (
    key TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX rate_limit_windows_by_end ON rate_limit_windows (ends_at);

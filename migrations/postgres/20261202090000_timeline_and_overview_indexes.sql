-- A user's timeline shows the account's locks and unlocks: a small partial index of just those audit
-- events, by target user and time, instead of walking every event about the user (one with thousands
-- of sessions has tens of thousands).
CREATE INDEX audit_lock_events ON audit_events (target_user_id, at) WHERE action IN ('user.locked', 'user.unlocked');
-- The overview counts sign-ins and failures per hour over seven days: the time range and the outcome
-- read from the index alone. It serves every query the index on `at` alone served, which it replaces.
CREATE INDEX login_attempts_by_at_outcome ON login_attempts (at, outcome);
DROP INDEX login_attempts_by_at;

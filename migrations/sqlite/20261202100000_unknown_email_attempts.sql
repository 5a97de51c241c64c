-- Failed sign-ins for addresses without an account, by address and time: the engine replays them to give
-- such an address the lockout an account would have, so that lockout tells nothing about who has one.
CREATE INDEX login_attempts_unknown_by_email ON login_attempts (email, at) WHERE user_id IS NULL;

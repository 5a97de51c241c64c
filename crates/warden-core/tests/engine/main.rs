//! Integration tests of the engine against real databases: every test runs on SQLite and, when
//! `WARDEN_TEST_POSTGRES_URL` is set, on PostgreSQL (`WARDEN_REQUIRE_POSTGRES=1` makes its absence a failure).

// These tests read the database directly to check what the store wrote.
#![allow(clippy::disallowed_methods)]

#[macro_use]
mod support;

mod admin;
mod adopted;
mod audit;
mod audit_export;
mod bulk;
mod concurrency;
mod detection;
mod lockout;
mod overview;
mod passwords;
mod policy;
mod rate_limits;
mod schema;
mod session_ends;
mod sessions;
mod sign_in;
mod step_up;
mod timeline;
mod totp;

//! Integration tests of warden-server: a real server on 127.0.0.1 and a random port per test, over a
//! fresh SQLite database and, when `WARDEN_TEST_POSTGRES_URL` is set, a fresh PostgreSQL database.

#[macro_use]
mod support;

mod accounts;
mod admin;
mod bad_input;
mod bearer;
mod binary;
mod binary_fleet;
mod browser;
mod concurrency;
mod email;
mod openapi;
mod rate_limits;
mod security;
mod sessions;
mod slow_clients;
mod step_up;
mod two_factor;

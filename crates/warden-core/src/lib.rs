//! Warden's auth engine. The console, the HTTP server and the CLI are doors onto this crate: they parse
//! input, call one function here and map the result. Rules are pure functions over values and a [`Clock`];
//! storage sits in [`store`], one implementation per backend.

pub mod account;
pub mod admin;
pub mod audit;
pub mod audit_query;
pub mod auth;
pub mod authz;
pub mod bulk;
pub mod clock;
pub mod demo;
pub mod detection;
pub mod error;
pub mod export;
pub mod flags;
pub mod hashing;
pub mod overview;
pub mod password;
pub mod policy;
pub mod policy_store;
pub mod rate_limit;
pub mod rules;
pub mod secret;
pub mod session_filter;
pub mod sessions;
pub mod store;
pub mod timeline;
pub mod totp;
pub mod useragent;
pub mod users;
pub mod verification;

pub use authz::{Actor, Role};
pub use clock::{Clock, ManualClock, Millis, SystemClock};
pub use error::{Error, ErrorPayload, Result};
pub use secret::Secret;
pub use store::Db;

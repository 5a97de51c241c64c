//! The use cases the three doors (console, HTTP, CLI) call. Each checks who may act (the actor's
//! permission, a fresh authentication where the action is privileged), takes `now` and typed input,
//! decides with the rules, and writes its change and its audit record through the store in one
//! transaction.

pub mod account;
pub mod admin;
pub mod audit;
pub mod audit_query;
pub mod auth;
pub mod bulk;
pub mod detection;
pub mod export;
pub mod flags;
pub mod library;
pub mod mail;
pub mod operator;
pub mod overview;
pub mod policy;
pub mod rate_limits;
pub mod sessions;
pub mod subjects;
pub mod timeline;
pub mod users;
pub mod verification;

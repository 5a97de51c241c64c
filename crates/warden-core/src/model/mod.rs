//! Plain types and closed vocabularies: what the engine talks about. Nothing here reads a clock, a
//! database or a file (the CLI operator's name aside, see [`authz::Actor::cli`]); the rules compute
//! with these values, the store maps them to rows, the operations pass them to and from the doors.

pub mod address;
pub mod audit;
pub mod authz;
pub mod bulk;
pub mod clock;
pub mod error;
pub mod flag;
pub mod input;
pub mod library;
pub mod mail;
pub mod overview;
pub mod policy;
pub mod policy_version;
pub mod secret;
pub mod session;
pub mod session_filter;
pub mod timeline;
pub mod user;
pub mod vocab;

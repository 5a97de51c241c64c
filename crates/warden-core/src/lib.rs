//! Warden's auth engine. The console, the HTTP server and the CLI are doors onto this crate: they parse
//! input, call one operation here and map the result. The crate is four layers, each using only those
//! below it (docs/ARCHITECTURE.md draws them):
//!
//! - [`model`]: plain types and closed vocabularies;
//! - [`rules`]: pure functions over those values, a policy and `now` (expiry, lockout, passwords, TOTP,
//!   detection);
//! - [`store`]: the only code that names a table, a column or a dialect;
//! - [`ops`]: the use cases the doors call, each writing its change and its audit record in one
//!   transaction.

pub mod model;
pub mod ops;
pub mod rules;
pub mod store;

pub use model::authz::{Actor, Role};
pub use model::clock::{Clock, ManualClock, Millis, SystemClock};
pub use model::error::{Error, ErrorPayload, Result};
pub use model::secret::Secret;
pub use store::Db;

//! Request rate limits shared by every server process on the database: the HTTP door names the keys and
//! the limits, and counts its hits here.

use crate::model::clock::Millis;
use crate::model::error::Result;
pub use crate::store::rate_limits::Limit;
use crate::store::{rate_limits, Db};

/// Counts a hit on each key at once: it counts only when every key admits it; otherwise
/// `rate_limited` with the latest time any of them allows again.
pub async fn hit_all(db: &Db, keys: &[(&str, Limit)], now: Millis) -> Result<()> {
    rate_limits::hit_all(db, keys, now).await
}

/// Counts one hit on `key`.
pub async fn hit(db: &Db, key: &str, limit: Limit, now: Millis) -> Result<()> {
    rate_limits::hit(db, key, limit, now).await
}

/// Deletes the windows that have ended by `now`; returns how many.
pub async fn prune(db: &Db, now: Millis) -> Result<u64> {
    rate_limits::prune(db, now).await
}

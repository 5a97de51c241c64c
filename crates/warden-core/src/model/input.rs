//! Times as people type them (in filters and flags), checked into the engine's values; a malformed one is
//! `invalid_input` naming its field.

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};

/// Parses RFC 3339 (`2026-01-02T03:04:05Z`) or a plain date (`2026-01-02`, midnight UTC).
pub fn parse_time(field: &str, s: &str) -> Result<Millis> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis());
    }
    Err(Error::invalid(
        field,
        "must be an RFC 3339 time (2026-01-02T03:04:05Z) or a date (2026-01-02)",
    ))
}

//! The engine's closed vocabularies: each a Rust enum, serialised the same way everywhere (snake_case),
//! exported to TypeScript with the console's other generated types.

use serde::{Deserialize, Serialize};

/// Why a session no longer validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Signed out, evicted, or revoked by an admin.
    Revoked,
    /// Unused for longer than `idle_timeout`.
    Idle,
    /// Older than `max_lifetime`, however active.
    Absolute,
    /// Not refreshed before `expires_at`.
    Expired,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Revoked => "revoked",
            EndReason::Idle => "idle",
            EndReason::Absolute => "absolute",
            EndReason::Expired => "expired",
        }
    }
}

/// The display status of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SessionStatus {
    Active,
    Idle,
    Absolute,
    Expired,
    Revoked,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Idle => "idle",
            SessionStatus::Absolute => "absolute",
            SessionStatus::Expired => "expired",
            SessionStatus::Revoked => "revoked",
        }
    }
}

//! The console's first screen: what it shows of the application's sign-ins at a glance.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::audit::AuditEvent;
use crate::model::clock::Millis;

/// Hours in the sign-in chart: seven days, the last one the hour in progress.
pub const HOURS: usize = 7 * 24;
/// How many locked accounts, countries, device types and admin actions the overview lists.
pub const LOCKED_LISTED: u32 = 20;
pub const TOP: usize = 6;
pub const ADMIN_ACTIONS_LISTED: u32 = 10;

/// The audit actions an administrator takes; each needs a reason (a self-service `session.revoked`,
/// by the session's owner, has none and is left out).
pub const ADMIN_ACTIONS: [&str; 13] = [
    "session.revoked",
    "user.sessions_revoked",
    "session.bulk_revoked",
    "user.unlocked",
    "user.banned",
    "user.unbanned",
    "user.totp_reset",
    "policy.updated",
    "policy.rolled_back",
    "audit.exported",
    "audit.verified",
    "flag.dismissed",
    "flag.actioned",
];

/// Sign-ins and failures in one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HourCount {
    /// The start of the hour (unix milliseconds, a multiple of 3,600,000).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub start: Millis,
    pub sign_ins: u32,
    /// Wrong passwords or codes, unknown accounts and attempts on locked ones.
    pub failures: u32,
}

/// An account locked now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockedAccount {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// `null` when locked until an administrator unlocks it.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub locked_until: Option<Millis>,
    pub locked_permanently: bool,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub locked_at: Option<Millis>,
    pub last_failed_ip: Option<String>,
}

/// How many active sessions share one value (a country, a device type); `null` when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Share {
    pub value: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overview {
    /// The time it describes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub active_sessions: u64,
    /// Oldest first, one per hour, [`HOURS`] of them; hours without attempts count zero.
    pub hours: Vec<HourCount>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub locked_accounts: u64,
    /// The most recently locked, at most [`LOCKED_LISTED`].
    pub locked: Vec<LockedAccount>,
    /// Among active sessions, the commonest first, at most [`TOP`]; the rest is
    /// `active_sessions` less their sum.
    pub countries: Vec<Share>,
    pub devices: Vec<Share>,
    /// Suspicious-activity flags waiting for review.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub open_flags: u64,
    /// The latest first, at most [`ADMIN_ACTIONS_LISTED`].
    pub admin_actions: Vec<AuditEvent>,
}

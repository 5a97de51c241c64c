//! A user's timeline: their sessions as bars with how each ended, and the marks on them and on the
//! account's row.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::clock::{Millis, DAY};

/// The longest range one timeline covers.
pub const MAX_RANGE: Millis = 366 * DAY;
/// At most this many sessions (the newest) and marks come back; `truncated` says when there were more.
pub const MAX_SESSIONS: usize = 20_000;
pub const MAX_MARKS: usize = 100_000;

/// How a session ended, or that it has not: the colour of its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SessionOutcome {
    /// Still valid now.
    Live,
    /// The user signed out of it.
    UserLogout,
    /// The user ended it from another of their sessions.
    UserRevoked,
    /// An administrator ended it (one session, or all of one user's).
    Admin,
    /// Ended in a bulk termination.
    Bulk,
    /// Ended by the emergency "sign out everyone".
    Emergency,
    /// Ended to make room under the concurrent-session limit.
    Evicted,
    /// Ended because the password changed.
    PasswordChange,
    /// Unused for longer than the idle timeout.
    Idle,
    /// Reached its maximum lifetime.
    Absolute,
    /// Not refreshed before its expiry.
    Expired,
    /// Revoked for a reason this build does not know (`revoke_reason` says which).
    Other,
}

impl SessionOutcome {
    /// The outcome a stored `revoke_reason` stands for.
    pub fn from_reason(reason: Option<&str>) -> SessionOutcome {
        match reason {
            Some("user_logout") => SessionOutcome::UserLogout,
            Some("user_revoked") => SessionOutcome::UserRevoked,
            Some("admin") => SessionOutcome::Admin,
            Some("bulk") => SessionOutcome::Bulk,
            Some("emergency") => SessionOutcome::Emergency,
            Some("evicted") => SessionOutcome::Evicted,
            Some("password_change") => SessionOutcome::PasswordChange,
            Some("idle") => SessionOutcome::Idle,
            Some("absolute") => SessionOutcome::Absolute,
            Some("expired") => SessionOutcome::Expired,
            _ => SessionOutcome::Other,
        }
    }
}

/// One bar of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelineSession {
    pub id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    /// When it stopped being valid; `null` while it lives (the bar runs to `now`).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub ended_at: Option<Millis>,
    pub outcome: SessionOutcome,
    /// As stored, for outcomes this build does not know.
    pub revoke_reason: Option<String>,
    pub revoked_by: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seen_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub expires_at: Millis,
    pub device: String,
    pub browser: Option<String>,
    pub os: Option<String>,
    /// The latest address (an IP change moves it).
    pub ip: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub auth_method: String,
    pub client: Option<String>,
    pub privileged: bool,
    /// The session the asking console is using.
    pub is_current: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum MarkKind {
    /// The session's expiry was extended on use.
    Refreshed,
    /// The session was used from another address (`ip` is the new one, `detail` says from which).
    IpChanged,
    /// The holder re-authenticated for a privileged action.
    Elevated,
    /// The session was ended by someone (`detail` is the revoke reason).
    Revoked,
    /// A sign-in to the account failed (`detail` is the outcome: bad_password, bad_totp, locked).
    SignInFailed,
    /// The account was locked (`until`, or `null` when until an administrator unlocks it).
    Locked,
    /// An administrator unlocked the account (`detail` names who and why).
    Unlocked,
}

/// A point on the timeline: on a session's bar when `session` is set, else on the account's axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelineMark {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: Millis,
    pub kind: MarkKind,
    /// The position of its session in `sessions`.
    pub session: Option<u32>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub until: Option<Millis>,
}

/// What the timeline of one user shows for `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserTimeline {
    pub user_id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub from: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub to: Millis,
    /// The time the answer was computed at (live bars end here).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub now: Millis,
    /// Every session alive at some point of the range, by creation (oldest first).
    pub sessions: Vec<TimelineSession>,
    /// Marks within the range, in time order.
    pub marks: Vec<TimelineMark>,
    /// More sessions or marks than this answer holds: the oldest sessions are left out.
    pub truncated: bool,
}

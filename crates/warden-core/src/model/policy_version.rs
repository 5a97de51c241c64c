//! Policy versions: a saved version, what a save did and how it is made, the editor's form and history,
//! and the preview of a change with its simulation against the live data.

use serde::{Deserialize, Serialize};

use crate::model::clock::Millis;
use crate::model::policy::{FieldInfo, Policy, PolicyChange, Violation};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version: i64,
    pub policy: Policy,
    pub created_at: Millis,
    pub created_by: String,
    pub note: String,
}

/// The policies a database has had, oldest first: each in force from its `Millis` until the next one's
/// (the first, the defaults, from the beginning). The rules judge a moment of the past by the policy in
/// force at that moment, never by today's.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyHistory(pub Vec<(Millis, Policy)>);

impl PolicyHistory {
    /// The history of a database that never saved a policy: the defaults, always.
    pub fn defaults() -> PolicyHistory {
        PolicyHistory(vec![(Millis::MIN, Policy::default())])
    }

    /// The longest maximum lifetime, ordinary or privileged, of every policy there has been: no session
    /// has ever been valid for longer.
    pub fn longest_session_life(&self) -> Millis {
        self.0
            .iter()
            .flat_map(|(_, p)| [false, true].map(|privileged| p.session_limits(privileged).max_lifetime.as_millis()))
            .max()
            .unwrap_or(0)
    }
}

/// What a saved change did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyUpdate {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    pub changes: Vec<PolicyChange>,
    /// Live sessions whose expiry was moved earlier to the new caps (0 unless asked for).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    #[serde(default)]
    pub sessions_shortened: u64,
}

/// How a change is saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveOptions {
    /// Also move the expiry of every live session earlier to the new caps, never later: a session's
    /// `expires_at` becomes `min(expires_at, refreshed_at + ttl, created_at + max_lifetime)` of its kind.
    pub shorten_sessions: bool,
    /// The version the new policy was edited from (the editor's form). When another version was saved
    /// since, the save is refused with `policy_conflict` naming the version in force, rather than
    /// silently undoing that change. `None` saves over whatever is in force.
    #[serde(default)]
    pub base_version: Option<i64>,
}

/// One key of the policy in force, with what the editor needs to show and check it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyField {
    #[serde(flatten)]
    pub info: FieldInfo,
    /// The display form of the current value (`7d`, `5`, `true`, `evict_oldest`).
    pub value: String,
    /// On a library's database that Warden adopted: whether this key applies to the application's own
    /// users and sessions there, and how, or only to what goes through Warden's own engine (the
    /// console's staff sign-ins). `None` on Warden's own schema, where every key applies.
    #[serde(default)]
    pub scope: Option<FieldScope>,
}

/// Where a policy key applies on a library's database that Warden adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldScope {
    /// It governs the application's own users or sessions here.
    pub applies: bool,
    /// How it is applied here, or why it is not, in a sentence.
    pub note: String,
}

/// The policy in force as the editor shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyForm {
    /// 0 when no version was ever saved (the defaults).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    pub fields: Vec<PolicyField>,
}

/// One version as the history shows it: who, when, why, and what changed from the version before.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyVersionView {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    pub created_by: String,
    pub note: String,
    /// Against the previous version (the first version: against the defaults).
    pub changes: Vec<PolicyChange>,
}

/// What a proposed change would do to the live sessions, at the time of the preview. "Live" is
/// `store::sessions::live_cond` under the policy in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionSimulation {
    /// Live sessions now.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub live: u64,
    /// Live sessions that are not live under the new policy: idle longer than the new `idle_timeout` or
    /// older than the new `max_lifetime` of their kind. Saving ends them (on their next request), with or
    /// without shortening.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended: u64,
    /// The privileged (support and security admin) sessions among `ended`.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended_privileged: u64,
    /// Live sessions whose expiry "shorten existing sessions" would move earlier:
    /// `expires_at > refreshed_at + ttl` or `expires_at > created_at + max_lifetime` under the new values.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub shortened: u64,
    /// Live sessions that end now when saving *with* shortening: `ended` plus those whose shortened expiry
    /// (`refreshed_at + ttl`) is already past.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended_if_shortened: u64,
}

/// Accounts locked now, and under the new lockout rules as `rules::lockout::lock_under` defines it (the lock
/// each account's most recent lock would be, had the new rules set it). Saving never rewrites a lock in
/// force; the new rules apply from the next lock, so the "newly" figures say how the new rules differ
/// for the accounts concerned, not what the save does to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockoutSimulation {
    /// Accounts locked now (`rules::lockout::current_lock`).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub locked: u64,
    /// Accounts that would be locked now under the new rules.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub locked_under_new: u64,
    /// Locked now, but open under the new rules (their lock would have run out by now).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub newly_unlocked: u64,
    /// Open now, but locked under the new rules (a longer lock, or `permanent_after` reached).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub newly_locked: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Simulation {
    pub sessions: SessionSimulation,
    pub lockout: LockoutSimulation,
}

/// What saving a proposed change would do, checked against the version in force.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyPreview {
    /// The version the change was checked against.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    /// Every broken rule, each naming its field; empty means the change can be saved.
    pub violations: Vec<Violation>,
    /// Against the version in force (only the keys that parsed).
    pub changes: Vec<PolicyChange>,
    /// Only for a valid change (an invalid policy's caps mean nothing).
    pub simulation: Option<Simulation>,
}

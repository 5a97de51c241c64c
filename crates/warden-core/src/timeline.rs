//! One user's sessions on a time axis: the console's timeline.
//!
//! [`user_timeline`] answers in one call what the timeline draws for a time range: every session of the
//! user that was alive at some point of the range — from its creation to the moment it ended (or to now
//! while it lives) and how it ended — and the marks along the way: refreshes, IP changes, elevations and
//! revocations from `session_events`, failed sign-ins from `login_attempts` and locks and unlocks from the
//! audit log. Rows are compact (a mark names its session by position, not by id) and every read is one
//! index range: `sessions_by_user`, `session_events_by_user`, `login_attempts_by_user` and the partial
//! `audit_lock_events`, so a user with thousands of sessions answers in milliseconds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::authz::{Actor, Permission};
use crate::clock::DAY;
use crate::policy::Policy;
use crate::rules::{self, EndReason, SessionStatus, SessionTimes};
use crate::store::Db;
use crate::{with_db, Error, Millis, Result};

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

/// The stored columns the timeline needs of a session.
#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    created_at: Millis,
    last_seen_at: Millis,
    refreshed_at: Millis,
    expires_at: Millis,
    revoked_at: Option<Millis>,
    revoked_by: Option<String>,
    revoke_reason: Option<String>,
    device: String,
    browser: Option<String>,
    os: Option<String>,
    ip: Option<String>,
    country: Option<String>,
    city: Option<String>,
    auth_method: String,
    client: Option<String>,
    privileged: bool,
}

/// A mark on a session's bar, as stored.
#[derive(sqlx::FromRow)]
struct EventRow {
    session_id: Uuid,
    at: Millis,
    kind: String,
    ip: Option<String>,
    detail: Option<String>,
}

/// A lock or unlock of the account, from the audit log.
#[derive(sqlx::FromRow)]
struct LockRow {
    at: Millis,
    action: String,
    actor_label: String,
    reason: Option<String>,
    metadata: String,
}

/// When a session stopped being valid and how, or `(None, Live)` while it is valid at `now`.
///
/// The rules end a session at the first of its maximum lifetime, its idle timeout and its expiry
/// ([`rules::rule_end`], under `policy`, as everywhere else the engine judges a session), and the engine
/// marks it so only when it next sees it. So a revocation (by someone, or that marking) ends the session
/// at `revoked_at` only if it came first; one that came later found it already ended by the rule, which
/// is then its end and its outcome (`revoke_reason` still says what was recorded). Never before its last
/// use.
pub fn session_end(
    times: &SessionTimes,
    privileged: bool,
    revoked_at: Option<Millis>,
    revoke_reason: Option<&str>,
    policy: &Policy,
    now: Millis,
) -> (Option<Millis>, SessionOutcome) {
    let limits = policy.session_limits(privileged);
    let (rule_at, rule) = rules::rule_end(times, &limits);
    let rule_at = rule_at.max(times.last_seen_at);
    let by_rule = match rule {
        EndReason::Absolute => SessionOutcome::Absolute,
        EndReason::Idle => SessionOutcome::Idle,
        _ => SessionOutcome::Expired,
    };
    match revoked_at {
        Some(at) if at <= rule_at => (Some(at), SessionOutcome::from_reason(revoke_reason)),
        Some(_) => (Some(rule_at), by_rule),
        None if rules::status_at(times, &limits, now) == SessionStatus::Active => (None, SessionOutcome::Live),
        None => (Some(rule_at.min(now)), by_rule),
    }
}

fn check_range(from: Millis, to: Millis) -> Result<()> {
    if from < 0 {
        return Err(Error::invalid("from", "must be a time after 1970-01-01"));
    }
    if to <= from {
        return Err(Error::invalid("to", "must be later than from"));
    }
    if to - from > MAX_RANGE {
        return Err(Error::invalid(
            "from",
            "the range must be at most 366 days: move from closer to to",
        ));
    }
    Ok(())
}

/// The timeline of one user for `[from, to]` (unix milliseconds, inclusive), as seen at `now`. Needs
/// ViewSessions (support and security admins). Refuses a range that is empty, reversed or longer than
/// 366 days (`invalid_input` naming the field), and an unknown user (`user_not_found`).
pub async fn user_timeline(
    db: &Db,
    actor: &Actor,
    user_id: Uuid,
    from: Millis,
    to: Millis,
    now: Millis,
) -> Result<UserTimeline> {
    actor.require(Permission::ViewSessions)?;
    check_range(from, to)?;
    let exists: Option<Uuid> = with_db!(db, |p| sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(p)
        .await?);
    if exists.is_none() {
        return Err(Error::UserNotFound(user_id.to_string()));
    }
    let (_, policy) = crate::policy_store::current(db).await?;

    // A session overlaps the range when it began by `to` and ended at `from` or later. It was never
    // valid — nor used — longer than the longest maximum lifetime any policy version allowed, and it ends
    // no later than its revocation or (unrevoked) its expiry: those bounds narrow the read to one range
    // of `sessions_by_user`; the exact end is computed below. Newest first, so that a cut keeps the
    // recent ones.
    let longest = crate::policy_store::longest_session_life(db).await?;
    let rows: Vec<Row> = with_db!(db, |p| sqlx::query_as(
        "SELECT id, created_at, last_seen_at, refreshed_at, expires_at, revoked_at, revoked_by, revoke_reason, \
         device, browser, os, ip, country, city, auth_method, client, privileged \
         FROM sessions WHERE user_id = $1 AND created_at >= $2 AND created_at <= $4 \
         AND COALESCE(revoked_at, expires_at) >= $3 ORDER BY created_at DESC, id DESC LIMIT $5"
    )
    .bind(user_id)
    .bind(from.saturating_sub(longest))
    .bind(from)
    .bind(to)
    .bind(MAX_SESSIONS as i64 + 1)
    .fetch_all(p)
    .await?);
    let mut truncated = rows.len() > MAX_SESSIONS;
    let mut sessions: Vec<TimelineSession> = rows
        .into_iter()
        .take(MAX_SESSIONS)
        .filter_map(|r| {
            let times = SessionTimes {
                created_at: r.created_at,
                refreshed_at: r.refreshed_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                revoked: r.revoked_at.is_some(),
            };
            let (ended_at, outcome) = session_end(
                &times,
                r.privileged,
                r.revoked_at,
                r.revoke_reason.as_deref(),
                &policy,
                now,
            );
            (ended_at.unwrap_or(now) >= from).then(|| TimelineSession {
                id: r.id,
                created_at: r.created_at,
                ended_at,
                outcome,
                revoke_reason: r.revoke_reason,
                revoked_by: r.revoked_by,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                device: r.device,
                browser: r.browser,
                os: r.os,
                ip: r.ip,
                country: r.country,
                city: r.city,
                auth_method: r.auth_method,
                client: r.client,
                privileged: r.privileged,
                is_current: actor.session_id == Some(r.id),
            })
        })
        .collect();
    sessions.reverse();
    let index: HashMap<Uuid, u32> = sessions.iter().enumerate().map(|(i, s)| (s.id, i as u32)).collect();

    let limit = MAX_MARKS as i64 + 1;
    let events: Vec<EventRow> = with_db!(db, |p| sqlx::query_as(
        // A refresh happens where the session already is; only a change says where it went.
        "SELECT session_id, at, kind, CASE WHEN kind = 'ip_changed' THEN ip END AS ip, detail FROM session_events \
         WHERE user_id = $1 AND at >= $2 AND at <= $3 AND kind IN ('refreshed', 'ip_changed', 'elevated', 'revoked') \
         ORDER BY at, id LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    let failures: Vec<(Millis, Option<String>, String)> = with_db!(db, |p| sqlx::query_as(
        "SELECT at, ip, outcome FROM login_attempts \
         WHERE user_id = $1 AND at >= $2 AND at <= $3 AND outcome <> 'success' ORDER BY at, id LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    let locks: Vec<LockRow> = with_db!(db, |p| sqlx::query_as(
        "SELECT at, action, actor_label, reason, metadata FROM audit_events \
         WHERE target_user_id = $1 AND action IN ('user.locked', 'user.unlocked') AND at >= $2 AND at <= $3 \
         ORDER BY at, seq LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    truncated |= events.len() + failures.len() + locks.len() > MAX_MARKS;

    let mut marks: Vec<TimelineMark> = Vec::with_capacity(events.len() + failures.len() + locks.len());
    for EventRow {
        session_id,
        at,
        kind,
        ip,
        detail,
    } in events
    {
        let Some(&i) = index.get(&session_id) else { continue };
        let kind = match kind.as_str() {
            "refreshed" => MarkKind::Refreshed,
            "ip_changed" => MarkKind::IpChanged,
            "elevated" => MarkKind::Elevated,
            _ => MarkKind::Revoked,
        };
        marks.push(TimelineMark {
            at,
            kind,
            session: Some(i),
            ip,
            detail,
            until: None,
        });
    }
    for (at, ip, outcome) in failures {
        marks.push(TimelineMark {
            at,
            kind: MarkKind::SignInFailed,
            session: None,
            ip,
            detail: Some(outcome),
            until: None,
        });
    }
    for LockRow {
        at,
        action,
        actor_label,
        reason,
        metadata,
    } in locks
    {
        let meta: serde_json::Value = serde_json::from_str(&metadata).unwrap_or_default();
        let (kind, detail, until) = if action == "user.locked" {
            let permanent = meta["permanent"].as_bool().unwrap_or(false);
            let until = meta["until"].as_i64();
            let detail = permanent.then(|| "until an administrator unlocks it".to_owned());
            (MarkKind::Locked, detail, until)
        } else {
            let detail = match reason {
                Some(r) => format!("by {actor_label}: {r}"),
                None => format!("by {actor_label}"),
            };
            (MarkKind::Unlocked, Some(detail), None)
        };
        marks.push(TimelineMark {
            at,
            kind,
            session: None,
            ip: None,
            detail,
            until,
        });
    }
    // Each source is in time order; a stable sort keeps their order within one instant.
    marks.sort_by_key(|m| m.at);
    marks.truncate(MAX_MARKS);

    Ok(UserTimeline {
        user_id,
        from,
        to,
        now,
        sessions,
        marks,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{HOUR, MINUTE};

    const T0: Millis = 1_700_000_000_000;

    fn times(last_seen: Millis, expires: Millis, revoked: bool) -> SessionTimes {
        SessionTimes {
            created_at: T0,
            refreshed_at: T0,
            last_seen_at: T0 + last_seen,
            expires_at: T0 + expires,
            revoked,
        }
    }

    #[test]
    fn a_live_session_has_no_end() {
        let p = Policy::default();
        let s = times(HOUR, 7 * DAY, false);
        assert_eq!(
            session_end(&s, false, None, None, &p, T0 + 2 * HOUR),
            (None, SessionOutcome::Live)
        );
    }

    #[test]
    fn someone_ending_a_session_ends_it_when_they_did() {
        let p = Policy::default();
        let s = times(HOUR, 7 * DAY, true);
        let at = T0 + 2 * HOUR;
        for (reason, outcome) in [
            ("user_logout", SessionOutcome::UserLogout),
            ("admin", SessionOutcome::Admin),
            ("bulk", SessionOutcome::Bulk),
            ("emergency", SessionOutcome::Emergency),
            ("evicted", SessionOutcome::Evicted),
            ("something new", SessionOutcome::Other),
        ] {
            assert_eq!(
                session_end(&s, false, Some(at), Some(reason), &p, T0 + DAY),
                (Some(at), outcome),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_session_found_idle_late_ended_when_it_went_idle() {
        let p = Policy::default(); // idle 3 days
        let s = times(HOUR, 7 * DAY, true);
        let found = T0 + 6 * DAY;
        let idle_end = T0 + HOUR + 3 * DAY + 1;
        assert_eq!(
            session_end(&s, false, Some(found), Some("idle"), &p, T0 + 10 * DAY),
            (Some(idle_end), SessionOutcome::Idle)
        );
    }

    #[test]
    fn a_revocation_that_came_after_the_rules_ended_the_session_is_not_its_end() {
        let p = Policy::default(); // idle 3 days
        let s = times(HOUR, 7 * DAY, true);
        // Signed out everywhere two days after it had gone idle.
        assert_eq!(
            session_end(&s, false, Some(T0 + 5 * DAY), Some("admin"), &p, T0 + 6 * DAY),
            (Some(T0 + HOUR + 3 * DAY + 1), SessionOutcome::Idle)
        );
        // Ended while still valid: the revocation is the end.
        assert_eq!(
            session_end(&s, false, Some(T0 + 2 * DAY), Some("admin"), &p, T0 + 6 * DAY),
            (Some(T0 + 2 * DAY), SessionOutcome::Admin)
        );
    }

    #[test]
    fn an_unmarked_dead_session_ended_by_its_first_rule() {
        let p = Policy::default();
        // Expiry (1 day in) comes before the idle timeout (3 days after its last use).
        let s = times(MINUTE, DAY, false);
        assert_eq!(
            session_end(&s, false, None, None, &p, T0 + 5 * DAY),
            (Some(T0 + DAY), SessionOutcome::Expired)
        );
        // Privileged sessions go idle much sooner (the privileged policy).
        let idle = p.session_limits(true).idle_timeout.as_millis();
        let s = times(MINUTE, DAY, false);
        assert_eq!(
            session_end(&s, true, None, None, &p, T0 + 5 * DAY),
            (Some(T0 + MINUTE + idle + 1), SessionOutcome::Idle)
        );
    }

    #[test]
    fn ranges_are_checked_naming_the_field() {
        assert_eq!(check_range(10, 5).unwrap_err().field(), Some("to"));
        assert_eq!(check_range(10, 10).unwrap_err().field(), Some("to"));
        assert_eq!(check_range(-1, 5).unwrap_err().field(), Some("from"));
        assert_eq!(check_range(0, 400 * DAY).unwrap_err().field(), Some("from"));
        assert!(check_range(T0, T0 + MAX_RANGE).is_ok());
    }
}

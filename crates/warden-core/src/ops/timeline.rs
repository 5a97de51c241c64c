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

use uuid::Uuid;

use crate::model::authz::{Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::Policy;
use crate::model::policy_version::PolicyHistory;
pub use crate::model::timeline::{
    MarkKind, SessionOutcome, TimelineMark, TimelineSession, UserTimeline, MAX_MARKS, MAX_RANGE, MAX_SESSIONS,
};
use crate::model::vocab::{EndReason, SessionStatus};
use crate::rules::session::{rule_end_in, status_at, SessionTimes};
use crate::store::{policy_versions, timeline as reads, users, Db};

/// When a session stopped being valid and how, or `(None, Live)` while it is valid at `now`.
///
/// A stored end is a fact, whoever or whatever made it: a revocation ends the session when it was
/// made, and a rule's end that the engine recorded when it found the session over keeps the instant it
/// recorded. A session nobody has marked yet but that `policy` (in force now) no longer accepts ended by
/// the first rule that held, judged at each moment by the policy in force then (`history`), never
/// today's.
pub fn session_end(
    times: &SessionTimes,
    privileged: bool,
    revoked_at: Option<Millis>,
    revoke_reason: Option<&str>,
    policy: &Policy,
    history: &PolicyHistory,
    now: Millis,
) -> (Option<Millis>, SessionOutcome) {
    if let Some(at) = revoked_at {
        return (Some(at), SessionOutcome::from_reason(revoke_reason));
    }
    if status_at(times, &policy.session_limits(privileged), now) == SessionStatus::Active {
        return (None, SessionOutcome::Live);
    }
    let (at, rule) = rule_end_in(times, privileged, history);
    let outcome = match rule {
        EndReason::Absolute => SessionOutcome::Absolute,
        EndReason::Idle => SessionOutcome::Idle,
        _ => SessionOutcome::Expired,
    };
    (Some(at.min(now)), outcome)
}

pub(crate) fn check_range(from: Millis, to: Millis) -> Result<()> {
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
    staff: &Staff,
    user_id: Uuid,
    from: Millis,
    to: Millis,
    now: Millis,
) -> Result<UserTimeline> {
    let actor = staff.actor();
    actor.require(Permission::ViewSessions)?;
    check_range(from, to)?;
    if !users::exists(db, user_id).await? {
        return Err(Error::UserNotFound(user_id.to_string()));
    }
    let (_, policy) = policy_versions::current(db).await?;
    let history = policy_versions::history(db).await?;

    // A session overlaps the range when it began by `to` and ended at `from` or later. It was never
    // valid — nor used — longer than the longest maximum lifetime any policy version allowed, and it ends
    // no later than its revocation or (unrevoked) its expiry: those bounds narrow the read to one range
    // of `sessions_by_user`; the exact end is computed below. Newest first, so that a cut keeps the
    // recent ones.
    let longest = history.longest_session_life();
    let rows = reads::sessions(db, user_id, from, to, longest, MAX_SESSIONS as i64 + 1).await?;
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
                &history,
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
    let events = reads::session_marks(db, user_id, from, to, limit).await?;
    let failures = reads::failures(db, user_id, from, to, limit).await?;
    let locks = reads::locks(db, user_id, from, to, limit).await?;
    truncated |= events.len() + failures.len() + locks.len() > MAX_MARKS;

    let mut marks: Vec<TimelineMark> = Vec::with_capacity(events.len() + failures.len() + locks.len());
    for reads::EventRow {
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
    for reads::LockRow {
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
    use crate::model::clock::{DAY, HOUR, MINUTE};

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
            session_end(&s, false, None, None, &p, &PolicyHistory::defaults(), T0 + 2 * HOUR),
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
                session_end(
                    &s,
                    false,
                    Some(at),
                    Some(reason),
                    &p,
                    &PolicyHistory::defaults(),
                    T0 + DAY
                ),
                (Some(at), outcome),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_stored_end_is_the_end_whatever_the_policy_says_now() {
        // Idle after one hour under this policy, saved after an administrator ended the session.
        let mut p = Policy::default();
        p.set("session.idle_timeout", "1h").unwrap();
        let h = PolicyHistory(vec![(Millis::MIN, Policy::default()), (T0 + 3 * DAY, p.clone())]);
        let s = times(HOUR, 7 * DAY, true);
        assert_eq!(
            session_end(&s, false, Some(T0 + 2 * DAY), Some("admin"), &p, &h, T0 + 6 * DAY),
            (Some(T0 + 2 * DAY), SessionOutcome::Admin),
            "ended by an administrator two days in, not redrawn as idle an hour in"
        );
        // A rule's end the engine recorded keeps its recorded instant.
        let idle_end = T0 + HOUR + 3 * DAY + 1;
        assert_eq!(
            session_end(&s, false, Some(idle_end), Some("idle"), &p, &h, T0 + 6 * DAY),
            (Some(idle_end), SessionOutcome::Idle)
        );
    }

    #[test]
    fn an_unmarked_session_ends_by_the_policy_in_force_at_the_time() {
        let mut p = Policy::default();
        p.set("session.idle_timeout", "1h").unwrap();
        // Last used an hour in; the one-hour idle timeout was saved two days in.
        let h = PolicyHistory(vec![(Millis::MIN, Policy::default()), (T0 + 2 * DAY, p.clone())]);
        let s = times(HOUR, 7 * DAY, false);
        assert_eq!(
            session_end(&s, false, None, None, &p, &h, T0 + 6 * DAY),
            (Some(T0 + 2 * DAY), SessionOutcome::Idle),
            "valid under the policy of its time until the new one came into force"
        );
    }

    #[test]
    fn an_unmarked_dead_session_ended_by_its_first_rule() {
        let p = Policy::default();
        // Expiry (1 day in) comes before the idle timeout (3 days after its last use).
        let s = times(MINUTE, DAY, false);
        assert_eq!(
            session_end(&s, false, None, None, &p, &PolicyHistory::defaults(), T0 + 5 * DAY),
            (Some(T0 + DAY), SessionOutcome::Expired)
        );
        // Privileged sessions go idle much sooner (the privileged policy).
        let idle = p.session_limits(true).idle_timeout.as_millis();
        let s = times(MINUTE, DAY, false);
        assert_eq!(
            session_end(&s, true, None, None, &p, &PolicyHistory::defaults(), T0 + 5 * DAY),
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

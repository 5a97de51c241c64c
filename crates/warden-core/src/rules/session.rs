//! The pure decisions about a session: is it still good, does it need a refresh, when did a rule end
//! it, what does a tightened policy make of its expiry. No I/O and no clock reads: every function takes
//! the stored values, the policy and `now`, and returns the new values for the caller to store.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::policy::{Policy, SessionLimits};
use crate::model::policy_version::PolicyHistory;
use crate::model::session::{SessionRow, SessionView};
use crate::model::vocab::{EndReason, RevokeReason, SessionStatus};

/// The stored times of one session.
///
/// Invariants kept by the rules below: `refreshed_at >= created_at`, and `expires_at` is never
/// later than `created_at + max_lifetime` for the limits in force when it was last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    pub created_at: Millis,
    pub refreshed_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub revoked: bool,
}

/// A new expiry for a session that was used after `refresh_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    pub refreshed_at: Millis,
    pub expires_at: Millis,
}

/// The outcome of checking a session on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    Invalid(EndReason),
    /// `refreshed`: store these times. `touch`: store `last_seen_at = now` (only when true, so a
    /// busy session does not write on every request).
    Valid {
        refreshed: Option<Refresh>,
        touch: bool,
    },
}

/// `last_seen_at` is written at most once per this many milliseconds (unless the session is
/// refreshed, which writes anyway), and more often under a short idle timeout: see
/// [`last_seen_resolution`].
pub const LAST_SEEN_RESOLUTION: Millis = 60_000;

/// How stale the stored `last_seen_at` may be under `limits`: a tenth of the idle timeout, at most
/// [`LAST_SEEN_RESOLUTION`]. The stored value lags the last request by less than this, so a session
/// used at least every nine tenths of its idle timeout never goes idle, however short the timeout.
pub fn last_seen_resolution(limits: &SessionLimits) -> Millis {
    (limits.idle_timeout.as_millis() / 10).min(LAST_SEEN_RESOLUTION)
}

/// The absolute end of a session under `limits`: no refresh goes past it.
fn absolute_end(created_at: Millis, limits: &SessionLimits) -> Millis {
    created_at.saturating_add(limits.max_lifetime.as_millis())
}

/// The expiry of a session created at `created_at`: `ttl` later, capped by `max_lifetime`.
pub fn initial_expiry(created_at: Millis, limits: &SessionLimits) -> Millis {
    created_at
        .saturating_add(limits.ttl.as_millis())
        .min(absolute_end(created_at, limits))
}

/// Why the session has ended at `now`, checked in a fixed order (revoked, absolute, idle,
/// expired) so the reported reason is the most fundamental one.
fn end_reason(s: &SessionTimes, limits: &SessionLimits, now: Millis) -> Option<EndReason> {
    if s.revoked {
        return Some(EndReason::Revoked);
    }
    // The current limits, not those at creation: a tightened policy applies on the next request.
    if now >= absolute_end(s.created_at, limits) {
        return Some(EndReason::Absolute);
    }
    // Exactly `idle_timeout` after the last request is still valid; one millisecond later is not.
    if now.saturating_sub(s.last_seen_at) > limits.idle_timeout.as_millis() {
        return Some(EndReason::Idle);
    }
    if now >= s.expires_at {
        return Some(EndReason::Expired);
    }
    None
}

/// Checks a session on a request at `now` and says what to write back.
///
/// A valid session used strictly later than `refreshed_at + refresh_after` is refreshed: its new
/// expiry is `now + ttl`, capped at `created_at + max_lifetime`.
pub fn validate_session(s: &SessionTimes, limits: &SessionLimits, now: Millis) -> Validation {
    if let Some(reason) = end_reason(s, limits, now) {
        return Validation::Invalid(reason);
    }
    let refreshed = (now > s.refreshed_at.saturating_add(limits.refresh_after.as_millis())).then(|| Refresh {
        refreshed_at: now,
        expires_at: now
            .saturating_add(limits.ttl.as_millis())
            .min(absolute_end(s.created_at, limits)),
    });
    let touch = refreshed.is_some() || now.saturating_sub(s.last_seen_at) >= last_seen_resolution(limits);
    Validation::Valid { refreshed, touch }
}

/// The status to show for a session at `now`; the same checks and order as [`validate_session`].
pub fn status_at(s: &SessionTimes, limits: &SessionLimits, now: Millis) -> SessionStatus {
    match end_reason(s, limits, now) {
        None => SessionStatus::Active,
        Some(EndReason::Revoked) => SessionStatus::Revoked,
        Some(EndReason::Absolute) => SessionStatus::Absolute,
        Some(EndReason::Idle) => SessionStatus::Idle,
        Some(EndReason::Expired) => SessionStatus::Expired,
    }
}

/// The first instant at which the rules end an unrevoked session under `limits`, and the rule: its
/// maximum lifetime, its idle timeout after `last_seen_at`, or its expiry, whichever comes first (on a
/// tie, in the order [`validate_session`] checks them). The session validates at every earlier instant
/// and at none from this one on. A session ended by a rule is marked only when it is next seen, so this,
/// not the time of that marking, is when it really ended — and the rule that ended it, where the marking
/// names the first rule that holds at that later time.
pub fn rule_end(s: &SessionTimes, limits: &SessionLimits) -> (Millis, EndReason) {
    let idle_end = s
        .last_seen_at
        .saturating_add(limits.idle_timeout.as_millis())
        .saturating_add(1);
    [
        (absolute_end(s.created_at, limits), EndReason::Absolute),
        (idle_end, EndReason::Idle),
        (s.expires_at, EndReason::Expired),
    ]
    .into_iter()
    .min_by_key(|(at, _)| *at)
    .expect("three candidates")
}

/// When the rules ended an unrevoked session, judging each instant by the limits in force at that
/// instant (`history`, of its kind): the first instant at which it does not validate under the policy
/// then in force, and the rule. A policy saved while the session lived takes effect from its save on,
/// never earlier: a session that a tightened rule would have ended before the save ended at the save.
/// Never before its last use.
pub fn rule_end_in(s: &SessionTimes, privileged: bool, history: &PolicyHistory) -> (Millis, EndReason) {
    let periods = &history.0;
    let mut found = None;
    for (i, (from, policy)) in periods.iter().enumerate() {
        let until = periods.get(i + 1).map_or(Millis::MAX, |(next, _)| *next);
        if until <= s.created_at {
            continue;
        }
        let limits = policy.session_limits(privileged);
        let (at, rule) = rule_end(s, &limits);
        let start = (*from).max(s.created_at);
        if at < until {
            // Already over when this policy came into force: it ended then, for the first rule that
            // holds at that instant.
            found = Some(if at < start {
                (start, end_reason(s, &limits, start).unwrap_or(rule))
            } else {
                (at, rule)
            });
            break;
        }
    }
    let (at, rule) = found.unwrap_or_else(|| rule_end(s, &Policy::default().session_limits(privileged)));
    (at.max(s.last_seen_at), rule)
}

/// After a policy change: the session's expiry under the new `limits`, if that is strictly
/// earlier than the stored one. Never lengthens a session (a looser policy takes effect at the
/// next refresh instead).
pub fn shortened_expiry(s: &SessionTimes, limits: &SessionLimits) -> Option<Millis> {
    let capped = s
        .expires_at
        .min(s.refreshed_at.saturating_add(limits.ttl.as_millis()))
        .min(absolute_end(s.created_at, limits));
    (capped < s.expires_at).then_some(capped)
}

/// The stored times of a session row.
pub fn times_of(s: &SessionRow) -> SessionTimes {
    SessionTimes {
        created_at: s.created_at,
        refreshed_at: s.refreshed_at,
        last_seen_at: s.last_seen_at,
        expires_at: s.expires_at,
        revoked: s.revoked_at.is_some(),
    }
}

/// A session's status under `policy` at `now`. A stored end is a fact: a session the engine marked
/// ended by a rule keeps that rule's status whatever the policy says today.
pub fn status_of(s: &SessionRow, policy: &Policy, now: Millis) -> SessionStatus {
    match s.revoke_reason.as_deref().and_then(RevokeReason::parse) {
        Some(RevokeReason::Idle) => SessionStatus::Idle,
        Some(RevokeReason::Absolute) => SessionStatus::Absolute,
        Some(RevokeReason::Expired) => SessionStatus::Expired,
        _ => status_at(&times_of(s), &policy.session_limits(s.privileged), now),
    }
}

/// A session as the doors show it: the row, its status at `now`, and whether it is `current`.
pub fn view(s: &SessionRow, policy: &Policy, now: Millis, current: Option<Uuid>) -> SessionView {
    SessionView {
        status: status_of(s, policy, now),
        is_current: current == Some(s.id),
        session: s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::{DAY, HOUR, MINUTE, SECOND};
    use crate::model::policy::{Duration, OnLimit};
    use proptest::prelude::*;

    const T0: Millis = 1_700_000_000_000;

    fn limits() -> SessionLimits {
        // ttl 7d, refresh_after 1d, idle 3d, max_lifetime 30d.
        Policy::default().session_limits(false)
    }

    fn ms(d: Duration) -> Millis {
        d.as_millis()
    }

    fn fresh(l: &SessionLimits) -> SessionTimes {
        SessionTimes {
            created_at: T0,
            refreshed_at: T0,
            last_seen_at: T0,
            expires_at: initial_expiry(T0, l),
            revoked: false,
        }
    }

    fn is_valid(v: Validation) -> bool {
        matches!(v, Validation::Valid { .. })
    }

    // ---- sessions ----

    #[test]
    fn initial_expiry_is_ttl_capped_by_max_lifetime() {
        let l = limits();
        assert_eq!(initial_expiry(T0, &l), T0 + ms(l.ttl));
        let capped = SessionLimits {
            max_lifetime: Duration::from_hours(1),
            ..l
        };
        assert_eq!(initial_expiry(T0, &capped), T0 + HOUR);
    }

    #[test]
    fn fresh_session_is_valid_without_writes() {
        let l = limits();
        assert_eq!(
            validate_session(&fresh(&l), &l, T0),
            Validation::Valid {
                refreshed: None,
                touch: false
            }
        );
    }

    #[test]
    fn revoked_session_is_invalid_before_any_other_check() {
        let l = limits();
        let s = SessionTimes {
            revoked: true,
            ..fresh(&l)
        };
        assert_eq!(validate_session(&s, &l, T0), Validation::Invalid(EndReason::Revoked));
        // Even when also past max_lifetime.
        assert_eq!(
            validate_session(&s, &l, T0 + ms(l.max_lifetime)),
            Validation::Invalid(EndReason::Revoked)
        );
    }

    #[test]
    fn session_ends_absolutely_at_max_lifetime() {
        let l = limits();
        let end = T0 + ms(l.max_lifetime);
        // Recently seen and not expired, but at the absolute end.
        let s = SessionTimes {
            last_seen_at: end - 1,
            refreshed_at: end - 1,
            expires_at: end + HOUR,
            ..fresh(&l)
        };
        assert!(is_valid(validate_session(&s, &l, end - 1)));
        assert_eq!(validate_session(&s, &l, end), Validation::Invalid(EndReason::Absolute));
    }

    #[test]
    fn absolute_check_uses_the_current_policy() {
        let l = limits();
        let s = SessionTimes {
            last_seen_at: T0 + 2 * HOUR,
            ..fresh(&l)
        };
        assert!(is_valid(validate_session(&s, &l, T0 + 2 * HOUR)));
        let tightened = SessionLimits {
            max_lifetime: Duration::from_hours(2),
            ..l
        };
        assert_eq!(
            validate_session(&s, &tightened, T0 + 2 * HOUR),
            Validation::Invalid(EndReason::Absolute)
        );
    }

    #[test]
    fn absolute_is_reported_before_idle_and_idle_before_expired() {
        let l = SessionLimits {
            ttl: Duration::from_hours(1),
            idle_timeout: Duration::from_mins(10),
            ..limits()
        };
        let s = fresh(&l);
        // 2h later: idle and expired; idle wins.
        assert_eq!(
            validate_session(&s, &l, T0 + 2 * HOUR),
            Validation::Invalid(EndReason::Idle)
        );
        let short = SessionLimits {
            max_lifetime: Duration::from_hours(1),
            ..l
        };
        assert_eq!(
            validate_session(&s, &short, T0 + 2 * HOUR),
            Validation::Invalid(EndReason::Absolute)
        );
    }

    #[test]
    fn exactly_idle_timeout_is_still_valid_one_ms_more_is_idle() {
        let l = limits();
        let s = fresh(&l);
        let idle = ms(l.idle_timeout);
        assert!(is_valid(validate_session(&s, &l, T0 + idle)));
        assert_eq!(
            validate_session(&s, &l, T0 + idle + 1),
            Validation::Invalid(EndReason::Idle)
        );
    }

    #[test]
    fn session_expires_at_expires_at() {
        let l = SessionLimits {
            idle_timeout: Duration::from_days(7),
            ..limits()
        };
        let s = SessionTimes {
            expires_at: T0 + HOUR,
            last_seen_at: T0 + HOUR - 1,
            ..fresh(&l)
        };
        assert!(is_valid(validate_session(&s, &l, T0 + HOUR - 1)));
        assert_eq!(
            validate_session(&s, &l, T0 + HOUR),
            Validation::Invalid(EndReason::Expired)
        );
    }

    #[test]
    fn refresh_happens_strictly_after_refresh_after() {
        let l = limits();
        let s = fresh(&l);
        let at = T0 + ms(l.refresh_after);
        assert_eq!(
            validate_session(&s, &l, at),
            Validation::Valid {
                refreshed: None,
                touch: true
            }
        );
        assert_eq!(
            validate_session(&s, &l, at + 1),
            Validation::Valid {
                refreshed: Some(Refresh {
                    refreshed_at: at + 1,
                    expires_at: at + 1 + ms(l.ttl)
                }),
                touch: true
            }
        );
    }

    #[test]
    fn refresh_never_extends_past_max_lifetime() {
        let l = limits();
        let end = T0 + ms(l.max_lifetime);
        let now = end - HOUR;
        let s = SessionTimes {
            refreshed_at: now - ms(l.refresh_after) - 1,
            last_seen_at: now - MINUTE,
            expires_at: now + HOUR,
            ..fresh(&l)
        };
        match validate_session(&s, &l, now) {
            Validation::Valid {
                refreshed: Some(r),
                touch: true,
            } => {
                assert_eq!(r.refreshed_at, now);
                assert_eq!(r.expires_at, end);
            }
            other => panic!("expected a refresh, got {other:?}"),
        }
    }

    #[test]
    fn touch_only_after_last_seen_resolution() {
        let l = limits();
        let s = fresh(&l);
        assert_eq!(
            validate_session(&s, &l, T0 + LAST_SEEN_RESOLUTION - 1),
            Validation::Valid {
                refreshed: None,
                touch: false
            }
        );
        assert_eq!(
            validate_session(&s, &l, T0 + LAST_SEEN_RESOLUTION),
            Validation::Valid {
                refreshed: None,
                touch: true
            }
        );
    }

    /// Requests every `gap` ms against `limits`, writing back what the rules say, for `n` requests:
    /// the first request refused, if any.
    fn first_refusal(l: &SessionLimits, gap: Millis, n: i64) -> Option<(i64, EndReason)> {
        let mut s = fresh(l);
        for k in 1..=n {
            let now = T0 + k * gap;
            match validate_session(&s, l, now) {
                Validation::Invalid(reason) => return Some((k, reason)),
                Validation::Valid { refreshed, touch } => {
                    if let Some(r) = refreshed {
                        s.refreshed_at = r.refreshed_at;
                        s.expires_at = r.expires_at;
                    }
                    if touch {
                        s.last_seen_at = now;
                    }
                }
            }
        }
        None
    }

    #[test]
    fn a_session_used_within_its_idle_timeout_never_goes_idle_however_short_the_timeout() {
        for idle in [10 * SECOND, 90 * SECOND, 5 * MINUTE, HOUR, 3 * DAY] {
            let l = SessionLimits {
                ttl: Duration::from_secs(400 * 86_400),
                refresh_after: Duration::from_secs(400 * 86_400),
                idle_timeout: Duration::from_secs(idle as u64 / 1000),
                max_lifetime: Duration::from_secs(400 * 86_400),
                ..limits()
            };
            // Used every nine tenths of the timeout: always valid.
            assert_eq!(first_refusal(&l, idle * 9 / 10, 100), None, "idle {idle} ms");
            // Once a gap is longer than the timeout, the session is idle.
            assert_eq!(
                first_refusal(&l, idle + SECOND, 2),
                Some((1, EndReason::Idle)),
                "idle {idle} ms"
            );
        }
        // The reported cases: 90 s with a request every 50 s, 10 s with one every 4 s.
        let with_idle = |secs| SessionLimits {
            idle_timeout: Duration::from_secs(secs),
            ..limits()
        };
        assert_eq!(first_refusal(&with_idle(90), 50 * SECOND, 100), None);
        assert_eq!(first_refusal(&with_idle(10), 4 * SECOND, 100), None);
        // A long timeout keeps the coarse write: once a minute at most.
        assert_eq!(last_seen_resolution(&limits()), LAST_SEEN_RESOLUTION);
    }

    /// A history of the defaults, then `policy` from `at` on.
    fn history_with(at: Millis, kv: &[(&str, &str)]) -> PolicyHistory {
        let mut p = Policy::default();
        for (k, v) in kv {
            p.set(k, v).unwrap_or_else(|e| panic!("{k}={v}: {e:?}"));
        }
        PolicyHistory(vec![(Millis::MIN, Policy::default()), (at, p)])
    }

    #[test]
    fn a_rule_ends_a_session_by_the_policy_in_force_at_the_time() {
        let l = limits();
        let s = SessionTimes {
            last_seen_at: T0 + HOUR,
            ..fresh(&l)
        };
        // Under the defaults it went idle 3 days after its last use.
        let idle_end = T0 + HOUR + 3 * DAY + 1;
        assert_eq!(
            rule_end_in(&s, false, &PolicyHistory::defaults()),
            (idle_end, EndReason::Idle)
        );
        // A policy saved after that changes nothing about it.
        let later = history_with(T0 + 5 * DAY, &[("session.idle_timeout", "1h")]);
        assert_eq!(rule_end_in(&s, false, &later), (idle_end, EndReason::Idle));
        // A tightened idle timeout saved while it lived ends it at the save, not hours before.
        let tightened = history_with(T0 + DAY, &[("session.idle_timeout", "1h")]);
        assert_eq!(rule_end_in(&s, false, &tightened), (T0 + DAY, EndReason::Idle));
        // One saved before the save's rule would end it ends it by the new rule.
        let early = history_with(T0 + 30 * MINUTE, &[("session.idle_timeout", "2h")]);
        assert_eq!(rule_end_in(&s, false, &early), (T0 + 3 * HOUR + 1, EndReason::Idle));
        // A loosened policy saved after it ended does not revive it.
        let loosened = history_with(T0 + 4 * DAY, &[("session.idle_timeout", "10d")]);
        assert_eq!(rule_end_in(&s, false, &loosened), (idle_end, EndReason::Idle));
        // A session begun after a save lives by the saved policy alone.
        let before = history_with(T0 - DAY, &[("session.idle_timeout", "1h")]);
        assert_eq!(rule_end_in(&s, false, &before), (T0 + 2 * HOUR + 1, EndReason::Idle));
        // Privileged sessions read the privileged section of each version.
        let p = Policy::default().session_limits(true);
        let s = fresh(&p);
        assert_eq!(
            rule_end_in(&s, true, &PolicyHistory::defaults()),
            (T0 + p.idle_timeout.as_millis() + 1, EndReason::Idle)
        );
    }

    #[test]
    fn a_stored_rule_end_keeps_its_status_under_any_later_policy() {
        let l = limits();
        let t = fresh(&l);
        let row = |reason: Option<&str>| SessionRow {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            created_at: T0,
            last_seen_at: T0,
            refreshed_at: T0,
            expires_at: t.expires_at,
            authenticated_at: T0,
            ip: None,
            user_agent: None,
            device: "desktop".into(),
            browser: None,
            browser_version: None,
            os: None,
            country: None,
            city: None,
            auth_method: "password".into(),
            client: None,
            privileged: false,
            elevated_until: None,
            revoked_at: reason.map(|_| T0 + DAY),
            revoked_by: None,
            revoke_reason: reason.map(str::to_owned),
        };
        let p = Policy::default();
        assert_eq!(status_of(&row(Some("idle")), &p, T0 + 2 * DAY), SessionStatus::Idle);
        assert_eq!(
            status_of(&row(Some("absolute")), &p, T0 + 2 * DAY),
            SessionStatus::Absolute
        );
        assert_eq!(
            status_of(&row(Some("expired")), &p, T0 + 2 * DAY),
            SessionStatus::Expired
        );
        assert_eq!(status_of(&row(Some("admin")), &p, T0 + 2 * DAY), SessionStatus::Revoked);
        assert_eq!(status_of(&row(None), &p, T0 + HOUR), SessionStatus::Active);
    }

    #[test]
    fn refresh_always_touches() {
        let l = SessionLimits {
            refresh_after: Duration::from_secs(1),
            ..limits()
        };
        let s = fresh(&l);
        // Within the last-seen resolution but past refresh_after.
        assert_eq!(
            validate_session(&s, &l, T0 + 2 * SECOND),
            Validation::Valid {
                refreshed: Some(Refresh {
                    refreshed_at: T0 + 2 * SECOND,
                    expires_at: T0 + 2 * SECOND + ms(l.ttl)
                }),
                touch: true
            }
        );
    }

    #[test]
    fn status_follows_the_same_checks() {
        let l = limits();
        let s = fresh(&l);
        assert_eq!(status_at(&s, &l, T0), SessionStatus::Active);
        assert_eq!(status_at(&s, &l, T0 + ms(l.idle_timeout) + 1), SessionStatus::Idle);
        assert_eq!(status_at(&s, &l, T0 + ms(l.max_lifetime)), SessionStatus::Absolute);
        let seen = SessionTimes {
            last_seen_at: s.expires_at,
            ..s
        };
        assert_eq!(status_at(&seen, &l, s.expires_at), SessionStatus::Expired);
        assert_eq!(
            status_at(&SessionTimes { revoked: true, ..s }, &l, T0),
            SessionStatus::Revoked
        );
    }

    #[test]
    fn end_reason_and_status_serialize_snake_case() {
        assert_eq!(
            serde_json::to_value(EndReason::Absolute).expect("ser"),
            serde_json::json!("absolute")
        );
        assert_eq!(
            serde_json::to_value(SessionStatus::Active).expect("ser"),
            serde_json::json!("active")
        );
        for r in [
            EndReason::Revoked,
            EndReason::Idle,
            EndReason::Absolute,
            EndReason::Expired,
        ] {
            assert_eq!(serde_json::to_value(r).expect("ser"), serde_json::json!(r.as_str()));
        }
    }

    #[test]
    fn shortened_expiry_applies_tighter_ttl_and_max_lifetime() {
        let l = limits();
        let s = fresh(&l); // expires at T0 + 7d
        let shorter_ttl = SessionLimits {
            ttl: Duration::from_hours(8),
            ..l
        };
        assert_eq!(shortened_expiry(&s, &shorter_ttl), Some(T0 + 8 * HOUR));
        let shorter_life = SessionLimits {
            max_lifetime: Duration::from_hours(2),
            ..l
        };
        assert_eq!(shortened_expiry(&s, &shorter_life), Some(T0 + 2 * HOUR));
    }

    #[test]
    fn shortened_expiry_never_lengthens() {
        let l = limits();
        let s = fresh(&l);
        assert_eq!(shortened_expiry(&s, &l), None);
        let looser = SessionLimits {
            ttl: Duration::from_days(14),
            max_lifetime: Duration::from_days(60),
            ..l
        };
        assert_eq!(shortened_expiry(&s, &looser), None);
    }

    #[test]
    fn privileged_limits_are_used_the_same_way() {
        let l = Policy::default().session_limits(true);
        assert_eq!(l.on_limit, OnLimit::EvictOldest);
        let s = fresh(&l);
        assert_eq!(s.expires_at, T0 + 8 * HOUR);
        assert_eq!(
            validate_session(&s, &l, T0 + 30 * MINUTE + 1),
            Validation::Invalid(EndReason::Idle)
        );
    }

    // ---- properties ----

    fn arb_limits() -> impl Strategy<Value = SessionLimits> {
        (1u64..=48 * 3600, 0u64..=100, 1u64..=100, 1u64..=400).prop_map(|(ttl, refresh_pct, idle_pct, life_pct)| {
            SessionLimits {
                ttl: Duration::from_secs(ttl),
                refresh_after: Duration::from_secs(ttl * refresh_pct / 100),
                idle_timeout: Duration::from_secs((ttl * idle_pct / 100).max(1)),
                max_lifetime: Duration::from_secs((ttl * life_pct / 100).max(1)),
                max_concurrent: 10,
                on_limit: OnLimit::EvictOldest,
            }
        })
    }

    proptest! {
        #[test]
        fn session_is_never_valid_past_max_lifetime(
            limits in arb_limits(),
            steps in prop::collection::vec(0u32..=2000, 1..60),
            revoke_at in prop::option::of(0usize..60),
        ) {
            let ttl = limits.ttl.as_millis();
            let end = T0 + limits.max_lifetime.as_millis();
            let mut s = SessionTimes {
                created_at: T0, refreshed_at: T0, last_seen_at: T0,
                expires_at: initial_expiry(T0, &limits), revoked: false,
            };
            let mut now = T0;
            for (i, per_mille) in steps.iter().enumerate() {
                // Advance by 0..=2*ttl.
                now += 2 * ttl * Millis::from(*per_mille) / 2000;
                if revoke_at == Some(i) {
                    s.revoked = true;
                }
                let v = validate_session(&s, &limits, now);
                if now >= end {
                    prop_assert!(!matches!(v, Validation::Valid { .. }), "valid at {now} >= {end}");
                }
                if s.revoked {
                    prop_assert_eq!(v, Validation::Invalid(EndReason::Revoked));
                }
                prop_assert_eq!(status_at(&s, &limits, now) == SessionStatus::Active, matches!(v, Validation::Valid { .. }));
                if let Validation::Valid { refreshed, touch } = v {
                    if let Some(r) = refreshed {
                        prop_assert!(r.expires_at <= end);
                        prop_assert!(r.expires_at > now);
                        s.refreshed_at = r.refreshed_at;
                        s.expires_at = r.expires_at;
                    }
                    if touch {
                        s.last_seen_at = now;
                    }
                }
                prop_assert!(s.expires_at <= end);
            }
        }

        #[test]
        fn rule_end_is_the_first_instant_the_session_does_not_validate(
            limits in arb_limits(),
            seen_after in 0i64..=200 * 3_600_000,
            expires_after in 0i64..=200 * 3_600_000,
            probe in -10i64..=10,
        ) {
            let s = SessionTimes {
                created_at: T0,
                refreshed_at: T0,
                last_seen_at: T0 + seen_after,
                expires_at: T0 + expires_after,
                revoked: false,
            };
            let (end, reason) = rule_end(&s, &limits);
            let at = end + probe;
            if at >= end {
                prop_assert_eq!(validate_session(&s, &limits, end), Validation::Invalid(reason), "the rule named ends it");
            }
            let valid = matches!(validate_session(&s, &limits, at), Validation::Valid { .. });
            prop_assert_eq!(valid, at < end, "at {} with the end at {}", at, end);
        }
    }
}

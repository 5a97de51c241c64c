//! The pure decisions of the engine: is this session still good, does it need a refresh, does this
//! failed sign-in lock the account and for how long. No I/O and no clock reads: every function
//! takes the stored values, the policy and `now`, and returns the new values for the caller to
//! store. That keeps the security-relevant logic in one place, exact to the millisecond, and
//! testable without a database.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::policy::{LockoutPolicy, SessionLimits};

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

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

/// `last_seen_at` is written at most once per this many milliseconds (unless the session is
/// refreshed, which writes anyway).
pub const LAST_SEEN_RESOLUTION: Millis = 60_000;

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
    let touch = refreshed.is_some() || now.saturating_sub(s.last_seen_at) >= LAST_SEEN_RESOLUTION;
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

// ---------------------------------------------------------------------------------------------
// Lockout
// ---------------------------------------------------------------------------------------------

/// The stored lockout state of one account.
///
/// `failed_count`/`window_started_at` count failures in the current window; `lock_count` and
/// `last_locked_at` remember earlier locks so that repeated locks back off, until `reset_after`
/// passes without a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockoutState {
    pub failed_count: u32,
    pub window_started_at: Option<Millis>,
    pub locked_until: Option<Millis>,
    pub locked_permanently: bool,
    pub lock_count: u32,
    pub last_locked_at: Option<Millis>,
}

/// An account lock in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Locked until this time (exclusive: at this millisecond the account is open again).
    Until(Millis),
    /// Locked until an admin unlocks it.
    Permanent,
}

impl Lock {
    /// The `until` of [`crate::Error::Locked`]: the end time, or `None` for a permanent lock.
    pub fn until(self) -> Option<Millis> {
        match self {
            Lock::Until(t) => Some(t),
            Lock::Permanent => None,
        }
    }
}

/// The lock in force at `now`, if any.
pub fn current_lock(s: &LockoutState, now: Millis) -> Option<Lock> {
    if s.locked_permanently {
        return Some(Lock::Permanent);
    }
    match s.locked_until {
        Some(until) if until > now => Some(Lock::Until(until)),
        _ => None,
    }
}

/// The state after a failed sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureOutcome {
    pub state: LockoutState,
    /// `Some` only when this failure caused a new lock.
    pub locked: Option<Lock>,
}

/// Length in ms of the `lock_count`-th lock in a row: `duration * backoff^(lock_count - 1)`,
/// capped at `max_duration`. Computed in f64 so no power overflows; the result is in
/// `0..=max_duration` whatever the policy (a non-finite product, e.g. from an invalid backoff,
/// takes the cap, erring on the side of locking).
fn lock_length(p: &LockoutPolicy, lock_count: u32) -> Millis {
    let max_ms = p.max_duration.as_millis();
    let exponent = f64::from(lock_count.saturating_sub(1));
    let length = p.duration.as_millis() as f64 * p.backoff.powf(exponent);
    if !length.is_finite() {
        return max_ms;
    }
    // `as` saturates for out-of-range floats; the integer min then makes the cap exact.
    (length.max(0.0).round() as Millis).min(max_ms)
}

/// Counts a failed sign-in at `now` and locks the account when the failures in the window reach
/// `threshold`. A failure while already locked is not counted (state unchanged, `locked: None`),
/// so hammering a locked account cannot extend or escalate the lock.
pub fn register_failure(s: &LockoutState, p: &LockoutPolicy, now: Millis) -> FailureOutcome {
    if current_lock(s, now).is_some() {
        return FailureOutcome {
            state: *s,
            locked: None,
        };
    }
    let mut next = *s;
    match s.window_started_at {
        Some(started) if now.saturating_sub(started) <= p.window.as_millis() => {
            next.failed_count = s.failed_count.saturating_add(1);
        }
        _ => {
            next.failed_count = 1;
            next.window_started_at = Some(now);
        }
    }
    if next.failed_count < p.threshold {
        return FailureOutcome {
            state: next,
            locked: None,
        };
    }

    // This failure locks. Earlier locks are forgotten once `reset_after` has passed since the last.
    if s.last_locked_at
        .is_some_and(|last| now.saturating_sub(last) > p.reset_after.as_millis())
    {
        next.lock_count = 0;
    }
    next.lock_count = next.lock_count.saturating_add(1);
    next.last_locked_at = Some(now);
    next.failed_count = 0;
    next.window_started_at = None;

    let lock = if p.permanent_after > 0 && next.lock_count >= p.permanent_after {
        next.locked_permanently = true;
        next.locked_until = None;
        Lock::Permanent
    } else {
        let until = now.saturating_add(lock_length(p, next.lock_count));
        next.locked_until = Some(until);
        Lock::Until(until)
    };
    FailureOutcome {
        state: next,
        locked: Some(lock),
    }
}

/// The lock that would be in force at `now` had `p` set the account's most recent lock: what the
/// policy preview counts as "locked under the new rules". Saving a policy does not rewrite locks in
/// force (each keeps the end it was given); this says what the new rules would have decided.
///
/// - An account locked until an admin unlocks it stays so (`Permanent`).
/// - An account with no lock since its last unlock (`lock_count == 0`) is open.
/// - A lock with no recorded start (`last_locked_at` missing) keeps the lock it has.
/// - Otherwise the most recent lock was the `lock_count`-th in a row, set at `last_locked_at`: it is
///   permanent if `p.permanent_after` is reached, else it ends at
///   `last_locked_at + duration · backoff^(lock_count − 1)`, capped at `max_duration`.
///
/// Under the policy that set the lock this equals [`current_lock`].
pub fn lock_under(s: &LockoutState, p: &LockoutPolicy, now: Millis) -> Option<Lock> {
    if s.locked_permanently {
        return Some(Lock::Permanent);
    }
    if s.lock_count == 0 {
        return None;
    }
    let Some(at) = s.last_locked_at else {
        return current_lock(s, now);
    };
    if p.permanent_after > 0 && s.lock_count >= p.permanent_after {
        return Some(Lock::Permanent);
    }
    let until = at.saturating_add(lock_length(p, s.lock_count));
    (until > now).then_some(Lock::Until(until))
}

/// The state after a successful sign-in: the failure count starts over, but `lock_count` and
/// `last_locked_at` are kept so an attacker who guesses between locks still meets the backoff.
/// Lock fields are left as they are (the caller only gets here when no lock is in force).
pub fn register_success(s: &LockoutState) -> LockoutState {
    LockoutState {
        failed_count: 0,
        window_started_at: None,
        ..*s
    }
}

/// An admin unlock: clears the lock (timed or permanent), the failures and the backoff memory.
/// `last_locked_at` is kept as history; with `lock_count` at 0 it has no effect on the next lock.
pub fn unlock(s: &LockoutState) -> LockoutState {
    LockoutState {
        failed_count: 0,
        window_started_at: None,
        locked_until: None,
        locked_permanently: false,
        lock_count: 0,
        last_locked_at: s.last_locked_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{HOUR, MINUTE, SECOND};
    use crate::policy::{Duration, OnLimit, Policy};
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

    // ---- lockout ----

    fn lockout() -> LockoutPolicy {
        // threshold 5, window 15m, duration 15m, backoff 2.0, reset_after 1d, max 24h, never permanent.
        Policy::default().lockout
    }

    /// Fails `n` times, one second apart from `start`; returns the state and the last outcome.
    fn fail_times(s: LockoutState, p: &LockoutPolicy, start: Millis, n: u32) -> (LockoutState, Option<Lock>, Millis) {
        let mut state = s;
        let mut locked = None;
        let mut now = start;
        for i in 0..n {
            now = start + Millis::from(i) * SECOND;
            let out = register_failure(&state, p, now);
            state = out.state;
            locked = out.locked;
        }
        (state, locked, now)
    }

    #[test]
    fn failures_below_threshold_do_not_lock() {
        let p = lockout();
        let (s, locked, now) = fail_times(LockoutState::default(), &p, T0, p.threshold - 1);
        assert_eq!(locked, None);
        assert_eq!(s.failed_count, p.threshold - 1);
        assert_eq!(s.window_started_at, Some(T0));
        assert_eq!(current_lock(&s, now), None);
    }

    #[test]
    fn reaching_threshold_locks_for_duration() {
        let p = lockout();
        let (s, locked, now) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        let until = now + 15 * MINUTE;
        assert_eq!(locked, Some(Lock::Until(until)));
        assert_eq!(s.locked_until, Some(until));
        assert_eq!(s.failed_count, 0);
        assert_eq!(s.window_started_at, None);
        assert_eq!(s.lock_count, 1);
        assert_eq!(s.last_locked_at, Some(now));
        assert_eq!(current_lock(&s, until - 1), Some(Lock::Until(until)));
        assert_eq!(current_lock(&s, until), None);
    }

    #[test]
    fn window_expiry_restarts_the_count() {
        let p = lockout();
        let (s, _, _) = fail_times(LockoutState::default(), &p, T0, p.threshold - 1);
        // Exactly `window` after the window start still counts in the same window…
        let same = register_failure(&s, &p, T0 + ms(p.window));
        assert!(same.locked.is_some());
        // …one ms later starts a new window.
        let later = T0 + ms(p.window) + 1;
        let out = register_failure(&s, &p, later);
        assert_eq!(out.locked, None);
        assert_eq!(out.state.failed_count, 1);
        assert_eq!(out.state.window_started_at, Some(later));
    }

    #[test]
    fn failure_while_locked_is_not_counted() {
        let p = lockout();
        let (s, _, now) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        let out = register_failure(&s, &p, now + MINUTE);
        assert_eq!(out, FailureOutcome { state: s, locked: None });
    }

    #[test]
    fn backoff_doubles_then_caps_at_max_duration() {
        // A long reset_after, so the 24h locks in a row are not forgotten between them.
        let p = LockoutPolicy {
            reset_after: Duration::from_days(7),
            ..lockout()
        };
        let mut s = LockoutState::default();
        let mut now = T0;
        let mut lengths = Vec::new();
        for _ in 0..9 {
            let (next, locked, at) = fail_times(s, &p, now, p.threshold);
            let until = locked.and_then(Lock::until).expect("locks");
            lengths.push((until - at) / MINUTE);
            s = next;
            now = until; // retry as soon as the lock ends (well within reset_after)
        }
        assert_eq!(lengths, vec![15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
        assert_eq!(s.lock_count, 9);
    }

    #[test]
    fn reset_after_forgets_earlier_locks() {
        let p = lockout();
        let (s, _, first_lock) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        let (s, _, second_lock) = fail_times(s, &p, first_lock + HOUR, p.threshold);
        assert_eq!(s.lock_count, 2);
        assert_eq!(s.locked_until, Some(second_lock + 30 * MINUTE));
        // Exactly reset_after since the last lock: still remembered.
        let at_reset = second_lock + ms(p.reset_after) - Millis::from(p.threshold - 1) * SECOND;
        let (kept, _, kept_at) = fail_times(s, &p, at_reset, p.threshold);
        assert_eq!(kept_at - second_lock, ms(p.reset_after));
        assert_eq!(kept.lock_count, 3);
        // One ms later: forgotten, back to the first duration.
        let (forgot, locked, at) = fail_times(s, &p, at_reset + 1, p.threshold);
        assert_eq!(forgot.lock_count, 1);
        assert_eq!(locked, Some(Lock::Until(at + 15 * MINUTE)));
    }

    #[test]
    fn permanent_after_locks_until_unlocked() {
        let p = LockoutPolicy {
            permanent_after: 2,
            ..lockout()
        };
        let (s, first, now) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        assert!(matches!(first, Some(Lock::Until(_))));
        let (s, second, now) = fail_times(s, &p, now + HOUR, p.threshold);
        assert_eq!(second, Some(Lock::Permanent));
        assert!(s.locked_permanently);
        assert_eq!(s.locked_until, None);
        assert_eq!(current_lock(&s, now + 365 * 24 * HOUR), Some(Lock::Permanent));
        assert_eq!(Lock::Permanent.until(), None);
    }

    #[test]
    fn permanent_after_zero_never_locks_permanently() {
        let p = lockout();
        let mut s = LockoutState::default();
        let mut now = T0;
        for _ in 0..20 {
            let (next, locked, _) = fail_times(s, &p, now, p.threshold);
            assert!(matches!(locked, Some(Lock::Until(_))));
            s = next;
            now = s.locked_until.expect("timed lock");
        }
        assert!(!s.locked_permanently);
    }

    #[test]
    fn success_clears_failures_but_keeps_lock_memory() {
        let p = lockout();
        let (locked_once, _, lock_at) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        let (s, _, _) = fail_times(locked_once, &p, lock_at + HOUR, 2);
        let after = register_success(&s);
        assert_eq!(after.failed_count, 0);
        assert_eq!(after.window_started_at, None);
        assert_eq!(after.lock_count, 1);
        assert_eq!(after.last_locked_at, Some(lock_at));
        // The next lock still backs off.
        let (_, locked, at) = fail_times(after, &p, lock_at + 2 * HOUR, p.threshold);
        assert_eq!(locked, Some(Lock::Until(at + 30 * MINUTE)));
    }

    #[test]
    fn unlock_clears_lock_failures_and_backoff() {
        let p = LockoutPolicy {
            permanent_after: 1,
            ..lockout()
        };
        let (s, locked, now) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        assert_eq!(locked, Some(Lock::Permanent));
        let open = unlock(&s);
        assert_eq!(current_lock(&open, now), None);
        assert_eq!(
            open,
            LockoutState {
                failed_count: 0,
                window_started_at: None,
                locked_until: None,
                locked_permanently: false,
                lock_count: 0,
                last_locked_at: Some(now),
            }
        );
        // A timed lock is cleared too, and the next lock starts from the first duration.
        let p = lockout();
        let (s, _, now) = fail_times(LockoutState::default(), &p, T0, p.threshold);
        let open = unlock(&s);
        assert_eq!(current_lock(&open, now + 1), None);
        let (_, locked, at) = fail_times(open, &p, now + 1, p.threshold);
        assert_eq!(locked, Some(Lock::Until(at + 15 * MINUTE)));
    }

    #[test]
    fn expired_lock_is_not_current() {
        let s = LockoutState {
            locked_until: Some(T0),
            ..LockoutState::default()
        };
        assert_eq!(current_lock(&s, T0 - 1), Some(Lock::Until(T0)));
        assert_eq!(current_lock(&s, T0), None);
    }

    #[test]
    fn lock_length_survives_extreme_policies() {
        let p = LockoutPolicy {
            backoff: 10.0,
            ..lockout()
        };
        assert_eq!(lock_length(&p, u32::MAX), ms(p.max_duration));
        let nan = LockoutPolicy {
            backoff: f64::NAN,
            ..lockout()
        };
        assert_eq!(lock_length(&nan, 3), ms(nan.max_duration));
        let over = LockoutPolicy {
            duration: Duration::from_days(2),
            ..lockout()
        };
        assert_eq!(lock_length(&over, 1), ms(over.max_duration));
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

        #[test]
        fn lock_never_exceeds_max_duration(
            threshold in 1u32..=6,
            duration_s in 1u64..=7200,
            max_s in 1u64..=86_400,
            backoff in 1.0f64..=10.0,
            permanent_after in 0u32..=5,
            steps in prop::collection::vec((0i64..=7_200_000, 0u8..10), 1..200),
        ) {
            let p = LockoutPolicy {
                threshold,
                window: Duration::from_mins(15),
                duration: Duration::from_secs(duration_s),
                backoff,
                reset_after: Duration::from_hours(6),
                max_duration: Duration::from_secs(max_s),
                permanent_after,
            };
            let max_ms = p.max_duration.as_millis();
            let mut s = LockoutState::default();
            let mut now = T0;
            for (advance, action) in steps {
                now += advance;
                match action {
                    0 => s = register_success(&s),
                    1 => s = unlock(&s),
                    _ => {
                        let before = s;
                        let out = register_failure(&s, &p, now);
                        if current_lock(&before, now).is_some() {
                            prop_assert_eq!(out.state, before);
                            prop_assert_eq!(out.locked, None);
                        }
                        if let Some(Lock::Until(until)) = out.locked {
                            prop_assert!(until - now <= max_ms);
                            prop_assert!(until > now);
                        }
                        s = out.state;
                    }
                }
                if let Some(until) = s.locked_until {
                    prop_assert!(until - s.last_locked_at.unwrap_or(T0) <= max_ms);
                }
                if let Some(Lock::Until(until)) = current_lock(&s, now) {
                    prop_assert!(until - now <= max_ms);
                }
            }
        }
    }

    #[test]
    fn lock_under_the_policy_that_set_it_is_the_current_lock() {
        let p = Policy::default().lockout;
        let mut s = LockoutState::default();
        for i in 0..p.threshold {
            s = register_failure(&s, &p, T0 + Millis::from(i) * SECOND).state;
        }
        let at = T0 + Millis::from(p.threshold) * SECOND;
        assert_eq!(lock_under(&s, &p, at), current_lock(&s, at));
        assert!(lock_under(&s, &p, at).is_some());
        let longer = LockoutPolicy {
            duration: Duration::from_hours(1),
            ..p.clone()
        };
        let after_old_end = at + 20 * MINUTE;
        assert_eq!(current_lock(&s, after_old_end), None, "the 15m lock has run out");
        assert!(
            matches!(lock_under(&s, &longer, after_old_end), Some(Lock::Until(_))),
            "a 1h first lock would still hold"
        );
        let permanent = LockoutPolicy {
            permanent_after: 1,
            ..p.clone()
        };
        assert_eq!(lock_under(&s, &permanent, after_old_end), Some(Lock::Permanent));
        assert_eq!(
            lock_under(&unlock(&s), &longer, after_old_end),
            None,
            "an unlock is final"
        );
    }
}

//! The pure decisions about an account's lockout: does this failed sign-in lock it and for how long,
//! what a success or an unlock leaves, which lock a policy would have set. No I/O and no clock reads.

use crate::model::clock::Millis;
use crate::model::policy::LockoutPolicy;
use crate::model::user::{UserRow, UserView};

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
    /// The `until` of [`crate::model::error::Error::Locked`]: the end time, or `None` for a permanent lock.
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

impl LockoutState {
    /// The state as the `users` columns store it (counts as `BIGINT`).
    pub fn from_columns(
        failed_count: i64,
        window_started_at: Option<Millis>,
        locked_until: Option<Millis>,
        locked_permanently: bool,
        lock_count: i64,
        last_locked_at: Option<Millis>,
    ) -> LockoutState {
        LockoutState {
            failed_count: u32::try_from(failed_count).unwrap_or(u32::MAX),
            window_started_at,
            locked_until,
            locked_permanently,
            lock_count: u32::try_from(lock_count).unwrap_or(u32::MAX),
            last_locked_at,
        }
    }
}

/// The stored lockout state of a user row.
pub fn state_of(u: &UserRow) -> LockoutState {
    LockoutState::from_columns(
        u.failed_count,
        u.window_started_at,
        u.locked_until,
        u.locked_permanently,
        u.lock_count,
        u.last_locked_at,
    )
}

/// What the doors may show of a user, with the lock in force at `now`.
pub fn user_view(u: &UserRow, now: Millis) -> UserView {
    let lock = current_lock(&state_of(u), now);
    UserView {
        id: u.id,
        email: u.email.clone(),
        name: u.name.clone(),
        role: u.role(),
        email_verified: u.email_verified_at.is_some(),
        totp_enabled: u.totp_enabled_at.is_some(),
        disabled: u.disabled_at.is_some(),
        created_at: u.created_at,
        last_active_at: u.last_active_at.filter(|t| *t > 0),
        locked: lock.is_some(),
        locked_until: match lock {
            Some(Lock::Until(t)) => Some(t),
            _ => None,
        },
        locked_permanently: u.locked_permanently,
        failed_count: u.failed_count,
        lock_count: u.lock_count,
        last_failed_at: u.last_failed_at,
        last_failed_ip: u.last_failed_ip.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::{HOUR, MINUTE, SECOND};
    use crate::model::policy::{Duration, Policy};
    use proptest::prelude::*;

    const T0: Millis = 1_700_000_000_000;

    fn ms(d: Duration) -> Millis {
        d.as_millis()
    }

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

    proptest! {
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

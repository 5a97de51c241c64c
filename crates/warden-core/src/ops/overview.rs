//! The console's first screen: the state of the application's sign-ins at a glance.
//!
//! [`overview`] gathers, as of `now`: how many sessions are active, and where from and on what devices;
//! sign-ins and failures per hour over the last seven days; the accounts locked now; and the latest
//! actions of administrators from the audit log. Each part is one query on an index.

use crate::model::authz::{Permission, Staff};
use crate::model::clock::{Millis, HOUR};
use crate::model::error::Result;
pub use crate::model::overview::{HourCount, LockedAccount, Overview, Share, ADMIN_ACTIONS, HOURS, TOP};
use crate::store::{flags, overview as reads, policy_versions, Db};

/// The start of the hour holding `at`.
pub fn hour_of(at: Millis) -> Millis {
    at - at.rem_euclid(HOUR)
}

/// Every hour of the chart ending with the one holding `now`, the counts placed in theirs.
pub fn fill_hours(now: Millis, counts: &[(Millis, i64, i64)]) -> Vec<HourCount> {
    let first = hour_of(now) - (HOURS as Millis - 1) * HOUR;
    let mut hours: Vec<HourCount> = (0..HOURS as Millis)
        .map(|i| HourCount {
            start: first + i * HOUR,
            sign_ins: 0,
            failures: 0,
        })
        .collect();
    for &(start, ok, failed) in counts {
        let i = (start - first).div_euclid(HOUR);
        if let Some(h) = usize::try_from(i).ok().and_then(|i| hours.get_mut(i)) {
            h.sign_ins = u32::try_from(ok).unwrap_or(u32::MAX);
            h.failures = u32::try_from(failed).unwrap_or(u32::MAX);
        }
    }
    hours
}

/// The commonest values first (ties by value), at most [`TOP`].
fn top(mut counts: Vec<(Option<String>, u64)>) -> Vec<Share> {
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
        .into_iter()
        .take(TOP)
        .map(|(value, sessions)| Share { value, sessions })
        .collect()
}

/// The overview as of `now`. Needs the support or security-admin role (it reads users, sessions and
/// the audit log).
pub async fn overview(db: &Db, staff: &Staff, now: Millis) -> Result<Overview> {
    let actor = staff.actor();
    for p in [Permission::ViewUsers, Permission::ViewSessions, Permission::ViewAudit] {
        actor.require(p)?;
    }
    let (_, policy) = policy_versions::current(db).await?;
    let groups = reads::live_by_country_and_device(db, &policy, now).await?;
    let active_sessions: u64 = groups.iter().map(|g| g.2 as u64).sum();
    let mut countries: Vec<(Option<String>, u64)> = Vec::new();
    let mut devices: Vec<(Option<String>, u64)> = Vec::new();
    for (country, device, n) in groups {
        let country = country.filter(|c| !c.is_empty());
        let device = Some(device).filter(|d| !d.is_empty());
        for (list, key) in [(&mut countries, country), (&mut devices, device)] {
            match list.iter_mut().find(|(k, _)| *k == key) {
                Some(e) => e.1 += n as u64,
                None => list.push((key, n as u64)),
            }
        }
    }
    let first = hour_of(now) - (HOURS as Millis - 1) * HOUR;
    let counts = reads::hourly_attempts(db, first, now).await?;
    let (locked_accounts, locked) = reads::locked_accounts(db, now).await?;
    let admin_actions = reads::admin_actions(db).await?;
    Ok(Overview {
        at: now,
        active_sessions,
        hours: fill_hours(now, &counts),
        locked_accounts: locked_accounts as u64,
        locked,
        countries: top(countries),
        devices: top(devices),
        open_flags: flags::open_count(db).await? as u64,
        admin_actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_end_with_the_one_in_progress_and_fill_gaps_with_zero() {
        let now = 1_767_225_600_000 + 30 * 60_000; // 2026-01-01T00:30Z
        let hours = fill_hours(now, &[(hour_of(now), 3, 1), (hour_of(now) - 2 * HOUR, 5, 0)]);
        assert_eq!(hours.len(), HOURS);
        let last = hours.last().unwrap();
        assert_eq!((last.start, last.sign_ins, last.failures), (hour_of(now), 3, 1));
        assert_eq!(hours[HOURS - 2].sign_ins, 0, "an hour without attempts is zero");
        assert_eq!(hours[HOURS - 3].sign_ins, 5);
        assert_eq!(hours[0].start, hour_of(now) - 167 * HOUR);
        assert!(hours.windows(2).all(|w| w[1].start - w[0].start == HOUR));
    }

    #[test]
    fn counts_outside_the_window_are_ignored() {
        let now = 1_767_225_600_000;
        let hours = fill_hours(now, &[(now - 200 * HOUR, 9, 9), (now + HOUR, 9, 9)]);
        assert!(hours.iter().all(|h| h.sign_ins == 0 && h.failures == 0));
    }

    #[test]
    fn top_keeps_the_commonest() {
        let t = top(vec![
            (Some("DE".into()), 3),
            (None, 5),
            (Some("FR".into()), 3),
            (Some("US".into()), 9),
        ]);
        let order: Vec<_> = t.iter().map(|s| s.value.clone()).collect();
        assert_eq!(
            order,
            vec![Some("US".into()), None, Some("DE".into()), Some("FR".into())]
        );
    }
}

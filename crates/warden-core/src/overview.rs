//! The console's first screen: the state of the application's sign-ins at a glance.
//!
//! [`overview`] gathers, as of `now`: how many sessions are active, and where from and on what devices;
//! sign-ins and failures per hour over the last seven days (bucketed in SQL, the same statement on both
//! backends: times are unix milliseconds, so an hour is a range of 3,600,000); the accounts locked now;
//! and the latest actions of administrators from the audit log. Each part is one query on an index.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::authz::{Actor, Permission};
use crate::clock::HOUR;
use crate::sessions;
use crate::store::{build, Backend, Db};
use crate::{with_db, Millis, Result};

/// Hours in the sign-in chart: seven days, the last one the hour in progress.
pub const HOURS: usize = 7 * 24;
/// How many locked accounts, countries, device types and admin actions the overview lists.
pub const LOCKED_LISTED: u32 = 20;
pub const TOP: usize = 6;
pub const ADMIN_ACTIONS_LISTED: u32 = 10;

/// The audit actions an administrator takes; each needs a reason (a self-service `session.revoked`,
/// by the session's owner, has none and is left out).
pub const ADMIN_ACTIONS: [&str; 11] = [
    "session.revoked",
    "user.sessions_revoked",
    "session.bulk_revoked",
    "user.unlocked",
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
pub async fn overview(db: &Db, actor: &Actor, now: Millis) -> Result<Overview> {
    for p in [Permission::ViewUsers, Permission::ViewSessions, Permission::ViewAudit] {
        actor.require(p)?;
    }
    let (_, policy) = crate::policy_store::current(db).await?;

    // Active sessions, by country and device in one pass over the live ones.
    let mut q = sea_query::Query::select();
    let col = |c: &str| sea_query::Expr::col(sea_query::Alias::new(c));
    q.from(sea_query::Alias::new("sessions"))
        .expr(col("country"))
        .expr(col("device"))
        .expr(col("id").count())
        .cond_where(sessions::live_cond(&policy, now))
        .group_by_col(sea_query::Alias::new("country"))
        .group_by_col(sea_query::Alias::new("device"));
    let (sql, values) = build(db.backend(), &q);
    let groups: Vec<(Option<String>, String, i64)> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
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

    // Sign-ins and failures per hour: the hours are made in SQL (a recursive CTE, the same statement on
    // both backends), each counted with two ranges of `login_attempts_by_at_outcome`, read from the index
    // alone. No sort and no temporary file, whatever the number of attempts (a GROUP BY on the hour
    // sorted every attempt of the week).
    let first = hour_of(now) - (HOURS as Millis - 1) * HOUR;
    let counts: Vec<(Millis, i64, i64)> = with_db!(db, |p| {
        sqlx::query_as(
        "WITH RECURSIVE hours(h) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT h + 3600000 FROM hours WHERE h + 3600000 <= $2) \
         SELECT h, \
         (SELECT COUNT(*) FROM login_attempts WHERE at >= h AND at < h + 3600000 AND at <= $2 AND outcome = 'success'), \
         (SELECT COUNT(*) FROM login_attempts WHERE at >= h AND at < h + 3600000 AND at <= $2 AND outcome <> 'success') \
         FROM hours ORDER BY h"
    )
    .bind(first)
    .bind(now)
    .fetch_all(p)
    .await?
    });

    // Locked now: the partial index of accounts that have a lock (its predicate repeated word for word,
    // so SQLite uses it), then the ones whose lock still holds.
    let locked_where = match db.backend() {
        Backend::Sqlite => {
            "(locked_until IS NOT NULL OR locked_permanently = 1) AND (locked_permanently = 1 OR locked_until > $1)"
        }
        Backend::Postgres => {
            "(locked_until IS NOT NULL OR locked_permanently) AND (locked_permanently OR locked_until > $1)"
        }
    };
    let count_sql = format!("SELECT COUNT(*) FROM users WHERE {locked_where}");
    let locked_accounts: i64 = with_db!(db, |p| sqlx::query_scalar(&count_sql).bind(now).fetch_one(p).await?);
    let list_sql = format!(
        "SELECT id, email, name, CASE WHEN locked_permanently THEN NULL ELSE locked_until END AS locked_until, \
         locked_permanently, last_locked_at AS locked_at, last_failed_ip FROM users WHERE {locked_where} \
         ORDER BY COALESCE(last_locked_at, 0) DESC, id DESC LIMIT $2"
    );
    let locked: Vec<LockedAccount> = with_db!(db, |p| sqlx::query_as(&list_sql)
        .bind(now)
        .bind(i64::from(LOCKED_LISTED))
        .fetch_all(p)
        .await?);

    // The latest admin actions: the newest few of each action (a backward walk of `audit_by_action`
    // each), merged.
    let branches: Vec<String> = ADMIN_ACTIONS
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let by_admin = if *a == "session.revoked" {
                " AND reason IS NOT NULL"
            } else {
                ""
            };
            format!(
                "SELECT * FROM (SELECT {cols} FROM audit_events WHERE action = '{a}'{by_admin} \
                 ORDER BY seq DESC LIMIT {ADMIN_ACTIONS_LISTED}) AS a{i}",
                cols = crate::audit::COLUMNS
            )
        })
        .collect();
    let admin_sql = format!(
        "{} ORDER BY seq DESC LIMIT {ADMIN_ACTIONS_LISTED}",
        branches.join(" UNION ALL ")
    );
    let admin_actions: Vec<AuditEvent> = with_db!(db, |p| sqlx::query_as(&admin_sql)
        .persistent(false)
        .fetch_all(p)
        .await?);

    Ok(Overview {
        at: now,
        active_sessions,
        hours: fill_hours(now, &counts),
        locked_accounts: locked_accounts as u64,
        locked,
        countries: top(countries),
        devices: top(devices),
        open_flags: crate::flags::open_count(db).await? as u64,
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

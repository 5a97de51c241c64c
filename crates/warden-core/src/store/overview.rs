//! The overview's reads: each one query on an index.

use crate::model::audit::AuditEvent;
use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::overview::{LockedAccount, ADMIN_ACTIONS, ADMIN_ACTIONS_LISTED, LOCKED_LISTED};
use crate::model::policy::Policy;
use crate::store::{audit, build, sessions, Backend, Db};
use crate::with_db;

/// The live sessions under `policy` at `now`, counted by (country, device).
pub async fn live_by_country_and_device(
    db: &Db,
    policy: &Policy,
    now: Millis,
) -> Result<Vec<(Option<String>, String, i64)>> {
    // Active sessions, by country and device in one pass over the live ones.
    let mut q = sea_query::Query::select();
    let col = |c: &str| sea_query::Expr::col(sea_query::Alias::new(c));
    q.from(sea_query::Alias::new("sessions"))
        .expr(col("country"))
        .expr(col("device"))
        .expr(col("id").count())
        .cond_where(sessions::live_cond(policy, now))
        .group_by_col(sea_query::Alias::new("country"))
        .group_by_col(sea_query::Alias::new("device"));
    let (sql, values) = build(db.backend(), &q);
    let groups: Vec<(Option<String>, String, i64)> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    Ok(groups)
}

/// Sign-ins and failures in each hour of the chart ending with the one holding `now`, whose first hour
/// starts at `first`: `(hour start, sign-ins, failures)`.
pub async fn hourly_attempts(db: &Db, first: Millis, now: Millis) -> Result<Vec<(Millis, i64, i64)>> {
    // Sign-ins and failures per hour: the hours are made in SQL (a recursive CTE, the same statement on
    // both backends), each counted with two ranges of `login_attempts_by_at_outcome`, read from the index
    // alone. No sort and no temporary file, whatever the number of attempts (a GROUP BY on the hour
    // sorted every attempt of the week).
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
    Ok(counts)
}

/// The accounts locked at `now`: how many, and the most recently locked of them.
pub async fn locked_accounts(db: &Db, now: Millis) -> Result<(i64, Vec<LockedAccount>)> {
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
    Ok((locked_accounts, locked))
}

/// The latest actions of administrators, newest first.
pub async fn admin_actions(db: &Db) -> Result<Vec<AuditEvent>> {
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
                cols = audit::COLUMNS
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
    Ok(admin_actions)
}

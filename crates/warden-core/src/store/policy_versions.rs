//! Policy versions (`policy_versions`): the version in force, history, and saving a new one under a
//! lock that a concurrent save waits for.

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::Policy;
use crate::model::policy_version::{PolicyHistory, PolicyVersion};
use crate::store::{Backend, Db, Tx};
use crate::{with_db, with_tx};

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    policy: String,
    created_at: Millis,
    created_by: String,
    note: String,
}

impl Row {
    fn parse(self) -> Result<PolicyVersion> {
        let value: serde_json::Value = serde_json::from_str(&self.policy)
            .map_err(|e| Error::Unexpected(format!("policy version {} is not JSON: {e}", self.version)))?;
        Ok(PolicyVersion {
            version: self.version,
            policy: Policy::from_json(&value)?,
            created_at: self.created_at,
            created_by: self.created_by,
            note: self.note,
        })
    }
}

const COLUMNS: &str = "version, policy, created_at, created_by, note";

/// The policy in force, and its version (0 when none was ever saved: the defaults).
pub async fn current(db: &Db) -> Result<(i64, Policy)> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT 1");
    let row: Option<Row> = with_db!(db, |p| sqlx::query_as(&sql).fetch_optional(p).await?);
    match row {
        Some(r) => r.parse().map(|v| (v.version, v.policy)),
        None => Ok((0, Policy::default())),
    }
}

/// The same, inside a write transaction.
pub async fn current_tx(tx: &mut Tx) -> Result<(i64, Policy)> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT 1");
    let row: Option<Row> = with_tx!(tx, |c| sqlx::query_as(&sql).fetch_optional(c).await?);
    match row {
        Some(r) => r.parse().map(|v| (v.version, v.policy)),
        None => Ok((0, Policy::default())),
    }
}

/// Every policy the database has had, oldest first, from the defaults on: the rules judge a moment of
/// the past by the one in force then.
pub async fn history(db: &Db) -> Result<PolicyHistory> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version");
    let rows: Vec<Row> = with_db!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    history_of(rows)
}

/// The same, inside a write transaction.
pub async fn history_tx(tx: &mut Tx) -> Result<PolicyHistory> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version");
    let rows: Vec<Row> = with_tx!(tx, |c| sqlx::query_as(&sql).fetch_all(c).await?);
    history_of(rows)
}

fn history_of(rows: Vec<Row>) -> Result<PolicyHistory> {
    let mut periods = PolicyHistory::defaults().0;
    for r in rows {
        let v = r.parse()?;
        periods.push((v.created_at, v.policy));
    }
    Ok(PolicyHistory(periods))
}

/// Every version, newest first.
pub async fn all(db: &Db) -> Result<Vec<PolicyVersion>> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC");
    let rows: Vec<Row> = with_db!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    rows.into_iter().map(Row::parse).collect()
}

/// One version, if there is one with this number.
pub async fn get(db: &Db, version: i64) -> Result<Option<PolicyVersion>> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions WHERE version = $1");
    let row: Option<Row> = with_db!(db, |p| sqlx::query_as(&sql).bind(version).fetch_optional(p).await?);
    row.map(Row::parse).transpose()
}

/// Takes the lock that serialises saves, for the rest of `tx`: on PostgreSQL an `EXCLUSIVE` lock on
/// `policy_versions` (which readers do not wait for); a SQLite write transaction already holds the
/// database. Read the version in force after it.
pub async fn lock_for_save(tx: &mut Tx) -> Result<()> {
    if tx.backend() == Backend::Postgres {
        with_tx!(tx, |c| sqlx::query("LOCK TABLE policy_versions IN EXCLUSIVE MODE")
            .execute(c)
            .await?
            .rows_affected());
    }
    Ok(())
}

/// Writes version `version` of the policy.
pub async fn insert_version(
    tx: &mut Tx,
    version: i64,
    policy: &Policy,
    now: Millis,
    by: &str,
    note: &str,
) -> Result<()> {
    let body = policy.to_json().to_string();
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO policy_versions (version, policy, created_at, created_by, note) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(version)
        .bind(body)
        .bind(now)
        .bind(by)
        .bind(note)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

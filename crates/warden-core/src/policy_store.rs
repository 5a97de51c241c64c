//! Policy versions in the database. The current policy is the newest version; a database with no version
//! yet runs on the defaults. Every change is a new version, audited with its diff.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Record};
use crate::authz::{Actor, Permission};
use crate::policy::{Policy, PolicyChange};
use crate::store::{Db, Tx};
use crate::{with_db, with_tx, Error, Millis, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version: i64,
    pub policy: Policy,
    pub created_at: Millis,
    pub created_by: String,
    pub note: String,
}

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

pub async fn history(db: &Db, actor: &Actor) -> Result<Vec<PolicyVersion>> {
    actor.require(Permission::ViewAudit)?;
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC");
    let rows: Vec<Row> = with_db!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    rows.into_iter().map(Row::parse).collect()
}

/// What a saved change did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyUpdate {
    pub version: i64,
    pub changes: Vec<PolicyChange>,
}

/// Saves `policy` as a new version after validating it; audits `policy.updated` with the diff. A note is
/// required. Security admins only, with a fresh authentication.
pub async fn save(db: &Db, actor: &Actor, now: Millis, policy: &Policy, note: &str) -> Result<PolicyUpdate> {
    actor.require(Permission::ChangePolicy)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(Error::invalid(
            "note",
            "a note saying why the policy changes is required",
        ));
    }
    policy.validate()?;
    let mut tx = db.begin().await?;
    let (version, old) = current_tx(&mut tx).await?;
    actor.require_fresh(now, old.privileged.reauth_after.as_millis())?;
    let changes = old.diff(policy);
    let next = version + 1;
    insert_version(&mut tx, next, policy, now, &actor.label, note).await?;
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new("policy.updated")
            .reason(note)
            .meta(json!({ "version": next, "changes": changes })),
    )
    .await?;
    tx.commit().await?;
    Ok(PolicyUpdate { version: next, changes })
}

/// Applies `key=value` assignments to the current policy and saves the result.
pub async fn set(
    db: &Db,
    actor: &Actor,
    now: Millis,
    assignments: &[(String, String)],
    note: &str,
) -> Result<PolicyUpdate> {
    actor.require(Permission::ChangePolicy)?;
    if assignments.is_empty() {
        return Err(Error::invalid("assignments", "give at least one key=value"));
    }
    let (_, current) = current(db).await?;
    let next = current.apply(assignments)?;
    save(db, actor, now, &next, note).await
}

pub(crate) async fn insert_version(
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

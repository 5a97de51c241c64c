//! Policy versions in the database. The current policy is the newest version; a database with no version
//! yet runs on the defaults. Every change is a new version, audited with its diff.
//!
//! Before a change is saved, [`preview`] says what it would do: every rule it breaks, its diff against the
//! version in force, and a simulation against the live data (sessions the new caps end now, accounts locked
//! under the new lockout rules). Saving may also shorten live sessions to the new caps, in the same
//! transaction as the new version and its audit event; [`rollback`] saves an old version's policy again as
//! a new version.

use serde_json::json;

use crate::model::audit::Record;
use crate::model::authz::{Actor, Admin, Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::{self, LockoutPolicy, Policy};
pub use crate::model::policy_version::{
    LockoutSimulation, PolicyField, PolicyForm, PolicyPreview, PolicyUpdate, PolicyVersion, PolicyVersionView,
    SaveOptions, SessionSimulation, Simulation,
};
use crate::model::vocab::AuditAction;
use crate::rules::lockout;
use crate::store::{audit, policy_versions, sessions, users, Db};

/// The policy in force, and its version (0 when none was ever saved: the defaults).
pub async fn current(db: &Db) -> Result<(i64, Policy)> {
    policy_versions::current(db).await
}

/// Every version, newest first. Needs ViewAudit.
pub async fn history(db: &Db, staff: &Staff) -> Result<Vec<PolicyVersion>> {
    let actor = staff.actor();
    actor.require(Permission::ViewAudit)?;
    policy_versions::all(db).await
}

/// What a save writes: a whole policy (edited from a version), or `key=value` assignments applied to the
/// version in force at the moment of writing (so concurrent assignments to different keys all stand).
enum Change<'a> {
    Replace(&'a Policy),
    Assign(&'a [(String, String)]),
}

fn require_note(note: &str) -> Result<&str> {
    let note = note.trim();
    if note.is_empty() {
        return Err(Error::invalid(
            "note",
            "a note saying why the policy changes is required",
        ));
    }
    Ok(note)
}

/// Saves `policy` as a new version after validating it; audits `policy.updated` with the diff. A note is
/// required. Security admins only, with a fresh authentication.
pub async fn save(db: &Db, admin: &Admin, now: Millis, policy: &Policy, note: &str) -> Result<PolicyUpdate> {
    let _actor = admin.actor();
    save_with(db, admin, now, policy, note, SaveOptions::default()).await
}

/// [`save`] with options: with `shorten_sessions`, the live sessions are shortened to the new caps in the
/// same transaction, and the audit metadata carries how many.
pub async fn save_with(
    db: &Db,
    admin: &Admin,
    now: Millis,
    policy: &Policy,
    note: &str,
    options: SaveOptions,
) -> Result<PolicyUpdate> {
    let actor = admin.actor();
    actor.require(Permission::ChangePolicy)?;
    let note = require_note(note)?;
    policy.validate()?;
    commit_version(db, actor, now, Change::Replace(policy), note, options, None).await
}

/// Writes the next version with its audit event (and the shortening, when asked) in one transaction.
/// `rolled_back_to` marks a rollback (audited as `policy.rolled_back`).
///
/// Saves are serialised: the version in force is read under a lock that a concurrent save waits for
/// (PostgreSQL: an `EXCLUSIVE` lock on `policy_versions`, which readers do not wait for; SQLite: the
/// write transaction), and the new version is computed from that read.
async fn commit_version(
    db: &Db,
    actor: &Actor,
    now: Millis,
    change: Change<'_>,
    note: &str,
    options: SaveOptions,
    rolled_back_to: Option<i64>,
) -> Result<PolicyUpdate> {
    let mut tx = db.begin().await?;
    policy_versions::lock_for_save(&mut tx).await?;
    let (version, old) = policy_versions::current_tx(&mut tx).await?;
    actor.require_fresh(now, old.privileged.reauth_after.as_millis())?;
    if options.base_version.is_some_and(|base| base != version) {
        return Err(Error::PolicyConflict { version });
    }
    let applied;
    let policy = match change {
        Change::Replace(p) => p,
        Change::Assign(assignments) => {
            applied = old.apply(assignments)?;
            &applied
        }
    };
    let changes = old.diff(policy);
    let next = version + 1;
    policy_versions::insert_version(&mut tx, next, policy, now, &actor.label, note).await?;
    let sessions_shortened = if options.shorten_sessions {
        sessions::shorten(&mut tx, &old, policy, now).await?
    } else {
        0
    };
    let mut meta = json!({
        "version": next,
        "changes": changes,
        "shorten_sessions": options.shorten_sessions,
        "sessions_shortened": sessions_shortened,
    });
    let action = match rolled_back_to {
        Some(to) => {
            meta["rolled_back_to"] = json!(to);
            AuditAction::PolicyRolledBack
        }
        None => AuditAction::PolicyUpdated,
    };
    audit::append(&mut tx, now, actor, Record::new(action).reason(note).meta(meta)).await?;
    tx.commit().await?;
    Ok(PolicyUpdate {
        version: next,
        changes,
        sessions_shortened,
    })
}

/// Applies `key=value` assignments to the current policy and saves the result.
pub async fn set(
    db: &Db,
    admin: &Admin,
    now: Millis,
    assignments: &[(String, String)],
    note: &str,
) -> Result<PolicyUpdate> {
    let _actor = admin.actor();
    set_with(db, admin, now, assignments, note, SaveOptions::default()).await
}

/// [`set`] with [`SaveOptions`].
pub async fn set_with(
    db: &Db,
    admin: &Admin,
    now: Millis,
    assignments: &[(String, String)],
    note: &str,
    options: SaveOptions,
) -> Result<PolicyUpdate> {
    let actor = admin.actor();
    actor.require(Permission::ChangePolicy)?;
    if assignments.is_empty() {
        return Err(Error::invalid("assignments", "give at least one key=value"));
    }
    // Checked against the version in force now, for a clear error before anything is written; applied
    // again to the version in force when the save takes its lock.
    let (_, current) = current(db).await?;
    current.apply(assignments)?;
    let note = require_note(note)?;
    commit_version(db, actor, now, Change::Assign(assignments), note, options, None).await
}

/// Saves the policy of version `version` again, as a new version (history is never rewritten), audited as
/// `policy.rolled_back` with the diff against the version in force. A note is required; the same role and
/// fresh-authentication rules as any change. The old policy must still pass today's validation.
pub async fn rollback(
    db: &Db,
    admin: &Admin,
    now: Millis,
    version: i64,
    note: &str,
    options: SaveOptions,
) -> Result<PolicyUpdate> {
    let actor = admin.actor();
    actor.require(Permission::ChangePolicy)?;
    let note = require_note(note)?;
    let old = policy_versions::get(db, version)
        .await?
        .ok_or_else(|| Error::invalid("version", format!("there is no policy version {version}")))?;
    old.policy.validate()?;
    commit_version(
        db,
        actor,
        now,
        Change::Replace(&old.policy),
        note,
        options,
        Some(version),
    )
    .await
}

/// The policy in force with every key's metadata. Security admins only (the policy screen is theirs).
pub async fn form(db: &Db, admin: &Admin) -> Result<PolicyForm> {
    let actor = admin.actor();
    actor.require(Permission::ChangePolicy)?;
    let (version, policy) = current(db).await?;
    let values = policy.entries();
    Ok(PolicyForm {
        version,
        fields: policy::fields()
            .into_iter()
            .zip(values)
            .map(|(info, (_, value))| PolicyField {
                scope: db.library().map(|l| crate::rules::library::policy_scope(l, &info.key)),
                info,
                value,
            })
            .collect(),
    })
}

/// Every version, newest first, each with its diff against the one before.
pub async fn history_with_changes(db: &Db, staff: &Staff) -> Result<Vec<PolicyVersionView>> {
    let _actor = staff.actor();
    let versions = history(db, staff).await?;
    Ok(versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let older = versions.get(i + 1).map(|o| o.policy.clone()).unwrap_or_default();
            PolicyVersionView {
                version: v.version,
                created_at: v.created_at,
                created_by: v.created_by.clone(),
                note: v.note.clone(),
                changes: older.diff(&v.policy),
            }
        })
        .collect())
}

/// Checks `assignments` against the policy in force and, when valid, simulates them on the live data at
/// `now`. Writes nothing. Security admins only (no fresh authentication needed: nothing changes).
pub async fn preview(db: &Db, admin: &Admin, now: Millis, assignments: &[(String, String)]) -> Result<PolicyPreview> {
    let actor = admin.actor();
    actor.require(Permission::ChangePolicy)?;
    let (version, old) = current(db).await?;
    let checked = old.check(assignments);
    let changes = old.diff(&checked.policy);
    let simulation = if checked.violations.is_empty() {
        Some(simulate(db, &old, &checked.policy, now).await?)
    } else {
        None
    };
    Ok(PolicyPreview {
        version,
        violations: checked.violations,
        changes,
        simulation,
    })
}

/// The figures of [`crate::model::policy_version::SessionSimulation`] and [`LockoutSimulation`] for
/// `new` replacing `old` at `now`.
pub async fn simulate(db: &Db, old: &Policy, new: &Policy, now: Millis) -> Result<Simulation> {
    Ok(Simulation {
        sessions: sessions::simulate(db, old, new, now).await?,
        lockout: simulate_lockout(db, &new.lockout, now).await?,
    })
}

async fn simulate_lockout(db: &Db, new: &LockoutPolicy, now: Millis) -> Result<LockoutSimulation> {
    let candidates = users::lock_candidates(db, new, now).await?;
    let mut sim = LockoutSimulation::default();
    for s in candidates {
        let now_locked = lockout::current_lock(&s, now).is_some();
        let new_locked = lockout::lock_under(&s, new, now).is_some();
        sim.locked += u64::from(now_locked);
        sim.locked_under_new += u64::from(new_locked);
        sim.newly_unlocked += u64::from(now_locked && !new_locked);
        sim.newly_locked += u64::from(!now_locked && new_locked);
    }
    Ok(sim)
}

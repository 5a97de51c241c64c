//! Policy versions in the database. The current policy is the newest version; a database with no version
//! yet runs on the defaults. Every change is a new version, audited with its diff.
//!
//! Before a change is saved, [`preview`] says what it would do: every rule it breaks, its diff against the
//! version in force, and a simulation against the live data (sessions the new caps end now, accounts locked
//! under the new lockout rules). Saving may also shorten live sessions to the new caps, in the same
//! transaction as the new version and its audit event; [`rollback`] saves an old version's policy again as
//! a new version.

use sea_query::{Alias, Cond, Expr, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Record};
use crate::authz::{Actor, Permission};
use crate::policy::{self, FieldInfo, Policy, PolicyChange, Violation};
use crate::rules::{self, LockoutState};
use crate::sessions::live_cond;
use crate::store::{build, Db, Tx};
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

/// The longest maximum lifetime, ordinary or privileged, of every policy version there has been (and of
/// the defaults in force before the first): no session has ever been valid for longer.
pub(crate) async fn longest_session_life(db: &Db) -> Result<Millis> {
    let sql = format!("SELECT {COLUMNS} FROM policy_versions");
    let rows: Vec<Row> = with_db!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    let life = |p: &Policy| {
        p.session_limits(false)
            .max_lifetime
            .as_millis()
            .max(p.session_limits(true).max_lifetime.as_millis())
    };
    let mut longest = life(&Policy::default());
    for r in rows {
        longest = longest.max(life(&r.parse()?.policy));
    }
    Ok(longest)
}

pub async fn history(db: &Db, actor: &Actor) -> Result<Vec<PolicyVersion>> {
    actor.require(Permission::ViewAudit)?;
    let sql = format!("SELECT {COLUMNS} FROM policy_versions ORDER BY version DESC");
    let rows: Vec<Row> = with_db!(db, |p| sqlx::query_as(&sql).fetch_all(p).await?);
    rows.into_iter().map(Row::parse).collect()
}

/// What a saved change did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyUpdate {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    pub changes: Vec<PolicyChange>,
    /// Live sessions whose expiry was moved earlier to the new caps (0 unless asked for).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    #[serde(default)]
    pub sessions_shortened: u64,
}

/// How a change is saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveOptions {
    /// Also move the expiry of every live session earlier to the new caps, never later: a session's
    /// `expires_at` becomes `min(expires_at, refreshed_at + ttl, created_at + max_lifetime)` of its kind.
    pub shorten_sessions: bool,
    /// The version the new policy was edited from (the editor's form). When another version was saved
    /// since, the save is refused with `policy_conflict` naming the version in force, rather than
    /// silently undoing that change. `None` saves over whatever is in force.
    #[serde(default)]
    pub base_version: Option<i64>,
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
pub async fn save(db: &Db, actor: &Actor, now: Millis, policy: &Policy, note: &str) -> Result<PolicyUpdate> {
    save_with(db, actor, now, policy, note, SaveOptions::default()).await
}

/// [`save`] with options: with `shorten_sessions`, the live sessions are shortened to the new caps in the
/// same transaction, and the audit metadata carries how many.
pub async fn save_with(
    db: &Db,
    actor: &Actor,
    now: Millis,
    policy: &Policy,
    note: &str,
    options: SaveOptions,
) -> Result<PolicyUpdate> {
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
    if tx.backend() == crate::store::Backend::Postgres {
        with_tx!(&mut tx, |c| sqlx::query("LOCK TABLE policy_versions IN EXCLUSIVE MODE")
            .execute(c)
            .await?
            .rows_affected());
    }
    let (version, old) = current_tx(&mut tx).await?;
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
    insert_version(&mut tx, next, policy, now, &actor.label, note).await?;
    let sessions_shortened = if options.shorten_sessions {
        shorten_sessions(&mut tx, &old, policy, now).await?
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
            "policy.rolled_back"
        }
        None => "policy.updated",
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
    actor: &Actor,
    now: Millis,
    assignments: &[(String, String)],
    note: &str,
) -> Result<PolicyUpdate> {
    set_with(db, actor, now, assignments, note, SaveOptions::default()).await
}

/// [`set`] with [`SaveOptions`].
pub async fn set_with(
    db: &Db,
    actor: &Actor,
    now: Millis,
    assignments: &[(String, String)],
    note: &str,
    options: SaveOptions,
) -> Result<PolicyUpdate> {
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
    actor: &Actor,
    now: Millis,
    version: i64,
    note: &str,
    options: SaveOptions,
) -> Result<PolicyUpdate> {
    actor.require(Permission::ChangePolicy)?;
    let note = require_note(note)?;
    let sql = format!("SELECT {COLUMNS} FROM policy_versions WHERE version = $1");
    let row: Option<Row> = with_db!(db, |p| sqlx::query_as(&sql).bind(version).fetch_optional(p).await?);
    let old = row
        .ok_or_else(|| Error::invalid("version", format!("there is no policy version {version}")))?
        .parse()?;
    old.policy.validate()?;
    commit_version(db, actor, now, Change::Replace(&old.policy), note, options, Some(version)).await
}

// ---------------------------------------------------------------------------------------------
// The editor's view, history with diffs, and the preview with its simulation
// ---------------------------------------------------------------------------------------------

/// One key of the policy in force, with what the editor needs to show and check it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyField {
    #[serde(flatten)]
    pub info: FieldInfo,
    /// The display form of the current value (`7d`, `5`, `true`, `evict_oldest`).
    pub value: String,
}

/// The policy in force as the editor shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyForm {
    /// 0 when no version was ever saved (the defaults).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    pub fields: Vec<PolicyField>,
}

/// The policy in force with every key's metadata. Security admins only (the policy screen is theirs).
pub async fn form(db: &Db, actor: &Actor) -> Result<PolicyForm> {
    actor.require(Permission::ChangePolicy)?;
    let (version, policy) = current(db).await?;
    let values = policy.entries();
    Ok(PolicyForm {
        version,
        fields: policy::fields()
            .into_iter()
            .zip(values)
            .map(|(info, (_, value))| PolicyField { info, value })
            .collect(),
    })
}

/// One version as the history shows it: who, when, why, and what changed from the version before.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyVersionView {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    pub created_by: String,
    pub note: String,
    /// Against the previous version (the first version: against the defaults).
    pub changes: Vec<PolicyChange>,
}

/// Every version, newest first, each with its diff against the one before.
pub async fn history_with_changes(db: &Db, actor: &Actor) -> Result<Vec<PolicyVersionView>> {
    let versions = history(db, actor).await?;
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

/// What a proposed change would do to the live sessions, at the time of the preview. "Live" is
/// [`live_cond`] under the policy in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionSimulation {
    /// Live sessions now.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub live: u64,
    /// Live sessions that are not live under the new policy: idle longer than the new `idle_timeout` or
    /// older than the new `max_lifetime` of their kind. Saving ends them (on their next request), with or
    /// without shortening.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended: u64,
    /// The privileged (support and security admin) sessions among `ended`.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended_privileged: u64,
    /// Live sessions whose expiry "shorten existing sessions" would move earlier:
    /// `expires_at > refreshed_at + ttl` or `expires_at > created_at + max_lifetime` under the new values.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub shortened: u64,
    /// Live sessions that end now when saving *with* shortening: `ended` plus those whose shortened expiry
    /// (`refreshed_at + ttl`) is already past.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended_if_shortened: u64,
}

/// Accounts locked now, and under the new lockout rules as [`rules::lock_under`] defines it (the lock
/// each account's most recent lock would be, had the new rules set it). Saving never rewrites a lock in
/// force; the new rules apply from the next lock, so the "newly" figures say how the new rules differ
/// for the accounts concerned, not what the save does to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockoutSimulation {
    /// Accounts locked now ([`rules::current_lock`]).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub locked: u64,
    /// Accounts that would be locked now under the new rules.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub locked_under_new: u64,
    /// Locked now, but open under the new rules (their lock would have run out by now).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub newly_unlocked: u64,
    /// Open now, but locked under the new rules (a longer lock, or `permanent_after` reached).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub newly_locked: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Simulation {
    pub sessions: SessionSimulation,
    pub lockout: LockoutSimulation,
}

/// What saving a proposed change would do, checked against the version in force.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyPreview {
    /// The version the change was checked against.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub version: i64,
    /// Every broken rule, each naming its field; empty means the change can be saved.
    pub violations: Vec<Violation>,
    /// Against the version in force (only the keys that parsed).
    pub changes: Vec<PolicyChange>,
    /// Only for a valid change (an invalid policy's caps mean nothing).
    pub simulation: Option<Simulation>,
}

/// Checks `assignments` against the policy in force and, when valid, simulates them on the live data at
/// `now`. Writes nothing. Security admins only (no fresh authentication needed: nothing changes).
pub async fn preview(db: &Db, actor: &Actor, now: Millis, assignments: &[(String, String)]) -> Result<PolicyPreview> {
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

fn col(c: &str) -> Expr {
    Expr::col(Alias::new(c))
}

/// Per kind of session (ordinary, privileged), `cond(kind limits)`, joined with OR.
fn per_kind(new: &Policy, cond: impl Fn(&policy::SessionLimits) -> Cond) -> Cond {
    [false, true].into_iter().fold(Cond::any(), |any, privileged| {
        any.add(
            Cond::all()
                .add(col("privileged").eq(privileged))
                .add(cond(&new.session_limits(privileged))),
        )
    })
}

/// A session whose expiry the new caps would move earlier.
fn shortens(l: &policy::SessionLimits) -> Cond {
    Cond::any()
        .add(col("expires_at").gt(col("refreshed_at").add(l.ttl.as_millis())))
        .add(col("expires_at").gt(col("created_at").add(l.max_lifetime.as_millis())))
}

async fn count_sessions(db: &Db, cond: Cond) -> Result<u64> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .expr(Expr::col(Alias::new("id")).count())
        .cond_where(cond);
    let (sql, values) = build(db.backend(), &q);
    let n: i64 = with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The figures of [`SessionSimulation`] and [`LockoutSimulation`] for `new` replacing `old` at `now`.
pub async fn simulate(db: &Db, old: &Policy, new: &Policy, now: Millis) -> Result<Simulation> {
    let live = || live_cond(old, now);
    let ended = || live().add(live_cond(new, now).not());
    let survives_shortening = || {
        live_cond(new, now).add(per_kind(new, |l| {
            Cond::all().add(col("refreshed_at").gt(now.saturating_sub(l.ttl.as_millis())))
        }))
    };
    let sessions = SessionSimulation {
        live: count_sessions(db, live()).await?,
        ended: count_sessions(db, ended()).await?,
        ended_privileged: count_sessions(db, ended().add(col("privileged").eq(true))).await?,
        shortened: count_sessions(db, live().add(per_kind(new, shortens))).await?,
        ended_if_shortened: count_sessions(db, live().add(survives_shortening().not())).await?,
    };
    Ok(Simulation {
        sessions,
        lockout: simulate_lockout(db, &new.lockout, now).await?,
    })
}

#[derive(sqlx::FromRow)]
struct LockRow {
    failed_count: i64,
    window_started_at: Option<Millis>,
    locked_until: Option<Millis>,
    locked_permanently: bool,
    lock_count: i64,
    last_locked_at: Option<Millis>,
}

async fn simulate_lockout(db: &Db, new: &policy::LockoutPolicy, now: Millis) -> Result<LockoutSimulation> {
    // Only accounts that are locked now or could be under the new rules: a recomputed lock ends by
    // `last_locked_at + max_duration` unless `permanent_after` makes it permanent.
    let mut could = Cond::any()
        .add(col("locked_permanently").eq(true))
        .add(col("locked_until").gt(now))
        .add(
            Cond::all()
                .add(col("lock_count").gt(0))
                .add(col("last_locked_at").gt(now.saturating_sub(new.max_duration.as_millis()))),
        );
    if new.permanent_after > 0 {
        could = could.add(
            Cond::all()
                .add(col("lock_count").gte(i64::from(new.permanent_after)))
                .add(col("last_locked_at").is_not_null()),
        );
    }
    let mut q = Query::select();
    q.from(Alias::new("users"))
        .columns([
            Alias::new("failed_count"),
            Alias::new("window_started_at"),
            Alias::new("locked_until"),
            Alias::new("locked_permanently"),
            Alias::new("lock_count"),
            Alias::new("last_locked_at"),
        ])
        .cond_where(could);
    let (sql, values) = build(db.backend(), &q);
    let rows: Vec<LockRow> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    let mut sim = LockoutSimulation::default();
    for r in rows {
        let s = LockoutState {
            failed_count: u32::try_from(r.failed_count).unwrap_or(u32::MAX),
            window_started_at: r.window_started_at,
            locked_until: r.locked_until,
            locked_permanently: r.locked_permanently,
            lock_count: u32::try_from(r.lock_count).unwrap_or(u32::MAX),
            last_locked_at: r.last_locked_at,
        };
        let now_locked = rules::current_lock(&s, now).is_some();
        let new_locked = rules::lock_under(&s, new, now).is_some();
        sim.locked += u64::from(now_locked);
        sim.locked_under_new += u64::from(new_locked);
        sim.newly_unlocked += u64::from(now_locked && !new_locked);
        sim.newly_locked += u64::from(!now_locked && new_locked);
    }
    Ok(sim)
}

/// Moves the expiry of every session live under `old` earlier to the caps of `new` (never later), per
/// kind; returns how many sessions changed. Runs in the caller's transaction.
async fn shorten_sessions(tx: &mut Tx, old: &Policy, new: &Policy, now: Millis) -> Result<u64> {
    let mut total = 0;
    for privileged in [false, true] {
        let l = new.session_limits(privileged);
        let by_ttl = col("refreshed_at").add(l.ttl.as_millis());
        let by_lifetime = col("created_at").add(l.max_lifetime.as_millis());
        let capped = Expr::case(Expr::expr(by_ttl.clone()).lt(by_lifetime.clone()), by_ttl).finally(by_lifetime);
        let mut u = Query::update();
        u.table(Alias::new("sessions"))
            .value(Alias::new("expires_at"), capped)
            .cond_where(
                live_cond(old, now)
                    .add(col("privileged").eq(privileged))
                    .add(shortens(&l)),
            );
        let (sql, values) = build(tx.backend(), &u);
        total += with_tx!(tx, |c| sqlx::query_with(&sql, values)
            .persistent(false)
            .execute(c)
            .await?
            .rows_affected());
    }
    Ok(total)
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

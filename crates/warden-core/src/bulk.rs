//! Bulk termination: ending many sessions at once, safely and provably.
//!
//! The operator names the sessions by a [`SessionFilter`] or by a selection of ids; [`plan`] is the dry
//! run (how many sessions of how many users, with a sample), [`run`] ends them. A run reads the ids of
//! the live sessions it covers once, when it starts (sessions created later are not touched), then goes
//! in batches: each batch ends up to `batch_size` of them that are still unrevoked, writes their timeline
//! events and one `session.bulk_batch` audit event listing them, all in one transaction. Between batches it reports
//! progress and honours a cancel flag. At the end one `session.bulk_revoked` event records the request,
//! the outcome counts and the sequence numbers of its batches, so the audit log proves exactly which
//! sessions were ended, by whom and why.
//!
//! A run is also a row of `bulk_runs`, written when it starts and in the transaction of each batch and
//! of its summary. A run whose process died half-way has no summary: the next dry run lists it, the
//! next run records it as interrupted (`session.bulk_interrupted`: what it did and did not do), and
//! [`runs`] (`warden sessions bulk-status`) shows it.
//!
//! Who may: a security admin anything, including the emergency "sign out everyone"; support only the
//! sessions of one user. The operator's own console session is kept unless they ask otherwise.

use std::sync::atomic::{AtomicBool, Ordering};

use sea_query::{Alias, Cond, Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::admin::{count_where, list_items, require_reason, SessionCount, SessionListItem};
use crate::audit::{self, Record};
use crate::authz::{Actor, Permission};
use crate::policy::Policy;
use crate::session_filter::{SessionFilter, SessionState};
use crate::sessions::{self, SessionRow};
use crate::store::{build, Db};
use crate::{with_db, with_tx, Clock, Error, Millis, Result};

/// A selection larger than this must be given as a filter ("all N matching").
pub const MAX_SELECTION: usize = 10_000;
pub const DEFAULT_BATCH: u32 = 1_000;
pub const MAX_BATCH: u32 = 5_000;
/// Above this many sessions the console asks for a typed confirmation.
pub const LARGE: u64 = 100;

/// Which sessions to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum BulkTarget {
    /// Every live session matching the filter (its `status` is ignored: only live sessions are ended).
    Filter(Box<SessionFilter>),
    /// These sessions, by id.
    Sessions(Vec<Uuid>),
    /// Emergency: every live session of every user.
    Everyone,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkRequest {
    pub target: BulkTarget,
    /// End the operator's own session too when it matches (it is kept otherwise).
    #[serde(default)]
    pub include_own: bool,
    /// Why, for the audit log (required to run; the dry run ignores it).
    #[serde(default)]
    pub reason: String,
    /// Sessions per transaction (default 1000, at most 5000).
    #[serde(default)]
    pub batch_size: Option<u32>,
}

/// The dry run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkPlan {
    /// Live sessions that would be ended.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions: u64,
    /// Distinct users they belong to.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub users: u64,
    /// Selected sessions that have already ended (or do not exist).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub already_ended: u64,
    /// The operator's own session matches and will be kept.
    pub own_session_kept: bool,
    /// A few of the sessions, newest first.
    pub sample: Vec<SessionListItem>,
    /// The console should ask the operator to type a confirmation (large or emergency).
    pub needs_typed_confirmation: bool,
    /// Earlier runs that stopped half-way (their process ended before their summary was written): what
    /// each did and did not do. Starting this run records them as interrupted.
    pub interrupted: Vec<BulkRun>,
}

/// A bulk run as recorded while it runs (`warden sessions bulk-status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkRun {
    pub id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub started_at: Millis,
    pub actor_label: String,
    pub reason: String,
    /// `filter`, `sessions` or `everyone`.
    pub target: String,
    /// Live sessions it set out to end.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matched: i64,
    /// Sessions it ended (the rest of `matched` it did not reach, or they had ended already).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub terminated: i64,
    pub batches: i32,
    /// When it last wrote a batch.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub finished_at: Option<Millis>,
    /// It stopped half-way and was recorded so (`session.bulk_interrupted`).
    pub interrupted: bool,
    /// Its `session.bulk_revoked` (or `session.bulk_interrupted`) event.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub summary_seq: Option<i64>,
}

impl BulkRun {
    /// Unfinished with no batch written for [`STALE_AFTER`]: its process is presumed gone.
    pub fn is_stale(&self, now: Millis) -> bool {
        self.finished_at.is_none() && now.saturating_sub(self.updated_at) > STALE_AFTER
    }
}

/// An unfinished run that wrote no batch for this long is taken as interrupted (a batch takes seconds).
pub const STALE_AFTER: Millis = crate::clock::MINUTE;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkProgress {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub done: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    pub batches: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkSummary {
    pub bulk_id: Uuid,
    /// Live sessions matching when the run started.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matched: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub terminated: u64,
    /// Ended by something else before this run reached them (or selected after they ended).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub already_ended: u64,
    /// Kept on purpose: the operator's own session.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub skipped: u64,
    /// In a batch that could not be written (rolled back; still live).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed: u64,
    pub batches: u32,
    pub cancelled: bool,
    /// What stopped the run, when a batch failed.
    pub error: Option<String>,
    /// The `session.bulk_revoked` audit event.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub audit_seq: i64,
    /// Earlier runs found stopped half-way when this one started, now recorded as interrupted.
    pub interrupted: Vec<BulkRun>,
}

/// What a checked request resolves to.
struct Scope {
    /// The condition on live sessions to end (own session excluded when kept).
    cond: Cond,
    /// The operator's session, kept out of `cond`, with the condition it would otherwise have met.
    kept_own: Option<(Uuid, Cond)>,
    /// For a selection: how many ids it names.
    selected: Option<u64>,
    /// The one user support is limited to, when the scope is one user's.
    single_user: Option<Uuid>,
    /// What the ended sessions record as their `revoke_reason`: `emergency` for "sign out everyone",
    /// `bulk` otherwise (the user's timeline tells the two apart from a one-off `admin` revocation).
    revoke_reason: &'static str,
}

/// Checks who may do what and resolves the target to the live sessions of `now` (created by then).
async fn scope(db: &Db, actor: &Actor, req: &BulkRequest, policy: &Policy, now: Millis) -> Result<Scope> {
    actor.require(Permission::RevokeUserSessions)?;
    let may_bulk = actor.require(Permission::BulkRevokeSessions).is_ok();
    let live = sessions::live_cond(policy, now).add(Expr::col(Alias::new("created_at")).lte(now));
    let col = |c: &str| Expr::col(Alias::new(c));
    let (cond, selected) = match &req.target {
        BulkTarget::Everyone => {
            actor.require(Permission::BulkRevokeSessions)?;
            (live, None)
        }
        BulkTarget::Filter(f) => {
            if f.is_empty() {
                return Err(Error::invalid(
                    "filter",
                    "an empty filter matches every session: give at least one filter, or, to end every \
                     live session of every user, ask for the emergency sign-out of everyone (\"Sign out \
                     everyone\" in the console, --everyone in the CLI)",
                ));
            }
            let f = SessionFilter {
                status: SessionState::All,
                ..(**f).clone()
            };
            (f.cond(db, policy, now).await?.add(live), None)
        }
        BulkTarget::Sessions(ids) => {
            // A repeated id names one session: it is counted, and ended, once.
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            if ids.is_empty() {
                return Err(Error::invalid("sessions", "select at least one session"));
            }
            if ids.len() > MAX_SELECTION {
                return Err(Error::invalid(
                    "sessions",
                    format!("at most {MAX_SELECTION} sessions by id; use a filter for more"),
                ));
            }
            (live.add(col("id").is_in(ids.iter().copied())), Some(ids.len() as u64))
        }
    };
    let users = distinct_users(db, &cond, 2).await?;
    let single_user = (users.len() == 1).then(|| users[0]);
    if !may_bulk {
        // Support: one user's sessions only, named as such (a user filter or ids all of one user).
        let one_user = match &req.target {
            BulkTarget::Filter(f) => f.user.as_deref().is_some_and(|u| !u.trim().is_empty()),
            BulkTarget::Sessions(_) => users.len() <= 1 && all_of_one_user(db, &req.target).await?,
            BulkTarget::Everyone => false,
        };
        if !one_user {
            return Err(Error::Forbidden(
                "the support role may end sessions in bulk only within one user's sessions".into(),
            ));
        }
        // …and never a staff account's.
        for owner in owners(db, &req.target).await? {
            if let Some(u) = crate::users::by_id(db, owner).await? {
                actor.require_over(u.role())?;
            }
        }
    }
    let (cond, kept_own) = match (actor.session_id, req.include_own) {
        (Some(own), false) => (cond.clone().add(col("id").ne(own)), Some((own, cond))),
        _ => (cond, None),
    };
    Ok(Scope {
        cond,
        kept_own,
        selected,
        single_user,
        revoke_reason: match req.target {
            BulkTarget::Everyone => "emergency",
            _ => "bulk",
        },
    })
}

/// Whose sessions a user filter or a selection names (live or not).
async fn owners(db: &Db, target: &BulkTarget) -> Result<Vec<Uuid>> {
    match target {
        BulkTarget::Filter(f) => match f.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => Ok(vec![crate::users::find(db, u).await?.id]),
            None => Ok(vec![]),
        },
        BulkTarget::Sessions(ids) => {
            let mut q = Query::select();
            q.from(Alias::new("sessions"))
                .column(Alias::new("user_id"))
                .distinct()
                .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()));
            let (sql, values) = build(db.backend(), &q);
            Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
                .persistent(false)
                .fetch_all(p)
                .await?))
        }
        BulkTarget::Everyone => Ok(vec![]),
    }
}

/// Selected ids (live or not) all belong to one user.
async fn all_of_one_user(db: &Db, target: &BulkTarget) -> Result<bool> {
    let BulkTarget::Sessions(ids) = target else {
        return Ok(false);
    };
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .expr(Expr::col(Alias::new("user_id")).count_distinct())
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()));
    let (sql, values) = build(db.backend(), &q);
    let n: i64 = with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?);
    Ok(n <= 1)
}

async fn distinct_users(db: &Db, cond: &Cond, limit: u64) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .column(Alias::new("user_id"))
        .distinct()
        .cond_where(cond.clone())
        .limit(limit);
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// Whether the operator's session would be in the target but is kept (one lookup by id).
async fn own_kept(db: &Db, s: &Scope) -> Result<bool> {
    let Some((own, cond)) = &s.kept_own else {
        return Ok(false);
    };
    let n = count_where(db, cond.clone().add(Expr::col(Alias::new("id")).eq(*own))).await?;
    Ok(n.sessions > 0)
}

/// The dry run: what [`run`] would end now. Checks the same permissions; changes nothing.
pub async fn plan(db: &Db, actor: &Actor, req: &BulkRequest, now: Millis) -> Result<BulkPlan> {
    let (_, policy) = crate::policy_store::current(db).await?;
    let s = scope(db, actor, req, &policy, now).await?;
    let SessionCount { sessions, users } = count_where(db, s.cond.clone()).await?;
    let own_session_kept = own_kept(db, &s).await?;
    let with_own = sessions + u64::from(own_session_kept);
    let mut q = sessions::select_rows();
    q.cond_where(s.cond.clone())
        .order_by(Alias::new("created_at"), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(5);
    let (sql, values) = build(db.backend(), &q);
    let rows: Vec<SessionRow> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    Ok(BulkPlan {
        sessions,
        users,
        already_ended: s.selected.map_or(0, |n| n.saturating_sub(with_own)),
        own_session_kept,
        sample: list_items(db, &policy, &rows, now, actor.session_id).await?,
        needs_typed_confirmation: sessions > LARGE || matches!(req.target, BulkTarget::Everyone),
        interrupted: stale_runs(db, now).await?,
    })
}

const RUN_COLUMNS: &str = "id, started_at, actor_label, reason, target, matched, terminated, batches, updated_at, \
    finished_at, interrupted, summary_seq";

/// Unfinished runs whose process is presumed gone ([`BulkRun::is_stale`]), oldest first.
async fn stale_runs(db: &Db, now: Millis) -> Result<Vec<BulkRun>> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM bulk_runs WHERE finished_at IS NULL AND updated_at < $1 ORDER BY started_at"
    );
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(now.saturating_sub(STALE_AFTER))
        .fetch_all(p)
        .await?))
}

/// The most recent bulk runs, newest first: finished, interrupted, or still running (an unfinished run
/// that wrote a batch within [`STALE_AFTER`]). Needs BulkRevokeSessions.
pub async fn runs(db: &Db, actor: &Actor, limit: u32) -> Result<Vec<BulkRun>> {
    actor.require(Permission::BulkRevokeSessions)?;
    let limit = crate::audit::check_limit(limit)?;
    let sql = format!("SELECT {RUN_COLUMNS} FROM bulk_runs ORDER BY started_at DESC, id DESC LIMIT $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?))
}

/// Records each stale run as interrupted: one `session.bulk_interrupted` event per run saying what it
/// did and did not do, and the run closed, in one transaction each. Returns them as recorded.
async fn close_stale_runs(db: &Db, actor: &Actor, now: Millis) -> Result<Vec<BulkRun>> {
    let mut closed = Vec::new();
    for run in stale_runs(db, now).await? {
        let mut tx = db.begin().await?;
        let rec = Record::new("session.bulk_interrupted")
            .reason(&run.reason)
            .failed()
            .meta(json!({
                "bulk_id": run.id.to_string(),
                "started_at": run.started_at,
                "started_by": run.actor_label,
                "target": run.target,
                "matched": run.matched,
                "terminated": run.terminated,
                "not_reached": run.matched - run.terminated,
                "batches": run.batches,
                "last_batch_at": run.updated_at,
                "noticed_by": actor.label,
            }));
        let seq = audit::append(&mut tx, now, &Actor::system(), rec).await?;
        let updated = with_tx!(&mut tx, |c| sqlx::query(
            "UPDATE bulk_runs SET finished_at = $2, interrupted = $3, summary_seq = $4 WHERE id = $1 AND finished_at IS NULL"
        )
        .bind(run.id)
        .bind(now)
        .bind(true)
        .bind(seq)
        .execute(c)
        .await?
        .rows_affected());
        if updated == 1 {
            // Another run may have closed it first; then its event stands and this one is dropped.
            tx.commit().await?;
            closed.push(BulkRun {
                finished_at: Some(now),
                interrupted: true,
                summary_seq: Some(seq),
                ..run
            });
        }
    }
    Ok(closed)
}

/// Ends the sessions in batches. `progress` is called after every batch; setting `cancel` stops the run
/// between batches. A batch that fails is rolled back and stops the run; the summary (and its audit
/// event) says so. Needs a fresh authentication.
pub async fn run(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    req: &BulkRequest,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BulkProgress) + Send),
) -> Result<BulkSummary> {
    let reason = require_reason(&req.reason)?;
    let batch_size = req.batch_size.unwrap_or(DEFAULT_BATCH);
    if batch_size == 0 || batch_size > MAX_BATCH {
        return Err(Error::invalid("batch_size", format!("must be 1 to {MAX_BATCH}")));
    }
    let started = clock.now();
    let (_, policy) = crate::policy_store::current(db).await?;
    actor.require_fresh(started, policy.privileged.reauth_after.as_millis())?;
    let s = scope(db, actor, req, &policy, started).await?;
    // The target is fixed when the run starts: the ids of the live sessions it covers, oldest first, read
    // once (one scan; 16 bytes a session). Each batch then ends its slice by id.
    let ids = target_ids(db, &s.cond).await?;
    let matched = ids.len() as u64;
    let skipped = u64::from(own_kept(db, &s).await?);
    let with_own = matched + skipped;
    let interrupted = close_stale_runs(db, actor, started).await?;
    let bulk_id = Uuid::now_v7();
    let target = match &req.target {
        BulkTarget::Filter(_) => "filter",
        BulkTarget::Sessions(_) => "sessions",
        BulkTarget::Everyone => "everyone",
    };
    with_db!(db, |p| sqlx::query(
        "INSERT INTO bulk_runs (id, started_at, actor_label, reason, target, matched, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $2)"
    )
    .bind(bulk_id)
    .bind(started)
    .bind(&actor.label)
    .bind(reason)
    .bind(target)
    .bind(matched as i64)
    .execute(p)
    .await?
    .rows_affected());
    let mut done = 0u64;
    let mut already_ended = s.selected.map_or(0, |n| n.saturating_sub(with_own));
    let mut failed = 0u64;
    let mut batches = 0u32;
    let mut batch_seqs: Vec<i64> = Vec::new();
    let mut cancelled = false;
    let mut error = None;
    let mut chunks = ids.chunks(batch_size as usize);
    progress(BulkProgress {
        done,
        total: matched,
        batches,
    });
    loop {
        if cancel.load(Ordering::SeqCst) {
            cancelled = true;
            break;
        }
        let Some(chunk) = chunks.next() else { break };
        match batch(db, actor, clock, &s, reason, bulk_id, batches + 1, chunk).await {
            Ok(b) => {
                batches += 1;
                done += b.ended;
                already_ended += b.already_ended;
                batch_seqs.push(b.audit_seq);
                progress(BulkProgress {
                    done,
                    total: matched.max(done),
                    batches,
                });
            }
            Err(e) => {
                // Nothing of this batch was written: it and the batches after it are left as they were.
                failed = chunk.len() as u64 + chunks.map(|c| c.len() as u64).sum::<u64>();
                error = Some(e.to_string());
                break;
            }
        }
    }
    let mut rec = Record::new("session.bulk_revoked").reason(reason).meta(json!({
        "bulk_id": bulk_id.to_string(),
        "target": target,
        "filter": match &req.target {
            BulkTarget::Filter(f) => serde_json::Value::Object(f.describe()),
            _ => serde_json::Value::Null,
        },
        "selected": s.selected,
        "including_own": req.include_own,
        "matched": matched,
        "terminated": done,
        "already_ended": already_ended,
        "skipped": skipped,
        "failed": failed,
        "batches": batches,
        "batch_seqs": batch_seqs,
        "cancelled": cancelled,
        "error": error,
        "interrupted_before": interrupted.iter().map(|r| r.id.to_string()).collect::<Vec<_>>(),
    }));
    if let Some(u) = s.single_user {
        rec = rec.user(u);
    }
    if error.is_some() {
        rec = rec.failed();
    }
    // The summary and the run's close, in one transaction.
    let finished = clock.now();
    let mut tx = db.begin().await?;
    let audit_seq = audit::append(&mut tx, finished, actor, rec).await?;
    with_tx!(&mut tx, |c| sqlx::query(
        "UPDATE bulk_runs SET finished_at = $2, updated_at = $2, summary_seq = $3 WHERE id = $1"
    )
    .bind(bulk_id)
    .bind(finished)
    .bind(audit_seq)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(BulkSummary {
        bulk_id,
        matched,
        terminated: done,
        already_ended,
        skipped,
        failed,
        batches,
        cancelled,
        error,
        audit_seq,
        interrupted,
    })
}

struct Batch {
    ended: u64,
    already_ended: u64,
    audit_seq: i64,
}

async fn target_ids(db: &Db, cond: &Cond) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .column(Alias::new("id"))
        .cond_where(cond.clone())
        .order_by(Alias::new("created_at"), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc);
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// One transaction: end those of `ids` still unrevoked, record their timeline events and one audit event.
#[allow(clippy::too_many_arguments)]
async fn batch(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    s: &Scope,
    reason: &str,
    bulk_id: Uuid,
    number: u32,
    ids: &[Uuid],
) -> Result<Batch> {
    let col = |c: &str| Expr::col(Alias::new(c));
    let now = clock.now();
    let mut tx = db.begin().await?;
    let mut u = Query::update();
    u.table(Alias::new("sessions"))
        .values([
            (Alias::new("revoked_at"), now.into()),
            (Alias::new("revoked_by"), actor.label.clone().into()),
            (Alias::new("revoke_reason"), s.revoke_reason.into()),
        ])
        .and_where(col("id").is_in(ids.iter().copied()))
        .and_where(col("revoked_at").is_null())
        .returning(Query::returning().columns([Alias::new("id"), Alias::new("user_id"), Alias::new("ip")]));
    let (sql, values) = build(db.backend(), &u);
    let ended: Vec<(Uuid, Uuid, Option<String>)> = with_tx!(&mut tx, |c| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(c)
        .await?);
    if !ended.is_empty() {
        let mut ins = Query::insert();
        ins.into_table(Alias::new("session_events")).columns([
            Alias::new("session_id"),
            Alias::new("user_id"),
            Alias::new("at"),
            Alias::new("kind"),
            Alias::new("ip"),
            Alias::new("detail"),
        ]);
        for (id, user_id, ip) in &ended {
            ins.values_panic([
                (*id).into(),
                (*user_id).into(),
                now.into(),
                "revoked".into(),
                ip.clone().into(),
                s.revoke_reason.into(),
            ]);
        }
        let (sql, values) = build(db.backend(), &ins);
        with_tx!(&mut tx, |c| sqlx::query_with(&sql, values)
            .persistent(false)
            .execute(c)
            .await?
            .rows_affected());
    }
    let mut users: Vec<Uuid> = ended.iter().map(|(_, u, _)| *u).collect();
    users.sort_unstable();
    users.dedup();
    let mut rec = Record::new("session.bulk_batch").reason(reason).meta(json!({
        "bulk_id": bulk_id.to_string(),
        "batch": number,
        "ended": ended.len(),
        "users": users.len(),
        "sessions": ended.iter().map(|(id, _, _)| id.to_string()).collect::<Vec<_>>(),
    }));
    if let Some(u) = s.single_user {
        rec = rec.user(u);
    }
    let audit_seq = audit::append(&mut tx, now, actor, rec).await?;
    with_tx!(&mut tx, |c| sqlx::query(
        "UPDATE bulk_runs SET terminated = terminated + $2, batches = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(bulk_id)
    .bind(ended.len() as i64)
    .bind(i64::from(number))
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(Batch {
        ended: ended.len() as u64,
        already_ended: (ids.len() - ended.len()) as u64,
        audit_seq,
    })
}

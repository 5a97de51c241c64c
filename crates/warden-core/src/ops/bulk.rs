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

use serde_json::json;
use uuid::Uuid;

use crate::model::audit::{check_limit, Record};
use crate::model::authz::{Actor, Admin, Permission, Staff};
pub use crate::model::bulk::{
    BulkPlan, BulkProgress, BulkRequest, BulkRun, BulkSummary, BulkTarget, LARGE, MAX_BATCH, MAX_SELECTION, STALE_AFTER,
};
use crate::model::clock::{Clock, Millis};
use crate::model::error::{Error, Result};
use crate::model::policy::Policy;
use crate::model::session::SessionCount;
use crate::model::vocab::{AuditAction, RevokeReason};
use crate::ops::admin::{list_items, require_reason};
use crate::store::bulk::{self as store, Selection};
use crate::store::{audit, policy_versions, users, Db};

/// What a checked request resolves to.
struct Scope {
    /// The live sessions to end (the operator's own kept out unless asked).
    selection: Selection,
    /// For a selection: how many distinct ids it names.
    selected: Option<u64>,
    /// The one user whose sessions these are, when they are one user's.
    single_user: Option<Uuid>,
    /// What the ended sessions record as their `revoke_reason`: `emergency` for "sign out everyone",
    /// `bulk` otherwise (the user's timeline tells the two apart from a one-off `admin` revocation).
    revoke_reason: RevokeReason,
}

/// Checks who may do what and resolves the target to the live sessions of `now` (created by then).
async fn scope(db: &Db, actor: &Actor, req: &BulkRequest, policy: &Policy, now: Millis) -> Result<Scope> {
    actor.require(Permission::RevokeUserSessions)?;
    let may_bulk = actor.require(Permission::BulkRevokeSessions).is_ok();
    let (target, selected) = match &req.target {
        BulkTarget::Everyone => {
            actor.require(Permission::BulkRevokeSessions)?;
            (BulkTarget::Everyone, None)
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
            (req.target.clone(), None)
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
            let n = ids.len() as u64;
            (BulkTarget::Sessions(ids), Some(n))
        }
    };
    let selection = store::select(db, &target, policy, now, actor.session_id, req.include_own).await?;
    // Whose sessions: asked of the target before the operator's own is kept out, as before.
    let users = selection.users(db, 2).await?;
    let single_user = (users.len() == 1).then(|| users[0]);
    if !may_bulk {
        // Support: one user's sessions only, named as such (a user filter or ids all of one user)…
        let owners = match &target {
            BulkTarget::Filter(f) => match f.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(u) => vec![users::find(db, u).await?.id],
                None => vec![],
            },
            BulkTarget::Sessions(ids) => store::owners(db, ids).await?,
            BulkTarget::Everyone => vec![],
        };
        let one_user = match &target {
            BulkTarget::Filter(_) => owners.len() == 1,
            BulkTarget::Sessions(_) => users.len() <= 1 && owners.len() <= 1,
            BulkTarget::Everyone => false,
        };
        if !one_user {
            return Err(Error::Forbidden(
                "the support role may end sessions in bulk only within one user's sessions".into(),
            ));
        }
        // …and never another staff account's.
        for owner in owners {
            if let Some(u) = users::by_id(db, owner).await? {
                actor.require_over_sessions_of(u.id, u.role())?;
            }
        }
    }
    Ok(Scope {
        selection,
        selected,
        single_user,
        revoke_reason: match req.target {
            BulkTarget::Everyone => RevokeReason::Emergency,
            _ => RevokeReason::Bulk,
        },
    })
}

/// The dry run: what [`run`] would end now. Checks the same permissions; changes nothing.
pub async fn plan(db: &Db, staff: &Staff, req: &BulkRequest, now: Millis) -> Result<BulkPlan> {
    let actor = staff.actor();
    let (_, policy) = policy_versions::current(db).await?;
    let s = scope(db, actor, req, &policy, now).await?;
    let SessionCount { sessions, users } = s.selection.count(db).await?;
    let own_session_kept = s.selection.own_kept(db).await?;
    let with_own = sessions + u64::from(own_session_kept);
    let rows = s.selection.sample(db, 5).await?;
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

/// Unfinished runs whose process is presumed gone ([`BulkRun::is_stale`]), oldest first.
async fn stale_runs(db: &Db, now: Millis) -> Result<Vec<BulkRun>> {
    store::quiet_runs(db, now.saturating_sub(STALE_AFTER)).await
}

/// The most recent bulk runs, newest first: finished, interrupted, or still running (an unfinished run
/// that wrote a batch within [`STALE_AFTER`]). Needs BulkRevokeSessions.
pub async fn runs(db: &Db, admin: &Admin, limit: u32) -> Result<Vec<BulkRun>> {
    let actor = admin.actor();
    actor.require(Permission::BulkRevokeSessions)?;
    store::recent_runs(db, check_limit(limit)?).await
}

/// Records each stale run as interrupted: one `session.bulk_interrupted` event per run saying what it
/// did and did not do, and the run closed, in one transaction each. Returns them as recorded.
async fn close_stale_runs(db: &Db, actor: &Actor, now: Millis) -> Result<Vec<BulkRun>> {
    let mut closed = Vec::new();
    for run in stale_runs(db, now).await? {
        let mut tx = db.begin().await?;
        let rec = Record::new(AuditAction::SessionBulkInterrupted)
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
        if store::finish_run(&mut tx, run.id, now, seq, true).await? {
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
    staff: &Staff,
    clock: &dyn Clock,
    req: &BulkRequest,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BulkProgress) + Send),
) -> Result<BulkSummary> {
    let actor = staff.actor();
    let reason = require_reason(&req.reason)?;
    if req.batch_size.is_some_and(|n| n == 0 || n > MAX_BATCH) {
        return Err(Error::invalid("batch_size", format!("must be 1 to {MAX_BATCH}")));
    }
    let started = clock.now();
    let (_, policy) = policy_versions::current(db).await?;
    actor.require_fresh(started, policy.privileged.reauth_after.as_millis())?;
    let s = scope(db, actor, req, &policy, started).await?;
    // The target is fixed when the run starts: the ids of the live sessions it covers, oldest first, read
    // once (one scan; 16 bytes a session). Each batch then ends its slice by id.
    let ids = s.selection.ids(db).await?;
    let matched = ids.len() as u64;
    let skipped = u64::from(s.selection.own_kept(db).await?);
    let with_own = matched + skipped;
    let interrupted = close_stale_runs(db, actor, started).await?;
    let bulk_id = Uuid::now_v7();
    let target = match &req.target {
        BulkTarget::Filter(_) => "filter",
        BulkTarget::Sessions(_) => "sessions",
        BulkTarget::Everyone => "everyone",
    };
    store::start_run(db, bulk_id, started, &actor.label, reason, target, matched as i64).await?;
    let mut done = 0u64;
    let mut already_ended = s.selected.map_or(0, |n| n.saturating_sub(with_own));
    let mut failed = 0u64;
    let mut batches = 0u32;
    let mut batch_seqs: Vec<i64> = Vec::new();
    let mut cancelled = false;
    let mut error = None;
    let mut size = BatchSize::new(req.batch_size);
    let mut next = 0usize;
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
        if next >= ids.len() {
            break;
        }
        let chunk = &ids[next..(next + size.current()).min(ids.len())];
        let took = std::time::Instant::now();
        match batch(db, actor, clock, &s, reason, bulk_id, batches + 1, chunk).await {
            Ok(b) => {
                next += chunk.len();
                size.after(chunk.len(), took.elapsed());
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
                failed = (ids.len() - next) as u64;
                error = Some(e.to_string());
                break;
            }
        }
    }
    let mut rec = Record::new(AuditAction::SessionBulkRevoked).reason(reason).meta(json!({
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
    store::finish_run(&mut tx, bulk_id, finished, audit_seq, false).await?;
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

/// How many sessions the next batch ends. A size asked for is kept. Without one, the first batch is
/// small and each next one is sized from the last one's time to take about [`BATCH_TARGET`]: a run
/// longer than a second reports its progress several times a second and can be cancelled between
/// batches, and a large run does not crawl in tiny transactions (at most [`MAX_BATCH`]).
struct BatchSize {
    fixed: bool,
    size: usize,
}

/// The first batch of a run whose batch size adapts.
const FIRST_BATCH: usize = 50;
/// What an adapting batch aims to take.
const BATCH_TARGET: std::time::Duration = std::time::Duration::from_millis(250);

impl BatchSize {
    fn new(asked: Option<u32>) -> BatchSize {
        match asked {
            Some(n) => BatchSize {
                fixed: true,
                size: n as usize,
            },
            None => BatchSize {
                fixed: false,
                size: FIRST_BATCH,
            },
        }
    }

    fn current(&self) -> usize {
        self.size
    }

    /// After a batch of `n` sessions that took `took`.
    fn after(&mut self, n: usize, took: std::time::Duration) {
        if self.fixed || n == 0 {
            return;
        }
        let per_session = took.as_secs_f64() / n as f64;
        let fits = if per_session > 0.0 {
            (BATCH_TARGET.as_secs_f64() / per_session) as usize
        } else {
            MAX_BATCH as usize
        };
        // Grow at most fourfold at a time, so one fast batch does not make a slow giant.
        self.size = fits.clamp(10, (self.size * 4).min(MAX_BATCH as usize));
    }
}

struct Batch {
    ended: u64,
    already_ended: u64,
    audit_seq: i64,
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
    let now = clock.now();
    let mut tx = db.begin().await?;
    let ended = store::end_batch(&mut tx, ids, now, &actor.label, s.revoke_reason).await?;
    let mut users: Vec<Uuid> = ended.iter().map(|(_, u, _)| *u).collect();
    users.sort_unstable();
    users.dedup();
    let mut rec = Record::new(AuditAction::SessionBulkBatch).reason(reason).meta(json!({
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
    store::record_batch(&mut tx, bulk_id, ended.len() as i64, number, now).await?;
    tx.commit().await?;
    Ok(Batch {
        ended: ended.len() as u64,
        already_ended: (ids.len() - ended.len()) as u64,
        audit_seq,
    })
}

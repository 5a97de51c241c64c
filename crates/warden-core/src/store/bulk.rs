//! Bulk termination's reads and writes: the live sessions a request covers, ending them a batch at a
//! time with their timeline events, and the run's own row (`bulk_runs`), written when it starts and in
//! the transaction of each batch and of its summary.

use sea_query::{Alias, Cond, Expr, Order, Query};
use uuid::Uuid;

use crate::model::bulk::{BulkRun, BulkTarget};
use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::policy::Policy;
use crate::model::session::{SessionCount, SessionRow};
use crate::model::session_filter::{SessionFilter, SessionState};
use crate::model::vocab::RevokeReason;
use crate::store::{build, session_filter, sessions, Db, Tx};
use crate::{with_db, with_tx};

fn col(c: &str) -> Expr {
    Expr::col(Alias::new(c))
}

/// The live sessions a request covers, as of the time it was resolved.
pub struct Selection {
    cond: Cond,
    /// The operator's session, kept out of `cond`, with the condition it would otherwise have met.
    kept_own: Option<(Uuid, Cond)>,
}

/// Resolves `target` (its ids already checked and without repeats) to the sessions live under `policy`
/// at `now` and created by then; `own` is kept out unless `include_own`.
pub async fn select(
    db: &Db,
    target: &BulkTarget,
    policy: &Policy,
    now: Millis,
    own: Option<Uuid>,
    include_own: bool,
) -> Result<Selection> {
    let live = sessions::live_cond(policy, now).add(col("created_at").lte(now));
    let cond = match target {
        BulkTarget::Everyone => live,
        BulkTarget::Filter(f) => {
            let f = SessionFilter {
                status: SessionState::All,
                ..(**f).clone()
            };
            session_filter::cond(&f, db, policy, now).await?.add(live)
        }
        BulkTarget::Sessions(ids) => live.add(col("id").is_in(ids.iter().copied())),
    };
    Ok(match (own, include_own) {
        (Some(own), false) => Selection {
            cond: cond.clone().add(col("id").ne(own)),
            kept_own: Some((own, cond)),
        },
        _ => Selection { cond, kept_own: None },
    })
}

impl Selection {
    /// Up to `limit` distinct users whose sessions the target names, the operator's own counted even
    /// where it is kept.
    pub async fn users(&self, db: &Db, limit: u64) -> Result<Vec<Uuid>> {
        let target = self.kept_own.as_ref().map_or(&self.cond, |(_, cond)| cond);
        let mut q = Query::select();
        q.from(Alias::new("sessions"))
            .column(Alias::new("user_id"))
            .distinct()
            .cond_where(target.clone())
            .limit(limit);
        let (sql, values) = build(db.backend(), &q);
        Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
            .persistent(false)
            .fetch_all(p)
            .await?))
    }

    /// How many sessions, of how many users.
    pub async fn count(&self, db: &Db) -> Result<SessionCount> {
        sessions::count_where(db, self.cond.clone()).await
    }

    /// Whether the operator's session would be selected but is kept (one lookup by id).
    pub async fn own_kept(&self, db: &Db) -> Result<bool> {
        let Some((own, cond)) = &self.kept_own else {
            return Ok(false);
        };
        let n = sessions::count_where(db, cond.clone().add(col("id").eq(*own))).await?;
        Ok(n.sessions > 0)
    }

    /// The newest few selected sessions.
    pub async fn sample(&self, db: &Db, n: u64) -> Result<Vec<SessionRow>> {
        sessions::newest(db, self.cond.clone(), n).await
    }

    /// The ids of every selected session, oldest first (one scan; 16 bytes a session).
    pub async fn ids(&self, db: &Db) -> Result<Vec<Uuid>> {
        let mut q = Query::select();
        q.from(Alias::new("sessions"))
            .column(Alias::new("id"))
            .cond_where(self.cond.clone())
            .order_by(Alias::new("created_at"), Order::Asc)
            .order_by(Alias::new("id"), Order::Asc);
        let (sql, values) = build(db.backend(), &q);
        Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
            .persistent(false)
            .fetch_all(p)
            .await?))
    }
}

/// The distinct owners of these sessions (live or not).
pub async fn owners(db: &Db, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .column(Alias::new("user_id"))
        .distinct()
        .and_where(col("id").is_in(ids.iter().copied()));
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// Ends those of `ids` still unrevoked (`revoked_by`, `revoke_reason`) and writes their timeline events;
/// returns `(id, user_id, ip)` of each one it ended.
pub async fn end_batch(
    tx: &mut Tx,
    ids: &[Uuid],
    now: Millis,
    by: &str,
    reason: RevokeReason,
) -> Result<Vec<(Uuid, Uuid, Option<String>)>> {
    let mut u = Query::update();
    u.table(Alias::new("sessions"))
        .values([
            (Alias::new("revoked_at"), now.into()),
            (Alias::new("revoked_by"), by.into()),
            (Alias::new("revoke_reason"), reason.as_str().into()),
        ])
        .and_where(col("id").is_in(ids.iter().copied()))
        .and_where(col("revoked_at").is_null())
        .returning(Query::returning().columns([Alias::new("id"), Alias::new("user_id"), Alias::new("ip")]));
    let (sql, values) = build(tx.backend(), &u);
    let ended: Vec<(Uuid, Uuid, Option<String>)> = with_tx!(tx, |c| sqlx::query_as_with(&sql, values)
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
                reason.as_str().into(),
            ]);
        }
        let (sql, values) = build(tx.backend(), &ins);
        with_tx!(tx, |c| sqlx::query_with(&sql, values)
            .persistent(false)
            .execute(c)
            .await?
            .rows_affected());
    }
    Ok(ended)
}

const RUN_COLUMNS: &str = "id, started_at, actor_label, reason, target, matched, terminated, batches, updated_at, \
    finished_at, interrupted, summary_seq";

/// Records a run as it starts.
pub async fn start_run(
    db: &Db,
    id: Uuid,
    started_at: Millis,
    by: &str,
    reason: &str,
    target: &str,
    matched: i64,
) -> Result<()> {
    with_db!(db, |p| sqlx::query(
        "INSERT INTO bulk_runs (id, started_at, actor_label, reason, target, matched, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $2)"
    )
    .bind(id)
    .bind(started_at)
    .bind(by)
    .bind(reason)
    .bind(target)
    .bind(matched)
    .execute(p)
    .await?
    .rows_affected());
    Ok(())
}

/// Records a batch of a run (in the batch's transaction): `ended` more sessions, `number` batches.
pub async fn record_batch(tx: &mut Tx, id: Uuid, ended: i64, number: u32, now: Millis) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE bulk_runs SET terminated = terminated + $2, batches = $3, updated_at = $4 WHERE id = $1"
    )
    .bind(id)
    .bind(ended)
    .bind(i64::from(number))
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Closes a run with its summary event (in the summary's transaction). With `interrupted`, only if it is
/// still open: false when another run closed it first.
pub async fn finish_run(tx: &mut Tx, id: Uuid, now: Millis, summary_seq: i64, interrupted: bool) -> Result<bool> {
    let updated = if interrupted {
        with_tx!(tx, |c| {
            sqlx::query(
            "UPDATE bulk_runs SET finished_at = $2, interrupted = $3, summary_seq = $4 WHERE id = $1 AND finished_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .bind(true)
        .bind(summary_seq)
        .execute(c)
        .await?
        .rows_affected()
        })
    } else {
        with_tx!(tx, |c| sqlx::query(
            "UPDATE bulk_runs SET finished_at = $2, updated_at = $2, summary_seq = $3 WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .bind(summary_seq)
        .execute(c)
        .await?
        .rows_affected())
    };
    Ok(updated == 1)
}

/// Unfinished runs that wrote no batch since `quiet_since`, oldest first.
pub async fn quiet_runs(db: &Db, quiet_since: Millis) -> Result<Vec<BulkRun>> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM bulk_runs WHERE finished_at IS NULL AND updated_at < $1 ORDER BY started_at"
    );
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(quiet_since)
        .fetch_all(p)
        .await?))
}

/// The most recent runs, newest first.
pub async fn recent_runs(db: &Db, limit: u32) -> Result<Vec<BulkRun>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM bulk_runs ORDER BY started_at DESC, id DESC LIMIT $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?))
}

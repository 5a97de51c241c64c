//! The append-only, tamper-evident audit log: `audit_events` and its head (`audit_head`).
//!
//! Every event is written in the same transaction as the change it records. Appenders serialize on the
//! head row: it is updated first, which takes the write lock, so concurrent appenders queue and the chain
//! stays linear. The database itself refuses UPDATE and DELETE (triggers).

use sea_query::{Alias, Cond, Expr, Order, Query};
use uuid::Uuid;

use crate::model::audit::{check_limit, AuditEvent, AuditFilter, AuditPage, Record};
use crate::model::authz::Actor;
use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::store::{build, Db, Tx};
use crate::{with_db, with_tx};

pub const COLUMNS: &str = "seq, at, actor_id, actor_kind, actor_label, action, target_user_id, target_session_id, status, reason, ip, metadata, prev_hash, hash";

/// Appends one event inside `tx`; returns its seq. The head row is updated first, which takes the write
/// lock, so concurrent appenders queue and the chain stays linear.
pub async fn append(tx: &mut Tx, at: Millis, actor: &Actor, rec: Record<'_>) -> Result<i64> {
    let (seq, prev_hash): (i64, String) = with_tx!(tx, |c| sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
    )
    .fetch_one(c)
    .await?);
    let mut ev = AuditEvent {
        seq,
        at,
        actor_id: actor.id,
        actor_kind: actor.kind.as_str().to_owned(),
        actor_label: actor.label.clone(),
        action: rec.action.as_str().to_owned(),
        target_user_id: rec.target_user,
        target_session_id: rec.target_session,
        status: rec.status.as_str().to_owned(),
        reason: rec.reason.map(str::to_owned),
        ip: actor.ip.clone(),
        metadata: rec.metadata.to_string(),
        prev_hash,
        hash: String::new(),
    };
    ev.hash = ev.compute_hash();
    let insert = format!(
        "INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    with_tx!(tx, |c| {
        sqlx::query(&insert)
            .bind(ev.seq)
            .bind(ev.at)
            .bind(ev.actor_id)
            .bind(&ev.actor_kind)
            .bind(&ev.actor_label)
            .bind(&ev.action)
            .bind(ev.target_user_id)
            .bind(ev.target_session_id)
            .bind(&ev.status)
            .bind(&ev.reason)
            .bind(&ev.ip)
            .bind(&ev.metadata)
            .bind(&ev.prev_hash)
            .bind(&ev.hash)
            .execute(&mut *c)
            .await?
            .rows_affected();
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&ev.hash)
            .execute(&mut *c)
            .await?
            .rows_affected();
    });
    Ok(seq)
}

/// Appends one event in a transaction of its own (for events that accompany no other change, such as a
/// failed admin action or a verification run).
pub async fn append_alone(db: &Db, at: Millis, actor: &Actor, rec: Record<'_>) -> Result<i64> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, at, actor, rec).await?;
    tx.commit().await?;
    Ok(seq)
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn filter_cond(f: &AuditFilter) -> Cond {
    let col = |c: &str| Expr::col(Alias::new(c));
    let mut cond = Cond::all();
    if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(match Uuid::parse_str(a) {
            Ok(id) => col("actor_id").eq(id),
            Err(_) => col("actor_label").like(sea_query::LikeExpr::new(format!("%{}%", like_escape(a))).escape('\\')),
        });
    }
    if let Some(u) = f.target_user {
        cond = cond.add(col("target_user_id").eq(u));
    }
    if let Some(s) = f.target_session {
        cond = cond.add(col("target_session_id").eq(s));
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(if a.ends_with('.') {
            col("action").like(sea_query::LikeExpr::new(format!("{}%", like_escape(a))).escape('\\'))
        } else {
            col("action").eq(a)
        });
    }
    if let Some(s) = f.status {
        cond = cond.add(col("status").eq(s.as_str()));
    }
    if let Some(ip) = f.ip.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(col("ip").eq(ip));
    }
    if let Some(t) = f.from {
        cond = cond.add(col("at").gte(t));
    }
    if let Some(t) = f.to {
        cond = cond.add(col("at").lt(t));
    }
    if let Some(r) = f.reason.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(col("reason").like(sea_query::LikeExpr::new(format!("%{}%", like_escape(r))).escape('\\')));
    }
    if let Some(s) = f.through_seq {
        cond = cond.add(col("seq").lte(s));
    }
    cond
}

/// One page of events matching `filter`, seq below `before`, newest first.
pub async fn list(db: &Db, filter: &AuditFilter, before: Option<i64>, limit: u32) -> Result<AuditPage> {
    let limit = check_limit(limit)?;
    let mut q = Query::select();
    q.from(Alias::new("audit_events"));
    for c in COLUMNS.split(", ") {
        q.column(Alias::new(c));
    }
    let mut cond = filter_cond(filter);
    if let Some(b) = before {
        cond = cond.add(Expr::col(Alias::new("seq")).lt(b));
    }
    q.cond_where(cond)
        .order_by(Alias::new("seq"), Order::Desc)
        .limit(u64::from(limit) + 1);
    let (sql, values) = build(db.backend(), &q);
    let mut events: Vec<AuditEvent> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    let next_cursor = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AuditPage {
        events,
        next_cursor,
        target_emails: Default::default(),
    })
}

/// The seq of the newest event (0 for an empty log).
pub async fn head_seq(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |p| sqlx::query_scalar(
        "SELECT seq FROM audit_head WHERE id = 1"
    )
    .fetch_one(p)
    .await?))
}

/// Counts events matching `filter` (for `total` in paginated answers of modest size).
pub async fn count(db: &Db, filter: &AuditFilter) -> Result<i64> {
    let mut q = Query::select();
    q.from(Alias::new("audit_events"))
        .expr(Expr::col(Alias::new("seq")).count())
        .cond_where(filter_cond(filter));
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?))
}

/// The head as committed: the seq and hash of the newest event (0 and the genesis hash for an empty log).
pub async fn head(db: &Db) -> Result<(i64, String)> {
    Ok(with_db!(db, |p| sqlx::query_as(
        "SELECT seq, hash FROM audit_head WHERE id = 1"
    )
    .fetch_one(p)
    .await?))
}

/// Events after `after` up to `through` (inclusive), oldest first, at most `limit`: one batch of a walk
/// of the chain.
pub async fn events_between(db: &Db, after: i64, through: i64, limit: i64) -> Result<Vec<AuditEvent>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 AND seq <= $3 ORDER BY seq LIMIT $2");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(after)
        .bind(limit)
        .bind(through)
        .fetch_all(p)
        .await?))
}

/// Moves the head to `seq` and `hash` (the demo generator, which writes whole chains in bulk).
pub async fn set_head(tx: &mut Tx, seq: i64, hash: &str) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1"
    )
    .bind(seq)
    .bind(hash)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Calls `each` for every event matching `filter`, oldest first, in batches (for export).
pub async fn for_each(db: &Db, filter: &AuditFilter, mut each: impl FnMut(&AuditEvent) -> Result<()>) -> Result<i64> {
    let mut after = 0_i64;
    let mut n = 0_i64;
    loop {
        let mut q = Query::select();
        q.from(Alias::new("audit_events"));
        for c in COLUMNS.split(", ") {
            q.column(Alias::new(c));
        }
        q.cond_where(filter_cond(filter).add(Expr::col(Alias::new("seq")).gt(after)))
            .order_by(Alias::new("seq"), Order::Asc)
            .limit(10_000);
        let (sql, values) = build(db.backend(), &q);
        let batch: Vec<AuditEvent> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
            .persistent(false)
            .fetch_all(p)
            .await?);
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for ev in &batch {
            each(ev)?;
            n += 1;
        }
    }
    Ok(n)
}

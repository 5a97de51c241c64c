//! The append-only, tamper-evident audit log.
//!
//! Every event is written in the same transaction as the change it records. Each event's `hash` is
//! SHA-256(prev_hash ‖ canonical event), so editing, deleting or reordering any event breaks the chain at
//! that point; the `audit_head` row holds the last seq and hash, so cutting off the tail is caught too.
//! Appenders serialize on the head row. The database itself refuses UPDATE and DELETE (triggers).

use sea_query::{Alias, Cond, Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::authz::{Actor, Permission};
use crate::store::{build, Db, Tx};
use crate::{with_db, with_tx, Error, Millis, Result};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Status {
    Success,
    Failure,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
        }
    }
}

/// What an action records, besides who and when.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub action: &'a str,
    pub status: Status,
    pub reason: Option<&'a str>,
    pub target_user: Option<Uuid>,
    pub target_session: Option<Uuid>,
    /// Must never hold a secret. Keep to strings, integers and booleans: the hash is over its text.
    pub metadata: Value,
}

impl<'a> Record<'a> {
    pub fn new(action: &'a str) -> Self {
        Record {
            action,
            status: Status::Success,
            reason: None,
            target_user: None,
            target_session: None,
            metadata: json!({}),
        }
    }
    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }
    pub fn user(mut self, id: Uuid) -> Self {
        self.target_user = Some(id);
        self
    }
    pub fn session(mut self, id: Uuid) -> Self {
        self.target_session = Some(id);
        self
    }
    pub fn failed(mut self) -> Self {
        self.status = Status::Failure;
        self
    }
    pub fn meta(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEvent {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: Millis,
    pub actor_id: Option<Uuid>,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub target_user_id: Option<Uuid>,
    pub target_session_id: Option<Uuid>,
    pub status: String,
    pub reason: Option<String>,
    pub ip: Option<String>,
    /// Canonical JSON text, exactly as hashed.
    pub metadata: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The canonical form that is hashed: a JSON object with sorted keys and the metadata as stored.
    fn canonical(&self) -> String {
        json!({
            "seq": self.seq,
            "at": self.at,
            "actor_id": self.actor_id.map(|u| u.to_string()),
            "actor_kind": self.actor_kind,
            "actor_label": self.actor_label,
            "action": self.action,
            "target_user_id": self.target_user_id.map(|u| u.to_string()),
            "target_session_id": self.target_session_id.map(|u| u.to_string()),
            "status": self.status,
            "reason": self.reason,
            "ip": self.ip,
            "metadata": self.metadata,
        })
        .to_string()
    }

    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(self.canonical().as_bytes());
        hex::encode(h.finalize())
    }
}

pub(crate) const COLUMNS: &str = "seq, at, actor_id, actor_kind, actor_label, action, target_user_id, target_session_id, status, reason, ip, metadata, prev_hash, hash";

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
        action: rec.action.to_owned(),
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

/// Filters for the audit page and export. All optional; they combine with AND.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Actor id, or a substring of the actor label (email, `user@host`).
    pub actor: Option<String>,
    pub target_user: Option<Uuid>,
    pub target_session: Option<Uuid>,
    /// Exact action (`session.revoked`) or a group prefix ending in a dot (`session.`).
    pub action: Option<String>,
    pub status: Option<Status>,
    pub ip: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Free text searched in the reason.
    pub reason: Option<String>,
    /// Only events up to this seq: an export's snapshot, so events appended while it runs (its own
    /// included) are not in it and its count is exact.
    #[serde(default)]
    pub through_seq: Option<i64>,
}

pub const MAX_PAGE: u32 = 500;

/// One page of the audit log, newest first, keyset-paged by seq: `before` is the `next_cursor` of the
/// previous page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub next_cursor: Option<i64>,
}

impl AuditFilter {
    /// The set filters as `{name: value}`, for audit metadata (what an export or a check covered).
    pub fn describe(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        };
        put("actor", self.actor.clone());
        put("target_user", self.target_user.map(|u| u.to_string()));
        put("target_session", self.target_session.map(|u| u.to_string()));
        put("action", self.action.clone());
        put("status", self.status.map(|s| s.as_str().to_owned()));
        put("ip", self.ip.clone());
        put("from", self.from.map(crate::clock::format_ms));
        put("to", self.to.map(crate::clock::format_ms));
        put("reason", self.reason.clone());
        Value::Object(m)
    }
}

pub fn check_limit(limit: u32) -> Result<u32> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid("limit", format!("must be between 1 and {MAX_PAGE}")));
    }
    Ok(limit)
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

/// Reads one page of events matching `filter`, seq below `before`, newest first. Needs ViewAudit.
pub async fn list(db: &Db, actor: &Actor, filter: &AuditFilter, before: Option<i64>, limit: u32) -> Result<AuditPage> {
    actor.require(Permission::ViewAudit)?;
    list_unchecked(db, filter, before, limit).await
}

/// The same query without the role check, for doors that scope it themselves (a user's own events).
pub async fn list_unchecked(db: &Db, filter: &AuditFilter, before: Option<i64>, limit: u32) -> Result<AuditPage> {
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
    Ok(AuditPage { events, next_cursor })
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

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verification {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub events_verified: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub head_seq: i64,
    /// The first broken link, if any.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub broken_at: Option<i64>,
    pub detail: Option<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.broken_at.is_none()
    }
}

/// Walks the chain in seq order up to the head as it stands when the check starts, calling
/// `progress(verified_so_far, total)` after each batch: events that other transactions append meanwhile
/// are left to the next check. The check itself is audited (`audit.verified` with the head it reached,
/// failure status when the chain is broken).
pub async fn verify(db: &Db, actor: &Actor, now: Millis, mut progress: impl FnMut(i64, i64)) -> Result<Verification> {
    actor.require(Permission::VerifyAudit)?;
    let report = walk_chain(db, &mut progress).await?;
    let rec = Record::new("audit.verified").meta(json!({
        "events_verified": report.events_verified,
        "head_seq": report.head_seq,
        "broken_at": report.broken_at,
        "detail": report.detail,
    }));
    append_alone(db, now, actor, if report.is_intact() { rec } else { rec.failed() }).await?;
    Ok(report)
}

async fn walk_chain(db: &Db, progress: &mut impl FnMut(i64, i64)) -> Result<Verification> {
    const BATCH: i64 = 20_000;
    let (head_seq, head_hash): (i64, String) =
        with_db!(db, |p| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(p)
            .await?);
    // The walk stops at the head read above: events appended while it runs are not part of this check
    // (and are not missing from it).
    let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 AND seq <= $3 ORDER BY seq LIMIT $2");
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut verified = 0_i64;
    let broken = |seq: i64, detail: String, verified: i64| Verification {
        events_verified: verified,
        head_seq,
        broken_at: Some(seq),
        detail: Some(detail),
    };
    loop {
        let batch: Vec<AuditEvent> = with_db!(db, |p| sqlx::query_as(&sql)
            .bind(expected_seq - 1)
            .bind(BATCH)
            .bind(head_seq)
            .fetch_all(p)
            .await?);
        if batch.is_empty() {
            break;
        }
        for ev in &batch {
            if ev.seq != expected_seq {
                return Ok(broken(
                    expected_seq,
                    format!("event {expected_seq} is missing (next is {})", ev.seq),
                    verified,
                ));
            }
            if ev.prev_hash != prev_hash {
                return Ok(broken(
                    ev.seq,
                    "its prev_hash does not match the hash of the event before it".into(),
                    verified,
                ));
            }
            if ev.compute_hash() != ev.hash {
                return Ok(broken(
                    ev.seq,
                    "its content does not match its hash (the event was altered)".into(),
                    verified,
                ));
            }
            prev_hash = ev.hash.clone();
            expected_seq += 1;
            verified += 1;
        }
        progress(verified, head_seq);
    }
    if verified != head_seq || prev_hash != head_hash {
        return Ok(broken(
            verified + 1,
            format!("the chain ends at event {verified} but the head records {head_seq} events (events were removed)"),
            verified,
        ));
    }
    Ok(Verification {
        events_verified: verified,
        head_seq,
        broken_at: None,
        detail: None,
    })
}

/// Calls `each` for every event matching `filter`, oldest first, in batches (for export). Needs VerifyAudit.
pub async fn for_each(
    db: &Db,
    actor: &Actor,
    filter: &AuditFilter,
    mut each: impl FnMut(&AuditEvent) -> Result<()>,
) -> Result<i64> {
    actor.require(Permission::VerifyAudit)?;
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

//! The timeline's reads: a user's sessions overlapping a range, and the marks on them and on the
//! account's row. Every read is one index range: `sessions_by_user`, `session_events_by_user`,
//! `login_attempts_by_user` and the partial `audit_lock_events`.

use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::store::Db;
use crate::with_db;

/// The stored columns the timeline needs of a session.
#[derive(sqlx::FromRow)]
pub struct SessionBar {
    pub id: Uuid,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub refreshed_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub device: String,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub auth_method: String,
    pub client: Option<String>,
    pub privileged: bool,
}

/// A mark on a session's bar, as stored.
#[derive(sqlx::FromRow)]
pub struct EventRow {
    pub session_id: Uuid,
    pub at: Millis,
    pub kind: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// A lock or unlock of the account, from the audit log.
#[derive(sqlx::FromRow)]
pub struct LockRow {
    pub at: Millis,
    pub action: String,
    pub actor_label: String,
    pub reason: Option<String>,
    pub metadata: String,
}

/// A user's sessions that began by `to` and ended (by revocation or expiry) at `from` or later, having
/// begun no earlier than `from - longest` (no session lived longer), newest first, at most `limit`.
pub async fn sessions(
    db: &Db,
    user_id: Uuid,
    from: Millis,
    to: Millis,
    longest: Millis,
    limit: i64,
) -> Result<Vec<SessionBar>> {
    let rows: Vec<SessionBar> = with_db!(db, |p| sqlx::query_as(
        "SELECT id, created_at, last_seen_at, refreshed_at, expires_at, revoked_at, revoked_by, revoke_reason, \
         device, browser, os, ip, country, city, auth_method, client, privileged \
         FROM sessions WHERE user_id = $1 AND created_at >= $2 AND created_at <= $4 \
         AND COALESCE(revoked_at, expires_at) >= $3 ORDER BY created_at DESC, id DESC LIMIT $5"
    )
    .bind(user_id)
    .bind(from.saturating_sub(longest))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    Ok(rows)
}

/// The refreshes, address changes, elevations and revocations of a user's sessions in `[from, to]`.
pub async fn session_marks(db: &Db, user_id: Uuid, from: Millis, to: Millis, limit: i64) -> Result<Vec<EventRow>> {
    let events: Vec<EventRow> = with_db!(db, |p| sqlx::query_as(
        // A refresh happens where the session already is; only a change says where it went.
        "SELECT session_id, at, kind, CASE WHEN kind = 'ip_changed' THEN ip END AS ip, detail FROM session_events \
         WHERE user_id = $1 AND at >= $2 AND at <= $3 AND kind IN ('refreshed', 'ip_changed', 'elevated', 'revoked') \
         ORDER BY at, id LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    Ok(events)
}

/// A user's failed sign-ins in `[from, to]`: `(at, ip, outcome)`.
pub async fn failures(
    db: &Db,
    user_id: Uuid,
    from: Millis,
    to: Millis,
    limit: i64,
) -> Result<Vec<(Millis, Option<String>, String)>> {
    let failures: Vec<(Millis, Option<String>, String)> = with_db!(db, |p| sqlx::query_as(
        "SELECT at, ip, outcome FROM login_attempts \
         WHERE user_id = $1 AND at >= $2 AND at <= $3 AND outcome <> 'success' ORDER BY at, id LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    Ok(failures)
}

/// The locks and unlocks of a user's account in `[from, to]`, from the audit log.
pub async fn locks(db: &Db, user_id: Uuid, from: Millis, to: Millis, limit: i64) -> Result<Vec<LockRow>> {
    let locks: Vec<LockRow> = with_db!(db, |p| sqlx::query_as(
        "SELECT at, action, actor_label, reason, metadata FROM audit_events \
         WHERE target_user_id = $1 AND action IN ('user.locked', 'user.unlocked') AND at >= $2 AND at <= $3 \
         ORDER BY at, seq LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(p)
    .await?);
    Ok(locks)
}

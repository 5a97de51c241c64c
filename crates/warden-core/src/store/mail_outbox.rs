//! The outbox (`mail_outbox`): mail kept until a mail server accepted it. A sender claims a row by a
//! conditional update on its attempt count, so two server processes never send the same attempt.

use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::mail::{MailRow, UndeliveredMail};
use crate::store::Db;
use crate::with_db;

const COLUMNS: &str = "id, user_id, kind, created_at, attempts, next_at, last_error, sent_at, gave_up_at";

/// Puts an email in the outbox, due at once.
pub async fn enqueue(db: &Db, id: Uuid, user_id: Uuid, kind: &str, now: Millis) -> Result<()> {
    with_db!(db, |p| sqlx::query(
        "INSERT INTO mail_outbox (id, user_id, kind, created_at, attempts, next_at) VALUES ($1, $2, $3, $4, 0, $4)"
    )
    .bind(id)
    .bind(user_id)
    .bind(kind)
    .bind(now)
    .execute(p)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<MailRow>> {
    let sql = format!("SELECT {COLUMNS} FROM mail_outbox WHERE id = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(p)
        .await?))
}

/// The rows due at `now`, oldest due first.
pub async fn due(db: &Db, now: Millis, limit: i64) -> Result<Vec<MailRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM mail_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_at <= $1 \
         ORDER BY next_at LIMIT $2"
    );
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// Claims attempt `attempts + 1` of a row still waiting, moving its next attempt to `lease_until` (in
/// case the sender dies); false when another sender claimed it first.
pub async fn claim(db: &Db, id: Uuid, attempts: i32, lease_until: Millis) -> Result<bool> {
    let n = with_db!(db, |p| sqlx::query(
        "UPDATE mail_outbox SET attempts = attempts + 1, next_at = $3 \
         WHERE id = $1 AND attempts = $2 AND sent_at IS NULL AND gave_up_at IS NULL"
    )
    .bind(id)
    .bind(attempts)
    .bind(lease_until)
    .execute(p)
    .await?
    .rows_affected());
    Ok(n == 1)
}

pub async fn mark_sent(db: &Db, id: Uuid, now: Millis) -> Result<()> {
    with_db!(db, |p| sqlx::query(
        "UPDATE mail_outbox SET sent_at = $2, last_error = NULL WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(p)
    .await?
    .rows_affected());
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at`, or given up at `now` when `None`.
pub async fn mark_failed(db: &Db, id: Uuid, error: &str, retry_at: Option<Millis>, now: Millis) -> Result<()> {
    with_db!(db, |p| sqlx::query(
        "UPDATE mail_outbox SET last_error = $2, next_at = COALESCE($3, next_at), \
         gave_up_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END WHERE id = $1"
    )
    .bind(id)
    .bind(error)
    .bind(retry_at)
    .bind(now)
    .execute(p)
    .await?
    .rows_affected());
    Ok(())
}

#[derive(sqlx::FromRow)]
struct UndeliveredRow {
    id: Uuid,
    user_id: Uuid,
    email: String,
    kind: String,
    created_at: Millis,
    attempts: i32,
    next_at: Millis,
    last_error: Option<String>,
    gave_up_at: Option<Millis>,
}

/// Mail not delivered: waiting, or given up since `since`; newest first, of one user or of all.
pub async fn undelivered(db: &Db, user: Option<Uuid>, since: Millis, limit: i64) -> Result<Vec<UndeliveredMail>> {
    let rows: Vec<UndeliveredRow> = with_db!(db, |p| sqlx::query_as(
        "SELECT m.id, m.user_id, u.email, m.kind, m.created_at, m.attempts, m.next_at, m.last_error, m.gave_up_at \
         FROM mail_outbox m JOIN users u ON u.id = m.user_id \
         WHERE m.sent_at IS NULL AND (m.gave_up_at IS NULL OR m.gave_up_at >= $2) AND ($1 IS NULL OR m.user_id = $1) \
         ORDER BY m.created_at DESC LIMIT $3"
    )
    .bind(user)
    .bind(since)
    .bind(limit)
    .fetch_all(p)
    .await?);
    Ok(rows
        .into_iter()
        .map(|r| UndeliveredMail {
            id: r.id,
            user_id: r.user_id,
            email: r.email,
            kind: r.kind,
            created_at: r.created_at,
            attempts: r.attempts,
            next_at: r.gave_up_at.is_none().then_some(r.next_at),
            last_error: r.last_error,
            gave_up_at: r.gave_up_at,
        })
        .collect())
}

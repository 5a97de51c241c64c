//! The outbox: an email is kept until a mail server accepted it. The door that sends (the HTTP server)
//! queues it, tries it at once, and a sender loop tries what is due again with a growing delay, giving
//! up after a day. Each attempt is claimed (one sender per attempt, across processes) and recorded;
//! support and admins list what is not delivered.

use uuid::Uuid;

use crate::model::authz::{Permission, Staff};
use crate::model::clock::{Millis, DAY, HOUR, MINUTE};
use crate::model::error::Result;
pub use crate::model::mail::{MailRow, UndeliveredMail};
use crate::store::{mail_outbox, Db};

/// The kind of a verification email.
pub const VERIFICATION: &str = "verification";

/// How long a claimed attempt may take before another sender may try again.
const LEASE: Millis = 2 * MINUTE;

/// After how long a failed email is given up.
pub const GIVE_UP_AFTER: Millis = DAY;

/// Queues an email of `kind` for `user_id`, due at once; returns its id.
pub async fn queue(db: &Db, now: Millis, user_id: Uuid, kind: &str) -> Result<Uuid> {
    let id = Uuid::now_v7();
    mail_outbox::enqueue(db, id, user_id, kind, now).await?;
    Ok(id)
}

/// Claims the next attempt of one email, if it is still waiting and nobody claimed it first.
pub async fn claim(db: &Db, now: Millis, id: Uuid) -> Result<Option<MailRow>> {
    let Some(row) = mail_outbox::get(db, id).await? else {
        return Ok(None);
    };
    if row.sent_at.is_some() || row.gave_up_at.is_some() {
        return Ok(None);
    }
    Ok(mail_outbox::claim(db, id, row.attempts, now + LEASE)
        .await?
        .then_some(MailRow {
            attempts: row.attempts + 1,
            ..row
        }))
}

/// Claims the emails due at `now` (at most `limit`), each for one attempt.
pub async fn claim_due(db: &Db, now: Millis, limit: i64) -> Result<Vec<MailRow>> {
    let mut claimed = Vec::new();
    for row in mail_outbox::due(db, now, limit).await? {
        if mail_outbox::claim(db, row.id, row.attempts, now + LEASE).await? {
            claimed.push(MailRow {
                attempts: row.attempts + 1,
                ..row
            });
        }
    }
    Ok(claimed)
}

/// The mail server accepted it.
pub async fn delivered(db: &Db, now: Millis, id: Uuid) -> Result<()> {
    mail_outbox::mark_sent(db, id, now).await
}

/// The delay before attempt `attempts + 1`: a minute, then 5, 15, 30 minutes, then every hour.
pub fn retry_delay(attempts: i32) -> Millis {
    match attempts {
        ..=1 => MINUTE,
        2 => 5 * MINUTE,
        3 => 15 * MINUTE,
        4 => 30 * MINUTE,
        _ => HOUR,
    }
}

/// An attempt failed with `error` (the mail server's answer, never the link): tried again later, or
/// given up once it has waited [`GIVE_UP_AFTER`]. Returns whether it will be tried again.
pub async fn not_delivered(db: &Db, now: Millis, mail: &MailRow, error: &str) -> Result<bool> {
    let retry_at = now + retry_delay(mail.attempts);
    let retry = (retry_at < mail.created_at + GIVE_UP_AFTER).then_some(retry_at);
    let error: String = error.chars().take(500).collect();
    mail_outbox::mark_failed(db, mail.id, &error, retry, now).await?;
    Ok(retry.is_some())
}

/// An email that needs sending no more (the address was verified meanwhile): closed as given up.
pub async fn not_needed(db: &Db, now: Millis, mail: &MailRow, why: &str) -> Result<()> {
    mail_outbox::mark_failed(db, mail.id, why, None, now).await
}

/// The mail not delivered — waiting, or given up within the last week — of one user or of everyone,
/// newest first. Needs ViewUsers.
pub async fn undelivered(
    db: &Db,
    staff: &Staff,
    user: Option<Uuid>,
    now: Millis,
    limit: u32,
) -> Result<Vec<UndeliveredMail>> {
    staff.actor().require(Permission::ViewUsers)?;
    mail_outbox::undelivered(db, user, now - 7 * DAY, i64::from(limit.clamp(1, 500))).await
}

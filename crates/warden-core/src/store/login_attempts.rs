//! Sign-in attempts (`login_attempts`): every attempt is recorded with its outcome; the stand-in lockout
//! of addresses without an account, the detection rules, the overview's chart and the timeline read them.

use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::session::ClientInfo;
use crate::model::vocab::AttemptOutcome;
use crate::store::{Backend, Db, Tx};
use crate::{with_db, with_tx};

/// Records one attempt: `success`, `bad_password`, `bad_totp`, `unknown_user` or `locked`.
pub async fn record(
    tx: &mut Tx,
    now: Millis,
    user: Option<Uuid>,
    email: &str,
    info: &ClientInfo,
    outcome: AttemptOutcome,
) -> Result<()> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO login_attempts (at, user_id, email, ip, user_agent, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now)
        .bind(user)
        .bind(email)
        .bind(&info.ip)
        .bind(&info.user_agent)
        .bind(outcome.as_str())
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The failed sign-ins for an address without an account after `since`, newest first, at most
/// `limit` (a partial index holds them).
const UNKNOWN_FAILURES: &str = "SELECT at FROM login_attempts \
    WHERE user_id IS NULL AND email = $1 AND at > $2 AND outcome = 'unknown_user' ORDER BY at DESC LIMIT $3";

/// [`UNKNOWN_FAILURES`], read outside a transaction (the quick check before any hashing).
pub async fn unknown_failures(db: &Db, email: &str, since: Millis, limit: i64) -> Result<Vec<Millis>> {
    Ok(with_db!(db, |c| sqlx::query_scalar(UNKNOWN_FAILURES)
        .bind(email)
        .bind(since)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// The same inside a write transaction, holding the address's lock until the transaction ends, as an
/// account's row is held: concurrent failures for one address are counted one after the other. On
/// PostgreSQL a transaction-scoped advisory lock on the address (key space 0x57415244, "WARD"); a SQLite
/// write transaction already holds the database.
pub async fn unknown_failures_locked(tx: &mut Tx, email: &str, since: Millis, limit: i64) -> Result<Vec<Millis>> {
    if tx.backend() == Backend::Postgres {
        with_tx!(tx, |c| sqlx::query(
            "SELECT pg_advisory_xact_lock(1463898692, hashtext($1))"
        )
        .bind(email)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(with_tx!(tx, |c| sqlx::query_scalar(UNKNOWN_FAILURES)
        .bind(email)
        .bind(since)
        .bind(limit)
        .fetch_all(c)
        .await?))
}

/// Failed attempts on an account after `since` and after its last success: how many, from how many
/// addresses.
pub async fn failures_since_success(tx: &mut Tx, user_id: Uuid, since: Millis) -> Result<(i64, i64)> {
    Ok(with_tx!(tx, |c| sqlx::query_as(
        "SELECT count(*), count(DISTINCT ip) FROM login_attempts \
         WHERE user_id = $1 AND outcome <> 'success' AND at > $2 AND at > \
         COALESCE((SELECT max(at) FROM login_attempts WHERE user_id = $1 AND outcome = 'success'), 0)"
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(c)
    .await?))
}

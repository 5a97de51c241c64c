//! One-time tokens (`verification_tokens`): the challenge between the password and the second factor,
//! and email verification links. Only the token's hash is stored; spending one is one conditional update.

use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::store::{Db, Tx};
use crate::{with_db, with_tx};

/// Stores a token of `purpose` for `user_id`, valid until `expires_at`.
pub async fn insert(
    tx: &mut Tx,
    token_hash: &[u8],
    user_id: Uuid,
    purpose: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<()> {
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO verification_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .bind(expires_at)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(())
}

/// Whose unused, unexpired token of `purpose` this is.
pub async fn owner(db: &Db, token_hash: &[u8], purpose: &str, now: Millis) -> Result<Option<Uuid>> {
    Ok(with_db!(db, |p| sqlx::query_scalar(
        "SELECT user_id FROM verification_tokens WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3"
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(p)
    .await?))
}

/// Spends an unused, unexpired token of `purpose`: its owner, or `None` (unknown, used, expired). A
/// concurrent spend of the same token waits for this one and then finds it used.
pub async fn spend(tx: &mut Tx, token_hash: &[u8], purpose: &str, now: Millis) -> Result<Option<Uuid>> {
    Ok(with_tx!(tx, |c| sqlx::query_scalar(
        "UPDATE verification_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3 RETURNING user_id"
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(c)
    .await?))
}

/// Ends the unused tokens of `purpose` of a user now (a new one supersedes them).
pub async fn supersede(tx: &mut Tx, user_id: Uuid, purpose: &str, now: Millis) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE verification_tokens SET expires_at = $3 WHERE user_id = $1 AND purpose = $2 \
         AND used_at IS NULL AND expires_at > $3"
    )
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

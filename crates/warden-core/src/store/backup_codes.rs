//! Two-factor backup codes (`backup_codes`), stored keyed-hashed; each works once.

use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::store::Tx;
use crate::with_tx;

/// Replaces a user's backup codes with these (already keyed-hashed) ones; empty deletes them all.
pub async fn replace(tx: &mut Tx, user_id: Uuid, hashes: &[String]) -> Result<()> {
    with_tx!(tx, |c| sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected());
    for hash in hashes {
        with_tx!(tx, |c| sqlx::query(
            "INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)"
        )
        .bind(user_id)
        .bind(hash)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(())
}

/// Spends an unused backup code: true when it was one.
pub async fn spend(tx: &mut Tx, user_id: Uuid, code_hash: &str, now: Millis) -> Result<bool> {
    let used = with_tx!(tx, |c| sqlx::query(
        "UPDATE backup_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL"
    )
    .bind(user_id)
    .bind(code_hash)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(used == 1)
}

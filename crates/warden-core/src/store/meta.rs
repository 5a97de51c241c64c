//! Facts about the database itself (`warden_meta`): the fingerprint of the data key that sealed its
//! secrets.

use crate::model::error::Result;
use crate::store::Db;
use crate::with_db;

/// The recorded data-key fingerprint, if one was recorded.
pub async fn data_key_fingerprint(db: &Db) -> Result<Option<String>> {
    Ok(with_db!(db, |p| sqlx::query_scalar(
        "SELECT value FROM warden_meta WHERE key = 'data_key_fingerprint'"
    )
    .fetch_optional(p)
    .await?))
}

/// Records the data-key fingerprint unless one is recorded already.
pub async fn record_data_key_fingerprint(db: &Db, fingerprint: &str) -> Result<()> {
    with_db!(db, |p| sqlx::query(
        "INSERT INTO warden_meta (key, value) VALUES ('data_key_fingerprint', $1) ON CONFLICT (key) DO NOTHING"
    )
    .bind(fingerprint)
    .execute(p)
    .await?
    .rows_affected());
    Ok(())
}

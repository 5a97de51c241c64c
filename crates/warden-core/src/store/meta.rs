//! Facts about the database itself (`warden_meta`): the fingerprint of the data key that sealed its
//! secrets, and the library whose database Warden adopted.

use crate::model::error::{Error, Result};
use crate::model::library::LibrarySchema;
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

/// What adoption records of the library's database, to find its schema again on every open: the
/// library, the PostgreSQL schema of its tables, and the table of each role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdoptedLibrary {
    pub library: String,
    pub namespace: Option<String>,
    pub tables: std::collections::BTreeMap<String, String>,
}

impl AdoptedLibrary {
    pub fn of(schema: &LibrarySchema) -> AdoptedLibrary {
        AdoptedLibrary {
            library: schema.library.slug().to_owned(),
            namespace: schema.namespace.clone(),
            tables: schema
                .tables
                .iter()
                .map(|(role, t)| (role.key().to_owned(), t.name.clone()))
                .collect(),
        }
    }
}

/// Records the adopted library unless one is recorded already; `true` when this call recorded it. A
/// different library recorded before is refused.
pub async fn record_library(db: &Db, schema: &LibrarySchema) -> Result<bool> {
    let mine = AdoptedLibrary::of(schema);
    let text = serde_json::to_string(&mine).map_err(|e| Error::Unexpected(e.to_string()))?;
    let inserted = with_db!(db, |p| sqlx::query(
        "INSERT INTO warden_meta (key, value) VALUES ('library', $1) ON CONFLICT (key) DO NOTHING"
    )
    .bind(&text)
    .execute(p)
    .await?
    .rows_affected());
    if inserted == 1 {
        return Ok(true);
    }
    let before = adopted_library(db).await?;
    match before {
        Some(b) if b.library == mine.library && b.namespace == mine.namespace => Ok(false),
        Some(b) => Err(Error::SchemaIncompatible(format!(
            "Warden adopted this database before as a {} database (tables in `{}`): nothing was changed",
            b.library,
            b.namespace.unwrap_or_default()
        ))),
        None => Err(Error::Unexpected("the adopted library's record vanished".into())),
    }
}

/// The adopted library, as recorded.
pub async fn adopted_library(db: &Db) -> Result<Option<AdoptedLibrary>> {
    let text: Option<String> = with_db!(db, |p| sqlx::query_scalar(
        "SELECT value FROM warden_meta WHERE key = 'library'"
    )
    .fetch_optional(p)
    .await?);
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| Error::Unexpected(format!("the record of the adopted library is unreadable: {e}")))
    })
    .transpose()
}

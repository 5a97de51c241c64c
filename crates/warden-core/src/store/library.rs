//! Reads a library's auth database (Better Auth, Auth.js) as it is: the catalog that
//! [`crate::rules::library`] tells the schema from, how instants are stored, and its counts. Writes
//! nothing. Table and column names come from the catalog (or the user's `--tables`, checked against
//! it) and are always quoted.

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::library::{DateStyle, LibrarySchema, TableRole};
use crate::rules::library::{date_style, CatalogTable, Sample};
use crate::store::{Backend, Db};
use crate::with_db;

/// `name` as a quoted identifier (both dialects quote with `"`).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every table of the database's current schema (PostgreSQL) or file (SQLite), with its columns and
/// their declared types in lowercase, in column order.
pub async fn catalog(db: &Db) -> Result<Vec<CatalogTable>> {
    let rows: Vec<(String, String, String)> = match db.backend() {
        Backend::Postgres => {
            with_db!(db, |p| sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
            )
            .fetch_all(p)
            .await?)
        }
        Backend::Sqlite => {
            with_db!(db, |p| sqlx::query_as(
                "SELECT m.name, c.name, lower(c.type) FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid"
            )
            .fetch_all(p)
            .await?)
        }
    };
    let mut tables: Vec<CatalogTable> = Vec::new();
    for (table, column, ty) in rows {
        match tables.last_mut() {
            Some(t) if t.name == table => t.columns.push((column, ty.to_ascii_lowercase())),
            _ => tables.push(CatalogTable {
                name: table,
                columns: vec![(column, ty.to_ascii_lowercase())],
            }),
        }
    }
    Ok(tables)
}

/// On SQLite the declared type does not say how instants are stored: one stored expiry does.
pub async fn refine_dates(db: &Db, schema: &mut LibrarySchema) -> Result<()> {
    if db.backend() != Backend::Sqlite {
        return Ok(());
    }
    let Some(session) = schema.table(TableRole::Session) else {
        return Ok(());
    };
    let Some(col) = session.columns.get(schema.library.expiry_field()) else {
        return Ok(());
    };
    let sql = format!(
        "SELECT typeof({c}), CASE WHEN typeof({c}) = 'integer' THEN {c} ELSE 0 END FROM {t} WHERE {c} IS NOT NULL LIMIT 1",
        c = quote(col),
        t = quote(&session.name)
    );
    let found: Option<(String, i64)> = with_db!(db, |p| sqlx::query_as(&sql).fetch_optional(p).await?);
    let sample = found.map(|(ty, n)| {
        if ty == "integer" {
            Sample::Integer(n)
        } else {
            Sample::Text
        }
    });
    schema.dates = date_style(true, &schema.expiry_type, sample);
    Ok(())
}

/// How many rows the table of `role` holds (0 when the schema has no such table).
pub async fn count(db: &Db, schema: &LibrarySchema, role: TableRole) -> Result<i64> {
    let Some(t) = schema.table(role) else { return Ok(0) };
    let sql = format!("SELECT count(*) FROM {}", quote(&t.name));
    Ok(with_db!(db, |p| sqlx::query_scalar::<_, i64>(&sql)
        .fetch_one(p)
        .await?))
}

/// An instant as the library stores it, to bind in place of `$1`, with the SQL that reads the bound value.
enum Instant {
    Int(i64, &'static str),
    Text(String),
}

fn instant(style: DateStyle, at: Millis) -> Instant {
    match style {
        DateStyle::Timestamptz => Instant::Int(at, "to_timestamp($1::float8 / 1000)"),
        DateStyle::TimestampUtc => Instant::Int(at, "(to_timestamp($1::float8 / 1000) AT TIME ZONE 'UTC')"),
        DateStyle::EpochMillis => Instant::Int(at, "$1"),
        DateStyle::EpochSeconds => Instant::Int(at.div_euclid(1000), "$1"),
        DateStyle::IsoText => Instant::Text(iso(at)),
    }
}

/// `2026-12-07T13:52:20.666Z`, as JavaScript's `toISOString` writes it (so text compares as time).
pub fn iso(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// How many sessions expire after `now`.
pub async fn live_sessions(db: &Db, schema: &LibrarySchema, now: Millis) -> Result<i64> {
    let Some(t) = schema.table(TableRole::Session) else {
        return Ok(0);
    };
    let Some(col) = t.columns.get(schema.library.expiry_field()) else {
        return Ok(0);
    };
    let base = format!("SELECT count(*) FROM {} WHERE {} > ", quote(&t.name), quote(col));
    Ok(match instant(schema.dates, now) {
        Instant::Int(v, expr) => {
            let sql = format!("{base}{expr}");
            with_db!(db, |p| sqlx::query_scalar::<_, i64>(&sql).bind(v).fetch_one(p).await?)
        }
        Instant::Text(v) => {
            let sql = format!("{base}$1");
            with_db!(db, |p| sqlx::query_scalar::<_, i64>(&sql).bind(&v).fetch_one(p).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_written_as_javascript_writes_them() {
        assert_eq!(iso(1_765_115_540_666), "2025-12-07T13:52:20.666Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(quote("user"), "\"user\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}

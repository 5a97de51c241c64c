//! Reads a library's auth database (Better Auth, Auth.js) as it is: the catalog that
//! [`crate::rules::library`] tells the schema from, how instants are stored, and its counts; and, once
//! adopted, the library's schema found again from what adoption recorded. Writes nothing. Table and
//! column names come from the catalog (or the user's `--tables`, checked against it) and are always
//! quoted; on an adopted PostgreSQL database, tables are named with their schema.

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::library::{DateStyle, Library, LibrarySchema, TableNames, TableRole};
use crate::rules::library::{date_style, detect_as, CatalogTable, Sample};
use crate::store::{meta, Backend, Db};
use crate::with_db;

/// `name` as a quoted identifier (both dialects quote with `"`).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table of `role` as a statement names it (`"public"."user"` once adopted, `"user"` before).
pub fn table(schema: &LibrarySchema, role: TableRole) -> Option<String> {
    let t = schema.table(role)?;
    Some(match &schema.namespace {
        Some(ns) => format!("{}.{}", quote(ns), quote(&t.name)),
        None => quote(&t.name),
    })
}

/// Every table of the database's current schema (PostgreSQL) or file (SQLite), with its columns and
/// their declared types in lowercase, in column order.
pub async fn catalog(db: &Db) -> Result<Vec<CatalogTable>> {
    catalog_in(db, None).await
}

/// As [`catalog`], of the PostgreSQL schema `namespace` (the current one when `None`).
async fn catalog_in(db: &Db, namespace: Option<&str>) -> Result<Vec<CatalogTable>> {
    let rows: Vec<(String, String, String)> = match db.backend() {
        Backend::Postgres => {
            with_db!(db, |p| sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = COALESCE($1, current_schema()) ORDER BY table_name, ordinal_position"
            )
            .bind(namespace)
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

/// The library's schema of a database Warden adopted, found again in the schema and under the table
/// names adoption recorded (so a table added since cannot take a role unseen).
pub async fn adopted_schema(db: &Db) -> Result<LibrarySchema> {
    let Some(rec) = meta::adopted_library(db).await? else {
        return Err(Error::SchemaIncompatible(
            "Warden's tables are here but the library they were put beside is not recorded: run `warden adopt` again"
                .into(),
        ));
    };
    let library = Library::parse(&rec.library)
        .ok_or_else(|| Error::Unexpected(format!("unknown adopted library `{}`", rec.library)))?;
    let named: TableNames = rec
        .tables
        .iter()
        .filter_map(|(role, name)| Some((TableRole::parse(role)?, name.clone())))
        .collect();
    let catalog = catalog_in(db, rec.namespace.as_deref()).await?;
    let gone = || {
        Error::SchemaIncompatible(format!(
            "the {} tables Warden adopted ({} in `{}`) are no longer as they were",
            library.name(),
            rec.tables.values().cloned().collect::<Vec<_>>().join(", "),
            rec.namespace.as_deref().unwrap_or_default()
        ))
    };
    let mut schema = detect_as(&catalog, library, &named)
        .map_err(|rule| Error::SchemaIncompatible(format!("{}: {rule}", gone())))?
        .ok_or_else(gone)?;
    schema.namespace = rec.namespace;
    refine_dates(db, &mut schema).await?;
    Ok(schema)
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
        t = table(schema, TableRole::Session).unwrap_or_default()
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
    let Some(t) = table(schema, role) else { return Ok(0) };
    let sql = format!("SELECT count(*) FROM {t}");
    Ok(with_db!(db, |p| sqlx::query_scalar::<_, i64>(&sql)
        .fetch_one(p)
        .await?))
}

/// An instant as the library's form of it is bound: Unix milliseconds, or seconds where the library
/// stores seconds; [`instant_sql`] turns the parameter into the stored form.
pub fn instant(style: DateStyle, at: Millis) -> i64 {
    match style {
        DateStyle::EpochSeconds => at.div_euclid(1000),
        DateStyle::Timestamptz | DateStyle::TimestampUtc | DateStyle::EpochMillis | DateStyle::IsoText => at,
    }
}

/// The SQL that turns parameter `$n`, bound to an [`instant`], into the library's stored form. ISO text is
/// `2026-12-07T13:52:20.666Z`, as JavaScript's `toISOString` writes it (so text compares as time), made
/// from the integer milliseconds exactly.
pub fn instant_sql(style: DateStyle, n: usize) -> String {
    match style {
        DateStyle::Timestamptz => format!("to_timestamp(${n}::float8 / 1000)"),
        DateStyle::TimestampUtc => format!("(to_timestamp(${n}::float8 / 1000) AT TIME ZONE 'UTC')"),
        DateStyle::EpochMillis | DateStyle::EpochSeconds => format!("${n}"),
        DateStyle::IsoText => format!(
            "(strftime('%Y-%m-%dT%H:%M:%S', ${n} / 1000, 'unixepoch') || '.' || printf('%03d', ${n} % 1000) || 'Z')"
        ),
    }
}

/// The SQL that reads the library's instant in `column` (quoted) as Unix milliseconds.
pub fn millis_sql(style: DateStyle, column: &str) -> String {
    match style {
        // A `timestamp` without a zone holds UTC here, and its epoch is read as UTC.
        DateStyle::Timestamptz | DateStyle::TimestampUtc => {
            format!("CAST(extract(epoch FROM {column}) * 1000 AS BIGINT)")
        }
        DateStyle::EpochMillis => column.to_owned(),
        DateStyle::EpochSeconds => format!("({column} * 1000)"),
        DateStyle::IsoText => format!("CAST(round((julianday({column}) - 2440587.5) * 86400000.0) AS INTEGER)"),
    }
}

/// How many sessions expire after `now`.
pub async fn live_sessions(db: &Db, schema: &LibrarySchema, now: Millis) -> Result<i64> {
    let Some(t) = schema.table(TableRole::Session) else {
        return Ok(0);
    };
    let Some(col) = t.columns.get(schema.library.expiry_field()) else {
        return Ok(0);
    };
    let sql = format!(
        "SELECT count(*) FROM {} WHERE {} > {}",
        table(schema, TableRole::Session).unwrap_or_default(),
        quote(col),
        instant_sql(schema.dates, 1)
    );
    let at = instant(schema.dates, now);
    Ok(with_db!(db, |p| sqlx::query_scalar::<_, i64>(&sql)
        .bind(at)
        .fetch_one(p)
        .await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant as SQLite writes it in the ISO-text style from its bound milliseconds.
    async fn iso(at: Millis) -> String {
        let db = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("an in-memory SQLite");
        let sql = format!("SELECT {}", instant_sql(DateStyle::IsoText, 1));
        sqlx::query_scalar(&sql)
            .bind(instant(DateStyle::IsoText, at))
            .fetch_one(&db)
            .await
            .expect("the ISO text")
    }

    #[tokio::test]
    async fn instants_are_written_as_javascript_writes_them() {
        assert_eq!(iso(1_765_115_540_666).await, "2025-12-07T13:52:20.666Z");
        assert_eq!(iso(0).await, "1970-01-01T00:00:00.000Z");
        assert_eq!(quote("user"), "\"user\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}

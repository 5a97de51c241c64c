//! What a database holds, before anything is written to it: Warden's own schema, nothing yet, another
//! library's auth schema (Better Auth, Auth.js) with its counts and what it carries, or something else;
//! and adopting a library's database, which puts Warden's own tables beside the library's.

use serde_json::json;

use crate::model::audit::Record;
use crate::model::authz::Admin;
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::vocab::AuditAction;
use crate::rules::library as rules;
use crate::store::{audit, library as store, Db, SchemaState};

pub use crate::store::shown_tables;

pub use crate::model::library::{
    parse_table_names, Capability, DateStyle, Inspection, Library, LibrarySchema, Plugins, TableNames, TableRole,
};

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No tables at all.
    Empty,
    /// Warden's own schema, in the state given.
    Warden(SchemaState),
    /// A library's auth schema.
    Library(Box<Inspection>),
    /// Tables of neither kind (sorted).
    Unknown(Vec<String>),
}

/// Reads the database's catalog and says what it holds; writes nothing. `library` limits detection to one
/// library; `named` gives the tables of roles that detection cannot tell (`--tables user=app_users`).
pub async fn inspect(db: &Db, now: Millis, library: Option<Library>, named: &TableNames) -> Result<Found> {
    let state = db.schema_state().await?;
    let tables = match state {
        SchemaState::Empty => return Ok(Found::Empty),
        SchemaState::Foreign { tables } => tables,
        warden => return Ok(Found::Warden(warden)),
    };
    let catalog = store::catalog(db).await?;
    let detected = rules::detect(&catalog, library, named).map_err(|rule| {
        if named.is_empty() {
            Error::SchemaIncompatible(rule)
        } else {
            Error::invalid("tables", rule)
        }
    })?;
    let Some(mut schema) = detected else {
        if let Some(l) = library {
            return Err(Error::SchemaIncompatible(format!(
                "no {} schema here: its user and session tables were not found (tables: {})",
                l.name(),
                shown_tables(&tables)
            )));
        }
        return Ok(Found::Unknown(tables));
    };
    store::refine_dates(db, &mut schema).await?;
    let users = store::count(db, &schema, TableRole::User).await?;
    let sessions = store::count(db, &schema, TableRole::Session).await?;
    let live_sessions = store::live_sessions(db, &schema, now).await?;
    Ok(Found::Library(Box::new(Inspection {
        capabilities: rules::capabilities(&schema),
        notes: rules::notes(&schema, users, sessions),
        schema,
        users,
        sessions,
        live_sessions,
    })))
}

/// What [`adopt`] did.
#[derive(Debug)]
pub struct Adopted {
    /// The library's database as found before anything was written.
    pub inspection: Box<Inspection>,
    /// The adopted database, open on Warden's own tables with the library's found again.
    pub db: Db,
    /// This call adopted it (`false`: it was adopted before, and only Warden's tables were brought up
    /// to date).
    pub new: bool,
}

/// Puts Warden's own tables (the audit chain, policy versions, flags, session history) beside a
/// library's auth database, creating, altering and dropping nothing of the library's
/// ([`Db::adopt`]), and audits it. Again on an adopted database it changes nothing but Warden's
/// migrations. A database of neither library is refused, as an empty one (`warden migrate` makes
/// Warden's own) and Warden's own are.
pub async fn adopt(
    db: &Db,
    admin: &Admin,
    now: Millis,
    library: Option<Library>,
    named: &TableNames,
) -> Result<Adopted> {
    let inspection =
        match inspect(db, now, library, named).await? {
            Found::Library(i) => i,
            Found::Empty => return Err(Error::SchemaIncompatible(
                "the database is empty: there is no library's schema to adopt (`warden migrate` makes Warden's own)"
                    .into(),
            )),
            Found::Warden(_) => {
                return Err(Error::SchemaIncompatible(
                    "this is Warden's own schema, not a library's: `warden migrate` keeps it up to date".into(),
                ))
            }
            Found::Unknown(tables) => {
                return Err(Error::SchemaIncompatible(format!(
                    "neither Better Auth's nor Auth.js's schema is here (tables: {}): nothing was changed; name the \
                 library's tables with --tables if they have names of their own",
                    shown_tables(&tables)
                )))
            }
        };
    let (adopted, new) = db.adopt(&inspection.schema).await?;
    if new {
        let schema = adopted
            .library()
            .ok_or_else(|| Error::Unexpected("adopted without a schema".into()))?;
        let mut tx = adopted.begin().await?;
        audit::append(
            &mut tx,
            now,
            admin.actor(),
            Record::new(AuditAction::DatabaseAdopted).meta(json!({
                "library": schema.library.slug(),
                "schema": schema.title(),
                "namespace": schema.namespace,
                "tables": schema.tables.values().map(|t| t.name.as_str()).collect::<Vec<_>>(),
                "users": inspection.users,
                "sessions": inspection.sessions,
            })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Adopted {
        inspection,
        db: adopted,
        new,
    })
}

/// What an adopted database holds, as [`inspect`] says it of one not yet adopted: the library's schema
/// with its counts, what it carries and what to know before ending sessions in it. `None` on Warden's
/// own schema.
pub async fn describe(db: &Db, now: Millis) -> Result<Option<Inspection>> {
    let Some(schema) = db.library() else { return Ok(None) };
    let users = store::count(db, schema, TableRole::User).await?;
    let sessions = store::count(db, schema, TableRole::Session).await?;
    let live_sessions = store::live_sessions(db, schema, now).await?;
    Ok(Some(Inspection {
        capabilities: rules::capabilities(schema),
        notes: rules::notes(schema, users, sessions),
        schema: schema.clone(),
        users,
        sessions,
        live_sessions,
    }))
}

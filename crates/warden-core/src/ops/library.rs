//! What a database holds, before anything is written to it: Warden's own schema, nothing yet, another
//! library's auth schema (Better Auth, Auth.js) with its counts and what it carries, or something else.

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::rules::library as rules;
use crate::store::{library as store, Db, SchemaState};

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

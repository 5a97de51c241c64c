//! The store: the only code that names a table, a column or a dialect. [`Db`] is one handle over SQLite
//! or PostgreSQL (with the schema check and migrations, the parsed policy of the newest version it has
//! seen, and the gate that bounds password checks); each submodule holds the statements of one table or
//! one family of queries.
//!
//! Dialect differences live here and in the per-backend migrations. Static queries use `$N` placeholders,
//! which both SQLite and PostgreSQL bind by number; dynamic filters are built with sea-query, which renders
//! each dialect. The [`with_db!`] and [`with_tx!`] macros compile a query body once per backend.

// The one layer allowed to run SQL: clippy.toml disallows the statement functions everywhere else.
#![allow(clippy::disallowed_methods)]

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::model::error::{Error, Result};
use crate::model::library::LibrarySchema;
use crate::model::policy::Policy;

pub mod audit;
pub mod backup_codes;
pub mod bulk;
pub mod bulk_load;
pub mod flags;
pub mod hash_gate;
pub mod library;
pub mod library_demo;
pub mod login_attempts;
pub mod mail_outbox;
pub mod meta;
pub mod overview;
pub mod policy_versions;
pub mod rate_limits;
pub mod session_filter;
pub mod sessions;
pub mod subjects;
pub mod timeline;
pub mod tokens;
pub mod users;

pub use hash_gate::{HashGate, HashLimits};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A connection pool on one backend, with the parsed policy of the newest version it has seen (the
/// version is re-read with every session validation, so a change made elsewhere applies on the next
/// request). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: Pool,
    policy: Arc<Mutex<Option<CachedPolicy>>>,
    hashes: Arc<HashGate>,
    /// The library whose auth database this is, when Warden has adopted one (its own tables then live
    /// beside the library's: in the [`WARDEN_SCHEMA`] schema on PostgreSQL).
    library: Option<Arc<LibrarySchema>>,
}

/// The PostgreSQL schema that holds Warden's own tables in a library's database it has adopted. Its
/// connections put it first and alone on the `search_path`, so Warden's statements name their tables
/// as in a database of its own, and the library's tables are always named with their schema.
pub const WARDEN_SCHEMA: &str = "warden";

/// A policy version and its parsed form.
type CachedPolicy = (i64, Arc<Policy>);

#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction. On SQLite it is `BEGIN IMMEDIATE`, so concurrent writers queue on the busy
/// timeout instead of failing when a read lock cannot be upgraded.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the pool of whichever backend `$db` is.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match &$db.pool {
            $crate::store::Pool::Sqlite($c) => $body,
            $crate::store::Pool::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the connection of the transaction `$tx`.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Where the schema of a database stands relative to this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// No tables at all: `warden migrate` will create the schema.
    Empty,
    /// Warden's schema, fully migrated.
    Current,
    /// Warden's schema, with migrations still to apply.
    Behind { applied: usize, known: usize },
    /// Warden's schema from a newer build (migrations this build does not know).
    Newer,
    /// Tables that are not Warden's.
    Foreign { tables: Vec<String> },
}

impl Db {
    fn new(pool: Pool) -> Db {
        Db {
            pool,
            policy: Arc::new(Mutex::new(None)),
            hashes: Arc::new(HashGate::new(HashLimits::default())),
            library: None,
        }
    }

    /// The library whose database this is, when Warden adopted it; `None` on Warden's own schema.
    pub fn library(&self) -> Option<&LibrarySchema> {
        self.library.as_deref()
    }

    /// This handle (and its clones) with its own bound on argon2 work ([`HashGate`]).
    pub fn with_hash_limits(mut self, limits: HashLimits) -> Db {
        self.hashes = Arc::new(HashGate::new(limits));
        self
    }

    /// The gate every password hash and check of this handle goes through.
    pub fn hashes(&self) -> &HashGate {
        &self.hashes
    }

    /// The policy of `version` (0: the defaults), parsed once per version and handle.
    pub(crate) async fn policy_version(&self, version: i64) -> Result<Arc<Policy>> {
        if let Some((v, p)) = self
            .policy
            .lock()
            .map_err(|_| Error::Unexpected("policy cache poisoned".into()))?
            .as_ref()
        {
            if *v == version {
                return Ok(p.clone());
            }
        }
        let (v, p) = policy_versions::current(self).await?;
        let p = Arc::new(p);
        *self
            .policy
            .lock()
            .map_err(|_| Error::Unexpected("policy cache poisoned".into()))? = Some((v, p.clone()));
        Ok(p)
    }

    /// Opens `url` (`sqlite://path`, `sqlite:path` or `postgres://…`). A SQLite file is created only when
    /// `create` is set (by `migrate` and `demo`); otherwise a missing file is a clear error.
    pub async fn connect(url: &str, create: bool) -> Result<Db> {
        Db::connect_with(url, None, create).await
    }

    /// As [`Db::connect`], with a PostgreSQL password given apart from the URL (kept out of URLs that are
    /// saved or shown).
    pub async fn connect_with(url: &str, password: Option<&crate::model::secret::Secret>, create: bool) -> Result<Db> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(Error::DatabaseUrl(
                    "a SQLite URL needs a file path: sqlite://path/to/warden.db".into(),
                ));
            }
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::DatabaseUrl(format!("`{url}` is not a valid SQLite URL: {e}")))?
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if !create && path != ":memory:" && !std::path::Path::new(path.split('?').next().unwrap_or(path)).exists() {
                return Err(Error::DatabaseUnreachable(format!(
                    "no SQLite file at `{path}` (run `warden migrate --db {url}` to create one)"
                )));
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(15))
                .connect_with(opts)
                .await
                .map_err(|e| sqlite_open_error(path, &e))?;
            Ok(Db::new(Pool::Sqlite(pool)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = PgConnectOptions::from_str(url)
                .map_err(|e| Error::DatabaseUrl(format!("not a valid PostgreSQL URL: {}", redact(&e.to_string()))))?;
            if let Some(pw) = password.filter(|p| !p.expose().is_empty()) {
                opts = opts.password(pw.expose());
            }
            // One connection first, to tell a refused port, a wrong password or a missing database at once
            // and in words; the pool would retry until its timeout and then say only that it timed out.
            let place = format!("{}:{}", opts.get_host(), opts.get_port());
            match tokio::time::timeout(Duration::from_secs(10), <sqlx::postgres::PgConnection as sqlx::Connection>::connect_with(&opts)).await {
                Err(_) => {
                    return Err(Error::DatabaseUnreachable(format!(
                        "no answer from {place} within 10 seconds: check the host and port, and that a firewall lets the connection through"
                    )))
                }
                Ok(Err(e)) => return Err(postgres_connect_error(&place, &e)),
                Ok(Ok(c)) => {
                    let _ = sqlx::Connection::close(c).await;
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| {
                    Error::DatabaseUnreachable(format!("PostgreSQL at {}: {}", redact(url), redact(&e.to_string())))
                })?;
            Ok(Db::new(Pool::Postgres(pool)))
        } else {
            Err(Error::DatabaseUrl(format!(
                "`{}` is not a database URL: use sqlite://path/to/file.db or postgres://user@host/db",
                redact(url)
            )))
        }
    }

    /// Connects and checks that the schema is Warden's and current; every command but `migrate` opens so.
    /// A library's database that Warden has adopted opens on Warden's tables beside it, with the
    /// library's schema found again as it was at adoption.
    pub async fn open(url: &str) -> Result<Db> {
        Db::open_with(url, None).await
    }

    /// As [`Db::open`], with a PostgreSQL password given apart from the URL.
    pub async fn open_with(url: &str, password: Option<&crate::model::secret::Secret>) -> Result<Db> {
        let db = Db::connect_with(url, password, false).await?;
        match db.schema_state().await? {
            SchemaState::Foreign { tables } => match db.adopted().await? {
                Some(mut adopted) => {
                    db.close().await;
                    require_current(adopted.schema_state().await?)?;
                    adopted.library = Some(Arc::new(library::adopted_schema(&adopted).await?));
                    Ok(adopted)
                }
                None => Err(db.not_warden(&tables).await),
            },
            state => {
                require_current(state)?;
                Ok(db)
            }
        }
    }

    /// Warden's own tables of a library's database it adopted, on connections of their own; `None`
    /// when it has not been adopted.
    async fn adopted(&self) -> Result<Option<Db>> {
        if !self.is_adopted().await? {
            return Ok(None);
        }
        Ok(Some(self.in_warden_schema().await?))
    }

    /// Whether Warden's own tables are beside a library's here (its [`WARDEN_SCHEMA`] schema exists).
    pub async fn is_adopted(&self) -> Result<bool> {
        let Pool::Postgres(p) = &self.pool else {
            return Ok(false);
        };
        Ok(sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("{WARDEN_SCHEMA}.warden_meta"))
            .fetch_one(p)
            .await?)
    }

    /// A handle on the same PostgreSQL database whose connections see only the [`WARDEN_SCHEMA`] schema.
    async fn in_warden_schema(&self) -> Result<Db> {
        let Pool::Postgres(p) = &self.pool else {
            return Err(Error::Unexpected("Warden's own schema is a PostgreSQL schema".into()));
        };
        let opts = (*p.connect_options()).clone().options([("search_path", WARDEN_SCHEMA)]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Db::new(Pool::Postgres(pool)))
    }

    /// Puts Warden's own tables beside the library's of `schema` (found in this database by
    /// `ops::library::inspect`): on PostgreSQL the [`WARDEN_SCHEMA`] schema, made and migrated like a
    /// database of Warden's own, with the library and the schema of its tables recorded in it. Creates,
    /// alters and drops nothing of the library's. Again on an adopted database it only brings Warden's
    /// tables up to date. Returns the adopted handle and whether this call adopted it.
    pub async fn adopt(&self, schema: &LibrarySchema) -> Result<(Db, bool)> {
        let Pool::Postgres(p) = &self.pool else {
            return Err(Error::SchemaIncompatible(format!(
                "adopting a {} database in a SQLite file is not supported yet: Warden adopts PostgreSQL databases \
                 (its tables go in a schema of their own there); `warden inspect` reads this one",
                schema.library.name()
            )));
        };
        let namespace: String = sqlx::query_scalar("SELECT current_schema()::text").fetch_one(p).await?;
        if namespace == WARDEN_SCHEMA {
            return Err(Error::SchemaIncompatible(format!(
                "the library's tables are in a schema named `{WARDEN_SCHEMA}`, the name Warden's own tables take: \
                 nothing was changed"
            )));
        }
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {WARDEN_SCHEMA}"))
            .execute(p)
            .await?;
        let mut adopted = self.in_warden_schema().await?;
        adopted.migrate().await?;
        let mut recorded = schema.clone();
        recorded.namespace = Some(namespace);
        let new = meta::record_library(&adopted, &recorded).await?;
        adopted.library = Some(Arc::new(library::adopted_schema(&adopted).await?));
        Ok((adopted, new))
    }

    /// Why a database of foreign tables is not opened: it names the library whose schema it holds, when
    /// it is one Warden knows.
    async fn not_warden(&self, tables: &[String]) -> Error {
        let named = crate::model::library::TableNames::new();
        let found = match library::catalog(self).await {
            Ok(catalog) => crate::rules::library::detect(&catalog, None, &named).ok().flatten(),
            Err(e) => return e,
        };
        match found {
            Some(schema) => {
                let adopt = match self.backend() {
                    Backend::Postgres => "`warden adopt --db <url>` puts Warden's own tables beside the library's",
                    Backend::Sqlite => "Warden adopts such a database on PostgreSQL; a SQLite file is not adopted yet",
                };
                Error::SchemaIncompatible(format!(
                    "this is a {} database ({}; tables {}), not a Warden one: `warden inspect --db <url>` says what \
                     it holds and carries, and {adopt}",
                    schema.library.name(),
                    schema.title(),
                    schema
                        .tables
                        .values()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
            None => foreign(tables),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn close(&self) {
        with_db!(self, |p| p.close().await)
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    pub async fn schema_state(&self) -> Result<SchemaState> {
        let tables: Vec<String> = match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                    .fetch_all(p)
                    .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
                )
                .fetch_all(p)
                .await?
            }
        };
        if tables.is_empty() {
            return Ok(SchemaState::Empty);
        }
        if !tables.iter().any(|t| t == "warden_meta") || !tables.iter().any(|t| t == "_sqlx_migrations") {
            let mut tables: Vec<String> = tables.into_iter().filter(|t| t != "_sqlx_migrations").collect();
            tables.sort();
            return Ok(SchemaState::Foreign { tables });
        }
        let applied: Vec<i64> = with_db!(self, |p| sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version"
        )
        .fetch_all(p)
        .await?);
        let known: Vec<i64> = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .collect();
        if applied.iter().any(|v| !known.contains(v)) {
            return Ok(SchemaState::Newer);
        }
        if applied.len() < known.len() {
            return Ok(SchemaState::Behind {
                applied: applied.len(),
                known: known.len(),
            });
        }
        Ok(SchemaState::Current)
    }

    /// Creates or upgrades the schema. Refuses, writing nothing, a database that holds another schema or a
    /// newer Warden schema. Returns how many migrations it applied.
    pub async fn migrate(&self) -> Result<usize> {
        let before = match self.schema_state().await? {
            SchemaState::Current => return Ok(0),
            SchemaState::Empty => 0,
            SchemaState::Behind { applied, .. } => applied,
            SchemaState::Newer => return Err(Error::SchemaIncompatible(
                "the database holds a newer Warden schema than this build knows: nothing was changed; upgrade Warden"
                    .into(),
            )),
            SchemaState::Foreign { tables } => {
                return match self.adopted().await? {
                    Some(adopted) => {
                        let n = Box::pin(adopted.migrate()).await;
                        adopted.close().await;
                        n
                    }
                    None => Err(foreign(&tables)),
                }
            }
        };
        with_db!(self, |p| self.migrator().run(p).await?);
        // Columns the engine computes (SQL here cannot): fill them for rows older than the column.
        sessions::backfill_ip_keys(self).await?;
        let known = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count();
        Ok(known - before)
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// `Ok` when `state` is Warden's schema, fully migrated; otherwise what to do, in words.
fn require_current(state: SchemaState) -> Result<()> {
    match state {
        SchemaState::Current => Ok(()),
        SchemaState::Empty => Err(Error::SchemaMissing),
        SchemaState::Behind { .. } => Err(Error::SchemaIncompatible(
            "the Warden schema in this database is older than this build: run `warden migrate --db <url>`".into(),
        )),
        SchemaState::Newer => Err(Error::SchemaIncompatible(
            "the database holds a newer Warden schema than this build knows: upgrade Warden".into(),
        )),
        SchemaState::Foreign { tables } => Err(foreign(&tables)),
    }
}

/// Why a SQLite file could not be opened, in words.
fn sqlite_open_error(path: &str, e: &sqlx::Error) -> Error {
    let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
    let text = match code.as_deref() {
        // SQLITE_NOTADB
        Some("26") => format!("`{path}` is not a SQLite database: it is some other kind of file"),
        // SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY
        Some("14") | Some("3") | Some("8") => {
            format!("`{path}` cannot be opened for reading and writing: check its permissions and its folder's")
        }
        // SQLITE_CORRUPT
        Some("11") => format!("`{path}` is a damaged SQLite database"),
        _ => format!("cannot open the SQLite file `{path}`: {}", plain(e)),
    };
    Error::DatabaseUnreachable(text)
}

/// Why a PostgreSQL server at `place` (`host:port`) did not take the connection, in words.
fn postgres_connect_error(place: &str, e: &sqlx::Error) -> Error {
    if let sqlx::Error::Io(io) = e {
        use std::io::ErrorKind;
        let text = match io.kind() {
            ErrorKind::ConnectionRefused => {
                format!("connection refused at {place}: is PostgreSQL running there, and is the port right?")
            }
            ErrorKind::TimedOut => format!("no answer from {place}: check the host, the port and the firewall"),
            ErrorKind::NotFound => format!("no such host: {place}"),
            _ => format!("cannot reach {place}: {io}"),
        };
        return Error::DatabaseUnreachable(text);
    }
    if let Some(d) = e.as_database_error() {
        let text = match d.code().as_deref() {
            Some("28P01") | Some("28000") => format!("PostgreSQL at {place} refused the user name or password"),
            Some("3D000") => format!("PostgreSQL at {place} has no such database: {}", redact(d.message())),
            _ => format!("PostgreSQL at {place}: {}", redact(d.message())),
        };
        return Error::DatabaseUnreachable(text);
    }
    Error::DatabaseUnreachable(format!("PostgreSQL at {place}: {}", plain(e)))
}

/// A driver error without its "error returned from database: (code: N)" preamble.
fn plain(e: &sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => redact(d.message()),
        None => redact(&e.to_string()),
    }
}

fn foreign(tables: &[String]) -> Error {
    Error::SchemaIncompatible(format!(
        "the database holds tables that are not Warden's ({}): refusing to touch it; point Warden at an empty database or a Warden one",
        shown_tables(tables)
    ))
}

/// The first few of `tables`, for a message: `a, b, c, d, e, f, …`.
pub fn shown_tables(tables: &[String]) -> String {
    let first: Vec<&str> = tables.iter().take(6).map(String::as_str).collect();
    format!(
        "{}{}",
        first.join(", "),
        if tables.len() > first.len() { ", …" } else { "" }
    )
}

/// Hides the password of a URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest.find(['/', ' ', '?']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(c) => {
                    out.push_str(&userinfo[..c]);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        } else {
            out.push_str(authority);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Builds a sea-query statement for the backend of `db`.
/// SQL and values of a statement built with sea-query. Run such statements with `.persistent(false)`:
/// their text varies with the filters, and on PostgreSQL a cached prepared statement would soon switch to
/// a generic plan that cannot see the values (a last-seen range of unknown width looks like a third of the
/// table), which made a 1 ms users page take 60 ms on the 1M-user data set. Unnamed statements are planned
/// for their actual values every time.
pub fn build<S: sea_query_binder::SqlxBinder>(db_backend: Backend, stmt: &S) -> (String, sea_query_binder::SqlxValues) {
    match db_backend {
        Backend::Sqlite => stmt.build_sqlx(sea_query::SqliteQueryBuilder),
        Backend::Postgres => stmt.build_sqlx(sea_query::PostgresQueryBuilder),
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                Error::DatabaseUnreachable(e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "database error");
                Error::Unexpected(format!("database error: {e}"))
            }
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Unexpected(format!("migration failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://bob:hunter2@db:5432/x"),
            "postgres://bob:***@db:5432/x"
        );
        assert_eq!(redact("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }
}

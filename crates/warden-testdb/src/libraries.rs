//! The real auth libraries (Better Auth, Auth.js) on a test database, through the Node fixture in
//! `tests/libraries` (`lib.mjs`, run with the Node 22 its lockfile pins): it makes a database the way the
//! library does, fills it through the library's own API, and afterwards asks the library whether
//! Warden's action took effect.
//!
//! The fixture is installed by `scripts/test.sh` (`npm install` in `tests/libraries`). Without it these
//! tests are skipped with a note, unless `WARDEN_REQUIRE_LIBRARIES=1` makes its absence a failure, as CI
//! does.

use std::path::PathBuf;
use std::process::Command;

pub const REQUIRE_LIBRARIES_ENV: &str = "WARDEN_REQUIRE_LIBRARIES";

/// The installed fixture.
pub struct Libraries {
    node: PathBuf,
    script: PathBuf,
}

impl Libraries {
    /// The fixture, or `None` (with a note on stdout) when it is not installed and not required.
    pub fn find() -> Option<Libraries> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/libraries");
        let node = dir.join("node_modules/.bin/node");
        let script = dir.join("lib.mjs");
        if node.exists() && script.exists() {
            return Some(Libraries { node, script });
        }
        if std::env::var(REQUIRE_LIBRARIES_ENV).is_ok_and(|v| v == "1") {
            panic!(
                "{REQUIRE_LIBRARIES_ENV}=1 but the library fixture is not installed: run `npm install` in {}",
                dir.display()
            );
        }
        println!("libraries: skipped (tests/libraries is not installed)");
        None
    }

    /// Runs `lib.mjs <args>` and returns the one JSON object it prints; panics with its stderr when it
    /// fails.
    pub fn run(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(&self.node)
            .arg("--no-warnings")
            .arg(&self.script)
            .args(args)
            .output()
            .expect("run the library fixture");
        assert!(
            out.status.success(),
            "lib.mjs {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "lib.mjs {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

/// A Warden database URL as the fixture takes it: `sqlite://path` → `sqlite:path`; PostgreSQL as is.
pub fn fixture_url(url: &str) -> String {
    match url.strip_prefix("sqlite://") {
        Some(path) => format!("sqlite:{path}"),
        None => url.to_owned(),
    }
}

/// The shape of every table of the database at `url` (a Warden URL) — tables, columns with their types,
/// nullability and defaults, indexes and constraints — and each table's row count, as one text to
/// compare before and after: Warden must never change a library's tables.
pub fn schema_dump(url: &str) -> String {
    let url = url.to_owned();
    on_own_runtime(move || async move {
        use sqlx::Connection;
        let mut lines: Vec<String> = Vec::new();
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("open the SQLite file");
            let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            )
            .fetch_all(&mut c)
            .await
            .expect("read sqlite_master");
            for (ty, name, sql) in rows {
                if ty == "table" {
                    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{name}\""))
                        .fetch_one(&mut c)
                        .await
                        .expect("count");
                    lines.push(format!("{ty} {name} rows={n}: {}", sql.unwrap_or_default()));
                } else {
                    lines.push(format!("{ty} {name}: {}", sql.unwrap_or_default()));
                }
            }
        } else {
            let mut c = sqlx::PgConnection::connect(&url).await.expect("connect to PostgreSQL");
            let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT table_schema::text || '.' || table_name::text, column_name::text, data_type::text, \
                     is_nullable::text, column_default::text FROM information_schema.columns \
                     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
                     ORDER BY table_schema, table_name, ordinal_position",
            )
            .fetch_all(&mut c)
            .await
            .expect("read the columns");
            for (t, col, ty, null, default) in columns {
                lines.push(format!(
                    "column {t}.{col} {ty} null={null} default={}",
                    default.unwrap_or_default()
                ));
            }
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT schemaname::text || '.' || indexname::text, indexdef FROM pg_indexes \
                     WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            )
            .fetch_all(&mut c)
            .await
            .expect("read the indexes");
            lines.extend(indexes.into_iter().map(|(n, d)| format!("index {n}: {d}")));
            let constraints: Vec<(String, String)> = sqlx::query_as(
                    "SELECT conrelid::regclass::text || '.' || conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                     WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) ORDER BY 1",
                )
                .fetch_all(&mut c)
                .await
                .expect("read the constraints");
            lines.extend(constraints.into_iter().map(|(n, d)| format!("constraint {n}: {d}")));
            let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
                     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE' ORDER BY 1",
                )
                .fetch_all(&mut c)
                .await
                .expect("read the tables");
            for t in tables {
                let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
                    .fetch_one(&mut c)
                    .await
                    .expect("count");
                lines.push(format!("rows {t}={n}"));
            }
        }
        lines.join("\n")
    })
}

/// Runs `work` to its end on a runtime of its own, on a thread of its own: the callers are plain tests
/// and async tests alike, and neither may block a runtime they are on.
fn on_own_runtime<T, F, Fut>(work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work())
    })
    .join()
    .expect("the database thread")
}

/// Runs `sql` (one or more statements) on the database at `url` (a Warden URL): tables of an
/// application that are neither Warden's nor a library's, for the refusals to be tested on.
pub fn run_sql(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    on_own_runtime(move || async move {
        use sqlx::Connection;
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("open the SQLite file");
            sqlx::raw_sql(&sql).execute(&mut c).await.expect("run the SQL");
        } else {
            let mut c = sqlx::PgConnection::connect(&url).await.expect("connect to PostgreSQL");
            sqlx::raw_sql(&sql).execute(&mut c).await.expect("run the SQL");
        }
    })
}

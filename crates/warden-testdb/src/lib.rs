//! Fresh databases for Warden's test suites: one SQLite file in a temporary folder, or one new database
//! on the PostgreSQL server named by `WARDEN_TEST_POSTGRES_URL`, per test. [`TestDatabases`] owns what it
//! made and removes it when dropped, also when the test panics. Tests never share a database.
//!
//! `WARDEN_REQUIRE_POSTGRES=1` turns a missing `WARDEN_TEST_POSTGRES_URL` into a failure instead of a
//! skipped backend, so CI cannot pass on SQLite alone.

// Creates and drops whole test databases on the server: administration, not the engine's SQL.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::sync::Mutex;

use sqlx::Connection;
use uuid::Uuid;

pub mod libraries;

pub const POSTGRES_ENV: &str = "WARDEN_TEST_POSTGRES_URL";
pub const REQUIRE_POSTGRES_ENV: &str = "WARDEN_REQUIRE_POSTGRES";

/// Runs an async test body on SQLite and on PostgreSQL, as two tests `<name>::sqlite` and
/// `<name>::postgres`: `both!(name, |t| async move { … })`. The calling suite provides
/// `crate::support::T` with `async fn sqlite() -> (T, TestDatabases)` and
/// `async fn postgres() -> Option<(T, TestDatabases)>`.
// `crate` here is the calling suite, on purpose: each suite has its own `T`.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! both {
    ($(#[$m:meta])* $name:ident, |$t:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$m])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let ($t, _guard) = crate::support::T::sqlite().await;
                $body.await;
            }

            $(#[$m])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(($t, _guard)) = crate::support::T::postgres().await else { return };
                $body.await;
            }
        }
    };
}

/// The databases one test made; dropping it removes them.
pub struct TestDatabases {
    dir: Option<tempfile::TempDir>,
    pg_admin_url: Option<String>,
    created: Mutex<Vec<String>>,
}

impl TestDatabases {
    /// A temporary folder and the URL of a (not yet existing) SQLite file in it.
    pub fn sqlite() -> (TestDatabases, String) {
        let dir = tempfile::tempdir().expect("a temporary folder for the test database");
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let dbs = TestDatabases {
            dir: Some(dir),
            pg_admin_url: None,
            created: Mutex::new(Vec::new()),
        };
        (dbs, url)
    }

    /// A new, empty database on the test PostgreSQL server and its URL; `None` (with a note on stdout)
    /// when no server is configured, unless one is required.
    pub fn postgres() -> Option<(TestDatabases, String)> {
        let Some(admin_url) = std::env::var(POSTGRES_ENV).ok().filter(|s| !s.trim().is_empty()) else {
            if std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_ENV} is unset");
            }
            println!("postgres: skipped ({POSTGRES_ENV} unset)");
            return None;
        };
        // The guard exists before the database does, so a failing setup still drops it.
        let dbs = TestDatabases {
            dir: None,
            pg_admin_url: Some(admin_url),
            created: Mutex::new(Vec::new()),
        };
        let url = dbs.another();
        Some((dbs, url))
    }

    /// One more empty database of the same backend (SQLite: a new file name in the same folder).
    pub fn another(&self) -> String {
        if let Some(dir) = &self.dir {
            return format!("sqlite://{}/empty-{}.db", dir.path().display(), Uuid::now_v7().simple());
        }
        let admin_url = self
            .pg_admin_url
            .as_deref()
            .expect("a test database is SQLite or PostgreSQL");
        let name = format!("warden_t_{}", Uuid::now_v7().simple());
        self.created.lock().expect("not poisoned").push(name.clone());
        let sql = format!("CREATE DATABASE {name}");
        run_admin(admin_url, vec![sql]).unwrap_or_else(|e| panic!("cannot create a database on {POSTGRES_ENV}: {e}"));
        with_database(admin_url, &name)
    }

    /// The temporary folder of a SQLite test, for files beside the database.
    pub fn dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_owned())
    }
}

impl Drop for TestDatabases {
    fn drop(&mut self) {
        let names = std::mem::take(&mut *self.created.lock().unwrap_or_else(|p| p.into_inner()));
        if let (Some(url), false) = (&self.pg_admin_url, names.is_empty()) {
            let drops = names
                .iter()
                .map(|n| format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"))
                .collect();
            let _ = run_admin(url, drops);
        }
    }
}

/// Runs statements on the admin connection from a thread with a runtime of its own, so that it works
/// from synchronous tests, from async ones and from `Drop`.
fn run_admin(url: &str, statements: Vec<String>) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            for sql in statements {
                sqlx::query(&sql).execute(&mut conn).await.map_err(|e| e.to_string())?;
            }
            let _ = conn.close().await;
            Ok(())
        })
    })
    .join()
    .map_err(|_| "the admin thread panicked".to_owned())?
}

/// `url` with its database (path) replaced by `db`, keeping the query string.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}

//! Connecting, the schema check and migrations.

use warden_core::store::Pool;
use warden_core::store::SchemaState;
use warden_core::{with_db, Db};

use crate::support::*;

fn known_migrations() -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count()
}

async fn tables(db: &Db) -> Vec<String> {
    let mut v: Vec<String> = match &db.pool {
        Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
                .fetch_all(p)
                .await
                .unwrap()
        }
        Pool::Postgres(p) => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    v.sort();
    v
}

both!(migrate_creates_the_schema_and_is_idempotent, |t| async move {
    let url = t.empty_database_url().await;
    let db = Db::connect(&url, true).await.unwrap();
    assert_eq!(db.schema_state().await.unwrap(), SchemaState::Empty);
    let applied = db.migrate().await.unwrap();
    assert_eq!(applied, known_migrations(), "an empty database gets every migration");
    assert_eq!(db.schema_state().await.unwrap(), SchemaState::Current);
    let names = tables(&db).await;
    for table in [
        "users",
        "sessions",
        "session_events",
        "login_attempts",
        "audit_events",
        "audit_head",
        "policy_versions",
    ] {
        assert!(names.iter().any(|n| n == table), "migrate creates {table}: {names:?}");
    }
    assert_eq!(db.migrate().await.unwrap(), 0, "a second run applies nothing");
    db.close().await;
    let opened = Db::open(&url).await.expect("a migrated database opens");
    assert_eq!(opened.backend(), t.backend);
    opened.close().await;
});

both!(open_on_an_empty_database_is_schema_missing, |t| async move {
    let url = t.empty_database_url().await;
    // Create the (empty) database file on SQLite; PostgreSQL's database exists already.
    Db::connect(&url, true).await.unwrap().close().await;
    assert_code(
        Db::open(&url).await,
        "schema_missing",
        "an empty database has no Warden schema",
    );
});

both!(foreign_tables_are_refused_and_nothing_is_written, |t| async move {
    let url = t.empty_database_url().await;
    let db = Db::connect(&url, true).await.unwrap();
    with_db!(&db, |p| sqlx::query("CREATE TABLE customers (id int)")
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let e = assert_code(
        db.migrate().await,
        "schema_incompatible",
        "a database holding someone else's tables",
    );
    assert!(
        e.to_string().contains("customers"),
        "the message names the foreign table: {e}"
    );
    assert_eq!(
        tables(&db).await,
        vec!["customers"],
        "migrate wrote nothing (no _sqlx_migrations, no users)"
    );
    assert_code(Db::open(&url).await, "schema_incompatible", "open refuses it too");
    db.close().await;
});

both!(newer_schema_is_refused_by_migrate_and_open, |t| async move {
    with_db!(&t.db, |p| sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(99_991_231_000_000_i64)
    .bind("from the future")
    .bind(true)
    .bind(vec![0_u8; 48])
    .bind(0_i64)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    assert_eq!(t.db.schema_state().await.unwrap(), SchemaState::Newer);
    let e = assert_code(
        t.db.migrate().await,
        "schema_incompatible",
        "a schema newer than this build",
    );
    assert!(e.to_string().contains("newer"), "{e}");
    assert_code(
        Db::open(&t.url).await,
        "schema_incompatible",
        "open refuses a newer schema too",
    );
});

#[tokio::test]
async fn malformed_database_urls_are_database_url_invalid() {
    for url in [
        "mysql://x",
        "nonsense",
        "sqlite://",
        "sqlite:",
        "",
        "postgres://u@h:notaport/db",
    ] {
        assert_code(
            Db::connect(url, false).await,
            "database_url_invalid",
            &format!("connect {url:?}"),
        );
        assert_code(Db::open(url).await, "database_url_invalid", &format!("open {url:?}"));
    }
}

#[tokio::test]
async fn unreachable_postgres_is_database_unreachable() {
    let started = std::time::Instant::now();
    let e = assert_code(
        Db::open("postgres://postgres:hunter2@127.0.0.1:1/x").await,
        "database_unreachable",
        "nothing listens on port 1",
    );
    assert!(
        !e.to_string().contains("hunter2"),
        "the password never appears in the message: {e}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "a refused connection is told at once, not after the pool's wait: {:?}",
        started.elapsed()
    );
    let text = e.to_string();
    assert!(
        text.contains("connection refused at 127.0.0.1:1") && !text.contains("pool timed out"),
        "the message says what happened: {text}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    let e = assert_code(
        Db::open(&format!("sqlite://{}", path.display())).await,
        "database_unreachable",
        "a text file",
    );
    let text = e.to_string();
    assert!(
        text.contains("is not a SQLite database") && !text.contains("code: 26"),
        "in words, without the driver's code: {text}"
    );
}

#[tokio::test]
async fn missing_sqlite_file_is_database_unreachable_for_open() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/missing.db", dir.path().display());
    assert_code(
        Db::open(&url).await,
        "database_unreachable",
        "open does not create a SQLite file",
    );
    assert!(!dir.path().join("missing.db").exists(), "and leaves no file behind");
}

both!(
    the_search_terms_migration_backfills_what_users_insert_writes,
    |t| async move {
        // Users written by the engine get their search terms from Rust; users that existed before the
        // migration get them from its SQL. Both must agree, or an upgraded database searches differently.
        t.user_named("ana.lima@example.com", "Ana  Maria Lima", warden_core::Role::User)
            .await;
        t.user_named("zed@example.org", "Zed", warden_core::Role::Support).await;
        let terms = |t: &T| {
            let db = t.db.clone();
            async move {
                let mut v: Vec<String> = with_db!(&db, |p| sqlx::query_scalar("SELECT term FROM user_search_terms")
                    .fetch_all(p)
                    .await
                    .unwrap());
                v.sort();
                v
            }
        };
        let from_rust = terms(&t).await;
        assert!(from_rust.contains(&"maria lima".to_owned()) && from_rust.contains(&"ana  maria lima".to_owned()));
        let dialect = match &t.db.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        };
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../../migrations/{dialect}/20261125000000_search_and_sort_indexes.sql"
        ));
        let sql = std::fs::read_to_string(&file).unwrap();
        let start = sql
            .find(if dialect == "sqlite" {
                "WITH RECURSIVE"
            } else {
                "INSERT INTO"
            })
            .unwrap();
        let backfill = &sql[start..start + sql[start..].find(';').unwrap()];
        t.exec("DELETE FROM user_search_terms").await.unwrap();
        assert!(terms(&t).await.is_empty());
        t.exec(backfill).await.unwrap();
        assert_eq!(
            terms(&t).await,
            from_rust,
            "the backfill writes the terms users::insert writes"
        );
    }
);

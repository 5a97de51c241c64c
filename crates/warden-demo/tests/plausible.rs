//! The demo data set tells a story a person can believe: an app's sessions run on its own platform,
//! impossible travel has two places, a failed sign-in has its time and address, and a lock's record
//! carries the same end as the account's row (the lockout card and the timeline agree).

// These tests read the database to check what the generator wrote.
#![allow(clippy::disallowed_methods)]

use warden_core::store::Pool;
use warden_core::Db;
use warden_demo::{generate, DemoOptions};

const AT: i64 = 1_780_315_200_000; // 2026-06-01T12:00:00Z

async fn demo() -> (Db, warden_testdb::TestDatabases) {
    let (dbs, url) = warden_testdb::TestDatabases::sqlite();
    let db = Db::connect(&url, true).await.expect("a new SQLite database");
    db.migrate().await.expect("the schema");
    generate(
        &db,
        &DemoOptions {
            users: 400,
            seed: 7,
            now: AT,
        },
        |_| {},
    )
    .await
    .expect("the demo");
    (db, dbs)
}

fn pool(db: &Db) -> &sqlx::SqlitePool {
    match &db.pool {
        Pool::Sqlite(p) => p,
        Pool::Postgres(_) => unreachable!("the demo test runs on SQLite"),
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool(db)).await.expect(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_data_is_plausible() {
    let (db, _guard) = demo().await;

    // Nothing has happened after the reference time.
    for (what, sql) in [
        ("audit event", "SELECT COUNT(*) FROM audit_events WHERE at > $1"),
        ("session event", "SELECT COUNT(*) FROM session_events WHERE at > $1"),
        ("sign-in attempt", "SELECT COUNT(*) FROM login_attempts WHERE at > $1"),
        (
            "session start or use",
            "SELECT COUNT(*) FROM sessions WHERE created_at > $1 OR last_seen_at > $1 OR revoked_at > $1",
        ),
        (
            "flag",
            "SELECT COUNT(*) FROM flags WHERE created_at > $1 OR resolved_at > $1",
        ),
    ] {
        let n: i64 = sqlx::query_scalar(sql).bind(AT).fetch_one(pool(&db)).await.expect(sql);
        assert_eq!(n, 0, "a {what} in the future");
    }

    // An app's sessions run on its platform.
    assert!(count(&db, "SELECT COUNT(*) FROM sessions WHERE client = 'ios-app'").await > 0);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM sessions WHERE client = 'ios-app' AND (os IS NULL OR (os NOT LIKE 'iOS%' AND os NOT LIKE 'iPadOS%'))").await,
        0,
        "the iOS app runs on iOS or iPadOS"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM sessions WHERE client = 'android-app' AND (os IS NULL OR os NOT LIKE 'Android%')"
        )
        .await,
        0,
        "the Android app runs on Android"
    );

    // Impossible travel: another session of the user, in another country, used within two hours before.
    let travels: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT session_id FROM flags WHERE rule = 'impossible_travel' AND session_id IS NOT NULL")
            .fetch_all(pool(&db))
            .await
            .unwrap();
    for session in &travels {
        let other_place: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions s, sessions o WHERE s.id = $1 AND o.user_id = s.user_id AND o.id <> s.id \
             AND o.country <> s.country AND o.created_at <= s.created_at AND o.last_seen_at <= s.created_at \
             AND s.created_at - o.last_seen_at < 7200000",
        )
        .bind(session)
        .fetch_one(pool(&db))
        .await
        .unwrap();
        assert!(other_place > 0, "an impossible-travel flag with one place only");
    }

    // A failure count has its failure.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM users WHERE failed_count > 0 AND (last_failed_at IS NULL OR last_failed_ip IS NULL)"
        )
        .await,
        0,
        "a failed attempt without its time or address"
    );

    // Each lock's record says how it ends, as the row does.
    let locks: Vec<(String, Option<i64>, bool, Option<i64>)> = sqlx::query_as(
        "SELECT a.metadata, u.locked_until, u.locked_permanently, u.last_locked_at FROM audit_events a \
         JOIN users u ON u.id = a.target_user_id WHERE a.action = 'user.locked' AND a.at = u.last_locked_at",
    )
    .fetch_all(pool(&db))
    .await
    .unwrap();
    assert!(!locks.is_empty());
    for (meta, until, permanent, _) in locks {
        let m: serde_json::Value = serde_json::from_str(&meta).unwrap();
        assert_eq!(m["permanent"], permanent, "{meta}");
        if until.is_some() {
            assert_eq!(m["until"].as_i64(), until, "the card's end is the timeline's: {meta}");
        }
        assert!(m["failures"].as_i64().is_some_and(|n| n > 0), "{meta}");
        assert!(m["ip"].as_str().is_some(), "{meta}");
    }
}

//! A Better Auth database that Warden adopted, under many concurrent callers on PostgreSQL: every session
//! is ended once — one history row, one count in one audit event — whoever races for it, and the audit
//! chain stays whole. The database is made and filled by the real library (the fixture in
//! `tests/libraries`).

use std::sync::Arc;

use serde_json::Value;
use warden_core::model::authz::{Actor, Admin};
use warden_core::ops::audit;
use warden_core::ops::library::{self, TableNames};
use warden_core::ops::subjects::{self, RevokeStyle};
use warden_core::{with_db, Db, Error};
use warden_testdb::libraries::{fixture_url, Libraries};
use warden_testdb::TestDatabases;

/// A Better Auth database (admin and twoFactor plugins) of `users` users with `sessions` sessions each,
/// adopted; `None` (skipped) without PostgreSQL or the fixture.
async fn adopted(users: u32, sessions: u32) -> Option<(Db, Admin, Value, TestDatabases)> {
    let lib = Libraries::find()?;
    let (dbs, url) = TestDatabases::postgres()?;
    let fixture = fixture_url(&url);
    let seeded = tokio::task::spawn_blocking(move || {
        let base = [
            "--url",
            &fixture,
            "--variant",
            "default",
            "--plugins",
            "admin,twoFactor",
        ];
        let mut setup = vec!["better-auth", "setup"];
        setup.extend(base);
        lib.run(&setup);
        let (u, s) = (users.to_string(), sessions.to_string());
        let mut seed = vec!["better-auth", "seed"];
        seed.extend(base);
        seed.extend(["--users", &u, "--sessions-per-user", &s]);
        lib.run(&seed)
    })
    .await
    .expect("the fixture");
    let now = chrono::Utc::now().timestamp_millis();
    let admin = Admin::for_tests(Actor::cli(now));
    let db = Db::connect(&url, false).await.expect("connect");
    let adopted = library::adopt(&db, &admin, now, None, &TableNames::new())
        .await
        .expect("adopt");
    db.close().await;
    Some((adopted.db, admin, seeded, dbs))
}

async fn count(db: &Db, sql: &str) -> i64 {
    with_db!(db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn racing_ends_of_one_users_sessions_end_each_once() {
    for style in [RevokeStyle::Delete, RevokeStyle::Expire] {
        let Some((db, admin, seeded, _dbs)) = adopted(2, 8).await else {
            return;
        };
        let db = Arc::new(db);
        let keys: Vec<String> = seeded["users"][1]["session_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), 8);
        // Sixteen callers at once: eight end "everywhere", eight end one session each.
        let start = Arc::new(tokio::sync::Barrier::new(16));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (db, admin, start, key) = (db.clone(), admin.clone(), start.clone(), keys[i % 8].clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                if i % 2 == 0 {
                    subjects::revoke_user(&db, &admin, "user2@example.test", "incident", style, now()).await
                } else {
                    match subjects::revoke_session(&db, &admin, &key, "incident", style, now()).await {
                        Ok(_) => Ok(1),
                        Err(Error::SessionNotFound) => Ok(0),
                        Err(e) => Err(e),
                    }
                }
            }));
        }
        let mut ended = 0;
        for t in tasks {
            ended += t.await.expect("a caller panicked").expect("every caller succeeds");
        }
        assert_eq!(ended, 8, "{style:?}: each session is counted by exactly one caller");
        assert_eq!(
            count(&db, "SELECT count(*) FROM library_sessions_ended").await,
            8,
            "{style:?}: one history row per session"
        );
        assert_eq!(
            count(&db, "SELECT count(DISTINCT session_key) FROM library_sessions_ended").await,
            8,
            "{style:?}"
        );
        let live = subjects::detail(&db, &admin, "user2@example.test", now())
            .await
            .unwrap();
        assert!(live.sessions.is_empty(), "{style:?}: {:?}", live.sessions);
        let other = subjects::detail(&db, &admin, "user1@example.test", now())
            .await
            .unwrap();
        assert_eq!(
            other.sessions.len(),
            8,
            "{style:?}: another user's sessions are untouched"
        );
        let v = audit::verify(&db, &admin, now(), |_, _| {}).await.expect("verify");
        assert!(v.is_intact(), "{style:?}: {v:?}");
    }
}

#[tokio::test]
async fn a_ban_racing_with_ends_and_two_factor_resets_leaves_one_consistent_user() {
    let Some((db, admin, seeded, _dbs)) = adopted(3, 6).await else {
        return;
    };
    let db = Arc::new(db);
    let tf = seeded["two_factor_user"]["email"].as_str().unwrap().to_owned();
    let start = Arc::new(tokio::sync::Barrier::new(12));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (db, admin, start, tf) = (db.clone(), admin.clone(), start.clone(), tf.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            match i % 3 {
                0 => subjects::ban(&db, &admin, &tf, "fraud", None, now()).await,
                1 => subjects::revoke_user(&db, &admin, &tf, "fraud", RevokeStyle::Delete, now()).await,
                _ => subjects::reset_two_factor(&db, &admin, &tf, "fraud", now())
                    .await
                    .map(usize::from),
            }
        }));
    }
    for t in tasks {
        t.await.expect("a caller panicked").expect("every caller succeeds");
    }
    let d = subjects::detail(&db, &admin, &tf, now()).await.unwrap();
    assert_eq!(d.user.banned, Some(true));
    assert_eq!(d.user.two_factor, Some(false));
    assert!(d.sessions.is_empty());
    assert_eq!(
        count(&db, "SELECT count(*) FROM library_sessions_ended").await,
        6,
        "six sessions, each recorded once"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM audit_events WHERE action = 'user.banned'").await,
        4
    );
    let v = audit::verify(&db, &admin, now(), |_, _| {}).await.expect("verify");
    assert!(v.is_intact(), "{v:?}");
}

#[tokio::test]
async fn two_emergency_sign_outs_at_once_end_each_session_once() {
    let Some((db, admin, _seeded, _dbs)) = adopted(4, 5).await else {
        return;
    };
    let db = Arc::new(db);
    let start = Arc::new(tokio::sync::Barrier::new(4));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (db, admin, start) = (db.clone(), admin.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            subjects::end_across(
                &db,
                &admin,
                &subjects::Across::everyone(),
                "breach",
                3,
                now(),
                |_, _| {},
                || false,
            )
            .await
        }));
    }
    let mut ended = 0;
    for t in tasks {
        ended += t.await.expect("a caller panicked").expect("every run succeeds").ended;
    }
    assert_eq!(ended, 20, "each of the 20 sessions is ended by exactly one run");
    assert_eq!(
        count(&db, "SELECT count(DISTINCT session_key) FROM library_sessions_ended").await,
        20
    );
    assert_eq!(count(&db, "SELECT count(*) FROM library_sessions_ended").await, 20);
    let v = audit::verify(&db, &admin, now(), |_, _| {}).await.expect("verify");
    assert!(v.is_intact(), "{v:?}");
}

#[tokio::test]
async fn the_overview_counts_what_the_library_holds() {
    let Some((db, admin, seeded, _dbs)) = adopted(3, 2).await else {
        return;
    };
    let staff: &warden_core::model::authz::Staff = &admin;
    subjects::ban(&db, staff, "user2@example.test", "card fraud", None, now())
        .await
        .expect("ban");
    let o = subjects::overview(&db, staff, now()).await.expect("the overview");
    // Each figure as a plain scan of the library's table reads it.
    let scan = |cond: &str| format!("SELECT count(*) FROM public.\"user\" WHERE {cond}");
    assert_eq!(o.users, 3, "{o:?}");
    assert_eq!(o.unverified, count(&db, &scan("NOT \"emailVerified\"")).await);
    assert_eq!(o.banned, Some(1), "user2 is banned");
    assert_eq!(o.admins, Some(1), "user1 holds the admin role");
    assert_eq!(o.two_factor, Some(count(&db, &scan("\"twoFactorEnabled\"")).await));
    assert_eq!((o.live_sessions, o.live_users), (4, 2), "the ban ended user2's two");
    let begun = o.begun.expect("Better Auth records when a session began");
    assert_eq!(begun.len(), 168, "a week of hours");
    assert_eq!(begun.iter().map(|h| h.sign_ins).sum::<u32>(), 4);
    assert_eq!(begun.last().map(|h| h.sign_ins), Some(4), "all begun this hour");
    let ips: Vec<&str> = o.addresses.iter().map(|a| a.ip.as_str()).collect();
    let seeded_ip = seeded["users"][0]["ip_addresses"][0].as_str().unwrap();
    assert!(ips.contains(&seeded_ip), "{ips:?}");
    assert_eq!(o.addresses.len(), 4, "each session from its own address: {ips:?}");
    assert!(o.addresses.iter().all(|a| a.sessions == 1 && a.users == 1));
    assert!(
        o.admin_actions.iter().any(|e| e.action == "user.banned"),
        "{:?}",
        o.admin_actions
    );
}

#[tokio::test]
async fn the_overview_of_authjs_leaves_out_what_it_does_not_record() {
    let Some(lib) = Libraries::find() else { return };
    let Some((_dbs, url)) = TestDatabases::postgres() else {
        return;
    };
    let fixture = fixture_url(&url);
    tokio::task::spawn_blocking(move || {
        lib.run(&["authjs", "setup", "--url", &fixture]);
        lib.run(&[
            "authjs",
            "seed",
            "--url",
            &fixture,
            "--users",
            "2",
            "--sessions-per-user",
            "2",
        ]);
    })
    .await
    .expect("the fixture");
    let admin = Admin::for_tests(Actor::cli(now()));
    let db = Db::connect(&url, false).await.expect("connect");
    let adopted = library::adopt(&db, &admin, now(), None, &TableNames::new())
        .await
        .expect("adopt");
    let o = subjects::overview(&adopted.db, &admin, now())
        .await
        .expect("the overview");
    assert_eq!((o.users, o.live_sessions, o.live_users), (2, 4, 2), "{o:?}");
    assert_eq!(
        (o.banned, o.two_factor, o.admins),
        (None, None, None),
        "Auth.js has no ban, two-factor or role: unknown, not zero"
    );
    assert!(o.begun.is_none(), "its sessions record no start");
    assert!(o.addresses.is_empty(), "nor an address");
    let err = subjects::timeline(&adopted.db, &admin, "1", now() - 86_400_000, now(), now())
        .await
        .expect_err("no timeline without a start time");
    assert!(err.to_string().contains("no start time"), "{err}");
}

#[tokio::test]
async fn a_library_users_timeline_draws_the_sessions_in_its_table_and_those_warden_ended() {
    use warden_core::model::timeline::{MarkKind, SessionOutcome};
    let Some((db, admin, seeded, _dbs)) = adopted(2, 3).await else {
        return;
    };
    let staff: &warden_core::model::authz::Staff = &admin;
    let user = &seeded["users"][1];
    let email = user["email"].as_str().unwrap();
    let ids: Vec<&str> = user["session_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    subjects::revoke_session(&db, staff, ids[0], "lost phone", RevokeStyle::Delete, now())
        .await
        .expect("end one");
    subjects::revoke_session(&db, staff, ids[1], "kept row", RevokeStyle::Expire, now())
        .await
        .expect("end one, keeping its row");
    let at = now();
    let t = subjects::timeline(&db, staff, email, at - 86_400_000, at + 1_000, at)
        .await
        .expect("the timeline");
    assert_eq!(t.sessions.len(), 3, "each session drawn once: {:?}", t.sessions);
    let outcomes: Vec<SessionOutcome> = t.sessions.iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == SessionOutcome::Admin).count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| **o == SessionOutcome::Live).count(), 1);
    assert!(t.sessions.iter().all(|s| s.ip.is_some() && !s.device.is_empty()));
    assert_eq!(t.marks.iter().filter(|m| m.kind == MarkKind::Revoked).count(), 2);
    assert!(t.marks.iter().all(|m| m.session.is_some()));
    // A range before the sessions began holds none of them.
    let early = subjects::timeline(&db, staff, email, at - 10 * 86_400_000, at - 5 * 86_400_000, at)
        .await
        .expect("an earlier range");
    assert!(early.sessions.is_empty() && early.marks.is_empty());
}

#[tokio::test]
async fn a_console_admin_signed_in_long_ago_must_reauthenticate_before_acting_on_the_library() {
    use warden_core::model::authz::ActorKind;
    let Some((db, _, seeded, _dbs)) = adopted(2, 2).await else {
        return;
    };
    let stale = Admin::for_tests(Actor {
        id: Some(uuid::Uuid::now_v7()),
        kind: ActorKind::User,
        label: "security@example.test".into(),
        role: warden_core::Role::SecurityAdmin,
        authenticated_at: now() - 2 * 86_400_000,
        session_id: None,
        ip: None,
    });
    let staff: &warden_core::model::authz::Staff = &stale;
    let email = seeded["users"][0]["email"].as_str().unwrap();
    let key = seeded["users"][0]["session_ids"][0].as_str().unwrap();
    let code = |r: Result<(), Error>| r.expect_err("refused").code();
    assert_eq!(
        code(
            subjects::end_across(
                &db,
                staff,
                &subjects::Across::everyone(),
                "breach",
                100,
                now(),
                |_, _| {},
                || false
            )
            .await
            .map(|_| ())
        ),
        "reauth_required"
    );
    assert_eq!(
        code(subjects::ban(&db, staff, email, "fraud", None, now()).await.map(|_| ())),
        "reauth_required"
    );
    assert_eq!(
        code(
            subjects::revoke_session(&db, staff, key, "lost", RevokeStyle::Delete, now())
                .await
                .map(|_| ())
        ),
        "reauth_required"
    );
    let live = count(&db, "SELECT count(*) FROM public.\"session\"").await;
    assert_eq!(live, 4, "nothing was ended");
}

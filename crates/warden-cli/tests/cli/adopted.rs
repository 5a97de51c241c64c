//! `warden adopt` and the commands on an adopted database, on databases the real libraries made and
//! filled (the fixture in `tests/libraries`). After each of Warden's actions the library itself is asked
//! whether it took effect: Better Auth's `getSession` with the old cookie, its sign-in, its two-factor
//! state; Auth.js's own session endpoint. PostgreSQL only: adopting a SQLite file is refused (and that
//! refusal is tested).

use serde_json::Value;
use warden_testdb::libraries::{fixture_url, run_sql, schema_dump, Libraries};

use super::*;

const PASSWORD: &str = "correct horse battery staple 1";
const ADMIN_PASSWORD: &str = "a long staff password 42";

/// A fresh PostgreSQL database and the fixture; `None` (skipped) without either.
fn postgres() -> Option<(TestDb, Libraries)> {
    let lib = Libraries::find()?;
    let db = TestDb::postgres()?;
    Some((db, lib))
}

/// The library's part of a schema dump: every line but those of Warden's own schema.
fn library_part(dump: &str) -> String {
    dump.lines()
        .filter(|l| !l.contains("warden."))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `better-auth <command> --url … --variant … --plugins …` with `more`.
fn ba(lib: &Libraries, db: &TestDb, variant: &str, plugins: &str, command: &str, more: &[&str]) -> Value {
    let url = fixture_url(&db.url);
    let mut args = vec!["better-auth", command, "--url", &url, "--variant", variant];
    if !plugins.is_empty() {
        args.extend(["--plugins", plugins]);
    }
    args.extend_from_slice(more);
    lib.run(&args)
}

/// Makes and fills a Better Auth database: 3 users, 2 sessions each.
fn better_auth(lib: &Libraries, db: &TestDb, variant: &str, plugins: &str) -> Value {
    ba(lib, db, variant, plugins, "setup", &[]);
    ba(
        lib,
        db,
        variant,
        plugins,
        "seed",
        &["--users", "3", "--sessions-per-user", "2"],
    )
}

/// Makes and fills an Auth.js database with its PostgreSQL adapter: `users` users, `sessions` sessions each.
fn authjs(lib: &Libraries, db: &TestDb, users: u32, sessions: u32) -> Value {
    let url = fixture_url(&db.url);
    lib.run(&["authjs", "setup", "--url", &url]);
    let (users, sessions) = (users.to_string(), sessions.to_string());
    lib.run(&[
        "authjs",
        "seed",
        "--url",
        &url,
        "--users",
        &users,
        "--sessions-per-user",
        &sessions,
    ])
}

/// `warden adopt` with the first security admin's password in the environment.
fn adopt(db: &TestDb, more: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["--db", &db.url, "adopt"])
        .args(more)
        .env_remove("WARDEN_DB")
        .env("USER", "operator")
        .env("WARDEN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .expect("run warden")
}

fn adopted_json(db: &TestDb, more: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(more);
    let out = adopt(db, &args);
    assert!(
        out.status.success(),
        "adopt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn valid(lib: &Libraries, db: &TestDb, cookie: &str) -> bool {
    ba(
        lib,
        db,
        "default",
        "admin,twoFactor",
        "check-session",
        &["--cookie", cookie],
    )["valid"]
        == true
}

fn user(seeded: &Value, i: usize) -> &Value {
    &seeded["users"][i]
}

fn audit_actions(db: &TestDb) -> Vec<(String, String)> {
    db.json(&["audit", "list", "--limit", "100"])["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["metadata"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn adopting_better_auth_changes_none_of_its_tables_and_a_second_time_changes_nothing() {
    for (variant, plugins, tables) in [
        ("default", "admin,twoFactor", ""),
        ("snake", "admin,twoFactor", ""),
        ("plural", "admin", ""),
        ("custom", "", "user=app_users,session=app_sessions"),
    ] {
        let Some((db, lib)) = postgres() else { return };
        better_auth(&lib, &db, variant, plugins);
        let before = schema_dump(&db.url);
        let mut args = vec!["--admin-email", "security@example.test"];
        if !tables.is_empty() {
            args.extend(["--tables", tables]);
        }
        assert_eq!(db.json(&["inspect"])["adopted"], false, "{variant}");
        assert!(
            db.ok(&["inspect"]).contains("`warden adopt` puts Warden's own tables"),
            "{variant}"
        );
        let first = adopted_json(&db, &args);
        assert_eq!(first["adopted"], true, "{variant}: {first}");
        assert_eq!(first["staff"]["created"], true, "{variant}: {first}");
        assert_eq!(first["schema"]["namespace"], "public", "{variant}: {first}");
        let after = schema_dump(&db.url);
        assert_eq!(
            library_part(&after),
            library_part(&before),
            "{variant}: the library's tables are as they were"
        );
        assert!(
            after.contains("warden.audit_events"),
            "{variant}: Warden's tables are in their own schema"
        );

        // Again: nothing new, nothing of the library's touched, one adoption in the audit log.
        let second = adopted_json(&db, &args);
        assert_eq!(second["adopted"], false, "{variant}: {second}");
        assert_eq!(second["staff"]["created"], false, "{variant}: {second}");
        assert_eq!(
            schema_dump(&db.url),
            after,
            "{variant}: the second adoption wrote nothing"
        );
        let adoptions = audit_actions(&db)
            .into_iter()
            .filter(|(a, _)| a == "database.adopted")
            .count();
        assert_eq!(adoptions, 1, "{variant}");

        assert_eq!(db.json(&["inspect"])["adopted"], true, "{variant}");
        assert!(db.ok(&["inspect"]).contains("Warden has adopted it"), "{variant}");
        // Every command now opens it, on the library's users.
        let page = db.json(&["users", "list"]);
        let emails: Vec<&str> = page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(
            emails,
            ["user1@example.test", "user2@example.test", "user3@example.test"],
            "{variant}"
        );
        let found = db.json(&["users", "list", "--search", "USER2@example.test"]);
        assert_eq!(
            found["users"].as_array().unwrap().len(),
            1,
            "{variant}: a whole address: {found}"
        );
        let found = db.json(&["users", "list", "--search", "user2@exa"]);
        assert_eq!(
            found["users"].as_array().unwrap().len(),
            1,
            "{variant}: the start of one: {found}"
        );
        let shown = db.json(&["users", "show", "User2@Example.test"]);
        assert_eq!(
            shown["detail"]["sessions"].as_array().unwrap().len(),
            2,
            "{variant}: {shown}"
        );
        assert!(db.ok(&["audit", "verify"]).contains("intact"), "{variant}");
    }
}

#[test]
fn what_is_not_a_library_database_or_not_on_postgresql_is_not_adopted() {
    let Some(lib) = Libraries::find() else { return };
    // An empty database, and Warden's own.
    if let Some(db) = TestDb::postgres() {
        let err = db.fails(&["adopt"], 1);
        assert!(err.contains("the database is empty"), "{err}");
        db.ok(&["migrate"]);
        let err = db.fails(&["adopt"], 1);
        assert!(err.contains("this is Warden's own schema"), "{err}");
    }
    // Tables of neither library.
    if let Some(db) = TestDb::postgres() {
        run_sql(
            &db.url,
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)",
        );
        let before = schema_dump(&db.url);
        let err = db.fails(&["adopt"], 1);
        assert!(
            err.contains("neither Better Auth's nor Auth.js's schema is here"),
            "{err}"
        );
        assert_eq!(schema_dump(&db.url), before, "nothing was written");
    }
    // A SQLite file made by Better Auth: refused in words, untouched.
    let db = TestDb::sqlite();
    better_auth(&lib, &db, "default", "admin");
    let before = schema_dump(&db.url);
    let err = db.fails(&["adopt"], 1);
    assert!(
        err.contains("adopting a Better Auth database in a SQLite file is not supported yet"),
        "{err}"
    );
    let err = db.fails(&["users", "list"], 1);
    assert!(err.contains("a SQLite file is not adopted yet"), "{err}");
    assert_eq!(schema_dump(&db.url), before, "nothing was written");
}

#[test]
fn sessions_ended_by_warden_are_refused_by_better_auth_and_kept_in_warden_history() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    let u2 = user(&seeded, 1);
    let cookies: Vec<&str> = u2["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let ids: Vec<&str> = u2["session_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(cookies.iter().all(|c| valid(&lib, &db, c)), "valid before");

    // One session: that cookie stops working, the other does not.
    let out = db.json(&["sessions", "revoke", ids[0], "--reason", "lost laptop"]);
    assert_eq!(out["session"]["key"], ids[0]);
    assert!(!valid(&lib, &db, cookies[0]), "Better Auth refuses the revoked session");
    assert!(valid(&lib, &db, cookies[1]), "and keeps the other");
    let err = db.fails(&["sessions", "revoke", ids[0], "--reason", "again"], 1);
    assert!(err.contains("session not found"), "{err}");

    // Everywhere, keeping the rows as `preserveSessionInDatabase` does.
    let u3 = user(&seeded, 2);
    let n = db.json(&[
        "sessions",
        "revoke-user",
        "user3@example.test",
        "--reason",
        "phished",
        "--keep-row",
    ]);
    assert_eq!(n["revoked"], 2);
    for c in u3["cookies"].as_array().unwrap() {
        assert!(
            !valid(&lib, &db, c.as_str().unwrap()),
            "Better Auth refuses an expired session"
        );
    }
    // A reason is required, and nothing is done without one.
    let err = db.fails(&["sessions", "revoke-user", "user2@example.test", "--reason", " "], 2);
    assert!(err.contains("reason"), "{err}");
    assert!(valid(&lib, &db, cookies[1]));
    db.json(&[
        "sessions",
        "revoke-user",
        "user2@example.test",
        "--reason",
        "password reset",
    ]);
    assert!(!valid(&lib, &db, cookies[1]));

    // Warden keeps what the library no longer has: when, why, from where.
    let shown = db.json(&["users", "show", "user2@example.test"]);
    let ended = shown["ended_sessions"].as_array().unwrap();
    assert_eq!(ended.len(), 2, "{shown}");
    assert!(
        ended
            .iter()
            .all(|e| e["reason"] == "admin" && e["session"]["ip"].is_string()),
        "{shown}"
    );
    assert!(shown["detail"]["sessions"].as_array().unwrap().is_empty(), "{shown}");
    let actions = audit_actions(&db);
    let revoked: Vec<&(String, String)> = actions
        .iter()
        .filter(|(a, _)| a == "session.revoked" || a == "user.sessions_revoked")
        .collect();
    assert_eq!(revoked.len(), 3, "{actions:?}");
    assert!(
        revoked.iter().all(|(_, m)| m.contains("\"library\":\"better-auth\"")),
        "{revoked:?}"
    );
    assert!(
        !actions
            .iter()
            .any(|(_, m)| m.contains(u2["session_tokens"][0].as_str().unwrap())),
        "no session token in the audit log"
    );
    let audit = db.json(&["audit", "list", "--user", "user2@example.test"]);
    assert!(
        audit["events"].as_array().unwrap().len() >= 2,
        "filtered by the library user: {audit}"
    );
    assert!(db.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn a_ban_is_obeyed_by_better_auth_until_it_is_lifted() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    let sign_in = |email: &str| {
        ba(
            &lib,
            &db,
            "default",
            "admin,twoFactor",
            "sign-in",
            &["--email", email, "--password", PASSWORD],
        )
    };
    assert_eq!(sign_in("user2@example.test")["ok"], true);

    let out = db.json(&[
        "users",
        "ban",
        "user2@example.test",
        "--reason",
        "card fraud",
        "--until",
        "7d",
    ]);
    assert_eq!(out["sessions_ended"], 3, "the seeded two and the sign-in's: {out}");
    let refused = sign_in("user2@example.test");
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["code"], "BANNED_USER", "{refused}");
    for c in user(&seeded, 1)["cookies"].as_array().unwrap() {
        assert!(!valid(&lib, &db, c.as_str().unwrap()));
    }
    let listed = db.json(&["users", "show", "user2@example.test"]);
    let u = &listed["detail"]["user"];
    assert_eq!(u["banned"], true, "{u}");
    assert_eq!(u["ban_reason"], "card fraud", "{u}");
    assert!(u["ban_expires"].as_i64().unwrap() > 0, "{u}");

    // Lifting it lets them in; lifting it again is an error that names why.
    db.json(&[
        "users",
        "unban",
        "user2@example.test",
        "--reason",
        "chargeback withdrawn",
    ]);
    assert_eq!(sign_in("user2@example.test")["ok"], true);
    let err = db.fails(&["users", "unban", "user2@example.test", "--reason", "again"], 2);
    assert!(err.contains("is not banned"), "{err}");

    // A date in the past is bad input; the user is untouched.
    let err = db.fails(
        &[
            "users",
            "ban",
            "user3@example.test",
            "--reason",
            "x",
            "--until",
            "2020-01-01",
        ],
        2,
    );
    assert!(err.contains("until") && err.contains("future"), "{err}");
    assert_eq!(
        sign_in("user3@example.test")["ok"],
        true,
        "two-factor user: still allowed to start"
    );

    let actions: Vec<String> = audit_actions(&db).into_iter().map(|(a, _)| a).collect();
    assert!(actions.contains(&"user.banned".to_owned()) && actions.contains(&"user.unbanned".to_owned()));
}

#[test]
fn a_schema_without_the_admin_plugin_cannot_be_banned_and_says_why() {
    let Some((db, lib)) = postgres() else { return };
    better_auth(&lib, &db, "default", "");
    adopted_json(&db, &[]);
    let before = schema_dump(&db.url);
    let err = db.fails(&["users", "ban", "user1@example.test", "--reason", "x"], 1);
    assert!(err.contains("banning needs Better Auth's admin plugin"), "{err}");
    let err = db.fails(&["users", "reset-two-factor", "user1@example.test", "--reason", "x"], 1);
    assert!(err.contains("twoFactor plugin"), "{err}");
    assert_eq!(schema_dump(&db.url), before, "nothing was written");
}

#[test]
fn resetting_two_factor_is_obeyed_by_better_auth() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    let tf = seeded["two_factor_user"]["email"]
        .as_str()
        .expect("a two-factor user")
        .to_owned();
    let state = |email: &str| {
        ba(
            &lib,
            &db,
            "default",
            "admin,twoFactor",
            "two-factor-enabled",
            &["--email", email],
        )
    };
    assert_eq!(state(&tf)["enabled"], true);
    let signed = ba(
        &lib,
        &db,
        "default",
        "admin,twoFactor",
        "sign-in",
        &["--email", &tf, "--password", PASSWORD],
    );
    assert_eq!(signed["two_factor_redirect"], true, "{signed}");

    let out = db.json(&[
        "users",
        "reset-two-factor",
        &tf,
        "--reason",
        "lost phone, identity checked",
    ]);
    assert_eq!(out["secret_removed"], true);
    let after = state(&tf);
    assert_eq!(after["enabled"], false, "{after}");
    assert_eq!(after["rows"], 0, "{after}");
    let signed = ba(
        &lib,
        &db,
        "default",
        "admin,twoFactor",
        "sign-in",
        &["--email", &tf, "--password", PASSWORD],
    );
    assert_eq!(signed["ok"], true, "the password alone signs in now: {signed}");
    assert!(signed.get("two_factor_redirect").is_none(), "{signed}");
}

#[test]
fn sessions_ended_by_warden_are_refused_by_authjs() {
    let Some((db, lib)) = postgres() else { return };
    let url = fixture_url(&db.url);
    let seeded = authjs(&lib, &db, 2, 2);
    adopted_json(&db, &[]);
    let check = |token: &str| lib.run(&["authjs", "check-session", "--url", &url, "--token", token])["valid"] == true;
    let u1 = &seeded["users"][0];
    let tokens: Vec<&str> = u1["session_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tokens.iter().all(|t| check(t)));

    // Integer ids, found by id and by email.
    let id = u1["id"].to_string().trim_matches('"').to_owned();
    let shown = db.json(&["users", "show", &id]);
    assert_eq!(shown["detail"]["user"]["email"], u1["email"], "{shown}");
    let sessions = shown["detail"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{shown}");
    assert!(
        sessions.iter().all(|s| s["ip"].is_null() && s["created_at"].is_null()),
        "Auth.js keeps neither"
    );

    let key = sessions[0]["key"].as_str().unwrap().to_owned();
    db.json(&["sessions", "revoke", &key, "--reason", "stolen cookie"]);
    assert_eq!(
        tokens.iter().filter(|t| check(t)).count(),
        1,
        "one session refused, one kept"
    );
    db.json(&[
        "sessions",
        "revoke-user",
        u1["email"].as_str().unwrap(),
        "--reason",
        "account recovery",
    ]);
    assert!(
        tokens.iter().all(|t| !check(t)),
        "Auth.js refuses every revoked session"
    );
    let other = seeded["users"][1]["session_tokens"][0].as_str().unwrap();
    assert!(check(other), "another user's session is untouched");
    assert!(db.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn the_emergency_sign_out_ends_every_better_auth_session_in_batches() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    let cookies: Vec<String> = seeded["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| {
            u["cookies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(cookies.len(), 6);

    // One address first: only its session ends.
    let ip = user(&seeded, 1)["ip_addresses"][0].as_str().unwrap().to_owned();
    let dry = db.json(&["sessions", "bulk-revoke", "--ip", &ip, "--reason", "bad address"]);
    assert_eq!(
        (dry["dry_run"].clone(), dry["sessions"].clone()),
        (true.into(), 1.into()),
        "{dry}"
    );
    assert!(cookies.iter().all(|c| valid(&lib, &db, c)), "a dry run ends nothing");
    let done = db.json(&[
        "sessions",
        "bulk-revoke",
        "--ip",
        &ip,
        "--reason",
        "bad address",
        "--yes",
    ]);
    assert_eq!(done["ended"], 1, "{done}");
    assert_eq!(cookies.iter().filter(|c| valid(&lib, &db, c)).count(), 5);

    // Everyone, two at a time.
    let dry = db.json(&["sessions", "bulk-revoke", "--everyone", "--reason", "breach"]);
    assert_eq!(dry["sessions"], 5, "{dry}");
    assert_eq!(dry["users"], 3, "{dry}");
    let done = db.json(&[
        "sessions",
        "bulk-revoke",
        "--everyone",
        "--reason",
        "breach",
        "--yes",
        "--batch-size",
        "2",
    ]);
    assert_eq!(
        (done["ended"].clone(), done["batches"].clone()),
        (5.into(), 3.into()),
        "{done}"
    );
    assert!(
        cookies.iter().all(|c| !valid(&lib, &db, c)),
        "Better Auth refuses every session"
    );
    let actions = audit_actions(&db);
    let batches = actions.iter().filter(|(a, _)| a == "session.bulk_batch").count();
    assert_eq!(batches, 4, "one event per batch: {actions:?}");
    assert!(
        actions.iter().any(|(a, m)| a == "session.bulk_revoked"
            && m.contains("\"target\":\"everyone\"")
            && m.contains("\"terminated\":5")),
        "{actions:?}"
    );
    // Filters the library's sessions cannot answer are refused in words.
    let err = db.fails(&["sessions", "bulk-revoke", "--country", "FR", "--reason", "x"], 2);
    assert!(
        err.contains("country") && err.contains("Better Auth records no country"),
        "{err}"
    );
    let err = db.fails(&["sessions", "bulk-revoke", "--reason", "x"], 2);
    assert!(err.contains("--everyone") && err.contains("--ip"), "{err}");
    assert!(db.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn enforce_applies_the_lifetime_cap_to_better_auths_sessions_in_place() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    db.ok(&[
        "policy",
        "set",
        "session.max_lifetime=12h",
        "session.ttl=8h",
        "session.idle_timeout=3h",
        "session.refresh_after=1h",
        "--note",
        "shorter sessions",
    ]);
    // One session began 13 hours ago (as if the application had kept it that long).
    let old = user(&seeded, 0)["session_ids"][0].as_str().unwrap().to_owned();
    run_sql(
        &db.url,
        &format!("UPDATE \"session\" SET \"createdAt\" = now() - interval '13 hours' WHERE id = '{old}'"),
    );
    let done = db.json(&["enforce"]);
    assert_eq!(done["ended"], 1, "{done}");
    assert_eq!(done["shortened"], 5, "every other session expired 7 days out: {done}");
    assert_eq!(done["max_lifetime_ms"], 12 * 3_600_000);
    let shown = db.json(&["users", "show", "user1@example.test"]);
    let s = &shown["detail"]["sessions"][0];
    let span = s["expires_at"].as_i64().unwrap() - s["created_at"].as_i64().unwrap();
    assert!((span - 12 * 3_600_000).abs() < 1_000, "its expiry is its cap now: {s}");
    assert_eq!(shown["ended_sessions"][0]["reason"], "absolute", "{shown}");
    let cookies = user(&seeded, 0)["cookies"].as_array().unwrap();
    assert!(
        !valid(&lib, &db, cookies[0].as_str().unwrap()),
        "Better Auth refuses the session past the cap"
    );
    assert!(
        valid(&lib, &db, cookies[1].as_str().unwrap()),
        "and keeps the others, for now"
    );

    // Using a session lets Better Auth slide its expiry out again (its updateAge refresh): the next sweep
    // brings it back, and ends it once its cap has passed.
    let again = db.json(&["enforce"]);
    assert_eq!(
        (again["ended"].clone(), again["shortened"].clone()),
        (0.into(), 1.into()),
        "{again}"
    );
    let quiet = db.json(&["enforce"]);
    assert_eq!(
        (quiet["ended"].clone(), quiet["shortened"].clone()),
        (0.into(), 0.into()),
        "{quiet}"
    );
    let actions: Vec<String> = audit_actions(&db).into_iter().map(|(a, _)| a).collect();
    assert!(actions.contains(&"session.ended".to_owned()), "{actions:?}");
    assert!(db.ok(&["audit", "verify"]).contains("intact"));

    // A malformed period is bad input; Warden's own schema needs no sweeper.
    let err = db.fails(&["enforce", "--every", "soon"], 2);
    assert!(err.contains("every"), "{err}");
    let own = TestDb::postgres().expect("configured");
    own.ok(&["migrate"]);
    let err = own.fails(&["enforce"], 1);
    assert!(err.contains("applies the session caps itself"), "{err}");
}

#[test]
fn enforce_says_why_authjs_sessions_cannot_be_capped() {
    let Some((db, lib)) = postgres() else { return };
    authjs(&lib, &db, 1, 1);
    adopted_json(&db, &[]);
    let err = db.fails(&["enforce"], 1);
    assert!(err.contains("Auth.js sessions record no creation time"), "{err}");
}

#[test]
fn the_better_auth_demo_is_made_adopted_and_benchmarked() {
    let Some(db) = TestDb::postgres() else { return };
    let made = db.json(&[
        "demo",
        "--schema",
        "better-auth",
        "--users",
        "40",
        "--busy-sessions",
        "30",
    ]);
    assert_eq!(made["users"], 40, "{made}");
    assert_eq!(made["sessions"], 40 * 5 + 30, "{made}");
    let page = db.json(&["users", "list", "--limit", "100"]);
    assert_eq!(
        page["users"].as_array().unwrap().len(),
        41,
        "the users and the busy account: {page}"
    );
    let busy = db.json(&["users", "show", "busy@example.test"]);
    assert_eq!(busy["detail"]["sessions"].as_array().unwrap().len(), 30, "all live");
    // The console's security admin signs in to Warden's own tables.
    assert!(made["admin_password"].as_str().unwrap().len() >= 12);
    let err = db.fails(&["demo", "--schema", "better-auth", "--users", "1"], 1);
    assert!(err.contains("empty database"), "{err}");

    let figures = db.json(&["bench", "--iterations", "10", "--emergency"]);
    let names: Vec<&str> = figures
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("users page, first 100")),
        "{names:?}"
    );
    assert!(names.contains(&"sign out everywhere (30 sessions)"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("emergency sign-out (")), "{names:?}");
    let after = db.json(&["sessions", "bulk-revoke", "--everyone", "--reason", "x"]);
    assert_eq!(after["sessions"], 0, "the emergency ended every live session: {after}");
    assert!(db.ok(&["audit", "verify"]).contains("intact"));
}

#[test]
fn enforce_gives_the_applications_admins_the_privileged_cap() {
    let Some((db, lib)) = postgres() else { return };
    better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    db.ok(&[
        "policy",
        "set",
        "privileged.max_lifetime=2h",
        "privileged.ttl=1h",
        "--note",
        "admins: 2 hours",
    ]);
    let done = db.json(&["enforce"]);
    assert_eq!(done["privileged_max_lifetime_ms"], 2 * 3_600_000, "{done}");
    assert_eq!(
        done["shortened"], 2,
        "the admin's two to 2 h; the others' expire within the 30-day cap: {done}"
    );
    let span = |email: &str| {
        let shown = db.json(&["users", "show", email]);
        let s = &shown["detail"]["sessions"][0];
        s["expires_at"].as_i64().unwrap() - s["created_at"].as_i64().unwrap()
    };
    assert!(
        (span("user1@example.test") - 2 * 3_600_000).abs() < 1_000,
        "user1 is an admin"
    );
    assert!(span("user2@example.test") > 2 * 3_600_000, "user2 is not");
}

#[test]
fn better_auths_sessions_are_listed_counted_and_ended_across_users_by_filter() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    let keys = |page: &Value| -> Vec<String> {
        page["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .map(|r| r["session"]["key"].as_str().unwrap().to_owned())
            .collect()
    };

    // Every live session, newest first, each with its user's email, in keyset pages.
    let all = db.json(&["sessions", "list"]);
    assert_eq!(keys(&all).len(), 6, "{all}");
    let began: Vec<i64> = all["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"]["created_at"].as_i64().unwrap())
        .collect();
    assert!(began.windows(2).all(|w| w[0] >= w[1]), "newest first: {began:?}");
    assert!(all["sessions"][0]["email"].as_str().unwrap().ends_with("@example.test"));
    let first = db.json(&["sessions", "list", "--limit", "4"]);
    let cursor = first["next_cursor"].as_str().expect("a next page").to_owned();
    let second = db.json(&["sessions", "list", "--limit", "4", "--after", &cursor]);
    assert_eq!(second["next_cursor"], Value::Null);
    let mut paged = [keys(&first), keys(&second)].concat();
    assert_eq!(paged.len(), 6);
    paged.sort();
    paged.dedup();
    assert_eq!(paged.len(), 6, "no session on two pages");

    // By user, by address, by the application's admins; counted with their users.
    let email = user(&seeded, 2)["email"].as_str().unwrap().to_owned();
    assert_eq!(keys(&db.json(&["sessions", "list", "--user", &email])).len(), 2);
    let ip = user(&seeded, 0)["ip_addresses"][0].as_str().unwrap().to_owned();
    assert_eq!(keys(&db.json(&["sessions", "list", "--ip", &ip])).len(), 1);
    let admins = db.json(&["sessions", "list", "--privileged"]);
    assert!(
        admins["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["email"] == "user1@example.test")
            && keys(&admins).len() == 2,
        "user1 is the application's admin: {admins}"
    );
    let count = db.json(&["sessions", "count"]);
    assert_eq!(
        (count["sessions"].as_i64(), count["users"].as_i64()),
        (Some(6), Some(3)),
        "{count}"
    );
    let count = db.json(&["sessions", "count", "--user", &email]);
    assert_eq!(
        (count["sessions"].as_i64(), count["users"].as_i64()),
        (Some(2), Some(1)),
        "{count}"
    );
    let future = db.json(&["sessions", "list", "--created-from", "2099-01-01"]);
    assert_eq!(keys(&future).len(), 0, "{future}");

    // What the library's rows cannot answer is refused, naming the field.
    let err = db.fails(&["sessions", "list", "--browser", "Firefox"], 2);
    assert!(err.contains("browser"), "{err}");
    let err = db.fails(&["sessions", "list", "--ip", "10.0.0.0/8"], 2);
    assert!(err.contains("not a range"), "{err}");
    let err = db.fails(&["sessions", "list", "--ip", "not-an-address"], 2);
    assert!(err.contains("ip") && err.contains("one IP address"), "{err}");
    let err = db.fails(&["sessions", "list", "--user", "nobody@example.test"], 2);
    assert!(err.contains("nobody@example.test"), "{err}");

    // A filter given but blank (a script's unset variable) is refused, never read as "everyone".
    for blank in [&["--ip", " "][..], &["--user", ""][..]] {
        let mut args = vec!["sessions", "bulk-revoke", "--reason", "x", "--yes"];
        args.extend_from_slice(blank);
        let err = db.fails(&args, 2);
        assert!(err.contains("must not be empty"), "{blank:?}: {err}");
    }
    assert_eq!(db.json(&["sessions", "count"])["sessions"], 6, "nothing ended");

    // A bulk end by user takes that user's sessions only, and Better Auth refuses them.
    let dry = db.json(&["sessions", "bulk-revoke", "--user", &email, "--reason", "stolen laptop"]);
    assert_eq!(
        (dry["dry_run"].clone(), dry["sessions"].clone()),
        (true.into(), 2.into()),
        "{dry}"
    );
    let done = db.json(&[
        "sessions",
        "bulk-revoke",
        "--user",
        &email,
        "--reason",
        "stolen laptop",
        "--yes",
    ]);
    assert_eq!(done["ended"], 2, "{done}");
    for (i, live) in [(0, true), (1, true), (2, false)] {
        for c in user(&seeded, i)["cookies"].as_array().unwrap() {
            assert_eq!(valid(&lib, &db, c.as_str().unwrap()), live, "user {i}");
        }
    }
    assert_eq!(keys(&db.json(&["sessions", "list", "--status", "all"])).len(), 4);
    let actions = audit_actions(&db);
    assert!(
        actions.iter().any(|(a, m)| a == "session.bulk_revoked"
            && m.contains("\"target\":\"user ")
            && m.contains("\"terminated\":2")),
        "{actions:?}"
    );
}

#[test]
fn the_policy_says_which_keys_reach_better_auths_sessions() {
    let Some((db, lib)) = postgres() else { return };
    better_auth(&lib, &db, "default", "admin,twoFactor");
    adopted_json(&db, &[]);
    let shown = db.json(&["policy", "show"]);
    let applies = |key: &str| shown["scope"][key]["applies"].as_bool();
    assert_eq!(applies("session.max_lifetime"), Some(true), "{shown}");
    assert_eq!(applies("privileged.max_lifetime"), Some(true), "{shown}");
    for key in [
        "session.idle_timeout",
        "session.ttl",
        "lockout.threshold",
        "password.min_length",
    ] {
        assert_eq!(applies(key), Some(false), "{key}: {shown}");
    }
    assert!(shown["scope"]["lockout.threshold"]["note"]
        .as_str()
        .unwrap()
        .contains("sign-ins go through Better Auth"));
    let text = db.ok(&["policy", "show"]);
    assert!(
        text.contains("ON THIS DATABASE") && text.contains("the console's staff only"),
        "{text}"
    );
}

#[test]
fn authjs_sessions_are_listed_across_users_with_the_filters_it_can_answer() {
    let Some((db, lib)) = postgres() else { return };
    let seeded = authjs(&lib, &db, 2, 2);
    adopted_json(&db, &[]);
    let all = db.json(&["sessions", "list"]);
    let rows = all["sessions"].as_array().expect("sessions");
    assert_eq!(rows.len(), 4, "{all}");
    assert!(rows
        .iter()
        .all(|r| r["session"]["created_at"].is_null() && r["email"].is_string()));
    let expiries: Vec<i64> = rows
        .iter()
        .map(|r| r["session"]["expires_at"].as_i64().unwrap())
        .collect();
    assert!(
        expiries.windows(2).all(|w| w[0] >= w[1]),
        "by expiry, latest first: {expiries:?}"
    );
    let email = seeded["users"][0]["email"].as_str().unwrap();
    let count = db.json(&["sessions", "count", "--user", email]);
    assert_eq!(count["sessions"], 2, "{count}");
    for (args, says) in [
        (&["sessions", "list", "--ip", "203.0.113.7"][..], "record no address"),
        (
            &["sessions", "list", "--created-from", "2026-01-01"][..],
            "no creation time",
        ),
        (&["sessions", "list", "--privileged"][..], "no role column"),
    ] {
        let err = db.fails(args, 2);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

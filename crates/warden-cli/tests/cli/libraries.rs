//! `warden inspect` on databases the real libraries made: Better Auth (its own migrations, in the
//! variants it produces) and Auth.js (its adapters' schemas), filled through their own APIs by the
//! fixture in `tests/libraries`. Inspecting writes nothing.

use serde_json::Value;
use warden_testdb::libraries::{fixture_url, schema_dump, Libraries};

use super::*;

/// The library fixture and a maker of fresh databases for each backend (PostgreSQL when configured);
/// nothing when the fixture is not installed (and not required).
fn backends() -> Vec<(fn() -> TestDb, Libraries)> {
    let mut out: Vec<(fn() -> TestDb, Libraries)> = Vec::new();
    let Some(lib) = Libraries::find() else { return out };
    out.push((TestDb::sqlite, lib));
    if TestDb::postgres().is_some() {
        let pg = || TestDb::postgres().expect("PostgreSQL is configured");
        out.push((pg, Libraries::find().expect("installed")));
    }
    out
}

/// One fresh database of each backend, with the fixture.
fn databases() -> Vec<(TestDb, Libraries)> {
    backends().into_iter().map(|(make, lib)| (make(), lib)).collect()
}

/// Makes a Better Auth database in `variant` with `plugins` and fills it: 3 users, 2 sessions each.
fn better_auth(db: &TestDb, lib: &Libraries, variant: &str, plugins: &str) -> Value {
    let url = fixture_url(&db.url);
    let mut args = vec!["better-auth", "setup", "--url", &url, "--variant", variant];
    if !plugins.is_empty() {
        args.extend(["--plugins", plugins]);
    }
    lib.run(&args);
    args[1] = "seed";
    args.extend(["--users", "3", "--sessions-per-user", "2"]);
    lib.run(&args)
}

#[test]
fn inspect_tells_better_auth_in_each_variant_the_library_makes() {
    for (make, lib) in backends() {
        let cases = [
            (
                "default",
                "admin,twoFactor",
                ["user", "session", "twoFactor"],
                true,
                true,
                false,
            ),
            ("plural", "admin", ["users", "sessions", ""], true, false, false),
            (
                "snake",
                "admin,twoFactor",
                ["user", "session", "two_factor"],
                true,
                true,
                true,
            ),
            ("custom", "", ["app_users", "app_sessions", ""], false, false, false),
        ];
        for (variant, plugins, [user, session, two_factor], admin, tf, snake) in cases {
            let db = make();
            let seeded = better_auth(&db, &lib, variant, plugins);
            let sessions: usize = seeded["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["session_tokens"].as_array().unwrap().len())
                .sum();
            let before = schema_dump(&db.url);
            let found = db.json(&["inspect"]);
            assert_eq!(found["kind"], "library", "{variant}: {found}");
            let i = &found["inspection"];
            let s = &i["schema"];
            assert_eq!(s["library"], "better-auth", "{variant}");
            assert_eq!(s["tables"]["user"]["name"], user, "{variant}: {s}");
            assert_eq!(s["tables"]["session"]["name"], session, "{variant}: {s}");
            if two_factor.is_empty() {
                assert!(s["tables"].get("two_factor").is_none(), "{variant}: {s}");
            } else {
                assert_eq!(s["tables"]["two_factor"]["name"], two_factor, "{variant}: {s}");
            }
            assert_eq!(s["plugins"]["admin"], admin, "{variant}");
            assert_eq!(s["plugins"]["two_factor"], tf, "{variant}");
            assert_eq!(s["snake_case"], snake, "{variant}");
            let expected_dates = if db.url.starts_with("sqlite") {
                "iso_text"
            } else {
                "timestamptz"
            };
            assert_eq!(s["dates"], expected_dates, "{variant}");
            assert_eq!(i["users"], 3, "{variant}");
            assert_eq!(i["sessions"], sessions as i64, "{variant}");
            assert_eq!(
                i["live_sessions"], sessions as i64,
                "{variant}: every session is ahead of its expiry"
            );
            let caps: Vec<(String, bool)> = i["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["key"].as_str().unwrap().to_owned(), c["available"].as_bool().unwrap()))
                .collect();
            assert!(caps.contains(&("session_place".into(), true)), "{variant}: {caps:?}");
            assert!(caps.contains(&("ban".into(), admin)), "{variant}: {caps:?}");
            assert!(caps.contains(&("lockout".into(), false)), "{variant}: {caps:?}");
            // In words, too, and nothing was written.
            let text = db.ok(&["inspect"]);
            let title = if admin && tf {
                "Better Auth schema with the admin and twoFactor plugins, 3 users"
            } else if admin {
                "Better Auth schema with the admin plugin, 3 users"
            } else {
                "Better Auth schema, 3 users"
            };
            assert!(text.starts_with(title), "{variant}: {text}");
            assert!(
                text.contains("cookieCache") && text.contains("Nothing was written."),
                "{text}"
            );
            assert_eq!(schema_dump(&db.url), before, "{variant}: inspecting wrote nothing");
        }
    }
}

#[test]
fn inspect_tells_authjs_and_an_empty_sessions_table_beside_users() {
    for (make, lib) in backends() {
        let db = make();
        let url = fixture_url(&db.url);
        lib.run(&["authjs", "setup", "--url", &url]);
        let seeded = lib.run(&[
            "authjs",
            "seed",
            "--url",
            &url,
            "--users",
            "2",
            "--sessions-per-user",
            "0",
        ]);
        assert_eq!(seeded["users"].as_array().unwrap().len(), 2);
        let found = db.json(&["inspect"]);
        assert_eq!(found["kind"], "library", "{found}");
        let i = &found["inspection"];
        assert_eq!(i["schema"]["library"], "authjs");
        assert_eq!(i["users"], 2);
        assert_eq!(i["sessions"], 0);
        let notes = i["notes"].to_string();
        assert!(
            notes.contains("JWT session strategy"),
            "users without sessions: {notes}"
        );
        let caps = i["capabilities"].to_string();
        assert!(
            caps.contains("Auth.js sessions record no IP address or user agent"),
            "what the schema cannot fill is said: {caps}"
        );
        let db = make();
        let url = fixture_url(&db.url);
        lib.run(&["authjs", "setup", "--url", &url]);
        lib.run(&[
            "authjs",
            "seed",
            "--url",
            &url,
            "--users",
            "1",
            "--sessions-per-user",
            "2",
        ]);
        let found = db.json(&["inspect"]);
        assert_eq!(found["inspection"]["sessions"], 2);
        assert!(
            !found["inspection"]["notes"].to_string().contains("is empty while"),
            "{found}"
        );
    }
}

#[test]
fn a_library_database_is_not_opened_as_warden_and_inspect_says_what_else_is_there() {
    for (db, lib) in databases() {
        better_auth(&db, &lib, "default", "admin");
        let before = schema_dump(&db.url);
        let err = db.fails(&["users", "list"], 1);
        assert!(
            err.contains("this is a Better Auth database (Better Auth schema with the admin plugin")
                && err.contains("warden inspect"),
            "the refusal names what the database holds: {err}"
        );
        // Looking for the other library is refused in words; naming a table that does not fit is bad input.
        let err = db.fails(&["inspect", "--schema", "authjs"], 1);
        assert!(err.contains("no Auth.js schema here"), "{err}");
        let err = db.fails(&["inspect", "--tables", "session=account"], 2);
        assert!(
            err.contains("table `account` (given for session) has no column for token, expiresAt"),
            "{err}"
        );
        let err = db.fails(&["inspect", "--schema", "firebase"], 2);
        assert!(err.contains("better-auth or authjs"), "{err}");
        assert_eq!(schema_dump(&db.url), before, "nothing was written");
    }
}

both!(inspect_says_when_a_database_is_warden_empty_or_neither, |db| {
    if db.url.starts_with("postgres") {
        assert!(db.ok(&["inspect"]).starts_with("An empty PostgreSQL database"));
    }
    db.ok(&["migrate"]);
    assert_eq!(db.json(&["inspect"])["kind"], "warden");
    assert!(db.ok(&["inspect"]).contains("its schema is up to date"));
});

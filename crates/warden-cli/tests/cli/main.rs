//! The `warden` binary end to end, on a real SQLite file and a real PostgreSQL database: what an
//! operator types and what they see, exit codes included.

use std::process::{Command, Output};

use serde_json::Value;

use warden_testdb::TestDatabases;

/// A fresh database for one test (see `warden_testdb`), removed when the test ends.
struct TestDb {
    url: String,
    _dbs: TestDatabases,
}

impl TestDb {
    fn sqlite() -> TestDb {
        let (dbs, url) = TestDatabases::sqlite();
        TestDb { url, _dbs: dbs }
    }

    fn postgres() -> Option<TestDb> {
        let (dbs, url) = TestDatabases::postgres()?;
        Some(TestDb { url, _dbs: dbs })
    }

    fn warden(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["--db", &self.url])
            .args(args)
            .env_remove("WARDEN_DB")
            .env("USER", "operator")
            .output()
            .expect("run warden")
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.warden(args);
        assert!(
            out.status.success(),
            "warden {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).expect("JSON output")
    }

    /// Runs and expects failure with this exit code; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.warden(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "warden {args:?}: stdout {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }
}

macro_rules! both {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                let $db = TestDb::sqlite();
                $body
            }
            #[test]
            fn postgres() {
                let Some($db) = TestDb::postgres() else {
                    return;
                };
                $body
            }
        }
    };
}

const AT: &str = "2026-06-01T12:00:00Z";

fn demo(db: &TestDb) -> Value {
    db.json(&["demo", "--users", "60", "--seed", "7", "--at", AT])
}

both!(migrate_creates_the_schema_once, |db| {
    let first = db.json(&["migrate"]);
    assert!(
        first["applied"].as_u64().unwrap() >= 1,
        "a new database gets every migration"
    );
    let second = db.json(&["migrate"]);
    assert_eq!(second["applied"], 0, "migrate is idempotent");
});

both!(commands_on_an_unmigrated_database_say_to_migrate, |db| {
    if db.url.starts_with("sqlite") {
        // A missing SQLite file is not created by a read command.
        let err = db.fails(&["users", "list"], 1);
        assert!(err.contains("warden migrate"), "the error must say what to do: {err}");
    } else {
        let err = db.fails(&["users", "list"], 1);
        assert!(
            err.contains("schema_missing") && err.contains("warden migrate"),
            "{err}"
        );
    }
});

/// `warden … | head`: the reader goes away before warden has written everything. Warden stops quietly
/// with 141, the status a shell gives a tool ended by SIGPIPE, instead of panicking on the closed pipe.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let db = TestDb::sqlite();
    db.ok(&["migrate"]);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["--db", &db.url, "policy", "show"])
        .env_remove("WARDEN_DB")
        .stdout(writer)
        .output()
        .expect("run warden");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
}

#[test]
fn a_malformed_url_is_refused_with_its_rule() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["--db", "mysql://x/y", "users", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database_url_invalid") && err.contains("sqlite://"),
        "{err}"
    );
}

#[test]
fn a_missing_db_argument_names_the_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["users", "list"])
        .env_remove("WARDEN_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--db"));
}

both!(demo_prints_credentials_and_is_deterministic_for_a_seed, |db| {
    let report = demo(&db);
    assert_eq!(report["users"], 60);
    assert_eq!(report["admin_email"], "admin@warden.demo");
    assert!(report["admin_password"].as_str().unwrap().len() >= 12);
    assert!(report["data_key"].as_str().unwrap().len() >= 43);
    assert!(
        report["sessions"].as_u64().unwrap() > 60,
        "every user has sessions on average"
    );
    assert!(report["audit_events"].as_u64().unwrap() > 100);
    let emails = |db: &TestDb| -> Vec<String> {
        db.json(&["users", "list", "--limit", "500"])["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let other = TestDb::sqlite();
    let report2 = demo(&other);
    assert_eq!(
        report["admin_password"], report2["admin_password"],
        "same seed, same credentials"
    );
    assert_eq!(report["sessions"], report2["sessions"], "same seed, same sessions");
    assert_eq!(emails(&db), emails(&other), "same seed, same users");
    let err = db.fails(&["demo", "--users", "10"], 2);
    assert!(
        err.contains("already holds users"),
        "a demo never mixes with existing data: {err}"
    );
});

both!(bench_measures_a_busy_users_timeline_and_the_overview, |db| {
    demo(&db);
    let run = || {
        db.json(&[
            "bench",
            "--iterations",
            "10",
            "--sessions",
            "2",
            "--busy-sessions",
            "150",
        ])
        .as_array()
        .expect("a list of figures")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<String>>()
    };
    let names = run();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("user timeline, last 90 days (150 bars,")),
        "the busy account's 150 sessions all lie within 90 days: {names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("user timeline, last 24 h")));
    assert!(names.iter().any(|n| n == "overview"), "{names:?}");
    // A second run measures the same account instead of adding another.
    let again = run();
    assert!(
        again
            .iter()
            .any(|n| n.starts_with("user timeline, last 90 days (150 bars,")),
        "{again:?}"
    );
});

both!(locked_users_can_be_found_and_unlocked_with_an_audited_reason, |db| {
    demo(&db);
    // The demo's reference time is in the past, so its temporary locks have run out: lock one by policy.
    let page = db.json(&["users", "list", "--locked"]);
    let locked = page["users"].as_array().unwrap();
    assert!(!locked.is_empty(), "the demo has a permanently locked user");
    assert!(
        locked.iter().all(|u| u["locked"] == true),
        "--locked lists only locked users"
    );
    let email = locked[0]["email"].as_str().unwrap().to_owned();
    let err = db.fails(&["unlock", &email, "--reason", " "], 2);
    assert!(
        err.contains("reason"),
        "a blank reason is refused naming the field: {err}"
    );
    let out = db.ok(&["unlock", &email, "--reason", "caller verified by phone"]);
    assert!(out.contains("unlocked"));
    let shown = db.json(&["users", "show", &email]);
    assert_eq!(shown["user"]["locked"], false);
    let events = db.json(&["audit", "list", "--action", "user.unlocked", "--actor", "operator@"]);
    let ev = &events["events"][0];
    assert_eq!(ev["reason"], "caller verified by phone");
    assert_eq!(ev["actor_kind"], "cli", "the CLI acts as the OS user on this host");
    assert!(ev["actor_label"].as_str().unwrap().starts_with("operator@"));
});

both!(policy_changes_are_validated_versioned_and_audited, |db| {
    db.ok(&["migrate"]);
    let err = db.fails(&["policy", "set", "lockout.threshold=lots", "--note", "x"], 2);
    assert!(
        err.contains("lockout.threshold") && err.contains("whole number"),
        "{err}"
    );
    let err = db.fails(&["policy", "set", "session.idle_timeout=30d", "--note", "x"], 2);
    assert!(
        err.contains("session.idle_timeout") && err.contains("session.ttl"),
        "cross-field rule named: {err}"
    );
    let err = db.fails(&["policy", "set", "session.colour=blue", "--note", "x"], 2);
    assert!(err.contains("unknown policy key"), "{err}");
    assert_eq!(
        db.json(&["policy", "history"]).as_array().unwrap().len(),
        0,
        "nothing saved by a refused change"
    );
    let out = db.ok(&[
        "policy",
        "set",
        "lockout.threshold=3",
        "session.ttl=5d",
        "--note",
        "incident 42",
    ]);
    assert!(out.contains("lockout.threshold: 5 -> 3"), "{out}");
    let shown = db.json(&["policy", "show"]);
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["policy"]["lockout"]["threshold"], 3);
    let ev = &db.json(&["audit", "list", "--action", "policy."])["events"][0];
    assert_eq!(ev["reason"], "incident 42");
    assert!(
        ev["metadata"].as_str().unwrap().contains("lockout.threshold"),
        "the diff is in the audit metadata"
    );
});

both!(policy_preview_shortening_and_rollback, |db| {
    db.ok(&["migrate"]);
    let err = db.fails(
        &["policy", "preview", "session.idle_timeout=30d", "lockout.threshold=0"],
        2,
    );
    assert!(
        err.contains("session.idle_timeout") && err.contains("session.ttl"),
        "the first broken rule is the error: {err}"
    );
    let out = db.warden(&["policy", "preview", "session.idle_timeout=30d", "lockout.threshold=0"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("session.idle_timeout: must be at most session.ttl (7d)")
            && listed.contains("lockout.threshold: must be between 1 and 100"),
        "every broken rule is listed: {listed}"
    );
    let p = db.json(&["policy", "preview", "session.ttl=5d"]);
    assert_eq!(p["violations"].as_array().unwrap().len(), 0);
    assert_eq!(p["changes"][0]["key"], "session.ttl");
    assert_eq!(p["simulation"]["sessions"]["live"], 0);
    assert_eq!(p["simulation"]["lockout"]["locked"], 0);
    let out = db.ok(&["policy", "preview", "session.ttl=5d"]);
    assert!(
        out.contains("session.ttl: 7d -> 5d") && out.contains("Live sessions now: 0"),
        "{out}"
    );
    assert_eq!(
        db.json(&["policy", "history"]).as_array().unwrap().len(),
        0,
        "a preview saves nothing"
    );
    let out = db.ok(&[
        "policy",
        "set",
        "session.ttl=5d",
        "--shorten-sessions",
        "--note",
        "shorter",
    ]);
    assert!(out.contains("Shortened 0 live session(s)"), "{out}");
    db.ok(&["policy", "set", "lockout.threshold=3", "--note", "three"]);
    let err = db.fails(&["policy", "rollback", "9", "--note", "typo"], 2);
    assert!(err.contains("no policy version 9"), "{err}");
    let back = db.json(&["policy", "rollback", "1", "--note", "undo the threshold"]);
    assert_eq!(back["version"], 3, "a rollback is a new version");
    let shown = db.json(&["policy", "show"]);
    assert_eq!(shown["policy"]["lockout"]["threshold"], 5);
    assert_eq!(shown["policy"]["session"]["ttl"], "5d", "version 1's policy is back");
    let history = db.json(&["policy", "history"]);
    assert_eq!(history[0]["changes"][0]["key"], "lockout.threshold");
    assert_eq!(history[0]["note"], "undo the threshold");
    let ev = &db.json(&["audit", "list", "--action", "policy.rolled_back"])["events"][0];
    assert_eq!(ev["reason"], "undo the threshold");
    let meta: Value = serde_json::from_str(ev["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(meta["rolled_back_to"], 1, "{ev}");
});

both!(sessions_of_a_user_can_be_listed_and_ended, |db| {
    demo(&db);
    let email = "support@warden.demo";
    let live = db.json(&["sessions", "list", "--user", email]);
    let n = live["sessions"].as_array().unwrap().len();
    let out = db.json(&["sessions", "revoke-user", email, "--reason", "stolen laptop"]);
    assert_eq!(
        out["revoked"].as_u64().unwrap() as usize,
        n.max(out["revoked"].as_u64().unwrap() as usize)
    );
    let after = db.json(&["sessions", "list", "--user", email, "--status", "active"]);
    assert_eq!(
        after["sessions"].as_array().unwrap().len(),
        0,
        "no live session is left"
    );
    let err = db.fails(&["sessions", "revoke", "not-an-id", "--reason", "x"], 2);
    assert!(err.contains("id"), "{err}");
    let err = db.fails(
        &[
            "sessions",
            "revoke",
            "01890000-0000-7000-8000-000000000000",
            "--reason",
            "x",
        ],
        1,
    );
    assert!(err.contains("session_not_found"), "{err}");
    let err = db.fails(&["users", "list", "--limit", "100000"], 2);
    assert!(
        err.contains("limit") && err.contains("500"),
        "an oversized page names the bound: {err}"
    );
});

both!(flags_are_listed_and_closed_with_a_reason, |db| {
    demo(&db);
    let open = db.json(&["flags", "list"]);
    let flags = open["flags"].as_array().unwrap();
    assert!(!flags.is_empty(), "the demo has open flags: {open}");
    assert!(flags.iter().all(|f| f["status"] == "open"));
    let total = open["open"].as_i64().unwrap();
    let id = flags[0]["id"].as_str().unwrap().to_owned();
    // `users list --flagged` lists exactly the users holding an open flag.
    let mut holders: Vec<&str> = flags.iter().map(|f| f["user_email"].as_str().unwrap()).collect();
    holders.sort_unstable();
    holders.dedup();
    let listed = db.json(&["users", "list", "--flagged", "--limit", "500"]);
    let mut emails: Vec<&str> = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    emails.sort_unstable();
    if open["next_cursor"].is_null() {
        assert_eq!(emails, holders, "--flagged: the users with an open flag");
    } else {
        assert!(
            holders.iter().all(|h| emails.contains(h)),
            "--flagged covers the first page's users"
        );
    }
    let table = db.ok(&["flags", "list", "--status", "all", "--limit", "5"]);
    assert!(table.contains("RULE") && table.contains("more: --after"), "{table}");
    let closed = db.json(&[
        "flags",
        "resolve",
        &id,
        "--dismissed",
        "--reason",
        "user confirmed the trip",
    ]);
    assert_eq!(closed["status"], "dismissed");
    assert_eq!(db.json(&["flags", "list"])["open"].as_i64().unwrap(), total - 1);
    let err = db.fails(&["flags", "resolve", &id, "--actioned", "--reason", "again"], 1);
    assert!(err.contains("flag_not_found"), "{err}");
    let err = db.fails(&["flags", "list", "--status", "closed"], 2);
    assert!(err.contains("status"), "{err}");
    let err = db.fails(&["flags", "resolve", &id, "--reason", "which way?"], 2);
    assert!(err.contains("--dismissed") || err.contains("actioned"), "{err}");
    let audit = db.json(&["audit", "list", "--action", "flag.dismissed", "--limit", "1"]);
    assert_eq!(audit["events"][0]["reason"], "user confirmed the trip");
});

both!(bulk_revoke_dry_runs_then_ends_matching_sessions_in_batches, |db| {
    // Generated up to now, so that its recent sessions are live for the CLI's wall clock.
    db.json(&["demo", "--users", "60", "--seed", "7"]);
    let count = db.json(&["sessions", "count", "--device", "mobile"]);
    let n = count["sessions"].as_u64().unwrap();
    assert!(n > 0, "the demo has live mobile sessions: {count}");
    let plan = db.json(&[
        "sessions",
        "bulk-revoke",
        "--device",
        "mobile",
        "--reason",
        "lost phones",
    ]);
    assert_eq!(plan["sessions"].as_u64().unwrap(), n, "without --yes it is a dry run");
    assert_eq!(
        db.json(&["sessions", "count", "--device", "mobile"])["sessions"],
        n,
        "nothing ended"
    );
    let out = db.ok(&[
        "sessions",
        "bulk-revoke",
        "--device",
        "mobile",
        "--reason",
        "lost phones",
    ]);
    assert!(out.contains("Dry run") && out.contains("--yes"), "{out}");
    let done = db.json(&[
        "sessions",
        "bulk-revoke",
        "--device",
        "mobile",
        "--reason",
        "lost phones",
        "--yes",
        "--batch-size",
        "7",
    ]);
    assert_eq!(done["terminated"].as_u64().unwrap(), n);
    assert_eq!(done["batches"].as_u64().unwrap(), n.div_ceil(7));
    assert_eq!(db.json(&["sessions", "count", "--device", "mobile"])["sessions"], 0);
    let ev = &db.json(&["audit", "list", "--action", "session.bulk_revoked"])["events"][0];
    assert_eq!(ev["reason"], "lost phones");
    let err = db.fails(&["sessions", "bulk-revoke", "--reason", "x"], 2);
    assert!(
        err.contains("--everyone"),
        "no filter is refused, naming the emergency flag: {err}"
    );
    let err = db.fails(&["sessions", "list", "--ip", "10.0.0.0/99"], 2);
    assert!(err.contains("ip"), "{err}");
    let all = db.json(&["sessions", "bulk-revoke", "--everyone", "--reason", "breach", "--yes"]);
    assert!(all["terminated"].as_u64().unwrap() > 0);
    assert_eq!(db.json(&["sessions", "count"])["sessions"], 0, "everyone is signed out");
});

both!(audit_export_writes_csv_and_json_and_is_audited, |db| {
    demo(&db);
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("audit.csv");
    let csv_out = csv_path.to_str().unwrap();
    let out = db.json(&[
        "audit", "export", "--action", "session.", "--format", "csv", "--out", csv_out,
    ]);
    let rows = out["rows"].as_u64().unwrap() as usize;
    assert!(rows > 10, "the demo has session events: {out}");
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("seq,at,at_ms,actor_id"),
        "a header row"
    );
    assert_eq!(lines.count(), rows, "one line per event");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the export is left in the folder (no partial file)"
    );

    let json_path = dir.path().join("audit.json");
    let out = db.json(&[
        "audit",
        "export",
        "--format",
        "json",
        "--out",
        json_path.to_str().unwrap(),
    ]);
    let events: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len() as u64, out["rows"].as_u64().unwrap());
    assert!(
        events.windows(2).all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()),
        "oldest first"
    );
    assert!(events[0]["metadata"].is_object(), "metadata is JSON, not a string");
    let last = &db.json(&["audit", "list", "--limit", "1"])["events"][0];
    assert_eq!(last["action"], "audit.exported", "the export itself is audited");
    assert!(last["metadata"].as_str().unwrap().contains("\"rows\""));
    let err = db.fails(&["audit", "export", "--format", "xml", "--out", csv_out], 2);
    assert!(err.contains("format"), "{err}");
});

both!(audit_verify_reports_an_intact_chain, |db| {
    demo(&db);
    let out = db.ok(&["audit", "verify"]);
    assert!(out.contains("Audit chain intact"), "{out}");
    let v = db.json(&["audit", "verify"]);
    assert!(v["broken_at"].is_null());
    assert!(v["events_verified"].as_i64().unwrap() > 100);
    let last = &db.json(&["audit", "list", "--limit", "1"])["events"][0];
    assert_eq!(last["action"], "audit.verified", "the check itself is audited");
});

both!(a_rejected_password_exits_2_like_all_bad_input_naming_the_rule, |db| {
    db.ok(&["migrate"]);
    let err = db.fails(
        &[
            "users",
            "add",
            "--email",
            "alice.smith@example.com",
            "--name",
            "Alice Smith",
            "--password",
            "alice smith 1234 forever",
        ],
        2,
    );
    assert!(
        err.contains("password_rejected") && err.contains("email or name"),
        "{err}"
    );
    let err = db.fails(
        &[
            "users",
            "add",
            "--email",
            "bo@example.com",
            "--name",
            "Bo",
            "--password",
            "short",
        ],
        2,
    );
    assert!(err.contains("at least 12 characters"), "{err}");
    // The rule is the policy's, listed with the others.
    let policy = db.ok(&["policy", "show"]);
    assert!(policy.contains("password.reject_personal"), "{policy}");
});

both!(mail_lists_what_the_server_could_not_deliver, |db| {
    db.ok(&["migrate"]);
    assert!(db.ok(&["mail"]).contains("Every email was delivered"));
    let url = db.url.clone();
    std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "--db",
            &url,
            "users",
            "add",
            "--email",
            "bo@example.com",
            "--name",
            "Bo Ek",
        ])
        .env("WARDEN_PASSWORD", "a long and unguessable passphrase")
        .output()
        .expect("users add");
    // What the server does when the mail server answers 451: queue, claim, record the answer.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let d = warden_core::Db::open(&url).await.unwrap();
        let user = warden_core::ops::users::find(&d, "bo@example.com").await.unwrap();
        let now = 1_780_000_000_000;
        let id = warden_core::ops::mail::queue(&d, now, user.id, "verification")
            .await
            .unwrap();
        let mail = warden_core::ops::mail::claim(&d, now, id).await.unwrap().unwrap();
        let again = warden_core::ops::mail::not_delivered(&d, now, &mail, "the mail server refused it: 451 try later")
            .await
            .unwrap();
        assert!(again, "tried again later");
    });
    let listed = db.json(&["mail"]);
    assert_eq!(listed[0]["email"], "bo@example.com", "{listed}");
    assert_eq!(listed[0]["attempts"], 1);
    let text = db.ok(&["mail", "--user", "bo@example.com"]);
    assert!(
        text.contains("bo@example.com") && text.contains("451 try later"),
        "{text}"
    );
});

mod adopted;
mod libraries;

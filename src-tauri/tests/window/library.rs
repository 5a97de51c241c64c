//! A Better Auth database on PostgreSQL, made and filled by the real library and adopted by Warden: the
//! console opens it, a security admin signs in with Warden's own staff account, finds a user and bans
//! them, and Better Auth itself then refuses that user.

use std::time::Duration;

use thirtyfour::prelude::*;
use warden_core::ops::auth::{self, NewAccount};
use warden_core::ops::library::{self, TableNames};
use warden_core::{Db, Role};
use warden_testdb::libraries::{fixture_url, Libraries};
use warden_testdb::TestDatabases;

use crate::support::Console;

const ADMIN: &str = "security@example.test";
const ADMIN_PASSWORD: &str = "a long staff password 42";
const PASSWORD: &str = "correct horse battery staple 1";

fn ba(lib: &Libraries, url: &str, command: &str, more: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "better-auth",
        command,
        "--url",
        url,
        "--variant",
        "default",
        "--plugins",
        "admin,twoFactor",
    ];
    args.extend_from_slice(more);
    lib.run(&args)
}

/// A Better Auth database made and filled by the library (3 users, 2 sessions each), adopted, with a
/// Warden security admin; the console opened on it and signed in. What the caller keeps alive with it:
/// the fixture, its URL, what the library seeded, and the database and data folder.
struct Opened {
    c: Console,
    lib: Libraries,
    fixture: String,
    seeded: serde_json::Value,
    _xdg: tempfile::TempDir,
    _dbs: TestDatabases,
}

async fn open_adopted() -> WebDriverResult<Option<Opened>> {
    let Some(lib) = Libraries::find() else { return Ok(None) };
    let Some((dbs, url)) = TestDatabases::postgres() else {
        return Ok(None);
    };
    let fixture = fixture_url(&url);
    ba(&lib, &fixture, "setup", &[]);
    let seeded = ba(&lib, &fixture, "seed", &["--users", "3", "--sessions-per-user", "2"]);
    let now = chrono_now();
    let db = Db::connect(&url, false).await.expect("connect");
    let admin = warden_core::ops::operator::cli(now).expect("the operator");
    let adopted = library::adopt(&db, &admin, now, None, &TableNames::new())
        .await
        .expect("adopt");
    auth::sign_up(
        &adopted.db,
        now,
        &NewAccount {
            email: ADMIN,
            name: "Security admin",
            password: &ADMIN_PASSWORD.to_owned().into(),
            role: Role::SecurityAdmin,
            verified: true,
            ip: None,
        },
    )
    .await
    .expect("the staff account");
    adopted.db.close().await;
    db.close().await;

    // Saved in the app's data folder (found through XDG_DATA_HOME), as the connect screen saves it.
    let xdg = tempfile::tempdir().expect("temp dir");
    let store = xdg.path().join("dev.warden.console");
    std::fs::create_dir_all(&store).expect("the store folder");
    let saved = serde_json::json!({ "connections": [{
        "id": "0197a2c4-0000-7000-8000-000000000002",
        "label": "app",
        "kind": "postgres",
        "url": url,
    }] });
    std::fs::write(store.join("connections.json"), saved.to_string()).expect("write the store");
    let c = Console::start_with(&[("XDG_DATA_HOME", xdg.path().to_str().expect("a UTF-8 path"))]).await?;
    c.wait("saved-open").await?;
    // No keyring here: the first Open asks for a password (none: the server trusts this machine).
    c.click("saved-open").await?;
    c.wait_css("[data-testid=saved-connection] input[type=password]")
        .await?;
    c.click("saved-open").await?;
    c.fill("email", ADMIN).await?;
    c.fill("password", ADMIN_PASSWORD).await?;
    c.click("sign-in").await?;
    c.wait_text("current-user", ADMIN).await?;
    c.wait_text("library-badge", "Better Auth").await?;
    c.wait("library-overview").await?;
    Ok(Some(Opened {
        c,
        lib,
        fixture,
        seeded,
        _xdg: xdg,
        _dbs: dbs,
    }))
}

#[tokio::test]
async fn a_user_banned_in_the_console_is_refused_by_better_auth() -> WebDriverResult<()> {
    let Some(Opened {
        c,
        lib,
        fixture,
        seeded,
        _xdg,
        _dbs,
    }) = open_adopted().await?
    else {
        return Ok(());
    };
    // The first screen: the library's users and sessions at a glance.
    c.wait_text("lo-users", "3").await?;
    c.wait_text("lo-live", "6").await?;
    c.wait_text("lo-banned", "0").await?;
    c.wait_text("lo-admins", "1").await?;
    // Each seeded session has its own address.
    c.wait_count("[data-testid=lo-address]", 6).await?;
    assert!(
        !c.absent("lo-begun-chart").await?,
        "Better Auth records when sessions begin"
    );
    c.shot("library-overview").await;
    assert!(
        c.absent("nav-flags").await?,
        "no flags: the application's sign-ins do not go through Warden"
    );
    assert!(
        !c.absent("nav-policy").await?,
        "the policy, with where each key applies here"
    );
    c.click("nav-users").await?;
    c.wait_text("library-summary", "3 users").await?;
    c.wait_css("[data-testid=library-user-row][data-email='user1@example.test']")
        .await?;
    c.shot("library-users").await;

    // Find user 2, ban them for a week.
    c.fill("library-search", "user2").await?;
    c.wait_css("[data-testid=library-user-row][data-email='user2@example.test'] td")
        .await?
        .click()
        .await?;
    c.wait_text("user-email", "user2@example.test").await?;
    c.wait_text("ban-status", "Not banned").await?;
    c.wait_text("session-count", "2").await?;
    c.wait_text("library-limits", "cookieCache").await?;
    // Their sessions on the timeline, drawn from the library's table.
    c.wait_css("[data-testid=timeline][data-loading=false] [data-testid=timeline-bar]")
        .await?;
    c.wait_count("[data-testid=timeline-bar]", 2).await?;
    c.wait_text(
        "timeline-summary",
        "Better Auth records when each session began and ended",
    )
    .await?;
    c.shot("library-user").await;
    c.click("ban-button").await?;
    c.select("ban-span", "7d").await?;
    c.shot("library-ban-dialog").await;
    c.confirm_with_reason("card fraud, ticket #77").await?;
    c.wait_text("ban-status", "Banned until").await?;
    c.wait_text("ban-reason", "card fraud").await?;
    c.wait_text("no-sessions", "No live session").await?;
    // The timeline keeps both, ended by an administrator.
    c.wait_css("[data-testid=timeline][data-loading=false] [data-testid=timeline-bar][data-outcome=admin]")
        .await?;
    c.wait_count("[data-testid=timeline-bar][data-outcome=admin]", 2)
        .await?;
    assert_eq!(
        c.count("[data-testid=ended-session]").await?,
        2,
        "both sessions kept in Warden's history"
    );
    c.shot("library-user-banned").await;

    // Better Auth itself refuses them now: their old cookie, and a new sign-in.
    let cookie = seeded["users"][1]["cookies"][0].as_str().expect("a cookie");
    assert_eq!(
        ba(&lib, &fixture, "check-session", &["--cookie", cookie])["valid"],
        false
    );
    let refused = ba(
        &lib,
        &fixture,
        "sign-in",
        &["--email", "user2@example.test", "--password", PASSWORD],
    );
    assert_eq!(refused["code"], "BANNED_USER", "{refused}");

    // And the audit log says who did it and why.
    c.click("nav-audit").await?;
    c.wait_css_text("[data-testid=audit-row]", "user.banned").await?;
    // The library's user is named by email, not by Warden's id for them (read from the DOM: WebDriver's
    // visible text leaves out a cell cut by an ellipsis).
    let targets: Vec<String> = c
        .driver()
        .execute(
            "return [...document.querySelectorAll('[data-testid=audit-target]')].map((e) => e.textContent);",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()
        .unwrap_or_default();
    assert!(targets.iter().any(|t| t == "user2@example.test"), "{targets:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.shot("library-audit").await;

    // One session of user 1 ended from its row: Better Auth refuses that cookie and keeps the other.
    let valid = |cookie: &str| ba(&lib, &fixture, "check-session", &["--cookie", cookie])["valid"] == true;
    let user1 = &seeded["users"][0];
    let (first, second) = (
        user1["cookies"][0].as_str().expect("a cookie"),
        user1["cookies"][1].as_str().expect("a cookie"),
    );
    let first_id = user1["session_ids"][0].as_str().expect("an id");
    c.click("nav-users").await?;
    c.fill("library-search", "user1@example.test").await?;
    c.wait_css("[data-testid=library-user-row][data-email='user1@example.test'] td")
        .await?
        .click()
        .await?;
    c.wait_text("user-email", "user1@example.test").await?;
    c.wait_css(&format!(
        "[data-testid=library-session-row][data-session-key='{first_id}'] button"
    ))
    .await?
    .click()
    .await?;
    c.confirm_with_reason("laptop stolen").await?;
    c.wait_text("session-count", "1").await?;
    assert!(!valid(first), "Better Auth refuses the ended session");
    assert!(valid(second), "and keeps the other");

    // The emergency: every live session, after a dialog that says how many.
    c.click("back").await?;
    c.click("sign-out-everyone").await?;
    c.wait_css_text("dialog", "3 sessions of 2 users").await?;
    c.shot("library-sign-out-everyone").await;
    c.confirm_with_reason("breach drill").await?;
    c.wait_text("toast", "3 sessions ended").await?;
    let user3 = seeded["users"][2]["cookies"][0].as_str().expect("a cookie");
    assert!(!valid(second) && !valid(user3), "Better Auth refuses every session");
    c.quit().await
}

#[tokio::test]
async fn sessions_ended_across_users_by_address_are_refused_by_better_auth() -> WebDriverResult<()> {
    let Some(Opened {
        c,
        lib,
        fixture,
        seeded,
        _xdg,
        _dbs,
    }) = open_adopted().await?
    else {
        return Ok(());
    };
    let valid = |cookie: &str| ba(&lib, &fixture, "check-session", &["--cookie", cookie])["valid"] == true;
    let user1 = &seeded["users"][0];
    let (first, second) = (
        user1["cookies"][0].as_str().expect("a cookie"),
        user1["cookies"][1].as_str().expect("a cookie"),
    );
    let ip = user1["ip_addresses"][0].as_str().expect("an address");

    // Every live session across users, then those of one address, opened from the overview.
    c.click("nav-sessions").await?;
    c.wait("library-sessions").await?;
    c.wait_text("ls-count", "6 live sessions of 3 users").await?;
    c.wait_count("[data-testid=ls-row]", 6).await?;
    c.shot("library-sessions").await;
    c.click("nav-overview").await?;
    c.wait_css(&format!("[data-testid=lo-address][data-ip='{ip}'] button"))
        .await?
        .click()
        .await?;
    c.wait_text("ls-count", "Matching: 1 live session of 1 user").await?;
    c.wait_count("[data-testid=ls-row]", 1).await?;

    // End them, after a dialog that says how many and what Better Auth may still accept.
    c.click("ls-end-matching").await?;
    c.wait_css_text("dialog", "1 live session of 1 user").await?;
    c.wait_css_text("dialog", "cookieCache").await?;
    c.shot("library-sessions-end-matching").await;
    c.confirm_with_reason("address seen in a credential-stuffing run")
        .await?;
    c.wait_text("ls-result", "Ended 1 session").await?;
    assert!(!valid(first), "Better Auth refuses the session from that address");
    assert!(valid(second), "and keeps the user's other one");

    // A row opens its user; back returns to the sessions.
    c.click("ls-clear").await?;
    c.wait_text("ls-count", "5 live sessions of 3 users").await?;
    c.wait_css("[data-testid=ls-row][data-email='user2@example.test'] [data-testid=ls-user]")
        .await?
        .click()
        .await?;
    c.wait_text("user-email", "user2@example.test").await?;
    c.click("back").await?;
    c.wait("library-sessions").await?;

    // The policy says which keys reach the application's sessions here.
    c.click("nav-policy").await?;
    c.wait_text("policy-library-scope", "Better Auth").await?;
    // session.max_lifetime and privileged.max_lifetime, applied by warden enforce.
    c.wait_count("[data-testid=policy-scope][data-applies=true]", 2).await?;
    assert!(c.count("[data-testid=policy-scope][data-applies=false]").await? > 10);
    c.shot("library-policy").await;
    c.quit().await
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

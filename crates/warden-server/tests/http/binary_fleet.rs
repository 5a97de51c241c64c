//! Three `warden-server` processes on one PostgreSQL database act as one deployment: a session revoked
//! through one is refused by the others, failures spread over them lock the account at the threshold, a
//! rate limit holds across them, and a policy saved on the admin side applies in all three.

use std::process::Stdio;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use warden_core::ops::{auth, policy as policy_store};
use warden_core::{Db, Role, Secret};

use crate::support::{Browser, Resp, FIREFOX_LINUX, PASSWORD, WRONG_PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_warden-server");

/// The servers run on the wall clock.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// One server process and its address; killed when dropped.
struct Process {
    base: String,
    _child: Child,
}

async fn start(config: &std::path::Path) -> Process {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("WARDEN_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .arg("--config")
        .arg(config)
        .env("WARDEN_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start warden-server");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = crate::binary::listening_address(&mut lines).await;
    // Keep reading its log, so that a full pipe never stops it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Process {
        base: format!("http://{addr}"),
        _child: child,
    }
}

/// A browser from `ip` (through the trusted proxy header); its cookies go to every server, all on
/// 127.0.0.1 (cookies do not depend on the port).
fn from(ip: &str) -> Browser {
    Browser::with_headers("http://unused", FIREFOX_LINUX, &[("x-forwarded-for", ip)])
}

async fn get(b: &Browser, base: &str, path: &str) -> Resp {
    b.send(b.http.get(format!("{base}{path}"))).await
}

async fn post(b: &Browser, base: &str, path: &str, body: serde_json::Value) -> Resp {
    b.send(b.http.post(format!("{base}{path}")).json(&body)).await
}

async fn sign_in(b: &Browser, base: &str, email: &str, password: &str) -> Resp {
    let r = post(
        b,
        base,
        "/api/auth/sign-in",
        json!({ "email": email, "password": password }),
    )
    .await;
    b.remember_csrf(&r);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_on_one_postgresql_act_as_one() {
    let Some((_dbs, url)) = warden_testdb::TestDatabases::postgres() else {
        return;
    };
    let db = Db::connect(&url, true).await.expect("connect");
    db.migrate().await.expect("migrate");
    let cli = warden_core::ops::operator::cli(now()).expect("the CLI operator");
    policy_store::set(
        &db,
        &cli,
        now(),
        &[
            ("password.argon2_memory_kib".into(), "8192".into()),
            ("password.argon2_iterations".into(), "1".into()),
        ],
        "tests",
    )
    .await
    .expect("cheap argon2");
    for email in ["ana@example.com", "bob@example.com"] {
        auth::sign_up(
            &db,
            now(),
            &auth::NewAccount {
                email,
                name: "Test Person",
                password: &Secret::new(PASSWORD),
                role: Role::User,
                verified: true,
                ip: None,
            },
        )
        .await
        .expect("a user");
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "db = \"{url}\"\nbind = \"127.0.0.1:0\"\norigins = [\"http://app.test\"]\ndev = true\n\
             trusted_proxies = [\"127.0.0.1/32\"]\n[rate_limits]\nsign_in_per_ip = \"9/1m\"\n"
        ),
    )
    .unwrap();
    let servers = [start(&config).await, start(&config).await, start(&config).await];
    let base = |i: usize| servers[i % 3].base.as_str();

    // A session revoked through one server is refused by the others on their next call.
    let (x, y) = (from("198.51.100.1"), from("198.51.100.1"));
    assert_eq!(sign_in(&x, base(0), "ana@example.com", PASSWORD).await.status, 200);
    assert_eq!(sign_in(&y, base(1), "ana@example.com", PASSWORD).await.status, 200);
    let y_session = get(&y, base(2), "/api/auth/session").await;
    assert_eq!(y_session.status, 200, "{}", y_session.text);
    let y_id = y_session.body["session"]["id"].as_str().unwrap().to_owned();
    let r = x.send(x.http.delete(format!("{}/api/sessions/{y_id}", base(0)))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for i in 1..3 {
        get(&y, base(i), "/api/auth/session")
            .await
            .assert_error(401, "unauthenticated");
    }
    assert_eq!(
        get(&x, base(1), "/api/auth/session").await.status,
        200,
        "the other session lives"
    );

    // Failures spread over the three lock the account at the threshold (5).
    let guesser = from("198.51.100.2");
    for i in 0..4 {
        sign_in(&guesser, base(i), "bob@example.com", WRONG_PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
    }
    sign_in(&guesser, base(4), "bob@example.com", WRONG_PASSWORD)
        .await
        .assert_error(429, "locked");
    sign_in(&guesser, base(5), "bob@example.com", PASSWORD)
        .await
        .assert_error(429, "locked");

    // The per-address limit (9 a minute) is one budget for the three, not one each.
    let flooder = from("198.51.100.3");
    for i in 0..9 {
        sign_in(&flooder, base(i), &format!("guess{i}@example.com"), PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
    }
    for i in 0..3 {
        sign_in(&flooder, base(i), "guess@example.com", PASSWORD)
            .await
            .assert_error(429, "rate_limited");
    }

    // A policy saved on the admin side applies in all three on their next request.
    let signup = |i: usize, n: usize| {
        let b = from(&format!("198.51.100.{}", 10 + n));
        async move {
            post(
                &b,
                base(i),
                "/api/auth/sign-up",
                json!({ "email": format!("new{n}@example.com"), "password": "violet tangerine 7", "name": "New Person" }),
            )
            .await
        }
    };
    let r = signup(0, 0).await;
    assert_eq!(r.status, 201, "18 characters pass the default rule: {}", r.text);
    policy_store::set(
        &db,
        &warden_core::ops::operator::cli(now()).expect("the CLI operator"),
        now(),
        &[("password.min_length".into(), "20".into())],
        "longer passwords",
    )
    .await
    .expect("policy saved");
    for i in 0..3 {
        let r = signup(i, i + 1).await;
        r.assert_error(400, "password_rejected");
    }
    db.close().await;
}

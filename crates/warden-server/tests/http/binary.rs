//! The `warden-server` binary itself: configuration from flags, environment and file, the refusal to
//! run production without https origins, `/healthz`, and a graceful stop on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_warden-server");

async fn migrated_sqlite(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}/w.db", dir.display());
    let db = warden_core::Db::connect(&url, true).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    url
}

fn clean(cmd: &mut Command) -> &mut Command {
    for k in [
        "WARDEN_CONFIG",
        "WARDEN_DB",
        "WARDEN_BIND",
        "WARDEN_ORIGINS",
        "WARDEN_DEV",
        "WARDEN_TRUSTED_PROXIES",
        "WARDEN_SMTP_URL",
        "WARDEN_MAIL_FROM",
        "WARDEN_DATA_KEY",
        "WARDEN_DATA_KEY_FILE",
    ] {
        cmd.env_remove(k);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped())
}

#[tokio::test]
async fn binary_refuses_production_mode_without_https_origins() {
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_sqlite(dir.path()).await;
    let out = clean(&mut Command::new(BIN))
        .args([
            "--db",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--origin",
            "http://app.example.com",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to start in production mode") && err.contains("--dev"),
        "{err}"
    );
    let out = clean(&mut Command::new(BIN))
        .args(["--db", &url])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no allowed origin"));
}

#[tokio::test]
async fn binary_names_a_missing_database_and_a_bad_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = clean(&mut Command::new(BIN))
        .args(["--origin", "https://a.example"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database"));
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "db = \"sqlite://x.db\"\norigns = [\"https://a.example\"]\n").unwrap();
    let out = clean(&mut Command::new(BIN))
        .arg("--config")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown field `origns`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn binary_serves_from_a_config_file_and_env_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = migrated_sqlite(dir.path()).await;
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        format!("db = \"{url}\"\nbind = \"127.0.0.1:1\"\norigins = [\"http://app.test\"]\ndev = true\n"),
    )
    .unwrap();
    let mut child = clean(&mut Command::new(BIN))
        .arg("--config")
        .arg(&file)
        .env("WARDEN_BIND", "127.0.0.1:0")
        .env("WARDEN_LOG", "info")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = listening_address(&mut lines).await;
    let r = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(r.status(), 200, "the env's bind wins over the file's");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], "SQLite");
    let pid = child.id().unwrap().to_string();
    let st = Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    assert!(st.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("stops")
        .unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
}

/// The address a starting `warden-server` says it listens on, read from its log (within 30 s).
pub(crate) async fn listening_address(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>) -> String {
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(i) = line.find("listening on ") {
                return line[i + "listening on ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server says where it listens")
}

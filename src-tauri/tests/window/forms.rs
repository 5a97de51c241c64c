//! Forms under error: a button stays under the cursor when an error appears or clears, every error is
//! said once, connecting (from the form or a saved connection) can be cancelled for real, and the keyring
//! notice is said once, in plain words.

use std::time::{Duration, Instant};

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::Console;

/// Where a button is on screen: left, top, width, height in whole pixels.
async fn rect(c: &Console, testid: &str) -> WebDriverResult<Value> {
    let el = c.wait(testid).await?;
    Ok(c.driver()
        .execute(
            "const r = arguments[0].getBoundingClientRect(); \
             return [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];",
            vec![el.to_json()?],
        )
        .await?
        .json()
        .clone())
}

/// How many elements on screen show `needle` as their own text (not merely inside a child's).
async fn times_shown(c: &Console, needle: &str) -> WebDriverResult<u64> {
    let n = c
        .driver()
        .execute(
            "const needle = arguments[0]; let n = 0; \
             for (const el of document.querySelectorAll('body *')) { \
               if (el.closest('[hidden]') || el.getClientRects().length === 0) continue; \
               const own = [...el.childNodes].filter((t) => t.nodeType === 3).map((t) => t.textContent).join(''); \
               if (own.includes(needle)) n++; } \
             return n;",
            vec![Value::from(needle)],
        )
        .await?;
    Ok(n.json().as_u64().unwrap_or(0))
}

async fn assert_once(c: &Console, needle: &str, what: &str) -> WebDriverResult<()> {
    let started = Instant::now();
    loop {
        let n = times_shown(c, needle).await?;
        if n >= 1 || started.elapsed() > Duration::from_secs(20) {
            assert_eq!(n, 1, "{what}: the error `{needle}` is shown once");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn test_and_connect_stays_put_and_each_error_is_said_once() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let before = rect(&c, "pg-connect").await?;

    // Nothing typed: the field says so, the button does not move.
    c.click("pg-connect").await?;
    assert_once(&c, "Enter a PostgreSQL URL", "an empty URL").await?;
    assert_eq!(
        rect(&c, "pg-connect").await?,
        before,
        "the button stays under the cursor"
    );

    // Not a PostgreSQL URL: the engine's refusal, at the field only.
    c.fill("pg-url", "mysql://warden@db.internal/auth").await?;
    c.click("pg-connect").await?;
    assert_once(&c, "must start with postgres://", "a wrong scheme").await?;
    assert_eq!(
        rect(&c, "pg-connect").await?,
        before,
        "the button stays under the cursor"
    );
    c.shot("connect-error").await;

    // The keyring notice (these machines have none): once, in plain words, no raw D-Bus text.
    let notice = c.text("keyring-notice").await?;
    assert!(notice.contains("no keyring on this machine"), "{notice}");
    for raw in ["DBus", "D-Bus", "org.freedesktop", ".:", "Platform secure storage"] {
        assert!(!notice.contains(raw), "the notice says `{raw}`: {notice}");
    }
    assert_once(&c, "no keyring on this machine", "the keyring notice").await?;
    c.quit().await
}

/// A server that accepts the connection and never answers: the console waits until Cancel, which
/// gives the form back at once and drops the connection.
#[tokio::test]
async fn connecting_can_be_cancelled() -> WebDriverResult<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let c = Console::start().await?;
    c.fill("pg-url", &format!("postgres://warden@127.0.0.1:{port}/auth"))
        .await?;
    c.click("pg-connect").await?;
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(20), listener.accept())
        .await
        .expect("the console connects")
        .expect("accepted");
    c.wait_text("pg-connect", "Connecting").await?;
    c.shot("connect-waiting").await;
    c.click("pg-cancel").await?;
    c.wait_exact("pg-connect", "Test & connect").await?;
    assert!(c.wait("pg-connect").await?.is_enabled().await?, "the form is back");
    assert!(c.absent("pg-cancel").await?, "nothing left to cancel");
    if !c.absent("form-error").await? {
        panic!("a cancel is not an error, yet: {}", c.text("form-error").await?);
    }
    // The console really stopped: it hangs up.
    assert!(
        hangs_up(&mut socket).await,
        "the console closed its connection on Cancel"
    );
    c.quit().await
}

/// Whether the other end closes `socket` within five seconds (what it sent first is read and ignored).
async fn hangs_up(socket: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

/// Open on a saved connection to a server that never answers: Cancel takes Forget's place beside it
/// (neither button moves), gives the screen back at once with nothing said and nothing connected, drops
/// the connection, and the screen opens a database afterwards.
#[tokio::test]
async fn opening_a_saved_connection_can_be_cancelled() -> WebDriverResult<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    // The saved connections live in the app's data folder (tauri-plugin-store), found through
    // XDG_DATA_HOME: a folder of this test's own, with one connection saved in it.
    let xdg = tempfile::tempdir().expect("temp dir");
    let store = xdg.path().join("dev.warden.console");
    std::fs::create_dir_all(&store).expect("the store folder");
    let saved = serde_json::json!({ "connections": [{
        "id": "0197a2c4-0000-7000-8000-000000000001",
        "label": "auth",
        "kind": "postgres",
        "url": format!("postgres://warden@127.0.0.1:{port}/auth"),
    }] });
    std::fs::write(store.join("connections.json"), saved.to_string()).expect("write the store");
    let c = Console::start_with(&[("XDG_DATA_HOME", xdg.path().to_str().expect("a UTF-8 path"))]).await?;
    c.wait_text("saved-connection", &format!("127.0.0.1:{port}")).await?;

    // No keyring here, so no password was kept: the first Open asks for it, the second opens.
    c.click("saved-open").await?;
    c.wait_css("[data-testid=saved-connection] input[type=password]")
        .await?;
    let open = rect(&c, "saved-open").await?;
    let forget = rect(&c, "saved-forget").await?;
    c.click("saved-open").await?;
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(20), listener.accept())
        .await
        .expect("the console connects")
        .expect("accepted");
    c.wait_text("saved-open", "Opening").await?;
    assert_eq!(rect(&c, "saved-open").await?, open, "Open stays under the cursor");
    assert_eq!(rect(&c, "saved-cancel").await?, forget, "Cancel takes Forget's place");
    assert!(c.absent("saved-forget").await?, "no Forget while opening");
    c.shot("saved-connection-opening").await;

    c.click("saved-cancel").await?;
    c.wait_exact("saved-open", "Open").await?;
    assert!(c.wait("saved-open").await?.is_enabled().await?, "Open is back");
    assert!(c.absent("saved-cancel").await?, "nothing left to cancel");
    assert_eq!(rect(&c, "saved-forget").await?, forget, "Forget is back in its place");
    assert!(c.wait("saved-forget").await?.is_enabled().await?, "and enabled");
    assert_eq!(rect(&c, "saved-open").await?, open, "Open has not moved");
    if !c.absent("form-error").await? {
        panic!("a cancel is not an error, yet: {}", c.text("form-error").await?);
    }
    assert!(c.absent("email").await?, "nothing is connected: no sign-in screen");
    assert!(
        hangs_up(&mut socket).await,
        "the console closed its connection on Cancel"
    );
    c.shot("saved-connection-cancelled").await;

    // The screen is usable again: another database opens.
    c.open_demo().await?;
    c.quit().await
}

#[tokio::test]
async fn the_policy_review_save_button_stays_put() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;
    c.click("nav-policy").await?;
    c.fill("policy-input-lockout.threshold", "9").await?;
    c.wait_text("policy-status", "1 change · valid").await?;
    c.click("policy-review-open").await?;
    c.wait_text("review-diff", "lockout.threshold").await?;
    let before = rect(&c, "policy-save").await?;
    c.click("policy-save").await?;
    c.wait_text("policy-note-error", "note is required").await?;
    assert_eq!(rect(&c, "policy-save").await?, before, "the error does not move Save");
    c.shot("policy-review-note-required").await;
    c.fill("policy-note", "fewer guesses").await?;
    assert!(c.absent("policy-note-error").await?, "typing clears the error");
    assert_eq!(rect(&c, "policy-save").await?, before, "nor does its clearing");
    c.quit().await
}

#[tokio::test]
async fn sign_in_and_filter_errors_are_said_once() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.submit_password(&creds.admin_email, &creds.admin_password).await?;
    c.fill("totp-code", "000000").await?;
    c.click("totp-submit").await?;
    let said = c.wait_css(".field-error, .form-error").await?.text().await?;
    assert_once(&c, said.trim(), "a wrong code").await?;

    c.fill("totp-code", &creds.totp_now()).await?;
    c.click("totp-submit").await?;
    c.wait_text("current-user", &creds.admin_email).await?;
    // A filter the engine refuses: said once, not in the count and again in the list.
    c.click("nav-sessions").await?;
    c.wait_css("[data-testid=global-session-row]").await?;
    c.fill("sessions-filter-ip", "10.0.0.0/99").await?;
    let said = c.wait_css("[role=alert] .muted").await?.text().await?;
    assert_once(&c, said.trim(), "a refused filter").await?;
    c.quit().await
}

//! Across doors: an end user signs in over HTTP (warden-server, on the console's own demo database),
//! the console shows that session with its device and place, a support agent ends it there, and the
//! user's cookie is refused on the very next HTTP call.

use std::sync::Arc;

use serde_json::{json, Value};
use thirtyfour::prelude::*;
use warden_core::{Db, SystemClock};
use warden_server::{AppState, Args, RateLimits};

use crate::support::Console;

const ORIGIN: &str = "http://app.test";
const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// warden-server over `url`, on 127.0.0.1 and a free port, trusting loopback as its proxy (so the test
/// can say where the user is, as a CDN would); stopped when the returned sender is dropped.
async fn http_door(url: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let cfg = Args {
        db: Some(url.to_owned()),
        bind: Some("127.0.0.1:0".into()),
        origins: vec![ORIGIN.into()],
        dev: true,
        trusted_proxies: vec!["127.0.0.1/32".into()],
        country_header: Some("CF-IPCountry".into()),
        city_header: Some("CF-IPCity".into()),
        ..Args::default()
    }
    .resolve()
    .expect("a valid server configuration");
    let db = Db::open(url)
        .await
        .expect("the server opens the console's demo database");
    let listener = tokio::net::TcpListener::bind(cfg.bind).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = AppState {
        db,
        clock: Arc::new(SystemClock),
        cfg: Arc::new(cfg),
        key: None,
        mailer: None,
        limits: RateLimits::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(warden_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

/// The end user's browser: Firefox on Linux, reaching the server through a proxy that forwards its
/// address and location.
fn browser() -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in [
        ("origin", ORIGIN),
        ("x-forwarded-for", "203.0.113.77"),
        ("cf-ipcountry", "NZ"),
        ("cf-ipcity", "Wellington"),
    ] {
        h.insert(k, v.parse().expect("header value"));
    }
    reqwest::Client::builder()
        .user_agent(FIREFOX_LINUX)
        .default_headers(h)
        .cookie_store(true)
        .build()
        .expect("client")
}

async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("the server answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn http_session_shows_in_the_console_and_ending_it_there_is_401_on_the_next_call() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    let (base, _stop) = http_door(&c.demo_database_url()).await;

    let user = browser();
    let email = "river.stone@example.com";
    let password = "a long and unguessable passphrase 9";
    let (status, body) = call(
        user.post(format!("{base}/api/auth/sign-up"))
            .json(&json!({ "email": email, "password": password, "name": "River Stone" })),
    )
    .await;
    assert_eq!(status, 201, "sign-up over HTTP: {body}");
    let (status, body) = call(
        user.post(format!("{base}/api/auth/sign-in"))
            .json(&json!({ "email": email, "password": password })),
    )
    .await;
    assert_eq!(status, 200, "sign-in over HTTP: {body}");
    let session_id = body["session"]["id"].as_str().expect("the session's id").to_owned();
    let (status, _) = call(user.get(format!("{base}/api/sessions"))).await;
    assert_eq!(status, 200, "the cookie works before the console acts");

    c.sign_in(&creds.support_email, &creds.support_password).await?;
    c.open_user(email).await?;
    let row_css = format!("[data-testid=session-row][data-session-id='{session_id}']");
    let row = c.wait_css(&format!("{row_css}[data-status=active]")).await?;
    let text = row.text().await?;
    for seen in ["Firefox", "Linux", "203.0.113.77", "Wellington", "NZ"] {
        assert!(
            text.contains(seen),
            "the console shows `{seen}` for the HTTP session; row: {text}"
        );
    }
    c.shot("doors-http-session").await;

    row.find(By::Css("[data-testid=revoke-session-button]"))
        .await?
        .click()
        .await?;
    c.confirm_with_reason("reported a stolen laptop").await?;
    c.wait_css(&format!("{row_css}[data-status=revoked]")).await?;

    let (status, body) = call(user.get(format!("{base}/api/sessions"))).await;
    assert_eq!(status, 401, "the HTTP cookie is dead on the next call: {body}");
    assert_eq!(body["code"], "unauthenticated");
    c.quit().await
}

//! A real browser app on the API (headless Chromium over WebDriver, from Debian's `chromium` and
//! `chromium-driver`): a page served on an allowed origin signs up, signs in, lists its sessions and ends
//! one through the API with its cookies and the CSRF header; the same page on a foreign origin is
//! refused by the browser before anything reaches the server. Also the CORS answers themselves.
//!
//! The browser runs when `/usr/bin/chromedriver` exists; `WARDEN_REQUIRE_BROWSER=1` (scripts/test.sh)
//! makes its absence a failure.

use std::time::Duration;

use axum::response::Html;
use serde_json::{json, Value};
use thirtyfour::prelude::*;

use crate::support::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The application's page: runs the whole flow against `api` on load and leaves its steps' answers in
/// `window.flowResult` (JSON).
fn page(api: &str) -> String {
    format!(
        r#"<!doctype html><meta charset="utf-8"><title>app</title><script>
const API = "{api}";
async function call(method, path, body, csrf) {{
  const headers = {{}};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (csrf) headers["x-csrf-token"] = csrf;
  const r = await fetch(API + path, {{ method, credentials: "include", headers,
    body: body === undefined ? undefined : JSON.stringify(body) }});
  return {{ status: r.status, body: await r.json() }};
}}
async function flow() {{
  const out = {{}};
  const who = {{ email: "page@example.com", password: "{PASSWORD}" }};
  out.signUp = (await call("POST", "/api/auth/sign-up", {{ ...who, name: "Page" }})).status;
  const first = await call("POST", "/api/auth/sign-in", who);
  out.signIn = first.status;
  const second = await call("POST", "/api/auth/sign-in", who);
  const csrf = second.body.csrf_token;
  const listed = await call("GET", "/api/sessions");
  out.listed = [listed.status, listed.body.count];
  out.revoke = (await call("DELETE", "/api/sessions/" + first.body.session.id, undefined, csrf)).status;
  out.after = (await call("GET", "/api/sessions")).body.count;
  out.withoutCsrf = (await call("DELETE", "/api/sessions?scope=others")).status;
  return out;
}}
flow().then(r => window.flowResult = JSON.stringify(r),
            e => window.flowResult = JSON.stringify({{ error: String(e) }}));
</script>"#
    )
}

/// Serves `page` on a new port of localhost; returns its origin.
async fn serve_page(html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route("/", axum::routing::get(move || async move { Html(html) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://localhost:{port}")
}

/// A free port of the loopback interface.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Chromedriver on its own port, stopped when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn chromedriver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("WARDEN_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "WARDEN_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing: apt install chromium chromium-driver"
        );
        eprintln!("browser test skipped: {CHROMEDRIVER} is missing (apt install chromium chromium-driver)");
        return None;
    }
    let port = free_port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some(Driver { child, url });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

/// Opens `url` in headless Chromium and waits for the page's flow to finish.
async fn run_page(driver: &Driver, url: &str) -> Value {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
    ] {
        caps.add_arg(arg).unwrap();
    }
    let browser = WebDriver::new(&driver.url, caps).await.expect("a Chromium session");
    browser.goto(url).await.expect("the page loads");
    let mut result = Value::Null;
    for _ in 0..200 {
        let v = browser
            .execute("return window.flowResult || null", vec![])
            .await
            .unwrap();
        if let Some(text) = v.json().as_str() {
            result = serde_json::from_str(text).unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.quit().await.unwrap();
    assert!(!result.is_null(), "the page's flow finished");
    result
}

both!(
    a_browser_app_on_an_allowed_origin_uses_the_api_and_a_foreign_one_is_refused,
    |t| async move {
        let Some(driver) = chromedriver().await else { return };
        // The app's origin must be known before the server that allows it starts: bind its port first.
        // Every part is on localhost (one site, several origins), as an app and its API on one domain.
        let listener_app = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app_port = listener_app.local_addr().unwrap().port();
        let app_origin = format!("http://localhost:{app_port}");
        let server = t
            .server_with(|a| a.origins = vec![app_origin.clone()], limits(|_| {}))
            .await;
        let api = format!("http://localhost:{}", server.base.rsplit(':').next().unwrap());
        let html = page(&api);
        let served = html.clone();
        let app = axum::Router::new().route("/", axum::routing::get(move || async move { Html(served) }));
        tokio::spawn(async move { axum::serve(listener_app, app).await });
        let foreign_origin = serve_page(html).await;

        let ok = run_page(&driver, &format!("{app_origin}/")).await;
        assert_eq!(
            ok,
            json!({ "signUp": 201, "signIn": 200, "listed": [200, 2], "revoke": 200, "after": 1, "withoutCsrf": 403 }),
            "the allowed app signs up, signs in, lists and ends a session with cookies and the CSRF header"
        );

        let refused = run_page(&driver, &format!("{foreign_origin}/")).await;
        assert!(
            refused["error"].as_str().is_some_and(|e| e.contains("Failed to fetch")),
            "the browser refuses the foreign page's requests: {refused}"
        );
        assert_eq!(
            t.cli_audit("user.created").await,
            1,
            "only the allowed page's sign-up reached the server"
        );
    }
);

both!(cors_answers_the_allowed_origins_only, |t| async move {
    let c = reqwest::Client::new();
    let preflight = |origin: &str| {
        c.request(reqwest::Method::OPTIONS, format!("{}/api/sessions/x", t.server.base))
            .header("origin", origin)
            .header("access-control-request-method", "DELETE")
            .header("access-control-request-headers", "x-csrf-token, content-type")
            .send()
    };
    let ok = preflight(ORIGIN).await.unwrap();
    assert_eq!(ok.status(), 200);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], ORIGIN);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let allowed = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(
        allowed.contains("x-csrf-token") && allowed.contains("authorization"),
        "{allowed}"
    );
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("DELETE"));

    let foreign = preflight("http://evil.test").await.unwrap();
    assert!(
        foreign.headers().get("access-control-allow-origin").is_none(),
        "nothing for another origin"
    );
    let r = c
        .get(format!("{}/healthz", t.server.base))
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = c
        .get(format!("{}/healthz", t.server.base))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
});

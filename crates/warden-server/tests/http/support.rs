//! The harness: per test a fresh, migrated database (SQLite file or PostgreSQL database), a real
//! warden-server on 127.0.0.1 and a random port over it, a manual clock shared by the server and the
//! test, a local SMTP sink the server mails to, and a browser-like client with a cookie store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{oneshot, Notify};
use uuid::Uuid;
use warden_core::model::authz::Admin;
use warden_core::ops::auth;
use warden_core::ops::policy as policy_store;
use warden_core::ops::rate_limits::Limit;
use warden_core::rules::totp::DataKey;
use warden_core::{Clock, Db, ManualClock, Millis, Role, Secret};
use warden_server::config::{Args, MailConfig};
use warden_server::{AppState, RateLimits, ServerConfig};

/// 2026-01-01T00:00:00Z.
pub const START: Millis = 1_767_225_600_000;
pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

pub const PASSWORD: &str = "correct horse battery staple 42";
pub const WRONG_PASSWORD: &str = "incorrect horse battery staple 43";
pub const ORIGIN: &str = "http://app.test";
pub const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

pub use warden_testdb::{both, TestDatabases};

/// A running server; stopped (gracefully) when dropped.
pub struct Server {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The context of one test.
pub struct T {
    pub db: Db,
    pub url: String,
    pub clock: ManualClock,
    pub key: DataKey,
    pub mail: SmtpSink,
    pub server: Server,
}

impl T {
    pub async fn sqlite() -> (T, TestDatabases) {
        let (dbs, url) = TestDatabases::sqlite();
        (T::setup(url).await, dbs)
    }

    pub async fn postgres() -> Option<(T, TestDatabases)> {
        let (dbs, url) = TestDatabases::postgres()?;
        Some((T::setup(url).await, dbs))
    }

    async fn setup(url: String) -> T {
        let db = Db::connect(&url, true).await.expect("connect to the test database");
        db.migrate().await.expect("migrate the test database");
        let clock = ManualClock::at(START);
        let mail = SmtpSink::start().await;
        let key = DataKey::generate();
        // Cheap argon2 so that users are quick to create; everything else stays at the defaults.
        policy_store::set(
            &db,
            &warden_core::ops::operator::cli(clock.now()).expect("the CLI operator"),
            clock.now(),
            &[
                ("password.argon2_memory_kib".into(), "8192".into()),
                ("password.argon2_iterations".into(), "1".into()),
            ],
            "tests",
        )
        .await
        .expect("cheap argon2 for tests");
        let cfg = T::config(&url, &mail, |_| {});
        let server = T::start(db.clone(), clock.clone(), Some(key.clone()), cfg, RateLimits::default()).await;
        T {
            db,
            url,
            clock,
            key,
            mail,
            server,
        }
    }

    /// The test configuration: dev mode, origin http://app.test, loopback as a trusted proxy with
    /// Cloudflare's location headers, mail to the sink. `edit` changes the arguments before they resolve.
    pub fn config(url: &str, mail: &SmtpSink, edit: impl FnOnce(&mut Args)) -> ServerConfig {
        let mut args = Args {
            db: Some(url.to_owned()),
            bind: Some("127.0.0.1:0".into()),
            origins: vec![ORIGIN.into()],
            dev: true,
            trusted_proxies: vec!["127.0.0.1/32".into()],
            country_header: Some("CF-IPCountry".into()),
            city_header: Some("CF-IPCity".into()),
            smtp_url: Some(format!("smtp://127.0.0.1:{}", mail.port)),
            mail_from: Some("Warden <no-reply@app.test>".into()),
            max_body_bytes: Some(4096),
            ..Args::default()
        };
        edit(&mut args);
        args.resolve().expect("the test configuration is valid")
    }

    pub async fn start(
        db: Db,
        clock: ManualClock,
        key: Option<DataKey>,
        cfg: ServerConfig,
        limits: RateLimits,
    ) -> Server {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let mailer = cfg
            .mail
            .as_ref()
            .map(|m: &MailConfig| warden_server::mail::Mailer::new(m, &cfg.public_url).expect("mailer"));
        let state = AppState {
            db: db.with_hash_limits(cfg.hashes),
            clock: Arc::new(clock),
            cfg: Arc::new(cfg),
            key: key.map(Arc::new),
            mailer,
            limits,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = warden_server::serve(listener, state, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Server {
            base: format!("http://{addr}"),
            stop: Some(stop),
        }
    }

    /// A second server on the same database and clock, configured by `edit`.
    pub async fn server_with(&self, edit: impl FnOnce(&mut Args), limits: RateLimits) -> Server {
        let cfg = T::config(&self.url, &self.mail, edit);
        T::start(self.db.clone(), self.clock.clone(), Some(self.key.clone()), cfg, limits).await
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn advance(&self, by: Millis) {
        self.clock.advance(by);
    }

    pub async fn set_policy(&self, kv: &[(&str, &str)]) {
        let assignments: Vec<(String, String)> = kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        policy_store::set(&self.db, &self.cli(), self.now(), &assignments, "tests")
            .await
            .unwrap_or_else(|e| panic!("policy {kv:?} must be accepted: {e}"));
    }

    /// Sets session limits for ordinary and privileged sessions alike (privileged values may not exceed
    /// ordinary ones): `t.sessions(&[("ttl", "2h"), ("idle_timeout", "1h")])`.
    pub async fn sessions(&self, kv: &[(&str, &str)]) {
        let keys: Vec<(String, String)> = kv
            .iter()
            .flat_map(|(k, v)| {
                [
                    (format!("session.{k}"), v.to_string()),
                    (format!("privileged.{k}"), v.to_string()),
                ]
            })
            .collect();
        let refs: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.set_policy(&refs).await;
    }

    /// Creates a verified user with [`PASSWORD`] through the engine.
    pub async fn user(&self, email: &str, role: Role) -> Uuid {
        auth::sign_up(
            &self.db,
            self.now(),
            &auth::NewAccount {
                email,
                name: "Test Person",
                password: &Secret::new(PASSWORD),
                role,
                verified: true,
                ip: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("sign_up {email}: {e}"))
    }

    /// A browser on the test server.
    /// How many audit events of `action` there are.
    pub async fn cli_audit(&self, action: &str) -> usize {
        warden_core::store::audit::list(
            &self.db,
            &warden_core::ops::audit::AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            None,
            500,
        )
        .await
        .expect("the audit log reads")
        .events
        .len()
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.server.base, FIREFOX_LINUX)
    }

    /// A browser that signed in as `email` with [`PASSWORD`].
    pub async fn signed_in(&self, email: &str) -> Browser {
        let b = self.browser();
        let r = b.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, 200, "sign-in of {email}: {}", r.text);
        b
    }

    /// The CLI operator, as the admin side of the cross-door tests.
    pub fn cli(&self) -> Admin {
        warden_core::ops::operator::cli(self.now()).expect("the CLI operator")
    }
}

/// Generous limits, with one of them tightened.
pub fn limits(edit: impl FnOnce(&mut RateLimits)) -> RateLimits {
    let mut l = RateLimits::default();
    edit(&mut l);
    l
}

pub fn per_minute(max: u32) -> Limit {
    Limit { max, window: MINUTE }
}

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The `Set-Cookie` line for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Asserts an error answer: this status, this code, and a human message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.text
        );
        assert_eq!(self.code(), code, "error code; body {}", self.text);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error carries a message: {}",
            self.text
        );
    }
}

/// A client with a cookie store that sends the Origin of the app and, once signed in, the CSRF header.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(base: &str, user_agent: &str) -> Browser {
        Browser::with_headers(base, user_agent, &[])
    }

    /// A browser whose every request carries `headers` too (e.g. what a proxy adds).
    pub fn with_headers(base: &str, user_agent: &str, headers: &[(&str, &str)]) -> Browser {
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_static(ORIGIN));
        for (k, v) in headers {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .user_agent(user_agent)
                .default_headers(h)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: base.to_owned(),
            csrf: Mutex::new(None),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; every answer must be one that `docs/openapi.json` lists for its operation.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let req = match self.csrf.lock().unwrap().clone() {
            Some(c) => req.header("x-csrf-token", c),
            None => req,
        };
        let req = req.build().expect("a well-formed request");
        let (method, path) = (req.method().as_str().to_ascii_lowercase(), req.url().path().to_owned());
        let r = read(self.http.execute(req).await.expect("request reaches the server")).await;
        assert_documented(&method, &path, r.status, &r.text);
        r
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Signs in; remembers the CSRF token of the new session.
    pub async fn sign_in(&self, email: &str, password: &str) -> Resp {
        let r = self
            .post("/api/auth/sign-in", json!({ "email": email, "password": password }))
            .await;
        self.remember_csrf(&r);
        r
    }

    pub fn remember_csrf(&self, r: &Resp) {
        if let Some(c) = r.body["csrf_token"].as_str() {
            *self.csrf.lock().unwrap() = Some(c.to_owned());
        }
    }

    /// The id of this browser's current session.
    pub async fn session_id(&self) -> Uuid {
        let r = self.get("/api/auth/session").await;
        assert_eq!(r.status, 200, "current session: {}", r.text);
        r.body["session"]["id"].as_str().unwrap().parse().unwrap()
    }
}

/// The OpenAPI document the server serves, parsed once.
fn openapi() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(&warden_server::openapi::document_json()).expect("the document is JSON"))
}

/// The documented path template `path` falls under: an exact path first, else one whose `{…}` segments
/// stand for any segment.
fn template_of(path: &str) -> Option<&'static str> {
    let paths = openapi()["paths"].as_object()?;
    if let Some((k, _)) = paths.get_key_value(path) {
        return Some(k.as_str());
    }
    let want: Vec<&str> = path.split('/').collect();
    paths.keys().map(String::as_str).find(|t| {
        let have: Vec<&str> = t.split('/').collect();
        have.len() == want.len()
            && have
                .iter()
                .zip(&want)
                .all(|(h, w)| h == w || (h.starts_with('{') && h.ends_with('}')))
    })
}

/// Fails the test when a documented operation answers a status its document does not list: the
/// statuses every HTTP test observes are checked against `docs/openapi.json` as they happen.
pub fn assert_documented(method: &str, path: &str, status: u16, text: &str) {
    let Some(template) = template_of(path) else { return };
    let Some(op) = openapi()["paths"][template].get(method) else {
        return;
    };
    assert!(
        op["responses"].get(status.to_string()).is_some(),
        "{} {template} answered {status} ({text}), which docs/openapi.json does not list for it",
        method.to_ascii_uppercase()
    );
}

pub async fn read(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The body with quoted-printable soft breaks and `=3D` undone.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The token of the verification link in this mail.
    pub fn token(&self) -> String {
        let text = self.text();
        let i = text.find("token=").expect("the mail carries a verification link") + "token=".len();
        text[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// A minimal SMTP server on 127.0.0.1 that accepts every message and keeps it.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    /// While set, every message is refused with `451` (a temporary failure, as a mail server in
    /// trouble answers).
    refusing: Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (m, n, f) = (mails.clone(), arrived.clone(), refusing.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (m, n, f) = (m.clone(), n.clone(), f.clone());
                tokio::spawn(async move {
                    let _ = smtp_session(sock, m, n, f).await;
                });
            }
        });
        SmtpSink {
            port,
            mails,
            arrived,
            refusing,
        }
    }

    /// Refuses (`451`) or accepts the messages that follow.
    pub fn refuse(&self, on: bool) {
        self.refusing.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Waits (up to 10 s) until `n` messages have arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            {
                let got = self.mails.lock().unwrap();
                if got.len() >= n {
                    return got.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "expected {n} email(s) at the SMTP sink, got {}",
                    self.mails.lock().unwrap().len()
                );
            }
        }
    }

    pub fn count(&self) -> usize {
        self.mails.lock().unwrap().len()
    }
}

async fn smtp_session(
    sock: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    refusing: Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") && refusing.load(std::sync::atomic::Ordering::SeqCst) {
            w.write_all(b"451 4.3.0 mailbox store unavailable, try again later\r\n")
                .await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().to_owned();
            to.clear();
            w.write_all(b"250 ok\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().to_owned());
            w.write_all(b"250 ok\r\n").await?;
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            mails.lock().unwrap().push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            arrived.notify_waiters();
            w.write_all(b"250 queued\r\n").await?;
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            // RSET, NOOP and the rest.
            w.write_all(b"250 ok\r\n").await?;
        }
    }
}

/// The current TOTP code of a base32 secret at `now`.
pub fn totp_code(secret_base32: &str, now: Millis) -> String {
    let secret = warden_core::rules::totp::secret_from_base32(secret_base32).expect("base32 secret");
    warden_core::rules::totp::code_at(&secret, now)
}

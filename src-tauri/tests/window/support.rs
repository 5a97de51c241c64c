//! Starting the real app under tauri-driver and the few verbs the scenarios use.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use thirtyfour::prelude::*;

pub struct DemoCreds {
    pub admin_email: String,
    pub admin_password: String,
    pub admin_totp_secret: String,
    pub support_email: String,
    pub support_password: String,
}

impl DemoCreds {
    /// The admin's current TOTP code, computed from the secret the demo shows.
    pub fn totp_now(&self) -> String {
        self.totp_in(0)
    }

    /// The code of the time step `steps` after the current one. A code is good once (the step is
    /// claimed), and the engine accepts the next step too: re-authenticating right after sign-in uses it.
    pub fn totp_in(&self, steps: i64) -> String {
        let secret = warden_core::rules::totp::secret_from_base32(&self.admin_totp_secret).expect("base32 secret");
        warden_core::rules::totp::code_at(&secret, chrono_now() + steps * 30_000)
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub struct Console {
    driver: WebDriver,
    tauri_driver: Child,
    data: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tauri_driver_path() -> PathBuf {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return p.into();
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let cargo_bin = PathBuf::from(home).join(".cargo/bin/tauri-driver");
    if cargo_bin.exists() {
        cargo_bin
    } else {
        "tauri-driver".into()
    }
}

fn timeout() -> Duration {
    Duration::from_secs(20)
}

impl Console {
    /// Launches the app with a fresh data folder and a small demo database size.
    pub async fn start() -> WebDriverResult<Console> {
        Self::start_with(&[]).await
    }

    /// As [`Console::start`], with more environment for the app (e.g. a dark GTK theme).
    pub async fn start_with(env: &[(&str, &str)]) -> WebDriverResult<Console> {
        let data = tempfile::tempdir().expect("temp dir");
        let (port, native) = (free_port(), free_port());
        let tauri_driver = Command::new(tauri_driver_path())
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("WARDEN_DEMO_USERS", "300")
            .envs(env.iter().copied())
            .env("WARDEN_CONSOLE_DATA_DIR", data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tauri-driver (cargo install tauri-driver --locked)");
        let app = env!("CARGO_BIN_EXE_warden-console");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": app }));
        let mut tauri_driver = tauri_driver;
        let started = Instant::now();
        let driver = loop {
            match WebDriver::new(format!("http://127.0.0.1:{port}"), caps.clone()).await {
                Ok(d) => break d,
                Err(_) if started.elapsed() < timeout() => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => {
                    let _ = tauri_driver.kill();
                    let _ = tauri_driver.wait();
                    return Err(e);
                }
            }
        };
        Ok(Console {
            driver,
            tauri_driver,
            data,
        })
    }

    fn by(testid: &str) -> By {
        By::Css(format!("[data-testid='{testid}']"))
    }

    pub async fn wait_css(&self, css: &str) -> WebDriverResult<WebElement> {
        self.driver
            .query(By::Css(css))
            .wait(timeout(), Duration::from_millis(100))
            .first()
            .await
    }

    pub async fn wait(&self, testid: &str) -> WebDriverResult<WebElement> {
        self.driver
            .query(Self::by(testid))
            .wait(timeout(), Duration::from_millis(100))
            .first()
            .await
    }

    pub async fn click(&self, testid: &str) -> WebDriverResult<()> {
        self.wait(testid).await?.click().await
    }

    /// Types into a field once it is enabled (a form disables its fields while a request is in flight).
    pub async fn fill(&self, testid: &str, text: &str) -> WebDriverResult<()> {
        let el = self
            .driver
            .query(Self::by(testid))
            .and_enabled()
            .wait(timeout(), Duration::from_millis(100))
            .first()
            .await?;
        el.clear().await?;
        el.send_keys(text).await
    }

    /// Gives the open reason dialog its reason, confirms, and waits until the dialog has closed: a click
    /// on the page while the modal is still open would land on its backdrop and be lost.
    pub async fn confirm_with_reason(&self, reason: &str) -> WebDriverResult<()> {
        self.fill("reason-input", reason).await?;
        self.click("confirm-button").await?;
        assert!(
            self.gone("[data-testid='reason-input']").await?,
            "the reason dialog closes once its action is done"
        );
        Ok(())
    }

    pub async fn text(&self, testid: &str) -> WebDriverResult<String> {
        self.wait(testid).await?.text().await
    }

    /// Waits until the element's text contains `needle`.
    pub async fn wait_text(&self, testid: &str, needle: &str) -> WebDriverResult<()> {
        self.wait_css_text(&format!("[data-testid='{testid}']"), needle).await
    }

    /// Waits until the element's whole text is `expected` (trimmed).
    pub async fn wait_exact(&self, testid: &str, expected: &str) -> WebDriverResult<()> {
        let started = Instant::now();
        loop {
            let t = self.text(testid).await.unwrap_or_default();
            if t.trim() == expected {
                return Ok(());
            }
            if started.elapsed() > timeout() {
                self.shot("failure").await;
                panic!("`{testid}` reads {t:?}, never {expected:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn wait_css_text(&self, css: &str, needle: &str) -> WebDriverResult<()> {
        let started = Instant::now();
        loop {
            let els = self.driver.find_all(By::Css(css)).await?;
            let mut seen = Vec::new();
            for el in els {
                let t = el.text().await.unwrap_or_default();
                if t.contains(needle) {
                    return Ok(());
                }
                seen.push(t);
            }
            if started.elapsed() > timeout() {
                self.shot("failure").await;
                panic!("no `{css}` with text containing `{needle}`; saw {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until nothing matches `css` (e.g. a row an action removed); false if it stays.
    pub async fn gone(&self, css: &str) -> WebDriverResult<bool> {
        let started = Instant::now();
        while !self.driver.find_all(By::Css(css)).await?.is_empty() {
            if started.elapsed() > timeout() {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(true)
    }

    /// Waits until exactly `n` elements match `css` (a list that loads apart from its heading).
    pub async fn wait_count(&self, css: &str, n: usize) -> WebDriverResult<()> {
        let started = Instant::now();
        loop {
            let seen = self.driver.find_all(By::Css(css)).await?.len();
            if seen == n {
                return Ok(());
            }
            if started.elapsed() > timeout() {
                self.shot("failure").await;
                panic!("{seen} elements match `{css}`, never {n}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn absent(&self, testid: &str) -> WebDriverResult<bool> {
        Ok(self.driver.find_all(Self::by(testid)).await?.is_empty())
    }

    /// Opens the demo database and reads the credentials it shows.
    pub async fn open_demo(&self) -> WebDriverResult<DemoCreds> {
        self.open_demo_within(timeout()).await
    }

    /// As [`Console::open_demo`], waiting up to `within` for the demo to be built: a large one takes a
    /// debug build longer than the usual wait (12,000 users: about 18 s on an idle 2-core machine).
    pub async fn open_demo_within(&self, within: Duration) -> WebDriverResult<DemoCreds> {
        self.click("open-demo").await?;
        self.driver
            .query(Self::by("demo-credentials"))
            .wait(within, Duration::from_millis(200))
            .first()
            .await?;
        Ok(DemoCreds {
            admin_email: self.text("cred-admin-email").await?,
            admin_password: self.text("cred-admin-password").await?,
            admin_totp_secret: self.text("cred-admin-totp").await?,
            support_email: self.text("cred-support-email").await?,
            support_password: self.text("cred-support-password").await?,
        })
    }

    /// From the demo's credentials, on to the sign-in screen: types an email and a password and submits
    /// them (what follows, the console or the two-factor step or an error, is the caller's to wait for).
    pub async fn submit_password(&self, email: &str, password: &str) -> WebDriverResult<()> {
        self.click("continue-sign-in").await?;
        self.fill("email", email).await?;
        self.fill("password", password).await?;
        self.click("sign-in").await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> WebDriverResult<()> {
        self.submit_password(email, password).await?;
        self.wait_text("current-user", email).await
    }

    /// The URL of the demo database the app created in its data folder (after [`Console::open_demo`]).
    pub fn demo_database_url(&self) -> String {
        format!("sqlite://{}", self.data.path().join("demo.db").display())
    }

    pub fn driver(&self) -> &WebDriver {
        &self.driver
    }

    /// From now on, records every Content Security Policy violation of the page (the document lives
    /// for the whole session: the console never navigates). Read them with [`Console::csp_violations`].
    pub async fn watch_csp(&self) -> WebDriverResult<()> {
        self.driver
            .execute(
                "window.__csp = []; document.addEventListener('securitypolicyviolation', \
                 (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || e.sample || '')));",
                Vec::<serde_json::Value>::new(),
            )
            .await?;
        Ok(())
    }

    /// The violations recorded since [`Console::watch_csp`] (and clears the record).
    pub async fn csp_violations(&self) -> WebDriverResult<Vec<String>> {
        // The event is dispatched asynchronously: give it a moment.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ret = self
            .driver
            .execute(
                "const v = window.__csp || []; window.__csp = []; return v;",
                Vec::<serde_json::Value>::new(),
            )
            .await?;
        Ok(ret.convert().unwrap_or_default())
    }

    /// Sets an input's value as typing would end (an `input` event), for fields such as
    /// `datetime-local` whose segments WebDriver cannot type into reliably.
    pub async fn set_value(&self, testid: &str, value: &str) -> WebDriverResult<()> {
        let el = self.wait(testid).await?;
        self.driver
            .execute(
                "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
                vec![el.to_json()?, serde_json::Value::from(value)],
            )
            .await?;
        Ok(())
    }

    /// Elements matching `css`, now.
    pub async fn count(&self, css: &str) -> WebDriverResult<usize> {
        Ok(self.driver.find_all(By::Css(css)).await?.len())
    }

    /// Signs in as the demo's security admin: password, then the TOTP code.
    pub async fn sign_in_admin(&self, creds: &DemoCreds) -> WebDriverResult<()> {
        self.submit_password(&creds.admin_email, &creds.admin_password).await?;
        self.fill("totp-code", &creds.totp_now()).await?;
        self.click("totp-submit").await?;
        self.wait_text("current-user", &creds.admin_email).await
    }

    /// Opens a user's page: the users screen, a search for their email, a click on their row; waits until
    /// the page is theirs.
    pub async fn open_user(&self, email: &str) -> WebDriverResult<()> {
        self.click("nav-users").await?;
        self.fill("user-search", email).await?;
        self.wait_css(&format!("[data-testid=user-row][data-email='{email}']"))
            .await?
            .click()
            .await?;
        self.wait_exact("user-email", email).await
    }

    /// Picks an option of a <select> by its value.
    pub async fn select(&self, testid: &str, value: &str) -> WebDriverResult<()> {
        self.wait_css(&format!("[data-testid='{testid}'] option[value='{value}']"))
            .await?
            .click()
            .await
    }

    /// Saves a screenshot to artifacts/screenshots/<name>.png (after a short settle: screenshots can lag
    /// the DOM).
    pub async fn shot(&self, name: &str) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let _ = self.driver.screenshot(&dir.join(format!("{name}.png"))).await;
    }

    pub async fn quit(mut self) -> WebDriverResult<()> {
        let r = self.driver.clone().quit().await;
        let _ = self.tauri_driver.kill();
        let _ = self.tauri_driver.wait();
        r
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.tauri_driver.kill();
        let _ = self.tauri_driver.wait();
    }
}

/// Proportional set size of the processes whose command line names `app`, and of WebKit's web and network
/// processes, in MiB.
pub fn pss_mib(app: &str) -> u64 {
    let mut kib = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        if !(cmd.contains(app) || cmd.contains("WebKitWebProcess") || cmd.contains("WebKitNetworkProcess")) {
            continue;
        }
        let rollup = std::fs::read_to_string(entry.path().join("smaps_rollup")).unwrap_or_default();
        for line in rollup.lines() {
            if let Some(v) = line.strip_prefix("Pss:") {
                kib += v.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    kib / 1024
}

//! The real console window, end to end: the built app under Xvfb, driven over WebDriver (tauri-driver in
//! front of WebKitWebDriver). Each test gets its own data folder, so the demo database is created fresh.
//! Run through scripts/test-window.sh (it builds the UI and the app, installs the drivers and starts
//! Xvfb). Screenshots of each main screen land in artifacts/screenshots/.

mod audit;
mod doors;
mod flags;
mod forms;
mod layout;
mod library;
mod overview;
mod policy;
mod shortcuts;
mod support;
mod theme;
mod timeline;

use support::Console;
use thirtyfour::prelude::*;

const REASON: &str = "caller verified by phone";

/// Support opens the demo, signs in, finds a locked user, unlocks them with a reason: the lockout card
/// clears and the audit entry shows on the user's page.
#[tokio::test]
async fn support_unlocks_a_locked_user_and_sees_the_audit_entry() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.shot("connect-demo").await;
    c.sign_in(&creds.support_email, &creds.support_password).await?;
    c.click("nav-users").await?;
    c.click("filter-locked").await?;
    let row = c.wait_css("[data-testid=user-row]").await?;
    let email = row.attr("data-email").await?.unwrap_or_default();
    c.shot("users-locked").await;
    row.click().await?;
    c.wait_text("lockout-status", "Locked").await?;
    // Why it is locked and until when, once: not "Failed attempts 0" beside the lock.
    c.wait_text("lockout-cause", "failed sign-ins, the last from").await?;
    let card = c.text("lockout-card").await?;
    assert!(
        !card.contains("Failed attempts"),
        "no failure count while locked: {card}"
    );
    c.shot("user-locked").await;
    c.click("unlock-button").await?;
    c.confirm_with_reason(REASON).await?;
    c.wait_text("lockout-status", "Not locked").await?;
    c.wait_text("toast", "Unlocked").await?;
    assert!(c.absent("lockout-cause").await?, "the cause goes with the lock");
    c.wait_css_text("[data-testid=activity-item]", "user.unlocked").await?;
    assert_eq!(
        c.text("user-email").await?,
        email,
        "the page is still the unlocked user's"
    );
    c.shot("user-unlocked").await;
    c.quit().await
}

/// Revoking one session marks it ended; "sign out everywhere" ends the rest.
#[tokio::test]
async fn sessions_can_be_revoked_one_by_one_and_everywhere() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in(&creds.support_email, &creds.support_password).await?;
    // The demo support user has a live session of their own besides the console's.
    c.open_user("support@warden.demo").await?;
    let active = c
        .wait_css("[data-testid=session-row][data-status=active][data-current=false]")
        .await?;
    let id = active.attr("data-session-id").await?.unwrap_or_default();
    active
        .find(By::Css("[data-testid=revoke-session-button]"))
        .await?
        .click()
        .await?;
    c.confirm_with_reason(REASON).await?;
    c.wait_css(&format!(
        "[data-testid=session-row][data-session-id='{id}'][data-status=revoked]"
    ))
    .await?;
    c.shot("user-sessions").await;
    c.click("sign-out-everywhere").await?;
    c.fill("reason-input", REASON).await?;
    c.click("confirm-button").await?;
    // Signing out everywhere ends the operator's own console session too: the lock screen follows.
    c.wait("lock-screen").await?;
    c.quit().await
}

#[tokio::test]
async fn support_cannot_reach_the_policy() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in(&creds.support_email, &creds.support_password).await?;
    c.wait("nav-users").await?;
    assert!(
        c.absent("nav-policy").await?,
        "support must not be offered the policy screen"
    );
    // Sessions: support sees them all, but bulk actions only within one user's sessions, and no emergency.
    c.click("nav-sessions").await?;
    c.wait_css("[data-testid=global-session-row]").await?;
    assert!(c.absent("emergency").await?, "support has no emergency sign-out");
    assert!(c.absent("select-all-loaded").await?, "no bulk selection across users");
    c.fill("sessions-filter-user", &creds.support_email).await?;
    c.wait("select-all-loaded").await?;
    c.quit().await
}

#[tokio::test]
async fn a_wrong_password_shows_the_error() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.submit_password(&creds.support_email, "not the password").await?;
    c.wait_text("form-error", "wrong").await?;
    c.shot("sign-in-error").await;
    c.quit().await
}

/// The security admin signs in with password and TOTP and reaches the policy screen.
#[tokio::test]
async fn security_admin_signs_in_with_totp_and_sees_the_policy() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.submit_password(&creds.admin_email, &creds.admin_password).await?;
    c.wait("totp-code").await?;
    c.shot("sign-in-totp").await;
    c.fill("totp-code", &creds.totp_now()).await?;
    c.click("totp-submit").await?;
    c.wait_text("current-user", &creds.admin_email).await?;
    c.click("nav-policy").await?;
    c.wait_css_text("[data-testid=policy-table]", "lockout.threshold")
        .await?;
    c.shot("policy").await;
    c.quit().await
}

/// The security admin narrows the sessions screen to mobile devices, selects every matching session and
/// ends them in bulk (dry run, reason, typed confirmation when large, progress, summary); then signs
/// everyone out in an emergency (typed phrase and re-authentication), keeping their own session.
/// A bulk termination whose process died half-way (here: its progress callback panics after the first
/// batch, two minutes ago) is named by the next dry run in the console, with what it did not reach.
#[tokio::test]
async fn the_next_bulk_dry_run_names_an_interrupted_run() -> WebDriverResult<()> {
    use std::sync::atomic::AtomicBool;
    use warden_core::model::session_filter::SessionFilter;
    use warden_core::ops::bulk::{self, BulkRequest, BulkTarget};
    use warden_core::{Clock, ManualClock, SystemClock};

    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;
    let db = warden_core::Db::open(&c.demo_database_url())
        .await
        .expect("the demo database");
    let then = ManualClock::at(SystemClock.now() - 2 * 60_000);
    let admin = warden_core::ops::operator::cli(then.now()).expect("the CLI operator");
    let req = BulkRequest {
        target: BulkTarget::Filter(Box::new(SessionFilter {
            device: Some("mobile".into()),
            ..Default::default()
        })),
        include_own: false,
        reason: "lost phones, incident 230".into(),
        batch_size: Some(1),
    };
    let died = tokio::spawn(async move {
        let cancel = AtomicBool::new(false);
        let mut progress = |p: bulk::BulkProgress| assert!(p.batches < 1, "the process dies here");
        bulk::run(&db, &admin, &then, &req, &cancel, &mut progress).await
    })
    .await;
    assert!(died.is_err(), "the run died after its first batch");

    c.click("nav-sessions").await?;
    c.wait_css("[data-testid=global-session-row]").await?;
    c.select("sessions-filter-device", "mobile").await?;
    c.wait_css("[data-testid=global-session-row] [data-testid=session-pick]")
        .await?;
    c.click("select-all-loaded").await?;
    c.click("bulk-end").await?;
    c.wait_text("bulk-plan", "will be signed out").await?;
    c.wait_text("bulk-interrupted", "stopped half-way: it ended 1 of")
        .await?;
    c.wait_text("bulk-interrupted", "lost phones, incident 230").await?;
    c.shot("bulk-interrupted").await;
    c.quit().await
}

#[tokio::test]
async fn security_admin_ends_sessions_in_bulk_and_signs_everyone_out() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;
    c.click("nav-sessions").await?;
    c.wait_css("[data-testid=global-session-row]").await?;
    c.wait_text("sessions-count", "user").await?;
    c.shot("sessions").await;

    c.select("sessions-filter-device", "mobile").await?;
    c.wait_css("[data-testid=global-session-row] [data-testid=session-pick]")
        .await?;
    c.wait_text("sessions-count", "user").await?;
    c.click("select-all-loaded").await?;
    if !c.absent("select-all-matching").await? {
        c.click("select-all-matching").await?;
    }
    c.click("bulk-end").await?;
    c.wait_text("bulk-plan", "will be signed out").await?;
    // The dry run's examples are readable: nothing in them is cut off.
    let cut = c
        .driver()
        .execute(
            "return [...document.querySelectorAll('[data-testid=bulk-sample] *')] \
               .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible') \
               .map((e) => e.textContent);",
            Vec::<serde_json::Value>::new(),
        )
        .await?;
    assert_eq!(
        cut.json(),
        &serde_json::json!([]),
        "no example of the dry run is cut off"
    );
    c.fill("reason-input", "lost phones, incident 231").await?;
    if let Some(phrase) = match c.absent("bulk-confirm-text").await? {
        true => None,
        false => c.wait("bulk-confirm-text").await?.attr("data-phrase").await?,
    } {
        c.fill("bulk-confirm-text", &phrase).await?;
    }
    c.shot("bulk-dry-run").await;
    c.click("bulk-start").await?;
    c.wait_text("bulk-summary", "sessions ended").await?;
    c.shot("bulk-summary").await;
    c.click("bulk-close").await?;
    c.wait("sessions-empty").await?;
    c.wait_text("sessions-count", "0 sessions").await?;

    c.select("sessions-filter-device", "").await?;
    c.wait_css("[data-testid=global-session-row]").await?;
    c.click("emergency").await?;
    c.wait_text("bulk-plan", "will be signed out").await?;
    c.fill("reason-input", "token leak drill").await?;
    c.fill("bulk-confirm-text", "SIGN OUT EVERYONE").await?;
    c.shot("emergency").await;
    c.click("bulk-start").await?;
    // The emergency always asks for the password (and, for this admin, the next TOTP code).
    c.fill("reauth-password", &creds.admin_password).await?;
    c.click("reauth-submit").await?;
    c.fill("reauth-code", &creds.totp_in(1)).await?;
    c.click("reauth-submit").await?;
    c.wait_text("bulk-summary", "kept (your own)").await?;
    c.click("bulk-close").await?;
    c.wait_text("sessions-count", "1 session of 1 user").await?;
    let rows = c.driver().find_all(By::Css("[data-testid=global-session-row]")).await?;
    assert_eq!(rows.len(), 1, "only the operator's own session is left");
    c.wait_css_text("[data-testid=global-session-row]", "this console")
        .await?;
    // The overview agrees: nobody is signed in but the operator.
    c.click("nav-overview").await?;
    // Only the operator's own session is active.
    c.wait_exact("overview-active", "1").await?;
    c.wait_css_text("[data-testid=overview-admin-action]", "Signed everyone out (emergency")
        .await?;
    c.shot("overview-after-emergency").await;
    c.quit().await
}

async fn futures_texts(rows: &[WebElement]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows.iter().take(3) {
        out.push(r.attr("data-email").await.ok().flatten().unwrap_or_default());
    }
    out
}

/// Measurements for docs/PERFORMANCE.md (not a test of speed: it asserts only that the steps work).
/// `cargo test -p warden-console --test window -- --ignored measure --nocapture`; with
/// WARDEN_MEASURE_PG_URL, WARDEN_MEASURE_EMAIL and WARDEN_MEASURE_PASSWORD it also measures a PostgreSQL
/// database (e.g. the 1M-user demo).
#[tokio::test]
#[ignore = "measurement, run by hand"]
async fn measure_console() -> WebDriverResult<()> {
    use std::time::Instant;
    let t0 = Instant::now();
    let c = Console::start().await?;
    c.wait("open-demo").await?;
    println!("measure: launch to connect screen: {} ms", t0.elapsed().as_millis());
    let t = Instant::now();
    let creds = c.open_demo().await?;
    println!(
        "measure: open demo (first time: create and fill 300 users): {} ms",
        t.elapsed().as_millis()
    );
    c.click("continue-sign-in").await?;
    c.fill("email", &creds.support_email).await?;
    c.fill("password", &creds.support_password).await?;
    let t = Instant::now();
    c.click("sign-in").await?;
    c.wait_css("[data-testid=chart-sign-ins]").await?;
    println!(
        "measure: demo sign-in to the overview and its chart painted: {} ms",
        t.elapsed().as_millis()
    );
    c.click("nav-users").await?;
    c.wait_css("[data-testid=user-row]").await?;
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    println!(
        "measure: idle PSS of the app and its WebKit processes: {} MiB",
        support::pss_mib("warden-console")
    );
    c.quit().await?;

    if let (Ok(url), Ok(email), Ok(password)) = (
        std::env::var("WARDEN_MEASURE_PG_URL"),
        std::env::var("WARDEN_MEASURE_EMAIL"),
        std::env::var("WARDEN_MEASURE_PASSWORD"),
    ) {
        let t0 = Instant::now();
        let c = Console::start().await?;
        c.fill("pg-url", &url).await?;
        c.click("pg-connect").await?;
        c.wait("email").await?;
        c.fill("email", &email).await?;
        c.fill("password", &password).await?;
        c.click("sign-in").await?;
        c.wait_css("[data-testid=chart-sign-ins]").await?;
        println!(
            "measure: PostgreSQL launch to the overview painted (incl. typing): {} ms",
            t0.elapsed().as_millis()
        );
        c.click("nav-users").await?;
        c.wait_css("[data-testid=user-row]").await?;
        println!(
            "measure: PostgreSQL launch to first users row (incl. typing): {} ms",
            t0.elapsed().as_millis()
        );
        // As typed, one term after another; each is timed from typing until every row shown matches it.
        for term in ["zoe.garcia620175", "emma", "emma.s", "k", "ka", "kaur"] {
            let t = Instant::now();
            c.fill("user-search", term).await?;
            loop {
                let rows = c.driver().find_all(By::Css("[data-testid=user-row]")).await?;
                let mut all = !rows.is_empty();
                for r in &rows {
                    // Demo emails are first.last<n>@…, so every match shows the term in its email.
                    all &= r
                        .attr("data-email")
                        .await
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                        .contains(term);
                }
                if all {
                    break;
                }
                if t.elapsed().as_secs() > 30 {
                    c.shot("measure-failure").await;
                    let texts: Vec<String> = futures_texts(&rows).await;
                    panic!("search `{term}` never showed; rows: {texts:?}");
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            println!(
                "measure: PostgreSQL search `{term}` to rows (250 ms debounce included): {} ms",
                t.elapsed().as_millis()
            );
        }
        c.quit().await?;
    }
    Ok(())
}

/// A long run shows its progress and can be cancelled: with a larger demo (about 4,600 live sessions), the
/// adapting batches (50 first) report at once, so the bar and Cancel are on screen before the run ends.
#[tokio::test]
async fn a_long_bulk_run_shows_its_progress_and_can_be_cancelled() -> WebDriverResult<()> {
    let c = Console::start_with(&[("WARDEN_DEMO_USERS", "12000")]).await?;
    let creds = c.open_demo_within(std::time::Duration::from_secs(180)).await?;
    c.sign_in_admin(&creds).await?;
    c.click("nav-sessions").await?;
    c.wait_css("[data-testid=global-session-row]").await?;
    c.click("emergency").await?;
    c.wait_text("bulk-plan", "will be signed out").await?;
    c.fill("reason-input", "cancel drill").await?;
    c.fill("bulk-confirm-text", "SIGN OUT EVERYONE").await?;
    c.click("bulk-start").await?;
    c.fill("reauth-password", &creds.admin_password).await?;
    c.click("reauth-submit").await?;
    c.fill("reauth-code", &creds.totp_in(1)).await?;
    c.click("reauth-submit").await?;
    c.wait("bulk-progress").await?;
    let running = c.text("bulk-running").await?;
    c.click("bulk-cancel").await?;
    assert!(running.contains(" of "), "the progress says how far: {running}");
    c.wait_text("bulk-summary", "Cancelled:").await?;
    c.shot("bulk-cancelled").await;
    c.click("bulk-close").await?;
    let left = c.text("sessions-count").await?;
    assert!(
        !left.starts_with("1 session of 1 user"),
        "the cancelled run left sessions live: {left}"
    );
    c.quit().await
}

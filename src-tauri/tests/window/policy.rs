//! The policy screen: an invalid value shows its rule at the field; a valid change shows its diff and
//! simulation, is saved with a note (and shortened sessions), appears in the history, and can be rolled back.

use crate::support::{Console, DemoCreds};
use thirtyfour::prelude::*;
use warden_core::Clock;

/// The version number in "Version 2 · in force now".
async fn version_in_force(c: &Console) -> WebDriverResult<i64> {
    let text = c.text("policy-version").await?;
    Ok(text
        .trim_start_matches("Version ")
        .split(|ch: char| !ch.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no version number in {text:?}")))
}

/// The demo's security admin on the policy screen, with the version in force as it opens.
async fn open_policy_as_admin() -> WebDriverResult<(Console, DemoCreds, i64)> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;
    c.click("nav-policy").await?;
    c.wait_css_text("[data-testid=policy-group-lockout]", "lockout.threshold")
        .await?;
    let before = version_in_force(&c).await?;
    Ok((c, creds, before))
}

#[tokio::test]
async fn security_admin_reviews_saves_and_rolls_back_a_policy_change() -> WebDriverResult<()> {
    let (c, creds, before) = open_policy_as_admin().await?;

    // An idle timeout longer than the lifetime breaks a cross-field rule: named at the field, no review.
    c.fill("policy-input-session.idle_timeout", "30d").await?;
    c.wait_text("field-error-session.idle_timeout", "must be at most session.ttl")
        .await?;
    c.wait_text("policy-status", "to fix before saving").await?;
    assert!(
        !c.wait("policy-review-open").await?.is_enabled().await?,
        "an invalid change cannot be reviewed"
    );
    c.shot("policy").await;

    // A valid change: a shorter lifetime and idle timeouts, ordinary and privileged.
    c.fill("policy-input-session.idle_timeout", "1d").await?;
    c.fill("policy-input-session.ttl", "3d").await?;
    c.fill("policy-input-privileged.idle_timeout", "10m").await?;
    c.wait_text("policy-status", "3 changes · valid").await?;
    assert!(c.absent("field-error-session.idle_timeout").await?, "the error is gone");
    c.click("policy-review-open").await?;
    c.wait_text("review-diff", "session.idle_timeout").await?;
    c.wait_text("review-diff", "privileged.idle_timeout").await?;
    c.wait_text("sim-sessions-ended", "now").await?;
    c.wait_text("sim-lockout", "locked now").await?;
    c.click("shorten-sessions").await?;
    c.wait_text("sim-sessions-shortened", "shorten").await?;
    // The note is required.
    c.click("policy-save").await?;
    c.wait_text("policy-note-error", "note is required").await?;
    c.fill("policy-note", "incident 77: shorter idle sessions").await?;
    assert!(
        c.absent("policy-note-error").await?,
        "typing a note clears the stale error"
    );
    c.shot("policy-review").await;
    c.click("policy-save").await?;
    c.wait_text("policy-version", &format!("Version {}", before + 1))
        .await?;
    c.wait_text("policy-status", "No changes").await?;

    // The history shows the new version with its author, note and diff, and offers a rollback.
    c.click("policy-tab-history").await?;
    let saved = format!("policy-version-{}", before + 1);
    c.wait_text(&saved, "incident 77: shorter idle sessions").await?;
    c.wait_text(&saved, "session.idle_timeout: 2d → 1d").await?;
    c.wait_text(&saved, &creds.admin_email).await?;
    c.shot("policy-history").await;

    c.click(&format!("policy-rollback-{before}")).await?;
    c.wait_text("policy-rollback-dialog", &format!("version {}", before + 2))
        .await?;
    c.click("rollback-confirm").await?;
    c.wait_text("rollback-note-error", "note is required").await?;
    c.fill("rollback-note", "idle timeout drill over").await?;
    assert!(
        c.absent("rollback-note-error").await?,
        "typing a note clears the stale error"
    );
    c.click("rollback-confirm").await?;
    let back = format!("policy-version-{}", before + 2);
    c.wait_text(&back, "idle timeout drill over").await?;
    c.wait_text(&back, "session.idle_timeout: 1d → 2d").await?;
    c.click("policy-tab-settings").await?;
    c.wait_text("policy-version", &format!("Version {}", before + 2))
        .await?;
    let idle = c.wait("policy-input-session.idle_timeout").await?;
    assert_eq!(
        idle.prop("value").await?.as_deref(),
        Some("2d"),
        "the old value is back"
    );
    c.quit().await
}

/// Two admins edit the policy at once: the one who saves second, from the version both loaded, is told
/// which version is in force now and offered to load it; nobody's change is lost.
#[tokio::test]
async fn a_save_over_a_newer_version_is_refused_and_offers_the_version_in_force() -> WebDriverResult<()> {
    let (c, _, before) = open_policy_as_admin().await?;
    c.fill("policy-input-lockout.threshold", "9").await?;
    c.wait_text("policy-status", "1 change · valid").await?;
    c.click("policy-review-open").await?;
    c.wait_text("review-diff", "lockout.threshold").await?;
    c.fill("policy-note", "fewer guesses").await?;

    // Meanwhile another admin saves a change of their own (here through the engine, as the CLI does).
    let db = warden_core::Db::open(&c.demo_database_url())
        .await
        .expect("the demo database");
    let now = warden_core::SystemClock.now();
    warden_core::ops::policy::set(
        &db,
        &warden_core::ops::operator::cli(now).expect("the CLI operator"),
        now,
        &[("lockout.window".into(), "25m".into())],
        "longer window",
    )
    .await
    .expect("the other admin's change");
    db.close().await;

    c.click("policy-save").await?;
    c.wait_text("dialog-error", &format!("version {} is in force", before + 1))
        .await?;
    c.wait("policy-conflict").await?;
    c.shot("policy-conflict").await;
    c.click("policy-reload").await?;
    c.wait_text("policy-version", &format!("Version {}", before + 1))
        .await?;
    let window = c.wait("policy-input-lockout.window").await?;
    assert_eq!(
        window.prop("value").await?.as_deref(),
        Some("25m"),
        "the other admin's change is in force and shown"
    );
    let threshold = c.wait("policy-input-lockout.threshold").await?;
    assert_ne!(
        threshold.prop("value").await?.as_deref(),
        Some("9"),
        "the refused change was not saved"
    );
    c.quit().await
}

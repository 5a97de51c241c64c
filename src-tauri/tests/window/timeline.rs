//! The user timeline in the real window: a bar for every session of the range, details on hover and on
//! the keyboard, and a click or Enter that finds the session in the table.

use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::support::Console;

/// Waits until the timeline has answered for the range just picked (it says how many sessions).
async fn settled(c: &Console) -> WebDriverResult<usize> {
    let started = Instant::now();
    loop {
        let tl = c.wait("timeline").await?;
        let loading = tl.attr("data-loading").await?.unwrap_or_default();
        let n = tl.attr("data-sessions").await?.unwrap_or_default();
        if loading == "false" && !n.is_empty() {
            return Ok(n.parse().unwrap_or(usize::MAX));
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the timeline never loaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_timeline_draws_every_session_and_opens_the_one_clicked() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.watch_csp().await?;
    c.sign_in(&creds.support_email, &creds.support_password).await?;
    c.open_user(&creds.support_email).await?;
    c.wait_css("[data-testid=session-row]").await?;

    // The demo's sessions all began within 90 days: over 90 days, one bar per row of the table.
    c.click("timeline-range-90d").await?;
    let n = settled(&c).await?;
    let rows = c.count("[data-testid=session-row]").await?;
    assert!(rows >= 2, "the demo support user has sessions besides this console's");
    assert_eq!(n, rows, "the timeline has every session of the table");
    assert_eq!(
        c.count("[data-testid=timeline-bar]").await?,
        rows,
        "one bar per session"
    );
    assert_eq!(
        c.count("[data-testid=timeline-bar][data-current=true]").await?,
        1,
        "this console's own session is marked"
    );
    c.wait_text("timeline-summary", &format!("{rows} sessions")).await?;

    // The last 24 hours hold this console's session, and no more than 90 days do.
    c.click("timeline-range-24h").await?;
    let day = settled(&c).await?;
    assert!(day >= 1 && day <= rows, "{day} of {rows}");
    assert_eq!(c.count("[data-testid=timeline-bar]").await?, day);
    c.click("timeline-range-90d").await?;
    settled(&c).await?;

    // Hover shows a bar's details.
    let bar = c.wait_css("[data-testid=timeline-bar][data-current=false]").await?;
    let id = bar.attr("data-session-id").await?.unwrap_or_default();
    c.driver().action_chain().move_to_element_center(&bar).perform().await?;
    c.wait_text("timeline-tip", "→").await?;
    c.shot("user-timeline").await;

    // A click finds the session in the table.
    bar.click().await?;
    c.wait_css(&format!(
        "[data-testid=session-row][data-session-id='{id}'][data-highlighted=true]"
    ))
    .await?;

    // The keyboard: into the lanes, an arrow shows the details of the next bar, Enter opens it.
    let lanes = c.wait("timeline-lanes").await?;
    c.driver()
        .execute("arguments[0].focus();", vec![lanes.to_json()?])
        .await?;
    lanes.send_keys(Key::Home).await?;
    c.wait_text("timeline-tip", "→").await?;
    let first = c
        .wait_css("[data-testid=timeline-bar][aria-selected=true]")
        .await?
        .attr("data-session-id")
        .await?
        .unwrap_or_default();
    lanes.send_keys(Key::Enter).await?;
    c.wait_css(&format!(
        "[data-testid=session-row][data-session-id='{first}'][data-highlighted=true]"
    ))
    .await?;

    // A reversed custom range is refused at its field, by the engine.
    c.click("timeline-range-custom").await?;
    c.set_value("timeline-from", "2026-05-02T10:00").await?;
    c.set_value("timeline-to", "2026-05-01T10:00").await?;
    c.click("timeline-apply").await?;
    c.wait_text("timeline-error-to", "later than from").await?;

    assert_eq!(
        c.csp_violations().await?,
        Vec::<String>::new(),
        "the timeline breaks no CSP rule"
    );
    c.quit().await
}

/// A locked account's failed sign-ins and its lock land at the same instant: they are one mark, which
/// says every event it holds when hovered, instead of marks hidden under each other.
#[tokio::test]
async fn marks_at_the_same_instant_are_one_mark_that_says_them_all() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in(&creds.support_email, &creds.support_password).await?;
    c.click("nav-users").await?;
    c.click("filter-locked").await?;
    c.wait_css("[data-testid=user-row]").await?.click().await?;
    c.click("timeline-range-90d").await?;
    settled(&c).await?;
    let marks = c.driver().find_all(By::Css("[data-testid=timeline-mark]")).await?;
    let mut xs = Vec::new();
    for m in &marks {
        let r = m.rect().await?;
        xs.push((r.x + r.width / 2.0).round() as i64);
    }
    let mut unique = xs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        xs.len(),
        "no two marks are drawn on the same spot: {xs:?}"
    );
    let stacked = c.wait_css("[data-testid=timeline-mark]:not([data-count='1'])").await?;
    c.driver()
        .action_chain()
        .move_to_element_center(&stacked)
        .perform()
        .await?;
    c.wait_text("timeline-tip", "events at").await?;
    c.shot("timeline-stacked-marks").await;
    c.quit().await
}

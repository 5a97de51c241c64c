//! The console fits its window: at the default 1280×800 and at a smaller 1024×700, every button of the
//! user page and of the sessions screen can be reached without scrolling sideways (a wide table scrolls
//! inside its card, its actions stay in view), the page itself is never wider than the window, and the
//! navigation bar does not move when the timeline scrolls the page to a session.

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::Console;

/// The buttons on screen whose box is cut off sideways by the window or by a scrolling or clipping
/// ancestor, each as "its text (left..right outside clip..clip)". Hidden buttons are left out.
const CUT_OFF_BUTTONS: &str = r#"
const out = [];
for (const b of document.querySelectorAll('button')) {
  const r = b.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || b.closest('[hidden], dialog:not([open])')) continue;
  let left = 0, right = window.innerWidth;
  for (let p = b.parentElement; p; p = p.parentElement) {
    const ox = getComputedStyle(p).overflowX;
    if (ox === 'visible') continue;
    const pr = p.getBoundingClientRect();
    left = Math.max(left, pr.left);
    right = Math.min(right, pr.right);
  }
  if (r.left < left - 0.5 || r.right > right + 0.5) {
    const name = (b.getAttribute('data-testid') || b.textContent || '').trim().replace(/\s+/g, ' ');
    out.push(`${name} (${Math.round(r.left)}..${Math.round(r.right)} outside ${Math.round(left)}..${Math.round(right)})`);
  }
}
return out;
"#;

/// How far the page and its root scroll sideways, and its width beyond the window's.
const PAGE_OVERFLOW: &str = r#"
const s = document.scrollingElement;
return [s.scrollWidth - window.innerWidth, s.scrollLeft, document.body.scrollLeft];
"#;

const NAV_RECT: &str = r#"
const r = document.querySelector('nav[aria-label=Console]').getBoundingClientRect();
return [Math.round(r.left), Math.round(r.top), Math.round(r.width)];
"#;

async fn js(c: &Console, script: &str) -> WebDriverResult<Value> {
    Ok(c.driver().execute(script, Vec::<Value>::new()).await?.json().clone())
}

/// Asserts that nothing on screen is cut off sideways and that the page does not scroll sideways.
async fn assert_fits(c: &Console, what: &str) -> WebDriverResult<()> {
    let cut = js(c, CUT_OFF_BUTTONS).await?;
    assert_eq!(
        cut,
        Value::Array(vec![]),
        "{what}: every button is in view without scrolling sideways"
    );
    let overflow = js(c, PAGE_OVERFLOW).await?;
    assert_eq!(
        overflow,
        serde_json::json!([0, 0, 0]),
        "{what}: the page is no wider than the window (overflow, scroll offsets)"
    );
    Ok(())
}

async fn resize(c: &Console, width: u32, height: u32) -> WebDriverResult<()> {
    c.driver().set_window_rect(0, 0, width, height).await?;
    // Wait until the page has its new width (the window manager-less Xvfb applies it at once, the
    // page lays out a moment later).
    for _ in 0..50 {
        let w = js(c, "return window.innerWidth;").await?;
        if w.as_u64() == Some(u64::from(width)) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the window never became {width} wide");
}

#[tokio::test]
async fn the_user_page_and_the_sessions_screen_fit_the_window() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;

    for (width, height) in [(1280, 800), (1024, 700)] {
        resize(&c, width, height).await?;
        let at = format!("{width}×{height}");

        // The support user's page: their sessions (with Revoke), the timeline, the cards.
        c.open_user(&creds.support_email).await?;
        c.wait_css("[data-testid=session-row] [data-testid=revoke-session-button]")
            .await?;
        c.click("timeline-range-90d").await?;
        c.wait_css("[data-testid=timeline][data-loading=false] [data-testid=timeline-bar]")
            .await?;
        assert_fits(&c, &format!("user page at {at}")).await?;
        c.shot(&format!("user-{width}")).await;

        // A click on a bar scrolls the page to its session: the navigation stays where it was.
        let nav = js(&c, NAV_RECT).await?;
        let bar = c.wait_css("[data-testid=timeline-bar][data-current=false]").await?;
        let id = bar.attr("data-session-id").await?.unwrap_or_default();
        bar.click().await?;
        c.wait_css(&format!(
            "[data-testid=session-row][data-session-id='{id}'][data-highlighted=true]"
        ))
        .await?;
        // The table scrolls smoothly: let it come to rest.
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert_eq!(
            js(&c, NAV_RECT).await?,
            nav,
            "{at}: the navigation bar does not move when a timeline bar is clicked"
        );
        assert_fits(&c, &format!("user page at {at}, after a timeline click")).await?;

        // The sessions screen, with a selection so that its bulk action shows.
        c.click("nav-sessions").await?;
        c.wait_css("[data-testid=global-session-row] [data-testid=session-pick]")
            .await?
            .click()
            .await?;
        c.wait("bulk-end").await?;
        assert_fits(&c, &format!("sessions screen at {at}")).await?;
        c.shot(&format!("sessions-{width}")).await;
        // Leave the selection for the next size clean.
        c.click("select-all-loaded").await?;
        c.click("select-all-loaded").await?;
    }
    c.quit().await
}

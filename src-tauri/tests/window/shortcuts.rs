//! The keyboard and the sign-in's shortcuts: `/` and Ctrl+K reach the user search from every screen,
//! and the demo's "Use" on the two-factor step fills the code instead of starting the sign-in over.

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::Console;

/// The test id of the focused element.
async fn focused(c: &Console) -> WebDriverResult<String> {
    let v = c
        .driver()
        .execute(
            "return document.activeElement && document.activeElement.getAttribute('data-testid');",
            Vec::<Value>::new(),
        )
        .await?;
    Ok(v.json().as_str().unwrap_or_default().to_owned())
}

async fn assert_search_focused(c: &Console, from: &str, key: &str) -> WebDriverResult<()> {
    for _ in 0..30 {
        if focused(c).await? == "user-search" {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{key} on {from} does not put the keyboard in the user search (focus: {:?})",
        focused(c).await?
    );
}

#[tokio::test]
async fn slash_and_ctrl_k_reach_the_user_search_from_every_screen() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;
    for (nav, ready) in [
        ("nav-overview", "[data-testid=overview-active]"),
        ("nav-sessions", "[data-testid=global-session-row]"),
        ("nav-flags", "[data-testid=nav-flags][aria-current=page]"),
        ("nav-audit", "[data-testid=nav-audit][aria-current=page]"),
        ("nav-policy", "[data-testid=policy-version]"),
    ] {
        c.click(nav).await?;
        c.wait_css(ready).await?;
        c.driver().action_chain().send_keys("/").perform().await?;
        assert_search_focused(&c, nav, "/").await?;
        c.click(nav).await?;
        c.wait_css(ready).await?;
        c.driver()
            .action_chain()
            .key_down(Key::Control)
            .send_keys("k")
            .key_up(Key::Control)
            .perform()
            .await?;
        assert_search_focused(&c, nav, "Ctrl+K").await?;
    }
    // And from a user's page.
    c.open_user(&creds.support_email).await?;
    c.wait("lockout-card").await?;
    c.driver().action_chain().send_keys("/").perform().await?;
    assert_search_focused(&c, "the user page", "/").await?;
    c.quit().await
}

#[tokio::test]
async fn use_on_the_two_factor_step_fills_the_code() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.click("continue-sign-in").await?;
    // The demo's first account is its security admin, who has two-factor on.
    let use_admin = "[data-testid=demo-credentials] button";
    c.wait_css(use_admin).await?.click().await?;
    c.click("sign-in").await?;
    c.wait("totp-code").await?;
    c.wait_css(use_admin).await?.click().await?;
    let code = c.wait("totp-code").await?.prop("value").await?.unwrap_or_default();
    assert_eq!(code.len(), 6, "the demo admin's code now is in the field: {code:?}");
    assert!(c.absent("password").await?, "still on the two-factor step");
    c.click("totp-submit").await?;
    c.wait_text("current-user", &creds.admin_email).await?;
    c.quit().await
}

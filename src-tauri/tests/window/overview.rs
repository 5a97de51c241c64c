//! The overview in the real window: the first screen after sign-in, its numbers against the screens
//! that count the same things, the chart drawn without breaking the CSP, a locked account and an admin
//! action that open where they belong.

use thirtyfour::prelude::*;

use crate::support::Console;

/// The number an overview card shows.
async fn number(c: &Console, testid: &str) -> WebDriverResult<u64> {
    let text = c.text(testid).await?;
    Ok(text
        .replace(',', "")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{testid} is not a number: {text:?}")))
}

/// 12 in "12 sessions of 9 users".
pub fn leading_number(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.replace(',', "").parse().ok()
}

#[tokio::test]
async fn the_overview_shows_the_numbers_and_opens_a_locked_account() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.watch_csp().await?;
    // The watch itself works: an inline style attribute is refused and reported.
    c.driver()
        .execute(
            "document.body.setAttribute('style', 'outline: 1px solid red');",
            Vec::<serde_json::Value>::new(),
        )
        .await?;
    let caught = c.csp_violations().await?;
    assert!(
        caught.iter().any(|v| v.starts_with("style-src")),
        "the CSP watch reports an inline style: {caught:?}"
    );

    c.sign_in(&creds.support_email, &creds.support_password).await?;
    // The first screen after sign-in.
    c.wait("overview-active").await?;
    c.wait_css("[data-testid=chart-sign-ins]").await?;
    let active = number(&c, "overview-active").await?;
    let locked = number(&c, "overview-locked-count").await?;
    let sign_ins = number(&c, "overview-sign-ins").await?;
    assert!(active >= 2, "the demo has live sessions, this console's among them");
    assert!(locked >= 1, "the demo locks a few accounts");
    assert!(sign_ins >= 1, "this console's own sign-in is in the last hour");
    let rows = c.count("[data-testid=overview-locked-row]").await?;
    assert_eq!(rows as u64, locked.min(20), "each locked account is listed (up to 20)");
    assert!(
        c.count("[data-testid=overview-share]").await? >= 2,
        "countries and devices"
    );
    assert!(
        c.count("[data-testid=overview-admin-action]").await? >= 1,
        "the demo's admin actions"
    );
    c.shot("overview").await;
    c.driver()
        .execute(
            "document.querySelector('[data-testid=overview-admin-actions]').scrollIntoView();",
            Vec::<serde_json::Value>::new(),
        )
        .await?;
    c.shot("overview-lower").await;
    assert_eq!(
        c.csp_violations().await?,
        Vec::<String>::new(),
        "the overview and its chart break no CSP rule"
    );

    // The same counts as the screens that list them.
    c.click("nav-sessions").await?;
    c.wait_text("sessions-count", "session").await?;
    assert_eq!(
        leading_number(&c.text("sessions-count").await?),
        Some(active),
        "the sessions screen counts the same active sessions"
    );
    c.click("nav-users").await?;
    c.click("filter-locked").await?;
    c.wait_css("[data-testid=user-row]").await?;
    let started = std::time::Instant::now();
    while (c.count("[data-testid=user-row]").await? as u64) != locked {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the users screen lists {locked} locked accounts"
        );
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }

    // A locked account opens its user, and back leads to the overview.
    c.click("nav-overview").await?;
    let row = c.wait("overview-locked-row").await?;
    let email = row.attr("data-email").await?.unwrap_or_default();
    row.click().await?;
    c.wait_text("lockout-status", "Locked").await?;
    assert_eq!(c.text("user-email").await?, email, "the account clicked");
    c.wait_text("back", "Overview").await?;
    c.click("back").await?;

    // An admin action opens in the audit log, its drawer showing it.
    let action = c.wait("overview-admin-action").await?;
    let seq = action.attr("data-seq").await?.unwrap_or_default();
    action.click().await?;
    c.wait("audit-drawer").await?;
    let shown = c
        .wait_css("[data-testid=audit-field][data-label='Seq']")
        .await?
        .text()
        .await?;
    assert_eq!(shown, seq, "the drawer shows the event clicked");
    c.shot("overview-audit").await;
    c.quit().await
}

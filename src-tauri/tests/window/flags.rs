//! The review queue in the real window: the overview counts the open flags and opens the queue, a flag's
//! drawer tells what was seen, and dismissing it with a reason takes it off the queue, lowers the count,
//! lists it under "Dismissed" and writes `flag.dismissed` to the audit log; a flag is also closed from
//! its user's page.

use thirtyfour::prelude::*;

use crate::overview::leading_number;
use crate::support::Console;

const REASON: &str = "travelling for work, confirmed by the user";

#[tokio::test]
async fn support_reviews_a_flag_and_dismisses_it_with_a_reason() -> WebDriverResult<()> {
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in(&creds.support_email, &creds.support_password).await?;

    let tile = c.text("overview-open-flags-count").await?;
    let open = leading_number(&tile).unwrap_or_else(|| panic!("open flags is a number: {tile:?}"));
    assert!(open >= 1, "the demo leaves flags open for review");
    c.wait_exact("nav-flags-count", &open.min(999).to_string()).await?;
    c.click("overview-open-flags").await?;

    let row = c.wait_css("[data-testid=flag-row][data-status=open]").await?;
    let id = row.attr("data-flag-id").await?.unwrap_or_default();
    let email = row.attr("data-email").await?.unwrap_or_default();
    assert!(!id.is_empty() && email.contains('@'), "a row names its flag and user");
    c.shot("flags").await;
    row.click().await?;
    let drawer = c
        .wait_css(&format!("[data-testid=flag-drawer][data-flag-id='{id}']"))
        .await?;
    let detail = c.text("flag-detail").await?;
    assert!(detail.contains("from"), "the drawer says what was seen: {detail}");
    assert!(drawer.text().await?.contains(&email), "the drawer names the user");
    let place = c.text("flag-session-place").await?;
    assert!(
        place.chars().filter(|ch| *ch == '.' || *ch == ':').count() >= 2,
        "the drawer shows the flagged session's address and place: {place}"
    );
    assert!(!c.text("flag-session-device").await?.is_empty(), "and its device");
    c.shot("flag-drawer").await;

    c.click("flag-dismiss").await?;
    c.confirm_with_reason(REASON).await?;
    c.wait_exact("nav-flags-count", &(open - 1).min(999).to_string())
        .await?;
    assert_eq!(
        c.count(&format!("[data-testid=flag-row][data-flag-id='{id}']")).await?,
        0,
        "a dismissed flag leaves the open queue"
    );

    c.select("flags-filter-status", "dismissed").await?;
    let closed = c
        .wait_css(&format!(
            "[data-testid=flag-row][data-flag-id='{id}'][data-status=dismissed]"
        ))
        .await?;
    closed.click().await?;
    c.wait_exact("flag-status", "dismissed").await?;
    let drawer = c.wait("flag-drawer").await?.text().await?;
    assert!(
        drawer.contains(&creds.support_email),
        "the drawer says who closed it: {drawer}"
    );

    // The audit log has the decision, with its reason (the newest event, first in the list).
    c.click("nav-audit").await?;
    c.select("audit-filter-action", "flag.dismissed").await?;
    c.wait_css("[data-testid=audit-row][data-action='flag.dismissed']")
        .await?
        .click()
        .await?;
    c.wait_css_text("[data-testid=audit-field][data-label='Reason']", REASON)
        .await?;

    // From the queue, the user's page is one click away; it lists the user's open flags, and one can be
    // closed there too, after dealing with the account.
    c.click("nav-flags").await?;
    c.select("flags-filter-status", "open").await?;
    let row = c.wait_css("[data-testid=flag-row][data-status=open]").await?;
    let id = row.attr("data-flag-id").await?.unwrap_or_default();
    row.click().await?;
    c.click("flag-open-user").await?;
    let on_page = format!("[data-testid=user-flag][data-flag-id='{id}']");
    c.wait_css(&on_page)
        .await?
        .find(By::Css("[data-testid=user-flag-action]"))
        .await?
        .click()
        .await?;
    c.confirm_with_reason("ended the session from abroad").await?;
    assert!(c.gone(&on_page).await?, "an actioned flag leaves the user's page");
    c.wait_exact("nav-flags-count", &(open - 2).min(999).to_string())
        .await?;
    c.click("back").await?;
    c.wait_css("[data-testid=flag-row]").await?;
    assert_eq!(
        c.count(&format!("[data-testid=flag-row][data-flag-id='{id}']")).await?,
        0,
        "and the open queue, when it comes back into view"
    );

    // The users screen narrows to the accounts holding an open flag: the queue's first one among them
    let holder = c
        .wait_css("[data-testid=flag-row][data-status=open]")
        .await?
        .attr("data-email")
        .await?
        .unwrap_or_default();
    // (searched for by email too, since the list only renders the rows in view).
    c.click("nav-users").await?;
    c.click("filter-flagged").await?;
    c.fill("user-search", &holder).await?;
    c.wait_css(&format!("[data-testid=user-row][data-email='{holder}']"))
        .await?;
    c.quit().await
}

//! The dark theme: form controls follow it (no white checkboxes on a dark page), and the policy's group
//! headings sit inside their cards rather than on the border.

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::Console;

async fn js(c: &Console, script: &str, el: &WebElement) -> WebDriverResult<Value> {
    Ok(c.driver().execute(script, vec![el.to_json()?]).await?.json().clone())
}

/// The rendered background of a checkbox and of the page, as "rgb(…)" strings.
const BACKGROUNDS: &str = "const cs = getComputedStyle(arguments[0]); \
     return [cs.appearance || cs.webkitAppearance, cs.backgroundColor, getComputedStyle(document.body).backgroundColor];";

#[tokio::test]
async fn the_dark_theme_has_dark_checkboxes_and_policy_headings_inside_their_cards() -> WebDriverResult<()> {
    let c = Console::start_with(&[("GTK_THEME", "Adwaita:dark")]).await?;
    let dark = c
        .driver()
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            Vec::<Value>::new(),
        )
        .await?;
    assert_eq!(dark.json(), &Value::Bool(true), "the page follows the dark GTK theme");
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;

    c.click("nav-sessions").await?;
    let pick = c
        .wait_css("[data-testid=global-session-row] [data-testid=session-pick]")
        .await?;
    let bg = js(&c, BACKGROUNDS, &pick).await?;
    assert_eq!(
        bg[0],
        Value::from("none"),
        "the checkbox is drawn by the console, not by the GTK theme: {bg}"
    );
    assert_ne!(
        bg[1],
        Value::from("rgb(255, 255, 255)"),
        "no white checkbox on a dark page: {bg}"
    );
    pick.click().await?;
    c.shot("sessions-dark").await;

    c.click("nav-policy").await?;
    let group = c.wait("policy-group-lockout").await?;
    let inside = js(
        &c,
        "const f = arguments[0].getBoundingClientRect(); \
         const l = arguments[0].querySelector('legend').getBoundingClientRect(); \
         return l.top - f.top;",
        &group,
    )
    .await?;
    assert!(
        inside.as_f64().unwrap_or(0.0) >= 8.0,
        "the heading sits inside its card, below the border (it is {inside} px below the card's top)"
    );
    c.shot("policy-dark").await;
    c.quit().await
}

//! The audit screen in the real window: a security admin filters the log by action group, opens an
//! event, exports what the screen shows and verifies the chain. The save dialog is skipped through the
//! debug-only seam `WARDEN_CONSOLE_EXPORT_DIR` (src-tauri/src/lib.rs, `export_destination`): a native
//! dialog cannot be driven over WebDriver.

use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::support::Console;

/// The (seq, action) of every row the list shows, top to bottom.
async fn rows_shown(c: &Console) -> WebDriverResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for row in c.driver().find_all(By::Css("[data-testid=audit-row]")).await? {
        let seq = row.attr("data-seq").await?.unwrap_or_default().parse().unwrap_or(-1);
        out.push((seq, row.attr("data-action").await?.unwrap_or_default()));
    }
    Ok(out)
}

#[tokio::test]
async fn security_admin_filters_opens_exports_and_verifies_the_audit_log() -> WebDriverResult<()> {
    let exports = tempfile::tempdir().expect("temp dir");
    // Inherited by tauri-driver and, through it, by the app (a debug build honours it).
    std::env::set_var("WARDEN_CONSOLE_EXPORT_DIR", exports.path());
    let c = Console::start().await?;
    let creds = c.open_demo().await?;
    c.sign_in_admin(&creds).await?;
    c.click("nav-audit").await?;
    c.wait("audit-row").await?;
    // Events about a user name them by email (the id stays in the tooltip).
    c.select("audit-filter-action", "user.").await?;
    // (Read from the DOM: WebDriver's visible text leaves out a cell whose text is cut by an ellipsis.)
    let started = Instant::now();
    let (email, id) = loop {
        let cells = c
            .driver()
            .execute(
                "return [...document.querySelectorAll('[data-testid=audit-target]')].map((e) => [e.textContent, e.title]);",
                Vec::<serde_json::Value>::new(),
            )
            .await?;
        let cells: Vec<(String, String)> = cells.convert().unwrap_or_default();
        if let Some(named) = cells.into_iter().find(|(t, _)| t.contains('@')) {
            break named;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no target user named by email"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    assert!(
        id.len() == 36 && !email.contains(&id),
        "email {email:?}, id on hover {id:?}"
    );

    c.select("audit-filter-action", "policy.").await?;
    let started = Instant::now();
    let shown = loop {
        let rows = rows_shown(&c).await?;
        if !rows.is_empty() && rows.iter().all(|(_, a)| a.starts_with("policy.")) {
            break rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the list never showed only policy events: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    assert!(shown.windows(2).all(|w| w[0].0 > w[1].0), "newest first: {shown:?}");
    c.wait_text("audit-list", "policy.updated").await?;
    c.shot("audit").await;

    c.wait_css("[data-testid=audit-row]").await?.click().await?;
    c.wait("audit-drawer").await?;
    let seq_field = c
        .wait_css("[data-testid=audit-field][data-label='Seq']")
        .await?
        .text()
        .await?;
    assert_eq!(seq_field, shown[0].0.to_string(), "the drawer shows the clicked event");
    // With the drawer open, the rows still show their address whole, inside the list.
    let ip_cut = c
        .driver()
        .execute(
            "const list = document.querySelector('[data-testid=audit-list]').getBoundingClientRect(); \
             return [...document.querySelectorAll('[data-testid=audit-ip]')].filter((e) => { \
               const r = e.getBoundingClientRect(); \
               return r.right > list.right + 0.5 || e.scrollWidth > e.clientWidth + 1; }).length;",
            Vec::<serde_json::Value>::new(),
        )
        .await?;
    assert_eq!(
        ip_cut.json(),
        &serde_json::json!(0),
        "no IP cell is cut off beside the drawer"
    );
    let metadata = c.text("audit-metadata").await?;
    assert!(
        metadata.starts_with('{') && metadata.contains("\n  \""),
        "metadata is pretty-printed JSON: {metadata}"
    );
    c.shot("audit-drawer").await;
    c.wait("audit-list").await?.send_keys(Key::Escape).await?;
    let started = Instant::now();
    while !c.absent("audit-drawer").await? {
        assert!(started.elapsed() < Duration::from_secs(5), "Escape closes the drawer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    c.click("audit-export-csv").await?;
    c.wait_text("audit-export-result", "written to").await?;
    let files: Vec<_> = std::fs::read_dir(exports.path())
        .expect("the export folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one export file and no partial file beside it: {files:?}"
    );
    let result = c.text("audit-export-result").await?;
    assert!(
        result.contains(&files[0].display().to_string()),
        "the result names the file: {result}"
    );
    let text = std::fs::read_to_string(&files[0]).expect("read the export");
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap_or_default().starts_with("seq,at,at_ms,actor_id"),
        "a CSV header"
    );
    let mut exported: Vec<(i64, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.splitn(8, ',').collect();
            (
                cells[0].parse().unwrap_or(-1),
                cells.get(6).copied().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    exported.reverse();
    assert_eq!(
        exported, shown,
        "the file holds exactly the rows on screen (oldest first)"
    );
    assert!(
        result.contains(&format!("{} event", shown.len())),
        "the result says how many rows: {result}"
    );

    c.click("audit-verify").await?;
    c.wait_text("audit-verify-result", "Verified just now").await?;
    let verdict = c.text("audit-verify-result").await?;
    assert!(verdict.contains("the chain is intact"), "{verdict}");
    c.shot("audit-verify").await;
    c.quit().await
}

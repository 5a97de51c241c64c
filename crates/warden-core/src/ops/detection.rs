//! Records what the suspicious-sign-in rules ([`crate::rules::detection`]) find for a session just
//! created by a sign-in: it reads the user's recent history, and writes one flag and one
//! `session.flagged` audit event per finding, in the sign-in's own transaction, so a session and its
//! flags commit together. Support and security admins review flags through [`crate::ops::flags`].

use serde_json::json;

use crate::model::audit::Record;
use crate::model::authz::Actor;
use crate::model::clock::{format_ms, Millis, DAY};
use crate::model::error::Result;
use crate::model::policy::DetectionPolicy;
use crate::model::session::SessionRow;
use crate::model::vocab::AuditAction;
use crate::rules::detection::{assess, Finding, PastSession, RecentFailures, HISTORY_LIMIT, LOOKBACK};
use crate::store::{audit, flags, login_attempts, sessions, Tx};

/// Runs the rules for a session just created by a sign-in and records what they find: one flag and one
/// `session.flagged` audit event each, in the caller's transaction. Returns the findings.
pub async fn check(tx: &mut Tx, now: Millis, session: &SessionRow, p: &DetectionPolicy) -> Result<Vec<Finding>> {
    let history: Vec<PastSession> =
        sessions::recent_places(tx, session.user_id, now - LOOKBACK, session.id, HISTORY_LIMIT)
            .await?
            .into_iter()
            .map(|(created_at, last_seen_at, country)| PastSession {
                created_at,
                last_seen_at,
                country,
            })
            .collect();
    let failures = if p.failures_before_success > 0 {
        let (count, addresses) = login_attempts::failures_since_success(tx, session.user_id, now - DAY).await?;
        RecentFailures {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            addresses: u32::try_from(addresses).unwrap_or(u32::MAX),
        }
    } else {
        RecentFailures::default()
    };
    let found = assess(now, &session.country, &history, failures, p);
    for f in &found {
        let id = flags::raise(tx, session.user_id, session.id, f, now).await?;
        audit::append(
            tx,
            now,
            &Actor::system(),
            Record::new(AuditAction::SessionFlagged)
                .user(session.user_id)
                .session(session.id)
                .meta(json!({
                    "flag_id": id.to_string(),
                    "rule": f.rule,
                    "severity": f.severity.as_str(),
                    "detail": f.detail,
                    "at": format_ms(now),
                })),
        )
        .await?;
    }
    Ok(found)
}

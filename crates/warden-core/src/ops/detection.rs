//! Records what the suspicious-sign-in rules ([`crate::rules::detection`]) find for a session just
//! created by a sign-in: it reads the user's recent history, and writes one flag and one
//! `session.flagged` audit event per finding, in the sign-in's own transaction, so a session and its
//! flags commit together. Support and security admins review flags through [`crate::ops::flags`].
//!
//! Until a flag is closed in review, it also asks something of the session it names (step-up, seed
//! 002.24): whoever holds a flagged session proves again who they are ([`crate::ops::auth::reauthenticate`])
//! before they end other sessions of the account or switch two-factor on or off, so that a stolen
//! password used from afar cannot sign the owner out or take over their second factor. The self-service
//! operations ask `require_step_up`; staff acting on a user are never asked, and signing out never is.

use serde_json::json;

use crate::model::audit::Record;
use crate::model::authz::Actor;
use crate::model::clock::{format_ms, Millis, DAY};
use crate::model::error::{Error, Result};
use crate::model::policy::DetectionPolicy;
use crate::model::session::SessionRow;
use crate::model::user::Authenticated;
use crate::model::vocab::AuditAction;
use crate::rules::detection::{
    assess, rule_label, step_up_due as due, Finding, PastSession, RecentFailures, HISTORY_LIMIT, LOOKBACK,
};
use crate::store::{audit, flags, login_attempts, policy_versions, sessions, Db, Tx};

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

/// Step-up after a flag: the rules (`impossible_travel`, …) of the flags still open on `session` that it
/// has not answered by re-authenticating since they were raised; empty when nothing is asked of it (no
/// open flag, a re-authentication since, or `detection.step_up` off). A door shows it before the user
/// tries (HTTP: `step_up_required` of `GET /api/auth/session`).
pub async fn step_up_due(db: &Db, session: &SessionRow) -> Result<Vec<String>> {
    let open = flags::open_on_session(db, session.user_id, session.id).await?;
    // Most sessions have no open flag: they need no policy read.
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let (_, policy) = policy_versions::current(db).await?;
    Ok(due(&policy.detection, session.authenticated_at, &open))
}

/// Refuses a sensitive self-service action through `me`'s session while a step-up is due
/// ([`step_up_due`]): appends `refused` — the action's own audit record — marked failed, with the error
/// and the rules, in a transaction of its own, and answers `reauth_required` naming the flag in words.
pub(crate) async fn require_step_up(db: &Db, now: Millis, me: &Authenticated, refused: Record<'_>) -> Result<()> {
    let due = step_up_due(db, &me.session).await?;
    if due.is_empty() {
        return Ok(());
    }
    let refusal = Error::StepUpRequired {
        because: due.iter().map(|r| rule_label(r)).collect::<Vec<_>>().join(", "),
    };
    let mut meta = refused.metadata.clone();
    if let Some(m) = meta.as_object_mut() {
        m.insert("error".into(), json!(refusal.code()));
        m.insert("step_up".into(), json!(due));
    }
    let mut tx = db.begin().await?;
    audit::append(&mut tx, now, &me.actor(), refused.failed().meta(meta)).await?;
    tx.commit().await?;
    Err(refusal)
}

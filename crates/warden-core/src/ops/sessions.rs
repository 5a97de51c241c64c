//! Sessions as their holders use them: creation under the concurrent limit (for the sign-in), validation
//! by token with absolute, idle and sliding expiry, and the end-user door's own list and revocations.
//! The token is 256 random bits handed to the client once; only its SHA-256 is stored. Revocation marks
//! rows and never deletes them: the timeline and the audit need them.

use serde_json::json;
use uuid::Uuid;

use crate::model::audit::Record;
use crate::model::authz::Actor;
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::{OnLimit, Policy, SessionLimits};
use crate::model::policy_version::PolicyHistory;
use crate::model::secret::Secret;
pub use crate::model::session::{ClientInfo, SessionRow, SessionView};
pub use crate::model::user::Authenticated;
use crate::model::user::UserRow;
use crate::model::vocab::AuditAction;
use crate::model::vocab::{AuthMethod, RevokeReason, SessionStatus};
use crate::ops::detection;
use crate::rules::session::{self as rules, Validation};
use crate::rules::token::{hash_token, new_token};
use crate::rules::useragent;
use crate::store::{audit, policy_versions, sessions, users, Db, Tx};

/// One session by id.
pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<SessionRow>> {
    sessions::by_id(db, id).await
}

/// Creates a session for `user` inside `tx`, enforcing the concurrent limit of the user's policy
/// (ordinary or privileged): `reject` answers `session_limit_reached`, `evict_oldest` ends the oldest
/// live sessions (reason `evicted`, audited). Returns the session and its token (shown once).
pub(crate) async fn create(
    tx: &mut Tx,
    now: Millis,
    user: &UserRow,
    policy: &Policy,
    auth_method: AuthMethod,
    info: &ClientInfo,
) -> Result<(SessionRow, Secret)> {
    let privileged = user.role().is_privileged();
    let limits: SessionLimits = policy.session_limits(privileged);
    let live = sessions::live_ids(tx, policy, user.id, now).await?;
    let max = limits.max_concurrent as usize;
    if live.len() >= max {
        match limits.on_limit {
            OnLimit::Reject => {
                return Err(Error::SessionLimitReached {
                    limit: limits.max_concurrent,
                })
            }
            OnLimit::EvictOldest => {
                let system = Actor::system();
                for id in &live[..live.len() + 1 - max] {
                    if sessions::end(tx, now, *id, RevokeReason::Evicted, None).await? {
                        audit::append(
                            tx,
                            now,
                            &system,
                            Record::new(AuditAction::SessionEvicted)
                                .user(user.id)
                                .session(*id)
                                .meta(json!({ "max_concurrent": limits.max_concurrent })),
                        )
                        .await?;
                    }
                }
            }
        }
    }
    let token = new_token();
    let agent = useragent::parse(info.user_agent.as_deref());
    let row = SessionRow {
        id: Uuid::now_v7(),
        user_id: user.id,
        created_at: now,
        last_seen_at: now,
        refreshed_at: now,
        expires_at: rules::initial_expiry(now, &limits),
        authenticated_at: now,
        ip: info.ip.clone(),
        user_agent: info.user_agent.as_ref().map(|s| s.chars().take(512).collect()),
        device: agent.device,
        browser: agent.browser,
        browser_version: agent.browser_version,
        os: agent.os,
        // Country codes are stored upper case (`de` from a proxy header is `DE`), so filters match exactly.
        country: info
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase),
        city: info.city.clone(),
        auth_method: auth_method.as_str().to_owned(),
        client: info.client.clone(),
        privileged,
        elevated_until: None,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    };
    sessions::insert(tx, &row, &hash_token(token.expose())).await?;
    sessions::event(
        tx,
        row.id,
        user.id,
        now,
        "created",
        row.ip.as_deref(),
        Some(auth_method.as_str()),
    )
    .await?;
    Ok((row, token))
}

/// Validates a token under the policy in force now: one statement reads the session, its user and the
/// policy version. Writes only when a refresh or a coarse last-seen update is due, or when the session is
/// found expired (then it is ended with its reason). Any failure — garbage, unknown, revoked, expired,
/// disabled user — answers `unauthenticated`.
pub async fn validate(db: &Db, now: Millis, token: &Secret, info: &ClientInfo) -> Result<Authenticated> {
    let t = token.expose();
    if t.is_empty() || t.len() > 256 {
        return Err(Error::Unauthenticated);
    }
    let Some((mut session, user, policy_version)) = sessions::by_token(db, &hash_token(t)).await? else {
        return Err(Error::Unauthenticated);
    };
    if session.revoked_at.is_some() {
        return Err(Error::Unauthenticated);
    }
    let policy = db.policy_version(policy_version).await?;
    let limits = policy.session_limits(session.privileged);
    match rules::validate_session(&rules::times_of(&session), &limits, now) {
        Validation::Invalid(_) => {
            let history = policy_versions::history(db).await?;
            let mut tx = db.begin().await?;
            if let Some(end) = end_by_rule(&mut tx, now, &history, &session).await? {
                audit_rule_ends(&mut tx, now, &[end]).await?;
            }
            tx.commit().await?;
            Err(Error::Unauthenticated)
        }
        Validation::Valid { refreshed, touch } => {
            if user.disabled_at.is_some() {
                return Err(Error::Unauthenticated);
            }
            let ip_changed = matches!((&info.ip, &session.ip), (Some(new), Some(old)) if new != old);
            if touch || ip_changed {
                let mut tx = db.begin().await?;
                let (refreshed_at, expires_at) = refreshed
                    .map(|r| (r.refreshed_at, r.expires_at))
                    .unwrap_or((session.refreshed_at, session.expires_at));
                let ip = if ip_changed {
                    info.ip.clone()
                } else {
                    session.ip.clone()
                };
                // The user's row first, then the session's: the order in which a sign-in (which holds the
                // user's row while it evicts sessions) takes them, so the two never wait on each other.
                users::set_last_active(&mut tx, user.id, now).await?;
                if !sessions::touch(&mut tx, session.id, now, refreshed_at, expires_at, ip.as_deref()).await? {
                    // Revoked between the read and this write: the revocation wins.
                    return Err(Error::Unauthenticated);
                }
                if refreshed.is_some() {
                    sessions::event(&mut tx, session.id, user.id, now, "refreshed", ip.as_deref(), None).await?;
                }
                if ip_changed {
                    let detail = format!("from {}", session.ip.as_deref().unwrap_or("?"));
                    sessions::event(
                        &mut tx,
                        session.id,
                        user.id,
                        now,
                        "ip_changed",
                        ip.as_deref(),
                        Some(&detail),
                    )
                    .await?;
                }
                tx.commit().await?;
                session.last_seen_at = now;
                session.refreshed_at = refreshed_at;
                session.expires_at = expires_at;
                session.ip = ip;
            }
            Ok(Authenticated::verified(session, user))
        }
    }
}

/// A session a rule ended, as recorded: which, whose, why and when it really ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleEnd {
    session: Uuid,
    user: Uuid,
    reason: RevokeReason,
    at: Millis,
}

/// Records on its row and timeline that a rule ended `session` (found at `now`, no longer valid): at the
/// instant it really ended, judged by the policy in force at each moment of its life (`history`), not
/// at `now`. `None` when someone ended it meanwhile. The audit record is the caller's to append, last,
/// with [`audit_rule_ends`]: the audit head is the last lock an operation takes.
pub(crate) async fn end_by_rule(
    tx: &mut Tx,
    now: Millis,
    history: &PolicyHistory,
    session: &SessionRow,
) -> Result<Option<RuleEnd>> {
    let (at, rule) = rules::rule_end_in(&rules::times_of(session), session.privileged, history);
    let at = at.min(now);
    let Some(reason) = RevokeReason::of_rule(rule) else {
        return Ok(None);
    };
    let ended = sessions::end(tx, at, session.id, reason, None).await?;
    Ok(ended.then_some(RuleEnd {
        session: session.id,
        user: session.user_id,
        reason,
        at,
    }))
}

/// Records the end of each of a user's sessions that a rule has ended but nobody has marked yet, so that
/// a revocation that follows never claims a session that had already ended (it would be a false "ended
/// by an administrator" on every screen). Audit them with [`audit_rule_ends`] once the operation's own
/// changes are written.
pub(crate) async fn settle_rule_ends(tx: &mut Tx, now: Millis, user_id: Uuid) -> Result<Vec<RuleEnd>> {
    let (_, policy) = policy_versions::current_tx(tx).await?;
    let unrevoked = sessions::unrevoked_of_user(tx, user_id).await?;
    let over: Vec<&SessionRow> = unrevoked
        .iter()
        .filter(|s| rules::status_of(s, &policy, now) != SessionStatus::Active)
        .collect();
    if over.is_empty() {
        return Ok(Vec::new());
    }
    let history = policy_versions::history_tx(tx).await?;
    let mut ends = Vec::with_capacity(over.len());
    for s in over {
        ends.extend(end_by_rule(tx, now, &history, s).await?);
    }
    Ok(ends)
}

/// One `session.ended` audit record per session a rule ended, by the system, at `now` (when it was
/// found), with the rule and the instant it really ended.
pub(crate) async fn audit_rule_ends(tx: &mut Tx, now: Millis, ends: &[RuleEnd]) -> Result<()> {
    for e in ends {
        audit::append(
            tx,
            now,
            &Actor::system(),
            Record::new(AuditAction::SessionEnded)
                .user(e.user)
                .session(e.session)
                .meta(json!({ "reason": e.reason.as_str(), "ended_at": e.at })),
        )
        .await?;
    }
    Ok(())
}

/// At most this many of a user's sessions in one list of their own.
pub const OWN_LIST_LIMIT: u32 = 1000;

/// The caller's own sessions (the end-user door), newest first, the current one marked: the live ones,
/// or with `include_ended` every one (at most [`OWN_LIST_LIMIT`]) with its status. Sessions a rule has
/// ended but nobody has marked yet are recorded first (with when they really ended, and audited), so
/// each ended session carries its stored end.
pub async fn list_own(db: &Db, now: Millis, me: &Authenticated, include_ended: bool) -> Result<Vec<SessionView>> {
    let (_, policy) = policy_versions::current(db).await?;
    if !include_ended {
        let rows = sessions::of_user(db, me.user.id, Some((&policy, now)), OWN_LIST_LIMIT).await?;
        return Ok(rows
            .iter()
            .map(|s| rules::view(s, &policy, now, Some(me.session.id)))
            .filter(|v| v.status == SessionStatus::Active)
            .collect());
    }
    let mut rows = sessions::of_user(db, me.user.id, None, OWN_LIST_LIMIT).await?;
    // A look writes nothing unless some session is over and unmarked.
    let unmarked =
        |s: &SessionRow| s.revoked_at.is_none() && rules::status_of(s, &policy, now) != SessionStatus::Active;
    if rows.iter().any(unmarked) {
        settle_own(db, now, me.user.id).await?;
        rows = sessions::of_user(db, me.user.id, None, OWN_LIST_LIMIT).await?;
    }
    Ok(rows
        .iter()
        .map(|s| rules::view(s, &policy, now, Some(me.session.id)))
        .collect())
}

/// One of the caller's own sessions, live or ended, with its status. Unknown ids and other users' ids
/// both answer `session_not_found`, revealing nothing.
pub async fn own(db: &Db, now: Millis, me: &Authenticated, id: Uuid) -> Result<SessionView> {
    let (_, policy) = policy_versions::current(db).await?;
    let found = sessions::by_id(db, id).await?.filter(|s| s.user_id == me.user.id);
    let Some(mut session) = found else {
        return Err(Error::SessionNotFound);
    };
    if session.revoked_at.is_none() && rules::status_of(&session, &policy, now) != SessionStatus::Active {
        settle_own(db, now, me.user.id).await?;
        session = sessions::by_id(db, id).await?.ok_or(Error::SessionNotFound)?;
    }
    Ok(rules::view(&session, &policy, now, Some(me.session.id)))
}

/// Records, and audits, the end of each of the user's sessions a rule has ended unmarked.
async fn settle_own(db: &Db, now: Millis, user_id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let ended = settle_rule_ends(&mut tx, now, user_id).await?;
    audit_rule_ends(&mut tx, now, &ended).await?;
    tx.commit().await
}

/// Ends one of the caller's own sessions. Unknown ids, other users' ids and already-ended sessions all
/// answer `session_not_found`, revealing nothing. Ending a session other than the current one through a
/// session whose flagged sign-in asks for a step-up answers `reauth_required` (audited as a failed
/// `session.revoked`); ending the current one — signing out — is always allowed.
pub async fn revoke_own(db: &Db, now: Millis, me: &Authenticated, id: Uuid) -> Result<()> {
    if id != me.session.id {
        let refused = Record::new(AuditAction::SessionRevoked)
            .user(me.user.id)
            .session(id)
            .meta(json!({ "by": "owner" }));
        detection::require_step_up(db, now, me, refused).await?;
    }
    let actor = me.actor();
    let mut tx = db.begin().await?;
    let ended = settle_rule_ends(&mut tx, now, me.user.id).await?;
    let found = sessions::owner_of_unrevoked(&mut tx, id).await? == Some(me.user.id);
    if found {
        let reason = if id == me.session.id {
            RevokeReason::UserLogout
        } else {
            RevokeReason::UserRevoked
        };
        sessions::end(&mut tx, now, id, reason, Some(&me.user.email)).await?;
    }
    audit_rule_ends(&mut tx, now, &ended).await?;
    let rec = Record::new(AuditAction::SessionRevoked).user(me.user.id).session(id);
    // Unknown, someone else's or already ended: one answer and one audit record for all three.
    let rec = if found {
        rec.meta(json!({ "by": "owner", "current": id == me.session.id }))
    } else {
        rec.failed()
            .meta(json!({ "by": "owner", "error": "session_not_found" }))
    };
    audit::append(&mut tx, now, &actor, rec).await?;
    tx.commit().await?;
    if found {
        Ok(())
    } else {
        Err(Error::SessionNotFound)
    }
}

/// Ends all of the caller's sessions but the current one; returns how many were ended. Through a
/// session whose flagged sign-in asks for a step-up, `reauth_required` (audited as a failed
/// `session.others_revoked`).
pub async fn revoke_others(db: &Db, now: Millis, me: &Authenticated) -> Result<u64> {
    let refused = Record::new(AuditAction::SessionOthersRevoked).user(me.user.id);
    detection::require_step_up(db, now, me, refused).await?;
    let actor = me.actor();
    let mut tx = db.begin().await?;
    let ended = settle_rule_ends(&mut tx, now, me.user.id).await?;
    let ids = sessions::unrevoked_ids(&mut tx, me.user.id, Some(me.session.id)).await?;
    let mut n = 0;
    for id in &ids {
        if sessions::end(&mut tx, now, *id, RevokeReason::UserRevoked, Some(&me.user.email)).await? {
            n += 1;
        }
    }
    audit_rule_ends(&mut tx, now, &ended).await?;
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::SessionOthersRevoked)
            .user(me.user.id)
            .meta(json!({ "count": n })),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Signs out: ends the current session.
pub async fn sign_out(db: &Db, now: Millis, me: &Authenticated) -> Result<()> {
    revoke_own(db, now, me, me.session.id).await
}

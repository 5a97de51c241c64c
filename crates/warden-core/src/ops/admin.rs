//! The admin API: what the console and the CLI call. Queries are keyset-paged (no deep OFFSET, no COUNT
//! per page); every command checks the actor's permission, takes a reason and writes its audit event in
//! the same transaction as the change.

use uuid::Uuid;

use crate::model::audit::{check_limit, AuditFilter, Record};
use crate::model::authz::{Actor, Permission, Staff};
use crate::model::clock::{Millis, DAY};
use crate::model::error::{Error, Result};
use crate::model::policy::Policy;
use crate::model::session::SessionRow;
pub use crate::model::session::{SessionCount, SessionListItem, SessionQuery, SessionSort, SessionsPage};
use crate::model::session_filter::SessionFilter;
pub use crate::model::user::{LockView, UserDetail, UserQuery, UserSort, UserSummary, UsersPage};
use crate::model::user::{UserRow, UserView};
use crate::model::vocab::{AuditAction, RevokeReason};
use crate::ops::sessions as user_sessions;
use crate::rules::lockout;
use crate::rules::session as session_rules;
use crate::store::{audit, backup_codes, mail_outbox, policy_versions, session_filter, sessions, users, Db};
use serde_json::json;

pub const MAX_PAGE: u32 = 500;

pub(crate) fn require_reason(reason: &str) -> Result<&str> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Error::invalid(
            "reason",
            "a reason is required: say why, for the audit log",
        ));
    }
    if r.chars().count() > 500 {
        return Err(Error::invalid("reason", "must be at most 500 characters"));
    }
    if r.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid("reason", "must not contain control characters"));
    }
    Ok(r)
}

/// Privileged actions need an authentication newer than the policy's `privileged.reauth_after`.
pub(crate) async fn require_fresh(db: &Db, actor: &Actor, now: Millis) -> Result<()> {
    let (_, policy) = policy_versions::current(db).await?;
    actor.require_fresh(now, policy.privileged.reauth_after.as_millis())
}

/// A keyset cursor `<sort key>:<uuid>`, as every page here returns it; `after` names the field.
pub(crate) fn parse_cursor(c: &str) -> Result<(i64, Uuid)> {
    let bad = || Error::invalid("after", "is not a cursor returned by a previous page");
    let (k, id) = c.split_once(':').ok_or_else(bad)?;
    Ok((k.parse().map_err(|_| bad())?, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// A page of users matching the query. Needs ViewUsers.
pub async fn users_page(db: &Db, staff: &Staff, q: &UserQuery, now: Millis) -> Result<UsersPage> {
    let actor = staff.actor();
    actor.require(Permission::ViewUsers)?;
    let limit = check_limit(q.limit)?;
    let search = match q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let s = s.to_lowercase();
            if s.chars().count() > 254 {
                return Err(Error::invalid("search", "must be at most 254 characters"));
            }
            Some(s)
        }
        None => None,
    };
    let after = q.after.as_deref().map(parse_cursor).transpose()?;
    let (rows, next_cursor) = users::page(db, q, search.as_deref(), after, limit, now).await?;
    let (_, policy) = policy_versions::current(db).await?;
    let counts = sessions::live_counts(db, &policy, &rows.iter().map(|u| u.id).collect::<Vec<_>>(), now).await?;
    let users = rows
        .iter()
        .map(|u| UserSummary {
            user: lockout::user_view(u, now),
            active_sessions: counts.iter().find(|(id, _)| *id == u.id).map(|(_, n)| *n).unwrap_or(0),
        })
        .collect();
    Ok(UsersPage { users, next_cursor })
}

pub async fn user_detail(db: &Db, staff: &Staff, ident: &str, now: Millis) -> Result<UserDetail> {
    let actor = staff.actor();
    actor.require(Permission::ViewUsers)?;
    let user = users::find(db, ident).await?;
    let (_, policy) = policy_versions::current(db).await?;
    let sessions = sessions::of_user(db, user.id, None, 200).await?;
    let recent = audit::list(
        db,
        &AuditFilter {
            target_user: Some(user.id),
            ..Default::default()
        },
        None,
        20,
    )
    .await?;
    let view = lockout::user_view(&user, now);
    let lock = match view.locked {
        true => Some(lock_view(db, &user, &view).await?),
        false => None,
    };
    let undelivered_mail = mail_outbox::undelivered(db, Some(user.id), now - 7 * DAY, 20).await?;
    Ok(UserDetail {
        user: view,
        lock,
        undelivered_mail,
        sessions: sessions
            .iter()
            .map(|s| session_rules::view(s, &policy, now, actor.session_id))
            .collect(),
        recent_activity: recent.events,
    })
}

/// The lockout card of a locked user: the row's lock (its one end) and, from the lock's audit record,
/// the failures that caused it and where the last one came from.
async fn lock_view(db: &Db, user: &UserRow, view: &UserView) -> Result<LockView> {
    let locked = audit::list(
        db,
        &AuditFilter {
            target_user: Some(user.id),
            action: Some(AuditAction::UserLocked.as_str().to_owned()),
            ..Default::default()
        },
        None,
        1,
    )
    .await?;
    let meta: serde_json::Value = locked
        .events
        .first()
        .and_then(|e| serde_json::from_str(&e.metadata).ok())
        .unwrap_or_default();
    Ok(LockView {
        since: user.last_locked_at,
        until: view.locked_until,
        permanent: view.locked_permanently,
        failures: meta["failures"].as_i64(),
        ip: meta["ip"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| user.last_failed_ip.clone()),
        lock_count: user.lock_count,
    })
}

/// Sessions across users (or of one user) matching a filter, keyset-paged. Needs ViewSessions.
pub async fn sessions_page(db: &Db, staff: &Staff, q: &SessionQuery, now: Millis) -> Result<SessionsPage> {
    let actor = staff.actor();
    actor.require(Permission::ViewSessions)?;
    let limit = check_limit(q.limit)?;
    let (_, policy) = policy_versions::current(db).await?;
    let cond = session_filter::cond(&q.filter, db, &policy, now).await?;
    let after = q.after.as_deref().map(parse_cursor).transpose()?;
    let (rows, next_cursor) = sessions::page(db, cond, q.sort, after, limit).await?;
    Ok(SessionsPage {
        sessions: list_items(db, &policy, &rows, now, actor.session_id).await?,
        next_cursor,
    })
}

/// Sessions with their users' emails (one query for the page's users).
pub(crate) async fn list_items(
    db: &Db,
    policy: &Policy,
    rows: &[SessionRow],
    now: Millis,
    current: Option<Uuid>,
) -> Result<Vec<SessionListItem>> {
    let mut ids: Vec<Uuid> = rows.iter().map(|s| s.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let emails = users::emails(db, &ids).await?;
    Ok(rows
        .iter()
        .map(|s| SessionListItem {
            view: session_rules::view(s, policy, now, current),
            user_email: emails
                .iter()
                .find(|(id, _)| *id == s.user_id)
                .map(|(_, e)| e.clone())
                .unwrap_or_default(),
        })
        .collect())
}

/// How many sessions, and of how many users, match a filter ("select all N matching"). Needs ViewSessions.
pub async fn count_sessions(db: &Db, staff: &Staff, filter: &SessionFilter, now: Millis) -> Result<SessionCount> {
    let actor = staff.actor();
    actor.require(Permission::ViewSessions)?;
    let (_, policy) = policy_versions::current(db).await?;
    sessions::count_where(db, session_filter::cond(filter, db, &policy, now).await?).await
}

/// Ends one session. Unknown ids answer `session_not_found`; an already-ended session is reported, not
/// re-ended. Needs RevokeUserSessions.
pub async fn revoke_session(db: &Db, staff: &Staff, now: Millis, id: Uuid, reason: &str) -> Result<bool> {
    let actor = staff.actor();
    actor.require(Permission::RevokeUserSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let Some(session) = sessions::by_id(db, id).await? else {
        let mut tx = db.begin().await?;
        let rec = Record::new(AuditAction::SessionRevoked)
            .failed()
            .session(id)
            .reason(reason)
            .meta(json!({ "error": "session_not_found" }));
        audit::append(&mut tx, now, actor, rec).await?;
        tx.commit().await?;
        return Err(Error::SessionNotFound);
    };
    let owner = users::by_id(db, session.user_id).await?.ok_or(Error::SessionNotFound)?;
    actor.require_over_sessions_of(owner.id, owner.role())?;
    let mut tx = db.begin().await?;
    let settled = user_sessions::settle_rule_ends(&mut tx, now, owner.id).await?;
    let ended = sessions::end(&mut tx, now, id, RevokeReason::Admin, Some(&actor.label)).await?;
    user_sessions::audit_rule_ends(&mut tx, now, &settled).await?;
    let rec = Record::new(AuditAction::SessionRevoked)
        .user(session.user_id)
        .session(id)
        .reason(reason)
        .meta(json!({ "already_ended": !ended }));
    audit::append(&mut tx, now, actor, rec).await?;
    tx.commit().await?;
    Ok(ended)
}

/// Ends every live session of a user; returns how many. Needs RevokeUserSessions.
pub async fn revoke_user_sessions(db: &Db, staff: &Staff, now: Millis, user_ident: &str, reason: &str) -> Result<u64> {
    let actor = staff.actor();
    actor.require(Permission::RevokeUserSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let user = users::find(db, user_ident).await?;
    actor.require_over_sessions_of(user.id, user.role())?;
    let mut tx = db.begin().await?;
    let settled = user_sessions::settle_rule_ends(&mut tx, now, user.id).await?;
    let ids = sessions::unrevoked_ids(&mut tx, user.id, None).await?;
    let mut n = 0;
    for id in ids {
        if sessions::end(&mut tx, now, id, RevokeReason::Admin, Some(&actor.label)).await? {
            n += 1;
        }
    }
    user_sessions::audit_rule_ends(&mut tx, now, &settled).await?;
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new(AuditAction::UserSessionsRevoked)
            .user(user.id)
            .reason(reason)
            .meta(json!({ "count": n })),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Clears a user's lock and failure count. Needs UnlockUser. Unlocking a user who is not locked is
/// allowed (it clears the failure count) and says so in the audit metadata.
pub async fn unlock_user(db: &Db, staff: &Staff, now: Millis, user_ident: &str, reason: &str) -> Result<UserView> {
    let actor = staff.actor();
    actor.require(Permission::UnlockUser)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let user = users::find(db, user_ident).await?;
    actor.require_over(user.role())?;
    let mut tx = db.begin().await?;
    let user = users::by_id_tx(&mut tx, user.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(user_ident.to_owned()))?;
    let before = lockout::state_of(&user);
    let was_locked = lockout::current_lock(&before, now).is_some();
    let after = lockout::unlock(&before);
    users::store_lockout(&mut tx, user.id, &after, now).await?;
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new(AuditAction::UserUnlocked)
            .user(user.id)
            .reason(reason)
            .meta(json!({
                "was_locked": was_locked,
                "was_permanent": before.locked_permanently,
                "failed_count": before.failed_count,
                "lock_count": before.lock_count,
            })),
    )
    .await?;
    tx.commit().await?;
    let user = users::by_id(db, user.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(user_ident.to_owned()))?;
    Ok(lockout::user_view(&user, now))
}

/// Switches a user's two-factor off and deletes their secret and backup codes, so they can enrol again.
/// Needs ResetTotp.
pub async fn reset_totp(db: &Db, staff: &Staff, now: Millis, user_ident: &str, reason: &str) -> Result<UserView> {
    let actor = staff.actor();
    actor.require(Permission::ResetTotp)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let user = users::find(db, user_ident).await?;
    actor.require_over(user.role())?;
    let mut tx = db.begin().await?;
    users::clear_totp(&mut tx, user.id, now, None).await?;
    backup_codes::replace(&mut tx, user.id, &[]).await?;
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new(AuditAction::UserTotpReset)
            .user(user.id)
            .reason(reason)
            .meta(json!({ "was_enabled": user.totp_enabled_at.is_some() })),
    )
    .await?;
    tx.commit().await?;
    let user = users::by_id(db, user.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(user_ident.to_owned()))?;
    Ok(lockout::user_view(&user, now))
}

//! The users and sessions of a library's auth database that Warden adopted (Better Auth, Auth.js): find
//! them, and act on them in the library's own terms (end a session or all of a user's, ban and lift a
//! ban, reset two-factor), so that the application, unchanged, obeys on its next request. Each action
//! checks the actor, takes a reason, and writes its change, the ended sessions' copies and its audit
//! event in one transaction. In the audit log a subject is the name-based id
//! [`crate::model::library::subject_uuid`] of its library id, which the event's metadata carries too.

use serde_json::json;

use crate::model::audit::{check_limit, Record};
use crate::model::authz::{Permission, Role, Staff};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::library::{subject_uuid, LibrarySchema, SubjectKind};
pub use crate::model::library::{
    AddressShare, EndedSession, SubjectDetail, SubjectOverview, SubjectSession, SubjectSessionFilter,
    SubjectSessionRow, SubjectSessionStatus, SubjectSessionsPage, SubjectUser, SubjectUsersPage,
};
use crate::model::session_filter::{SessionFilter, SessionState};
use crate::model::timeline::UserTimeline;
use crate::model::vocab::{AuditAction, RevokeReason};
use crate::ops::admin::{require_fresh, require_reason};
pub use crate::store::subjects::RevokeStyle;
use crate::store::subjects::{self as store, Which};
use crate::store::{audit, Db};

/// A page of the library's users by email, those whose email or name starts with `search`.
pub async fn users_page(
    db: &Db,
    staff: &Staff,
    search: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<SubjectUsersPage> {
    staff.actor().require(Permission::ViewUsers)?;
    let limit = check_limit(limit)?;
    let search = search.map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    if search.as_ref().is_some_and(|s| s.chars().count() > 254) {
        return Err(Error::invalid("search", "must be at most 254 characters"));
    }
    let mut users = store::users_page(db, search.as_deref(), after, limit).await?;
    let next_cursor = if users.len() > limit as usize {
        users.truncate(limit as usize);
        users.last().map(|u| u.email.clone())
    } else {
        None
    };
    Ok(SubjectUsersPage { users, next_cursor })
}

/// The user with this email (any case) or library id.
pub async fn find(db: &Db, staff: &Staff, ident: &str) -> Result<SubjectUser> {
    staff.actor().require(Permission::ViewUsers)?;
    let ident = ident.trim();
    if ident.is_empty() {
        return Err(Error::invalid("user", "give an email or a user id"));
    }
    store::user(db, ident)
        .await?
        .ok_or_else(|| Error::UserNotFound(ident.to_owned()))
}

/// One user with the sessions whose expiry is still ahead.
pub async fn detail(db: &Db, staff: &Staff, ident: &str, now: Millis) -> Result<SubjectDetail> {
    let user = find(db, staff, ident).await?;
    staff.actor().require(Permission::ViewSessions)?;
    let sessions = store::live_sessions_of(db, &user.id, now).await?;
    Ok(SubjectDetail {
        audit_id: subject_uuid(SubjectKind::User, &user.id),
        user,
        sessions,
    })
}

/// The sessions of one user that Warden ended, newest first: each with when and why.
pub async fn ended_sessions(db: &Db, staff: &Staff, ident: &str, limit: u32) -> Result<Vec<EndedSession>> {
    let user = find(db, staff, ident).await?;
    staff.actor().require(Permission::ViewSessions)?;
    store::ended_of(db, &user.id, check_limit(limit)?).await
}

/// Staff of the application (Better Auth's `admin` role) are acted on only by a security admin.
fn require_over(staff: &Staff, user: &SubjectUser) -> Result<()> {
    staff.actor().require_over(if user.is_staff() {
        Role::SecurityAdmin
    } else {
        Role::User
    })
}

fn subject_meta(schema: &LibrarySchema, user: &SubjectUser) -> serde_json::Value {
    json!({
        "library": schema.library.slug(),
        "user": user.id,
        "email": user.email,
    })
}

fn style_name(style: RevokeStyle) -> &'static str {
    match style {
        RevokeStyle::Delete => "deleted",
        RevokeStyle::Expire => "expired",
    }
}

/// Ends one session (by its key, [`SubjectSession::key`]). Needs RevokeUserSessions; a session of
/// the application's staff needs a security admin.
pub async fn revoke_session(
    db: &Db,
    staff: &Staff,
    key: &str,
    reason: &str,
    style: RevokeStyle,
    now: Millis,
) -> Result<SubjectSession> {
    let actor = staff.actor();
    actor.require(Permission::RevokeUserSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let schema = store::schema(db)?;
    let key = key.trim();
    let Some(found) = store::session(db, key).await? else {
        return Err(Error::SessionNotFound);
    };
    let user = store::user(db, &found.user_id)
        .await?
        .ok_or_else(|| Error::UserNotFound(found.user_id.clone()))?;
    require_over(staff, &user)?;
    let mut tx = db.begin().await?;
    let ended = store::end_sessions(&mut tx, schema, Which::Session(key), style).await?;
    let Some(session) = ended.first().cloned() else {
        // Ended by someone else (or by the library) since it was read.
        return Err(Error::SessionNotFound);
    };
    let mut meta = subject_meta(schema, &user);
    meta["session"] = json!(session.key);
    meta["row"] = json!(style_name(style));
    let seq = audit::append(
        &mut tx,
        now,
        actor,
        Record::new(AuditAction::SessionRevoked)
            .reason(reason)
            .user(subject_uuid(SubjectKind::User, &user.id))
            .session(subject_uuid(SubjectKind::Session, &session.key))
            .meta(meta),
    )
    .await?;
    store::record_ended(&mut tx, &ended, now, RevokeReason::Admin, seq).await?;
    tx.commit().await?;
    Ok(session)
}

/// Ends every session of one user ("sign out everywhere"); returns how many rows it ended.
pub async fn revoke_user(
    db: &Db,
    staff: &Staff,
    ident: &str,
    reason: &str,
    style: RevokeStyle,
    now: Millis,
) -> Result<usize> {
    let actor = staff.actor();
    actor.require(Permission::RevokeUserSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let schema = store::schema(db)?;
    let user = find(db, staff, ident).await?;
    require_over(staff, &user)?;
    let mut tx = db.begin().await?;
    let ended = store::end_sessions(&mut tx, schema, Which::User(&user.id), style).await?;
    let mut meta = subject_meta(schema, &user);
    meta["count"] = json!(ended.len());
    meta["row"] = json!(style_name(style));
    let seq = audit::append(
        &mut tx,
        now,
        actor,
        Record::new(AuditAction::UserSessionsRevoked)
            .reason(reason)
            .user(subject_uuid(SubjectKind::User, &user.id))
            .meta(meta),
    )
    .await?;
    store::record_ended(&mut tx, &ended, now, RevokeReason::Admin, seq).await?;
    tx.commit().await?;
    Ok(ended.len())
}

/// Bans one user as Better Auth's admin plugin does (`banned`, `banReason`, `banExpires`), until
/// `until` or for good, and ends every session of theirs. A security admin only. Returns how many
/// sessions it ended.
pub async fn ban(
    db: &Db,
    staff: &Staff,
    ident: &str,
    reason: &str,
    until: Option<Millis>,
    now: Millis,
) -> Result<usize> {
    let admin = staff.admin_for(Permission::BanUsers)?;
    let reason = require_reason(reason)?;
    require_fresh(db, admin.actor(), now).await?;
    if until.is_some_and(|u| u <= now) {
        return Err(Error::invalid("until", "must be in the future"));
    }
    let schema = store::schema(db)?;
    let found = find(db, &admin, ident).await?;
    let mut tx = db.begin().await?;
    let user = store::user_for_update(&mut tx, schema, &found.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(ident.to_owned()))?;
    store::set_ban(&mut tx, schema, &user.id, Some((reason, until)), now).await?;
    let ended = store::end_sessions(&mut tx, schema, Which::User(&user.id), RevokeStyle::Delete).await?;
    let mut meta = subject_meta(schema, &user);
    meta["until"] = json!(until);
    meta["sessions_ended"] = json!(ended.len());
    let seq = audit::append(
        &mut tx,
        now,
        admin.actor(),
        Record::new(AuditAction::UserBanned)
            .reason(reason)
            .user(subject_uuid(SubjectKind::User, &user.id))
            .meta(meta),
    )
    .await?;
    store::record_ended(&mut tx, &ended, now, RevokeReason::Admin, seq).await?;
    tx.commit().await?;
    Ok(ended.len())
}

/// Lifts a ban. A security admin only; a user who is not banned is a clear error, and nothing is
/// written.
pub async fn unban(db: &Db, staff: &Staff, ident: &str, reason: &str, now: Millis) -> Result<()> {
    let admin = staff.admin_for(Permission::BanUsers)?;
    let reason = require_reason(reason)?;
    require_fresh(db, admin.actor(), now).await?;
    let schema = store::schema(db)?;
    let found = find(db, &admin, ident).await?;
    let mut tx = db.begin().await?;
    let user = store::user_for_update(&mut tx, schema, &found.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(ident.to_owned()))?;
    if user.banned != Some(true) {
        return Err(Error::invalid("user", format!("{} is not banned", user.email)));
    }
    store::set_ban(&mut tx, schema, &user.id, None, now).await?;
    let mut meta = subject_meta(schema, &user);
    meta["ban_reason"] = json!(user.ban_reason);
    audit::append(
        &mut tx,
        now,
        admin.actor(),
        Record::new(AuditAction::UserUnbanned)
            .reason(reason)
            .user(subject_uuid(SubjectKind::User, &user.id))
            .meta(meta),
    )
    .await?;
    tx.commit().await
}

/// Turns two-factor off for one user (Better Auth's twoFactor plugin): they sign in with the password
/// alone until they enrol again. Needs ResetTotp; the application's staff need a security admin.
/// Returns whether a secret was there.
pub async fn reset_two_factor(db: &Db, staff: &Staff, ident: &str, reason: &str, now: Millis) -> Result<bool> {
    let actor = staff.actor();
    actor.require(Permission::ResetTotp)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let schema = store::schema(db)?;
    let found = find(db, staff, ident).await?;
    require_over(staff, &found)?;
    let mut tx = db.begin().await?;
    let user = store::user_for_update(&mut tx, schema, &found.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(ident.to_owned()))?;
    let removed = store::reset_two_factor(&mut tx, schema, &user.id).await?;
    let mut meta = subject_meta(schema, &user);
    meta["secret_removed"] = json!(removed);
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new(AuditAction::UserTotpReset)
            .reason(reason)
            .user(subject_uuid(SubjectKind::User, &user.id))
            .meta(meta),
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}

pub use crate::store::subjects::Across;

/// What a bulk end across the library's users did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkEnded {
    /// Live sessions it matched when it began.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matched: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub batches: i64,
    /// Stopped by the caller before the end (what it ended stays ended, each batch with its audit).
    pub cancelled: bool,
}

/// The sessions `filter` takes, as the store reads them: its user found (by email or id), each value
/// checked, and each condition one this schema can answer.
pub async fn across(db: &Db, staff: &Staff, filter: &SubjectSessionFilter) -> Result<Across> {
    // A value given but blank (a script's unset variable) is refused: read as no filter, it would widen
    // a bulk end to everyone.
    let given = |field: &str, v: &Option<String>| -> Result<Option<String>> {
        match v.as_deref().map(str::trim) {
            Some("") => Err(Error::invalid(field, "must not be empty: leave the filter out instead")),
            other => Ok(other.map(str::to_owned)),
        }
    };
    let user_id = match given("user", &filter.user)? {
        Some(u) => Some(match find(db, staff, &u).await {
            Err(Error::UserNotFound(_)) => {
                return Err(Error::invalid("user", format!("no user has the email or id {u}")))
            }
            found => found?.id,
        }),
        None => None,
    };
    let across = Across {
        user_id,
        ip: given("ip", &filter.ip)?,
        created_from: filter.created_from,
        created_to: filter.created_to,
        admins_only: filter.admins_only,
    };
    check_across(&across)?;
    Ok(across)
}

/// A page of the library's sessions across users, newest first (by when they began, or by their
/// expiry where the schema records no start), each with its user's email; `after` is the
/// `next_cursor` of the page before.
pub async fn sessions_page(
    db: &Db,
    staff: &Staff,
    filter: &SubjectSessionFilter,
    status: SubjectSessionStatus,
    after: Option<&str>,
    limit: u32,
    now: Millis,
) -> Result<SubjectSessionsPage> {
    staff.actor().require(Permission::ViewSessions)?;
    let limit = check_limit(limit)?;
    let across = across(db, staff, filter).await?;
    let after = after
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(parse_cursor)
        .transpose()?;
    let mut rows = store::sessions_page(db, &across, status, now, after, limit).await?;
    let schema = store::schema(db)?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|(s, _)| format!("{}|{}", store::page_instant(schema, s), s.key))
    } else {
        None
    };
    Ok(SubjectSessionsPage {
        sessions: rows
            .into_iter()
            .map(|(session, email)| SubjectSessionRow { session, email })
            .collect(),
        next_cursor,
    })
}

/// A cursor of [`sessions_page`]: the last session's instant in the page's order and its key.
fn parse_cursor(c: &str) -> Result<(Millis, &str)> {
    c.split_once('|')
        .and_then(|(at, key)| Some((at.parse::<Millis>().ok()?, key)))
        .filter(|(_, key)| !key.is_empty())
        .ok_or_else(|| Error::invalid("after", "must be the next_cursor of the page before"))
}

/// How many sessions, of how many users, `across` and `status` take now.
pub async fn count(
    db: &Db,
    staff: &Staff,
    across: &Across,
    status: SubjectSessionStatus,
    now: Millis,
) -> Result<(i64, i64)> {
    staff.actor().require(Permission::ViewSessions)?;
    check_across(across)?;
    store::count(db, across, status, now).await
}

/// The filter and status of the console's and the CLI's sessions filters (Warden's own
/// [`SessionFilter`]) on a library's sessions, refusing in words each criterion they cannot answer:
/// the library keeps no country, device, browser, sign-in method, client or activity of a session.
pub fn from_session_filter(
    schema: &LibrarySchema,
    f: &SessionFilter,
) -> Result<(SubjectSessionFilter, SubjectSessionStatus)> {
    let lib = schema.library.name();
    let unanswerable = [
        ("country", f.country.is_some(), "no country"),
        ("device", f.device.is_some(), "no device kind"),
        ("browser", f.browser.is_some(), "no browser"),
        ("os", f.os.is_some(), "no operating system"),
        ("auth_method", f.auth_method.is_some(), "no sign-in method"),
        ("client", f.client.is_some(), "no client"),
        ("idle_for", f.idle_for.is_some(), "no last activity Warden can rely on"),
    ];
    if let Some((field, _, what)) = unanswerable.iter().find(|(_, set, _)| *set) {
        return Err(Error::invalid(
            *field,
            format!("{lib} records {what} for a session, so it cannot filter by it here"),
        ));
    }
    if let Some(ip) = &f.ip {
        if ip.contains('/') {
            return Err(Error::invalid(
                "ip",
                format!("{lib} keeps addresses as text: give one address, such as 203.0.113.7, not a range"),
            ));
        }
    }
    let status = match f.status {
        SessionState::Active => SubjectSessionStatus::Live,
        SessionState::Ended => SubjectSessionStatus::Over,
        SessionState::All => SubjectSessionStatus::All,
    };
    Ok((
        SubjectSessionFilter {
            user: f.user.clone(),
            ip: f.ip.clone(),
            created_from: f.created_from,
            created_to: f.created_to,
            admins_only: f.privileged_only,
        },
        status,
    ))
}

/// How many live sessions, of how many users, `across` would end now: the dry run.
pub async fn count_across(db: &Db, staff: &Staff, across: &Across, now: Millis) -> Result<(i64, i64)> {
    staff.actor().require(Permission::ViewSessions)?;
    check_across(across)?;
    store::count_across(db, across, now).await
}

fn check_across(across: &Across) -> Result<()> {
    if let Some(ip) = &across.ip {
        if ip.trim().parse::<std::net::IpAddr>().is_err() {
            return Err(Error::invalid("ip", "must be one IP address, such as 203.0.113.7"));
        }
    }
    if let (Some(from), Some(to)) = (across.created_from, across.created_to) {
        if from >= to {
            return Err(Error::invalid("created_from", "must be before created_to"));
        }
    }
    Ok(())
}

/// What a bulk end took, in the audit record's words: `everyone`, `ip 203.0.113.7`, or each condition.
fn target(across: &Across) -> String {
    if across.is_everyone() {
        return "everyone".into();
    }
    let mut parts = Vec::new();
    if let Some(ip) = &across.ip {
        parts.push(format!("ip {ip}"));
    }
    if let Some(u) = &across.user_id {
        parts.push(format!("user {u}"));
    }
    if let Some(t) = across.created_from {
        parts.push(format!("created from {}", crate::model::clock::format_ms(t)));
    }
    if let Some(t) = across.created_to {
        parts.push(format!("created before {}", crate::model::clock::format_ms(t)));
    }
    if across.admins_only {
        parts.push("admins only".into());
    }
    parts.join(", ")
}

/// Ends the live sessions `across` takes, across users, in batches of `batch` (1 to 5,000): each batch
/// deletes its rows, copies them to Warden's history and appends a `session.bulk_batch` event in one
/// transaction, and a `session.bulk_revoked` event sums the run up. `progress` hears the running total
/// after each batch; `cancel` returning true stops the run between batches. A security admin only.
#[allow(clippy::too_many_arguments)]
pub async fn end_across(
    db: &Db,
    staff: &Staff,
    across: &Across,
    reason: &str,
    batch: u32,
    now: Millis,
    mut progress: impl FnMut(i64, i64),
    cancel: impl Fn() -> bool,
) -> Result<BulkEnded> {
    let admin = staff.admin_for(Permission::BulkRevokeSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, admin.actor(), now).await?;
    check_across(across)?;
    if !(1..=5_000).contains(&batch) {
        return Err(Error::invalid("batch_size", "must be between 1 and 5000"));
    }
    let schema = store::schema(db)?;
    let (matched, _) = store::count_across(db, across, now).await?;
    let (target, why) = (
        target(across),
        if across.is_everyone() {
            RevokeReason::Emergency
        } else {
            RevokeReason::Bulk
        },
    );
    let mut out = BulkEnded {
        matched,
        ended: 0,
        batches: 0,
        cancelled: false,
    };
    loop {
        if cancel() {
            out.cancelled = true;
            break;
        }
        let mut tx = db.begin().await?;
        let ended = store::end_batch(&mut tx, schema, across, batch, now).await?;
        if ended.is_empty() {
            break;
        }
        out.batches += 1;
        out.ended += ended.len() as i64;
        let users: std::collections::BTreeSet<&str> = ended.iter().map(|s| s.user_id.as_str()).collect();
        let seq = audit::append(
            &mut tx,
            now,
            admin.actor(),
            Record::new(AuditAction::SessionBulkBatch).reason(reason).meta(json!({
                "library": schema.library.slug(),
                "target": target,
                "batch": out.batches,
                "ended": ended.len(),
                "users": users.len(),
                "sessions": ended.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
            })),
        )
        .await?;
        store::record_ended(&mut tx, &ended, now, why, seq).await?;
        tx.commit().await?;
        progress(out.ended, matched);
    }
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        now,
        admin.actor(),
        Record::new(AuditAction::SessionBulkRevoked).reason(reason).meta(json!({
            "library": schema.library.slug(),
            "target": target,
            "matched": out.matched,
            "terminated": out.ended,
            "batches": out.batches,
            "cancelled": out.cancelled,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// What one sweep of [`enforce`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enforced {
    /// The policy version whose caps it applied.
    pub policy_version: i64,
    /// The cap: `session.max_lifetime`, in milliseconds.
    pub max_lifetime_ms: i64,
    /// The cap of the application's staff (Better Auth's `admin` role): `privileged.max_lifetime`.
    pub privileged_max_lifetime_ms: i64,
    /// Live sessions past their cap, ended (their rows deleted, copies in Warden's history).
    pub ended: i64,
    /// Live sessions whose expiry lay beyond their cap, brought forward to it.
    pub shortened: i64,
}

/// Applies the policy's session lifetime caps to the library's sessions, in place: `session.max_lifetime`
/// to everyone's and the shorter `privileged.max_lifetime` to the application's staff's (Better Auth's
/// `admin` role). A live session begun longer ago than its cap is ended as the library ends one, and one
/// whose expiry lies beyond its creation plus its cap has its expiry brought forward to that instant, so
/// the library refuses it when the cap comes even between sweeps. In batches of `batch`, each with its
/// audit event in one transaction. A security admin only (the CLI's `warden enforce`).
pub async fn enforce(db: &Db, staff: &Staff, now: Millis, batch: u32) -> Result<Enforced> {
    let admin = staff.admin_for(Permission::BulkRevokeSessions)?;
    if !(1..=5_000).contains(&batch) {
        return Err(Error::invalid("batch_size", "must be between 1 and 5000"));
    }
    let schema = store::schema(db)?;
    let (version, policy) = crate::store::policy_versions::current(db).await?;
    let mut out = Enforced {
        policy_version: version,
        max_lifetime_ms: policy.session.max_lifetime.as_millis(),
        privileged_max_lifetime_ms: policy.privileged.max_lifetime.as_millis(),
        ended: 0,
        shortened: 0,
    };
    // The staff's shorter cap first (with Better Auth's admin plugin, which gives them their role), then
    // everyone's.
    let mut passes = Vec::new();
    if schema.plugins.admin {
        passes.push((out.privileged_max_lifetime_ms, true));
    }
    passes.push((out.max_lifetime_ms, false));
    for (cap, staff_only) in passes {
        let rule = json!({
            "library": schema.library.slug(),
            "rule": "absolute",
            "policy_version": version,
            "max_lifetime_ms": cap,
            "privileged": staff_only,
        });
        loop {
            let mut tx = db.begin().await?;
            let ended = store::end_past_cap(&mut tx, schema, now - cap, now, batch, staff_only).await?;
            if ended.is_empty() {
                break;
            }
            out.ended += ended.len() as i64;
            let users: std::collections::BTreeSet<&str> = ended.iter().map(|s| s.user_id.as_str()).collect();
            let mut meta = rule.clone();
            meta["ended"] = json!(ended.len());
            meta["users"] = json!(users.len());
            meta["sessions"] = json!(ended.iter().map(|s| s.key.as_str()).collect::<Vec<_>>());
            let seq = audit::append(
                &mut tx,
                now,
                admin.actor(),
                Record::new(AuditAction::SessionEnded).meta(meta),
            )
            .await?;
            store::record_ended(&mut tx, &ended, now, RevokeReason::Absolute, seq).await?;
            tx.commit().await?;
        }
        loop {
            let mut tx = db.begin().await?;
            let n = store::shorten_to_cap(&mut tx, schema, cap, now, batch, staff_only).await?;
            if n == 0 {
                break;
            }
            out.shortened += n as i64;
            let mut meta = rule.clone();
            meta["shortened"] = json!(n);
            audit::append(
                &mut tx,
                now,
                admin.actor(),
                Record::new(AuditAction::SessionBulkBatch).meta(meta),
            )
            .await?;
            tx.commit().await?;
        }
    }
    Ok(out)
}

/// The console's first screen on a library's database: its users and sessions at a glance, and
/// Warden's latest administrative actions. Needs the support or security-admin role.
pub async fn overview(db: &Db, staff: &Staff, now: Millis) -> Result<SubjectOverview> {
    use crate::model::clock::HOUR;
    use crate::model::overview::{HOURS, TOP};
    use crate::ops::overview::{fill_hours, hour_of};
    let actor = staff.actor();
    for p in [Permission::ViewUsers, Permission::ViewSessions, Permission::ViewAudit] {
        actor.require(p)?;
    }
    let first = hour_of(now) - (HOURS as Millis - 1) * HOUR;
    let everyone = Across::everyone();
    // Each part reads the library's tables, which have no index Warden could use for it: they run at
    // once, on connections of their own, so the screen waits for the slowest rather than their sum.
    let ((users, unverified, banned, two_factor, admins), (live_sessions, live_users), begun, addresses, admin_actions) =
        tokio::try_join!(
            store::user_counts(db, now),
            store::count_across(db, &everyone, now),
            store::begun_by_hour(db, first),
            store::top_addresses(db, now, TOP as u32),
            crate::store::overview::admin_actions(db),
        )?;
    let begun = begun.map(|counts| fill_hours(now, &counts));
    let addresses = addresses
        .into_iter()
        .map(|(ip, sessions, users)| AddressShare { ip, sessions, users })
        .collect();
    Ok(SubjectOverview {
        at: now,
        users,
        unverified,
        banned,
        two_factor,
        admins,
        live_sessions,
        live_users,
        begun,
        addresses,
        admin_actions,
    })
}

/// One user's sessions as a timeline over `from`..`to`: the rows in the library's table (live, or kept
/// past their expiry) and those Warden ended, each a bar from its start to its end, with a mark where
/// Warden ended it. The library records no refresh, address change or failed sign-in, so those marks are
/// never there; where its sessions record no start (Auth.js) there is no timeline, and it says so.
pub async fn timeline(
    db: &Db,
    staff: &Staff,
    ident: &str,
    from: Millis,
    to: Millis,
    now: Millis,
) -> Result<UserTimeline> {
    use crate::model::timeline::{MarkKind, SessionOutcome, TimelineMark, TimelineSession, MAX_SESSIONS};
    let user = find(db, staff, ident).await?;
    staff.actor().require(Permission::ViewSessions)?;
    crate::ops::timeline::check_range(from, to)?;
    let schema = store::schema(db)?;
    let limit = MAX_SESSIONS as u32 + 1;
    let rows = store::sessions_of_in(db, &user.id, from, to, limit)
        .await?
        .ok_or_else(|| {
            Error::SchemaIncompatible(format!(
                "{} sessions record no start time, so they cannot be drawn on a timeline",
                schema.library.name()
            ))
        })?;
    let ended = store::ended_in(db, &user.id, from, to, limit).await?;
    let bar = |s: &SubjectSession, ended_at: Option<Millis>, outcome: SessionOutcome, reason: Option<String>| {
        let agent = crate::rules::useragent::parse(s.user_agent.as_deref());
        let created_at = s.created_at.unwrap_or(0);
        TimelineSession {
            id: subject_uuid(SubjectKind::Session, &s.key),
            created_at,
            ended_at,
            outcome,
            revoke_reason: reason,
            revoked_by: None,
            last_seen_at: created_at,
            expires_at: s.expires_at.unwrap_or(created_at),
            device: agent.device,
            browser: agent.browser,
            os: agent.os,
            ip: s.ip.clone(),
            country: None,
            city: None,
            auth_method: format!("through {}", schema.library.name()),
            client: None,
            privileged: user.is_staff(),
            is_current: false,
        }
    };
    // A row kept with its expiry set to now (`--keep-row`) is also in Warden's history: drawn once, as ended.
    let ended_keys: std::collections::HashSet<&str> = ended.iter().map(|e| e.session.key.as_str()).collect();
    let mut sessions: Vec<TimelineSession> = rows
        .iter()
        .filter(|s| !ended_keys.contains(s.key.as_str()))
        .map(|s| match s.expires_at {
            Some(e) if e <= now => bar(s, Some(e), SessionOutcome::Expired, None),
            _ => bar(s, None, SessionOutcome::Live, None),
        })
        .collect();
    // A session Warden ended twice (kept with `--keep-row`, its row deleted later by a ban) is in its
    // history twice: the first end counts. One that had expired before Warden removed its row ends at
    // its expiry.
    let mut first_ends: std::collections::BTreeMap<&str, &EndedSession> = std::collections::BTreeMap::new();
    for e in ended.iter().filter(|e| e.session.created_at.is_some()) {
        let kept = first_ends.entry(e.session.key.as_str()).or_insert(e);
        if e.ended_at < kept.ended_at {
            *kept = e;
        }
    }
    let mut ends = Vec::new();
    for e in first_ends.into_values() {
        match e.session.expires_at {
            Some(exp) if exp < e.ended_at => {
                sessions.push(bar(
                    &e.session,
                    Some(exp),
                    SessionOutcome::Expired,
                    Some(e.reason.clone()),
                ));
            }
            _ => {
                let outcome = SessionOutcome::from_reason(Some(&e.reason));
                sessions.push(bar(&e.session, Some(e.ended_at), outcome, Some(e.reason.clone())));
                ends.push((e.session.key.clone(), e.ended_at, e.reason.clone()));
            }
        }
    }
    sessions.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    let truncated = sessions.len() > MAX_SESSIONS;
    if truncated {
        sessions.drain(..sessions.len() - MAX_SESSIONS);
    }
    let mut marks: Vec<TimelineMark> = ends
        .into_iter()
        .filter(|(_, at, _)| (from..=to).contains(at))
        .filter_map(|(key, at, reason)| {
            let id = subject_uuid(SubjectKind::Session, &key);
            let i = sessions.iter().position(|s| s.id == id)?;
            Some(TimelineMark {
                at,
                kind: MarkKind::Revoked,
                session: u32::try_from(i).ok(),
                ip: None,
                detail: Some(reason),
                until: None,
            })
        })
        .collect();
    marks.sort_by_key(|m| m.at);
    Ok(UserTimeline {
        user_id: subject_uuid(SubjectKind::User, &user.id),
        from,
        to,
        now,
        sessions,
        marks,
        truncated,
    })
}

//! The admin API: what the console and the CLI call. Queries are keyset-paged (no deep OFFSET, no COUNT
//! per page); every command checks the actor's permission, takes a reason and writes its audit event in
//! the same transaction as the change.

use sea_query::{Alias, Cond, Expr, Order, Query, SimpleExpr};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Record};
use crate::authz::{Actor, Permission, Role};
use crate::policy::Policy;
use crate::session_filter::SessionFilter;
use crate::sessions::{self, SessionRow, SessionView};
use crate::store::{build, Db};
use crate::users::{self, UserRow, UserView, USER_COLUMNS};
use crate::{with_db, with_tx, Error, Millis, Result};

pub const MAX_PAGE: u32 = 500;

fn check_limit(limit: u32) -> Result<u32> {
    audit::check_limit(limit)
}

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
async fn require_fresh(db: &Db, actor: &Actor, now: Millis) -> Result<()> {
    let (_, policy) = crate::policy_store::current(db).await?;
    actor.require_fresh(now, policy.privileged.reauth_after.as_millis())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum UserSort {
    /// Newest accounts first.
    #[default]
    Created,
    /// Most recently active first (never-active users last).
    LastActive,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserQuery {
    /// Case-insensitive prefix of the email, of the whole name, or of the name from any later word on
    /// ("lim" and "maria l" both find "Ana Maria Lima").
    pub search: Option<String>,
    pub locked: Option<bool>,
    pub totp: Option<bool>,
    pub verified: Option<bool>,
    pub role: Option<Role>,
    /// With (true) or without (false) an open suspicious-activity flag.
    pub flagged: Option<bool>,
    pub sort: UserSort,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserSummary {
    #[serde(flatten)]
    pub user: UserView,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub active_sessions: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    pub next_cursor: Option<String>,
}

/// A prefix with fewer search terms than this is looked up in the terms; a commoner one is checked row by
/// row while walking the sort order, which finds a page of matches within a few thousand rows.
static DENSE_SEARCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(2_000);

/// Moves the switch between the two ways of searching (tests use 0 to take the row-by-row way always;
/// both ways must answer the same).
#[doc(hidden)]
pub fn set_dense_search_threshold(n: u64) {
    DENSE_SEARCH.store(n, std::sync::atomic::Ordering::Relaxed);
}

fn like_prefix(s: &str) -> String {
    format!("{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The condition "matches the search `s`" (lower case): the email, the name, or the part of the name
/// after a space starts with `s` — the `user_search_terms` of the user. A rare prefix is one index range
/// on those terms; a common one ("e", "ann") would make that range a large join, so it becomes the same
/// test on the row itself, evaluated while the sort index is walked until a page is full.
async fn search_cond(db: &Db, s: &str) -> Result<Cond> {
    let col = |c: &str| Expr::col(Alias::new(c));
    let range = Cond::all()
        .add(col("term").gte(s.to_owned()))
        .add(col("term").lt(format!("{s}\u{10FFFF}")));
    let dense = DENSE_SEARCH.load(std::sync::atomic::Ordering::Relaxed);
    let terms = Query::select()
        .column(Alias::new("user_id"))
        .from(Alias::new("user_search_terms"))
        .cond_where(range)
        .to_owned();
    let mut probe = terms.clone();
    probe.limit(dense.max(1));
    let mut count = Query::select();
    count
        .expr(Expr::col(Alias::new("user_id")).count())
        .from_subquery(probe, Alias::new("probe"));
    let (sql, values) = build(db.backend(), &count);
    let n: i64 = with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?);
    if (n as u64) < dense {
        return Ok(Cond::all().add(col("id").in_subquery(terms)));
    }
    let p = like_prefix(s);
    let after_space = format!("% {p}");
    let like = |c: &str, pat: String| col(c).like(sea_query::LikeExpr::new(pat).escape('\\'));
    Ok(Cond::any()
        .add(like("email", p.clone()))
        .add(like("name_lower", p))
        .add(like("name_lower", after_space)))
}

/// Cursor: `<sort key>:<uuid>`; the sort key is created_at or last_active_at (0 for never).
/// A keyset cursor `<sort key>:<uuid>`, as every page here returns it; `after` names the field.
pub(crate) fn parse_cursor(c: &str) -> Result<(i64, Uuid)> {
    let bad = || Error::invalid("after", "is not a cursor returned by a previous page");
    let (k, id) = c.split_once(':').ok_or_else(bad)?;
    Ok((k.parse().map_err(|_| bad())?, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// A page of users matching the query. Needs ViewUsers.
pub async fn users_page(db: &Db, actor: &Actor, q: &UserQuery, now: Millis) -> Result<UsersPage> {
    actor.require(Permission::ViewUsers)?;
    let limit = check_limit(q.limit)?;
    let col = |c: &str| Expr::col(Alias::new(c));
    let mut cond = Cond::all();
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let s = s.to_lowercase();
        if s.chars().count() > 254 {
            return Err(Error::invalid("search", "must be at most 254 characters"));
        }
        cond = cond.add(search_cond(db, &s).await?);
    }
    if let Some(locked) = q.locked {
        // Spelled out both ways (no NOT over a nullable comparison) so each side can use an index.
        cond = cond.add(if locked {
            // The first term repeats the partial indexes' predicate word for word, so that SQLite (which
            // matches predicates by their terms) uses them too.
            let predicate = match db.backend() {
                crate::store::Backend::Sqlite => "(locked_until IS NOT NULL OR locked_permanently = 1)",
                crate::store::Backend::Postgres => "(locked_until IS NOT NULL OR locked_permanently)",
            };
            Cond::all().add(Expr::cust(predicate)).add(
                Cond::any()
                    .add(col("locked_permanently").eq(true))
                    .add(col("locked_until").gt(now)),
            )
        } else {
            Cond::all().add(col("locked_permanently").eq(false)).add(
                Cond::any()
                    .add(col("locked_until").is_null())
                    .add(col("locked_until").lte(now)),
            )
        });
    }
    if let Some(t) = q.totp {
        cond = cond.add(if t {
            col("totp_enabled_at").is_not_null()
        } else {
            col("totp_enabled_at").is_null()
        });
    }
    if let Some(v) = q.verified {
        cond = cond.add(if v {
            col("email_verified_at").is_not_null()
        } else {
            col("email_verified_at").is_null()
        });
    }
    if let Some(r) = q.role {
        cond = cond.add(col("role").eq(r.as_str()));
    }
    if let Some(f) = q.flagged {
        // The open flags are few and indexed by status: the users holding one, as a semi-join.
        let mut open = Query::select();
        open.column(Alias::new("user_id"))
            .from(Alias::new("flags"))
            .and_where(col("status").eq("open"));
        cond = cond.add(if f {
            col("id").in_subquery(open)
        } else {
            col("id").not_in_subquery(open)
        });
    }
    // Keyset on (key DESC, id DESC). Never-active users have last_active_at 0 and sort last.
    let key: SimpleExpr = match q.sort {
        UserSort::Created => col("created_at").into(),
        UserSort::LastActive => col("last_active_at").into(),
    };
    if let Some(c) = q.after.as_deref() {
        let (k, id) = parse_cursor(c)?;
        cond = cond.add(
            Cond::any()
                .add(Expr::expr(key.clone()).lt(k))
                .add(Cond::all().add(Expr::expr(key.clone()).eq(k)).add(col("id").lt(id))),
        );
    }
    let mut sel = Query::select();
    sel.from(Alias::new("users"));
    for c in USER_COLUMNS.split(", ") {
        sel.column(Alias::new(c.trim()));
    }
    sel.cond_where(cond)
        .order_by_expr(key, Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(u64::from(limit) + 1);
    let (sql, values) = build(db.backend(), &sel);
    let mut rows: Vec<UserRow> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|u| {
            let k = match q.sort {
                UserSort::Created => u.created_at,
                UserSort::LastActive => u.last_active_at.unwrap_or(0),
            };
            format!("{k}:{}", u.id)
        })
    } else {
        None
    };
    let (_, policy) = crate::policy_store::current(db).await?;
    let counts = active_session_counts(db, &policy, &rows.iter().map(|u| u.id).collect::<Vec<_>>(), now).await?;
    let users = rows
        .iter()
        .map(|u| UserSummary {
            user: u.view(now),
            active_sessions: counts.iter().find(|(id, _)| *id == u.id).map(|(_, n)| *n).unwrap_or(0),
        })
        .collect();
    Ok(UsersPage { users, next_cursor })
}

async fn active_session_counts(db: &Db, policy: &Policy, ids: &[Uuid], now: Millis) -> Result<Vec<(Uuid, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .column(Alias::new("user_id"))
        .expr(Expr::col(Alias::new("id")).count())
        .cond_where(sessions::live_cond(policy, now).add(Expr::col(Alias::new("user_id")).is_in(ids.iter().copied())))
        .group_by_col(Alias::new("user_id"));
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// A user's page: profile and lockout card, sessions, recent audit entries about them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserDetail {
    pub user: UserView,
    pub sessions: Vec<SessionView>,
    pub recent_activity: Vec<audit::AuditEvent>,
}

pub async fn user_detail(db: &Db, actor: &Actor, ident: &str, now: Millis) -> Result<UserDetail> {
    actor.require(Permission::ViewUsers)?;
    let user = users::find(db, ident).await?;
    let (_, policy) = crate::policy_store::current(db).await?;
    let sessions = sessions::of_user(db, user.id, None, 200).await?;
    let recent = audit::list_unchecked(
        db,
        &audit::AuditFilter {
            target_user: Some(user.id),
            ..Default::default()
        },
        None,
        20,
    )
    .await?;
    Ok(UserDetail {
        user: user.view(now),
        sessions: sessions
            .iter()
            .map(|s| s.view(&policy, now, actor.session_id))
            .collect(),
        recent_activity: recent.events,
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SessionSort {
    /// Newest sessions first.
    #[default]
    Created,
    /// Most recently seen first.
    LastActive,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionQuery {
    pub filter: SessionFilter,
    pub sort: SessionSort,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    pub limit: u32,
}

/// A session in a list across users: the session and whose it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionListItem {
    #[serde(flatten)]
    pub view: SessionView,
    pub user_email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionsPage {
    pub sessions: Vec<SessionListItem>,
    pub next_cursor: Option<String>,
}

/// Sessions across users (or of one user) matching a filter, keyset-paged. Needs ViewSessions.
pub async fn sessions_page(db: &Db, actor: &Actor, q: &SessionQuery, now: Millis) -> Result<SessionsPage> {
    actor.require(Permission::ViewSessions)?;
    let limit = check_limit(q.limit)?;
    let col = |c: &str| Expr::col(Alias::new(c));
    let (_, policy) = crate::policy_store::current(db).await?;
    let mut cond = q.filter.cond(db, &policy, now).await?;
    let key = match q.sort {
        SessionSort::Created => "created_at",
        SessionSort::LastActive => "last_seen_at",
    };
    if let Some(c) = q.after.as_deref() {
        let (k, id) = parse_cursor(c)?;
        cond = cond.add(
            Cond::any()
                .add(col(key).lt(k))
                .add(Cond::all().add(col(key).eq(k)).add(col("id").lt(id))),
        );
    }
    let mut sel = sessions::select_rows();
    sel.cond_where(cond)
        .order_by(Alias::new(key), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(u64::from(limit) + 1);
    let (sql, values) = build(db.backend(), &sel);
    let mut rows: Vec<SessionRow> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|s| {
            let k = match q.sort {
                SessionSort::Created => s.created_at,
                SessionSort::LastActive => s.last_seen_at,
            };
            format!("{k}:{}", s.id)
        })
    } else {
        None
    };
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
    let emails: Vec<(Uuid, String)> = if ids.is_empty() {
        vec![]
    } else {
        let mut q = Query::select();
        q.from(Alias::new("users"))
            .columns([Alias::new("id"), Alias::new("email")])
            .and_where(Expr::col(Alias::new("id")).is_in(ids));
        let (sql, values) = build(db.backend(), &q);
        with_db!(db, |p| sqlx::query_as_with(&sql, values)
            .persistent(false)
            .fetch_all(p)
            .await?)
    };
    Ok(rows
        .iter()
        .map(|s| SessionListItem {
            view: s.view(policy, now, current),
            user_email: emails
                .iter()
                .find(|(id, _)| *id == s.user_id)
                .map(|(_, e)| e.clone())
                .unwrap_or_default(),
        })
        .collect())
}

/// How many sessions, and of how many users, match a filter ("select all N matching"). Needs ViewSessions.
pub async fn count_sessions(db: &Db, actor: &Actor, filter: &SessionFilter, now: Millis) -> Result<SessionCount> {
    actor.require(Permission::ViewSessions)?;
    let (_, policy) = crate::policy_store::current(db).await?;
    count_where(db, filter.cond(db, &policy, now).await?).await
}

/// How many sessions, and of how many users, meet `cond`.
pub(crate) async fn count_where(db: &Db, cond: Cond) -> Result<SessionCount> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .expr(Expr::col(Alias::new("id")).count())
        .expr(Expr::col(Alias::new("user_id")).count_distinct())
        .cond_where(cond);
    let (sql, values) = build(db.backend(), &q);
    let (sessions, users): (i64, i64) = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?);
    Ok(SessionCount {
        sessions: sessions as u64,
        users: users as u64,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionCount {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub users: u64,
}

/// Ends one session. Unknown ids answer `session_not_found`; an already-ended session is reported, not
/// re-ended. Needs RevokeUserSessions.
pub async fn revoke_session(db: &Db, actor: &Actor, now: Millis, id: Uuid, reason: &str) -> Result<bool> {
    actor.require(Permission::RevokeUserSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let session = sessions::by_id(db, id).await?.ok_or(Error::SessionNotFound)?;
    let owner = users::by_id(db, session.user_id).await?.ok_or(Error::SessionNotFound)?;
    actor.require_over(owner.role())?;
    let mut tx = db.begin().await?;
    let ended = sessions::end(&mut tx, now, id, "admin", Some(&actor.label)).await?;
    let rec = Record::new("session.revoked")
        .user(session.user_id)
        .session(id)
        .reason(reason)
        .meta(json!({ "already_ended": !ended }));
    audit::append(&mut tx, now, actor, rec).await?;
    tx.commit().await?;
    Ok(ended)
}

/// Ends every live session of a user; returns how many. Needs RevokeUserSessions.
pub async fn revoke_user_sessions(db: &Db, actor: &Actor, now: Millis, user_ident: &str, reason: &str) -> Result<u64> {
    actor.require(Permission::RevokeUserSessions)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let user = users::find(db, user_ident).await?;
    actor.require_over(user.role())?;
    let mut tx = db.begin().await?;
    let ids: Vec<Uuid> = with_tx!(&mut tx, |c| sqlx::query_scalar(
        "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL"
    )
    .bind(user.id)
    .fetch_all(c)
    .await?);
    let mut n = 0;
    for id in ids {
        if sessions::end(&mut tx, now, id, "admin", Some(&actor.label)).await? {
            n += 1;
        }
    }
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new("user.sessions_revoked")
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
pub async fn unlock_user(db: &Db, actor: &Actor, now: Millis, user_ident: &str, reason: &str) -> Result<UserView> {
    actor.require(Permission::UnlockUser)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let user = users::find(db, user_ident).await?;
    actor.require_over(user.role())?;
    let mut tx = db.begin().await?;
    let user = users::by_id_tx(&mut tx, user.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(user_ident.to_owned()))?;
    let before = user.lockout();
    let was_locked = crate::rules::current_lock(&before, now).is_some();
    let after = crate::rules::unlock(&before);
    users::store_lockout(&mut tx, user.id, &after, now).await?;
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new("user.unlocked").user(user.id).reason(reason).meta(json!({
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
    Ok(user.view(now))
}

/// Switches a user's two-factor off and deletes their secret and backup codes, so they can enrol again.
/// Needs ResetTotp.
pub async fn reset_totp(db: &Db, actor: &Actor, now: Millis, user_ident: &str, reason: &str) -> Result<UserView> {
    actor.require(Permission::ResetTotp)?;
    let reason = require_reason(reason)?;
    require_fresh(db, actor, now).await?;
    let user = users::find(db, user_ident).await?;
    actor.require_over(user.role())?;
    let mut tx = db.begin().await?;
    with_tx!(&mut tx, |c| {
        sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $2 WHERE id = $1"
    )
    .bind(user.id)
    .bind(now)
    .execute(c)
    .await?.rows_affected()
    });
    crate::auth::replace_backup_codes(&mut tx, user.id, &[]).await?;
    audit::append(
        &mut tx,
        now,
        actor,
        Record::new("user.totp_reset")
            .user(user.id)
            .reason(reason)
            .meta(json!({ "was_enabled": user.totp_enabled_at.is_some() })),
    )
    .await?;
    tx.commit().await?;
    let user = users::by_id(db, user.id)
        .await?
        .ok_or_else(|| Error::UserNotFound(user_ident.to_owned()))?;
    Ok(user.view(now))
}

//! Sessions: creation under the concurrent limit, validation by token with absolute, idle and sliding
//! expiry, and revocation. The token is 256 random bits handed to the client once; only its SHA-256 is
//! stored. Revocation marks rows and never deletes them: the timeline and the audit need them.

use std::net::IpAddr;

use rand::RngCore;
use sea_query::{Alias, Cond, Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{self, Record};
use crate::authz::{Actor, ActorKind};
use crate::policy::{OnLimit, Policy, SessionLimits};
use crate::rules::{self, EndReason, SessionStatus, SessionTimes, Validation};
use crate::store::{build, Db, Tx};
use crate::users::{UserRow, USER_COLUMNS};
use crate::{useragent, with_db, with_tx, Error, Millis, Result, Secret};

/// Where a request comes from, as the door saw it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    /// The application or door (`web`, `console`, `cli`, …).
    pub client: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_seen_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub refreshed_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub expires_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub authenticated_at: Millis,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub device: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub auth_method: String,
    pub client: Option<String>,
    pub privileged: bool,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub elevated_until: Option<Millis>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub revoked_at: Option<Millis>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

pub const SESSION_COLUMNS: &str =
    "id, user_id, created_at, last_seen_at, refreshed_at, expires_at, authenticated_at, ip, \
    user_agent, device, browser, browser_version, os, country, city, auth_method, client, privileged, elevated_until, \
    revoked_at, revoked_by, revoke_reason";

impl SessionRow {
    pub fn times(&self) -> SessionTimes {
        SessionTimes {
            created_at: self.created_at,
            refreshed_at: self.refreshed_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            revoked: self.revoked_at.is_some(),
        }
    }

    pub fn status(&self, policy: &Policy, now: Millis) -> SessionStatus {
        rules::status_at(&self.times(), &policy.session_limits(self.privileged), now)
    }

    pub fn view(&self, policy: &Policy, now: Millis, current: Option<Uuid>) -> SessionView {
        SessionView {
            status: self.status(policy, now),
            is_current: current == Some(self.id),
            session: self.clone(),
        }
    }
}

/// A session as the doors show it: the row, its status now, and whether it is the caller's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionView {
    #[serde(flatten)]
    pub session: SessionRow,
    pub status: SessionStatus,
    pub is_current: bool,
}

/// The SQL condition of a live session under `policy` at `now`: not revoked, not past `expires_at`, not
/// idle longer than the idle timeout and not older than the maximum lifetime of its kind (ordinary or
/// privileged). The same rules as [`rules::validate_session`], so a session counts as live exactly when it
/// would validate.
pub fn live_cond(policy: &Policy, now: Millis) -> Cond {
    let col = |c: &str| Expr::col(Alias::new(c));
    let kind = |privileged: bool| {
        let l = policy.session_limits(privileged);
        Cond::all()
            .add(col("privileged").eq(privileged))
            .add(col("last_seen_at").gte(now.saturating_sub(l.idle_timeout.as_millis())))
            .add(col("created_at").gt(now.saturating_sub(l.max_lifetime.as_millis())))
    };
    Cond::all()
        .add(col("revoked_at").is_null())
        .add(col("expires_at").gt(now))
        .add(Cond::any().add(kind(false)).add(kind(true)))
}

/// Ids of a user's live sessions, oldest first.
async fn live_ids(tx: &mut Tx, policy: &Policy, user_id: Uuid, now: Millis) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .column(Alias::new("id"))
        .cond_where(live_cond(policy, now).add(Expr::col(Alias::new("user_id")).eq(user_id)))
        .order_by(Alias::new("created_at"), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc);
    let (sql, values) = build(tx.backend(), &q);
    Ok(with_tx!(tx, |c| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_all(c)
        .await?))
}

pub fn new_token() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine;
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// An address as the 16 bytes stored in `sessions.ip_key`: IPv6 as is, IPv4 mapped into IPv6
/// (`::ffff:a.b.c.d`), so both families order as their numbers do and a CIDR range is one byte range.
pub fn addr_key(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The `ip_key` of a stored address text; `None` when the text is no address.
pub fn ip_key(ip: Option<&str>) -> Option<Vec<u8>> {
    ip.and_then(|s| s.trim().parse::<IpAddr>().ok())
        .map(|a| addr_key(a).to_vec())
}

/// Fills `ip_key` where a row has an address but no key: rows written before the column existed.
/// Runs after the migration that adds the column; walks by id in batches, so it is safe to repeat.
/// Returns how many rows it filled.
pub async fn backfill_ip_keys(db: &Db) -> Result<u64> {
    const BATCH: i64 = 5_000;
    let mut after = Uuid::nil();
    let mut filled = 0u64;
    loop {
        let rows: Vec<(Uuid, String)> = with_db!(db, |p| sqlx::query_as(
            "SELECT id, ip FROM sessions WHERE ip IS NOT NULL AND ip_key IS NULL AND id > $1 \
             ORDER BY id LIMIT $2"
        )
        .bind(after)
        .bind(BATCH)
        .fetch_all(p)
        .await?);
        let Some((last, _)) = rows.last() else {
            return Ok(filled);
        };
        after = *last;
        let mut tx = db.begin().await?;
        for (id, ip) in &rows {
            let Some(key) = ip_key(Some(ip)) else { continue };
            filled += with_tx!(&mut tx, |c| sqlx::query(
                "UPDATE sessions SET ip_key = $2 WHERE id = $1"
            )
            .bind(id)
            .bind(key)
            .execute(c)
            .await?
            .rows_affected());
        }
        tx.commit().await?;
    }
}

/// A session was ended: record it on the row (if still live) and in its timeline. Returns whether this
/// call ended it (false when it had already ended).
pub(crate) async fn end(tx: &mut Tx, now: Millis, id: Uuid, reason: &str, by: Option<&str>) -> Result<bool> {
    let ended: Option<(Uuid, Option<String>)> = with_tx!(tx, |c| {
        sqlx::query_as(
        "UPDATE sessions SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $1 AND revoked_at IS NULL \
         RETURNING user_id, ip"
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .bind(reason)
    .fetch_optional(c)
    .await?
    });
    let Some((user_id, ip)) = ended else {
        return Ok(false);
    };
    let kind = if matches!(reason, "idle" | "absolute" | "expired") {
        "expired"
    } else {
        "revoked"
    };
    event(tx, id, user_id, now, kind, ip.as_deref(), Some(reason)).await?;
    Ok(true)
}

pub(crate) async fn event(
    tx: &mut Tx,
    session_id: Uuid,
    user_id: Uuid,
    at: Millis,
    kind: &str,
    ip: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    with_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO session_events (session_id, user_id, at, kind, ip, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(at)
        .bind(kind)
        .bind(ip)
        .bind(detail)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Creates a session for `user` inside `tx`, enforcing the concurrent limit of the user's policy
/// (ordinary or privileged): `reject` answers `session_limit_reached`, `evict_oldest` ends the oldest
/// live sessions (reason `evicted`, audited). Returns the session and its token (shown once).
pub(crate) async fn create(
    tx: &mut Tx,
    now: Millis,
    user: &UserRow,
    policy: &Policy,
    auth_method: &str,
    info: &ClientInfo,
) -> Result<(SessionRow, Secret)> {
    let privileged = user.role().is_privileged();
    let limits: SessionLimits = policy.session_limits(privileged);
    let live = live_ids(tx, policy, user.id, now).await?;
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
                    if end(tx, now, *id, "evicted", None).await? {
                        audit::append(
                            tx,
                            now,
                            &system,
                            Record::new("session.evicted")
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
        auth_method: auth_method.to_owned(),
        client: info.client.clone(),
        privileged,
        elevated_until: None,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    };
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, refreshed_at, expires_at, authenticated_at, \
         ip, user_agent, device, browser, browser_version, os, country, city, auth_method, client, privileged, ip_key) \
         VALUES ($1, $2, $3, $4, $4, $4, $5, $4, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    )
    .bind(row.id)
    .bind(row.user_id)
    .bind(hash_token(token.expose()))
    .bind(now)
    .bind(row.expires_at)
    .bind(&row.ip)
    .bind(&row.user_agent)
    .bind(&row.device)
    .bind(&row.browser)
    .bind(&row.browser_version)
    .bind(&row.os)
    .bind(&row.country)
    .bind(&row.city)
    .bind(&row.auth_method)
    .bind(&row.client)
    .bind(row.privileged)
    .bind(ip_key(row.ip.as_deref()))
    .execute(c)
    .await?.rows_affected()
    });
    event(
        tx,
        row.id,
        user.id,
        now,
        "created",
        row.ip.as_deref(),
        Some(auth_method),
    )
    .await?;
    Ok((row, token))
}

/// A validated session and its user.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: SessionRow,
    pub user: UserRow,
}

impl Authenticated {
    /// The actor for actions taken through this session.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id),
            kind: ActorKind::User,
            label: self.user.email.clone(),
            role: self.user.role(),
            authenticated_at: self.session.authenticated_at,
            session_id: Some(self.session.id),
            ip: self.session.ip.clone(),
        }
    }
}

/// One row of the validation query: the session, its user (every column but the id, which is the
/// session's `user_id`, and `created_at`, which is the session's own), and the policy version in force.
#[derive(sqlx::FromRow)]
struct Validating {
    #[sqlx(flatten)]
    session: SessionRow,
    policy_version: i64,
    email: String,
    name: String,
    role: String,
    email_verified_at: Option<Millis>,
    password_hash: String,
    totp_secret: Option<Vec<u8>>,
    totp_enabled_at: Option<Millis>,
    totp_last_step: Option<i64>,
    disabled_at: Option<Millis>,
    user_created_at: Millis,
    updated_at: Millis,
    last_active_at: Option<Millis>,
    failed_count: i64,
    window_started_at: Option<Millis>,
    locked_until: Option<Millis>,
    locked_permanently: bool,
    lock_count: i64,
    last_locked_at: Option<Millis>,
    last_failed_at: Option<Millis>,
    last_failed_ip: Option<String>,
}

impl Validating {
    fn split(self) -> (SessionRow, UserRow, i64) {
        let user = UserRow {
            id: self.session.user_id,
            email: self.email,
            name: self.name,
            role: self.role,
            email_verified_at: self.email_verified_at,
            password_hash: self.password_hash,
            totp_secret: self.totp_secret,
            totp_enabled_at: self.totp_enabled_at,
            totp_last_step: self.totp_last_step,
            disabled_at: self.disabled_at,
            created_at: self.user_created_at,
            updated_at: self.updated_at,
            last_active_at: self.last_active_at,
            failed_count: self.failed_count,
            window_started_at: self.window_started_at,
            locked_until: self.locked_until,
            locked_permanently: self.locked_permanently,
            lock_count: self.lock_count,
            last_locked_at: self.last_locked_at,
            last_failed_at: self.last_failed_at,
            last_failed_ip: self.last_failed_ip,
        };
        (self.session, user, self.policy_version)
    }
}

/// The validation query: one round trip for the session, its user and the policy version in force.
static VALIDATE_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let session_cols: Vec<String> = SESSION_COLUMNS.split(", ").map(|c| format!("s.{}", c.trim())).collect();
    let user_cols: Vec<String> = USER_COLUMNS
        .split(", ")
        .map(str::trim)
        .filter(|c| *c != "id")
        .map(|c| match c {
            "created_at" => "u.created_at AS user_created_at".to_owned(),
            c => format!("u.{c}"),
        })
        .collect();
    format!(
        "SELECT {}, (SELECT COALESCE(MAX(version), 0) FROM policy_versions) AS policy_version, {} \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        session_cols.join(", "),
        user_cols.join(", ")
    )
});

/// Validates a token under the policy in force now: one statement reads the session, its user and the
/// policy version. Writes only when a refresh or a coarse last-seen update is due, or when the session is
/// found expired (then it is ended with its reason). Any failure — garbage, unknown, revoked, expired,
/// disabled user — answers `unauthenticated`.
pub async fn validate(db: &Db, now: Millis, token: &Secret, info: &ClientInfo) -> Result<Authenticated> {
    let t = token.expose();
    if t.is_empty() || t.len() > 256 {
        return Err(Error::Unauthenticated);
    }
    let hash = hash_token(t);
    let found: Option<Validating> = with_db!(db, |p| sqlx::query_as(VALIDATE_SQL.as_str())
        .bind(&hash)
        .fetch_optional(p)
        .await?);
    let Some((mut session, user, policy_version)) = found.map(Validating::split) else {
        return Err(Error::Unauthenticated);
    };
    if session.revoked_at.is_some() {
        return Err(Error::Unauthenticated);
    }
    let policy = db.policy_version(policy_version).await?;
    let limits = policy.session_limits(session.privileged);
    match rules::validate_session(&session.times(), &limits, now) {
        Validation::Invalid(reason) => {
            if reason != EndReason::Revoked {
                let mut tx = db.begin().await?;
                end(&mut tx, now, session.id, reason.as_str(), None).await?;
                tx.commit().await?;
            }
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
                with_tx!(&mut tx, |c| sqlx::query(
                    "UPDATE users SET last_active_at = $2 WHERE id = $1"
                )
                .bind(user.id)
                .bind(now)
                .execute(c)
                .await?
                .rows_affected());
                let updated = with_tx!(&mut tx, |c| {
                    sqlx::query(
                        "UPDATE sessions SET last_seen_at = $2, refreshed_at = $3, expires_at = $4, ip = $5, ip_key = $6 \
                     WHERE id = $1 AND revoked_at IS NULL",
                    )
                    .bind(session.id)
                    .bind(now)
                    .bind(refreshed_at)
                    .bind(expires_at)
                    .bind(&ip)
                    .bind(ip_key(ip.as_deref()))
                    .execute(c)
                    .await?
                    .rows_affected()
                });
                if updated == 0 {
                    // Revoked between the read and this write: the revocation wins.
                    return Err(Error::Unauthenticated);
                }
                if refreshed.is_some() {
                    event(&mut tx, session.id, user.id, now, "refreshed", ip.as_deref(), None).await?;
                }
                if ip_changed {
                    let detail = format!("from {}", session.ip.as_deref().unwrap_or("?"));
                    event(
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
            Ok(Authenticated { session, user })
        }
    }
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(p)
        .await?))
}

/// `SELECT <every SessionRow column> FROM sessions`, to add conditions and an order to.
pub(crate) fn select_rows() -> sea_query::SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new("sessions"));
    for c in SESSION_COLUMNS.split(", ") {
        q.column(Alias::new(c.trim()));
    }
    q
}

/// A user's sessions, newest first: all of them, or with `live` only those live under that policy now.
pub async fn of_user(db: &Db, user_id: Uuid, live: Option<(&Policy, Millis)>, limit: u32) -> Result<Vec<SessionRow>> {
    let mut cond = Cond::all().add(Expr::col(Alias::new("user_id")).eq(user_id));
    if let Some((policy, now)) = live {
        cond = cond.add(live_cond(policy, now));
    }
    let mut q = select_rows();
    q.cond_where(cond)
        .order_by(Alias::new("created_at"), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(u64::from(limit));
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// The caller's own live sessions (the end-user door), the current one marked. Empty is `[]`.
pub async fn list_own(db: &Db, now: Millis, me: &Authenticated) -> Result<Vec<SessionView>> {
    let (_, policy) = crate::policy_store::current(db).await?;
    let rows = of_user(db, me.user.id, Some((&policy, now)), 1000).await?;
    Ok(rows
        .iter()
        .map(|s| s.view(&policy, now, Some(me.session.id)))
        .filter(|v| v.status == SessionStatus::Active)
        .collect())
}

/// Ends one of the caller's own sessions. Unknown ids, other users' ids and already-ended sessions all
/// answer `session_not_found`, revealing nothing.
pub async fn revoke_own(db: &Db, now: Millis, me: &Authenticated, id: Uuid) -> Result<()> {
    let actor = me.actor();
    let mut tx = db.begin().await?;
    let owner: Option<Uuid> = with_tx!(&mut tx, |c| sqlx::query_scalar(
        "SELECT user_id FROM sessions WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .fetch_optional(c)
    .await?);
    if owner != Some(me.user.id) {
        return Err(Error::SessionNotFound);
    }
    let reason = if id == me.session.id {
        "user_logout"
    } else {
        "user_revoked"
    };
    end(&mut tx, now, id, reason, Some(&me.user.email)).await?;
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new("session.revoked")
            .user(me.user.id)
            .session(id)
            .meta(json!({ "by": "owner", "current": id == me.session.id })),
    )
    .await?;
    tx.commit().await
}

/// Ends all of the caller's sessions but the current one; returns how many were ended.
pub async fn revoke_others(db: &Db, now: Millis, me: &Authenticated) -> Result<u64> {
    let actor = me.actor();
    let mut tx = db.begin().await?;
    let ids: Vec<Uuid> = with_tx!(&mut tx, |c| sqlx::query_scalar(
        "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2"
    )
    .bind(me.user.id)
    .bind(me.session.id)
    .fetch_all(c)
    .await?);
    let mut n = 0;
    for id in &ids {
        if end(&mut tx, now, *id, "user_revoked", Some(&me.user.email)).await? {
            n += 1;
        }
    }
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new("session.others_revoked")
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

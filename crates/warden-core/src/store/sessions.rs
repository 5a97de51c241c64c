//! The `sessions` table and its timeline (`session_events`): creation, the validation read, the
//! coarse activity write, ending, and the reads of the sessions screens, the policy preview and the
//! sign-in rules. What "live" means in SQL is here, and it is
//! [`crate::rules::session::validate_session`]'s rule exactly.

use sea_query::{Alias, Cond, Expr, Order, Query};
use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::policy::{Policy, SessionLimits};
use crate::model::policy_version::SessionSimulation;
use crate::model::session::{ip_key, SessionCount, SessionRow, SessionSort};
use crate::model::user::UserRow;
use crate::model::vocab::RevokeReason;
use crate::store::users::USER_COLUMNS;
use crate::store::{build, Db, Tx};
use crate::{with_db, with_tx};

pub const SESSION_COLUMNS: &str =
    "id, user_id, created_at, last_seen_at, refreshed_at, expires_at, authenticated_at, ip, \
    user_agent, device, browser, browser_version, os, country, city, auth_method, client, privileged, elevated_until, \
    revoked_at, revoked_by, revoke_reason";

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
pub async fn live_ids(tx: &mut Tx, policy: &Policy, user_id: Uuid, now: Millis) -> Result<Vec<Uuid>> {
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

/// A session was ended at `at`: record it on the row (if still unrevoked) and in its timeline. `at` is
/// now for a revocation, and the instant a rule ended it for a session found ended later. Returns whether
/// this call ended it (false when it had already ended).
pub async fn end(tx: &mut Tx, at: Millis, id: Uuid, reason: RevokeReason, by: Option<&str>) -> Result<bool> {
    let ended: Option<(Uuid, Option<String>)> = with_tx!(tx, |c| {
        sqlx::query_as(
        "UPDATE sessions SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $1 AND revoked_at IS NULL \
         RETURNING user_id, ip"
    )
    .bind(id)
    .bind(at)
    .bind(by)
    .bind(reason.as_str())
    .fetch_optional(c)
    .await?
    });
    let Some((user_id, ip)) = ended else {
        return Ok(false);
    };
    let kind = if reason.by_rule() { "expired" } else { "revoked" };
    event(tx, id, user_id, at, kind, ip.as_deref(), Some(reason.as_str())).await?;
    Ok(true)
}

pub async fn event(
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

/// Stores a new session row (and its token's hash).
pub async fn insert(tx: &mut Tx, row: &SessionRow, token_hash: &[u8]) -> Result<()> {
    let now = row.created_at;
    with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, refreshed_at, expires_at, authenticated_at, \
         ip, user_agent, device, browser, browser_version, os, country, city, auth_method, client, privileged, ip_key) \
         VALUES ($1, $2, $3, $4, $4, $4, $5, $4, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    )
    .bind(row.id)
    .bind(row.user_id)
    .bind(token_hash)
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
    Ok(())
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

/// The session of a token's hash, its user and the policy version in force, in one round trip.
pub async fn by_token(db: &Db, token_hash: &[u8]) -> Result<Option<(SessionRow, UserRow, i64)>> {
    let found: Option<Validating> = with_db!(db, |p| sqlx::query_as(VALIDATE_SQL.as_str())
        .bind(token_hash)
        .fetch_optional(p)
        .await?);
    Ok(found.map(Validating::split))
}

/// Writes a validated session's activity: `last_seen_at`, the (refreshed) expiry and the address. Only
/// while it is unrevoked: false when a revocation came first (the revocation wins).
pub async fn touch(
    tx: &mut Tx,
    id: Uuid,
    now: Millis,
    refreshed_at: Millis,
    expires_at: Millis,
    ip: Option<&str>,
) -> Result<bool> {
    let updated = with_tx!(tx, |c| sqlx::query(
        "UPDATE sessions SET last_seen_at = $2, refreshed_at = $3, expires_at = $4, ip = $5, ip_key = $6 \
         WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(now)
    .bind(refreshed_at)
    .bind(expires_at)
    .bind(ip)
    .bind(ip_key(ip))
    .execute(c)
    .await?
    .rows_affected());
    Ok(updated == 1)
}

/// Moves a live session's authentication (and activity) to `now`: a re-authentication. False when it
/// has ended.
pub async fn set_authenticated(tx: &mut Tx, id: Uuid, now: Millis) -> Result<bool> {
    let updated = with_tx!(tx, |c| sqlx::query(
        "UPDATE sessions SET authenticated_at = $2, last_seen_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(updated == 1)
}

/// The owner of an unrevoked session.
pub async fn owner_of_unrevoked(tx: &mut Tx, id: Uuid) -> Result<Option<Uuid>> {
    Ok(with_tx!(tx, |c| sqlx::query_scalar(
        "SELECT user_id FROM sessions WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .fetch_optional(c)
    .await?))
}

/// A user's unrevoked sessions, in the write transaction (to find those a rule has ended).
pub async fn unrevoked_of_user(tx: &mut Tx, user_id: Uuid) -> Result<Vec<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL");
    Ok(with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_all(c)
        .await?))
}

/// The ids of a user's unrevoked sessions, but `except`.
pub async fn unrevoked_ids(tx: &mut Tx, user_id: Uuid, except: Option<Uuid>) -> Result<Vec<Uuid>> {
    Ok(match except {
        Some(except) => with_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2"
        )
        .bind(user_id)
        .bind(except)
        .fetch_all(c)
        .await?),
        None => with_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL"
        )
        .bind(user_id)
        .fetch_all(c)
        .await?),
    })
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(p)
        .await?))
}

/// `SELECT <every SessionRow column> FROM sessions`, to add conditions and an order to.
pub fn select_rows() -> sea_query::SelectStatement {
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

/// One page of sessions meeting `cond`, keyset on (sort key, id) descending after `after`: the rows and
/// the cursor of the next page.
pub async fn page(
    db: &Db,
    mut cond: Cond,
    sort: SessionSort,
    after: Option<(i64, Uuid)>,
    limit: u32,
) -> Result<(Vec<SessionRow>, Option<String>)> {
    let col = |c: &str| Expr::col(Alias::new(c));
    let key = match sort {
        SessionSort::Created => "created_at",
        SessionSort::LastActive => "last_seen_at",
    };
    if let Some((k, id)) = after {
        cond = cond.add(
            Cond::any()
                .add(col(key).lt(k))
                .add(Cond::all().add(col(key).eq(k)).add(col("id").lt(id))),
        );
    }
    let mut sel = select_rows();
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
            let k = match sort {
                SessionSort::Created => s.created_at,
                SessionSort::LastActive => s.last_seen_at,
            };
            format!("{k}:{}", s.id)
        })
    } else {
        None
    };
    Ok((rows, next_cursor))
}

/// The newest few sessions meeting `cond`.
pub async fn newest(db: &Db, cond: Cond, limit: u64) -> Result<Vec<SessionRow>> {
    let mut q = select_rows();
    q.cond_where(cond)
        .order_by(Alias::new("created_at"), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(limit);
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// How many sessions, and of how many users, meet `cond`.
pub async fn count_where(db: &Db, cond: Cond) -> Result<SessionCount> {
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

/// How many live sessions each of these users has under `policy` at `now` (users without one are left
/// out).
pub async fn live_counts(db: &Db, policy: &Policy, ids: &[Uuid], now: Millis) -> Result<Vec<(Uuid, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .column(Alias::new("user_id"))
        .expr(Expr::col(Alias::new("id")).count())
        .cond_where(live_cond(policy, now).add(Expr::col(Alias::new("user_id")).is_in(ids.iter().copied())))
        .group_by_col(Alias::new("user_id"));
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
}

/// A user's sessions created after `since` but `except`, newest first, at most `limit`:
/// `(created_at, last_seen_at, country)`, what the detection rules read.
pub async fn recent_places(
    tx: &mut Tx,
    user_id: Uuid,
    since: Millis,
    except: Uuid,
    limit: i64,
) -> Result<Vec<(Millis, Millis, Option<String>)>> {
    Ok(with_tx!(tx, |c| sqlx::query_as(
        "SELECT created_at, last_seen_at, country FROM sessions \
         WHERE user_id = $1 AND created_at > $2 AND id <> $3 ORDER BY created_at DESC LIMIT $4"
    )
    .bind(user_id)
    .bind(since)
    .bind(except)
    .bind(limit)
    .fetch_all(c)
    .await?))
}

fn col(c: &str) -> Expr {
    Expr::col(Alias::new(c))
}

/// Per kind of session (ordinary, privileged), `cond(kind limits)`, joined with OR.
fn per_kind(new: &Policy, cond: impl Fn(&SessionLimits) -> Cond) -> Cond {
    [false, true].into_iter().fold(Cond::any(), |any, privileged| {
        any.add(
            Cond::all()
                .add(col("privileged").eq(privileged))
                .add(cond(&new.session_limits(privileged))),
        )
    })
}

/// A session whose expiry the new caps would move earlier.
fn shortens(l: &SessionLimits) -> Cond {
    Cond::any()
        .add(col("expires_at").gt(col("refreshed_at").add(l.ttl.as_millis())))
        .add(col("expires_at").gt(col("created_at").add(l.max_lifetime.as_millis())))
}

async fn count_sessions(db: &Db, cond: Cond) -> Result<u64> {
    let mut q = Query::select();
    q.from(Alias::new("sessions"))
        .expr(Expr::col(Alias::new("id")).count())
        .cond_where(cond);
    let (sql, values) = build(db.backend(), &q);
    let n: i64 = with_db!(db, |p| sqlx::query_scalar_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// What a policy change from `old` to `new` at `now` does to the live sessions.
pub async fn simulate(db: &Db, old: &Policy, new: &Policy, now: Millis) -> Result<SessionSimulation> {
    let live = || live_cond(old, now);
    let ended = || live().add(live_cond(new, now).not());
    let survives_shortening = || {
        live_cond(new, now).add(per_kind(new, |l| {
            Cond::all().add(col("refreshed_at").gt(now.saturating_sub(l.ttl.as_millis())))
        }))
    };
    Ok(SessionSimulation {
        live: count_sessions(db, live()).await?,
        ended: count_sessions(db, ended()).await?,
        ended_privileged: count_sessions(db, ended().add(col("privileged").eq(true))).await?,
        shortened: count_sessions(db, live().add(per_kind(new, shortens))).await?,
        ended_if_shortened: count_sessions(db, live().add(survives_shortening().not())).await?,
    })
}

/// Moves the expiry of every session live under `old` earlier to the caps of `new` (never later), per
/// kind; returns how many sessions changed. Runs in the caller's transaction.
pub async fn shorten(tx: &mut Tx, old: &Policy, new: &Policy, now: Millis) -> Result<u64> {
    let mut total = 0;
    for privileged in [false, true] {
        let l = new.session_limits(privileged);
        let by_ttl = col("refreshed_at").add(l.ttl.as_millis());
        let by_lifetime = col("created_at").add(l.max_lifetime.as_millis());
        let capped = Expr::case(Expr::expr(by_ttl.clone()).lt(by_lifetime.clone()), by_ttl).finally(by_lifetime);
        let mut u = Query::update();
        u.table(Alias::new("sessions"))
            .value(Alias::new("expires_at"), capped)
            .cond_where(
                live_cond(old, now)
                    .add(col("privileged").eq(privileged))
                    .add(shortens(&l)),
            );
        let (sql, values) = build(tx.backend(), &u);
        total += with_tx!(tx, |c| sqlx::query_with(&sql, values)
            .persistent(false)
            .execute(c)
            .await?
            .rows_affected());
    }
    Ok(total)
}

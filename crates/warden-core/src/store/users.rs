//! The `users` table (and `user_search_terms`, its search index): look-ups, creation, the lockout,
//! two-factor and activity columns, and the users screen's page.

use sea_query::{Alias, Cond, Expr, Order, Query, SimpleExpr};
use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::policy::LockoutPolicy;
use crate::model::user::{search_terms, Email, NewUser, UserQuery, UserRow, UserSort};
use crate::rules::lockout::LockoutState;
use crate::store::{build, Backend, Db, Tx};
use crate::{with_db, with_tx};

pub const USER_COLUMNS: &str = "id, email, name, role, email_verified_at, password_hash, totp_secret, totp_enabled_at, \
    totp_last_step, disabled_at, created_at, updated_at, last_active_at, failed_count, window_started_at, locked_until, \
    locked_permanently, lock_count, last_locked_at, last_failed_at, last_failed_ip";

pub async fn by_email(db: &Db, email: &Email) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(email.as_str())
        .fetch_optional(p)
        .await?))
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(p)
        .await?))
}

/// Re-reads a user inside a write transaction and holds the row until the transaction ends, so that a
/// change computed from it (lockout counters, the live-session count) cannot race another one. PostgreSQL
/// locks the row (`FOR UPDATE`); a SQLite write transaction already holds the database's write lock.
pub async fn by_id_tx(tx: &mut Tx, id: Uuid) -> Result<Option<UserRow>> {
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1{lock}");
    Ok(with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// Finds a user by email or id, as typed by an operator.
pub async fn find(db: &Db, ident: &str) -> Result<UserRow> {
    let found = match Uuid::parse_str(ident.trim()) {
        Ok(id) => by_id(db, id).await?,
        Err(_) => by_email(db, &Email::parse(ident)?).await?,
    };
    found.ok_or_else(|| Error::UserNotFound(ident.trim().to_owned()))
}

/// Inserts a user; a taken email answers `email_taken`.
pub async fn insert(tx: &mut Tx, now: Millis, u: NewUser<'_>) -> Result<Uuid> {
    let name = u.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    // Names go into emails and every list: no line breaks, NULs or other control characters.
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must not contain control characters such as line breaks",
        ));
    }
    let id = Uuid::now_v7();
    let res = with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO users (id, email, name, name_lower, role, email_verified_at, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
    )
    .bind(id)
    .bind(u.email.as_str())
    .bind(name)
    .bind(name.to_lowercase())
    .bind(u.role.as_str())
    .bind(u.email_verified_at)
    .bind(u.password_hash)
    .bind(now)
    .execute(c)
    .await.map(|r| r.rows_affected())
    });
    match res {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(Error::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    for term in search_terms(u.email.as_str(), &name.to_lowercase()) {
        with_tx!(tx, |c| sqlx::query(
            "INSERT INTO user_search_terms (term, user_id) VALUES ($1, $2)"
        )
        .bind(term)
        .bind(id)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(id)
}

/// Writes the lockout columns from `s`.
pub async fn store_lockout(tx: &mut Tx, id: Uuid, s: &LockoutState, now: Millis) -> Result<()> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET failed_count = $2, window_started_at = $3, locked_until = $4, locked_permanently = $5, \
         lock_count = $6, last_locked_at = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id)
        .bind(i64::from(s.failed_count))
        .bind(s.window_started_at)
        .bind(s.locked_until)
        .bind(s.locked_permanently)
        .bind(i64::from(s.lock_count))
        .bind(s.last_locked_at)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Records where and when the last failed sign-in came from.
pub async fn record_failure_place(tx: &mut Tx, id: Uuid, now: Millis, ip: Option<&str>) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE users SET last_failed_at = $2, last_failed_ip = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .bind(ip)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Records activity (a sign-in, a used session).
pub async fn set_last_active(tx: &mut Tx, id: Uuid, now: Millis) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE users SET last_active_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Replaces the password hash, only over `checked` (the hash that was verified): a password changed
/// meanwhile is not overwritten.
pub async fn replace_password_hash(db: &Db, id: Uuid, checked: &str, phc: &str, now: Millis) -> Result<()> {
    with_db!(db, |c| sqlx::query(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND password_hash = $4"
    )
    .bind(id)
    .bind(phc)
    .bind(now)
    .bind(checked)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Stores a new, unconfirmed two-factor secret (sealed), forgetting the last used step.
pub async fn set_pending_totp(db: &Db, id: Uuid, sealed: &[u8], now: Millis) -> Result<()> {
    with_db!(db, |c| sqlx::query(
        "UPDATE users SET totp_secret = $2, totp_last_step = NULL, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(sealed)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Switches two-factor on, the confirming code's step used.
pub async fn enable_totp(tx: &mut Tx, id: Uuid, now: Millis, step: i64) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE users SET totp_enabled_at = $2, totp_last_step = $3, updated_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .bind(step)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Claims a TOTP step: true when it is later than the last used one (a concurrent request with the same
/// code loses, and a used step never counts again).
pub async fn claim_totp_step(tx: &mut Tx, id: Uuid, step: i64) -> Result<bool> {
    let claimed = with_tx!(tx, |c| sqlx::query(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)"
    )
    .bind(id)
    .bind(step)
    .execute(c)
    .await?
    .rows_affected());
    Ok(claimed == 1)
}

/// Switches two-factor off and deletes the secret; with `unless_step_used`, only when that step is later
/// than the last used one (the user's own switch-off with a fresh code). True when it was switched off.
pub async fn clear_totp(tx: &mut Tx, id: Uuid, now: Millis, unless_step_used: Option<i64>) -> Result<bool> {
    let cleared = match unless_step_used {
        Some(step) => with_tx!(tx, |c| sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $2 \
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $3)"
        )
        .bind(id)
        .bind(now)
        .bind(step)
        .execute(c)
        .await?
        .rows_affected()),
        None => with_tx!(tx, |c| sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, updated_at = $2 \
             WHERE id = $1"
        )
        .bind(id)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected()),
    };
    Ok(cleared == 1)
}

/// Marks the email verified (keeping the first time it was).
pub async fn mark_email_verified(tx: &mut Tx, id: Uuid, now: Millis) -> Result<()> {
    with_tx!(tx, |c| sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Whether a user with this id exists.
pub async fn exists(db: &Db, id: Uuid) -> Result<bool> {
    let found: Option<Uuid> = with_db!(db, |p| sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?);
    Ok(found.is_some())
}

/// How many users there are.
pub async fn count(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(p)
        .await?))
}

/// The emails of these users.
pub async fn emails(db: &Db, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = Query::select();
    q.from(Alias::new("users"))
        .columns([Alias::new("id"), Alias::new("email")])
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()));
    let (sql, values) = build(db.backend(), &q);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?))
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

/// One page of users matching `q` (its search already lower case and checked), keyset on (sort key,
/// id) descending after `after`: the rows and the cursor of the next page.
pub async fn page(
    db: &Db,
    q: &UserQuery,
    search: Option<&str>,
    after: Option<(i64, Uuid)>,
    limit: u32,
    now: Millis,
) -> Result<(Vec<UserRow>, Option<String>)> {
    let col = |c: &str| Expr::col(Alias::new(c));
    let mut cond = Cond::all();
    if let Some(s) = search {
        cond = cond.add(search_cond(db, s).await?);
    }
    if let Some(locked) = q.locked {
        // Spelled out both ways (no NOT over a nullable comparison) so each side can use an index.
        cond = cond.add(if locked {
            // The first term repeats the partial indexes' predicate word for word, so that SQLite (which
            // matches predicates by their terms) uses them too.
            let predicate = match db.backend() {
                Backend::Sqlite => "(locked_until IS NOT NULL OR locked_permanently = 1)",
                Backend::Postgres => "(locked_until IS NOT NULL OR locked_permanently)",
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
    if let Some((k, id)) = after {
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
    Ok((rows, next_cursor))
}

#[derive(sqlx::FromRow)]
struct LockRow {
    failed_count: i64,
    window_started_at: Option<Millis>,
    locked_until: Option<Millis>,
    locked_permanently: bool,
    lock_count: i64,
    last_locked_at: Option<Millis>,
}

/// The lockout state of every account that is locked at `now` or could be under `new` (its most recent
/// lock recomputed), for the policy preview.
pub async fn lock_candidates(db: &Db, new: &LockoutPolicy, now: Millis) -> Result<Vec<LockoutState>> {
    let col = |c: &str| Expr::col(Alias::new(c));
    // Only accounts that are locked now or could be under the new rules: a recomputed lock ends by
    // `last_locked_at + max_duration` unless `permanent_after` makes it permanent.
    let mut could = Cond::any()
        .add(col("locked_permanently").eq(true))
        .add(col("locked_until").gt(now))
        .add(
            Cond::all()
                .add(col("lock_count").gt(0))
                .add(col("last_locked_at").gt(now.saturating_sub(new.max_duration.as_millis()))),
        );
    if new.permanent_after > 0 {
        could = could.add(
            Cond::all()
                .add(col("lock_count").gte(i64::from(new.permanent_after)))
                .add(col("last_locked_at").is_not_null()),
        );
    }
    let mut q = Query::select();
    q.from(Alias::new("users"))
        .columns([
            Alias::new("failed_count"),
            Alias::new("window_started_at"),
            Alias::new("locked_until"),
            Alias::new("locked_permanently"),
            Alias::new("lock_count"),
            Alias::new("last_locked_at"),
        ])
        .cond_where(could);
    let (sql, values) = build(db.backend(), &q);
    let rows: Vec<LockRow> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    Ok(rows
        .into_iter()
        .map(|r| {
            LockoutState::from_columns(
                r.failed_count,
                r.window_started_at,
                r.locked_until,
                r.locked_permanently,
                r.lock_count,
                r.last_locked_at,
            )
        })
        .collect())
}

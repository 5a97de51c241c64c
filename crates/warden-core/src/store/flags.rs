//! Suspicious-activity flags (`flags`): raised by the sign-in rules, listed and closed in review.

use sea_query::{Alias, Cond, Expr, Order, Query};
use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::flag::{FlagView, Resolution};
use crate::rules::detection::{Finding, OpenFlag};
use crate::store::{build, Db, Tx};
use crate::{with_db, with_tx};

/// The columns of `flags`, in the order the demo writes them.
pub const COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "session_id",
    "rule",
    "severity",
    "detail",
    "status",
    "created_at",
    "resolved_at",
    "resolved_by",
];

fn select() -> sea_query::SelectStatement {
    let mut q = Query::select();
    q.from_as(Alias::new("flags"), Alias::new("f"))
        .inner_join(
            Alias::new("users"),
            Expr::col((Alias::new("users"), Alias::new("id"))).equals((Alias::new("f"), Alias::new("user_id"))),
        )
        .left_join(
            Alias::new("sessions"),
            Expr::col((Alias::new("sessions"), Alias::new("id"))).equals((Alias::new("f"), Alias::new("session_id"))),
        )
        .columns(COLUMNS.iter().map(|c| (Alias::new("f"), Alias::new(*c))))
        .expr_as(
            Expr::col((Alias::new("users"), Alias::new("email"))),
            Alias::new("user_email"),
        );
    // The flagged session's facts, as session_<column>.
    for c in ["ip", "device", "browser", "browser_version", "os", "city", "country"] {
        q.expr_as(
            Expr::col((Alias::new("sessions"), Alias::new(c))),
            Alias::new(format!("session_{c}")),
        );
    }
    q
}

/// One page of flags with `status` (all when `None`) of `user` (all when `None`), newest first, keyset
/// after `after` (created_at, id): the flags and the cursor of the next page.
pub async fn page(
    db: &Db,
    status: Option<&str>,
    user: Option<Uuid>,
    after: Option<(i64, Uuid)>,
    limit: u32,
) -> Result<(Vec<FlagView>, Option<String>)> {
    let col = |c: &str| Expr::col((Alias::new("f"), Alias::new(c)));
    let mut cond = Cond::all();
    if let Some(s) = status {
        cond = cond.add(col("status").eq(s));
    }
    if let Some(u) = user {
        cond = cond.add(col("user_id").eq(u));
    }
    if let Some((at, id)) = after {
        cond = cond.add(
            Cond::any()
                .add(col("created_at").lt(at))
                .add(Cond::all().add(col("created_at").eq(at)).add(col("id").lt(id))),
        );
    }
    let mut sel = select();
    sel.cond_where(cond)
        .order_by((Alias::new("f"), Alias::new("created_at")), Order::Desc)
        .order_by((Alias::new("f"), Alias::new("id")), Order::Desc)
        .limit(u64::from(limit) + 1);
    let (sql, values) = build(db.backend(), &sel);
    let mut flags: Vec<FlagView> = with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_all(p)
        .await?);
    let next_cursor = if flags.len() > limit as usize {
        flags.truncate(limit as usize);
        flags.last().map(|f| format!("{}:{}", f.created_at, f.id))
    } else {
        None
    };
    Ok((flags, next_cursor))
}

/// One flag by id.
pub async fn get(db: &Db, id: Uuid) -> Result<FlagView> {
    let mut sel = select();
    sel.and_where(Expr::col((Alias::new("f"), Alias::new("id"))).eq(id));
    let (sql, values) = build(db.backend(), &sel);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?))
}

/// How many flags wait for review (read from the `flags_open` index).
pub async fn open_count(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM flags WHERE status = 'open'"
    )
    .fetch_one(p)
    .await?))
}

/// The flags still open on `session_id` (of `user_id`, whose flags the `flags_by_user` index finds):
/// for the step-up rule, each one's rule and when it was raised.
pub async fn open_on_session(db: &Db, user_id: Uuid, session_id: Uuid) -> Result<Vec<OpenFlag>> {
    let rows: Vec<(String, Millis)> = with_db!(db, |p| sqlx::query_as(
        "SELECT rule, created_at FROM flags WHERE user_id = $1 AND session_id = $2 AND status = 'open'"
    )
    .bind(user_id)
    .bind(session_id)
    .fetch_all(p)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(rule, raised_at)| OpenFlag { rule, raised_at })
        .collect())
}

/// Closes an open flag: its user, session, rule and severity, or `None` when it was not open.
pub async fn close(
    tx: &mut Tx,
    id: Uuid,
    resolution: Resolution,
    now: Millis,
    by: &str,
) -> Result<Option<(Uuid, Option<Uuid>, String, String)>> {
    Ok(with_tx!(tx, |c| sqlx::query_as(
        "UPDATE flags SET status = $2, resolved_at = $3, resolved_by = $4 WHERE id = $1 AND status = 'open' \
         RETURNING user_id, session_id, rule, severity"
    )
    .bind(id)
    .bind(resolution.as_str())
    .bind(now)
    .bind(by)
    .fetch_optional(c)
    .await?))
}

/// Raises a flag for a finding on a session; returns its id.
pub async fn raise(tx: &mut Tx, user_id: Uuid, session_id: Uuid, f: &Finding, now: Millis) -> Result<Uuid> {
    let id = Uuid::now_v7();
    with_tx!(tx, |c| sqlx::query(
        "INSERT INTO flags (id, user_id, session_id, rule, severity, detail, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)"
    )
    .bind(id)
    .bind(user_id)
    .bind(session_id)
    .bind(f.rule)
    .bind(f.severity.as_str())
    .bind(&f.detail)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(id)
}

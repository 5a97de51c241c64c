//! The review queue of suspicious-activity flags that [`crate::detection`] raises: list them, and close
//! one as dismissed (nothing wrong) or actioned (something was done, e.g. the session was ended). Support
//! and security admins may do both; closing is audited with its reason.

use sea_query::{Alias, Cond, Expr, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Record};
use crate::authz::{Actor, Permission};
use crate::store::{build, Db};
use crate::{users, with_db, with_tx, Error, Millis, Result};

/// One flag, with its user's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FlagView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub session_id: Option<Uuid>,
    /// `new_country`, `impossible_travel`, `rapid_sign_ins` or `success_after_failures`.
    pub rule: String,
    /// `low`, `medium` or `high`.
    pub severity: String,
    pub detail: String,
    /// `open`, `dismissed` or `actioned`.
    pub status: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub resolved_at: Option<Millis>,
    pub resolved_by: Option<String>,
}

/// Which flags: by status (`open` by default; `all` for every one) and user, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct FlagQuery {
    pub status: Option<String>,
    /// An email or user id.
    pub user: Option<String>,
    pub limit: u32,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FlagsPage {
    pub flags: Vec<FlagView>,
    pub next_cursor: Option<String>,
    /// Open flags in all, whatever the query.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub open: i64,
}

/// How a flag is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Resolution {
    /// Looked at; nothing wrong.
    Dismissed,
    /// Looked at; something was done about it.
    Actioned,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Dismissed => "dismissed",
            Resolution::Actioned => "actioned",
        }
    }

    pub fn parse(s: &str) -> Result<Resolution> {
        match s {
            "dismissed" | "dismiss" => Ok(Resolution::Dismissed),
            "actioned" | "action" => Ok(Resolution::Actioned),
            _ => Err(Error::invalid("resolution", "must be dismissed or actioned")),
        }
    }
}

/// The columns of `flags`, in the order the demo writes them.
pub(crate) const COLUMNS: &[&str] = &[
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
        .columns(COLUMNS.iter().map(|c| (Alias::new("f"), Alias::new(*c))))
        .expr_as(
            Expr::col((Alias::new("users"), Alias::new("email"))),
            Alias::new("user_email"),
        );
    q
}

/// A page of flags, newest first. Needs ReviewFlags.
pub async fn page(db: &Db, actor: &Actor, q: &FlagQuery) -> Result<FlagsPage> {
    actor.require(Permission::ReviewFlags)?;
    let limit = audit::check_limit(q.limit)?;
    let col = |c: &str| Expr::col((Alias::new("f"), Alias::new(c)));
    let mut cond = Cond::all();
    match q
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("open")
    {
        "all" => {}
        s @ ("open" | "dismissed" | "actioned") => cond = cond.add(col("status").eq(s)),
        _ => return Err(Error::invalid("status", "must be open, dismissed, actioned or all")),
    }
    if let Some(u) = q.user.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        cond = cond.add(col("user_id").eq(users::find(db, u).await?.id));
    }
    if let Some(c) = q.after.as_deref() {
        let (at, id) = crate::admin::parse_cursor(c)?;
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
    Ok(FlagsPage {
        flags,
        next_cursor,
        open: open_count(db).await?,
    })
}

/// How many flags wait for review (read from the `flags_open` index).
pub(crate) async fn open_count(db: &Db) -> Result<i64> {
    Ok(with_db!(db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM flags WHERE status = 'open'"
    )
    .fetch_one(p)
    .await?))
}

/// Closes an open flag as dismissed or actioned, with a reason, audited as `flag.dismissed` or
/// `flag.actioned`. Needs ReviewFlags; a closed or unknown flag is `flag_not_found`.
pub async fn resolve(
    db: &Db,
    actor: &Actor,
    now: Millis,
    id: Uuid,
    resolution: Resolution,
    reason: &str,
) -> Result<FlagView> {
    actor.require(Permission::ReviewFlags)?;
    let reason = crate::admin::require_reason(reason)?;
    let mut tx = db.begin().await?;
    let closed: Option<(Uuid, Option<Uuid>, String, String)> = with_tx!(&mut tx, |c| sqlx::query_as(
        "UPDATE flags SET status = $2, resolved_at = $3, resolved_by = $4 WHERE id = $1 AND status = 'open' \
         RETURNING user_id, session_id, rule, severity"
    )
    .bind(id)
    .bind(resolution.as_str())
    .bind(now)
    .bind(&actor.label)
    .fetch_optional(c)
    .await?);
    let (user_id, session_id, rule, severity) = closed.ok_or(Error::FlagNotFound)?;
    let mut rec = Record::new(match resolution {
        Resolution::Dismissed => "flag.dismissed",
        Resolution::Actioned => "flag.actioned",
    })
    .user(user_id)
    .reason(reason)
    .meta(json!({ "flag_id": id.to_string(), "rule": rule, "severity": severity }));
    if let Some(s) = session_id {
        rec = rec.session(s);
    }
    audit::append(&mut tx, now, actor, rec).await?;
    tx.commit().await?;
    let mut sel = select();
    sel.and_where(Expr::col((Alias::new("f"), Alias::new("id"))).eq(id));
    let (sql, values) = build(db.backend(), &sel);
    Ok(with_db!(db, |p| sqlx::query_as_with(&sql, values)
        .persistent(false)
        .fetch_one(p)
        .await?))
}

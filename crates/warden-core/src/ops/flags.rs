//! The review queue of suspicious-activity flags that the sign-in rules raise ([`crate::ops::detection`]):
//! list them, and close one as dismissed (nothing wrong) or actioned (something was done, e.g. the
//! session was ended). Support and security admins may do both; closing is audited with its reason.

use serde_json::json;
use uuid::Uuid;

use crate::model::audit::{check_limit, Record};
use crate::model::authz::{Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
pub use crate::model::flag::{FlagQuery, FlagView, FlagsPage, Resolution, Severity};
use crate::model::vocab::AuditAction;
use crate::ops::admin::{parse_cursor, require_reason};
use crate::store::{audit, flags, users, Db};

/// A page of flags, newest first. Needs ReviewFlags.
pub async fn page(db: &Db, staff: &Staff, q: &FlagQuery) -> Result<FlagsPage> {
    let actor = staff.actor();
    actor.require(Permission::ReviewFlags)?;
    let limit = check_limit(q.limit)?;
    let status = match q
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("open")
    {
        "all" => None,
        s @ ("open" | "dismissed" | "actioned") => Some(s),
        _ => return Err(Error::invalid("status", "must be open, dismissed, actioned or all")),
    };
    let user = match q.user.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => Some(users::find(db, u).await?.id),
        None => None,
    };
    let after = q.after.as_deref().map(parse_cursor).transpose()?;
    let (flags, next_cursor) = flags::page(db, status, user, after, limit).await?;
    Ok(FlagsPage {
        flags,
        next_cursor,
        open: flags::open_count(db).await?,
    })
}

/// Closes an open flag as dismissed or actioned, with a reason, audited as `flag.dismissed` or
/// `flag.actioned`. Needs ReviewFlags; a closed or unknown flag is `flag_not_found`.
pub async fn resolve(
    db: &Db,
    staff: &Staff,
    now: Millis,
    id: Uuid,
    resolution: Resolution,
    reason: &str,
) -> Result<FlagView> {
    let actor = staff.actor();
    actor.require(Permission::ReviewFlags)?;
    let reason = require_reason(reason)?;
    let mut tx = db.begin().await?;
    let (user_id, session_id, rule, severity) = flags::close(&mut tx, id, resolution, now, &actor.label)
        .await?
        .ok_or(Error::FlagNotFound)?;
    let mut rec = Record::new(match resolution {
        Resolution::Dismissed => AuditAction::FlagDismissed,
        Resolution::Actioned => AuditAction::FlagActioned,
    })
    .user(user_id)
    .reason(reason)
    .meta(json!({ "flag_id": id.to_string(), "rule": rule, "severity": severity }));
    if let Some(s) = session_id {
        rec = rec.session(s);
    }
    audit::append(&mut tx, now, actor, rec).await?;
    tx.commit().await?;
    flags::get(db, id).await
}

//! What an end user may read about their own account through a door: their audit events.
//!
//! A user sees the events whose target is their own account, newest first, keyset-paged by `seq`, with
//! the total count of the filtered set. Who acted is reduced to `self`, `administrator` or `system`:
//! an end user learns that an administrator ended their sessions, not which one.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::audit::{AuditFilter, Status};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::user::Authenticated;
use crate::store::{audit, Db};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// Filters of the own-events query; all optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OwnEventsQuery {
    /// An exact action (`session.revoked`) or a group ending in a dot (`session.`).
    pub action: Option<String>,
    pub status: Option<Status>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    pub limit: Option<u32>,
}

/// One event as its subject sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnEvent {
    pub id: i64,
    pub at: Millis,
    pub action: String,
    pub status: String,
    /// `self`, `administrator` or `system`.
    pub actor: String,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub metadata: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnEventsPage {
    pub events: Vec<OwnEvent>,
    pub total: i64,
    pub limit: u32,
    pub next_cursor: Option<i64>,
    pub has_more: bool,
}

/// Parses a status filter as the doors receive it (`success`, `failure`; `failed` is accepted too).
pub fn parse_status(s: &str) -> Result<Status> {
    match s.trim() {
        "success" => Ok(Status::Success),
        "failure" => Ok(Status::Failure),
        _ => Err(Error::invalid("status", "must be success or failure")),
    }
}

/// The caller's own audit events matching `q`, newest first.
pub async fn own_events(db: &Db, me: &Authenticated, q: &OwnEventsQuery) -> Result<OwnEventsPage> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid("limit", format!("must be between 1 and {MAX_PAGE}")));
    }
    if let Some(c) = q.cursor {
        if c <= 0 {
            return Err(Error::invalid("cursor", "must be the next_cursor of a previous page"));
        }
    }
    if let Some(a) = &q.action {
        if a.len() > 100 || a.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '_')) {
            return Err(Error::invalid(
                "type",
                "must be an event type such as session.revoked, or a group such as session.",
            ));
        }
    }
    let filter = AuditFilter {
        target_user: Some(me.user.id),
        action: q.action.clone().filter(|a| !a.is_empty()),
        status: q.status,
        ..Default::default()
    };
    let total = audit::count(db, &filter).await?;
    let page = audit::list(db, &filter, q.cursor, limit).await?;
    let events = page
        .events
        .into_iter()
        .map(|e| OwnEvent {
            id: e.seq,
            at: e.at,
            actor: if e.actor_kind == "system" {
                "system".into()
            } else if e.actor_id == Some(me.user.id) {
                "self".into()
            } else {
                "administrator".into()
            },
            metadata: serde_json::from_str(&e.metadata).unwrap_or(serde_json::Value::Null),
            action: e.action,
            status: e.status,
            session_id: e.target_session_id,
            ip: e.ip,
            reason: e.reason,
        })
        .collect();
    Ok(OwnEventsPage {
        events,
        total,
        limit,
        has_more: page.next_cursor.is_some(),
        next_cursor: page.next_cursor,
    })
}

//! Sessions: the stored row, where a request came from, what the doors show, a validated session and
//! its actor, and the sessions screen's query and page.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::model::address::{addr_key, ip_key};
use crate::model::clock::Millis;
use crate::model::session_filter::SessionFilter;
use crate::model::vocab::SessionStatus;

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

/// A session as the doors show it: the row, its status now, and whether it is the caller's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionView {
    #[serde(flatten)]
    pub session: SessionRow,
    pub status: SessionStatus,
    pub is_current: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionCount {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub users: u64,
}

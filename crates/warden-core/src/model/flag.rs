//! Suspicious-activity flags: the review queue's rows, query and page, how a flag is closed, and how
//! severe a finding is.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};

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
    /// The flagged session's address, device and place (none when the flag names no session), so a
    /// reviewer sees where it came from without leaving the flag.
    pub session_ip: Option<String>,
    pub session_device: Option<String>,
    pub session_browser: Option<String>,
    pub session_browser_version: Option<String>,
    pub session_os: Option<String>,
    pub session_city: Option<String>,
    pub session_country: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

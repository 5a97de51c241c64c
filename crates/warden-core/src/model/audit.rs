//! The audit log's records: what an action records, the stored event and its canonical, hashed form,
//! the filters of the audit page and export, and the outcome of verifying the chain.
//!
//! Each event's `hash` is SHA-256(prev_hash ‖ canonical event), so editing, deleting or reordering any
//! event breaks the chain at that point; the head (last seq and hash) catches a cut-off tail.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::clock::{format_ms, Millis};
use crate::model::error::{Error, Result};
use crate::model::vocab::AuditAction;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Status {
    Success,
    Failure,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
        }
    }
}

/// What an action records, besides who and when.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub action: AuditAction,
    pub status: Status,
    pub reason: Option<&'a str>,
    pub target_user: Option<Uuid>,
    pub target_session: Option<Uuid>,
    /// Must never hold a secret. Keep to strings, integers and booleans: the hash is over its text.
    pub metadata: Value,
}

impl<'a> Record<'a> {
    pub fn new(action: AuditAction) -> Self {
        Record {
            action,
            status: Status::Success,
            reason: None,
            target_user: None,
            target_session: None,
            metadata: json!({}),
        }
    }
    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }
    pub fn user(mut self, id: Uuid) -> Self {
        self.target_user = Some(id);
        self
    }
    pub fn session(mut self, id: Uuid) -> Self {
        self.target_session = Some(id);
        self
    }
    pub fn failed(mut self) -> Self {
        self.status = Status::Failure;
        self
    }
    pub fn meta(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEvent {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: Millis,
    pub actor_id: Option<Uuid>,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub target_user_id: Option<Uuid>,
    pub target_session_id: Option<Uuid>,
    pub status: String,
    pub reason: Option<String>,
    pub ip: Option<String>,
    /// Canonical JSON text, exactly as hashed.
    pub metadata: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The canonical form that is hashed: a JSON object with sorted keys and the metadata as stored.
    fn canonical(&self) -> String {
        json!({
            "seq": self.seq,
            "at": self.at,
            "actor_id": self.actor_id.map(|u| u.to_string()),
            "actor_kind": self.actor_kind,
            "actor_label": self.actor_label,
            "action": self.action,
            "target_user_id": self.target_user_id.map(|u| u.to_string()),
            "target_session_id": self.target_session_id.map(|u| u.to_string()),
            "status": self.status,
            "reason": self.reason,
            "ip": self.ip,
            "metadata": self.metadata,
        })
        .to_string()
    }

    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(self.canonical().as_bytes());
        hex::encode(h.finalize())
    }
}

/// Filters for the audit page and export. All optional; they combine with AND.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Actor id, or a substring of the actor label (email, `user@host`).
    pub actor: Option<String>,
    pub target_user: Option<Uuid>,
    pub target_session: Option<Uuid>,
    /// Exact action (`session.revoked`) or a group prefix ending in a dot (`session.`).
    pub action: Option<String>,
    pub status: Option<Status>,
    pub ip: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Free text searched in the reason.
    pub reason: Option<String>,
    /// Only events up to this seq: an export's snapshot, so events appended while it runs (its own
    /// included) are not in it and its count is exact.
    #[serde(default)]
    pub through_seq: Option<i64>,
}

pub const MAX_PAGE: u32 = 500;

/// One page of the audit log, newest first, keyset-paged by seq: `before` is the `next_cursor` of the
/// previous page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub next_cursor: Option<i64>,
    /// The email of each target user of the page's events that still exists, by id: the console names
    /// the user and keeps the id for the tooltip. (Not part of the chain: looked up when read.)
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, string>"))]
    pub target_emails: std::collections::BTreeMap<Uuid, String>,
}

impl AuditFilter {
    /// The set filters as `{name: value}`, for audit metadata (what an export or a check covered).
    pub fn describe(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        };
        put("actor", self.actor.clone());
        put("target_user", self.target_user.map(|u| u.to_string()));
        put("target_session", self.target_session.map(|u| u.to_string()));
        put("action", self.action.clone());
        put("status", self.status.map(|s| s.as_str().to_owned()));
        put("ip", self.ip.clone());
        put("from", self.from.map(format_ms));
        put("to", self.to.map(format_ms));
        put("reason", self.reason.clone());
        Value::Object(m)
    }
}

pub fn check_limit(limit: u32) -> Result<u32> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid("limit", format!("must be between 1 and {MAX_PAGE}")));
    }
    Ok(limit)
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verification {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub events_verified: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub head_seq: i64,
    /// The first broken link, if any.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub broken_at: Option<i64>,
    pub detail: Option<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.broken_at.is_none()
    }
}

//! Mail the engine keeps until a mail server accepted it (the outbox), and what the console and the CLI
//! show of the mail not delivered yet.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::clock::Millis;

/// One email in the outbox. It holds no token: each attempt issues a fresh link.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub created_at: Millis,
    pub attempts: i32,
    pub next_at: Millis,
    pub last_error: Option<String>,
    pub sent_at: Option<Millis>,
    pub gave_up_at: Option<Millis>,
}

/// An email not delivered yet, or given up, as the console and the CLI list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UndeliveredMail {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    /// `verification`.
    pub kind: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    pub attempts: i32,
    /// When it is tried again; `None` once given up.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub next_at: Option<Millis>,
    /// What the mail server (or the connection to it) said last.
    pub last_error: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub gave_up_at: Option<Millis>,
}

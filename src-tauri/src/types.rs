//! What crosses the IPC boundary besides warden-core's own types. TypeScript declarations of all of them
//! are generated with ts-rs into ui/src/lib/backend/generated (see tests/bindings).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use warden_core::model::error::ErrorCode;
use warden_core::Role;

/// An error as the UI sees it: a stable code to branch on, a message for people, the field at fault.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<warden_core::Error> for CommandError {
    /// The engine's error as the UI shows it. An unexpected one (a database error, a bug) shows a generic
    /// sentence; its detail goes to the console's log only, as the server does.
    fn from(e: warden_core::Error) -> Self {
        let p = e.to_payload();
        let message = if matches!(e, warden_core::Error::Unexpected(_)) {
            eprintln!("warden-console: {e}");
            "Something went wrong on our side; the details are in the console's log.".to_owned()
        } else {
            p.message
        };
        CommandError {
            code: p.code,
            message,
            field: p.field,
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SavedConnection {
    pub id: String,
    pub label: String,
    /// `sqlite` or `postgres`.
    pub kind: String,
    /// The URL or path, without any password.
    pub display: String,
    /// Whether a password or data key for it is kept in the OS keyring.
    pub has_secret: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct KeyringStatus {
    pub available: bool,
    /// Why passwords are asked each time, when there is no keyring.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub saved: Vec<SavedConnection>,
    pub keyring: KeyringStatus,
}

/// The demo database's sign-ins, shown on the connect and sign-in screens (demo data only).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct DemoCredentials {
    pub admin_email: String,
    pub admin_password: String,
    pub admin_totp_secret: String,
    pub support_email: String,
    pub support_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Connected {
    pub label: String,
    /// `SQLite` or `PostgreSQL`.
    pub backend: String,
    pub display: String,
    pub demo: Option<DemoCredentials>,
    /// The library whose auth database this is, when Warden adopted one (Better Auth, Auth.js); `null` on
    /// Warden's own schema.
    pub library: Option<LibraryInfo>,
}

/// A library's auth database that Warden adopted, as the screens need it: what it is, which actions and
/// columns its schema carries (the screens hide the rest, and say why), and what to know before relying
/// on ending a session in it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct LibraryInfo {
    /// `Better Auth` or `Auth.js`.
    pub name: String,
    /// "Better Auth schema with the admin and twoFactor plugins, 12,408 users, 3,112 sessions".
    pub summary: String,
    /// Ban and unban (Better Auth's admin plugin).
    pub ban: bool,
    /// Two-factor state and its reset (Better Auth's twoFactor plugin).
    pub two_factor: bool,
    /// Sessions record an address and a user agent.
    pub session_place: bool,
    /// Sessions record when they began.
    pub session_start: bool,
    /// Users carry Better Auth's admin-plugin role, so the sessions of the application's admins can be
    /// told apart.
    pub admin_role: bool,
    /// What the schema does not carry, in words: each shown where its column or action would be.
    pub missing: Vec<String>,
    /// In the library's own terms: when ending a session here does not end it in the browser at once.
    pub notes: Vec<String>,
}

/// One of the library's users with their live sessions and the sessions Warden ended.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LibraryUserPage {
    pub detail: warden_core::ops::subjects::SubjectDetail,
    pub ended: Vec<warden_core::ops::subjects::EndedSession>,
}

/// What the signed-in operator may do; the UI hides the rest (and the engine refuses it anyway).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Capabilities {
    pub unlock: bool,
    pub revoke_sessions: bool,
    pub reset_totp: bool,
    pub view_policy: bool,
    /// Security admins: bulk termination across users and the emergency sign-out.
    pub bulk_revoke: bool,
    /// Support and security admins: read the audit log.
    pub view_audit: bool,
    /// Security admins: export the audit log and verify its chain.
    pub export_audit: bool,
    /// Support and security admins: the queue of suspicious-activity flags.
    pub review_flags: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Me {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub session_id: String,
    #[ts(type = "number")]
    pub authenticated_at: i64,
    #[ts(type = "number")]
    pub reauth_after_ms: i64,
    #[ts(type = "number")]
    pub idle_timeout_ms: i64,
    pub can: Capabilities,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SignInStep {
    Complete { me: Me },
    TotpRequired,
}

/// One `key = value` of a proposed policy change, as typed in the editor.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PolicyEntry {
    pub key: String,
    pub value: String,
}

/// Live sessions in a library's table, and how many users hold them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LibrarySessionCount {
    #[ts(type = "number")]
    pub sessions: i64,
    #[ts(type = "number")]
    pub users: i64,
}

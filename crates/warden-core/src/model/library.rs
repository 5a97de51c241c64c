//! Auth databases made by another library (Better Auth, Auth.js): what Warden found in one, in the
//! library's own names, and what that schema carries. Found by [`crate::rules::library::detect`] from
//! the database's catalog; read by [`crate::ops::library::inspect`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::clock::Millis;

/// The library whose schema a database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Library {
    BetterAuth,
    #[serde(rename = "authjs")]
    AuthJs,
}

impl Library {
    pub fn name(self) -> &'static str {
        match self {
            Library::BetterAuth => "Better Auth",
            Library::AuthJs => "Auth.js",
        }
    }

    /// The spelling of `--schema` and of the JSON.
    pub fn slug(self) -> &'static str {
        match self {
            Library::BetterAuth => "better-auth",
            Library::AuthJs => "authjs",
        }
    }

    /// The logical field of the library's sessions that holds their expiry.
    pub fn expiry_field(self) -> &'static str {
        match self {
            Library::BetterAuth => "expiresAt",
            Library::AuthJs => "expires",
        }
    }

    pub fn parse(s: &str) -> Option<Library> {
        match s.trim().to_ascii_lowercase().as_str() {
            "better-auth" | "betterauth" | "better_auth" => Some(Library::BetterAuth),
            "authjs" | "auth.js" | "auth-js" | "next-auth" | "nextauth" => Some(Library::AuthJs),
            _ => None,
        }
    }
}

impl fmt::Display for Library {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The library's tables Warden reads, by their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableRole {
    User,
    Session,
    Account,
    Verification,
    TwoFactor,
}

impl TableRole {
    pub const ALL: &'static [TableRole] = &[
        TableRole::User,
        TableRole::Session,
        TableRole::Account,
        TableRole::Verification,
        TableRole::TwoFactor,
    ];

    /// The spelling of `--tables role=name`.
    pub fn key(self) -> &'static str {
        match self {
            TableRole::User => "user",
            TableRole::Session => "session",
            TableRole::Account => "account",
            TableRole::Verification => "verification",
            TableRole::TwoFactor => "two_factor",
        }
    }

    pub fn parse(s: &str) -> Option<TableRole> {
        TableRole::ALL.iter().copied().find(|r| r.key() == s.trim())
    }
}

/// Table names given by the user for roles that detection cannot tell (`--tables user=app_users,…`).
pub type TableNames = BTreeMap<TableRole, String>;

/// Parses `user=app_users,session=app_sessions`.
pub fn parse_table_names(s: &str) -> Result<TableNames, String> {
    let mut out = TableNames::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((role, name)) = part.split_once('=') else {
            return Err(format!("`{part}` is not role=table (for example user=app_users)"));
        };
        let Some(role) = TableRole::parse(role) else {
            let roles: Vec<&str> = TableRole::ALL.iter().map(|r| r.key()).collect();
            return Err(format!(
                "`{}` is not a table role: use one of {}",
                role.trim(),
                roles.join(", ")
            ));
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{name}` is not a table name (letters, digits and _ only)"));
        }
        out.insert(role, name.to_owned());
    }
    Ok(out)
}

/// How the library stores an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    /// PostgreSQL `timestamptz`.
    Timestamptz,
    /// PostgreSQL `timestamp` without a time zone, holding UTC (Drizzle, Prisma).
    TimestampUtc,
    /// SQLite text in ISO 8601 (`2026-12-07T13:52:20.666Z`; Better Auth's Kysely adapter).
    IsoText,
    /// SQLite integer milliseconds since the epoch (Drizzle's `timestamp_ms`).
    EpochMillis,
    /// SQLite integer seconds since the epoch (Drizzle's `timestamp`).
    EpochSeconds,
}

/// The columns of one table, by the library's logical field name (`emailVerified`) to the column's name
/// in this database (`emailVerified` or `email_verified`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Columns(pub BTreeMap<&'static str, String>);

impl Columns {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
}

/// One of the library's tables as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundTable {
    pub name: String,
    pub columns: Columns,
}

/// The optional parts of Better Auth's schema that Warden's actions need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Plugins {
    /// The admin plugin: `role`, `banned`, `banReason`, `banExpires`, `impersonatedBy`.
    pub admin: bool,
    /// The twoFactor plugin: the `twoFactor` table and `twoFactorEnabled`.
    pub two_factor: bool,
}

/// A library's schema as found in a database: which library, its tables and columns by role, and how
/// it stores instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibrarySchema {
    pub library: Library,
    pub tables: BTreeMap<TableRole, FoundTable>,
    pub plugins: Plugins,
    pub dates: DateStyle,
    /// The declared type of the sessions' expiry column, as the catalog gave it (lowercase): what
    /// `dates` was first read from.
    #[serde(skip)]
    pub expiry_type: String,
    /// Columns are snake_case (`email_verified`) rather than the library's camelCase.
    pub snake_case: bool,
    /// The declared type of the user table's `id` (lowercase): Better Auth's ids are text, the Auth.js
    /// PostgreSQL adapter's are integers.
    #[serde(skip)]
    pub user_id_type: String,
    /// The PostgreSQL schema that holds the library's tables, once Warden has adopted the database (its
    /// own tables then live in the `warden` schema beside it); `None` while only inspected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl LibrarySchema {
    pub fn table(&self, role: TableRole) -> Option<&FoundTable> {
        self.tables.get(&role)
    }

    /// "Better Auth schema with the admin and twoFactor plugins".
    pub fn title(&self) -> String {
        let mut plugins = Vec::new();
        if self.plugins.admin {
            plugins.push("admin");
        }
        if self.plugins.two_factor {
            plugins.push("twoFactor");
        }
        let with = match plugins.as_slice() {
            [] => String::new(),
            [one] => format!(" with the {one} plugin"),
            many => format!(" with the {} plugins", many.join(" and ")),
        };
        format!("{} schema{with}", self.library.name())
    }
}

/// One of the library's users, as Warden shows it. Fields the schema lacks are `None` (`banned`
/// without Better Auth's admin plugin, `two_factor` without its twoFactor plugin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectUser {
    /// The library's own id (text in Better Auth, an integer in Auth.js's PostgreSQL adapter).
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub created_at: Option<Millis>,
    pub email_verified: bool,
    /// Better Auth's admin plugin's role (`user`, `admin`, or a comma-separated list).
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<String>,
    /// When the ban lapses (Better Auth lifts it at the next sign-in after this); `None`: never.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub ban_expires: Option<Millis>,
    pub two_factor: Option<bool>,
}

impl SubjectUser {
    /// The application's own staff: Better Auth's admin plugin gives them a role holding `admin`.
    /// Warden lets only a security admin act on them.
    pub fn is_staff(&self) -> bool {
        self.role
            .as_deref()
            .is_some_and(|r| r.split(',').any(|r| r.trim().eq_ignore_ascii_case("admin")))
    }
}

/// One of the library's session rows, as Warden shows it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectSession {
    /// The library's session id, or `sha256:` and the first 16 hex digits of its token's hash where
    /// the library's sessions have no id (Auth.js's Drizzle and Kysely adapters).
    pub key: String,
    pub user_id: String,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub created_at: Option<Millis>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub expires_at: Option<Millis>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Better Auth's admin plugin: the admin who opened this session as the user.
    pub impersonated_by: Option<String>,
}

/// A session of the library's that Warden ended, as Warden keeps it (the library keeps no row of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EndedSession {
    pub session: SubjectSession,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ended_at: Millis,
    /// A [`crate::model::vocab::RevokeReason`].
    pub reason: String,
}

/// A page of the library's users, by email; `next_cursor` (the last email) continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectUsersPage {
    pub users: Vec<SubjectUser>,
    pub next_cursor: Option<String>,
}

/// Which of the library's session rows, by their expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SubjectSessionStatus {
    /// Expiry still ahead: the library would accept the session now.
    #[default]
    Live,
    /// Expiry passed (rows the library has not deleted yet, or kept with `preserveSessionInDatabase`).
    Over,
    All,
}

/// The filters of the library's sessions across users: each one the schema can answer (the screens
/// offer only those). Empty: every session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectSessionFilter {
    /// One user's sessions: an email (any case) or the library's id.
    #[serde(default)]
    pub user: Option<String>,
    /// Those whose recorded address is this one (schemas that record it: Better Auth's).
    #[serde(default)]
    pub ip: Option<String>,
    /// Begun at or after this instant (unix ms; schemas that record when a session began).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub created_from: Option<Millis>,
    /// Begun before this instant (unix ms).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub created_to: Option<Millis>,
    /// Only the sessions of the application's admins (Better Auth's admin plugin's `admin` role).
    #[serde(default)]
    pub admins_only: bool,
}

impl SubjectSessionFilter {
    pub fn is_empty(&self) -> bool {
        *self == SubjectSessionFilter::default()
    }
}

/// One of the library's sessions in the list across users, with its user's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectSessionRow {
    pub session: SubjectSession,
    /// `None` when the user row is gone (the library deletes sessions with their user, so rarely).
    pub email: Option<String>,
}

/// A page of the library's sessions across users, newest first; `next_cursor` continues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectSessionsPage {
    pub sessions: Vec<SubjectSessionRow>,
    pub next_cursor: Option<String>,
}

/// An address holding live sessions of the library's, with how many users they belong to: many users
/// behind one address is what a credential-stuffing run or a shared proxy looks like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AddressShare {
    pub ip: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub users: i64,
}

/// The console's first screen on a library's database that Warden adopted: its users and sessions at
/// a glance, in what its schema records. A part the schema cannot fill is `None` (and the screen says
/// why), never zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectOverview {
    /// The time it describes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub users: i64,
    /// Users whose email is not verified.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unverified: i64,
    /// Users banned now (Better Auth's admin plugin).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub banned: Option<i64>,
    /// Users with two-factor on (Better Auth's twoFactor plugin).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub two_factor: Option<i64>,
    /// The application's admins (the admin plugin's `admin` role).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub admins: Option<i64>,
    /// Sessions whose expiry is ahead, and their users.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub live_sessions: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub live_users: i64,
    /// Sessions begun per hour (each a sign-in to the application), oldest first, one per hour of the
    /// chart; `failures` is always 0, the library keeps no failed sign-ins. `None` where sessions
    /// record no start (Auth.js).
    pub begun: Option<Vec<crate::model::overview::HourCount>>,
    /// The addresses holding the most live sessions, at most [`crate::model::overview::TOP`]; empty
    /// where sessions record no address.
    pub addresses: Vec<AddressShare>,
    /// Warden's own latest administrative actions, newest first.
    pub admin_actions: Vec<crate::model::audit::AuditEvent>,
}

/// One of the library's users with their sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SubjectDetail {
    pub user: SubjectUser,
    /// The Warden id of this user in the audit log ([`subject_uuid`]).
    pub audit_id: uuid::Uuid,
    /// Session rows whose expiry is still ahead, newest expiry first.
    pub sessions: Vec<SubjectSession>,
}

/// The Warden id of one of the library's users or sessions in Warden's own tables (the audit log's
/// targets): a name-based UUID (v5) of its kind and the library's id, so the same subject always gets
/// the same id and Warden keeps no table of them. The library's own id goes with it in the audit
/// record's metadata.
pub fn subject_uuid(kind: SubjectKind, library_id: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&SUBJECT_NAMESPACE, format!("{}:{library_id}", kind.key()).as_bytes())
}

/// The namespace of [`subject_uuid`] (fixed: changing it would part the audit log from its subjects).
const SUBJECT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6d1c_5f0e_7a4b_4c1e_9b2d_3f8a_0e6c_1d57);

/// What a library id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    User,
    Session,
}

impl SubjectKind {
    fn key(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::Session => "session",
        }
    }
}

/// What a library's schema lets Warden show or do, each with the reason when it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// A stable key (`session_ip`, `ban`, …).
    pub key: &'static str,
    /// What it is, in words.
    pub what: &'static str,
    pub available: bool,
    /// Why not (or the condition), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `warden inspect` reports: the schema found, how much data it holds, what it carries, and what
/// to know before acting on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    pub schema: LibrarySchema,
    pub users: i64,
    pub sessions: i64,
    /// Sessions whose expiry is still ahead.
    pub live_sessions: i64,
    pub capabilities: Vec<Capability>,
    /// Limits to know before relying on a revocation, in the library's own terms.
    pub notes: Vec<String>,
}

impl Inspection {
    /// "Better Auth schema with the admin and twoFactor plugins, 12,408 users, 3,112 sessions".
    pub fn summary(&self) -> String {
        format!(
            "{}, {}, {}",
            self.schema.title(),
            plural(self.users, "user", "users"),
            plural(self.sessions, "session", "sessions")
        )
    }
}

/// `1 user`, `12,408 users`.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{grouped} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_by_role_and_refuse_what_is_not_one() {
        let t = parse_table_names("user=app_users, session=app_sessions").unwrap();
        assert_eq!(t[&TableRole::User], "app_users");
        assert_eq!(t[&TableRole::Session], "app_sessions");
        assert!(parse_table_names("people=x").unwrap_err().contains("not a table role"));
        assert!(parse_table_names("user").unwrap_err().contains("role=table"));
        assert!(parse_table_names("user=a;drop")
            .unwrap_err()
            .contains("not a table name"));
    }

    #[test]
    fn subjects_keep_one_id_each() {
        let a = subject_uuid(SubjectKind::User, "abc");
        assert_eq!(a, subject_uuid(SubjectKind::User, "abc"));
        assert_ne!(a, subject_uuid(SubjectKind::Session, "abc"));
        assert_ne!(a, subject_uuid(SubjectKind::User, "abd"));
        assert_eq!(a.get_version_num(), 5);
    }

    #[test]
    fn counts_read_as_words() {
        assert_eq!(plural(1, "user", "users"), "1 user");
        assert_eq!(plural(12_408, "user", "users"), "12,408 users");
        assert_eq!(plural(0, "session", "sessions"), "0 sessions");
        assert_eq!(plural(1_000_000, "user", "users"), "1,000,000 users");
    }
}

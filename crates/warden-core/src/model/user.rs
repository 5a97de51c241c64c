//! Users: the stored row, emails, what the doors may show, and the users screen's query and page.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::audit::AuditEvent;
use crate::model::authz::Role;
use crate::model::authz::{Actor, ActorKind, Admin, Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::session::{SessionRow, SessionView};

/// The first character of `s` that a person cannot see or that turns the text's direction: format
/// characters (zero-width spaces and joiners, bidi controls, the BOM), controls, line and paragraph
/// separators, private-use and unassigned code points, variation selectors, and the letters that
/// render as blanks (the Hangul fillers, the braille blank). Text holding one can look exactly like
/// another person's (`admin\u{200B}@…`).
pub fn invisible_char(s: &str) -> Option<char> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    s.chars().find(|&c| {
        matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::Control
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
                | GeneralCategory::Unassigned
        ) || matches!(
            c,
            '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{2800}' | '\u{3164}' | '\u{FFA0}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{E0100}'..='\u{E01EF}'
        )
    })
}

/// The rule an identifier breaks when it holds an invisible character, naming the character.
fn invisible_rule(c: char) -> String {
    format!(
        "must not contain invisible or direction-changing characters (it holds U+{:04X}): \
         it could pass for someone else's",
        c as u32
    )
}

/// A display name as typed, trimmed: 1 to 100 characters, none of them invisible ([`invisible_char`]).
pub fn check_name(name: &str) -> Result<&str> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    if n.chars().count() > 100 {
        return Err(Error::invalid("name", "must be at most 100 characters"));
    }
    if let Some(c) = invisible_char(n) {
        return Err(Error::invalid("name", invisible_rule(c)));
    }
    Ok(n)
}

/// A normalized email address: trimmed, NFKC-normalized (full-width and other compatibility forms
/// become their plain letters) and lowercased, one `@`, a dotted domain, at most 254 characters, no
/// invisible or direction-changing character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email> {
        use unicode_normalization::UnicodeNormalization;
        let e: String = s.trim().nfkc().collect::<String>().to_lowercase();
        if let Some(c) = invisible_char(&e) {
            return Err(Error::invalid("email", invisible_rule(c)));
        }
        let rule = "must be an email address such as ana@example.com";
        if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid("email", rule));
        }
        let Some((local, domain)) = e.split_once('@') else {
            return Err(Error::invalid("email", rule));
        };
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(Error::invalid("email", rule));
        }
        Ok(Email(e))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The stored user row. Holds the password hash and sealed TOTP secret: it never leaves the engine;
/// doors get [`UserView`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub email_verified_at: Option<Millis>,
    pub password_hash: String,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled_at: Option<Millis>,
    pub totp_last_step: Option<i64>,
    pub disabled_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_active_at: Option<Millis>,
    pub failed_count: i64,
    pub window_started_at: Option<Millis>,
    pub locked_until: Option<Millis>,
    pub locked_permanently: bool,
    pub lock_count: i64,
    pub last_locked_at: Option<Millis>,
    pub last_failed_at: Option<Millis>,
    pub last_failed_ip: Option<String>,
}

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }
}

/// What the doors may show of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub email_verified: bool,
    pub totp_enabled: bool,
    pub disabled: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_active_at: Option<Millis>,
    pub locked: bool,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub locked_until: Option<Millis>,
    pub locked_permanently: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed_count: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub lock_count: i64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_failed_at: Option<Millis>,
    pub last_failed_ip: Option<String>,
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub email_verified_at: Option<Millis>,
}

/// What a users search matches by prefix: the email, the whole lower-case name and each suffix of it that
/// starts after a space (so a search matches the start of the name or of any later word, and runs on from
/// there). The same terms as the `user_search_terms` migration's backfill.
pub fn search_terms(email: &str, name_lower: &str) -> Vec<String> {
    let suffixes = name_lower
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| &name_lower[i + 1..]);
    let mut terms: Vec<String> = [email, name_lower]
        .into_iter()
        .chain(suffixes)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum UserSort {
    /// Newest accounts first.
    #[default]
    Created,
    /// Most recently active first (never-active users last).
    LastActive,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserQuery {
    /// Case-insensitive prefix of the email, of the whole name, or of the name from any later word on
    /// ("lim" and "maria l" both find "Ana Maria Lima").
    pub search: Option<String>,
    pub locked: Option<bool>,
    pub totp: Option<bool>,
    pub verified: Option<bool>,
    pub role: Option<Role>,
    /// With (true) or without (false) an open suspicious-activity flag.
    pub flagged: Option<bool>,
    pub sort: UserSort,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserSummary {
    #[serde(flatten)]
    pub user: UserView,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub active_sessions: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    pub next_cursor: Option<String>,
}

/// Why and until when an account is locked, as its lockout card says it: when the lock began, the
/// failed sign-ins that caused it and the address of the last one, and its one end (`until`, or
/// `permanent`: until an administrator unlocks it) — the same end the timeline's lock mark shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LockView {
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub since: Option<Millis>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub until: Option<Millis>,
    pub permanent: bool,
    /// The failed sign-ins within the lockout window that caused the lock (`None` when the lock was
    /// recorded before this was kept).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub failures: Option<i64>,
    /// The address of the failure that locked it.
    pub ip: Option<String>,
    /// Which lock in a row this is (each lasts longer, by the policy's backoff).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub lock_count: i64,
}

/// A user's page: profile and lockout card, sessions, recent audit entries about them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserDetail {
    pub user: UserView,
    /// `Some` while the account is locked: the lockout card's cause and end.
    pub lock: Option<LockView>,
    /// Email the server could not deliver to this user yet, or gave up on this week.
    pub undelivered_mail: Vec<crate::model::mail::UndeliveredMail>,
    pub sessions: Vec<SessionView>,
    pub recent_activity: Vec<AuditEvent>,
}

/// A validated session and its user. Only session validation makes one (a door cannot build it by hand:
/// it yields the [`Staff`] capability).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Authenticated {
    pub session: SessionRow,
    pub user: UserRow,
}

impl Authenticated {
    /// A session and its user that validation has just checked.
    pub(crate) fn verified(session: SessionRow, user: UserRow) -> Authenticated {
        Authenticated { session, user }
    }

    /// The staff capability of this session: `forbidden` unless its user is support or a security admin.
    pub fn staff(&self) -> crate::model::error::Result<Staff> {
        Staff::verified(self.actor())
    }

    /// The security admin's capability for `p` through this session.
    pub fn admin_for(&self, p: Permission) -> crate::model::error::Result<Admin> {
        self.staff()?.admin_for(p)
    }

    /// The actor for actions taken through this session.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id),
            kind: ActorKind::User,
            label: self.user.email.clone(),
            role: self.user.role(),
            authenticated_at: self.session.authenticated_at,
            session_id: Some(self.session.id),
            ip: self.session.ip.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn email_is_normalized_and_checked() {
        assert_eq!(Email::parse("  Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@@example.com",
        ] {
            let e = Email::parse(bad).unwrap_err();
            assert_eq!(
                e.field(),
                Some("email"),
                "{bad:?} must be refused naming the email field"
            );
        }
    }
}

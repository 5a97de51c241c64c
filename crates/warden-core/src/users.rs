//! Users: the stored row, emails, creation and look-up.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::authz::Role;
use crate::rules::LockoutState;
use crate::store::{Db, Tx};
use crate::{with_db, with_tx, Error, Millis, Result};

/// A normalized email address: trimmed, lowercased, one `@`, a dotted domain, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email> {
        let e = s.trim().to_lowercase();
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

pub const USER_COLUMNS: &str = "id, email, name, role, email_verified_at, password_hash, totp_secret, totp_enabled_at, \
    totp_last_step, disabled_at, created_at, updated_at, last_active_at, failed_count, window_started_at, locked_until, \
    locked_permanently, lock_count, last_locked_at, last_failed_at, last_failed_ip";

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::User)
    }

    pub fn lockout(&self) -> LockoutState {
        LockoutState {
            failed_count: u32::try_from(self.failed_count).unwrap_or(u32::MAX),
            window_started_at: self.window_started_at,
            locked_until: self.locked_until,
            locked_permanently: self.locked_permanently,
            lock_count: u32::try_from(self.lock_count).unwrap_or(u32::MAX),
            last_locked_at: self.last_locked_at,
        }
    }

    pub fn view(&self, now: Millis) -> UserView {
        let lock = crate::rules::current_lock(&self.lockout(), now);
        UserView {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role(),
            email_verified: self.email_verified_at.is_some(),
            totp_enabled: self.totp_enabled_at.is_some(),
            disabled: self.disabled_at.is_some(),
            created_at: self.created_at,
            last_active_at: self.last_active_at.filter(|t| *t > 0),
            locked: lock.is_some(),
            locked_until: match lock {
                Some(crate::rules::Lock::Until(t)) => Some(t),
                _ => None,
            },
            locked_permanently: self.locked_permanently,
            failed_count: self.failed_count,
            lock_count: self.lock_count,
            last_failed_at: self.last_failed_at,
            last_failed_ip: self.last_failed_ip.clone(),
        }
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

pub async fn by_email(db: &Db, email: &Email) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(email.as_str())
        .fetch_optional(p)
        .await?))
}

pub async fn by_id(db: &Db, id: Uuid) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(with_db!(db, |p| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(p)
        .await?))
}

/// Re-reads a user inside a write transaction and holds the row until the transaction ends, so that a
/// change computed from it (lockout counters, the live-session count) cannot race another one. PostgreSQL
/// locks the row (`FOR UPDATE`); a SQLite write transaction already holds the database's write lock.
pub async fn by_id_tx(tx: &mut Tx, id: Uuid) -> Result<Option<UserRow>> {
    let lock = match tx.backend() {
        crate::store::Backend::Postgres => " FOR UPDATE",
        crate::store::Backend::Sqlite => "",
    };
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1{lock}");
    Ok(with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// Finds a user by email or id, as typed by an operator.
pub async fn find(db: &Db, ident: &str) -> Result<UserRow> {
    let found = match Uuid::parse_str(ident.trim()) {
        Ok(id) => by_id(db, id).await?,
        Err(_) => by_email(db, &Email::parse(ident)?).await?,
    };
    found.ok_or_else(|| Error::UserNotFound(ident.trim().to_owned()))
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

/// Inserts a user; a taken email answers `email_taken`.
pub async fn insert(tx: &mut Tx, now: Millis, u: NewUser<'_>) -> Result<Uuid> {
    let name = u.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    // Names go into emails and every list: no line breaks, NULs or other control characters.
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must not contain control characters such as line breaks",
        ));
    }
    let id = Uuid::now_v7();
    let res = with_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO users (id, email, name, name_lower, role, email_verified_at, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
    )
    .bind(id)
    .bind(u.email.as_str())
    .bind(name)
    .bind(name.to_lowercase())
    .bind(u.role.as_str())
    .bind(u.email_verified_at)
    .bind(u.password_hash)
    .bind(now)
    .execute(c)
    .await.map(|r| r.rows_affected())
    });
    match res {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(Error::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    for term in search_terms(u.email.as_str(), &name.to_lowercase()) {
        with_tx!(tx, |c| sqlx::query(
            "INSERT INTO user_search_terms (term, user_id) VALUES ($1, $2)"
        )
        .bind(term)
        .bind(id)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(id)
}

/// Writes the lockout columns from `s`.
pub async fn store_lockout(tx: &mut Tx, id: Uuid, s: &LockoutState, now: Millis) -> Result<()> {
    with_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET failed_count = $2, window_started_at = $3, locked_until = $4, locked_permanently = $5, \
         lock_count = $6, last_locked_at = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id)
        .bind(i64::from(s.failed_count))
        .bind(s.window_started_at)
        .bind(s.locked_until)
        .bind(s.locked_permanently)
        .bind(i64::from(s.lock_count))
        .bind(s.last_locked_at)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
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

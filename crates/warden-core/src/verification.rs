//! Email verification: a one-time token per request, hashed at rest, valid for the policy's
//! `email_verification.token_ttl`. Spending it marks the address verified; a used, expired or superseded
//! token answers `invalid_token`. Asking for a new link never says whether the address has an account.

use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Record};
use crate::authz::Actor;
use crate::sessions::{hash_token, new_token};
use crate::users::{self, Email, UserRow};
use crate::{with_tx, Db, Error, Millis, Result, Secret};

pub const PURPOSE: &str = "email_verify";

/// Issues a verification token for `user` (shown once, for the email), superseding the unused ones
/// before it. `None` when the address is already verified.
pub async fn issue(db: &Db, now: Millis, user: &UserRow) -> Result<Option<Secret>> {
    if user.email_verified_at.is_some() {
        return Ok(None);
    }
    let (_, policy) = crate::policy_store::current(db).await?;
    let token = new_token();
    let mut tx = db.begin().await?;
    with_tx!(&mut tx, |c| {
        sqlx::query(
        "UPDATE verification_tokens SET expires_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
    )
    .bind(user.id)
    .bind(PURPOSE)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()
    });
    with_tx!(&mut tx, |c| {
        sqlx::query(
        "INSERT INTO verification_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(hash_token(token.expose()))
    .bind(user.id)
    .bind(PURPOSE)
    .bind(now)
    .bind(now + policy.email_verification.token_ttl.as_millis())
    .execute(c)
    .await?
    .rows_affected()
    });
    let actor = Actor::person(user.id, &user.email, user.role(), now);
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new("user.verification_requested").user(user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// A new link for `email`: the user and a token when the address belongs to an unverified account,
/// `None` otherwise (the door answers the same either way).
pub async fn request(db: &Db, now: Millis, email: &str) -> Result<Option<(UserRow, Secret)>> {
    let Ok(email) = Email::parse(email) else {
        return Ok(None);
    };
    let Some(user) = users::by_email(db, &email).await? else {
        return Ok(None);
    };
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(issue(db, now, &user).await?.map(|t| (user, t)))
}

/// Spends a token: marks its user's email verified. Unknown, used, expired or superseded tokens answer
/// `invalid_token`; the claim is one conditional update, so a token works exactly once.
pub async fn verify(db: &Db, now: Millis, token: &Secret) -> Result<Uuid> {
    let t = token.expose().trim();
    if t.is_empty() || t.len() > 256 {
        return Err(Error::InvalidToken);
    }
    let mut tx = db.begin().await?;
    let user_id: Option<Uuid> = with_tx!(&mut tx, |c| {
        sqlx::query_scalar(
        "UPDATE verification_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id"
    )
    .bind(hash_token(t))
    .bind(PURPOSE)
    .bind(now)
    .fetch_optional(c)
    .await?
    });
    let user_id = user_id.ok_or(Error::InvalidToken)?;
    let user = users::by_id_tx(&mut tx, user_id).await?.ok_or(Error::InvalidToken)?;
    with_tx!(&mut tx, |c| sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 WHERE id = $1"
    )
    .bind(user_id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    let actor = Actor::person(user.id, &user.email, user.role(), now);
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new("user.email_verified")
            .user(user.id)
            .meta(json!({ "was_verified": user.email_verified_at.is_some() })),
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

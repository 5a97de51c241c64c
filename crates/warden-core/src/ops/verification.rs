//! Email verification: a one-time token per request, hashed at rest, valid for the policy's
//! `email_verification.token_ttl`. Spending it marks the address verified; a used, expired or superseded
//! token answers `invalid_token`. Asking for a new link never says whether the address has an account.

use serde_json::json;
use uuid::Uuid;

use crate::model::audit::Record;
use crate::model::authz::Actor;
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::secret::Secret;
use crate::model::user::{Email, UserRow};
use crate::model::vocab::AuditAction;
use crate::rules::token::{hash_token, new_token};
use crate::store::{audit, policy_versions, tokens, users, Db};

pub const PURPOSE: &str = "email_verify";

/// Issues a verification token for `user` (shown once, for the email), superseding the unused ones
/// before it. `None` when the address is already verified.
pub async fn issue(db: &Db, now: Millis, user: &UserRow) -> Result<Option<Secret>> {
    if user.email_verified_at.is_some() {
        return Ok(None);
    }
    let (_, policy) = policy_versions::current(db).await?;
    let token = new_token();
    let mut tx = db.begin().await?;
    tokens::supersede(&mut tx, user.id, PURPOSE, now).await?;
    tokens::insert(
        &mut tx,
        &hash_token(token.expose()),
        user.id,
        PURPOSE,
        now,
        now + policy.email_verification.token_ttl.as_millis(),
    )
    .await?;
    let actor = Actor::person(user.id, &user.email, user.role(), now);
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::UserVerificationRequested).user(user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// Whether `email` should get a new link: its user when the address belongs to an unverified, enabled
/// account, `None` otherwise (the door answers the same either way).
pub async fn wants_link(db: &Db, email: &str) -> Result<Option<UserRow>> {
    let Ok(email) = Email::parse(email) else {
        return Ok(None);
    };
    let Some(user) = users::by_email(db, &email).await? else {
        return Ok(None);
    };
    Ok((user.disabled_at.is_none() && user.email_verified_at.is_none()).then_some(user))
}

/// Spends a token: marks its user's email verified. Unknown, used, expired or superseded tokens answer
/// `invalid_token`; the claim is one conditional update, so a token works exactly once.
pub async fn verify(db: &Db, now: Millis, token: &Secret) -> Result<Uuid> {
    let t = token.expose().trim();
    if t.is_empty() || t.len() > 256 {
        return Err(Error::InvalidToken);
    }
    let mut tx = db.begin().await?;
    let user_id = tokens::spend(&mut tx, &hash_token(t), PURPOSE, now)
        .await?
        .ok_or(Error::InvalidToken)?;
    let user = users::by_id_tx(&mut tx, user_id).await?.ok_or(Error::InvalidToken)?;
    users::mark_email_verified(&mut tx, user_id, now).await?;
    let actor = Actor::person(user.id, &user.email, user.role(), now);
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::UserEmailVerified)
            .user(user.id)
            .meta(json!({ "was_verified": user.email_verified_at.is_some() })),
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

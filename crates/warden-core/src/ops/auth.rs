//! Sign-in: password (argon2id), lockout, the TOTP or backup-code second step, and two-factor enrolment.
//!
//! An unknown email costs one dummy hash verification and answers exactly as a wrong password does.
//! Every attempt lands in `login_attempts`; failures and locks are audited.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::model::audit::Record;
use crate::model::authz::{Actor, ActorKind, Role};
use crate::model::clock::{Millis, MINUTE};
use crate::model::error::{Error, Result};
use crate::model::policy::{LockoutPolicy, Policy};
use crate::model::secret::Secret;
use crate::model::session::{ClientInfo, SessionRow};
use crate::model::user::Authenticated;
use crate::model::user::{check_name, Email, NewUser, UserRow};
use crate::model::vocab::{AttemptOutcome, AuditAction, AuthMethod};
use crate::ops;
use crate::rules::lockout::{self as rules, Lock, LockoutState};
use crate::rules::password;
use crate::rules::token::{hash_token, new_token};
use crate::rules::totp::{self, DataKey};
use crate::store::{audit, backup_codes, login_attempts, meta, policy_versions, sessions, tokens, users, Db, Tx};

/// How long the second step may follow the first.
pub const TOTP_CHALLENGE_TTL: Millis = 5 * MINUTE;
/// The purpose of the challenge token between the password and the second factor.
pub const TOTP_CHALLENGE: &str = "totp_challenge";
pub const BACKUP_CODES: usize = 10;

#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the session and its token (give it to the client once).
    Complete { session: Box<SessionRow>, token: Secret },
    /// Password accepted; a TOTP or backup code must follow with this challenge.
    TotpRequired { challenge: Secret },
}

fn lock_error(lock: Lock) -> Error {
    match lock {
        Lock::Until(t) => Error::Locked { until: Some(t) },
        Lock::Permanent => Error::Locked { until: None },
    }
}

fn attempt_actor(user: Option<&UserRow>, email: &str, info: &ClientInfo, now: Millis) -> Actor {
    Actor {
        id: user.map(|u| u.id),
        kind: ActorKind::User,
        label: email.to_owned(),
        role: user.map(UserRow::role).unwrap_or(Role::User),
        authenticated_at: now,
        session_id: None,
        ip: info.ip.clone(),
    }
}

/// At most this many recent failures are replayed for an address without an account.
const STAND_IN_HISTORY: i64 = 2_000;

/// How far back the stand-in looks: locks earlier than `reset_after` plus the longest lock are
/// forgotten, as an account's back-off is.
fn stand_in_horizon(p: &LockoutPolicy, now: Millis) -> Millis {
    now.saturating_sub(p.reset_after.as_millis())
        .saturating_sub(p.max_duration.as_millis())
        .saturating_sub(p.window.as_millis())
}

/// The policy's own rules replayed over an address's failures (given newest first).
fn replay(mut failures: Vec<Millis>, p: &LockoutPolicy) -> LockoutState {
    failures.reverse();
    failures.into_iter().fold(LockoutState::default(), |state, at| {
        rules::register_failure(&state, p, at).state
    })
}

/// The lockout state an account would have if `email` had one, read outside a transaction (the quick
/// check before any hashing, as an account's lock is checked before its password).
async fn stand_in_lockout(db: &Db, email: &str, p: &LockoutPolicy, now: Millis) -> Result<LockoutState> {
    let failures = login_attempts::unknown_failures(db, email, stand_in_horizon(p, now), STAND_IN_HISTORY).await?;
    Ok(replay(failures, p))
}

/// The same inside a write transaction, holding the address's stand-in lock until the transaction ends,
/// as [`users::by_id_tx`] holds an account's row: concurrent failures for one address are counted one
/// after the other, exactly as they are for an account.
async fn stand_in_lockout_tx(tx: &mut Tx, email: &str, p: &LockoutPolicy, now: Millis) -> Result<LockoutState> {
    let failures =
        login_attempts::unknown_failures_locked(tx, email, stand_in_horizon(p, now), STAND_IN_HISTORY).await?;
    Ok(replay(failures, p))
}

/// Counts a failed step (wrong password or code) against the user's lockout state, in one transaction
/// with its attempt and audit records. Returns the error to answer.
async fn fail(
    db: &Db,
    now: Millis,
    user_id: Uuid,
    info: &ClientInfo,
    outcome: AttemptOutcome,
    policy: &Policy,
) -> Result<Error> {
    let mut tx = db.begin().await?;
    let user = users::by_id_tx(&mut tx, user_id)
        .await?
        .ok_or_else(|| Error::UserNotFound(user_id.to_string()))?;
    let actor = attempt_actor(Some(&user), &user.email, info, now);
    if let Some(lock) = rules::current_lock(&rules::state_of(&user), now) {
        login_attempts::record(&mut tx, now, Some(user.id), &user.email, info, AttemptOutcome::Locked).await?;
        tx.commit().await?;
        return Ok(lock_error(lock));
    }
    let outcome_state = rules::register_failure(&rules::state_of(&user), &policy.lockout, now);
    users::store_lockout(&mut tx, user.id, &outcome_state.state, now).await?;
    users::record_failure_place(&mut tx, user.id, now, info.ip.as_deref()).await?;
    login_attempts::record(&mut tx, now, Some(user.id), &user.email, info, outcome).await?;
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::AuthSignInFailed)
            .failed()
            .user(user.id)
            .meta(json!({ "outcome": outcome.as_str() })),
    )
    .await?;
    let answer = match outcome_state.locked {
        Some(lock) => {
            let until = match lock {
                Lock::Until(t) => Some(t),
                Lock::Permanent => None,
            };
            audit::append(
                &mut tx,
                now,
                &Actor::system(),
                Record::new(AuditAction::UserLocked).user(user.id).meta(json!({
                    "until": until,
                    "permanent": until.is_none(),
                    "lock_count": outcome_state.state.lock_count,
                    // A lock is the failure that brings the window's count to the threshold.
                    "failures": policy.lockout.threshold,
                    "ip": info.ip,
                })),
            )
            .await?;
            lock_error(lock)
        }
        None if outcome == AttemptOutcome::BadTotp => Error::InvalidTotp,
        None => Error::InvalidCredentials,
    };
    tx.commit().await?;
    Ok(answer)
}

/// The signed-in user's password again, for an action that must not rest on the session alone. Refused
/// while the account is locked; a wrong one counts toward lockout.
async fn confirm_password(db: &Db, now: Millis, user: &UserRow, pw: &Secret, info: &ClientInfo) -> Result<()> {
    let (_, policy) = policy_versions::current(db).await?;
    if let Some(lock) = rules::current_lock(&rules::state_of(user), now) {
        return Err(lock_error(lock));
    }
    if pw.expose().chars().count() > policy.password.max_length as usize
        || !db.hashes().verify(pw, &user.password_hash, now).await?
    {
        return Err(fail(db, now, user.id, info, AttemptOutcome::BadPassword, &policy).await?);
    }
    Ok(())
}

/// After a correct password: re-hashes it when the stored hash's parameters are not the policy's, so that
/// a change of the argon2 cost reaches every account that signs in — and so that checking a wrong password
/// costs what checking an unknown address (the dummy, at the policy's cost) does.
async fn upgrade_hash(db: &Db, now: Millis, user: &UserRow, pw: &Secret, policy: &Policy) -> Result<()> {
    if !password::needs_rehash(&user.password_hash, &policy.password) {
        return Ok(());
    }
    let phc = db.hashes().hash(pw, &policy.password, now).await?;
    // Only over the hash that was checked: a password changed meanwhile is not overwritten.
    users::replace_password_hash(db, user.id, &user.password_hash, &phc, now).await
}

/// Failed sign-ins answer on a multiple of this many milliseconds after they began.
pub const FAILURE_QUANTUM_MS: u64 = 50;

/// How long a failed sign-in that took `elapsed` waits before answering: up to the next multiple of
/// [`FAILURE_QUANTUM_MS`]. A wrong password and an unknown address take different paths (different writes,
/// a real or a dummy hash); rounding both up to the same step leaves their difference out of the answer.
pub fn failure_padding(elapsed: std::time::Duration) -> std::time::Duration {
    let q = std::time::Duration::from_millis(FAILURE_QUANTUM_MS);
    let steps = elapsed.as_nanos() / q.as_nanos() + 1;
    let until = q * u32::try_from(steps).unwrap_or(u32::MAX);
    until.saturating_sub(elapsed)
}

/// First step: email and password. Failures (a wrong password, an unknown address, a lock) answer after
/// [`failure_padding`].
pub async fn sign_in(db: &Db, now: Millis, email: &str, pw: &Secret, info: &ClientInfo) -> Result<SignIn> {
    // Elapsed time, not the domain clock: this only paces the answer.
    let started = std::time::Instant::now();
    let answer = sign_in_unpadded(db, now, email, pw, info).await;
    if matches!(answer, Err(Error::InvalidCredentials | Error::Locked { .. })) {
        tokio::time::sleep(failure_padding(started.elapsed())).await;
    }
    answer
}

async fn sign_in_unpadded(db: &Db, now: Millis, email: &str, pw: &Secret, info: &ClientInfo) -> Result<SignIn> {
    let (_, policy) = policy_versions::current(db).await?;
    if pw.expose().chars().count() > policy.password.max_length as usize {
        // Guard the hasher; the answer is the same as for a wrong password.
        return Err(Error::InvalidCredentials);
    }
    let email_norm = Email::parse(email).ok();
    let user = match &email_norm {
        Some(e) => users::by_email(db, e).await?,
        None => None,
    };
    let Some(user) = user else {
        let tried = email_norm
            .as_ref()
            .map(Email::as_str)
            .unwrap_or(email)
            .chars()
            .take(254)
            // What was typed is kept for the record, but no control character reaches a text column.
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect::<String>();
        // An address without an account locks exactly as an account would, so that a run of failures
        // tells nothing about who has one; while "locked" it answers at once, as a locked account does.
        let stand_in = stand_in_lockout(db, &tried, &policy.lockout, now).await?;
        if let Some(lock) = rules::current_lock(&stand_in, now) {
            let mut tx = db.begin().await?;
            login_attempts::record(&mut tx, now, None, &tried, info, AttemptOutcome::Locked).await?;
            tx.commit().await?;
            return Err(lock_error(lock));
        }
        db.hashes().verify_dummy(pw, &policy.password, now).await?;
        // Counted as [`fail`] counts an account's failure: under the address's lock, against the state
        // read under it, so that a burst meets the threshold exactly as it would at a real account.
        let mut tx = db.begin().await?;
        let stand_in = stand_in_lockout_tx(&mut tx, &tried, &policy.lockout, now).await?;
        if let Some(lock) = rules::current_lock(&stand_in, now) {
            login_attempts::record(&mut tx, now, None, &tried, info, AttemptOutcome::Locked).await?;
            tx.commit().await?;
            return Err(lock_error(lock));
        }
        login_attempts::record(&mut tx, now, None, &tried, info, AttemptOutcome::UnknownUser).await?;
        audit::append(
            &mut tx,
            now,
            &attempt_actor(None, &tried, info, now),
            Record::new(AuditAction::AuthSignInFailed)
                .failed()
                .meta(json!({ "outcome": AttemptOutcome::UnknownUser.as_str() })),
        )
        .await?;
        tx.commit().await?;
        return Err(match rules::register_failure(&stand_in, &policy.lockout, now).locked {
            Some(lock) => lock_error(lock),
            None => Error::InvalidCredentials,
        });
    };
    if let Some(lock) = rules::current_lock(&rules::state_of(&user), now) {
        let mut tx = db.begin().await?;
        login_attempts::record(&mut tx, now, Some(user.id), &user.email, info, AttemptOutcome::Locked).await?;
        tx.commit().await?;
        return Err(lock_error(lock));
    }
    if !db.hashes().verify(pw, &user.password_hash, now).await? {
        if password::needs_rehash(&user.password_hash, &policy.password) {
            // A hash from before a change of the cost is checked at its own cost; the dummy check on top
            // keeps a wrong password from answering faster than an unknown address does.
            db.hashes().verify_dummy(pw, &policy.password, now).await?;
        }
        return Err(fail(db, now, user.id, info, AttemptOutcome::BadPassword, &policy).await?);
    }
    upgrade_hash(db, now, &user, pw, &policy).await?;
    if user.disabled_at.is_some() {
        return Err(Error::AccountDisabled);
    }
    if policy.email_verification.required_for_sign_in && user.email_verified_at.is_none() {
        return Err(Error::EmailNotVerified);
    }
    if user.totp_enabled_at.is_some() {
        let challenge = new_token();
        let mut tx = db.begin().await?;
        tokens::insert(
            &mut tx,
            &hash_token(challenge.expose()),
            user.id,
            TOTP_CHALLENGE,
            now,
            now + TOTP_CHALLENGE_TTL,
        )
        .await?;
        tx.commit().await?;
        return Ok(SignIn::TotpRequired { challenge });
    }
    let (session, token) = complete(db, now, &user, &policy, AuthMethod::Password, info).await?;
    Ok(SignIn::Complete {
        session: Box::new(session),
        token,
    })
}

/// The account a pending second-step challenge belongs to (for the door's per-account limit on that
/// step); `invalid_token` (`InvalidChallenge`) when the challenge is unknown, used or expired.
pub async fn challenge_user(db: &Db, now: Millis, challenge: &Secret) -> Result<Uuid> {
    tokens::owner(db, &hash_token(challenge.expose()), TOTP_CHALLENGE, now)
        .await?
        .ok_or(Error::InvalidChallenge)
}

/// Second step: a TOTP code (±1 step, never a used step again) or a one-time backup code.
///
/// The challenge is claimed first, inside the transaction that opens the session: a concurrent request
/// with the same challenge waits for it and then finds it used, so one challenge yields one session at
/// most. A wrong code rolls the claim back (the challenge stays usable until it expires) and counts
/// toward lockout.
pub async fn sign_in_totp(
    db: &Db,
    now: Millis,
    key: &DataKey,
    challenge: &Secret,
    code: &str,
    info: &ClientInfo,
) -> Result<(SessionRow, Secret)> {
    let (_, policy) = policy_versions::current(db).await?;
    let user_id = challenge_user(db, now, challenge).await?;
    let user = users::by_id(db, user_id).await?.ok_or(Error::InvalidChallenge)?;
    if let Some(lock) = rules::current_lock(&rules::state_of(&user), now) {
        return Err(lock_error(lock));
    }
    check_key(db, key).await?;
    let mut tx = db.begin().await?;
    let claimed = tokens::spend(&mut tx, &hash_token(challenge.expose()), TOTP_CHALLENGE, now).await?;
    if claimed != Some(user.id) {
        return Err(Error::InvalidChallenge);
    }
    // The row as it is now (held until commit): a code spent or a step claimed meanwhile counts.
    let user = users::by_id_tx(&mut tx, user.id)
        .await?
        .ok_or(Error::InvalidChallenge)?;
    let method = claim_second_factor(&mut tx, key, &user, code, now).await?;
    let Some(method) = method else {
        drop(tx);
        return Err(fail(db, now, user.id, info, AttemptOutcome::BadTotp, &policy).await?);
    };
    let out = complete_in(&mut tx, now, &user, &policy, method, info).await?;
    tx.commit().await?;
    out
}

/// Checks a second factor and spends it inside `tx`: a TOTP code (±1 step) claims its step atomically,
/// so a concurrent request with the same code loses and a used step never counts again; otherwise a
/// backup code is marked used. Returns the auth method it proves, or `None` when the code is wrong.
async fn claim_second_factor(
    tx: &mut Tx,
    key: &DataKey,
    user: &UserRow,
    code: &str,
    now: Millis,
) -> Result<Option<AuthMethod>> {
    let sealed = user.totp_secret.as_deref().ok_or(Error::TotpNotEnabled)?;
    let secret = totp::open(key, sealed, user.id.as_bytes())?;
    let code = code.trim();
    if let Some(step) = totp::verify_code(&secret, code, now, user.totp_last_step) {
        let claimed = users::claim_totp_step(tx, user.id, step).await?;
        return Ok(claimed.then_some(AuthMethod::PasswordTotp));
    }
    let used = backup_codes::spend(tx, user.id, &totp::hash_backup_code(key, code), now).await?;
    Ok(used.then_some(AuthMethod::BackupCode))
}

async fn complete(
    db: &Db,
    now: Millis,
    user: &UserRow,
    policy: &Policy,
    method: AuthMethod,
    info: &ClientInfo,
) -> Result<(SessionRow, Secret)> {
    let mut tx = db.begin().await?;
    let out = complete_in(&mut tx, now, user, policy, method, info).await?;
    tx.commit().await?;
    out
}

/// The successful end of a sign-in: reset the failure count, open the session, record and audit it.
///
/// The user's row is read again and held ([`users::by_id_tx`]) before anything is decided: a failure
/// that locked the account while the password was being checked wins (the attempt is recorded as
/// `locked` and the lock answers; the caller commits that record), and concurrent sign-ins of one
/// account count its live sessions one after the other, so `max_concurrent` holds by design.
async fn complete_in(
    tx: &mut Tx,
    now: Millis,
    user: &UserRow,
    policy: &Policy,
    method: AuthMethod,
    info: &ClientInfo,
) -> Result<Result<(SessionRow, Secret)>> {
    let user = users::by_id_tx(tx, user.id).await?.ok_or(Error::InvalidCredentials)?;
    let user = &user;
    if let Some(lock) = rules::current_lock(&rules::state_of(user), now) {
        login_attempts::record(tx, now, Some(user.id), &user.email, info, AttemptOutcome::Locked).await?;
        return Ok(Err(lock_error(lock)));
    }
    if user.disabled_at.is_some() {
        return Err(Error::AccountDisabled);
    }
    users::store_lockout(tx, user.id, &rules::register_success(&rules::state_of(user)), now).await?;
    let (session, token) = ops::sessions::create(tx, now, user, policy, method, info).await?;
    ops::detection::check(tx, now, &session, &policy.detection).await?;
    users::set_last_active(tx, user.id, now).await?;
    login_attempts::record(tx, now, Some(user.id), &user.email, info, AttemptOutcome::Success).await?;
    let mut actor = attempt_actor(Some(user), &user.email, info, now);
    actor.session_id = Some(session.id);
    audit::append(
        tx,
        now,
        &actor,
        Record::new(AuditAction::AuthSignedIn)
            .user(user.id)
            .session(session.id)
            .meta(json!({
                "auth_method": method.as_str(),
                "device": session.device,
                "client": session.client,
            })),
    )
    .await?;
    Ok(Ok((session, token)))
}

/// Proves again who holds a live session (password, and a TOTP or backup code when two-factor is on), for
/// privileged actions that need an authentication newer than `privileged.reauth_after`. Failures count
/// toward lockout like a sign-in. On success the session's `authenticated_at` moves to now (timeline
/// event `elevated`, audit `auth.reauthenticated`).
pub async fn reauthenticate(
    db: &Db,
    now: Millis,
    key: Option<&DataKey>,
    me: &Authenticated,
    pw: &Secret,
    code: Option<&str>,
    info: &ClientInfo,
) -> Result<SessionRow> {
    let (_, policy) = policy_versions::current(db).await?;
    let user = users::by_id(db, me.user.id).await?.ok_or(Error::Unauthenticated)?;
    if let Some(lock) = rules::current_lock(&rules::state_of(&user), now) {
        return Err(lock_error(lock));
    }
    if pw.expose().chars().count() > policy.password.max_length as usize {
        return Err(Error::InvalidCredentials);
    }
    if !db.hashes().verify(pw, &user.password_hash, now).await? {
        return Err(fail(db, now, user.id, info, AttemptOutcome::BadPassword, &policy).await?);
    }
    let mut tx = db.begin().await?;
    if user.totp_enabled_at.is_some() {
        let key = key.ok_or_else(|| Error::DataKey("the data key is needed to check two-factor codes".into()))?;
        if claim_second_factor(&mut tx, key, &user, code.unwrap_or(""), now)
            .await?
            .is_none()
        {
            drop(tx);
            return Err(fail(db, now, user.id, info, AttemptOutcome::BadTotp, &policy).await?);
        }
    }
    let updated = sessions::set_authenticated(&mut tx, me.session.id, now).await?;
    if !updated {
        return Err(Error::Unauthenticated);
    }
    sessions::event(
        &mut tx,
        me.session.id,
        user.id,
        now,
        "elevated",
        info.ip.as_deref(),
        Some("reauthenticated"),
    )
    .await?;
    let mut actor = me.actor();
    actor.authenticated_at = now;
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::AuthReauthenticated)
            .user(user.id)
            .session(me.session.id),
    )
    .await?;
    tx.commit().await?;
    sessions::by_id(db, me.session.id).await?.ok_or(Error::Unauthenticated)
}

/// Checks the data key against the fingerprint the database recorded when the first secret was sealed,
/// recording it on first use. A different key is a clear error, never garbage.
pub async fn check_key(db: &Db, key: &DataKey) -> Result<()> {
    let fp = key.fingerprint();
    let stored = meta::data_key_fingerprint(db).await?;
    match stored {
        Some(s) if s == fp => Ok(()),
        Some(_) => Err(Error::DataKey(
            "this is not the data key of this database (its fingerprint differs): set WARDEN_DATA_KEY to the key the secrets were sealed with".into(),
        )),
        None => {
            meta::record_data_key_fingerprint(db, &fp).await?;
            Ok(())
        }
    }
}

/// What a user gets when two-factor is switched on: shown once.
#[derive(Debug, Serialize, Deserialize)]
pub struct TotpActivated {
    pub backup_codes: Vec<String>,
}

/// Starts enrolment for the holder of `me`: a new secret, sealed with the data key and bound to the
/// user, pending confirmation. Needs the account's password, so that a stolen session cannot put the
/// attacker's authenticator between the owner and their account. A wrong password counts toward lockout
/// like a failed sign-in. Through a session whose flagged sign-in asks for a step-up,
/// `reauth_required` ([`ops::detection::step_up_due`]).
pub async fn totp_begin(
    db: &Db,
    now: Millis,
    key: &DataKey,
    me: &Authenticated,
    pw: &Secret,
    issuer: &str,
    info: &ClientInfo,
) -> Result<totp::TotpEnrollment> {
    let user = &me.user;
    if user.totp_enabled_at.is_some() {
        return Err(Error::TotpAlreadyEnabled);
    }
    let refused = Record::new(AuditAction::UserTotpEnabled)
        .user(user.id)
        .meta(json!({ "step": "begin" }));
    ops::detection::require_step_up(db, now, me, refused).await?;
    confirm_password(db, now, user, pw, info).await?;
    check_key(db, key).await?;
    let secret = totp::new_totp_secret();
    let enrollment = totp::enrollment(&secret, &user.email, issuer)?;
    let sealed = totp::seal(key, &secret, user.id.as_bytes());
    users::set_pending_totp(db, user.id, &sealed, now).await?;
    Ok(enrollment)
}

/// Confirms the enrolment of `me`'s user with a first valid code; switches two-factor on and returns
/// fresh backup codes. Through a session whose flagged sign-in asks for a step-up, `reauth_required`.
pub async fn totp_confirm(
    db: &Db,
    now: Millis,
    key: &DataKey,
    me: &Authenticated,
    code: &str,
) -> Result<TotpActivated> {
    let user = &users::by_id(db, me.user.id).await?.ok_or(Error::Unauthenticated)?;
    if user.totp_enabled_at.is_some() {
        return Err(Error::TotpAlreadyEnabled);
    }
    let refused = Record::new(AuditAction::UserTotpEnabled)
        .user(user.id)
        .meta(json!({ "step": "confirm" }));
    ops::detection::require_step_up(db, now, me, refused).await?;
    let sealed = user.totp_secret.as_deref().ok_or(Error::TotpNotEnabled)?;
    let secret = totp::open(key, sealed, user.id.as_bytes())?;
    let step = totp::verify_code(&secret, code, now, user.totp_last_step).ok_or(Error::InvalidTotp)?;
    let codes = totp::generate_backup_codes(BACKUP_CODES);
    let mut tx = db.begin().await?;
    users::enable_totp(&mut tx, user.id, now, step).await?;
    let hashes: Vec<String> = codes.iter().map(|c| totp::hash_backup_code(key, c.expose())).collect();
    backup_codes::replace(&mut tx, user.id, &hashes).await?;
    let actor = Actor::person(user.id, &user.email, user.role(), now);
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::UserTotpEnabled).user(user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(TotpActivated {
        backup_codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
    })
}

/// Switches two-factor off for `me`'s user, only with a valid current code (a used step does not count),
/// so a stolen session alone cannot remove the second factor; deletes the secret and the backup codes.
/// Wrong codes count toward lockout, and a locked account cannot switch it off: a stolen session cannot
/// guess its way through the million codes. Through a session whose flagged sign-in asks for a step-up,
/// `reauth_required`.
pub async fn totp_disable(
    db: &Db,
    now: Millis,
    key: &DataKey,
    me: &Authenticated,
    code: &str,
    info: &ClientInfo,
) -> Result<()> {
    let user = &users::by_id(db, me.user.id).await?.ok_or(Error::Unauthenticated)?;
    if user.totp_enabled_at.is_none() {
        return Err(Error::TotpNotEnabled);
    }
    let refused = Record::new(AuditAction::UserTotpDisabled).user(user.id);
    ops::detection::require_step_up(db, now, me, refused).await?;
    let (_, policy) = policy_versions::current(db).await?;
    if let Some(lock) = rules::current_lock(&rules::state_of(user), now) {
        return Err(lock_error(lock));
    }
    let sealed = user.totp_secret.as_deref().ok_or(Error::TotpNotEnabled)?;
    check_key(db, key).await?;
    let secret = totp::open(key, sealed, user.id.as_bytes())?;
    let Some(step) = totp::verify_code(&secret, code, now, user.totp_last_step) else {
        return Err(fail(db, now, user.id, info, AttemptOutcome::BadTotp, &policy).await?);
    };
    let mut tx = db.begin().await?;
    let cleared = users::clear_totp(&mut tx, user.id, now, Some(step)).await?;
    if !cleared {
        return Err(Error::InvalidTotp);
    }
    backup_codes::replace(&mut tx, user.id, &[]).await?;
    let actor = Actor::person(user.id, &user.email, user.role(), now);
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::UserTotpDisabled).user(user.id),
    )
    .await?;
    tx.commit().await
}

/// A new account, as [`sign_up`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a Secret,
    pub role: Role,
    /// Created with its email already verified (an admin vouches for it).
    pub verified: bool,
    /// Where the request came from, for the `user.created` audit event.
    pub ip: Option<&'a str>,
}

/// Creates an account after checking the password policy (`password_rejected` names the rule).
pub async fn sign_up(db: &Db, now: Millis, account: &NewAccount<'_>) -> Result<Uuid> {
    let NewAccount {
        email,
        name,
        password: pw,
        role,
        verified,
        ip,
    } = *account;
    let email = Email::parse(email)?;
    let name = check_name(name)?;
    let (_, policy) = policy_versions::current(db).await?;
    password::check_strength(pw, &policy.password, &[email.as_str(), name])?;
    let phc = db.hashes().hash(pw, &policy.password, now).await?;
    let mut tx = db.begin().await?;
    let id = users::insert(
        &mut tx,
        now,
        NewUser {
            email: &email,
            name,
            role,
            password_hash: &phc,
            email_verified_at: verified.then_some(now),
        },
    )
    .await?;
    let actor = Actor {
        ip: ip.map(str::to_owned),
        ..Actor::person(id, email.as_str(), role, now)
    };
    audit::append(
        &mut tx,
        now,
        &actor,
        Record::new(AuditAction::UserCreated)
            .user(id)
            .meta(json!({ "role": role.as_str() })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod padding_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failures_answer_on_the_next_step() {
        let ms = Duration::from_millis;
        assert_eq!(failure_padding(ms(21)), ms(29), "21 ms → 50 ms");
        assert_eq!(
            failure_padding(ms(24)) + ms(24),
            failure_padding(ms(21)) + ms(21),
            "both answer at 50 ms"
        );
        assert_eq!(failure_padding(ms(50)), ms(50), "exactly on a step → the next one");
        assert_eq!(failure_padding(ms(120)) + ms(120), ms(150));
    }
}

//! The handlers. Each parses its input, calls one warden-core function and maps the answer; the rules
//! (lockout, expiry, limits, who may do what) are the engine's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use warden_core::model::authz::Permission;
use warden_core::model::error::ErrorCode;
use warden_core::model::vocab::SessionStatus;
use warden_core::ops::account::{self, OwnEventsQuery};
use warden_core::ops::auth::{self, SignIn};
use warden_core::ops::detection;
use warden_core::ops::sessions::{self, SessionRow, SessionView};
use warden_core::ops::users::{self, UserRow};
use warden_core::ops::{admin, policy as policy_store};
use warden_core::{Error, Millis, Role, Secret};

use crate::http::{
    cookie, csrf_for, ApiClient, ApiError, Body, Client, Cookies, ErrorBody, Me, Params, PathId, CHALLENGE_COOKIE,
};
use crate::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// The 403 of a self-service action that a flagged session must re-authenticate for (step-up), beside
/// the origin and CSRF checks every state-changing request passes.
const STEP_UP_403: &str = "reauth_required: this session's sign-in was flagged as unusual and the flag is still \
open: re-authenticate (POST /api/auth/reauthenticate), then try again; or origin_not_allowed / csrf_token_invalid: \
the request's Origin or x-csrf-token is not right";

/// RFC 3339 in UTC with milliseconds.
pub fn time(ms: Millis) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A session as its owner sees it. No part of its token is ever given back: the token is shown once,
/// at sign-in, and only its hash is stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub device: String,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// ISO 3166 country code from the trusted proxy's header.
    pub country: Option<String>,
    pub city: Option<String>,
    /// `password`, `password+totp` or `backup_code`.
    pub auth_method: String,
    pub client: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub is_current: bool,
    /// `active`, or how it ended: `revoked`, `idle`, `absolute` (its maximum lifetime) or `expired`.
    pub status: String,
    /// `status` is not `active`.
    pub is_expired: bool,
    /// When it ended, if it has ended (the stored end: a revocation, or when a rule ended it).
    pub ended_at: Option<String>,
    /// Why it was revoked (`user_logout`, `admin`, `idle`, …), if it was.
    pub revoke_reason: Option<String>,
}

impl SessionOut {
    fn new(s: &SessionRow, is_current: bool) -> SessionOut {
        SessionOut::with_status(s, is_current, SessionStatus::Active)
    }

    fn with_status(s: &SessionRow, is_current: bool, status: SessionStatus) -> SessionOut {
        SessionOut {
            id: s.id,
            user_id: s.user_id,
            device: s.device.clone(),
            browser: s.browser.clone(),
            browser_version: s.browser_version.clone(),
            os: s.os.clone(),
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            country: s.country.clone(),
            city: s.city.clone(),
            auth_method: s.auth_method.clone(),
            client: s.client.clone(),
            created_at: time(s.created_at),
            last_seen_at: time(s.last_seen_at),
            expires_at: time(s.expires_at),
            is_current,
            status: status.as_str().to_owned(),
            is_expired: status != SessionStatus::Active,
            ended_at: s.revoked_at.map(time),
            revoke_reason: s.revoke_reason.clone(),
        }
    }

    fn from_view(v: &SessionView) -> SessionOut {
        SessionOut::with_status(&v.session, v.is_current, v.status)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// `user`, `support` or `security_admin`.
    pub role: String,
    pub email_verified: bool,
    pub totp_enabled: bool,
}

impl UserOut {
    fn new(u: &UserRow) -> UserOut {
        UserOut {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role().as_str().to_owned(),
            email_verified: u.email_verified_at.is_some(),
            totp_enabled: u.totp_enabled_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

fn message(m: &str) -> Json<Message> {
    Json(Message { message: m.to_owned() })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub database: String,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(s): State<AppState>) -> ApiResult<Json<Health>> {
    policy_store::current(&s.db).await?;
    Ok(Json(Health {
        status: "ok".into(),
        database: s.db.backend().name().into(),
    }))
}

// No Debug: it holds a password.
#[derive(Deserialize, ToSchema)]
pub struct SignUpBody {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedUp {
    pub user: UserOut,
    /// Whether the mail server accepted the verification email (never without SMTP configured).
    pub verification_email_sent: bool,
    /// The email could not be delivered yet: it is kept and tried again (see `message`).
    pub verification_email_queued: bool,
    /// What happened to the verification email, in words.
    pub message: String,
}

/// Creates an account under the password policy (400 `password_rejected` names the rule).
#[utoipa::path(post, path = "/api/auth/sign-up", tag = "auth", request_body = SignUpBody,
    responses((status = 201, body = SignedUp), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn sign_up(
    State(s): State<AppState>,
    Client(client): Client,
    Body(b): Body<SignUpBody>,
) -> ApiResult<Response> {
    let now = s.now();
    s.limit_sign_up(&client, &b.email, now).await?;
    let id = auth::sign_up(
        &s.db,
        now,
        &auth::NewAccount {
            email: &b.email,
            name: &b.name,
            password: &Secret::new(b.password),
            role: Role::User,
            verified: false,
            ip: client.ip.as_deref(),
        },
    )
    .await?;
    let user = users::by_id(&s.db, id)
        .await?
        .ok_or(Error::UserNotFound(id.to_string()))?;
    let sent = s.send_verification(&user, now).await?;
    let message = match sent {
        None => "account created; this server sends no email",
        Some(true) => "account created; a verification email is on its way",
        Some(false) => {
            "account created; the verification email could not be delivered yet: it is queued and will be tried again"
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(SignedUp {
            user: UserOut::new(&user),
            verification_email_sent: sent == Some(true),
            verification_email_queued: sent == Some(false),
            message: message.to_owned(),
        }),
    )
        .into_response())
}

// No Debug: it holds a password.
#[derive(Deserialize, ToSchema)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
    /// Ask for a bearer session: the token comes back in the body (send it as `Authorization: Bearer
    /// <token>`) and no cookie is set. For API clients (mobile apps, scripts); a request without an
    /// `Origin` header must ask for one.
    #[serde(default)]
    pub bearer: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// True when the password was right and a TOTP or backup code must follow at /api/auth/sign-in/totp.
    pub totp_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserOut>,
    /// The value to send as `x-csrf-token` on state-changing requests (also in the `warden_csrf` cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// A bearer session's token (asked for with `bearer`): shown this once, never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A bearer sign-in's pending second step: send it back as `challenge` to /api/auth/sign-in/totp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// A request without an `Origin` (an API client) asking for a cookie session.
fn cookies_need_an_origin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::OriginNotAllowed,
        "a request without an Origin header can only ask for a bearer session: send \"bearer\": true and then \
         Authorization: Bearer <token>",
    )
}

/// Signs in with email and password. Unknown emails answer exactly as a wrong password.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", request_body = SignInBody,
    responses((status = 200, body = SignedIn, description = "signed in (Set-Cookie warden_session, warden_csrf), or totp_required"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "session_limit_reached: the concurrent-session limit is reached and the policy rejects new sessions"),
              (status = 429, body = ErrorBody, description = "locked or rate-limited; see Retry-After"),
              (status = 503, body = ErrorBody, description = "overloaded: too many sign-ins are being checked; see Retry-After")))]
pub async fn sign_in(
    State(s): State<AppState>,
    Client(client): Client,
    ApiClient(api_client): ApiClient,
    Body(b): Body<SignInBody>,
) -> ApiResult<Response> {
    if api_client && !b.bearer {
        return Err(cookies_need_an_origin());
    }
    let now = s.now();
    s.limit_sign_in(&client, &b.email, now).await?;
    match auth::sign_in(&s.db, now, &b.email, &Secret::new(b.password), &client).await? {
        SignIn::Complete { session, token } => signed_in(&s, now, &session, &token, b.bearer).await,
        SignIn::TotpRequired { challenge } => {
            let ttl = auth::TOTP_CHALLENGE_TTL / 1000;
            let body = SignedIn {
                totp_required: true,
                session: None,
                user: None,
                csrf_token: None,
                token: None,
                challenge: b.bearer.then(|| challenge.expose().to_owned()),
            };
            if b.bearer {
                return Ok(Json(body).into_response());
            }
            Ok((Cookies { state: &s }.challenge(&challenge, ttl), Json(body)).into_response())
        }
    }
}

async fn signed_in(
    s: &AppState,
    now: Millis,
    session: &SessionRow,
    token: &Secret,
    bearer: bool,
) -> ApiResult<Response> {
    let user = users::by_id(&s.db, session.user_id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let mut body = SignedIn {
        totp_required: false,
        session: Some(SessionOut::new(session, true)),
        user: Some(UserOut::new(&user)),
        csrf_token: None,
        token: None,
        challenge: None,
    };
    if bearer {
        body.token = Some(token.expose().to_owned());
        return Ok(Json(body).into_response());
    }
    let (_, policy) = policy_store::current(&s.db).await?;
    let lifetime = policy.session_limits(session.privileged).max_lifetime.as_millis();
    let max_age = ((session.created_at + lifetime - now) / 1000).max(1);
    body.csrf_token = Some(csrf_for(token.expose()));
    Ok((Cookies { state: s }.session(token, max_age), Json(body)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeBody {
    /// A 6-digit TOTP code or a backup code.
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SecondStepBody {
    /// A 6-digit TOTP code or a backup code.
    pub code: String,
    /// A bearer sign-in's challenge (from the first step's body); a cookie sign-in sends none.
    pub challenge: Option<String>,
    /// Ask for a bearer session, as in the first step.
    #[serde(default)]
    pub bearer: bool,
}

/// The second step of a sign-in: the challenge cookie set by /api/auth/sign-in and a TOTP or backup code.
#[utoipa::path(post, path = "/api/auth/sign-in/totp", tag = "auth", request_body = SecondStepBody,
    responses((status = 200, body = SignedIn), (status = 400, body = ErrorBody, description = "no or expired challenge"),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sign_in_totp(
    State(s): State<AppState>,
    Client(client): Client,
    ApiClient(api_client): ApiClient,
    headers: axum::http::HeaderMap,
    Body(b): Body<SecondStepBody>,
) -> ApiResult<Response> {
    if api_client && !b.bearer {
        return Err(cookies_need_an_origin());
    }
    let now = s.now();
    let challenge = b
        .challenge
        .filter(|c| !c.trim().is_empty())
        .or_else(|| cookie(&headers, CHALLENGE_COOKIE))
        .ok_or(Error::InvalidChallenge)?;
    let challenge = Secret::new(challenge);
    let user_id = auth::challenge_user(&s.db, now, &challenge).await?;
    s.limit_sign_in_code(&client, user_id, now).await?;
    let key = s.data_key()?;
    let (session, token) = auth::sign_in_totp(&s.db, now, key, &challenge, &b.code, &client).await?;
    signed_in(&s, now, &session, &token, b.bearer).await
}

// No Debug: it holds a password.
#[derive(Deserialize, ToSchema)]
pub struct ReauthBody {
    pub password: String,
    /// A TOTP or backup code, when two-factor is on.
    pub code: Option<String>,
}

/// Proves again who holds the current session (password, and a code when two-factor is on): privileged
/// actions need an authentication newer than the policy's `privileged.reauth_after`, and a session whose
/// sign-in was flagged as unusual one newer than the flag before it ends other sessions or changes
/// two-factor; else they answer 403 `reauth_required`. Failures count toward lockout like a sign-in.
#[utoipa::path(post, path = "/api/auth/reauthenticate", tag = "auth", request_body = ReauthBody,
    responses((status = 200, body = CurrentSession), (status = 400, body = ErrorBody, description = "wrong password or code"),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody, description = "locked or rate-limited")))]
pub async fn reauthenticate(
    State(s): State<AppState>,
    me: Me,
    Body(b): Body<ReauthBody>,
) -> ApiResult<Json<CurrentSession>> {
    let now = s.now();
    s.limit_second_factor(&me.client, &me.auth.user, now).await?;
    let session = auth::reauthenticate(
        &s.db,
        now,
        s.key.as_deref(),
        &me.auth,
        &Secret::new(b.password),
        b.code.as_deref(),
        &me.client,
    )
    .await
    .map_err(session_stays)?;
    Ok(Json(CurrentSession {
        step_up_required: !detection::step_up_due(&s.db, &session).await?.is_empty(),
        session: SessionOut::new(&session, true),
        user: UserOut::new(&me.auth.user),
    }))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth",
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sign_out(State(s): State<AppState>, me: Me) -> ApiResult<Response> {
    sessions::sign_out(&s.db, s.now(), &me.auth).await?;
    Ok((Cookies { state: &s }.clear(), message("signed out")).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentSession {
    pub session: SessionOut,
    pub user: UserOut,
    /// This session's sign-in was flagged as unusual and the flag is still open: re-authenticate
    /// (`POST /api/auth/reauthenticate`) before ending other sessions or changing two-factor, which
    /// otherwise answer 403 `reauth_required`.
    pub step_up_required: bool,
}

/// The current session and its user, and whether it must re-authenticate before ending other sessions
/// or changing two-factor (`step_up_required`).
#[utoipa::path(get, path = "/api/auth/session", tag = "auth",
    responses((status = 200, body = CurrentSession), (status = 401, body = ErrorBody)))]
pub async fn current_session(State(s): State<AppState>, me: Me) -> ApiResult<Json<CurrentSession>> {
    Ok(Json(CurrentSession {
        step_up_required: !detection::step_up_due(&s.db, &me.auth.session).await?.is_empty(),
        session: SessionOut::new(&me.auth.session, true),
        user: UserOut::new(&me.auth.user),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Also list ended sessions (at most 1000 sessions in all), each with its status and end.
    #[serde(default)]
    pub include_expired: bool,
    /// Must be the caller's own id when given: a user lists only their own sessions.
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsOut {
    /// Newest first.
    pub sessions: Vec<SessionOut>,
    /// How many sessions are listed.
    pub count: usize,
    /// How many of them are active.
    pub active_count: usize,
}

/// The caller's sessions, newest first: the active ones, or with `include_expired=true` the ended ones
/// too. The list is never absent: `sessions` is `[]` when there are none.
#[utoipa::path(get, path = "/api/sessions", tag = "sessions", params(ListParams),
    responses((status = 200, body = SessionsOut), (status = 400, body = ErrorBody, description = "a query parameter is not valid"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "user_id names someone else")))]
pub async fn list_sessions(
    State(s): State<AppState>,
    me: Me,
    Params(q): Params<ListParams>,
) -> ApiResult<Json<SessionsOut>> {
    only_own(&me, q.user_id.as_deref())?;
    let views = sessions::list_own(&s.db, s.now(), &me.auth, q.include_expired).await?;
    let sessions: Vec<SessionOut> = views.iter().map(SessionOut::from_view).collect();
    let active_count = sessions.iter().filter(|x| !x.is_expired).count();
    Ok(Json(SessionsOut {
        count: sessions.len(),
        active_count,
        sessions,
    }))
}

/// A `user_id` parameter must name the caller: a user reads only their own sessions and events.
fn only_own(me: &Me, user_id: Option<&str>) -> ApiResult<()> {
    match user_id.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) if Uuid::parse_str(u).ok() != Some(me.auth.user.id) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "user_id: you can read only your own sessions and events",
        )
        .with_field("user_id")),
        _ => Ok(()),
    }
}

/// One of the caller's sessions, active or ended; unknown ids and other users' ids are both 404.
#[utoipa::path(get, path = "/api/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "the session id")),
    responses((status = 200, body = SessionOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_session(State(s): State<AppState>, me: Me, PathId(id): PathId) -> ApiResult<Json<SessionOut>> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| Error::SessionNotFound)?;
    let view = sessions::own(&s.db, s.now(), &me.auth, id).await?;
    Ok(Json(SessionOut::from_view(&view)))
}

/// Ends one of the caller's sessions; unknown ids and other users' ids are both 404 (and both audited
/// as a failed `session.revoked`). Ending a session other than the current one through a session whose
/// sign-in was flagged as unusual needs a re-authentication first (403 `reauth_required`, audited too);
/// ending the current one (signing out) never does.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "the session id")),
    responses((status = 200, body = Message), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = STEP_UP_403),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody, description = "too many revocations; see Retry-After")))]
pub async fn revoke_session(State(s): State<AppState>, me: Me, PathId(id): PathId) -> ApiResult<Response> {
    s.limit_revocation(&me.auth.user, s.now()).await?;
    if revoke_one(&s, &me, &id).await? {
        return Ok((
            Cookies { state: &s }.clear(),
            message("session revoked; you are signed out"),
        )
            .into_response());
    }
    Ok(message("session revoked").into_response())
}

/// Ends the caller's session named by `id` (404 alike for a malformed, unknown or foreign id); true when
/// it was the caller's current one, whose cookies the answer then clears.
async fn revoke_one(s: &AppState, me: &Me, id: &str) -> ApiResult<bool> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| Error::SessionNotFound)?;
    sessions::revoke_own(&s.db, s.now(), &me.auth, id).await?;
    Ok(id == me.auth.session.id)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    /// `others`: every session but the current one.
    pub scope: Option<String>,
    /// One session to end instead (the same as `DELETE /api/sessions/{id}`).
    pub session_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub message: String,
    /// How many sessions were ended.
    pub revoked: u64,
}

/// Ends all of the caller's sessions but the current one (`scope=others`), or one of them
/// (`session_id=…`, as `DELETE /api/sessions/{id}` does). Through a session whose sign-in was flagged as
/// unusual, either needs a re-authentication first (403 `reauth_required`), unless it ends the current
/// session.
#[utoipa::path(delete, path = "/api/sessions", tag = "sessions", params(ScopeQuery),
    responses((status = 200, body = Revoked, description = "how many were ended (1 for session_id)"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = STEP_UP_403),
              (status = 404, body = ErrorBody, description = "session_id: unknown or someone else's"),
              (status = 429, body = ErrorBody, description = "too many revocations; see Retry-After")))]
pub async fn revoke_other_sessions(
    State(s): State<AppState>,
    me: Me,
    Params(q): Params<ScopeQuery>,
) -> ApiResult<Response> {
    s.limit_revocation(&me.auth.user, s.now()).await?;
    match (q.scope.as_deref(), q.session_id.as_deref()) {
        (None, Some(id)) => {
            let current = revoke_one(&s, &me, id).await?;
            let body = Json(Revoked {
                message: "session revoked".into(),
                revoked: 1,
            });
            if current {
                return Ok((Cookies { state: &s }.clear(), body).into_response());
            }
            Ok(body.into_response())
        }
        (Some("others"), None) => {
            let n = sessions::revoke_others(&s.db, s.now(), &me.auth).await?;
            let noun = if n == 1 { "session" } else { "sessions" };
            Ok(Json(Revoked {
                message: format!("{n} other {noun} revoked"),
                revoked: n,
            })
            .into_response())
        }
        (Some(_), Some(_)) => Err(Error::invalid("scope", "give either scope=others or session_id, not both").into()),
        _ => Err(Error::invalid(
            "scope",
            "must be `others` (every session but the current one), or give session_id to end one session",
        )
        .into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// An event type (`session.revoked`) or a group ending in a dot (`session.`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `success` or `failure`.
    pub status: Option<String>,
    /// Page size, 1 to 200 [default 50].
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// Must be the caller's own id when given.
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    pub id: i64,
    pub at: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `success` or `failure`.
    pub status: String,
    /// `self`, `administrator` or `system`.
    pub actor: String,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageOut {
    pub events: Vec<AuditEventOut>,
    pub total: i64,
    pub limit: u32,
    pub next_cursor: Option<i64>,
    pub has_more: bool,
}

/// The caller's own audit events, newest first, filtered by type and status, keyset-paged.
#[utoipa::path(get, path = "/api/sessions/audit", tag = "sessions", params(AuditParams),
    responses((status = 200, body = AuditPageOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "user_id names someone else")))]
pub async fn own_audit(
    State(s): State<AppState>,
    me: Me,
    Params(q): Params<AuditParams>,
) -> ApiResult<Json<AuditPageOut>> {
    only_own(&me, q.user_id.as_deref())?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(account::parse_status)
        .transpose()?;
    let page = account::own_events(
        &s.db,
        &me.auth,
        &OwnEventsQuery {
            action: q.kind,
            status,
            cursor: q.cursor,
            limit: q.limit,
        },
    )
    .await?;
    Ok(Json(AuditPageOut {
        events: page
            .events
            .into_iter()
            .map(|e| AuditEventOut {
                id: e.id,
                at: time(e.at),
                kind: e.action,
                status: e.status,
                actor: e.actor,
                session_id: e.session_id,
                ip: e.ip,
                reason: e.reason,
                metadata: e.metadata,
            })
            .collect(),
        total: page.total,
        limit: page.limit,
        next_cursor: page.next_cursor,
        has_more: page.has_more,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// Why, for the audit log.
    pub reason: String,
}

/// Ends every session of a user (support and security admins; the same rules as the console).
#[utoipa::path(post, path = "/api/admin/users/{id}/revoke-sessions", tag = "admin", request_body = ReasonBody,
    params(("id" = String, Path, description = "the user id")),
    responses((status = 200, body = Revoked), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn admin_revoke_user_sessions(
    State(s): State<AppState>,
    me: Me,
    PathId(id): PathId,
    body: Result<Body<ReasonBody>, ApiError>,
) -> ApiResult<Json<Revoked>> {
    // Who may act is answered before what they sent.
    me.auth.actor().require(Permission::RevokeUserSessions)?;
    let staff = me.auth.staff()?;
    let Body(b) = body?;
    let id = Uuid::parse_str(id.trim()).map_err(|_| Error::UserNotFound(id.clone()))?;
    let n = admin::revoke_user_sessions(&s.db, &staff, s.now(), &id.to_string(), &b.reason).await?;
    Ok(Json(Revoked {
        message: format!("{n} session(s) revoked"),
        revoked: n,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrollmentOut {
    /// The base32 secret, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_url: String,
    /// A QR code of the otpauth URL, PNG in base64.
    pub qr_png_base64: String,
}

/// Starts two-factor enrolment: a new secret, pending a first valid code at /verify. Through a session
/// whose sign-in was flagged as unusual, only after a re-authentication (403 `reauth_required`).
#[utoipa::path(post, path = "/api/auth/two-factor/enable", tag = "two-factor", request_body = PasswordBody,
    responses((status = 200, body = TotpEnrollmentOut), (status = 400, body = ErrorBody, description = "wrong password (counts toward lockout)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = STEP_UP_403), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "locked or rate-limited"),
              (status = 503, body = ErrorBody, description = "no data key configured, or too many password checks at once (see Retry-After)")))]
pub async fn totp_enable(
    State(s): State<AppState>,
    me: Me,
    Body(b): Body<PasswordBody>,
) -> ApiResult<Json<TotpEnrollmentOut>> {
    s.limit_enrolment(&me.client, &me.auth.user, s.now()).await?;
    let e = auth::totp_begin(
        &s.db,
        s.now(),
        s.data_key()?,
        &me.auth,
        &Secret::new(b.password),
        &s.cfg.totp_issuer,
        &me.client,
    )
    .await
    .map_err(session_stays)?;
    Ok(Json(TotpEnrollmentOut {
        secret: e.secret_base32.expose().to_owned(),
        otpauth_url: e.otpauth_url.expose().to_owned(),
        qr_png_base64: e.qr_png_base64,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnabled {
    pub message: String,
    /// One-time backup codes, shown only now.
    pub backup_codes: Vec<String>,
}

/// Confirms enrolment with a first valid code: two-factor is on from now, and backup codes are issued.
/// Through a session whose sign-in was flagged as unusual, only after a re-authentication (403
/// `reauth_required`).
#[utoipa::path(post, path = "/api/auth/two-factor/verify", tag = "two-factor", request_body = CodeBody,
    responses((status = 200, body = TotpEnabled), (status = 400, body = ErrorBody, description = "wrong code"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = STEP_UP_403), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "rate-limited")))]
pub async fn totp_verify(State(s): State<AppState>, me: Me, Body(b): Body<CodeBody>) -> ApiResult<Json<TotpEnabled>> {
    s.limit_second_factor(&me.client, &me.auth.user, s.now()).await?;
    let done = auth::totp_confirm(&s.db, s.now(), s.data_key()?, &me.auth, &b.code)
        .await
        .map_err(session_stays)?;
    Ok(Json(TotpEnabled {
        message: "two-factor authentication is on".into(),
        backup_codes: done.backup_codes,
    }))
}

/// Switches two-factor off; only with a valid current code. Through a session whose sign-in was flagged
/// as unusual, only after a re-authentication (403 `reauth_required`).
#[utoipa::path(post, path = "/api/auth/two-factor/disable", tag = "two-factor", request_body = CodeBody,
    responses((status = 200, body = Message), (status = 400, body = ErrorBody, description = "wrong code (counts toward lockout)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = STEP_UP_403), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "locked or rate-limited")))]
pub async fn totp_disable(State(s): State<AppState>, me: Me, Body(b): Body<CodeBody>) -> ApiResult<Json<Message>> {
    s.limit_second_factor(&me.client, &me.auth.user, s.now()).await?;
    auth::totp_disable(&s.db, s.now(), s.data_key()?, &me.auth, &b.code, &me.client)
        .await
        .map_err(session_stays)?;
    Ok(message("two-factor authentication is off"))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The account's password, again.
    pub password: String,
}

/// A wrong password or code typed while signed in is 400: the session itself is fine, and 401 would
/// tell the client it was signed out.
fn session_stays(e: Error) -> ApiError {
    match e {
        Error::InvalidCredentials | Error::InvalidTotp => {
            let field = if matches!(e, Error::InvalidTotp) {
                "code"
            } else {
                "password"
            };
            let mut err = ApiError::from(e);
            err.status = StatusCode::BAD_REQUEST;
            err.with_field(field)
        }
        other => other.into(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailBody {
    pub email: String,
}

/// Sends a new verification link. The answer is the same whether or not the address has an account.
#[utoipa::path(post, path = "/api/auth/verification-email", tag = "auth", request_body = EmailBody,
    responses((status = 202, body = Message), (status = 429, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "no SMTP server configured")))]
pub async fn verification_email(
    State(s): State<AppState>,
    Client(client): Client,
    Body(b): Body<EmailBody>,
) -> ApiResult<Response> {
    let now = s.now();
    if s.mailer.is_none() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::EmailUnavailable,
            "this server sends no email (no SMTP server is configured)",
        ));
    }
    s.limit_verification(&client, &b.email, now).await?;
    // The lookup and the new token are written after the answer: how long it takes must not say
    // whether the address has an account still to be verified.
    let (state, email) = (s.clone(), b.email);
    tokio::spawn(async move {
        let user = match warden_core::ops::verification::wants_link(&state.db, &email).await {
            Ok(Some(user)) => user,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "a verification email could not be prepared");
                return;
            }
        };
        if let Err(e) = state.send_verification(&user, now).await {
            tracing::warn!(code = e.code(), error = %e, "a verification email could not be queued");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        message("if the address belongs to an account still to be verified, a new link is on its way"),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenParams {
    /// The token from the verification link.
    pub token: Option<String>,
}

/// Spends a verification token: the address is verified. Used, expired or unknown tokens are 400.
#[utoipa::path(get, path = "/api/auth/verify-email", tag = "auth", params(TokenParams),
    responses((status = 200, body = Message), (status = 400, body = ErrorBody)))]
pub async fn verify_email(State(s): State<AppState>, Params(q): Params<TokenParams>) -> ApiResult<Json<Message>> {
    let token = q.token.filter(|t| !t.trim().is_empty()).ok_or(Error::InvalidToken)?;
    warden_core::ops::verification::verify(&s.db, s.now(), &Secret::new(token)).await?;
    Ok(message("email address verified"))
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such endpoint")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "this endpoint does not take that method",
    )
}

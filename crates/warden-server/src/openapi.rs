//! The OpenAPI document, generated from the handlers' annotations and types (utoipa).

use axum::Json;
use utoipa::OpenApi;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warden",
        description = "Sign-up, sign-in with lockout and two-factor, the caller's own sessions and audit events, \
and admin session revocation. The session travels in the HttpOnly cookie `warden_session`; every \
state-changing request needs an allowed `Origin`, and once signed in also the header `x-csrf-token` \
equal to the cookie `warden_csrf`. Errors are `{code, message, field?}`."
    ),
    paths(
        routes::healthz,
        routes::sign_up,
        routes::sign_in,
        routes::sign_in_totp,
        routes::sign_out,
        routes::current_session,
        routes::totp_enable,
        routes::totp_verify,
        routes::totp_disable,
        routes::verification_email,
        routes::verify_email,
        routes::list_sessions,
        routes::revoke_session,
        routes::revoke_other_sessions,
        routes::own_audit,
        routes::admin_revoke_user_sessions,
    ),
    tags(
        (name = "auth", description = "Accounts and sign-in"),
        (name = "sessions", description = "The caller's own sessions and audit events"),
        (name = "two-factor", description = "TOTP enrolment and removal"),
        (name = "admin", description = "Support and security admins"),
        (name = "server", description = "Operations"),
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

//! The OpenAPI document, generated from the handlers' annotations and types (utoipa).

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warden",
        description = "Sign-up, sign-in with lockout and two-factor, the caller's own sessions and audit events, \
and admin session revocation. The session travels in the HttpOnly cookie `warden_session`; every \
state-changing request needs an allowed `Origin`, and once signed in also the header `x-csrf-token` \
equal to the cookie `warden_csrf`. API clients without cookies (mobile apps, scripts) sign in with \
`\"bearer\": true` and send `Authorization: Bearer <token>` instead: no Origin and no CSRF token. A sign-in may \
name its application in `x-warden-client` (one of the server's `clients`). Errors are `{code, message, field?}`."
    ),
    paths(
        routes::healthz,
        routes::sign_up,
        routes::sign_in,
        routes::sign_in_totp,
        routes::sign_out,
        routes::reauthenticate,
        routes::current_session,
        routes::totp_enable,
        routes::totp_verify,
        routes::totp_disable,
        routes::verification_email,
        routes::verify_email,
        routes::list_sessions,
        routes::get_session,
        routes::revoke_session,
        routes::revoke_other_sessions,
        routes::own_audit,
        routes::admin_revoke_user_sessions,
    ),
    modifiers(&SessionCookie, &CommonAnswers),
    tags(
        (name = "auth", description = "Accounts and sign-in"),
        (name = "sessions", description = "The caller's own sessions and audit events"),
        (name = "two-factor", description = "TOTP enrolment and removal"),
        (name = "admin", description = "Support and security admins"),
        (name = "server", description = "Operations"),
    )
)]
pub struct ApiDoc;

/// The session cookie as the API's security scheme, required by the operations whose handlers take the
/// caller's session (`Me`). The HTTP tests call every documented operation without a cookie and check
/// that exactly these answer 401 `unauthenticated`, so the list cannot drift from the handlers.
struct SessionCookie;

pub const SECURITY_SCHEME: &str = "session_cookie";
/// The same session as a bearer token (`Authorization: Bearer`), the alternative to the cookie.
pub const BEARER_SCHEME: &str = "bearer";

/// The operation ids (handler names) that need a signed-in session.
pub const NEEDS_SESSION: &[&str] = &[
    "sign_out",
    "reauthenticate",
    "current_session",
    "list_sessions",
    "get_session",
    "revoke_session",
    "revoke_other_sessions",
    "own_audit",
    "totp_enable",
    "totp_verify",
    "totp_disable",
    "admin_revoke_user_sessions",
];

impl Modify for SessionCookie {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut value = ApiKeyValue::new(crate::http::SESSION_COOKIE);
        value.description = Some("The session token, set HttpOnly by sign-in; never readable by scripts.".into());
        components.add_security_scheme(SECURITY_SCHEME, SecurityScheme::ApiKey(ApiKey::Cookie(value)));
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A bearer session's token (sign in with \"bearer\": true): for API clients, without cookies or a CSRF \
             token."
                .into(),
        );
        components.add_security_scheme(BEARER_SCHEME, SecurityScheme::Http(bearer));
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                if op.operation_id.as_deref().is_some_and(|id| NEEDS_SESSION.contains(&id)) {
                    op.security = Some(vec![
                        SecurityRequirement::new(SECURITY_SCHEME, Vec::<String>::new()),
                        SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
                    ]);
                }
            }
        }
    }
}

/// The answers every operation of a kind can give, whatever its handler does: the request is checked
/// before the handler runs (origin, CSRF, body, path) and every handler reads the database. Added to
/// each operation that does not list them itself; the HTTP tests check every status they observe
/// against the document.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| -> RefOr<utoipa::openapi::Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let has_path_param = path.contains('{');
            let ops = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.put, true),
                (&mut item.patch, true),
            ];
            for (op, changes_state) in ops {
                let Some(op) = op.as_mut() else { continue };
                let has_body = op.request_body.is_some();
                let needs_session = op.operation_id.as_deref().is_some_and(|id| NEEDS_SESSION.contains(&id));
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description));
                };
                if has_body || has_path_param {
                    add(
                        "400",
                        "invalid_input: the body, a field or a path segment is not valid; `field` names it; or \
                         bad_request: the request is not valid HTTP",
                    );
                } else {
                    add(
                        "400",
                        "bad_request: the request is not valid HTTP (its request line or a header)",
                    );
                }
                add(
                    "414",
                    "uri_too_long: the path and query are longer than the server reads",
                );
                add(
                    "431",
                    "headers_too_large: the headers are larger than the server reads, or too many",
                );
                if has_body {
                    add(
                        "408",
                        "request_timeout: the body did not arrive within the body timeout",
                    );
                    add("413", "payload_too_large: the body is larger than the server accepts");
                    add("415", "unsupported_media_type: the body is not `application/json`");
                }
                if needs_session {
                    add("401", "unauthenticated: no valid session");
                }
                if changes_state {
                    add(
                        "403",
                        "origin_not_allowed: the Origin is not an allowed one; or, with a session cookie, \
                         csrf_token_invalid: x-csrf-token is missing or not this session's",
                    );
                }
                add(
                    "500",
                    "unexpected: logged on the server; or data_key_invalid: two-factor is not configured on this \
                     server",
                );
                add(
                    "503",
                    "database_unreachable: the database did not answer; or overloaded: too many password checks \
                     at once. Try again (see Retry-After)",
                );
            }
        }
    }
}

/// The document as committed in `docs/openapi.json`.
pub fn document_json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// `docs/openapi.json` is the document the server serves; `WARDEN_UPDATE_OPENAPI=1` rewrites it.
    #[test]
    fn committed_openapi_document_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let now = super::document_json();
        if std::env::var("WARDEN_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &now).expect("write docs/openapi.json");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == now,
            "docs/openapi.json is stale: run `WARDEN_UPDATE_OPENAPI=1 cargo test -p warden-server --lib openapi` and commit it"
        );
    }
}

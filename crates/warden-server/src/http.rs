//! The edges of the HTTP door: errors as `{code, message, field?}`, cookies, the CSRF checks, where a
//! request comes from, and extractors whose rejections are JSON errors too (never a bare text body).

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use warden_core::model::error::ErrorCode;
use warden_core::ops::sessions::{self, Authenticated, ClientInfo};
use warden_core::{Error, Millis, Secret};

use crate::config::ServerConfig;
use crate::AppState;

pub const SESSION_COOKIE: &str = "warden_session";
pub const CSRF_COOKIE: &str = "warden_csrf";
pub const CHALLENGE_COOKIE: &str = "warden_totp_challenge";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header in which an application names itself at sign-in (one of the server's `clients`).
pub const CLIENT_HEADER: &str = "x-warden-client";

/// An error answer. Engine errors keep their code; `retry_at` (unix ms) becomes `Retry-After` once the
/// response passes [`finish`], which knows the clock.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_at: Option<Millis>,
}

/// The wire form of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine code (`invalid_credentials`, `locked`, `session_not_found`, …).
    pub code: String,
    pub message: String,
    /// The input field the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.as_str(),
            message: message.into(),
            field: None,
            retry_at: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn unauthenticated() -> ApiError {
        Error::Unauthenticated.into()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        use Error::*;
        let status = match &e {
            PolicyInvalid { .. } | InvalidInput { .. } | PasswordRejected { .. } | InvalidToken | InvalidChallenge => {
                StatusCode::BAD_REQUEST
            }
            InvalidCredentials | InvalidTotp | Unauthenticated => StatusCode::UNAUTHORIZED,
            Locked { .. } | RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AccountDisabled | EmailNotVerified | Forbidden(_) | ReauthRequired | StepUpRequired { .. } => {
                StatusCode::FORBIDDEN
            }
            SessionNotFound | UserNotFound(_) | FlagNotFound => StatusCode::NOT_FOUND,
            TotpNotEnabled | TotpAlreadyEnabled | EmailTaken | SessionLimitReached { .. } => StatusCode::CONFLICT,
            DatabaseUnreachable(_) | SchemaMissing | SchemaIncompatible(_) | Overloaded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            // A configuration error: retrying does not help until an operator sets the key.
            DataKey(_) => StatusCode::INTERNAL_SERVER_ERROR,
            PolicyConflict { .. } => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &e {
            // Internals stay in the log; the client gets a generic line.
            DatabaseUnreachable(_) | SchemaMissing | SchemaIncompatible(_) => {
                tracing::error!(code = e.code(), error = %e, "service unavailable");
                "the service is temporarily unavailable".to_owned()
            }
            DataKey(_) => {
                tracing::error!(code = e.code(), error = %e, "configuration error");
                "two-factor is not configured on this server (its data key is missing or wrong): the server's \
                 operator must set it"
                    .to_owned()
            }
            UserNotFound(_) => "user not found".to_owned(),
            // The engine says what to do in words; this door names its endpoint.
            StepUpRequired { because } => format!(
                "this session's sign-in was flagged as unusual ({because}): confirm it is you with POST \
                 /api/auth/reauthenticate (your password, and a code when two-factor is on), then try again"
            ),
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(code = e.code(), error = %e, "unexpected error");
                "an unexpected error occurred".to_owned()
            }
            _ => e.to_string(),
        };
        ApiError {
            status,
            code: e.code(),
            field: e.field().map(str::to_owned),
            retry_at: match e {
                Locked { until } => until,
                RateLimited { retry_at } | Overloaded { retry_at } => Some(retry_at),
                _ => None,
            },
            message,
        }
    }
}

/// When a 429 or 503 may be retried, as a response extension that [`finish`] turns into `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct RetryAt(pub Millis);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
            field: self.field,
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(at) = self.retry_at {
            res.extensions_mut().insert(RetryAt(at));
        }
        res
    }
}

/// Turns a [`RetryAt`] into `Retry-After` seconds (rounded up, at least 1) by the server's clock.
pub async fn finish(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Some(RetryAt(at)) = res.extensions().get::<RetryAt>().copied() {
        let secs = ((at - state.now()).max(1) + 999) / 1000;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(RETRY_AFTER, v);
        }
    }
    res
}

/// Every state-changing request must carry an `Origin` on the allow-list (browsers always send it on
/// such requests; a forged cross-site form cannot choose it).
pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let origin = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(|o| o.trim().to_ascii_lowercase());
    match origin {
        Some(o) if state.cfg.origins.contains(&o) => next.run(req).await,
        // Not a browser's request (browsers send Origin on every such request) and no cookie to ride
        // on: an API client. It may sign in only for a bearer session, which sets no cookie.
        None if !req.headers().contains_key("cookie") => {
            let mut req = req;
            req.extensions_mut().insert(NoOrigin);
            next.run(req).await
        }
        Some(_) => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            "the request's Origin is not one of the allowed origins",
        )
        .into_response(),
        None => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            "a state-changing request must carry an Origin header naming an allowed origin",
        )
        .into_response(),
    }
}

/// CORS for the allowed origins only: an application on one of them may call the API from the browser
/// with its cookies (`credentials: "include"`), the CSRF header, a bearer token and its client name,
/// and read the answers (and `Retry-After`). Preflights from any other origin get no CORS headers, so
/// the browser refuses to send; answers to them carry none either, so it refuses to read them.
pub fn cors(cfg: &ServerConfig) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = cfg
        .origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            CONTENT_TYPE,
            AUTHORIZATION,
            axum::http::HeaderName::from_static(CSRF_HEADER),
            axum::http::HeaderName::from_static(CLIENT_HEADER),
        ])
        .expose_headers([RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// Answers a connection beyond the limit without reading it: 503 `overloaded`, Retry-After 1, the same
/// `{code, message}` JSON as every other error, then closes it.
pub async fn refuse_busy(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body = r#"{"code":"overloaded","message":"the server has too many open connections: try again in a moment"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A state-changing request without `Origin` and without cookies: an API client, not a browser.
#[derive(Debug, Clone, Copy)]
pub struct NoOrigin;

/// Whether the request is an API client's ([`NoOrigin`]): such a request may sign in only for a
/// bearer session.
pub struct ApiClient(pub bool);

impl FromRequestParts<AppState> for ApiClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(ApiClient(parts.extensions.get::<NoOrigin>().is_some()))
    }
}

pub fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The value of cookie `name`, if the request carries it (malformed cookie headers count as absent).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// The CSRF token of a session: derived from its token, so a token planted in the CSRF cookie by
/// someone else never matches.
pub fn csrf_for(session_token: &str) -> String {
    let d = Sha256::new()
        .chain_update(b"warden-csrf\0")
        .chain_update(session_token.as_bytes())
        .finalize();
    hex::encode(&d[..20])
}

/// `Set-Cookie` values, with the configured attributes.
pub struct Cookies<'a> {
    pub state: &'a AppState,
}

impl Cookies<'_> {
    fn build(&self, name: &str, value: &str, max_age_secs: i64, http_only: bool) -> HeaderValue {
        let cfg = &self.state.cfg;
        let mut c = format!(
            "{name}={value}; Path={}; Max-Age={max_age_secs}; SameSite=Lax",
            cfg.cookie_path
        );
        if http_only {
            c.push_str("; HttpOnly");
        }
        if !cfg.dev {
            c.push_str("; Secure");
        }
        if let Some(d) = &cfg.cookie_domain {
            c.push_str("; Domain=");
            c.push_str(d);
        }
        HeaderValue::from_str(&c).expect("cookie values are base64url, hex and checked attributes")
    }

    /// The session and its CSRF cookie, valid for `max_age_secs`.
    pub fn session(
        &self,
        token: &Secret,
        max_age_secs: i64,
    ) -> AppendHeaders<[(axum::http::HeaderName, HeaderValue); 3]> {
        AppendHeaders([
            (
                SET_COOKIE,
                self.build(SESSION_COOKIE, token.expose(), max_age_secs, true),
            ),
            (
                SET_COOKIE,
                self.build(CSRF_COOKIE, &csrf_for(token.expose()), max_age_secs, false),
            ),
            (SET_COOKIE, self.build(CHALLENGE_COOKIE, "", 0, true)),
        ])
    }

    /// The pending second step of a sign-in.
    pub fn challenge(
        &self,
        challenge: &Secret,
        max_age_secs: i64,
    ) -> AppendHeaders<[(axum::http::HeaderName, HeaderValue); 1]> {
        AppendHeaders([(
            SET_COOKIE,
            self.build(CHALLENGE_COOKIE, challenge.expose(), max_age_secs, true),
        )])
    }

    /// Removes the session cookies.
    pub fn clear(&self) -> AppendHeaders<[(axum::http::HeaderName, HeaderValue); 2]> {
        AppendHeaders([
            (SET_COOKIE, self.build(SESSION_COOKIE, "", 0, true)),
            (SET_COOKIE, self.build(CSRF_COOKIE, "", 0, false)),
        ])
    }
}

/// Where a request comes from: the socket's peer, or — only when the peer is a trusted proxy — the
/// client IP the proxy forwarded and the location headers it set.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

pub fn client_info(parts: &Parts, state: &AppState) -> ClientInfo {
    let cfg = &state.cfg;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let trusted = |ip: &IpAddr| cfg.trusted_proxies.iter().any(|n| n.contains(ip));
    let via_proxy = peer.as_ref().is_some_and(trusted);
    let ip = if via_proxy {
        forwarded_client(parts.headers.get_all(&cfg.forwarded_header).iter(), &trusted).or(peer)
    } else {
        peer
    };
    let header = |name: &Option<axum::http::HeaderName>| -> Option<String> {
        if !via_proxy {
            return None;
        }
        let v = parts.headers.get(name.as_ref()?)?.to_str().ok()?.trim();
        // `XX` and `T1` are Cloudflare's "unknown" and "Tor" codes.
        (!v.is_empty() && v.len() <= 100 && v != "XX" && v != "T1").then(|| v.to_owned())
    };
    ClientInfo {
        ip: ip.map(|i| i.to_canonical().to_string()),
        user_agent: parts
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
        country: header(&cfg.country_header),
        city: header(&cfg.city_header),
        client: Some(declared_client(parts, state).unwrap_or_else(|_| cfg.clients[0].clone())),
    }
}

/// The application the request names in `x-warden-client`, if it is one of the server's clients; the
/// first of them when it names none.
fn declared_client(parts: &Parts, state: &AppState) -> Result<String, ApiError> {
    let clients = &state.cfg.clients;
    let Some(v) = parts.headers.get(CLIENT_HEADER) else {
        return Ok(clients[0].clone());
    };
    let name = v.to_str().unwrap_or("").trim();
    clients.iter().find(|c| c.as_str() == name).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
            format!(
                "`{CLIENT_HEADER}` must name one of this server's clients: {}",
                clients.join(", ")
            ),
        )
        .with_field(CLIENT_HEADER)
    })
}

/// The client behind our proxies: the forwarded chain read from the right (the hops our own proxies
/// appended), past every trusted proxy, to the first address that is not one. Entries further left
/// are the client's own claims and never believed. A hop that does not parse ends the walk: the
/// nearest trusted proxy before it is then the best that is known (`None`: the socket's peer).
fn forwarded_client<'a>(
    values: impl DoubleEndedIterator<Item = &'a HeaderValue>,
    trusted: &impl Fn(&IpAddr) -> bool,
) -> Option<IpAddr> {
    let mut nearest_trusted = None;
    for value in values.rev() {
        let Ok(text) = value.to_str() else {
            return nearest_trusted;
        };
        for hop in text.split(',').rev() {
            match parse_hop(hop.trim()) {
                Some(ip) if trusted(&ip) => nearest_trusted = Some(ip),
                Some(ip) => return Some(ip),
                None => return nearest_trusted,
            }
        }
    }
    nearest_trusted
}

fn parse_hop(h: &str) -> Option<IpAddr> {
    h.parse::<IpAddr>()
        .ok()
        .or_else(|| h.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        declared_client(parts, state)?;
        Ok(Client(client_info(parts, state)))
    }
}

/// The caller's validated session: `Authorization: Bearer <token>` (a bearer session), else the
/// `warden_session` cookie. On state-changing requests with the cookie it also checks the double-submit
/// CSRF token: the `x-csrf-token` header must equal the `warden_csrf` cookie and belong to this
/// session. A bearer token is never sent by a browser on its own, so it needs no CSRF token.
pub struct Me {
    pub auth: Authenticated,
    pub client: ClientInfo,
}

/// The token of `Authorization: Bearer <token>`, if the request carries one.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

impl FromRequestParts<AppState> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer(&parts.headers) {
            let client = client_info(parts, state);
            let auth = sessions::validate(&state.db, state.now(), &Secret::new(token), &client).await?;
            return Ok(Me { auth, client });
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(ApiError::unauthenticated)?;
        if !is_safe(&parts.method) {
            let header = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::trim);
            let cookie_value = cookie(&parts.headers, CSRF_COOKIE);
            let expected = csrf_for(&token);
            let ok = matches!((header, cookie_value.as_deref()), (Some(h), Some(c)) if h == c && h == expected);
            if !ok {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::CsrfTokenInvalid,
                    "a signed-in state-changing request needs the x-csrf-token header equal to the warden_csrf cookie",
                ));
            }
        }
        let client = client_info(parts, state);
        let auth = sessions::validate(&state.db, state.now(), &Secret::new(token), &client).await?;
        Ok(Me { auth, client })
    }
}

/// A path segment such as `{id}`; one that is not valid text is 400 `invalid_input` as JSON, never
/// axum's plain-text rejection.
pub struct PathId(pub String);

impl FromRequestParts<AppState> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(PathId(id)),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidInput,
                "the id in the path is not valid text",
            )
            .with_field("id")),
        }
    }
}

/// A JSON body; malformed JSON, a wrong content type, an oversized body or a missing field are 4xx
/// `{code, message, field?}`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        // One deadline for the whole body: a client trickling it byte by byte is cut off too.
        let read = tokio::time::timeout(
            state.cfg.connections.body_timeout,
            Json::<serde_json::Value>::from_request(req, state),
        );
        let Json(value) = read
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorCode::RequestTimeout,
                    "the request body did not arrive in time",
                )
            })?
            .map_err(json_rejection)?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidInput,
                "the body must be a JSON object with the documented fields",
            ));
        }
        if let Some(field) = field_with_nul(&value, "") {
            return Err(nul_in(&field));
        }
        serde_json::from_value::<T>(value)
            .map(Body)
            .map_err(|e| data_error(&e.to_string()))
    }
}

/// The path of the first string (or key) holding a NUL character, which no text column stores: the
/// request is refused as bad input rather than failing in the database.
fn field_with_nul(v: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    let here = || (if at.is_empty() { "body" } else { at }).to_owned();
    match v {
        Value::String(s) if s.contains('\0') => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| field_with_nul(x, &format!("{at}[{i}]"))),
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            if k.contains('\0') {
                Some(here())
            } else {
                field_with_nul(x, &path)
            }
        }),
        _ => None,
    }
}

fn nul_in(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidInput,
        format!("`{field}` must not contain NUL characters"),
    )
    .with_field(field)
}

/// A serde data error (missing, unknown or mistyped field) as 400 `invalid_input`, naming the field.
fn data_error(text: &str) -> ApiError {
    let field = between(text, "field `", "`");
    let err = ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidInput,
        describe_data_error(text, field.as_deref()),
    );
    match field {
        Some(f) => err.with_field(f),
        None => err,
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    match rej {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidJson,
            "the body is not valid JSON",
        ),
        JsonRejection::JsonDataError(e) => data_error(
            &std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.body_text()),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidBody,
            "the request body could not be read",
        ),
    }
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)? + i;
    Some(text[i..j].to_owned())
}

/// A serde message without the input echoed back (it may hold a password).
fn describe_data_error(text: &str, field: Option<&str>) -> String {
    if text.starts_with("missing field") {
        format!("`{}` is required", field.unwrap_or("?"))
    } else if text.starts_with("unknown field") {
        format!("`{}` is not a known field", field.unwrap_or("?"))
    } else if let Some(expected) = text.split("expected ").nth(1) {
        let expected = expected.split(" at line").next().unwrap_or(expected);
        match field {
            Some(f) => format!("`{f}` has the wrong type: expected {}", plain_type(expected)),
            None => format!("a value has the wrong type: expected {}", plain_type(expected)),
        }
    } else {
        "the body does not have the expected fields".to_owned()
    }
}

/// A query parameter that does not parse: 400 `invalid_input` naming the parameter, in words.
fn query_error(text: &str) -> ApiError {
    let detail = text.trim_start_matches("Failed to deserialize query string: ");
    let named = detail
        .split_once(": ")
        .filter(|(f, _)| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    let (field, rest) = match (between(text, "field `", "`"), named) {
        (Some(f), _) => (Some(f), detail.to_owned()),
        (None, Some((f, rest))) => (Some(f.to_owned()), rest.to_owned()),
        (None, None) => (None, detail.to_owned()),
    };
    let message = match &field {
        Some(f) if rest.contains("invalid digit") || rest.contains("number too large") => {
            format!("`{f}` must be a whole number")
        }
        Some(f) if rest.contains("`true` or `false`") => format!("`{f}` must be true or false"),
        Some(f) if rest.starts_with("unknown field") => format!("`{f}` is not a known parameter"),
        Some(f) => format!("`{f}`: {rest}"),
        None => format!("the query string is not valid: {rest}"),
    };
    let err = ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidInput, message);
    match field {
        Some(f) => err.with_field(f),
        None => err,
    }
}

/// A serde "expected …" in words for people: never a Rust type's name.
fn plain_type(expected: &str) -> &'static str {
    let e = expected.trim();
    if e.starts_with("struct") || e.starts_with("a map") || e.contains("with") && e.contains("elements") {
        "a JSON object with the documented fields"
    } else if e.contains("string") {
        "a string"
    } else if e.contains("bool") {
        "true or false"
    } else if ["u8", "u16", "u32", "u64", "i32", "i64", "integer"]
        .iter()
        .any(|t| e.contains(t))
    {
        "a whole number"
    } else if e.contains("sequence") {
        "a list"
    } else {
        "another kind of value (see the API's documentation)"
    }
}

/// Query parameters; bad ones are 400 `invalid_input`.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(nul_in("query"));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(query_error(&e.body_text())),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidInput,
                "the query string could not be read",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(values: &[&str]) -> Option<String> {
        let headers: Vec<HeaderValue> = values.iter().map(|v| HeaderValue::from_str(v).unwrap()).collect();
        let trusted = |ip: &IpAddr| ip.is_loopback() || matches!(ip, IpAddr::V4(v) if v.octets()[0] == 10);
        forwarded_client(headers.iter(), &trusted).map(|i| i.to_string())
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        assert_eq!(
            client(&["198.51.100.1, 203.0.113.9, 10.1.2.3"]).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(client(&["203.0.113.9"]).as_deref(), Some("203.0.113.9"));
        assert_eq!(
            client(&["198.51.100.1", "203.0.113.9, 10.0.0.2"]).as_deref(),
            Some("203.0.113.9"),
            "several header lines are one list"
        );
        assert_eq!(client(&["[2001:db8::5]:4711"]).as_deref(), Some("2001:db8::5"));
    }

    #[test]
    fn a_client_cannot_choose_its_address_with_garbage_in_the_chain() {
        // The client sent `1.1.1.1, x`; our proxy appended the real address.
        assert_eq!(client(&["1.1.1.1, x, 203.0.113.9"]).as_deref(), Some("203.0.113.9"));
        // The client sent `x` and came through two of our proxies: the nearest trusted one is all we know.
        assert_eq!(client(&["x, 10.0.0.7, 10.0.0.8"]).as_deref(), Some("10.0.0.7"));
        assert_eq!(client(&["x"]), None, "the socket's peer then");
        assert_eq!(client(&[]), None);
    }

    #[test]
    fn a_chain_of_only_our_proxies_names_the_farthest() {
        assert_eq!(client(&["10.0.0.1, 10.0.0.2"]).as_deref(), Some("10.0.0.1"));
    }
}

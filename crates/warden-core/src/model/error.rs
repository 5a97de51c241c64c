//! One error type for the engine. Every variant has a small, stable machine `code` that crosses the
//! IPC/HTTP boundary as `{code, message, field?}`; the message is for humans and never carries secrets.

use serde::Serialize;

pub use crate::model::vocab::ErrorCode;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy value or key is wrong; `field` is the dotted policy key, `rule` says what it must be.
    #[error("policy field `{field}`: {rule}")]
    PolicyInvalid { field: String, rule: String },
    /// Some other input is malformed (page size, cursor, id, email, URL, …).
    #[error("`{field}`: {rule}")]
    InvalidInput { field: String, rule: String },
    /// A new password does not meet the password policy.
    #[error("password rejected: {rule}")]
    PasswordRejected { rule: String },
    /// Email and password do not match (also for unknown emails: the two are indistinguishable).
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// The account is locked; `until` is unix milliseconds, `None` when locked until an admin unlocks it.
    #[error("the account is locked{}", match .until { Some(t) => format!(" until {}", crate::model::clock::format_ms(*t)), None => " until an administrator unlocks it".to_string() })]
    Locked { until: Option<i64> },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the email address is not verified yet")]
    EmailNotVerified,
    #[error("the two-factor code is wrong or was already used")]
    InvalidTotp,
    #[error("two-factor authentication is not enabled for this account")]
    TotpNotEnabled,
    #[error("two-factor authentication is already enabled for this account")]
    TotpAlreadyEnabled,
    #[error("the session is not valid (missing, expired or revoked)")]
    Unauthenticated,
    #[error("session not found")]
    SessionNotFound,
    #[error("no open flag with this id")]
    FlagNotFound,
    #[error("user not found: {0}")]
    UserNotFound(String),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("the concurrent session limit ({limit}) is reached")]
    SessionLimitReached { limit: u32 },
    #[error("the verification token is invalid, expired or already used")]
    InvalidToken,
    /// The second step of a sign-in without a pending challenge (`invalid_token`).
    #[error("no sign-in is waiting for a code: the sign-in challenge is missing, expired or already used; sign in with your email and password again")]
    InvalidChallenge,
    /// Too many requests from one IP or for one account; `retry_at` is unix milliseconds.
    #[error("too many requests: try again later")]
    RateLimited { retry_at: i64 },
    /// The actor's role does not allow the action.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A policy change was made from a version that is no longer the one in force (someone saved since).
    #[error(
        "the policy was changed meanwhile: version {version} is in force now; reload it and make the change again"
    )]
    PolicyConflict { version: i64 },
    /// Too many password checks are running or waiting; `retry_at` is unix milliseconds.
    #[error("the server is busy checking other sign-ins: try again in a moment")]
    Overloaded { retry_at: i64 },
    /// The actor's last authentication is older than the privileged `reauth_after`.
    #[error("this action needs a fresh sign-in (re-authenticate first)")]
    ReauthRequired,
    /// Step-up after a flag: the session's sign-in raised a flag still open (`because` names its rules
    /// in words), and it has not authenticated again since (`reauth_required`).
    #[error("this session's sign-in was flagged as unusual ({because}): confirm it is you by re-authenticating, then try again")]
    StepUpRequired { because: String },
    /// The database URL is malformed or names an unsupported backend.
    #[error("database URL: {0}")]
    DatabaseUrl(String),
    /// The database cannot be reached or refused the connection.
    #[error("cannot connect to the database: {0}")]
    DatabaseUnreachable(String),
    /// The database holds no Warden schema yet.
    #[error("the database has no Warden schema: run `warden migrate --db <url>` first")]
    SchemaMissing,
    /// The database holds tables that are not Warden's, or a newer Warden schema.
    #[error("{0}")]
    SchemaIncompatible(String),
    /// The data key (WARDEN_DATA_KEY) is missing or does not decrypt the stored secrets.
    #[error("data key: {0}")]
    DataKey(String),
    /// The audit chain is broken.
    #[error("audit chain broken at event {seq}: {detail}")]
    AuditChainBroken { seq: i64, detail: String },
    #[error("operation cancelled")]
    Cancelled,
    /// Anything else; the message is generic, the detail goes to the log.
    #[error("unexpected error: {0}")]
    Unexpected(String),
}

impl Error {
    /// The stable machine code of this error.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::PolicyInvalid { .. } => ErrorCode::PolicyInvalid,
            Error::InvalidInput { .. } => ErrorCode::InvalidInput,
            Error::PasswordRejected { .. } => ErrorCode::PasswordRejected,
            Error::InvalidCredentials => ErrorCode::InvalidCredentials,
            Error::Locked { .. } => ErrorCode::Locked,
            Error::AccountDisabled => ErrorCode::AccountDisabled,
            Error::EmailNotVerified => ErrorCode::EmailNotVerified,
            Error::InvalidTotp => ErrorCode::InvalidTotp,
            Error::TotpNotEnabled => ErrorCode::TotpNotEnabled,
            Error::TotpAlreadyEnabled => ErrorCode::TotpAlreadyEnabled,
            Error::Unauthenticated => ErrorCode::Unauthenticated,
            Error::SessionNotFound => ErrorCode::SessionNotFound,
            Error::FlagNotFound => ErrorCode::FlagNotFound,
            Error::UserNotFound(_) => ErrorCode::UserNotFound,
            Error::EmailTaken => ErrorCode::EmailTaken,
            Error::SessionLimitReached { .. } => ErrorCode::SessionLimitReached,
            Error::InvalidToken | Error::InvalidChallenge => ErrorCode::InvalidToken,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::ReauthRequired | Error::StepUpRequired { .. } => ErrorCode::ReauthRequired,
            Error::PolicyConflict { .. } => ErrorCode::PolicyConflict,
            Error::Overloaded { .. } => ErrorCode::Overloaded,
            Error::DatabaseUrl(_) => ErrorCode::DatabaseUrlInvalid,
            Error::DatabaseUnreachable(_) => ErrorCode::DatabaseUnreachable,
            Error::SchemaMissing => ErrorCode::SchemaMissing,
            Error::SchemaIncompatible(_) => ErrorCode::SchemaIncompatible,
            Error::DataKey(_) => ErrorCode::DataKeyInvalid,
            Error::AuditChainBroken { .. } => ErrorCode::AuditChainBroken,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Unexpected(_) => ErrorCode::Unexpected,
        }
    }

    /// [`Self::error_code`] as it is spelled on the wire.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The input field this error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::PolicyInvalid { field, .. } | Error::InvalidInput { field, .. } => Some(field),
            Error::PasswordRejected { .. } => Some("password"),
            _ => None,
        }
    }

    /// The wire form `{code, message, field?}`.
    pub fn to_payload(&self) -> ErrorPayload {
        ErrorPayload {
            code: self.error_code(),
            message: self.to_string(),
            field: self.field().map(str::to_owned),
        }
    }

    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            rule: rule.into(),
        }
    }

    pub fn policy(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::PolicyInvalid {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

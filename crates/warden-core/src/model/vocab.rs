//! The engine's closed vocabularies: each a Rust enum with one spelling per value, the same in the
//! database, the JSON of every door, the CLI's `--help` and the console (whose TypeScript types and value
//! lists are generated from these: `ui/src/lib/backend/generated`).

use serde::{Deserialize, Serialize};

/// Defines a closed vocabulary: the enum, its values in order (`ALL`), their spelling (`as_str`, serde,
/// `Display`), `parse`, and `list` for help texts and error messages.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order the doors list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every value, comma-separated (for help texts and error messages).
            pub fn list() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// Why a session no longer validates, as the rules find it.
    EndReason {
        /// Signed out, evicted, or revoked by an admin.
        Revoked = "revoked",
        /// Unused for longer than `idle_timeout`.
        Idle = "idle",
        /// Older than `max_lifetime`, however active.
        Absolute = "absolute",
        /// Not refreshed before `expires_at`.
        Expired = "expired",
    }
}

vocabulary! {
    /// The display status of a session.
    SessionStatus {
        Active = "active",
        Idle = "idle",
        Absolute = "absolute",
        Expired = "expired",
        Revoked = "revoked",
    }
}

vocabulary! {
    /// How a session's holder proved who they are (`sessions.auth_method`).
    AuthMethod {
        Password = "password",
        /// The password and a TOTP code.
        PasswordTotp = "password+totp",
        /// The password and a one-time backup code.
        BackupCode = "backup_code",
    }
}

vocabulary! {
    /// Why a session was ended, as recorded on it (`sessions.revoke_reason`) and in its timeline.
    RevokeReason {
        /// Its holder signed out.
        UserLogout = "user_logout",
        /// Its holder ended it from another of their sessions.
        UserRevoked = "user_revoked",
        /// An administrator ended it (one session, or all of one user's).
        Admin = "admin",
        /// A new sign-in past the concurrent-session limit ended it.
        Evicted = "evicted",
        /// A bulk termination ended it.
        Bulk = "bulk",
        /// The emergency "sign out everyone" ended it.
        Emergency = "emergency",
        /// Found unused for longer than `idle_timeout`.
        Idle = "idle",
        /// Found older than `max_lifetime`.
        Absolute = "absolute",
        /// Found past `expires_at`.
        Expired = "expired",
    }
}

impl RevokeReason {
    /// The reason a rule ended a session for.
    pub fn of_rule(r: EndReason) -> Option<RevokeReason> {
        match r {
            EndReason::Idle => Some(RevokeReason::Idle),
            EndReason::Absolute => Some(RevokeReason::Absolute),
            EndReason::Expired => Some(RevokeReason::Expired),
            EndReason::Revoked => None,
        }
    }

    /// Ended by a rule (expiry, idle, lifetime) rather than by someone.
    pub fn by_rule(self) -> bool {
        matches!(
            self,
            RevokeReason::Idle | RevokeReason::Absolute | RevokeReason::Expired
        )
    }
}

vocabulary! {
    /// The outcome of one sign-in attempt (`login_attempts.outcome`).
    AttemptOutcome {
        Success = "success",
        BadPassword = "bad_password",
        BadTotp = "bad_totp",
        /// An address without an account.
        UnknownUser = "unknown_user",
        /// The account (or the address's stand-in) was locked.
        Locked = "locked",
    }
}

vocabulary! {
    /// What an audit event records (`audit_events.action`). The group is the part before the dot.
    AuditAction {
        AuthSignedIn = "auth.signed_in",
        AuthSignInFailed = "auth.sign_in_failed",
        AuthReauthenticated = "auth.reauthenticated",
        SessionRevoked = "session.revoked",
        SessionOthersRevoked = "session.others_revoked",
        SessionEvicted = "session.evicted",
        /// A rule (idle timeout, expiry, maximum lifetime) ended a session; recorded when the engine
        /// found it, with the instant it really ended in `ended_at`.
        SessionEnded = "session.ended",
        SessionFlagged = "session.flagged",
        SessionBulkBatch = "session.bulk_batch",
        SessionBulkRevoked = "session.bulk_revoked",
        SessionBulkInterrupted = "session.bulk_interrupted",
        UserCreated = "user.created",
        UserLocked = "user.locked",
        UserUnlocked = "user.unlocked",
        UserSessionsRevoked = "user.sessions_revoked",
        UserTotpEnabled = "user.totp_enabled",
        UserTotpDisabled = "user.totp_disabled",
        UserTotpReset = "user.totp_reset",
        /// A library's user banned (Better Auth's admin plugin), with the reason and any expiry.
        UserBanned = "user.banned",
        UserUnbanned = "user.unbanned",
        UserVerificationRequested = "user.verification_requested",
        UserEmailVerified = "user.email_verified",
        PolicyUpdated = "policy.updated",
        PolicyRolledBack = "policy.rolled_back",
        AuditExported = "audit.exported",
        AuditVerified = "audit.verified",
        FlagDismissed = "flag.dismissed",
        FlagActioned = "flag.actioned",
        /// Warden put its own tables beside a library's auth database (`warden adopt`).
        DatabaseAdopted = "database.adopted",
    }
}

vocabulary! {
    /// The groups of audit actions, as the audit screen and `warden audit list --action` offer them: a
    /// group matches every action that starts with it.
    AuditActionGroup {
        Session = "session.",
        User = "user.",
        Policy = "policy.",
        Auth = "auth.",
        Flag = "flag.",
        Audit = "audit.",
        Database = "database.",
    }
}

vocabulary! {
    /// Every machine code an error of any door carries (`{code, message, field?}`): the engine's, the
    /// HTTP door's and the console's.
    ErrorCode {
        PolicyInvalid = "policy_invalid",
        PolicyConflict = "policy_conflict",
        InvalidInput = "invalid_input",
        PasswordRejected = "password_rejected",
        InvalidCredentials = "invalid_credentials",
        Locked = "locked",
        AccountDisabled = "account_disabled",
        EmailNotVerified = "email_not_verified",
        InvalidTotp = "invalid_totp",
        TotpNotEnabled = "totp_not_enabled",
        TotpAlreadyEnabled = "totp_already_enabled",
        Unauthenticated = "unauthenticated",
        SessionNotFound = "session_not_found",
        FlagNotFound = "flag_not_found",
        UserNotFound = "user_not_found",
        EmailTaken = "email_taken",
        SessionLimitReached = "session_limit_reached",
        InvalidToken = "invalid_token",
        RateLimited = "rate_limited",
        Overloaded = "overloaded",
        Forbidden = "forbidden",
        ReauthRequired = "reauth_required",
        DatabaseUrlInvalid = "database_url_invalid",
        DatabaseUnreachable = "database_unreachable",
        SchemaMissing = "schema_missing",
        SchemaIncompatible = "schema_incompatible",
        DataKeyInvalid = "data_key_invalid",
        AuditChainBroken = "audit_chain_broken",
        Cancelled = "cancelled",
        Unexpected = "unexpected",
        /// HTTP: a state-changing request without an allowed Origin.
        OriginNotAllowed = "origin_not_allowed",
        /// HTTP: a signed-in state-changing request without the right `x-csrf-token`.
        CsrfTokenInvalid = "csrf_token_invalid",
        /// HTTP: a body that is not `application/json`.
        UnsupportedMediaType = "unsupported_media_type",
        /// HTTP: a body that is not JSON.
        InvalidJson = "invalid_json",
        /// HTTP: a body over the size limit.
        PayloadTooLarge = "payload_too_large",
        RequestTimeout = "request_timeout",
        /// HTTP: the request is not valid HTTP (its request line or a header could not be read).
        BadRequest = "bad_request",
        /// HTTP: the request's headers are over the size or count the server reads.
        HeadersTooLarge = "headers_too_large",
        /// HTTP: the request's URI is over the length the server reads.
        UriTooLong = "uri_too_long",
        /// HTTP: a body that could not be read.
        InvalidBody = "invalid_body",
        /// HTTP: verification email asked of a server without SMTP.
        EmailUnavailable = "email_unavailable",
        /// HTTP: no such endpoint.
        NotFound = "not_found",
        /// HTTP: the endpoint does not take that method.
        MethodNotAllowed = "method_not_allowed",
        /// Console: no database is open.
        NotConnected = "not_connected",
        /// Console: the password was right; a two-factor code must follow.
        TotpRequired = "totp_required",
        /// Console: a bulk termination is already running.
        BulkRunning = "bulk_running",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_and_serialises_as_it_is_spelled() {
        for v in AuditAction::ALL {
            assert_eq!(AuditAction::parse(v.as_str()), Some(*v));
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        for v in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(v.as_str()), Some(*v));
        }
        assert_eq!(AuthMethod::list(), "password, password+totp, backup_code");
        assert_eq!(
            AuthMethod::parse("password+backup_code"),
            None,
            "not a method the engine writes"
        );
    }

    #[test]
    fn every_action_is_in_a_group() {
        for a in AuditAction::ALL {
            assert!(
                AuditActionGroup::ALL.iter().any(|g| a.as_str().starts_with(g.as_str())),
                "{a} has no group"
            );
        }
    }
}

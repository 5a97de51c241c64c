//! warden-server: the HTTP door onto Warden's engine, for an application's end users and admins.
//!
//! The handlers in [`routes`] are thin: parse, call one `warden_core` function, map the answer. The door's
//! own concerns live in [`http`] (cookies, the Origin and double-submit CSRF checks, the client's address
//! behind trusted proxies, JSON errors) and [`mail`]. The policy is read by the engine on every request,
//! so a change saved in the console applies on the next one.

pub mod config;
pub mod http;
pub mod mail;
pub mod openapi;
pub mod routes;
pub mod wire;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::trace::TraceLayer;
use warden_core::ops::rate_limits::{self, Limit};
use warden_core::ops::sessions::ClientInfo;
use warden_core::ops::users::{Email, UserRow};
use warden_core::rules::totp::DataKey;
use warden_core::{Clock, Db, Error, Millis, Result};

pub use config::{Args, ServerConfig};

/// Rate limits of the unauthenticated endpoints, per client IP and per account (email). The counts live
/// in the database, so every server process on it shares one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub sign_in_per_ip: Limit,
    pub sign_in_per_account: Limit,
    pub sign_up_per_ip: Limit,
    /// Sign-ups naming one address: a taken address answers `email_taken`, so this bounds how fast
    /// anyone can ask which addresses have accounts.
    pub sign_up_per_account: Limit,
    pub verification_per_ip: Limit,
    pub verification_per_account: Limit,
    /// Codes and passwords that prove an account (the second sign-in step, enrolling, confirming or
    /// switching off two-factor, re-authenticating), per account.
    pub second_factor_per_account: Limit,
    /// Revocations of one's own sessions (`DELETE /api/sessions…`), per account. Reads are not limited:
    /// a limit's count is a write, dearer than the read it would guard.
    pub revocations_per_account: Limit,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        let per_min = |max| Limit {
            max,
            window: warden_core::model::clock::MINUTE,
        };
        RateLimits {
            sign_in_per_ip: per_min(30),
            sign_in_per_account: per_min(10),
            sign_up_per_ip: per_min(10),
            sign_up_per_account: Limit {
                max: 5,
                window: warden_core::model::clock::HOUR,
            },
            verification_per_ip: per_min(10),
            verification_per_account: Limit {
                max: 3,
                window: 15 * warden_core::model::clock::MINUTE,
            },
            second_factor_per_account: Limit {
                max: 10,
                window: 15 * warden_core::model::clock::MINUTE,
            },
            revocations_per_account: per_min(60),
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub cfg: Arc<ServerConfig>,
    pub key: Option<Arc<DataKey>>,
    pub mailer: Option<mail::Mailer>,
    pub limits: RateLimits,
}

impl AppState {
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn data_key(&self) -> Result<&DataKey> {
        self.key.as_deref().ok_or_else(|| {
            Error::DataKey("two-factor needs the data key: set WARDEN_DATA_KEY or WARDEN_DATA_KEY_FILE".into())
        })
    }

    /// The address a limit counts by: an IPv6 client by its /64, since one subscriber commonly holds a
    /// whole /64 and could otherwise take a fresh address for every request.
    fn ip_key(prefix: &str, client: &ClientInfo) -> String {
        let ip = client.ip.as_deref().unwrap_or("-");
        match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{prefix}:ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            _ => format!("{prefix}:ip:{ip}"),
        }
    }

    fn account_key(prefix: &str, email: &str) -> String {
        let e = Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase().chars().take(254).collect());
        format!("{prefix}:acct:{e}")
    }

    /// One hit on the client's address under `ip_prefix` and one on `account`, each against its own
    /// limit, in one transaction: refused when either is spent.
    async fn hit_address_and_account(
        &self,
        client: &ClientInfo,
        ip_prefix: &str,
        per_ip: Limit,
        account: String,
        per_account: Limit,
        now: Millis,
    ) -> Result<()> {
        let ip = Self::ip_key(ip_prefix, client);
        rate_limits::hit_all(&self.db, &[(ip.as_str(), per_ip), (account.as_str(), per_account)], now).await
    }

    pub async fn limit_sign_in(&self, client: &ClientInfo, email: &str, now: Millis) -> Result<()> {
        let account = Self::account_key("sign_in", email);
        let l = &self.limits;
        self.hit_address_and_account(client, "sign_in", l.sign_in_per_ip, account, l.sign_in_per_account, now)
            .await
    }

    /// The second sign-in step shares the sign-in budget of the client's address, and has a budget of
    /// codes per account: guesses spread over many addresses still meet one limit.
    pub async fn limit_sign_in_code(&self, client: &ClientInfo, user_id: uuid::Uuid, now: Millis) -> Result<()> {
        self.limit_proof("sign_in", "sign_in_code", client, user_id, now).await
    }

    /// Codes and passwords typed while signed in (confirming or switching off two-factor,
    /// re-authenticating), per address and per account.
    pub async fn limit_second_factor(&self, client: &ClientInfo, user: &UserRow, now: Millis) -> Result<()> {
        self.limit_proof("2fa", "2fa", client, user.id, now).await
    }

    /// Starting a two-factor enrolment (which checks the password), per address and per account.
    pub async fn limit_enrolment(&self, client: &ClientInfo, user: &UserRow, now: Millis) -> Result<()> {
        self.limit_proof("2fa", "enrol", client, user.id, now).await
    }

    /// One step that proves an account: the address's budget under `ip_prefix` (at the sign-in rate)
    /// and the account's own budget of such proofs under `account_prefix`.
    async fn limit_proof(
        &self,
        ip_prefix: &str,
        account_prefix: &str,
        client: &ClientInfo,
        user_id: uuid::Uuid,
        now: Millis,
    ) -> Result<()> {
        let account = format!("{account_prefix}:acct:{user_id}");
        let l = &self.limits;
        self.hit_address_and_account(
            client,
            ip_prefix,
            l.sign_in_per_ip,
            account,
            l.second_factor_per_account,
            now,
        )
        .await
    }

    /// A revocation of the caller's own sessions, per account.
    pub async fn limit_revocation(&self, user: &UserRow, now: Millis) -> Result<()> {
        warden_core::ops::rate_limits::hit(
            &self.db,
            &format!("revoke:acct:{}", user.id),
            self.limits.revocations_per_account,
            now,
        )
        .await
    }

    pub async fn limit_sign_up(&self, client: &ClientInfo, email: &str, now: Millis) -> Result<()> {
        let account = Self::account_key("sign_up", email);
        let l = &self.limits;
        self.hit_address_and_account(client, "sign_up", l.sign_up_per_ip, account, l.sign_up_per_account, now)
            .await
    }

    pub async fn limit_verification(&self, client: &ClientInfo, email: &str, now: Millis) -> Result<()> {
        let account = Self::account_key("verify", email);
        let l = &self.limits;
        self.hit_address_and_account(
            client,
            "verify",
            l.verification_per_ip,
            account,
            l.verification_per_account,
            now,
        )
        .await
    }

    /// Queues the verification email of `user` and tries it at once. `None` when no mail server is
    /// configured (nothing is sent); else whether the mail server accepted it — when not, it stays in the
    /// outbox and the sender loop tries it again.
    pub async fn send_verification(&self, user: &UserRow, now: Millis) -> Result<Option<bool>> {
        if self.mailer.is_none() {
            return Ok(None);
        }
        let id = warden_core::ops::mail::queue(&self.db, now, user.id, warden_core::ops::mail::VERIFICATION).await?;
        match warden_core::ops::mail::claim(&self.db, now, id).await? {
            Some(mail) => self.attempt(&mail, now).await.map(Some),
            None => Ok(Some(false)),
        }
    }

    /// One claimed attempt of an email in the outbox: a fresh link, the mail server's answer recorded.
    /// Returns whether the mail server accepted it.
    pub async fn attempt(&self, mail: &warden_core::ops::mail::MailRow, now: Millis) -> Result<bool> {
        use warden_core::ops::mail as outbox;
        let Some(mailer) = &self.mailer else {
            return Ok(false);
        };
        let Some(user) = warden_core::ops::users::by_id(&self.db, mail.user_id).await? else {
            outbox::not_needed(&self.db, now, mail, "the account no longer exists").await?;
            return Ok(false);
        };
        let Some(token) = warden_core::ops::verification::issue(&self.db, now, &user).await? else {
            outbox::not_needed(&self.db, now, mail, "the address was verified meanwhile").await?;
            return Ok(false);
        };
        match mailer.deliver_verification(&user.email, &user.name, &token).await {
            Ok(()) => {
                outbox::delivered(&self.db, now, mail.id).await?;
                tracing::info!(attempt = mail.attempts, "verification email sent");
                Ok(true)
            }
            Err(e) => {
                let again = outbox::not_delivered(&self.db, now, mail, &e).await?;
                tracing::warn!(error = %e, attempt = mail.attempts, again, "the verification email was not delivered");
                Ok(false)
            }
        }
    }

    /// Tries the emails due now; returns how many the mail server accepted.
    pub async fn deliver_due(&self) -> Result<usize> {
        if self.mailer.is_none() {
            return Ok(0);
        }
        let now = self.now();
        let mut sent = 0;
        for mail in warden_core::ops::mail::claim_due(&self.db, now, 50).await? {
            if self.attempt(&mail, now).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/auth/sign-up", post(routes::sign_up))
        .route("/api/auth/sign-in", post(routes::sign_in))
        .route("/api/auth/sign-in/totp", post(routes::sign_in_totp))
        .route("/api/auth/sign-out", post(routes::sign_out))
        .route("/api/auth/reauthenticate", post(routes::reauthenticate))
        .route("/api/auth/session", get(routes::current_session))
        .route("/api/auth/two-factor/enable", post(routes::totp_enable))
        .route("/api/auth/two-factor/verify", post(routes::totp_verify))
        .route("/api/auth/two-factor/disable", post(routes::totp_disable))
        .route("/api/auth/verification-email", post(routes::verification_email))
        .route("/api/auth/verify-email", get(routes::verify_email))
        .route(
            "/api/sessions",
            get(routes::list_sessions).delete(routes::revoke_other_sessions),
        )
        .route("/api/sessions/audit", get(routes::own_audit))
        .route(
            "/api/sessions/{id}",
            get(routes::get_session).delete(routes::revoke_session),
        )
        .route(
            "/api/admin/users/{id}/revoke-sessions",
            post(routes::admin_revoke_user_sessions),
        )
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    api.layer(axum::middleware::from_fn_with_state(state.clone(), http::check_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::finish))
        .layer(http::cors(&state.cfg))
        .layer(DefaultBodyLimit::max(state.cfg.max_body_bytes))
        .layer(
            // Method and path only: query strings may hold tokens.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves, then lets in-flight requests finish.
///
/// Slow clients cannot hold it: a request's headers must arrive within the header timeout (else the
/// connection is closed) and its body within the body timeout (else 408, in [`http::Body`]); at most
/// `max_connections` are open at once, and one more is answered 503 `overloaded` with Retry-After and
/// closed rather than left waiting unseen in the backlog. A request that is not valid HTTP is answered
/// with the same `{code, message}` JSON as every other error ([`wire`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let limits = state.cfg.connections;
    let state_for_sender = state.clone();
    let app = router(state);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    // The outbox's sender: what a mail server refused, or what a restart interrupted, is tried again.
    let sender = state_for_sender.mailer.is_some().then(|| {
        let state = state_for_sender.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.cfg.mail_retry_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.deliver_due().await {
                    tracing::warn!(code = e.code(), error = %e, "the outbox could not be read");
                }
            }
        })
    });
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(http::refuse_busy(stream));
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(
            app.clone().layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(wire::JsonRejections::new(stream)), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if let Some(sender) = sender {
        sender.abort();
    }
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> String {
        let c = ClientInfo {
            ip: Some(ip.into()),
            ..ClientInfo::default()
        };
        AppState::ip_key("sign_in", &c)
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:bbbb::9"),
            "one /64, one budget"
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), "sign_in:ip:2001:db8:1:2::/64");
        assert_eq!(key("203.0.113.9"), "sign_in:ip:203.0.113.9", "IPv4 by the address");
    }
}

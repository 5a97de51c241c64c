//! Verification emails over SMTP (lettre). Sending runs off the request: the answer does not wait for
//! the mail server, and its timing says nothing about the address.

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use warden_core::Secret;

use crate::config::MailConfig;

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
}

impl Mailer {
    pub fn new(cfg: &MailConfig, public_url: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.smtp_url)
            .map_err(|e| format!("smtp url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = cfg.from.parse().map_err(|e| format!("mail from: {e}"))?;
        Ok(Mailer {
            transport,
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The link a verification email carries.
    pub fn link(&self, token: &Secret) -> String {
        format!("{}/api/auth/verify-email?token={}", self.public_url, token.expose())
    }

    /// Queues the verification email for `to`; failures are logged (without the token).
    pub fn send_verification(&self, to: &str, name: &str, token: &Secret) {
        let link = self.link(token);
        let mailer = self.clone();
        let (to, name) = (to.to_owned(), name.to_owned());
        tokio::spawn(async move {
            match mailer.build(&to, &name, &link) {
                Ok(msg) => match mailer.transport.send(msg).await {
                    Ok(_) => tracing::info!("verification email sent"),
                    Err(e) => tracing::warn!(error = %e, "the verification email could not be sent"),
                },
                Err(e) => tracing::warn!(error = %e, "the verification email could not be built"),
            }
        });
    }

    fn build(&self, to: &str, name: &str, link: &str) -> Result<Message, String> {
        let to_box: Mailbox = match format!("{name} <{to}>").parse() {
            Ok(m) => m,
            Err(_) => to.parse().map_err(|e| format!("recipient: {e}"))?,
        };
        Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject("Confirm your email address")
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "Hello {name},\r\n\r\nplease confirm your email address by opening this link:\r\n\r\n{link}\r\n\r\n\
                 If you did not create an account, ignore this message.\r\n"
            ))
            .map_err(|e| e.to_string())
    }
}

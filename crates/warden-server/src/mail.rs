//! Verification emails over SMTP (lettre), from the outbox (`warden_core::ops::mail`): each attempt waits
//! for the mail server's answer, and what it said is kept for the next attempt and for the admins.

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

    /// Sends the verification email for `to` and waits for the mail server's answer: `Err` holds what
    /// went wrong, in words (never the link).
    pub async fn deliver_verification(&self, to: &str, name: &str, token: &Secret) -> Result<(), String> {
        let msg = self.build(to, name, &self.link(token))?;
        match tokio::time::timeout(std::time::Duration::from_secs(20), self.transport.send(msg)).await {
            Err(_) => Err("the mail server did not answer within 20 seconds".into()),
            Ok(Err(e)) => Err(format!("the mail server refused it: {e}")),
            Ok(Ok(_)) => Ok(()),
        }
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

//! Outgoing e-mail: verification codes and notices. Two implementations of [`Mailer`]: SMTP when configured
//! (`SFR_ORG_SMTP=host:port`), and by default the local outbox, a table shown on Setup's *Sent Email* page and
//! printed to the server log, so a local org works without a mail server.

pub mod outbox;
pub mod smtp;

use std::sync::Arc;

use crate::model::Mail;
use crate::store::{Store, StoreError};

/// Environment variable naming the SMTP relay (`host:port`); unset means the local outbox.
pub const SMTP_ENV: &str = "SFR_ORG_SMTP";
/// Environment variable with the sender address (default `noreply@sfr-org.local`).
pub const FROM_ENV: &str = "SFR_ORG_MAIL_FROM";
/// Sender used when none is configured.
pub const DEFAULT_FROM: &str = "noreply@sfr-org.local";

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot keep the message in the outbox: {0}")]
    Outbox(#[from] StoreError),
    #[error("cannot reach the SMTP server {server}: {message}")]
    Connect { server: String, message: String },
    #[error("the SMTP server {server} refused {command}: {reply}")]
    Refused {
        server: String,
        command: &'static str,
        reply: String,
    },
    #[error("SMTP conversation with {server} failed: {message}")]
    Io { server: String, message: String },
    #[error(
        "invalid address {0:?}: an e-mail address may not contain line breaks or angle brackets"
    )]
    Address(String),
}

/// Something that delivers mail. Synchronous; call it from the blocking pool.
pub trait Mailer: Send + Sync {
    fn send(&self, mail: &Mail) -> Result<(), MailError>;
    /// Where mail goes, in words (shown on the Sent Email page).
    fn describe(&self) -> String;
}

/// The mailer the environment asks for: SMTP if [`SMTP_ENV`] is set, otherwise the outbox in `store`.
pub fn from_env(store: Arc<dyn Store>) -> Arc<dyn Mailer> {
    match std::env::var(SMTP_ENV) {
        Ok(server) if !server.trim().is_empty() => {
            let from = std::env::var(FROM_ENV).unwrap_or_else(|_| DEFAULT_FROM.to_owned());
            Arc::new(smtp::SmtpMailer::new(server.trim(), &from))
        }
        _ => Arc::new(outbox::OutboxMailer::new(store)),
    }
}

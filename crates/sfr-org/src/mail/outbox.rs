//! The default mailer: keeps every message in the store's outbox and prints it to the server log.

use std::sync::Arc;

use super::{MailError, Mailer};
use crate::model::Mail;
use crate::store::Store;

pub struct OutboxMailer {
    store: Arc<dyn Store>,
}

impl OutboxMailer {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

impl Mailer for OutboxMailer {
    fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.store.record_mail(mail)?;
        // The local org has no mail server: the log is where an admin reads the message.
        tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "e-mail kept in the local outbox");
        Ok(())
    }

    fn describe(&self) -> String {
        "the local outbox (no SMTP server configured; set SFR_ORG_SMTP=host:port to send real mail)"
            .to_owned()
    }
}

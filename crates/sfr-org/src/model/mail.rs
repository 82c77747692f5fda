//! Outgoing e-mail, as the org's outbox keeps it (verification codes and other notices to users).

/// One message sent (or queued) by the org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// When it was sent, ms since the epoch.
    pub at: i64,
    /// Recipient address.
    pub to: String,
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

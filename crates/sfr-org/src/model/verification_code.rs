//! One-time verification codes sent by e-mail before Setup shows a secret (e.g. Manage Consumer Details).

use sfr_wire::SfId;

/// How long a verification code may be used.
pub const VERIFICATION_CODE_LIFETIME_MS: i64 = 10 * super::MINUTE_MS;
/// Wrong tries after which a code is discarded.
pub const VERIFICATION_CODE_ATTEMPTS: u32 = 5;

/// A code issued to a user for one purpose; only its hash is stored. A new code for the same user and purpose
/// replaces the old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode {
    pub user_id: SfId,
    /// What the code unlocks, e.g. `consumer-details:0H4…`.
    pub purpose: String,
    /// `keys::hash_token` of the code.
    pub code_hash: String,
    pub expires_at: i64,
}

/// The outcome of checking a submitted code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code, in time; it is now used up.
    Accepted,
    /// Wrong code; `attempts_left` more tries before the code is discarded (0: discarded).
    Wrong { attempts_left: u32 },
    /// The code expired (and was discarded).
    Expired,
    /// No code was issued for this user and purpose (or it was used up).
    Missing,
}

//! Authorization codes (web server flow). Only the SHA-256 hash of a code is stored.

use sfr_wire::SfId;

use super::Scope;

/// Codes expire 15 minutes after they are issued.
pub const CODE_LIFETIME_MS: i64 = 15 * 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// `keys::token_key(code)`.
    pub code_hash: String,
    pub app_id: SfId,
    pub user_id: SfId,
    /// The `redirect_uri` of the authorize request; the token request must repeat it.
    pub redirect_uri: String,
    pub scopes: Vec<Scope>,
    pub code_challenge: Option<String>,
    /// `S256` or `plain`, as normalised at authorize time.
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was redeemed (set by `redeem_code`).
    pub used_at: Option<i64>,
}

/// The outcome of `Store::redeem_code`: exactly one caller ever sees `Fresh` for a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// First use, before expiry: issue tokens.
    Fresh(AuthCode),
    /// First use, but past `expires_at` (the code is now spent).
    Expired(AuthCode),
    /// Used before: the store has revoked every token issued from it.
    Replayed(AuthCode),
    /// No such code.
    Unknown,
}

//! Authorization codes (web server flow). Only the SHA-256 hash of a code is stored.

use sfr_wire::SfId;

use super::{IssueTokens, Scope, User};

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

/// What a code exchange makes of its code, claimed fresh, and of the code's user (`None`: no longer there): the
/// tokens to issue, or `None` to refuse — the claim stands either way, so a refused code is spent too. Asked
/// inside the exchange's transaction (`Store::exchange_code`), so it must be quick and decide on its arguments
/// alone; a backend that retries its transaction may ask again.
pub type CodeJudge =
    std::sync::Arc<dyn Fn(&AuthCode, Option<&User>) -> Option<IssueTokens> + Send + Sync>;

/// What `Store::exchange_code` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The claim's outcome, as `Store::redeem_code` answers it.
    pub redeemed: Redeemed,
    /// The code's user, read in the same transaction when the claim was fresh.
    pub user: Option<User>,
    /// Whether the judge's tokens were stored.
    pub issued: bool,
}

//! Access and refresh tokens. Only SHA-256 hashes are stored; the plaintext exists once, in the token response.

use sfr_wire::SfId;

use super::{LoginEvent, Scope};

/// A session. Lifetime is idle-based: alive while `now < last_used_at + session_timeout_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token_hash: String,
    pub app_id: SfId,
    pub user_id: SfId,
    pub scopes: Vec<Scope>,
    /// The refresh token this session came from or was issued with.
    pub refresh_hash: Option<String>,
    /// The authorization code it was issued from.
    pub from_code: Option<String>,
    pub issued_at: i64,
    pub last_used_at: i64,
    pub session_timeout_ms: i64,
    pub revoked_at: Option<i64>,
}

impl AccessToken {
    pub fn expires_at(&self) -> i64 {
        self.last_used_at.saturating_add(self.session_timeout_ms)
    }

    /// Not revoked and not idle past the session timeout.
    pub fn is_alive(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at()
    }

    /// Whether a use at `now` extends the session. As on Salesforce, the last-active time is updated only in the
    /// second half of the timeout ("the last active session time value isn't updated until halfway through the
    /// timeout period"): with 30 minutes, a call after 10 leaves the session ending at 30, a call after 20 moves
    /// the end to 50. So most calls need no write.
    pub fn use_extends(&self, now: i64) -> bool {
        now.saturating_sub(self.last_used_at) >= self.session_timeout_ms / 2
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub app_id: SfId,
    pub user_id: SfId,
    pub scopes: Vec<Scope>,
    pub from_code: Option<String>,
    pub issued_at: i64,
    pub last_used_at: i64,
    pub revoked_at: Option<i64>,
}

/// A new access token; `refresh_hash`/`from_code` are filled by the store from the `IssueTokens`/`RefreshUse`
/// that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessToken {
    pub token_hash: String,
    pub app_id: SfId,
    pub user_id: SfId,
    pub scopes: Vec<Scope>,
    pub issued_at: i64,
    /// The app's session timeout, else the org's, in ms.
    pub session_timeout_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub app_id: SfId,
    pub user_id: SfId,
    pub scopes: Vec<Scope>,
    pub issued_at: i64,
}

/// One grant's tokens, stored in one transaction. A refresh token beyond the fifth for the same user and app
/// revokes the oldest (and its sessions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueTokens {
    pub access: NewAccessToken,
    pub refresh: Option<NewRefreshToken>,
    /// Hash of the authorization code these tokens come from (so a replay can revoke them).
    pub from_code: Option<String>,
    /// The grant's login-history event, stored in the same transaction as the tokens.
    pub event: Option<LoginEvent>,
    /// The `facts_version` of the facts the grant was decided on, when they came from memory unconfirmed
    /// (`Store::cached_grant_facts`): the store writes nothing and answers `StoreError::FactsChanged` unless
    /// it is still current in the write's own transaction.
    pub facts_version: Option<i64>,
}

/// A refresh-token grant: mark the refresh token used and store the new session, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshUse {
    pub refresh_hash: String,
    pub now: i64,
    pub new_access: NewAccessToken,
    /// The grant's login-history event, stored with the new session when the refresh token was usable.
    pub event: Option<LoginEvent>,
    /// As `IssueTokens::facts_version`.
    pub facts_version: Option<i64>,
    /// Whether the use is recorded as the token's `last_used_at`: only when its app's policy reads it
    /// (`RefreshPolicy::reads_last_use`).
    pub mark_used: bool,
}

impl RefreshUse {
    /// `token` as this use leaves it: last used now when the use is recorded, unchanged otherwise.
    pub fn applied_to(&self, token: RefreshToken) -> RefreshToken {
        if self.mark_used {
            RefreshToken {
                last_used_at: self.now,
                ..token
            }
        } else {
            token
        }
    }
}

/// What a refresh grant makes of its refresh token as read (`None`: unknown), asked inside the transaction that
/// read it (`Store::refresh_judged_async`): the use to store, or `None` to store nothing. It runs on the store's
/// writer, so it must be quick, must not block and must not panic.
pub type RefreshJudge = Box<dyn FnOnce(Option<&RefreshToken>) -> Option<RefreshUse> + Send>;

/// What `revoke_by_hash` found and revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Access,
    /// A refresh token, together with the sessions issued from it.
    Refresh,
    /// Unknown or already revoked.
    None,
}

/// A session (an access token) and its user as stored, read together (`Store::session_async`); `user` is `None`
/// when the user no longer exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub token: AccessToken,
    pub user: Option<crate::model::User>,
}

/// The login-history row of a request that read a session, made of the session as read (`None`: no access token
/// has the hash), asked inside the trip that read it (`Store::session_recorded_async`): the row to record with
/// the read, or `None` to record nothing there. It runs on the store's writer, so it must be quick, must not
/// block and must not panic.
pub type SessionJudge =
    Box<dyn FnOnce(Option<&StoredSession>) -> Option<crate::model::LoginEvent> + Send>;

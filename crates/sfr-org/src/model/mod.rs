//! The org's domain types: plain data, no I/O. One file per concept; the store reads and writes them.

pub mod approval;
pub mod auth_code;
pub mod certificate;
pub mod connected_app;
pub mod consumer_secret;
pub mod grant_facts;
pub mod ip_relaxation;
pub mod login_event;
pub mod mail;
pub mod org;
pub mod permission_set;
pub mod permitted_users;
pub mod profile;
pub mod refresh_policy;
pub mod scope;
pub mod signing_key;
pub mod token;
pub mod user;
pub mod verification_code;

pub use approval::Approval;
pub use auth_code::{AuthCode, CODE_LIFETIME_MS, CodeJudge, Exchange, Redeemed};
pub use certificate::{CertificateError, CertificateInfo};
pub use connected_app::{AppUpdate, ConnectedApp, NewApp, PLATFORM_CLI};
pub use consumer_secret::ConsumerSecret;
pub use grant_facts::{GrantFacts, GrantLookup, GrantUser};
pub use ip_relaxation::IpRelaxation;
pub use login_event::{LoginEvent, LoginKind};
pub use mail::Mail;
pub use org::{Org, OrgSettingsUpdate};
pub use permission_set::PermissionSet;
pub use permitted_users::PermittedUsers;
pub use profile::{Profile, STANDARD_USER, SYSTEM_ADMINISTRATOR};
pub use refresh_policy::{PolicyDuration, RefreshPolicy};
pub use scope::Scope;
pub use signing_key::{RETIRED_KEY_PUBLISHED_MS, SigningKey, SigningKeys};
pub use token::{
    AccessToken, IssueTokens, NewAccessToken, NewRefreshToken, RefreshJudge, RefreshToken,
    RefreshUse, Revoked, SessionJudge, StoredSession,
};
pub use user::{LockState, NewUser, User};
pub use verification_code::{
    CodeCheck, VERIFICATION_CODE_ATTEMPTS, VERIFICATION_CODE_LIFETIME_MS, VerificationCode,
};

/// Milliseconds in a minute, for converting the minute-valued settings.
pub const MINUTE_MS: i64 = 60_000;

/// The longest session timeout, as on Salesforce (24 hours). Settings above it are read as it, so a session idle
/// this long is dead whatever its app or org says; the store relies on that bound (see `store::sqlite::tokens`).
pub const MAX_SESSION_TIMEOUT_MINUTES: u32 = 24 * 60;

/// `MAX_SESSION_TIMEOUT_MINUTES` in milliseconds.
pub const MAX_SESSION_TIMEOUT_MS: i64 = MAX_SESSION_TIMEOUT_MINUTES as i64 * MINUTE_MS;

/// Why a textual setting (scope, policy, permitted users…) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid; expected {expected}")]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

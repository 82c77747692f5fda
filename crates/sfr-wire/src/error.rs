//! The OAuth error catalogue: one table of (code, description, HTTP status) that the server answers with and the CLI
//! explains. Codes and descriptions are Salesforce's, byte for byte; the *why* behind an error belongs in the
//! server's login history, never on the wire.

use serde::{Deserialize, Serialize};

/// Every OAuth error `sfr-org` can put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OAuthError {
    /// Unknown consumer key (also a JWT `iss` that names no app).
    InvalidClientId,
    /// Wrong or missing consumer secret where one is required or was sent.
    InvalidClientCredentials,
    /// Bad username/password, or a generic authentication failure.
    AuthenticationFailure,
    /// Refresh token expired by policy, revoked, or unknown.
    ExpiredToken,
    /// Authorization code unknown, already used, or issued to another client.
    InvalidAuthCode,
    /// Authorization code past its lifetime; also a JWT assertion whose `exp` has passed.
    ExpiredAuthCode,
    /// PKCE verifier missing or not matching the challenge.
    InvalidCodeVerifier,
    /// JWT bearer for a user who neither approved the app nor is pre-authorized.
    NotApproved,
    /// JWT `aud` is not this org.
    InvalidAudience,
    /// JWT malformed, wrong algorithm, or signature not made by the app's certificate key.
    InvalidAssertion,
    /// IP restrictions or login hours.
    IpRestricted,
    /// client_credentials asked of a login host rather than the My Domain.
    UnsupportedDomain,
    /// client_credentials on an app with no run-as user.
    NoClientCredentialsUser,
    /// client_credentials where nothing is left of the requested scopes.
    NoValidScopes,
    /// The user is locked out after too many failed logins.
    UserLocked,
    /// Admin-approved app and the user holds none of its profiles or permission sets.
    NotAdminApproved,
    /// The user is deactivated.
    InactiveUser,
    /// The org is locked.
    InactiveOrg,
    /// Too many requests from this client or address.
    RateLimitExceeded,
    /// `grant_type` we do not know.
    UnsupportedGrantType,
    /// `grant_type` missing.
    GrantTypeMissing,
    /// A required parameter is missing or malformed.
    InvalidRequest,
    /// The request body or headers are larger than we accept.
    RequestTooLarge,
    /// `redirect_uri` is not a registered callback, or differs from the one used at authorize.
    RedirectUriMismatch,
    /// `redirect_uri` missing at authorize.
    RedirectUriMissing,
    /// `response_type` we do not support.
    UnsupportedResponseType,
    /// The user clicked Deny.
    AccessDenied,
    /// `immediate=true` and the user is not logged in or has not approved.
    ImmediateUnsuccessful,
    /// A scope the app does not have.
    InvalidScope,
    /// The app requires PKCE and the authorize request carried no `code_challenge`.
    MissingCodeChallenge,
    /// Revoke: the token is of a type we cannot revoke.
    UnsupportedTokenType,
    /// Revoke: the token is unknown or already invalid.
    InvalidToken,
    /// Device flow: the user has not finished yet.
    AuthorizationPending,
}

impl OAuthError {
    /// Every variant, for catalogue tests and documentation.
    pub const ALL: &'static [OAuthError] = &[
        Self::InvalidClientId,
        Self::InvalidClientCredentials,
        Self::AuthenticationFailure,
        Self::ExpiredToken,
        Self::InvalidAuthCode,
        Self::ExpiredAuthCode,
        Self::InvalidCodeVerifier,
        Self::NotApproved,
        Self::InvalidAudience,
        Self::InvalidAssertion,
        Self::IpRestricted,
        Self::UnsupportedDomain,
        Self::NoClientCredentialsUser,
        Self::NoValidScopes,
        Self::UserLocked,
        Self::NotAdminApproved,
        Self::InactiveUser,
        Self::InactiveOrg,
        Self::RateLimitExceeded,
        Self::UnsupportedGrantType,
        Self::GrantTypeMissing,
        Self::InvalidRequest,
        Self::RequestTooLarge,
        Self::RedirectUriMismatch,
        Self::RedirectUriMissing,
        Self::UnsupportedResponseType,
        Self::AccessDenied,
        Self::ImmediateUnsuccessful,
        Self::InvalidScope,
        Self::MissingCodeChallenge,
        Self::UnsupportedTokenType,
        Self::InvalidToken,
        Self::AuthorizationPending,
    ];

    /// The `error` field.
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidClientId => "invalid_client_id",
            Self::InvalidClientCredentials => "invalid_client",
            Self::AuthenticationFailure
            | Self::ExpiredToken
            | Self::InvalidAuthCode
            | Self::ExpiredAuthCode
            | Self::InvalidCodeVerifier
            | Self::NotApproved
            | Self::InvalidAudience
            | Self::InvalidAssertion
            | Self::IpRestricted
            | Self::UnsupportedDomain
            | Self::NoClientCredentialsUser
            | Self::NoValidScopes
            | Self::UserLocked => "invalid_grant",
            Self::NotAdminApproved => "invalid_app_access",
            Self::InactiveUser => "inactive_user",
            Self::InactiveOrg => "inactive_org",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::GrantTypeMissing
            | Self::InvalidRequest
            | Self::RequestTooLarge
            | Self::MissingCodeChallenge => "invalid_request",
            Self::RedirectUriMismatch => "redirect_uri_mismatch",
            Self::RedirectUriMissing => "redirect_uri_missing",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AccessDenied => "access_denied",
            Self::ImmediateUnsuccessful => "immediate_unsuccessful",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidToken => "invalid_token",
            Self::AuthorizationPending => "authorization_pending",
        }
    }

    /// The `error_description` field.
    pub const fn description(self) -> &'static str {
        match self {
            Self::InvalidClientId => "client identifier invalid",
            Self::InvalidClientCredentials => "invalid client credentials",
            Self::AuthenticationFailure => "authentication failure",
            Self::ExpiredToken => "expired access/refresh token",
            Self::InvalidAuthCode => "invalid authorization code",
            Self::ExpiredAuthCode => "expired authorization code",
            Self::InvalidCodeVerifier => "invalid code verifier",
            Self::NotApproved => "user hasn't approved this consumer",
            Self::InvalidAudience => "audience is invalid",
            Self::InvalidAssertion => "invalid assertion",
            Self::IpRestricted => "IP restricted or invalid login hours",
            Self::UnsupportedDomain => "request not supported on this domain",
            Self::NoClientCredentialsUser => "no client credentials user enabled",
            Self::NoValidScopes => "no valid scopes defined",
            Self::UserLocked => "user is locked",
            Self::NotAdminApproved => "user is not admin approved to access this app",
            Self::InactiveUser => "user is inactive",
            Self::InactiveOrg => "organization is locked, closed, or suspended",
            Self::RateLimitExceeded => "number of logins exceeded",
            Self::UnsupportedGrantType => "grant type not supported",
            Self::GrantTypeMissing => "grant type is missing",
            Self::InvalidRequest => "invalid request",
            Self::RequestTooLarge => "request too large",
            Self::RedirectUriMismatch => "redirect_uri must match configuration",
            Self::RedirectUriMissing => "redirect_uri must be provided",
            Self::UnsupportedResponseType => "response type not supported",
            Self::AccessDenied => "end-user denied authorization",
            Self::ImmediateUnsuccessful => "immediate authorization failed",
            Self::InvalidScope => "the requested scope is not allowed",
            Self::MissingCodeChallenge => "missing required code challenge",
            Self::UnsupportedTokenType => "this token type is not supported",
            Self::InvalidToken => "invalid token",
            Self::AuthorizationPending => "authorization pending",
        }
    }

    /// HTTP status. Salesforce answers every token-endpoint error with 400, `invalid_client` included.
    pub const fn status(self) -> u16 {
        match self {
            Self::RequestTooLarge => 413,
            _ => 400,
        }
    }

    /// The JSON body `{"error":…,"error_description":…}`.
    pub fn body(self) -> ErrorBody {
        ErrorBody {
            error: self.code().to_owned(),
            error_description: self.description().to_owned(),
        }
    }

    /// Finds the variant for a wire `(error, error_description)` pair, if it is one of ours.
    pub fn from_wire(code: &str, description: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|e| e.code() == code && e.description() == description)
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.description())
    }
}

impl std::error::Error for OAuthError {}

/// The JSON error body of the OAuth endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalogue_pairs_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for e in OAuthError::ALL {
            assert!(
                seen.insert((e.code(), e.description())),
                "duplicate wire pair for {e:?}"
            );
            assert_eq!(OAuthError::from_wire(e.code(), e.description()), Some(*e));
        }
    }

    #[test]
    fn body_serializes_like_salesforce() {
        let json = serde_json::to_string(&OAuthError::ExpiredToken.body()).unwrap();
        assert_eq!(
            json,
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#
        );
    }
}

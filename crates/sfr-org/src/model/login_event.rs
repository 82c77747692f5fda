//! Login history: every login, authorization and token request, with the precise reason behind a failure (the
//! wire only carries Salesforce's terse error code).

use std::fmt;

use sfr_wire::SfId;

/// What was attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginKind {
    /// Username/password on the login page.
    UiLogin,
    /// `/services/oauth2/authorize` (incl. the approve/deny page).
    Authorize,
    /// A token grant: `authorization_code`, `refresh_token`, `jwt-bearer`, `client_credentials`, `password`…
    Token(String),
    Revoke,
    Introspect,
    /// Anything else, by name.
    Other(String),
}

impl LoginKind {
    /// Stable text form (`ui-login`, `authorize`, `token:refresh_token`, `revoke`, `introspect`, or the name).
    pub fn as_text(&self) -> String {
        match self {
            Self::UiLogin => "ui-login".into(),
            Self::Authorize => "authorize".into(),
            Self::Token(grant) => ["token:", grant].concat(),
            Self::Revoke => "revoke".into(),
            Self::Introspect => "introspect".into(),
            Self::Other(name) => name.clone(),
        }
    }

    pub fn from_text(s: &str) -> Self {
        match s {
            "ui-login" => Self::UiLogin,
            "authorize" => Self::Authorize,
            "revoke" => Self::Revoke,
            "introspect" => Self::Introspect,
            _ => match s.strip_prefix("token:") {
                Some(grant) => Self::Token(grant.to_owned()),
                None => Self::Other(s.to_owned()),
            },
        }
    }
}

impl fmt::Display for LoginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEvent {
    pub at: i64,
    /// The username as typed (may name no user).
    pub username: Option<String>,
    pub user_id: Option<SfId>,
    /// The consumer key, if the request named one.
    pub consumer_key: Option<String>,
    pub kind: LoginKind,
    pub success: bool,
    /// The OAuth error code sent on the wire, if any.
    pub error_code: Option<String>,
    /// Why, in words (never a secret or token).
    pub reason: String,
    pub source_ip: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [
            LoginKind::UiLogin,
            LoginKind::Authorize,
            LoginKind::Token("jwt-bearer".into()),
            LoginKind::Revoke,
            LoginKind::Introspect,
            LoginKind::Other("logout".into()),
        ] {
            assert_eq!(LoginKind::from_text(&kind.as_text()), kind);
        }
    }
}

//! The token request's grant, parsed from the merged parameters into one enum tagged by `grant_type`.
//! Client authentication (`client_id`, `client_secret`, HTTP Basic) is read separately.

use sfr_wire::{JWT_BEARER_GRANT, OAuthError};

use crate::http::params::Params;

/// One token request's grant with the parameters it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<String>,
    },
    JwtBearer {
        assertion: String,
    },
    ClientCredentials {
        scope: Option<String>,
    },
    /// The username-password flow: recognised so that it can be refused the way an org that blocks it does.
    Password {
        username: String,
    },
}

impl Grant {
    /// The name recorded in login history.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
            Self::JwtBearer { .. } => "jwt-bearer",
            Self::ClientCredentials { .. } => "client_credentials",
            Self::Password { .. } => "password",
        }
    }

    /// Parses the grant; the error is what goes on the wire.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let required = |name: &str| params.owned(name).ok_or(OAuthError::InvalidRequest);
        match params.get("grant_type") {
            None => Err(OAuthError::GrantTypeMissing),
            Some("authorization_code") => Ok(Self::AuthorizationCode {
                code: required("code")?,
                redirect_uri: params.owned("redirect_uri"),
                code_verifier: params.owned("code_verifier"),
            }),
            Some("refresh_token") => Ok(Self::RefreshToken {
                refresh_token: required("refresh_token")?,
                scope: params.owned("scope"),
            }),
            Some(JWT_BEARER_GRANT) => Ok(Self::JwtBearer {
                assertion: required("assertion")?,
            }),
            Some("client_credentials") => Ok(Self::ClientCredentials {
                scope: params.owned("scope"),
            }),
            Some("password") => Ok(Self::Password {
                username: params.owned("username").unwrap_or_default(),
            }),
            Some(_) => Err(OAuthError::UnsupportedGrantType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn parses_each_grant() {
        assert_eq!(
            Grant::parse(&p(&[
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("redirect_uri", "http://localhost:1717/OauthRedirect"),
                ("code_verifier", "v"),
            ])),
            Ok(Grant::AuthorizationCode {
                code: "c".into(),
                redirect_uri: Some("http://localhost:1717/OauthRedirect".into()),
                code_verifier: Some("v".into()),
            })
        );
        assert_eq!(
            Grant::parse(&p(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "5Aep")
            ])),
            Ok(Grant::RefreshToken {
                refresh_token: "5Aep".into(),
                scope: None
            })
        );
        assert_eq!(
            Grant::parse(&p(&[
                ("grant_type", JWT_BEARER_GRANT),
                ("assertion", "a.b.c")
            ])),
            Ok(Grant::JwtBearer {
                assertion: "a.b.c".into()
            })
        );
        assert_eq!(
            Grant::parse(&p(&[
                ("grant_type", "client_credentials"),
                ("scope", "api")
            ])),
            Ok(Grant::ClientCredentials {
                scope: Some("api".into())
            })
        );
        assert_eq!(
            Grant::parse(&p(&[("grant_type", "password"), ("username", "u")])).map(|g| g.name()),
            Ok("password")
        );
    }

    #[test]
    fn missing_and_unknown() {
        assert_eq!(Grant::parse(&p(&[])), Err(OAuthError::GrantTypeMissing));
        assert_eq!(
            Grant::parse(&p(&[("grant_type", "")])),
            Err(OAuthError::GrantTypeMissing)
        );
        assert_eq!(
            Grant::parse(&p(&[("grant_type", "device")])),
            Err(OAuthError::UnsupportedGrantType)
        );
        assert_eq!(
            Grant::parse(&p(&[("grant_type", "authorization_code")])),
            Err(OAuthError::InvalidRequest)
        );
        assert_eq!(
            Grant::parse(&p(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "")
            ])),
            Err(OAuthError::InvalidRequest)
        );
        assert_eq!(
            Grant::parse(&p(&[("grant_type", JWT_BEARER_GRANT)])),
            Err(OAuthError::InvalidRequest)
        );
    }
}

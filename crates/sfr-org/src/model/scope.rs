//! OAuth scopes a connected app can hold.

use std::fmt;

use super::ParseError;

/// A scope. `refresh_token` and `offline_access` are equivalent; `id`, `profile`, `email`, `address`, `phone`
/// give access to the identity URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Api,
    Web,
    Full,
    RefreshToken,
    OfflineAccess,
    OpenId,
    Id,
    Profile,
    Email,
    Address,
    Phone,
    ChatterApi,
    Visualforce,
    CustomPermissions,
    Lightning,
    Content,
}

impl Scope {
    pub const ALL: &'static [Scope] = &[
        Self::Api,
        Self::Web,
        Self::Full,
        Self::RefreshToken,
        Self::OfflineAccess,
        Self::OpenId,
        Self::Id,
        Self::Profile,
        Self::Email,
        Self::Address,
        Self::Phone,
        Self::ChatterApi,
        Self::Visualforce,
        Self::CustomPermissions,
        Self::Lightning,
        Self::Content,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web",
            Self::Full => "full",
            Self::RefreshToken => "refresh_token",
            Self::OfflineAccess => "offline_access",
            Self::OpenId => "openid",
            Self::Id => "id",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::Address => "address",
            Self::Phone => "phone",
            Self::ChatterApi => "chatter_api",
            Self::Visualforce => "visualforce",
            Self::CustomPermissions => "custom_permissions",
            Self::Lightning => "lightning",
            Self::Content => "content",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| ParseError {
                what: "scope",
                value: s.to_owned(),
                expected: "api, web, full, refresh_token, offline_access, openid, id, profile, email, \
                           address, phone, chatter_api, visualforce, custom_permissions, lightning or content",
            })
    }

    /// Parses a space- (or comma-) separated list, dropping duplicates and keeping the first-seen order.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, ParseError> {
        let mut out = Vec::new();
        for word in s.split([' ', ',', '+']).filter(|w| !w.is_empty()) {
            let scope = Self::parse(word)?;
            if !out.contains(&scope) {
                out.push(scope);
            }
        }
        Ok(out)
    }

    /// Space-separated, in the given order.
    pub fn join(scopes: &[Self]) -> String {
        let mut out = String::with_capacity(scopes.len() * 12);
        Self::push_joined(&mut out, scopes);
        out
    }

    /// Appends `join(scopes)` to `out` (for text that has the list inside it, without a string of its own).
    pub fn push_joined(out: &mut String, scopes: &[Self]) {
        for (i, scope) in scopes.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(scope.as_str());
        }
    }

    /// Whether the list grants a refresh token (`refresh_token` or `offline_access`).
    pub fn grants_refresh(scopes: &[Self]) -> bool {
        scopes
            .iter()
            .any(|s| matches!(s, Self::RefreshToken | Self::OfflineAccess))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_join() {
        let scopes = Scope::parse_list("api web  refresh_token api").unwrap();
        assert_eq!(scopes, vec![Scope::Api, Scope::Web, Scope::RefreshToken]);
        assert_eq!(Scope::join(&scopes), "api web refresh_token");
        assert!(Scope::grants_refresh(&scopes));
        assert!(!Scope::grants_refresh(&[Scope::Full]));
        let err = Scope::parse_list("api bogus").unwrap_err();
        assert_eq!(err.value, "bogus");
    }
}

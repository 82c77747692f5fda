//! Connected apps: who may ask for tokens, how, and under which policies.

use sfr_wire::SfId;

use super::{IpRelaxation, PermittedUsers, RefreshPolicy, Scope};

/// The consumer key (and name) of the built-in app `sf org login web` uses.
pub const PLATFORM_CLI: &str = "PlatformCLI";

/// A connected app (`0H4…`). The consumer secret is not here: it is stored encrypted and read with
/// `Store::app_secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    pub id: SfId,
    /// Label shown to people ("Connected App Name"); unique, compared case-insensitively.
    pub name: String,
    /// API name (`fullName`); unique.
    pub api_name: String,
    pub contact_email: String,
    pub oauth_enabled: bool,
    /// Registered callback URLs; a `redirect_uri` must equal one of them exactly.
    pub callback_urls: Vec<String>,
    pub scopes: Vec<Scope>,
    /// PEM certificate for "Use digital signatures" (JWT bearer), if uploaded.
    pub certificate_pem: Option<String>,
    pub consumer_key: String,
    /// "Require Secret for Web Server Flow" (default true).
    pub require_secret_web: bool,
    /// "Require Secret for Refresh Token Flow" (default false).
    pub require_secret_refresh: bool,
    /// "Require Proof Key for Code Exchange" (default false).
    pub require_pkce: bool,
    /// "Introspect All Tokens" (default false): introspection describes every app's tokens to this app, not
    /// only its own.
    pub introspect_all_tokens: bool,
    pub permitted_users: PermittedUsers,
    /// Names of the profiles pre-authorized for the app.
    pub profiles: Vec<String>,
    /// Names of the permission sets pre-authorized for the app.
    pub permission_sets: Vec<String>,
    pub refresh_policy: RefreshPolicy,
    /// Session timeout in minutes; `None` = the org default.
    pub session_timeout_minutes: Option<u32>,
    pub ip_relaxation: IpRelaxation,
    /// Run-as user of the client credentials flow; `None` = flow disabled.
    pub client_credentials_user: Option<SfId>,
    /// Shipped with the org (PlatformCLI); created without the creation gate.
    pub built_in: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ConnectedApp {
    /// Whether `redirect_uri` is one of the registered callbacks (exact match).
    pub fn allows_callback(&self, redirect_uri: &str) -> bool {
        self.callback_urls.iter().any(|url| url == redirect_uri)
    }

    /// Whether a user with this profile and these permission sets is pre-authorized.
    pub fn pre_authorizes(&self, profile: &str, permission_sets: &[&str]) -> bool {
        self.profiles.iter().any(|p| p == profile)
            || self
                .permission_sets
                .iter()
                .any(|ps| permission_sets.contains(&ps.as_str()))
    }

    /// Session timeout in ms, given the org default in minutes; never above `MAX_SESSION_TIMEOUT_MINUTES`.
    pub fn session_timeout_ms(&self, org_default_minutes: u32) -> i64 {
        let minutes = self.session_timeout_minutes.unwrap_or(org_default_minutes);
        i64::from(minutes.min(super::MAX_SESSION_TIMEOUT_MINUTES)) * super::MINUTE_MS
    }
}

/// What `create_app` needs. Profiles, permission sets and the run-as user are named; the store resolves them
/// and answers a typed error naming what it did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApp {
    pub name: String,
    /// Defaults to `name` with every non-alphanumeric character turned into `_`.
    pub api_name: Option<String>,
    pub contact_email: String,
    pub callback_urls: Vec<String>,
    pub scopes: Vec<Scope>,
    pub certificate_pem: Option<String>,
    pub require_secret_web: bool,
    pub require_secret_refresh: bool,
    pub require_pkce: bool,
    pub introspect_all_tokens: bool,
    pub permitted_users: PermittedUsers,
    pub profiles: Vec<String>,
    pub permission_sets: Vec<String>,
    pub refresh_policy: RefreshPolicy,
    pub session_timeout_minutes: Option<u32>,
    pub ip_relaxation: IpRelaxation,
    pub client_credentials_username: Option<String>,
    /// Only for built-in apps: a fixed consumer key (otherwise one is generated).
    pub consumer_key: Option<String>,
    /// Built-in apps bypass the creation gate (like a package install).
    pub built_in: bool,
    pub created_at: i64,
}

impl NewApp {
    /// An app with Salesforce's defaults: secret required for the web flow, not for refresh, PKCE off, its own
    /// tokens only to introspect, self-authorize, refresh tokens valid until revoked, org session timeout.
    pub fn new(
        name: impl Into<String>,
        contact_email: impl Into<String>,
        callback_urls: Vec<String>,
        scopes: Vec<Scope>,
        created_at: i64,
    ) -> Self {
        Self {
            name: name.into(),
            api_name: None,
            contact_email: contact_email.into(),
            callback_urls,
            scopes,
            certificate_pem: None,
            require_secret_web: true,
            require_secret_refresh: false,
            require_pkce: false,
            introspect_all_tokens: false,
            permitted_users: PermittedUsers::AllSelfAuthorize,
            profiles: Vec::new(),
            permission_sets: Vec::new(),
            refresh_policy: RefreshPolicy::UntilRevoked,
            session_timeout_minutes: None,
            ip_relaxation: IpRelaxation::Enforce,
            client_credentials_username: None,
            consumer_key: None,
            built_in: false,
            created_at,
        }
    }

    /// The built-in `PlatformCLI` app `sf org login web` uses.
    pub fn platform_cli(created_at: i64) -> Self {
        Self {
            api_name: Some(PLATFORM_CLI.to_owned()),
            require_secret_web: false,
            require_secret_refresh: false,
            require_pkce: true,
            consumer_key: Some(PLATFORM_CLI.to_owned()),
            built_in: true,
            ..Self::new(
                PLATFORM_CLI,
                "admin@sfr-org.local",
                (1717..=1719)
                    .map(|port| format!("http://localhost:{port}/OauthRedirect"))
                    .collect(),
                vec![Scope::Api, Scope::Web, Scope::RefreshToken],
                created_at,
            )
        }
    }
}

/// Derives an API name from a label: letters, digits and `_`, starting with a letter.
pub fn api_name_from(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'X');
    }
    out
}

/// A partial change of an app; `None` leaves a field as it is. For optional fields, `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppUpdate {
    pub contact_email: Option<String>,
    pub callback_urls: Option<Vec<String>>,
    pub scopes: Option<Vec<Scope>>,
    pub certificate_pem: Option<Option<String>>,
    pub require_secret_web: Option<bool>,
    pub require_secret_refresh: Option<bool>,
    pub require_pkce: Option<bool>,
    pub introspect_all_tokens: Option<bool>,
    pub permitted_users: Option<PermittedUsers>,
    pub profiles: Option<Vec<String>>,
    pub permission_sets: Option<Vec<String>>,
    pub refresh_policy: Option<RefreshPolicy>,
    pub session_timeout_minutes: Option<Option<u32>>,
    pub ip_relaxation: Option<IpRelaxation>,
    pub client_credentials_username: Option<Option<String>>,
    pub oauth_enabled: Option<bool>,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_cli_matches_what_sf_sends() {
        let app = NewApp::platform_cli(0);
        assert_eq!(app.consumer_key.as_deref(), Some("PlatformCLI"));
        assert!(
            app.callback_urls
                .contains(&"http://localhost:1717/OauthRedirect".to_owned())
        );
        assert!(!app.require_secret_web && app.require_pkce && app.built_in);
        assert_eq!(api_name_from("My App 2"), "My_App_2");
        assert_eq!(api_name_from("1st"), "X1st");
    }
}

//! A REST connection to an authorized org with the one refresh rule: a 401 triggers exactly one refresh (the stored
//! refresh token, or a fresh JWT assertion), the new token is saved, the request is retried once. Access-token orgs
//! cannot refresh. A rotated refresh token sent by the server is stored (sf drops it).
//!
//! Concurrent `sfr` processes refreshing the same org serialize on a refresh lock next to the auth file; the
//! second one finds the token already renewed on disk and uses it instead of refreshing again.

use std::path::PathBuf;

use sfr_wire::{RestError, SfdxAuthUrl, TokenResponse};

use super::http::{HttpClient, HttpError, Response, join};
use super::jwt;
use super::post_login::{self, Rest};
use super::token::{GrantError, request_token};
use super::web::DEFAULT_CLIENT_ID;
use crate::store::{AuthFile, FileLock, OAuthMethod, Store, StoreError};

/// jsforce does not refresh on 401s whose body says one of these.
const NO_REFRESH_MARKERS: &[&str] = &[
    "This session is not valid for use with the REST API",
    "Connected app is not attached to Agent",
];

/// Why a request or refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The refresh grant was refused (expired or revoked refresh token, unknown app, …).
    #[error("Unable to refresh session due to: {detail}")]
    RefreshFailed {
        username: String,
        detail: String,
        relogin: String,
    },
    /// The org has no way to refresh (an access-token login) and the token no longer works.
    #[error("{message}")]
    SessionExpired {
        username: String,
        message: String,
        relogin: String,
    },
    /// The server answered with a REST error other than an expired session.
    #[error("{message}")]
    Rest {
        status: u16,
        error_code: String,
        message: String,
    },
    #[error(transparent)]
    Transport(#[from] HttpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The auth file of {username} has no {field}.")]
    Incomplete {
        username: String,
        field: &'static str,
    },
}

impl ConnectionError {
    /// sf's error name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RefreshFailed { .. } => "RefreshTokenAuthError",
            Self::SessionExpired { .. } => "INVALID_SESSION_ID",
            Self::Rest { .. } => "Error",
            Self::Transport(_) => "TypeError",
            Self::Store(e) => e.name(),
            Self::Incomplete { .. } => "AuthInfoError",
        }
    }

    /// One sentence naming the org and the exact command that re-authorizes it, when that is the fix.
    pub fn relogin_hint(&self) -> Option<String> {
        match self {
            Self::RefreshFailed {
                username, relogin, ..
            }
            | Self::SessionExpired {
                username, relogin, ..
            } if !username.is_empty() => Some(format!(
                "The authorization of {username} has expired or was revoked. Log in again with: {relogin}"
            )),
            _ => None,
        }
    }

    /// What to do about it: re-authorize with the exact command, when that is the fix.
    pub fn actions(&self) -> Vec<String> {
        match self {
            Self::RefreshFailed {
                username, relogin, ..
            }
            | Self::SessionExpired {
                username, relogin, ..
            } => vec![
                format!(
                    "The authorization of {username} has expired or was revoked. Log in again with:"
                ),
                relogin.clone(),
            ],
            Self::Store(e) => e.actions(),
            _ => Vec::new(),
        }
    }
}

/// An authorized org and a way to talk to it.
pub struct Connection<'s> {
    store: &'s Store,
    http: HttpClient,
    pub auth: AuthFile,
}

impl<'s> Connection<'s> {
    pub fn new(store: &'s Store, http: HttpClient, auth: AuthFile) -> Self {
        Self { store, http, auth }
    }

    fn username(&self) -> String {
        self.auth.username().unwrap_or_default().to_owned()
    }

    /// GETs `path` on the instance; a 401 refreshes once and retries once.
    pub fn get(&mut self, path: &str) -> Result<Response, ConnectionError> {
        let first = self.get_once(path)?;
        if first.status != 401 || NO_REFRESH_MARKERS.iter().any(|m| first.body.contains(m)) {
            return Ok(first);
        }
        let rejected = self.auth.access_token().unwrap_or_default().to_owned();
        self.refresh_after_401(&rejected, &first)?;
        self.get_once(path)
    }

    /// GETs `path` and turns any error status into [`ConnectionError::Rest`].
    pub fn get_ok(&mut self, path: &str) -> Result<Response, ConnectionError> {
        let resp = self.get(path)?;
        if resp.status >= 400 {
            let (error_code, message) = rest_error(&resp);
            return Err(ConnectionError::Rest {
                status: resp.status,
                error_code,
                message,
            });
        }
        Ok(resp)
    }

    fn get_once(&self, path: &str) -> Result<Response, ConnectionError> {
        let instance = self
            .auth
            .instance_url()
            .ok_or_else(|| ConnectionError::Incomplete {
                username: self.username(),
                field: "instanceUrl",
            })?;
        let token = self.auth.access_token().unwrap_or_default();
        Ok(self.http.get_with_token(&join(instance, path), token)?)
    }

    /// sf's `org.refreshAuth()`: `GET /services/data/v{version}`, refreshing on a 401.
    pub fn check(&mut self, api_version: &str) -> Result<(), ConnectionError> {
        self.get_ok(&format!("services/data/v{api_version}"))
            .map(|_| ())
    }

    /// Refreshes after the server rejected `rejected_token`: under the refresh lock, re-read the file; if another
    /// process already stored a different token, adopt it; otherwise run the grant and save.
    fn refresh_after_401(
        &mut self,
        rejected_token: &str,
        response: &Response,
    ) -> Result<(), ConnectionError> {
        let username = self.username();
        if self.auth.oauth_method() == OAuthMethod::Token {
            let (_, message) = rest_error(response);
            return Err(ConnectionError::SessionExpired {
                relogin: relogin_command(self.store, &self.auth),
                username,
                message,
            });
        }
        let _guard = self.refresh_lock()?;
        if let Ok(on_disk) = self.store.read_auth(&username)
            && let Some(token) = on_disk.access_token()
            && token != rejected_token
        {
            self.auth = on_disk;
            return Ok(());
        }
        self.refresh_now()
    }

    fn refresh_lock(&self) -> Result<FileLock, ConnectionError> {
        let mut path: PathBuf = self.store.auth_path(&self.username())?;
        path.set_extension("json.refresh");
        Ok(FileLock::acquire(&path)?)
    }

    fn refresh_now(&mut self) -> Result<(), ConnectionError> {
        let token = refresh_grant(&self.http, &self.auth).map_err(|detail| {
            ConnectionError::RefreshFailed {
                username: self.username(),
                detail,
                relogin: relogin_command(self.store, &self.auth),
            }
        })?;
        self.auth.set_access_token(token.access_token.clone());
        self.auth.set_instance_url(token.instance_url.clone());
        if let Some(rotated) = token.refresh_token.filter(|r| !r.is_empty())
            && self.auth.refresh_token() != Some(rotated.as_str())
        {
            self.auth.set_refresh_token(rotated);
        }
        let rest = Rest {
            http: &self.http,
            instance_url: &token.instance_url,
            access_token: &token.access_token,
        };
        let hub = post_login::is_dev_hub(rest);
        self.auth.set_is_dev_hub(hub);
        self.store.write_auth(&self.auth)?;
        Ok(())
    }
}

/// Runs the org's grant again: the refresh token at the stored login URL, or a new JWT. The error text is sf's
/// (`Error authenticating with the refresh token due to: …`).
fn refresh_grant(http: &HttpClient, auth: &AuthFile) -> Result<TokenResponse, String> {
    let login_url = auth
        .login_url()
        .or(auth.instance_url())
        .ok_or_else(|| "the auth file has no loginUrl".to_owned())?;
    let client_id = auth.client_id().unwrap_or(DEFAULT_CLIENT_ID);
    if let Some(refresh_token) = auth.refresh_token() {
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ];
        if let Some(secret) = auth.client_secret().filter(|s| !s.is_empty()) {
            pairs.push(("client_secret", secret));
        }
        return request_token(http, login_url, &pairs).map_err(|e| {
            format!(
                "Error authenticating with the refresh token due to: {}",
                grant_detail(&e)
            )
        });
    }
    let key_path = auth
        .private_key()
        .ok_or_else(|| "the auth file has neither a refresh token nor a private key".to_owned())?;
    let key = jwt::load_key(std::path::Path::new(key_path)).map_err(|e| e.to_string())?;
    let username = auth.username().unwrap_or_default();
    let audience = jwt::default_audience(
        std::env::var("SF_AUDIENCE_URL")
            .or_else(|_| std::env::var("SFDX_AUDIENCE_URL"))
            .ok()
            .as_deref(),
        login_url,
        auth.get_str("createdOrgInstance"),
    );
    let attempts = jwt::attempts(login_url, &audience);
    jwt::grant(http, &key, client_id, username, &attempts, now_secs)
        .map(|(token, _)| token)
        .map_err(|failures| {
            let lines: Vec<String> = failures.iter().map(|f| grant_detail(&f.error)).collect();
            format!(
                "Error authenticating with JWT config due to: {}",
                lines.join("; ")
            )
        })
}

/// The description the server gave (sf passes it through verbatim), else the whole error.
fn grant_detail(e: &GrantError) -> String {
    match e {
        GrantError::OAuth(reply) if !reply.description.is_empty() => reply.description.clone(),
        other => other.to_string(),
    }
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `(errorCode, message)` of a REST error body (an array of `{message, errorCode}`), else `ERROR_HTTP_<status>`.
pub fn rest_error(resp: &Response) -> (String, String) {
    match serde_json::from_str::<Vec<RestError>>(&resp.body) {
        Ok(errors) if !errors.is_empty() => {
            (errors[0].error_code.clone(), errors[0].message.clone())
        }
        _ => (
            format!("ERROR_HTTP_{}", resp.status),
            if resp.body.trim().is_empty() {
                format!("HTTP {}", resp.status)
            } else {
                resp.body.trim().chars().take(300).collect()
            },
        ),
    }
}

/// The exact command that authorizes this org again, keeping its alias.
pub fn relogin_command(store: &Store, auth: &AuthFile) -> String {
    let username = auth.username().unwrap_or_default();
    let login_url = auth.login_url().or(auth.instance_url()).unwrap_or_default();
    let mut cmd = match auth.oauth_method() {
        OAuthMethod::Jwt => format!(
            "sfr org login jwt --username {} --jwt-key-file {} --client-id {} --instance-url {}",
            shell_word(username),
            shell_word(auth.private_key().unwrap_or_default()),
            shell_word(auth.client_id().unwrap_or(DEFAULT_CLIENT_ID)),
            shell_word(login_url)
        ),
        OAuthMethod::Token => format!(
            "sfr org login access-token --instance-url {}",
            shell_word(auth.instance_url().unwrap_or(login_url))
        ),
        OAuthMethod::Web => {
            let mut c = format!("sfr org login web --instance-url {}", shell_word(login_url));
            if let Some(id) = auth.client_id().filter(|c| *c != DEFAULT_CLIENT_ID) {
                c.push_str(&format!(" --client-id {}", shell_word(id)));
            }
            c
        }
    };
    if let Ok(Some(alias)) = store.alias_of(username) {
        cmd.push_str(&format!(" --alias {}", shell_word(&alias)));
    }
    cmd
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `org list`'s status column: `Connected`, or the error text of `GET /services/data/v{version}` (after the usual
/// refresh). The auth is updated in place (and saved) when a refresh happened.
pub fn connected_status(store: &Store, auth: &mut AuthFile) -> String {
    let http = match HttpClient::from_env() {
        Ok(h) => h,
        Err(e) => return e.to_string(),
    };
    let version = auth
        .instance_api_version()
        .unwrap_or(post_login::BOOTSTRAP_API_VERSION)
        .to_owned();
    let mut conn = Connection::new(store, http, auth.clone());
    let status = match conn.check(&version) {
        Ok(()) => "Connected".to_owned(),
        Err(ConnectionError::Rest {
            error_code,
            message,
            ..
        }) if !error_code.starts_with("ERROR_HTTP_") => {
            format!("{error_code}: {message}")
        }
        Err(e) => e.to_string(),
    };
    *auth = conn.auth;
    status
}

/// The sfdxAuthUrl of an org with a refresh token (`None` otherwise).
pub fn sfdx_auth_url(auth: &AuthFile) -> Option<String> {
    let refresh = auth.refresh_token()?;
    let instance = auth.instance_url()?;
    Some(
        SfdxAuthUrl::from_parts(
            auth.client_id().unwrap_or(DEFAULT_CLIENT_ID),
            auth.client_secret().unwrap_or_default(),
            refresh,
            instance,
        )
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relogin_commands_keep_what_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path(), dir.path());
        let mut web = AuthFile::new();
        web.set_username("u@example.com")
            .set_login_url("http://localhost:8901/")
            .set_refresh_token("r")
            .set_client_id("PlatformCLI");
        assert_eq!(
            relogin_command(&store, &web),
            "sfr org login web --instance-url http://localhost:8901/"
        );
        store.set_alias("my org", "u@example.com").unwrap();
        web.set_client_id("3MVG9x");
        assert_eq!(
            relogin_command(&store, &web),
            "sfr org login web --instance-url http://localhost:8901/ --client-id 3MVG9x --alias 'my org'"
        );
        let mut j = AuthFile::new();
        j.set_username("j@example.com")
            .set_login_url("https://login.salesforce.com/")
            .set_private_key("/keys/server.key")
            .set_client_id("3MVG9y");
        assert_eq!(
            relogin_command(&store, &j),
            "sfr org login jwt --username j@example.com --jwt-key-file /keys/server.key --client-id 3MVG9y --instance-url https://login.salesforce.com/"
        );
    }

    #[test]
    fn rest_errors_are_read_from_the_array() {
        let r = Response {
            status: 401,
            body: r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
                .into(),
        };
        assert_eq!(
            rest_error(&r),
            (
                "INVALID_SESSION_ID".to_owned(),
                "Session expired or invalid".to_owned()
            )
        );
        let r = Response {
            status: 503,
            body: String::new(),
        };
        assert_eq!(rest_error(&r).0, "ERROR_HTTP_503");
    }

    #[test]
    fn auth_url_from_fields() {
        let mut a = AuthFile::new();
        a.set_instance_url("https://acme.my.salesforce.com")
            .set_refresh_token("5Aep==");
        assert_eq!(
            sfdx_auth_url(&a).unwrap(),
            "force://PlatformCLI::5Aep==@acme.my.salesforce.com"
        );
        let mut t = AuthFile::new();
        t.set_instance_url("https://x");
        assert!(sfdx_auth_url(&t).is_none());
    }
}

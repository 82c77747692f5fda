//! The sfdxAuthUrl: `force://<clientId>:<clientSecret>:<refreshToken>@<host[:port]>`, parsed with the same rules as
//! `sf` (whose regex is anchored at the start only, so trailing characters are ignored).

use std::fmt;

/// A parsed sfdxAuthUrl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SfdxAuthUrl {
    pub client_id: String,
    /// Empty when the app needs no secret.
    pub client_secret: String,
    pub refresh_token: String,
    /// `host[:port]` of the instance; the login URL is always `https://<host>`.
    pub host: String,
}

/// `sf`'s error text for a malformed URL.
pub const INVALID_SFDX_AUTH_URL: &str = "Invalid SFDX authorization URL. Must be in the format \"force://<clientId>:<clientSecret>:<refreshToken>@<instanceUrl>\". Note that the <instanceUrl> must not contain the protocol (\"https://\")";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{INVALID_SFDX_AUTH_URL}")]
pub struct InvalidSfdxAuthUrl;

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// Takes `[a-zA-Z0-9._-]{min,}={0,2}` from the front of `s`; returns (match, rest).
fn take_token(s: &str, min: usize) -> Option<(&str, &str)> {
    let bytes = s.as_bytes();
    let mut i = bytes.iter().take_while(|b| token_char(**b)).count();
    if i < min {
        return None;
    }
    let mut eq = 0;
    while eq < 2 && i < bytes.len() && bytes[i] == b'=' {
        i += 1;
        eq += 1;
    }
    Some((&s[..i], &s[i..]))
}

impl SfdxAuthUrl {
    pub fn parse(input: &str) -> Result<Self, InvalidSfdxAuthUrl> {
        let rest = input
            .trim()
            .strip_prefix("force://")
            .ok_or(InvalidSfdxAuthUrl)?;
        let (client_id, rest) = take_token(rest, 1).ok_or(InvalidSfdxAuthUrl)?;
        let rest = rest.strip_prefix(':').ok_or(InvalidSfdxAuthUrl)?;
        let (client_secret, rest) = take_token(rest, 0).ok_or(InvalidSfdxAuthUrl)?;
        let rest = rest.strip_prefix(':').ok_or(InvalidSfdxAuthUrl)?;
        let (refresh_token, rest) = take_token(rest, 1).ok_or(InvalidSfdxAuthUrl)?;
        let rest = rest.strip_prefix('@').ok_or(InvalidSfdxAuthUrl)?;
        let host_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'))
            .count();
        if host_len == 0 {
            return Err(InvalidSfdxAuthUrl);
        }
        Ok(Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            refresh_token: refresh_token.to_owned(),
            host: rest[..host_len].to_owned(),
        })
    }

    /// Builds the URL from an instance URL (scheme and path are dropped, as `sf` does).
    pub fn from_parts(
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        instance_url: &str,
    ) -> Self {
        let without_scheme = instance_url
            .split_once("://")
            .map_or(instance_url, |(_, rest)| rest);
        let host = without_scheme.split('/').next().unwrap_or_default();
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            refresh_token: refresh_token.to_owned(),
            host: host.to_owned(),
        }
    }

    /// The login URL `sf` derives: always https.
    pub fn login_url(&self) -> String {
        format!("https://{}", self.host)
    }
}

impl fmt::Display for SfdxAuthUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "force://{}:{}:{}@{}",
            self.client_id, self.client_secret, self.refresh_token, self.host
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_observed_shape() {
        let u = SfdxAuthUrl::parse(
            "force://PlatformCLI::5Aep861MN5bCFUdD06k3s2EGYyL==@localhost:18762",
        )
        .unwrap();
        assert_eq!(u.client_id, "PlatformCLI");
        assert_eq!(u.client_secret, "");
        assert_eq!(u.refresh_token, "5Aep861MN5bCFUdD06k3s2EGYyL==");
        assert_eq!(u.host, "localhost:18762");
        assert_eq!(u.login_url(), "https://localhost:18762");
        assert_eq!(
            u.to_string(),
            "force://PlatformCLI::5Aep861MN5bCFUdD06k3s2EGYyL==@localhost:18762"
        );
    }

    #[test]
    fn builds_from_an_instance_url() {
        let u = SfdxAuthUrl::from_parts("id", "sec", "rt", "https://acme.my.salesforce.com/");
        assert_eq!(u.to_string(), "force://id:sec:rt@acme.my.salesforce.com");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "https://a:b:c@h",
            "force://:b:c@h",
            "force://a:b@h",
            "force://a:b:c",
            "force://a:b:c@",
            "force://a b:c:d@h",
            "force://a:b:c===@h",
        ] {
            assert_eq!(SfdxAuthUrl::parse(bad), Err(InvalidSfdxAuthUrl), "{bad}");
        }
    }
}

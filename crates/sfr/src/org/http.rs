//! The one HTTP client `sfr` talks to orgs with: ureq on rustls with the aws-lc-rs provider (the workspace's only
//! crypto library). Roots are Mozilla's (webpki) unless `NODE_EXTRA_CA_CERTS` — the variable `sf` honours — names a
//! PEM file; then its CAs are trusted together with the operating system's bundle, so a local https test org works
//! exactly as it does for `sf`.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// What `sf` sends as its user agent on REST calls (the suffix from `SFDX_SET_CLIENT_IDS` is appended).
const USER_AGENT: &str = "sfdx toolbelt:";
/// Bodies larger than this are refused: nothing an org sends us during login is near it.
const MAX_BODY: u64 = 8 * 1024 * 1024;
/// Well-known locations of the OS CA bundle, tried in order when extra CAs are configured.
const OS_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Why a request produced no HTTP response at all.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// DNS, connect, TLS or read failure: the equivalent of Node's `fetch failed`.
    #[error("request to {url} failed: {reason}")]
    Transport { url: String, reason: String },
    /// `NODE_EXTRA_CA_CERTS` names a file we cannot use.
    #[error("NODE_EXTRA_CA_CERTS={path} cannot be used: {reason}")]
    ExtraCa { path: String, reason: String },
}

/// A response whose body has been read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A blocking HTTP client with `sf`'s headers.
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    user_agent: String,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl HttpClient {
    /// The process's client, built from the environment once (`NODE_EXTRA_CA_CERTS`, `SFDX_SET_CLIENT_IDS`) and
    /// shared: `org list` probes every org in parallel, and a CA bundle parsed per org cost ~0.5 MB each.
    pub fn from_env() -> Result<Self, HttpError> {
        static SHARED: std::sync::OnceLock<HttpClient> = std::sync::OnceLock::new();
        if let Some(client) = SHARED.get() {
            return Ok(client.clone());
        }
        let client = Self::build_from_env()?;
        Ok(SHARED.get_or_init(|| client).clone())
    }

    fn build_from_env() -> Result<Self, HttpError> {
        let extra_ca = std::env::var("NODE_EXTRA_CA_CERTS")
            .ok()
            .filter(|p| !p.is_empty());
        let client_ids = std::env::var("SFDX_SET_CLIENT_IDS").unwrap_or_default();
        let mut client = Self::new(extra_ca.as_deref(), &client_ids)?;
        if std::env::var("NODE_TLS_REJECT_UNAUTHORIZED").is_ok_and(|v| v == "0") {
            // Node's escape hatch, honoured as sf honours it, with Node's warning.
            eprintln!(
                "Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes TLS connections and HTTPS requests insecure by disabling certificate verification."
            );
            client = client.without_certificate_verification();
        }
        Ok(client)
    }

    /// A copy that accepts any server certificate (`NODE_TLS_REJECT_UNAUTHORIZED=0`).
    fn without_certificate_verification(self) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = TlsConfig::builder()
            .disable_verification(true)
            .unversioned_rustls_crypto_provider(provider)
            .build();
        Self {
            agent: agent(tls, &self.user_agent),
            user_agent: self.user_agent,
        }
    }

    /// Builds the client; `extra_ca_pem` is a path to a PEM file of additional trusted CAs.
    pub fn new(extra_ca_pem: Option<&str>, client_ids: &str) -> Result<Self, HttpError> {
        let roots = match extra_ca_pem {
            None => RootCerts::WebPki,
            Some(path) => RootCerts::Specific(Arc::new(extra_and_os_roots(path)?)),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let user_agent = if client_ids.is_empty() {
            USER_AGENT.to_owned()
        } else {
            format!("{USER_AGENT}{client_ids}")
        };
        Ok(Self {
            agent: agent(tls, &user_agent),
            user_agent,
        })
    }

    /// POSTs an `application/x-www-form-urlencoded` body with the pairs in the given order (Node `querystring`
    /// escaping, byte-identical to what `sf` sends).
    pub fn post_form(&self, url: &str, pairs: &[(&str, &str)]) -> Result<Response, HttpError> {
        let body = sfr_wire::encoding::stringify(pairs.iter().copied());
        let result = self
            .agent
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .send(body.as_bytes());
        read(url, result)
    }

    /// GETs a REST resource with the access token as a Bearer token.
    pub fn get_with_token(&self, url: &str, access_token: &str) -> Result<Response, HttpError> {
        let result = self
            .agent
            .get(url)
            .header("authorization", &format!("Bearer {access_token}"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header(
                "sforce-call-options",
                &format!("client={}", self.user_agent),
            )
            .call();
        read(url, result)
    }
}

/// An agent that reports every status as a response (no redirects followed), with sf's user agent.
fn agent(tls: TlsConfig, user_agent: &str) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(user_agent)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

fn read(
    url: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Response, HttpError> {
    let transport = |e: ureq::Error| HttpError::Transport {
        url: url.to_owned(),
        reason: e.to_string(),
    };
    let mut response = result.map_err(transport)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .lossy_utf8(true)
        .read_to_string()
        .map_err(transport)?;
    Ok(Response { status, body })
}

/// The extra CAs plus the OS bundle (Node adds `NODE_EXTRA_CA_CERTS` to its built-in roots; ureq can only take one
/// list of certificates, so the OS bundle stands in for the built-in roots).
fn extra_and_os_roots(path: &str) -> Result<Vec<Certificate<'static>>, HttpError> {
    let bad = |reason: String| HttpError::ExtraCa {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut certs = pem_certificates(&pem);
    if certs.is_empty() {
        return Err(bad("the file holds no PEM certificate".to_owned()));
    }
    let os_bundle = std::env::var("SSL_CERT_FILE")
        .ok()
        .into_iter()
        .chain(OS_CA_BUNDLES.iter().map(|p| (*p).to_owned()))
        .find_map(|p| std::fs::read(p).ok());
    if let Some(bundle) = os_bundle {
        certs.extend(pem_certificates(&bundle));
    }
    Ok(certs)
}

fn pem_certificates(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(Result::ok)
        .filter_map(|item| match item {
            ureq::tls::PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Joins a base URL and a path with exactly one `/`, as `sf` builds endpoint URLs.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn join_never_doubles_slashes() {
        assert_eq!(
            join("http://localhost:8901/", "/services/oauth2/token"),
            "http://localhost:8901/services/oauth2/token"
        );
        assert_eq!(
            join("https://h", "services/data"),
            "https://h/services/data"
        );
    }

    #[test]
    fn extra_ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a pem").unwrap();
        let err = HttpClient::new(Some(path.to_str().unwrap()), "").unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        let missing = dir.path().join("missing.pem");
        assert!(HttpClient::new(Some(missing.to_str().unwrap()), "").is_err());
    }

    #[test]
    fn form_post_keeps_order_and_reads_error_statuses() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            loop {
                let n = sock.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= head_end + 4 + len {
                        break;
                    }
                }
            }
            let body =
                r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#;
            write!(
                sock,
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            String::from_utf8(got).unwrap()
        });
        let client = HttpClient::new(None, "").unwrap();
        let resp = client
            .post_form(
                &format!("http://127.0.0.1:{port}/services/oauth2/token"),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "a b/c"),
                    ("client_id", "PlatformCLI"),
                ],
            )
            .unwrap();
        assert_eq!(resp.status, 400);
        assert!(resp.body.contains("expired access/refresh token"));
        let request = server.join().unwrap();
        assert!(
            request.ends_with(
                "grant_type=refresh_token&refresh_token=a%20b%2Fc&client_id=PlatformCLI"
            ),
            "{request}"
        );
        assert!(
            request
                .to_ascii_lowercase()
                .contains("user-agent: sfdx toolbelt:")
        );
    }

    #[test]
    fn unreachable_host_is_a_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = HttpClient::new(None, "").unwrap();
        let err = client
            .get_with_token(&format!("http://127.0.0.1:{port}/services/data"), "t")
            .unwrap_err();
        assert!(matches!(err, HttpError::Transport { .. }));
    }
}

//! The browser login session: an AES-256-GCM sealed cookie (key derived from the server master key), so no
//! server-side session table is needed. It holds the user id, the login time and the CSRF token of the forms
//! shown to that user. Before login, a random double-submit token in its own cookie protects the login form.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Cookie holding the sealed session.
pub const SESSION_COOKIE: &str = "sfr_sid";
/// Cookie holding the pre-login CSRF token.
pub const LOGIN_CSRF_COOKIE: &str = "sfr_lcsrf";
/// What the seal authenticates along with the content, so a sealed value from elsewhere never opens here.
const AAD: &[u8] = b"sfr-org login session v1";

/// The state of a logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub login_ms: i64,
    pub csrf: String,
}

/// Seals and opens session cookies.
pub struct CookieSealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for CookieSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSealer(..)")
    }
}

impl CookieSealer {
    /// Derives the cookie key from the master key material (HMAC-SHA256 with a fixed label), keeping the
    /// cookie key distinct from the key that encrypts secrets at rest.
    pub fn from_master(master: &[u8]) -> Self {
        let mac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, master);
        let derived = aws_lc_rs::hmac::sign(&mac, b"sfr-org session cookie key");
        let unbound = UnboundKey::new(&AES_256_GCM, derived.as_ref())
            .expect("HMAC-SHA256 output is a valid AES-256 key");
        Self {
            key: LessSafeKey::new(unbound),
        }
    }

    pub fn seal(&self, session: &Session) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut data = serde_json::to_vec(session).ok()?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut data,
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a cookie value; `None` for anything forged, truncated or from another key.
    pub fn open(&self, value: &str) -> Option<Session> {
        let raw = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(AAD), &mut sealed)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

/// 32 random bytes, base64url: CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // Should the system RNG fail, an empty token is returned, which never matches (see `csrf_matches`).
    if SystemRandom::new().fill(&mut bytes).is_err() {
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time comparison of a submitted CSRF token; empty tokens never match.
pub fn csrf_matches(expected: &str, submitted: Option<&str>) -> bool {
    match submitted {
        Some(s) if !expected.is_empty() => s.as_bytes().ct_eq(expected.as_bytes()).into(),
        _ => false,
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` on https.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header::COOKIE};

    #[test]
    fn seal_round_trips_and_rejects_tampering() {
        let sealer = CookieSealer::from_master(&[1u8; 32]);
        let s = Session {
            user_id: "005000000000001AAA".into(),
            login_ms: 42,
            csrf: random_token(),
        };
        let sealed = sealer.seal(&s).unwrap();
        assert_eq!(sealer.open(&sealed), Some(s.clone()));
        assert_eq!(CookieSealer::from_master(&[2u8; 32]).open(&sealed), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(sealer.open(&URL_SAFE_NO_PAD.encode(bytes)), None);
        assert_eq!(sealer.open("!!"), None);
        assert_eq!(sealer.open(""), None);
        assert_eq!(sealer.open("AAAA"), None);
    }

    #[test]
    fn csrf_and_cookies() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert!(csrf_matches(&t, Some(&t)));
        assert!(!csrf_matches(&t, Some("x")));
        assert!(!csrf_matches(&t, None));
        assert!(!csrf_matches("", Some("")));
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; sfr_sid=xyz; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "nope"), None);
        let c = set_cookie(SESSION_COOKIE, "v", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
    }
}

//! The browser login session: a cookie sealed with the server master key (AES-256-GCM), so no
//! server-side session table is needed. It holds the user id, the login time and the CSRF token of the forms
//! shown to that user. Before login, a random double-submit token in its own cookie protects the login form.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::keys::Keys;

/// Cookie holding the sealed session.
pub const SESSION_COOKIE: &str = "sfr_sid";
/// Cookie holding the pre-login CSRF token.
pub const LOGIN_CSRF_COOKIE: &str = "sfr_lcsrf";
/// What the seal authenticates along with the content, so a sealed value from elsewhere never opens here.
const AAD: &str = "sfr-org login session v1";

/// The state of a logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub login_ms: i64,
    pub csrf: String,
}

/// Seals a session with the master key (AES-256-GCM, the session label bound as associated data).
pub fn seal(keys: &Keys, session: &Session) -> Option<String> {
    let json = serde_json::to_vec(session).ok()?;
    keys.encrypt(&json, AAD).ok()
}

/// Opens a cookie value; `None` for anything forged, truncated or sealed under another key.
pub fn open(keys: &Keys, value: &str) -> Option<Session> {
    let plain = keys.decrypt(value.trim(), AAD).ok()?;
    serde_json::from_slice(&plain).ok()
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
        let keys = Keys::from_bytes(&[1u8; 32], "test");
        let s = Session {
            user_id: "005000000000001AAA".into(),
            login_ms: 42,
            csrf: random_token(),
        };
        let sealed = seal(&keys, &s).unwrap();
        assert_eq!(open(&keys, &sealed), Some(s.clone()));
        assert_eq!(open(&Keys::from_bytes(&[2u8; 32], "other"), &sealed), None);
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(open(&keys, &tampered), None);
        assert_eq!(open(&keys, "!!"), None);
        assert_eq!(open(&keys, ""), None);
        assert_eq!(open(&keys, "AAAA"), None);
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

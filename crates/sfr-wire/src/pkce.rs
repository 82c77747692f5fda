//! PKCE (RFC 7636) as `sf` does it: a 171-character verifier (128 random bytes, base64url without padding) and an
//! S256 challenge. A missing `code_challenge_method` means S256 (the RFC's `plain` default would break `sf`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Number of random bytes in `sf`'s verifier.
pub const SF_VERIFIER_BYTES: usize = 128;
/// Shortest verifier RFC 7636 allows; we accept anything longer, including `sf`'s 171 characters.
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest verifier we accept (well above `sf`'s 171, well below anything abusive).
pub const MAX_VERIFIER_LEN: usize = 512;

/// Builds a verifier from random bytes (the caller owns the randomness).
pub fn verifier_from_bytes(random: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// base64url(SHA-256(verifier)), no padding: 43 characters.
pub fn challenge_s256(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// The challenge methods we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    S256,
    Plain,
}

impl Method {
    /// Parses `code_challenge_method`; absent means S256, as Salesforce does.
    pub fn parse(method: Option<&str>) -> Option<Self> {
        match method {
            None | Some("") | Some("S256") => Some(Self::S256),
            Some("plain") => Some(Self::Plain),
            Some(_) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// True when `verifier` answers `challenge` under `method`. Constant-time in the compared bytes.
pub fn verify(method: Method, challenge: &str, verifier: &str) -> bool {
    if verifier.len() < MIN_VERIFIER_LEN
        || verifier.len() > MAX_VERIFIER_LEN
        || !is_verifier_charset(verifier)
    {
        return false;
    }
    let computed = match method {
        Method::S256 => challenge_s256(verifier),
        Method::Plain => verifier.to_owned(),
    };
    subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

fn is_verifier_charset(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sf_sized_verifier_is_171_chars_and_verifies() {
        let v = verifier_from_bytes(&[7u8; SF_VERIFIER_BYTES]);
        assert_eq!(v.len(), 171);
        let c = challenge_s256(&v);
        assert_eq!(c.len(), 43);
        assert!(verify(Method::parse(None).unwrap(), &c, &v));
        assert!(!verify(
            Method::S256,
            &c,
            &verifier_from_bytes(&[8u8; SF_VERIFIER_BYTES])
        ));
    }

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn rejects_short_and_unknown_methods() {
        assert!(!verify(Method::Plain, "short", "short"));
        assert_eq!(Method::parse(Some("S512")), None);
    }
}

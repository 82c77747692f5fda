//! The token endpoint's success response and its `signature`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// A token-endpoint success body, fields in Salesforce's order. There is no `expires_in`: a token lives as long as
/// the app's session timeout, and clients learn of expiry from a 401.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub instance_url: String,
    pub id: String,
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Milliseconds since the epoch, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_instance_url: Option<String>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

impl TokenResponse {
    /// The org id: the second-to-last path segment of `id` (`…/id/<orgId>/<userId>`), as `sf` derives it.
    pub fn org_id(&self) -> Option<&str> {
        id_url_parts(&self.id).map(|(org, _)| org)
    }

    /// The user id: the last path segment of `id`.
    pub fn user_id(&self) -> Option<&str> {
        id_url_parts(&self.id).map(|(_, user)| user)
    }

    /// Checks `signature` against the consumer secret.
    pub fn signature_is_valid(&self, consumer_secret: &str) -> bool {
        match (&self.signature, &self.issued_at) {
            (Some(sig), Some(issued_at)) => {
                let expected = signature(consumer_secret, &self.id, issued_at);
                subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), sig.as_bytes()).into()
            }
            _ => false,
        }
    }
}

/// Splits an identity URL `https://host/id/<org>/<user>` into its two ids.
pub fn id_url_parts(id_url: &str) -> Option<(&str, &str)> {
    let path = id_url.trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let user = segments.next()?;
    let org = segments.next()?;
    (!org.is_empty() && !user.is_empty()).then_some((org, user))
}

/// `signature` = Base64 (standard, padded) of HMAC-SHA256 keyed with the consumer secret over `id` ‖ `issued_at`.
pub fn signature(consumer_secret: &str, id: &str, issued_at: &str) -> String {
    SignatureKey::new(consumer_secret).sign(id, issued_at)
}

/// A consumer secret set up as the HMAC key of [`signature`]. Setting the key up (hashing its two padded
/// blocks) is a third of what a signature costs; a server that signs many responses for one app keeps this.
#[derive(Clone)]
pub struct SignatureKey(aws_lc_rs::hmac::Key);

impl SignatureKey {
    pub fn new(consumer_secret: &str) -> Self {
        Self(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            consumer_secret.as_bytes(),
        ))
    }

    /// [`signature`] with this key.
    pub fn sign(&self, id: &str, issued_at: &str) -> String {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.0);
        ctx.update(id.as_bytes());
        ctx.update(issued_at.as_bytes());
        STANDARD.encode(ctx.sign().as_ref())
    }
}

impl std::fmt::Debug for SignatureKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignatureKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac() {
        // HMAC-SHA256(key="secret", "https://x/id/00D/005" + "1278448384422"), computed independently with openssl.
        let sig = signature("secret", "https://x/id/00D/005", "1278448384422");
        assert_eq!(sig, "M4qgSZ55UYj9Lnbmtvs1k9yG8kx2w+9hJAa0pMwypXg=");
        let resp = TokenResponse {
            id: "https://x/id/00D/005".into(),
            issued_at: Some("1278448384422".into()),
            signature: Some(sig),
            ..Default::default()
        };
        assert!(resp.signature_is_valid("secret"));
        assert!(!resp.signature_is_valid("other"));
        // A key set up once signs alike, again and again.
        let key = SignatureKey::new("secret");
        for _ in 0..2 {
            assert_eq!(
                key.sign("https://x/id/00D/005", "1278448384422"),
                resp.signature.clone().unwrap()
            );
        }
        assert_ne!(
            key.sign("https://x/id/00D/005", "1278448384423"),
            resp.signature.clone().unwrap()
        );
    }

    #[test]
    fn org_and_user_come_from_the_id_url() {
        let resp = TokenResponse {
            id: "http://localhost:8901/id/00D000000000001AAA/005000000000001AAA".into(),
            ..Default::default()
        };
        assert_eq!(resp.org_id(), Some("00D000000000001AAA"));
        assert_eq!(resp.user_id(), Some("005000000000001AAA"));
    }

    #[test]
    fn optional_fields_are_omitted() {
        let resp = TokenResponse {
            access_token: "a".into(),
            instance_url: "i".into(),
            id: "d".into(),
            token_type: "Bearer".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&resp).unwrap(),
            r#"{"access_token":"a","instance_url":"i","id":"d","token_type":"Bearer"}"#
        );
    }
}

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

    /// The body exactly as `serde_json::to_vec` writes it (Salesforce's field order, `None`s left out, the same
    /// escapes), written directly: a server answers one per grant, and serde's path, a call per field and a
    /// byte-by-byte escape check, was 4 % of a client_credentials grant's instructions.
    pub fn to_json(&self) -> Vec<u8> {
        let fields: [(&str, Option<&str>); 10] = [
            ("access_token", Some(&self.access_token)),
            ("refresh_token", self.refresh_token.as_deref()),
            ("signature", self.signature.as_deref()),
            ("scope", self.scope.as_deref()),
            ("id_token", self.id_token.as_deref()),
            ("instance_url", Some(&self.instance_url)),
            ("id", Some(&self.id)),
            ("token_type", Some(&self.token_type)),
            ("issued_at", self.issued_at.as_deref()),
            ("api_instance_url", self.api_instance_url.as_deref()),
        ];
        let size: usize = fields
            .iter()
            .map(|(name, value)| value.map_or(0, |v| name.len() + v.len() + 6))
            .sum();
        let mut out = Vec::with_capacity(size + 2);
        out.push(b'{');
        for (name, value) in fields {
            let Some(value) = value else { continue };
            if out.len() > 1 {
                out.push(b',');
            }
            push_json_str(&mut out, name);
            out.push(b':');
            push_json_str(&mut out, value);
        }
        out.push(b'}');
        out
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

/// Appends `s` as a JSON string, escaped as serde_json escapes it: `"` and `\`, the control characters as `\b`,
/// `\f`, `\n`, `\r`, `\t` or `\u00xx`, nothing else. A string with nothing to escape (tokens, URLs, ids) is
/// checked without a branch per byte and copied whole.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    if bytes.iter().fold(true, |plain, &b| {
        plain & (b >= 0x20 && b != b'"' && b != b'\\')
    }) {
        out.extend_from_slice(bytes);
    } else {
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..0x20 => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                _ => out.push(b),
            }
        }
    }
    out.push(b'"');
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
    fn the_body_is_written_as_serde_json_writes_it() {
        // Every field named, none defaulted: a field added to the struct must be added here, and the comparison
        // then fails until `to_json` writes it too.
        let full = TokenResponse {
            access_token: "00D000000000001!AQ0Aq.x_y".into(),
            refresh_token: Some("5Aep861-._rt".into()),
            signature: Some("M4qgSZ55UYj9Lnbmtvs1k9yG8kx2w+9hJAa0pMwypXg=".into()),
            scope: Some("api refresh_token".into()),
            id_token: Some("eyJ.eyJ.sig".into()),
            instance_url: "https://x.example".into(),
            id: "https://x.example/id/00D/005".into(),
            token_type: "Bearer".into(),
            issued_at: Some("1278448384422".into()),
            api_instance_url: Some("https://api.x.example".into()),
        };
        let minimal = TokenResponse {
            access_token: "a".into(),
            instance_url: String::new(),
            id: "i".into(),
            token_type: "Bearer".into(),
            ..Default::default()
        };
        // Every character that needs an escape, and some that do not (DEL, `/`, non-ASCII).
        let mut hostile = full.clone();
        hostile.scope = Some((0u8..0x20).map(char::from).collect::<String>() + "\"\\/\u{7f}é🔑");
        hostile.instance_url = "https://x/\"quoted\"\\".into();
        for resp in [full, minimal, hostile] {
            assert_eq!(
                String::from_utf8(resp.to_json()).unwrap(),
                String::from_utf8(serde_json::to_vec(&resp).unwrap()).unwrap()
            );
        }
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

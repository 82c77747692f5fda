//! The org's RSA key for ID tokens and `/id/keys`. Stored encrypted with the master key; held decrypted in memory.

use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A decrypted signing key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id (`kid`) published in `/id/keys` and put in ID-token headers.
    pub kid: String,
    /// PKCS#8 DER of the RSA private key.
    pub pkcs8_der: Vec<u8>,
    pub created_at: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("pkcs8_der", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl SigningKey {
    /// The key pair, for `sfr_wire::jwt::sign_rs256`-style signing.
    pub fn key_pair(&self) -> Result<RsaKeyPair, String> {
        RsaKeyPair::from_pkcs8(&self.pkcs8_der).map_err(|e| e.to_string())
    }

    /// The public JWK (`kty`, `kid`, `use`, `alg`, `n`, `e`) for `/id/keys`.
    pub fn public_jwk(&self) -> Result<serde_json::Value, String> {
        let pair = self.key_pair()?;
        let public = pair.public_key();
        Ok(serde_json::json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }))
    }

    /// PKCS#1 `RSAPublicKey` DER of the public half (what `Assertion::verify_rs256` takes).
    pub fn public_key_der(&self) -> Result<Vec<u8>, String> {
        Ok(self.key_pair()?.public_key().as_ref().to_vec())
    }
}

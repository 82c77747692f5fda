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

/// How long a replaced signing key stays published, so ID tokens it signed can still be verified.
pub const RETIRED_KEY_PUBLISHED_MS: i64 = 24 * 3_600_000;

/// The signing keys at one moment: the one that signs, and every key `/id/keys` publishes (the signing key,
/// keys that will sign later — published ahead so relying parties have fetched them before the first token
/// they sign — and keys retired less than [`RETIRED_KEY_PUBLISHED_MS`] ago).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeys {
    pub signing: SigningKey,
    /// The signing key first, then the next keys (soonest first), then retired ones (newest first).
    pub published: Vec<SigningKey>,
}

impl SigningKeys {
    /// Picks the signing key at `now` and the published keys from every stored key with the time it starts
    /// signing (`None`: from the start). Ties go to the newer key.
    pub fn select(mut keys: Vec<(SigningKey, Option<i64>)>, now: i64) -> Option<Self> {
        let starts = |k: &(SigningKey, Option<i64>)| k.1.unwrap_or(i64::MIN);
        // Oldest first.
        keys.sort_by(|a, b| {
            (starts(a), a.0.created_at, &a.0.kid).cmp(&(starts(b), b.0.created_at, &b.0.kid))
        });
        let active = keys.iter().rposition(|k| starts(k) <= now)?;
        let signing = keys[active].0.clone();
        let mut published = vec![signing.clone()];
        published.extend(keys[active + 1..].iter().map(|k| k.0.clone()));
        // A retired key stopped signing when its successor started.
        for i in (0..active).rev() {
            let retired_at = starts(&keys[i + 1]);
            if now < retired_at.saturating_add(RETIRED_KEY_PUBLISHED_MS) {
                published.push(keys[i].0.clone());
            }
        }
        Some(Self { signing, published })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, created_at: i64) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            pkcs8_der: Vec::new(),
            created_at,
        }
    }

    fn kids(keys: &SigningKeys) -> (String, Vec<String>) {
        (
            keys.signing.kid.clone(),
            keys.published.iter().map(|k| k.kid.clone()).collect(),
        )
    }

    #[test]
    fn the_next_key_is_published_before_it_signs_and_the_old_one_lingers() {
        let h = 3_600_000;
        let all = vec![(key("old", 0), None), (key("next", 10), Some(5 * h))];
        let at = |now| kids(&SigningKeys::select(all.clone(), now).unwrap());
        assert_eq!(at(h), ("old".into(), vec!["old".into(), "next".into()]));
        assert_eq!(
            at(5 * h),
            ("next".into(), vec!["next".into(), "old".into()])
        );
        assert_eq!(
            at(5 * h + RETIRED_KEY_PUBLISHED_MS),
            ("next".into(), vec!["next".into()])
        );
        assert_eq!(
            SigningKeys::select(vec![(key("later", 0), Some(h))], 0),
            None
        );
        assert_eq!(SigningKeys::select(Vec::new(), 0), None);
    }
}

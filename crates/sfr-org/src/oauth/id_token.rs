//! OpenID Connect pieces signed with the org's RSA key: the ID token (RS256, `kid` as published at `/id/keys`) and
//! the JWK of the public key.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// ID-token validity. Salesforce's default is two minutes; five leaves room for clock drift on test machines.
pub const ID_TOKEN_VALIDITY_S: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signing key could not sign the ID token")]
pub struct SignError;

/// Signs `claims` as a compact RS256 JWT with header `{"alg":"RS256","typ":"JWT","kid":…}`.
pub fn sign(claims: &Value, key: &RsaKeyPair, kid: &str) -> Result<String, SignError> {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(|_| SignError)?);
    let c = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| SignError)?);
    let input = format!("{h}.{c}");
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| SignError)?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// `at_hash`: base64url of the left half of SHA-256 over the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// The claims of an ID token.
pub struct IdClaims<'a> {
    pub issuer: &'a str,
    pub identity_url: &'a str,
    pub client_id: &'a str,
    pub access_token: &'a str,
    pub now_ms: i64,
    pub nonce: Option<&'a str>,
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
}

impl IdClaims<'_> {
    pub fn to_json(&self) -> Value {
        let iat = self.now_ms / 1000;
        let mut claims = json!({
            "at_hash": at_hash(self.access_token),
            "sub": self.identity_url,
            "aud": self.client_id,
            "iss": self.issuer,
            "preferred_username": self.username,
            "name": self.name,
            "email": self.email,
            "iat": iat,
            "exp": iat + ID_TOKEN_VALIDITY_S,
        });
        if let (Some(nonce), Some(map)) = (self.nonce, claims.as_object_mut()) {
            map.insert("nonce".to_owned(), Value::from(nonce));
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::KeyPair;

    #[test]
    fn signs_a_token_that_verifies_with_the_published_key() {
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let claims = IdClaims {
            issuer: "http://localhost:1",
            identity_url: "http://localhost:1/id/00D/005",
            client_id: "PlatformCLI",
            access_token: "00D!abc",
            now_ms: 1_700_000_000_123,
            nonce: Some("n1"),
            username: "u@example.com",
            name: "U Ser",
            email: "u@example.com",
        }
        .to_json();
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["nonce"], "n1");
        let token = sign(&claims, &key, "1").unwrap();
        let parsed = sfr_wire::jwt::Assertion::parse(&token).unwrap();
        assert_eq!(parsed.claims.iss, "http://localhost:1");
        assert!(parsed.verify_rs256(key.public_key().as_ref()).is_ok());
    }

    #[test]
    fn at_hash_is_half_a_sha256() {
        assert_eq!(at_hash("x").len(), 22);
    }
}

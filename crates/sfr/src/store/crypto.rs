//! sf's field encryption: AES-256-GCM in two formats (spec §6.4).
//!
//! * v1 (32-char key): the AES key is the 32 ASCII bytes of the hex key string; the nonce is the 12 ASCII chars of
//!   6 random bytes in hex, stored as-is.
//! * v2 (64-char key): the AES key is the hex-decoded string; the nonce is 12 random bytes, stored as 24 hex chars.
//!
//! Stored value: `<iv text><ciphertext hex>:<tag hex>`.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use super::StoreError;

const TAG_HEX_LEN: usize = 32;
/// Node's message for a failed GCM tag check; sf puts it into `AuthDecryptError`.
const AUTH_FAILED: &str = "Unsupported state or unable to authenticate data";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVersion {
    V1,
    V2,
}

/// An initialised cipher for one key.
#[derive(Clone)]
pub struct Crypto {
    version: KeyVersion,
    key_bytes: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypto")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Crypto {
    /// From the key string as stored in the keychain: 32 chars → v1, 64 hex chars → v2.
    pub fn from_key(key: &str) -> Result<Crypto, StoreError> {
        let key = key.trim();
        let mut key_bytes = [0u8; 32];
        let version = match key.len() {
            32 => {
                key_bytes.copy_from_slice(key.as_bytes());
                KeyVersion::V1
            }
            64 => {
                let decoded = hex::decode(key).map_err(|_| StoreError::InvalidKey {
                    reason: "the 64-character key is not hex".into(),
                })?;
                key_bytes.copy_from_slice(&decoded);
                KeyVersion::V2
            }
            n => {
                return Err(StoreError::InvalidKey {
                    reason: format!("expected 32 or 64 characters, found {n}"),
                });
            }
        };
        Ok(Crypto { version, key_bytes })
    }

    /// A fresh random key string: v1 (16 random bytes as hex) unless `v2` (32 random bytes as hex).
    pub fn generate_key(v2: bool) -> Result<String, StoreError> {
        let mut buf = vec![0u8; if v2 { 32 } else { 16 }];
        random(&mut buf)?;
        Ok(hex::encode(buf))
    }

    #[cfg(test)]
    pub fn version(&self) -> KeyVersion {
        self.version
    }

    fn key(&self) -> Result<LessSafeKey, StoreError> {
        UnboundKey::new(&AES_256_GCM, &self.key_bytes)
            .map(LessSafeKey::new)
            .map_err(|_| StoreError::InvalidKey {
                reason: "AES-256 key rejected".into(),
            })
    }

    /// Encrypts `plaintext` with a fresh nonce.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, StoreError> {
        let (nonce_bytes, iv_text) = match self.version {
            KeyVersion::V1 => {
                let mut six = [0u8; 6];
                random(&mut six)?;
                let text = hex::encode(six);
                let mut n = [0u8; 12];
                n.copy_from_slice(text.as_bytes());
                (n, text)
            }
            KeyVersion::V2 => {
                let mut n = [0u8; 12];
                random(&mut n)?;
                (n, hex::encode(n))
            }
        };
        let mut in_out = plaintext.as_bytes().to_vec();
        let tag = self
            .key()?
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::empty(),
                &mut in_out,
            )
            .map_err(|_| StoreError::Encrypt)?;
        Ok(format!(
            "{iv_text}{}:{}",
            hex::encode(&in_out),
            hex::encode(tag.as_ref())
        ))
    }

    /// sf's `isEncrypted`: exactly one `:`, a 32-char tag, a long enough first part, hex digits in both.
    pub fn looks_encrypted(&self, value: &str) -> bool {
        let mut parts = value.split(':');
        let (Some(body), Some(tag), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let min_body = match self.version {
            KeyVersion::V1 => 6,
            KeyVersion::V2 => 12,
        };
        let has_hex = |s: &str| {
            s.bytes()
                .any(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        tag.len() == TAG_HEX_LEN && body.len() >= min_body && has_hex(tag) && has_hex(body)
    }

    /// Decrypts a stored value. Values that do not look encrypted are returned unchanged (sf accepts plaintext).
    pub fn decrypt(&self, value: &str) -> Result<String, StoreError> {
        if !self.looks_encrypted(value) {
            return Ok(value.to_owned());
        }
        let fail = || StoreError::Decrypt {
            reason: AUTH_FAILED.into(),
        };
        let (body, tag_hex) = value.split_once(':').ok_or_else(fail)?;
        let iv_len = match self.version {
            KeyVersion::V1 => 12,
            KeyVersion::V2 => 24,
        };
        if body.len() < iv_len || !body.is_char_boundary(iv_len) {
            return Err(fail());
        }
        let (iv_text, ct_hex) = body.split_at(iv_len);
        let nonce: [u8; 12] = match self.version {
            KeyVersion::V1 => iv_text.as_bytes().try_into().map_err(|_| fail())?,
            KeyVersion::V2 => hex::decode(iv_text)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(fail)?,
        };
        let mut in_out = hex::decode(ct_hex).map_err(|_| fail())?;
        in_out.extend(hex::decode(tag_hex).map_err(|_| fail())?);
        let plain = self
            .key()?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut in_out,
            )
            .map_err(|_| fail())?;
        String::from_utf8(plain.to_vec()).map_err(|_| fail())
    }
}

/// Whether sf encrypts a field with this leaf name: `/token/i`, `/password/i`, `/secret/i`.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("token") || k.contains("password") || k.contains("secret")
}

fn random(buf: &mut [u8]) -> Result<(), StoreError> {
    aws_lc_rs::rand::fill(buf).map_err(|_| StoreError::Encrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_KEY: &str = "b906a2aa5a60e7bc191f7836899a44f3";
    const V2_KEY: &str = "7397ccb87451e9ca04f9041b9adc31adb96ffffe3b2aeb1a275d12c4bcc76381";

    #[test]
    fn decrypts_sf_v1_value() {
        let c = Crypto::from_key(V1_KEY).unwrap();
        assert_eq!(c.version(), KeyVersion::V1);
        let stored = "2e9d40207fff637acaa6e60abb602624babe2e62f61acce71138623714d3395c2d10e613101beb3a448744fbee6f8802254363616e1c22bea03a58:50e86a5fc94c382b34eeddaebf9a7aef";
        assert_eq!(
            c.decrypt(stored).unwrap(),
            "00D000000000001AAA!AQCHxo8bJaFOynbuMTs0o0LaU5ivU2rgII"
        );
    }

    #[test]
    fn round_trips_both_versions_with_fresh_ivs() {
        for key in [V1_KEY, V2_KEY] {
            let c = Crypto::from_key(key).unwrap();
            let a = c.encrypt("00D!secret").unwrap();
            let b = c.encrypt("00D!secret").unwrap();
            assert_ne!(a, b);
            assert!(c.looks_encrypted(&a));
            assert_eq!(c.decrypt(&a).unwrap(), "00D!secret");
            let iv_len = if key.len() == 32 { 12 } else { 24 };
            let (body, tag) = a.split_once(':').unwrap();
            assert_eq!(tag.len(), 32);
            assert_eq!(body.len(), iv_len + 2 * "00D!secret".len());
            assert!(
                a.bytes()
                    .all(|b| b == b':' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
    }

    #[test]
    fn wrong_key_is_auth_decrypt_error() {
        let a = Crypto::from_key(V1_KEY).unwrap().encrypt("x").unwrap();
        let other = Crypto::from_key("00000000000000000000000000000000").unwrap();
        let err = other.decrypt(&a).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to decipher auth data. reason: Unsupported state or unable to authenticate data."
        );
    }

    #[test]
    fn plaintext_passes_through() {
        let c = Crypto::from_key(V2_KEY).unwrap();
        assert_eq!(c.decrypt("00D000!abc").unwrap(), "00D000!abc");
        assert!(!c.looks_encrypted("a:b:c"));
    }

    #[test]
    fn secret_names() {
        for k in [
            "accessToken",
            "refreshToken",
            "clientSecret",
            "password",
            "TOKEN",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["clientId", "privateKey", "username"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}

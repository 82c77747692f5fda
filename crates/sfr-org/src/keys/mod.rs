//! Key material and secret handling: the master key (encryption at rest), token hashing and generation,
//! password hashing, and the ID-token signing key.

pub mod master;
pub mod password;
pub mod random;

pub use master::{KeyError, Keys};
pub use password::{hash_password, verify_password};
pub use random::{
    generate_access_token, generate_code, generate_consumer_key, generate_consumer_secret,
    generate_password, generate_refresh_token, generate_signing_key,
};

use aws_lc_rs::digest;
use subtle::ConstantTimeEq as _;

/// SHA-256 of a token or code, lower-case hex: the only form tokens and codes are stored in.
pub fn hash_token(token: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// Constant-time equality of two secrets (lengths may differ; a length mismatch is not secret).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(ct_eq("secret", "secret"));
        assert!(!ct_eq("secret", "secreT"));
        assert!(!ct_eq("secret", "secrets"));
    }
}

//! A connected app's consumer secret as a grant holds it: the plaintext a client's secret is checked against,
//! and the same secret set up as the HMAC key that signs the token response's `signature`. The facts cache keeps
//! one per app between changes, so the key is set up once, not on every grant.

use std::sync::Arc;

use sfr_wire::token::SignatureKey;

/// Shared, not copied: every grant takes a clone of its cached facts.
#[derive(Clone)]
pub struct ConsumerSecret(Arc<Inner>);

struct Inner {
    plain: String,
    signer: SignatureKey,
}

impl ConsumerSecret {
    pub fn new(plain: String) -> Self {
        let signer = SignatureKey::new(&plain);
        Self(Arc::new(Inner { plain, signer }))
    }

    pub fn as_str(&self) -> &str {
        &self.0.plain
    }

    /// The token response's `signature` over `id` and `issued_at`.
    pub fn sign(&self, id: &str, issued_at: &str) -> String {
        self.0.signer.sign(id, issued_at)
    }
}

/// In constant time, as every comparison of a secret here is.
impl PartialEq for ConsumerSecret {
    fn eq(&self, other: &Self) -> bool {
        crate::keys::ct_eq(&self.0.plain, &other.0.plain)
    }
}

impl Eq for ConsumerSecret {}

impl std::fmt::Debug for ConsumerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsumerSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_wire_signature_does_and_never_prints_itself() {
        let secret = ConsumerSecret::new("0A1B".into());
        assert_eq!(
            secret.sign("https://x/id/00D/005", "1700000000000"),
            sfr_wire::token::signature("0A1B", "https://x/id/00D/005", "1700000000000")
        );
        assert_eq!(secret.as_str(), "0A1B");
        assert!(!format!("{secret:?}").contains("0A1B"));
        assert_ne!(secret, ConsumerSecret::new("0A1C".into()));
    }
}

//! Connected apps' certificates, parsed once per certificate instead of on every JWT-bearer grant (PEM decoding,
//! X.509 parsing and the subject's text: about 12 µs, 5 % of such a grant's CPU), with their public key ready to
//! verify (parsing it and setting up arithmetic modulo its modulus cost more than the verification itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sfr_wire::jwt::Rs256PublicKey;

use crate::model::certificate::{self, CertificateError, CertificateInfo};

/// A certificate and its public key, parsed.
#[derive(Debug)]
pub struct ParsedCertificate {
    pub info: CertificateInfo,
    pub key: Rs256PublicKey,
}

/// Certificates kept at most; the cache starts over when full (an org has a handful of JWT apps).
const MAX_ENTRIES: usize = 256;

/// Parsed certificates by their PEM text: a replaced certificate is another key, so nothing can go stale.
#[derive(Debug, Default)]
pub struct Certificates {
    /// foldhash: a JWT grant hashes its app's whole PEM text (over a kilobyte), and SipHash over it cost more
    /// than the lookup is worth. The keys are what admins uploaded, not what requests send.
    parsed: Mutex<HashMap<String, Arc<ParsedCertificate>, foldhash::fast::RandomState>>,
}

impl Certificates {
    /// `certificate::parse_pem` and the key's parse, once per PEM text. Errors are not kept (that path is rare and
    /// says why).
    pub fn parse(&self, pem: &str) -> Result<Arc<ParsedCertificate>, CertificateError> {
        if let Some(hit) = self.parsed.lock().ok().and_then(|m| m.get(pem).cloned()) {
            return Ok(hit);
        }
        let info = certificate::parse_pem(pem)?;
        let key = Rs256PublicKey::from_pkcs1_der(&info.rsa_public_key_der)
            .map_err(|e| CertificateError::RsaKey(e.to_string()))?;
        let info = Arc::new(ParsedCertificate { info, key });
        if let Ok(mut parsed) = self.parsed.lock() {
            if parsed.len() >= MAX_ENTRIES {
                parsed.clear();
            }
            parsed.insert(pem.to_owned(), Arc::clone(&info));
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::certificate::tests::rsa_certificate;

    #[test]
    fn a_certificate_is_parsed_once_and_a_new_one_anew() {
        let certs = Certificates::default();
        let (pem, _) = rsa_certificate();
        let first = certs.parse(&pem).expect("parses");
        assert!(Arc::ptr_eq(&first, &certs.parse(&pem).expect("parses")));
        assert_eq!(first.info, certificate::parse_pem(&pem).expect("parses"));
        let (other, _) = rsa_certificate();
        let second = certs.parse(&other).expect("parses");
        assert_ne!(
            first.info.rsa_public_key_der,
            second.info.rsa_public_key_der
        );
        assert!(matches!(
            certs.parse("hello"),
            Err(CertificateError::Pem(_))
        ));
        assert!(Arc::ptr_eq(&first, &certs.parse(&pem).expect("parses")));
    }
}

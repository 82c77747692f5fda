//! The X.509 certificate uploaded to a connected app ("Use digital signatures"): JWT assertions must be signed with
//! the matching private key. Parsed when the app is created or updated, so a bad file is refused right away.

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// What we keep from a parsed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject, e.g. `CN=sfr-jwt`.
    pub subject: String,
    /// The RSA public key as PKCS#1 `RSAPublicKey` DER — what `sfr_wire::jwt::Assertion::verify_rs256` takes.
    pub rsa_public_key_der: Vec<u8>,
    /// Validity, in ms since the epoch.
    pub not_before: i64,
    pub not_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error(
        "the certificate is not PEM (expected a file starting with -----BEGIN CERTIFICATE-----): {0}"
    )]
    Pem(String),
    #[error(
        "the PEM block is a {0}, not a CERTIFICATE (pass the certificate, e.g. server.crt, not the key)"
    )]
    Label(String),
    #[error("the certificate could not be parsed as X.509: {0}")]
    X509(String),
    #[error(
        "the certificate holds a {0} key; JWT bearer needs an RSA key (e.g. openssl req -x509 -newkey rsa:2048)"
    )]
    NotRsa(String),
    #[error(
        "the certificate's key cannot verify RS256 signatures ({0}); make one of 2048 bits or more (e.g. openssl req -x509 -newkey rsa:2048)"
    )]
    RsaKey(String),
}

/// The smallest RSA key RS256 verification accepts.
const MIN_RSA_BITS: usize = 2048;

/// Parses a PEM certificate and extracts its RSA public key.
pub fn parse_pem(pem: &str) -> Result<CertificateInfo, CertificateError> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| CertificateError::Pem(e.to_string()))?;
    if block.label != "CERTIFICATE" {
        return Err(CertificateError::Label(block.label));
    }
    let (_, cert) = X509Certificate::from_der(&block.contents)
        .map_err(|e| CertificateError::X509(e.to_string()))?;
    let spki = cert.public_key();
    let rsa_public_key_der = match spki.parsed() {
        // Refused now rather than at every JWT-bearer grant: RS256 verification takes 2048 bits and more.
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() < MIN_RSA_BITS => {
            return Err(CertificateError::RsaKey(format!("{} bits", rsa.key_size())));
        }
        Ok(PublicKey::RSA(_)) => spki.subject_public_key.data.to_vec(),
        Ok(other) => return Err(CertificateError::NotRsa(key_kind(&other).to_owned())),
        Err(e) => return Err(CertificateError::X509(e.to_string())),
    };
    let validity = cert.validity();
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        rsa_public_key_der,
        not_before: validity.not_before.timestamp().saturating_mul(1000),
        not_after: validity.not_after.timestamp().saturating_mul(1000),
    })
}

fn key_kind(key: &PublicKey<'_>) -> &'static str {
    match key {
        PublicKey::RSA(_) => "RSA",
        PublicKey::EC(_) => "EC",
        PublicKey::DSA(_) => "DSA",
        PublicKey::GostR3410(_) | PublicKey::GostR3410_2012(_) => "GOST",
        _ => "non-RSA",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A self-signed RSA certificate and its key, for tests.
    pub(crate) fn rsa_certificate() -> (String, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256);
        // rcgen cannot generate RSA keys with every backend; fall back to one made by aws-lc-rs.
        let key = match key {
            Ok(k) => k,
            Err(_) => {
                use aws_lc_rs::encoding::AsDer;
                let pair =
                    aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
                let der = pair.as_der().unwrap();
                let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_ref().to_vec());
                rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
                    .unwrap()
            }
        };
        let cert = rcgen::CertificateParams::new(vec!["sfr-jwt".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key)
    }

    #[test]
    fn rsa_certificates_parse_and_others_are_refused() {
        let (pem, key) = rsa_certificate();
        let info = parse_pem(&pem).unwrap();
        assert!(!info.rsa_public_key_der.is_empty());
        assert!(info.not_after > info.not_before);

        assert!(matches!(parse_pem("hello"), Err(CertificateError::Pem(_))));
        assert!(matches!(
            parse_pem(&key.serialize_pem()),
            Err(CertificateError::Label(_))
        ));
        let ec = rcgen::KeyPair::generate().unwrap();
        let ec_cert = rcgen::CertificateParams::new(vec!["ec".into()])
            .unwrap()
            .self_signed(&ec)
            .unwrap();
        assert!(matches!(
            parse_pem(&ec_cert.pem()),
            Err(CertificateError::NotRsa(_))
        ));
        // Made by `openssl req -x509 -newkey rsa:1024`: too small for RS256 verification.
        let weak = include_str!("testdata/rsa-1024-certificate.pem");
        let err = parse_pem(weak).unwrap_err();
        assert!(matches!(err, CertificateError::RsaKey(_)), "{err:?}");
        assert!(err.to_string().contains("rsa:2048"), "{err}");
    }
}

//! `Assertion::parse` on arbitrary text, and signature verification of whatever parses against a fixed RSA key:
//! never a panic; anything that parses is RS256 with non-empty iss, sub, aud and an exp.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfr_wire::jwt::Assertion;

/// An RSA public key (PKCS#1 DER) no fuzzer input can have signed for.
const PUBLIC_KEY_DER: &[u8] = include_bytes!("../keys/rsa2048_public.der");

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(a) = Assertion::parse(&text) {
        assert_eq!(a.alg, "RS256", "only RS256 may parse");
        assert!(!a.claims.iss.is_empty() && !a.claims.sub.is_empty());
        assert!(a.claims.aud.values().next().is_some(), "aud parsed empty");
        assert!(a.verify_rs256(PUBLIC_KEY_DER).is_err(), "forged signature verified");
    }
});

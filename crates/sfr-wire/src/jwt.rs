//! JWT bearer assertions (RFC 7523) as Salesforce reads them: RS256 only, `iss` = consumer key, `sub` (or `prn`,
//! which wins) = username, `aud` = the login host, `exp` as a number or numeric string, in seconds or — as `sf`
//! sends it — milliseconds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest assertion we look at. `sf`'s are ~600 bytes; anything this large is hostile.
pub const MAX_ASSERTION_LEN: usize = 16 * 1024;

/// `exp` values above this are milliseconds (in seconds it would be the year 5138).
const MS_THRESHOLD: i64 = 100_000_000_000;

/// Why an assertion could not be read. The server maps all of these to `invalid_grant` / `invalid assertion`
/// and records the variant in its login history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the assertion is longer than {MAX_ASSERTION_LEN} bytes")]
    TooLong,
    #[error("the assertion is not three base64url segments separated by dots")]
    Shape,
    #[error("the {0} segment is not valid base64url")]
    Base64(&'static str),
    #[error("the {0} segment is not a JSON object")]
    Json(&'static str),
    #[error("the header names algorithm {0:?}; only RS256 is accepted")]
    Algorithm(String),
    #[error("the claim {0} is missing or has the wrong type")]
    Claim(&'static str),
    #[error("the signature does not verify with the app's certificate")]
    Signature,
    #[error("the private key cannot sign: {0}")]
    Key(String),
    #[error("the public key is not an RSA key of 2048 to 8192 bits: {0}")]
    PublicKey(String),
}

/// The audience: a string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn values(&self) -> impl Iterator<Item = &str> + Clone {
        let slice: &[String] = match self {
            Self::One(s) => std::slice::from_ref(s),
            Self::Many(v) => v,
        };
        slice.iter().map(String::as_str)
    }
}

/// The claims Salesforce reads, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    /// `prn` if present, else `sub`.
    pub sub: String,
    pub aud: Audience,
    /// Expiry in milliseconds since the epoch, whatever unit the client used.
    pub exp_ms: i64,
}

/// A parsed, not yet verified, assertion.
#[derive(Debug, Clone)]
pub struct Assertion {
    pub alg: String,
    pub claims: Claims,
    signing_input: String,
    signature: Vec<u8>,
}

impl Assertion {
    /// Parses the compact form. Only RS256 passes: `none`, HMAC and everything else are refused here, before any key
    /// is looked at, so algorithm confusion cannot happen.
    pub fn parse(compact: &str) -> Result<Self, JwtError> {
        if compact.len() > MAX_ASSERTION_LEN {
            return Err(JwtError::TooLong);
        }
        let mut parts = compact.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Shape);
        };
        let header: Header = decode_object(h, "header")?;
        let alg = header
            .alg
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if alg != "RS256" {
            return Err(JwtError::Algorithm(alg));
        }
        let claims: ReadClaims = decode_object(c, "claims")?;
        let signature = URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| JwtError::Base64("signature"))?;
        if signature.is_empty() {
            return Err(JwtError::Signature);
        }
        let text = |claim: Option<Value>| match claim {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let iss = text(claims.iss).ok_or(JwtError::Claim("iss"))?;
        let sub = text(claims.prn)
            .or_else(|| text(claims.sub))
            .ok_or(JwtError::Claim("sub"))?;
        let aud = claims
            .aud
            .and_then(|v| serde_json::from_value::<Audience>(v).ok())
            .ok_or(JwtError::Claim("aud"))?;
        let exp_ms = claims
            .exp
            .as_ref()
            .and_then(numeric_date_ms)
            .ok_or(JwtError::Claim("exp"))?;
        Ok(Self {
            alg,
            claims: Claims {
                iss,
                sub,
                aud,
                exp_ms,
            },
            signing_input: format!("{h}.{c}"),
            signature,
        })
    }

    /// The `iss` an assertion claims, read without parsing or checking the rest (for naming a client before it is
    /// authenticated): `None` when there is no non-empty `iss` string to read.
    pub fn issuer(compact: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct Issuer {
            iss: Option<Value>,
        }
        if compact.len() > MAX_ASSERTION_LEN {
            return None;
        }
        let claims = compact.split('.').nth(1)?;
        match decode_object::<Issuer>(claims, "claims").ok()?.iss? {
            Value::String(iss) if !iss.is_empty() => Some(iss),
            _ => None,
        }
    }

    /// Verifies the RS256 signature with an RSA public key in PKCS#1 `RSAPublicKey` DER (what an X.509 certificate's
    /// subject public key holds). To verify many assertions with one key, parse it once (`Rs256PublicKey`).
    pub fn verify_rs256(&self, rsa_public_key_der: &[u8]) -> Result<(), JwtError> {
        let key =
            Rs256PublicKey::from_pkcs1_der(rsa_public_key_der).map_err(|_| JwtError::Signature)?;
        self.verify_rs256_with(&key)
    }

    /// Verifies the RS256 signature with a key parsed before.
    pub fn verify_rs256_with(&self, key: &Rs256PublicKey) -> Result<(), JwtError> {
        key.0
            .verify_sig(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JwtError::Signature)
    }
}

/// An RSA public key parsed for RS256 verification, to be kept and reused: parsing it (and setting up arithmetic
/// modulo its modulus, done on its first use and then kept with it) costs more than a verification itself.
#[derive(Clone)]
pub struct Rs256PublicKey(aws_lc_rs::signature::ParsedPublicKey);

impl Rs256PublicKey {
    /// Parses PKCS#1 `RSAPublicKey` DER. The size (2048 to 8192 bits) is checked when verifying: a smaller key
    /// verifies nothing.
    pub fn from_pkcs1_der(rsa_public_key_der: &[u8]) -> Result<Self, JwtError> {
        aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            rsa_public_key_der,
        )
        .map(Self)
        .map_err(|e| JwtError::PublicKey(e.to_string()))
    }
}

impl std::fmt::Debug for Rs256PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rs256PublicKey")
    }
}

/// Reads a NumericDate given as a number (integer or float) or a numeric string, in seconds or milliseconds, and
/// returns milliseconds.
pub fn numeric_date_ms(v: &Value) -> Option<i64> {
    let raw: f64 = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !raw.is_finite() || !(0.0..=9.0e15).contains(&raw) {
        return None;
    }
    let raw = raw as i64;
    Some(if raw > MS_THRESHOLD {
        raw
    } else {
        raw.saturating_mul(1000)
    })
}

fn decode_object<T: serde::de::DeserializeOwned>(
    segment: &str,
    what: &'static str,
) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| JwtError::Base64(what))?;
    // A struct deserializes from a JSON array too (its fields in order); a JOSE header and a claims set are
    // objects only.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(JwtError::Json(what));
    }
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Json(what))
}

/// The header's one field Salesforce reads. Each field is read as any JSON value and its type checked after,
/// so a wrong type is refused for what it is, not as unreadable JSON.
#[derive(Deserialize)]
struct Header {
    alg: Option<Value>,
}

/// The claims Salesforce reads, as sent; any others are skipped unread. Read into fields, not into a map of
/// every claim: that map (its keys allocated and hashed) was most of parsing an assertion. A claim named twice
/// refuses the assertion, which RFC 7519 (section 4) allows a parser to do.
#[derive(Deserialize)]
struct ReadClaims {
    iss: Option<Value>,
    sub: Option<Value>,
    prn: Option<Value>,
    aud: Option<Value>,
    exp: Option<Value>,
}

/// Claims a client puts in an assertion. `exp` is written as given: `sfr` sends seconds (RFC 7519), while `sf`
/// sends milliseconds; servers must accept both.
#[derive(Debug, Clone, Serialize)]
pub struct OutgoingClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: i64,
    pub iat: i64,
}

/// Signs an RS256 assertion with the header `{"alg":"RS256","typ":"JWT"}`.
pub fn sign_rs256(
    claims: &OutgoingClaims<'_>,
    key: &aws_lc_rs::signature::RsaKeyPair,
) -> Result<String, JwtError> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(claims).map_err(|e| JwtError::Key(e.to_string()))?);
    let input = format!("{header}.{body}");
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .map_err(|e| JwtError::Key(e.to_string()))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair;

    fn key() -> aws_lc_rs::signature::RsaKeyPair {
        aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap()
    }

    #[test]
    fn exp_units_and_types() {
        assert_eq!(
            numeric_date_ms(&serde_json::json!(1_795_933_798)),
            Some(1_795_933_798_000)
        );
        assert_eq!(
            numeric_date_ms(&serde_json::json!(1_795_933_798_426_i64)),
            Some(1_795_933_798_426)
        );
        assert_eq!(
            numeric_date_ms(&serde_json::json!("1795933798")),
            Some(1_795_933_798_000)
        );
        assert_eq!(
            numeric_date_ms(&serde_json::json!(1_795_933_798.5)),
            Some(1_795_933_798_000)
        );
        assert_eq!(numeric_date_ms(&serde_json::json!("soon")), None);
        assert_eq!(numeric_date_ms(&serde_json::json!(-5)), None);
        assert_eq!(numeric_date_ms(&serde_json::json!(null)), None);
    }

    #[test]
    fn signs_and_verifies_round_trip() {
        let k = key();
        let claims = OutgoingClaims {
            iss: "3MVG9x",
            sub: "u@example.com",
            aud: "http://h/",
            exp: 2_000_000_000,
            iat: 1,
        };
        let jwt = sign_rs256(&claims, &k).unwrap();
        let a = Assertion::parse(&jwt).unwrap();
        assert_eq!(a.claims.iss, "3MVG9x");
        assert_eq!(a.claims.sub, "u@example.com");
        assert_eq!(a.claims.exp_ms, 2_000_000_000_000);
        assert!(a.verify_rs256(k.public_key().as_ref()).is_ok());
        let other = key();
        assert_eq!(
            a.verify_rs256(other.public_key().as_ref()),
            Err(JwtError::Signature)
        );
        let _ = k.public_key().as_der();
    }

    /// `issuer` reads what `parse` reads as `iss`, and nothing where there is no `iss` string.
    #[test]
    fn the_issuer_is_read_alone() {
        let claims = OutgoingClaims {
            iss: "3MVG9x",
            sub: "u@example.com",
            aud: "http://h/",
            exp: 2_000_000_000,
            iat: 1,
        };
        let jwt = sign_rs256(&claims, &key()).unwrap();
        assert_eq!(Assertion::issuer(&jwt).as_deref(), Some("3MVG9x"));
        let segment = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let unsigned = |json: &str| format!("{}.{}.", segment(r#"{"alg":"none"}"#), segment(json));
        // Only the claims are read: an assertion `parse` refuses still names its issuer.
        assert_eq!(
            Assertion::issuer(&unsigned(r#"{"iss":"k","aud":[1]}"#)).as_deref(),
            Some("k")
        );
        for none in [
            unsigned(r#"{"iss":""}"#),
            unsigned(r#"{"iss":7}"#),
            unsigned(r#"{"sub":"u"}"#),
            unsigned("[1]"),
            unsigned(r#"["k"]"#), // an array is not a claims set, as `parse` says too
            "a.!!!.c".to_owned(),
            "no dots".to_owned(),
            format!("a.{}.c", "A".repeat(MAX_ASSERTION_LEN)),
        ] {
            assert_eq!(Assertion::issuer(&none), None, "{none}");
        }
    }

    /// A key parsed once verifies any number of assertions, and only those of its own private key.
    #[test]
    fn a_parsed_key_is_reused_and_checked() {
        let k = key();
        let claims = |sub| OutgoingClaims {
            iss: "3MVG9x",
            sub,
            aud: "http://h/",
            exp: 2_000_000_000,
            iat: 1,
        };
        let parsed = Rs256PublicKey::from_pkcs1_der(k.public_key().as_ref()).unwrap();
        for sub in ["a@example.com", "b@example.com"] {
            let a = Assertion::parse(&sign_rs256(&claims(sub), &k).unwrap()).unwrap();
            assert_eq!(a.verify_rs256_with(&parsed), Ok(()));
        }
        let other = key();
        let forged =
            Assertion::parse(&sign_rs256(&claims("c@example.com"), &other).unwrap()).unwrap();
        assert_eq!(forged.verify_rs256_with(&parsed), Err(JwtError::Signature));
        assert!(matches!(
            Rs256PublicKey::from_pkcs1_der(b"not a key"),
            Err(JwtError::PublicKey(_))
        ));
        assert_eq!(
            forged.verify_rs256(b"not a key"),
            Err(JwtError::Signature),
            "an unusable key verifies nothing"
        );
    }

    #[test]
    fn refuses_other_algorithms_and_shapes() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"iss":"a","sub":"b","aud":"c","exp":1}"#)
        );
        assert_eq!(
            Assertion::parse(&none).unwrap_err(),
            JwtError::Algorithm("none".into())
        );
        let hs = none.replace(
            &URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            &URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
        );
        assert_eq!(
            Assertion::parse(&hs).unwrap_err(),
            JwtError::Algorithm("HS256".into())
        );
        assert_eq!(Assertion::parse("a.b").unwrap_err(), JwtError::Shape);
        assert_eq!(Assertion::parse("a.b.c.d").unwrap_err(), JwtError::Shape);
        assert_eq!(
            Assertion::parse(&"x".repeat(MAX_ASSERTION_LEN + 1)).unwrap_err(),
            JwtError::TooLong
        );
        assert_eq!(
            Assertion::parse("!!.b.c").unwrap_err(),
            JwtError::Base64("header")
        );
        let segment = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let rs256 = segment(r#"{"alg":"RS256"}"#);
        let with = |header: &str, claims: &str| {
            Assertion::parse(&format!("{}.{}.AAAA", segment(header), segment(claims)))
        };
        let good = r#"{"iss":"a","sub":"b","aud":"c","exp":1}"#;
        assert!(with(r#"{"alg":"RS256"}"#, good).is_ok());
        // Arrays are not objects, even with the fields in order; nor is anything else.
        assert_eq!(
            with(r#"["RS256"]"#, good).unwrap_err(),
            JwtError::Json("header")
        );
        for claims in [r#"["a","b","b","c",1]"#, "7", r#""a""#, "", "{"] {
            assert_eq!(
                Assertion::parse(&format!("{rs256}.{}.AAAA", segment(claims))).unwrap_err(),
                JwtError::Json("claims"),
                "{claims}"
            );
        }
        assert_eq!(
            with(r#"{"alg":7}"#, good).unwrap_err(),
            JwtError::Algorithm(String::new())
        );
        // A claim named twice is refused; unknown claims, named twice or not, are skipped.
        assert_eq!(
            with(
                r#"{"alg":"RS256"}"#,
                r#"{"iss":"a","iss":"z","sub":"b","aud":"c","exp":1}"#
            )
            .unwrap_err(),
            JwtError::Json("claims")
        );
        assert!(
            with(
                r#"{"alg":"RS256","typ":"JWT","kid":{"x":[1]}}"#,
                r#"{"iss":"a","sub":"b","aud":"c","exp":1,"jti":"j","jti":{"n":null}}"#
            )
            .is_ok()
        );
        // A claim of the wrong type is refused by name.
        for (claims, claim) in [
            (r#"{"iss":1,"sub":"b","aud":"c","exp":1}"#, "iss"),
            (r#"{"iss":"","sub":"b","aud":"c","exp":1}"#, "iss"),
            (r#"{"iss":"a","sub":["b"],"aud":"c","exp":1}"#, "sub"),
            (r#"{"iss":"a","sub":"b","aud":[1],"exp":1}"#, "aud"),
            (r#"{"iss":"a","sub":"b","aud":"c","exp":"soon"}"#, "exp"),
            (r#"{"iss":"a","sub":"b","aud":"c"}"#, "exp"),
        ] {
            assert_eq!(
                with(r#"{"alg":"RS256"}"#, claims).unwrap_err(),
                JwtError::Claim(claim),
                "{claims}"
            );
        }
    }

    #[test]
    fn prn_wins_over_sub_and_aud_may_be_a_list() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let c = URL_SAFE_NO_PAD
            .encode(br#"{"iss":"a","sub":"s","prn":"p","aud":["x","y"],"exp":"10"}"#);
        let a = Assertion::parse(&format!("{h}.{c}.AAAA")).unwrap();
        assert_eq!(a.claims.sub, "p");
        assert_eq!(a.claims.aud.values().collect::<Vec<_>>(), vec!["x", "y"]);
        assert_eq!(a.claims.exp_ms, 10_000);
    }
}

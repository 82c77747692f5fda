//! `org login jwt`: the RSA key file, the RS256 assertion, `sf`'s sequence of (login URL, audience) attempts, and —
//! when every attempt fails — one diagnosis instead of `sf`'s five repeated lines.
//!
//! `exp` is sent in **seconds** (RFC 7519), now + 3 minutes, the window Salesforce documents; `sf` sends
//! `Date.now() + 300` in milliseconds, which servers also accept.

use std::path::Path;

use aws_lc_rs::signature::RsaKeyPair;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use sfr_wire::jwt::{OutgoingClaims, sign_rs256};
use sfr_wire::{JWT_BEARER_GRANT, OAuthError, TokenResponse};

use super::http::HttpClient;
use super::token::{GrantError, request_token};

/// Lifetime of an assertion, in seconds.
pub const ASSERTION_LIFETIME_SECS: i64 = 180;
pub const PRODUCTION: &str = "https://login.salesforce.com";
pub const SANDBOX: &str = "https://test.salesforce.com";
const GS1: &str = "https://gs1.salesforce.com";

/// The key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("Cannot read the JWT key file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error(
        "The JWT key file {path} holds no private key in PEM form (expected \"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN RSA PRIVATE KEY-----\")"
    )]
    NotPem { path: String },
    #[error("The JWT key file {path} holds a {kind} key; Salesforce JWT login needs an RSA key")]
    NotRsa { path: String, kind: &'static str },
    #[error("The JWT key file {path} holds an RSA key that cannot sign: {reason}")]
    Rejected { path: String, reason: String },
}

/// Reads a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM RSA key.
pub fn load_key(path: &Path) -> Result<RsaKeyPair, KeyError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|e| KeyError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| KeyError::NotPem {
        path: shown.clone(),
    })?;
    let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rejected {
        path: shown.clone(),
        reason: e.to_string(),
    };
    match der {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).map_err(|e| {
            if e.to_string().contains("WrongAlgorithm") {
                KeyError::NotRsa {
                    path: shown.clone(),
                    kind: "non-RSA (EC or Ed25519)",
                }
            } else {
                rejected(e)
            }
        }),
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()).map_err(rejected),
        PrivateKeyDer::Sec1(_) => Err(KeyError::NotRsa {
            path: shown.clone(),
            kind: "EC",
        }),
        _ => Err(KeyError::NotPem { path: shown }),
    }
}

/// Signs an assertion for `sub` at `aud`, valid for [`ASSERTION_LIFETIME_SECS`] from `now_secs`.
pub fn assertion(
    key: &RsaKeyPair,
    client_id: &str,
    username: &str,
    audience: &str,
    now_secs: i64,
) -> Result<String, sfr_wire::jwt::JwtError> {
    sign_rs256(
        &OutgoingClaims {
            iss: client_id,
            sub: username,
            aud: audience,
            exp: now_secs + ASSERTION_LIFETIME_SECS,
            iat: now_secs,
        },
        key,
    )
}

/// One (token endpoint host, audience) pair to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub login_url: String,
    pub audience: String,
}

/// The audience `A` of `sf`: `SF_AUDIENCE_URL`, else gs1 for gs1 orgs, else production.
pub fn default_audience(
    env_audience: Option<&str>,
    login_url: &str,
    created_org_instance: Option<&str>,
) -> String {
    if let Some(a) = env_audience.filter(|a| !a.is_empty()) {
        return a.to_owned();
    }
    if created_org_instance.is_some_and(|i| i.to_ascii_lowercase().starts_with("gs1"))
        || login_url.contains("gs1.my.salesforce.com")
    {
        return GS1.to_owned();
    }
    PRODUCTION.to_owned()
}

/// `sf`'s attempt list: `[L,L] [SB,SB] [PROD,PROD] [A,A] [A,PROD] [A,SB] [L,A] [L,PROD] [L,SB] [PROD,A] [SB,A]`,
/// dropping pairs that mix production and sandbox and pairs already present (compared by origin).
pub fn attempts(login_url: &str, audience: &str) -> Vec<Attempt> {
    let (l, a) = (login_url, audience);
    let candidates = [
        (l, l),
        (SANDBOX, SANDBOX),
        (PRODUCTION, PRODUCTION),
        (a, a),
        (a, PRODUCTION),
        (a, SANDBOX),
        (l, a),
        (l, PRODUCTION),
        (l, SANDBOX),
        (PRODUCTION, a),
        (SANDBOX, a),
    ];
    let mut out: Vec<Attempt> = Vec::new();
    for (login, aud) in candidates {
        let (lo, ao) = (origin(login), origin(aud));
        let mixes = |x: &str, y: &str| x == origin(PRODUCTION) && y == origin(SANDBOX);
        if mixes(&lo, &ao) || mixes(&ao, &lo) {
            continue;
        }
        if out
            .iter()
            .any(|t| origin(&t.login_url) == lo && origin(&t.audience) == ao)
        {
            continue;
        }
        out.push(Attempt {
            login_url: login.to_owned(),
            audience: aud.to_owned(),
        });
    }
    out
}

/// `scheme://host[:port]`, lower-cased, without a default port or path.
fn origin(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(parsed) => parsed.origin().ascii_serialization().to_ascii_lowercase(),
        Err(_) => u.trim_end_matches('/').to_ascii_lowercase(),
    }
}

/// What one attempt produced.
#[derive(Debug)]
pub struct Failure {
    pub attempt: Attempt,
    pub error: GrantError,
}

/// Tries every attempt in order and returns the first success (with the attempt that worked).
pub fn grant(
    http: &HttpClient,
    key: &RsaKeyPair,
    client_id: &str,
    username: &str,
    attempts: &[Attempt],
    now_secs: impl Fn() -> i64,
) -> Result<(TokenResponse, Attempt), Vec<Failure>> {
    let mut failures = Vec::new();
    for attempt in attempts {
        let signed = match assertion(key, client_id, username, &attempt.audience, now_secs()) {
            Ok(s) => s,
            Err(e) => {
                failures.push(Failure {
                    attempt: attempt.clone(),
                    error: GrantError::Malformed {
                        url: attempt.login_url.clone(),
                        reason: e.to_string(),
                    },
                });
                return Err(failures);
            }
        };
        let pairs = [
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", signed.as_str()),
        ];
        match request_token(http, &attempt.login_url, &pairs) {
            Ok(token) => return Ok((token, attempt.clone())),
            Err(error) => failures.push(Failure {
                attempt: attempt.clone(),
                error,
            }),
        }
    }
    Err(failures)
}

/// The likely cause of a failed JWT login, ranked from most to least informative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    NotPreAuthorized,
    CertificateMismatch,
    Clock,
    UnknownClientId,
    Other,
    Audience,
    Unreachable,
}

/// One message for all failed attempts: which cause is likely, what to do, and the raw errors for reference.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub cause: Cause,
    pub message: String,
    pub actions: Vec<String>,
}

fn classify(f: &Failure) -> Cause {
    match &f.error {
        GrantError::Transport(_) => Cause::Unreachable,
        GrantError::Malformed { .. } => Cause::Other,
        GrantError::OAuth(reply) => match OAuthError::from_wire(&reply.error, &reply.description) {
            Some(OAuthError::NotApproved | OAuthError::NotAdminApproved) => Cause::NotPreAuthorized,
            Some(OAuthError::InvalidAssertion) => Cause::CertificateMismatch,
            Some(OAuthError::ExpiredAuthCode) => Cause::Clock,
            Some(OAuthError::InvalidClientId) => Cause::UnknownClientId,
            Some(OAuthError::InvalidAudience) => Cause::Audience,
            _ if reply.description.to_ascii_lowercase().contains("audience") => Cause::Audience,
            _ if reply.description.contains("hasn't approved") => Cause::NotPreAuthorized,
            _ => Cause::Other,
        },
    }
}

/// Builds the diagnosis. Answers from `login_url` — the host the user named —
/// count first: what Salesforce's public hosts say about an assertion meant for another org is noise.
pub fn diagnose(
    failures: &[Failure],
    login_url: &str,
    username: &str,
    client_id: &str,
    key_file: &str,
) -> Diagnosis {
    let home = origin(login_url);
    let answered_at_home = failures.iter().filter(|f| {
        origin(&f.attempt.login_url) == home && !matches!(f.error, GrantError::Transport(_))
    });
    let best = answered_at_home
        .min_by_key(|f| classify(f))
        .or_else(|| {
            failures
                .iter()
                .find(|f| origin(&f.attempt.login_url) == home)
        })
        .or_else(|| failures.iter().min_by_key(|f| classify(f)));
    let Some(best) = best else {
        return Diagnosis {
            cause: Cause::Other,
            message: format!("No JWT login was attempted for {username}."),
            actions: Vec::new(),
        };
    };
    let cause = classify(best);
    let at = &best.attempt.login_url;
    let said = best.error.to_string();
    let (message, mut actions) = match cause {
        Cause::NotPreAuthorized => (
            format!("The org at {at} accepted the JWT but {username} isn't authorized to use connected app {client_id}, or isn't a user of this org ({said})."),
            vec![
                "In the connected app's policies set Permitted Users to \"Admin approved users are pre-authorized\" and assign the user's profile or a permission set to the app.".to_owned(),
                format!(
                    "Or have {username} approve the app once with `sfr org login web --client-id {client_id}`. Check the spelling of --username too."
                ),
            ],
        ),
        Cause::CertificateMismatch => (
            format!("The org at {at} rejected the JWT signature: the certificate uploaded to connected app {client_id} doesn't match the private key in {key_file} ({said})."),
            vec![format!(
                "Upload the certificate made from {key_file} (for keys made by `sfr cert create`, the server.crt next to it) to the connected app under \"Use digital signatures\", or point --jwt-key-file at the key that belongs to the uploaded certificate."
            )],
        ),
        Cause::Clock => (
            format!("The org at {at} judged the JWT expired ({said}); this machine's clock is probably wrong."),
            vec!["Synchronize the system clock (sfr sends exp = now + 3 minutes) and try again.".to_owned()],
        ),
        Cause::UnknownClientId => (
            format!("The org at {at} has no connected app with consumer key {client_id} ({said})."),
            vec!["Pass the connected app's Consumer Key as --client-id and the org's login URL as --instance-url.".to_owned()],
        ),
        Cause::Audience => (
            format!("No audience the JWT was signed for was accepted by the org ({said})."),
            vec![
                "Pass the org's own login URL (its My Domain) as --instance-url, or set SF_AUDIENCE_URL to the audience the org expects (https://test.salesforce.com for sandboxes).".to_owned(),
            ],
        ),
        Cause::Unreachable => (
            format!("No token endpoint could be reached ({said})."),
            vec!["Check --instance-url and your network connection (and NODE_EXTRA_CA_CERTS for a private CA).".to_owned()],
        ),
        Cause::Other => (format!("The org at {at} refused the JWT login: {said}."), Vec::new()),
    };
    let tried = failures
        .iter()
        .map(|f| {
            let answer = match &f.error {
                GrantError::OAuth(reply) => reply.jsforce_text(),
                GrantError::Transport(_) => "unreachable".to_owned(),
                GrantError::Malformed { .. } => "unusable answer".to_owned(),
            };
            format!(
                "{} (aud {}): {answer}",
                f.attempt.login_url, f.attempt.audience
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    actions.push(format!("Attempts: {tried}"));
    Diagnosis {
        cause,
        message,
        actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::token::OAuthReply;
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::signature::KeyPair;

    #[test]
    fn observed_attempt_order_for_a_custom_instance_url() {
        let got = attempts("http://localhost:8901/", PRODUCTION);
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|a| (a.login_url.as_str(), a.audience.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("http://localhost:8901/", "http://localhost:8901/"),
                (SANDBOX, SANDBOX),
                (PRODUCTION, PRODUCTION),
                ("http://localhost:8901/", PRODUCTION),
                ("http://localhost:8901/", SANDBOX),
            ]
        );
    }

    #[test]
    fn audience_override_and_production_login() {
        assert_eq!(
            default_audience(Some("https://x.example"), PRODUCTION, None),
            "https://x.example"
        );
        assert_eq!(
            default_audience(None, "https://acme.gs1.my.salesforce.com", None),
            GS1
        );
        assert_eq!(default_audience(None, PRODUCTION, Some("GS1S2")), GS1);
        assert_eq!(default_audience(None, PRODUCTION, None), PRODUCTION);
        // Logging in at production: duplicates by origin collapse ("https://login.salesforce.com/" == PROD).
        let got = attempts("https://login.salesforce.com/", PRODUCTION);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].audience, "https://login.salesforce.com/");
        assert_eq!(got[1].login_url, SANDBOX);
        // A custom audience adds its own pairs.
        let got = attempts("http://localhost:8901/", "http://aud.example");
        assert_eq!(
            got[3],
            Attempt {
                login_url: "http://aud.example".into(),
                audience: "http://aud.example".into()
            }
        );
        assert!(
            got.iter()
                .all(|a| !(origin(&a.login_url) == origin(PRODUCTION)
                    && origin(&a.audience) == origin(SANDBOX)))
        );
    }

    fn write_pkcs8(dir: &Path) -> (std::path::PathBuf, RsaKeyPair) {
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8: Pkcs8V1Der = key.as_der().unwrap();
        let path = dir.join("k8.pem");
        std::fs::write(&path, pem_of("PRIVATE KEY", pkcs8.as_ref())).unwrap();
        (path, key)
    }

    fn pem_of(label: &str, der: &[u8]) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let body: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            body.join("\n")
        )
    }

    #[test]
    fn loads_pkcs8_and_signs_verifiable_assertions() {
        let dir = tempfile::tempdir().unwrap();
        let (p8, original) = write_pkcs8(dir.path());
        let key = load_key(&p8).unwrap();
        assert_eq!(key.public_key().as_ref(), original.public_key().as_ref());
        let jwt = assertion(&key, "3MVG9", "u@example.com", "http://h/", 1_800_000_000).unwrap();
        let parsed = sfr_wire::jwt::Assertion::parse(&jwt).unwrap();
        assert_eq!(
            parsed.claims.exp_ms,
            (1_800_000_000 + ASSERTION_LIFETIME_SECS) * 1000
        );
        assert!(parsed.verify_rs256(original.public_key().as_ref()).is_ok());
    }

    #[test]
    fn loads_pkcs1_keys() {
        // Derive a PKCS#1 key from a fresh PKCS#8 one: the RSAPrivateKey is the OCTET STRING after the algorithm.
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8: Pkcs8V1Der = key.as_der().unwrap();
        let der = pkcs8.as_ref();
        // PrivateKeyInfo ::= SEQ { INTEGER 0, SEQ { OID rsaEncryption, NULL }, OCTET STRING { RSAPrivateKey } }
        // The algorithm identifier for RSA is the fixed 15 bytes 30 0d 06 09 2a864886f70d010101 05 00.
        let alg = [
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let pos = der.windows(alg.len()).position(|w| w == alg).unwrap() + alg.len();
        assert_eq!(der[pos], 0x04, "OCTET STRING");
        let (len, skip) = match der[pos + 1] {
            n if n < 0x80 => (n as usize, 2),
            0x81 => (der[pos + 2] as usize, 3),
            0x82 => (((der[pos + 2] as usize) << 8) | der[pos + 3] as usize, 4),
            _ => unreachable!(),
        };
        let pkcs1 = &der[pos + skip..pos + skip + len];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k1.pem");
        std::fs::write(&path, pem_of("RSA PRIVATE KEY", pkcs1)).unwrap();
        let loaded = load_key(&path).unwrap();
        assert_eq!(loaded.public_key().as_ref(), key.public_key().as_ref());
    }

    #[test]
    fn bad_key_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.key");
        assert!(matches!(load_key(&missing), Err(KeyError::Read { .. })));
        let junk = dir.path().join("junk.key");
        std::fs::write(&junk, "hello").unwrap();
        assert!(matches!(load_key(&junk), Err(KeyError::NotPem { .. })));
        let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let ec_path = dir.path().join("ec.key");
        std::fs::write(&ec_path, ec.serialize_pem()).unwrap();
        let err = load_key(&ec_path).unwrap_err();
        assert!(
            matches!(err, KeyError::NotRsa { .. } | KeyError::Rejected { .. }),
            "{err}"
        );
    }

    fn failure(login: &str, aud: &str, error: &str, description: &str) -> Failure {
        Failure {
            attempt: Attempt {
                login_url: login.into(),
                audience: aud.into(),
            },
            error: GrantError::OAuth(OAuthReply {
                status: 400,
                error: error.into(),
                description: description.into(),
            }),
        }
    }

    #[test]
    fn diagnosis_prefers_the_informative_answer() {
        let l = "http://localhost:8901/";
        let failures = vec![
            failure(l, l, "invalid_grant", "user hasn't approved this consumer"),
            failure(l, PRODUCTION, "invalid_grant", "audience is invalid"),
        ];
        let d = diagnose(&failures, l, "u@example.com", "3MVG9", "server.key");
        assert_eq!(d.cause, Cause::NotPreAuthorized);
        assert!(
            d.message
                .contains("isn't authorized to use connected app 3MVG9"),
            "{}",
            d.message
        );
        assert!(d.actions.iter().any(|a| a.contains("pre-authorized")));
        assert!(
            d.actions
                .last()
                .unwrap()
                .contains("http://localhost:8901/ (aud https://login.salesforce.com): invalid_grant::audience is invalid")
        );

        let failures = vec![
            failure(l, l, "invalid_grant", "audience is invalid"),
            failure(l, SANDBOX, "invalid_grant", "audience is invalid"),
        ];
        assert_eq!(diagnose(&failures, l, "u", "c", "k").cause, Cause::Audience);
        let failures = vec![failure(l, l, "invalid_grant", "invalid assertion")];
        let d = diagnose(&failures, l, "u", "c", "server.key");
        assert_eq!(d.cause, Cause::CertificateMismatch);
        assert!(
            d.message
                .contains("doesn't match the private key in server.key")
        );
        let failures = vec![failure(
            l,
            l,
            "invalid_client_id",
            "client identifier invalid",
        )];
        assert_eq!(
            diagnose(&failures, l, "u", "c", "k").cause,
            Cause::UnknownClientId
        );
        let failures = vec![failure(l, l, "invalid_grant", "expired authorization code")];
        assert_eq!(diagnose(&failures, l, "u", "c", "k").cause, Cause::Clock);
        // Salesforce's own hosts not knowing the client id must not hide the local org's audience answer.
        let failures = vec![
            failure(l, l, "invalid_grant", "audience is invalid"),
            failure(
                SANDBOX,
                SANDBOX,
                "invalid_client_id",
                "client identifier invalid",
            ),
            failure(
                PRODUCTION,
                PRODUCTION,
                "invalid_client_id",
                "client identifier invalid",
            ),
        ];
        assert_eq!(diagnose(&failures, l, "u", "c", "k").cause, Cause::Audience);
    }
}

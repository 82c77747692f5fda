//! The JWT bearer grant with a real RSA key and a self-signed certificate made here with rcgen.

use aws_lc_rs::signature::RsaKeyPair;
use sfr_wire::JWT_BEARER_GRANT;
use sfr_wire::jwt::{OutgoingClaims, sign_rs256};

use super::*;

/// A key pair and its certificate PEM.
pub struct Cert {
    pub key: RsaKeyPair,
    pub pem: String,
}

pub fn make_cert() -> Cert {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
    let cert = rcgen::CertificateParams::new(vec!["sfr-test".to_owned()])
        .expect("params")
        .self_signed(&kp)
        .expect("self-signed");
    Cert {
        key: RsaKeyPair::from_pkcs8(&kp.serialize_der()).expect("pkcs8"),
        pem: cert.pem(),
    }
}

fn assertion(cert: &Cert, iss: &str, sub: &str, aud: &str, exp: i64) -> String {
    sign_rs256(
        &OutgoingClaims {
            iss,
            sub,
            aud,
            exp,
            iat: exp / 1000,
        },
        &cert.key,
    )
    .expect("sign")
}

fn grant(org: &TestOrg, jwt: &str) -> Resp {
    org.token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", jwt)])
}

struct Setup {
    org: TestOrg,
    cert: Cert,
    key: String,
}

fn setup() -> Setup {
    let cert = make_cert();
    let org = TestOrg::new()
        .with_user(TestUser::admin("boss@example.com"))
        .with_user(TestUser::standard("std@example.com"))
        .with_user(TestUser::admin("gone@example.com").inactive())
        .with_app(
            TestApp::web("Jwt")
                .certificate(&cert.pem)
                .admin_approved(&["System Administrator"], &[]),
        );
    let key = org.app("Jwt").key;
    Setup { org, cert, key }
}

#[test]
fn sf_style_assertion_with_ms_exp_and_trailing_slash_audience() {
    let Setup { org, cert, key } = setup();
    let now = org.clock_now();
    // sf: exp = Date.now() + 300 (milliseconds), aud = the login URL as typed with a trailing slash.
    let jwt = assertion(
        &cert,
        &key,
        "boss@example.com",
        &format!("{}/", org.base),
        now + 300,
    );
    let resp = grant(&org, &jwt);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "scope", "instance_url", "id", "token_type"]
    );
    assert_eq!(s(&body, "scope"), "api web openid");
    let user = org.user("boss@example.com");
    assert!(s(&body, "id").ends_with(user.id.as_str()));
    // The token works on REST.
    let bearer = format!("Bearer {}", s(&body, "access_token"));
    let path = format!("/services/data/v51.0/sobjects/User/{}", user.id);
    assert_eq!(org.get(&path, &[("authorization", &bearer)]).status, 200);
}

#[test]
fn audiences_seconds_and_string_exp() {
    let Setup { org, cert, key } = setup();
    let now_s = org.clock_now() / 1000;
    for aud in [
        org.base.clone(),
        "https://login.salesforce.com".into(),
        "https://test.salesforce.com".into(),
    ] {
        let jwt = assertion(&cert, &key, "boss@example.com", &aud, now_s + 180);
        assert_eq!(grant(&org, &jwt).status, 200, "aud {aud}");
    }
    // exp as a string of seconds (simple-salesforce), built by hand.
    use base64::Engine as _;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let header = b64(br#"{"alg":"RS256"}"#);
    let claims = b64(
        serde_json::json!({"iss": key, "sub": "boss@example.com", "aud": "https://login.salesforce.com", "exp": (now_s + 180).to_string()})
            .to_string()
            .as_bytes(),
    );
    let input = format!("{header}.{claims}");
    let mut sig = vec![0u8; cert.key.public_modulus_len()];
    cert.key
        .sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
    let jwt = format!("{input}.{}", b64(&sig));
    assert_eq!(grant(&org, &jwt).status, 200);
    // Far future is fine.
    let jwt = assertion(
        &cert,
        &key,
        "boss@example.com",
        &org.base,
        i64::from(i32::MAX) * 1000,
    );
    assert_eq!(grant(&org, &jwt).status, 200);
}

#[test]
fn wrong_audience() {
    let Setup { org, cert, key } = setup();
    let jwt = assertion(
        &cert,
        &key,
        "boss@example.com",
        "https://evil.example.com",
        org.clock_now() + 60_000,
    );
    grant(&org, &jwt).assert_oauth_error(400, "invalid_grant", "audience is invalid");
    assert!(org.last_reason().contains("https://evil.example.com"));
}

#[test]
fn expired_assertion() {
    let Setup { org, cert, key } = setup();
    let jwt = assertion(
        &cert,
        &key,
        "boss@example.com",
        &org.base,
        org.clock_now() - 120_000,
    );
    grant(&org, &jwt).assert_oauth_error(400, "invalid_grant", "expired authorization code");
}

#[test]
fn signature_from_another_key() {
    let Setup { org, key, .. } = setup();
    let stranger = make_cert();
    let jwt = assertion(
        &stranger,
        &key,
        "boss@example.com",
        &org.base,
        org.clock_now() + 60_000,
    );
    grant(&org, &jwt).assert_oauth_error(400, "invalid_grant", "invalid assertion");
    assert!(
        org.last_reason()
            .contains("does not match the assertion's signing key")
    );
}

#[test]
fn unknown_issuer_and_app_without_certificate() {
    let Setup { org, cert, .. } = setup();
    let org = org.with_app(TestApp::web("NoCert"));
    let jwt = assertion(
        &cert,
        "3MVG9unknown",
        "boss@example.com",
        &org.base,
        org.clock_now() + 60_000,
    );
    grant(&org, &jwt).assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
    let no_cert = org.app("NoCert").key;
    let jwt = assertion(
        &cert,
        &no_cert,
        "boss@example.com",
        &org.base,
        org.clock_now() + 60_000,
    );
    grant(&org, &jwt).assert_oauth_error(400, "invalid_grant", "invalid assertion");
    assert!(org.last_reason().contains("no certificate"));
}

#[test]
fn users_not_pre_authorized_unknown_or_inactive() {
    let Setup { org, cert, key } = setup();
    let exp = org.clock_now() + 60_000;
    let jwt = assertion(&cert, &key, "std@example.com", &org.base, exp);
    grant(&org, &jwt).assert_oauth_error(
        400,
        "invalid_grant",
        "user hasn't approved this consumer",
    );
    assert!(org.last_reason().contains("Standard User"));
    let jwt = assertion(&cert, &key, "nobody@example.com", &org.base, exp);
    grant(&org, &jwt).assert_oauth_error(
        400,
        "invalid_grant",
        "user hasn't approved this consumer",
    );
    let jwt = assertion(&cert, &key, "gone@example.com", &org.base, exp);
    grant(&org, &jwt).assert_oauth_error(400, "inactive_user", "user is inactive");
}

#[test]
fn self_authorize_app_needs_a_prior_interactive_approval() {
    let cert = make_cert();
    let org = TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(TestApp::web("SelfJwt").certificate(&cert.pem));
    let key = org.app("SelfJwt").key;
    let jwt = || {
        assertion(
            &cert,
            &key,
            "std@example.com",
            &org.base,
            org.clock_now() + 60_000,
        )
    };
    grant(&org, &jwt()).assert_oauth_error(
        400,
        "invalid_grant",
        "user hasn't approved this consumer",
    );
    // Approve once in the browser, then JWT works.
    org.web_login("SelfJwt", "std@example.com");
    assert_eq!(grant(&org, &jwt()).status, 200);
}

#[test]
fn malformed_assertions_never_500() {
    let Setup { org, .. } = setup();
    org.token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", "")])
        .assert_oauth_error(400, "invalid_request", "invalid request");
    for bad in [
        "x",
        "a.b.c",
        "!!!.###.$$$",
        "eyJhbGciOiJub25lIn0.e30.",
        &"A".repeat(20_000),
    ] {
        org.token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", bad)])
            .assert_oauth_error(400, "invalid_grant", "invalid assertion");
    }
}

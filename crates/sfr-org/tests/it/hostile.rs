//! A table of hostile requests over real HTTP, each answered with Salesforce's exact wire error (status, `error`,
//! `error_description`): protocol misuse (RFC 6749, 7636, 7523, 9700), forged and malformed JWT assertions,
//! credential guessing, replay, scope widening, oversized input, rate limits and slow clients.
//!
//! Every case runs and all mismatches are reported together; the suite insists on at least 100 distinct cases.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::RsaKeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sfr_org::http::rate_limit::{Rate, RateLimits};
use sfr_wire::JWT_BEARER_GRANT;

use super::jwt::{Cert, make_cert};
use super::*;

const INVALID_REQUEST: (u16, &str, &str) = (400, "invalid_request", "invalid request");
const BAD_CLIENT: (u16, &str, &str) = (400, "invalid_client", "invalid client credentials");
const BAD_CLIENT_ID: (u16, &str, &str) = (400, "invalid_client_id", "client identifier invalid");
const BAD_CODE: (u16, &str, &str) = (400, "invalid_grant", "invalid authorization code");
const EXPIRED_CODE: (u16, &str, &str) = (400, "invalid_grant", "expired authorization code");
const BAD_VERIFIER: (u16, &str, &str) = (400, "invalid_grant", "invalid code verifier");
const REDIRECT_MISMATCH: (u16, &str, &str) = (
    400,
    "redirect_uri_mismatch",
    "redirect_uri must match configuration",
);
const EXPIRED_TOKEN: (u16, &str, &str) = (400, "invalid_grant", "expired access/refresh token");
const BAD_ASSERTION: (u16, &str, &str) = (400, "invalid_grant", "invalid assertion");
const BAD_AUDIENCE: (u16, &str, &str) = (400, "invalid_grant", "audience is invalid");
const NOT_APPROVED: (u16, &str, &str) =
    (400, "invalid_grant", "user hasn't approved this consumer");
const BAD_SCOPE: (u16, &str, &str) = (400, "invalid_scope", "the requested scope is not allowed");
const BAD_TOKEN: (u16, &str, &str) = (400, "invalid_token", "invalid token");
const UNSUPPORTED_GRANT: (u16, &str, &str) =
    (400, "unsupported_grant_type", "grant type not supported");
const TOO_LARGE: (u16, &str, &str) = (413, "invalid_request", "request too large");
const RATE_LIMITED: (u16, &str, &str) = (400, "rate_limit_exceeded", "number of logins exceeded");

/// Collected cases: (name, response, expected).
#[derive(Default)]
struct Table {
    cases: Vec<(String, Resp, (u16, &'static str, &'static str))>,
}

impl Table {
    fn case(
        &mut self,
        name: impl Into<String>,
        resp: Resp,
        expect: (u16, &'static str, &'static str),
    ) {
        self.cases.push((name.into(), resp, expect));
    }

    /// Asserts every case, reporting all mismatches at once; returns how many cases ran.
    fn check(self) -> usize {
        let mut names = std::collections::BTreeSet::new();
        let mut failures = Vec::new();
        let n = self.cases.len();
        for (name, resp, (status, error, description)) in self.cases {
            assert!(names.insert(name.clone()), "duplicate case name {name}");
            let body: serde_json::Value = serde_json::from_str(&resp.body).unwrap_or_default();
            let want = serde_json::json!({"error": error, "error_description": description});
            let json_type = resp
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"));
            if resp.status != status || body != want || !json_type {
                failures.push(format!(
                    "{name}: expected {status} {want}, got {} {}",
                    resp.status, resp.body
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {n} cases failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        n
    }
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

/// An RS256 JWT over arbitrary header and claims, signed by `key`.
fn rs256(header: &serde_json::Value, claims: &serde_json::Value, key: &RsaKeyPair) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// An HS256 JWT keyed with `secret` (the classic confusion: the public certificate used as an HMAC key).
fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(&serde_json::json!({"alg": "HS256", "typ": "JWT"})),
        b64(claims)
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

struct Fx {
    org: TestOrg,
    cert: Cert,
}

fn fixture() -> Fx {
    let cert = make_cert();
    let org = TestOrg::new()
        .with_user(TestUser::admin("boss@example.com"))
        .with_user(TestUser::standard("std@example.com"))
        .with_user(TestUser::admin("gone@example.com").inactive())
        .with_app(TestApp::web("Web"))
        .with_app(TestApp::web("Other"))
        .with_app(TestApp::web("Pkce").require_pkce())
        .with_app(TestApp::web("Narrow").scopes("api refresh_token"))
        .with_app(TestApp::web("Cc").scopes("api").run_as("boss@example.com"))
        .with_app(TestApp::web("NoRunAs").scopes("api"))
        .with_app(
            TestApp::web("Jwt")
                .certificate(&cert.pem)
                .admin_approved(&["System Administrator"], &[]),
        );
    Fx { org, cert }
}

#[test]
fn hostile_requests_get_exact_wire_errors() {
    let Fx { org, cert } = fixture();
    let mut t = Table::default();
    let web = org.app("Web");
    let other = org.app("Other");
    let cc = org.app("Cc");
    let jwt_app = org.app("Jwt");

    // ---- grant_type -------------------------------------------------------------------------------------------
    t.case(
        "grant_type missing",
        org.token(&[("client_id", &web.key)]),
        (400, "invalid_request", "grant type is missing"),
    );
    t.case(
        "grant_type empty",
        org.token(&[("grant_type", "")]),
        (400, "invalid_request", "grant type is missing"),
    );
    for g in [
        "device",
        "implicit",
        "AUTHORIZATION_CODE",
        "authorization_code ",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "refresh_token\0",
    ] {
        t.case(
            format!("grant_type {g:?}"),
            org.token(&[("grant_type", g)]),
            UNSUPPORTED_GRANT,
        );
    }
    t.case(
        "password grant is disabled",
        org.token(&[
            ("grant_type", "password"),
            ("username", "boss@example.com"),
            ("password", PASSWORD),
            ("client_id", &web.key),
            ("client_secret", &web.secret),
        ]),
        (400, "invalid_grant", "authentication failure"),
    );
    t.case(
        "authorization_code without code",
        org.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &web.key),
        ]),
        INVALID_REQUEST,
    );
    t.case(
        "refresh_token without token",
        org.token(&[("grant_type", "refresh_token"), ("client_id", &web.key)]),
        INVALID_REQUEST,
    );
    t.case(
        "jwt-bearer without assertion",
        org.token(&[("grant_type", JWT_BEARER_GRANT)]),
        INVALID_REQUEST,
    );

    // ---- client authentication (client_credentials) -------------------------------------------------------------
    let cc_with = |id: &str, secret: &str| {
        org.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
    };
    t.case(
        "cc unknown client_id",
        cc_with("3MVG9nosuchapp", &cc.secret),
        BAD_CLIENT_ID,
    );
    t.case(
        "cc client_id missing",
        org.token(&[
            ("grant_type", "client_credentials"),
            ("client_secret", &cc.secret),
        ]),
        BAD_CLIENT_ID,
    );
    t.case(
        "cc client_id with trailing space",
        cc_with(&format!("{} ", cc.key), &cc.secret),
        BAD_CLIENT_ID,
    );
    t.case(
        "cc client_id lower-cased",
        cc_with(&cc.key.to_lowercase(), &cc.secret),
        BAD_CLIENT_ID,
    );
    t.case(
        "cc client_id SQL injection",
        cc_with("' OR '1'='1", &cc.secret),
        BAD_CLIENT_ID,
    );
    t.case(
        "cc secret missing",
        org.token(&[("grant_type", "client_credentials"), ("client_id", &cc.key)]),
        BAD_CLIENT,
    );
    t.case("cc secret wrong", cc_with(&cc.key, "wrong"), BAD_CLIENT);
    t.case(
        "cc secret of another app",
        cc_with(&cc.key, &web.secret),
        BAD_CLIENT,
    );
    t.case(
        "cc secret with trailing space",
        cc_with(&cc.key, &format!("{} ", cc.secret)),
        BAD_CLIENT,
    );
    t.case(
        "cc secret truncated by one",
        cc_with(&cc.key, &cc.secret[..cc.secret.len() - 1]),
        BAD_CLIENT,
    );
    t.case(
        "cc secret with extra char",
        cc_with(&cc.key, &format!("{}0", cc.secret)),
        BAD_CLIENT,
    );
    t.case(
        "cc secret with its first character changed",
        cc_with(
            &cc.key,
            &format!(
                "{}{}",
                if cc.secret.starts_with('0') { '1' } else { '0' },
                &cc.secret[1..]
            ),
        ),
        BAD_CLIENT,
    );
    t.case("cc secret SQL wildcard", cc_with(&cc.key, "%"), BAD_CLIENT);
    let cc_basic = |header: &str| {
        org.post_form(
            "/services/oauth2/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", header)],
        )
    };
    t.case(
        "basic wrong secret",
        cc_basic(&basic(&cc.key, "nope")),
        BAD_CLIENT,
    );
    t.case(
        "basic unknown id",
        cc_basic(&basic("3MVG9nosuchapp", &cc.secret)),
        BAD_CLIENT_ID,
    );
    t.case("basic not base64", cc_basic("Basic %%%"), BAD_CLIENT);
    t.case(
        "basic without colon",
        cc_basic(&format!("Basic {}", STANDARD.encode(&cc.key))),
        BAD_CLIENT,
    );
    t.case(
        "basic not utf-8",
        cc_basic(&format!(
            "Basic {}",
            STANDARD.encode([0xc3, 0x28, b':', b'x'])
        )),
        BAD_CLIENT,
    );
    t.case(
        "basic empty secret",
        cc_basic(&basic(&cc.key, "")),
        BAD_CLIENT,
    );
    t.case(
        "basic wins over a right secret in the body",
        org.post_form(
            "/services/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &cc.key),
                ("client_secret", &cc.secret),
            ],
            &[("authorization", &basic(&cc.key, "wrong"))],
        ),
        BAD_CLIENT,
    );
    let norunas = org.app("NoRunAs");
    t.case(
        "cc without run-as user",
        cc_with(&norunas.key, &norunas.secret),
        (400, "invalid_grant", "no client credentials user enabled"),
    );
    t.case(
        "cc scope outside the app",
        org.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &cc.key),
            ("client_secret", &cc.secret),
            ("scope", "full"),
        ]),
        (400, "invalid_grant", "no valid scopes defined"),
    );

    // ---- authorization codes --------------------------------------------------------------------------------
    let exchange = |code: &str, app: &AppCreds, redirect: Option<&str>, verifier: Option<&str>| {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", app.key.as_str()),
            ("client_secret", app.secret.as_str()),
        ];
        if let Some(r) = redirect {
            pairs.push(("redirect_uri", r));
        }
        if let Some(v) = verifier {
            pairs.push(("code_verifier", v));
        }
        org.token(&pairs)
    };
    t.case(
        "code unknown",
        exchange("aPrxnotacode==", &web, Some(CALLBACK), None),
        BAD_CODE,
    );
    t.case(
        "code of 1 KiB",
        exchange(&"A".repeat(1024), &web, Some(CALLBACK), None),
        BAD_CODE,
    );
    t.case(
        "code with NUL",
        exchange("aPrx\0", &web, Some(CALLBACK), None),
        BAD_CODE,
    );
    let wrong_redirects = [
        ("trailing slash", format!("{CALLBACK}/")),
        ("upper-cased path", CALLBACK.to_uppercase()),
        ("extra query", format!("{CALLBACK}?x=1")),
        ("fragment", format!("{CALLBACK}#f")),
        ("other port", CALLBACK.replace("1717", "1718")),
        ("https instead of http", CALLBACK.replace("http:", "https:")),
        (
            "127.0.0.1 for localhost",
            CALLBACK.replace("localhost", "127.0.0.1"),
        ),
        (
            "userinfo trick",
            CALLBACK.replace("localhost", "localhost@evil.example"),
        ),
        (
            "percent-encoded path",
            CALLBACK.replace("OauthRedirect", "Oauth%52edirect"),
        ),
        ("prefix only", "http://localhost:1717/".to_owned()),
    ];
    for (what, uri) in &wrong_redirects {
        let (code, verifier) = org.code_for("Web", "boss@example.com");
        t.case(
            format!("code with redirect_uri {what}"),
            exchange(&code, &web, Some(uri), Some(&verifier)),
            REDIRECT_MISMATCH,
        );
    }
    let (code, verifier) = org.code_for("Web", "boss@example.com");
    t.case(
        "code without redirect_uri",
        exchange(&code, &web, None, Some(&verifier)),
        REDIRECT_MISMATCH,
    );
    let (code, verifier) = org.code_for("Web", "boss@example.com");
    t.case(
        "code redeemed by another client",
        exchange(&code, &other, Some(CALLBACK), Some(&verifier)),
        BAD_CODE,
    );
    t.case(
        "code after a failed attempt is spent",
        exchange(&code, &web, Some(CALLBACK), Some(&verifier)),
        BAD_CODE,
    );
    let (code, verifier) = org.code_for("Web", "boss@example.com");
    t.case(
        "code with another app's secret",
        org.token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &web.key),
            ("client_secret", &other.secret),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ]),
        BAD_CLIENT,
    );
    let (code, _) = org.code_for("Web", "boss@example.com");
    t.case(
        "code without verifier when a challenge was sent",
        exchange(&code, &web, Some(CALLBACK), None),
        BAD_VERIFIER,
    );
    let verifiers = [
        (
            "verifier of another session",
            pkce::verifier_from_bytes(&[8u8; pkce::SF_VERIFIER_BYTES]),
        ),
        (
            "verifier equal to the challenge",
            pkce::challenge_s256(&pkce::verifier_from_bytes(&[7u8; pkce::SF_VERIFIER_BYTES])),
        ),
        (
            "verifier truncated",
            pkce::verifier_from_bytes(&[7u8; pkce::SF_VERIFIER_BYTES])[..100].to_owned(),
        ),
        ("verifier too short", "abc".to_owned()),
        ("verifier too long", "a".repeat(200)),
        ("verifier with spaces", " ".repeat(50)),
    ];
    for (what, v) in &verifiers {
        let (code, _) = org.code_for("Web", "boss@example.com");
        t.case(
            format!("code with {what}"),
            exchange(&code, &web, Some(CALLBACK), Some(v)),
            BAD_VERIFIER,
        );
    }

    // Replay (RFC 6749 §4.1.2, RFC 9700 §4.5): the second use fails and kills what the first issued.
    let (code, verifier) = org.code_for("Web", "boss@example.com");
    let first = exchange(&code, &web, Some(CALLBACK), Some(&verifier));
    assert_eq!(first.status, 200, "{}", first.body);
    let issued = first.json();
    t.case(
        "code replayed",
        exchange(&code, &web, Some(CALLBACK), Some(&verifier)),
        BAD_CODE,
    );
    t.case(
        "refresh token from a replayed code is revoked",
        org.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&issued, "refresh_token")),
            ("client_id", &web.key),
            ("client_secret", &web.secret),
        ]),
        EXPIRED_TOKEN,
    );
    let intro = org.post_form(
        "/services/oauth2/introspect",
        &[
            ("token", &s(&issued, "access_token")),
            ("client_id", &web.key),
            ("client_secret", &web.secret),
        ],
        &[],
    );
    assert_eq!(
        intro.json()["active"],
        false,
        "access token of a replayed code still active: {}",
        intro.body
    );

    // ---- refresh tokens -----------------------------------------------------------------------------------
    let login = org.web_login("Web", "boss@example.com");
    let rt = s(&login, "refresh_token");
    let refresh = |pairs: &[(&str, &str)]| {
        let mut all = vec![("grant_type", "refresh_token")];
        all.extend_from_slice(pairs);
        org.token(&all)
    };
    t.case(
        "refresh unknown token",
        refresh(&[("refresh_token", "5Aep861nosuch"), ("client_id", &web.key)]),
        EXPIRED_TOKEN,
    );
    t.case(
        "refresh token of another client",
        refresh(&[
            ("refresh_token", &rt),
            ("client_id", &other.key),
            ("client_secret", &other.secret),
        ]),
        EXPIRED_TOKEN,
    );
    t.case(
        "refresh token used as access token value",
        refresh(&[
            ("refresh_token", &s(&login, "access_token")),
            ("client_id", &web.key),
        ]),
        EXPIRED_TOKEN,
    );
    t.case(
        "refresh without client_id",
        refresh(&[("refresh_token", &rt)]),
        BAD_CLIENT_ID,
    );
    t.case(
        "refresh with unknown client_id",
        refresh(&[("refresh_token", &rt), ("client_id", "3MVG9x")]),
        BAD_CLIENT_ID,
    );
    t.case(
        "refresh with wrong secret sent",
        refresh(&[
            ("refresh_token", &rt),
            ("client_id", &web.key),
            ("client_secret", "nope"),
        ]),
        BAD_CLIENT,
    );
    for scope in [
        "full",
        "api web full",
        "chatter_api",
        "api visualforce",
        "custom_permissions",
    ] {
        t.case(
            format!("refresh widening scope to {scope:?}"),
            refresh(&[
                ("refresh_token", &rt),
                ("client_id", &web.key),
                ("scope", scope),
            ]),
            BAD_SCOPE,
        );
    }
    let narrow_login = org.web_login("Narrow", "boss@example.com");
    let narrow = org.app("Narrow");
    t.case(
        "refresh widening a narrow grant to web",
        refresh(&[
            ("refresh_token", &s(&narrow_login, "refresh_token")),
            ("client_id", &narrow.key),
            ("scope", "api web"),
        ]),
        BAD_SCOPE,
    );
    t.case(
        "refresh with a made-up scope",
        refresh(&[
            ("refresh_token", &rt),
            ("client_id", &web.key),
            ("scope", "api root"),
        ]),
        BAD_SCOPE,
    );
    // Revoking the refresh token kills it and the access tokens it issued.
    let revoked_login = org.web_login("Web", "std@example.com");
    let revoke = org.post_form(
        "/services/oauth2/revoke",
        &[("token", &s(&revoked_login, "refresh_token"))],
        &[],
    );
    assert_eq!(revoke.status, 200, "{}", revoke.body);
    t.case(
        "refresh after revocation",
        refresh(&[
            ("refresh_token", &s(&revoked_login, "refresh_token")),
            ("client_id", &web.key),
        ]),
        EXPIRED_TOKEN,
    );
    let intro = org.post_form(
        "/services/oauth2/introspect",
        &[
            ("token", &s(&revoked_login, "access_token")),
            ("client_id", &web.key),
            ("client_secret", &web.secret),
        ],
        &[],
    );
    assert_eq!(
        intro.json()["active"],
        false,
        "access token survived refresh revocation: {}",
        intro.body
    );
    t.case(
        "revoke the same token twice",
        org.post_form(
            "/services/oauth2/revoke",
            &[("token", &s(&revoked_login, "refresh_token"))],
            &[],
        ),
        BAD_TOKEN,
    );

    // ---- revoke and introspect --------------------------------------------------------------------------
    t.case(
        "revoke without token",
        org.post_form("/services/oauth2/revoke", &[], &[]),
        BAD_TOKEN,
    );
    t.case(
        "revoke unknown token",
        org.post_form("/services/oauth2/revoke", &[("token", "00Dxx!nosuch")], &[]),
        BAD_TOKEN,
    );
    t.case(
        "revoke 4 KiB garbage",
        org.post_form(
            "/services/oauth2/revoke",
            &[("token", &"z".repeat(4096))],
            &[],
        ),
        BAD_TOKEN,
    );
    t.case(
        "introspect without client",
        org.post_form("/services/oauth2/introspect", &[("token", "x")], &[]),
        BAD_CLIENT_ID,
    );
    t.case(
        "introspect with wrong secret",
        org.post_form(
            "/services/oauth2/introspect",
            &[
                ("token", "x"),
                ("client_id", &web.key),
                ("client_secret", "no"),
            ],
            &[],
        ),
        BAD_CLIENT,
    );
    t.case(
        "introspect with unknown client",
        org.post_form(
            "/services/oauth2/introspect",
            &[
                ("token", "x"),
                ("client_id", "3MVG9none"),
                ("client_secret", "no"),
            ],
            &[],
        ),
        BAD_CLIENT_ID,
    );

    // ---- JWT bearer (RFC 7523) --------------------------------------------------------------------------
    let now_s = org.clock_now() / 1000;
    let aud = org.base.clone();
    let claims = |iss: &str, sub: &str, aud: &str, exp: i64| serde_json::json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp});
    let good = claims(&jwt_app.key, "boss@example.com", &aud, now_s + 300);
    let rs = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let grant =
        |assertion: &str| org.token(&[("grant_type", JWT_BEARER_GRANT), ("assertion", assertion)]);
    let sanity = grant(&rs256(&rs, &good, &cert.key));
    assert_eq!(
        sanity.status, 200,
        "the well-formed assertion must pass: {}",
        sanity.body
    );

    let unsigned = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none"})),
        b64(&good)
    );
    t.case(
        "jwt alg none, empty signature",
        grant(&unsigned),
        BAD_ASSERTION,
    );
    let none_sig = format!(
        "{}.{}.AAAA",
        b64(&serde_json::json!({"alg": "none"})),
        b64(&good)
    );
    t.case(
        "jwt alg none with a signature",
        grant(&none_sig),
        BAD_ASSERTION,
    );
    let none_upper = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "NONE"})),
        b64(&good)
    );
    t.case("jwt alg NONE", grant(&none_upper), BAD_ASSERTION);
    t.case(
        "jwt HS256 keyed with the certificate PEM",
        grant(&hs256(&good, cert.pem.as_bytes())),
        BAD_ASSERTION,
    );
    t.case(
        "jwt HS256 keyed with the consumer key",
        grant(&hs256(&good, jwt_app.key.as_bytes())),
        BAD_ASSERTION,
    );
    t.case(
        "jwt HS256 keyed with the consumer secret",
        grant(&hs256(&good, jwt_app.secret.as_bytes())),
        BAD_ASSERTION,
    );
    for alg in ["RS512", "PS256", "ES256", "rs256", "RS256 ", ""] {
        let header = serde_json::json!({"alg": alg});
        t.case(
            format!("jwt alg {alg:?}"),
            grant(&rs256(&header, &good, &cert.key)),
            BAD_ASSERTION,
        );
    }
    t.case(
        "jwt header without alg",
        grant(&rs256(&serde_json::json!({"typ": "JWT"}), &good, &cert.key)),
        BAD_ASSERTION,
    );
    t.case(
        "jwt alg as a number",
        grant(&rs256(&serde_json::json!({"alg": 256}), &good, &cert.key)),
        BAD_ASSERTION,
    );
    let stranger = make_cert();
    t.case(
        "jwt signed by a key that is not the certificate's",
        grant(&rs256(&rs, &good, &stranger.key)),
        BAD_ASSERTION,
    );
    let signed = rs256(&rs, &good, &cert.key);
    let (head_body, sig) = signed.rsplit_once('.').expect("three parts");
    let mut flipped = URL_SAFE_NO_PAD.decode(sig).expect("sig");
    flipped[10] ^= 1;
    t.case(
        "jwt signature with one bit flipped",
        grant(&format!("{head_body}.{}", URL_SAFE_NO_PAD.encode(&flipped))),
        BAD_ASSERTION,
    );
    let swapped = claims(&jwt_app.key, "std@example.com", &aud, now_s + 300);
    let (_, sig_of_good) = signed.rsplit_once('.').expect("parts");
    t.case(
        "jwt claims swapped under a valid signature",
        grant(&format!("{}.{}.{sig_of_good}", b64(&rs), b64(&swapped))),
        BAD_ASSERTION,
    );
    t.case(
        "jwt signature truncated",
        grant(&signed[..signed.len() - 10]),
        BAD_ASSERTION,
    );
    t.case("jwt two parts", grant(head_body), BAD_ASSERTION);
    t.case(
        "jwt four parts",
        grant(&format!("{signed}.AAAA")),
        BAD_ASSERTION,
    );
    t.case("jwt one word", grant("eyJhbGciOiJSUzI1NiJ9"), BAD_ASSERTION);
    t.case(
        "jwt header not base64",
        grant(&format!("!!!.{}.{sig}", b64(&good))),
        BAD_ASSERTION,
    );
    t.case(
        "jwt header not JSON",
        grant(&format!(
            "{}.{}.{sig}",
            URL_SAFE_NO_PAD.encode("RS256"),
            b64(&good)
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt claims an array",
        grant(&rs256(&rs, &serde_json::json!([good.clone()]), &cert.key)),
        BAD_ASSERTION,
    );
    t.case(
        "jwt empty signature",
        grant(&format!("{head_body}.")),
        BAD_ASSERTION,
    );
    let huge = rs256(
        &rs,
        &serde_json::json!({"iss": jwt_app.key, "sub": "boss@example.com", "aud": aud, "exp": now_s + 300, "pad": "x".repeat(20_000)}),
        &cert.key,
    );
    t.case("jwt longer than 16 KiB", grant(&huge), BAD_ASSERTION);
    t.case(
        "jwt iss missing",
        grant(&rs256(
            &rs,
            &serde_json::json!({"sub": "boss@example.com", "aud": aud, "exp": now_s + 300}),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt sub missing",
        grant(&rs256(
            &rs,
            &serde_json::json!({"iss": jwt_app.key, "aud": aud, "exp": now_s + 300}),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt aud missing",
        grant(&rs256(
            &rs,
            &serde_json::json!({"iss": jwt_app.key, "sub": "boss@example.com", "exp": now_s + 300}),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt exp missing",
        grant(&rs256(
            &rs,
            &serde_json::json!({"iss": jwt_app.key, "sub": "boss@example.com", "aud": aud}),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt exp not a date",
        grant(&rs256(
            &rs,
            &claims(&jwt_app.key, "boss@example.com", &aud, 0)
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("exp".into(), "soon".into());
                    serde_json::Value::Object(o)
                })
                .expect("object"),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt iss empty",
        grant(&rs256(
            &rs,
            &claims("", "boss@example.com", &aud, now_s + 300),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    t.case(
        "jwt iss unknown",
        grant(&rs256(
            &rs,
            &claims("3MVG9nosuchapp", "boss@example.com", &aud, now_s + 300),
            &cert.key,
        )),
        BAD_CLIENT_ID,
    );
    t.case(
        "jwt iss of an app without certificate",
        grant(&rs256(
            &rs,
            &claims(&web.key, "boss@example.com", &aud, now_s + 300),
            &cert.key,
        )),
        BAD_ASSERTION,
    );
    for (what, bad_aud) in [
        ("another site", "https://evil.example".to_owned()),
        (
            "a suffix trick",
            "https://login.salesforce.com.evil.example".to_owned(),
        ),
        ("http for https host", aud.replace("http://", "https://")),
        ("another port", format!("{aud}0")),
        ("a path", format!("{aud}/services/oauth2/token")),
        ("empty", String::new()),
    ] {
        t.case(
            format!("jwt aud {what}"),
            grant(&rs256(
                &rs,
                &claims(&jwt_app.key, "boss@example.com", &bad_aud, now_s + 300),
                &cert.key,
            )),
            BAD_AUDIENCE,
        );
    }
    t.case(
        "jwt aud list without this org",
        grant(&rs256(&rs, &serde_json::json!({"iss": jwt_app.key, "sub": "boss@example.com", "aud": ["https://a.example", "https://b.example"], "exp": now_s + 300}), &cert.key)),
        BAD_AUDIENCE,
    );
    for (what, exp) in [
        ("a minute ago", now_s - 60),
        ("an hour ago", now_s - 3600),
        ("at the epoch", 1),
    ] {
        t.case(
            format!("jwt exp {what}"),
            grant(&rs256(
                &rs,
                &claims(&jwt_app.key, "boss@example.com", &aud, exp),
                &cert.key,
            )),
            EXPIRED_CODE,
        );
    }
    t.case(
        "jwt sub unknown",
        grant(&rs256(
            &rs,
            &claims(&jwt_app.key, "nobody@example.com", &aud, now_s + 300),
            &cert.key,
        )),
        NOT_APPROVED,
    );
    t.case(
        "jwt sub not pre-authorized",
        grant(&rs256(
            &rs,
            &claims(&jwt_app.key, "std@example.com", &aud, now_s + 300),
            &cert.key,
        )),
        NOT_APPROVED,
    );
    t.case(
        "jwt sub inactive",
        grant(&rs256(
            &rs,
            &claims(&jwt_app.key, "gone@example.com", &aud, now_s + 300),
            &cert.key,
        )),
        (400, "inactive_user", "user is inactive"),
    );

    // ---- PKCE required -----------------------------------------------------------------------------------
    // An app that requires PKCE refuses an authorize request without a challenge, back at the callback.
    let pkce_app = org.app("Pkce");
    let mut b = org.browser();
    let page = b.authorize(&[
        ("response_type", "code"),
        ("client_id", &pkce_app.key),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
    ]);
    let page = if page.status == 200 && page.body.contains("name=\"password\"") {
        b.login(&page, "boss@example.com", PASSWORD)
    } else {
        page
    };
    assert_eq!(page.status, 302, "{}", page.body);
    let q = page.location_query();
    assert_eq!(
        (
            q.get("error").map(String::as_str),
            q.get("error_description").map(String::as_str)
        ),
        (
            Some("invalid_request"),
            Some("missing required code challenge")
        ),
        "PKCE-required app without a challenge: {q:?}"
    );

    // ---- size limits -------------------------------------------------------------------------------------
    t.case(
        "body of 100 KB",
        org.post_raw(
            "/services/oauth2/token",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&x={}", "a".repeat(100_000)).as_bytes(),
            &[],
        ),
        TOO_LARGE,
    );
    t.case(
        "chunked body of 100 KB",
        org.post_chunked(
            "/services/oauth2/token",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&x={}", "a".repeat(100_000)).as_bytes(),
        ),
        TOO_LARGE,
    );
    t.case(
        "multipart body of 100 KB",
        org.post_raw(
            "/services/oauth2/token",
            "multipart/form-data; boundary=XX",
            format!(
                "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n{}\r\n--XX--\r\n",
                "a".repeat(100_000)
            )
            .as_bytes(),
            &[],
        ),
        TOO_LARGE,
    );
    t.case(
        "revoke body of 100 KB",
        org.post_raw(
            "/services/oauth2/revoke",
            "application/x-www-form-urlencoded",
            format!("token={}", "a".repeat(100_000)).as_bytes(),
            &[],
        ),
        TOO_LARGE,
    );
    t.case(
        "introspect body of 100 KB",
        org.post_raw(
            "/services/oauth2/introspect",
            "application/x-www-form-urlencoded",
            format!("token={}", "a".repeat(100_000)).as_bytes(),
            &[],
        ),
        TOO_LARGE,
    );
    let long = "h".repeat(40_000);
    t.case(
        "header of 40 KB",
        org.post_form(
            "/services/oauth2/token",
            &[("grant_type", "client_credentials")],
            &[("x-filler", &long)],
        ),
        (431, "invalid_request", "request too large"),
    );
    let many: Vec<(String, String)> = (0..40)
        .map(|i| (format!("x-h{i}"), "v".repeat(1000)))
        .collect();
    let many_refs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    t.case(
        "40 headers of 1 KB",
        org.post_form(
            "/services/oauth2/token",
            &[("grant_type", "client_credentials")],
            &many_refs,
        ),
        (431, "invalid_request", "request too large"),
    );
    t.case(
        "query string of 40 KB",
        org.post_form(
            &format!("/services/oauth2/token?x={}", "q".repeat(40_000)),
            &[("grant_type", "client_credentials")],
            &[],
        ),
        (431, "invalid_request", "request too large"),
    );
    t.case(
        "10 000 empty form fields",
        org.post_raw(
            "/services/oauth2/token",
            "application/x-www-form-urlencoded",
            "&".repeat(10_000).as_bytes(),
            &[],
        ),
        (400, "invalid_request", "grant type is missing"),
    );

    // ---- methods and garbage bodies ------------------------------------------------------------------------
    let get_token = org.get("/services/oauth2/token", &[]);
    t.case(
        "GET on the token endpoint",
        get_token,
        (405, "invalid_request", "invalid request"),
    );
    t.case(
        "JSON body instead of a form",
        org.post_raw(
            "/services/oauth2/token",
            "application/json",
            br#"{"grant_type":"client_credentials"}"#,
            &[],
        ),
        (400, "invalid_request", "grant type is missing"),
    );
    t.case(
        "broken multipart",
        org.post_raw(
            "/services/oauth2/token",
            "multipart/form-data; boundary=zz",
            b"--zz\r\nnot a header\r\n",
            &[],
        ),
        INVALID_REQUEST,
    );
    t.case(
        "invalid percent escapes",
        org.post_raw(
            "/services/oauth2/token",
            "application/x-www-form-urlencoded",
            b"grant_type=%zz%",
            &[],
        ),
        UNSUPPORTED_GRANT,
    );

    let n = t.check();
    assert!(n >= 100, "only {n} hostile cases");
}

/// An unknown `redirect_uri` is never redirected to (RFC 6749 §3.1.2.4, RFC 9700 §4.1): an error page instead.
#[test]
fn unknown_redirect_uris_get_a_page_never_a_redirect() {
    let org = TestOrg::new()
        .with_user(TestUser::admin("boss@example.com"))
        .with_app(TestApp::web("Web"));
    let web = org.app("Web");
    for uri in [
        "https://evil.example/cb",
        "http://localhost:1717/OauthRedirect/../evil",
        "http://localhost:1717/OauthRedirect/",
        "http://localhost:17170/OauthRedirect",
        "javascript:alert(1)",
        "//evil.example/OauthRedirect",
    ] {
        let resp = org.get(
            &format!(
                "/services/oauth2/authorize?{}",
                sfr_wire::encoding::stringify([
                    ("response_type", "code"),
                    ("client_id", web.key.as_str()),
                    ("redirect_uri", uri)
                ])
            ),
            &[],
        );
        assert_eq!(resp.status, 400, "{uri}: {}", resp.body);
        assert!(resp.header("location").is_none(), "{uri} redirected to");
        assert!(
            resp.body.contains("redirect_uri_mismatch")
                || resp.body.contains("redirect_uri must match configuration"),
            "{uri}: {}",
            resp.body
        );
    }
}

/// Starts a server with the given limits (and a short header timeout) on a fresh database.
fn limited_server(
    limits: RateLimits,
    header_timeout: Duration,
) -> (
    tokio::runtime::Runtime,
    sfr_org::server::RunningServer,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = ServeConfig::for_tests(DatabaseUrl::Sqlite(dir.path().join("org.sqlite")));
    config.rate_limits = limits;
    config.header_read_timeout = header_timeout;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let server = rt.block_on(RunningServer::start(config)).expect("start");
    (rt, server, dir)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn post_token(agent: &ureq::Agent, base: &str, body: &str, auth: Option<&str>) -> Resp {
    let mut req = agent
        .post(&format!("{base}/services/oauth2/token"))
        .content_type("application/x-www-form-urlencoded");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    Resp::from(req.send(body.as_bytes()))
}

#[test]
fn the_token_endpoint_is_rate_limited_per_client_and_per_address() {
    let off = Rate {
        burst: 0,
        per_minute: 0,
    };
    // Per client: 5 requests, no refill; the client is recognised in the body, in Basic and in a JWT's iss.
    let (_rt, server, _dir) = limited_server(
        RateLimits {
            per_address: off,
            per_client: Rate {
                burst: 5,
                per_minute: 0,
            },
        },
        Duration::from_secs(20),
    );
    let agent = agent();
    let base = server.base_url.clone();
    for i in 0..5 {
        post_token(
            &agent,
            &base,
            "grant_type=client_credentials&client_id=3MVG9one&client_secret=x",
            None,
        )
        .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
        let _ = i;
    }
    let mut t = Table::default();
    t.case(
        "6th request of one client_id",
        post_token(
            &agent,
            &base,
            "grant_type=client_credentials&client_id=3MVG9one&client_secret=x",
            None,
        ),
        RATE_LIMITED,
    );
    t.case(
        "same client through Basic",
        post_token(
            &agent,
            &base,
            "grant_type=client_credentials",
            Some(&basic("3MVG9one", "x")),
        ),
        RATE_LIMITED,
    );
    t.case(
        "same client in the query string",
        Resp::from(
            agent
                .post(&format!("{base}/services/oauth2/token?client_id=3MVG9one"))
                .content_type("application/x-www-form-urlencoded")
                .send(&b"grant_type=client_credentials"[..]),
        ),
        RATE_LIMITED,
    );
    t.case(
        "same client in a multipart body",
        Resp::from(
            agent
                .post(&format!("{base}/services/oauth2/token"))
                .content_type("multipart/form-data; boundary=B")
                .send(
                    &b"--B\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n\
                       --B\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n3MVG9one\r\n--B--\r\n"[..],
                ),
        ),
        RATE_LIMITED,
    );
    let jwt = format!(
        "{}.{}.AAAA",
        b64(&serde_json::json!({"alg": "RS256"})),
        b64(&serde_json::json!({"iss": "3MVG9one", "sub": "u", "aud": "a", "exp": 1}))
    );
    t.case(
        "same client as a JWT iss",
        post_token(
            &agent,
            &base,
            &format!("grant_type={JWT_BEARER_GRANT}&assertion={jwt}"),
            None,
        ),
        RATE_LIMITED,
    );
    t.check();
    // Another client is not affected.
    post_token(
        &agent,
        &base,
        "grant_type=client_credentials&client_id=3MVG9two&client_secret=x",
        None,
    )
    .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
    // Other endpoints are not limited.
    let resp = Resp::from(
        agent
            .get(&format!("{base}/.well-known/openid-configuration"))
            .call(),
    );
    assert_eq!(resp.status, 200);

    // Per address: 3 requests from 127.0.0.1 whatever the client, no refill.
    let (_rt2, server2, _dir2) = limited_server(
        RateLimits {
            per_address: Rate {
                burst: 3,
                per_minute: 0,
            },
            per_client: off,
        },
        Duration::from_secs(20),
    );
    let base2 = server2.base_url.clone();
    for i in 0..3 {
        post_token(
            &agent,
            &base2,
            &format!("grant_type=client_credentials&client_id=c{i}"),
            None,
        )
        .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
    }
    post_token(
        &agent,
        &base2,
        "grant_type=client_credentials&client_id=fresh",
        None,
    )
    .assert_oauth_error(400, "rate_limit_exceeded", "number of logins exceeded");
    post_token(&agent, &base2, "", None).assert_oauth_error(
        400,
        "rate_limit_exceeded",
        "number of logins exceeded",
    );
}

#[test]
fn rate_limits_refill() {
    let (_rt, server, _dir) = limited_server(
        RateLimits {
            per_address: Rate {
                burst: 1,
                per_minute: 600,
            },
            per_client: Rate {
                burst: 0,
                per_minute: 0,
            },
        },
        Duration::from_secs(20),
    );
    let agent = agent();
    let body = "grant_type=client_credentials&client_id=x";
    post_token(&agent, &server.base_url, body, None).assert_oauth_error(
        400,
        "invalid_client_id",
        "client identifier invalid",
    );
    post_token(&agent, &server.base_url, body, None).assert_oauth_error(
        400,
        "rate_limit_exceeded",
        "number of logins exceeded",
    );
    std::thread::sleep(Duration::from_millis(250));
    post_token(&agent, &server.base_url, body, None).assert_oauth_error(
        400,
        "invalid_client_id",
        "client identifier invalid",
    );
}

#[test]
fn a_client_that_trickles_its_request_head_is_cut_off() {
    let (_rt, server, _dir) = limited_server(RateLimits::default(), Duration::from_millis(800));
    let addr = server.local_addrs[0];
    let mut slow = TcpStream::connect(addr).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    slow.write_all(b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    // Never finish the head; the server must close the connection soon after the timeout.
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(700),
        "closed too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(5),
        "slow client kept for {waited:?}"
    );
    // A prompt client on another connection is served meanwhile and after.
    let resp = Resp::from(
        agent()
            .get(&format!(
                "{}/.well-known/openid-configuration",
                server.base_url
            ))
            .call(),
    );
    assert_eq!(resp.status, 200);
}

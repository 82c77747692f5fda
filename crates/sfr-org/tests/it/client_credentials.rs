//! The client-credentials grant.

use base64::Engine as _;

use super::*;

fn org() -> TestOrg {
    TestOrg::new()
        .with_user(TestUser::admin("runner@example.com"))
        .with_app(
            TestApp::web("Svc")
                .scopes("api full refresh_token")
                .run_as("runner@example.com"),
        )
        .with_app(TestApp::web("NoRunAs"))
        .with_app(
            TestApp::web("OnlyFull")
                .scopes("full refresh_token")
                .run_as("runner@example.com"),
        )
}

fn basic(key: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

#[test]
fn basic_auth_only_like_simple_salesforce() {
    let org = org();
    let app = org.app("Svc");
    let auth = basic(&app.key, &app.secret);
    let resp = org.post_form(
        "/services/oauth2/token",
        &[("grant_type", "client_credentials")],
        &[("authorization", &auth)],
    );
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
        [
            "access_token",
            "signature",
            "scope",
            "instance_url",
            "id",
            "token_type",
            "issued_at",
            "api_instance_url"
        ]
    );
    assert_eq!(s(&body, "scope"), "api");
    let runner = org.user("runner@example.com");
    assert!(s(&body, "id").ends_with(runner.id.as_str()));
    let parsed: sfr_wire::TokenResponse = serde_json::from_value(body).unwrap();
    assert!(parsed.signature_is_valid(&app.secret));
}

#[test]
fn body_credentials_and_errors() {
    let org = org();
    let app = org.app("Svc");
    assert_eq!(
        org.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.key),
            ("client_secret", &app.secret)
        ])
        .status,
        200
    );
    org.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", &app.key),
    ])
    .assert_oauth_error(400, "invalid_client", "invalid client credentials");
    org.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", &app.key),
        ("client_secret", "x"),
    ])
    .assert_oauth_error(400, "invalid_client", "invalid client credentials");
    let none = org.app("NoRunAs");
    org.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", &none.key),
        ("client_secret", &none.secret),
    ])
    .assert_oauth_error(400, "invalid_grant", "no client credentials user enabled");
    let full = org.app("OnlyFull");
    org.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", &full.key),
        ("client_secret", &full.secret),
    ])
    .assert_oauth_error(400, "invalid_grant", "no valid scopes defined");
    org.token(&[("grant_type", "client_credentials")])
        .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
}

#[test]
fn bad_basic_headers_are_client_errors() {
    let org = org();
    let cases = [
        ("Basic !!!", "invalid_client", "invalid client credentials"),
        (
            "Basic bm9jb2xvbg==",
            "invalid_client",
            "invalid client credentials",
        ),
        ("Basic //79", "invalid_client", "invalid client credentials"),
        ("Basic", "invalid_client_id", "client identifier invalid"),
    ];
    for (header, error, description) in cases {
        org.post_form(
            "/services/oauth2/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", header)],
        )
        .assert_oauth_error(400, error, description);
    }
}

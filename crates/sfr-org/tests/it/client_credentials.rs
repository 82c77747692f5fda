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

/// A grant stores its session and its login-history row together (on PostgreSQL in one statement): the token
/// works and the history names the app's client and the run-as user.
#[test]
fn a_grant_stores_its_session_and_its_login_history_row() {
    let org = org();
    let app = org.app("Svc");
    let before = org.events().len();
    let resp = org.token(&[
        ("grant_type", "client_credentials"),
        ("client_id", &app.key),
        ("client_secret", &app.secret),
    ]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let token = s(&resp.json(), "access_token");
    let info = org.get(
        "/services/oauth2/userinfo",
        &[("authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["preferred_username"], "runner@example.com");
    let events = org.events();
    assert_eq!(events.len(), before + 1);
    let e = &events[0];
    assert!(e.success, "{e:?}");
    assert_eq!(e.consumer_key.as_deref(), Some(app.key.as_str()));
    assert_eq!(e.username.as_deref(), Some("runner@example.com"));
    assert_eq!(e.user_id, Some(org.user("runner@example.com").id));
}

/// The server decides a grant on facts kept in memory and confirms them with the grant's write, or with a read
/// before a refusal: a change made meanwhile through any other connection to the database (an admin command,
/// another node) decides the very next grant, both ways, and each request leaves one login-history row.
#[test]
fn the_next_grant_follows_a_change_made_meanwhile() {
    let org = org();
    let app = org.app("Svc");
    let grant = || {
        org.post_form(
            "/services/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app.key),
                ("client_secret", &app.secret),
            ],
            &[],
        )
    };
    let events = || org.store().events(1_000).unwrap();
    assert_eq!(grant().status, 200);
    assert_eq!(grant().status, 200, "now from the cache");
    let runner = org.user("runner@example.com");
    let other = org.another_store();
    other
        .set_user_active(&runner.id, false, org.clock_now())
        .unwrap();
    let before = events().len();
    grant().assert_oauth_error(400, "inactive_user", "user is inactive");
    let after = events();
    assert_eq!(after.len(), before + 1, "one row for the request");
    assert!(!after[0].success);
    other
        .set_user_active(&runner.id, true, org.clock_now())
        .unwrap();
    let resp = grant();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let after = events();
    assert_eq!(after.len(), before + 2, "one row for the request");
    assert!(after[0].success);
}

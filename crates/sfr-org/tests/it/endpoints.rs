//! revoke, introspect, userinfo, the identity URL, discovery and /id/keys.

use base64::Engine as _;

use super::*;

fn org() -> TestOrg {
    TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(TestApp::web("Demo"))
        .with_app(TestApp::web("Other"))
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

#[test]
fn revoking_a_refresh_token_takes_its_sessions() {
    let org = org();
    let t = org.web_login("Demo", "std@example.com");
    let (access, refresh) = (s(&t, "access_token"), s(&t, "refresh_token"));
    let resp = org.post_form("/services/oauth2/revoke", &[("token", &refresh)], &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, "");
    assert_eq!(
        org.get(
            "/services/oauth2/userinfo",
            &[("authorization", &bearer(&access))]
        )
        .status,
        401
    );
    // Revoked already: invalid_token.
    org.post_form("/services/oauth2/revoke", &[("token", &refresh)], &[])
        .assert_oauth_error(400, "invalid_token", "invalid token");
    assert!(org.last_reason().contains("unknown or already revoked"));
}

#[test]
fn revoking_an_access_token_by_get_keeps_the_refresh_token() {
    let org = org();
    let app = org.app("Demo");
    let t = org.web_login("Demo", "std@example.com");
    let access = s(&t, "access_token");
    let q = sfr_wire::encoding::stringify([("token", access.as_str())]);
    assert_eq!(
        org.get(&format!("/services/oauth2/revoke?{q}"), &[]).status,
        200
    );
    assert_eq!(
        org.get(
            "/services/oauth2/userinfo",
            &[("authorization", &bearer(&access))]
        )
        .status,
        401
    );
    let r = org.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &s(&t, "refresh_token")),
        ("client_id", &app.key),
    ]);
    assert_eq!(r.status, 200);
    org.post_form("/services/oauth2/revoke", &[], &[])
        .assert_oauth_error(400, "invalid_token", "invalid token");
}

#[test]
fn introspect_own_tokens_only() {
    let org = org();
    let app = org.app("Demo");
    let other = org.app("Other");
    let user = org.user("std@example.com");
    let t = org.web_login("Demo", "std@example.com");
    let access = s(&t, "access_token");
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", app.key, app.secret))
    );
    let resp = org.post_form(
        "/services/oauth2/introspect",
        &[("token", &access)],
        &[("authorization", &auth)],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], app.key.as_str());
    assert_eq!(body["username"], "std@example.com");
    assert_eq!(body["token_type"], "access_token");
    assert_eq!(body["scope"], "api web refresh_token openid");
    assert!(s(&body, "sub").ends_with(user.id.as_str()));
    assert!(body["exp"].as_i64().unwrap() > body["iat"].as_i64().unwrap());
    let refresh = s(&t, "refresh_token");
    let resp = org.post_form(
        "/services/oauth2/introspect",
        &[
            ("token", &refresh),
            ("client_id", &app.key),
            ("client_secret", &app.secret),
        ],
        &[],
    );
    assert_eq!(resp.json()["token_type"], "refresh_token");
    // Another app sees nothing.
    let resp = org.post_form(
        "/services/oauth2/introspect",
        &[
            ("token", &access),
            ("client_id", &other.key),
            ("client_secret", &other.secret),
        ],
        &[],
    );
    assert_eq!(resp.json(), serde_json::json!({"active": false}));
    // Garbage token: inactive, 200.
    let resp = org.post_form(
        "/services/oauth2/introspect",
        &[("token", "nope")],
        &[("authorization", &auth)],
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), serde_json::json!({"active": false}));
    assert_eq!(
        introspections(&org),
        [
            (app.key.clone(), "token inactive"),
            (other.key.clone(), "token inactive"),
            (app.key.clone(), "token active"),
            (app.key.clone(), "token active"),
        ]
    );
    // Bad client auth: an error.
    org.post_form(
        "/services/oauth2/introspect",
        &[
            ("token", &access),
            ("client_id", &app.key),
            ("client_secret", "x"),
        ],
        &[],
    )
    .assert_oauth_error(400, "invalid_client", "invalid client credentials");
}

/// The login-history rows of introspections, newest first: the calling app and the reason.
fn introspections(org: &TestOrg) -> Vec<(String, &'static str)> {
    org.events()
        .into_iter()
        .filter(|e| e.kind == sfr_org::model::LoginKind::Introspect)
        .map(|e| {
            let reason = match e.reason.as_str() {
                "token active" => "token active",
                "token inactive" => "token inactive",
                other => panic!("unexpected introspection reason {other:?}"),
            };
            (e.consumer_key.unwrap_or_default(), reason)
        })
        .collect()
}

/// "Introspect All Tokens": a resource server's app learns about the tokens other apps issued, each described
/// as its own app's (client id, refresh policy); an app without the policy still sees only its own.
#[test]
fn introspect_all_tokens_describes_other_apps_tokens() {
    let org = org()
        .with_app(TestApp::web("Gateway").introspect_all_tokens())
        .with_app(TestApp::web("Expiring").refresh_policy("expire-after:1h"));
    let (demo, gateway, other) = (org.app("Demo"), org.app("Gateway"), org.app("Other"));
    let introspect = |token: &str, app: &AppCreds| {
        org.post_form(
            "/services/oauth2/introspect",
            &[
                ("token", token),
                ("client_id", &app.key),
                ("client_secret", &app.secret),
            ],
            &[],
        )
        .json()
    };
    let t = org.web_login("Demo", "std@example.com");
    let (access, refresh) = (s(&t, "access_token"), s(&t, "refresh_token"));
    for (token, kind) in [(&access, "access_token"), (&refresh, "refresh_token")] {
        let body = introspect(token, &gateway);
        assert_eq!(body["active"], true, "{kind}: {body}");
        assert_eq!(body["token_type"], kind);
        assert_eq!(body["client_id"], demo.key.as_str(), "the token's own app");
        assert_eq!(body["username"], "std@example.com");
        assert_eq!(
            introspect(token, &other),
            serde_json::json!({"active": false})
        );
    }
    // Each call recorded once, whichever way it was read (an access token's answer is recorded in its read
    // when the caller's own or not its to see; another app's token seen through the setting, or a refresh
    // token, apart).
    assert_eq!(
        introspections(&org),
        [
            (other.key.clone(), "token inactive"),
            (gateway.key.clone(), "token active"),
            (other.key.clone(), "token inactive"),
            (gateway.key.clone(), "token active"),
        ]
    );
    // Demo's refresh tokens live until revoked: no expiry. Expiring's carry its one hour, not Gateway's policy.
    assert!(introspect(&refresh, &gateway).get("exp").is_none());
    let e = org.web_login("Expiring", "std@example.com");
    let body = introspect(&s(&e, "refresh_token"), &gateway);
    assert_eq!(body["client_id"], org.app("Expiring").key.as_str());
    assert_eq!(
        body["exp"].as_i64().unwrap() - body["iat"].as_i64().unwrap(),
        3600
    );
    // Dead tokens stay dead to it.
    org.post_form("/services/oauth2/revoke", &[("token", &refresh)], &[]);
    for token in [&access, &refresh] {
        assert_eq!(
            introspect(token, &gateway),
            serde_json::json!({"active": false})
        );
    }
}

#[test]
fn userinfo_and_identity() {
    let org = org();
    let user = org.user("std@example.com");
    let t = org.web_login("Demo", "std@example.com");
    let access = s(&t, "access_token");
    let org_id = org.state().config.org_id.to_string();
    for resp in [
        org.get(
            "/services/oauth2/userinfo",
            &[("authorization", &bearer(&access))],
        ),
        org.get(
            "/services/oauth2/userinfo",
            &[("authorization", &format!("OAuth {access}"))],
        ),
        org.get(
            &format!(
                "/services/oauth2/userinfo?{}",
                sfr_wire::encoding::stringify([("oauth_token", access.as_str())])
            ),
            &[],
        ),
    ] {
        assert_eq!(resp.status, 200, "{}", resp.body);
        let info: sfr_wire::UserInfo = serde_json::from_str(&resp.body).unwrap();
        assert_eq!(info.user_id, user.id.as_str());
        assert_eq!(info.organization_id, org_id);
        assert_eq!(info.preferred_username, "std@example.com");
        let v = resp.json();
        assert!(s(&v["urls"], "rest").contains("{version}"));
        assert_eq!(s(&v, "sub"), s(&t, "id"));
    }
    let id_path = s(&t, "id").replace(&org.base, "");
    let q = sfr_wire::encoding::stringify([
        ("format", "json"),
        ("version", "latest"),
        ("oauth_token", access.as_str()),
    ]);
    let resp = org.get(
        &format!("{id_path}?{q}"),
        &[("authorization", &bearer(&access))],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let v = resp.json();
    assert_eq!(s(&v, "id"), s(&t, "id"));
    assert_eq!(s(&v, "username"), "std@example.com");
    assert_eq!(s(&v, "organization_id"), org_id);
    assert_eq!(
        s(&v["urls"], "rest"),
        format!("{}/services/data/v66.0/", org.base)
    );
    // Another user's identity URL or no token.
    let other = format!("/id/{org_id}/005000000000999AAA");
    assert_eq!(
        org.get(&other, &[("authorization", &bearer(&access))])
            .status,
        403
    );
    assert_eq!(org.get(&id_path, &[]).status, 403);
    let resp = org.get(
        "/services/oauth2/userinfo",
        &[("authorization", "Bearer 00Dnope!x")],
    );
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()[0]["errorCode"], "INVALID_SESSION_ID");
}

#[test]
fn discovery_and_keys() {
    let org = TestOrg::new();
    let resp = org.get("/.well-known/openid-configuration", &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    let d = resp.json();
    assert_eq!(s(&d, "issuer"), org.base);
    assert_eq!(
        s(&d, "token_endpoint"),
        format!("{}/services/oauth2/token", org.base)
    );
    assert_eq!(s(&d, "jwks_uri"), format!("{}/id/keys", org.base));
    assert!(
        d["response_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"code".into())
    );
    assert!(
        d["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&"preferred_username".into())
    );
    let auth = org.get("/.well-known/auth-configuration", &[]);
    assert_eq!(auth.status, 200);
    assert_eq!(auth.json()["Url"], org.base.as_str());
    assert_eq!(auth.json()["LoginPageType"], "standard");
    let keys = org.get("/id/keys", &[]).json();
    let k = &keys["keys"][0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["e"], "AQAB");
    assert_eq!(k["kid"], org.state().signing_key.kid.as_str());
}

/// Tokens and codes issued before issue times were written into them are stored under their bare SHA-256; they
/// keep working after the upgrade: the identity URL and introspection know the tokens, the refresh token
/// refreshes, revoking it ends its sessions, and a code is redeemed.
#[test]
fn tokens_issued_by_earlier_versions_stay_valid() {
    use sfr_org::model::{IssueTokens, NewAccessToken, NewRefreshToken, Scope};
    let org = org();
    let app = org.app("Demo");
    let user = org.user("std@example.com");
    let org_id = org.store().org().unwrap().id;
    let now = org.clock_now();
    // The earlier shapes: 96 characters after the org ID, 80 after `5Aep861`.
    let access = format!(
        "{}!{}",
        org_id.to_15(),
        "AQ0_legacy.".repeat(9).get(..96).unwrap()
    );
    let refresh = format!("5Aep861{}", "Legacy-refresh.".repeat(6).get(..80).unwrap());
    assert_eq!(
        sfr_org::keys::token_key(&access),
        sfr_org::keys::hash_token(&access)
    );
    let scopes = vec![Scope::Api, Scope::RefreshToken, Scope::OpenId];
    org.store()
        .issue_tokens(&IssueTokens {
            access: NewAccessToken {
                token_hash: sfr_org::keys::hash_token(&access),
                app_id: app.app.id.clone(),
                user_id: user.id.clone(),
                scopes: scopes.clone(),
                issued_at: now,
                session_timeout_ms: 120 * 60_000,
            },
            refresh: Some(NewRefreshToken {
                token_hash: sfr_org::keys::hash_token(&refresh),
                app_id: app.app.id.clone(),
                user_id: user.id.clone(),
                scopes,
                issued_at: now,
            }),
            from_code: None,
            event: None,
            facts_version: None,
        })
        .unwrap();

    let info = org.get(
        "/services/oauth2/userinfo",
        &[("authorization", &bearer(&access))],
    );
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["preferred_username"], "std@example.com");
    let seen = org.post_form(
        "/services/oauth2/introspect",
        &[
            ("token", &access),
            ("client_id", &app.key),
            ("client_secret", &app.secret),
        ],
        &[],
    );
    assert_eq!(seen.json()["active"], true, "{}", seen.body);

    let refreshed = org.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("client_id", &app.key),
        ("client_secret", &app.secret),
    ]);
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let new_access = s(&refreshed.json(), "access_token");
    assert_ne!(
        sfr_org::keys::token_key(&new_access),
        sfr_org::keys::hash_token(&new_access),
        "a new token carries its issue time"
    );

    let revoked = org.post_form("/services/oauth2/revoke", &[("token", &refresh)], &[]);
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    for token in [&access, &new_access] {
        let r = org.get(
            "/services/oauth2/userinfo",
            &[("authorization", &bearer(token))],
        );
        assert_eq!(r.status, 401, "{}", r.body);
    }

    let legacy_code = "Legacy-code_".repeat(6).get(..64).unwrap().to_owned();
    let mut stored = crate::store::code(&user, &app.app.id, &legacy_code, org.clock_now());
    stored.code_hash = sfr_org::keys::hash_token(&legacy_code);
    stored.code_challenge = None;
    stored.code_challenge_method = None;
    org.store().insert_code(&stored).unwrap();
    let exchanged = org.token(&[
        ("grant_type", "authorization_code"),
        ("code", &legacy_code),
        ("client_id", &app.key),
        ("client_secret", &app.secret),
        ("redirect_uri", "http://localhost:1717/OauthRedirect"),
    ]);
    assert_eq!(exchanged.status, 200, "{}", exchanged.body);
}

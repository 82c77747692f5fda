//! The authorization-code grant.

use super::*;

fn org() -> TestOrg {
    TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(TestApp::web("Demo"))
        .with_app(TestApp::web("Other"))
}

fn exchange<'a>(app: &'a AppCreds, code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", &app.key),
        ("client_secret", &app.secret),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier),
    ]
}

#[test]
fn happy_path_fields_signature_and_issued_at() {
    let org = org();
    let app = org.app("Demo");
    let user = org.user("std@example.com");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    assert_eq!(verifier.len(), 171);
    let before = org.clock_now();
    let resp = org.token(&exchange(&app, &code, &verifier));
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    assert!(resp.header("cache-control").unwrap().contains("no-store"));
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
            "refresh_token",
            "signature",
            "scope",
            "id_token",
            "instance_url",
            "id",
            "token_type",
            "issued_at"
        ]
    );
    let org_id = org.state().config.org_id.to_string();
    assert_eq!(s(&body, "instance_url"), org.base);
    assert!(!org.base.ends_with('/'));
    assert_eq!(
        s(&body, "id"),
        format!("{}/id/{org_id}/{}", org.base, user.id)
    );
    assert_eq!(s(&body, "token_type"), "Bearer");
    assert!(s(&body, "access_token").starts_with(&format!("{}!", &org_id[..15])));
    assert!(s(&body, "refresh_token").starts_with("5Aep861"));
    assert_eq!(s(&body, "scope"), "api web refresh_token openid");
    let issued_at = s(&body, "issued_at");
    assert!(
        issued_at.len() == 13 && issued_at.bytes().all(|b| b.is_ascii_digit()),
        "{issued_at}"
    );
    assert!(issued_at.parse::<i64>().unwrap() >= before);
    // signature = Base64(HMAC-SHA256(secret, id + issued_at)).
    let expected = sfr_wire::token::signature(&app.secret, &s(&body, "id"), &issued_at);
    assert_eq!(s(&body, "signature"), expected);
    let parsed: sfr_wire::TokenResponse = serde_json::from_value(body.clone()).unwrap();
    assert!(parsed.signature_is_valid(&app.secret));
    // The ID token verifies with /id/keys and names the identity URL.
    let id_token = sfr_wire::jwt::Assertion::parse(&s(&body, "id_token")).unwrap();
    assert_eq!(id_token.claims.sub, s(&body, "id"));
    assert_eq!(id_token.claims.iss, org.base);
    let der = org.state().signing_key.public_key_der().unwrap();
    assert!(id_token.verify_rs256(&der).is_ok());
    // Tokens are stored hashed only.
    let access = s(&body, "access_token");
    assert!(org.store().access_token(&access).unwrap().is_none());
    assert!(
        org.store()
            .access_token(&sfr_org::keys::token_key(&access))
            .unwrap()
            .is_some()
    );
    let event = &org.events()[0];
    assert_eq!(event.kind.as_text(), "token:authorization_code");
    assert!(event.success);
    assert_eq!(event.consumer_key.as_deref(), Some(app.key.as_str()));
    assert_eq!(event.user_id.as_ref(), Some(&user.id));
    assert_eq!(event.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        event.reason,
        "issued an access token and a refresh token for scopes [api web refresh_token openid]"
    );
}

#[test]
fn codes_are_single_use_and_a_replay_revokes_what_they_issued() {
    let org = org();
    let app = org.app("Demo");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let first = org.token(&exchange(&app, &code, &verifier));
    assert_eq!(first.status, 200);
    let access = s(&first.json(), "access_token");
    let bearer = format!("Bearer {access}");
    assert_eq!(
        org.get("/services/oauth2/userinfo", &[("authorization", &bearer)])
            .status,
        200
    );
    let replay = org.token(&exchange(&app, &code, &verifier));
    replay.assert_oauth_error(400, "invalid_grant", "invalid authorization code");
    assert!(org.last_reason().contains("used twice"));
    // The tokens of the first exchange are gone.
    assert_eq!(
        org.get("/services/oauth2/userinfo", &[("authorization", &bearer)])
            .status,
        401
    );
    let refresh = s(&first.json(), "refresh_token");
    org.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("client_id", &app.key),
    ])
    .assert_oauth_error(400, "invalid_grant", "expired access/refresh token");
}

/// An exchange decides on the app as cached by the grant before it; a change since then is caught in the
/// exchange's transaction, before the code is claimed: the code is refused on the app as it is now, and not
/// spent by the attempt that saw the old app.
#[test]
fn a_code_exchange_sees_a_change_to_its_app_made_since_the_last_grant() {
    let org = org();
    let app = org.app("Demo");
    let (first, verifier) = org.code_for("Demo", "std@example.com");
    assert_eq!(org.token(&exchange(&app, &first, &verifier)).status, 200);
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let enabled = |on: bool| {
        let update = sfr_org::model::AppUpdate {
            oauth_enabled: Some(on),
            updated_at: org.clock_now(),
            ..Default::default()
        };
        org.store().update_app("Demo", &update).unwrap();
    };
    enabled(false);
    org.token(&exchange(&app, &code, &verifier))
        .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
    assert!(
        org.last_reason().contains("OAuth disabled"),
        "{}",
        org.last_reason()
    );
    enabled(true);
    let late = org.token(&exchange(&app, &code, &verifier));
    assert_eq!(
        late.status, 200,
        "the refused attempt left the code unspent: {}",
        late.body
    );
}

#[test]
fn codes_expire_after_fifteen_minutes() {
    let org = org();
    let app = org.app("Demo");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    org.advance_minutes(16);
    org.token(&exchange(&app, &code, &verifier))
        .assert_oauth_error(400, "invalid_grant", "expired authorization code");
}

#[test]
fn pkce_verifier_missing_or_wrong() {
    let org = org();
    let app = org.app("Demo");
    let (code, _) = org.code_for("Demo", "std@example.com");
    let mut p = exchange(&app, &code, "");
    p.retain(|(k, _)| *k != "code_verifier");
    org.token(&p)
        .assert_oauth_error(400, "invalid_grant", "invalid code verifier");
    let (code, _) = org.code_for("Demo", "std@example.com");
    let wrong = sfr_wire::pkce::verifier_from_bytes(&[1u8; 128]);
    org.token(&exchange(&app, &code, &wrong))
        .assert_oauth_error(400, "invalid_grant", "invalid code verifier");
    assert!(org.last_reason().contains("does not match"));
}

#[test]
fn redirect_uri_must_repeat_the_authorize_one() {
    let org = org();
    let app = org.app("Demo");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let mut p = exchange(&app, &code, &verifier);
    p.retain(|(k, _)| *k != "redirect_uri");
    p.push(("redirect_uri", "http://localhost:1717/Other"));
    org.token(&p).assert_oauth_error(
        400,
        "redirect_uri_mismatch",
        "redirect_uri must match configuration",
    );
}

#[test]
fn client_must_be_the_codes_app() {
    let org = org();
    let other = org.app("Other");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    org.token(&exchange(&other, &code, &verifier))
        .assert_oauth_error(400, "invalid_grant", "invalid authorization code");
    assert!(org.last_reason().contains("another app"));
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let mut p = exchange(&other, &code, &verifier);
    p.retain(|(k, _)| *k != "client_id");
    p.push(("client_id", "3MVG9unknown"));
    org.token(&p)
        .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
}

#[test]
fn secret_required_by_default_and_validated_whenever_sent() {
    let org = org().with_app(TestApp::web("Public").public_client());
    let app = org.app("Demo");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let mut p = exchange(&app, &code, &verifier);
    p.retain(|(k, _)| *k != "client_secret");
    org.token(&p)
        .assert_oauth_error(400, "invalid_client", "invalid client credentials");

    let public = org.app("Public");
    let (code, verifier) = org.code_for("Public", "std@example.com");
    let mut p = exchange(&public, &code, &verifier);
    p.retain(|(k, _)| *k != "client_secret");
    assert_eq!(org.token(&p).status, 200);
    let (code, verifier) = org.code_for("Public", "std@example.com");
    let mut p = exchange(&public, &code, &verifier);
    p.retain(|(k, _)| *k != "client_secret");
    p.push(("client_secret", "WRONG"));
    org.token(&p)
        .assert_oauth_error(400, "invalid_client", "invalid client credentials");
}

#[test]
fn platform_cli_works_like_sf_sends_it() {
    let org = TestOrg::new().with_user(TestUser::standard("std@example.com"));
    let (code, verifier) = org.code_for("PlatformCLI", "std@example.com");
    // sf's body: no secret, chunked, urlencoded.
    let body = sfr_wire::encoding::stringify([
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", "PlatformCLI"),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier.as_str()),
    ]);
    let resp = org.post_chunked(
        "/services/oauth2/token",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let json = resp.json();
    assert_eq!(s(&json, "scope"), "api web refresh_token");
    assert!(json.get("refresh_token").is_some());
    assert!(json.get("id_token").is_none());
}

#[test]
fn grant_type_missing_or_unknown() {
    let org = TestOrg::new();
    org.token(&[("code", "x")])
        .assert_oauth_error(400, "invalid_request", "grant type is missing");
    org.token(&[("grant_type", "magic")]).assert_oauth_error(
        400,
        "unsupported_grant_type",
        "grant type not supported",
    );
    org.token(&[
        ("grant_type", "authorization_code"),
        ("code", "nope"),
        ("client_id", "PlatformCLI"),
    ])
    .assert_oauth_error(400, "invalid_grant", "invalid authorization code");
    org.token(&[
        ("grant_type", "password"),
        ("username", "a"),
        ("password", "b"),
    ])
    .assert_oauth_error(400, "invalid_grant", "authentication failure");
    assert!(
        org.last_reason()
            .contains("username-password flow is disabled")
    );
}

#[test]
fn parameters_in_the_query_string_and_multipart_bodies() {
    let org = org();
    let app = org.app("Demo");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    // Everything in the query string of a POST with an empty body.
    let q = sfr_wire::encoding::stringify(exchange(&app, &code, &verifier));
    let resp = org.post_raw(
        &format!("/services/oauth2/token?{q}"),
        "application/x-www-form-urlencoded",
        b"",
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    // Multipart.
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let mut body = String::new();
    for (k, v) in exchange(&app, &code, &verifier) {
        body.push_str(&format!(
            "--BOUNDARY\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str("--BOUNDARY--\r\n");
    let resp = org.post_raw(
        "/services/oauth2/token",
        "multipart/form-data; boundary=BOUNDARY",
        body.as_bytes(),
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[test]
fn concurrent_redemptions_of_one_code_have_one_winner() {
    let org = org();
    let app = org.app("Demo");
    let (code, verifier) = org.code_for("Demo", "std@example.com");
    let params = exchange(&app, &code, &verifier);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| org.token(&params).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

//! The refresh-token grant, refresh policies and idle session timeouts.

use super::*;

fn login(org: &TestOrg, app: &str) -> (String, String) {
    let t = org.web_login(app, "std@example.com");
    (s(&t, "access_token"), s(&t, "refresh_token"))
}

/// Salesforce's answer to every refresh token it will not honour (expired, revoked, unknown or another app's):
/// the precise reason is only in the login history.
trait RefusedAsExpired {
    fn assert_refused_as_expired(&self);
}

impl RefusedAsExpired for Resp {
    fn assert_refused_as_expired(&self) {
        self.assert_oauth_error(400, "invalid_grant", "expired access/refresh token");
    }
}

fn refresh(org: &TestOrg, app: &AppCreds, token: &str, extra: &[(&str, &str)]) -> Resp {
    let mut p = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", app.key.as_str()),
    ];
    p.extend_from_slice(extra);
    org.token(&p)
}

fn org_with(app: TestApp) -> TestOrg {
    TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(app)
}

#[test]
fn refresh_answers_without_a_refresh_token_and_signs() {
    let org = org_with(TestApp::web("Demo"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    let resp = refresh(&org, &app, &rt, &[]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(s(&body, "scope"), "api web refresh_token openid");
    let parsed: sfr_wire::TokenResponse = serde_json::from_value(body.clone()).unwrap();
    assert!(parsed.signature_is_valid(&app.secret));
    assert!(body.get("id_token").is_some());
    // The new access token works.
    let bearer = format!("Bearer {}", s(&body, "access_token"));
    assert_eq!(
        org.get("/services/oauth2/userinfo", &[("authorization", &bearer)])
            .status,
        200
    );
}

#[test]
fn scopes_narrow_but_never_widen() {
    let org = org_with(TestApp::web("Demo").scopes("api refresh_token web"));
    let app = org.app("Demo");
    let t = {
        // Ask only api + refresh_token at authorize.
        let (code, verifier) = {
            let app = org.app("Demo");
            let verifier = sfr_wire::pkce::verifier_from_bytes(&[3u8; 128]);
            let challenge = sfr_wire::pkce::challenge_s256(&verifier);
            let mut b = org.browser();
            let page = b.authorize(&[
                ("response_type", "code"),
                ("client_id", &app.key),
                ("redirect_uri", CALLBACK),
                ("scope", "api refresh_token"),
                ("code_challenge", &challenge),
            ]);
            let page = b.login(&page, "std@example.com", PASSWORD);
            let done = b.submit(&page, "approve");
            (done.location_query()["code"].clone(), verifier)
        };
        org.token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &app.key),
            ("client_secret", &app.secret),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ])
        .json()
    };
    assert_eq!(s(&t, "scope"), "api refresh_token");
    let rt = s(&t, "refresh_token");
    let narrowed = refresh(&org, &app, &rt, &[("scope", "api")]);
    assert_eq!(s(&narrowed.json(), "scope"), "api");
    refresh(&org, &app, &rt, &[("scope", "api web")]).assert_oauth_error(
        400,
        "invalid_scope",
        "the requested scope is not allowed",
    );
}

#[test]
fn policy_immediately() {
    let org = org_with(TestApp::web("Demo").refresh_policy("immediately"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    refresh(&org, &app, &rt, &[]).assert_refused_as_expired();
    assert!(
        org.last_reason().contains("expired by policy immediately"),
        "{}",
        org.last_reason()
    );
}

#[test]
fn policy_expire_after() {
    let org = org_with(TestApp::web("Demo").refresh_policy("expire-after:2h"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    org.advance_minutes(60);
    assert_eq!(refresh(&org, &app, &rt, &[]).status, 200);
    org.advance_minutes(61);
    refresh(&org, &app, &rt, &[]).assert_refused_as_expired();
    assert!(org.last_reason().contains("expire-after:2h"));
}

#[test]
fn policy_expire_if_unused() {
    let org = org_with(TestApp::web("Demo").refresh_policy("expire-if-unused:1h"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    // Used every 50 minutes: stays alive well past an hour from issue.
    for _ in 0..3 {
        org.advance_minutes(50);
        assert_eq!(refresh(&org, &app, &rt, &[]).status, 200);
    }
    org.advance_minutes(61);
    refresh(&org, &app, &rt, &[]).assert_refused_as_expired();
    assert!(org.last_reason().contains("expire-if-unused:1h"));
}

#[test]
fn refresh_token_of_another_app_or_unknown() {
    let org = org_with(TestApp::web("Demo")).with_app(TestApp::web("Other"));
    let other = org.app("Other");
    let (_, rt) = login(&org, "Demo");
    refresh(&org, &other, &rt, &[]).assert_refused_as_expired();
    assert!(org.last_reason().contains("another app"));
    refresh(&org, &other, "5Aep861nope", &[]).assert_refused_as_expired();
    org.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &rt),
        ("client_id", "nope"),
    ])
    .assert_oauth_error(400, "invalid_client_id", "client identifier invalid");
}

#[test]
fn secret_for_refresh_when_required_and_checked_when_sent() {
    let org =
        org_with(TestApp::web("Strict").require_secret_refresh()).with_app(TestApp::web("Lax"));
    let strict = org.app("Strict");
    let (_, rt) = login(&org, "Strict");
    refresh(&org, &strict, &rt, &[]).assert_oauth_error(
        400,
        "invalid_client",
        "invalid client credentials",
    );
    assert_eq!(
        refresh(&org, &strict, &rt, &[("client_secret", &strict.secret)]).status,
        200
    );
    let lax = org.app("Lax");
    let (_, rt) = login(&org, "Lax");
    assert_eq!(refresh(&org, &lax, &rt, &[]).status, 200);
    refresh(&org, &lax, &rt, &[("client_secret", "bad")]).assert_oauth_error(
        400,
        "invalid_client",
        "invalid client credentials",
    );
}

#[test]
fn session_timeout_is_idle_based() {
    let org = org_with(TestApp::web("Demo").session_timeout(15));
    let (access, _) = login(&org, "Demo");
    let bearer = format!("Bearer {access}");
    let call = || org.get("/services/data/v66.0/", &[("authorization", &bearer)]);
    // Each use extends the session.
    for _ in 0..3 {
        org.advance_minutes(10);
        assert_eq!(call().status, 200);
    }
    org.advance_minutes(16);
    let resp = call();
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.body,
        r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
    );
}

/// Salesforce's documented example: with a 30-minute timeout, a call after 10 minutes does not extend the
/// session (it still ends at 30); a call after 20 does (it now ends at 50).
#[test]
fn only_a_use_in_the_second_half_of_the_timeout_extends_the_session() {
    let org = org_with(TestApp::web("Demo").session_timeout(30));
    let status = |access: &str| {
        org.get(
            "/services/data/v66.0/",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .status
    };
    let (early, _) = login(&org, "Demo");
    org.advance_minutes(10);
    assert_eq!(status(&early), 200);
    org.advance_minutes(21);
    assert_eq!(
        status(&early),
        401,
        "the call at 10 minutes did not extend it"
    );

    let (late, _) = login(&org, "Demo");
    org.advance_minutes(20);
    assert_eq!(status(&late), 200);
    org.advance_minutes(29);
    assert_eq!(
        status(&late),
        200,
        "the call at 20 minutes moved the end to 50"
    );
}

/// A refresh is decided on facts cached in memory and its write checks they are still current: a policy
/// changed after the cache was filled refuses the next refresh, and lifting it lets the one after through.
#[test]
fn a_policy_changed_between_refreshes_is_applied_at_once() {
    let org = org_with(TestApp::web("Demo"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    assert_eq!(refresh(&org, &app, &rt, &[]).status, 200);
    assert_eq!(refresh(&org, &app, &rt, &[]).status, 200, "facts cached");
    let policy = |p: &str| sfr_org::model::AppUpdate {
        refresh_policy: Some(sfr_org::model::RefreshPolicy::parse(p).unwrap()),
        ..Default::default()
    };
    org.store()
        .update_app("Demo", &policy("immediately"))
        .unwrap();
    refresh(&org, &app, &rt, &[]).assert_refused_as_expired();
    assert!(
        org.last_reason().contains("expired by policy immediately"),
        "{}",
        org.last_reason()
    );
    org.store()
        .update_app("Demo", &policy("until-revoked"))
        .unwrap();
    assert_eq!(refresh(&org, &app, &rt, &[]).status, 200);
}

#[test]
fn deactivated_user_cannot_refresh() {
    let org = org_with(TestApp::web("Demo"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    let user = org.user("std@example.com");
    org.store()
        .set_user_active(&user.id, false, org.clock_now())
        .unwrap();
    // Deactivation revokes the user's tokens.
    refresh(&org, &app, &rt, &[]).assert_refused_as_expired();
}

#[test]
fn introspection_follows_the_refresh_policy() {
    let org = org_with(TestApp::web("Demo").refresh_policy("expire-after:1h"));
    let app = org.app("Demo");
    let (_, rt) = login(&org, "Demo");
    let ask = || {
        org.post_form(
            "/services/oauth2/introspect",
            &[
                ("token", &rt),
                ("client_id", &app.key),
                ("client_secret", &app.secret),
            ],
            &[],
        )
        .json()
    };
    let live = ask();
    assert_eq!(live["active"], true);
    assert_eq!(live["token_type"], "refresh_token");
    org.advance_minutes(61);
    assert_eq!(ask(), serde_json::json!({"active": false}));
}

//! The browser side of the authorize endpoint: pages, login, approval, redirects and their errors.

use super::*;

fn org() -> TestOrg {
    TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_user(TestUser::admin("boss@example.com"))
        .with_user(TestUser::standard("gone@example.com").inactive())
        .with_app(TestApp::web("Demo"))
}

fn params<'a>(key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("response_type", "code"),
        ("client_id", key),
        ("redirect_uri", CALLBACK),
        ("state", "abc123"),
    ];
    p.extend_from_slice(extra);
    p
}

#[test]
fn login_approve_and_redirect_with_code_and_state() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let page = b.authorize(&params(
        &app.key,
        &[("prompt", "login"), ("scope", "api refresh_token")],
    ));
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.body.contains("Demo"));
    assert!(
        !page.body.contains("<script"),
        "forms work without JavaScript"
    );
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let approve = b.login(&page, "std@example.com", PASSWORD);
    assert_eq!(approve.status, 200, "{}", approve.body);
    assert!(approve.body.contains("Manage user data via APIs (api)"));
    assert!(approve.body.contains("Perform requests at any time"));
    let session = approve
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("sfr_sid="))
        .unwrap()
        .to_owned();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let done = b.submit(&approve, "approve");
    assert_eq!(done.status, 302);
    let loc = done.header("location").unwrap();
    assert!(
        loc.starts_with("http://localhost:1717/OauthRedirect?code="),
        "{loc}"
    );
    let q = done.location_query();
    assert_eq!(q["state"], "abc123");
    assert!(q["code"].len() > 4);
    // Login history: the UI login and the authorize success.
    let events = org.events();
    assert!(
        events
            .iter()
            .any(|e| e.success && e.kind.as_text() == "ui-login")
    );
    assert!(
        events
            .iter()
            .any(|e| e.success && e.kind.as_text() == "authorize")
    );

    // Approved once for these scopes: next time no approve page, and the live session is reused without
    // prompt=login.
    let again = b.authorize(&params(&app.key, &[("scope", "api")]));
    assert_eq!(again.status, 302, "{}", again.body);
    assert!(again.location_query().contains_key("code"));
    // prompt=login always shows the login page.
    let forced = b.authorize(&params(&app.key, &[("prompt", "login")]));
    assert_eq!(forced.status, 200);
    assert!(forced.body.contains("name=\"password\""));
    // Wider scopes than approved: asked again.
    let page = b.authorize(&params(&app.key, &[("scope", "api web openid")]));
    assert!(page.body.contains("Allow Access?"), "{}", page.body);
}

#[test]
fn deny_redirects_with_access_denied() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[("prompt", "login")]));
    let approve = b.login(&page, "std@example.com", PASSWORD);
    let denied = b.submit(&approve, "deny");
    assert_eq!(denied.status, 302);
    assert_eq!(
        denied.header("location").unwrap(),
        "http://localhost:1717/OauthRedirect?error=access_denied&error_description=end-user%20denied%20authorization&state=abc123"
    );
    assert_eq!(org.last_reason(), "the user clicked Deny");
}

#[test]
fn unknown_client_and_bad_callback_are_pages_not_redirects() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let resp = b.authorize(&params("nope", &[]));
    assert_eq!(resp.status, 400);
    assert!(resp.header("location").is_none());
    assert!(
        resp.body.contains(
            "error=invalid_client_id&amp;error_description=client%20identifier%20invalid"
        ) || resp.body.contains(
            "error=invalid_client_id&#38;error_description=client%20identifier%20invalid"
        ),
        "{}",
        resp.body
    );

    let resp = b.authorize(&[
        ("response_type", "code"),
        ("client_id", &app.key),
        ("redirect_uri", "http://localhost:1717/OauthRedirect/"),
    ]);
    assert_eq!(resp.status, 400);
    assert!(resp.header("location").is_none());
    assert!(resp.body.contains("redirect_uri_mismatch"), "{}", resp.body);
    assert!(org.last_reason().contains("not among the app's callbacks"));

    let resp = b.authorize(&[("response_type", "code"), ("client_id", &app.key)]);
    assert_eq!(resp.status, 400);
    assert!(resp.body.contains("redirect_uri_missing"));
}

#[test]
fn bad_password_and_unknown_user_look_the_same() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[]));
    let wrong_pw = b.login(&page, "std@example.com", "nope");
    let page = b.authorize(&params(&app.key, &[]));
    let no_user = b.login(&page, "nobody@example.com", "nope");
    assert_eq!(wrong_pw.status, 200);
    assert_eq!(no_user.status, 200);
    let msg = "Please check your username and password";
    assert!(wrong_pw.body.contains(msg) && no_user.body.contains(msg));
    let events = org.events();
    assert!(
        events[0].reason.contains("no user named"),
        "{:?}",
        events[0]
    );
    assert!(
        events
            .iter()
            .any(|e| e.reason.starts_with("wrong password (1 failures")),
        "{events:?}"
    );
}

#[test]
fn repeated_failures_lock_the_user() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let mut last = None;
    for _ in 0..5 {
        let page = b.authorize(&params(&app.key, &[]));
        last = Some(b.login(&page, "std@example.com", "wrong"));
    }
    assert!(last.unwrap().body.contains("locked"));
    // Even the right password is refused while locked.
    let page = b.authorize(&params(&app.key, &[]));
    let resp = b.login(&page, "std@example.com", PASSWORD);
    assert_eq!(resp.status, 200);
    assert!(resp.body.contains("locked"));
    assert!(org.last_reason().contains("locked out until"));
}

#[test]
fn inactive_user_is_sent_back_with_inactive_user() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[]));
    let resp = b.login(&page, "gone@example.com", PASSWORD);
    assert_eq!(resp.status, 302);
    let q = resp.location_query();
    assert_eq!(q["error"], "inactive_user");
    assert_eq!(q["error_description"], "user is inactive");
    assert_eq!(q["state"], "abc123");
}

#[test]
fn scope_the_app_lacks_is_invalid_scope() {
    let org = org();
    let app = org.app("Demo");
    let resp = org
        .browser()
        .authorize(&params(&app.key, &[("scope", "api full")]));
    assert_eq!(resp.status, 302);
    let q = resp.location_query();
    assert_eq!(q["error"], "invalid_scope");
    assert_eq!(q["state"], "abc123");
}

#[test]
fn pkce_required_without_challenge() {
    let org = TestOrg::new().with_app(TestApp::web("Strict").require_pkce());
    let app = org.app("Strict");
    let resp = org.browser().authorize(&params(&app.key, &[]));
    assert_eq!(resp.status, 302);
    let q = resp.location_query();
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["error_description"], "missing required code challenge");
}

#[test]
fn unsupported_response_type() {
    let org = org();
    let app = org.app("Demo");
    let resp = org.browser().authorize(&[
        ("response_type", "token"),
        ("client_id", &app.key),
        ("redirect_uri", CALLBACK),
    ]);
    assert_eq!(resp.status, 302);
    assert_eq!(resp.location_query()["error"], "unsupported_response_type");
}

#[test]
fn admin_approved_apps_skip_consent_and_refuse_others() {
    let org = TestOrg::new()
        .with_user(TestUser::admin("boss@example.com"))
        .with_user(TestUser::standard("std@example.com"))
        .with_user(TestUser::standard("ps@example.com").with_permission_set("CLI_Users"))
        .with_app(TestApp::web("Locked").admin_approved(&["System Administrator"], &["CLI_Users"]));
    let app = org.app("Locked");
    // Pre-authorized by profile: straight to the code.
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[]));
    let resp = b.login(&page, "boss@example.com", PASSWORD);
    assert_eq!(resp.status, 302, "{}", resp.body);
    // By permission set.
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[]));
    assert_eq!(b.login(&page, "ps@example.com", PASSWORD).status, 302);
    // Neither: an error page, no redirect.
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[]));
    let resp = b.login(&page, "std@example.com", PASSWORD);
    assert_eq!(resp.status, 403);
    assert!(resp.header("location").is_none());
    assert!(
        resp.body
            .contains("user is not admin approved to access this app")
    );
    assert!(
        org.last_reason()
            .contains("profile Standard User not among [System Administrator]")
    );
}

#[test]
fn forged_forms_are_refused() {
    let org = org();
    let app = org.app("Demo");
    let mut b = org.browser();
    let page = b.authorize(&params(&app.key, &[]));
    // Login without the CSRF cookie.
    let mut fields = page.hidden_fields();
    fields.push(("username".into(), "std@example.com".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let resp = org.post_form("/services/oauth2/authorize", &pairs, &[]);
    assert_eq!(resp.status, 200);
    assert!(resp.body.contains("expired"), "{}", resp.body);
    // Approve without a session.
    let mut fields = page.hidden_fields();
    fields.retain(|(k, _)| k != "sfr_action");
    fields.push(("sfr_action".into(), "approve".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let resp = org.post_form(
        "/services/oauth2/authorize",
        &pairs,
        &[("cookie", "sfr_sid=garbage")],
    );
    assert_eq!(resp.status, 200);
    assert!(resp.header("location").is_none());
}

#[test]
fn immediate_without_session_fails_back() {
    let org = org();
    let app = org.app("Demo");
    let resp = org
        .browser()
        .authorize(&params(&app.key, &[("immediate", "true")]));
    assert_eq!(resp.status, 302);
    assert_eq!(resp.location_query()["error"], "immediate_unsuccessful");
}

#[test]
fn headless_post_of_the_authorize_parameters_shows_the_login_page() {
    let org = org();
    let app = org.app("Demo");
    let resp = org.post_form("/services/oauth2/authorize", &params(&app.key, &[]), &[]);
    assert_eq!(resp.status, 200);
    assert!(resp.body.contains("name=\"password\""));
}

#[test]
fn stylesheet_is_served() {
    let org = TestOrg::new();
    let resp = org.get("/static/sfr.css", &[]);
    assert_eq!(resp.status, 200);
    assert!(resp.header("content-type").unwrap().starts_with("text/css"));
}

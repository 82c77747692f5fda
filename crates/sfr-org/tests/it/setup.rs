//! Setup pages over real HTTP: the login (messages, lockout), the session guard, CSRF on every form, escaping,
//! security headers, and the e-mailed code in front of the consumer details.

use crate::{Browser, PASSWORD, Resp, TestApp, TestOrg, TestUser};

const ADMIN: &str = "boss@example.com";

fn org() -> TestOrg {
    TestOrg::new()
        .with_user(TestUser::admin(ADMIN))
        .with_user(TestUser::standard("pat@example.com"))
}

/// Logs in to Setup and returns the session's CSRF token (read from the logout form).
fn login(b: &mut Browser<'_>, username: &str, password: &str) -> Resp {
    let form = b.get("/setup/login");
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = field(&form, "sfr_csrf");
    b.post(
        "/setup/login",
        &[
            ("sfr_csrf", &csrf),
            ("next", "/setup"),
            ("username", username),
            ("password", password),
        ],
    )
}

fn field(resp: &Resp, name: &str) -> String {
    resp.hidden_fields()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no hidden {name} in {}", resp.body))
}

fn admin_session(org: &TestOrg) -> (Browser<'_>, String) {
    let mut b = org.browser();
    let resp = login(&mut b, ADMIN, PASSWORD);
    assert_eq!(resp.status, 303, "{}", resp.body);
    assert_eq!(resp.header("location"), Some("/setup"));
    let home = b.get("/setup");
    assert_eq!(home.status, 200, "{}", home.body);
    let csrf = field(&home, "sfr_csrf");
    (b, csrf)
}

#[test]
fn setup_needs_a_logged_in_administrator() {
    let org = org();
    let mut b = org.browser();
    let resp = b.get("/setup/apps");
    assert_eq!(resp.status, 303);
    assert_eq!(
        resp.header("location"),
        Some("/setup/login?next=%2Fsetup%2Fapps")
    );
    assert_eq!(b.get("/").header("location"), Some("/setup"));

    let mut user = org.browser();
    assert_eq!(login(&mut user, "pat@example.com", PASSWORD).status, 303);
    let denied = user.get("/setup");
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("Insufficient Privileges"));
}

#[test]
fn login_errors_do_not_say_which_field_was_wrong() {
    let org = org();
    let mut b = org.browser();
    let unknown = login(&mut b, "nobody@example.com", PASSWORD);
    let wrong = login(&mut b, ADMIN, "wrong-password-1");
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let message = "Please check your username and password.";
    assert!(unknown.body.contains(message) && wrong.body.contains(message));
    assert!(!wrong.body.contains("password is wrong") && !unknown.body.contains("no user"));
    // Login History has the precise reasons.
    let reasons: Vec<String> = org.events().iter().map(|e| e.reason.clone()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("no user named \"nobody@example.com\""))
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("wrong password (1 failures in a row"))
    );
}

#[test]
fn a_locked_out_user_cannot_log_in_until_the_lockout_ends() {
    let org = org();
    let mut b = org.browser();
    for _ in 0..4 {
        let r = login(&mut b, ADMIN, "wrong-password-1");
        assert!(r.body.contains("Please check your username and password."));
    }
    let locked = login(&mut b, ADMIN, "wrong-password-1");
    assert!(locked.body.contains("locked"), "{}", locked.body);
    // The right password does not help while locked.
    let still = login(&mut b, ADMIN, PASSWORD);
    assert_eq!(still.status, 401);
    assert!(still.body.contains("Your account is locked"));
    assert!(org.last_reason().contains("locked out until"));
    assert!(org.user(ADMIN).is_locked(org.clock_now()));
    org.advance_minutes(14);
    assert_eq!(login(&mut b, ADMIN, PASSWORD).status, 401);
    org.advance_minutes(2);
    let ok = login(&mut b, ADMIN, PASSWORD);
    assert_eq!(ok.status, 303, "{}", ok.body);
}

#[test]
fn a_form_post_without_the_csrf_token_is_refused() {
    let org = org();
    let (mut b, csrf) = admin_session(&org);
    let path = "/setup/external-client-apps/settings";
    // The harness org starts with creation allowed; turning it off without a token must fail.
    let forged = b.post(path, &[]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    let wrong = b.post(path, &[("sfr_csrf", "not-the-token")]);
    assert_eq!(wrong.status, 403);
    assert!(org.store().org().unwrap().allow_connected_app_creation);
    let ok = b.post(path, &[("sfr_csrf", &csrf)]);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(!org.store().org().unwrap().allow_connected_app_creation);
    // The login form itself is protected by its double-submit cookie.
    let mut fresh = org.browser();
    let r = fresh.post(
        "/setup/login",
        &[("username", ADMIN), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Your login page expired"));
    // Another user's session token does not work in this session.
    let (mut other, other_csrf) = admin_session(&org);
    assert_ne!(other_csrf, csrf);
    assert_eq!(other.post(path, &[("sfr_csrf", &csrf)]).status, 403);
}

#[test]
fn script_in_an_app_name_is_shown_as_text() {
    let org = org().with_app(TestApp::web("<script>alert(1)</script>"));
    let (mut b, _) = admin_session(&org);
    let list = b.get("/setup/apps");
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("<script>alert"), "{}", list.body);
    assert!(
        list.body.contains("&#60;script&#62;alert(1)")
            || list.body.contains("&lt;script&gt;alert(1)")
    );
    let app = org.app("<script>alert(1)</script>");
    let page = b.get(&format!("/setup/apps/{}", app.app.id));
    assert!(!page.body.contains("<script>alert"));
    // Quick Find echoes the query as text too.
    let q = b.get("/setup/quick-find?q=%3Cimg%20src%3Dx%3E");
    assert!(!q.body.contains("<img src=x>"));
}

#[test]
fn pages_send_anti_framing_and_content_type_headers_and_a_tight_cookie() {
    let org = org();
    let mut b = org.browser();
    let form = b.get("/setup/login");
    let csrf = field(&form, "sfr_csrf");
    let resp = b.post(
        "/setup/login",
        &[
            ("sfr_csrf", &csrf),
            ("username", ADMIN),
            ("password", PASSWORD),
        ],
    );
    let cookie = resp
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("sfr_sid="))
        .expect("session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(
        cookie.contains("Max-Age=7200"),
        "org session timeout: {cookie}"
    );
    for path in [
        "/setup",
        "/setup/apps",
        "/setup/users",
        "/setup/login-history",
    ] {
        let r = b.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("content-type"), Some("text/html;charset=UTF-8"));
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
}

#[test]
fn the_session_ends_with_the_org_session_timeout() {
    let org = org();
    let (mut b, _) = admin_session(&org);
    org.advance_minutes(119);
    assert_eq!(b.get("/setup/users").status, 200);
    org.advance_minutes(2);
    let r = b.get("/setup/users");
    assert_eq!(r.status, 303);
    assert!(
        r.header("location")
            .unwrap_or_default()
            .starts_with("/setup/login")
    );
}

#[test]
fn consumer_details_need_the_emailed_code() {
    let org = org().with_app(TestApp::web("Hub"));
    let app = org.app("Hub");
    let (mut b, csrf) = admin_session(&org);
    let base = format!("/setup/apps/{}/consumer", app.app.id);
    let ask = b.post(&base, &[("sfr_csrf", &csrf)]);
    assert_eq!(ask.status, 200, "{}", ask.body);
    assert!(ask.body.contains("Verification Code"));
    assert!(
        !ask.body.contains(&app.key),
        "key shown before verification"
    );
    let mail = org.store().sent_mail(5).unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ADMIN);
    let code: String = mail[0]
        .body
        .split("Verification Code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let bad = b.post(
        &format!("{base}/verify"),
        &[("sfr_csrf", &csrf), ("code", wrong)],
    );
    assert_eq!(bad.status, 401);
    assert!(bad.body.contains("4 tries left"));
    assert!(!bad.body.contains(&app.secret));
    let good = b.post(
        &format!("{base}/verify"),
        &[("sfr_csrf", &csrf), ("code", &code)],
    );
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(good.body.contains(&app.key) && good.body.contains(&app.secret));
    assert!(good.body.contains("data-copy=\"consumer-key\""));
    // A code works once.
    let again = b.post(
        &format!("{base}/verify"),
        &[("sfr_csrf", &csrf), ("code", &code)],
    );
    assert_eq!(again.status, 401);
    // Sent Email shows the message.
    let sent = b.get("/setup/sent-email");
    assert!(sent.body.contains(&code) && sent.body.contains("the local outbox"));
}

#[test]
fn verification_codes_expire() {
    let org = org().with_app(TestApp::web("Hub"));
    let app = org.app("Hub");
    let (mut b, csrf) = admin_session(&org);
    let base = format!("/setup/apps/{}/consumer", app.app.id);
    b.post(&base, &[("sfr_csrf", &csrf)]);
    let body = org.store().sent_mail(1).unwrap()[0].body.clone();
    let code: String = body
        .split("Code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    org.advance_minutes(11);
    let late = b.post(
        &format!("{base}/verify"),
        &[("sfr_csrf", &csrf), ("code", &code)],
    );
    assert_eq!(late.status, 401);
    assert!(late.body.contains("expired"));
}

#[test]
fn policies_and_preauthorization_are_saved() {
    let org = org().with_app(TestApp::web("Hub"));
    let app = org.app("Hub");
    let (mut b, csrf) = admin_session(&org);
    let id = app.app.id.to_string();
    let r = b.post(
        &format!("/setup/apps/{id}/policies"),
        &[
            ("sfr_csrf", &csrf),
            ("permitted_users", "admin-approved"),
            ("ip_relaxation", "bypass"),
            ("refresh_policy", "expire-after"),
            ("refresh_amount", "90"),
            ("refresh_unit", "d"),
            ("session_timeout", "15"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b.post(
        &format!("/setup/apps/{id}/profiles"),
        &[("sfr_csrf", &csrf), ("item", "System Administrator")],
    );
    assert_eq!(r.status, 303);
    let saved = org.store().app_by_name("Hub").unwrap().unwrap();
    assert_eq!(saved.refresh_policy.to_string(), "expire-after:90d");
    assert_eq!(saved.session_timeout_minutes, Some(15));
    assert_eq!(saved.profiles, vec!["System Administrator".to_owned()]);
    let manage = b.get(&format!("/setup/apps/{id}/manage"));
    assert!(manage.body.contains("Expire refresh token after 90 days"));
    assert!(manage.body.contains("15 minutes"));
    assert!(
        manage
            .body
            .contains("Admin approved users are pre-authorized")
    );
    // A bad period is explained, not saved.
    let bad = b.post(
        &format!("/setup/apps/{id}/policies"),
        &[
            ("sfr_csrf", &csrf),
            ("refresh_policy", "expire-after"),
            ("refresh_amount", "0"),
        ],
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Refresh Token Policy"));
}

#[test]
fn users_are_created_deactivated_and_given_profiles_and_permission_sets() {
    let org = org();
    let (mut b, csrf) = admin_session(&org);
    let r = b.post(
        "/setup/users",
        &[
            ("sfr_csrf", &csrf),
            ("first_name", "Dev"),
            ("last_name", "Eloper"),
            ("email", "dev@example.com"),
            ("username", "dev@example.com"),
            ("profile", "Standard User"),
            ("password", "Secret-pass-42"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let user = org.user("dev@example.com");
    let path = format!("/setup/users/{}", user.id);
    assert_eq!(
        b.post(
            &path,
            &[
                ("sfr_csrf", &csrf),
                ("action", "profile"),
                ("profile", "System Administrator")
            ]
        )
        .status,
        303
    );
    let r = b.post(
        "/setup/permission-sets",
        &[("sfr_csrf", &csrf), ("label", "CLI Access")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b.post(
        "/setup/permission-sets/assign",
        &[
            ("sfr_csrf", &csrf),
            ("permission_set", "CLI_Access"),
            ("user", user.id.as_str()),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        b.post(&path, &[("sfr_csrf", &csrf), ("action", "deactivate")])
            .status,
        303
    );
    let user = org.user("dev@example.com");
    assert_eq!(user.profile.name, "System Administrator");
    assert!(user.has_permission_set("CLI_Access"));
    assert!(!user.active);
    // Duplicate usernames are explained on the form.
    let dup = b.post(
        "/setup/users",
        &[
            ("sfr_csrf", &csrf),
            ("last_name", "Again"),
            ("email", "dev@example.com"),
            ("username", "dev@example.com"),
            ("password", "Secret-pass-42"),
        ],
    );
    assert_eq!(dup.status, 400);
    assert!(dup.body.contains("already exists"));
}

#[test]
fn new_connected_app_refuses_a_bad_certificate_and_reports_the_gate() {
    let org = org();
    let (mut b, csrf) = admin_session(&org);
    let r = b.post(
        "/setup/apps/new",
        &[
            ("sfr_csrf", &csrf),
            ("name", "JWT App"),
            ("contact_email", ADMIN),
            ("oauth_enabled", "on"),
            ("callback_urls", "http://localhost:1717/OauthRedirect"),
            ("scope", "api"),
            ("digital_signatures", "on"),
            (
                "certificate",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            ),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Use digital signatures"), "{}", r.body);
    assert!(org.store().app_by_name("JWT App").unwrap().is_none());
    org.store()
        .update_org(&sfr_org::model::OrgSettingsUpdate {
            allow_connected_app_creation: Some(false),
            ..Default::default()
        })
        .unwrap();
    let blocked = b.post(
        "/setup/apps/new",
        &[
            ("sfr_csrf", &csrf),
            ("name", "Later"),
            ("contact_email", ADMIN),
            ("oauth_enabled", "on"),
            ("callback_urls", "http://localhost:1717/OauthRedirect"),
            ("scope", "api"),
        ],
    );
    assert_eq!(blocked.status, 400);
    assert!(blocked.body.contains("Allow creation of connected apps"));
}

/// The New Connected App form's "Introspect All Tokens" box reaches the app, off unless ticked, and the app's
/// page says which.
#[test]
fn new_connected_app_takes_introspect_all_tokens() {
    let org = org();
    let (mut b, csrf) = admin_session(&org);
    for (name, ticked) in [("Gateway", true), ("Plain", false)] {
        let mut form = vec![
            ("sfr_csrf", csrf.as_str()),
            ("name", name),
            ("contact_email", ADMIN),
            ("oauth_enabled", "on"),
            ("callback_urls", "http://localhost:1717/OauthRedirect"),
            ("scope", "api"),
        ];
        if ticked {
            form.push(("introspect_all_tokens", "on"));
        }
        let r = b.post("/setup/apps/new", &form);
        assert!(r.status < 400, "{}: {}", r.status, r.body);
        let app = org.store().app_by_name(name).unwrap().expect("created");
        assert_eq!(app.introspect_all_tokens, ticked, "{name}");
        let page = b.get(&format!("/setup/apps/{}", app.id.as_str()));
        let shown = if ticked { "Yes" } else { "No" };
        assert!(
            page.body
                .contains(&format!("<dt>Introspect All Tokens</dt><dd>{shown}</dd>")),
            "{}",
            page.body
        );
    }
}

#[test]
fn oauth_usage_revokes_a_users_tokens_for_an_app() {
    let org = org().with_app(TestApp::web("Hub"));
    let tokens = org.web_login("Hub", "pat@example.com");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (mut b, csrf) = admin_session(&org);
    let app = org.app("Hub");
    let user = org.user("pat@example.com");
    let r = b.post(
        "/setup/oauth-usage",
        &[
            ("sfr_csrf", &csrf),
            ("app", app.app.id.as_str()),
            ("user", user.id.as_str()),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("Revoked every session of pat@example.com for Hub, and 1 refresh token."),
        "{}",
        r.body
    );
    let hash = sfr_org::keys::token_key(&access);
    assert!(
        org.store()
            .access_token(&hash)
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
}

#[test]
fn quick_find_finds_the_guides_pages() {
    let org = org();
    let (mut b, _) = admin_session(&org);
    let r = b.get("/setup/quick-find?q=External+Client+Apps+Settings");
    assert!(
        r.body
            .contains("href=\"/setup/external-client-apps/settings\"")
    );
    let settings = b.get("/setup/external-client-apps/settings");
    assert!(settings.body.contains("Allow creation of connected apps"));
    org.store()
        .update_org(&sfr_org::model::OrgSettingsUpdate {
            connected_apps_permission: Some(false),
            ..Default::default()
        })
        .unwrap();
    let off = b.get("/setup/external-client-apps/settings");
    assert!(off.body.contains("must be enabled first"));
}

#[test]
fn a_verification_code_is_dropped_after_five_wrong_tries() {
    use sfr_org::model::{CodeCheck, VerificationCode};
    let org = org();
    let user = org.user(ADMIN);
    let now = org.clock_now();
    let store = org.store();
    store
        .issue_verification_code(&VerificationCode {
            user_id: user.id.clone(),
            purpose: "p".into(),
            code_hash: sfr_org::keys::hash_token("123456"),
            expires_at: now + 60_000,
        })
        .unwrap();
    let wrong = sfr_org::keys::hash_token("654321");
    for left in (0..5).rev() {
        assert_eq!(
            store
                .consume_verification_code(&user.id, "p", &wrong, now)
                .unwrap(),
            CodeCheck::Wrong {
                attempts_left: left
            }
        );
    }
    let right = sfr_org::keys::hash_token("123456");
    assert_eq!(
        store
            .consume_verification_code(&user.id, "p", &right, now)
            .unwrap(),
        CodeCheck::Missing,
        "the right code no longer works once the tries are used up"
    );
    // Another purpose never shares a code.
    assert_eq!(
        store
            .consume_verification_code(&user.id, "other", &right, now)
            .unwrap(),
        CodeCheck::Missing
    );
}

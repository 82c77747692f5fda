//! Hostile and broken input: always the catalogue's JSON, never a 500 or a panic.

use super::*;

#[test]
fn huge_bodies_are_refused_with_json() {
    let org = TestOrg::new();
    let big = format!(
        "grant_type=refresh_token&refresh_token={}",
        "a".repeat(200_000)
    );
    org.post_raw(
        "/services/oauth2/token",
        "application/x-www-form-urlencoded",
        big.as_bytes(),
        &[],
    )
    .assert_oauth_error(413, "invalid_request", "request too large");
    org.post_chunked(
        "/services/oauth2/token",
        "application/x-www-form-urlencoded",
        big.as_bytes(),
    )
    .assert_oauth_error(413, "invalid_request", "request too large");
}

#[test]
fn huge_headers_are_refused() {
    let org = TestOrg::new();
    let long = "x".repeat(40_000);
    let resp = org.post_form(
        "/services/oauth2/token",
        &[("grant_type", "x")],
        &[("x-filler", &long)],
    );
    assert_eq!(resp.status, 431);
    assert_eq!(resp.json()["error_description"], "request too large");
}

#[test]
fn garbage_forms_and_bodies() {
    let org = TestOrg::new();
    let cases: &[(&str, &[u8])] = &[
        ("application/x-www-form-urlencoded", b"%%%&&&===&grant_type"),
        (
            "application/x-www-form-urlencoded",
            &[0xff, 0xfe, 0x00, b'=', 0x80],
        ),
        (
            "multipart/form-data; boundary=zz",
            b"--zz\r\nnot a header\r\n",
        ),
        ("multipart/form-data", b"no boundary"),
        (
            "application/json",
            br#"{"grant_type":"authorization_code"}"#,
        ),
        ("text/plain", b""),
    ];
    for (ctype, body) in cases {
        let resp = org.post_raw("/services/oauth2/token", ctype, body, &[]);
        assert_eq!(resp.status, 400, "{ctype}: {}", resp.body);
        let e = resp.json();
        assert!(
            e["error"].is_string() && e["error_description"].is_string(),
            "{ctype}: {e}"
        );
    }
}

#[test]
fn broken_headers_and_paths() {
    let org = TestOrg::new()
        .with_user(TestUser::standard("std@example.com"))
        .with_app(TestApp::web("Demo"));
    for auth in ["Bearer", "OAuth", "Basic", "Negotiate abc", "Bearer a b c"] {
        let resp = org.get("/services/oauth2/userinfo", &[("authorization", auth)]);
        assert_eq!(resp.status, 401, "{auth}");
    }
    assert_eq!(
        org.get("/id/short/alsoshort", &[("authorization", "Bearer x")])
            .status,
        403
    );
    assert_eq!(
        org.get("/services/data/v51.0/sobjects/User/!!", &[]).status,
        401
    );
    let app = org.app("Demo");
    let resp = org.get(
        &format!(
            "/services/oauth2/authorize?client_id={}&redirect_uri=%ZZ&response_type=code",
            app.key
        ),
        &[("cookie", "sfr_sid=%%%")],
    );
    assert_eq!(resp.status, 400);
    let resp = org.post_raw(
        "/services/oauth2/authorize",
        "application/x-www-form-urlencoded",
        b"sfr_action=approve&client_id=x",
        &[("cookie", "sfr_sid=AAAA")],
    );
    assert_eq!(resp.status, 400);
    let resp = org.post_raw(
        "/services/oauth2/revoke",
        "multipart/form-data; boundary=q",
        b"--q--",
        &[],
    );
    assert_eq!(resp.status, 400);
}

#[test]
fn wrong_methods_get_json() {
    let org = TestOrg::new();
    let resp = org.get("/services/oauth2/token", &[]);
    assert_eq!(resp.status, 405);
    assert_eq!(resp.json()["error"], "invalid_request");
    let resp = org.post_form("/services/data/v66.0/sobjects", &[], &[]);
    assert_eq!(resp.status, 405);
}

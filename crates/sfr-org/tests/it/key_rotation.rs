//! Signing-key rotation over HTTP: the next key appears in `/id/keys` as soon as it is added, ID tokens are
//! signed with it only from its start time, and the replaced key stays published meanwhile.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{TestApp, TestOrg, TestUser, s};

fn published_kids(org: &TestOrg) -> Vec<String> {
    let resp = org.get("/id/keys", &[]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

fn id_token_kid(org: &TestOrg) -> String {
    let tokens = org.web_login("Rotating", "rot@example.com");
    let id_token = s(&tokens, "id_token");
    let header = id_token.split('.').next().expect("a JWT");
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("JSON");
    s(&header, "kid")
}

#[test]
fn the_next_key_is_published_before_it_signs() {
    let org = TestOrg::new()
        .with_user(TestUser::standard("rot@example.com"))
        .with_app(TestApp::web("Rotating"));
    let first = org.state().signing_key.kid.clone();
    assert_eq!(published_kids(&org), std::slice::from_ref(&first));
    assert_eq!(id_token_kid(&org), first);

    let mut next = sfr_org::keys::generate_signing_key(org.clock_now()).expect("key");
    next.kid = format!("{first}-next");
    org.store()
        .add_signing_key(&next, org.clock_now() + 60 * 60_000)
        .expect("add the next key");
    assert_eq!(
        published_kids(&org),
        [first.clone(), next.kid.clone()],
        "published at once"
    );
    assert_eq!(id_token_kid(&org), first, "not signing yet");

    org.advance_minutes(60);
    assert_eq!(id_token_kid(&org), next.kid, "signing from its start");
    assert_eq!(
        published_kids(&org),
        [next.kid.clone(), first.clone()],
        "the replaced key is still published"
    );
    org.advance_minutes(25 * 60);
    assert_eq!(published_kids(&org), [next.kid.clone()]);
}

//! End to end: the real `sfr` binary against a real `sfr-org` on loopback. Web login through a curl "browser"
//! that logs in and approves on the org's pages, JWT login with a key made by `sfr cert create`, refresh after the
//! org's session timeout, revoked refresh tokens, concurrent refreshes, logout.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::harness::*;
use crate::login_offline::{free_port, offline, project_with_port, wait_for_file};
use crate::org_server::{PASSWORD, TestOrg};

/// A `$BROWSER` that, in the background, does what a person does in a browser: open the authorize URL, post the
/// login form (every hidden field round-trips, so CSRF works), post the approve form if shown, and follow the
/// redirect to sfr's loopback server and its success page. `done` gets `<final URL> <status>` when finished.
fn curl_browser(dir: &Path, username: &str, password: &str) -> (PathBuf, PathBuf) {
    let done = dir.join("browser.done");
    let script = dir.join("curl-browser.sh");
    let body = format!(
        r#"#!/bin/sh
URL="$1"
W='{w}'
(
J="$W/jar"
BASE=$(printf '%s' "$URL" | sed -E 's#^(https?://[^/]+).*#\1#')
fields() {{
  grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' "$1" \
    | sed -E 's/.*name="([^"]*)" value="([^"]*)"/\1=\2/' \
    | sed -e 's/&quot;/"/g' -e "s/&#39;/'/g" -e "s/&#x27;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' \
          -e 's#&\#x2f;#/#g' -e 's#&\#47;#/#g' -e 's/&amp;/\&/g'
}}
postform() {{
  f="$1"; out="$2"; shift 2
  set --
  while IFS= read -r line; do set -- "$@" --data-urlencode "$line"; done < "$f"
  curl -s -k -L -c "$J" -b "$J" -o "$out" -w '%{{url_effective}} %{{http_code}}' "$@" "$BASE/services/oauth2/authorize"
}}
curl -s -k -L -c "$J" -b "$J" -o "$W/page1.html" "$URL"
fields "$W/page1.html" > "$W/form1"
printf '%s\n' 'username={user}' 'password={pass}' >> "$W/form1"
RESULT=$(postform "$W/form1" "$W/page2.html")
if grep -q 'value="approve"' "$W/page2.html"; then
  fields "$W/page2.html" > "$W/form2"
  printf '%s\n' 'sfr_action=approve' >> "$W/form2"
  RESULT=$(postform "$W/form2" "$W/page3.html")
fi
printf '%s' "$RESULT" > "$W/browser.done.tmp"
mv "$W/browser.done.tmp" "$W/browser.done"
) > "$W/browser.log" 2>&1 </dev/null &
exit 0
"#,
        w = dir.display(),
        user = username,
        pass = password,
    );
    fs::write(&script, body).expect("write browser");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, done)
}

/// Trusts the org's test CA when it serves https (sf's variable).
fn with_ca(org: &TestOrg, cmd: SfrCmd) -> SfrCmd {
    match &org.ca_file {
        Some(ca) => cmd.env("NODE_EXTRA_CA_CERTS", ca.as_os_str()),
        None => cmd,
    }
}

fn auth_file(home: &Path, username: &str) -> Value {
    let text = fs::read_to_string(home.join(format!(".sfdx/{username}.json"))).expect("auth file");
    assert!(!text.ends_with('\n'), "sf writes no trailing newline");
    serde_json::from_str(&text).expect("auth file JSON")
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

/// Web login with a custom app on a free port; returns (home, project dir, consumer key, username).
pub(crate) struct WebLogin {
    pub(crate) home: tempfile::TempDir,
    pub(crate) project: PathBuf,
    pub(crate) username: String,
    pub(crate) out: Output,
}

pub(crate) fn web_login(
    org: &TestOrg,
    username: &str,
    extra: &[&str],
    session_timeout: Option<u32>,
) -> WebLogin {
    org.user(username);
    let home = empty_home();
    let port = free_port();
    let project = project_with_port(home.path(), port);
    let (key, secret) = org.web_app(&format!("Web App {port}"), port, session_timeout);
    let (browser, done) = curl_browser(home.path(), username, PASSWORD);
    let mut args: Vec<String> = [
        "org",
        "login",
        "web",
        "-r",
        &org.url(),
        "-i",
        &key,
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = with_ca(org, offline(SfrCmd::new()))
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .stdin(format!("{secret}\n"))
        .args(args)
        .run();
    wait_for_file(&done);
    let landed = fs::read_to_string(&done).unwrap();
    assert!(
        landed.starts_with(&format!("http://localhost:{port}/OauthSuccess 200")),
        "browser ended at {landed}; log:\n{}\n--- sfr stderr\n{}",
        fs::read_to_string(home.path().join("browser.log")).unwrap_or_default(),
        out.stderr
    );
    WebLogin {
        home,
        project,
        username: username.to_owned(),
        out,
    }
}

#[test]
fn web_login_saves_what_sf_saves_and_reports_it_redacted() {
    let org = TestOrg::start();
    let login = web_login(&org, "web.user@example.com", &["-a", "weborg", "-s"], None);
    login.out.success();
    let v = login.out.json();
    let r = &v["result"];
    assert_eq!(
        keys(r),
        [
            "accessToken",
            "instanceUrl",
            "orgId",
            "username",
            "loginUrl",
            "clientId",
            "isDevHub",
            "instanceApiVersion",
            "instanceApiVersionLastRetrieved",
            "name",
            "instanceName",
            "namespacePrefix",
            "isSandbox",
            "isScratch",
            "trailExpirationDate",
            "orgEdition"
        ],
        "{v}"
    );
    assert_eq!(
        r["accessToken"],
        "[REDACTED] Use 'sf org auth show-access-token' to view"
    );
    assert_eq!(r["username"], "web.user@example.com");
    assert_eq!(r["loginUrl"], format!("{}/", org.url()));
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("Secrets are now hidden from 'sf org login web' command output.")
    );
    assert_eq!(
        warnings[1],
        format!("Using insecure protocol: http: on url: {}", org.url())
    );

    let file = auth_file(login.home.path(), &login.username);
    assert_eq!(
        keys(&file),
        [
            "accessToken",
            "instanceUrl",
            "orgId",
            "username",
            "loginUrl",
            "refreshToken",
            "clientId",
            "clientSecret",
            "isDevHub",
            "instanceApiVersion",
            "instanceApiVersionLastRetrieved",
            "name",
            "instanceName",
            "namespacePrefix",
            "isSandbox",
            "isScratch",
            "trailExpirationDate",
            "orgEdition"
        ]
    );
    // Secrets are encrypted at rest: `<iv><hex>:<32-hex tag>`.
    for k in ["accessToken", "refreshToken", "clientSecret"] {
        let s = file[k].as_str().unwrap();
        assert_eq!(s.split(':').nth(1).map(str::len), Some(32), "{k} = {s}");
    }
    // -a then -s: alias first, target-org names the alias (outside a project it would be global; here local).
    assert_eq!(
        fs::read_to_string(login.home.path().join(".sfdx/alias.json")).unwrap(),
        r#"{"orgs":{"weborg":"web.user@example.com"}}"#
    );
    let local = fs::read_to_string(login.project.join(".sf/config.json")).unwrap();
    assert!(local.contains(r#""target-org": "weborg""#), "{local}");

    let display = offline(SfrCmd::new())
        .home(login.home.path())
        .cwd(&login.project)
        .args(["org", "display", "--json"])
        .run();
    display.success();
    assert_eq!(display.json()["result"]["connectedStatus"], "Connected");
}

#[test]
fn web_login_human_output_and_a_wrong_secret() {
    let org = TestOrg::start();
    org.user("human@example.com");
    let home = empty_home();
    let port = free_port();
    let project = project_with_port(home.path(), port);
    let (key, _secret) = org.web_app("Human App", port, None);
    let (browser, done) = curl_browser(home.path(), "human@example.com", PASSWORD);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .stdin("not-the-secret\n")
        .args([
            "org",
            "login",
            "web",
            "-r",
            &org.url(),
            "-i",
            &key,
            "--json",
        ])
        .run();
    wait_for_file(&done);
    out.code(1);
    let v = out.json();
    assert_eq!(v["name"], "AuthCodeExchangeError");
    assert!(
        v["message"].as_str().unwrap().starts_with(
            "Invalid client credentials. Verify the OAuth client secret and ID. Error authenticating with auth code due to: invalid_client::"
        ),
        "{v}"
    );
    assert!(!home.path().join(".sfdx/human@example.com.json").exists());
}

#[test]
fn web_org_refreshes_after_the_session_times_out_and_reauth_hint_after_revoke() {
    let org = TestOrg::start();
    let login = web_login(&org, "refresh.user@example.com", &["-a", "r1"], Some(15));
    login.out.success();
    let before = auth_file(login.home.path(), &login.username);
    org.advance(Duration::from_secs(60 * 60));

    let shown = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "display", "-o", "r1", "--json"])
        .run();
    shown.success();
    let v = shown.json();
    assert_eq!(v["result"]["connectedStatus"], "Connected", "{v}");
    let after = auth_file(login.home.path(), &login.username);
    assert_ne!(
        before["accessToken"], after["accessToken"],
        "a new access token was saved"
    );

    // The new token works without another refresh.
    let token = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "auth", "show-access-token", "-o", "r1", "--json"])
        .run();
    token.success();
    assert!(
        token.json()["result"]["accessToken"]
            .as_str()
            .unwrap()
            .starts_with("00D")
    );

    // Revoke everything the user holds for the app: the refresh token is dead.
    let store = org.store();
    let user = store.user_by_username(&login.username).unwrap().unwrap();
    let client_id = {
        let text = fs::read_to_string(
            login
                .home
                .path()
                .join(format!(".sfdx/{}.json", login.username)),
        )
        .unwrap();
        serde_json::from_str::<Value>(&text).unwrap()["clientId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let app = store.app_by_consumer_key(&client_id).unwrap().unwrap();
    store
        .revoke_user_app_tokens(&user.id, &app.id, org.now())
        .unwrap();
    let dead = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "display", "-o", "r1", "--json"])
        .run();
    dead.success();
    let v = dead.json();
    assert_eq!(
        v["result"]["connectedStatus"],
        "Unable to refresh session due to: Error authenticating with the refresh token due to: expired access/refresh token",
        "{v}"
    );
    let hint = format!(
        "The authorization of refresh.user@example.com has expired or was revoked. Log in again with: sfr org login web --instance-url {}/ --client-id {client_id} --alias r1",
        org.url()
    );
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|w| *w == hint),
        "{v}"
    );
    let list = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "list", "--json"])
        .run();
    list.success();
    let listed = list.json().to_string();
    assert!(listed.contains("Unable to refresh session"), "{listed}");

    // A command that needs the org names it and the exact command that re-authorizes it.
    let sfdx_url = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "auth", "show-sfdx-auth-url", "-o", "r1", "--json"])
        .run();
    sfdx_url.success();
    assert!(
        sfdx_url.json()["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Unable to refresh auth for org")
    );
}

#[test]
fn concurrent_refreshes_leave_a_valid_store() {
    let org = TestOrg::start();
    let login = web_login(&org, "busy.user@example.com", &["-a", "busy"], Some(15));
    login.out.success();
    org.advance(Duration::from_secs(60 * 60));
    let children: Vec<_> = (0..4)
        .map(|_| {
            let home = login.home.path().to_path_buf();
            std::thread::spawn(move || {
                offline(SfrCmd::new())
                    .home(&home)
                    .args(["org", "display", "-o", "busy", "--json"])
                    .run()
            })
        })
        .collect();
    for child in children {
        let out = child.join().unwrap();
        out.success();
        assert_eq!(
            out.json()["result"]["connectedStatus"],
            "Connected",
            "{}",
            out.stdout
        );
    }
    let again = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "display", "-o", "busy", "--json"])
        .run();
    again.success();
    assert_eq!(again.json()["result"]["connectedStatus"], "Connected");
    assert!(
        !login
            .home
            .path()
            .join(".sfdx/busy.user@example.com.json.lock")
            .exists()
    );
}

fn cert_in(home: &Path) -> (PathBuf, PathBuf) {
    SfrCmd::new()
        .home(home)
        .args(["cert", "create"])
        .run()
        .success();
    (home.join("server.key"), home.join("server.crt"))
}

#[test]
fn jwt_login_with_a_cert_from_sfr_cert_create_then_refresh_and_logout() {
    let org = TestOrg::start();
    org.user("jwt.user@example.com");
    let home = empty_home();
    let (key, crt) = cert_in(home.path());
    let client_id = org.jwt_app("JWT App", &crt, true);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.user@example.com",
            "-f",
            "server.key",
            "-i",
            &client_id,
            "-r",
            &org.url(),
            "-a",
            "j1",
            "-s",
            "--json",
        ])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(v["result"]["username"], "jwt.user@example.com");
    assert!(v["result"]["orgId"].as_str().unwrap().starts_with("00D"));
    let file = auth_file(home.path(), "jwt.user@example.com");
    assert_eq!(
        keys(&file)[..8],
        [
            "accessToken",
            "orgId",
            "loginUrl",
            "privateKey",
            "clientId",
            "instanceUrl",
            "isDevHub",
            "username"
        ]
    );
    assert_eq!(file["privateKey"], key.display().to_string());
    assert!(file.get("refreshToken").is_none());
    {
        use std::os::unix::fs::PermissionsExt;
        let path = home.path().join(".sfdx/jwt.user@example.com.json");
        let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a new auth file is owner-only");
    }
    let global = fs::read_to_string(home.path().join(".sf/config.json")).unwrap();
    assert!(global.contains(r#""target-org": "j1""#), "{global}");

    // Human form of the same login.
    let human = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.user@example.com",
            "-f",
            "server.key",
            "-i",
            &client_id,
            "-r",
            &org.url(),
        ])
        .run();
    human.success();
    assert!(
        human
            .stdout
            .starts_with("Successfully authorized jwt.user@example.com with org ID 00D"),
        "{}",
        human.stdout
    );
    // sf semantics: a re-login without -a drops the old alias and the config pointing at it.
    assert!(
        !fs::read_to_string(home.path().join(".sfdx/alias.json"))
            .unwrap()
            .contains("j1")
    );

    // Kill the session on the org side (moving the org's clock by minutes would also put the next assertion's
    // `exp` in the org's past): the next call gets a 401 and sfr signs a fresh assertion. The revocation takes
    // every session issued in its millisecond, so the clock moves on by one before the next grant.
    let before = auth_file(home.path(), "jwt.user@example.com")["accessToken"].clone();
    let user = org
        .store()
        .user_by_username("jwt.user@example.com")
        .unwrap()
        .unwrap();
    let app = org
        .store()
        .app_by_consumer_key(&client_id)
        .unwrap()
        .unwrap();
    org.store()
        .revoke_user_app_tokens(&user.id, &app.id, org.now())
        .unwrap();
    org.advance(Duration::from_millis(1));
    let shown = offline(SfrCmd::new())
        .home(home.path())
        .args(["org", "display", "-o", "jwt.user@example.com", "--json"])
        .run();
    shown.success();
    assert_eq!(
        shown.json()["result"]["connectedStatus"],
        "Connected",
        "{}",
        shown.stdout
    );
    assert_ne!(
        auth_file(home.path(), "jwt.user@example.com")["accessToken"],
        before,
        "a fresh JWT was used"
    );

    let logout = SfrCmd::new()
        .home(home.path())
        .args([
            "org",
            "logout",
            "-o",
            "jwt.user@example.com",
            "--no-prompt",
            "--json",
        ])
        .run();
    logout.success();
    assert!(!home.path().join(".sfdx/jwt.user@example.com.json").exists());
}

#[test]
fn jwt_login_errors_name_their_cause() {
    let org = TestOrg::start();
    org.user("jwt.err@example.com");
    let home = empty_home();
    let (_key, crt) = cert_in(home.path());

    // Not pre-authorized: the app lets users self-authorize, and this one never approved it.
    let self_auth = org.jwt_app("Self Authorize App", &crt, false);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.err@example.com",
            "-f",
            "server.key",
            "-i",
            &self_auth,
            "-r",
            &org.url(),
            "--json",
        ])
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v["name"], "JwtGrantError");
    assert_eq!(v["code"], "JwtGrantError");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("isn't authorized to use connected app"),
        "{v}"
    );
    assert!(
        v["actions"][0].as_str().unwrap().contains("pre-authorized"),
        "{v}"
    );

    // Certificate of another key.
    let other = empty_home();
    let (_other_key, other_crt) = cert_in(other.path());
    let mismatched = org.jwt_app("Other Cert App", &other_crt, true);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.err@example.com",
            "-f",
            "server.key",
            "-i",
            &mismatched,
            "-r",
            &org.url(),
            "--json",
        ])
        .run();
    out.code(1);
    let v = out.json();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("doesn't match the private key"),
        "{v}"
    );

    // Unknown consumer key.
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.err@example.com",
            "-f",
            "server.key",
            "-i",
            "3MVG9nosuchapp",
            "-r",
            &org.url(),
            "--json",
        ])
        .run();
    out.code(1);
    assert!(
        out.json()["message"]
            .as_str()
            .unwrap()
            .contains("has no connected app with consumer key 3MVG9nosuchapp")
    );

    // sf's audience walk: at http://localhost:<port> the first audience (the login URL) is not the org's own
    // (it calls itself 127.0.0.1), the public hosts are unreachable, then aud=https://login.salesforce.com at the
    // same host is accepted.
    let good = org.jwt_app("Audience App", &crt, true);
    let localhost = org.url().replace("127.0.0.1", "localhost");
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.err@example.com",
            "-f",
            "server.key",
            "-i",
            &good,
            "-r",
            &localhost,
            "--json",
        ])
        .run();
    out.success();
    assert_eq!(out.json()["result"]["loginUrl"], format!("{localhost}/"));

    // The org's clock is a day ahead: every assertion looks expired to it.
    org.advance(Duration::from_secs(24 * 60 * 60));
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "jwt.err@example.com",
            "-f",
            "server.key",
            "-i",
            &good,
            "-r",
            &org.url(),
            "--json",
        ])
        .run();
    out.code(1);
    let v = out.json();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("clock is probably wrong"),
        "{v}"
    );
}

#[test]
fn sfdx_auth_url_round_trip_over_https_and_access_token_login() {
    let org = TestOrg::start_tls();
    assert!(org.url().starts_with("https://127.0.0.1:"), "{}", org.url());
    let login = web_login(&org, "url.user@example.com", &["-a", "u1"], None);
    login.out.success();
    let shown = with_ca(&org, offline(SfrCmd::new()))
        .home(login.home.path())
        .args(["org", "auth", "show-sfdx-auth-url", "-o", "u1", "--json"])
        .run();
    shown.success();
    let url = shown.json()["result"]["sfdxAuthUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let host = org.url().trim_start_matches("https://").to_owned();
    assert!(
        url.starts_with("force://3MVG9") && url.ends_with(&format!("@{host}")),
        "{url}"
    );

    // Another machine: the URL on stdin.
    let other = empty_home();
    let out = with_ca(&org, offline(SfrCmd::new()))
        .home(other.path())
        .stdin(format!("{url}\n"))
        .args([
            "org", "login", "sfdx-url", "-u", "-", "-a", "copy", "--json",
        ])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(v["result"]["username"], "url.user@example.com");
    assert_eq!(v["result"]["loginUrl"], org.url());
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("'sf org login sfdx-url'"),
        "{v}"
    );
    let file = auth_file(other.path(), "url.user@example.com");
    assert!(file.get("refreshToken").is_some() && file.get("clientSecret").is_some());

    // The JSON `org display --verbose` prints is accepted as a file.
    let display = with_ca(&org, offline(SfrCmd::new()))
        .home(other.path())
        .env("SF_TEMP_SHOW_SECRETS", "true")
        .args(["org", "display", "-o", "copy", "--verbose", "--json"])
        .run();
    display.success();
    assert_eq!(display.json()["result"]["connectedStatus"], "Connected");
    let third = empty_home();
    fs::write(third.path().join("auth.json"), &display.stdout).unwrap();
    let out = with_ca(&org, offline(SfrCmd::new()))
        .home(third.path())
        .args(["org", "login", "sfdx-url", "-f", "auth.json", "--json"])
        .run();
    out.success();

    // Without the CA the org's certificate is not trusted: a network failure, exit 10.
    let fourth = empty_home();
    let out = offline(SfrCmd::new())
        .home(fourth.path())
        .stdin(url.clone())
        .args(["org", "login", "sfdx-url", "-u", "-", "--json"])
        .run();
    out.code(10);
    assert_eq!(out.json()["name"], "RefreshTokenAuthError");
    // Node's escape hatch turns verification off (with Node's warning), as it does for sf.
    let insecure = offline(SfrCmd::new())
        .home(fourth.path())
        .env("NODE_TLS_REJECT_UNAUTHORIZED", "0")
        .stdin(url.clone())
        .args(["org", "login", "sfdx-url", "-u", "-", "--json"])
        .run();
    insecure.success();
    assert!(
        insecure.stderr.contains("NODE_TLS_REJECT_UNAUTHORIZED"),
        "{}",
        insecure.stderr
    );
    SfrCmd::new()
        .home(fourth.path())
        .args(["org", "logout", "--all", "--no-prompt", "--json"])
        .run()
        .success();

    // The access token works on its own: org login access-token.
    let token = with_ca(&org, offline(SfrCmd::new()))
        .home(login.home.path())
        .args(["org", "auth", "show-access-token", "-o", "u1", "--json"])
        .run();
    token.success();
    let access = token.json()["result"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = with_ca(&org, offline(SfrCmd::new()))
        .home(fourth.path())
        .env("SF_ACCESS_TOKEN", &access)
        .args(["org", "login", "access-token", "-r", &org.url(), "--json"])
        .run();
    out.success();
    let file = auth_file(fourth.path(), "url.user@example.com");
    assert!(
        file.get("clientId").is_none() && file.get("refreshToken").is_none(),
        "{file}"
    );
    assert_eq!(file["instanceUrl"], format!("{}/", org.url()));
    let listed = SfrCmd::new()
        .home(fourth.path())
        .args(["org", "list", "auth", "--json"])
        .run();
    listed.success();
    assert_eq!(listed.json()["result"][0]["oauthMethod"], "token");
}

#[test]
fn default_platform_cli_login_sets_alias_then_target_org_then_dev_hub() {
    // PlatformCLI, like Salesforce's, only registers the callbacks on ports 1717-1719; this test owns 1719.
    let org = TestOrg::start();
    org.user("plat.user@example.com");
    let home = empty_home();
    let project = project_with_port(home.path(), 1719);
    let (browser, done) = curl_browser(home.path(), "plat.user@example.com", PASSWORD);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .args([
            "org",
            "login",
            "web",
            "-r",
            &org.url(),
            "-a",
            "plat",
            "-s",
            "-d",
        ])
        .run();
    wait_for_file(&done);
    out.success();
    assert!(
        out.stdout
            .starts_with("Successfully authorized plat.user@example.com with org ID 00D"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("Using insecure protocol: http:"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("OAuth client secret"),
        "no secret prompt without --client-id"
    );
    let file = auth_file(home.path(), "plat.user@example.com");
    assert_eq!(file["clientId"], "PlatformCLI");
    assert!(file.get("clientSecret").is_none());
    let local = fs::read_to_string(project.join(".sf/config.json")).unwrap();
    let config: Value = serde_json::from_str(&local).unwrap();
    assert_eq!(config["target-org"], "plat");
    assert_eq!(config["target-dev-hub"], "plat");
    let legacy = fs::read_to_string(project.join(".sfdx/sfdx-config.json")).unwrap();
    assert!(legacy.contains("defaultusername"), "{legacy}");
}

#[test]
fn client_app_links_a_second_app_to_an_authorized_user() {
    let org = TestOrg::start();
    let login = web_login(&org, "linked.user@example.com", &["-a", "main"], None);
    login.out.success();
    let port = free_port();
    let project = project_with_port(login.home.path(), port);
    let (key, secret) = org.web_app("Linked App", port, None);
    let (browser, done) = curl_browser(login.home.path(), "linked.user@example.com", PASSWORD);
    let _ = fs::remove_file(&done);
    let out = offline(SfrCmd::new())
        .home(login.home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .stdin(format!("{secret}\n"))
        .args([
            "org",
            "login",
            "web",
            "-r",
            &org.url(),
            "-i",
            &key,
            "--client-app",
            "reports",
            "--username",
            "main",
            "--json",
        ])
        .run();
    wait_for_file(&done);
    out.success();
    let file = auth_file(login.home.path(), "linked.user@example.com");
    let app = &file["clientApps"]["reports"];
    assert_eq!(app["clientId"], key.as_str());
    assert_eq!(app["oauthFlow"], "web");
    for k in ["accessToken", "refreshToken", "clientSecret"] {
        let s = app[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} missing: {file}"));
        assert_eq!(
            s.split(':').nth(1).map(str::len),
            Some(32),
            "{k} is encrypted: {s}"
        );
    }
    let display = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "display", "-o", "main", "--json"])
        .run();
    display.success();
    assert_eq!(display.json()["result"]["clientApps"], "reports");
}

#[test]
fn an_access_token_works_as_a_username_and_is_never_saved() {
    let org = TestOrg::start();
    let login = web_login(&org, "token.user@example.com", &["-a", "t1"], None);
    login.out.success();
    let token = offline(SfrCmd::new())
        .home(login.home.path())
        .args(["org", "auth", "show-access-token", "-o", "t1", "--json"])
        .run();
    token.success();
    let access = token.json()["result"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh = empty_home();
    let out = offline(SfrCmd::new())
        .home(fresh.path())
        .env("SF_ORG_INSTANCE_URL", org.url())
        .args(["org", "display", "-o", &access, "--json"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(v["result"]["connectedStatus"], "Connected", "{v}");
    assert_eq!(v["result"]["instanceUrl"], org.url());
    assert!(v["result"]["id"].as_str().unwrap().starts_with("00D"));
    let saved: Vec<_> = fs::read_dir(fresh.path().join(".sfdx"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        saved.iter().all(|n| !n.contains('@') && !n.contains('!')),
        "{saved:?}"
    );
}

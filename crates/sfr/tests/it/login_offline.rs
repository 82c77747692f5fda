//! Login, display and cert commands through the real binary, on paths that need no org: the loopback redirect
//! server answering a scripted "browser", key-file and token-format errors, unreachable orgs (exit 10), and
//! `display`/`show-*` on a store the real sf wrote.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::*;

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A project directory whose `sfdx-project.json` sets `oauthLocalPort`.
pub fn project_with_port(home: &Path, port: u16) -> PathBuf {
    let dir = home.join("project");
    fs::create_dir_all(&dir).expect("mkdir project");
    fs::write(
        dir.join("sfdx-project.json"),
        format!(r#"{{"packageDirectories":[{{"path":"force-app","default":true}}],"oauthLocalPort":{port}}}"#),
    )
    .expect("write sfdx-project.json");
    dir
}

/// An executable `$BROWSER` script: it gets the URL as `$1`, runs `body` in the background and exits 0 at once,
/// as sf's launcher contract requires.
pub fn browser_script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("browser.sh");
    fs::write(
        &path,
        format!("#!/bin/sh\nURL=\"$1\"\n(\n{body}\n) >/dev/null 2>&1 </dev/null &\nexit 0\n"),
    )
    .expect("write browser script");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Environment that keeps every test off the internet: Salesforce's public hosts (which sf's JWT attempts also
/// try) go through a proxy that does not exist; loopback is direct.
pub fn offline(cmd: SfrCmd) -> SfrCmd {
    cmd.env("HTTPS_PROXY", format!("http://127.0.0.1:{}", free_port()))
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
}

fn error_of(out: &Output) -> Value {
    let v = out.json();
    assert_eq!(v["status"], out.code, "{v}");
    v
}

#[test]
fn cert_create_writes_a_0600_key_and_a_certificate_and_never_overwrites() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["cert", "create", "--output-dir", "keys"])
        .run();
    out.success();
    let key = home.path().join("keys/server.key");
    let crt = home.path().join("keys/server.crt");
    assert_eq!(mode(&key), 0o600);
    assert!(
        fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(
        fs::read_to_string(&crt)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        out.stdout
            .contains("Upload keys/server.crt to the connected app"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("sfr org login jwt --jwt-key-file keys/server.key"),
        "{}",
        out.stdout
    );

    let again = SfrCmd::new()
        .home(home.path())
        .args(["cert", "create", "--output-dir", "keys", "--json"])
        .run();
    again.code(1);
    let v = error_of(&again);
    assert_eq!(v["name"], "FileExistsError");

    let named = SfrCmd::new()
        .home(home.path())
        .args([
            "cert",
            "create",
            "--name",
            "ci",
            "--output-dir",
            "keys",
            "--json",
        ])
        .run();
    named.success();
    let v = named.json();
    assert!(
        v["result"]["privateKeyFile"]
            .as_str()
            .unwrap()
            .ends_with("keys/ci.key"),
        "{v}"
    );
}

#[test]
fn jwt_with_a_missing_key_file_names_the_file() {
    let home = empty_home();
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "u@example.com",
            "-f",
            "nope.key",
            "-i",
            "3MVG9x",
            "-r",
            "http://127.0.0.1:9",
            "--json",
        ])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "JwtGrantError");
    assert_eq!(v["code"], "JwtGrantError");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Cannot read the JWT key file"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("nope.key"), "{v}");
}

#[test]
fn jwt_with_a_key_that_is_not_rsa_pem_is_refused() {
    let home = empty_home();
    fs::write(
        home.path().join("bad.key"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "u@example.com",
            "-f",
            "bad.key",
            "-i",
            "c",
            "-r",
            "http://127.0.0.1:9",
            "--json",
        ])
        .run();
    out.code(1);
    assert!(
        error_of(&out)["message"]
            .as_str()
            .unwrap()
            .contains("holds no private key in PEM form")
    );
}

#[test]
fn jwt_against_an_unreachable_org_exits_10_with_one_message() {
    let home = empty_home();
    SfrCmd::new()
        .home(home.path())
        .args(["cert", "create"])
        .run()
        .success();
    let port = free_port();
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "login",
            "jwt",
            "-o",
            "u@example.com",
            "-f",
            "server.key",
            "-i",
            "3MVG9x",
            "-r",
            &format!("http://127.0.0.1:{port}"),
            "--json",
        ])
        .run();
    out.code(10);
    let v = error_of(&out);
    assert_eq!(v["name"], "JwtGrantError");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("No token endpoint could be reached"),
        "{message}"
    );
    assert!(
        !message.contains('\n'),
        "one line, not one per attempt: {message}"
    );
    let attempts = v["actions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        attempts.contains(&format!(
            "http://127.0.0.1:{port}/ (aud http://127.0.0.1:{port}/): unreachable"
        )),
        "{attempts}"
    );
    assert!(
        attempts
            .contains("https://test.salesforce.com (aud https://test.salesforce.com): unreachable"),
        "{attempts}"
    );
    assert!(!home.path().join(".sfdx/u@example.com.json").exists());
}

#[test]
fn web_login_reports_a_busy_port_and_how_to_pick_another() {
    let home = empty_home();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let project = project_with_port(home.path(), port);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", "true")
        .args(["org", "login", "web", "-r", "http://127.0.0.1:9", "--json"])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "PortInUseError");
    assert_eq!(
        v["message"],
        format!("Cannot start the OAuth redirect server on port {port}.")
    );
    assert!(
        v["actions"][0].as_str().unwrap().contains("oauthLocalPort"),
        "{v}"
    );
}

#[test]
fn web_login_state_mismatch_fails_cleanly_with_a_400() {
    let home = empty_home();
    let port = free_port();
    let project = project_with_port(home.path(), port);
    let answer = home.path().join("answer.txt");
    let browser = browser_script(
        home.path(),
        &format!(
            "sleep 0.3; curl -s -o /dev/null -w '%{{http_code}}' 'http://localhost:{port}/OauthRedirect?code=abcdefgh&state=wrong' > '{a}.tmp'; mv '{a}.tmp' '{a}'",
            a = answer.display()
        ),
    );
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .args(["org", "login", "web", "-r", "http://127.0.0.1:9", "--json"])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "urlStateMismatch");
    assert!(
        v["message"].as_str().unwrap().contains("state parameter"),
        "{v}"
    );
    assert!(
        !v["message"]
            .as_str()
            .unwrap()
            .contains("ERR_HTTP_HEADERS_SENT")
    );
    wait_for_file(&answer);
    assert_eq!(fs::read_to_string(&answer).unwrap(), "400");
}

#[test]
fn web_login_denied_in_the_browser_reports_the_org_error() {
    let home = empty_home();
    let port = free_port();
    let project = project_with_port(home.path(), port);
    let page = home.path().join("page.html");
    let browser = browser_script(
        home.path(),
        &format!(
            "sleep 0.3; curl -s -L -o '{p}.tmp' 'http://localhost:{port}/OauthRedirect?error=access_denied&error_description=end-user%20denied%20authorization'; mv '{p}.tmp' '{p}'",
            p = page.display()
        ),
    );
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .args(["org", "login", "web", "-r", "http://127.0.0.1:9", "--json"])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "access_denied");
    assert_eq!(v["code"], "access_denied");
    assert_eq!(v["message"], "end-user denied authorization");
    wait_for_file(&page);
    let html = fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("access_denied") && html.contains("end-user denied authorization"),
        "{html}"
    );
}

#[test]
fn web_login_exchange_against_an_unreachable_org_uses_sf_prefix_and_exit_10() {
    let home = empty_home();
    let port = free_port();
    let project = project_with_port(home.path(), port);
    let seen = home.path().join("url.txt");
    // Follow the real state from the authorize URL, as a browser would after logging in.
    let browser = browser_script(
        home.path(),
        &format!(
            "printf '%s' \"$URL\" > '{seen}.tmp'; mv '{seen}.tmp' '{seen}'; STATE=$(printf '%s' \"$URL\" | sed -n 's/.*[?&]state=\\([0-9a-f]*\\).*/\\1/p'); sleep 0.3; curl -s -o /dev/null \"http://localhost:{port}/OauthRedirect?code=abcdefgh&state=$STATE\"",
            seen = seen.display()
        ),
    );
    let org_port = free_port();
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", browser.as_os_str())
        .args([
            "org",
            "login",
            "web",
            "-r",
            &format!("http://127.0.0.1:{org_port}"),
            "--json",
        ])
        .run();
    out.code(10);
    let v = error_of(&out);
    assert_eq!(v["name"], "AuthCodeExchangeError");
    assert!(
        v["message"].as_str().unwrap().starts_with(
            "Invalid client credentials. Verify the OAuth client secret and ID. Error authenticating with auth code due to: "
        ),
        "{v}"
    );
    assert_eq!(v["data"]["authCode"], "<authcode - HIDDEN>");
    let url = fs::read_to_string(&seen).unwrap();
    let expected_prefix = format!("http://127.0.0.1:{org_port}/services/oauth2/authorize?state=");
    assert!(url.starts_with(&expected_prefix), "{url}");
    assert!(
        url.contains("&prompt=login&scope=refresh_token%20api%20web&code_challenge="),
        "{url}"
    );
    assert!(url.ends_with(&format!(
        "&response_type=code&client_id=PlatformCLI&redirect_uri=http%3A%2F%2Flocalhost%3A{port}%2FOauthRedirect"
    )), "{url}");
}

#[test]
fn web_login_times_out_and_no_browser_prints_the_url_on_stderr() {
    let home = empty_home();
    let port = free_port();
    let project = project_with_port(home.path(), port);
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("SF_WEB_OAUTH_SERVER_TIMEOUT", "400")
        .args([
            "org",
            "login",
            "web",
            "-r",
            "http://127.0.0.1:9",
            "--no-browser",
            "--json",
        ])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "AuthTimeoutError");
    assert_eq!(
        v["message"],
        "The authentication session timed out. Please try again."
    );
    assert!(
        out.stderr
            .contains("http://127.0.0.1:9/services/oauth2/authorize?state="),
        "{}",
        out.stderr
    );
}

#[test]
fn web_login_with_a_failing_launcher_is_cannot_open_browser() {
    let home = empty_home();
    let project = project_with_port(home.path(), free_port());
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("BROWSER", "false")
        .args(["org", "login", "web", "-r", "http://127.0.0.1:9", "--json"])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "CannotOpenBrowserError");
    assert_eq!(
        v["message"],
        "Unable to open the browser you specified (false)."
    );
}

#[test]
fn web_login_secret_prompt_goes_to_stderr_and_keeps_json_clean() {
    let home = empty_home();
    let project = project_with_port(home.path(), free_port());
    let out = offline(SfrCmd::new())
        .home(home.path())
        .cwd(&project)
        .env("SF_WEB_OAUTH_SERVER_TIMEOUT", "300")
        .stdin("topsecret\n")
        .args([
            "org",
            "login",
            "web",
            "-i",
            "3MVG9custom",
            "-r",
            "http://127.0.0.1:9",
            "--no-browser",
            "--json",
        ])
        .run();
    out.code(1);
    let v = error_of(&out); // stdout is pure JSON
    assert_eq!(v["name"], "AuthTimeoutError");
    assert!(out.stderr.contains(
        "OAuth client secret of personal connected app? Press Enter if it's not required."
    ));
    assert!(!out.stdout.contains("topsecret") && !out.stderr.contains("topsecret"));
    assert!(
        out.stderr.contains("client_id=3MVG9custom"),
        "{}",
        out.stderr
    );
}

#[test]
fn scopes_with_commas_and_headless_mode_are_refused() {
    let home = empty_home();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "web", "--scopes", "api,web", "--json"])
        .run();
    out.code(1);
    assert_eq!(
        error_of(&out)["message"],
        "The --scopes flag must be a space-separated list (example: \"api web\")."
    );
    let out = SfrCmd::new()
        .home(home.path())
        .env("SF_CONTAINER_MODE", "true")
        .args(["org", "login", "web", "--json"])
        .run();
    out.code(1);
    assert!(
        error_of(&out)["message"]
            .as_str()
            .unwrap()
            .contains("isn't supported when authorizing in a headless environment")
    );
}

#[test]
fn sfdx_url_and_access_token_input_errors() {
    let home = empty_home();
    fs::write(home.path().join("bad.txt"), "https://not-a-force-url").unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "sfdx-url", "-f", "bad.txt", "--json"])
        .run();
    out.code(1);
    let v = error_of(&out);
    assert_eq!(v["name"], "INVALID_SFDX_AUTH_URL");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid SFDX authorization URL. Must be in the format")
    );

    fs::write(
        home.path().join("auth.json"),
        r#"{"result":{"username":"x"}}"#,
    )
    .unwrap();
    let out = SfrCmd::new()
        .home(home.path())
        .args(["org", "login", "sfdx-url", "-f", "auth.json", "--json"])
        .run();
    out.code(1);
    assert!(
        error_of(&out)["message"]
            .as_str()
            .unwrap()
            .contains("Error getting the auth URL from file")
    );

    let out = SfrCmd::new()
        .home(home.path())
        .stdin("force://bad")
        .args(["org", "login", "sfdx-url", "-u", "-", "--json"])
        .run();
    out.code(1);
    assert_eq!(error_of(&out)["name"], "INVALID_SFDX_AUTH_URL");

    let out = SfrCmd::new()
        .home(home.path())
        .env("SF_ACCESS_TOKEN", "not-a-token")
        .args([
            "org",
            "login",
            "access-token",
            "-r",
            "http://127.0.0.1:9",
            "--json",
        ])
        .run();
    out.code(1);
    assert_eq!(
        error_of(&out)["message"],
        "The access token isn't in the correct format.\nIt should follow this pattern: \"<org id>!<accesstoken>\"."
    );
}

#[test]
fn display_of_an_unreachable_org_reports_its_status_and_redacts() {
    let home = fixture_home("v1");
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args(["org", "display", "-o", "weborg", "--verbose", "--json"])
        .run();
    out.success();
    let v = out.json();
    let r = &v["result"];
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "apiVersion",
            "accessToken",
            "instanceUrl",
            "username",
            "clientId",
            "connectedStatus",
            "sfdxAuthUrl",
            "alias"
        ]
    );
    assert_eq!(r["id"], "00D000000000002AAA");
    assert_eq!(r["apiVersion"], "63.0");
    assert_eq!(
        r["accessToken"],
        "[REDACTED] Use 'sf org auth show-access-token' to view"
    );
    assert_eq!(
        r["sfdxAuthUrl"],
        "[REDACTED] Use 'sf org auth show-sfdx-auth-url' to view"
    );
    assert_eq!(r["alias"], "weborg");
    assert_ne!(r["connectedStatus"], "Connected");
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("Secrets are now hidden from 'sf org display' command output.")),
        "{v}"
    );
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "unable to refresh auth for org"),
        "{v}"
    );

    let plain = expected_plaintext();
    let refresh = plain["v1"]["orgs"]["web.user@example.com"]["refreshToken"]
        .as_str()
        .unwrap();
    let shown = offline(SfrCmd::new())
        .home(home.path())
        .env("SF_TEMP_SHOW_SECRETS", "true")
        .args(["org", "display", "-o", "weborg", "--verbose", "--json"])
        .run();
    shown.success();
    assert_eq!(
        shown.json()["result"]["sfdxAuthUrl"],
        format!("force://PlatformCLI::{refresh}@localhost:18762")
    );

    let human = offline(SfrCmd::new())
        .home(home.path())
        .args(["org", "display", "-o", "jwtorg"])
        .run();
    human.success();
    assert!(
        human.stdout.starts_with("Org Description\n"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("Connected Status") && human.stdout.contains("Instance Url"));
    assert!(
        !human.stdout.contains(
            plain["v1"]["orgs"]["jwt.user@example.com"]["accessToken"]
                .as_str()
                .unwrap()
        )
    );
}

#[test]
fn show_secrets_of_a_stored_org() {
    let home = fixture_home("v2");
    let plain = expected_plaintext();
    let out = offline(SfrCmd::new())
        .home(home.path())
        .args(["org", "auth", "show-access-token", "-o", "weborg", "--json"])
        .run();
    out.success();
    let v = out.json();
    assert_eq!(
        v["result"]["accessToken"],
        plain["v2"]["orgs"]["web.user@example.com"]["accessToken"]
    );
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Unable to refresh auth for org. Access token may be stale."),
        "{v}"
    );
    assert!(
        v["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("This command exposes a sensitive Access Token")),
        "{v}"
    );

    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "auth",
            "show-sfdx-auth-url",
            "-o",
            "jwtorg",
            "--json",
        ])
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v["name"], "NoRefreshTokenError");
    assert_eq!(v["context"], "OrgAuthShowSfdxAuthUrl");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("An SFDX Auth URL is not available for \"jwt.user@example.com\"."),
        "{v}"
    );
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .starts_with("This command exposes an SFDX Auth URL.")
    }));

    let out = offline(SfrCmd::new())
        .home(home.path())
        .args([
            "org",
            "auth",
            "show-sfdx-auth-url",
            "-o",
            "web.user@example.com",
            "-p",
        ])
        .run();
    out.success();
    let refresh = plain["v2"]["orgs"]["web.user@example.com"]["refreshToken"]
        .as_str()
        .unwrap();
    assert_eq!(
        out.stdout.trim(),
        format!("force://PlatformCLI::{refresh}@localhost:18762")
    );
}

/// Waits (up to 5 s) for the background browser script to write its file.
pub fn wait_for_file(path: &Path) {
    let started = std::time::Instant::now();
    while !path.exists() && started.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(path.exists(), "{} was never written", path.display());
}

#[test]
fn demo_mode_asks_before_authorizing() {
    let home = empty_home();
    SfrCmd::new()
        .home(home.path())
        .args(["cert", "create"])
        .run()
        .success();
    let args = [
        "org",
        "login",
        "jwt",
        "-o",
        "u@example.com",
        "-f",
        "server.key",
        "-i",
        "c",
        "-r",
        "http://127.0.0.1:9",
        "--json",
    ];
    let declined = offline(SfrCmd::new())
        .home(home.path())
        .env("SF_ENV", "demo")
        .stdin("n\n")
        .args(args)
        .run();
    declined.success();
    assert_eq!(declined.json()["result"], serde_json::json!({}));
    assert!(
        declined.stderr.contains("demo or shared machine"),
        "{}",
        declined.stderr
    );
    let accepted = offline(SfrCmd::new())
        .home(home.path())
        .env("SF_ENV", "demo")
        .stdin("y\n")
        .args(args)
        .run();
    accepted.code(10);
    let skipped = offline(SfrCmd::new())
        .home(home.path())
        .env("SF_ENV", "demo")
        .args(args.iter().copied().chain(["-p"]))
        .run();
    skipped.code(10);
    assert!(!skipped.stderr.contains("demo or shared machine"));
}

//! The guide, step by step, in a real headless Chromium (chromedriver + the WebDriver protocol): a System
//! Administrator logs in to Setup, finds *External Client Apps Settings* through Quick Find, allows connected
//! app creation, creates the app (callback, certificate made by `sfr cert create`, three scopes), reads the
//! verification code from the outbox, copies the consumer key, sets the policies and pre-authorizes a profile.
//! Then, in the same browser, `sfr org login web` and the real `sf org login web` complete through the login and
//! approve pages, and `sfr org login jwt` works with the uploaded certificate.
//!
//! Every step saves a screenshot under `target/screenshots/` (a test artifact).
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`); `SFR_SKIP_BROWSER_TESTS=1` skips on
//! machines without them. The real-sf step needs `.tools/sf` (scripts/install-sf.sh) and fails in CI without it.

mod cli;
mod webdriver;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sfr_org::model::OrgSettingsUpdate;
use sfr_org::server::{RunningServer, ServeConfig};
use sfr_org::store::DatabaseUrl;

use cli::{CallbackBrowser, Cli};
use webdriver::{Browser, ENTER};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The chromedriver and Chromium binaries, or `None` when the machine may skip browser tests.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let pick = |env: &str, candidates: &[&str]| {
        std::env::var_os(env)
            .map(PathBuf::from)
            .into_iter()
            .chain(candidates.iter().map(PathBuf::from))
            .find(|p| p.is_file())
    };
    let driver = pick("SFR_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let chromium = pick(
        "SFR_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ if std::env::var("SFR_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") => {
            eprintln!("SKIPPED: no chromium/chromedriver and SFR_SKIP_BROWSER_TESTS=1");
            None
        }
        _ => panic!(
            "the browser tests need headless Chromium: install Debian's `chromium` and `chromium-driver` \
             (apt-get install -y chromium chromium-driver; .ci/run does), or point SFR_CHROMIUM / \
             SFR_CHROMEDRIVER at them; set SFR_SKIP_BROWSER_TESTS=1 to skip on this machine"
        ),
    }
}

/// A callback port sf and sfr may use (PlatformCLI registers 1717–1719): the first one free.
fn callback_port() -> u16 {
    (1717..=1719)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("ports 1717-1719 are all busy; the CLI's OAuth callback needs one of them")
}

/// The newest verification code in the org's outbox.
fn code_from_outbox(server: &RunningServer) -> String {
    let mail = server.state.store.sent_mail(1).expect("outbox");
    let body = &mail.first().expect("a verification e-mail").body;
    body.split("Verification Code: ")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_else(|| panic!("no code in {body:?}"))
}

#[test]
fn the_guide_in_a_real_browser() {
    let Some((driver, chromium)) = browser_tools() else {
        return;
    };
    let shots = target_dir().join("screenshots").join("guide");
    let _ = std::fs::remove_dir_all(&shots);
    let work = tempfile::tempdir().expect("work dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = ServeConfig::for_tests(DatabaseUrl::Sqlite(work.path().join("org.sqlite")));
    config.listen = "localhost:0".to_owned();
    let server = rt
        .block_on(RunningServer::start(config))
        .expect("org starts");
    let base = server.base_url.clone();
    let admin = server
        .bootstrapped
        .clone()
        .expect("a fresh org has an admin");
    let store = Arc::clone(&server.state.store);
    let port = callback_port();
    let cli = Cli::new(&workspace_root(), &target_dir(), work.path(), port);
    let cert_dir = work.path().join("certs");
    cli.sfr(&["cert", "create", "--output-dir", cert_dir.to_str().unwrap()])
        .success("sfr cert create");
    let crt = cert_dir.join("server.crt");
    let key = cert_dir.join("server.key");
    assert!(crt.is_file() && key.is_file());

    let mut b = Browser::start(&driver, &chromium, &shots);

    // ---- log in to Setup ----
    b.goto(&format!("{base}/setup"));
    b.wait_url("the Setup login page", |u| u.contains("/setup/login"));
    b.screenshot("setup-login");
    b.fill("#username", &admin.admin_username);
    b.fill("#password", "not-the-password");
    b.click("#Login");
    assert!(
        b.text(".error")
            .contains("Please check your username and password")
    );
    b.screenshot("setup-login-error");
    b.fill("#password", &admin.admin_password);
    b.click("#Login");
    b.wait_url("Setup Home", |u| u.ends_with("/setup"));
    b.screenshot("setup-home");

    // ---- Quick Find → External Client Apps → Settings (permission still off: the notice) ----
    b.fill("#quick-find", "External Client Apps Settings");
    b.type_into("#quick-find", ENTER);
    b.wait_url("Quick Find results", |u| u.contains("/setup/quick-find"));
    b.screenshot("quick-find");
    b.click("a[href='/setup/external-client-apps/settings']");
    b.wait_url("the settings page", |u| {
        u.contains("/external-client-apps/settings")
    });
    assert!(b.source().contains("must be enabled first"));
    b.screenshot("settings-needs-support");

    // Customer Support grants the Connected Apps permission (on the local org: `sfr-org support allow-connected-apps`).
    store
        .update_org(&OrgSettingsUpdate {
            connected_apps_permission: Some(true),
            ..OrgSettingsUpdate::default()
        })
        .expect("support step");
    b.goto(&format!("{base}/setup/external-client-apps/settings"));
    assert!(!b.is_selected("#allow_creation"));
    b.click("#allow_creation");
    b.click("#save-settings");
    b.wait_url("the saved settings", |u| {
        u.contains("notice=settings-saved")
    });
    assert!(b.is_selected("#allow_creation"));
    b.screenshot("settings-allowed");
    assert!(store.org().unwrap().allow_connected_app_creation);

    // ---- App Manager → New Connected App ----
    b.click(".sidenav a[href='/setup/apps']");
    b.wait_url("App Manager", |u| u.ends_with("/setup/apps"));
    b.screenshot("app-manager");
    b.click("#new-connected-app");
    b.wait_url("New Connected App", |u| u.ends_with("/setup/apps/new"));
    b.fill("#name", "sfr CLI");
    b.fill("#api_name", "sfr_CLI");
    b.fill("#contact_email", &admin.admin_username);
    b.click("#oauth_enabled");
    let mut callbacks = "http://localhost:1717/OauthRedirect".to_owned();
    if port != 1717 {
        callbacks.push_str(&format!("\nhttp://localhost:{port}/OauthRedirect"));
    }
    b.fill("#callback_urls", &callbacks);
    b.click("#digital_signatures");
    b.type_into("#certificate", crt.to_str().unwrap());
    for scope in ["api", "refresh_token", "web"] {
        b.click(&format!("#scope-{scope}"));
    }
    b.screenshot("new-connected-app");
    b.click("#save-app");
    b.wait_url("the new app", |u| u.contains("notice=app-created"));
    assert!(b.source().contains("CN="), "certificate subject shown");
    b.screenshot("app-created");
    let app = store.app_by_name("sfr CLI").unwrap().expect("app saved");
    assert!(app.certificate_pem.is_some());
    assert_eq!(
        app.callback_urls.first().map(String::as_str),
        Some("http://localhost:1717/OauthRedirect")
    );

    // ---- Manage Consumer Details: the e-mailed code, then key and secret ----
    b.click("#manage-consumer-details");
    b.find("#code");
    b.screenshot("verify-identity");
    b.fill("#code", &code_from_outbox(&server));
    b.click("#verify");
    let consumer_key = b.text("#consumer-key");
    let consumer_secret = b.text("#consumer-secret");
    assert_eq!(consumer_key, app.consumer_key);
    b.click("button[data-copy='consumer-key']");
    // The clipboard write is a promise: the label changes when it resolves, not with the click.
    assert_eq!(
        b.wait_text("button[data-copy='consumer-key']", "Copied"),
        "Copied"
    );
    b.screenshot("consumer-details");

    // ---- Manage → Edit Policies ----
    b.goto(&format!("{base}/setup/apps/{}", app.id));
    b.click("#manage");
    b.click("#edit-policies");
    b.select("#permitted_users", "admin-approved");
    b.click("#refresh-expire-after");
    b.fill("#refresh_amount", "90");
    b.select("#refresh_unit", "d");
    b.select("#session_timeout", "15");
    b.screenshot("edit-policies");
    b.click("#save-policies");
    b.wait_url("the saved policies", |u| {
        u.contains("notice=policies-saved")
    });
    assert_eq!(
        b.text("#refresh-policy"),
        "Expire refresh token after 90 days"
    );
    assert_eq!(b.text("#session-timeout"), "15 minutes");

    // ---- Manage Profiles: pre-authorize System Administrator ----
    b.click("#manage-profiles");
    b.click("input[name=item][value='System Administrator']");
    b.screenshot("manage-profiles");
    b.click("#save-assignments");
    b.wait_url("the saved profiles", |u| {
        u.contains("notice=profiles-saved")
    });
    b.screenshot("manage-app");
    let app = store.app_by_name("sfr CLI").unwrap().unwrap();
    assert_eq!(app.refresh_policy.to_string(), "expire-after:90d");
    assert_eq!(app.session_timeout_minutes, Some(15));
    assert_eq!(app.profiles, vec!["System Administrator".to_owned()]);

    b.goto(&format!("{base}/setup/sent-email"));
    b.screenshot("sent-email");

    // ---- sfr org login web, in this browser ----
    let mut opener = CallbackBrowser::new(work.path());
    let login = cli.spawn_sfr(
        &[
            "org",
            "login",
            "web",
            "--client-id",
            &consumer_key,
            "--set-default-dev-hub",
            "--alias",
            "my-hub-org",
            "--instance-url",
            &base,
            "--json",
        ],
        &opener,
        Some(&consumer_secret),
    );
    let authorize = opener.next_url();
    assert!(authorize.starts_with(&format!("{base}/services/oauth2/authorize?")));
    b.goto(&authorize);
    b.find("#username");
    b.screenshot("sfr-web-login-page");
    b.fill("#username", &admin.admin_username);
    b.fill("#password", &admin.admin_password);
    b.click("button[type=submit]");
    let out = login.wait("sfr org login web");
    let result: serde_json::Value = serde_json::from_str(&out).expect("sfr --json output");
    assert_eq!(result["status"], 0, "{out}");
    assert_eq!(result["result"]["username"], admin.admin_username.as_str());
    b.screenshot("sfr-web-login-done");
    let hub = cli
        .sfr(&["config", "get", "target-dev-hub", "--json"])
        .success("sfr config get");
    assert!(hub.contains("my-hub-org"), "{hub}");

    // ---- sfr org login jwt with the uploaded certificate ----
    let jwt = cli
        .sfr(&[
            "org",
            "login",
            "jwt",
            "--client-id",
            &consumer_key,
            "--jwt-key-file",
            key.to_str().unwrap(),
            "--username",
            &admin.admin_username,
            "--instance-url",
            &base,
            "--alias",
            "jwt-org",
            "--json",
        ])
        .success("sfr org login jwt");
    assert!(jwt.contains("\"status\": 0"), "{jwt}");

    // Login History shows all of it.
    b.goto(&format!("{base}/setup"));
    if b.current_url().contains("/setup/login") {
        b.fill("#username", &admin.admin_username);
        b.fill("#password", &admin.admin_password);
        b.click("#Login");
    }
    b.goto(&format!("{base}/setup/login-history"));
    let history = b.source();
    assert!(
        history.contains("token:jwt-bearer") || history.contains("jwt"),
        "{history}"
    );
    b.screenshot("login-history");

    // ---- the real sf CLI: sf org login web (PlatformCLI: login page, then approve page) ----
    match cli.real_sf() {
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "the real sf CLI is not installed (.tools/sf); CI must run scripts/install-sf.sh before the tests"
            );
            eprintln!(
                "NOTE: .tools/sf missing; the real-sf step was not run (scripts/install-sf.sh installs it)"
            );
        }
        Some(sf) => {
            let login = cli.spawn(
                &sf,
                &[
                    "org",
                    "login",
                    "web",
                    "--instance-url",
                    &base,
                    "--alias",
                    "sf-hub",
                    "--json",
                ],
                &opener,
                None,
            );
            let authorize = opener.next_url();
            b.goto(&authorize);
            b.find("#username");
            b.screenshot("sf-web-login-page");
            b.fill("#username", &admin.admin_username);
            b.fill("#password", &admin.admin_password);
            b.click("button[type=submit]");
            b.find("button[value=approve]");
            assert!(b.source().contains("Manage user data via APIs (api)"));
            b.screenshot("sf-approve-page");
            b.click("button[value=approve]");
            let out = login.wait("sf org login web");
            let result: serde_json::Value = serde_json::from_str(&out).expect("sf --json output");
            assert_eq!(result["status"], 0, "{out}");
            assert_eq!(result["result"]["clientId"], "PlatformCLI");
            b.screenshot("sf-web-login-done");
        }
    }
    drop(b);
    opener.close();
    rt.block_on(server.shutdown());
}

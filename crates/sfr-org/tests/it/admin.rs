//! The admin commands, driven through the real `sfr-org` binary on a temp SQLite file: human output, `--json`
//! shapes, and the error paths that must name the cause and the fix.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sfr-org");

struct Org {
    dir: tempfile::TempDir,
}

impl Org {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("org.sqlite")
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.db().display())
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("SFR_ORG_DATABASE")
            .env_remove("SFR_ORG_KEY")
            .env_remove("RUST_LOG")
            .env("XDG_DATA_HOME", self.dir.path().join("xdg"))
            .arg("--database")
            .arg(self.database_url());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run sfr-org")
    }

    /// Runs with `--json`, expects success, returns `result`.
    fn json_ok(&self, args: &[&str]) -> Value {
        let out = self.run(&[args, &["--json"]].concat());
        let body = parse(&out);
        assert!(out.status.success(), "{args:?} failed: {body}");
        assert_eq!(body["status"], 0, "{body}");
        body["result"].clone()
    }

    /// Runs with `--json`, expects failure, returns the error body.
    fn json_err(&self, args: &[&str]) -> Value {
        let out = self.run(&[args, &["--json"]].concat());
        let body = parse(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail: {body}");
        assert_eq!(body["status"], 1, "{body}");
        body
    }

    fn enable_apps(&self) {
        self.json_ok(&["support", "allow-connected-apps"]);
        self.json_ok(&["setup", "allow-connected-app-creation"]);
    }
}

fn parse(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn keys_of(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

const APP_ARGS: &[&str] = &[
    "app",
    "create",
    "--name",
    "My App",
    "--contact-email",
    "me@example.com",
    "--callback-url",
    "http://localhost:1717/OauthRedirect",
    "--scopes",
    "api web refresh_token",
];

#[test]
fn app_creation_needs_both_steps_in_order() {
    let org = Org::new();
    let err = org.json_err(APP_ARGS);
    assert_eq!(err["name"], "AppCreationBlocked");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("Customer Support"), "{msg}");
    assert!(
        msg.contains("sfr-org support allow-connected-apps"),
        "{msg}"
    );

    // The admin setting cannot come first.
    let err = org.json_err(&["setup", "allow-connected-app-creation"]);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("sfr-org support allow-connected-apps")
    );

    let out = org.run(&["support", "allow-connected-apps"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("sfr-org setup allow-connected-app-creation"),
        "{}",
        stdout(&out)
    );

    let err = org.json_err(APP_ARGS);
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("step 2 of 2") && msg.contains("sfr-org setup allow-connected-app-creation"),
        "{msg}"
    );

    let result = org.json_ok(&["setup", "allow-connected-app-creation"]);
    assert_eq!(result["connectedAppsPermission"], true);
    assert_eq!(result["allowConnectedAppCreation"], true);

    let app = org.json_ok(APP_ARGS);
    let key = app["consumerKey"].as_str().unwrap();
    let secret = app["consumerSecret"].as_str().unwrap();
    assert!(key.starts_with("3MVG9") && key.len() == 85, "{key}");
    assert!(
        secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()),
        "{secret}"
    );
    assert_eq!(
        keys_of(&app),
        [
            "id",
            "name",
            "apiName",
            "consumerKey",
            "contactEmail",
            "oauthEnabled",
            "callbackUrls",
            "scopes",
            "hasCertificate",
            "requireSecretWeb",
            "requireSecretRefresh",
            "requirePkce",
            "introspectAllTokens",
            "permittedUsers",
            "profiles",
            "permissionSets",
            "refreshTokenPolicy",
            "sessionTimeoutMinutes",
            "ipRelaxation",
            "clientCredentialsUser",
            "builtIn",
            "consumerSecret",
        ]
    );
    assert_eq!(app["apiName"], "My_App");
    assert_eq!(
        app["scopes"],
        serde_json::json!(["api", "web", "refresh_token"])
    );
    assert_eq!(app["requireSecretWeb"], true);
    assert_eq!(app["refreshTokenPolicy"], "until-revoked");

    // `app show` decrypts the same secret.
    let shown = org.json_ok(&["app", "show", "--name", "my app"]);
    assert_eq!(shown["consumerSecret"], secret);
    assert_eq!(shown["consumerKey"], key);
    let human = stdout(&org.run(&["app", "show", "--name", "My_App"]));
    assert!(human.contains(secret) && human.contains(key), "{human}");

    let err = org.json_err(APP_ARGS);
    assert_eq!(err["name"], "DuplicateApp");

    // Withdrawing the support permission closes the gate again.
    org.json_ok(&["support", "allow-connected-apps", "--disable"]);
    let err = org.json_err(&[APP_ARGS, &["--api-name", "Second"]].concat());
    assert_eq!(err["name"], "AppCreationBlocked");
}

#[test]
fn the_first_command_creates_the_org_and_prints_the_admin_once() {
    let org = Org::new();
    let out = org.run(&["org", "show"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("admin@sfr-org.local") && err.contains("password:"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("Connected Apps permission"),
        "{}",
        stdout(&out)
    );
    let key_file = org.dir.path().join("org.key");
    assert!(
        key_file.exists(),
        "the master key sits next to the database"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let db_mode = std::fs::metadata(org.db()).unwrap().permissions().mode();
        assert_eq!(db_mode & 0o777, 0o600, "the database holds password hashes");
    }
    let again = org.run(&["org", "show"]);
    assert!(!stderr(&again).contains("password:"), "shown only once");

    let org_json = org.json_ok(&["org", "show"]);
    assert_eq!(
        keys_of(&org_json),
        [
            "id",
            "name",
            "devHub",
            "connectedAppsPermission",
            "allowConnectedAppCreation",
            "sessionTimeoutMinutes",
            "lockoutThreshold",
            "lockoutMinutes",
        ]
    );
    assert_eq!(org_json["name"], "sfr Local Org");
    let updated = org.json_ok(&[
        "org",
        "update",
        "--lockout-threshold",
        "3",
        "--session-timeout",
        "30",
    ]);
    assert_eq!(updated["lockoutThreshold"], 3);
    assert_eq!(updated["sessionTimeoutMinutes"], 30);

    let users = org.json_ok(&["user", "list"]);
    assert_eq!(users[0]["username"], "admin@sfr-org.local");
    assert_eq!(users[0]["profile"], "System Administrator");
    let apps = org.json_ok(&["app", "list"]);
    assert_eq!(apps[0]["consumerKey"], "PlatformCLI");
    assert_eq!(apps[0]["builtIn"], true);
    assert_eq!(apps[0]["requirePkce"], true);
}

#[test]
fn a_wrong_key_file_is_refused_not_overwritten() {
    let org = Org::new();
    org.json_ok(&["org", "show"]);
    let other_key = org.dir.path().join("other.key");
    let out = org
        .command()
        .args(["--key-file", other_key.to_str().unwrap(), "app", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("does not decrypt") && err.contains("--key-file"),
        "{err}"
    );
    assert!(!other_key.exists(), "no stray key file is left behind");
}

#[test]
fn users_and_permission_sets() {
    let org = Org::new();
    let err = org.json_err(&[
        "user",
        "create",
        "--username",
        "jane@example.com",
        "--password",
        "Secret123",
        "--profile",
        "Boss",
    ]);
    assert_eq!(err["name"], "UnknownProfile");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("\"Boss\"")
            && msg.contains("System Administrator")
            && msg.contains("Standard User"),
        "{msg}"
    );

    let err = org.json_err(&[
        "user",
        "create",
        "--username",
        "jane@example.com",
        "--password",
        "short",
    ]);
    assert_eq!(err["name"], "InvalidArgument");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("at least 8 characters")
    );

    let err = org.json_err(&[
        "user",
        "create",
        "--username",
        "jane@example.com",
        "--password",
        "Secret123",
        "--permission-set",
        "JWT",
    ]);
    assert_eq!(err["name"], "UnknownPermissionSet");
    assert!(
        err["message"].as_str().unwrap().contains("none yet"),
        "{err}"
    );

    let ps = org.json_ok(&[
        "permission-set",
        "create",
        "--name",
        "JWT_Access",
        "--label",
        "JWT access",
    ]);
    assert_eq!(keys_of(&ps), ["id", "name", "label"]);
    assert_eq!(ps["label"], "JWT access");
    let err = org.json_err(&["permission-set", "create", "--name", "has space"]);
    assert_eq!(err["name"], "InvalidArgument");

    let user = org.json_ok(&[
        "user",
        "create",
        "--username",
        "jane@example.com",
        "--password",
        "Secret123",
        "--email",
        "jane.doe@example.com",
        "--first-name",
        "Jane",
        "--last-name",
        "Doe",
        "--permission-set",
        "JWT_Access",
    ]);
    assert_eq!(
        keys_of(&user),
        [
            "id",
            "username",
            "email",
            "firstName",
            "lastName",
            "profile",
            "permissionSets",
            "active",
            "locked",
            "lastLoginAt"
        ]
    );
    assert_eq!(user["profile"], "Standard User");
    assert_eq!(user["permissionSets"], serde_json::json!(["JWT_Access"]));
    assert_eq!(user["email"], "jane.doe@example.com");
    assert!(user["id"].as_str().unwrap().starts_with("005"));

    let err = org.json_err(&[
        "user",
        "create",
        "--username",
        "JANE@example.com",
        "--password",
        "Secret123",
    ]);
    assert_eq!(err["name"], "DuplicateUsername");

    // Without --password one is generated and shown once.
    let generated = org.json_ok(&[
        "user",
        "create",
        "--username",
        "gen@example.com",
        "--profile",
        "System Administrator",
    ]);
    assert_eq!(generated["password"].as_str().map(str::len), Some(20));

    let err = org.json_err(&[
        "permission-set",
        "assign",
        "--name",
        "JWT_Access",
        "--username",
        "ghost@example.com",
    ]);
    assert_eq!(err["name"], "UnknownUser");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("jane@example.com"),
        "{err}"
    );
    org.json_ok(&["permission-set", "create", "--name", "Extra"]);
    let assigned = org.json_ok(&[
        "permission-set",
        "assign",
        "--name",
        "extra",
        "--username",
        "gen@example.com",
    ]);
    assert_eq!(assigned["permissionSets"], serde_json::json!(["Extra"]));

    let off = org.json_ok(&["user", "deactivate", "--username", "jane@example.com"]);
    assert_eq!(off["active"], false);
    let listed = org.json_ok(&["user", "list"]);
    let jane = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "jane@example.com")
        .unwrap();
    assert_eq!(jane["active"], false);
    let human = stdout(&org.run(&["user", "list"]));
    assert!(
        human.contains("jane@example.com") && human.contains("inactive"),
        "{human}"
    );
    let on = org.json_ok(&["user", "activate", "--username", "jane@example.com"]);
    assert_eq!(on["active"], true);
    let err = org.json_err(&["user", "activate", "--username", "nobody@example.com"]);
    assert_eq!(err["name"], "UnknownUser");

    let sets = org.json_ok(&["permission-set", "list"]);
    assert_eq!(sets.as_array().unwrap().len(), 2);
}

fn write_certificate(dir: &Path) -> PathBuf {
    use aws_lc_rs::encoding::AsDer as _;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = pair.as_der().unwrap();
    let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_ref().to_vec());
    let key =
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["jwt".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let path = dir.join("server.crt");
    std::fs::write(&path, cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    path
}

#[test]
fn apps_with_policies_certificates_and_updates() {
    let org = Org::new();
    org.enable_apps();
    org.json_ok(&[
        "user",
        "create",
        "--username",
        "runner@example.com",
        "--password",
        "Secret123",
    ]);
    let cert = write_certificate(org.dir.path());

    let err = org.json_err(&[APP_ARGS, &["--profile", "Boss"]].concat());
    assert_eq!(err["name"], "UnknownProfile");
    let err = org.json_err(
        &[
            APP_ARGS,
            &["--client-credentials-user", "ghost@example.com"],
        ]
        .concat(),
    );
    assert_eq!(err["name"], "UnknownUser");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("runner@example.com")
    );
    let key_as_cert = org.dir.path().join("server.key");
    let err = org.json_err(&[APP_ARGS, &["--certificate", key_as_cert.to_str().unwrap()]].concat());
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("certificate") && msg.contains("not a CERTIFICATE"),
        "{msg}"
    );
    let err = org.json_err(&[APP_ARGS, &["--certificate", "/nonexistent/server.crt"]].concat());
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("cannot read the certificate"),
        "{err}"
    );

    let app = org.json_ok(
        &[
            APP_ARGS,
            &[
                "--certificate",
                cert.to_str().unwrap(),
                "--permitted-users",
                "admin-approved",
                "--profile",
                "System Administrator",
                "--refresh-token-policy",
                "expire-after:90d",
                "--session-timeout",
                "15m",
                "--require-secret-web",
                "false",
                "--require-pkce",
                "true",
                "--client-credentials-user",
                "runner@example.com",
                "--callback-url",
                "http://localhost:1718/OauthRedirect",
            ],
        ]
        .concat(),
    );
    assert_eq!(app["hasCertificate"], true);
    assert_eq!(app["permittedUsers"], "admin-approved");
    assert_eq!(app["profiles"], serde_json::json!(["System Administrator"]));
    assert_eq!(app["refreshTokenPolicy"], "expire-after:90d");
    assert_eq!(app["sessionTimeoutMinutes"], 15);
    assert_eq!(app["requireSecretWeb"], false);
    assert_eq!(app["requirePkce"], true);
    assert_eq!(app["introspectAllTokens"], false, "off unless asked for");
    assert_eq!(app["clientCredentialsUser"], "runner@example.com");
    assert_eq!(app["callbackUrls"].as_array().unwrap().len(), 2);

    let updated = org.json_ok(&[
        "app",
        "update",
        "--name",
        "My App",
        "--remove-certificate",
        "--clear-profiles",
        "--refresh-token-policy",
        "expire-if-unused:12h",
        "--session-timeout",
        "org-default",
        "--client-credentials-user",
        "none",
        "--require-secret-refresh",
        "true",
        "--introspect-all-tokens",
        "true",
    ]);
    assert_eq!(updated["hasCertificate"], false);
    assert_eq!(updated["introspectAllTokens"], true);
    assert_eq!(updated["profiles"], serde_json::json!([]));
    assert_eq!(updated["refreshTokenPolicy"], "expire-if-unused:12h");
    assert_eq!(updated["sessionTimeoutMinutes"], Value::Null);
    assert_eq!(updated["clientCredentialsUser"], Value::Null);
    assert_eq!(updated["requireSecretRefresh"], true);
    assert_eq!(
        updated["requirePkce"], true,
        "flags not given stay as they were"
    );
    assert_eq!(
        updated["consumerSecret"], app["consumerSecret"],
        "an update keeps the secret"
    );

    // Updating PlatformCLI is allowed (the built-in app stays editable).
    let cli = org.json_ok(&[
        "app",
        "update",
        "--name",
        "PlatformCLI",
        "--session-timeout",
        "30m",
    ]);
    assert_eq!(cli["sessionTimeoutMinutes"], 30);

    let err = org.json_err(&["app", "show", "--name", "Nope"]);
    assert_eq!(err["name"], "UnknownApp");
    assert!(err["message"].as_str().unwrap().contains("PlatformCLI"));
}

#[test]
fn bad_flags_and_urls_explain_themselves() {
    let org = Org::new();
    let out = org.run(&[APP_ARGS, &["--refresh-token-policy", "forever"]].concat());
    assert_eq!(out.status.code(), Some(2), "a clap usage error");
    let err = stderr(&out);
    assert!(
        err.contains("expire-after:N") && err.contains("until-revoked"),
        "{err}"
    );

    let out = org.run(&["app", "create", "--name", "X", "--scopes", "api bogus"]);
    assert!(stderr(&out).contains("\"bogus\""), "{}", stderr(&out));

    let out = Command::new(BIN)
        .env_remove("SFR_ORG_KEY")
        .args(["--database", "mongodb://localhost/org", "user", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("unsupported database URL scheme \"mongodb\"")
            && err.contains("sqlite://PATH"),
        "{err}"
    );
    assert!(!err.to_lowercase().contains("later release"));

    let out = Command::new(BIN)
        .env_remove("SFR_ORG_KEY")
        .args(["--database", "mysql://x", "user", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(parse(&out)["name"], "UnsupportedDatabaseUrl");

    // A file that is not a database is named in the error.
    let garbage = org.dir.path().join("notes.txt");
    std::fs::write(
        &garbage,
        "this is not a database, just some text ".repeat(200),
    )
    .unwrap();
    let out = Command::new(BIN)
        .env_remove("SFR_ORG_KEY")
        .args(["--database", garbage.to_str().unwrap(), "user", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("notes.txt") && err.contains("not a database"),
        "{err}"
    );
    assert!(
        !org.dir.path().join("notes.key").exists(),
        "no stray key file"
    );

    // SFR_ORG_DATABASE is honoured, and a plain path works as well as sqlite://.
    let plain = org.dir.path().join("plain.sqlite");
    let out = Command::new(BIN)
        .env_remove("SFR_ORG_KEY")
        .env("SFR_ORG_DATABASE", &plain)
        .args(["org", "show", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(plain.exists());
}

#[test]
fn help_teaches_every_flag() {
    let out = Command::new(BIN)
        .args(["app", "create", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    for flag in [
        "--name",
        "--api-name",
        "--contact-email",
        "--callback-url",
        "--scopes",
        "--certificate",
        "--permitted-users",
        "--profile",
        "--permission-set",
        "--refresh-token-policy",
        "--session-timeout",
        "--require-secret-web",
        "--require-secret-refresh",
        "--require-pkce",
        "--client-credentials-user",
        "--json",
        "--database",
        "--key-file",
    ] {
        assert!(
            help.contains(flag),
            "{flag} missing from app create --help:\n{help}"
        );
    }
    assert!(help.contains("support allow-connected-apps"), "{help}");
    let show = stdout(
        &Command::new(BIN)
            .args(["app", "show", "--help"])
            .output()
            .unwrap(),
    );
    assert!(show.contains("consumer secret"), "{show}");
    let top = stdout(&Command::new(BIN).arg("--help").output().unwrap());
    for cmd in [
        "serve",
        "support",
        "setup",
        "user",
        "permission-set",
        "app",
        "login-history",
    ] {
        assert!(top.contains(cmd), "{cmd} missing:\n{top}");
    }
}

/// The SQLite durability mode is chosen by `SFR_ORG_SQLITE_SYNCHRONOUS`, which `serve --help` explains; `full` is
/// taken, and a value that is neither mode stops the command before it creates anything, naming the variable
/// and both modes (a typo must not quietly leave an operator on the weaker mode).
#[test]
fn the_durability_mode_is_documented_and_a_typo_is_refused() {
    let help = stdout(
        &Command::new(BIN)
            .args(["serve", "--help"])
            .output()
            .unwrap(),
    );
    assert!(
        help.contains("SFR_ORG_SQLITE_SYNCHRONOUS") && help.contains("power loss"),
        "{help}"
    );

    let org = Org::new();
    let out = org
        .command()
        .env("SFR_ORG_SQLITE_SYNCHRONOUS", "fll")
        .args(["user", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let body = parse(&out);
    assert_eq!(body["name"], "InvalidArgument", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("SFR_ORG_SQLITE_SYNCHRONOUS")
            && message.contains("\"fll\"")
            && message.contains("`normal`")
            && message.contains("`full`"),
        "{message}"
    );
    assert!(
        !org.db().exists() && !org.db().with_extension("key").exists(),
        "neither the database nor its key file is created on a refused mode"
    );

    let full = org
        .command()
        .env("SFR_ORG_SQLITE_SYNCHRONOUS", "full")
        .args(["user", "list", "--json"])
        .output()
        .unwrap();
    assert!(full.status.success(), "{}", stderr(&full));
    assert!(org.db().exists() && org.db().with_extension("key").exists());
}

/// A child process we started; killed (by its own handle) when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_prints_the_real_port_and_admin_commands_work_alongside() {
    let org = Org::new();
    let mut child = Child(
        org.command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut banner = Vec::new();
    let base = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                let mut err = String::new();
                let _ = child.0.stderr.take().unwrap().read_to_string(&mut err);
                panic!("no banner; stdout so far {banner:?}; stderr {err}")
            });
        banner.push(line.clone());
        if let Some(rest) = line
            .split(" at ")
            .nth(1)
            .filter(|_| line.starts_with("sfr-org is serving"))
        {
            break rest.trim().to_owned();
        }
    };
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "{base}"
    );
    // The rest of the banner: admin credentials and next steps.
    let mut text = banner.join("\n");
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        text.push('\n');
        text.push_str(&line);
    }
    assert!(
        text.contains("admin@sfr-org.local") && text.contains("password:"),
        "{text}"
    );
    assert!(
        text.contains(&format!("sf org login web --instance-url {base}")),
        "{text}"
    );
    assert!(
        text.contains("sfr-org support allow-connected-apps"),
        "{text}"
    );
    assert!(text.contains("sfr-org app create"), "{text}");
    assert!(text.contains(&format!("{base}/setup")), "{text}");

    // The server answers HTTP.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent
        .get(&format!("{base}/services/oauth2/authorize"))
        .call()
        .expect("server answers");
    assert!(resp.status().as_u16() < 500, "{}", resp.status());

    // Admin commands share the live database.
    let user = org.json_ok(&[
        "user",
        "create",
        "--username",
        "live@example.com",
        "--password",
        "Secret123",
    ]);
    assert_eq!(user["username"], "live@example.com");
    let users = org.json_ok(&["user", "list"]);
    assert_eq!(users.as_array().unwrap().len(), 2);
}

#[test]
fn the_master_key_can_come_from_the_environment() {
    let org = Org::new();
    let key = "a".repeat(64);
    let out = org
        .command()
        .env("SFR_ORG_KEY", &key)
        .args(["org", "show", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !org.dir.path().join("org.key").exists(),
        "no key file when SFR_ORG_KEY is set"
    );
    let out = org
        .command()
        .env("SFR_ORG_KEY", &key)
        .args(["app", "show", "--name", "PlatformCLI", "--json"])
        .output()
        .unwrap();
    assert_eq!(parse(&out)["result"]["consumerKey"], "PlatformCLI");

    // Without the variable a new key file would not fit: refused, and not left behind.
    let out = org.run(&["app", "list", "--json"]);
    assert_eq!(parse(&out)["name"], "WrongMasterKey");
    assert!(!org.dir.path().join("org.key").exists());

    let out = org
        .command()
        .env("SFR_ORG_KEY", "not-a-key")
        .args(["org", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("SFR_ORG_KEY does not hold a master key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn login_history_shows_the_precise_reasons() {
    use sfr_org::model::{LoginEvent, LoginKind};
    let org = Org::new();
    let empty = org.json_ok(&["login-history"]);
    assert_eq!(empty, serde_json::json!([]));
    assert!(stdout(&org.run(&["login-history"])).contains("No login history yet"));

    // The server records events; here the store does it directly, on the same files.
    let url = sfr_org::store::DatabaseUrl::Sqlite(org.db());
    let opened = sfr_org::bootstrap::open_org(&url, None, &sfr_org::clock::SystemClock).unwrap();
    opened
        .store
        .record_event(&LoginEvent {
            at: 1_800_000_000_000,
            username: Some("jane@example.com".into()),
            user_id: None,
            consumer_key: Some("3MVG9abc".into()),
            kind: LoginKind::Token("jwt-bearer".into()),
            success: false,
            error_code: Some("invalid_grant".into()),
            reason:
                "user not pre-authorized: profile Standard User not among [System Administrator]"
                    .into(),
            source_ip: Some("127.0.0.1".into()),
        })
        .unwrap();
    let events = org.json_ok(&["login-history", "--limit", "5"]);
    let e = &events[0];
    assert_eq!(
        keys_of(e),
        [
            "at",
            "username",
            "userId",
            "consumerKey",
            "kind",
            "success",
            "errorCode",
            "reason",
            "sourceIp"
        ]
    );
    assert_eq!(e["at"], "2027-01-15T08:00:00Z");
    assert_eq!(e["kind"], "token:jwt-bearer");
    assert_eq!(e["errorCode"], "invalid_grant");
    let human = stdout(&org.run(&["login-history"]));
    assert!(
        human.contains("FAILED")
            && human.contains("[invalid_grant]")
            && human.contains("not pre-authorized"),
        "{human}"
    );
}

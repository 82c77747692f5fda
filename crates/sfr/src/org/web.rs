//! The pieces of `org login web` that are not the loopback server: the authorize URL (byte-identical to `sf`'s),
//! the code exchange body, the redirect port from `sfdx-project.json`, launching the browser, the client-secret
//! prompt and the waiting spinner.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use sfr_wire::{TokenResponse, pkce};

use super::callback::DEFAULT_PORT;
use super::http::{HttpClient, join};
use super::token::{GrantError, request_token};

/// The client id of the connected app behind `sf`'s default web login.
pub const DEFAULT_CLIENT_ID: &str = "PlatformCLI";
/// Scopes asked for unless `--scopes` or `SFDX_AUTH_SCOPES` say otherwise.
pub const DEFAULT_SCOPES: &str = "refresh_token api web";
/// The text of the client-secret prompt.
pub const SECRET_PROMPT: &str =
    "OAuth client secret of personal connected app? Press Enter if it's not required.";

/// One authorization request: what goes into the authorize URL and must be remembered for the exchange.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub login_url: String,
    pub client_id: String,
    pub scope: String,
    pub redirect_uri: String,
    pub state: String,
    pub code_verifier: String,
}

/// Randomness failed (the OS RNG is unavailable).
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator is unavailable")]
pub struct RandomUnavailable;

impl AuthorizeRequest {
    /// A fresh request: 6 random bytes of state (12 hex chars) and a 128-byte verifier (171 chars), as `sf`.
    pub fn new(
        login_url: &str,
        client_id: &str,
        scope: &str,
        redirect_uri: &str,
    ) -> Result<Self, RandomUnavailable> {
        let rng = SystemRandom::new();
        let mut state = [0u8; 6];
        let mut verifier = [0u8; pkce::SF_VERIFIER_BYTES];
        rng.fill(&mut state).map_err(|_| RandomUnavailable)?;
        rng.fill(&mut verifier).map_err(|_| RandomUnavailable)?;
        Ok(Self {
            login_url: login_url.to_owned(),
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            state: hex::encode(state),
            code_verifier: pkce::verifier_from_bytes(&verifier),
        })
    }

    /// `{loginUrl}/services/oauth2/authorize?state&prompt&scope&code_challenge&response_type&client_id&redirect_uri`
    /// — `sf`'s order, Node `querystring` escaping, no `code_challenge_method`.
    pub fn url(&self) -> String {
        let challenge = pkce::challenge_s256(&self.code_verifier);
        let query = sfr_wire::encoding::stringify([
            ("state", self.state.as_str()),
            ("prompt", "login"),
            ("scope", self.scope.as_str()),
            ("code_challenge", challenge.as_str()),
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
        ]);
        format!(
            "{}?{query}",
            join(&self.login_url, "services/oauth2/authorize")
        )
    }

    /// Exchanges the code: `grant_type, code, client_id[, client_secret], redirect_uri, code_verifier`.
    pub fn exchange(
        &self,
        http: &HttpClient,
        code: &str,
        client_secret: Option<&str>,
    ) -> Result<TokenResponse, GrantError> {
        let pairs = self.exchange_pairs(code, client_secret);
        request_token(http, &self.login_url, &pairs)
    }

    /// The exchange body's pairs, in `sf`'s order; an empty secret is never sent.
    pub fn exchange_pairs<'a>(
        &'a self,
        code: &'a str,
        client_secret: Option<&'a str>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(secret) = client_secret.filter(|s| !s.is_empty()) {
            pairs.push(("client_secret", secret));
        }
        pairs.push(("redirect_uri", self.redirect_uri.as_str()));
        pairs.push(("code_verifier", self.code_verifier.as_str()));
        pairs
    }
}

/// The scope to ask for: `--scopes`, else `SFDX_AUTH_SCOPES`, else the default. A comma is refused, as in `sf`.
pub fn resolve_scopes(flag: Option<&str>, env: Option<&str>) -> Result<String, ScopesError> {
    let chosen = flag
        .filter(|s| !s.is_empty())
        .or(env.filter(|s| !s.is_empty()))
        .unwrap_or(DEFAULT_SCOPES);
    if flag.is_some_and(|f| f.contains(',')) {
        return Err(ScopesError);
    }
    Ok(chosen.to_owned())
}

/// `--scopes` with commas.
#[derive(Debug, thiserror::Error)]
#[error("The --scopes flag must be a space-separated list (example: \"api web\").")]
pub struct ScopesError;

/// The redirect port: `oauthLocalPort` of the nearest `sfdx-project.json` above `cwd`, else 1717 (any read or
/// parse problem also gives 1717, as in `sf`).
pub fn oauth_local_port(cwd: &Path) -> u16 {
    let Some(project) = cwd
        .ancestors()
        .map(|d| d.join("sfdx-project.json"))
        .find(|p| p.is_file())
    else {
        return DEFAULT_PORT;
    };
    std::fs::read_to_string(project)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v.get("oauthLocalPort").cloned())
        .and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .unwrap_or(DEFAULT_PORT)
}

/// The browser could not be started.
#[derive(Debug, thiserror::Error)]
#[error("Unable to open the browser you specified ({browser}).")]
pub struct CannotOpenBrowser {
    pub browser: String,
    pub reason: String,
}

impl CannotOpenBrowser {
    pub fn actions(&self) -> Vec<String> {
        vec![
            format!(
                "Ensure that {} is installed on your computer. Or specify a different browser using the --browser flag, or use --no-browser and open the URL yourself.",
                self.browser
            ),
            format!("Launcher error: {}", self.reason),
        ]
    }
}

/// Opens `url` in a browser and waits for the launcher to exit, as `sf` does. `browser` is the `--browser` value
/// (`chrome`, `edge`, `firefox`); otherwise `$BROWSER` (a `:`-separated list of commands, `%s` standing for the URL,
/// as `xdg-open` reads it) or the platform opener.
pub fn open_browser(url: &str, browser: Option<&str>) -> Result<(), CannotOpenBrowser> {
    if let Some(name) = browser {
        return run_launcher(&[app_for(name)], url, name);
    }
    if let Some(env) = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        let mut last = None;
        for candidate in env.split(':').filter(|c| !c.trim().is_empty()) {
            match run_launcher(&[candidate], url, candidate) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    run_launcher(&[opener], url, "default browser")
}

fn app_for(name: &str) -> &str {
    match name {
        "chrome" if cfg!(target_os = "macos") => "google chrome",
        "chrome" => "google-chrome",
        "edge" => "microsoft-edge",
        "firefox" => "firefox",
        other => other,
    }
}

/// Runs `command` (split on whitespace; `%s` replaced by the URL, else the URL appended) without a shell.
fn run_launcher(command: &[&str], url: &str, label: &str) -> Result<(), CannotOpenBrowser> {
    let fail = |reason: String| CannotOpenBrowser {
        browser: label.to_owned(),
        reason,
    };
    let words: Vec<String> = command
        .iter()
        .flat_map(|c| c.split_whitespace())
        .map(str::to_owned)
        .collect();
    let Some((program, rest)) = words.split_first() else {
        return Err(fail("empty command".to_owned()));
    };
    let mut args: Vec<String> = rest.iter().map(|a| a.replace("%s", url)).collect();
    if !words.iter().any(|w| w.contains("%s")) {
        args.push(url.to_owned());
    }
    let status = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| fail(format!("{program}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(fail(format!("{program} exited with {status}")))
    }
}

/// Asks for the connected app's secret: masked on a terminal, read from stdin otherwise. The prompt goes to
/// stderr (never stdout, so `--json` output stays clean). An empty answer means no secret.
pub fn prompt_client_secret() -> std::io::Result<Option<String>> {
    let answer = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{SECRET_PROMPT} "))?
    } else {
        let mut err = std::io::stderr();
        let _ = writeln!(err, "{SECRET_PROMPT}");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    };
    let secret = answer.trim_end_matches(['\r', '\n']).trim().to_owned();
    Ok((!secret.is_empty()).then_some(secret))
}

/// A spinner on stderr while the browser flow runs; drawn only when stderr is a terminal.
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    pub fn start(message: &str, enabled: bool) -> Self {
        if !enabled || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(indicatif::ProgressStyle::default_spinner());
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }

    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> AuthorizeRequest {
        AuthorizeRequest {
            login_url: "http://localhost:8901/".into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            scope: DEFAULT_SCOPES.into(),
            redirect_uri: "http://localhost:1717/OauthRedirect".into(),
            state: "53e4441b6cb1".into(),
            code_verifier: "v".repeat(171),
        }
    }

    #[test]
    fn authorize_url_matches_sf_byte_for_byte() {
        let req = fixed();
        let challenge = pkce::challenge_s256(&req.code_verifier);
        // The observed sf URL, with this request's challenge in place of the observed one.
        let observed = "http://localhost:8901/services/oauth2/authorize?state=53e4441b6cb1&prompt=login&scope=refresh_token%20api%20web&code_challenge=szqQ0n-VVijB9ArBSHAvVXYPMV0c1VikUM0KD1zyXEA&response_type=code&client_id=PlatformCLI&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect";
        assert_eq!(
            req.url(),
            observed.replace("szqQ0n-VVijB9ArBSHAvVXYPMV0c1VikUM0KD1zyXEA", &challenge)
        );
        assert!(!req.url().contains("code_challenge_method"));
    }

    #[test]
    fn fresh_requests_have_sf_sized_state_and_verifier() {
        let a = AuthorizeRequest::new("https://h", "c", "api", "r").unwrap();
        let b = AuthorizeRequest::new("https://h", "c", "api", "r").unwrap();
        assert_eq!(a.state.len(), 12);
        assert!(
            a.state
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(a.code_verifier.len(), 171);
        assert_ne!(a.state, b.state);
        assert_ne!(a.code_verifier, b.code_verifier);
    }

    #[test]
    fn exchange_body_order_and_optional_secret() {
        let req = fixed();
        let body = |secret| sfr_wire::encoding::stringify(req.exchange_pairs("c0de1", secret));
        let v = "v".repeat(171);
        assert_eq!(
            body(None),
            format!(
                "grant_type=authorization_code&code=c0de1&client_id=PlatformCLI&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect&code_verifier={v}"
            )
        );
        assert_eq!(body(Some("")), body(None));
        assert!(
            body(Some("s3cr3t"))
                .contains("&client_id=PlatformCLI&client_secret=s3cr3t&redirect_uri=")
        );
    }

    #[test]
    fn scopes_resolution() {
        assert_eq!(resolve_scopes(None, None).unwrap(), DEFAULT_SCOPES);
        assert_eq!(resolve_scopes(None, Some("api")).unwrap(), "api");
        assert_eq!(
            resolve_scopes(Some("api web"), Some("api")).unwrap(),
            "api web"
        );
        assert!(resolve_scopes(Some("api,web"), None).is_err());
    }

    #[test]
    fn local_port_comes_from_the_nearest_project() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(oauth_local_port(&nested), DEFAULT_PORT);
        std::fs::write(
            dir.path().join("sfdx-project.json"),
            r#"{"oauthLocalPort": 1718}"#,
        )
        .unwrap();
        assert_eq!(oauth_local_port(&nested), 1718);
        std::fs::write(dir.path().join("a/sfdx-project.json"), "{not json").unwrap();
        assert_eq!(oauth_local_port(&nested), DEFAULT_PORT);
    }

    #[test]
    fn browser_launcher_exit_status_decides() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opened");
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", out.display()),
        )
        .unwrap();
        let failing = dir.path().join("fail.sh");
        std::fs::write(&failing, "#!/bin/sh\nexit 3\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [&script, &failing] {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        run_launcher(&[script.to_str().unwrap()], "http://x/?a=1&b=2", "s").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "http://x/?a=1&b=2");
        let err = run_launcher(&[failing.to_str().unwrap()], "http://x/", "fail").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unable to open the browser you specified (fail)."
        );
        assert!(run_launcher(&["/nonexistent/browser"], "u", "nope").is_err());
    }
}

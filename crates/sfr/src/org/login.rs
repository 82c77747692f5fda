//! What every `org login *` command shares: the login URL (spec §2), turning org-side failures into `sf`'s named
//! errors, and the tail — save, alias (`-a`), `target-org` (`-s`), `target-dev-hub` (`-d`), the success line and
//! the redacted `--json` result (§11.1).

use serde_json::{Map, Value};

use super::connection::ConnectionError;
use super::http::{HttpClient, HttpError};
use super::post_login::{self, Rest, UsernameError};
use super::token::GrantError;
use crate::cli::LoginDefaults;
use crate::output::{CommandError, Ctx, EXIT_NETWORK, Outcome};
use crate::store::{AuthFile, ConfigKey, Store};

pub const PRODUCTION_LOGIN_URL: &str = "https://login.salesforce.com";
/// `accessToken` in command output.
pub const REDACTED_ACCESS_TOKEN: &str = "[REDACTED] Use 'sf org auth show-access-token' to view";
/// `sfdxAuthUrl` in command output.
pub const REDACTED_SFDX_AUTH_URL: &str = "[REDACTED] Use 'sf org auth show-sfdx-auth-url' to view";

/// Whether `SF_TEMP_SHOW_SECRETS=true`.
pub fn show_secrets() -> bool {
    std::env::var("SF_TEMP_SHOW_SECRETS").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// A resolved login URL and the warning to report about it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUrl {
    /// `URL.href` form: this exact string is stored as `loginUrl` and is the first JWT audience.
    pub href: String,
    pub warnings: Vec<String>,
}

/// §2: `--instance-url`, else the project's `sfdcLoginUrl` (if a Salesforce or internal URL), else
/// `org-instance-url` (env `FORCE_SFDC_LOGIN_URL` overrides both), else production.
pub fn resolve_login_url(store: &Store, flag: Option<&url::Url>) -> Result<LoginUrl, CommandError> {
    let mut warnings = Vec::new();
    let chosen: url::Url = if let Some(u) = flag {
        u.clone()
    } else {
        let from_project = store
            .project_root()
            .and_then(|root| std::fs::read_to_string(root.join("sfdx-project.json")).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| {
                v.get("sfdcLoginUrl")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .filter(|s| !s.is_empty());
        let from_config = || {
            store
                .config_get(ConfigKey::OrgInstanceUrl)
                .ok()
                .flatten()
                .and_then(|e| e.value_str().map(str::to_owned))
                .filter(|s| !s.is_empty())
        };
        let candidate = std::env::var("FORCE_SFDC_LOGIN_URL")
            .ok()
            .filter(|s| !s.is_empty())
            .or(from_project)
            .or_else(from_config);
        match candidate.as_deref().map(url::Url::parse) {
            Some(Ok(u)) if is_salesforce_or_internal(&u) => u,
            Some(_) => {
                warnings.push(format!(
                    "Ignoring the configured login URL {:?}: it is neither a Salesforce domain nor an internal URL. Using {PRODUCTION_LOGIN_URL}; pass --instance-url to log in elsewhere.",
                    candidate.unwrap_or_default()
                ));
                parse_static(PRODUCTION_LOGIN_URL)
            }
            None => parse_static(PRODUCTION_LOGIN_URL),
        }
    };
    let host = chosen.host_str().unwrap_or_default().to_ascii_lowercase();
    if host.ends_with(".lightning.force.com") {
        return Err(CommandError::new(
            "LightningDomain",
            "Invalid instance URL. It should NOT be a lightning domain.",
        )
        .with_action(
            "Use the org's My Domain login URL (https://<name>.my.salesforce.com) instead of the Lightning URL.",
        ));
    }
    if chosen.scheme() == "http" {
        warnings.push(format!(
            "Using insecure protocol: http: on url: {}",
            chosen.as_str().trim_end_matches('/')
        ));
    }
    Ok(LoginUrl {
        href: chosen.to_string(),
        warnings,
    })
}

fn parse_static(s: &str) -> url::Url {
    url::Url::parse(s).expect("constant URLs parse")
}

/// Salesforce hosts, and sf's "internal" hosts (`.internal.`, `localhost.sfdcdev.`).
fn is_salesforce_or_internal(u: &url::Url) -> bool {
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    const DOMAINS: &[&str] = &[
        ".salesforce.com",
        ".force.com",
        ".cloudforce.com",
        ".database.com",
        ".salesforce.mil",
        ".sfcrmapps.cn",
        ".sfcrmproducts.cn",
        ".salesforce-setup.com",
        ".pc-rnd.salesforce.com",
    ];
    DOMAINS.iter().any(|d| host.ends_with(d))
        || host.contains(".internal.")
        || host.contains("localhost.sfdcdev.")
}

/// An HTTP client from the environment, as a command error.
pub fn http_client() -> Result<HttpClient, CommandError> {
    HttpClient::from_env().map_err(|e| CommandError::new("HttpClientError", e.to_string()))
}

/// A transport failure (Node's `fetch failed`, a TypeError: exit 10).
pub fn network_error(name: &str, message: String) -> CommandError {
    CommandError::new(name, message)
        .with_exit_code(EXIT_NETWORK)
        .with_action("Check the URL and your network connection (and NODE_EXTRA_CA_CERTS for an org with a private CA).")
}

/// A failed grant as a named error; `prefix` is `sf`'s message text before the server's words.
pub fn grant_error(name: &str, prefix: &str, e: &GrantError) -> CommandError {
    let message = format!("{prefix}{e}");
    match e {
        GrantError::Transport(_) => network_error(name, message),
        _ => CommandError::new(name, message),
    }
}

impl From<UsernameError> for CommandError {
    fn from(e: UsernameError) -> Self {
        CommandError::new("UsernameRetrievalError", e.to_string())
    }
}

impl From<ConnectionError> for CommandError {
    fn from(e: ConnectionError) -> Self {
        let exit_network = matches!(e, ConnectionError::Transport(_));
        let mut err = CommandError::new(e.name(), e.to_string());
        if e.name() == "TypeError" || e.name() == "Error" {
            err = CommandError::generic(e.to_string());
        }
        for a in e.actions() {
            err = err.with_action(a);
        }
        if exit_network {
            err = err.with_exit_code(EXIT_NETWORK);
        }
        err
    }
}

impl From<HttpError> for CommandError {
    fn from(e: HttpError) -> Self {
        network_error("Error", e.to_string())
    }
}

/// Fills `auth` from the post-login calls of §5 (Dev Hub probe, API version, Organization, SandboxProcess).
pub fn complete_metadata(store: &Store, http: &HttpClient, auth: &mut AuthFile) {
    let (Some(instance_url), Some(token)) = (
        auth.instance_url().map(str::to_owned),
        auth.access_token().map(str::to_owned),
    ) else {
        return;
    };
    let configured = store
        .config_get(ConfigKey::OrgApiVersion)
        .ok()
        .flatten()
        .and_then(|e| e.value_str().map(str::to_owned))
        .filter(|v| post_login::is_api_version(v));
    let rest = Rest {
        http,
        instance_url: &instance_url,
        access_token: &token,
    };
    post_login::complete(
        auth,
        rest,
        configured.as_deref(),
        time::OffsetDateTime::now_utc(),
    );
}

/// sf's `identifyPossibleScratchOrgs`: unless the new org is a Dev Hub or already knows its hub, ask every other
/// authorized Dev Hub whether it created this org as an active scratch org; a match records `devHubUsername`,
/// `expirationDate` and `isScratch`. Errors are ignored, as in sf.
pub fn identify_scratch_org(store: &Store, http: &HttpClient, auth: &mut AuthFile) {
    if auth.is_dev_hub() || auth.dev_hub_username().is_some() {
        return;
    }
    let Some(org_id15) = auth
        .org_id()
        .map(|id| id.chars().take(15).collect::<String>())
    else {
        return;
    };
    let me = auth.username().unwrap_or_default().to_owned();
    let Ok(usernames) = store.list_usernames() else {
        return;
    };
    let soql = format!(
        "select Id, ExpirationDate, ScratchOrg from ScratchOrgInfo where ScratchOrg = '{org_id15}' and Status = 'Active'"
    );
    for hub_name in usernames.into_iter().filter(|u| *u != me) {
        let Ok(hub) = store.read_auth(&hub_name) else {
            continue;
        };
        if !hub.is_dev_hub() {
            continue;
        }
        let version = hub
            .instance_api_version()
            .unwrap_or(post_login::BOOTSTRAP_API_VERSION)
            .to_owned();
        let mut conn = super::connection::Connection::new(store, http.clone(), hub);
        let path = format!(
            "services/data/v{version}/query?q={}",
            sfr_wire::encoding::escape(&soql)
        );
        let Ok(resp) = conn.get_ok(&path) else {
            continue;
        };
        let Ok(body) = serde_json::from_str::<Value>(&resp.body) else {
            continue;
        };
        if let Some(record) = body
            .get("records")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
        {
            auth.set_dev_hub_username(hub_name.clone());
            if let Some(exp) = record.get("ExpirationDate").and_then(Value::as_str) {
                auth.set_expiration_date(exp.to_owned());
            }
            auth.set_is_scratch(true);
            return;
        }
    }
}

/// sf's demo-mode guard (`SF_ENV`/`SFDX_ENV` = `demo`, without `-p`): asks on stderr before authorizing.
/// Returns false when the user declined (the command then ends with an empty result, as sf's does).
pub fn demo_mode_allows(no_prompt: bool) -> bool {
    let demo = ["SF_ENV", "SFDX_ENV"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| v.eq_ignore_ascii_case("demo")));
    if !demo || no_prompt {
        return true;
    }
    confirm(
        "Logging in to a business or production org is not recommended on a demo or shared machine. Run \"sfr org logout --target-org <your username>\" when you're finished using this org.\n\nDo you want to authorize this org for use with the Salesforce CLI?",
    )
}

/// A yes/no question on stderr, answered on stdin (anything but y/yes is no).
pub fn confirm(question: &str) -> bool {
    use std::io::{BufRead, Write};
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} (y/N) ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The outcome of a login the user declined in demo mode.
pub fn declined() -> Outcome {
    Outcome::new(Value::Object(Map::new()), String::new())
}

/// The org a command targets: `-o`, else the `target-org` config. A value that looks like an access token
/// (`00D…!…`, or a JWT) is used directly and never saved (sf §9.3); its instance is `org-instance-url`, else
/// production. Otherwise the alias or username must name an authorized org.
pub fn target_auth(store: &Store, flag: Option<&str>) -> Result<AuthFile, CommandError> {
    let raw = match flag {
        Some(v) => Some(v.to_owned()),
        None => store
            .target_org()?
            .and_then(|e| e.value_str().map(str::to_owned)),
    };
    if let Some(token) = raw.as_deref().filter(|v| looks_like_token(v)) {
        let instance = store
            .config_get(ConfigKey::OrgInstanceUrl)?
            .and_then(|e| e.value_str().map(str::to_owned))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| PRODUCTION_LOGIN_URL.to_owned());
        let mut auth = AuthFile::new();
        auth.set_access_token(token.to_owned())
            .set_instance_url(instance.clone())
            .set_login_url(instance);
        if let Some((org, _)) = token.split_once('!') {
            auth.set_org_id(org.to_owned());
        }
        return Ok(auth);
    }
    let username = crate::commands::target_username(store, raw.as_deref())?;
    Ok(store.read_auth(&username)?)
}

/// sf's `/(00D\w{12,15})![.\w]*/` (unanchored) or a JWT with `"typ":"JWT"`.
pub fn looks_like_token(s: &str) -> bool {
    looks_like_access_token(s) || looks_like_jwt(s)
}

/// sf's access-token pattern.
pub fn looks_like_access_token(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    (0..b.len()).any(|i| {
        b[i..].starts_with(b"00D")
            && (12..=15).any(|k| {
                let end = i + 3 + k;
                end < b.len() && b[i + 3..end].iter().all(|c| word(*c)) && b[end] == b'!'
            })
    })
}

/// Three base64url segments whose header is JSON with `"typ":"JWT"`.
pub fn looks_like_jwt(s: &str) -> bool {
    use base64::Engine as _;
    let mut parts = s.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|v| {
            v.get("typ")
                .and_then(Value::as_str)
                .map(|t| t.eq_ignore_ascii_case("JWT"))
        })
        .unwrap_or(false)
}

/// The login command's name in sf's warning text (`org login web`, …).
#[derive(Debug, Clone, Copy)]
pub enum Flow {
    Web,
    Jwt,
    SfdxUrl,
    AccessToken,
}

impl Flow {
    fn command(self) -> &'static str {
        match self {
            Flow::Web => "org login web",
            Flow::Jwt => "org login jwt",
            Flow::SfdxUrl => "org login sfdx-url",
            Flow::AccessToken => "org login access-token",
        }
    }
}

/// Saves nothing itself (the caller saved `auth`); applies `-a`, `-s`, `-d` in that order, then builds the
/// success line and the redacted result.
pub fn finish(
    ctx: &mut Ctx,
    store: &Store,
    auth: &AuthFile,
    defaults: &LoginDefaults,
    flow: Flow,
    url_warnings: &[String],
) -> Result<Outcome, CommandError> {
    let username = auth.username().unwrap_or_default().to_owned();
    let org_id = auth.org_id().unwrap_or_default().to_owned();
    if let Some(alias) = defaults.alias.as_deref().filter(|a| !a.is_empty()) {
        store.set_alias(alias, &username)?;
    }
    let value = defaults
        .alias
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| username.clone());
    let global = store.project_root().is_none();
    if defaults.set_default {
        store.set_config(ConfigKey::TargetOrg, Some(&value), global)?;
    }
    if defaults.set_default_dev_hub {
        store.set_config(ConfigKey::TargetDevHub, Some(&value), global)?;
    }
    if ctx.json() && !show_secrets() {
        ctx.warn(format!(
            "Secrets are now hidden from 'sf {}' command output. Use the 'sf org auth' commands instead. As a temporary workaround, you can set SF_TEMP_SHOW_SECRETS=true to render these secrets. This workaround will be removed in an upcoming release.",
            flow.command()
        ));
    }
    for w in url_warnings {
        ctx.warn(w.clone());
    }
    Ok(Outcome::new(
        Value::Object(redacted_fields(auth)),
        format!("Successfully authorized {username} with org ID {org_id}"),
    ))
}

/// `redactAuthFields`: the auth fields in file order, `accessToken` redacted, `refreshToken`, `clientSecret` and
/// `password` removed — all shown with `SF_TEMP_SHOW_SECRETS=true`.
pub fn redacted_fields(auth: &AuthFile) -> Map<String, Value> {
    let mut fields = auth.canonical_fields();
    if show_secrets() {
        return fields;
    }
    for k in ["refreshToken", "clientSecret", "password"] {
        fields.shift_remove(k);
    }
    if fields.contains_key("accessToken") {
        fields.insert(
            "accessToken".into(),
            Value::String(REDACTED_ACCESS_TOKEN.into()),
        );
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_in(dir: &std::path::Path) -> Store {
        Store::at(dir.join("home"), dir.join("cwd"))
    }

    #[test]
    fn instance_url_flag_keeps_the_trailing_slash_and_warns_on_http() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let u = url::Url::parse("http://localhost:8901").unwrap();
        let got = resolve_login_url(&store, Some(&u)).unwrap();
        assert_eq!(got.href, "http://localhost:8901/");
        assert_eq!(
            got.warnings,
            ["Using insecure protocol: http: on url: http://localhost:8901"]
        );
        let lightning = url::Url::parse("https://acme.lightning.force.com").unwrap();
        let err = resolve_login_url(&store, Some(&lightning)).unwrap_err();
        assert_eq!(err.name, "LightningDomain");
    }

    #[test]
    fn project_login_url_must_be_salesforce() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("cwd");
        std::fs::create_dir_all(&cwd).unwrap();
        let store = store_in(dir.path());
        assert_eq!(
            resolve_login_url(&store, None).unwrap().href,
            "https://login.salesforce.com/"
        );
        std::fs::write(
            cwd.join("sfdx-project.json"),
            r#"{"sfdcLoginUrl":"https://test.salesforce.com"}"#,
        )
        .unwrap();
        assert_eq!(
            resolve_login_url(&store, None).unwrap().href,
            "https://test.salesforce.com/"
        );
        std::fs::write(
            cwd.join("sfdx-project.json"),
            r#"{"sfdcLoginUrl":"http://localhost:8901"}"#,
        )
        .unwrap();
        let got = resolve_login_url(&store, None).unwrap();
        assert_eq!(got.href, "https://login.salesforce.com/");
        assert!(got.warnings[0].contains("neither a Salesforce domain"));
    }

    #[test]
    fn token_shapes() {
        assert!(looks_like_access_token(
            "00D000000000001AAA!AQCHxo8bJaFOynbuMTs0o0La"
        ));
        assert!(looks_like_access_token("00Dxx0000000123!AR8AQJ"));
        assert!(!looks_like_access_token("00D123!abc"));
        assert!(!looks_like_access_token("user@example.com"));
        assert!(looks_like_jwt(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig"
        ));
        assert!(!looks_like_jwt("a.b.c"));
    }

    #[test]
    fn redaction() {
        let mut a = AuthFile::new();
        a.set_access_token("00D!x")
            .set_refresh_token("r")
            .set_username("u@example.com")
            .set_client_secret("s");
        let f = redacted_fields(&a);
        assert_eq!(f["accessToken"], REDACTED_ACCESS_TOKEN);
        assert!(!f.contains_key("refreshToken") && !f.contains_key("clientSecret"));
    }
}

//! The command line, defined once: every command in scope with `sf`'s flags, short characters and aliases, the
//! legacy colon ids (`force:auth:jwt:grant`, …) and the sf-wide `--json`, `--flags-dir` and hidden `--loglevel`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

/// Top-level parser.
#[derive(Debug, Parser)]
#[command(
    name = "sfr",
    version,
    about = "Salesforce org authorization, a drop-in for the sf CLI's org login commands.",
    long_about = "Salesforce org authorization, a drop-in for the sf CLI's org login commands.\n\n\
sfr reads and writes the same files as sf (~/.sfdx, ~/.sf), so orgs authorized with one are usable by the other.",
    after_help = "Examples:\n  sfr org login web --alias dev --set-default\n  sfr org login jwt -o me@example.com -f server.key -i <client id> -r https://login.salesforce.com\n  sfr org list\n  sfr org display -o dev\n  sfr config set target-org=dev --global",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalFlags {
    /// Format output as json.
    #[arg(long, global = true)]
    pub json: bool,
    /// Import flag values from a directory (one file per flag, named after the long flag).
    #[arg(long = "flags-dir", global = true, value_name = "DIR")]
    pub flags_dir: Option<PathBuf>,
    /// Ignored: use the SF_LOG_LEVEL environment variable instead.
    #[arg(long, global = true, hide = true, value_name = "LEVEL")]
    pub loglevel: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to orgs, list them, show them, log out.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage aliases for usernames (shared with sf in ~/.sfdx/alias.json).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Manage configuration variables such as target-org (shared with sf).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create the key pair and certificate for a JWT connected app.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Authorize an org.
    #[command(subcommand)]
    Login(LoginCommand),
    /// Log out of orgs (removes the local authorization; no network call).
    #[command(
        after_help = "Examples:\n  sfr org logout -o me@example.com\n  sfr org logout --all --no-prompt"
    )]
    Logout(LogoutArgs),
    /// List the orgs you have authorized.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  sfr org list\n  sfr org list --json --skip-connection-status\n  sfr org list auth"
    )]
    List(ListArgs),
    /// Show details of an org.
    #[command(
        after_help = "Examples:\n  sfr org display\n  sfr org display -o dev --verbose --json"
    )]
    Display(DisplayArgs),
    /// Show secrets of an authorized org.
    #[command(subcommand)]
    Auth(OrgAuthCommand),
}

#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Log in to an org in a browser (OAuth web server flow with PKCE).
    #[command(
        after_help = "Examples:\n  sfr org login web --alias dev --set-default\n  sfr org login web -r https://mydomain.my.salesforce.com --no-browser\n  sfr org login web -i <client id> -r https://test.salesforce.com"
    )]
    Web(LoginWebArgs),
    /// Log in to an org with a JWT (server-to-server, no browser).
    #[command(
        after_help = "Examples:\n  sfr org login jwt -o me@example.com -f server.key -i <consumer key>\n  sfr org login jwt -o me@example.com -f server.key -i <consumer key> -r https://test.salesforce.com -a ci"
    )]
    Jwt(LoginJwtArgs),
    /// Log in with an SFDX auth URL (force://<clientId>:<secret>:<refreshToken>@<host>).
    #[command(
        name = "sfdx-url",
        after_help = "Examples:\n  sfr org login sfdx-url -f authurl.txt -a ci\n  echo \"$AUTH_URL\" | sfr org login sfdx-url -u -"
    )]
    SfdxUrl(LoginSfdxUrlArgs),
    /// Log in with an existing access token (from SF_ACCESS_TOKEN or stdin).
    #[command(
        name = "access-token",
        after_help = "Examples:\n  SF_ACCESS_TOKEN='00D…!…' sfr org login access-token -r https://mydomain.my.salesforce.com"
    )]
    AccessToken(LoginAccessTokenArgs),
}

/// `-d`, `-s`, `-a`, `-p` shared by the login commands.
#[derive(Debug, Clone, Default, Args)]
pub struct LoginDefaults {
    /// Set the authenticated org as the default Dev Hub (target-dev-hub).
    #[arg(
        short = 'd',
        long = "set-default-dev-hub",
        alias = "setdefaultdevhubusername",
        alias = "setdefaultdevhub",
        short_alias = 'v'
    )]
    pub set_default_dev_hub: bool,
    /// Set the authenticated org as the default org (target-org).
    #[arg(short = 's', long = "set-default", alias = "setdefaultusername")]
    pub set_default: bool,
    /// Alias for the authenticated org.
    #[arg(short = 'a', long = "alias", alias = "setalias", value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Don't prompt for confirmation.
    #[arg(short = 'p', long = "no-prompt", alias = "noprompt", hide = true)]
    pub no_prompt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Browser {
    Chrome,
    Edge,
    Firefox,
}

impl Browser {
    pub fn as_str(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Edge => "edge",
            Browser::Firefox => "firefox",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct LoginWebArgs {
    /// Browser to open the login page in (default: the system browser).
    #[arg(short = 'b', long, value_enum)]
    pub browser: Option<Browser>,
    /// OAuth client id (consumer key) of a custom connected app.
    #[arg(short = 'i', long = "client-id", alias = "clientid", value_name = "ID")]
    pub client_id: Option<String>,
    /// Login URL of the org (default: sfdcLoginUrl, org-instance-url, then https://login.salesforce.com).
    #[arg(
        short = 'r',
        long = "instance-url",
        alias = "instanceurl",
        short_alias = 'l',
        value_parser = parse_url,
        value_name = "URL"
    )]
    pub instance_url: Option<Url>,
    #[command(flatten)]
    pub defaults: LoginDefaults,
    /// Name of a connected app to link to an already-authorized user (needs --username).
    #[arg(
        short = 'c',
        long = "client-app",
        requires = "username",
        value_name = "NAME"
    )]
    pub client_app: Option<String>,
    /// Username of the already-authorized user to link a client app to (needs --client-app).
    #[arg(long, requires = "client_app")]
    pub username: Option<String>,
    /// OAuth scopes, space-separated (default: "refresh_token api web").
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,
    /// Don't launch a browser; print the login URL on stderr instead (sfr only).
    #[arg(long = "no-browser", conflicts_with = "browser")]
    pub no_browser: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoginJwtArgs {
    /// Username of the user logging in.
    #[arg(short = 'o', long, short_alias = 'u', required = true)]
    pub username: String,
    /// Path to the file containing the private key.
    #[arg(
        short = 'f',
        long = "jwt-key-file",
        alias = "jwtkeyfile",
        alias = "keyfile",
        required = true,
        value_name = "FILE"
    )]
    pub jwt_key_file: PathBuf,
    /// OAuth client id (consumer key) of the connected app.
    #[arg(
        short = 'i',
        long = "client-id",
        alias = "clientid",
        required = true,
        value_name = "ID"
    )]
    pub client_id: String,
    /// Login URL of the org.
    #[arg(
        short = 'r',
        long = "instance-url",
        alias = "instanceurl",
        short_alias = 'l',
        value_parser = parse_url,
        value_name = "URL"
    )]
    pub instance_url: Option<Url>,
    #[command(flatten)]
    pub defaults: LoginDefaults,
}

#[derive(Debug, Clone, Args)]
#[group(id = "sfdx_url_source", required = true, multiple = false, args = ["sfdx_url_file", "sfdx_url_stdin"])]
pub struct LoginSfdxUrlArgs {
    /// Path to a file containing the SFDX auth URL (or a JSON file with `sfdxAuthUrl`).
    #[arg(
        short = 'f',
        long = "sfdx-url-file",
        alias = "sfdxurlfile",
        value_name = "FILE"
    )]
    pub sfdx_url_file: Option<PathBuf>,
    /// Read the SFDX auth URL from stdin: pass `-` and pipe the URL.
    #[arg(
        short = 'u',
        long = "sfdx-url-stdin",
        alias = "sfdxurlstdin",
        value_name = "-"
    )]
    pub sfdx_url_stdin: Option<String>,
    #[command(flatten)]
    pub defaults: LoginDefaults,
}

#[derive(Debug, Clone, Args)]
pub struct LoginAccessTokenArgs {
    /// URL of the instance the access token belongs to.
    #[arg(
        short = 'r',
        long = "instance-url",
        alias = "instanceurl",
        required = true,
        value_parser = parse_url,
        value_name = "URL"
    )]
    pub instance_url: Url,
    #[command(flatten)]
    pub defaults: LoginDefaults,
}

/// `-o/--target-org` (also `--targetusername`, `-u`).
#[derive(Debug, Clone, Default, Args)]
pub struct TargetOrg {
    /// Username or alias of the target org (default: the target-org config variable).
    #[arg(
        short = 'o',
        long = "target-org",
        alias = "targetusername",
        short_alias = 'u',
        value_name = "ORG"
    )]
    pub target_org: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub target: TargetOrg,
    /// Client app to unlink from the user (keeps the user's own authorization).
    #[arg(
        short = 'c',
        long = "client-app",
        requires = "target_org",
        value_name = "NAME"
    )]
    pub client_app: Option<String>,
    /// Log out of all orgs.
    #[arg(short = 'a', long, conflicts_with = "target_org")]
    pub all: bool,
    /// Don't prompt for confirmation.
    #[arg(short = 'p', long = "no-prompt", alias = "noprompt")]
    pub no_prompt: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(subcommand)]
    pub sub: Option<ListSubcommand>,
    /// Show more columns.
    #[arg(long)]
    pub verbose: bool,
    /// Include expired, deleted and unknown-status scratch orgs.
    #[arg(long)]
    pub all: bool,
    /// Remove the local authorization of non-active scratch orgs.
    #[arg(long)]
    pub clean: bool,
    /// Don't prompt for confirmation.
    #[arg(short = 'p', long = "no-prompt", alias = "noprompt")]
    pub no_prompt: bool,
    /// Don't check whether each org is reachable (no network).
    #[arg(long = "skip-connection-status", alias = "skipconnectionstatus")]
    pub skip_connection_status: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ListSubcommand {
    /// List the local authorization files (no network).
    #[command(after_help = "Examples:\n  sfr org list auth\n  sfr org list auth --json")]
    Auth,
}

#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    #[command(flatten)]
    pub target: TargetOrg,
    /// API version to use (default: org-api-version or the org's maximum).
    #[arg(long = "api-version", alias = "apiversion", value_name = "VERSION")]
    pub api_version: Option<String>,
    /// Show the SFDX auth URL too (only for orgs with a refresh token).
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum OrgAuthCommand {
    /// Show the access token of an org (refreshes it first).
    #[command(name = "show-access-token")]
    ShowAccessToken(ShowSecretArgs),
    /// Show the SFDX auth URL of an org (needs a refresh token).
    #[command(name = "show-sfdx-auth-url")]
    ShowSfdxAuthUrl(ShowSecretArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ShowSecretArgs {
    #[command(flatten)]
    pub target: TargetOrg,
    /// Don't ask for confirmation before showing the secret.
    #[arg(short = 'p', long = "no-prompt", alias = "noprompt")]
    pub no_prompt: bool,
}

#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// Set aliases: `alias set dev=me@example.com` (an empty value unsets).
    #[command(
        after_help = "Examples:\n  sfr alias set dev=me@example.com\n  sfr alias set dev me@example.com\n  sfr alias set dev= (unsets dev)"
    )]
    Set(AliasSetArgs),
    /// List aliases.
    List,
    /// Unset aliases.
    #[command(after_help = "Examples:\n  sfr alias unset dev\n  sfr alias unset --all --no-prompt")]
    Unset(AliasUnsetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AliasSetArgs {
    /// `alias=value` pairs, or `alias value`.
    #[arg(value_name = "ALIAS=VALUE")]
    pub pairs: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AliasUnsetArgs {
    /// Aliases to unset.
    #[arg(value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// Unset all aliases.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Don't prompt for confirmation.
    #[arg(short = 'p', long = "no-prompt", alias = "noprompt")]
    pub no_prompt: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set configuration variables: `config set target-org=dev`.
    #[command(
        after_help = "Keys: target-org, target-dev-hub, org-instance-url, org-api-version.\n\nExamples:\n  sfr config set target-org=dev\n  sfr config set target-dev-hub=hub --global"
    )]
    Set(ConfigSetArgs),
    /// Get configuration variables.
    Get(ConfigGetArgs),
    /// List the configuration variables that are set.
    List,
    /// Unset configuration variables.
    Unset(ConfigUnsetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ConfigSetArgs {
    /// `name=value` pairs, or `name value`.
    #[arg(value_name = "NAME=VALUE")]
    pub pairs: Vec<String>,
    /// Set globally (~/.sf/config.json) instead of in the current project.
    #[arg(short = 'g', long)]
    pub global: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigGetArgs {
    /// Names of the variables.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Show where each value comes from.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigUnsetArgs {
    /// Names of the variables.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Unset globally instead of in the current project.
    #[arg(short = 'g', long)]
    pub global: bool,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Generate an RSA key and self-signed certificate for a JWT connected app (sfr only).
    #[command(
        after_help = "Examples:\n  sfr cert create\n  sfr cert create --name ci --output-dir keys --days 730"
    )]
    Create(CertCreateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CertCreateArgs {
    /// Base name of the files written (<name>.key, <name>.crt).
    #[arg(long, default_value = "server")]
    pub name: String,
    /// Directory to write the files to.
    #[arg(long = "output-dir", default_value = ".", value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Validity of the certificate in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
}

/// `URL.href` semantics: parse, then keep the normalised form (`http://h:1` → `http://h:1/`).
fn parse_url(s: &str) -> Result<Url, String> {
    let invalid = || format!("Expected a valid url but received: {s}");
    let url = Url::parse(s).map_err(|_| invalid())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid());
    }
    Ok(url)
}

/// Legacy colon command ids and their modern words.
pub const LEGACY_IDS: &[(&str, &str)] = &[
    ("force:auth:web:login", "org login web"),
    ("auth:web:login", "org login web"),
    ("force:auth:jwt:grant", "org login jwt"),
    ("auth:jwt:grant", "org login jwt"),
    ("force:auth:sfdxurl:store", "org login sfdx-url"),
    ("auth:sfdxurl:store", "org login sfdx-url"),
    ("force:auth:accesstoken:store", "org login access-token"),
    ("auth:accesstoken:store", "org login access-token"),
    ("force:auth:logout", "org logout"),
    ("auth:logout", "org logout"),
    ("force:org:list", "org list"),
    ("force:auth:list", "org list auth"),
    ("auth:list", "org list auth"),
    ("force:org:display", "org display"),
    ("force:alias:set", "alias set"),
    ("force:alias:list", "alias list"),
    ("force:alias:unset", "alias unset"),
    ("force:config:set", "config set"),
    ("force:config:get", "config get"),
    ("force:config:list", "config list"),
    ("force:config:unset", "config unset"),
];

/// The command line after legacy ids and `--flags-dir` have been expanded.
#[derive(Debug)]
pub struct Expanded {
    pub args: Vec<OsString>,
    /// Deprecation warnings to report (a legacy id was used).
    pub warnings: Vec<String>,
}

/// Rewrites `sfr force:auth:jwt:grant …` and `sfr org:login:jwt …` into `sfr org login jwt …`, and appends the flags
/// of `--flags-dir` that the command line does not already set.
pub fn expand_args(args: Vec<OsString>) -> Expanded {
    let mut warnings = Vec::new();
    let mut out: Vec<OsString> = Vec::with_capacity(args.len() + 2);
    let mut iter = args.into_iter();
    if let Some(bin) = iter.next() {
        out.push(bin);
    }
    let rest: Vec<OsString> = iter.collect();
    let mut rest_iter = rest.into_iter();
    if let Some(first) = rest_iter.next() {
        match first
            .to_str()
            .filter(|s| s.contains(':') && !s.starts_with('-'))
        {
            Some(id) => {
                if let Some((_, modern)) = LEGACY_IDS.iter().find(|(legacy, _)| *legacy == id) {
                    warnings.push(format!(
                        "The \"{}\" command has been deprecated. Use \"{modern}\" instead.",
                        id.replace(':', " ")
                    ));
                    out.extend(modern.split(' ').map(OsString::from));
                } else {
                    out.extend(id.split(':').map(OsString::from));
                }
            }
            None => out.push(first),
        }
    }
    out.extend(rest_iter);
    if let Some(dir) = flags_dir(&out) {
        let extra = flags_from_dir(&dir, &out);
        out.extend(extra);
    }
    Expanded {
        args: out,
        warnings,
    }
}

fn flags_dir(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        if s == "--flags-dir" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--flags-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// sf's `--flags-dir`: each file is named after a long flag; its lines are values (an empty file is a boolean).
fn flags_from_dir(dir: &Path, present: &[OsString]) -> Vec<OsString> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let name = name.strip_suffix(".txt").map(str::to_owned).unwrap_or(name);
            (e.file_type().ok()?.is_file() && !name.starts_with('.')).then_some((name, e.path()))
        })
        .collect();
    names.sort();
    let mut extra = Vec::new();
    for (name, path) in names {
        let flag = format!("--{name}");
        let already = present.iter().any(|a| {
            let a = a.to_string_lossy();
            a == flag || a.starts_with(&format!("{flag}="))
        });
        if already || name == "flags-dir" {
            continue;
        }
        let Ok(content) = std::fs::read_to_string(&path) else {
            continue;
        };
        let values: Vec<&str> = content
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if values.is_empty() {
            extra.push(OsString::from(&flag));
        } else {
            for v in values {
                extra.push(OsString::from(format!("{flag}={v}")));
            }
        }
    }
    extra
}

/// Deprecated flag spellings of the login commands' shared flags and what to use instead.
const LOGIN_DEFAULTS_ALIASES: &[(&str, &str)] = &[
    ("--setdefaultdevhubusername", "--set-default-dev-hub | -d"),
    ("--setdefaultdevhub", "--set-default-dev-hub | -d"),
    ("-v", "--set-default-dev-hub | -d"),
    ("--setdefaultusername", "--set-default | -s"),
    ("--setalias", "--alias | -a"),
    ("--noprompt", "--no-prompt | -p"),
];
const INSTANCE_URL_ALIASES: &[(&str, &str)] = &[
    ("--instanceurl", "--instance-url | -r"),
    ("-l", "--instance-url | -r"),
];
const TARGET_ORG_ALIASES: &[(&str, &str)] = &[
    ("--targetusername", "--target-org | -o"),
    ("-u", "--target-org | -o"),
    ("--noprompt", "--no-prompt | -p"),
];

/// oclif's warnings for deprecated flag spellings (`-u`, `--targetusername`, …) found on the command line.
pub fn deprecated_flag_warnings(command: &Command, args: &[OsString]) -> Vec<String> {
    let tables: Vec<&[(&str, &str)]> = match command {
        Command::Org(OrgCommand::Login(LoginCommand::Web(_))) => vec![
            LOGIN_DEFAULTS_ALIASES,
            INSTANCE_URL_ALIASES,
            &[("--clientid", "--client-id | -i")],
        ],
        Command::Org(OrgCommand::Login(LoginCommand::Jwt(_))) => vec![
            LOGIN_DEFAULTS_ALIASES,
            INSTANCE_URL_ALIASES,
            &[
                ("--clientid", "--client-id | -i"),
                ("-u", "--username | -o"),
                ("--jwtkeyfile", "--jwt-key-file | -f"),
                ("--keyfile", "--jwt-key-file | -f"),
            ],
        ],
        Command::Org(OrgCommand::Login(LoginCommand::SfdxUrl(_))) => vec![
            LOGIN_DEFAULTS_ALIASES,
            &[
                ("--sfdxurlfile", "--sfdx-url-file | -f"),
                ("--sfdxurlstdin", "--sfdx-url-stdin | -u"),
            ],
        ],
        Command::Org(OrgCommand::Login(LoginCommand::AccessToken(_))) => {
            vec![
                LOGIN_DEFAULTS_ALIASES,
                &[("--instanceurl", "--instance-url | -r")],
            ]
        }
        Command::Org(OrgCommand::Logout(_) | OrgCommand::Auth(_)) => vec![TARGET_ORG_ALIASES],
        Command::Org(OrgCommand::Display(_)) => {
            vec![TARGET_ORG_ALIASES, &[("--apiversion", "--api-version")]]
        }
        Command::Org(OrgCommand::List(_)) => vec![&[
            ("--noprompt", "--no-prompt | -p"),
            ("--skipconnectionstatus", "--skip-connection-status"),
        ]],
        _ => Vec::new(),
    };
    let mut warnings = Vec::new();
    for arg in args.iter().skip(1) {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        let token = arg.split_once('=').map_or(arg.as_ref(), |(flag, _)| flag);
        if let Some((alias, modern)) = tables
            .iter()
            .flat_map(|t| t.iter())
            .find(|(alias, _)| *alias == token)
        {
            let w = format!("The \"{alias}\" flag has been deprecated. Use \"{modern}\" instead.");
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    }
    warnings
}

/// An oclif-style flag-parse error (exit code 2), from clap's: the same message text sf prints.
pub fn usage_error(e: &clap::Error, args: &[OsString]) -> crate::output::CommandError {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let strings = |kind: ContextKind| -> Vec<String> {
        match e.get(kind) {
            Some(ContextValue::String(s)) => vec![s.clone()],
            Some(ContextValue::Strings(v)) => v.clone(),
            _ => Vec::new(),
        }
    };
    // "--instance-url <URL>" -> "instance-url"
    let flag_name = |arg: &str| -> String {
        arg.split([' ', '='])
            .next()
            .unwrap_or(arg)
            .trim_start_matches('-')
            .to_owned()
    };
    let clap_text = || {
        e.render()
            .to_string()
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_owned()
    };
    let (oclif_name, body) = match e.kind() {
        ErrorKind::MissingRequiredArgument => {
            let mut reasons: Vec<String> = Vec::new();
            for arg in strings(ContextKind::InvalidArg) {
                if arg.contains('|') {
                    let names: Vec<String> = arg
                        .split('|')
                        .map(|a| format!("--{}", flag_name(a.trim().trim_start_matches('<'))))
                        .collect();
                    reasons.push(format!(
                        "Exactly one of the following must be provided: {}",
                        names.join(", ")
                    ));
                } else {
                    reasons.push(format!("Missing required flag {}", flag_name(&arg)));
                }
            }
            reasons.sort();
            let header = if reasons.len() == 1 {
                "The following error occurred:"
            } else {
                "The following errors occurred:"
            };
            let lines: Vec<String> = reasons.iter().map(|r| format!("  {r}")).collect();
            (
                "FailedFlagValidationError",
                format!("{header}\n{}", lines.join("\n")),
            )
        }
        ErrorKind::UnknownArgument => {
            let arg = strings(ContextKind::InvalidArg).join(", ");
            if arg.starts_with('-') {
                ("NonExistentFlagsError", format!("Nonexistent flag: {arg}"))
            } else {
                ("UnexpectedArgsError", format!("Unexpected argument: {arg}"))
            }
        }
        ErrorKind::InvalidSubcommand => (
            "UnexpectedArgsError",
            format!(
                "Unexpected argument: {}",
                strings(ContextKind::InvalidSubcommand).join(", ")
            ),
        ),
        ErrorKind::InvalidValue if e.get(ContextKind::ValidValue).is_some() => {
            let arg = strings(ContextKind::InvalidArg).join("");
            let value = strings(ContextKind::InvalidValue).join("");
            let valid = strings(ContextKind::ValidValue).join(", ");
            // sf exits 1 for this one (an options check, not a parse failure).
            let message = format!(
                "Expected --{}={value} to be one of: {valid}\nSee more help with --help",
                flag_name(&arg)
            );
            return crate::output::CommandError {
                cause: Some(format!("FailedFlagValidationError: {message}")),
                ..crate::output::CommandError::generic(message)
            };
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = strings(ContextKind::InvalidArg).join("");
            let reason = std::error::Error::source(e)
                .map(ToString::to_string)
                .unwrap_or_else(clap_text);
            (
                "CLIError",
                format!("Parsing --{} \n\t{reason}", flag_name(&arg)),
            )
        }
        ErrorKind::ArgumentConflict => {
            let given = flag_name(&strings(ContextKind::InvalidArg).join(""));
            let prior = flag_name(&strings(ContextKind::PriorArg).join(""));
            // oclif names the conflicting flag with its value: `--target-org=x`.
            let shown = match flag_value(args, &prior) {
                Some(v) => format!("--{prior}={v}"),
                None => format!("--{prior}"),
            };
            (
                "FailedFlagValidationError",
                format!(
                    "The following error occurred:\n  {shown} cannot also be provided when using --{given}"
                ),
            )
        }
        _ => ("CLIError", clap_text()),
    };
    let message = format!("{body}\nSee more help with --help");
    crate::output::CommandError {
        cause: Some(format!("{oclif_name}: {message}")),
        code: None,
        ..crate::output::CommandError::usage("Error", message)
    }
}

/// The value given to a long flag (or its short form) on the command line, if it takes one.
fn flag_value(args: &[OsString], long: &str) -> Option<String> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let short = find_short(&cmd, long);
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let long_flag = format!("--{long}");
    let short_flag = short.map(|c| format!("-{c}"));
    for (i, a) in args.iter().enumerate() {
        if let Some(v) = a.strip_prefix(&format!("{long_flag}=")) {
            return Some(v.to_owned());
        }
        if *a == long_flag || Some(a) == short_flag.as_ref() {
            return args.get(i + 1).cloned();
        }
    }
    None
}

fn find_short(cmd: &clap::Command, long: &str) -> Option<char> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(clap::Arg::get_short)
        .or_else(|| cmd.get_subcommands().find_map(|s| find_short(s, long)))
}

/// Parses the command line; the error is clap's (exit code 2 for usage errors).
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(args)
}

/// sf's command class for each command's words, to name a command whose flags did not parse.
const CLASS_NAMES: &[(&str, &str)] = &[
    ("org login web", "LoginWeb"),
    ("org login jwt", "LoginJwt"),
    ("org login sfdx-url", "LoginSfdxUrl"),
    ("org login access-token", "LoginAccessToken"),
    ("org logout", "Logout"),
    ("org list auth", "ListAuth"),
    ("org list", "OrgListCommand"),
    ("org display", "OrgDisplayCommand"),
    ("org auth show-access-token", "ShowAccessToken"),
    ("org auth show-sfdx-auth-url", "ShowSfdxAuthUrl"),
    ("alias set", "AliasSet"),
    ("alias list", "AliasList"),
    ("alias unset", "AliasUnset"),
    ("config set", "Set"),
    ("config get", "Get"),
    ("config list", "List"),
    ("config unset", "UnSet"),
    ("cert create", "CertCreate"),
];

/// The class name of the longest command whose words start the command line (`None` for no known command).
pub fn class_name_for_words(words: &[String]) -> Option<&'static str> {
    CLASS_NAMES
        .iter()
        .filter(|(cmd, _)| {
            let cmd: Vec<&str> = cmd.split(' ').collect();
            words.len() >= cmd.len() && words.iter().zip(&cmd).all(|(w, c)| w == c)
        })
        .max_by_key(|(cmd, _)| cmd.len())
        .map(|(_, class)| *class)
}

impl Cli {
    /// The sf command class name (`context`/`commandName` in JSON errors).
    pub fn command_name(&self) -> &'static str {
        self.command.class_name()
    }
}

impl Command {
    /// The sf command class name (`context`/`commandName` in JSON errors).
    pub fn class_name(&self) -> &'static str {
        match self {
            Command::Org(OrgCommand::Login(LoginCommand::Web(_))) => "LoginWeb",
            Command::Org(OrgCommand::Login(LoginCommand::Jwt(_))) => "LoginJwt",
            Command::Org(OrgCommand::Login(LoginCommand::SfdxUrl(_))) => "LoginSfdxUrl",
            Command::Org(OrgCommand::Login(LoginCommand::AccessToken(_))) => "LoginAccessToken",
            Command::Org(OrgCommand::Logout(_)) => "Logout",
            Command::Org(OrgCommand::List(a)) if a.sub.is_some() => "ListAuth",
            Command::Org(OrgCommand::List(_)) => "OrgListCommand",
            Command::Org(OrgCommand::Display(_)) => "OrgDisplayCommand",
            Command::Org(OrgCommand::Auth(OrgAuthCommand::ShowAccessToken(_))) => {
                "OrgAuthShowAccessToken"
            }
            Command::Org(OrgCommand::Auth(OrgAuthCommand::ShowSfdxAuthUrl(_))) => {
                "OrgAuthShowSfdxAuthUrl"
            }
            Command::Alias(AliasCommand::Set(_)) => "AliasSet",
            Command::Alias(AliasCommand::List) => "AliasList",
            Command::Alias(AliasCommand::Unset(_)) => "AliasUnset",
            Command::Config(ConfigCommand::Set(_)) => "Set",
            Command::Config(ConfigCommand::Get(_)) => "Get",
            Command::Config(ConfigCommand::List) => "List",
            Command::Config(ConfigCommand::Unset(_)) => "UnSet",
            Command::Cert(CertCommand::Create(_)) => "CertCreate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn legacy_ids_map_to_words() {
        let e = expand_args(os(&["sfr", "force:auth:jwt:grant", "-u", "a@b.co"]));
        assert_eq!(e.args, os(&["sfr", "org", "login", "jwt", "-u", "a@b.co"]));
        assert_eq!(
            e.warnings,
            [
                "The \"force auth jwt grant\" command has been deprecated. Use \"org login jwt\" instead."
            ]
        );
        let cli = parse(os(&["sfr", "org", "logout", "-u", "x", "--noprompt"])).unwrap();
        assert_eq!(
            deprecated_flag_warnings(
                &cli.command,
                &os(&["sfr", "org", "logout", "-u", "x", "--noprompt"])
            ),
            [
                "The \"-u\" flag has been deprecated. Use \"--target-org | -o\" instead.",
                "The \"--noprompt\" flag has been deprecated. Use \"--no-prompt | -p\" instead."
            ]
        );
        let e = expand_args(os(&["sfr", "org:list:auth"]));
        assert_eq!(e.args, os(&["sfr", "org", "list", "auth"]));
        assert!(e.warnings.is_empty());
    }

    #[test]
    fn sf_short_aliases_parse() {
        let cli = parse(os(&[
            "sfr",
            "org",
            "login",
            "jwt",
            "-u",
            "a@b.co",
            "--keyfile",
            "k",
            "--clientid",
            "c",
            "-l",
            "http://localhost:8901",
            "-v",
            "--setalias",
            "x",
        ]))
        .unwrap();
        match cli.command {
            Command::Org(OrgCommand::Login(LoginCommand::Jwt(a))) => {
                assert_eq!(a.username, "a@b.co");
                assert_eq!(a.instance_url.unwrap().as_str(), "http://localhost:8901/");
                assert!(a.defaults.set_default_dev_hub);
                assert_eq!(a.defaults.alias.as_deref(), Some("x"));
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn missing_required_flag_exits_2() {
        let err = parse(os(&["sfr", "org", "login", "jwt", "-u", "a@b.co"])).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}

//! The `sfr-org` command line: `serve` plus the admin commands, parsed with clap and dispatched here.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::admin::{self, AdminError, Context, Report, app::AppArgs, app::SessionTimeout};
use crate::bootstrap;
use crate::clock::SystemClock;
use crate::model::{IpRelaxation, OrgSettingsUpdate, PermittedUsers, RefreshPolicy, Scope};
use crate::server::{RunningServer, ServeConfig, TlsFiles};
use crate::store::DatabaseUrl;

const AFTER_HELP: &str = "\
Getting started:
  sfr-org serve                                   # creates the org on first run and prints the admin password
  sf org login web --instance-url http://localhost:8901

To create your own connected app (JWT, client credentials, custom callbacks), do the two one-time steps first:
  sfr-org support allow-connected-apps
  sfr-org setup allow-connected-app-creation
  sfr-org app create --name \"My App\" --contact-email you@example.com \\
      --callback-url http://localhost:1717/OauthRedirect --scopes \"api web refresh_token\"

Admin commands work on the same database while the server runs.";

const SERVE_AFTER_HELP: &str = "\
Durability (SQLite): every token is committed before its answer is sent.
SFR_ORG_SQLITE_SYNCHRONOUS says how far:
  normal  the default. In the WAL: a crash of the process loses nothing answered,
          a power loss can lose the last ~25 ms of commits (never the database)
  full    also fsynced, once per batch of commits: a power loss loses nothing
          answered either; about 0.7-0.9 of normal's grants per second
PostgreSQL follows its own fsync and synchronous_commit settings.";

/// A Salesforce-compatible org on your machine: users, connected apps and the OAuth endpoints that sf, jsforce
/// and simple-salesforce log in to.
#[derive(Debug, Parser)]
#[command(name = "sfr-org", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Database URL: sqlite://PATH, a plain file path, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (several
    /// nodes may share one; add ?pool_size=N to size each node's pool, default 8; for TLS add
    /// ?sslmode=verify-full&sslrootcert=CA.pem, see docs/operating-postgres.md). Default:
    /// sqlite://$XDG_DATA_HOME/sfr-org/org.sqlite (~/.local/share when XDG_DATA_HOME is unset).
    #[arg(long, global = true, env = "SFR_ORG_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Master key file that encrypts consumer secrets and the signing key (created 0600 on first use).
    /// Default: next to the database, e.g. org.sqlite -> org.key. The SFR_ORG_KEY environment variable (64 hex
    /// characters) overrides it.
    #[arg(long, global = true, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the org's HTTP server (OAuth endpoints, login pages, the REST calls sf makes).
    #[command(after_help = SERVE_AFTER_HELP)]
    Serve(ServeArgs),
    /// Steps only Salesforce Customer Support can take.
    #[command(subcommand)]
    Support(SupportCommand),
    /// Org settings an admin changes in Setup.
    #[command(subcommand)]
    Setup(SetupCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage permission sets (used to pre-authorize users for admin-approved apps).
    #[command(subcommand, name = "permission-set")]
    PermissionSet(PermissionSetCommand),
    /// Manage connected apps.
    #[command(subcommand)]
    App(AppCommand),
    /// Show or change org-wide settings (session timeout, lockout).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Show recent logins and token requests, with the precise reason for each failure.
    #[command(name = "login-history")]
    LoginHistory {
        /// How many events to show, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Args, Clone, Copy)]
pub struct Output {
    /// Print JSON: {"status":0,"result":…} on success, {"status":1,"name":…,"message":…} on failure.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. `localhost:PORT` binds 127.0.0.1 and ::1; port 0 picks a free port (printed).
    #[arg(long, default_value = "localhost:8901", value_name = "HOST:PORT")]
    pub listen: String,
    /// The base URL clients use (instance_url, identity URLs, issuer). Default: http://localhost:<port>
    /// (https with TLS), or the listen IP when --listen names one.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM). Needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Token-endpoint limit per client id: BURST requests at once, PER_MINUTE at a steady pace, or `off`.
    /// Shared by every node on the database (within about nodes x rate x 100 ms).
    #[arg(long, value_name = "BURST/PER_MINUTE", env = "SFR_ORG_RATE_LIMIT_PER_CLIENT",
          default_value_t = crate::http::rate_limit::RateLimits::default().per_client)]
    pub rate_limit_per_client: crate::http::rate_limit::Rate,
    /// Token-endpoint limit per source address, like --rate-limit-per-client.
    #[arg(long, value_name = "BURST/PER_MINUTE", env = "SFR_ORG_RATE_LIMIT_PER_ADDRESS",
          default_value_t = crate::http::rate_limit::RateLimits::default().per_address)]
    pub rate_limit_per_address: crate::http::rate_limit::Rate,
}

#[derive(Debug, Subcommand)]
pub enum SupportCommand {
    /// Grant the org the Connected Apps permission (step 1 of 2 before `app create` works).
    AllowConnectedApps {
        /// Withdraw the permission instead (also turns the admin setting off).
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Turn on "Allow creation of connected apps" (step 2 of 2; needs the support step first).
    AllowConnectedAppCreation {
        /// Turn the setting off instead.
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// Login name, e-mail shaped with a dotted domain (sf only lists such usernames), e.g. jane@example.com.
        #[arg(long)]
        username: String,
        /// Password (at least 8 characters, a letter and a digit). Omit it to have one generated and printed.
        #[arg(long)]
        password: Option<String>,
        /// E-mail address. Default: the username.
        #[arg(long)]
        email: Option<String>,
        /// Profile: "System Administrator" or "Standard User".
        #[arg(long, default_value = "Standard User")]
        profile: String,
        /// Permission set to assign (repeatable); create it first with `sfr-org permission-set create`.
        #[arg(long = "permission-set", value_name = "NAME")]
        permission_sets: Vec<String>,
        #[arg(long)]
        first_name: Option<String>,
        /// Default: the part of the username before @.
        #[arg(long)]
        last_name: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// List users with their status, profile and permission sets.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Deactivate a user: logins are refused and their tokens revoked.
    Deactivate {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        out: Output,
    },
    /// Reactivate a user (also clears a lockout after too many failed logins).
    Activate {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum PermissionSetCommand {
    /// Create a permission set.
    Create {
        /// API name: letters, digits and _, starting with a letter (e.g. JWT_Access).
        #[arg(long)]
        name: String,
        /// Readable label. Default: the name.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Assign a permission set to a user.
    Assign {
        /// The permission set's name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        username: String,
        #[command(flatten)]
        out: Output,
    },
    /// List permission sets.
    List {
        #[command(flatten)]
        out: Output,
    },
}

/// Connected-app settings shared by `app create` and `app update`.
#[derive(Debug, Args)]
pub struct AppFlags {
    /// Contact e-mail (required by `create`).
    #[arg(long)]
    pub contact_email: Option<String>,
    /// Callback URL (repeatable); a redirect_uri must equal one exactly. `create` needs at least one; `update`
    /// replaces the list.
    #[arg(long = "callback-url", value_name = "URL", num_args = 1..)]
    pub callback_urls: Vec<String>,
    /// OAuth scopes, quoted and space-separated ("api web refresh_token") or as separate values (api web
    /// refresh_token). Also: full, offline_access, openid, id, profile, email, address, phone, chatter_api,
    /// visualforce, custom_permissions, lightning, content. `update` replaces the list.
    #[arg(long, value_parser = parse_scopes, num_args = 1..)]
    pub scopes: Vec<ScopeList>,
    /// X.509 certificate (PEM, RSA) for "Use digital signatures": enables `sf org login jwt` with the matching
    /// private key.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// (update) Remove the uploaded certificate.
    #[arg(long)]
    pub remove_certificate: bool,
    /// Who may use the app: `all` (users self-authorize on the approve page) or `admin-approved` (only users
    /// holding one of --profile / --permission-set; no approve page).
    #[arg(long, value_parser = |s: &str| PermittedUsers::parse(s).map_err(|e| e.to_string()))]
    pub permitted_users: Option<PermittedUsers>,
    /// Pre-authorize a profile (repeatable); `update` replaces the list.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// (update) Remove all pre-authorized profiles.
    #[arg(long)]
    pub clear_profiles: bool,
    /// Pre-authorize a permission set (repeatable); `update` replaces the list.
    #[arg(long = "permission-set", value_name = "NAME")]
    pub permission_sets: Vec<String>,
    /// (update) Remove all pre-authorized permission sets.
    #[arg(long)]
    pub clear_permission_sets: bool,
    /// Refresh token lifetime: until-revoked (default), immediately, expire-after:N{h|d|m} or
    /// expire-if-unused:N{h|d|m} (m = months), e.g. expire-after:90d.
    #[arg(long, value_parser = |s: &str| RefreshPolicy::parse(s).map_err(|e| e.to_string()))]
    pub refresh_token_policy: Option<RefreshPolicy>,
    /// Idle session timeout for this app's access tokens: 15m, 30m, 1h, 2h … 24h, or org-default.
    #[arg(long, value_parser = SessionTimeout::parse)]
    pub session_timeout: Option<SessionTimeout>,
    /// Require the consumer secret in the web server (authorization code) flow. Default true; false makes it a
    /// public client (a secret that is sent is still checked).
    #[arg(long, value_name = "true|false", value_parser = clap::builder::BoolishValueParser::new())]
    pub require_secret_web: Option<bool>,
    /// Require the consumer secret when refreshing tokens. Default false.
    #[arg(long, value_name = "true|false", value_parser = clap::builder::BoolishValueParser::new())]
    pub require_secret_refresh: Option<bool>,
    /// Require PKCE (code_challenge) in the authorization code flow. Default false.
    #[arg(long, value_name = "true|false", value_parser = clap::builder::BoolishValueParser::new())]
    pub require_pkce: Option<bool>,
    /// "Introspect All Tokens": let this app introspect every app's tokens at /services/oauth2/introspect,
    /// not only its own (for a resource server that checks tokens other apps issued). Default false.
    #[arg(long, value_name = "true|false", value_parser = clap::builder::BoolishValueParser::new())]
    pub introspect_all_tokens: Option<bool>,
    /// IP relaxation: enforce (default), enforce-relax-refresh, bypass-2factor or bypass. The local org defines
    /// no IP ranges, so this is recorded but never blocks.
    #[arg(long, value_parser = |s: &str| IpRelaxation::parse(s).map_err(|e| e.to_string()))]
    pub ip_relaxation: Option<IpRelaxation>,
    /// Enable the client credentials flow, running as this user (`none` disables it on update).
    #[arg(long, value_name = "USERNAME")]
    pub client_credentials_user: Option<String>,
}

/// One `--scopes` value: a space-separated list (a newtype so clap takes it as one value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeList(pub Vec<Scope>);

fn parse_scopes(s: &str) -> Result<ScopeList, String> {
    let scopes = Scope::parse_list(s).map_err(|e| e.to_string())?;
    if scopes.is_empty() {
        return Err("give at least one scope, e.g. \"api web refresh_token\"".into());
    }
    Ok(ScopeList(scopes))
}

impl AppFlags {
    fn into_args(self) -> AppArgs {
        AppArgs {
            contact_email: self.contact_email,
            callback_urls: self.callback_urls,
            scopes: (!self.scopes.is_empty()).then(|| {
                let mut all: Vec<Scope> = Vec::new();
                for scope in self.scopes.into_iter().flat_map(|list| list.0) {
                    if !all.contains(&scope) {
                        all.push(scope);
                    }
                }
                all
            }),
            certificate: self.certificate,
            remove_certificate: self.remove_certificate,
            permitted_users: self.permitted_users,
            profiles: self.profiles,
            clear_profiles: self.clear_profiles,
            permission_sets: self.permission_sets,
            clear_permission_sets: self.clear_permission_sets,
            refresh_policy: self.refresh_token_policy,
            session_timeout: self.session_timeout,
            require_secret_web: self.require_secret_web,
            require_secret_refresh: self.require_secret_refresh,
            require_pkce: self.require_pkce,
            introspect_all_tokens: self.introspect_all_tokens,
            ip_relaxation: self.ip_relaxation,
            client_credentials_user: self.client_credentials_user,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create a connected app and print its consumer key and secret. Needs the two one-time steps
    /// (`sfr-org support allow-connected-apps`, `sfr-org setup allow-connected-app-creation`).
    Create {
        /// Connected app name (label), unique in the org.
        #[arg(long)]
        name: String,
        /// API name. Default: the name with non-alphanumerics turned into _.
        #[arg(long)]
        api_name: Option<String>,
        #[command(flatten)]
        flags: AppFlags,
        #[command(flatten)]
        out: Output,
    },
    /// Change settings of an existing app (only the flags given change). Also works on PlatformCLI.
    Update {
        /// The app's name or API name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        flags: AppFlags,
        #[command(flatten)]
        out: Output,
    },
    /// Show an app's settings, including its consumer secret (this is your own machine: the secret is shown
    /// without the e-mailed verification code Salesforce asks for).
    Show {
        /// The app's name or API name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// List connected apps.
    List {
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Show the org's id and settings.
    Show {
        #[command(flatten)]
        out: Output,
    },
    /// Change org-wide settings.
    Update {
        /// Org name.
        #[arg(long)]
        name: Option<String>,
        /// Session timeout (minutes, 1 to 1440 — Salesforce's longest is 24 hours) for apps that set none.
        #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=1440))]
        session_timeout: Option<u32>,
        /// Failed logins in a row that lock a user out.
        #[arg(long, value_name = "N")]
        lockout_threshold: Option<u32>,
        /// How long a lockout lasts, in minutes.
        #[arg(long, value_name = "MINUTES")]
        lockout_minutes: Option<u32>,
        /// Whether the org answers Dev Hub queries (ScratchOrgInfo).
        #[arg(long, value_name = "true|false", value_parser = clap::builder::BoolishValueParser::new())]
        dev_hub: Option<bool>,
        #[command(flatten)]
        out: Output,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let database = cli
        .database
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(bootstrap::default_database_url);
    let json_requested = command_wants_json(&cli.command);
    let database = match DatabaseUrl::parse(&database) {
        Ok(d) => d,
        Err(e) => return fail(json_requested, &AdminError::Store(e)),
    };
    let ctx = Context {
        database,
        key_file: cli.key_file.clone(),
    };
    match cli.command {
        Command::Serve(args) => serve(ctx, args),
        other => {
            init_tracing("warn");
            let (result, json) = run_admin(&ctx, other);
            match result {
                Ok(report) => succeed(json, &report),
                Err(e) => fail(json, &e),
            }
        }
    }
}

fn command_wants_json(command: &Command) -> bool {
    match command {
        Command::Serve(_) => false,
        Command::Support(SupportCommand::AllowConnectedApps { out, .. })
        | Command::Setup(SetupCommand::AllowConnectedAppCreation { out, .. })
        | Command::User(
            UserCommand::Create { out, .. }
            | UserCommand::List { out }
            | UserCommand::Deactivate { out, .. }
            | UserCommand::Activate { out, .. },
        )
        | Command::PermissionSet(
            PermissionSetCommand::Create { out, .. }
            | PermissionSetCommand::Assign { out, .. }
            | PermissionSetCommand::List { out },
        )
        | Command::App(
            AppCommand::Create { out, .. }
            | AppCommand::Update { out, .. }
            | AppCommand::Show { out, .. }
            | AppCommand::List { out },
        )
        | Command::Org(OrgCommand::Show { out } | OrgCommand::Update { out, .. })
        | Command::LoginHistory { out, .. } => out.json,
    }
}

fn run_admin(ctx: &Context, command: Command) -> (Result<Report, AdminError>, bool) {
    let json = command_wants_json(&command);
    let result = match command {
        Command::Serve(_) => unreachable_serve(),
        Command::Support(SupportCommand::AllowConnectedApps { disable, .. }) => {
            admin::org::support_allow_connected_apps(ctx, !disable)
        }
        Command::Setup(SetupCommand::AllowConnectedAppCreation { disable, .. }) => {
            admin::org::setup_allow_creation(ctx, !disable)
        }
        Command::User(UserCommand::Create {
            username,
            password,
            email,
            profile,
            permission_sets,
            first_name,
            last_name,
            ..
        }) => admin::user::create(
            ctx,
            &admin::user::CreateUser {
                username,
                password,
                email,
                profile,
                permission_sets,
                first_name,
                last_name,
            },
        ),
        Command::User(UserCommand::List { .. }) => admin::user::list(ctx),
        Command::User(UserCommand::Deactivate { username, .. }) => {
            admin::user::set_active(ctx, &username, false)
        }
        Command::User(UserCommand::Activate { username, .. }) => {
            admin::user::set_active(ctx, &username, true)
        }
        Command::PermissionSet(PermissionSetCommand::Create { name, label, .. }) => {
            admin::permission_set::create(ctx, &name, label.as_deref())
        }
        Command::PermissionSet(PermissionSetCommand::Assign { name, username, .. }) => {
            admin::permission_set::assign(ctx, &name, &username)
        }
        Command::PermissionSet(PermissionSetCommand::List { .. }) => {
            admin::permission_set::list(ctx)
        }
        Command::App(AppCommand::Create {
            name,
            api_name,
            flags,
            ..
        }) => admin::app::create(ctx, &name, api_name.as_deref(), &flags.into_args()),
        Command::App(AppCommand::Update { name, flags, .. }) => {
            admin::app::update(ctx, &name, &flags.into_args())
        }
        Command::App(AppCommand::Show { name, .. }) => admin::app::show(ctx, &name),
        Command::App(AppCommand::List { .. }) => admin::app::list(ctx),
        Command::Org(OrgCommand::Show { .. }) => admin::org::show(ctx),
        Command::Org(OrgCommand::Update {
            name,
            session_timeout,
            lockout_threshold,
            lockout_minutes,
            dev_hub,
            ..
        }) => admin::org::update(
            ctx,
            &OrgSettingsUpdate {
                name,
                dev_hub,
                session_timeout_minutes: session_timeout,
                lockout_threshold,
                lockout_minutes,
                ..Default::default()
            },
        ),
        Command::LoginHistory { limit, .. } => admin::history::show(ctx, limit),
    };
    (result, json)
}

fn unreachable_serve() -> Result<Report, AdminError> {
    Err(AdminError::Usage("serve is not an admin command".into()))
}

fn succeed(json: bool, report: &Report) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let text = if json {
        let body = serde_json::json!({ "status": 0, "result": report.json });
        format!(
            "{}\n",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        )
    } else {
        report.human.clone()
    };
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    ExitCode::SUCCESS
}

fn fail(json: bool, e: &AdminError) -> ExitCode {
    if json {
        let body = serde_json::json!({
            "status": 1,
            "name": e.name(),
            "message": e.to_string(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    } else {
        eprintln!("Error ({}): {e}", e.name());
    }
    ExitCode::FAILURE
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn serve(ctx: Context, args: ServeArgs) -> ExitCode {
    init_tracing("info,tower_http=info");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let config = ServeConfig {
            listen: args.listen,
            database: ctx.database.clone(),
            public_url: args.public_url,
            key_file: ctx.key_file.clone(),
            tls: match (args.tls_cert, args.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
                _ => None,
            },
            clock: Arc::new(SystemClock),
            rate_limits: crate::http::rate_limit::RateLimits {
                per_address: args.rate_limit_per_address,
                per_client: args.rate_limit_per_client,
            },
            header_read_timeout: crate::server::HEADER_READ_TIMEOUT,
        };
        let server = match RunningServer::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("Error: {e}");
                return ExitCode::FAILURE;
            }
        };
        print_banner(&ctx, &server);
        wait_for_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn print_banner(ctx: &Context, server: &RunningServer) {
    let base = &server.base_url;
    let db = admin::database_flag(&ctx.database);
    let mut text = format!(
        "sfr-org is serving org {} at {base}\n  listening on: {}\n  database:     {}\n",
        server.state.config.org_id,
        server
            .local_addrs
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        ctx.database.path().display(),
    );
    if let Some(b) = &server.bootstrapped {
        text.push_str(&format!(
            "\nCreated the org with an admin user (the password is shown only this once):\n  \
             username: {}\n  password: {}\n",
            b.admin_username, b.admin_password
        ));
    }
    text.push_str(&format!(
        "\nNext steps:\n  Setup, in a browser (log in as {admin}): {base}/setup\n  \
         Log in with the built-in PlatformCLI app (user {admin}):\n    \
         sf org login web --instance-url {base} --alias local\n    \
         sfr org login web --instance-url {base} --alias local\n  \
         Add a user:\n    \
         sfr-org user create{db} --username jane@example.com --password 'Secret123' --email jane@example.com --profile \"Standard User\"\n  \
         Create your own connected app (two one-time steps first):\n    \
         sfr-org support allow-connected-apps{db}\n    \
         sfr-org setup allow-connected-app-creation{db}\n    \
         sfr-org app create{db} --name \"My App\" --contact-email you@example.com \\\n        \
         --callback-url http://localhost:1717/OauthRedirect --scopes \"api web refresh_token\"\n    \
         sf org login web --instance-url {base} --client-id <consumerKey from app create>\n",
        admin = bootstrap::ADMIN_USERNAME,
    ));
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "sfr-org",
            "app",
            "create",
            "--name",
            "A",
            "--scopes",
            "api web",
            "refresh_token",
            "api",
            "--callback-url",
            "http://a/cb",
            "http://b/cb",
            "--require-pkce",
            "yes",
        ])
        .unwrap();
        match cli.command {
            Command::App(AppCommand::Create { flags, .. }) => {
                assert_eq!(flags.require_pkce, Some(true));
                assert_eq!(flags.callback_urls, ["http://a/cb", "http://b/cb"]);
                let args = flags.into_args();
                assert_eq!(
                    args.scopes,
                    Some(vec![Scope::Api, Scope::Web, Scope::RefreshToken])
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

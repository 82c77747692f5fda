//! One file per command; each is a function from parsed arguments to an `Outcome` (printing is `output`'s job).

pub mod alias;
pub mod cert;
pub mod config;
pub mod display;
pub mod list;
pub mod list_auth;
pub mod login_access_token;
pub mod login_jwt;
pub mod login_sfdx_url;
pub mod login_web;
pub mod logout;
pub mod show_access_token;
pub mod varargs;

use crate::cli::{
    AliasCommand, CertCommand, Cli, Command, ConfigCommand, LoginCommand, OrgAuthCommand,
    OrgCommand,
};
use crate::output::{CommandError, Ctx, EXIT_USAGE, Outcome};
use crate::store::{Store, StoreError};

/// Runs the parsed command.
pub fn run(ctx: &mut Ctx, cli: Cli) -> Result<Outcome, CommandError> {
    let store = Store::open()?;
    match cli.command {
        Command::Org(OrgCommand::Login(LoginCommand::Web(a))) => login_web::run(ctx, &store, &a),
        Command::Org(OrgCommand::Login(LoginCommand::Jwt(a))) => login_jwt::run(ctx, &store, &a),
        Command::Org(OrgCommand::Login(LoginCommand::SfdxUrl(a))) => {
            login_sfdx_url::run(ctx, &store, &a)
        }
        Command::Org(OrgCommand::Login(LoginCommand::AccessToken(a))) => {
            login_access_token::run(ctx, &store, &a)
        }
        Command::Org(OrgCommand::Logout(a)) => logout::run(ctx, &store, &a),
        Command::Org(OrgCommand::List(a)) => match a.sub {
            Some(_) => list_auth::run(ctx, &store),
            None => list::run(ctx, &store, &a),
        },
        Command::Org(OrgCommand::Display(a)) => display::run(ctx, &store, &a),
        Command::Org(OrgCommand::Auth(OrgAuthCommand::ShowAccessToken(a))) => {
            show_access_token::run(ctx, &store, &a)
        }
        Command::Org(OrgCommand::Auth(OrgAuthCommand::ShowSfdxAuthUrl(a))) => {
            show_access_token::run_sfdx_auth_url(ctx, &store, &a)
        }
        Command::Alias(AliasCommand::Set(a)) => alias::set(ctx, &store, &a),
        Command::Alias(AliasCommand::List) => alias::list(ctx, &store),
        Command::Alias(AliasCommand::Unset(a)) => alias::unset(ctx, &store, &a),
        Command::Config(ConfigCommand::Set(a)) => config::set(ctx, &store, &a),
        Command::Config(ConfigCommand::Get(a)) => config::get(ctx, &store, &a),
        Command::Config(ConfigCommand::List) => config::list(ctx, &store),
        Command::Config(ConfigCommand::Unset(a)) => config::unset(ctx, &store, &a),
        Command::Cert(CertCommand::Create(a)) => cert::run(ctx, &a),
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        let mut err = CommandError::new(e.name(), e.to_string());
        for a in e.actions() {
            err = err.with_action(a);
        }
        err
    }
}

/// Resolves `-o/--target-org` (or the `target-org` config) to an authorized username, as sf's flag parser does:
/// alias → username, then the auth file must exist. Failures exit 2 like sf's "Parsing --target-org" errors.
pub fn target_username(store: &Store, flag: Option<&str>) -> Result<String, CommandError> {
    let value = match flag {
        Some(v) => v.to_owned(),
        None => match store.target_org()? {
            Some(entry) => entry
                .value_str()
                .map(str::to_owned)
                .ok_or_else(no_default_env)?,
            None => return Err(no_default_env()),
        },
    };
    let username = store.resolve_username(&value)?;
    if !store.has_auth(&username) {
        let e = CommandError::from(StoreError::NamedOrgNotFound { name: value });
        return Err(parsing_target_org(e));
    }
    Ok(username)
}

/// `NoDefaultEnvError`.
pub fn no_default_env() -> CommandError {
    CommandError::new(
        "NoDefaultEnvError",
        "No default environment found. Use -o or --target-org to specify an environment.",
    )
    .with_action(
        "Run \"sfr config set target-org=<alias or username>\" to set a default, or pass -o.",
    )
    .with_exit_code(EXIT_USAGE)
}

/// Wraps an error raised while resolving `--target-org` the way oclif reports flag-parse failures (exit 2).
pub fn parsing_target_org(e: CommandError) -> CommandError {
    CommandError {
        message: format!(
            "Parsing --target-org \n\t{}\nSee more help with --help",
            e.message
        ),
        exit_code: EXIT_USAGE,
        ..e
    }
}

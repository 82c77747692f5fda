//! `sfr org auth show-access-token` and `show-sfdx-auth-url`: refresh first (a failure only warns: the token may be
//! stale), then show the secret. A human asks for confirmation on a terminal unless `-p`; with `--json` or `-p` a
//! warning is printed instead.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;

use crate::cli::ShowSecretArgs;
use crate::org::connection::{Connection, sfdx_auth_url};
use crate::org::login::http_client;
use crate::org::login::target_auth;
use crate::org::post_login::{BOOTSTRAP_API_VERSION, is_api_version};
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::{AuthFile, Store};

const SECURITY_WARNING: &str = "The output of this command contains a secret that grants access to the org. Don't share it or store it where others can read it.";

pub fn run(ctx: &mut Ctx, store: &Store, args: &ShowSecretArgs) -> Result<Outcome, CommandError> {
    let auth = refreshed(ctx, store, args)?;
    let token = auth.access_token().unwrap_or_default().to_owned();
    confirm(ctx, args, "access token")?;
    Ok(Outcome::new(json!({ "accessToken": token }), token))
}

pub fn run_sfdx_auth_url(
    ctx: &mut Ctx,
    store: &Store,
    args: &ShowSecretArgs,
) -> Result<Outcome, CommandError> {
    let auth = refreshed(ctx, store, args)?;
    let username = auth.username().unwrap_or_default().to_owned();
    let url = sfdx_auth_url(&auth).ok_or_else(|| {
        CommandError::new(
            "NoRefreshTokenError",
            format!("The org {username} has no refresh token, so it has no SFDX auth URL."),
        )
        .with_action("Only orgs authorized with `sfr org login web` or `sfr org login sfdx-url` have one; JWT and access-token logins don't.")
    })?;
    confirm(ctx, args, "SFDX auth URL")?;
    Ok(Outcome::new(json!({ "sfdxAuthUrl": url }), url))
}

fn refreshed(
    ctx: &mut Ctx,
    store: &Store,
    args: &ShowSecretArgs,
) -> Result<AuthFile, CommandError> {
    let auth = target_auth(store, args.target.target_org.as_deref())?;
    let version = auth
        .instance_api_version()
        .filter(|v| is_api_version(v))
        .unwrap_or(BOOTSTRAP_API_VERSION)
        .to_owned();
    let mut conn = Connection::new(store, http_client()?, auth);
    // sf's `refreshAuth()`: a REST probe that refreshes only when the token is no longer accepted.
    if let Err(e) = conn.check(&version) {
        ctx.warn("Unable to refresh auth for org. Access token may be stale.");
        if let Some(hint) = e.relogin_hint() {
            ctx.warn(hint);
        }
    }
    Ok(conn.auth)
}

fn confirm(ctx: &mut Ctx, args: &ShowSecretArgs, what: &str) -> Result<(), CommandError> {
    if ctx.json() || args.no_prompt || !std::io::stdin().is_terminal() {
        ctx.warn(SECURITY_WARNING);
        return Ok(());
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{SECURITY_WARNING}\nShow the {what}? (y/N) ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CommandError::new(
            "CanceledError",
            format!("The {what} was not shown."),
        ))
    }
}

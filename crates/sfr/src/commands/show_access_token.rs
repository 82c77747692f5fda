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

/// sf's warnings, printed instead of the question with `--json` or `-p` (and when no terminal can answer).
const ACCESS_TOKEN_WARNING: &str = "This command exposes a sensitive Access Token that allows for subsequent activity using your current authenticated session. Sharing this information is equivalent to logging someone in under the current credential, resulting in unintended access and escalation of privilege. For additional information about org authorization, review https://developer.salesforce.com/docs/atlas.en-us.sfdx_dev.meta/sfdx_dev/sfdx_dev_auth.htm.";
const SFDX_AUTH_URL_WARNING: &str = "This command exposes an SFDX Auth URL. Unlike an access token, this credential contains a refresh token that allows extended access to an org. Avoid sharing or logging this URL. For additional information about org authorization, review https://developer.salesforce.com/docs/atlas.en-us.sfdx_dev.meta/sfdx_dev/sfdx_dev_auth_url.htm.";

pub fn run(ctx: &mut Ctx, store: &Store, args: &ShowSecretArgs) -> Result<Outcome, CommandError> {
    let auth = refreshed(ctx, store, args)?;
    let username = auth.username().unwrap_or_default().to_owned();
    confirm(
        ctx,
        args,
        ACCESS_TOKEN_WARNING,
        &format!(
            "You're about to reveal the access token for \"{username}\". This token grants full access to the org with your current permissions. Sharing or logging this token is equivalent to sharing your credentials. Do you want to continue?"
        ),
    )?;
    let token = auth.access_token().unwrap_or_default().to_owned();
    Ok(Outcome::new(json!({ "accessToken": token }), token))
}

pub fn run_sfdx_auth_url(
    ctx: &mut Ctx,
    store: &Store,
    args: &ShowSecretArgs,
) -> Result<Outcome, CommandError> {
    let auth = refreshed(ctx, store, args)?;
    let username = auth.username().unwrap_or_default().to_owned();
    let Some(url) = sfdx_auth_url(&auth) else {
        ctx.warn(SFDX_AUTH_URL_WARNING);
        return Err(CommandError::new(
            "NoRefreshTokenError",
            format!(
                "An SFDX Auth URL is not available for \"{username}\". This URL is only available for orgs authenticated via a web-based login flow. Re-authenticate to the org using \"sf org login web\" to make it available."
            ),
        )
        .with_action("JWT and access-token logins have no refresh token; log in with `sfr org login web` (or `sfr org login sfdx-url`) to get one."));
    };
    confirm(
        ctx,
        args,
        SFDX_AUTH_URL_WARNING,
        &format!(
            "You're about to reveal the SFDX Auth URL for \"{username}\". It contains a refresh token that grants extended access to the org. Sharing or logging this URL is equivalent to sharing your credentials. Do you want to continue?"
        ),
    )?;
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

/// With `--json`, `-p` or no terminal to answer: sf's warning. Otherwise the question, on stderr (never stdout).
fn confirm(
    ctx: &mut Ctx,
    args: &ShowSecretArgs,
    warning: &str,
    question: &str,
) -> Result<(), CommandError> {
    if ctx.json() || args.no_prompt || !std::io::stdin().is_terminal() {
        ctx.warn(warning);
        return Ok(());
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} (y/N) ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CommandError::new("CanceledError", "Nothing was shown."))
    }
}

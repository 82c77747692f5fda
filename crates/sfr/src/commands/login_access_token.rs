//! `sfr org login access-token`: store an existing access token (from `SF_ACCESS_TOKEN`/`SFDX_ACCESS_TOKEN`, piped
//! stdin, or a masked prompt). The username comes from userinfo + `sobjects/User`. Such an org cannot refresh.

use std::io::{BufRead, IsTerminal};

use crate::cli::LoginAccessTokenArgs;
use crate::org::login::{self, Flow, complete_metadata, http_client, resolve_login_url};
use crate::org::post_login::{self, Rest};
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::{AuthFile, Store};

const PROMPT: &str = "Access token of user to use for authentication";

pub fn run(
    ctx: &mut Ctx,
    store: &Store,
    args: &LoginAccessTokenArgs,
) -> Result<Outcome, CommandError> {
    let login = resolve_login_url(store, Some(&args.instance_url))?;
    let token = read_token()?;
    if !login::looks_like_token(&token) {
        return Err(CommandError::new(
            "accessTokenFormatError",
            "The access token isn't in the correct format.\nIt should follow this pattern: \"<org id>!<accesstoken>\".",
        ));
    }
    let http = http_client()?;
    let identity = post_login::identify(Rest {
        http: &http,
        instance_url: &login.href,
        access_token: &token,
    })
    .map_err(|e| {
        CommandError::from(e).with_action(
            "Check that the token is current and belongs to the org at --instance-url.",
        )
    })?;
    if store.has_auth(&identity.username)
        && std::io::stdin().is_terminal()
        && !args.defaults.no_prompt
        && !login::confirm(&format!(
            "A file already exists for user \"{}\", which is associated with the access token you provided.\nAre you sure you want to overwrite the existing file?",
            identity.username
        ))
    {
        return Ok(login::declined());
    }
    let mut auth = AuthFile::new();
    auth.set_access_token(token)
        .set_instance_url(login.href.clone())
        .set_org_id(identity.org_id)
        .set_username(identity.username)
        .set_login_url(login.href.clone());
    complete_metadata(store, &http, &mut auth);
    login::identify_scratch_org(store, &http, &mut auth);
    store.write_auth(&auth)?;
    login::finish(
        ctx,
        store,
        &auth,
        &args.defaults,
        Flow::AccessToken,
        &login.warnings,
    )
}

fn read_token() -> Result<String, CommandError> {
    for name in ["SF_ACCESS_TOKEN", "SFDX_ACCESS_TOKEN"] {
        if let Ok(v) = std::env::var(name)
            && !v.trim().is_empty()
        {
            return Ok(v.trim().to_owned());
        }
    }
    let fail =
        |e: std::io::Error| CommandError::generic(format!("Cannot read the access token: {e}"));
    let answer = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{PROMPT}: ")).map_err(fail)?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(fail)?;
        line
    };
    Ok(answer.trim().to_owned())
}

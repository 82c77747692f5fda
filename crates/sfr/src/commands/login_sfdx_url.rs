//! `sfr org login sfdx-url`: a `force://<clientId>:<secret>:<refreshToken>@<host>` URL from a file (`.json` files
//! are read as `result.sfdxAuthUrl` or `sfdxAuthUrl`) or from stdin (`-u -`). The refresh grant goes to
//! `https://<host>`, as in `sf`.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use sfr_wire::SfdxAuthUrl;
use sfr_wire::auth_url::INVALID_SFDX_AUTH_URL;

use crate::cli::LoginSfdxUrlArgs;
use crate::org::login::{self, Flow, complete_metadata, grant_error, http_client};
use crate::org::post_login::{self, Rest};
use crate::org::token::request_token;
use crate::output::{CommandError, Ctx, Outcome};
use crate::store::{AuthFile, Store};

pub fn run(ctx: &mut Ctx, store: &Store, args: &LoginSfdxUrlArgs) -> Result<Outcome, CommandError> {
    if !login::demo_mode_allows(args.defaults.no_prompt) {
        return Ok(login::declined());
    }
    let text = match (&args.sfdx_url_file, &args.sfdx_url_stdin) {
        (Some(file), _) => read_auth_url_file(file)?,
        (None, Some(_)) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                CommandError::generic(format!("Cannot read the SFDX auth URL from stdin: {e}"))
            })?;
            s
        }
        (None, None) => {
            return Err(CommandError::usage(
                "Error",
                "Exactly one of the following must be provided: --sfdx-url-file, --sfdx-url-stdin",
            ));
        }
    };
    let parsed = SfdxAuthUrl::parse(text.trim()).map_err(|_| invalid_url())?;
    let login_url = parsed.login_url();
    let http = http_client()?;
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", parsed.refresh_token.as_str()),
        ("client_id", parsed.client_id.as_str()),
    ];
    if !parsed.client_secret.is_empty() {
        pairs.push(("client_secret", parsed.client_secret.as_str()));
    }
    let token = request_token(&http, &login_url, &pairs).map_err(|e| {
        grant_error(
            "RefreshTokenAuthError",
            "Error authenticating with the refresh token due to: ",
            &e,
        )
        .with_action("The refresh token in the URL may have expired or been revoked: get a fresh one with `sfr org auth show-sfdx-auth-url` from a working login.")
    })?;
    let identity = post_login::identify(Rest {
        http: &http,
        instance_url: &token.instance_url,
        access_token: &token.access_token,
    })?;
    let refresh = token
        .refresh_token
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| parsed.refresh_token.clone());
    let mut auth = AuthFile::new();
    auth.set_access_token(token.access_token.clone())
        .set_instance_url(token.instance_url.clone())
        .set_org_id(token.org_id().unwrap_or(&identity.org_id).to_owned())
        .set_username(identity.username)
        .set_login_url(login_url)
        .set_refresh_token(refresh)
        .set_client_id(parsed.client_id.clone());
    if !parsed.client_secret.is_empty() {
        auth.set_client_secret(parsed.client_secret.clone());
    }
    complete_metadata(store, &http, &mut auth);
    login::identify_scratch_org(store, &http, &mut auth);
    store.write_auth(&auth)?;
    login::finish(ctx, store, &auth, &args.defaults, Flow::SfdxUrl, &[])
}

fn invalid_url() -> CommandError {
    CommandError::new("INVALID_SFDX_AUTH_URL", INVALID_SFDX_AUTH_URL).with_action(
        "Check the file or input: it must hold one force:// URL, e.g. the output of `sfr org auth show-sfdx-auth-url`.",
    )
}

/// The URL in a file: a `.json` file's `result.sfdxAuthUrl` or `sfdxAuthUrl` (the output of
/// `org display --verbose --json` works), anything else as text.
pub fn read_auth_url_file(path: &Path) -> Result<String, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::new(
            "Error",
            format!("Cannot read the SFDX auth URL file {}: {e}", path.display()),
        )
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        return Ok(text);
    }
    let missing = || {
        CommandError::new(
            "Error",
            format!(
                "Error getting the auth URL from file {}. Please ensure it meets the description shown in the documentation for this command.",
                path.display()
            ),
        )
        .with_action("A JSON file must hold \"sfdxAuthUrl\" at the top level or under \"result\".")
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| missing())?;
    value
        .pointer("/result/sfdxAuthUrl")
        .or_else(|| value.get("sfdxAuthUrl"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let url = "force://PlatformCLI::5Aep==@localhost:8901";
        let plain = dir.path().join("url.txt");
        std::fs::write(&plain, format!("{url}\n")).unwrap();
        assert_eq!(read_auth_url_file(&plain).unwrap().trim(), url);
        let top = dir.path().join("top.json");
        std::fs::write(&top, format!(r#"{{"sfdxAuthUrl":"{url}"}}"#)).unwrap();
        assert_eq!(read_auth_url_file(&top).unwrap(), url);
        let nested = dir.path().join("display.JSON");
        std::fs::write(
            &nested,
            format!(r#"{{"status":0,"result":{{"sfdxAuthUrl":"{url}"}}}}"#),
        )
        .unwrap();
        assert_eq!(read_auth_url_file(&nested).unwrap(), url);
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"result":{}}"#).unwrap();
        assert!(
            read_auth_url_file(&bad)
                .unwrap_err()
                .message
                .contains("Error getting the auth URL from file")
        );
        assert!(read_auth_url_file(&dir.path().join("missing.txt")).is_err());
    }
}

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
    if !looks_like_access_token(&token) && !looks_like_jwt(&token) {
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

/// sf's `/(00D\w{12,15})![.\w]*/` (unanchored).
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
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| {
            v.get("typ")
                .and_then(|t| t.as_str())
                .map(|t| t.eq_ignore_ascii_case("JWT"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes() {
        assert!(looks_like_access_token(
            "00D000000000001AAA!AQCHxo8bJaFOynbuMTs0o0La"
        ));
        assert!(looks_like_access_token("00Dxx0000000123!AR8AQJ"));
        assert!(!looks_like_access_token("00D123!abc"));
        assert!(!looks_like_access_token("not a token"));
        assert!(looks_like_jwt(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig"
        ));
        assert!(!looks_like_jwt("a.b.c"));
    }
}

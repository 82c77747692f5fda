//! `sfr org login jwt`: sign an RS256 assertion with the key file and walk `sf`'s (login URL, audience) attempts;
//! the key's path (not the key) is stored. An existing authorization of the user is removed first, with its
//! aliases and config entries, as `sf` does; `-a`, `-s`, `-d` then apply to the new one.

use std::path::{Path, PathBuf};

use crate::cli::LoginJwtArgs;
use crate::org::connection::now_secs;
use crate::org::jwt::{self, Cause};
use crate::org::login::{self, Flow, complete_metadata, http_client, resolve_login_url};
use crate::output::{CommandError, Ctx, EXIT_NETWORK, Outcome};
use crate::store::{AuthFile, Store};

pub fn run(ctx: &mut Ctx, store: &Store, args: &LoginJwtArgs) -> Result<Outcome, CommandError> {
    if !login::demo_mode_allows(args.defaults.no_prompt) {
        return Ok(login::declined());
    }
    let login = resolve_login_url(store, args.instance_url.as_ref())?;
    let key_path = absolute(&args.jwt_key_file);
    let key = jwt::load_key(&key_path).map_err(|e| {
        CommandError::new("JwtGrantError", e.to_string()).with_action(
            "Pass the PEM private key whose certificate is uploaded to the connected app (`sfr cert create` makes a pair).",
        )
    })?;
    let http = http_client()?;
    let env_audience = std::env::var("SF_AUDIENCE_URL")
        .or_else(|_| std::env::var("SFDX_AUDIENCE_URL"))
        .ok();
    let audience = jwt::default_audience(env_audience.as_deref(), &login.href, None);
    let attempts = jwt::attempts(&login.href, &audience);
    let (token, _) = jwt::grant(
        &http,
        &key,
        &args.client_id,
        &args.username,
        &attempts,
        now_secs,
    )
    .map_err(|failures| {
        let d = jwt::diagnose(
            &failures,
            &login.href,
            &args.username,
            &args.client_id,
            &key_path.display().to_string(),
        );
        let mut err = CommandError::new("JwtGrantError", d.message).with_code("JwtGrantError");
        for a in d.actions {
            err = err.with_action(a);
        }
        if d.cause == Cause::Unreachable {
            err = err.with_exit_code(EXIT_NETWORK);
        }
        err
    })?;
    let org_id = token.org_id().unwrap_or_default().to_owned();
    if store.has_auth(&args.username) {
        store.remove_auth(&args.username)?;
    }
    let mut auth = AuthFile::new();
    auth.set_access_token(token.access_token.clone())
        .set_org_id(org_id)
        .set_login_url(login.href.clone())
        .set_private_key(key_path.display().to_string())
        .set_client_id(args.client_id.clone())
        .set_instance_url(token.instance_url.clone())
        .set_username(args.username.clone());
    complete_metadata(store, &http, &mut auth);
    login::identify_scratch_org(store, &http, &mut auth);
    store.write_auth(&auth)?;
    login::finish(
        ctx,
        store,
        &auth,
        &args.defaults,
        Flow::Jwt,
        &login.warnings,
    )
}

/// `path.resolve(file)`: absolute, relative to the working directory, `.` and `..` folded, without touching the
/// file system.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_are_resolved_like_node() {
        assert_eq!(
            absolute(Path::new("/a/./b/../server.key")),
            PathBuf::from("/a/server.key")
        );
        assert!(absolute(Path::new("server.key")).is_absolute());
    }
}

//! `sfr org logout` (plugin-auth): removes local authorizations — the auth file, its aliases and every config key
//! naming it. No network call, exactly like sf (no token revocation).

use serde_json::{Value, json};

use crate::cli::LogoutArgs;
use crate::output::{self, CommandError, Ctx, Outcome};
use crate::store::Store;

pub fn run(ctx: &mut Ctx, store: &Store, args: &LogoutArgs) -> Result<Outcome, CommandError> {
    if let Some(app) = &args.client_app {
        return logout_client_app(store, args.target.target_org.as_deref().unwrap_or(""), app);
    }
    let target = match &args.target.target_org {
        Some(t) => Some(t.clone()),
        None => store
            .target_org()?
            .and_then(|e| e.value_str().map(str::to_owned)),
    };
    if args.no_prompt && target.is_none() && !args.all {
        return Err(CommandError::new(
            "NoOrgSpecifiedWithNoPromptError",
            "You must specify a target-org (or default target-org config is set) or use --all flag when using the --no-prompt flag.",
        ));
    }
    if ctx.json() && target.is_none() && !args.all {
        return Err(CommandError::new(
            "NoOrgSpecifiedWithJsonError",
            "You must specify a target-org (or default target-org config is set) or use --all flag when using the --json flag.",
        ));
    }
    let find_all = match &target {
        Some(_) if !args.all => false,
        _ => args.all || !args.no_prompt,
    };
    let usernames = store.list_usernames()?;
    let aliases = store.aliases()?;
    let selected: Vec<String> = if find_all {
        usernames
    } else if let Some(t) = &target {
        usernames
            .into_iter()
            .filter(|u| u == t || aliases.iter().any(|(a, v)| a == t && v == u))
            .collect()
    } else {
        Vec::new()
    };

    if selected.is_empty() {
        if let Some(t) = &args.target.target_org {
            return Err(CommandError::new(
                "NoAuthFoundForTargetOrgError",
                format!("No authenticated org found with the {t} username or alias."),
            ));
        }
        ctx.info("No orgs found to log out of.");
        return Ok(Outcome::new(json!([]), ""));
    }

    let skip_prompt = args.no_prompt || ctx.json();
    if !skip_prompt {
        let question = if selected.len() == 1 {
            format!("Are you sure you want to log out of {}?", selected[0])
        } else {
            ctx.info(format!("Orgs:\n  {}", selected.join("\n  ")));
            "Are you sure you want to log out of all your orgs?".to_owned()
        };
        if !output::confirm(&question)? {
            ctx.info("No orgs selected for logout.");
            return Ok(Outcome::new(json!([]), ""));
        }
    }
    let any_scratch = selected.iter().any(|u| {
        store
            .read_auth(u)
            .map(|a| a.dev_hub_username().is_some() || a.is_scratch())
            .unwrap_or(false)
    });
    if any_scratch {
        ctx.warn("If you log out of a scratch org without having access to its password, you can't access this org again, either through the CLI or the Salesforce UI.");
    }
    for username in &selected {
        store.remove_auth(username)?;
    }
    Ok(Outcome::new(
        Value::Array(selected.iter().map(|u| json!(u)).collect()),
        format!("Successfully logged out of orgs: {}", selected.join("\n")),
    ))
}

/// `-o <org> -c <app>`: unlinks one client app, keeping the user's own authorization.
fn logout_client_app(store: &Store, target: &str, app: &str) -> Result<Outcome, CommandError> {
    let username = store.resolve_username(target)?;
    if !store.has_auth(&username) {
        return Err(CommandError::new(
            "NoAuthFoundForTargetOrgError",
            format!("No authenticated org found with the {target} username or alias."),
        ));
    }
    let mut auth = store.read_auth(&username)?;
    let Some(apps) = auth.client_apps().cloned() else {
        return Err(CommandError::new(
            "NoClientAppsError",
            format!("{username} doesn't have any linked client apps."),
        ));
    };
    if !apps.contains_key(app) {
        return Err(CommandError::new(
            "ClientAppNotFoundError",
            format!("{username} doesn't have a linked client app named \"{app}\"."),
        ));
    }
    let mut apps = apps;
    apps.shift_remove(app);
    auth.set_client_apps(apps);
    store.write_auth(&auth)?;
    Ok(Outcome::new(
        json!([username]),
        format!("Successfully logged out of client app \"{app}\" for {username}"),
    ))
}

//! `sfr org list auth`: the local authorization files, no network (core's `AuthInfo.listAllAuthorizations`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::org::login::{REDACTED_ACCESS_TOKEN, show_secrets};
use crate::output::{self, CommandError, Ctx, Outcome};
use crate::store::{AuthFile, Store};

/// Expiry of a scratch org: `true`/`false` when known, `"unknown"` otherwise.
pub fn is_expired(auth: &AuthFile, is_scratch: bool) -> Value {
    let date = auth
        .expiration_date()
        .or_else(|| auth.trail_expiration_date());
    match (is_scratch, date) {
        (true, Some(d)) => match date_is_past(d) {
            Some(past) => json!(past),
            None => json!(false),
        },
        _ => json!("unknown"),
    }
}

/// Whether a `YYYY-MM-DD…` date (UTC) is before now.
fn date_is_past(date: &str) -> Option<bool> {
    use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};
    if let Ok(t) = OffsetDateTime::parse(date, &Rfc3339) {
        return Some(t < OffsetDateTime::now_utc());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = Date::parse(date.get(..10)?, fmt).ok()?;
    Some(d.midnight().assume_utc() < OffsetDateTime::now_utc())
}

/// Whether core treats the org as a scratch org.
pub fn is_scratch(auth: &AuthFile) -> bool {
    auth.dev_hub_username().is_some() || auth.is_scratch()
}

/// Whether the org is a sandbox (flag or `<orgId>.sandbox.json`).
pub fn is_sandbox(store: &Store, auth: &AuthFile) -> bool {
    auth.is_sandbox()
        || auth.org_id().is_some_and(|id| {
            store
                .sfdx_dir()
                .join(format!("{id}.sandbox.json"))
                .is_file()
        })
}

/// Config keys (any location) whose value names this user or one of its aliases.
fn configs_for(config: &[(String, String)], username: &str, aliases: &[String]) -> Vec<String> {
    config
        .iter()
        .filter(|(_, v)| v == username || aliases.contains(v))
        .map(|(k, _)| k.clone())
        .collect()
}

pub fn run(_ctx: &mut Ctx, store: &Store) -> Result<Outcome, CommandError> {
    let usernames = store.list_usernames()?;
    if usernames.is_empty() {
        return Ok(Outcome::new(json!([]), "No results found."));
    }
    let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
    for (alias, username) in store.aliases()? {
        aliases.entry(username).or_default().push(alias);
    }
    let config: Vec<(String, String)> = store
        .config_list()?
        .into_iter()
        .filter_map(|e| e.value_str().map(|v| (e.key.clone(), v.to_owned())))
        .collect();
    let show = show_secrets();
    let mut entries = Vec::new();
    let mut rows = Vec::new();
    let mut any_error = false;
    for username in usernames {
        let user_aliases = aliases.get(&username).cloned().unwrap_or_default();
        let alias = user_aliases.join(",");
        let configs = configs_for(&config, &username, &user_aliases);
        let mut m = Map::new();
        m.insert("configs".into(), json!(configs));
        m.insert("username".into(), json!(username));
        let (org_id, instance_url, method, error) = match store.read_auth(&username) {
            Ok(auth) => {
                let scratch = is_scratch(&auth);
                let method = auth.oauth_method().as_str();
                if let Some(u) = auth.instance_url() {
                    m.insert("instanceUrl".into(), json!(u));
                }
                m.insert("isScratchOrg".into(), json!(scratch));
                m.insert("isDevHub".into(), json!(auth.is_dev_hub()));
                m.insert("isSandbox".into(), json!(is_sandbox(store, &auth)));
                if let Some(id) = auth.org_id() {
                    m.insert("orgId".into(), json!(id));
                }
                if let Some(t) = auth.access_token() {
                    let shown = if show { t } else { REDACTED_ACCESS_TOKEN };
                    m.insert("accessToken".into(), json!(shown));
                }
                m.insert("oauthMethod".into(), json!(method));
                m.insert("isExpired".into(), is_expired(&auth, scratch));
                (
                    auth.org_id().map(str::to_owned),
                    auth.instance_url().map(str::to_owned),
                    method.to_owned(),
                    None,
                )
            }
            Err(e) => {
                any_error = true;
                let (org_id, instance_url) = raw_ids(store, &username);
                if let Some(id) = &org_id {
                    m.insert("orgId".into(), json!(id));
                }
                if let Some(u) = &instance_url {
                    m.insert("instanceUrl".into(), json!(u));
                }
                m.insert("oauthMethod".into(), json!("unknown"));
                m.insert("error".into(), json!(e.to_string()));
                m.insert("isExpired".into(), json!("unknown"));
                (
                    org_id,
                    instance_url,
                    "unknown".to_owned(),
                    Some(e.to_string()),
                )
            }
        };
        m.insert("alias".into(), json!(alias));
        rows.push((alias, username, org_id, instance_url, method, error));
        entries.push(Value::Object(m));
    }
    let mut headers = vec!["Alias", "Username", "Org Id", "Instance Url", "Auth Method"];
    if any_error {
        headers.push("Error");
    }
    let table_rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(alias, username, org_id, url, method, error)| {
            let mut r = vec![
                alias,
                username,
                org_id.unwrap_or_default(),
                url.unwrap_or_default(),
                method,
            ];
            if any_error {
                r.push(error.unwrap_or_default());
            }
            r
        })
        .collect();
    let human = output::table(Some("authenticated orgs"), &headers, &table_rows);
    Ok(Outcome::new(Value::Array(entries), human))
}

/// `orgId`/`instanceUrl` of a file that could not be decrypted (both are stored in clear).
fn raw_ids(store: &Store, username: &str) -> (Option<String>, Option<String>) {
    let Ok(path) = store.auth_path(username) else {
        return (None, None);
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None);
    };
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&text) else {
        return (None, None);
    };
    let get = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    (get("orgId"), get("instanceUrl"))
}

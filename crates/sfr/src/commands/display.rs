//! `sfr org display`: refresh first (`GET /services/data/v{version}`, a 401 refreshes and saves), then show the
//! org. `sfdxAuthUrl` only with `--verbose` and a refresh token; secrets redacted unless `SF_TEMP_SHOW_SECRETS=true`.

use serde_json::{Map, Value};

use crate::cli::DisplayArgs;
use crate::org::connection::{Connection, sfdx_auth_url};
use crate::org::login::target_auth;
use crate::org::login::{REDACTED_ACCESS_TOKEN, REDACTED_SFDX_AUTH_URL, http_client, show_secrets};
use crate::org::post_login::{
    BOOTSTRAP_API_VERSION, Rest, api_version_is_fresh, is_api_version, locale_string,
    max_api_version,
};
use crate::output::{CommandError, Ctx, Outcome, table};
use crate::store::{ConfigKey, Store};

pub fn run(ctx: &mut Ctx, store: &Store, args: &DisplayArgs) -> Result<Outcome, CommandError> {
    let auth = target_auth(store, args.target.target_org.as_deref())?;
    let configured = args.api_version.clone().or_else(|| {
        store
            .config_get(ConfigKey::OrgApiVersion)
            .ok()
            .flatten()
            .and_then(|e| e.value_str().map(str::to_owned))
    });
    let api_version = configured
        .clone()
        .or_else(|| auth.instance_api_version().map(str::to_owned))
        .filter(|v| is_api_version(v))
        .unwrap_or_else(|| BOOTSTRAP_API_VERSION.to_owned());
    let mut conn = Connection::new(store, http_client()?, auth);
    let connected_status = match conn.check(&api_version) {
        Ok(()) => "Connected".to_owned(),
        Err(e) => {
            ctx.warn("unable to refresh auth for org");
            if let Some(hint) = e.relogin_hint() {
                ctx.warn(hint);
            }
            e.to_string()
        }
    };
    if configured.is_none() && connected_status == "Connected" {
        refresh_api_version_cache(store, &mut conn);
    }
    let auth = conn.auth;
    let secrets = show_secrets();
    if !secrets {
        ctx.warn(
            "Secrets are now hidden from 'sf org display' command output. Use the 'sf org auth' commands instead. As a temporary workaround, you can set SF_TEMP_SHOW_SECRETS=true to render these secrets. This workaround will be removed in an upcoming release.",
        );
    }
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            out.insert(k.to_owned(), v);
        }
    };
    let text = |s: Option<&str>| s.map(|s| Value::String(s.to_owned()));
    put("id", text(auth.org_id()));
    put("devHubId", text(auth.dev_hub_username()));
    put("apiVersion", Some(Value::String(api_version.clone())));
    put(
        "accessToken",
        auth.access_token().map(|t| {
            Value::String(if secrets {
                t.to_owned()
            } else {
                REDACTED_ACCESS_TOKEN.to_owned()
            })
        }),
    );
    put("instanceUrl", text(auth.instance_url()));
    put("username", text(auth.username()));
    put("clientId", text(auth.client_id()));
    put("password", text(auth.password()));
    if auth.is_scratch() {
        put("expirationDate", text(auth.expiration_date()));
        put("createdDate", text(auth.created()));
        put("orgName", text(auth.name()));
        put("edition", text(auth.org_edition()));
    }
    put("connectedStatus", Some(Value::String(connected_status)));
    if args.verbose {
        put(
            "sfdxAuthUrl",
            sfdx_auth_url(&auth).map(|u| {
                Value::String(if secrets {
                    u
                } else {
                    REDACTED_SFDX_AUTH_URL.to_owned()
                })
            }),
        );
    }
    if let Some(username) = auth.username() {
        put("alias", store.alias_of(username)?.map(Value::String));
    }
    put(
        "clientApps",
        auth.client_apps()
            .filter(|apps| !apps.is_empty())
            .map(|apps| Value::String(apps.keys().cloned().collect::<Vec<_>>().join(", "))),
    );
    let mut rows: Vec<Vec<String>> = out
        .iter()
        .map(|(k, v)| {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            vec![title_case(k), shown]
        })
        .collect();
    rows.sort();
    let human = table(Some("Org Description"), &["KEY", "VALUE"], &rows);
    Ok(Outcome::new(Value::Object(out), human))
}

/// sf re-reads the org's maximum API version once the cached one is a day old (`SFDX_IGNORE_API_VERSION_CACHE`
/// disables the cache) and saves it with the time it was retrieved.
fn refresh_api_version_cache(store: &Store, conn: &mut Connection<'_>) {
    let now = time::OffsetDateTime::now_utc();
    if api_version_is_fresh(&conn.auth, now) {
        return;
    }
    let (Some(instance_url), Some(token)) = (
        conn.auth.instance_url().map(str::to_owned),
        conn.auth.access_token().map(str::to_owned),
    ) else {
        return;
    };
    let http = match http_client() {
        Ok(h) => h,
        Err(_) => return,
    };
    let rest = Rest {
        http: &http,
        instance_url: &instance_url,
        access_token: &token,
    };
    if let Some(version) = max_api_version(rest) {
        conn.auth.set_instance_api_version(version);
        conn.auth
            .set_instance_api_version_last_retrieved(locale_string(now));
        // A failed save only loses the cache; the display itself is still right.
        let _ = store.write_auth(&conn.auth);
    }
}

/// `instanceUrl` → `Instance Url`, as sf's table titles its keys.
pub fn title_case(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_title_cased() {
        assert_eq!(title_case("instanceUrl"), "Instance Url");
        assert_eq!(title_case("id"), "Id");
        assert_eq!(title_case("sfdxAuthUrl"), "Sfdx Auth Url");
    }
}

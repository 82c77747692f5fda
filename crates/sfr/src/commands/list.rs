//! `sfr org list` (plugin-org): every authorized org grouped as `{other, sandboxes, nonScratchOrgs, devHubs,
//! scratchOrgs}`, with aliases, defaults and `lastUsed`; `connectedStatus` probes each org unless
//! `--skip-connection-status` (the probe lives in `org::connection`).

use std::cmp::Ordering;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::list_auth::is_sandbox;
use crate::cli::ListArgs;
use crate::org::login::{REDACTED_ACCESS_TOKEN, show_secrets};
use crate::output::{self, CommandError, Ctx, Outcome};
use crate::store::{AuthFile, Store};

const DEFAULT_ORG_EMOJI: &str = "🍁";
const DEFAULT_HUB_EMOJI: &str = "🌳";

/// One listed org.
struct Listed {
    username: String,
    alias: Option<String>,
    fields: Map<String, Value>,
    auth: AuthFile,
    scratch: bool,
}

impl Listed {
    fn is_dev_hub(&self) -> bool {
        self.fields
            .get("isDevHub")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn is_sandbox(&self) -> bool {
        self.fields
            .get("isSandbox")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn str_field(&self, k: &str) -> String {
        self.fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }
}

/// JS `Date.toISOString()` of a file time.
fn iso(t: SystemTime) -> Option<String> {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from(t).format(fmt).ok()
}

/// Whether a user is an org's secondary user (`<orgId>.json` lists another first username).
fn is_secondary_user(store: &Store, auth: &AuthFile) -> bool {
    let (Some(_), Some(org_id)) = (auth.user_id(), auth.org_id()) else {
        return false;
    };
    let path = store.sfdx_dir().join(format!("{org_id}.json"));
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    let first = v
        .get("usernames")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    first.is_some_and(|f| Some(f) != auth.username())
}

/// sf sorts by alias (no alias last), then username, with `localeCompare`.
fn compare(a: &Listed, b: &Listed) -> Ordering {
    const EMPTIES_LAST: &str = "zzzzzzzzzz";
    let key = |s: &str| (s.to_lowercase(), s.to_owned());
    let aa = a.alias.as_deref().unwrap_or(EMPTIES_LAST);
    let ba = b.alias.as_deref().unwrap_or(EMPTIES_LAST);
    key(aa)
        .cmp(&key(ba))
        .then_with(|| key(&a.username).cmp(&key(&b.username)))
}

/// Without the dev hub's ScratchOrgInfo, a scratch org counts as active until its expiration date passes.
fn scratch_is_active(o: &Listed) -> bool {
    !matches!(
        super::list_auth::is_expired(&o.auth, true),
        Value::Bool(true)
    )
}

pub fn run(ctx: &mut Ctx, store: &Store, args: &ListArgs) -> Result<Outcome, CommandError> {
    let show = show_secrets();
    if ctx.json() {
        ctx.warn(if show {
            "The SF_TEMP_SHOW_SECRETS env var is set. This is a temporary env var to continue to show secrets in the 'sf org list' command output. This workaround will be removed in an upcoming CLI release. Switch to use the 'sf org auth' commands to avoid future disruption."
        } else {
            "Secrets are now hidden from 'sf org list' command output. Use the 'sf org auth' commands instead. As a temporary workaround, you can set SF_TEMP_SHOW_SECRETS=true to render these secrets. This workaround will be removed in an upcoming release."
        });
    }
    let usernames = store.list_usernames()?;
    let target_org = store
        .target_org()?
        .and_then(|e| e.value_str().map(str::to_owned));
    let target_hub = store
        .target_dev_hub()?
        .and_then(|e| e.value_str().map(str::to_owned));
    let all_aliases = store.aliases()?;

    let mut orgs: Vec<Listed> = Vec::new();
    for username in usernames {
        let auth = match store.read_auth(&username) {
            Ok(a) => a,
            Err(e) => {
                ctx.warn(format!(
                    "The auth file for {username} is invalid. Due to: {e}"
                ));
                continue;
            }
        };
        if is_secondary_user(store, &auth) {
            continue;
        }
        let mut fields = auth.fields().clone();
        fields.shift_remove("refreshToken");
        fields.shift_remove("clientSecret");
        if !show && fields.contains_key("accessToken") {
            fields.insert("accessToken".into(), json!(REDACTED_ACCESS_TOKEN));
        }
        if is_sandbox(store, &auth) && !auth.is_sandbox() {
            fields.insert("isSandbox".into(), json!(true));
        }
        let alias = all_aliases
            .iter()
            .rev()
            .find(|(_, v)| *v == username)
            .map(|(a, _)| a.clone());
        let candidates: Vec<&str> = alias
            .iter()
            .map(String::as_str)
            .chain([username.as_str()])
            .collect();
        let is_default_hub = target_hub
            .as_deref()
            .is_some_and(|t| candidates.contains(&t));
        let is_default = target_org
            .as_deref()
            .is_some_and(|t| candidates.contains(&t));
        if let Some(a) = &alias {
            fields.insert("alias".into(), json!(a));
        }
        fields.insert("isDefaultDevHubUsername".into(), json!(is_default_hub));
        fields.insert("isDefaultUsername".into(), json!(is_default));
        if let Some(t) = store.last_used(&username).and_then(iso) {
            fields.insert("lastUsed".into(), json!(t));
        }
        let scratch = fields.contains_key("expirationDate");
        orgs.push(Listed {
            username,
            alias,
            fields,
            auth,
            scratch,
        });
    }

    if !args.skip_connection_status {
        probe_connections(store, &mut orgs);
    }

    for o in &mut orgs {
        let hub = o.fields.get("isDefaultDevHubUsername") == Some(&json!(true));
        let user = o.fields.get("isDefaultUsername") == Some(&json!(true));
        let marker = match (hub, user) {
            (true, true) => Some("(D),(U)"),
            (true, false) => Some("(D)"),
            (false, true) => Some("(U)"),
            _ => None,
        };
        if let Some(m) = marker {
            o.fields.insert("defaultMarker".into(), json!(m));
        }
    }
    orgs.sort_by(compare);

    let (scratch, non_scratch): (Vec<&Listed>, Vec<&Listed>) = orgs.iter().partition(|o| o.scratch);
    let (expired, active): (Vec<&Listed>, Vec<&Listed>) =
        scratch.iter().partition(|o| !scratch_is_active(o));
    if args.clean && !expired.is_empty() {
        clean(ctx, store, &expired, args.no_prompt)?;
    }
    if expired.len() > 10 && !args.clean {
        ctx.warn(format!(
            "You have {} expired or deleted local scratch org authorizations. To remove authorizations for inactive orgs, run \"sfr org list --clean\".",
            expired.len()
        ));
    }
    let shown_scratch: Vec<&Listed> = if args.all { scratch.clone() } else { active };
    let other: Vec<&Listed> = non_scratch
        .iter()
        .copied()
        .filter(|o| !o.is_sandbox() && !o.is_dev_hub())
        .collect();
    let sandboxes: Vec<&Listed> = non_scratch
        .iter()
        .copied()
        .filter(|o| o.is_sandbox())
        .collect();
    let dev_hubs: Vec<&Listed> = non_scratch
        .iter()
        .copied()
        .filter(|o| o.is_dev_hub())
        .collect();

    let to_json =
        |v: &[&Listed]| Value::Array(v.iter().map(|o| Value::Object(o.fields.clone())).collect());
    let result = json!({
        "other": to_json(&other),
        "sandboxes": to_json(&sandboxes),
        "nonScratchOrgs": to_json(&non_scratch),
        "devHubs": to_json(&dev_hubs),
        "scratchOrgs": to_json(&shown_scratch),
    });

    if dev_hubs.is_empty() && other.is_empty() && sandboxes.is_empty() && shown_scratch.is_empty() {
        return Ok(Outcome::new(
            result,
            format!("No Orgs found.\n{}", legend(args)),
        ));
    }
    let human = render(&dev_hubs, &other, &sandboxes, &shown_scratch, args);
    Ok(Outcome::new(result, human))
}

/// Fills `connectedStatus` for non-scratch orgs, in parallel like sf (orgs with a dev hub user are skipped).
fn probe_connections(store: &Store, orgs: &mut [Listed]) {
    std::thread::scope(|scope| {
        for o in orgs.iter_mut().filter(|o| !o.scratch) {
            if o.auth.dev_hub_username().is_some() {
                continue;
            }
            scope.spawn(move || {
                let status = crate::org::connection::connected_status(store, &mut o.auth);
                // Turning Dev Hub on is irreversible, so only orgs not known as hubs are asked (as sf does).
                if status == "Connected" && !o.is_dev_hub() && probe_dev_hub(&o.auth) {
                    o.fields.insert("isDevHub".into(), json!(true));
                    o.auth.set_is_dev_hub(true);
                    let _ = store.write_auth(&o.auth);
                }
                o.fields.insert("connectedStatus".into(), json!(status));
            });
        }
    });
}

/// The ScratchOrgInfo probe of a connected org.
fn probe_dev_hub(auth: &AuthFile) -> bool {
    let (Some(instance_url), Some(access_token)) = (auth.instance_url(), auth.access_token())
    else {
        return false;
    };
    let Ok(http) = crate::org::http::HttpClient::from_env() else {
        return false;
    };
    crate::org::post_login::is_dev_hub(crate::org::post_login::Rest {
        http: &http,
        instance_url,
        access_token,
    })
}

/// `--clean`: removes the local authorization of expired scratch orgs.
fn clean(
    ctx: &mut Ctx,
    store: &Store,
    expired: &[&Listed],
    no_prompt: bool,
) -> Result<(), CommandError> {
    if !no_prompt
        && !output::confirm(&format!(
            "Found ({}) org configurations to delete. Are you sure (yes/no)?",
            expired.len()
        ))?
    {
        return Ok(());
    }
    for o in expired {
        if let Err(e) = store.remove_auth(&o.username) {
            ctx.warn(format!(
                "Unable to clean org with username {}. {e}",
                o.username
            ));
        }
    }
    Ok(())
}

fn render(
    dev_hubs: &[&Listed],
    other: &[&Listed],
    sandboxes: &[&Listed],
    scratch: &[&Listed],
    args: &ListArgs,
) -> String {
    let typed = !dev_hubs.is_empty() || !sandboxes.is_empty() || !scratch.is_empty();
    let mut headers = vec![""];
    if typed {
        headers.push("Type");
    }
    headers.extend(["Alias", "Username", "Org Id"]);
    if !args.skip_connection_status {
        headers.push("Status");
    }
    if args.verbose {
        headers.extend(["Instance Url", "Dev Hub Id", "Created"]);
    }
    let with_expiry = !scratch.is_empty();
    if with_expiry {
        headers.push("Expires");
    }
    let groups: [(&[&Listed], &str); 4] = [
        (dev_hubs, "DevHub"),
        (other, ""),
        (sandboxes, "Sandbox"),
        (scratch, "Scratch"),
    ];
    let mut rows = Vec::new();
    for (group, kind) in groups {
        for o in group {
            let marker = o
                .str_field("defaultMarker")
                .replace("(D)", DEFAULT_HUB_EMOJI)
                .replace("(U)", DEFAULT_ORG_EMOJI);
            let mut row = vec![marker];
            if typed {
                row.push(kind.to_owned());
            }
            row.extend([
                o.alias.clone().unwrap_or_default(),
                o.username.clone(),
                o.str_field("orgId"),
            ]);
            if !args.skip_connection_status {
                let status = if kind == "Scratch" {
                    o.str_field("status")
                } else {
                    o.str_field("connectedStatus")
                };
                row.push(status);
            }
            if args.verbose {
                row.push(o.str_field("instanceUrl"));
                row.push(o.str_field("devHubOrgId"));
                row.push(
                    o.str_field("createdDate")
                        .split('T')
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                );
            }
            if with_expiry {
                row.push(o.str_field("expirationDate"));
            }
            rows.push(row);
        }
    }
    let mut s = output::table(None, &headers, &rows);
    s.push_str(&legend(args));
    s
}

/// The legend line sf prints after the table (and after "No Orgs found.").
fn legend(args: &ListArgs) -> String {
    format!(
        "\nLegend:  {DEFAULT_HUB_EMOJI}=Default DevHub, {DEFAULT_ORG_EMOJI}=Default Org {}\n",
        if args.all {
            ""
        } else {
            "     Use --all to see expired and deleted scratch orgs"
        }
    )
}

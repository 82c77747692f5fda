//! `sfr config set|get|list|unset` (plugin-settings) for `target-org`, `target-dev-hub`, `org-instance-url` and
//! `org-api-version`, in sf's files and with sf's JSON shapes.

use serde_json::{Map, Value, json};

use super::varargs;
use crate::cli::{ConfigGetArgs, ConfigSetArgs, ConfigUnsetArgs};
use crate::output::{self, CommandError, Ctx, EXIT_FAILURE, Outcome};
use crate::store::{ConfigEntry, ConfigKey, Store, StoreError};

/// One row of a config command.
struct Msg {
    name: String,
    value: Option<String>,
    success: bool,
    location: Option<String>,
    /// `(name, message)` of the failure.
    error: Option<(String, String)>,
}

impl Msg {
    fn ok(name: &str, value: Option<&str>) -> Msg {
        Msg {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            success: true,
            location: None,
            error: None,
        }
    }

    fn failed(name: &str, value: Option<&str>, error_name: &str, message: String) -> Msg {
        Msg {
            name: name.to_owned(),
            value: value.map(str::to_owned),
            success: false,
            location: None,
            error: Some((error_name.to_owned(), message)),
        }
    }

    /// `{name, value?, success}` or `{name, success:false, value?, error, message}`.
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        match &self.error {
            None => {
                if let Some(v) = &self.value {
                    m.insert("value".into(), json!(v));
                }
                m.insert("success".into(), json!(true));
            }
            Some((error_name, message)) => {
                m.insert("success".into(), json!(false));
                if let Some(v) = &self.value {
                    m.insert("value".into(), json!(v));
                }
                m.insert(
                    "error".into(),
                    json!({"name": error_name, "exitCode": EXIT_FAILURE}),
                );
                m.insert("message".into(), json!(message));
            }
        }
        Value::Object(m)
    }
}

/// `buildSuccessMsg`: `{name, key, value, path, success, location}` (absent values omitted).
fn info_json(name: &str, entry: Option<&ConfigEntry>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("key".into(), json!(name));
    if let Some(e) = entry {
        m.insert("value".into(), e.value.clone());
        if let Some(p) = &e.path {
            m.insert("path".into(), json!(p.to_string_lossy()));
        }
    }
    m.insert("success".into(), json!(true));
    if let Some(e) = entry {
        m.insert("location".into(), json!(e.location.as_str()));
    }
    Value::Object(m)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Title {
    Set,
    Unset,
    List,
    Get,
}

/// plugin-settings' `output`: Name, [Location], [Value], [Success], [Message].
fn render(title: Title, msgs: &[Msg], verbose: bool) -> String {
    if msgs.is_empty() {
        return "No results found".to_owned();
    }
    let any_error = msgs.iter().any(|m| m.error.is_some());
    let mut headers = vec!["Name"];
    if verbose {
        headers.push("Location");
    }
    if title != Title::Unset {
        headers.push("Value");
    }
    if title != Title::List {
        headers.push("Success");
    }
    if any_error {
        headers.push("Message");
    }
    let rows: Vec<Vec<String>> = msgs
        .iter()
        .map(|m| {
            let mut row = vec![m.name.clone()];
            if verbose {
                row.push(m.location.clone().unwrap_or_default());
            }
            if title != Title::Unset {
                row.push(m.value.clone().unwrap_or_default());
            }
            if title != Title::List {
                row.push(m.success.to_string());
            }
            if any_error {
                row.push(m.error.as_ref().map(|e| e.1.clone()).unwrap_or_default());
            }
            row
        })
        .collect();
    let title_text = match title {
        Title::Set => "Set Config",
        Title::Unset => "Unset Config",
        Title::List => "List Config",
        Title::Get => "Get Config",
    };
    output::table(Some(title_text), &headers, &rows)
}

fn unknown_key(name: &str) -> (String, String) {
    let e = StoreError::UnknownConfigKey {
        key: name.to_owned(),
    };
    (e.name().to_owned(), e.to_string())
}

/// Resolves a name, warning about a deprecated one; `None` for an unknown name.
fn resolve_key(ctx: &mut Ctx, name: &str) -> Option<ConfigKey> {
    let (key, deprecated) = ConfigKey::parse(name)?;
    if deprecated {
        ctx.warn(format!(
            "Deprecated config name: {name}. Please use {} instead.",
            key.as_str()
        ));
    }
    Some(key)
}

/// The hosts sf's `SfdcUrl.isSalesforceDomain` accepts (plus internal hosts).
fn is_salesforce_url(value: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        ".cloudforce.com",
        ".cloudforce.mil",
        ".content.force.com",
        ".force.com",
        ".salesforce.com",
        ".salesforce.mil",
        ".salesforceliveagent.com",
        ".secure.force.com",
        ".crmforce.mil",
        ".sfcrmapps.cn",
        ".sfcrmproducts.cn",
        ".sfdcfc.net",
        ".force.mil",
    ];
    let Ok(url) = url::Url::parse(value) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    SUFFIXES.iter().any(|s| host.ends_with(s)) || host.contains(".internal.")
}

fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 4 && (b'1'..=b'9').contains(&b[0]) && b[1].is_ascii_digit() && &b[2..] == b".0"
}

/// Checks a value the way sf's config meta and `config set` do; the error message on failure.
fn validate(store: &Store, key: ConfigKey, value: &str) -> Result<(), String> {
    match key {
        ConfigKey::TargetOrg | ConfigKey::TargetDevHub => {
            let username = store.resolve_username(value).map_err(|e| e.to_string())?;
            if store.has_auth(&username) {
                Ok(())
            } else {
                Err(format!(
                    "Invalid config value: org \"{value}\" is not authenticated."
                ))
            }
        }
        ConfigKey::OrgInstanceUrl if !is_salesforce_url(value) => {
            Err("Invalid config value: Specify a valid Salesforce instance URL.".to_owned())
        }
        ConfigKey::OrgApiVersion if !is_api_version(value) => Err(
            "Invalid config value: Specify a valid Salesforce API version, for example, 42.0."
                .to_owned(),
        ),
        _ => Ok(()),
    }
}

fn no_config_keys(verb: &str) -> CommandError {
    CommandError::new(
        "NoConfigKeysFoundError",
        format!(
            "You must provide one or more configuration variables to {verb}. Run \"sf config list\" to see the configuration variables you've previously set."
        ),
    )
}

/// `config set name=value… [-g]`.
pub fn set(ctx: &mut Ctx, store: &Store, args: &ConfigSetArgs) -> Result<Outcome, CommandError> {
    if !args.global && store.project_root().is_none() {
        return Err(store.not_in_project().into());
    }
    if args.pairs.is_empty() {
        return Err(CommandError::new(
            "ArgumentsRequiredError",
            "You must provide one or more configuration variables to set. Use the --help flag to view the available configuration variables.",
        ));
    }
    let pairs = varargs::parse(&args.pairs)?;
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut to_write: Vec<(ConfigKey, String)> = Vec::new();
    for (name, value) in &pairs {
        let Some(key) = resolve_key(ctx, name) else {
            let (en, msg) = unknown_key(name);
            failures.push(Msg::failed(name, value.as_deref(), &en, msg));
            continue;
        };
        let Some(value) = value else {
            failures.push(Msg::failed(
                key.as_str(),
                None,
                "ValueRequiredError",
                "You must provide a value when setting a config. Use `sf config unset the-config-name` to unset existing configs.".to_owned(),
            ));
            continue;
        };
        match validate(store, key, value) {
            Ok(()) => {
                to_write.push((key, value.clone()));
                successes.push(Msg::ok(key.as_str(), Some(value)));
            }
            Err(message) => failures.push(Msg::failed(key.as_str(), Some(value), "Error", message)),
        }
    }
    for (key, value) in &to_write {
        store.set_config(*key, Some(value), args.global)?;
    }
    finish_set_or_unset(Title::Set, successes, failures)
}

fn finish_set_or_unset(
    title: Title,
    successes: Vec<Msg>,
    failures: Vec<Msg>,
) -> Result<Outcome, CommandError> {
    let json = json!({
        "successes": successes.iter().map(Msg::to_json).collect::<Vec<_>>(),
        "failures": failures.iter().map(Msg::to_json).collect::<Vec<_>>(),
    });
    let code = if failures.is_empty() { 0 } else { EXIT_FAILURE };
    let all: Vec<Msg> = successes.into_iter().chain(failures).collect();
    Ok(Outcome::new(json, render(title, &all, false)).with_exit_code(code))
}

/// `config unset name… [-g]`.
pub fn unset(
    ctx: &mut Ctx,
    store: &Store,
    args: &ConfigUnsetArgs,
) -> Result<Outcome, CommandError> {
    if args.names.is_empty() {
        return Err(no_config_keys("unset"));
    }
    if !args.global && store.project_root().is_none() {
        return Err(store.not_in_project().into());
    }
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for name in &args.names {
        match resolve_key(ctx, name) {
            Some(key) => {
                store.set_config(key, None, args.global)?;
                successes.push(Msg::ok(key.as_str(), None));
            }
            None => {
                let (en, msg) = unknown_key(name);
                failures.push(Msg::failed(name, None, &en, msg));
            }
        }
    }
    finish_set_or_unset(Title::Unset, successes, failures)
}

/// `config get name… [--verbose]`.
pub fn get(ctx: &mut Ctx, store: &Store, args: &ConfigGetArgs) -> Result<Outcome, CommandError> {
    if args.names.is_empty() {
        return Err(no_config_keys("get"));
    }
    let mut json = Vec::new();
    let mut msgs = Vec::new();
    let mut code = 0;
    for name in &args.names {
        match resolve_key(ctx, name) {
            Some(key) => {
                let entry = store.config_get(key)?;
                json.push(info_json(key.as_str(), entry.as_ref()));
                msgs.push(Msg {
                    name: key.as_str().to_owned(),
                    value: entry.as_ref().map(|e| value_text(&e.value)),
                    success: true,
                    location: entry.as_ref().map(|e| e.location.as_str().to_owned()),
                    error: None,
                });
            }
            None => {
                let (en, msg) = unknown_key(name);
                let m = Msg::failed(name, None, &en, msg);
                json.push(m.to_json());
                msgs.push(m);
                code = EXIT_FAILURE;
            }
        }
    }
    Ok(
        Outcome::new(Value::Array(json), render(Title::Get, &msgs, args.verbose))
            .with_exit_code(code),
    )
}

/// `config list`: every variable that is set, with where it comes from.
pub fn list(_ctx: &mut Ctx, store: &Store) -> Result<Outcome, CommandError> {
    let entries = store.config_list()?;
    let json: Vec<Value> = entries.iter().map(|e| info_json(&e.key, Some(e))).collect();
    let msgs: Vec<Msg> = entries
        .iter()
        .map(|e| Msg {
            name: e.key.clone(),
            value: Some(value_text(&e.value)),
            success: true,
            location: Some(e.location.as_str().to_owned()),
            error: None,
        })
        .collect();
    Ok(Outcome::new(
        Value::Array(json),
        render(Title::List, &msgs, true),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_urls() {
        assert!(is_salesforce_url("https://acme.my.salesforce.com"));
        assert!(is_salesforce_url("https://test.salesforce.com"));
        assert!(!is_salesforce_url("http://localhost:8901"));
        assert!(!is_salesforce_url("https://example.com"));
    }

    #[test]
    fn api_versions() {
        assert!(is_api_version("63.0"));
        assert!(!is_api_version("63"));
        assert!(!is_api_version("06.0"));
        assert!(!is_api_version("163.0"));
    }
}

//! `app create|update|show|list`.

use std::path::PathBuf;

use super::{AdminError, Context, Report, database_flag, json};
use crate::clock::{Clock as _, SystemClock};
use crate::model::{
    AppUpdate, ConnectedApp, IpRelaxation, NewApp, PermittedUsers, RefreshPolicy, Scope,
};
use crate::store::{Store, StoreError};

/// A session timeout flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionTimeout {
    OrgDefault,
    Minutes(u32),
}

impl SessionTimeout {
    /// `15m`, `2h`, `90` (minutes) or `org-default`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "org-default" {
            return Ok(Self::OrgDefault);
        }
        let (digits, factor) = if let Some(d) = s.strip_suffix('h') {
            (d, 60)
        } else if let Some(d) = s.strip_suffix("min") {
            (d, 1)
        } else if let Some(d) = s.strip_suffix('m') {
            (d, 1)
        } else {
            (s, 1)
        };
        digits
            .parse::<u32>()
            .ok()
            .and_then(|n| n.checked_mul(factor))
            .filter(|n| (1..=24 * 60).contains(n))
            .map(Self::Minutes)
            .ok_or_else(|| {
                format!("{s:?} is not a session timeout: use 15m, 30m, 1h, 2h … 24h, a number of minutes, or org-default")
            })
    }

    fn minutes(self) -> Option<u32> {
        match self {
            Self::OrgDefault => None,
            Self::Minutes(m) => Some(m),
        }
    }
}

/// The app flags shared by `create` and `update` (unset = default on create, unchanged on update).
#[derive(Debug, Clone, Default)]
pub struct AppArgs {
    pub contact_email: Option<String>,
    pub callback_urls: Vec<String>,
    pub scopes: Option<Vec<Scope>>,
    pub certificate: Option<PathBuf>,
    pub remove_certificate: bool,
    pub permitted_users: Option<PermittedUsers>,
    pub profiles: Vec<String>,
    pub clear_profiles: bool,
    pub permission_sets: Vec<String>,
    pub clear_permission_sets: bool,
    pub refresh_policy: Option<RefreshPolicy>,
    pub session_timeout: Option<SessionTimeout>,
    pub require_secret_web: Option<bool>,
    pub require_secret_refresh: Option<bool>,
    pub require_pkce: Option<bool>,
    pub introspect_all_tokens: Option<bool>,
    pub ip_relaxation: Option<IpRelaxation>,
    /// A username, or `none` to disable the client credentials flow (update).
    pub client_credentials_user: Option<String>,
}

fn read_certificate(path: &PathBuf) -> Result<String, AdminError> {
    std::fs::read_to_string(path).map_err(|e| {
        AdminError::Usage(format!(
            "cannot read the certificate {}: {e} (pass the PEM certificate, e.g. server.crt from `openssl req -x509`)",
            path.display()
        ))
    })
}

fn run_as_username(store: &dyn Store, app: &ConnectedApp) -> Result<Option<String>, AdminError> {
    Ok(match &app.client_credentials_user {
        Some(id) => store.user_by_id(id)?.map(|u| u.username),
        None => None,
    })
}

fn describe(app: &ConnectedApp, run_as: Option<&str>, secret: &str) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    let rows: [(&str, String); 18] = [
        ("Name", app.name.clone()),
        ("API name", app.api_name.clone()),
        ("Consumer key", app.consumer_key.clone()),
        (
            "Consumer secret",
            if app.built_in {
                format!("{secret} (internal: sf sends none; it only keys the response signature)")
            } else {
                secret.to_owned()
            },
        ),
        ("Callback URLs", app.callback_urls.join(", ")),
        ("Scopes", json::scopes(&app.scopes)),
        (
            "Certificate (JWT bearer)",
            if app.certificate_pem.is_some() {
                "uploaded"
            } else {
                "none"
            }
            .to_owned(),
        ),
        (
            "Require secret (web flow)",
            app.require_secret_web.to_string(),
        ),
        (
            "Require secret (refresh)",
            app.require_secret_refresh.to_string(),
        ),
        ("Require PKCE", app.require_pkce.to_string()),
        (
            "Introspect all tokens",
            app.introspect_all_tokens.to_string(),
        ),
        ("Permitted users", app.permitted_users.to_string()),
        ("Pre-authorized profiles", list(&app.profiles)),
        ("Pre-authorized permission sets", list(&app.permission_sets)),
        ("Refresh token policy", app.refresh_policy.to_string()),
        (
            "Session timeout",
            app.session_timeout_minutes
                .map(|m| format!("{m} min"))
                .unwrap_or_else(|| "org default".into()),
        ),
        ("IP relaxation", app.ip_relaxation.to_string()),
        (
            "Client credentials user",
            run_as.unwrap_or("- (flow disabled)").to_owned(),
        ),
    ];
    rows.iter()
        .map(|(label, value)| format!("  {:<31} {value}\n", format!("{label}:")))
        .collect()
}

pub fn create(
    ctx: &Context,
    name: &str,
    api_name: Option<&str>,
    args: &AppArgs,
) -> Result<Report, AdminError> {
    let certificate = args
        .certificate
        .as_ref()
        .map(read_certificate)
        .transpose()?;
    let contact_email = args
        .contact_email
        .clone()
        .ok_or_else(|| AdminError::Usage("--contact-email is required".into()))?;
    let scopes = args.scopes.clone().ok_or_else(|| {
        AdminError::Usage("--scopes is required, e.g. --scopes \"api web refresh_token\"".into())
    })?;
    let opened = ctx.open()?;
    let mut app = NewApp::new(
        name,
        contact_email,
        args.callback_urls.clone(),
        scopes,
        SystemClock.now_ms(),
    );
    app.api_name = api_name.map(str::to_owned);
    app.certificate_pem = certificate;
    if let Some(v) = args.permitted_users {
        app.permitted_users = v;
    }
    app.profiles = args.profiles.clone();
    app.permission_sets = args.permission_sets.clone();
    if let Some(v) = args.refresh_policy {
        app.refresh_policy = v;
    }
    app.session_timeout_minutes = args.session_timeout.and_then(SessionTimeout::minutes);
    if let Some(v) = args.require_secret_web {
        app.require_secret_web = v;
    }
    if let Some(v) = args.require_secret_refresh {
        app.require_secret_refresh = v;
    }
    if let Some(v) = args.require_pkce {
        app.require_pkce = v;
    }
    if let Some(v) = args.introspect_all_tokens {
        app.introspect_all_tokens = v;
    }
    if let Some(v) = args.ip_relaxation {
        app.ip_relaxation = v;
    }
    app.client_credentials_username = args.client_credentials_user.clone().filter(|u| u != "none");
    let (app, secret) = opened.store.create_app(&app)?;
    let run_as = run_as_username(opened.store.as_ref(), &app)?;
    let db = database_flag(&ctx.database);
    let mut human = format!(
        "Created connected app {}.\n{}",
        app.name,
        describe(&app, run_as.as_deref(), &secret)
    );
    human.push_str(&format!(
        "\nLog in with it (replace URL with the server's base URL):\n  sf org login web --instance-url URL --client-id {}\n",
        app.consumer_key
    ));
    if app.certificate_pem.is_some() {
        human.push_str(&format!(
            "  sf org login jwt --instance-url URL --client-id {} --jwt-key-file server.key --username USER\n",
            app.consumer_key
        ));
    }
    human.push_str(&format!(
        "Show these details again: sfr-org app show{db} --name \"{}\"\n",
        app.name
    ));
    Ok(Report {
        json: json::app(&app, run_as.as_deref(), Some(&secret)),
        human,
    })
}

pub fn update(ctx: &Context, name: &str, args: &AppArgs) -> Result<Report, AdminError> {
    let certificate = match (&args.certificate, args.remove_certificate) {
        (Some(_), true) => {
            return Err(AdminError::Usage(
                "--certificate and --remove-certificate contradict each other; pass one".into(),
            ));
        }
        (Some(path), false) => Some(Some(read_certificate(path)?)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let opened = ctx.open()?;
    let update = AppUpdate {
        contact_email: args.contact_email.clone(),
        callback_urls: (!args.callback_urls.is_empty()).then(|| args.callback_urls.clone()),
        scopes: args.scopes.clone(),
        certificate_pem: certificate,
        require_secret_web: args.require_secret_web,
        require_secret_refresh: args.require_secret_refresh,
        require_pkce: args.require_pkce,
        introspect_all_tokens: args.introspect_all_tokens,
        permitted_users: args.permitted_users,
        profiles: if args.clear_profiles {
            Some(Vec::new())
        } else {
            (!args.profiles.is_empty()).then(|| args.profiles.clone())
        },
        permission_sets: if args.clear_permission_sets {
            Some(Vec::new())
        } else {
            (!args.permission_sets.is_empty()).then(|| args.permission_sets.clone())
        },
        refresh_policy: args.refresh_policy,
        session_timeout_minutes: args.session_timeout.map(SessionTimeout::minutes),
        ip_relaxation: args.ip_relaxation,
        client_credentials_username: args
            .client_credentials_user
            .clone()
            .map(|u| (u != "none").then_some(u)),
        oauth_enabled: None,
        updated_at: SystemClock.now_ms(),
    };
    let app = opened.store.update_app(name, &update)?;
    let secret = opened.store.app_secret(&app.id)?;
    let run_as = run_as_username(opened.store.as_ref(), &app)?;
    Ok(Report {
        json: json::app(&app, run_as.as_deref(), Some(&secret)),
        human: format!(
            "Updated connected app {}.\n{}",
            app.name,
            describe(&app, run_as.as_deref(), &secret)
        ),
    })
}

fn require_app(store: &dyn Store, name: &str) -> Result<ConnectedApp, AdminError> {
    match store.app_by_name(name)? {
        Some(app) => Ok(app),
        None => Err(StoreError::UnknownApp {
            name: name.to_owned(),
            known: store.list_apps()?.into_iter().map(|a| a.name).collect(),
        }
        .into()),
    }
}

pub fn show(ctx: &Context, name: &str) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let app = require_app(opened.store.as_ref(), name)?;
    let secret = opened.store.app_secret(&app.id)?;
    let run_as = run_as_username(opened.store.as_ref(), &app)?;
    Ok(Report {
        json: json::app(&app, run_as.as_deref(), Some(&secret)),
        human: format!(
            "Connected app {}\n{}",
            app.name,
            describe(&app, run_as.as_deref(), &secret)
        ),
    })
}

pub fn list(ctx: &Context) -> Result<Report, AdminError> {
    let opened = ctx.open()?;
    let apps = opened.store.list_apps()?;
    let mut human = format!("{:<24} {:<24} {}\n", "NAME", "SCOPES", "CONSUMER KEY");
    let mut out = Vec::new();
    for app in &apps {
        let run_as = run_as_username(opened.store.as_ref(), app)?;
        human.push_str(&format!(
            "{:<24} {:<24} {}{}\n",
            app.name,
            json::scopes(&app.scopes),
            app.consumer_key,
            if app.built_in { "  (built in)" } else { "" }
        ));
        out.push(json::app(app, run_as.as_deref(), None));
    }
    Ok(Report {
        json: serde_json::Value::Array(out),
        human,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_timeouts_parse() {
        assert_eq!(
            SessionTimeout::parse("15m"),
            Ok(SessionTimeout::Minutes(15))
        );
        assert_eq!(
            SessionTimeout::parse("2h"),
            Ok(SessionTimeout::Minutes(120))
        );
        assert_eq!(SessionTimeout::parse("45"), Ok(SessionTimeout::Minutes(45)));
        assert_eq!(
            SessionTimeout::parse("org-default"),
            Ok(SessionTimeout::OrgDefault)
        );
        assert!(SessionTimeout::parse("0m").is_err());
        assert!(SessionTimeout::parse("25h").is_err());
        assert!(SessionTimeout::parse("soon").is_err());
    }
}

//! *App Manager* (the list), *New Connected App* (every field of the guide, certificate upload included) and the
//! app's detail page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sfr_wire::SfId;

use super::settings::NoticeQuery;
use super::{Chrome, Guard, internal, page, see_other};
use crate::http::params::FormRequest;
use crate::model::{AppUpdate, ConnectedApp, NewApp, Scope, certificate};
use crate::state::AppState;
use crate::store::StoreError;

/// One row of App Manager.
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub api_name: String,
    pub consumer_key: String,
    pub contact_email: String,
    pub oauth_enabled: bool,
    pub built_in: bool,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "setup/apps.html")]
pub struct AppsPage {
    pub chrome: Chrome,
    pub apps: Vec<AppRow>,
    pub creation_allowed: bool,
}

/// A scope choice on the New Connected App form.
pub struct ScopeChoice {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

/// The New Connected App form's values (kept when the form comes back with an error).
#[derive(Default)]
pub struct NewAppForm {
    pub name: String,
    pub api_name: String,
    pub contact_email: String,
    pub oauth_enabled: bool,
    pub callback_urls: String,
    pub digital_signatures: bool,
    pub require_secret_web: bool,
    pub require_secret_refresh: bool,
    pub require_pkce: bool,
    pub introspect_all_tokens: bool,
}

#[derive(Template)]
#[template(path = "setup/new_app.html")]
pub struct NewAppPage {
    pub chrome: Chrome,
    pub form: NewAppForm,
    pub scopes: Vec<ScopeChoice>,
    pub errors: Vec<String>,
    pub blocked: Option<String>,
}

#[derive(Template)]
#[template(path = "setup/app.html")]
pub struct AppPage {
    pub chrome: Chrome,
    pub app: ConnectedApp,
    pub scopes: Vec<String>,
    pub certificate: Option<String>,
    pub session_timeout: String,
    pub refresh_policy: String,
}

/// Salesforce's words for a scope in the scope picker.
pub fn scope_label(scope: Scope) -> String {
    let words = match scope {
        Scope::Api => "Manage user data via APIs",
        Scope::Web => "Manage user data via Web browsers",
        Scope::Full => "Full access",
        Scope::RefreshToken | Scope::OfflineAccess => {
            return "Perform requests at any time (refresh_token, offline_access)".to_owned();
        }
        Scope::OpenId => "Access unique user identifiers",
        Scope::Id => "Access the identity URL service",
        Scope::Profile => "Access your basic profile information",
        Scope::Email => "Access your e-mail address",
        Scope::Address => "Access your address",
        Scope::Phone => "Access your phone number",
        Scope::ChatterApi => "Access Chatter REST API resources",
        Scope::Visualforce => "Access Visualforce applications",
        Scope::CustomPermissions => "Access custom permissions",
        Scope::Lightning => "Access Lightning applications",
        Scope::Content => "Access content resources",
    };
    format!("{words} ({})", scope.as_str())
}

/// Picker choices: the scopes people pick in the guide, each in plain words.
fn scope_choices(selected: &[Scope]) -> Vec<ScopeChoice> {
    Scope::ALL
        .iter()
        .filter(|s| **s != Scope::OfflineAccess)
        .map(|s| ScopeChoice {
            value: s.as_str(),
            label: scope_label(*s),
            checked: selected.contains(s),
        })
        .collect()
}

/// Loads the app of a path id, or answers 404.
pub async fn load_app(
    state: &AppState,
    chrome: Chrome,
    id: &str,
) -> Result<ConnectedApp, Response> {
    let found = match SfId::parse(id) {
        Ok(id) => state
            .store_call(move |s| s.app_by_id(&id))
            .await
            .map_err(internal)?,
        Err(_) => None,
    };
    found.ok_or_else(|| {
        page(
            StatusCode::NOT_FOUND,
            &super::history::NotFoundPage {
                chrome,
                what: "connected app",
            },
        )
    })
}

/// `GET /setup/apps`.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let guard = match Guard::admin(&state, &headers, "/setup/apps").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let apps = match state.store_call(|s| s.list_apps()).await {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let apps = apps
        .into_iter()
        .map(|a| AppRow {
            id: a.id.to_string(),
            name: a.name,
            api_name: a.api_name,
            consumer_key: a.consumer_key,
            contact_email: a.contact_email,
            oauth_enabled: a.oauth_enabled,
            built_in: a.built_in,
            updated: super::format_time(a.updated_at),
        })
        .collect();
    page(
        StatusCode::OK,
        &AppsPage {
            creation_allowed: guard.org.allows_app_creation(),
            chrome: guard.chrome("apps", None),
            apps,
        },
    )
}

fn blocked_message(guard: &Guard) -> Option<String> {
    if !guard.org.connected_apps_permission {
        Some("Connected app creation is not available in this org: the Connected Apps permission must be enabled by Customer Support first.".to_owned())
    } else if !guard.org.allow_connected_app_creation {
        Some("Connected app creation is turned off. Turn on \u{201c}Allow creation of connected apps\u{201d} in External Client App Settings.".to_owned())
    } else {
        None
    }
}

/// `GET /setup/apps/new`.
pub async fn new_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let guard = match Guard::admin(&state, &headers, "/setup/apps/new").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        &NewAppPage {
            blocked: blocked_message(&guard),
            form: NewAppForm {
                contact_email: guard.user.email.clone(),
                require_secret_web: true,
                ..NewAppForm::default()
            },
            chrome: guard.chrome("new-app", None),
            scopes: scope_choices(&[]),
            errors: Vec::new(),
        },
    )
}

/// `POST /setup/apps/new` (multipart: the certificate is a file).
pub async fn create(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match Guard::admin(&state, &form.headers, "/setup/apps/new").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let p = &form.params;
    let on = |k: &str| p.get(k) == Some("on");
    let values = NewAppForm {
        name: p.get("name").unwrap_or_default().trim().to_owned(),
        api_name: p.get("api_name").unwrap_or_default().trim().to_owned(),
        contact_email: p.get("contact_email").unwrap_or_default().trim().to_owned(),
        oauth_enabled: on("oauth_enabled"),
        callback_urls: p.get("callback_urls").unwrap_or_default().to_owned(),
        digital_signatures: on("digital_signatures"),
        require_secret_web: on("require_secret_web"),
        require_secret_refresh: on("require_secret_refresh"),
        require_pkce: on("require_pkce"),
        introspect_all_tokens: on("introspect_all_tokens"),
    };
    let mut errors = Vec::new();
    let mut scopes = Vec::new();
    for (k, v) in p.pairs() {
        if k == "scope" {
            match Scope::parse(v) {
                Ok(s) if !scopes.contains(&s) => scopes.push(s),
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    if values.name.is_empty() {
        errors.push("Connected App Name: enter a name.".to_owned());
    }
    if values.contact_email.is_empty() {
        errors.push("Contact Email: enter an e-mail address.".to_owned());
    }
    let callbacks: Vec<String> = values
        .callback_urls
        .split(['\n', '\r', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if values.oauth_enabled {
        if callbacks.is_empty() {
            errors.push("Callback URL: enter at least one callback URL.".to_owned());
        }
        if scopes.is_empty() {
            errors.push("Selected OAuth Scopes: add at least one scope.".to_owned());
        }
    }
    let certificate_pem = match p.get("certificate").map(str::trim) {
        Some(pem) if values.digital_signatures && !pem.is_empty() => {
            match certificate::parse_pem(pem) {
                Ok(_) => Some(pem.to_owned()),
                Err(e) => {
                    errors.push(format!("Use digital signatures: {e}"));
                    None
                }
            }
        }
        _ if values.digital_signatures => {
            errors.push(
                "Use digital signatures: choose the certificate file (e.g. server.crt).".to_owned(),
            );
            None
        }
        _ => None,
    };
    let again = |guard: &Guard, values: NewAppForm, scopes: &[Scope], errors: Vec<String>| {
        page(
            StatusCode::BAD_REQUEST,
            &NewAppPage {
                blocked: blocked_message(guard),
                chrome: guard.chrome("new-app", None),
                form: values,
                scopes: scope_choices(scopes),
                errors,
            },
        )
    };
    if !errors.is_empty() {
        return again(&guard, values, &scopes, errors);
    }
    let mut app = NewApp::new(
        values.name.clone(),
        values.contact_email.clone(),
        callbacks,
        scopes.clone(),
        state.now(),
    );
    app.api_name = Some(values.api_name.clone()).filter(|a| !a.is_empty());
    app.certificate_pem = certificate_pem;
    app.require_secret_web = values.require_secret_web;
    app.require_secret_refresh = values.require_secret_refresh;
    app.require_pkce = values.require_pkce;
    app.introspect_all_tokens = values.introspect_all_tokens;
    let oauth_enabled = values.oauth_enabled;
    let now = state.now();
    let created = state
        .store_call(move |s| {
            let (app, _secret) = s.create_app(&app)?;
            if oauth_enabled {
                return Ok(app);
            }
            let off = AppUpdate {
                oauth_enabled: Some(false),
                updated_at: now,
                ..AppUpdate::default()
            };
            s.update_app(&app.api_name, &off)
        })
        .await;
    match created {
        Ok(app) => see_other(&format!("/setup/apps/{}?notice=app-created", app.id)),
        Err(
            e @ (StoreError::Invalid { .. }
            | StoreError::DuplicateApp(_)
            | StoreError::AppCreationBlocked(_)),
        ) => {
            let message = match e {
                StoreError::AppCreationBlocked(_) => blocked_message(&guard)
                    .unwrap_or_else(|| "Connected app creation is not allowed.".to_owned()),
                other => other.to_string(),
            };
            again(&guard, values, &scopes, vec![message])
        }
        Err(e) => internal(e),
    }
}

/// Words for a session timeout setting.
pub fn timeout_words(minutes: Option<u32>, org_default: u32) -> String {
    match minutes {
        None => format!("Org default ({})", minutes_words(org_default)),
        Some(m) => minutes_words(m),
    }
}

pub fn minutes_words(m: u32) -> String {
    match m {
        1 => "1 minute".to_owned(),
        m if m % 60 == 0 && m >= 60 => {
            let h = m / 60;
            if h == 1 {
                "1 hour".to_owned()
            } else {
                format!("{h} hours")
            }
        }
        m => format!("{m} minutes"),
    }
}

/// `GET /setup/apps/{id}`.
pub async fn view(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let here = format!("/setup/apps/{id}");
    let guard = match Guard::admin(&state, &headers, &here).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let app = match load_app(&state, guard.chrome("apps", None), &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let certificate = app
        .certificate_pem
        .as_deref()
        .map(|pem| match certificate::parse_pem(pem) {
            Ok(info) => format!(
                "{} (valid {} to {})",
                info.subject,
                super::format_time(info.not_before),
                super::format_time(info.not_after)
            ),
            Err(e) => format!("unreadable: {e}"),
        });
    page(
        StatusCode::OK,
        &AppPage {
            scopes: app.scopes.iter().map(|s| scope_label(*s)).collect(),
            session_timeout: timeout_words(
                app.session_timeout_minutes,
                guard.org.session_timeout_minutes,
            ),
            refresh_policy: super::policies::policy_words(app.refresh_policy),
            chrome: guard.chrome("apps", q.notice.as_deref()),
            certificate,
            app,
        },
    )
}

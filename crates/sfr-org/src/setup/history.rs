//! *Login History* (with the reason behind every failure), *Sent Email* (the local outbox) and *Connected Apps
//! OAuth Usage* (revoke a user's tokens for an app).

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sfr_wire::SfId;

use super::policies::Choice;
use super::{Chrome, Guard, SetupMail, internal, page};
use crate::http::params::FormRequest;
use crate::model::Mail;
use crate::state::AppState;

/// How many rows the history pages show.
const SHOWN: u32 = 200;

#[derive(Template)]
#[template(path = "setup/not_found.html")]
pub struct NotFoundPage {
    pub chrome: Chrome,
    pub what: &'static str,
}

/// One Login History row.
pub struct EventRow {
    pub at: String,
    pub username: String,
    pub kind: String,
    pub app: String,
    pub success: bool,
    pub status: String,
    pub reason: String,
    pub source_ip: String,
}

#[derive(Template)]
#[template(path = "setup/login_history.html")]
pub struct LoginHistoryPage {
    pub chrome: Chrome,
    pub events: Vec<EventRow>,
}

/// One sent message.
pub struct MailRow {
    pub at: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "setup/sent_email.html")]
pub struct SentEmailPage {
    pub chrome: Chrome,
    pub delivery: String,
    pub mails: Vec<MailRow>,
}

#[derive(Template)]
#[template(path = "setup/oauth_usage.html")]
pub struct OAuthUsagePage {
    pub chrome: Chrome,
    pub apps: Vec<Choice>,
    pub users: Vec<Choice>,
    pub result: Option<String>,
    pub error: Option<String>,
}

/// `GET /setup/login-history`.
pub async fn login_history(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let guard = match Guard::admin(&state, &headers, "/setup/login-history").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let loaded = state
        .store_call(|s| Ok((s.events(SHOWN)?, s.list_apps()?)))
        .await;
    let (events, apps) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let app_name = |key: &str| {
        apps.iter()
            .find(|a| a.consumer_key == key)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| key.to_owned())
    };
    let events = events
        .into_iter()
        .map(|e| EventRow {
            at: super::format_time(e.at),
            username: e.username.unwrap_or_default(),
            kind: e.kind.as_text(),
            app: e.consumer_key.as_deref().map(app_name).unwrap_or_default(),
            status: if e.success {
                "Success".to_owned()
            } else {
                format!("Failed: {}", e.error_code.as_deref().unwrap_or("error"))
            },
            success: e.success,
            reason: e.reason,
            source_ip: e.source_ip.unwrap_or_default(),
        })
        .collect();
    page(
        StatusCode::OK,
        &LoginHistoryPage {
            chrome: guard.chrome("login-history", None),
            events,
        },
    )
}

/// `GET /setup/sent-email`.
pub async fn sent_email(
    State(state): State<AppState>,
    Extension(SetupMail(mailer)): Extension<SetupMail>,
    headers: HeaderMap,
) -> Response {
    let guard = match Guard::admin(&state, &headers, "/setup/sent-email").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let mails: Vec<Mail> = match state.store_call(|s| s.sent_mail(SHOWN)).await {
        Ok(m) => m,
        Err(e) => return internal(e),
    };
    page(
        StatusCode::OK,
        &SentEmailPage {
            chrome: guard.chrome("sent-email", None),
            delivery: mailer.describe(),
            mails: mails
                .into_iter()
                .map(|m| MailRow {
                    at: super::format_time(m.at),
                    to: m.to,
                    subject: m.subject,
                    body: m.body,
                })
                .collect(),
        },
    )
}

async fn usage_page(
    state: &AppState,
    guard: &Guard,
    status: StatusCode,
    result: Option<String>,
    error: Option<String>,
) -> Response {
    let loaded = state
        .store_call(|s| Ok((s.list_apps()?, s.list_users()?)))
        .await;
    let (apps, users) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    page(
        status,
        &OAuthUsagePage {
            chrome: guard.chrome("oauth-usage", None),
            apps: apps
                .into_iter()
                .map(|a| Choice {
                    value: a.id.to_string(),
                    label: a.name,
                    selected: false,
                })
                .collect(),
            users: users
                .into_iter()
                .map(|u| Choice {
                    label: format!("{} ({})", u.display_name(), u.username),
                    value: u.id.to_string(),
                    selected: false,
                })
                .collect(),
            result,
            error,
        },
    )
}

/// `GET /setup/oauth-usage`.
pub async fn oauth_usage(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match Guard::admin(&state, &headers, "/setup/oauth-usage").await {
        Ok(g) => usage_page(&state, &g, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

/// `POST /setup/oauth-usage`: revokes every token of one user for one app.
pub async fn revoke(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match Guard::admin(&state, &form.headers, "/setup/oauth-usage").await {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let ids = (
        SfId::parse(form.params.get("user").unwrap_or_default()),
        SfId::parse(form.params.get("app").unwrap_or_default()),
    );
    let (Ok(user), Ok(app)) = ids else {
        return usage_page(
            &state,
            &guard,
            StatusCode::BAD_REQUEST,
            None,
            Some("Choose a user and a connected app.".to_owned()),
        )
        .await;
    };
    let now = state.now();
    let done = state
        .store_call(move |s| {
            let u = s.user_by_id(&user)?;
            let a = s.app_by_id(&app)?;
            match (u, a) {
                (Some(u), Some(a)) => {
                    let n = s.revoke_user_app_tokens(&u.id, &a.id, now)?;
                    Ok(Some((u.username, a.name, n)))
                }
                _ => Ok(None),
            }
        })
        .await;
    match done {
        Ok(Some((username, app, n))) => {
            let result = format!(
                "Revoked every session of {username} for {app}, and {n} refresh token{}.",
                if n == 1 { "" } else { "s" }
            );
            usage_page(&state, &guard, StatusCode::OK, Some(result), None).await
        }
        Ok(None) => {
            usage_page(
                &state,
                &guard,
                StatusCode::BAD_REQUEST,
                None,
                Some("That user or app does not exist.".to_owned()),
            )
            .await
        }
        Err(e) => internal(e),
    }
}

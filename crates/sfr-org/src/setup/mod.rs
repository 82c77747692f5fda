//! Setup: the pages a System Administrator uses to prepare the org for the CLI — Quick Find, External Client Apps
//! settings, App Manager and New Connected App, Manage Consumer Details (behind an e-mailed code), policies and
//! pre-authorization, users, permission sets, login history, OAuth usage and the local Sent Email outbox.
//!
//! Plain server-rendered HTML (askama escapes every value); every form carries the session's CSRF token; the
//! login session is the same sealed cookie the authorize flow uses. Only the Copy buttons use script.

pub mod apps;
pub mod auth;
pub mod chrome;
pub mod consumer;
pub mod history;
pub mod home;
pub mod permission_sets;
pub mod policies;
pub mod settings;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::mail::Mailer;
use crate::state::AppState;

pub use chrome::{Chrome, Guard, Nav};

/// Path of the Copy-button script.
pub const SCRIPT_PATH: &str = "/static/setup.js";
const SCRIPT: &str = include_str!("../../templates/setup/setup.js");
/// Setup pages may run our own script (the Copy buttons) and nothing else.
pub const SETUP_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                             frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The mailer Setup sends verification codes with.
#[derive(Clone)]
pub struct SetupMail(pub Arc<dyn Mailer>);

/// Every Setup route, with the mailer the environment configures (SMTP or the local outbox).
pub fn routes(state: &AppState) -> Router<AppState> {
    let mailer = crate::mail::from_env(Arc::clone(&state.store));
    routes_with(mailer)
}

/// Every Setup route, sending mail through `mailer`.
pub fn routes_with(mailer: Arc<dyn Mailer>) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/setup") }))
        .route(SCRIPT_PATH, get(script))
        .route("/setup", get(home::home))
        .route("/setup/", get(home::home))
        .route("/setup/quick-find", get(home::quick_find))
        .route("/setup/login", get(auth::login_form).post(auth::login))
        .route("/setup/logout", post(auth::logout))
        .route(
            "/setup/external-client-apps/settings",
            get(settings::show).post(settings::save),
        )
        .route("/setup/apps", get(apps::list))
        .route("/setup/apps/new", get(apps::new_form).post(apps::create))
        .route("/setup/apps/{id}", get(apps::view))
        .route("/setup/apps/{id}/consumer", post(consumer::send_code))
        .route("/setup/apps/{id}/consumer/verify", post(consumer::verify))
        .route("/setup/apps/{id}/manage", get(policies::manage))
        .route(
            "/setup/apps/{id}/policies",
            get(policies::edit_form).post(policies::save),
        )
        .route(
            "/setup/apps/{id}/profiles",
            get(policies::profiles_form).post(policies::save_profiles),
        )
        .route(
            "/setup/apps/{id}/permission-sets",
            get(policies::permission_sets_form).post(policies::save_permission_sets),
        )
        .route("/setup/users", get(users::list).post(users::create))
        .route("/setup/users/{id}", get(users::view).post(users::update))
        .route(
            "/setup/permission-sets",
            get(permission_sets::list).post(permission_sets::create),
        )
        .route(
            "/setup/permission-sets/assign",
            post(permission_sets::assign),
        )
        .route("/setup/login-history", get(history::login_history))
        .route("/setup/sent-email", get(history::sent_email))
        .route(
            "/setup/oauth-usage",
            get(history::oauth_usage).post(history::revoke),
        )
        .layer(axum::Extension(SetupMail(mailer)))
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript;charset=UTF-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// Renders a Setup template with the Setup content-security policy.
pub fn page(status: StatusCode, template: &impl askama::Template) -> Response {
    let mut resp = crate::pages::html(status, template);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SETUP_CSP),
    );
    resp
}

/// `303 See Other` to a Setup path (after a successful form post).
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => (StatusCode::SEE_OTHER, [(header::LOCATION, "/setup")]).into_response(),
    }
}

/// A failure inside the server, as a page (the details go to the log only).
pub fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "setup page failed inside the server");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
        "Something went wrong inside the org. The server log has the details.",
    )
        .into_response()
}

/// Formats ms since the epoch as `2026-11-29 09:30:12 UTC`.
pub fn format_time(ms: i64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_text() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
    }
}

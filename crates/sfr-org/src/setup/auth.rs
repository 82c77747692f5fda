//! The Setup login (`/setup/login`): the same form, messages and lockout as the authorize flow's login page, and
//! the same sealed session cookie; plus logout.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::{internal, page, see_other};
use crate::http::params::FormRequest;
use crate::keys;
use crate::model::{LockState, LoginKind, User};
use crate::oauth::{Trace, record};
use crate::pages::session::{self, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Session};
use crate::pages::{BAD_CREDENTIALS, LOCKED_OUT, STALE_FORM};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "setup/login.html")]
pub struct SetupLoginPage<'a> {
    pub org_name: &'a str,
    pub error: Option<&'a str>,
    pub username: &'a str,
    pub csrf: &'a str,
    pub next: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only Setup paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/setup")
                && !n.starts_with("//")
                && !n.contains(['\\', '\r', '\n']) =>
        {
            n
        }
        _ => "/setup",
    }
}

fn secure(state: &AppState) -> bool {
    state.config.base_url.starts_with("https://")
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    org_name: &str,
    error: Option<&str>,
    username: &str,
    next: &str,
) -> Response {
    let csrf = session::cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| {
            t.len() == 43
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(session::random_token);
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut resp = page(
        status,
        &SetupLoginPage {
            org_name,
            error,
            username,
            csrf: &csrf,
            next,
        },
    );
    let cookie = session::set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, secure(state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /setup/login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let org = match state.store_call(|s| s.org()).await {
        Ok(o) => o,
        Err(e) => return internal(e),
    };
    login_page(
        &state,
        &headers,
        &org.name,
        None,
        "",
        safe_next(q.next.as_deref()),
    )
}

/// A fixed Argon2id hash verified against when the username is unknown, so both paths cost the same.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| keys::hash_password("sfr-org setup timing equaliser").unwrap_or_default())
}

/// `POST /setup/login`.
pub async fn login(State(state): State<AppState>, form: FormRequest) -> Response {
    let p = &form.params;
    let org = match state.store_call(|s| s.org()).await {
        Ok(o) => o,
        Err(e) => return internal(e),
    };
    let next = safe_next(p.get("next")).to_owned();
    let username = p.get("username").unwrap_or_default().trim().to_owned();
    let mut trace = Trace {
        source_ip: form.source_ip.clone(),
        username: Some(username.clone()).filter(|u| !u.is_empty()),
        ..Trace::default()
    };
    let again = |message: &str| {
        login_page(
            &state,
            &form.headers,
            &org.name,
            Some(message),
            &username,
            &next,
        )
    };
    let expected = session::cookie(&form.headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !session::csrf_matches(&expected, p.get("sfr_csrf")) {
        record(
            &state,
            &trace,
            LoginKind::UiLogin,
            Err((
                "invalid_request",
                "Setup login form CSRF token missing or wrong",
            )),
        )
        .await;
        return again(STALE_FORM);
    }
    let password = p.get("password").unwrap_or_default().to_owned();
    let now = state.now();
    let found = {
        let u = username.clone();
        state.store_call(move |s| s.user_by_username(&u)).await
    };
    let user: User = match found {
        Err(e) => return internal(e),
        Ok(Some(u)) => u,
        Ok(None) => {
            let _ =
                tokio::task::spawn_blocking(move || keys::verify_password(&password, dummy_hash()))
                    .await;
            let reason = format!("Setup login: no user named {username:?}");
            record(
                &state,
                &trace,
                LoginKind::UiLogin,
                Err(("invalid_grant", &reason)),
            )
            .await;
            return again(BAD_CREDENTIALS);
        }
    };
    trace.user(&user);
    if user.is_locked(now) {
        let reason = format!(
            "Setup login: user locked out until {}",
            super::format_time(user.locked_until.unwrap_or_default())
        );
        record(
            &state,
            &trace,
            LoginKind::UiLogin,
            Err((sfr_wire::OAuthError::UserLocked.code(), &reason)),
        )
        .await;
        return again(LOCKED_OUT);
    }
    let hash = user.password_hash.clone();
    let password_ok = tokio::task::spawn_blocking(move || keys::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    if !password_ok {
        let id = user.id.clone();
        let lock = match state
            .store_call(move |s| s.record_failed_login(&id, now))
            .await
        {
            Ok(l) => l,
            Err(e) => return internal(e),
        };
        let (reason, message) = match lock {
            LockState::Open {
                failures,
                remaining,
            } => (
                format!(
                    "Setup login: wrong password ({failures} failures in a row, {remaining} before lockout)"
                ),
                BAD_CREDENTIALS,
            ),
            LockState::Locked { until } => (
                format!(
                    "Setup login: wrong password; user now locked out until {}",
                    super::format_time(until)
                ),
                LOCKED_OUT,
            ),
        };
        record(
            &state,
            &trace,
            LoginKind::UiLogin,
            Err(("invalid_grant", &reason)),
        )
        .await;
        return again(message);
    }
    if !user.active {
        record(
            &state,
            &trace,
            LoginKind::UiLogin,
            Err((
                sfr_wire::OAuthError::InactiveUser.code(),
                "Setup login: correct password for a deactivated user",
            )),
        )
        .await;
        return again(BAD_CREDENTIALS);
    }
    let id = user.id.clone();
    if let Err(e) = state
        .store_call(move |s| s.record_successful_login(&id, now))
        .await
    {
        return internal(e);
    }
    record(
        &state,
        &trace,
        LoginKind::UiLogin,
        Ok("Setup login: password accepted"),
    )
    .await;
    let session = Session {
        user_id: user.id.to_string(),
        login_ms: now,
        csrf: session::random_token(),
    };
    let Some(sealed) = session::seal(&state.keys, &session) else {
        return internal("could not seal the session");
    };
    let cookie = session::set_cookie(
        SESSION_COOKIE,
        &sealed,
        org.session_timeout_ms() / 1000,
        secure(&state),
    );
    let mut resp = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /setup/logout`: ends the session (CSRF-checked, so another site cannot log the admin out).
pub async fn logout(State(state): State<AppState>, form: FormRequest) -> Response {
    let guard = match super::Guard::admin(&state, &form.headers, "/setup").await {
        Ok(g) => g,
        Err(resp) => return resp,
    };
    if !guard.csrf_ok(form.params.get("sfr_csrf")) {
        return super::chrome::forbidden_form();
    }
    let mut resp = see_other("/setup/login");
    let cookie = session::set_cookie(SESSION_COOKIE, "", 0, secure(&state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_setup_paths_are_followed() {
        assert_eq!(safe_next(Some("/setup/apps")), "/setup/apps");
        assert_eq!(safe_next(Some("https://evil.example")), "/setup");
        assert_eq!(safe_next(Some("//evil.example/setup")), "/setup");
        assert_eq!(safe_next(Some("/setup\\..")), "/setup");
        assert_eq!(safe_next(None), "/setup");
    }
}

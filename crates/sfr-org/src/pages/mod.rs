//! Server-rendered pages of the authorize flow (login, approve/deny, error) and their stylesheet. Templates live in
//! `templates/`; askama escapes every value.

pub mod session;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The stylesheet, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("../../templates/sfr.css");
pub const STYLESHEET_PATH: &str = "/static/sfr.css";

/// Salesforce's wording for a failed login; it never says which of username or password was wrong.
pub const BAD_CREDENTIALS: &str = "Please check your username and password. If you still can't log in, contact your Salesforce administrator.";
/// Shown while the account is locked out after too many failed logins.
pub const LOCKED_OUT: &str = "Your login attempt has failed. Your account is locked after too many failed login attempts. Try again later or contact your Salesforce administrator.";
/// Shown when the login form was stale or forged.
pub const STALE_FORM: &str = "Your login page expired. Please log in again.";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub org_name: &'a str,
    pub app_name: &'a str,
    pub error: Option<&'a str>,
    pub username: &'a str,
    pub csrf: &'a str,
    pub hidden: &'a [(String, String)],
}

#[derive(Template)]
#[template(path = "approve.html")]
pub struct ApprovePage<'a> {
    pub org_name: &'a str,
    pub app_name: &'a str,
    pub username: &'a str,
    pub scopes: &'a [String],
    pub csrf: &'a str,
    pub hidden: &'a [(String, String)],
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub org_name: &'a str,
    pub heading: &'a str,
    pub detail: &'a str,
    /// The url-encoded `error=…&error_description=…` text tools look for.
    pub wire: &'a str,
}

/// Renders a template as an HTML response.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
            body,
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response(),
    }
}

/// `GET /static/sfr.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css;charset=UTF-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The error page for an OAuth error shown in the browser (no redirect): the body carries the url-encoded
/// `error=…&error_description=…` string Salesforce shows.
pub fn oauth_error_page(org_name: &str, err: sfr_wire::OAuthError, detail: &str) -> Response {
    let wire = sfr_wire::encoding::stringify([
        ("error", err.code()),
        ("error_description", err.description()),
    ]);
    html(
        StatusCode::BAD_REQUEST,
        &ErrorPage {
            org_name,
            heading: "Authorization Error",
            detail,
            wire: &wire,
        },
    )
}

/// Plain-word descriptions of scopes for the approve page.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "api" => "Manage user data via APIs (api)".to_owned(),
        "web" => "Manage user data via Web browsers (web)".to_owned(),
        "refresh_token" | "offline_access" => {
            "Perform requests at any time (refresh_token, offline_access)".to_owned()
        }
        "full" => "Full access (full)".to_owned(),
        "openid" => "Access unique user identifiers (openid)".to_owned(),
        "id" | "profile" | "email" | "address" | "phone" => {
            format!("Access the identity URL service ({scope})")
        }
        other => format!("Access {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        let hidden = vec![("state".to_owned(), "\"><script>x</script>".to_owned())];
        let body = LoginPage {
            org_name: "Org <b>",
            app_name: "App & Co",
            error: Some(BAD_CREDENTIALS),
            username: "u@example.com",
            csrf: "tok",
            hidden: &hidden,
        }
        .render()
        .unwrap();
        assert!(!body.contains("<script>x"));
        assert!(body.contains("App &#38; Co") || body.contains("App &amp; Co"));
        assert!(body.contains(BAD_CREDENTIALS.split('\'').next().unwrap()));
        assert!(body.contains(r#"name="sfr_csrf" value="tok""#));
    }

    #[test]
    fn approve_lists_scopes_and_both_buttons() {
        let scopes = vec![describe_scope("api"), describe_scope("refresh_token")];
        let body = ApprovePage {
            org_name: "Org",
            app_name: "Demo",
            username: "u@example.com",
            scopes: &scopes,
            csrf: "c",
            hidden: &[],
        }
        .render()
        .unwrap();
        assert!(body.contains("Manage user data via APIs (api)"));
        assert!(body.contains(r#"value="approve""#));
        assert!(body.contains(r#"value="deny""#));
    }

    #[test]
    fn error_page_shows_the_wire_string() {
        let resp = oauth_error_page("Org", sfr_wire::OAuthError::InvalidClientId, "No such app");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }
}

//! HTTP plumbing: the router, request parameter extraction, client authentication, bearer tokens, limits and
//! security headers.

pub mod bearer;
pub mod client_auth;
pub mod middleware;
pub mod params;
pub mod rate_limit;
pub mod reply;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::oauth;
use crate::rest;
use crate::state::AppState;

/// Every route of the org, with limits, timeouts and security headers applied (default rate limits).
pub fn router(state: AppState) -> Router {
    router_with_limits(state, rate_limit::RateLimits::default())
}

/// [`router`] with the token endpoint's rate limits given (counted on this node only: nothing flushes them).
pub fn router_with_limits(state: AppState, limits: rate_limit::RateLimits) -> Router {
    router_with_limiter(state, rate_limit::TokenRateLimiter::new(limits))
}

/// [`router`] with the token endpoint's limiter given; `rate_limit::sync_loop` shares its counts with other nodes.
pub fn router_with_limiter(state: AppState, limiter: Arc<rate_limit::TokenRateLimiter>) -> Router {
    let usage = Arc::new(rest::data::ApiUsage::default());
    Router::new()
        .route(
            "/services/oauth2/authorize",
            get(oauth::authorize::authorize).post(oauth::authorize::authorize),
        )
        .route(
            "/services/oauth2/token",
            // Its own state rather than a middleware layer: the handler checks the limits once it read the form,
            // where a layer cost each grant a clone of the route, a boxed future and the request taken apart
            // and put back together (about 2.5 % of a client_credentials grant's instructions).
            post(oauth::token::token).with_state(oauth::token::TokenEndpoint {
                org: state.clone(),
                limiter,
            }),
        )
        .route(
            "/services/oauth2/revoke",
            get(oauth::revoke::revoke).post(oauth::revoke::revoke),
        )
        .route(
            "/services/oauth2/introspect",
            post(oauth::introspect::introspect),
        )
        .route(
            "/services/oauth2/userinfo",
            get(oauth::identity::userinfo).post(oauth::identity::userinfo),
        )
        .route("/services/oauth2/success", get(success))
        .route("/id/keys", get(oauth::keys::jwks))
        .route(
            "/id/{org}/{user}",
            get(oauth::identity::identity).post(oauth::identity::identity),
        )
        .route(
            "/.well-known/openid-configuration",
            get(oauth::discovery::openid_configuration),
        )
        .route(
            "/.well-known/auth-configuration",
            get(oauth::discovery::auth_configuration),
        )
        .route(crate::pages::STYLESHEET_PATH, get(crate::pages::stylesheet))
        .route("/services/data", get(rest::data::list_versions))
        .route("/services/data/", get(rest::data::list_versions))
        .route("/services/data/{*path}", get(rest::data::data))
        .merge(crate::setup::routes(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::Extension(usage))
        .layer(axum::middleware::from_fn(middleware::protect))
        .with_state(state)
}

async fn not_found() -> Response {
    reply::rest_error(StatusCode::NOT_FOUND, sfr_wire::RestError::not_found())
}

/// 405 with the catalogue's `invalid_request` body (e.g. `GET /services/oauth2/token`).
async fn method_not_allowed() -> Response {
    let mut resp = reply::oauth_error(sfr_wire::OAuthError::InvalidRequest);
    *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    resp
}

/// The Salesforce-hosted callback page for desktop and mobile apps; clients read the code from its URL.
async fn success() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Remote Access Application Authorization</title><link rel=\"stylesheet\" href=\"/static/sfr.css\"></head><body><main class=\"card\"><h1>Remote Access Application Authorization</h1><p>You may close this window.</p></main></body></html>",
    )
        .into_response()
}

//! `GET /id/keys`: the JWKS holding the ID-token signing key (same `kid` as the tokens' header).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::discovery::cors;
use super::server_error;
use crate::http::reply;
use crate::state::AppState;

pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.signing_key.public_jwk() {
        Ok(jwk) => cors(reply::json(StatusCode::OK, &json!({ "keys": [jwk] }))),
        Err(e) => {
            tracing::error!(error = %e, "signing key unusable");
            server_error()
        }
    }
}

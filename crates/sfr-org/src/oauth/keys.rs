//! `GET /id/keys`: the JWKS holding the ID-token signing keys (same `kid` as the tokens' header).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::discovery::cors;
use super::server_error;
use crate::http::reply;
use crate::state::AppState;

/// Publishes every key the store says to (the signing key, the next key of a rotation, recently replaced ones),
/// read per request so all nodes publish the same set; the key loaded at start-up if the store has none.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let now = state.now();
    let keys = match state.store_call(move |s| s.signing_keys(now)).await {
        Ok(Some(keys)) => keys.published,
        Ok(None) => vec![(*state.signing_key).clone()],
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            return server_error();
        }
    };
    match keys
        .iter()
        .map(|k| k.public_jwk())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(jwks) => cors(reply::json(StatusCode::OK, &json!({ "keys": jwks }))),
        Err(e) => {
            tracing::error!(error = %e, "signing key unusable");
            server_error()
        }
    }
}

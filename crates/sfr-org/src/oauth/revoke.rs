//! `POST /services/oauth2/revoke` (form `token=`) and `GET …/revoke?token=`: 200 with an empty body when a token
//! was revoked (a refresh token takes its sessions with it), 400 `invalid_token` otherwise.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sfr_wire::OAuthError;

use super::{Trace, record, server_error};
use crate::http::params::FormRequest;
use crate::http::reply;
use crate::keys;
use crate::model::{LoginKind, Revoked};
use crate::state::AppState;

pub async fn revoke(State(state): State<AppState>, form: FormRequest) -> Response {
    let trace = Trace {
        source_ip: form.source_ip.clone(),
        consumer_key: form.params.owned("client_id"),
        ..Trace::default()
    };
    let Some(token) = form.params.owned("token") else {
        record(
            &state,
            &trace,
            LoginKind::Revoke,
            Err((OAuthError::InvalidToken.code(), "no token parameter")),
        )
        .await;
        return reply::oauth_error(OAuthError::InvalidToken);
    };
    let hash = keys::token_key(&token);
    let now = state.now();
    match state
        .store_call(move |s| s.revoke_by_hash(&hash, now))
        .await
    {
        Ok(Revoked::None) => {
            record(
                &state,
                &trace,
                LoginKind::Revoke,
                Err((
                    OAuthError::InvalidToken.code(),
                    "unknown or already revoked token",
                )),
            )
            .await;
            reply::oauth_error(OAuthError::InvalidToken)
        }
        Ok(kind) => {
            let what = if kind == Revoked::Refresh {
                "revoked a refresh token and its sessions"
            } else {
                "revoked an access token"
            };
            record(&state, &trace, LoginKind::Revoke, Ok(what)).await;
            (StatusCode::OK, [(header::CACHE_CONTROL, reply::NO_STORE)]).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "revoke failed");
            server_error()
        }
    }
}

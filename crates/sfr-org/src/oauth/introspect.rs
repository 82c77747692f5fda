//! `POST /services/oauth2/introspect`: the calling app authenticates (body or Basic); it learns about its own
//! tokens only, or about every app's with "Introspect All Tokens". Anything unknown, dead or not the caller's to
//! see is `{"active":false}` with 200.

use std::borrow::Cow;

use axum::extract::State;
use axum::response::Response;
use serde_json::json;
use sfr_wire::{OAuthError, SfId};

use super::{Failure, Trace, record, record_failure, refuse, server_error};
use crate::http::client_auth;
use crate::http::params::FormRequest;
use crate::http::reply;
use crate::keys;
use crate::model::{ConnectedApp, GrantLookup, GrantUser, LoginKind, Scope};
use crate::policy;
use crate::state::AppState;
use crate::store::StoreError;

pub async fn introspect(State(state): State<AppState>, form: FormRequest) -> Response {
    let mut trace = Trace {
        source_ip: form.source_ip.clone(),
        ..Trace::default()
    };
    let app = match authenticate_client(&state, &form, &mut trace).await {
        Ok(app) => app,
        Err(failure) => {
            return match record_failure(&state, &trace, LoginKind::Introspect, &failure).await {
                Ok(wire) => reply::oauth_error(wire),
                Err(()) => server_error(),
            };
        }
    };
    let token = form.params.owned("token").unwrap_or_default();
    match describe(&state, &app, &token).await {
        Ok(body) => {
            let active = body["active"] == true;
            record(
                &state,
                &trace,
                LoginKind::Introspect,
                Ok(if active {
                    "token active"
                } else {
                    "token inactive"
                }),
            )
            .await;
            reply::json_no_store(&body)
        }
        Err(e) => {
            tracing::error!(error = %e, "introspect failed");
            server_error()
        }
    }
}

async fn authenticate_client(
    state: &AppState,
    form: &FormRequest,
    trace: &mut Trace,
) -> Result<ConnectedApp, Failure> {
    let creds = match client_auth::resolve(&form.headers, &form.params) {
        Ok(c) => c,
        Err(e) => {
            return refuse(
                OAuthError::InvalidClientCredentials,
                format!("unreadable Authorization header: {e}"),
            );
        }
    };
    trace.consumer_key = creds.client_id.clone();
    let Some(key) = creds.client_id.clone() else {
        return refuse(OAuthError::InvalidClientId, "client_id missing");
    };
    // The app and its secret as a grant reads them (`Store::grant_facts`: from memory between changes).
    let lookup = GrantLookup {
        consumer_key: key,
        user: GrantUser::Unknown,
        secret: true,
        approval: false,
    };
    let facts = state.read(move |s| s.grant_facts(&lookup)).await?;
    let (Some(app), Some(secret)) = (facts.app, facts.secret) else {
        return refuse(OAuthError::InvalidClientId, "no app with this consumer key");
    };
    policy::check_secret(
        true,
        creds.client_secret.as_deref(),
        &secret,
        "introspection",
    )?;
    Ok(app)
}

async fn describe(
    state: &AppState,
    app: &ConnectedApp,
    token: &str,
) -> Result<serde_json::Value, StoreError> {
    let inactive = json!({"active": false});
    if token.is_empty() {
        return Ok(inactive);
    }
    let hash = keys::token_key(token);
    let now = state.now();
    // The access token and its user in one read on the store's writer (`AppState::session`): on SQLite a
    // reader connection re-reads its pages whenever the writer has committed since its last read, which under
    // load is always.
    let (token_type, owner, user, scopes, iat, exp) =
        if let Some(session) = state.session(hash.clone()).await? {
            let t = session.token;
            let Some(owner) = owner(state, app, &t.app_id).await? else {
                return Ok(inactive);
            };
            if !t.is_alive(now) {
                return Ok(inactive);
            }
            let exp = t.expires_at();
            (
                "access_token",
                owner,
                session.user,
                t.scopes,
                t.issued_at,
                Some(exp),
            )
        } else {
            let Some(r) = state.refresh_token(hash).await? else {
                return Ok(inactive);
            };
            let Some(owner) = owner(state, app, &r.app_id).await? else {
                return Ok(inactive);
            };
            // The refresh token lives by its own app's policy, whoever asks.
            let policy = owner.refresh_policy;
            if r.revoked_at.is_some()
                || policy::refresh_token_alive(policy, r.issued_at, r.last_used_at, now).is_err()
            {
                return Ok(inactive);
            }
            let exp = policy.expires_at(r.issued_at, r.last_used_at.max(r.issued_at));
            let uid = r.user_id.clone();
            let user = state.read(move |s| s.user_by_id(&uid)).await?;
            ("refresh_token", owner, user, r.scopes, r.issued_at, exp)
        };
    let Some(user) = user.filter(|u| u.active) else {
        return Ok(inactive);
    };
    let mut body = json!({
        "active": true,
        "scope": Scope::join(&scopes),
        "client_id": owner.consumer_key,
        "username": user.username,
        "sub": state.config.identity_url(&user.id),
        "token_type": token_type,
        "iat": iat / 1000,
        "nbf": iat / 1000,
    });
    if let (Some(exp), Some(map)) = (exp, body.as_object_mut()) {
        map.insert("exp".to_owned(), json!(exp / 1000));
    }
    Ok(body)
}

/// The app that issued a token, if the asking `app` may learn about it: itself, or, when it has "Introspect
/// All Tokens", any app. `None`: not this app's to see (answered `{"active":false}`, like an unknown token).
async fn owner<'a>(
    state: &AppState,
    app: &'a ConnectedApp,
    token_app: &SfId,
) -> Result<Option<Cow<'a, ConnectedApp>>, StoreError> {
    if *token_app == app.id {
        return Ok(Some(Cow::Borrowed(app)));
    }
    if !app.introspect_all_tokens {
        return Ok(None);
    }
    let id = token_app.clone();
    Ok(state.read(move |s| s.app_by_id(&id)).await?.map(Cow::Owned))
}

//! `POST /services/oauth2/introspect`: the calling app authenticates (body or Basic); it learns about its own
//! tokens only, or about every app's with "Introspect All Tokens". Anything unknown, dead or not the caller's to
//! see is `{"active":false}` with 200.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use sfr_wire::{OAuthError, SfId};

use super::{Failure, Trace, login_event_at, record, record_failure, refuse, server_error};
use crate::http::client_auth;
use crate::http::params::FormRequest;
use crate::http::reply;
use crate::keys;
use crate::model::{
    ConnectedApp, GrantLookup, GrantUser, LoginKind, Scope, SessionJudge, StoredSession, User,
};
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
    match describe(&state, &app, &token, &trace).await {
        Ok(body) => reply::json_no_store(&body),
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
) -> Result<Arc<ConnectedApp>, Failure> {
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
    let facts = state.grant_facts(lookup).await?;
    let (Some(app), Some(secret)) = (facts.app, facts.secret) else {
        return refuse(OAuthError::InvalidClientId, "no app with this consumer key");
    };
    policy::check_secret(
        true,
        creds.client_secret.as_deref(),
        secret.as_str(),
        "introspection",
    )?;
    Ok(app)
}

/// Describes a token to `app` and records the introspection in the login history: in the same trip to the store
/// as the read of an access token when the answer is known there (the caller's own token, or another app's it
/// may not see), apart otherwise.
async fn describe(
    state: &AppState,
    app: &ConnectedApp,
    token: &str,
    trace: &Trace,
) -> Result<Value, StoreError> {
    let now = state.now();
    let (body, recorded) = if token.is_empty() {
        (inactive(), false)
    } else {
        let hash = keys::token_key(token);
        let judge: SessionJudge = {
            let (app_id, all, trace) = (app.id.clone(), app.introspect_all_tokens, trace.clone());
            Box::new(move |found| {
                let session = found?;
                let active = if session.token.app_id == app_id {
                    session_active(session, now)
                } else if all {
                    return None; // described once its own app is read, and recorded then
                } else {
                    false
                };
                Some(login_event_at(
                    now,
                    &trace,
                    LoginKind::Introspect,
                    Ok(outcome(active)),
                ))
            })
        };
        // On SQLite the session is read on the store's writer: a reader connection re-reads its pages whenever
        // the writer has committed since its last read, which under load is always.
        match state.session_recorded(hash.clone(), judge).await? {
            (Some(session), recorded) => {
                (describe_session(state, app, session, now).await?, recorded)
            }
            (None, _) => (describe_refresh(state, app, hash, now).await?, false),
        }
    };
    if !recorded {
        let active = body["active"] == true;
        record(state, trace, LoginKind::Introspect, Ok(outcome(active))).await;
    }
    Ok(body)
}

fn inactive() -> Value {
    json!({"active": false})
}

/// The login-history reason of an answer.
fn outcome(active: bool) -> &'static str {
    if active {
        "token active"
    } else {
        "token inactive"
    }
}

/// Whether a session is live: not revoked or idle past its timeout, and its user active.
fn session_active(session: &StoredSession, now: i64) -> bool {
    session.token.is_alive(now) && session.user.as_ref().is_some_and(|u| u.active)
}

async fn describe_session(
    state: &AppState,
    app: &ConnectedApp,
    session: StoredSession,
    now: i64,
) -> Result<Value, StoreError> {
    let Some(owner) = owner(state, app, &session.token.app_id).await? else {
        return Ok(inactive());
    };
    if !session_active(&session, now) {
        return Ok(inactive());
    }
    let (t, Some(user)) = (session.token, session.user) else {
        return Ok(inactive());
    };
    let exp = t.expires_at();
    Ok(active_body(
        state,
        &owner,
        &user,
        ("access_token", &t.scopes, t.issued_at, Some(exp)),
    ))
}

async fn describe_refresh(
    state: &AppState,
    app: &ConnectedApp,
    hash: String,
    now: i64,
) -> Result<Value, StoreError> {
    let Some(r) = state.refresh_token(hash).await? else {
        return Ok(inactive());
    };
    let Some(owner) = owner(state, app, &r.app_id).await? else {
        return Ok(inactive());
    };
    // The refresh token lives by its own app's policy, whoever asks.
    let policy = owner.refresh_policy;
    if r.revoked_at.is_some()
        || policy::refresh_token_alive(policy, r.issued_at, r.last_used_at, now).is_err()
    {
        return Ok(inactive());
    }
    let exp = policy.expires_at(r.issued_at, r.last_used_at.max(r.issued_at));
    let uid = r.user_id.clone();
    let Some(user) = state
        .read(move |s| s.user_by_id(&uid))
        .await?
        .filter(|u| u.active)
    else {
        return Ok(inactive());
    };
    Ok(active_body(
        state,
        &owner,
        &user,
        ("refresh_token", &r.scopes, r.issued_at, exp),
    ))
}

/// The answer for a live token: its type, scopes, issue time and expiry (ms), described as `owner`'s.
fn active_body(
    state: &AppState,
    owner: &ConnectedApp,
    user: &User,
    (token_type, scopes, iat, exp): (&str, &[Scope], i64, Option<i64>),
) -> Value {
    let mut body = json!({
        "active": true,
        "scope": Scope::join(scopes),
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
    body
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

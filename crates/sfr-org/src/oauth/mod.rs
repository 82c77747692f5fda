//! The OAuth endpoints, one module per endpoint, plus what they share: login-history recording, token
//! authentication for resource endpoints, and token issuance.

pub mod authorize;
pub mod certificates;
pub mod discovery;
pub mod grant;
pub mod id_token;
pub mod identity;
pub mod introspect;
pub mod issue;
pub mod keys;
pub mod revoke;
pub mod token;

use axum::http::StatusCode;
use axum::response::Response;
use sfr_wire::SfId;

use crate::model::{AccessToken, LoginEvent, LoginKind, StoredSession, User};
use crate::policy::Refusal;
use crate::state::AppState;
use crate::store::StoreError;

/// Who a request was about, filled in as a handler learns it; recorded with the outcome.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub username: Option<String>,
    pub user_id: Option<SfId>,
    pub consumer_key: Option<String>,
    pub source_ip: Option<String>,
}

impl Trace {
    pub fn user(&mut self, user: &User) {
        self.username = Some(user.username.clone());
        self.user_id = Some(user.id.clone());
    }
}

/// Why a request failed: a refusal with its wire error, or a fault of ours.
#[derive(Debug)]
pub enum Failure {
    Refused(Refusal),
    Internal(String),
    /// Decided on cached facts that a change outdated before the write (`StoreError::FactsChanged`): nothing
    /// was stored; the token endpoint decides the grant again on facts read from the store.
    Outdated,
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::FactsChanged => Self::Outdated,
            e => Self::Internal(e.to_string()),
        }
    }
}

/// Shorthand for a refusal.
pub fn refuse<T>(wire: sfr_wire::OAuthError, reason: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Refused(Refusal::new(wire, reason)))
}

/// The login-history event of one outcome.
pub fn login_event(
    state: &AppState,
    trace: &Trace,
    kind: LoginKind,
    outcome: Result<&str, (&str, &str)>,
) -> LoginEvent {
    login_event_at(state.now(), trace, kind, outcome)
}

/// `login_event` at a time already taken (a decision made away from the state, in a store's transaction).
pub fn login_event_at(
    at: i64,
    trace: &Trace,
    kind: LoginKind,
    outcome: Result<&str, (&str, &str)>,
) -> LoginEvent {
    let (success, error_code, reason) = match outcome {
        Ok(reason) => (true, None, reason.to_owned()),
        Err((code, reason)) => (false, Some(code.to_owned()), reason.to_owned()),
    };
    LoginEvent {
        at,
        username: trace.username.clone(),
        user_id: trace.user_id.clone(),
        consumer_key: trace.consumer_key.clone(),
        kind,
        success,
        error_code,
        reason,
        source_ip: trace.source_ip.clone(),
    }
}

/// Records one login-history event. A failure to record is logged, never shown to the client.
pub async fn record(
    state: &AppState,
    trace: &Trace,
    kind: LoginKind,
    outcome: Result<&str, (&str, &str)>,
) {
    let event = login_event(state, trace, kind, outcome);
    if let Err(e) = state.record_event(event).await {
        tracing::warn!(error = %e, "could not record a login-history event");
    }
}

/// The wire error and the recorded outcome of a failure (`None` on the wire: a fault of ours, answered 500).
fn failure_outcome(failure: &Failure) -> (Option<sfr_wire::OAuthError>, (&str, &str)) {
    match failure {
        Failure::Refused(r) => (Some(r.wire), (r.wire.code(), &r.reason)),
        Failure::Internal(message) => {
            tracing::error!(error = %message, "request failed inside the server");
            (None, ("server_error", message))
        }
        Failure::Outdated => {
            let message = "a grant's facts kept changing while it was decided";
            tracing::error!(error = message, "request failed inside the server");
            (None, ("server_error", message))
        }
    }
}

/// Records a failure and returns the matching wire error (or a 500 for our own faults).
pub async fn record_failure(
    state: &AppState,
    trace: &Trace,
    kind: LoginKind,
    failure: &Failure,
) -> Result<sfr_wire::OAuthError, ()> {
    let (wire, outcome) = failure_outcome(failure);
    record(state, trace, kind, Err(outcome)).await;
    wire.ok_or(())
}

/// 500 in the shape OAuth clients parse.
pub fn server_error() -> Response {
    let mut resp = crate::http::reply::json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &sfr_wire::ErrorBody {
            error: "unknown_error".to_owned(),
            error_description: "retry your request".to_owned(),
        },
    );
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static(crate::http::reply::NO_STORE),
    );
    resp
}

/// A live session and its user, after the access token was checked and its idle timer extended.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub token: AccessToken,
    pub user: User,
}

/// Checks an access token: known (by hash), not revoked, not idle past the session timeout, user active. A
/// successful check extends the session (idle-based timeout). `Ok(None)` = not a live session.
pub async fn authenticate(
    state: &AppState,
    token: Option<String>,
) -> Result<Option<Authenticated>, StoreError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let hash = crate::keys::token_key(&token);
    let now = state.now();
    let Some(StoredSession {
        token: access,
        user,
    }) = state.session(hash.clone()).await?
    else {
        return Ok(None);
    };
    if !access.is_alive(now) {
        return Ok(None);
    }
    let Some(user) = user.filter(|u| u.active) else {
        return Ok(None);
    };
    if access.use_extends(now) {
        state.touch_access_token(hash, now).await?;
    }
    Ok(Some(Authenticated {
        token: access,
        user,
    }))
}

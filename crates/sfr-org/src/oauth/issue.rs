//! Minting tokens for a grant and building the token response (field set per grant, `issued_at` in ms,
//! `signature` HMAC, `id_token` when `openid` is granted).

use sfr_wire::TokenResponse;

use super::Failure;
use super::id_token::{self, IdClaims};
use crate::keys;
use crate::model::{
    ConnectedApp, ConsumerSecret, IssueTokens, LoginEvent, NewAccessToken, NewRefreshToken, Org,
    Scope, User,
};
use crate::state::AppState;

/// How a grant's response looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// `issued_at` and `signature` (all grants but JWT bearer).
    pub signed: bool,
    /// `id_token` when `openid` is among the scopes.
    pub id_token: bool,
    /// `api_instance_url` (client credentials).
    pub api_instance_url: bool,
}

/// A new access token (plaintext) and the record to store.
pub struct Minted {
    pub plaintext: String,
    pub record: NewAccessToken,
}

/// Who gets a token, for what, and how the answer looks.
pub struct Grantee<'a> {
    pub app: &'a ConnectedApp,
    pub user: &'a User,
    /// The org's settings (its default session timeout), as the grant read them.
    pub org: &'a Org,
    /// The app's consumer secret when the grant already read it (signs `signature`; read again if absent).
    pub secret: Option<&'a ConsumerSecret>,
    pub scopes: &'a [Scope],
    pub shape: Shape,
}

/// Mints an access token for `user` on `app` with the app's (else the org's) session timeout.
pub fn mint_access(state: &AppState, to: &Grantee<'_>, now: i64) -> Result<Minted, Failure> {
    let plaintext = keys::generate_access_token(state.config.org_id.to_15(), now);
    Ok(Minted {
        record: access_record(to, keys::token_key(&plaintext), now),
        plaintext,
    })
}

/// The record of an access token with key `token_hash`, issued to `to` at `now`.
pub fn access_record(to: &Grantee<'_>, token_hash: String, now: i64) -> NewAccessToken {
    NewAccessToken {
        token_hash,
        app_id: to.app.id.clone(),
        user_id: to.user.id.clone(),
        scopes: to.scopes.to_vec(),
        issued_at: now,
        session_timeout_ms: to.app.session_timeout_ms(to.org.session_timeout_minutes),
    }
}

/// The record of a refresh token with key `token_hash`, issued to `to` at `now`.
pub fn refresh_record(to: &Grantee<'_>, token_hash: String, now: i64) -> NewRefreshToken {
    NewRefreshToken {
        token_hash,
        app_id: to.app.id.clone(),
        user_id: to.user.id.clone(),
        scopes: to.scopes.to_vec(),
        issued_at: now,
    }
}

/// A fresh grant's tokens, minted: the plaintexts for the response and the records to store.
pub struct MintedGrant {
    pub now: i64,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub store: IssueTokens,
}

/// Mints the tokens of a fresh grant (access + optional refresh) with its login-history event, not yet stored.
pub fn mint_grant(
    state: &AppState,
    to: &Grantee<'_>,
    with_refresh: bool,
    event: LoginEvent,
) -> Result<MintedGrant, Failure> {
    let now = state.now();
    let access = mint_access(state, to, now)?;
    let refresh_token = with_refresh.then(|| keys::generate_refresh_token(now));
    let store = IssueTokens {
        access: access.record,
        refresh: refresh_token
            .as_ref()
            .map(|r| refresh_record(to, keys::token_key(r), now)),
        from_code: None,
        event: Some(event),
        facts_version: None,
    };
    Ok(MintedGrant {
        now,
        access_token: access.plaintext,
        refresh_token,
        store,
    })
}

/// Stores the tokens of a fresh grant (access + optional refresh) and its login-history event in one
/// transaction, and answers. `facts_version`: see `IssueTokens::facts_version`.
pub async fn issue(
    state: &AppState,
    to: &Grantee<'_>,
    with_refresh: bool,
    nonce: Option<&str>,
    event: LoginEvent,
    facts_version: Option<i64>,
) -> Result<TokenResponse, Failure> {
    let mut minted = mint_grant(state, to, with_refresh, event)?;
    minted.store.facts_version = facts_version;
    state.issue_tokens(minted.store).await?;
    let (access, refresh) = (minted.access_token, minted.refresh_token);
    respond(state, to, &access, refresh, nonce, minted.now).await
}

/// Builds the response body for an access token already stored.
pub async fn respond(
    state: &AppState,
    to: &Grantee<'_>,
    access_token: &str,
    refresh_token: Option<String>,
    nonce: Option<&str>,
    now: i64,
) -> Result<TokenResponse, Failure> {
    let (app, user, scopes, shape) = (to.app, to.user, to.scopes, to.shape);
    let id = state.config.identity_url(&user.id);
    let base = state.config.base_url.clone();
    let (issued_at, signature) = if shape.signed {
        let issued_at = now.to_string();
        let sig = match to.secret {
            Some(secret) => secret.sign(&id, &issued_at),
            None => {
                let app_id = app.id.clone();
                let secret = state.read(move |s| s.app_secret(&app_id)).await?;
                sfr_wire::token::signature(&secret, &id, &issued_at)
            }
        };
        (Some(issued_at), Some(sig))
    } else {
        (None, None)
    };
    let id_token = if shape.id_token && scopes.contains(&Scope::OpenId) {
        // The key in force now, from the store: after a rotation every node switches at the same moment.
        let signing = state
            .read(move |s| s.signing_keys(now))
            .await?
            .map(|k| k.signing)
            .unwrap_or_else(|| (*state.signing_key).clone());
        let key = signing
            .key_pair()
            .map_err(|e| Failure::Internal(format!("signing key unusable: {e}")))?;
        let claims = IdClaims {
            issuer: &base,
            identity_url: &id,
            client_id: &app.consumer_key,
            access_token,
            now_ms: now,
            nonce,
            username: &user.username,
            name: &user.display_name(),
            email: &user.email,
        }
        .to_json();
        Some(
            id_token::sign(&claims, &key, &signing.kid)
                .map_err(|e| Failure::Internal(e.to_string()))?,
        )
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: access_token.to_owned(),
        refresh_token,
        signature,
        scope: Some(Scope::join(scopes)),
        id_token,
        instance_url: base.clone(),
        id,
        token_type: "Bearer".to_owned(),
        issued_at,
        api_instance_url: shape.api_instance_url.then_some(base),
    })
}
